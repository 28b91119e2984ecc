"""One random-intercept mixed model fitted to many outcomes (e.g. every connectome edge), with FDR.

Role
----
The seed-map / whole-connectome analyses of Siegel et al. (2021): the same linear mixed model
(random intercept per participant, fixed effects from a safe formula) fitted independently to
every outcome, then Benjamini-Hochberg and Bonferroni adjustment across outcomes. Fitting is
batched across outcomes (:mod:`ketastats.stats.lmm_batched`: profiled REML with the
per-participant compound-symmetry structure, no per-outcome Python loop) and runs locally or on
a Dask cluster (:mod:`ketastats.engines`), with identical results.

R function matched
------------------
Per outcome, ``lmerTest::lmer(y ~ <formula> + (1 | participant_id), REML = TRUE)`` with a tight
optimizer (see :mod:`ketastats.stats.lmm_batched`): ``summary(m)$coefficients`` (estimate,
standard error, Satterthwaite df, t, p) and ``VarCorr(m)``; ``df_method: residual`` uses
n_obs − number of fixed effects (as Siegel et al. and the ``mixed_model`` type); then
``p.adjust(p, "BH")`` and ``p.adjust(p, "bonferroni")`` over the outcomes of each term and df
method. Checked against lmerTest on 240 outcomes (``tests/reference/mass_mixed_model/``).

Plan keys
---------
Outcomes come either from columns — ``outcomes:`` names or glob patterns (``"e*"``) of numeric
columns — or from a long table: ``outcome_column:`` (e.g. ``edge``) names the outcome of each
row and ``value:`` (e.g. ``fc``) holds its value; an observation is then a combination of the
table's key columns other than ``outcome_column``. ``formula`` is the right-hand side
(``"~ time_post + time_post:responder_2wk"``, the formula grammar); ``random`` is
``"1 | participant_id"`` (random intercept only); ``df_method`` (one or both of ``residual``,
``satterthwaite``); ``adjust`` (the method of ``p_adjusted``, default ``fdr_bh``; ``p_bonferroni``
is always given); ``reference`` (factor → reference level); ``engine`` (``local`` | ``dask``),
``address`` (a Dask scheduler; default a local in-process cluster), ``workers`` (threads of that
local cluster), ``chunk_size`` (outcomes per task). ``keep: significant`` writes only the outcomes
with ``p_adjusted < alpha`` for at least one term and df method (adjustment over all outcomes; the
counts per term are in ``glance["n_significant"]``) — a whole connectome's full table is 619,368
rows. ``ketastats run --engine dask [--address ...]`` overrides ``engine`` / ``address``.

Tidy columns
------------
One row per outcome × df method × coefficient (``effect: fixed``): outcome, effect, term,
df_method, estimate, std_error, statistic, statistic_type (t), df, p_value, p_adjusted,
adjust_method, p_bonferroni, n_obs, n_subjects; then per outcome the variance components
(``effect: ran_pars``, lme4's ``VarCorr``): ``sd__(Intercept)`` (group = the grouping column)
and ``sd__Observation`` (group = Residual). Outcomes are in column order (``outcomes``) or in
the outcome column's level / text order (long table).

Missing data
------------
Rows missing a predictor or the grouping value are excluded (listed in exclusions.csv, complete
cases as ``lmer``'s ``na.omit``). A missing outcome value removes that observation from that
outcome only (listed once per row and outcome); outcomes with the same missing rows are fitted
together. An outcome whose model cannot be fitted (no variance, too few rows) gets empty
numbers and a warning; singular fits (random-intercept SD 0, lme4's ``isSingular``) are counted
in a warning and in ``glance``.

Example
-------
``analysis_plans/siegel2021.yaml`` (``connectome_sgacc_seed``): sgACC seed connectivity to the
other 393 regions, ``fc ~ time_post + time_post:responder_2wk + (1 | participant_id)`` per edge,
BH across the 393 edges.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses.base import AnalysisInput, AnalysisSpec, reference_level_problems, select_rows
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import as_list, column_field
from ketastats.language.formulas import FormulaError, design_matrices, parse_formula, parse_random
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras

DfMethod = Literal["residual", "satterthwaite"]
GLOB = set("*?[")   # an outcomes entry containing one of these is a pattern (fnmatch), not a column name
TIDY_COLUMNS = ["outcome", "effect", "term", "group", "df_method", "estimate", "std_error", "statistic",
                "statistic_type", "df", "p_value", "p_adjusted", "adjust_method", "p_bonferroni", "n_obs",
                "n_subjects"]


class Spec(AnalysisSpec):
    """The same random-intercept mixed model fitted to many outcomes (lme4 / lmerTest per outcome)."""

    type: Literal["mass_mixed_model"]
    outcomes: Annotated[list[str], BeforeValidator(as_list)] = Field(
        default_factory=list, description="outcome columns: names or glob patterns such as \"e*\"")
    outcome_column: str | None = column_field("long table: the column naming each row's outcome", default=None)
    value: str | None = column_field("long table: the column holding the outcome value", default=None)
    formula: str = Field(description="right-hand side, e.g. \"~ time_post + time_post:responder_2wk\"")
    random: str = Field(description="random intercept, e.g. \"1 | participant_id\"")
    df_method: Annotated[list[DfMethod], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[DfMethod](["satterthwaite"]), description="residual and / or satterthwaite")
    # a subset of stats.p_adjust.METHODS on purpose: the outcomes have no testing order (no
    # fixed_sequence), Hommel's loop is quadratic in the number of outcomes (77,421 edges), and
    # p_adjusted is the point of the analysis (no none)
    adjust: Literal["fdr_bh", "fdr_by", "bonferroni", "holm", "hochberg"] = Field(
        "fdr_bh", description="adjustment across outcomes (per term and df method) reported as p_adjusted")
    reference: dict[str, str | int | float | bool] = Field(default_factory=dict,
                                                           description="factor → reference level")
    engine: Literal["local", "dask"] = Field("local", description="where the fits run")
    address: str | None = Field(None, description="Dask scheduler address; default a local in-process cluster")
    workers: int = Field(2, ge=1, description="threads of the local Dask cluster")
    chunk_size: int = Field(10000, ge=1, description="outcomes per task")
    keep: Literal["all", "significant"] = Field(
        "all", description="rows of the table: every outcome, or only outcomes with p_adjusted < alpha for some "
                           "term (for whole-connectome runs; the adjustment is still over all outcomes)")
    alpha: float = Field(0.05, gt=0, lt=1, description="threshold of keep: significant and of the n_significant counts")

    @model_validator(mode="after")
    def _check(self) -> "Spec":
        """Wide (``outcomes``) xor long (``outcome_column`` + ``value``); a right-hand-side formula;
        a random intercept only."""
        long = self.outcome_column is not None or self.value is not None
        if long and (self.outcome_column is None or self.value is None):
            raise ValueError("a long table needs both 'outcome_column' and 'value'")
        if long == bool(self.outcomes):
            raise ValueError("give either 'outcomes' (columns) or 'outcome_column' with 'value' (a long table)")
        if not self.df_method:
            raise ValueError("df_method needs at least one method")
        try:
            formula = parse_formula(self.formula, require_response=False)
            random = parse_random(self.random)
        except FormulaError as exc:
            raise ValueError(f"{exc.message} ({exc.code})") from None
        if formula.response is not None:
            raise ValueError("the formula is the right-hand side only (\"~ a + b\"); the outcomes are the response")
        if random.terms or not random.intercept:
            raise ValueError("only a random intercept (\"1 | subject\") is supported")
        return self

    def _formula(self):
        """The parsed right-hand side (no response: the outcomes are the responses)."""
        return parse_formula(self.formula, require_response=False)

    def column_references(self) -> list[tuple[str, str]]:
        """Named outcome columns (patterns are checked in :meth:`check_columns`), predictors, grouping,
        long-table keys."""
        refs = [(f"outcomes[{i}]", name) for i, name in enumerate(self.outcomes) if not GLOB & set(name)]
        refs += [("formula", name) for name in self._formula().names]
        refs += [("random", parse_random(self.random).group)]
        refs += [(key, getattr(self, key)) for key in ("outcome_column", "value") if getattr(self, key)]
        refs += [(f"reference.{name}", name) for name in self.reference]
        return refs

    def check_columns(self, columns) -> list[Problem]:
        """Every pattern matches a column; matched outcomes and ``value`` are numeric; reference levels exist."""
        problems = []
        for index, pattern in enumerate(self.outcomes):
            matched = [name for name in columns if fnmatch.fnmatchcase(name, pattern)]
            if GLOB & set(pattern) and not matched:
                problems.append(Problem(f"outcomes[{index}]", f"no column matches '{pattern}'"))
            for name in matched:
                if columns[name].type not in ("integer", "number"):
                    problems.append(Problem(f"outcomes[{index}]",
                                            f"the outcome '{name}' is {columns[name].type}, not numeric"))
                    break
        if self.value in columns and columns[self.value].type not in ("integer", "number"):
            problems.append(Problem("value", f"'{self.value}' is {columns[self.value].type}, not numeric"))
        problems += reference_level_problems(self.reference, columns)
        return problems


# --- running -------------------------------------------------------------------------------------

def run(spec: Spec, ctx: AnalysisInput, progress=None) -> AnalysisResult:
    """Fit the random-intercept model to every outcome; t tests per coefficient, adjusted across outcomes.

    R, per outcome ``y``: ``m <- lmerTest::lmer(y ~ formula + (1 | group), REML = TRUE)``,
    ``summary(m)$coefficients`` (Satterthwaite df) or the residual-df t test, and
    ``VarCorr(m)``; then, per term and df method, ``p.adjust(p, adjust)`` and ``p.adjust(p,
    "bonferroni")`` over all outcomes (also when ``keep: significant`` drops rows afterwards).

    The design (X, groups) is built once from the rows complete in the predictors and grouping
    column; each outcome then uses its own non-missing rows. Tidy columns: :data:`TIDY_COLUMNS`;
    ``glance``: counts of outcomes (fitted, singular, not converged, kept), n_obs,
    n_subjects, n_fixed and ``n_significant <term> (<df method>)`` per term. ``progress``
    (done, total) reports fitted chunks; by default it feeds ``ctx.progress``.
    """
    from ketastats.analyses._factors import prepare_factors

    formula = spec._formula()
    group = parse_random(spec.random).group
    predictors = list(dict.fromkeys(formula.names + [group]))
    # observations: one row per observation with its predictors; Y: observations × outcomes (NaN = missing)
    if spec.outcome_column is None:
        observations, Y, outcomes, exclusions = _wide(spec, ctx, predictors)
    else:
        observations, Y, outcomes, exclusions = _long(spec, ctx, predictors)
    observations = prepare_factors(observations, formula, spec.reference, ctx)
    design = design_matrices(formula, observations)
    X = design.to_numpy(dtype=float)
    terms = list(design.columns)
    # grouping codes 0..m-1 in text order (the batched fit only needs the partition)
    groups = pd.factorize(observations[group].astype(str), sort=True)[0]
    _check_design(X, groups)
    if progress is None and ctx.progress is not None:
        report = ctx.progress

        def progress(done: int, total: int) -> None:
            report(f"{spec.id}: {done} of {total} chunks fitted ({spec.engine})")
    fits = _fit_all(spec, X, groups, Y, progress)
    tidy = _tidy(spec, outcomes, terms, group, fits)
    significant = _significant(tidy, spec.alpha)
    # keep: significant filters rows after the adjustment, so p_adjusted is the same as with keep: all
    if spec.keep == "significant":
        tidy = tidy[tidy["outcome"].isin(set(significant["outcome"]))].reset_index(drop=True)
    issues = _issues(spec, outcomes, fits)
    n_fitted = int(np.sum(fits["fitted"]))
    # n_obs / n_subjects: the shared design's rows and groups; each tidy row has its outcome's own counts
    glance = {"n_outcomes": len(outcomes), "n_fitted": n_fitted, "n_singular": int(np.sum(fits["singular"])),
              "n_not_converged": int(np.sum(fits["fitted"] & ~fits["converged"])),
              "n_missing_patterns": int(fits["n_patterns"]), "n_obs": int(len(X)),
              "n_subjects": int(groups.max() + 1), "n_fixed": int(X.shape[1]), "estimation": "reml",
              "engine": spec.engine, "chunk_size": spec.chunk_size, "keep": spec.keep, "alpha": spec.alpha,
              "n_outcomes_kept": int(tidy["outcome"].nunique())}
    for (term, method), count in significant.groupby(["term", "df_method"], sort=False).size().items():
        glance[f"n_significant {term} ({method})"] = int(count)   # p_adjusted < alpha, over all outcomes
    notes = ["REML fit per outcome (random intercept); standard errors from σ²(X'V⁻¹X)⁻¹ as lme4",
             "df: " + ", ".join({"residual": "residual = n_obs − number of fixed effects",
                                 "satterthwaite": "Satterthwaite (lmerTest)"}[m] for m in spec.df_method),
             f"p_adjusted: {spec.adjust} and p_bonferroni: Bonferroni, across the {len(outcomes)} outcomes "
             "within each term and df method"]
    return AnalysisResult(spec.id, spec.type, tidy=tidy, glance=glance, exclusions=exclusions, issues=issues,
                          notes=notes, extras=Extras(rows_by_p=True))   # the report: smallest p first


def _significant(tidy: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Fixed-effect rows with p_adjusted < alpha (intercept excluded).

    >>> tidy = pd.DataFrame({"outcome": ["e1", "e1", "e2"], "effect": "fixed", "df_method": "residual",
    ...                      "term": ["Intercept", "time", "time"], "p_adjusted": [0.001, 0.2, 0.01]})
    >>> _significant(tidy, 0.05)["outcome"].tolist()
    ['e2']
    """
    rows = tidy[(tidy["effect"] == "fixed") & (tidy["term"] != "Intercept") & (tidy["p_adjusted"] < alpha)]
    return rows[["outcome", "term", "df_method"]]


def _outcome_columns(spec: Spec, frame: pd.DataFrame, predictors: list[str]) -> list[str]:
    """The outcome columns in ``outcomes`` order: a pattern expands to its matches in table column order.

    A predictor is never an outcome, even if a pattern matches it; a column matched twice is
    kept once, at its first place. A pattern without matches fails (``no-outcomes``).

    >>> spec = Spec(id="m", type="mass_mixed_model", table="t", outcomes=["e2", "e*"], formula="~ time",
    ...             random="1 | pid")
    >>> _outcome_columns(spec, pd.DataFrame(columns=["pid", "time", "e1", "e2", "eye"]), ["time", "pid"])
    ['e2', 'e1', 'eye']
    """
    chosen: list[str] = []
    for pattern in spec.outcomes:
        if GLOB & set(pattern):
            matched = [c for c in frame.columns if fnmatch.fnmatchcase(str(c), pattern) and c not in predictors]
            if not matched:
                raise AnalysisError(Issue("no-outcomes", f"no column matches '{pattern}'", Location(path="outcomes")))
        else:
            matched = [pattern]
        chosen += [c for c in matched if c not in chosen]
    return chosen


def _wide(spec: Spec, ctx: AnalysisInput, predictors: list[str]):
    """Observations (predictor rows), Y (rows × outcomes, NaN where missing), outcome names, exclusions.

    Rows missing a predictor or the group are excluded whole; a missing outcome value is one
    ``missing-value`` record per (row, outcome), and that cell stays NaN in Y.
    """
    outcomes = _outcome_columns(spec, ctx.frame, predictors)
    data, exclusions = select_rows(ctx, predictors)
    Y = data[outcomes].to_numpy(dtype=float)
    missing = np.argwhere(~np.isfinite(Y))
    if len(missing):
        records = [{"analysis_id": ctx.analysis_id, "table": ctx.table_name, "row": int(data.index[i]),
                    "subject": str(data[ctx.subject].iat[i]) if ctx.subject in data else None,
                    "key": ", ".join(f"{k}={data[k].iat[i]}" for k in ctx.key if k != ctx.subject and k in data),
                    "reason": "missing-value", "detail": f"{outcomes[j]} is missing"} for i, j in missing]
        exclusions = pd.concat([exclusions, pd.DataFrame(records, columns=EXCLUSION_COLUMNS)], ignore_index=True)
    return data[predictors].copy(), Y, outcomes, exclusions


def _long(spec: Spec, ctx: AnalysisInput, predictors: list[str]):
    """As :func:`_wide` for a long table: one observation per combination of the key columns but
    ``outcome_column`` (e.g. participant × visit), one Y column per outcome level.

    Without such keys the predictors identify an observation. Two rows for one observation and
    outcome fail (``duplicate-observation``); so does a predictor that differs between the rows
    of one observation (``predictor-varies``). An outcome absent for an observation is NaN.
    """
    column, value = spec.outcome_column, spec.value
    assert column is not None and value is not None   # a long table (Spec._check requires both)
    data, exclusions = select_rows(ctx, list(dict.fromkeys(predictors + [column, value])))
    # an observation = the table key without the outcome column (e.g. participant × visit for a
    # key participant × visit × edge); a table whose key does not include it falls back to the predictors
    keys = [k for k in ctx.key if k != column and k in data.columns]
    if column not in ctx.key or not keys:
        keys = predictors
    labels = data[column]
    if isinstance(labels.dtype, pd.CategoricalDtype):
        codes = labels.cat.remove_unused_categories().cat.codes.to_numpy()
        outcomes = [str(c) for c in labels.cat.remove_unused_categories().cat.categories]
    else:
        codes, uniques = pd.factorize(labels.astype(str), sort=True)
        outcomes = [str(u) for u in uniques]
    # observation index of every row (0..n_obs-1, in key order); with codes, the (row, column) of Y
    obs = data.groupby(keys, sort=True, observed=True, dropna=False).ngroup().to_numpy()
    n_obs, n_out = int(obs.max()) + 1 if len(obs) else 0, len(outcomes)
    pair = obs.astype(np.int64) * n_out + codes
    if len(pair) and np.bincount(pair, minlength=n_obs * n_out).max() > 1:
        raise AnalysisError(Issue("duplicate-observation", f"some {column} has several rows for one observation "
                                  f"({', '.join(keys)})", Location(column=column),
                                  hint="Summarise repeated rows first (e.g. a summarise derivation)"))
    first = np.full(n_obs, len(obs), dtype=np.int64)
    np.minimum.at(first, obs, np.arange(len(obs)))            # first row of every observation
    observations = data.iloc[first][predictors].reset_index(drop=True)
    for name in predictors:
        values = pd.factorize(data[name], use_na_sentinel=False)[0]
        if not np.array_equal(values, values[first][obs]):
            raise AnalysisError(Issue("predictor-varies", f"'{name}' differs between rows of one observation "
                                      f"({', '.join(keys)})", Location(column=name)))
    # an (observation, outcome) without a row stays NaN: that outcome is fitted without the observation
    Y = np.full((n_obs, n_out), np.nan)
    Y[obs, codes] = data[value].to_numpy(dtype=float)
    return observations, Y, outcomes, exclusions


def _check_design(X: np.ndarray, groups: np.ndarray) -> None:
    """The shared design must be estimable: more rows than columns, full rank, at least two groups."""
    n, p = X.shape
    if n <= p:
        raise AnalysisError(Issue("too-few-observations", f"{n} observations for {p} fixed effects",
                                  Location(path="formula")))
    if np.linalg.matrix_rank(X) < p:
        raise AnalysisError(Issue("rank-deficient-design", "the fixed-effects design is rank deficient",
                                  Location(path="formula"), hint="Check for empty factor combinations"))
    if groups.max() + 1 < 2:
        raise AnalysisError(Issue("too-few-groups", "a mixed model needs at least two groups", Location(path="random")))


def fit_chunk(Y: np.ndarray, X: np.ndarray, groups: np.ndarray, satterthwaite: bool) -> dict:
    """One task: batched fits of the columns of Y (a top-level function, so Dask can ship it).

    Y holds outcomes observed on the same rows (one missing-data pattern), X and groups those
    rows. Returns plain arrays (no fit object) so the result pickles cheaply; Satterthwaite df
    are computed only when a df method needs them (``df_sat`` is then None otherwise).
    """
    from ketastats.stats.lmm_batched import fit_random_intercept

    fit = fit_random_intercept(Y, X, groups, satterthwaite=satterthwaite)
    return {"beta": fit.beta, "se": fit.se, "df_sat": fit.df_satterthwaite, "sigma": fit.sigma,
            "sd_intercept": fit.sd_intercept, "singular": fit.singular, "converged": fit.converged,
            "n_obs": fit.n_obs, "n_groups": fit.n_groups, "df_residual": fit.df_residual}


def _fit_all(spec: Spec, X: np.ndarray, groups: np.ndarray, Y: np.ndarray, progress) -> dict:
    """Fit every outcome; arrays indexed by outcome (β, SE, Satterthwaite df, residual df, σ, SD, flags, n).

    Outcomes with the same missing rows share a design and are fitted together (one "pattern"
    each); each pattern is split into chunks of ``chunk_size`` outcomes, the tasks that run
    locally or on Dask. A pattern whose rows cannot estimate the model (no more rows than
    max(p, groups), or rank-deficient X) is not fitted: its outcomes keep NaN and are warned.
    """
    from ketastats.engines import map_tasks

    n, K = Y.shape
    p = X.shape[1]
    out: dict[str, Any] = {
           "beta": np.full((K, p), np.nan), "se": np.full((K, p), np.nan), "df_sat": np.full((K, p), np.nan),
           "df_res": np.full(K, np.nan), "sigma": np.full(K, np.nan), "sd_intercept": np.full(K, np.nan),
           "singular": np.zeros(K, bool), "converged": np.zeros(K, bool), "fitted": np.zeros(K, bool),
           "n_obs": np.zeros(K, int), "n_subjects": np.zeros(K, int)}
    observed = np.isfinite(Y)
    if observed.all():
        patterns, inverse = np.ones((1, n), dtype=bool), np.zeros(K, dtype=np.int64)
    else:
        # one bit-packed "which rows are observed" signature per outcome; equal signatures share a fit
        packed, inverse = np.unique(np.packbits(observed, axis=0).T, axis=0, return_inverse=True)
        patterns, inverse = np.unpackbits(packed, axis=1, count=n).astype(bool), inverse.ravel()
    out["n_patterns"] = len(patterns)
    tasks, targets = [], []
    satterthwaite = "satterthwaite" in spec.df_method
    # rows: the boolean row mask of pattern j; columns: the outcomes observed on exactly those rows
    for j, rows in enumerate(patterns):
        columns = np.flatnonzero(inverse == j)
        Xs, gs = X[rows], groups[rows]
        m = len(np.unique(gs))
        if rows.sum() <= max(p, m) or np.linalg.matrix_rank(Xs) < p:
            continue                                            # not estimable: left empty, warned
        for start in range(0, len(columns), spec.chunk_size):
            chunk = columns[start:start + spec.chunk_size]
            tasks.append((np.ascontiguousarray(Y[np.ix_(rows, chunk)]), Xs, gs, satterthwaite))
            targets.append(chunk)
    # results come back in task order whatever the engine, so local and Dask runs give identical tables
    results = map_tasks(fit_chunk, tasks, engine=spec.engine, address=spec.address, workers=spec.workers,
                        progress=progress)
    for chunk, res in zip(targets, results):
        out["beta"][chunk], out["se"][chunk] = res["beta"], res["se"]
        if res["df_sat"] is not None:
            out["df_sat"][chunk] = res["df_sat"]
        for key in ("sigma", "sd_intercept", "singular", "converged"):
            out[key][chunk] = res[key]
        # an outcome without a finite σ (e.g. constant values) counts as not fitted
        fitted = np.isfinite(res["sigma"])
        out["fitted"][chunk] = fitted
        out["df_res"][chunk] = np.where(fitted, res["df_residual"], np.nan)
        out["n_obs"][chunk], out["n_subjects"][chunk] = res["n_obs"], res["n_groups"]
    return out


def _tidy(spec: Spec, outcomes: list[str], terms: list[str], group: str, fits: dict) -> pd.DataFrame:
    """The tidy table, built column-wise (no per-row dicts: a connectome has ~10⁵–10⁶ rows).

    Per outcome: its fixed rows (df method-major, then coefficient) followed by its two
    ``ran_pars`` rows; ``_order`` interleaves the two blocks in that order. The adjustments run
    over outcomes for each (df method, coefficient); an unfitted outcome's NaN p-values are
    left out of the adjustment and stay empty.
    """
    from ketastats.stats.lmm_batched import t_tests
    from ketastats.stats.p_adjust import adjust_p as adjust

    K, p, methods = len(outcomes), len(terms), list(spec.df_method)
    M = len(methods)
    blocks = {}
    for name in ("estimate", "std_error", "df", "statistic", "p_value", "p_adjusted", "p_bonferroni"):
        blocks[name] = np.empty((K, M, p))
    # blocks are outcome × df method × coefficient; ravel() gives the fixed rows in that order
    for i, method in enumerate(methods):
        # Satterthwaite df differ per coefficient; the residual df are one per outcome (n_obs − p)
        df = fits["df_sat"] if method == "satterthwaite" else np.repeat(fits["df_res"][:, None], p, axis=1)
        t, pv = t_tests(fits["beta"], fits["se"], df)
        blocks["estimate"][:, i], blocks["std_error"][:, i], blocks["df"][:, i] = fits["beta"], fits["se"], df
        blocks["statistic"][:, i], blocks["p_value"][:, i] = t, pv
        for j in range(p):   # the family: one coefficient under one df method, across all outcomes
            blocks["p_adjusted"][:, i, j] = adjust(pv[:, j], spec.adjust)
            blocks["p_bonferroni"][:, i, j] = adjust(pv[:, j], "bonferroni")
    fixed = pd.DataFrame({
        "outcome": np.repeat(np.asarray(outcomes, dtype=object), M * p),
        "effect": "fixed",
        "term": np.tile(np.asarray(terms, dtype=object), K * M),
        "group": None,
        "df_method": np.tile(np.repeat(np.asarray(methods, dtype=object), p), K),
        **{name: values.ravel() for name, values in blocks.items()},
        "statistic_type": "t", "adjust_method": spec.adjust,
        "n_obs": np.repeat(fits["n_obs"], M * p), "n_subjects": np.repeat(fits["n_subjects"], M * p),
        "_order": np.repeat(np.arange(K), M * p) * (M * p + 2) + np.tile(np.arange(M * p), K),
    })
    ran = pd.DataFrame({
        "outcome": np.repeat(np.asarray(outcomes, dtype=object), 2),
        "effect": "ran_pars",
        "term": np.tile(np.array(["sd__(Intercept)", "sd__Observation"], dtype=object), K),
        "group": np.tile(np.array([group, "Residual"], dtype=object), K),
        "estimate": np.column_stack([fits["sd_intercept"], fits["sigma"]]).ravel(),
        "n_obs": np.repeat(fits["n_obs"], 2), "n_subjects": np.repeat(fits["n_subjects"], 2),
        "_order": np.repeat(np.arange(K), 2) * (M * p + 2) + np.tile([M * p, M * p + 1], K),
    })
    tidy = pd.concat([fixed, ran], ignore_index=True).sort_values("_order", kind="mergesort")
    tidy = tidy.drop(columns="_order").reset_index(drop=True)
    return tidy.reindex(columns=TIDY_COLUMNS)


def _issues(spec: Spec, outcomes: list[str], fits: dict) -> list[Issue]:
    """Warnings counting the outcomes not fitted, not converged and with a singular fit (first five named)."""
    location = Location(path=f"analyses[{spec.id}]")
    issues = []

    def named(mask: np.ndarray) -> str:
        names = [outcomes[i] for i in np.flatnonzero(mask)[:5]]
        more = int(mask.sum()) - len(names)
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")

    unfitted = ~fits["fitted"]
    if unfitted.any():
        issues.append(Issue("outcome-not-fitted", f"{int(unfitted.sum())} of {len(outcomes)} outcomes could not be "
                            f"fitted (no variance or too few observations): {named(unfitted)}", location,
                            severity="warning"))
    stalled = fits["fitted"] & ~fits["converged"]
    if stalled.any():
        issues.append(Issue("not-converged", f"{int(stalled.sum())} outcomes did not converge: {named(stalled)}",
                            location, severity="warning"))
    if fits["singular"].any():
        issues.append(Issue("singular-fit", f"{int(fits['singular'].sum())} of {len(outcomes)} outcomes have a "
                            "singular fit (random-intercept SD 0, lme4::isSingular); their df are those of the "
                            "fixed-effects model", location, severity="warning"))
    return issues
