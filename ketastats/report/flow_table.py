"""The participant flow as a trial report prints it: one row per stage, one column per arm and overall.

The ``flow`` analysis writes tidy rows (one per stage × visit / reason × arm: ``tables/<id>.csv``).
For report.html and the LaTeX / Word copies this module builds the wide form from those rows:

- columns: ``Stage`` then each arm and ``Overall``, headed with the arm's randomized number
  (``Ketamine (n = 30)``), arms in the analysis's order with the dictionary's ``level_labels``;
- rows, in the analysis's order: ``Randomized``, ``Received treatment``, a heading ``Assessed at
  each visit`` with one indented row per visit (its label: ``After treatment 3``), ``Completed``,
  ``Discontinued`` and, indented under it, one row per drop-out reason (its label; reasons with no
  participant are listed too);
- cells ``n (%)``: the count and its percent of the arm's randomized participants (one decimal).

Indented rows start with an em space, as in Table 1 (:data:`ketastats.report.table1.INDENT`).

Example
-------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> tidy = pd.DataFrame({
...     "stage": ["randomized"] * 2 + ["assessed"] * 2 + ["discontinued"] * 4,
...     "visit": [None, None, "v1", "v1", None, None, None, None],
...     "level": [None] * 6 + ["lost", "lost"], "group": ["k", "Overall"] * 4,
...     "count": [2, 4, 1, 3, 1, 1, 1, 1], "n_subjects": [2, 4] * 4,
...     "percent": [100.0, 100.0, 50.0, 75.0, 50.0, 25.0, 50.0, 25.0]})
>>> result = SimpleNamespace(tidy=tidy, extras={"level_labels": {"visit": {"v1": "Week 1"}}},
...                          columns={}, analysis_id="flow", title="Flow", notes=[])
>>> table = flow_display(result)
>>> table.columns
['Stage', 'k (n = 2)', 'Overall (n = 4)']
>>> for row in table.rows:
...     print(row)
['Randomized', '2 (100.0 %)', '4 (100.0 %)']
['Assessed at each visit', '', '']
['\u2003Week 1', '1 (50.0 %)', '3 (75.0 %)']
['Discontinued', '1 (50.0 %)', '1 (25.0 %)']
['\u2003lost', '1 (50.0 %)', '1 (25.0 %)']
"""

from __future__ import annotations

import pandas as pd

from ketastats import glossary
from ketastats.report.display import DisplayTable, _dictionary_level_labels, _relabel_levels
from ketastats.report.table1 import INDENT

__all__ = ["flow_display"]

_NEEDED = {"stage", "visit", "level", "group", "count", "n_subjects", "percent"}
_STAGE_TEXT = {"randomized": "Randomized", "treated": "Received treatment", "completed": "Completed",
               "discontinued": "Discontinued"}
_ASSESSED = "Assessed at each visit"
"""The heading row of the visits (each visit's label indented under it, as Table 1's levels)."""


def _key(value) -> str | None:
    return None if glossary.missing(value) else str(value)


def flow_display(analysis) -> DisplayTable | None:
    """The wide participant-flow table of a ``flow`` result (``None`` when its tidy table lacks the columns).

    The column headings' n is each arm's randomized count (``n_subjects``); the cells are the tidy
    ``count`` and ``percent``, so the wide table and ``tables/<id>.csv`` agree number for number.
    """
    tidy = analysis.tidy
    if tidy is None or tidy.empty or not _NEEDED <= set(tidy.columns):
        return None
    extras = analysis.extras if isinstance(analysis.extras, dict) else {}
    level_labels = {**_dictionary_level_labels(getattr(analysis, "columns", None)),
                    **(extras.get("level_labels") or {})}
    shown = tidy[["visit", "level", "group"]]
    shown = _relabel_levels(shown, level_labels) if level_labels else shown
    frame = tidy.assign(visit_text=shown["visit"].to_numpy(), level_text=shown["level"].to_numpy(),
                        group_text=shown["group"].to_numpy())

    groups = list(dict.fromkeys(frame["group"]))
    group_text = dict(zip(frame["group"], frame["group_text"]))
    group_n = {g: int(frame.loc[frame["group"] == g, "n_subjects"].max()) for g in groups}
    columns = ["Stage", *[f"{group_text[g]} (n = {group_n[g]})" for g in groups]]

    rows: list[list[str]] = []
    row_keys = list(zip(frame["stage"], frame["visit"].map(_key), frame["level"].map(_key)))
    for stage, visit, level in dict.fromkeys(row_keys):   # one display row per stage / visit / reason
        part = frame[[key == (stage, visit, level) for key in row_keys]]
        first = part.iloc[0]
        if stage == "assessed":
            if not any(row[0] == _ASSESSED for row in rows):
                rows.append([_ASSESSED, *[""] * len(groups)])
            name = INDENT + str(first["visit_text"])
        elif level is not None:
            name = INDENT + str(first["level_text"])
        else:
            name = _STAGE_TEXT.get(str(stage), str(stage))
        rows.append([name, *_cells(part, groups)])

    notes = [f"n in a column heading: the participants randomized to the arm; % of them. Every count is in "
             f"tables/{analysis.analysis_id}.csv."]
    return DisplayTable(id=analysis.analysis_id, title=analysis.title or analysis.analysis_id, columns=columns,
                        rows=rows, align=["left"] + ["right"] * len(groups), notes=notes,
                        keys=["stage", *["count"] * len(groups)])


def _cells(part: pd.DataFrame, groups: list) -> list[str]:
    """``n (%)`` per arm (empty where the arm has no row; ``n`` alone when the percent is missing)."""
    out = []
    for group in groups:
        found = part[part["group"] == group]
        if found.empty or glossary.missing(found["count"].iloc[0]):
            out.append("")
            continue
        count, percent = int(found["count"].iloc[0]), found["percent"].iloc[0]
        out.append(str(count) if glossary.missing(percent) else f"{count} ({float(percent):.1f} %)")
    return out
