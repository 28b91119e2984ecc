"""Log-rank test comparing survival between groups, optionally stratified.

Matches R ``survival::survdiff(Surv(time, event) ~ group [+ strata(s)])`` with ``rho = 0``
(survival 3.5-3). Kernel: :func:`ketastats.stats.survival.logrank_test`; references in
``tests/reference/survival/``.

Formulas
--------
Within each stratum and distinct event time, with :math:`n` at risk, :math:`d` events and
:math:`n_g` at risk in group :math:`g`: :math:`O_g = \\sum d_g`, :math:`E_g = \\sum d\\, n_g/n`,
:math:`V_{gh} = \\sum d(n-d)/(n-1)\\cdot n_g/n\\,(\\delta_{gh} - n_h/n)`, all summed over
strata. :math:`\\chi^2 = (O-E)^\\top V^{-} (O-E)` over the groups with :math:`E > 0` (first one
dropped); df = those groups − 1. Stratification compares groups within strata only.

Missing data
------------
Rows with a missing time, event, ``by`` or ``strata`` value are excluded (``missing-value``);
invalid times / events as ``invalid-value`` (see :mod:`ketastats.analyses.kaplan_meier`).

Tidy columns
------------
outcome (the time column), one column per ``by`` variable, effect (``group`` rows: n,
n_events = observed, expected; one ``test`` row: statistic, statistic_type ``chi2``, df,
p_value, method), n, n_events, expected, statistic, statistic_type, df, p_value, method.

Edge cases (warnings): fewer than two groups, no events at all (no test), a group whose
expected count is 0 (left out of the test, as R).

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdef"), "time": [1.0, 2, 3, 4, 5, 6], "arm": list("aaabbb"),
...                       "event": pd.array([True] * 6, dtype="boolean")}, index=range(1, 7))
>>> spec = Spec(id="lr", type="logrank", table="t", by="arm")
>>> round(float(run(spec, AnalysisInput("lr", "t", frame, "pid", ["pid"])).tidy["statistic"].iloc[-1]), 4)
5.0517
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from ketastats.analyses._survival import SurvivalSpec, group_codes, group_label, nan_to_none, survival_rows, warn
from ketastats.analyses.base import AnalysisInput, plain
from ketastats.language.fields import Names, column_field
from ketastats.results import AnalysisResult


class Spec(SurvivalSpec):
    """Log-rank (survdiff) test of the groups in ``by``, optionally within ``strata``."""

    type: Literal["logrank"]
    by: Names = column_field("the groups compared, e.g. [arm]")
    strata: Names = column_field("stratification columns, e.g. [sex]", default_factory=list)


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Log-rank test of the ``by`` groups: observed and expected events per group, and the χ² test.

    R: ``survdiff(Surv(time, event) ~ by [+ strata(strata)])`` (rho = 0): ``$n``, ``$obs``,
    ``$exp`` per group and ``$chisq`` with df = groups with expected > 0, minus 1; the p-value
    is ``pchisq(chisq, df, lower.tail = FALSE)``. With ``strata`` the observed, expected and
    variance are summed over strata (groups compared within strata only); the expected counts
    are then summed over strata too, as R's ``$exp``.

    Tidy columns: outcome, one column per ``by`` variable, effect (``group`` rows, then one
    ``test`` row), n, n_events (observed), expected, statistic, statistic_type (``chi2``), df,
    p_value, method. ``glance`` repeats the test with n and n_events. Without a test (one group,
    no events) the test row is empty and a warning says why.
    """
    from ketastats.stats.survival import logrank_test

    if not spec.by:
        raise ValueError("logrank needs 'by': the groups to compare")
    base, exclusions, time, event = survival_rows(ctx, spec, [*spec.by, *spec.strata])
    group, levels = group_codes(base, spec.by)
    strata, strata_levels = group_codes(base, spec.strata) if spec.strata else (None, [()])
    issues = []
    result = logrank_test(time, event, group, strata)
    rows = []
    for code, level in enumerate(levels):
        rows.append({"outcome": spec.time, **{c: plain(v) for c, v in zip(spec.by, level)}, "effect": "group",
                     "n": int(result.n[code]), "n_events": int(result.observed[code]),
                     "expected": float(result.expected[code])})
        if result.expected[code] == 0 and event.sum() > 0:
            issues.append(warn(ctx, "no-expected-events", f"{group_label(spec.by, level)}: no subject at risk at "
                               "any event time; the group is left out of the test (as R survdiff)"))
    method = "log-rank" if not spec.strata else f"stratified log-rank ({', '.join(spec.strata)}; " \
        f"{len(strata_levels)} strata)"
    if len(levels) < 2:
        issues.append(warn(ctx, "single-group", "fewer than two groups: no log-rank test"))
    if event.sum() == 0:
        issues.append(warn(ctx, "no-events", "no events: the log-rank test is not defined"))
    # df counts the groups with expected > 0, minus 1: 0 when at most one group has subjects at risk
    testable = len(levels) >= 2 and result.df >= 1
    rows.append({"outcome": spec.time, "effect": "test", "statistic": result.statistic if testable else None,
                 "statistic_type": "chi2", "df": result.df if testable else None,
                 "p_value": nan_to_none(result.p_value) if testable else None, "method": method})
    columns = ["outcome", *spec.by, "effect", "n", "n_events", "expected", "statistic", "statistic_type", "df",
               "p_value", "method"]
    notes = ["log-rank test as R survdiff(rho = 0); groups with expected = 0 are left out of the test and its df"]
    glance = {"statistic": result.statistic if testable else None, "df": result.df if testable else None,
              "p_value": nan_to_none(result.p_value) if testable else None, "n": int(len(time)),
              "n_events": int(event.sum())}
    tidy = pd.DataFrame(rows, columns=columns).astype({c: "Int64" for c in ["n", "n_events", "df"]})
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=exclusions,
                          issues=issues, notes=notes, glance=glance)
