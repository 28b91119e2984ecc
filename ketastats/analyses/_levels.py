"""The two compared levels of a two-group comparison (ttest, group_proportions).

Example
-------
>>> level_text(True), level_text("ketamine")
('true', 'ketamine')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketastats.analyses.base import AnalysisInput, exclusion_record
from ketastats.errors import AnalysisError, Issue, Location
from ketastats.results import EXCLUSION_COLUMNS


def level_text(level) -> str:
    """A level as written in contrasts and messages: booleans as ``true`` / ``false`` (the plan's YAML spelling)."""
    return ("true" if level else "false") if isinstance(level, (bool, np.bool_)) else str(level)


def drop_other_levels(frame: pd.DataFrame, column: str, levels: list,
                      ctx: AnalysisInput) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``frame`` at one of the compared ``levels`` of ``column``, and the exclusions.

    A row at any other level (e.g. a second active arm) is listed with reason ``other-level``,
    never silently dropped; the second frame has :data:`~ketastats.results.EXCLUSION_COLUMNS`.
    """
    other = ~frame[column].isin(levels)
    excluded = pd.DataFrame([exclusion_record(ctx, row, "other-level", f"{column} = {frame.at[row, column]} is "
                                              "not one of the compared levels") for row in frame.index[other]],
                            columns=EXCLUSION_COLUMNS)
    return frame[~other], excluded


def two_levels(frame: pd.DataFrame, column: str, wanted, ctx: AnalysisInput) -> list:
    """The two compared levels as they appear in the frame (first, second).

    Without ``wanted``, the column must have exactly two observed levels, taken in category
    order (booleans: false, true; other columns: text order), as R's ``factor()`` default
    orders them; otherwise each ``wanted`` level is matched by its text (so the plan's ``true``
    matches a boolean True and ``2`` an integer 2). Raises ``not-two-levels`` or
    ``level-absent``, located at the column.
    """
    values = frame[column]
    # the observed levels, in the order a default comparison takes them (first − second)
    if isinstance(values.dtype, pd.CategoricalDtype):
        observed = [lvl for lvl in values.cat.categories if (values == lvl).any()]
    elif str(values.dtype) in ("boolean", "bool"):
        observed = [lvl for lvl in (False, True) if (values == lvl).any()]
    else:
        observed = sorted(values.dropna().unique().tolist(), key=str)
    if wanted is None:
        if len(observed) != 2:
            raise AnalysisError(Issue("not-two-levels", f"'{column}' has {len(observed)} levels in the analysed rows "
                                      f"({', '.join(map(level_text, observed))}); name the two compared with levels:",
                                      Location(path=f"analyses[{ctx.analysis_id}]", column=column)))
        return observed
    chosen = []
    for level in wanted:
        match = [lvl for lvl in observed if level_text(lvl) == level_text(level)]
        if not match:
            raise AnalysisError(Issue("level-absent",
                                      f"level '{level_text(level)}' of '{column}' does not occur in the analysed rows",
                                      Location(path=f"analyses[{ctx.analysis_id}]", column=column)))
        chosen.append(match[0])
    return chosen
