"""The glossary of result columns, as data: meaning, label and kind of every column, and cell formatting.

``ketastats/vocabulary.yaml`` lists every column of the tidy tables, the multiplicity tables,
``exclusions.csv`` and every ``glance`` key of ``results.json``, each with

- ``meaning`` — what the column holds (broom's meanings; the docs table
  ``docs/results_vocabulary.md`` is generated from it by ``python tools/docs_tables.py``);
- ``label`` — the report's column header ("Std. error", "p", "n subjects");
- ``kind`` — one of :data:`KINDS`, which decides how the report formats the column (so a new
  p-value column declared ``kind: p_value`` prints as a p-value without a code change);
- optionally ``values`` — display names of a setting's values (``chi2`` → ``χ²``).

This module is a leaf: it imports only the standard library, yaml, numpy, pandas and
:mod:`ketastats.errors`, so that every layer (analyses, multiplicity, report, figures) may use it.
The file is read once and cached.

Numbers are formatted in two places, both here:

- :func:`format_cell` — committed CSV tables and selectors: 6 significant digits
  (:data:`SIGNIFICANT_DIGITS`), stable across platforms; ``results.json`` keeps full precision.
- :func:`format_p` — the one p-value formatter. The rounding rules are shared: below
  :data:`P_FLOOR` (0.001) a p-value is written ``< 0.001``; otherwise it is rounded half-even to a
  fixed number of decimals. The ``table`` style (report tables) always keeps three decimals
  (``0.540``), so a column of p-values lines up; the ``figure`` style (annotations on figures) keeps
  three decimals below 0.1 and two above (``0.016``, ``0.54``), as journals print them in figures,
  and writes a missing value ``n/a`` (an empty annotation would hide that a test is missing).
  ``figures.style.p_text`` adds the symbol and the relation (``p = 0.54``, ``p < 0.001``). The
  ``sentence`` style (three significant digits, ``0.0123``) is the one the multiplicity family
  sentences of the report print (``multiplicity._p``, which tests/test_glossary.py holds to it).

Example
-------
>>> kind("p_value"), label("std_error"), kind("n_significant time_post (residual)")
('p_value', 'Std. error', 'count')
>>> format_p(0.5404), format_p(0.5404, "figure"), format_p(0.0162, "figure"), format_p(2e-5)
('0.540', '0.54', '0.016', '< 0.001')
>>> [format_cell(v) for v in (28.826086956521738, 3, None, True, -0.0, 1.234e-09)]
['28.8261', '3', '', 'true', '0', '1.234e-09']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from ketastats.errors import Issue, KetastatsError

KINDS = ("identity", "variable", "text", "flag", "setting", "estimate", "p_value", "count", "percent")
"""The closed set of column kinds (described under ``kinds:`` in vocabulary.yaml). Only ``variable``,
``setting``, ``p_value``, ``count`` and ``percent`` change how the report shows a column; the others
are shown by their data type (text as it is, booleans as yes / no, numbers with column decimals)."""

SIGNIFICANT_DIGITS = 6
"""Significant digits of floats in committed tables (:func:`format_cell`)."""

P_FLOOR = 0.001
"""p-values below this are written ``< 0.001`` (tables and figures alike)."""

PStyle = Literal["table", "figure", "sentence"]


@dataclass(frozen=True)
class Column:
    """One glossary entry."""

    name: str
    group: str          # the section of vocabulary.yaml (identity, estimate, test, ..., glance)
    meaning: str
    label: str
    kind: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Glossary:
    """The parsed vocabulary.yaml: columns in file order, kind descriptions, the settings' note order."""

    columns: dict[str, Column]
    kinds: dict[str, str]
    note_order: tuple[str, ...]


def _invalid(message: str) -> KetastatsError:
    return KetastatsError([Issue("invalid-vocabulary", f"ketastats/vocabulary.yaml: {message}")])


def parse(text: str) -> Glossary:
    """A :class:`Glossary` from the text of a vocabulary file (checked: every column has a meaning,
    a label and a kind from :data:`KINDS`; no column is listed twice)."""
    data = yaml.safe_load(text)
    kinds = dict(data.get("kinds") or {})
    if set(kinds) != set(KINDS):
        raise _invalid(f"kinds must be exactly {', '.join(KINDS)}")
    columns: dict[str, Column] = {}
    for group, entries in (data.get("columns") or {}).items():
        for name, entry in (entries or {}).items():
            if name in columns:
                raise _invalid(f"column {name!r} is listed twice")
            missing = [key for key in ("meaning", "label", "kind") if not (entry or {}).get(key)]
            if missing:
                raise _invalid(f"column {name!r} has no {', '.join(missing)}")
            if entry["kind"] not in KINDS:
                raise _invalid(f"column {name!r} has kind {entry['kind']!r}, not one of {', '.join(KINDS)}")
            columns[name] = Column(name, group, str(entry["meaning"]), str(entry["label"]), entry["kind"],
                                   {str(k): str(v) for k, v in (entry.get("values") or {}).items()})
    note_order = tuple(data.get("note_order") or ())
    wrong = [n for n in note_order if n not in columns or columns[n].kind != "setting"]
    if wrong:
        raise _invalid(f"note_order names columns that are not settings: {', '.join(wrong)}")
    return Glossary(columns, kinds, note_order)


def vocabulary_text() -> str:
    """The text of ``ketastats/vocabulary.yaml`` (package data)."""
    return resources.files("ketastats").joinpath("vocabulary.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """The package's glossary, read once."""
    return parse(vocabulary_text())


def base_name(key: str) -> str:
    """The glossary name of a column or glance key: keys qualified after a space
    (``"n_significant time_post (residual)"``) are entries of their first word."""
    return key.split(" ", 1)[0]


def column(name: str) -> Column | None:
    """The entry of ``name`` (see :func:`base_name`), or None when it is not in the glossary."""
    return glossary().columns.get(base_name(name))


def known(name: str) -> bool:
    return column(name) is not None


def meaning(name: str) -> str | None:
    entry = column(name)
    return entry.meaning if entry else None


def label(name: str) -> str:
    """The column's header; a name not in the glossary reads as words (``"my_score"`` → ``"My score"``)."""
    entry = glossary().columns.get(name)
    if entry:
        return entry.label
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def kind(name: str) -> str | None:
    """The column's kind (one of :data:`KINDS`), or None when it is not in the glossary."""
    entry = column(name)
    return entry.kind if entry else None


def value_label(name: str, value: str) -> str | None:
    """The display name of one of a column's values (e.g. ``statistic_type`` ``chi2`` → ``χ²``), if listed."""
    entry = column(name)
    return entry.values.get(value) if entry else None


def names_of_kind(kind_: str) -> list[str]:
    """Glossary columns of one kind, in file order."""
    return [c.name for c in glossary().columns.values() if c.kind == kind_]


def settings() -> list[str]:
    """Setting columns in the order their notes are printed: ``note_order``, then the others in file order."""
    order = list(glossary().note_order)
    return order + [name for name in names_of_kind("setting") if name not in order]


# --- formatting -------------------------------------------------------------------------------

def missing(value: Any) -> bool:
    """None, pandas' NA or a float NaN."""
    return value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value))


def format_p(value: Any, style: PStyle = "table") -> str:
    """A p-value as text: ``< 0.001``, else three decimals (``table``), three below 0.1 and two
    above (``figure``) or three significant digits (``sentence``). Missing: empty in tables,
    ``n/a`` otherwise. See the module docstring."""
    if missing(value):
        return "" if style == "table" else "n/a"
    value = float(value)
    if value < P_FLOOR:
        return f"< {P_FLOOR:g}"
    if style == "sentence":
        return f"{value:.3g}"
    decimals = 3 if style == "table" or value < 0.1 else 2
    return f"{value:.{decimals}f}"


def format_cell(value: Any) -> str:
    """A cell of a committed table: floats to :data:`SIGNIFICANT_DIGITS` significant digits, integers as
    they are, missing values empty, booleans ``true`` / ``false``, ``-0`` as ``0``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = f"{float(value):.{SIGNIFICANT_DIGITS}g}"
        return "0" if text in ("-0", "0") else text
    return str(value)
