"""Two-group comparison of boolean outcomes: odds ratio with Fisher's exact test, risk difference
with the chi-square test, and (when declared) the risk ratio.

R functions matched
-------------------
``fisher.test(table)`` (conditional maximum-likelihood odds ratio, exact conditional interval,
two-sided p summing tables no more likely than the observed one) and ``chisq.test(table,
correct = TRUE)`` (Yates' continuity correction by default; ``correct: false`` for the plain
Pearson X²). The risk-difference interval is Newcombe's hybrid score interval (method 10, from
two Wilson intervals) or the Wald interval, computed by hand in base R in the reference script
(``tests/reference/correlation_ttest_group_proportions_regression/``). Formulas: :mod:`ketastats.stats.contingency`.
The risk ratio (``risk_ratio_ci: [katz, koopman]``, none by default) has Katz's log interval
(``DescTools::BinomRatioCI(method = "katz.log")``, 0.5 added to a zero count) or Koopman's score
interval (``PropCIs::riskscoreci``, the exact roots of the score equation); zero cells as
:mod:`ketastats.stats.risk_ratio` states (0 / 0: estimate missing, interval [0, ∞); p₂ = 0: estimate
and upper limit ∞). References: ``tests/reference/risk_ratio/``.

Table orientation: rows are the two levels of ``group`` in the order of ``levels`` (default: the
two observed levels in dictionary order; booleans false before true), columns are outcome true /
false. So ``risk difference = p₁ − p₂``, ``odds ratio = odds₁ / odds₂`` and ``risk ratio = p₁ / p₂``.

Missing-data policy
-------------------
Rows outside the population / ``where``, with a missing group, or at a level not compared
(``other-level``) are listed once; rows with a missing outcome are listed per outcome.

Tidy columns
------------
outcome, term (``odds_ratio``, ``risk_difference`` or ``risk_ratio``), contrast (``"true - false"``), count1, n1,
estimate1, count2, n2, estimate2 (the two proportions), n (= n1 + n2), estimate, conf_low,
conf_high, conf_level, ci_method (``conditional_exact`` for the odds ratio; ``newcombe`` /
``wald`` for the risk difference; ``katz`` / ``koopman`` for the risk ratio), method
(``fisher_exact`` on the odds-ratio row; ``chi_square_yates`` or ``chi_square`` on risk-difference
rows; empty on risk-ratio rows, which carry no test of their own), statistic (X²), statistic_type
(``chi2``), df, p_value.

Known differences from R
------------------------
None: the odds ratio and its limits reproduce R's ``uniroot`` iterations (R's default tolerance
of 1.2e-4 included). The sample odds ratio ad/bc is not reported.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdefgh"), "g": list("aaaabbbb"),
...     "y": pd.array([True, True, True, False, True, False, False, False], dtype="boolean")}, index=range(1, 9))
>>> spec = Spec(id="g", type="group_proportions", table="t", outcome="y", group="g")
>>> run(spec, AnalysisInput("g", "t", frame, "pid", ["pid"])).tidy[["term", "estimate"]].round(6).values.tolist()
[['odds_ratio', 6.408309], ['risk_difference', 0.5]]
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BeforeValidator, Field

from ketastats.analyses._levels import drop_other_levels, level_text, two_levels
from ketastats.analyses.base import AnalysisInput, AnalysisSpec, missing_exclusions, select_rows
from ketastats.errors import Problem
from ketastats.language.fields import ConfLevel, Names, Scalar, as_list, column_field
from ketastats.results import AnalysisResult, Extras

RdMethod = Literal["newcombe", "wald"]
RrMethod = Literal["katz", "koopman"]
# per outcome: one odds-ratio row, one risk-difference row per interval method, one risk-ratio row per method
COLUMNS = ["outcome", "term", "contrast", "count1", "n1", "estimate1", "count2", "n2", "estimate2", "n", "estimate",
           "conf_low", "conf_high", "conf_level", "ci_method", "method", "statistic", "statistic_type", "df",
           "p_value"]


class Spec(AnalysisSpec):
    """Odds ratio (Fisher) and risk difference (chi-square) of boolean outcomes between two groups."""

    type: Literal["group_proportions"]
    outcome: Names = column_field("boolean outcome column(s)")
    group: str = column_field("the column defining the two groups")
    levels: list[Scalar] | None = Field(None, min_length=2, max_length=2,
                                        description="[first, second]: differences and ratios are first vs second")
    ci: Annotated[list[RdMethod], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[RdMethod](["newcombe"]),
        description="risk-difference interval(s): newcombe | wald")
    risk_ratio_ci: Annotated[list[RrMethod], BeforeValidator(as_list)] = Field(
        default_factory=list, description="risk-ratio interval(s): katz | koopman (default: no risk-ratio rows)")
    correct: bool = Field(True, description="Yates' continuity correction of the chi-square test (R's default)")
    conf_level: ConfLevel = 0.95

    def check_columns(self, columns) -> list[Problem]:
        """A problem for each outcome that is not boolean."""
        return [Problem(f"outcome[{i}]",
                        f"column '{name}' is {columns[name].type}; group_proportions need a boolean column")
                for i, name in enumerate(self.outcome) if name in columns and columns[name].type != "boolean"]

    def planned_rows(self, columns) -> list[dict[str, Any]]:
        """The identifying cells of every tidy row, in run order (for multiplicity members).

        >>> spec = Spec(id="g", type="group_proportions", table="t", outcome="resp", group="arm",
        ...             ci=["newcombe", "wald"], risk_ratio_ci="koopman")
        >>> [(r["term"], r["ci_method"]) for r in spec.planned_rows({})]   # doctest: +NORMALIZE_WHITESPACE
        [('odds_ratio', 'conditional_exact'), ('risk_difference', 'newcombe'), ('risk_difference', 'wald'),
         ('risk_ratio', 'koopman')]
        """
        rows = []
        for outcome in self.outcome:
            rows.append({"outcome": outcome, "term": "odds_ratio", "ci_method": "conditional_exact"})
            rows += [{"outcome": outcome, "term": "risk_difference", "ci_method": m} for m in self.ci]
            rows += [{"outcome": outcome, "term": "risk_ratio", "ci_method": m} for m in self.risk_ratio_ci]
        return rows


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Odds ratio (Fisher's exact test) and risk difference (chi-square test) of each outcome.

    Per outcome, the 2 × 2 table (rows: first, second level of ``group``; columns: outcome true,
    false) gives one ``odds_ratio`` row as R's ``fisher.test(table, conf.level)`` (conditional
    MLE, exact interval and p), one ``risk_difference`` row per interval method with the
    p-value of ``chisq.test(table, correct)`` and one ``risk_ratio`` row per ``risk_ratio_ci``
    method (Katz / Koopman interval, no test). Rows outside the population / ``where`` or with a
    missing group are excluded once, rows at another level of ``group`` as ``other-level``, rows
    missing an outcome per outcome. Tidy columns: see the module docstring (outcome, term,
    contrast, count1, n1, estimate1, count2, n2, estimate2, n, estimate, conf_low, conf_high,
    ...). An expected count below 5 adds a note, as R's warning does.
    """
    from ketastats.stats.contingency import chi_square, fisher_exact, risk_difference
    from ketastats.stats.risk_ratio import risk_ratio

    base, exclusions = select_rows(ctx, [spec.group])
    excluded = [exclusions]
    levels = two_levels(base, spec.group, spec.levels, ctx)
    # rows at a third level of the group column are listed (other-level), not counted in either row
    base, other_levels = drop_other_levels(base, spec.group, levels, ctx)
    excluded.append(other_levels)
    contrast = f"{level_text(levels[0])} - {level_text(levels[1])}"
    rows, notes = [], []
    chi_method = "chi_square_yates" if spec.correct else "chi_square"
    for outcome in spec.outcome:
        excluded.append(missing_exclusions(ctx, base, outcome))
        counts = []
        for level in levels:
            values = base.loc[base[spec.group] == level, outcome].dropna().astype(bool)
            counts.append((int(values.sum()), int(len(values))))
        (x1, n1), (x2, n2) = counts
        # the 2 x 2 table [[a, b], [c, d]]: rows first / second level, columns outcome true / false
        a, b, c, d = x1, n1 - x1, x2, n2 - x2
        common = {"outcome": outcome, "contrast": contrast, "count1": x1, "n1": n1,
                  "estimate1": x1 / n1 if n1 else None,
                  "count2": x2, "n2": n2, "estimate2": x2 / n2 if n2 else None, "n": n1 + n2,
                  "conf_level": spec.conf_level}
        # Fisher: conditional MLE of the odds ratio (not ad/bc); 0 or Inf when a cell is 0, as in R
        fisher = fisher_exact(a, b, c, d, spec.conf_level)
        rows.append({**common, "term": "odds_ratio", "estimate": fisher.estimate, "conf_low": fisher.conf_low,
                     "conf_high": fisher.conf_high, "ci_method": "conditional_exact", "method": "fisher_exact",
                     "p_value": fisher.p_value})
        # one chi-square test per outcome, repeated on each risk-difference row (one per interval method)
        chi = chi_square(a, b, c, d, spec.correct)
        if chi.small_expected:
            notes.append(f"{outcome}: an expected count is below 5; the chi-square approximation may be "
                         "inaccurate (R warns likewise); prefer Fisher's exact test")
        for method in spec.ci:
            estimate, low, high = risk_difference(x1, n1, x2, n2, method, spec.conf_level)
            rows.append({**common, "term": "risk_difference", "estimate": estimate, "conf_low": low,
                         "conf_high": high, "ci_method": method, "method": chi_method, "statistic": chi.statistic,
                         "statistic_type": "chi2", "df": chi.df, "p_value": chi.p_value})
        for rr_method in spec.risk_ratio_ci:
            if n1 == 0 or n2 == 0:   # an empty group: no ratio (two_levels keeps only observed levels)
                rows.append({**common, "term": "risk_ratio", "ci_method": rr_method})
                continue
            estimate, low, high = risk_ratio(x1, n1, x2, n2, rr_method, spec.conf_level)
            rows.append({**common, "term": "risk_ratio", "estimate": None if estimate != estimate else estimate,
                         "conf_low": low, "conf_high": high, "ci_method": rr_method})
        if spec.risk_ratio_ci and (x1 == 0 or x2 == 0 or (x1 == n1 and x2 == n2)):
            notes.append(f"{outcome}: risk ratio with a zero cell ({x1}/{n1} vs {x2}/{n2}): "
                         + ("0 / 0 is undefined, the interval is [0, ∞)" if x1 == x2 == 0 else
                            "estimate 0, lower limit 0" if x1 == 0 else "estimate and upper limit ∞" if x2 == 0
                            else "both risks are 1")
                         + ("; Katz adds 0.5 to the zero count (DescTools katz.log)" if "katz" in spec.risk_ratio_ci
                            and not x1 == x2 == 0 else ""))
    notes.insert(0, "odds ratio: conditional maximum-likelihood estimate, exact interval and p-value as R fisher.test")
    notes.insert(1, "risk difference: p1 − p2; p-value from R chisq.test" + (" (Yates' correction)" if spec.correct
                                                                            else " (no continuity correction)"))
    for method in spec.ci:
        notes.append({"newcombe": "newcombe: hybrid score interval from the two Wilson intervals (Newcombe 1998, "
                                  "method 10)",
                      "wald": "wald: p1 − p2 ± z·SE (unpooled), not truncated"}[method])
    for rr_method in spec.risk_ratio_ci:
        notes.append({"katz": "katz: risk ratio p1 / p2 with exp(log RR ± z·SE), SE² = 1/x1 − 1/n1 + 1/x2 − 1/n2 "
                              "(Katz 1978; DescTools BinomRatioCI katz.log)",
                      "koopman": "koopman: score interval of the risk ratio (Koopman 1984; PropCIs riskscoreci), "
                                 "limits solved exactly"}[rr_method])
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=COLUMNS),
                          exclusions=pd.concat(excluded, ignore_index=True), notes=notes,
                          extras=Extras(labels={o: ctx.label(o) for o in spec.outcome}, outcomes=list(spec.outcome),
                                        by=[spec.group]))
