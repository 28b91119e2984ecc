"""Subject-level values: one value per subject, taken from a declared row (e.g. responder at week 2).

The value is looked up in table ``from`` at the rows matching ``at``. A subject with more
than one distinct value there is an error (the plan must pick one row); a subject without
such a row gets a missing value in every table.

Example
-------
>>> import pandas as pd
>>> from ketastats.plan.schema import SubjectLevel
>>> f = pd.DataFrame({"pid": ["a", "a"], "visit": ["day1", "week2"], "resp": [True, False]})
>>> spec = SubjectLevel.model_validate({"name": "r2", "subject_level": "resp", "from": "t", "at": {"visit": "week2"}})
>>> subject_level_values(f, "pid", spec, ("derive", 0))[0].to_dict()
{'a': False}
"""

from __future__ import annotations

import pandas as pd

from ketastats.derive.change import selector_mask
from ketastats.errors import DataError, Issue, Location


def subject_level_values(frame: pd.DataFrame, subject: str, spec, path) -> tuple[pd.Series, list[Issue]]:
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
