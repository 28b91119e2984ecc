"""Subject-level values: one value per subject, taken from a declared row (e.g. responder at week 2).

The value is looked up in table ``from`` at the rows matching ``at``. A subject with more
than one distinct value there is an error (the plan must pick one row); a subject without
such a row gets a missing value in every table.

Example
-------
>>> import pandas as pd
>>> f = pd.DataFrame({"pid": ["a", "a"], "visit": ["day1", "week2"], "resp": [True, False]})
>>> spec = SubjectLevel.model_validate({"name": "r2", "subject_level": "resp", "from": "t", "at": {"visit": "week2"}})
>>> subject_level_values(f, "pid", spec, ("derive", 0))[0].to_dict()
{'a': False}
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from pydantic import Field

from ketastats.derive.base import DerivationSpec, DeriveContext
from ketastats.derive.change import selector_mask
from ketastats.errors import DataError, Issue, Location
from ketastats.language.fields import Scalar
from ketastats.language.names import NameResolver


class SubjectLevel(DerivationSpec):
    """One value per subject, taken from a row (e.g. the week-2 visit), joined onto every table by subject."""

    KIND: ClassVar[str] = "subject_level"

    subject_level: str = Field(description="the column the value is taken from")
    from_: str = Field(alias="from", description="the table the value is taken from")
    at: dict[str, Scalar] = Field(default_factory=dict, description="which row per subject, e.g. {visit: week2}")

    def joins_from(self) -> str | None:
        return self.from_

    def declare(self, names: NameResolver, index: int) -> None:
        path = ("derive", index)
        source = self.from_
        if not names.table(source, path + ("from",)):
            return
        names.selector(source, self.at, path + ("at",), index)
        spec = names.column(source, self.subject_level, path + ("subject_level",), index)
        if names.catalog.column(source, names.subject) is None:
            names.add("no-subject-column", f"table '{source}' has no subject column '{names.subject}'",
                      path + ("from",))
            return
        if spec is None:
            return
        copy = spec.model_copy(update={"required": False, "label": self.label or self._label(spec, names),
                                       "description": self.description or
                                       f"{self.subject_level} at {self.at or 'subject level'}"})
        for table, columns in names.catalog.columns.items():
            if names.subject in columns:
                names.new_column(table, self.name, copy, path + ("name",))

    def _label(self, spec, names: NameResolver) -> str | None:
        """The source's label with the row it is taken at: ``HDRS-17 total score at Baseline``."""
        if not self.at:
            return spec.label
        levels = []
        for column, value in self.at.items():
            selector = names.catalog.column(self.from_, column)
            shown = (getattr(selector, "level_labels", None) or {}).get(str(value), str(value))
            levels.append(shown)
        return f"{spec.label or self.subject_level} at {', '.join(levels)}"

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        subject = context.subject
        values, issues = subject_level_values(tables[self.from_], subject, self, context.path)
        for frame in tables.values():
            if subject in frame.columns:
                frame[self.name] = frame[subject].map(values)
                if str(values.dtype) == "boolean":
                    frame[self.name] = frame[self.name].astype("boolean")
                elif values.dtype == object:  # text stays object (pandas 3's map infers its str dtype)
                    frame[self.name] = frame[self.name].astype(object)
        return issues


def subject_level_values(frame: pd.DataFrame, subject: str, spec, path) -> tuple[pd.Series, list[Issue]]:
    """Each subject's value of ``spec.subject_level`` at the rows ``spec.at`` selects (an error if several differ)."""
    rows = frame[selector_mask(frame, spec.at)] if spec.at else frame
    rows = rows[rows[subject].notna()]
    values = rows[spec.subject_level]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    distinct = values.groupby(rows[subject].to_numpy(), dropna=False).nunique(dropna=True)
    inconsistent = distinct[distinct > 1]
    if len(inconsistent):
        raise DataError([Issue("inconsistent-subject-level",
                               f"subject '{key}' has {count} different values of '{spec.subject_level}' in the rows "
                               f"selected by {spec.at or 'no selector'}",
                               Location(path=f"derive[{path[1]}]"),
                               hint="Add an 'at' selector that picks one row per subject")
                         for key, count in inconsistent.items()])
    first = values.groupby(rows[subject].to_numpy()).first()
    if values.dtype == object and first.dtype != object:  # pandas 3 infers its str dtype here; keep text as object
        first = first.astype(object)
    if str(frame[spec.subject_level].dtype) == "boolean":
        first = first.astype("boolean")
    return first, []
