"""Cox proportional-hazards regression with global tests, concordance and cox.zph checks.

Matches R ``survival::coxph(Surv(time, event) ~ covariates [+ strata(s)], ties = "efron")``
(survival 3.5-3) with ``summary()``, ``fit$concordance`` and ``cox.zph(fit, transform)``
(the survival >= 3.0 score test). Kernels: :func:`ketastats.stats.survival.cox_fit`,
:func:`~ketastats.stats.survival.cox_zph`, :func:`~ketastats.stats.survival.concordance`;
references in ``tests/reference/survival/``.

R-compatible choices (named in the result notes): Efron ties by default (``ties:
breslow`` optional; lifelines' ``CoxPHFitter`` has Efron only, statsmodels ``PHReg`` both —
the tests cross-check against both); Wald confidence intervals
:math:`\\exp(\\hat\\beta \\pm z\\,\\mathrm{se})`; ``cox.zph`` with the ``km`` transform by
default (``identity``, ``rank``, ``log`` available), one test per covariate (a factor's
dummies together, as R's ``terms = TRUE``) and a global test. lifelines'
``proportional_hazard_test`` reproduces the pre-3.0 correlation test and is not used.

Formulas
--------
Partial likelihood with Efron ties; Newton-Raphson from 0 (step halving), to full
convergence. Wald :math:`z = \\hat\\beta/\\mathrm{se}`; global likelihood-ratio
:math:`2\\{l(\\hat\\beta) - l(0)\\}`, Wald :math:`\\hat\\beta^\\top V^{-1}\\hat\\beta` and score
:math:`U(0)^\\top I(0)^{-1}U(0)` (df = number of coefficients). Concordance: Harrell's C
(pairs tied in time with two events unused; tied risk scores count 1/2) with R's
infinitesimal-jackknife standard error. Design: a category or boolean covariate gets
treatment (dummy) coding with its first observed level as reference, named as patsy does
(``arm[T.ketamine]``); numeric covariates enter as they are.

Missing data
------------
Rows with a missing time, event, covariate or stratum are excluded (``missing-value``),
invalid times / events as ``invalid-value``; complete cases only (as R's ``na.omit``).

Tidy columns
------------
outcome (the time column), effect (``fixed`` coefficient rows, ``joint`` global tests,
``concordance``, ``ph_test`` rows of cox.zph), term (coefficient name; for ph_test the
covariate or ``GLOBAL``), n, n_events, estimate (log hazard ratio; C for concordance),
std_error, conf_low, conf_high (log scale), conf_level, hazard_ratio,
hazard_ratio_conf_low, hazard_ratio_conf_high, statistic, statistic_type (``z`` or
``chi2``), df, p_value, method.

Edge cases: no events (the model cannot be fitted: the analysis fails with that message);
a coefficient that tends to infinity (e.g. a group without events; R: "Loglik converged
before variable ...") is reported empty with a warning; an aliased (collinear or constant)
design column is dropped with a warning (R reports NA); a singular cox.zph information
matrix skips the PH rows with a warning.

Known differences from R: times are compared exactly (R's ``timefix`` merges times closer
than about 1e-8 relative); R stops iterating at a relative log-likelihood change of 1e-9,
so R's estimates can differ from these (fully converged) ones by about 1e-9 relative.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdefgh"), "time": [1.0, 2, 3, 4, 5, 6, 7, 8],
...                       "event": pd.array([True, True, False, True, True, True, False, True], dtype="boolean"),
...                       "x": [3.0, 1, 2, 5, 0, 2, 1, 0]}, index=range(1, 9))
>>> spec = Spec(id="c", type="cox", table="t", covariates="x")
>>> tidy = run(spec, AnalysisInput("c", "t", frame, "pid", ["pid"])).tidy
>>> tidy.loc[0, ["effect", "term"]].tolist()
['fixed', 'x']
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field

from ketastats.analyses._survival import SurvivalSpec, group_codes, nan_to_none, survival_rows, warn
from ketastats.analyses.base import AnalysisInput
from ketastats.errors import AnalysisError, Issue, Location
from ketastats.language.fields import ConfLevel, Names, as_list, column_field
from ketastats.results import AnalysisResult

ZphTransform = Literal["km", "identity", "rank", "log"]
# the three global tests of summary(coxph), in R's order and with R's names
METHOD_NAMES = {"lr": "likelihood ratio test", "wald": "Wald test", "score": "score (log-rank) test"}


class Spec(SurvivalSpec):
    """Cox model of the time to event on ``covariates`` (optionally stratified)."""

    type: Literal["cox"]
    covariates: Names = column_field("covariate columns, e.g. [arm, madrs_baseline]")
    strata: Names = column_field("stratification columns (separate baseline hazards)", default_factory=list)
    ties: Literal["efron", "breslow"] = Field("efron", description="tie handling: efron (R default) or breslow")
    conf_level: ConfLevel = 0.95
    ph_test: Annotated[list[ZphTransform], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[ZphTransform](["km"]),
        description="cox.zph time transforms to test PH with ([] for none)")


def design(frame: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, list[str], list[list[int]], list[str]]:
    """Design matrix, column names (patsy style), columns per covariate, and notes on coding.

    As R's ``model.matrix`` for ``coxph`` (no intercept column): a category / text / boolean
    covariate gets one indicator per observed level but the first (category order; booleans
    false first; text in text order), named ``arm[T.ketamine]``; a numeric covariate is one
    column as it is (not centred: centring only changes the baseline hazard). The third value
    groups the columns of each covariate, for the per-covariate cox.zph test.

    >>> frame = pd.DataFrame({"arm": ["s", "k", "s"], "age": [30.0, 40, 50]})
    >>> x, names, terms, coding = design(frame, ["arm", "age"])
    >>> names, terms, coding
    (['arm[T.s]', 'age'], [[0], [1]], ['arm: reference k'])
    """
    columns: list[np.ndarray] = []
    names: list[str] = []
    terms: list[list[int]] = []
    coding: list[str] = []
    for covariate in covariates:
        values = frame[covariate]
        start = len(names)
        if isinstance(values.dtype, (pd.CategoricalDtype, pd.StringDtype)) or values.dtype == object or \
                str(values.dtype) in ("boolean", "bool"):   # pd.StringDtype: pandas 3's default text dtype
            if isinstance(values.dtype, pd.CategoricalDtype):
                levels = [lv for lv in values.cat.categories if (values == lv).any()]
            elif str(values.dtype) in ("boolean", "bool"):
                levels = [lv for lv in (False, True) if (values == lv).any()]
            else:
                levels = sorted(values.dropna().unique(), key=str)
            # treatment coding: the first level is the reference and gets no column (R's contr.treatment)
            for level in levels[1:]:
                columns.append((values == level).astype(float).to_numpy())
                names.append(f"{covariate}[T.{level}]")
            if levels:
                coding.append(f"{covariate}: reference {levels[0]}")
        else:
            columns.append(pd.to_numeric(values, errors="coerce").astype(float).to_numpy())
            names.append(covariate)
        terms.append(list(range(start, len(names))))
    x = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    return x, names, terms, coding


def _aliased(x: np.ndarray) -> list[int]:
    """Columns linearly dependent on earlier ones (or constant), as R reports NA coefficients.

    Columns are taken left to right after centring (the partial likelihood has no intercept,
    so a constant column is aliased with it), as R's QR pivoting keeps the earlier column.

    >>> _aliased(np.array([[1.0, 2, 5], [2, 4, 5], [3, 7, 5]]))
    [2]
    """
    dropped: list[int] = []
    kept: list[int] = []
    centred = x - x.mean(axis=0) if len(x) else x
    for j in range(x.shape[1]):
        trial = centred[:, kept + [j]]
        if np.linalg.matrix_rank(trial, tol=1e-7 * max(1.0, np.abs(trial).max(initial=0))) < len(kept) + 1:
            dropped.append(j)
        else:
            kept.append(j)
    return dropped


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Cox model: coefficient rows, the three global tests, concordance and cox.zph rows.

    R: ``fit <- coxph(Surv(time, event) ~ covariates [+ strata(strata)], ties = ties)``;
    ``summary(fit)`` gives the ``fixed`` rows (coef, se(coef), z, Pr(>|z|), exp(coef) and the
    Wald interval at ``conf_level``) and the ``joint`` rows (likelihood ratio, Wald and score
    tests, df = estimable coefficients); ``concordance(fit)`` the ``concordance`` row;
    ``cox.zph(fit, transform)`` the ``ph_test`` rows (one per covariate and ``GLOBAL``) for
    each transform in ``ph_test``.

    Complete cases over time, event, covariates and strata (R's ``na.omit``). Tidy columns:
    see the module docstring. ``glance`` holds n, n_events, the null and final partial
    log-likelihoods, the iterations and C. Raises ``no-events`` / ``no-covariate``; aliased
    columns, infinite coefficients, non-convergence and a singular cox.zph matrix are warnings.
    """
    from ketastats.stats import distributions
    from ketastats.stats.survival import concordance, cox_fit, cox_zph

    base, exclusions, time, event = survival_rows(ctx, spec, [*spec.covariates, *spec.strata])
    location = Location(path=f"analyses[{spec.id}]", table=ctx.table_name)
    # without events the partial likelihood is constant: no coefficient can be estimated
    if event.sum() == 0:
        raise AnalysisError(Issue("no-events", f"no events among the {len(time)} analysed rows: the Cox model "
                                  "cannot be estimated", location))
    x, names, terms, coding = design(base, spec.covariates)
    issues = []
    aliased = _aliased(x)
    if aliased:
        issues.append(warn(ctx, "aliased-term", "design column(s) " + ", ".join(names[j] for j in aliased) +
                           " are constant or collinear with earlier ones and are dropped (R reports NA)"))
    keep = [j for j in range(x.shape[1]) if j not in aliased]
    if not keep:
        raise AnalysisError(Issue("no-covariate", "no estimable covariate column", location))
    xk = x[:, keep]
    # strata: one code per row (a separate baseline hazard per stratum, no coefficient)
    strata = group_codes(base, spec.strata)[0] if spec.strata else None
    fit = cox_fit(time, event, xk, strata, spec.ties)
    if not fit.converged:
        issues.append(warn(ctx, "not-converged", f"Newton-Raphson did not converge in {fit.iterations} iterations"))
    var = fit.var   # the inverse information at the estimate: R's fit$var (model-based, not robust)
    se = np.sqrt(np.diag(var))
    infinite = _infinite(fit, time, event, xk, strata, spec.ties)
    if infinite.any():
        issues.append(warn(ctx, "infinite-coefficient", "the log-likelihood converged before "
                           + ", ".join(names[keep[j]] for j in np.flatnonzero(infinite))
                           + "; the coefficient may be infinite (e.g. a group without events) and is not reported"))
    # Wald intervals on the log hazard-ratio scale (R's summary(fit, conf.int)); exp() for the HR columns
    z = distributions.norm_ppf(1 - (1 - spec.conf_level) / 2)
    n, n_events = int(len(time)), int(event.sum())
    common = {"outcome": spec.time, "n": n, "n_events": n_events}
    rows = []
    # design column j → its position k in the fitted (non-aliased) coefficients; aliased ones get empty rows
    position = {j: k for k, j in enumerate(keep)}
    for j, name in enumerate(names):
        k = position.get(j)
        if k is None or infinite[k]:
            rows.append({**common, "effect": "fixed", "term": name, "conf_level": spec.conf_level,
                         "statistic_type": "z"})
            continue
        b, s = float(fit.coef[k]), float(se[k])
        rows.append({**common, "effect": "fixed", "term": name, "estimate": b, "std_error": s,
                     "conf_low": b - z * s, "conf_high": b + z * s, "conf_level": spec.conf_level,
                     "hazard_ratio": math.exp(b), "hazard_ratio_conf_low": math.exp(b - z * s),
                     "hazard_ratio_conf_high": math.exp(b + z * s), "statistic": b / s, "statistic_type": "z",
                     "p_value": float(2 * distributions.norm_sf(abs(b / s)))})
    df = len(keep)   # the global tests' df: estimable coefficients (infinite ones included, as R)
    for key, value in (("lr", fit.lr_test), ("wald", fit.wald_test), ("score", fit.score_test)):
        rows.append({**common, "effect": "joint", "statistic": float(value), "statistic_type": "chi2", "df": df,
                     "p_value": float(distributions.chi2_sf(value, df)), "method": METHOD_NAMES[key]})
    # concordance of the linear predictor x'β with the survival order (higher risk, earlier event);
    # ties of the linear predictor are judged relative to the size of its terms, not by exact == (BLAS rounding)
    scale = float(np.max(np.abs(xk - xk.mean(axis=0)) @ np.abs(fit.coef), initial=0.0))
    c = concordance(time, event, fit.linear_predictor, strata, scale=scale)
    rows.append({**common, "effect": "concordance", "estimate": nan_to_none(c["concordance"]),
                 "std_error": nan_to_none(c["std_error"]), "method": "Harrell's C, as R concordance()"})
    # cox.zph tests a covariate's columns together (R: terms = TRUE); covariates fully aliased are skipped
    kept_terms = [[position[j] for j in cols if j in position] for cols in terms]
    term_names = [cov for cov, cols in zip(spec.covariates, kept_terms) if cols]
    kept_terms = [cols for cols in kept_terms if cols]
    for transform in spec.ph_test:
        try:
            zph = cox_zph(time, event, xk, strata, fit, spec.ties, transform, kept_terms)
        except np.linalg.LinAlgError:
            issues.append(warn(ctx, "ph-test-singular", f"cox.zph ({transform}): singular information matrix; "
                               "no proportional-hazards test"))
            continue
        method = f"cox.zph, transform = {transform}"
        for name, stat, dof, p in zip(term_names, zph["chisq"], zph["df"], zph["p"]):
            rows.append({**common, "effect": "ph_test", "term": name, "statistic": float(stat),
                         "statistic_type": "chi2", "df": int(dof), "p_value": float(p), "method": method})
        rows.append({**common, "effect": "ph_test", "term": "GLOBAL", "statistic": zph["global_chisq"],
                     "statistic_type": "chi2", "df": int(zph["global_df"]), "p_value": zph["global_p"],
                     "method": method})
    columns = ["outcome", "effect", "term", "n", "n_events", "estimate", "std_error", "conf_low", "conf_high",
               "conf_level", "hazard_ratio", "hazard_ratio_conf_low", "hazard_ratio_conf_high", "statistic",
               "statistic_type", "df", "p_value", "method"]
    notes = [f"Cox model as R coxph(ties = '{spec.ties}')" + (" (R's default; lifelines CoxPHFitter is Efron "
             "only)" if spec.ties == "efron" else " (as statsmodels PHReg ties='breslow')")
             + "; estimate and CI on the log hazard-ratio scale, hazard_ratio = exp(estimate); Wald CI",
             "ph_test: R cox.zph (survival >= 3.0 score test; one test per covariate and GLOBAL), not lifelines' "
             "proportional_hazard_test (the pre-3.0 form)",
             "concordance: R concordance(fit) (timewt = 'n'), infinitesimal-jackknife standard error"]
    if coding:
        notes.append("treatment coding: " + "; ".join(coding))
    if spec.strata:
        notes.append("stratified by " + ", ".join(spec.strata) + " (separate baseline hazards)")
    # R's fit$loglik: c(at beta = 0, at the estimate); iterations as fit$iter
    glance = {"n": n, "n_events": n_events, "loglik_null": fit.loglik0, "loglik": fit.loglik,
              "iterations": fit.iterations, "concordance": nan_to_none(c["concordance"])}
    tidy = pd.DataFrame(rows, columns=columns).astype({c: "Int64" for c in ["n", "n_events", "df"]})
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=exclusions,
                          issues=issues, notes=notes, glance=glance)


def _infinite(fit, time, event, x, strata, ties) -> np.ndarray:
    """R coxph.fit's check: |U V| > eps and > toler.inf × |coef| at the last iterate.

    U V is the Newton step the fit would still take: when the log-likelihood has stopped
    changing but the step is still large relative to the coefficient, the coefficient is
    drifting to ±∞ (monotone likelihood). eps = 1e-9 and toler.inf = √eps, R's defaults.
    """
    from ketastats.stats.survival import cox_derivatives

    if fit.score is not None:   # the score at the last iterate, kept by cox_fit
        u = fit.score
    else:
        xc = x - x.mean(axis=0)
        s = np.zeros(len(time), dtype=int) if strata is None else strata
        _, u, _ = cox_derivatives(time, event.astype(float), xc, xc @ fit.coef, s, ties)
    step = np.abs(u @ fit.var)
    eps = 1e-9
    return (step > eps) & (step > math.sqrt(eps) * np.abs(fit.coef))
