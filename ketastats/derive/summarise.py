"""Summarise a table into a new one: one row per combination of ``by``, means of numeric columns.

The Siegel et al. 2021 imaging analysis averages a participant's two pre-infusion scans before
modelling (40 observations from 61 scans); this is that step, declared in the plan::

    - {name: fc_sessions, summarise: imaging, by: [participant_id, time],
       mean: [fc_dmn, fc_sgacc_dmn, fc_limbic, fc_visual]}

Missing values are skipped in a mean (a mean of no values is missing); ``n_rows`` counts the
rows summarised. Rows of the new table are numbered 1..n in ``by`` order (category level order).

Example
-------
>>> import pandas as pd
>>> f = pd.DataFrame({"pid": ["a", "a", "a"], "time": ["pre", "pre", "post"], "fc": [0.2, 0.4, 0.1]})
>>> summarise_table(f, ["pid", "time"], ["fc"], None).to_dict("list")
{'pid': ['a', 'a'], 'time': ['post', 'pre'], 'fc': [0.1, 0.30000000000000004], 'n_rows': [1, 2]}
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from pydantic import Field

from ketastats.data.dictionary import Column
from ketastats.derive.base import DerivationSpec, DeriveContext
from ketastats.errors import Issue
from ketastats.language.fields import Identifier, Names
from ketastats.language.names import NameResolver


class Summarise(DerivationSpec):
    """A new table: one row per combination of ``by`` in table ``summarise``, with the mean of each
    ``mean`` column over that combination's rows (e.g. a participant's two baseline scans averaged)."""

    KIND: ClassVar[str] = "summarise"
    ADDS_TABLE: ClassVar[bool] = True

    name: Identifier = Field(description="the new table")
    summarise: str = Field(description="the table summarised")
    by: Names = Field(description="the columns that define a row of the new table, e.g. [participant_id, time]")
    mean: Names = Field(description="numeric columns averaged over the rows of each combination")
    where: str | None = Field(None, description="only rows where this rule is true are summarised")

    def declare(self, names: NameResolver, index: int) -> None:
        path = ("derive", index)
        source = self.summarise
        if not names.table(source, path + ("summarise",)):
            return
        if self.name in names.catalog.columns:
            names.add("duplicate-table", f"table '{self.name}' already exists", path + ("name",))
            return
        if self.where is not None:
            names.expression(self.where, source, path + ("where",), index)
        columns: dict[str, Column] = {}
        named = [("by", position, name) for position, name in enumerate(self.by)] + \
            [("mean", position, name) for position, name in enumerate(self.mean)]
        seen: set[str] = set()
        for key, position, name in named:  # each column once: by and mean become the new table's columns
            if name in seen or name == "n_rows":
                names.add("duplicate-column", f"column '{name}' appears twice in the summarised table",
                          path + (key, position), "Name each column once under by: and mean: (n_rows is added)")
            seen.add(name)
        for position, name in enumerate(self.by):
            spec = names.column(source, name, path + ("by", position), index)
            if spec is not None:
                columns[name] = spec
        for position, name in enumerate(self.mean):
            spec = names.column(source, name, path + ("mean", position), index)
            if spec is None:
                continue
            if spec.type not in ("integer", "number", "boolean"):
                names.add("not-numeric", f"column '{name}' is {spec.type}; only numbers can be averaged",
                          path + ("mean", position))
                continue
            columns[name] = spec.model_copy(update={"type": "number", "required": False, "min": None, "max": None,
                                                    "description": f"mean of {name} over the rows of {source}"})
        columns["n_rows"] = Column(type="integer", description=f"number of rows of {source} summarised")
        names.catalog.columns[self.name] = columns
        names.catalog.subject_keyed[self.name] = list(self.by) == [names.subject]
        names.catalog.keys[self.name] = list(self.by)

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        expression = context.expression("where")
        source = tables[self.summarise]
        mask = expression.evaluate(source) if expression is not None else None
        tables[self.name] = summarise_table(source, self.by, self.mean, mask)
        return []


def summarise_table(frame: pd.DataFrame, by: list[str], mean: list[str], mask: pd.Series | None) -> pd.DataFrame:
    """One row per combination of ``by`` (rows where ``mask`` is true), means of ``mean``, and ``n_rows``."""
    rows = frame if mask is None else frame[mask.fillna(False).astype(bool)]
    rows = rows[rows[by].notna().all(axis=1)]
    values = rows[mean].apply(lambda column: pd.to_numeric(column.astype("Float64"), errors="coerce")
                              .astype(float))
    grouped = pd.concat([rows[by], values], axis=1).groupby(by, observed=True, sort=True)
    out = grouped[mean].mean().reset_index()
    out["n_rows"] = grouped.size().to_numpy()
    for column in by:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            out[column] = pd.Categorical(out[column], categories=frame[column].cat.categories,
                                         ordered=frame[column].cat.ordered)
    out.index = pd.RangeIndex(1, len(out) + 1, name="row")
    return out
