"""Mixed model for repeated measures (MMRM): the primary analysis of a randomised trial's
longitudinal endpoint — fixed effects only, the within-subject covariance over visits modelled
directly — with Kenward-Roger, Satterthwaite, residual or between-within df and LS-means by visit.

Matches R ``mmrm::mmrm`` (openpharma, 0.3.18) and so SAS ``PROC MIXED; CLASS arm visit subject;
MODEL chg = base arm visit arm*visit base*visit / DDFM=KR; REPEATED visit / SUBJECT=subject
TYPE=UN; LSMEANS arm*visit / DIFF CL``: estimates, SEs, df, t / F, p, the REML or ML
log-likelihood, the covariance parameters, and ``emmeans`` LS-means and contrasts on the fit.
The numerical work is :mod:`ketastats.stats.mmrm`.

Plan keys
---------
``formula`` (fixed effects, the safe formula grammar), ``visit`` (the repeated factor, at most one
row per subject and visit; its level order is the order of the covariance), ``subject`` (default:
the plan's subject), ``covariance`` (us | cs | csh | ar1 | ar1h | toep | toeph | ad | adh, or a list:
a fallback chain, the first structure whose fit converges is used), ``df_method`` (kenward_roger |
satterthwaite | residual | between_within), ``vcov`` (asymptotic | kenward_roger |
kenward_roger_linear | empirical; default: kenward_roger_linear with Kenward-Roger df — what SAS
prints for ``DDFM=KR`` with ``TYPE=UN`` — else asymptotic), ``estimation`` (reml | ml),
``reference``, ``contrasts`` (:class:`ContrastSpec`), ``conf_level``.

Tidy columns
------------
effect (``fixed``, ``joint`` type-III F test, ``cov_pars`` covariance parameter, ``emmean``
LS-mean, ``contrast``), term, level, contrast, group (``visit=week12``: the ``by`` / ``at`` levels as
text), one column per contrast ``by`` variable and single-valued ``at`` variable (``visit`` =
``week12`` on emmean and contrast rows, for ``where: {visit: week12}``), covariance (the structure
used), df_method, vcov_method, estimate, std_error, statistic, statistic_type, df, df_denominator,
null_value, alternative, p_value, p_adjusted, adjust_method, conf_low, conf_high, conf_low_adjusted /
conf_high_adjusted (simultaneous intervals under ``adjust: tukey | dunnett``), conf_level, n_obs,
n_subjects.

Missing data: rows with a missing outcome, covariate, visit or subject are excluded with the
reason (all other visits of that subject are used: missing at random under the model); a subject
left with no analysable visit contributes nothing and is listed as ``no-analysable-visit``.

Example
-------
See ``analysis_plans/ketamine_placebo_rct.yaml`` and ``tests/analyses/test_mmrm.py``.
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
from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    analysis_error,
    exclusion_record,
    model_column_problems,
    plain,
    select_rows,
)
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import Strict, as_list
from ketastats.language.formulas import FormulaError, design_matrices, parse_formula
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras

Structure = Literal["us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "ad", "adh"]
DfMethod = Literal["kenward_roger", "satterthwaite", "residual", "between_within"]
VcovMethod = Literal["asymptotic", "kenward_roger", "kenward_roger_linear", "empirical"]


def _scalar_list(value: Any) -> Any:
    """``at`` values: a scalar becomes a one-element list (``at: {visit: week12}``)."""
    if isinstance(value, dict):
        return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
    return value


class ContrastSpec(Strict):
    """LS-means of ``emmeans`` (optionally within levels of ``by`` or at ``at`` values) and contrasts.

    ``versus: LEVEL`` compares every other level with LEVEL (level − LEVEL, emmeans
    ``trt.vs.ctrl``); ``pairwise: true`` every pair. ``weights``: ``equal`` (emmeans' default)
    or ``proportional`` (emmeans ``weights = "proportional"``: the factors averaged over are
    weighted by their frequencies in the analysed rows, as SAS ``LSMEANS / OM``). ``margin`` and
    ``alternative`` test ``contrast = margin`` one- or two-sided (emmeans ``test(null = margin,
    side = ...)``); the confidence interval stays two-sided. ``adjust``: a p.adjust method, or
    emmeans' ``tukey`` (with ``pairwise``) / ``dunnett`` (with ``versus``; emmeans ``adjust =
    "mvt"``), two-sided only, which also give simultaneous intervals.
    """

    emmeans: str = Field(description="the factor whose LS-means are estimated")
    by: Annotated[list[str], BeforeValidator(as_list)] = Field(default_factory=list)
    at: Annotated[dict[str, list[Any]], BeforeValidator(_scalar_list)] = Field(default_factory=dict)
    versus: str | int | float | bool | None = None
    pairwise: bool = False
    weights: Literal["equal", "proportional"] = "equal"
    margin: float = 0.0
    alternative: Literal["two.sided", "less", "greater"] = "two.sided"
    adjust: ContrastAdjust = Field("none", description="multiplicity adjustment within each `by` group: a "
                                   "p.adjust method, tukey (pairwise) or dunnett (versus)")

    @model_validator(mode="after")
    def _one_comparison(self) -> "ContrastSpec":
        """``versus`` and ``pairwise`` exclude each other; tukey goes with pairwise, dunnett with versus,
        both with two-sided tests."""
        if self.versus is not None and self.pairwise:
            raise ValueError("give either 'versus' or 'pairwise', not both")
        problem = adjust_problem(self)
        if problem:
            raise ValueError(problem)
        if self.adjust in ("tukey", "dunnett") and self.alternative != "two.sided":
            raise ValueError(f"adjust: {self.adjust} adjusts two-sided tests; with alternative: {self.alternative} "
                             "use a p.adjust method (holm, bonferroni, ...)")
        return self


class MmrmExtras(Extras, total=False):
    """mmrm's extras: the model's terms, LS-means, visit levels, residual scale and fitted values."""

    emmeans: list
    terms: list[str]
    visit_levels: list
    sigma: Any
    observed: Any
    fitted: Any


class Spec(AnalysisSpec):
    """A mixed model for repeated measures (mmrm / SAS PROC MIXED REPEATED conventions)."""

    type: Literal["mmrm"]
    formula: str = Field(description="fixed effects, e.g. \"madrs_change ~ madrs_base + arm * visit\"")
    visit: str = Field(description="the repeated factor (one row per subject and visit)")
    subject: str | None = Field(None, description="the subject column (default: the plan's subject)")
    covariance: Annotated[list[Structure], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[Structure](["us"]),
        description="a structure, or a fallback chain (first that converges)")
    df_method: DfMethod = "kenward_roger"
    vcov: VcovMethod | None = Field(None, description="covariance of the estimates (default: "
                                    "kenward_roger_linear with KR df, else asymptotic)")
    estimation: Literal["reml", "ml"] = "reml"
    reference: dict[str, str | int | float | bool] = Field(default_factory=dict,
                                                           description="factor → reference level")
    contrasts: list[ContrastSpec] = Field(default_factory=list)
    conf_level: float = Field(0.95, gt=0, lt=1)

    @model_validator(mode="after")
    def _check(self) -> "Spec":
        """The formula parses; df and vcov combine as mmrm allows (KR df with a KR covariance, and only
        then); KR needs REML."""
        try:
            parse_formula(self.formula)
        except FormulaError as exc:
            raise ValueError(f"{exc.message} ({exc.code})") from None
        if not self.covariance:
            raise ValueError("covariance: give at least one structure")
        vcov = self.vcov_method
        if self.df_method == "kenward_roger" and vcov not in ("kenward_roger", "kenward_roger_linear"):
            raise ValueError("df_method kenward_roger goes with vcov kenward_roger or kenward_roger_linear")
        if vcov in ("kenward_roger", "kenward_roger_linear") and self.df_method != "kenward_roger":
            raise ValueError(f"vcov {vcov} needs df_method: kenward_roger")
        if self.df_method == "kenward_roger" and self.estimation != "reml":
            raise ValueError("Kenward-Roger needs a REML fit (as mmrm and SAS); use estimation: reml")
        return self

    @property
    def vcov_method(self) -> str:
        """The covariance of β̂ that runs (the default depends on ``df_method``)."""
        if self.vcov is not None:
            return self.vcov
        return "kenward_roger_linear" if self.df_method == "kenward_roger" else "asymptotic"

    def column_references(self) -> list[tuple[str, str]]:
        """Columns of the formula, ``visit``, ``subject``, ``reference`` and ``contrasts``."""
        refs = [("formula", name) for name in parse_formula(self.formula).names]
        refs += [("visit", self.visit)] + ([("subject", self.subject)] if self.subject else [])
        refs += [(f"reference.{name}", name) for name in self.reference]
        for index, contrast in enumerate(self.contrasts):
            refs += [(f"contrasts[{index}].emmeans", contrast.emmeans)]
            refs += [(f"contrasts[{index}].by", name) for name in contrast.by]
            refs += [(f"contrasts[{index}].at", name) for name in contrast.at]
        return refs

    def check_columns(self, columns) -> list[Problem]:
        """A numeric outcome and declared reference levels."""
        return model_column_problems(parse_formula(self.formula).response, self.reference, columns)


#: Column order of the tidy table; a column that no row fills is dropped.
TIDY_COLUMNS = ["effect", "term", "level", "contrast", "group", "covariance", "df_method", "vcov_method", "estimate",
                "std_error", "statistic", "statistic_type", "df", "df_denominator", "null_value", "alternative",
                "p_value", "p_adjusted", "adjust_method", "conf_low", "conf_high", "conf_low_adjusted",
                "conf_high_adjusted", "conf_level", "n_obs",
                "n_subjects"]
DF_NOTES = {"kenward_roger": "Kenward-Roger", "satterthwaite": "Satterthwaite",
            "residual": "residual (n_obs − number of fixed effects)", "between_within": "between-within"}
VCOV_NOTES = {"asymptotic": "asymptotic (X'Σ⁻¹X)⁻¹",
              "kenward_roger_linear": "Kenward-Roger adjusted, linear (SAS DDFM=KR for TYPE=UN; mmrm "
                                      "\"Kenward-Roger-Linear\")",
              "kenward_roger": "Kenward-Roger adjusted, with mmrm's second-derivative term (mmrm "
                               "\"Kenward-Roger\"; differs from SAS for us)",
              "empirical": "empirical (cluster-robust sandwich, mmrm \"Empirical\")"}


def _visit_levels(column: pd.Series) -> list:
    """The visit levels in order: a category's observed categories, numbers ascending, else text order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [lvl for lvl in column.cat.categories if (column == lvl).any()]
    if pd.api.types.is_numeric_dtype(column):
        return sorted(column.dropna().unique().tolist())
    return sorted(column.dropna().astype(str).unique())


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Fit the MMRM and tabulate fixed effects, type-III F tests, covariance parameters, LS-means, contrasts.

    R: ``fit <- mmrm::mmrm(formula + <covariance>(visit | subject), data, reml = estimation == "reml",
    method = df_method, vcov = vcov)``; ``summary(fit)$coefficients`` and ``confint`` (``fixed``
    rows), ``car::Anova(fit, type = "III")`` (``joint`` rows), ``component(fit, "theta_est")``,
    ``VarCorr(fit)`` (``cov_pars`` rows), ``emmeans(fit, ~ emmeans | by, weights = ...)`` and
    ``contrast(..., "trt.vs.ctrl" | "pairwise")`` (``emmean`` / ``contrast`` rows).

    A fallback chain fits each structure in turn and keeps the first that converges; ``glance``
    records the structure used and why each earlier one was rejected (so ``ketastats check``
    fails if a rerun picks another). Raises on a duplicated (subject, visit), a rank-deficient
    design, fewer than 2 subjects, or when no structure of the chain converges.
    """
    from ketastats.stats import mmrm as kernel

    formula = parse_formula(spec.formula)
    subject = spec.subject or ctx.subject
    if subject not in ctx.frame.columns:
        raise analysis_error("subject-absent", f"the subject column '{subject}' is not in table "
                             f"'{ctx.table_name}'", spec)
    # complete cases over everything the model reads (outcome, covariates, visit, subject); the other
    # visits of a subject with one missing row stay in: all available data, MAR under the model
    used = list(dict.fromkeys(formula.names + [spec.visit, subject]))
    data, exclusions = select_rows(ctx, used)
    exclusions = _no_visit_exclusions(ctx, data, exclusions, subject)
    # Σ_s is indexed by visit: two rows of one subject at one visit have no place in it
    duplicated = data.duplicated([subject, spec.visit], keep=False)
    if duplicated.any():
        first = data[duplicated].iloc[0]
        raise AnalysisError(Issue("duplicate-visit", f"subject {first[subject]} has more than one row at "
                                  f"{spec.visit} = {first[spec.visit]}", Location(column=spec.visit),
                                  hint="An MMRM takes at most one row per subject and visit"))
    # the covariance's rows and columns are the visit levels in their declared order (ar1, ad and toep
    # depend on that order); codes are taken before prepare_factors may move a reference level first
    visit_levels = _visit_levels(ctx.frame[spec.visit].loc[data.index] if len(data) else ctx.frame[spec.visit])
    visit_codes = np.array([visit_levels.index(v) for v in data[spec.visit].tolist()])
    data = prepare_factors(data, formula, spec.reference, ctx)
    y = data[formula.response].to_numpy(dtype=float)
    design = design_matrices(formula, data)
    X = design.to_numpy(dtype=float)
    names = list(design.columns)
    subject_codes, subject_labels = pd.factorize(data[subject].astype(str), sort=True)
    _check_estimable(X, y, subject_codes, spec)

    # the fallback chain: the first structure whose fit converges (small gradient, positive definite
    # Hessian of the variance parameters) is used; every earlier one is recorded with its reason
    fit, rejected = None, []
    for structure in spec.covariance:
        try:
            candidate = kernel.fit(y, X, subject_codes, visit_codes, len(visit_levels), structure,
                                   reml=spec.estimation == "reml")
        except (kernel.MMRMError, np.linalg.LinAlgError, FloatingPointError) as exc:
            rejected.append(f"{structure}: {exc}")
            continue
        if candidate.converged:
            fit = candidate
            break
        rejected.append(f"{structure}: did not converge ({candidate.message})")
    if fit is None:
        raise AnalysisError(Issue("not-converged", "no covariance structure of the chain converged: "
                                  + "; ".join(rejected), Location(path=f"analyses[{spec.id}].covariance"),
                                  hint="Add simpler structures to the chain (e.g. [us, toeph, ar1h, cs])"))
    # one Tester serves every row: the df method and the covariance of β̂ are fixed for the analysis
    kinds = kernel.coefficient_kinds(X, subject_codes, names) if spec.df_method == "between_within" else None
    tester = kernel.Tester(fit, spec.df_method, spec.vcov_method, kinds)
    rows = _fixed_rows(tester, names, spec)
    rows += _joint_rows(tester, formula, design, data, spec)
    rows += _covariance_rows(fit, visit_levels)
    emm_rows, emm_extras = _contrast_rows(spec, formula, data, design, tester)
    rows += emm_rows
    tidy = pd.DataFrame(rows)
    tidy["n_obs"], tidy["n_subjects"] = len(y), fit.n_subjects
    # the structure used is on every row, so that `ketastats check` (which compares the tables) fails
    # when a rerun of a fallback chain settles on another structure
    tidy["covariance"] = fit.structure
    # the contrasts' by (and single at) columns, e.g. visit, follow group
    extra = [c for c in tidy.columns if c not in TIDY_COLUMNS]
    order = [c for c in TIDY_COLUMNS if c in tidy.columns]
    at = order.index("group") + 1 if "group" in order else len(order)
    tidy = tidy.reindex(columns=order[:at] + extra + order[at:])
    glance = {"n_obs": len(y), "n_subjects": fit.n_subjects, "n_visits": len(visit_levels),
              "n_fixed": X.shape[1], "estimation": spec.estimation, "covariance": fit.structure,
              "covariance_rejected": "; ".join(rejected) or None, "df_method": spec.df_method,
              "vcov_method": spec.vcov_method, "log_likelihood": fit.loglik, "aic": fit.aic, "bic": fit.bic,
              "converged": bool(fit.converged), "optimizer": fit.message, "iterations": fit.iterations}
    notes = [f"MMRM, {spec.estimation.upper()}, covariance {fit.structure} over {spec.visit} "
             f"({', '.join(str(v) for v in visit_levels)})",
             f"df: {DF_NOTES[spec.df_method]}; covariance of the estimates: {VCOV_NOTES[spec.vcov_method]}",
             "joint F tests: type III"]
    if rejected:
        notes.append("covariance fallback: " + "; ".join(rejected) + f"; used {fit.structure}")
    return AnalysisResult(spec.id, spec.type, tidy=tidy, glance=glance, exclusions=exclusions, notes=notes,
                          extras=MmrmExtras(labels={}, outcomes=[str(formula.response)], by=[spec.visit],
                                            emmeans=emm_extras, terms=names, visit_levels=visit_levels,
                                            sigma=fit.sigma, observed=y, fitted=X @ fit.beta))


def _no_visit_exclusions(ctx: AnalysisInput, data: pd.DataFrame, exclusions: pd.DataFrame,
                         subject: str) -> pd.DataFrame:
    """Add one ``no-analysable-visit`` record per subject whose every row was excluded.

    Such a subject contributes nothing to the likelihood (e.g. only a baseline row, or every
    post-baseline outcome missing); the record names the subject's first row in the table.
    """
    frame = ctx.frame
    if ctx.population is not None:
        frame = frame[ctx.population[1].reindex(frame.index).fillna(False).astype(bool)]
    kept = set(data[subject].astype(str))
    records = []
    for value, rows in frame.groupby(frame[subject].astype(str), sort=True).groups.items():
        if value not in kept and value not in ("nan", "<NA>", "None"):
            records.append(exclusion_record(ctx, rows[0], "no-analysable-visit",
                                            f"{subject} {value} has no visit with the outcome and every "
                                            "covariate present: contributes nothing to the MMRM"))
    if not records:
        return exclusions
    extra = pd.DataFrame(records, columns=EXCLUSION_COLUMNS)
    return pd.concat([exclusions, extra], ignore_index=True) if len(exclusions) else extra


def _check_estimable(X: np.ndarray, y: np.ndarray, subjects: np.ndarray, spec: Spec) -> None:
    """Fail early, with a reason: more rows than coefficients, full-rank X, ≥ 2 subjects, varying outcome."""
    n, p = X.shape
    if n <= p:
        raise analysis_error("too-few-observations", f"{n} observations for {p} fixed effects", spec)
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise AnalysisError(Issue("rank-deficient-design", f"the fixed-effects design has rank {rank} < {p}: "
                                  "some terms cannot be estimated from these rows", Location(path="formula"),
                                  hint="Check for empty arm × visit cells or collinear covariates"))
    if len(np.unique(subjects)) < 2:
        raise analysis_error("too-few-groups", "an MMRM needs at least two subjects", spec)
    if np.nanstd(y) == 0:
        raise analysis_error("zero-variance", "the outcome has no variance", spec)


def _fixed_rows(tester, names: list[str], spec: Spec) -> list[dict]:
    """One ``fixed`` row per coefficient (mmrm ``summary(fit)$coefficients``, ``confint(fit)``)."""
    rows = []
    for index, name in enumerate(names):
        L = np.zeros(len(names))
        L[index] = 1.0
        estimate, se, df, t, p = tester.t_test(L)
        low, high = t_interval(estimate, se, df, spec.conf_level)
        rows.append({"effect": "fixed", "term": name, "df_method": spec.df_method, "vcov_method": spec.vcov_method,
                     "estimate": estimate, "std_error": se, "statistic": t, "statistic_type": "t", "df": df,
                     "p_value": p, "conf_low": low, "conf_high": high, "conf_level": spec.conf_level})
    return rows


def type3_contrasts(formula, design, data: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(term, L) of every term's type-III hypothesis, built as mmrm builds them (``h_type3_contrasts``).

    mmrm selects the term's coefficients in the sum-coded design X_s (R ``contr.sum``: the last
    level coded −1) and maps them to the treatment-coded coefficients with
    (X_s'X_s)⁻¹X_s'X; entries below √ε become 0. The F statistic and the Kenward-Roger,
    residual and between-within df do not depend on the basis of L, but the Satterthwaite df of
    a multi-df test do, so the basis is mmrm's. Terms are in the design's (patsy's) order.
    """
    import patsy
    from patsy.builtins import C, Sum

    categorical = {n for n in formula.names if n in data and isinstance(data[n].dtype, pd.CategoricalDtype)}
    parts = ["1" if formula.intercept else "0"]
    parts += [":".join(f"C({n}, Sum)" if n in categorical else n for n in term) for term in formula.terms]
    names = [n for n in formula.names if n != formula.response]
    environment = patsy.EvalEnvironment([{"C": C, "Sum": Sum}])
    Xs = patsy.dmatrix(" + ".join(parts), data[names], eval_env=environment, NA_action="raise")
    info_s, info = Xs.design_info, design.design_info
    Xs = np.asarray(Xs, dtype=float)
    X = design.to_numpy(dtype=float)
    # maps sum-coded coefficients to treatment-coded ones: X β = X_s γ, γ = (X_s'X_s)⁻¹X_s'X β
    correction = np.linalg.solve(Xs.T @ Xs, Xs.T @ X)
    out = []
    for term_s, term in zip(info_s.terms, info.terms):
        if not term.factors:
            continue
        rows = np.eye(Xs.shape[1])[info_s.slice(term_s)]
        L = rows @ correction
        L[np.abs(L) < np.sqrt(np.finfo(float).eps)] = 0.0
        out.append((term.name(), L))
    return out


def _joint_rows(tester, formula, design, data, spec: Spec) -> list[dict]:
    """Type-III F test of every term (mmrm's ``Anova(fit, type = "III")``; SAS type 3 tests)."""
    rows = []
    for name, L in type3_contrasts(formula, design, data):
        if L.shape[0] == 0:
            continue
        F, df_num, df_den, p = tester.f_test(L)
        rows.append({"effect": "joint", "term": name, "df_method": spec.df_method,
                     "vcov_method": spec.vcov_method, "statistic": F, "statistic_type": "F", "df": df_num,
                     "df_denominator": df_den, "p_value": p})
    return rows


def _covariance_rows(fit, visit_levels: list) -> list[dict]:
    """``cov_pars`` rows: ``theta_<k>`` (mmrm's parameters, SE from W = H⁻¹, as ``component(fit,
    "theta_est")`` / ``"theta_vcov"``), ``var__<visit>`` (the estimated visit variances, diag of
    ``VarCorr(fit)``) and ``cor__<visit a>.<visit b>`` (the estimated correlations)."""
    rows = []
    se = np.sqrt(np.clip(np.diag(fit.theta_vcov), 0, None))
    for k, (value, error) in enumerate(zip(fit.theta, se), start=1):
        rows.append({"effect": "cov_pars", "term": f"theta_{k}", "estimate": float(value),
                     "std_error": float(error)})
    S = fit.sigma
    for i, level in enumerate(visit_levels):
        rows.append({"effect": "cov_pars", "term": f"var__{plain(level)}", "estimate": float(S[i, i])})
    for i, j in combinations(range(len(visit_levels)), 2):
        rows.append({"effect": "cov_pars", "term": f"cor__{plain(visit_levels[i])}.{plain(visit_levels[j])}",
                     "estimate": float(S[i, j] / np.sqrt(S[i, i] * S[j, j]))})
    return rows


# --- LS-means -----------------------------------------------------------------------------------------


def _match(values: pd.Series, wanted) -> np.ndarray:
    """Rows whose value equals ``wanted`` (compared as text, so ``week12`` matches a category)."""
    return (values.astype(object).astype(str) == str(wanted)).to_numpy(copy=True)


def _contrast_rows(spec: Spec, formula, data: pd.DataFrame, design, tester) -> tuple[list[dict], list]:
    """``emmean`` and ``contrast`` rows of every ``contrasts`` entry (emmeans on the mmrm fit).

    The reference grid crosses the factor levels (and ``at`` values); numeric covariates are at
    their mean over the analysed rows. An LS-mean averages the grid rows' X over the factors not
    in ``emmeans`` / ``by`` — equally, or with their joint frequencies in the data
    (``proportional``) — so it is L β with that average as L. Its SE uses the chosen covariance
    of β̂ and its df the chosen df method (mmrm's ``emmeans`` support calls ``df_1d``).
    """
    import patsy

    from ketastats.stats import distributions

    if not spec.contrasts:
        return [], []
    predictors = [n for n in formula.names if n != formula.response]
    rows, extras = [], []
    for index, contrast in enumerate(spec.contrasts):
        target, by = contrast.emmeans, contrast.by
        for name in [target, *by, *contrast.at]:
            if name not in predictors:
                raise AnalysisError(Issue("emmeans-not-in-model", f"'{name}' is not a predictor of the model",
                                          Location(path=f"analyses[{spec.id}].contrasts[{index}]")))
        factors = {name: grid_levels(data, name, contrast.at) for name in predictors
                   if name in contrast.at or isinstance(data[name].dtype, pd.CategoricalDtype)}
        for name, values in factors.items():
            if isinstance(data[name].dtype, pd.CategoricalDtype):
                categories = list(data[name].cat.categories)
                chosen = []
                for value in values:
                    match = [c for c in categories if str(c) == str(value)]
                    if not match:
                        raise AnalysisError(Issue("emmeans-level-absent", f"'{value}' is not a level of '{name}'",
                                                  Location(path=f"analyses[{spec.id}].contrasts[{index}].at")))
                    chosen.append(match[0])
                factors[name] = chosen
        numeric = {name: float(data[name].mean()) for name in predictors if name not in factors}
        grid = pd.MultiIndex.from_product(list(factors.values()), names=list(factors)).to_frame(index=False)
        for name, value in numeric.items():
            grid[name] = value
        for name in factors:
            if isinstance(data[name].dtype, pd.CategoricalDtype):
                grid[name] = pd.Categorical(grid[name], categories=data[name].cat.categories)
        (grid_X,) = patsy.build_design_matrices([design.design_info], grid[predictors])
        grid_X = np.asarray(grid_X)
        # factors averaged over (not the target, not by, not fixed by at): equal or proportional weights
        averaged = [n for n in factors if n != target and n not in by and n not in contrast.at]
        weights = np.ones(len(grid))
        if contrast.weights == "proportional" and averaged:
            counts = data.groupby(averaged, observed=False).size()
            keys = grid[averaged].astype(object).itertuples(index=False, name=None)
            weights = np.array([float(counts.get(k if len(averaged) > 1 else k[0], 0)) for k in keys])
        target_levels = factors[target]
        by_levels = list(pd.MultiIndex.from_product([factors[b] for b in by]).to_list()) if by else [()]
        pairs = comparisons(contrast, target_levels, f"analyses[{spec.id}].contrasts")
        for by_value in by_levels:
            group = ", ".join(f"{b}={plain(v)}" for b, v in zip(by, by_value))
            # each by variable (and at variable) is also a column of its own (visit = week12)
            by_cells = {b: plain(v) for b, v in zip(by, by_value) if b not in TIDY_COLUMNS}
            by_cells.update({k: plain(vs[0]) for k, vs in contrast.at.items() if len(vs) == 1 and k not in by
                             and k not in TIDY_COLUMNS})
            if contrast.at:
                group = ", ".join(filter(None, [group] + [f"{k}={plain(v)}" for k, vs in contrast.at.items()
                                                          for v in vs]))
            means = {}
            for level in target_levels:
                mask = _match(grid[target], level)
                for b, v in zip(by, by_value):
                    mask &= _match(grid[b], v)
                w = weights[mask]
                means[level] = (grid_X[mask] * w[:, None]).sum(axis=0) / w.sum()
            for level, L in means.items():
                estimate, se, df, t, p = tester.t_test(L)
                low, high = t_interval(estimate, se, df, spec.conf_level)
                rows.append({"effect": "emmean", "term": target, "level": plain(level), "group": group or None,
                             **by_cells, "df_method": spec.df_method, "vcov_method": spec.vcov_method,
                             "estimate": estimate,
                             "std_error": se, "df": df, "conf_low": low, "conf_high": high,
                             "conf_level": spec.conf_level})
            # the contrasts of this by group form one family for the multiplicity adjustment
            block = []
            for a, b in pairs:
                estimate, se, df, _, _ = tester.t_test(means[a] - means[b])
                # the test is of estimate = margin (0 unless a non-inferiority margin is given), one- or
                # two-sided; the interval is the two-sided one at conf_level whatever the alternative
                t = (estimate - contrast.margin) / se
                if contrast.alternative == "two.sided":
                    p = float(2 * distributions.t_sf(abs(t), df))
                elif contrast.alternative == "less":
                    p = float(distributions.t_cdf(t, df))
                else:
                    p = float(distributions.t_sf(t, df))
                low, high = t_interval(estimate, se, df, spec.conf_level)
                block.append({"effect": "contrast", "term": target, "contrast": f"{plain(a)} - {plain(b)}",
                              "group": group or None, **by_cells, "df_method": spec.df_method,
                              "vcov_method": spec.vcov_method,
                              "estimate": estimate, "std_error": se, "statistic": t, "statistic_type": "t",
                              "df": df, "null_value": contrast.margin, "alternative": contrast.alternative,
                              "p_value": p, "conf_low": low, "conf_high": high, "conf_level": spec.conf_level})
            if block:
                # one family: p.adjust, or Tukey / Dunnett with the estimates' covariance L V L'
                from ketastats.stats.mmrm import vcov

                L = np.array([means[a] - means[b] for a, b in pairs])
                adjust_block(block, L, vcov(tester.fit, tester.vcov_method), contrast.adjust, len(target_levels),
                             spec.conf_level)
            rows += block
        extras.append({"emmeans": target, "by": by, "at": contrast.at})
    return rows, extras


