"""What the survival analyses share (kaplan_meier, logrank, cox): the time / event keys and the rows.

``survival_rows`` applies the usual selection and then excludes rows whose time is not a finite
number ≥ 0 or whose event is not 0 / 1 / true / false (reason ``invalid-value``), so every row is
either analysed or listed — ``survival::Surv`` would stop on them instead.

Example
-------
>>> group_label(["arm"], ("ketamine",)), group_label([], ())
('arm=ketamine', 'all')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    exclusion_record,
    group_frame,
    group_levels,
    plain,
    select_rows,
)
from ketastats.errors import Issue, Location, Problem
from ketastats.language.fields import column_field
from ketastats.results import EXCLUSION_COLUMNS, Extras


class SurvivalSpec(AnalysisSpec):
    """Keys shared by the survival analyses: the time and event columns."""

    time: str = column_field("follow-up time column (e.g. the time column of a time_to_event table)",
                             default="time")
    event: str = column_field("event indicator: boolean, or 1 = event / 0 = censored (not ADaM CNSR)",
                              default="event")

    @property
    def outcome(self) -> list[str]:
        """The analysed column (for row accounting): the time column."""
        return [self.time]

    def check_columns(self, columns) -> list[Problem]:
        """A numeric time; an event that is boolean or numeric (0 / 1 values are checked per row at run time)."""
        problems = []
        if self.time in columns and columns[self.time].type not in ("integer", "number"):
            problems.append(Problem("time", f"column '{self.time}' is {columns[self.time].type}; time must be numeric"))
        if self.event in columns and columns[self.event].type not in ("boolean", "integer", "number"):
            problems.append(Problem("event", f"column '{self.event}' is {columns[self.event].type}; the event must be "
                             "boolean or 0 / 1"))
        return problems


def survival_rows(ctx: AnalysisInput, spec: SurvivalSpec, other: list[str]) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                      np.ndarray, np.ndarray]:
    """Rows analysed (complete, valid time and event), exclusions, and the time / event arrays.

    ``other`` are the further columns that must be present (``by``, ``strata``, covariates).
    A boolean event is used as 1 / 0; a numeric one must be exactly 0 or 1 (an ADaM ``CNSR``
    column, 1 = censored, must be recoded first). Time 0 is valid (R's ``Surv`` accepts it);
    negative, infinite or non-numeric times are ``invalid-value``. The arrays are aligned with
    the rows returned, in row order.
    """
    base, exclusions = select_rows(ctx, [spec.time, spec.event, *other])
    # text that is not a number becomes NaN here and is then listed as invalid-value
    time = pd.to_numeric(base[spec.time], errors="coerce").astype(float)
    raw = base[spec.event]
    if str(raw.dtype) in ("boolean", "bool"):
        event = raw.astype(float)
    else:
        event = pd.to_numeric(raw, errors="coerce").astype(float)
    # an event coded 2 (e.g. a competing risk) is invalid here, not silently counted as an event
    invalid = ~np.isfinite(time) | (time < 0) | ~event.isin([0.0, 1.0])
    records = [exclusion_record(ctx, row, "invalid-value", f"{spec.time} must be a finite time >= 0 and {spec.event} "
                       "0 / 1 / true / false") for row in base.index[invalid.to_numpy()]]
    if records:
        exclusions = pd.concat([exclusions, pd.DataFrame(records, columns=EXCLUSION_COLUMNS)], ignore_index=True)
    keep = ~invalid.to_numpy()
    return base[keep], exclusions, time.to_numpy()[keep], event.to_numpy()[keep]


def group_label(by: list[str], levels: tuple) -> str:
    """The group as written in warnings and as the key of ``extras["curves"]``: ``"arm=ketamine"`` or ``"all"``."""
    return ", ".join(f"{c}={plain(v)}" for c, v in zip(by, levels)) if by else "all"


def warn(ctx: AnalysisInput, code: str, message: str) -> Issue:
    """A warning issue located at the analysis (the result stays ``ok``; the report lists the warning)."""
    return Issue(code, message, Location(path=f"analyses[{ctx.analysis_id}]", table=ctx.table_name),
                 severity="warning")


def nan_to_none(value: Any) -> Any:
    """A float, or None for None / NaN (an estimate that is not defined is an empty cell, not ``NaN``).

    >>> nan_to_none(float("nan")), nan_to_none(np.float64(0.5)), nan_to_none(None)
    (None, 0.5, None)
    """
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def group_codes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[tuple]]:
    """Integer code per row of the combination of ``columns`` (level order), and the levels.

    The codes are what :func:`~ketastats.stats.survival.logrank_test` and ``cox_fit`` take as
    groups / strata; group ``k`` is ``levels[k]``, so the groups are reported in level order.

    >>> frame = pd.DataFrame({"arm": ["s", "k", "s"]})
    >>> group_codes(frame, ["arm"])
    (array([1, 0, 1]), [('k',), ('s',)])
    """
    levels = group_levels(frame, columns)
    out = np.zeros(len(frame), dtype=int)
    for code, level in enumerate(levels):
        out[np.asarray(frame.index.isin(group_frame(frame, columns, level).index))] = code
    return out, levels


class SurvivalExtras(Extras, total=False):
    """kaplan_meier's extras: the curves (survfit-style arrays per group), the time column, the landmarks."""

    curves: dict[str, dict[str, list]]
    time: str
    landmarks: list[float]
