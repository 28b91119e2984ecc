"""Ordinary least squares and logistic regression with a safe formula.

R functions matched
-------------------
``lm(formula)`` with ``confint.lm`` (``family: gaussian``); ``glm(formula, family = binomial)``
with Wald intervals (``confint.default``), profile-likelihood intervals (``confint(fit)`` —
``MASS:::confint.glm`` in R ≤ 4.3, reproduced step by step) and likelihood-ratio tests
(``drop1(fit, test = "LRT")``) (``family: binomial``). Checked against
``tests/reference/correlation_ttest_group_proportions_regression/associations.json``.
Kernels: :mod:`ketastats.stats.glm`.

Formula
-------
``formula`` uses the plan's formula grammar (:mod:`ketastats.language.formulas`: column names,
``+ - * :``, ``1`` / ``0``; no function calls, nothing evaluated). Boolean predictors enter as
``name[T.True]`` (false is the reference), category predictors by treatment coding with the
first level (or ``reference:``) as reference, terms named as patsy names them (``Intercept``,
``dose``, ``sex[T.male]``, ``a:b``). A binomial outcome must be boolean (true = event).

Formulas
--------
Gaussian: estimate ± t_{n−p} × SE (ci_method ``wald``). Binomial: z = estimate / SE,
p = 2Φ(−|z|), ``wald`` = estimate ± z × SE; ``profile`` = MASS's interpolated profile-likelihood
interval; odds ratios are exp(estimate) and exp(bounds). The likelihood-ratio test of a
coefficient's model term compares the deviance without that term (all its columns).

Missing-data policy
-------------------
Complete cases: rows with a missing outcome or predictor are excluded and listed (R's
``na.omit``).

Tidy columns
------------
outcome, term, method (``ols`` / ``logistic``), ci_method, n, estimate, std_error, statistic,
statistic_type (``t`` / ``z``), df (residual df for ``t``; empty for ``z``), p_value, conf_low,
conf_high, conf_level, odds_ratio, odds_ratio_conf_low, odds_ratio_conf_high (binomial),
lrt_statistic, lrt_df, lrt_p_value (binomial; empty on the intercept). The glance holds n,
df_residual, deviance, log_lik, aic, sigma (gaussian) and the whole-model likelihood-ratio test.

Known differences from R
------------------------
None in the numbers: the logistic fit reproduces R's IRLS iterations and stopping rule, and the
profile interval MASS's grid and spline. A fit with (quasi-)complete separation fails with that
reason, where R warns and returns huge estimates.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdefgh"), "dose": [1.0, 2, 3, 4, 5, 6, 7, 8],
...     "ae": pd.array([False, False, True, False, True, False, True, True], dtype="boolean")}, index=range(1, 9))
>>> spec = Spec(id="r", type="regression", table="t", formula="ae ~ dose", family="binomial")
>>> res = run(spec, AnalysisInput("r", "t", frame, "pid", ["pid"]))
>>> [round(v, 6) for v in res.tidy["estimate"]]
[-2.67338, 0.594084]
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses.base import AnalysisInput, AnalysisSpec, reference_level_problems, select_rows
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import ConfLevel, Scalar, as_list
from ketastats.language.formulas import FormulaError, design_matrices, parse_formula
from ketastats.results import AnalysisResult

CiMethod = Literal["wald", "profile"]
# tidy column order; the odds-ratio and lrt_* columns stay empty for family gaussian
COLUMNS = ["outcome", "term", "method", "ci_method", "n", "estimate", "std_error", "statistic", "statistic_type", "df",
           "p_value", "conf_low", "conf_high", "conf_level", "odds_ratio", "odds_ratio_conf_low",
           "odds_ratio_conf_high", "lrt_statistic", "lrt_df", "lrt_p_value"]


class Spec(AnalysisSpec):
    """Linear (OLS) or logistic regression from a safe formula."""

    type: Literal["regression"]
    formula: str = Field(description="model formula, e.g. \"nausea ~ ketamine_ng_ml\"")
    family: Literal["gaussian", "binomial"] = Field("gaussian", description="gaussian (OLS) | binomial (logistic)")
    ci: Annotated[list[CiMethod], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[CiMethod](["wald"]),
        description="wald and / or profile (binomial only); each gives its rows")
    reference: dict[str, Scalar] = Field(default_factory=dict, description="factor → reference level")
    conf_level: ConfLevel = 0.95

    @model_validator(mode="after")
    def _check(self) -> "Spec":
        """The formula parses (safe grammar, nothing evaluated); profile intervals only for binomial."""
        try:
            parse_formula(self.formula)
        except FormulaError as exc:
            raise ValueError(f"{exc.message} ({exc.code})") from None
        if "profile" in self.ci and self.family != "binomial":
            raise ValueError("profile-likelihood intervals are for family: binomial (an OLS interval is exact)")
        return self

    @property
    def outcome(self) -> list[str]:
        """The response of the formula (for row accounting and labels)."""
        response = parse_formula(self.formula).response
        assert response is not None   # parse_formula requires one
        return [response]

    def column_references(self) -> list[tuple[str, str]]:
        """Every column named in the formula and in ``reference`` (checked against the dictionary)."""
        refs = [("formula", name) for name in parse_formula(self.formula).names]
        return refs + [(f"reference.{name}", name) for name in self.reference]

    def check_columns(self, columns) -> list[Problem]:
        """Outcome type fits the family (boolean for binomial, numeric for gaussian); no text / date
        predictors (a free-text column would become one dummy per distinct value); reference levels exist."""
        formula = parse_formula(self.formula)
        problems = []
        response = columns.get(formula.response)
        if response is not None:
            wanted = ("boolean",) if self.family == "binomial" else ("integer", "number")
            if response.type not in wanted:
                problems.append(Problem("formula", f"the outcome '{formula.response}' is {response.type}; family "
                                            f"{self.family} needs {' or '.join(wanted)}"))
        for name in formula.names[1:]:
            spec = columns.get(name)
            if spec is not None and spec.type in ("string", "date"):
                problems.append(Problem("formula", f"predictor '{name}' is {spec.type}; use a numeric, boolean or "
                                            "category column"))
        problems += reference_level_problems(self.reference, columns)
        return problems

    def planned_rows(self, columns) -> list[dict[str, Any]] | None:
        """Coefficient names from the formula and the dictionary levels (patsy's naming).

        None when a predictor is not in the dictionary (the names are then known only after the
        fit). The names assume every declared level occurs in the analysed rows: the fit codes
        observed levels only, so a declared but absent level has a planned row the run will not
        produce.
        """
        formula = parse_formula(self.formula)
        names: dict[str, list[str]] = {}
        for name in formula.names[1:]:
            spec = columns.get(name)
            if spec is None:
                return None
            if spec.type == "boolean":
                names[name] = [f"{name}[T.True]"] if str(self.reference.get(name, False)).lower() != "true" \
                    else [f"{name}[T.False]"]
            elif spec.levels is not None:
                reference = str(self.reference.get(name, spec.levels[0]))
                names[name] = [f"{name}[T.{lvl}]" for lvl in spec.levels if lvl != reference]
            else:
                names[name] = [name]
        terms = ["Intercept"] if formula.intercept else []
        for term in sorted(formula.terms, key=len):  # patsy orders terms by degree (stable)
            parts: list[list[str]] = [[]]
            for name in term:
                parts = [p + [n] for p in parts for n in names[name]]
            terms += [":".join(p) for p in parts]
        return [{"term": t, "ci_method": c} for t in terms for c in self.ci]


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Coefficient table of an OLS (``lm``) or logistic (``glm(family = binomial)``) fit.

    R: ``fit <- lm(formula)`` with ``summary(fit)$coefficients`` and ``confint(fit)``, or ``fit <-
    glm(formula, family = binomial)`` with ``summary(fit)$coefficients`` (z tests),
    ``confint.default(fit)`` (``wald``), ``confint(fit)`` (``profile``, MASS's method) and
    ``drop1(fit, test = "LRT")`` (the ``lrt_*`` columns, one test per model term, repeated on
    each of the term's coefficient rows). Complete cases over every formula column.

    Tidy columns: see the module docstring; one row per ci method × coefficient, in patsy's
    coefficient order (:meth:`Spec.planned_rows`). ``glance``: n, df_residual, log_lik, aic
    (R's ``AIC``: σ counts as a parameter for OLS), deviance, sigma (OLS) and the likelihood-ratio
    test against the intercept-only model (binomial). Raises ``zero-variance`` (constant OLS
    outcome) and ``model-not-estimable`` (rank deficiency, separation).
    """
    from ketastats.stats import glm

    formula = parse_formula(spec.formula)
    assert formula.response is not None   # parse_formula requires one
    response = formula.response
    data, exclusions = select_rows(ctx, formula.names)
    data = _prepare(data, formula, spec.reference, ctx)
    design = design_matrices(formula, data)
    X = design.to_numpy(dtype=float)
    names = list(design.columns)
    y = data[response].astype(float).to_numpy()
    location = Location(path=f"analyses[{spec.id}]")
    # R's lm would return a "perfect fit" with t = ±Inf or NaN; a constant outcome is a data problem to report
    if spec.family == "gaussian" and len(y) > 0 and np.ptp(y) == 0:  # a perfect fit: t and p would be noise
        raise AnalysisError(Issue("zero-variance", f"the outcome '{response}' has no variance in the {len(y)} "
                                  "analysed rows", location,
                                  hint="Check the population and filters: the analysed values do not vary"))
    try:
        fit = glm.logistic(X, y) if spec.family == "binomial" else glm.ols(X, y)
    except ValueError as exc:
        raise AnalysisError(Issue("model-not-estimable", str(exc), location)) from None
    # coefficient name → (LR statistic, df, p) of dropping its whole model term (all its dummy columns)
    lrt: dict[str, tuple[float, int, float]] = {}
    if spec.family == "binomial":
        info = design.design_info
        for term in info.terms:
            name = term.name()
            if name == "Intercept":
                continue
            columns = list(range(info.slice(term).start, info.slice(term).stop))
            result = glm.likelihood_ratio(X, y, fit, columns)
            for index in columns:
                lrt[names[index]] = result
    rows = []
    # summary.glm reports z (dispersion fixed at 1); summary.lm reports t on the residual df
    z_or_t = "z" if spec.family == "binomial" else "t"
    for method in spec.ci:
        for index, name in enumerate(names):
            estimate, se = float(fit.coef[index]), float(fit.std_error[index])
            if method == "profile":
                low, high = glm.profile_interval_mass(X, y, fit, index, spec.conf_level)
            else:
                low, high = _wald(estimate, se, fit, spec.conf_level)
            row = {"outcome": response, "term": name, "method": "logistic" if spec.family == "binomial" else "ols",
                   "ci_method": method, "n": fit.n, "estimate": estimate, "std_error": se,
                   "statistic": float(fit.statistic[index]), "statistic_type": z_or_t,
                   "df": fit.df_residual if spec.family == "gaussian" else None,
                   "p_value": float(fit.p_value[index]), "conf_low": low, "conf_high": high,
                   "conf_level": spec.conf_level}
            if spec.family == "binomial":
                row.update({"odds_ratio": math.exp(estimate), "odds_ratio_conf_low": _exp(low),
                            "odds_ratio_conf_high": _exp(high)})
                if name in lrt:
                    row.update({"lrt_statistic": lrt[name][0], "lrt_df": lrt[name][1], "lrt_p_value": lrt[name][2]})
            rows.append(row)
    # AIC as R's AIC(fit): −2 logLik + 2k, k = coefficients (+ 1 for σ with OLS)
    glance: dict[str, Any] = {"n": fit.n, "df_residual": fit.df_residual, "log_lik": fit.log_lik,
                              "aic": -2 * fit.log_lik + 2 * (X.shape[1] + (spec.family == "gaussian"))}
    notes = []
    if spec.family == "binomial":
        # whole-model LR test against the intercept-only model (R: anova(null, fit, test = "Chisq"))
        null = glm.likelihood_ratio(X, y, fit, [i for i, n in enumerate(names) if n != "Intercept"]) \
            if len(names) > 1 else None
        glance.update({"deviance": fit.deviance})
        if null is not None:
            glance.update({"lrt_statistic": null[0], "lrt_df": null[1], "lrt_p_value": null[2]})
        notes.append("logistic regression (R glm binomial): z tests; odds ratio = exp(estimate)")
        notes.append("lrt_*: likelihood-ratio test of the coefficient's model term (R drop1(test = \"LRT\"))")
    else:
        glance.update({"deviance": fit.deviance, "sigma": fit.sigma})
        notes.append("ordinary least squares (R lm): t tests on the residual df")
    for method in spec.ci:
        notes.append({"wald": "wald: estimate ± quantile × SE (R confint.default; confint.lm for OLS)",
                      "profile": "profile: profile-likelihood interval as R confint(glm) (MASS profile.glm with "
                                 "spline interpolation)"}[method])
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=COLUMNS), glance=glance,
                          exclusions=exclusions, notes=notes,
                          extras={"labels": {n: ctx.label(n) for n in formula.names},
                                  "outcomes": [formula.response], "by": []})


def _wald(estimate: float, se: float, fit, conf_level: float) -> tuple[float, float]:
    """estimate ± q × se with q from t on the residual df (OLS, ``confint.lm``) or the normal
    (GLM, ``confint.default``)."""
    from ketastats.stats import distributions

    q = float(distributions.t_ppf((1 + conf_level) / 2, fit.df_residual)) if fit.family == "gaussian" \
        else float(distributions.norm_ppf((1 + conf_level) / 2))
    return estimate - q * se, estimate + q * se


def _exp(value: float) -> float:
    """exp() of a log-odds bound for the odds-ratio columns; None / NaN give NaN, infinite bounds
    are returned as they are.

    >>> _exp(0.0), _exp(None)
    (1.0, nan)
    """
    return math.exp(value) if value is not None and math.isfinite(value) else (math.nan if value is None
                                                                               or math.isnan(value) else value)


def _prepare(data: pd.DataFrame, formula, reference: dict, ctx: AnalysisInput) -> pd.DataFrame:
    """Booleans and categories become Categoricals with the reference level first; the boolean outcome 0/1.

    Default reference: false for booleans, the first observed category level, or the first text
    value in text order (R's ``factor`` default); ``reference`` overrides it (matched as text,
    case-insensitively, so ``True`` matches ``true``). Numeric predictors become floats.
    """
    data = data.copy()
    response = formula.response
    if str(data[response].dtype) in ("boolean", "bool"):
        data[response] = data[response].astype(bool).astype(float)
    for name in formula.names:
        if name == response:
            continue
        column = data[name]
        if str(column.dtype) in ("boolean", "bool"):
            levels = [False, True]
            data[name] = pd.Categorical(column.astype(bool), categories=levels)
        elif isinstance(column.dtype, (pd.CategoricalDtype, pd.StringDtype)) or column.dtype == object:
            # (pd.StringDtype: pandas 3's default str dtype of text columns)
            levels = [lvl for lvl in column.cat.categories if (column == lvl).any()] \
                if isinstance(column.dtype, pd.CategoricalDtype) else sorted(column.dropna().astype(str).unique())
            data[name] = pd.Categorical(column.astype(object), categories=levels)
        else:
            data[name] = column.astype(float)
            continue
        if name in reference:
            match = [lvl for lvl in data[name].cat.categories if str(lvl).lower() == str(reference[name]).lower()]
            if not match:
                raise AnalysisError(Issue("reference-level-absent", f"reference level '{reference[name]}' of '{name}' "
                                          "does not occur in the analysed rows", Location(column=name)))
            data[name] = data[name].cat.reorder_categories(match + [c for c in data[name].cat.categories
                                                                     if c != match[0]])
    return data
