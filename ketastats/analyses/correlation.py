"""Correlations of one or more ``x`` columns with one or more outcomes (Pearson, Spearman, partial).

R functions matched
-------------------
``cor.test(x, y, method = "pearson")`` and ``cor.test(x, y, method = "spearman")`` (exact AS 89
p-value without ties, t approximation with ties, as R); partial correlation given ``covariates``
by the ``ppcor::pcor.test`` conventions (residual correlation, df = n − 2 − k). Checked against
``tests/reference/correlation_ttest_group_proportions_regression/associations.json``
(``make_reference.R`` beside it).

Formulas
--------
See :mod:`ketastats.stats.correlation`: ``t = r √(df / (1 − r²))``; Fisher-z interval
``tanh(atanh(r) ± z / √(n − 3 − k))`` (``ci_method`` ``fisher_z``); Spearman: ``S`` statistic
and the Fisher-z interval with the Bonett–Wright variance ``(1 + ρ²/2) / (n − 3 − k)``
(``fisher_z_bonett_wright``; R's ``cor.test`` gives no interval for ρ).

Missing-data policy
-------------------
Complete cases *per pair*: for each (outcome, x) pair the rows with a missing outcome, x or
covariate are left out of that pair only, and listed in exclusions once per pair (reason
``missing-value``, the detail names the pair and the missing columns). Rows outside the
population or failing ``where`` are listed once.

Tidy columns
------------
outcome (the y column), term (the x column), method (``pearson`` / ``spearman``), covariates
(the partialled-out columns joined by ``+``, empty when none), n (complete pairs), estimate
(r or ρ), conf_low, conf_high, conf_level, ci_method, statistic, statistic_type (``t``, or ``S``
for Spearman without covariates, as R), df (empty for ``S``), p_value, alternative.

Known differences from R
------------------------
None in r, t, df, p and the Pearson interval. R has no interval for Spearman's ρ and no
``S`` test for partial Spearman correlations (ketastats uses t there, as ``ppcor``).

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdef"), "y": [1.0, 2, 3, 4, 5, None],
...                       "x": [2.0, 1, 4, 3, 5, 6]}, index=range(1, 7))
>>> spec = Spec(id="c", type="correlation", table="t", outcome="y", x="x")
>>> result = run(spec, AnalysisInput("c", "t", frame, "pid", ["pid"]))
>>> result.tidy[["term", "n", "estimate"]].values.tolist(), len(result.exclusions)
([['x', 5, 0.8]], 1)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BeforeValidator, Field

from ketastats.analyses.base import AnalysisInput, AnalysisSpec, exclusion_record, kernel_failure, select_rows
from ketastats.errors import Problem
from ketastats.language.fields import ConfLevel, Names, as_list, column_field
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras

Method = Literal["pearson", "spearman"]
# tidy column order (outcome, term, method identify a row; the rest are its numbers)
COLUMNS = ["outcome", "term", "method", "covariates", "n", "estimate", "conf_low", "conf_high", "conf_level",
           "ci_method", "statistic", "statistic_type", "df", "p_value", "alternative"]


class CorrelationExtras(Extras, total=False):
    """correlation's extras: the x columns and the covariates partialled out."""

    x: list[str]
    covariates: list[str]


class Spec(AnalysisSpec):
    """Pearson / Spearman (partial) correlation of each ``x`` with each ``outcome``."""

    type: Literal["correlation"]
    outcome: Names = column_field("numeric column(s) correlated with every x (the y of cor.test)")
    x: Names = column_field("numeric column(s), e.g. the six limbic volumes")
    covariates: Names = column_field("partial correlation: columns partialled out of both", default_factory=list)
    method: Annotated[list[Method], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[Method](["pearson"]),
        description="pearson | spearman (one or both; each gives its rows)")
    conf_level: ConfLevel = 0.95
    alternative: Literal["two.sided", "less", "greater"] = "two.sided"

    def check_columns(self, columns) -> list[Problem]:
        """A problem for each outcome, x or covariate whose dictionary type is not numeric."""
        problems = []
        for key in ("outcome", "x", "covariates"):
            for i, name in enumerate(getattr(self, key)):
                if name in columns and columns[name].type not in ("integer", "number"):
                    problems.append(Problem(f"{key}[{i}]", f"column '{name}' is {columns[name].type}; "
                                            "correlations need numeric columns"))
        return problems

    def planned_rows(self, columns) -> list[dict[str, Any]]:
        """The identifying cells of every tidy row (for multiplicity members, checked before running).

        >>> spec = Spec(id="c", type="correlation", table="t", outcome="y", x=["a", "b"],
        ...             method=["pearson", "spearman"])
        >>> [(r["term"], r["method"]) for r in spec.planned_rows({})]
        [('a', 'pearson'), ('a', 'spearman'), ('b', 'pearson'), ('b', 'spearman')]
        """
        return [{"outcome": y, "term": x, "method": m} for y in self.outcome for x in self.x for m in self.method]


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Correlation test of every (outcome, x) pair by every requested method, with its interval.

    R: ``cor.test(x, y, method = "pearson" | "spearman", alternative, conf.level)`` per pair;
    with ``covariates``, ``ppcor::pcor.test(x, y, z, method)`` (correlation of the residuals of x
    and y on the covariates, df = n − 2 − k). Complete cases per pair: a row missing the
    outcome, x or a covariate is excluded from that pair only (reason ``missing-value``, listed
    once per pair); population / ``where`` exclusions are listed once.

    Tidy columns: outcome, term (the x), method, covariates, n, estimate, conf_low, conf_high,
    conf_level (empty when there is no interval), ci_method, statistic, statistic_type (``t`` /
    ``S``), df, p_value, alternative. Rows run outcome by outcome, x by x, method by method, the
    order of :meth:`Spec.planned_rows`. A pair with fewer values than the test needs, or a
    constant column, fails the analysis (:func:`kernel_failure`).
    """
    from ketastats.stats.correlation import correlation_test

    base, exclusions = select_rows(ctx, [])
    excluded = [exclusions]
    rows = []
    covariates = "+".join(spec.covariates) if spec.covariates else None
    for y in spec.outcome:
        for x in spec.x:
            # complete cases of this pair only (R: cor.test on na.omit(cbind(x, y, z)))
            needed = list(dict.fromkeys([y, x, *spec.covariates]))
            missing = base[needed].isna()
            incomplete = missing.any(axis=1)
            records = [exclusion_record(ctx, row, "missing-value",
                               f"{', '.join(c for c in needed if missing.at[row, c])} missing (pair {x} ~ {y})")
                       for row in base.index[incomplete]]
            excluded.append(pd.DataFrame(records, columns=EXCLUSION_COLUMNS))
            data = base.loc[~incomplete, needed].astype(float)
            for method in spec.method:
                try:
                    res = correlation_test(data[x].to_numpy(), data[y].to_numpy(), method,
                                           data[spec.covariates].to_numpy() if spec.covariates else None,
                                           spec.conf_level, spec.alternative)
                except (ValueError, ZeroDivisionError) as exc:
                    raise kernel_failure(exc, f"{y} with {x} ({method})", spec.id) from None
                # conf_level is only stated where an interval was computed (none when n <= 3 + k)
                rows.append({"outcome": y, "term": x, "method": method, "covariates": covariates, "n": res.n,
                             "estimate": res.estimate, "conf_low": res.conf_low, "conf_high": res.conf_high,
                             "conf_level": spec.conf_level if res.conf_low is not None else None,
                             "ci_method": res.ci_method, "statistic": res.statistic,
                             "statistic_type": res.statistic_type, "df": res.df, "p_value": res.p_value,
                             "alternative": spec.alternative})
    notes = []
    if "pearson" in spec.method:
        notes.append("pearson: as R cor.test; interval tanh(atanh(r) ± z/√(n − 3" + (" − k" if covariates else "")
                     + "))")
    if "spearman" in spec.method:
        notes.append("spearman: as R cor.test (S statistic, exact AS 89 p-value without ties, t approximation "
                     "with ties); interval Fisher z with the Bonett–Wright variance (R gives none)")
    if covariates:
        notes.append(f"partial correlation given {', '.join(spec.covariates)} (ppcor::pcor.test conventions: "
                     "residual correlation, df = n − 2 − k)")
    notes.append("complete cases per pair: a row missing x, the outcome or a covariate is excluded from that pair")
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=COLUMNS),
                          exclusions=pd.concat(excluded, ignore_index=True), notes=notes,
                          extras=CorrelationExtras(labels={c: ctx.label(c) for c in [*spec.outcome, *spec.x]},
                                                   outcomes=list(spec.outcome), by=[], x=list(spec.x),
                                                   covariates=list(spec.covariates)))
