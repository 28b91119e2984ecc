"""Descriptive statistics of numeric outcomes by visit and / or group.

Matches R's ``mean``, ``sd`` (n − 1 denominator), ``median`` and ``quantile(type = 7)``
(the default in R and numpy) for the quartiles.

Tidy columns
------------
outcome, one column per ``by`` variable, n, n_missing, mean, sd, median, q1, q3, min, max.
``n`` counts non-missing values; rows with a missing outcome are listed in exclusions with
reason ``missing-value`` and counted in ``n_missing``.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": ["a", "b", "c"], "madrs": [28.0, 30.0, None]}, index=[1, 2, 3])
>>> spec = Spec(id="d", type="descriptives", table="t", outcome="madrs")
>>> run(spec, AnalysisInput("d", "t", frame, "pid", ["pid"])).tidy[["n", "mean", "n_missing"]].to_dict("records")
[{'n': 2, 'mean': 29.0, 'n_missing': 1}]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

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
from ketastats.language.fields import Names, column_field
from ketastats.results import AnalysisResult, Extras


class Spec(AnalysisSpec):
    """n, mean, SD, median, IQR, range of one or more numeric outcomes, by visit and / or group."""

    type: Literal["descriptives"]
    outcome: Names = column_field("numeric outcome column(s)")
    by: Names = column_field("grouping columns, e.g. [visit] or [visit, arm]", default_factory=list)

    def check_columns(self, columns) -> list[Problem]:
        """A problem for each outcome whose dictionary type is not integer / number."""
        return [Problem(f"outcome[{i}]", f"column '{name}' is {columns[name].type}; descriptives need a numeric column")
                for i, name in enumerate(self.outcome)
                if name in columns and columns[name].type not in ("integer", "number")]


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """n, n_missing, mean, SD, median, quartiles and range of each outcome in each ``by`` group.

    R: ``mean``, ``sd``, ``median``, ``quantile(x, c(.25, .75), type = 7)``, ``min``, ``max``
    of the non-missing values per group (as ``dplyr::summarise`` with ``na.rm = TRUE``).
    Rows outside the population / ``where`` or missing a ``by`` value are excluded once; rows
    missing an outcome are listed per outcome and counted in that group's ``n_missing``.
    Groups are the observed ``by`` combinations in level order (:func:`group_levels`).

    Tidy columns: outcome, one column per ``by`` variable, n, n_missing, mean, sd, median, q1,
    q3, min, max. A group whose values are all missing has n = 0 and empty statistics; sd is
    empty when n = 1 (R gives NA).
    """
    base, exclusions = select_rows(ctx, spec.by)
    rows = []
    excluded = [exclusions]
    for outcome in spec.outcome:
        excluded.append(missing_exclusions(ctx, base, outcome))
        for levels in group_levels(base, spec.by):
            group = group_frame(base, spec.by, levels)
            values = group[outcome].astype(float)
            present = values.dropna().to_numpy()
            row = {"outcome": outcome, **{c: plain(v) for c, v in zip(spec.by, levels)}}
            row.update(_summary(present))
            row["n_missing"] = int(values.isna().sum())   # the same rows as this group's missing-value exclusions
            rows.append(row)
    columns = ["outcome", *spec.by, "n", "n_missing", "mean", "sd", "median", "q1", "q3", "min", "max"]
    tidy = pd.DataFrame(rows, columns=columns)
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=pd.concat(excluded, ignore_index=True),
                          notes=["sd: n − 1 denominator; q1 / q3: quantile type 7 (R default)"],
                          extras=Extras(labels={o: ctx.label(o) for o in spec.outcome}, outcomes=list(spec.outcome),
                                        by=list(spec.by)))


def _summary(values: np.ndarray) -> dict:
    """The summary of one group's non-missing values (None where undefined).

    >>> _summary(np.array([1.0, 2, 3, 4]))["q1"], _summary(np.array([5.0]))["sd"]
    (1.75, None)
    """
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"n": n, "mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if n > 1 else None,
            "median": float(median), "q1": float(q1), "q3": float(q3),
            "min": float(np.min(values)), "max": float(np.max(values))}
