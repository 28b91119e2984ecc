"""Committed tables as text: CSV cells, formula-injection guard, JSON values.

Cells are formatted by :func:`ketastats.glossary.format_cell` (re-exported here), the one place
where numbers are rounded for committed tables; multiplicity uses it too. Tables round floats
to :data:`SIGNIFICANT_DIGITS` significant digits so that regeneration is stable across platforms
(BLAS and libm differ in the last bits); ``results.json`` keeps full precision. Missing values
are empty cells; booleans are ``true`` / ``false``.

Example
-------
>>> [format_cell(v) for v in (28.826086956521738, 3, None, True, -0.0, 1.234e-09)]
['28.8261', '3', '', 'true', '0', '1.234e-09']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ketastats.glossary import SIGNIFICANT_DIGITS, format_cell

__all__ = ["SIGNIFICANT_DIGITS", "format_cell", "format_frame", "to_csv_text", "json_value", "FORMULA_START"]


def format_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as its table text (object dtype)."""
    return frame.astype(object).apply(lambda column: column.map(format_cell)) if len(frame) else frame.astype(object)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet (CSV / formula injection)."""


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of a results table: formatted cells, ``\\n`` line endings, no index.

    Text cells (not numbers: ``-0.52`` stays as it is) that begin with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return get a leading apostrophe (``'=HYPERLINK(...)``), as OWASP recommends
    against formula injection: a spreadsheet opening the file shows the text instead of running it.
    results.json keeps the text unchanged.
    """
    formatted = format_frame(frame)
    if len(frame) and frame.columns.is_unique:
        for column in frame.columns:
            original = frame[column]
            if not (original.dtype == object or isinstance(original.dtype, pd.CategoricalDtype)
                    or pd.api.types.is_string_dtype(original.dtype)):
                continue
            risky = original.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).astype(bool)
            if risky.any():
                formatted.loc[risky, column] = "'" + formatted.loc[risky, column].astype(str)
    return formatted.to_csv(index=False, lineterminator="\n")


def json_value(value: Any) -> Any:
    """A JSON-safe scalar at full precision (NaN → null)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    return str(value) if not isinstance(value, str) else value
