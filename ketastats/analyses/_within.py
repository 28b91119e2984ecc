"""Within-participant cells shared by rm_anova and paired_ttest: levels, cell labels, the wide table.

``wide_cells`` turns long rows into participants × cells (complete participants only) and lists
every row of an incomplete participant in the exclusions, as ``afex::aov_ez`` drops them (but
silently); a duplicated cell is an error, never averaged.

Example
-------
>>> import pandas as pd
>>> factor_levels(pd.Series(["day1", "baseline", "day1"])), cell_text(["visit"], ("day1",))
(['baseline', 'day1'], 'visit=day1')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketastats.analyses.base import AnalysisInput, analysis_error, exclusion_record, plain
from ketastats.results import EXCLUSION_COLUMNS


def factor_levels(values: pd.Series) -> list:
    """Observed levels in a deterministic order: category order, else numeric, else text.

    Category levels without rows are left out (a within factor's cells are the observed
    levels, not the dictionary's). Numeric levels sort by value (2 before 10), as R's
    ``factor()`` of a number does; text sorts by code point (R sorts by locale).

    >>> [int(level) for level in factor_levels(pd.Series([10, 2, None, 2]))]
    [2, 10]
    """
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [level for level in values.cat.categories if (present == level).any()]
    unique = list(pd.unique(present))
    if pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        return sorted(unique)
    return sorted(unique, key=str)


def cell_text(columns: list[str], cell: tuple) -> str:
    """A cell as written in exclusion details and messages: ``"visit=day1, hemisphere=L"``."""
    return ", ".join(f"{c}={plain(v)}" for c, v in zip(columns, cell))


def wide_cells(ctx: AnalysisInput, frame: pd.DataFrame, subject: str, within: list[str], cells: list[tuple],
               outcome: str, spec, reason: str = "incomplete-subject", policy: str = "complete_cases excludes "
               "the participant from every cell") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants × cells of ``outcome`` (complete participants only) and the exclusions of the others.

    Every row of an incomplete participant is listed with ``reason`` and the missing cells.
    Two rows for one participant and cell raise ``duplicate-cell``.

    Rows at a combination not in ``cells`` are ignored here (the caller excludes them); rows
    with a missing subject belong to no participant. ``wide`` has one row per complete
    participant (in text order of the subject) and one column per cell (a MultiIndex with two
    within factors); ``policy`` ends each exclusion detail, saying what the analysis does.
    """
    # each row's cell index (-1: not a compared cell) and participant index, then one code per pair
    cell_code = {cell: k for k, cell in enumerate(cells)}
    codes = np.fromiter((cell_code.get(tuple(v), -1) for v in frame[within].itertuples(index=False, name=None)),
                        dtype=np.int64, count=len(frame))
    keyed = frame[codes >= 0]
    codes = codes[codes >= 0]
    subject_codes, subject_values = pd.factorize(keyed[subject], sort=False)
    known = subject_codes >= 0
    keyed, codes, subject_codes = keyed[known], codes[known], subject_codes[known]
    pair = subject_codes.astype(np.int64) * len(cells) + codes
    unique_pairs, first_row, pair_counts = np.unique(pair, return_index=True, return_counts=True)
    if (pair_counts > 1).any():
        duplicated = np.flatnonzero(pair_counts > 1)
        pick = duplicated[np.argmin(first_row[duplicated])]  # the first in row order, as a groupby would list it
        who, cell = subject_values[unique_pairs[pick] // len(cells)], cells[unique_pairs[pick] % len(cells)]
        count = int(pair_counts[pick])
        raise analysis_error("duplicate-cell", f"participant {who} has {count} rows at {cell_text(within, cell)}; "
                     "one value per participant and cell is needed (aggregate first, or filter with where:)", spec)
    # one pivot: participants × cells, NaN where there is no row or the value is missing
    grid = np.full((len(subject_values), len(cells)), np.nan)
    grid[subject_codes, codes] = keyed[outcome].astype(float).to_numpy()
    # participants in text order, so that the wide table and the exclusions do not depend on row order
    rank = sorted(range(len(subject_values)), key=lambda k: str(subject_values[k]))
    rows_of = None
    records, complete = [], []
    for k in rank:
        who = subject_values[k]
        absent = np.isnan(grid[k])
        if not absent.any():
            complete.append(k)
            continue
        missing = [cells[c] for c in np.flatnonzero(absent)]
        detail = (f"{who} lacks {outcome} at " + "; ".join(cell_text(within, c) for c in missing)
                  + f" (no row or missing value); {policy}")
        if rows_of is None:   # built only when someone is incomplete (large complete designs skip it)
            rows_of = frame.groupby(subject, sort=False, dropna=False).indices
        for row in frame.index[rows_of[who]]:
            records.append(exclusion_record(ctx, row, reason, detail))
    wide = pd.DataFrame(grid[complete].reshape(len(complete), len(cells)),
                        index=pd.Index([subject_values[k] for k in complete], name=subject),
                        columns=pd.MultiIndex.from_tuples(cells, names=within)
                        if len(within) > 1 else pd.Index([c[0] for c in cells], name=within[0]), dtype=float)
    return wide, pd.DataFrame(records, columns=EXCLUSION_COLUMNS)
