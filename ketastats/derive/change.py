"""Change and percent change from a baseline row of the same subject.

``change = value − baseline`` and ``percent change = 100 × (value − baseline) / baseline``,
where the baseline row is the subject's row matching the selector (e.g. ``{visit: baseline}``).
Subjects without a baseline value get a missing change (reported as a warning); a baseline
of 0 gives a missing percent change.

Example
-------
>>> import pandas as pd
>>> f = pd.DataFrame({"pid": ["a", "a", "b"], "visit": ["baseline", "day1", "day1"], "madrs": [30, 9, 12]})
>>> change_from_baseline(f, "pid", "madrs", {"visit": "baseline"}, True, "pct")[0].tolist()
[0.0, -70.0, nan]
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from ketastats.data.dictionary import Column
from ketastats.derive.base import DeriveContext, TableDerivation
from ketastats.errors import Issue, Location
from ketastats.language.fields import Scalar
from ketastats.language.names import NameResolver


def selector_mask(frame: pd.DataFrame, selector: dict) -> pd.Series:
    """Rows where every selector column equals its value (compared as text for categories)."""
    mask = pd.Series(True, index=frame.index)
    for column, value in selector.items():
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            mask &= values.astype(object).map(lambda v: None if v is None else str(v)) == str(value)
        else:
            mask &= values == value
    return mask.fillna(False).astype(bool)


def change_from_baseline(frame: pd.DataFrame, subject: str, column: str, baseline: dict, percent: bool,
                         name: str) -> tuple[pd.Series, list[Issue]]:
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    base_rows = frame[selector_mask(frame, baseline)]
    base = pd.Series(values[base_rows.index].to_numpy(), index=base_rows[subject].to_numpy())
    base = base[~base.index.duplicated(keep="first")]
    reference = frame[subject].map(base).astype(float)
    issues: list[Issue] = []
    lacking = sorted(set(frame[subject].dropna()) - set(base.dropna().index))
    if lacking:
        issues.append(Issue("no-baseline", f"{len(lacking)} subject(s) have no baseline value of '{column}', "
                            f"so '{name}' is missing for them: {', '.join(map(str, lacking[:10]))}",
                            Location(table=None, column=name), severity="warning"))
    if percent:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = 100.0 * (values - reference) / reference.where(reference != 0)
    else:
        result = values - reference
    return result.astype(float), issues



class _Change(TableDerivation):
    """Change or percent change from the subject's baseline row (the two kinds differ in one key)."""

    PERCENT: ClassVar[bool] = False

    baseline: dict[str, Scalar] = Field(description="how to find the baseline row, e.g. {visit: baseline}")

    @property
    def source(self) -> str:
        """The column whose change is derived."""
        return getattr(self, self.KIND)

    def declare(self, names: NameResolver, index: int) -> None:
        path = ("derive", index)
        if not names.table(self.table, path + ("table",)):
            return
        spec = names.column(self.table, self.source, path + (self.KIND,), index)
        if spec is not None and spec.type not in ("integer", "number"):
            names.add("not-numeric", f"column '{self.source}' is {spec.type}, not numeric", path + (self.KIND,))
        names.selector(self.table, self.baseline, path + ("baseline",), index)
        if names.catalog.column(self.table, names.subject) is None:
            names.add("no-subject-column", f"table '{self.table}' has no subject column '{names.subject}'",
                      path + ("table",))
        unit = "%" if self.PERCENT else (spec.unit if spec else None)
        source_label = (spec.label or self.source) if spec else self.source
        label = self.label or ("% change in " if self.PERCENT else "Change in ") + source_label
        names.new_column(self.table, self.name, Column(type="number", required=False, unit=unit, label=label,
                                                       description=self.description), path + ("name",))

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        frame = tables[self.table]
        frame[self.name], issues = change_from_baseline(frame, context.subject, self.source, self.baseline,
                                                        self.PERCENT, self.name)
        return issues


class ChangeFromBaseline(_Change):
    """``value − value at the baseline row`` of the same subject."""

    KIND: ClassVar[str] = "change_from_baseline"

    change_from_baseline: str = Field(description="the column whose change is derived")


class PercentChangeFromBaseline(_Change):
    """``100 × (value − baseline) / baseline``; missing where the baseline is 0 or missing."""

    KIND: ClassVar[str] = "percent_change_from_baseline"
    PERCENT: ClassVar[bool] = True

    percent_change_from_baseline: str = Field(description="the column whose percent change is derived")
