"""Descriptive statistics of numeric outcomes by visit and / or group.

Matches R's ``mean``, ``sd`` (n − 1 denominator), ``median`` and ``quantile(type = 7)``
(the default in R and numpy) for the quartiles.

Tidy columns
------------
outcome, one column per ``by`` variable, n, n_missing, mean, sd, median, q1, q3, min, max.
``n`` counts non-missing values; rows with a missing outcome are listed in exclusions with
reason ``missing-value`` and counted in ``n_missing``.

Denominator
-----------
``denominator: rows`` (the default) counts the rows present: a participant without a row at a
visit is simply not there, so ``n_missing`` counts only rows whose value is missing (what the
Siegel replica's tables print). ``denominator: participants`` counts every participant of the
table (within the analysis's population) as expected at every level of the ``by`` columns that
vary within a participant (e.g. ``visit``), in their own level of the ``by`` columns that do not
(e.g. the randomised arm): ``n_subjects`` is that number, ``n`` the participants with a value and
``n_missing = n_subjects − n`` the participants without one — no row at that visit (missed
visit, drop-out) or a missing value. When every randomised participant has a row in the table
(a baseline rating), ``n_subjects`` is the randomised n per arm, the denominator a trial report
uses; a participant with no row at all cannot be seen here (the ``flow`` analysis counts from
the participants table). Each group must then have at most one row per participant.

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
from pydantic import Field

from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    analysis_error,
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
    denominator: Literal["rows", "participants"] = Field(
        "rows", description="rows: n_missing counts rows present with a missing value; participants: every "
                            "participant of the table is expected at each visit (n_subjects), and one without a "
                            "row or a value there counts as missing")

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
    participants = spec.denominator == "participants"
    expected = _expected(spec, ctx, base) if participants else None
    for outcome in spec.outcome:
        excluded.append(missing_exclusions(ctx, base, outcome))
        for levels in (list(expected) if expected is not None else group_levels(base, spec.by)):
            group = group_frame(base, spec.by, levels)
            values = group[outcome].astype(float)
            present = values.dropna().to_numpy()
            row = {"outcome": outcome, **{c: plain(v) for c, v in zip(spec.by, levels)}}
            row.update(_summary(present))
            if expected is not None:
                row["n_subjects"] = expected[levels]
                row["n_missing"] = expected[levels] - len(present)   # no row at this level, or a missing value
            else:
                row["n_missing"] = int(values.isna().sum())   # the same rows as this group's missing-value exclusions
            rows.append(row)
    columns = ["outcome", *spec.by, "n", "n_missing", *(["n_subjects"] if participants else []),
               "mean", "sd", "median", "q1", "q3", "min", "max"]
    tidy = pd.DataFrame(rows, columns=columns)
    notes = ["sd: n − 1 denominator; q1 / q3: quantile type 7 (R default)"]
    if participants:
        notes.append("n_subjects: the participants of the table in the population (in that group of the by columns "
                     "fixed per participant); n_missing = n_subjects − n: no row at that visit or a missing value")
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=pd.concat(excluded, ignore_index=True),
                          notes=notes,
                          extras=Extras(labels={o: ctx.label(o) for o in spec.outcome}, outcomes=list(spec.outcome),
                                        by=list(spec.by)))


def _expected(spec: Spec, ctx: AnalysisInput, base: pd.DataFrame) -> dict[tuple, int]:
    """Each group's denominator under ``denominator: participants``: group levels → participants expected.

    The participants are those with a row in the table within the population (before the analysis's
    ``where``, which selects rows, not participants). A ``by`` column constant within every
    participant (the arm) places each participant in one of its levels; the others (the visit) are
    expected of everyone. Groups: every level of the varying columns seen in the selected rows
    (so a visit at which nobody in an arm was rated still gets its row, n = 0) crossed with the
    fixed columns' combinations seen there, in level order (:func:`group_levels`).

    >>> frame = pd.DataFrame({"pid": ["a", "a", "b", "c", "c"], "visit": ["v0", "v1", "v0", "v0", "v1"],
    ...                       "arm": ["k", "k", "k", "p", "p"]}, index=[1, 2, 3, 4, 5])
    >>> spec = Spec(id="d", type="descriptives", table="t", outcome="y", by=["visit", "arm"],
    ...             denominator="participants")
    >>> _expected(spec, AnalysisInput("d", "t", frame, "pid", ["pid", "visit"]), frame)
    {('v0', 'k'): 2, ('v0', 'p'): 1, ('v1', 'k'): 2, ('v1', 'p'): 1}
    """
    subject = ctx.subject
    frame = ctx.frame
    if ctx.population is not None:
        frame = frame[ctx.population[1].reindex(frame.index).fillna(False).astype(bool)]
    frame = frame[frame[subject].notna()]
    for levels in group_levels(base, spec.by):
        group = group_frame(base, spec.by, levels)
        if group[subject].duplicated().any():
            raise analysis_error("several-rows-per-participant", (
                f"denominator: participants needs at most one row per participant in each group, but "
                f"{group[subject][group[subject].duplicated()].iloc[0]} has several at "
                f"{dict(zip(spec.by, map(plain, levels)))}; add the visit column to by:"), spec)
    fixed = [c for c in spec.by if not (frame.groupby(subject, observed=True)[c].nunique(dropna=False) > 1).any()]
    varying = [c for c in spec.by if c not in fixed]
    fixed_of = frame.drop_duplicates(subject).set_index(subject)[fixed]
    out: dict[tuple, int] = {}
    for vary in group_levels(base, varying):
        for fix in group_levels(base, fixed):
            values = dict(zip(varying, vary)) | dict(zip(fixed, fix))
            out[tuple(values[c] for c in spec.by)] = len(group_frame(fixed_of, fixed, fix))
    return dict(sorted(out.items(), key=lambda item: _level_key(base, spec.by, item[0])))


def _level_key(frame: pd.DataFrame, by: list[str], levels: tuple) -> tuple:
    """Sort key of a group: category order for categorical columns, else the text (as group_levels)."""
    key = []
    for column, level in zip(by, levels):
        dtype = frame[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            key.append((0, list(dtype.categories).index(level) if level in list(dtype.categories) else -1, ""))
        else:
            key.append((1, 0, str(level)))
    return tuple(key)


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
