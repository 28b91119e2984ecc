"""Populations: named subsets (e.g. per-protocol) declared in the plan's ``populations:``.

A population is the rows of its table where ``where`` is true (a missing value counts as
not true). When the table has one row per subject, the population is a set of subjects and
applies to any table through the subject key.

Example
-------
>>> import pandas as pd
>>> from ketastats.language.expressions import parse_expression
>>> p = pd.DataFrame({"pid": ["a", "b"], "done": pd.array([True, False], dtype="boolean")})
>>> c = pd.DataFrame({"pid": ["a", "a", "b"]}, index=[1, 2, 3])
>>> population_mask(c, "c", "p", p, parse_expression("done"), "pid").tolist()
[True, True, False]
"""

from __future__ import annotations

import pandas as pd

from ketastats.language.expressions import Expression


def population_mask(frame: pd.DataFrame, table: str, population_table: str, population_frame: pd.DataFrame,
                    expression: Expression, subject: str) -> pd.Series:
    """Boolean mask over ``frame``: rows inside the population."""
    inside = expression.evaluate(population_frame).fillna(False).astype(bool)
    if table == population_table:
        return inside.reindex(frame.index, fill_value=False)
    subjects = set(population_frame.loc[inside, subject].dropna())
    return frame[subject].isin(subjects)
