"""What every derivation kind shares: its plan keys, its name-resolution hook and its apply step.

A derivation kind is a :class:`DerivationSpec` subclass with ``KIND`` (the plan key that
identifies it, e.g. ``change_from_baseline``), registered in :data:`ketastats.derive.REGISTRY`.
It implements two hooks:

- :meth:`DerivationSpec.declare` — at validation, check the names it uses and add what it
  creates (a column, or a table) to the catalog, through the :class:`NameResolver`;
- :meth:`DerivationSpec.apply` — at run time, compute it on the (copied) tables.

Example
-------
>>> from ketastats.derive import REGISTRY
>>> [spec.KIND for spec in REGISTRY][:2]
['change_from_baseline', 'percent_change_from_baseline']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
from pydantic import Field

from ketastats.errors import Issue
from ketastats.language.fields import Identifier, Strict
from ketastats.language.names import NameResolver, PathKey


@dataclass
class DeriveContext:
    """What :meth:`DerivationSpec.apply` may read besides the tables."""

    subject: str
    index: int
    expressions: dict = field(default_factory=dict)    # YAML path → parsed rule (from name resolution)
    columns: dict = field(default_factory=dict)        # table → {column → dictionary entry}

    @property
    def path(self) -> PathKey:
        return ("derive", self.index)

    def expression(self, *key: Any):
        """The parsed rule at ``derive[index].<key...>`` (``None`` if the key is absent)."""
        return self.expressions.get(self.path + key)


class DerivationSpec(Strict):
    """Keys every derivation has. Subclasses set ``KIND`` and add their own keys and hooks."""

    KIND: ClassVar[str] = ""
    ADDS_TABLE: ClassVar[bool] = False
    """True when the derivation creates a table (``name`` is a table, not a column)."""

    name: Identifier = Field(description="the new column")
    description: str | None = None
    label: str | None = Field(None, description="the new column's name in report tables and figures (default: "
                              "from its source, e.g. 'Change in HDRS-17', 'HDRS-17 at Baseline')")

    def declare(self, names: NameResolver, index: int) -> None:
        """Check the names this derivation uses and add what it creates to ``names.catalog``."""

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        """Compute the derivation into ``tables`` (copies, changed in place); returns warnings."""
        raise NotImplementedError

    def joins_from(self) -> str | None:
        """The table whose values are joined onto other tables by subject, if any."""
        return None


class TableDerivation(DerivationSpec):
    """A derivation that adds one column to one table."""

    table: str = Field(description="the table the column is added to")
