"""Proportions of boolean outcomes (response, remission, ...) with confidence intervals, by visit / group.

Intervals (see :mod:`ketastats.stats.intervals`): ``wilson`` — the Wilson score interval,
as R's ``prop.test(x, n, correct = FALSE)``; ``clopper_pearson`` — the exact interval, as
R's ``binom.test(x, n)``. Several methods may be requested; each gives its own row
(``ci_method``), so the table stays tidy.

Tidy columns
------------
outcome, one column per ``by`` variable, ci_method, count, n, estimate (proportion),
percent, conf_low, conf_high, conf_level. Rows whose outcome is missing (e.g. no baseline
to compute a response from) are not in ``n``: they are listed in exclusions.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcd"), "resp": pd.array([True, True, False, None], dtype="boolean")},
...                      index=[1, 2, 3, 4])
>>> spec = Spec(id="p", type="proportions", table="t", outcome="resp")
>>> run(spec, AnalysisInput("p", "t", frame, "pid", ["pid"])).tidy[["count", "n"]].values.tolist()
[[2, 3]]
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import BeforeValidator, Field

from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    group_frame,
    group_levels,
    missing_exclusions,
    plain,
    select_rows,
)
from ketastats.errors import Problem
from ketastats.language.fields import ConfLevel, Names, as_list, column_field
from ketastats.results import AnalysisResult, Extras
from ketastats.stats.intervals import clopper_pearson_interval, wilson_interval

# interval method → kernel(count, n, conf_level) -> (low, high); both give (0, 1)-bounded limits
CI_METHODS = {"wilson": wilson_interval, "clopper_pearson": clopper_pearson_interval}
CiMethod = Literal["wilson", "clopper_pearson"]


class Spec(AnalysisSpec):
    """Count, n, % and confidence intervals of boolean outcomes."""

    type: Literal["proportions"]
    outcome: Names = column_field("boolean outcome column(s), e.g. [responder, remitter]")
    by: Names = column_field("grouping columns, e.g. [visit]", default_factory=list)
    ci: Annotated[list[CiMethod], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[CiMethod](["wilson"]), description="interval method(s): wilson | clopper_pearson")
    conf_level: ConfLevel = 0.95

    def check_columns(self, columns) -> list[Problem]:
        """A problem for each outcome that is not boolean (a proportion needs yes / no values)."""
        return [Problem(f"outcome[{i}]", f"column '{name}' is {columns[name].type}; proportions need a boolean column "
                 "(derive one with a rule, e.g. \"madrs < 10\")")
                for i, name in enumerate(self.outcome) if name in columns and columns[name].type != "boolean"]


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Count, n, proportion and interval(s) of each boolean outcome in each ``by`` group.

    R: ``prop.test(x, n, correct = FALSE)$conf.int`` (``wilson``) and ``binom.test(x, n)$conf.int``
    (``clopper_pearson``), with x the number of true values and n the non-missing values of the
    group. Rows outside the population / ``where`` or missing a ``by`` value are excluded once;
    rows missing the outcome are excluded per outcome (not counted in n).

    Tidy columns: outcome, one column per ``by`` variable, ci_method, count, n, estimate,
    percent, conf_low, conf_high, conf_level; one row per outcome × group × interval method. A
    group with n = 0 has empty estimate and percent.
    """
    base, exclusions = select_rows(ctx, spec.by)
    rows = []
    excluded = [exclusions]
    for outcome in spec.outcome:
        excluded.append(missing_exclusions(ctx, base, outcome))
        for levels in group_levels(base, spec.by):
            # n: the group's non-missing values; count: those that are true
            values = group_frame(base, spec.by, levels)[outcome].dropna().astype(bool)
            count, n = int(values.sum()), int(len(values))
            for method in spec.ci:
                low, high = CI_METHODS[method](count, n, spec.conf_level)
                rows.append({"outcome": outcome, **{c: plain(v) for c, v in zip(spec.by, levels)},
                             "ci_method": method, "count": count, "n": n,
                             "estimate": count / n if n else None, "percent": 100.0 * count / n if n else None,
                             "conf_low": plain(float(low)), "conf_high": plain(float(high)),
                             "conf_level": spec.conf_level})
    columns = ["outcome", *spec.by, "ci_method", "count", "n", "estimate", "percent", "conf_low", "conf_high",
               "conf_level"]
    notes = [f"{m}: " + {"wilson": "Wilson score interval, as R prop.test(correct = FALSE)",
                         "clopper_pearson": "exact interval, as R binom.test"}[m] for m in spec.ci]
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=columns),
                          exclusions=pd.concat(excluded, ignore_index=True), notes=notes,
                          extras=Extras(labels={o: ctx.label(o) for o in spec.outcome}, outcomes=list(spec.outcome),
                                        by=list(spec.by)))
