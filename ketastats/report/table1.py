"""Table 1 as a paper prints it: one row per characteristic, one column per arm and overall.

The ``baseline_table`` analysis writes a tidy long table (one row per variable × level × arm,
every statistic in its own column: ``tables/<id>.csv``). Readers expect the wide form every trial
report opens with, which this module builds from those rows for report.html and the LaTeX / Word
copies:

- columns: ``Characteristic`` then each arm and ``Overall``, headed with the arm's number of
  participants (``Ketamine (n = 30)``: the participants of the arm, with or without a value);
- a numeric variable is one row, ``Age (years), mean (SD)`` or ``..., median [IQR]``;
- a categorical variable is a heading row ``Sex, n (%)`` with one indented row per level;
- a variable with missing values in any arm gets an indented ``Missing`` row with the counts.

The cells are the analysis's own ``summary`` texts (so the rounding is the plan's ``decimals``),
level codes shown with the dictionary's ``level_labels``. Indented rows start with an em space
(U+2003), which HTML does not collapse and the LaTeX copy writes as ``\\quad``.

Example
-------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> tidy = pd.DataFrame({
...     "outcome": ["age", "age", "sex", "sex", "sex", "sex"],
...     "level": [None, None, "f", "f", "m", "m"], "group": ["k", "Overall"] * 3,
...     "summary_type": ["mean_sd"] * 2 + ["count"] * 4,
...     "summary": ["45.0 (7.1)", "45.0 (7.1)", "1 (50.0 %)", "1 (50.0 %)", "1 (50.0 %)", "1 (50.0 %)"],
...     "n": [2, 2, 2, 2, 2, 2], "n_missing": [0, 0, 0, 0, 0, 0]})
>>> result = SimpleNamespace(tidy=tidy, extras={"labels": {"age": "Age (years)", "sex": "Sex"}},
...                          columns={}, analysis_id="t1", title="Table 1", notes=[])
>>> table = table1_display(result)
>>> table.columns
['Characteristic', 'k (n = 2)', 'Overall (n = 2)']
>>> [row[0].strip() for row in table.rows]
['Age (years), mean (SD)', 'Sex, n (%)', 'f', 'm']
"""

from __future__ import annotations

import pandas as pd

from ketastats import glossary
from ketastats.report.display import DisplayTable, _dictionary_level_labels, _relabel_levels

__all__ = ["table1_display", "INDENT"]

INDENT = "\u2003"
"""The prefix of a level or ``Missing`` row (an em space: kept by HTML, ``\\quad`` in LaTeX)."""

_KIND_TEXT = {"mean_sd": "mean (SD)", "median_iqr": "median [IQR]", "count": "n (%)"}
_NEEDED = {"outcome", "level", "group", "summary_type", "summary", "n", "n_missing"}


def _count(value) -> int:
    return 0 if glossary.missing(value) else int(value)


def table1_display(analysis) -> DisplayTable | None:
    """The wide Table 1 of a ``baseline_table`` result (``None`` when its tidy table lacks the columns).

    Arms keep the analysis's order (``Overall`` last, as written); each arm's ``n`` is the largest
    ``n + n_missing`` over its rows (every variable is counted over the same participants).
    """
    tidy = analysis.tidy
    if tidy is None or tidy.empty or not _NEEDED <= set(tidy.columns):
        return None
    extras = analysis.extras if isinstance(analysis.extras, dict) else {}
    found = extras.get("labels")
    labels: dict = found if isinstance(found, dict) else {}
    level_labels = {**_dictionary_level_labels(getattr(analysis, "columns", None)),
                    **(extras.get("level_labels") or {})}
    shown = _relabel_levels(tidy[["level", "group"]], level_labels) if level_labels else tidy[["level", "group"]]
    frame = tidy.assign(level_text=shown["level"].to_numpy(), group_text=shown["group"].to_numpy())

    groups = list(dict.fromkeys(frame["group"]))
    group_text = dict(zip(frame["group"], frame["group_text"]))
    group_n = {g: max(_count(r.n) + _count(r.n_missing) for r in frame[frame["group"] == g].itertuples())
               for g in groups}
    columns = ["Characteristic", *[f"{group_text[g]} (n = {group_n[g]})" for g in groups]]

    rows: list[list[str]] = []
    for outcome in dict.fromkeys(frame["outcome"]):
        part = frame[frame["outcome"] == outcome]
        kind = str(part["summary_type"].iloc[0])
        name = f"{labels.get(outcome, outcome)}, {_KIND_TEXT.get(kind, kind.replace('_', ' '))}"
        if kind == "count":
            rows.append([name, *[""] * len(groups)])
            for level in dict.fromkeys(part["level"]):
                cells = part[part["level"] == level]
                rows.append([INDENT + str(cells["level_text"].iloc[0]), *_cells(cells, groups, "summary")])
        else:
            rows.append([name, *_cells(part, groups, "summary")])
        missing = {g: max((_count(v) for v in part.loc[part["group"] == g, "n_missing"]), default=0) for g in groups}
        if any(missing.values()):
            rows.append([INDENT + "Missing", *[str(missing[g]) for g in groups]])

    notes = [*list(getattr(analysis, "notes", []) or []),
             "n in a column heading: the arm's participants; Missing: those without a value. Every statistic, "
             f"unrounded, is in tables/{analysis.analysis_id}.csv."]
    return DisplayTable(id=analysis.analysis_id, title=analysis.title or analysis.analysis_id, columns=columns,
                        rows=rows, align=["left"] + ["right"] * len(groups), notes=notes,
                        keys=["outcome", *["summary"] * len(groups)])


def _cells(part: pd.DataFrame, groups: list, column: str) -> list[str]:
    """One text cell per arm (empty where the arm has no row)."""
    out = []
    for group in groups:
        found = part.loc[part["group"] == group, column]
        out.append("" if found.empty or glossary.missing(found.iloc[0]) else str(found.iloc[0]))
    return out
