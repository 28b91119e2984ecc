"""Linear mixed-effects models with lme4-exact standard errors and residual, Satterthwaite or
Kenward-Roger degrees of freedom; joint F tests of terms; estimated marginal means and contrasts.

Matches R: ``lme4::lmer`` (REML by default, ``REML = FALSE`` for ML) for estimates, variance
components, log-likelihood, AIC and BIC; ``lmerTest`` (``summary(m, ddf = "Satterthwaite")``,
``contest``) for Satterthwaite df; ``pbkrtest`` / ``lmerTest ddf = "Kenward-Roger"`` for
Kenward-Roger df and the adjusted covariance of the fixed effects; ``emmeans`` for marginal
means and contrasts. The numerical work is in :mod:`ketastats.stats.lmm`,
:mod:`ketastats.stats.satterthwaite` and :mod:`ketastats.stats.kenward_roger` (statsmodels'
MixedLM gives z tests only and its fixed-effect SEs come from the full Hessian, 0–5 % larger
than lme4's σ²(X'V⁻¹X)⁻¹; see docs/library_notes.md).

Plan keys
---------
``formula`` ("y ~ a * b", the safe formula grammar), ``random`` ("1 | participant_id" for a random
intercept, "x | participant_id" for correlated intercept and slope), ``estimation`` (reml | ml),
``df_method`` (one or a list of residual | satterthwaite | kenward_roger; ``residual`` is
n_obs − number of fixed effects, as Siegel et al. 2021 report), ``reference`` (factor → reference
level), ``contrasts`` (marginal means and contrasts, see :class:`ContrastSpec`), ``conf_level``.

Tidy columns
------------
effect (``fixed`` coefficient, ``joint`` F test of a term, ``ran_pars`` variance component,
``emmean`` marginal mean, ``contrast``), term, level, contrast, group (``visit=eot``: the ``by``
levels as text; the grouping factor on ``ran_pars`` rows), one column per contrast ``by`` variable
(``visit`` = ``eot`` on emmean and contrast rows, so that a multiplicity member can select
``where: {visit: eot}``), df_method, estimate, std_error, statistic, statistic_type (t or F), df,
df_denominator, p_value, p_adjusted, adjust_method, conf_low, conf_high, conf_low_adjusted /
conf_high_adjusted (simultaneous intervals under ``adjust: tukey | dunnett``), conf_level, n_obs,
n_subjects.

Joint tests are the type-III F tests of ``lmerTest::anova(m, type = 3)`` (SAS PROC MIXED's type-III
hypotheses), with lmerTest's own contrast matrices (:mod:`ketastats.analyses._type3`): the
Satterthwaite df of a multi-df F test depend on the basis of the hypothesis, not only on it.
Missing-data policy: rows with a missing outcome, covariate or grouping value are excluded and
listed (complete cases, as ``lmer``'s default ``na.omit``).

Example
-------
See ``analysis_plans/siegel2021.yaml`` (analyses ``fc_dmn`` ...) and
``tests/analyses/test_mixed_model.py``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses._emmeans import (
    ContrastAdjust,
    adjust_block,
    adjust_problem,
    comparisons,
    grid_levels,
    t_interval,
)
from ketastats.analyses._factors import prepare_factors
from ketastats.analyses.base import AnalysisInput, AnalysisSpec, model_column_problems, plain, select_rows
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import ConfLevel, Strict, as_list
from ketastats.language.formulas import FormulaError, design_matrices, parse_formula, parse_random
from ketastats.results import AnalysisResult, Extras

DfMethod = Literal["residual", "satterthwaite", "kenward_roger"]


class ModelExtras(Extras, total=False):
    """mixed_model's extras: the model's terms and fitted values (the diagnostics figure) and EMMs."""

    predictors: list[str]
    """the formula's predictor columns, in formula order."""
    terms: list[str]
    emmeans: list
    fitted: Any
    """X β per analysed row (marginal fitted values)."""
    fitted_conditional: Any
    """X β + Z b per analysed row (lme4 ``fitted(m)``)."""
    observed: Any
    groups: list
    row_groups: Any


class ContrastSpec(Strict):
    """Marginal means of ``emmeans`` (optionally within levels of ``by``) and contrasts between them.

    ``versus: LEVEL`` compares every other level with LEVEL (level − LEVEL); ``pairwise: true``
    compares all pairs (earlier − later level, as emmeans' ``pairwise``); neither gives the means
    only. A numeric variable needs ``at`` values (e.g. ``{post: [0, 1]}``). Other factors are
    averaged with equal weights and numeric covariates are held at their mean, as emmeans does.
    ``adjust``: a p.adjust method, or emmeans' ``tukey`` (with ``pairwise``) / ``dunnett`` (with
    ``versus``; emmeans ``adjust = "mvt"``), which also give simultaneous intervals.
    """

    emmeans: str = Field(description="the factor whose marginal means are estimated")
    by: Annotated[list[str], BeforeValidator(as_list)] = Field(default_factory=list)
    versus: str | int | float | bool | None = None
    pairwise: bool = False
    at: dict[str, list[Any]] = Field(default_factory=dict)
    adjust: ContrastAdjust = Field("none", description="multiplicity adjustment within each `by` group: a "
                                   "p.adjust method, tukey (pairwise) or dunnett (versus)")

    @model_validator(mode="after")
    def _one_comparison(self) -> "ContrastSpec":
        """``versus`` and ``pairwise`` exclude each other; tukey goes with pairwise, dunnett with versus."""
        if self.versus is not None and self.pairwise:
            raise ValueError("give either 'versus' or 'pairwise', not both")
        problem = adjust_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class Spec(AnalysisSpec):
    """A linear mixed-effects model (lme4 / lmerTest / pbkrtest / emmeans conventions)."""

    type: Literal["mixed_model"]
    formula: str = Field(description="model formula, e.g. \"fc ~ time + time:responder_2wk\"")
    random: str = Field(description="random effects, e.g. \"1 | participant_id\" or \"day | participant_id\"")
    estimation: Literal["reml", "ml"] = "reml"
    df_method: Annotated[list[DfMethod], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[DfMethod](["satterthwaite"]),
        description="one or more df methods; each gives its rows")
    reference: dict[str, str | int | float | bool] = Field(default_factory=dict,
                                                           description="factor → reference level")
    contrasts: list[ContrastSpec] = Field(default_factory=list)
    conf_level: ConfLevel = 0.95

    @model_validator(mode="after")
    def _parse(self) -> "Spec":
        """Both formulas parse (safe grammar); Kenward-Roger only with REML (pbkrtest refuses ML fits)."""
        if self.estimation == "ml" and "kenward_roger" in self.df_method:
            raise ValueError("Kenward-Roger df need a REML fit (as pbkrtest and lmerTest); use estimation: reml")
        try:
            parse_formula(self.formula)
            parse_random(self.random)
        except FormulaError as exc:
            raise ValueError(f"{exc.message} ({exc.code})") from None
        return self

    def column_references(self) -> list[tuple[str, str]]:
        """Columns of the formula, the random part (slopes and grouping), ``reference`` and ``contrasts``."""
        formula, random = parse_formula(self.formula), parse_random(self.random)
        refs = [("formula", name) for name in formula.names]
        refs += [("random", name) for term in random.terms for name in term] + [("random", random.group)]
        refs += [(f"reference.{name}", name) for name in self.reference]
        for index, contrast in enumerate(self.contrasts):
            refs += [(f"contrasts[{index}].emmeans", contrast.emmeans)]
            refs += [(f"contrasts[{index}].by", name) for name in contrast.by]
        return refs

    def check_columns(self, columns) -> list[Problem]:
        """A numeric response and declared reference levels (random slopes are checked at run time)."""
        return model_column_problems(parse_formula(self.formula).response, self.reference, columns)


# --- running -----------------------------------------------------------------------------------

def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Fit one linear mixed model and tabulate fixed effects, type-III F tests, variances and emmeans.

    R: ``m <- lmerTest::lmer(formula + (random), data, REML = estimation == "reml")``;
    ``summary(m, ddf = "Satterthwaite" | "Kenward-Roger")$coefficients`` and ``confint`` on the
    same df (``fixed`` rows, one block per df method), ``anova(m, type = 3, ddf = ...)``
    (``joint`` rows), ``as.data.frame(VarCorr(m))`` (``ran_pars`` rows: SDs, correlations, the
    residual SD) and, per ``contrasts`` entry, ``emmeans(m, ~ emmeans | by, at = at,
    lmer.df = ...)`` with ``contrast(..., "trt.vs.ctrl" | "pairwise", adjust)`` (``emmean`` /
    ``contrast`` rows). ``df_method: residual`` uses n_obs − p for every test (no R default;
    Siegel et al.'s convention).

    Complete cases over every formula, slope and grouping column (``na.omit``). Tidy columns:
    :data:`TIDY_COLUMNS` (those present); ``glance``: n_obs, n_subjects, n_fixed, estimation,
    log-likelihood, AIC, BIC, sigma, convergence and singularity. ``extras`` keeps the fitted
    values (marginal and conditional), observed values and groups for the diagnostics figure.
    Raises on a rank-deficient design, fewer than 2 groups, a constant outcome or too few rows;
    non-convergence and a singular fit are warnings.
    """
    formula, random = parse_formula(spec.formula), parse_random(spec.random)
    assert formula.response is not None   # parse_formula requires one
    slopes = [term[0] for term in random.terms]
    # complete cases over everything the model reads: response, predictors, slopes, grouping
    used = list(dict.fromkeys(formula.names + slopes + [random.group]))
    data, exclusions = select_rows(ctx, used)
    data = prepare_factors(data, formula, spec.reference, ctx)
    y = data[formula.response].to_numpy(dtype=float)
    design = design_matrices(formula, data)
    X = design.to_numpy(dtype=float)
    names = list(design.columns)
    Z = _random_design(random, slopes, data)
    # groups coded in text order of the grouping column (lme4 orders a factor's levels likewise)
    groups, group_labels = pd.factorize(data[random.group].astype(str), sort=True)
    _check_estimable(X, names, y, groups, spec)

    from ketastats.stats import lmm

    # one fit serves every df method: the df methods differ in the tests, not in the estimates
    fit = lmm.fit_lmm(y, X, Z, groups, reml=spec.estimation == "reml")
    issues = _fit_issues(fit, spec, (['(Intercept)'] if random.intercept else []) + slopes)
    rows = _fixed_rows(fit, names, spec)
    rows += _joint_rows(design, data, spec, fit)
    rows += _variance_rows(fit, random, slopes)
    emm_rows, emm_extras = _contrast_rows(spec, formula, data, design, fit)
    rows += emm_rows
    tidy = pd.DataFrame(rows)
    # every row states the sample it rests on (rows and groups of the fit), as a reader of one row needs it
    for column in ("n_obs", "n_subjects"):
        tidy[column] = len(y) if column == "n_obs" else int(fit.n_groups)
    # the contrasts' by columns (e.g. visit) follow group
    by_columns = [c for c in dict.fromkeys(b for entry in spec.contrasts for b in entry.by) if c not in TIDY_COLUMNS]
    order = [c for c in TIDY_COLUMNS if c in tidy.columns]
    at = order.index("group") + 1 if "group" in order else len(order)
    tidy = tidy.reindex(columns=order[:at] + [c for c in by_columns if c in tidy.columns] + order[at:])
    glance = {"n_obs": len(y), "n_subjects": int(fit.n_groups), "n_fixed": X.shape[1],
              "estimation": spec.estimation, "log_likelihood": fit.loglik, "aic": fit.aic, "bic": fit.bic,
              "sigma": fit.sigma, "converged": bool(fit.converged), "singular": bool(fit.singular),
              "optimizer": fit.message}
    notes = [f"{spec.estimation.upper()} fit; standard errors from σ²(X'V⁻¹X)⁻¹ as lme4",
             "df: " + ", ".join(DF_NOTES[m] for m in spec.df_method),
             "joint F tests: type III, lmerTest's contrasts"]
    return AnalysisResult(spec.id, spec.type, tidy=tidy, glance=glance, exclusions=exclusions, issues=issues,
                          notes=notes, extras=ModelExtras(
                              outcomes=[formula.response], by=[], predictors=[n for n in formula.names
                                                                              if n != formula.response],
                              emmeans=emm_extras, terms=names, fitted=X @ fit.beta, observed=y,
                              groups=list(group_labels), row_groups=groups,
                              fitted_conditional=_conditional_fitted(fit, X, Z, y, groups)))


def _conditional_fitted(fit, X: np.ndarray, Z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """X β + Z b with b the conditional modes of the random effects (lme4 ``fitted(m)``):
    b_i = Λ (I + Λ'Z_i'Z_iΛ)⁻¹ Λ'Z_i' (y_i − X_i β). Kept for the diagnostics figure (residuals vs fitted).
    One pass over the rows (per-group sums with ``np.add.at``), then one batched solve."""
    marginal = X @ fit.beta
    # Λ: the relative covariance factor of the random effects (Var(b) = σ² Λ Λ'),
    # one group's block of lme4's getME(m, "Lambda")
    Lambda = np.asarray(fit.Lambda, dtype=float)
    q = Lambda.shape[0]
    codes = np.unique(groups, return_inverse=True)[1].ravel()
    m = int(codes.max()) + 1 if codes.size else 0
    ZtZ = np.zeros((m, q, q))
    np.add.at(ZtZ, codes, Z[:, :, None] * Z[:, None, :])
    Ztr = np.zeros((m, q))
    np.add.at(Ztr, codes, Z * (y - marginal)[:, None])
    M = np.eye(q) + np.einsum("ji,mjk,kl->mil", Lambda, ZtZ, Lambda)       # I + Λ'Z_i'Z_iΛ
    u = np.linalg.solve(M, (Ztr @ Lambda)[..., None])[..., 0]              # (m, q)
    b = u @ Lambda.T                                                       # Λ u_i
    return marginal + np.einsum("nq,nq->n", Z, b[codes])


#: Column order of the tidy table; a column that no row fills (e.g. ``level`` without contrasts) is dropped.
TIDY_COLUMNS = ["effect", "term", "level", "contrast", "group", "df_method", "estimate", "std_error",
                "statistic", "statistic_type", "df", "df_denominator", "p_value", "p_adjusted", "adjust_method",
                "conf_low", "conf_high", "conf_low_adjusted", "conf_high_adjusted", "conf_level", "n_obs",
                "n_subjects"]
DF_NOTES = {"residual": "residual = n_obs − number of fixed effects",
            "satterthwaite": "Satterthwaite (lmerTest)", "kenward_roger": "Kenward-Roger (pbkrtest), with the "
                                                                          "adjusted covariance of the fixed effects"}


def _random_design(random, slopes: list[str], data: pd.DataFrame) -> np.ndarray:
    """Z of one grouping factor: the intercept column (if any) and each numeric slope, as in lme4's ``(x | g)``.

    A slope must be numeric (a factor slope would need one column per level); a boolean is
    refused too, so that its coding is explicit in a derived column.
    """
    columns = [np.ones(len(data))] if random.intercept else []
    for name in slopes:
        values = data[name]
        if not pd.api.types.is_numeric_dtype(values) or str(values.dtype) == "boolean":
            raise AnalysisError(Issue("random-slope-not-numeric", f"random slope '{name}' must be numeric",
                                      Location(column=name), hint="Derive a numeric version of it"))
        columns.append(values.to_numpy(dtype=float))
    if not columns:
        raise AnalysisError(Issue("no-random-effects", "the random part has neither intercept nor slopes",
                                  Location(path="random")))
    return np.column_stack(columns)


def _check_estimable(X: np.ndarray, names: list[str], y: np.ndarray, groups: np.ndarray, spec: Spec) -> None:
    """Fail early, with a reason, where lmer would stop or drop columns.

    More rows than fixed effects; a full-rank X (lme4 drops aliased columns with a message, a
    plan's coefficients must not silently disappear); at least 2 groups; a non-constant outcome.
    """
    n, p = X.shape
    if n <= p:
        raise AnalysisError(Issue("too-few-observations", f"{n} observations for {p} fixed effects",
                                  Location(path="formula")))
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise AnalysisError(Issue("rank-deficient-design", f"the fixed-effects design has rank {rank} < {p}: "
                                  "some terms cannot be estimated from these rows", Location(path="formula"),
                                  hint="Check for empty factor combinations or collinear covariates"))
    if len(np.unique(groups)) < 2:
        raise AnalysisError(Issue("too-few-groups", "a mixed model needs at least two groups",
                                  Location(path="random")))
    if np.nanstd(y) == 0:
        raise AnalysisError(Issue("zero-variance", "the outcome has no variance", Location(path="formula")))


def _boundary_text(fit, labels: list[str]) -> str:
    """What is on the boundary: a zero SD, or a correlation of ±1 (a rank-deficient covariance).

    The message names the random effects whose SD is below :data:`SINGULAR_SD` × σ, else
    reports the perfect correlation; it is the text of the ``singular-fit`` warning.
    """
    sd = np.asarray(fit.sd_re, dtype=float)
    zero = [label for label, value in zip(labels, sd) if value < SINGULAR_SD * fit.sigma]
    if zero:
        return "the random-effect SD of " + ", ".join(zero) + (" is" if len(zero) == 1 else " are") + " 0"
    return "the random effects are perfectly correlated (their covariance matrix has rank < " + f"{len(sd)})"


#: A random-effect SD below this fraction of the residual SD counts as 0 in the singular-fit message.
SINGULAR_SD = 1e-4


def _fit_issues(fit, spec: Spec, labels: list[str]) -> list[Issue]:
    """Warnings of the fit: optimizer non-convergence, and a singular fit (as ``lme4::isSingular``)."""
    issues = []
    location = Location(path=f"analyses[{spec.id}]")
    if not fit.converged:
        issues.append(Issue("not-converged", f"the optimizer did not converge ({fit.message})", location,
                            severity="warning"))
    if fit.singular:
        issues.append(Issue("singular-fit", f"singular fit: {_boundary_text(fit, labels)} at the optimum "
                            "(lme4::isSingular, tolerance 1e-4; the optimum was checked against the interior)",
                            location, severity="warning", hint="Consider a simpler random-effects structure"))
    return issues


def _test(fit, L: np.ndarray, method: str):
    """(estimate, se, df, t, p) for one contrast row L under a df method.

    Satterthwaite (lmerTest ``contest1D``): SE from vcov(β), df from the gradient of L V L' in
    the variance parameters. Kenward-Roger (``contest1D(ddf = "Kenward-Roger")``): SE from the
    adjusted covariance ``pbkrtest::vcovAdj(m)``, df ``pbkrtest::Lb_ddf``. Residual: vcov(β)
    and n_obs − p. Two-sided p from the t distribution in each case.
    """
    from ketastats.stats import distributions, kenward_roger, satterthwaite

    if method == "satterthwaite":
        return satterthwaite.contrast(fit, L)
    if method == "kenward_roger":
        return kenward_roger.contrast(fit, L)
    estimate = float(L @ fit.beta)
    se = float(np.sqrt(L @ fit.vcov_beta @ L))
    df = float(fit.n_obs - len(fit.beta))
    t = estimate / se
    return estimate, se, df, t, float(2 * distributions.t_sf(abs(t), df))


def _joint(fit, L: np.ndarray, method: str):
    """(F, numerator df, denominator df, p) of the joint hypothesis L β = 0 under a df method.

    Residual df: the Wald F = (Lβ)'(L V L')⁻¹(Lβ) / q on (q, n_obs − p) df, V = vcov(β).
    """
    from ketastats.stats import distributions, kenward_roger, satterthwaite

    if method == "satterthwaite":
        return satterthwaite.joint(fit, L)
    if method == "kenward_roger":
        return kenward_roger.joint(fit, L)
    q = L.shape[0]
    estimate = L @ fit.beta
    F = float(estimate @ np.linalg.solve(L @ fit.vcov_beta @ L.T, estimate)) / q
    df = float(fit.n_obs - len(fit.beta))
    return F, float(q), df, float(distributions.f_sf(F, q, df))


def _fixed_rows(fit, names: list[str], spec: Spec) -> list[dict]:
    """One ``fixed`` row per df method and coefficient: the t test of each coefficient (L = unit vector)."""
    rows = []
    for method in spec.df_method:
        for index, name in enumerate(names):
            L = np.zeros(len(names))
            L[index] = 1.0
            estimate, se, df, t, p = _test(fit, L, method)
            low, high = t_interval(estimate, se, df, spec.conf_level)
            rows.append({"effect": "fixed", "term": name, "df_method": method, "estimate": estimate,
                         "std_error": se, "statistic": t, "statistic_type": "t", "df": df, "p_value": p,
                         "conf_low": low, "conf_high": high, "conf_level": spec.conf_level})
    return rows


def _joint_rows(design, data, spec, fit) -> list[dict]:
    """Type-III F test of every term, with lmerTest's contrast matrices (see ``_type3``)."""
    from ketastats.analyses._type3 import type3_contrasts

    rows = []
    # one L per term, shared by the df methods: only the denominator df (and so p) differ between them
    contrasts = type3_contrasts(design, data)
    for method in spec.df_method:
        for name, L in contrasts:
            if L.shape[0] == 0:   # nothing left to test once the containing terms are accounted for
                continue
            F, df_num, df_den, p = _joint(fit, L, method)
            rows.append({"effect": "joint", "term": name, "df_method": method, "statistic": F,
                         "statistic_type": "F", "df": df_num, "df_denominator": df_den, "p_value": p})
    return rows


def _variance_rows(fit, random, slopes: list[str]) -> list[dict]:
    """``ran_pars`` rows in ``broom.mixed::tidy(m)`` naming: ``sd__(Intercept)``, ``sd__x``, ``cor__(Intercept).x``
    for the grouping factor, then ``sd__Observation`` (group ``Residual``), the residual SD σ.

    A correlation with a zero SD is undefined (NaN), where lme4 prints NaN too.
    """
    labels = (["(Intercept)"] if random.intercept else []) + slopes
    G = np.asarray(fit.cov_re)
    sds = np.sqrt(np.diag(G))
    rows = [{"effect": "ran_pars", "term": f"sd__{label}", "group": random.group, "estimate": float(sd)}
            for label, sd in zip(labels, sds)]
    for (i, a), (j, b) in combinations(enumerate(labels), 2):
        corr = G[i, j] / (sds[i] * sds[j]) if sds[i] > 0 and sds[j] > 0 else np.nan
        rows.append({"effect": "ran_pars", "term": f"cor__{a}.{b}", "group": random.group, "estimate": float(corr)})
    rows.append({"effect": "ran_pars", "term": "sd__Observation", "group": "Residual", "estimate": float(fit.sigma)})
    return rows


# --- estimated marginal means --------------------------------------------------------------------


def _contrast_rows(spec: Spec, formula, data: pd.DataFrame, design, fit) -> tuple[list[dict], list]:
    """``emmean`` and ``contrast`` rows of every ``contrasts`` entry, and what the figures need of them.

    As ``emmeans``: the reference grid crosses every factor level (and ``at`` values) with the
    numeric covariates at their mean over the analysed rows; a marginal mean is the average of
    the grid rows' X (equal weights over the other factors), so its estimate is L β with that
    average as L. Contrasts are differences of those L; their p-values are adjusted within each
    ``by`` group and df method. emmean rows carry no test (emmeans' summary has none).
    """
    import patsy

    if not spec.contrasts:
        return [], []
    predictors = [n for n in formula.names if n != formula.response]
    rows, extras = [], []
    for index, contrast in enumerate(spec.contrasts):
        target, by = contrast.emmeans, contrast.by
        for name in [target, *by]:
            if name not in predictors:
                raise AnalysisError(Issue("emmeans-not-in-model", f"'{name}' is not a predictor of the model",
                                          Location(path=f"contrasts[{index}]")))
        # the reference grid: factors (and at: variables) crossed; other numeric predictors at their mean
        grid_factors = {name: grid_levels(data, name, contrast.at) for name in predictors
                        if name in contrast.at or isinstance(data[name].dtype, pd.CategoricalDtype)}
        numeric = {name: float(data[name].mean()) for name in predictors if name not in grid_factors}
        grid = pd.MultiIndex.from_product(list(grid_factors.values()), names=list(grid_factors)).to_frame(index=False)
        for name, value in numeric.items():
            grid[name] = value
        for name in grid_factors:
            if isinstance(data[name].dtype, pd.CategoricalDtype):
                grid[name] = pd.Categorical(grid[name], categories=data[name].cat.categories)
        # the grid's design rows, coded exactly as the fitted design (same contrasts and column order)
        (rows_X,) = patsy.build_design_matrices([design.design_info], grid[predictors])
        rows_X = np.asarray(rows_X)
        target_levels = grid_factors[target]
        by_levels = list(pd.MultiIndex.from_product([grid_factors[b] for b in by]).to_list()) if by else [()]
        for by_value in by_levels:
            group_label = ", ".join(f"{b}={plain(v)}" for b, v in zip(by, by_value)) or None
            # each by variable is also a column of its own (visit = eot), for selecting rows by it
            by_cells = {b: plain(v) for b, v in zip(by, by_value) if b not in TIDY_COLUMNS}
            means = {}
            for level in target_levels:
                # the grid rows at this level (and by group); their mean X row is the emmean's L
                mask = (grid[target].astype(object) == level).to_numpy(copy=True)   # writable under pandas 3
                for b, v in zip(by, by_value):
                    mask &= (grid[b].astype(object) == v).to_numpy()
                means[level] = rows_X[mask].mean(axis=0)
            pairs = comparisons(contrast, target_levels)
            # one family per (by group, df method): the p-values adjusted together are the block's
            for method in spec.df_method:
                for level, L in means.items():
                    estimate, se, df, t, p = _test(fit, L, method)
                    low, high = t_interval(estimate, se, df, spec.conf_level)
                    rows.append({"effect": "emmean", "term": target, "level": plain(level), "group": group_label,
                                 **by_cells, "df_method": method, "estimate": estimate, "std_error": se, "df": df,
                                 "conf_low": low, "conf_high": high, "conf_level": spec.conf_level})
                block = []
                for a, b in pairs:
                    estimate, se, df, t, p = _test(fit, means[a] - means[b], method)
                    low, high = t_interval(estimate, se, df, spec.conf_level)
                    block.append({"effect": "contrast", "term": target, "contrast": f"{plain(a)} - {plain(b)}",
                                  "group": group_label, **by_cells, "df_method": method, "estimate": estimate,
                                  "std_error": se,
                                  "statistic": t, "statistic_type": "t", "df": df, "p_value": p,
                                  "conf_low": low, "conf_high": high, "conf_level": spec.conf_level})
                if block:
                    # one family: p.adjust on the p-values, or Tukey / Dunnett (multivariate t with the
                    # estimates' covariance L V L', V the covariance of β̂ behind the SEs of this df method)
                    L = np.array([means[a] - means[b] for a, b in pairs])
                    adjust_block(block, L, _vcov(fit, method), contrast.adjust, len(target_levels),
                                 spec.conf_level)
                    if contrast.adjust == "none":
                        for row in block:
                            row["p_adjusted"], row["adjust_method"] = row["p_value"], "none"
                rows += block
        extras.append({"emmeans": target, "by": by})
    return rows, extras


def _vcov(fit, method: str) -> np.ndarray:
    """The covariance of β̂ behind a df method's SEs: Kenward-Roger's adjusted one (``pbkrtest::vcovAdj``,
    what emmeans uses with ``lmer.df = "kenward-roger"``), else σ²(X'V⁻¹X)⁻¹ (``vcov(m)``)."""
    if method == "kenward_roger":
        from ketastats.stats.kenward_roger import vcov_adjusted

        return np.asarray(vcov_adjusted(fit).vcov)
    return np.asarray(fit.vcov_beta)


