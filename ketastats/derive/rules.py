"""Rule-based columns: flags such as ``madrs_pct_change <= -50`` and values such as ``hippocampus_r / icv``.

The rule has been parsed and checked by :mod:`ketastats.language.expressions` at plan validation;
here it is evaluated by that module's interpreter (never by Python's ``eval``).

Example
-------
>>> import pandas as pd
>>> from ketastats.language.expressions import parse_expression
>>> rule_column(pd.DataFrame({"madrs": [8, 12]}), parse_expression("madrs < 10")).tolist()
[True, False]
"""

from __future__ import annotations

import ast
from typing import ClassVar

import pandas as pd
from pydantic import Field

from ketastats.data.dictionary import Column
from ketastats.derive.base import DeriveContext, TableDerivation
from ketastats.errors import Issue
from ketastats.language.expressions import Expression, ExpressionError, parse_expression
from ketastats.language.names import NameResolver


def rule_column(frame: pd.DataFrame, expression: Expression) -> pd.Series:
    """The rule evaluated on every row of ``frame`` (missing where a name in it is missing)."""
    return expression.evaluate(frame)


def is_boolean(expression: Expression) -> bool:
    """True when the rule is a flag (a comparison, and/or/not, is_missing(), true / false).

    >>> is_boolean(parse_expression("madrs <= 10")), is_boolean(parse_expression("a / b"))
    (True, False)
    """
    tree = expression.tree
    if isinstance(tree, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return True
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in ("is_missing", "not_missing"):
        return True
    return isinstance(tree, ast.Name) and tree.id in ("true", "false", "True", "False")


class RuleDerivation(TableDerivation):
    """A flag or value computed row by row from a rule expression (see the rule grammar)."""

    KIND: ClassVar[str] = "rule"

    rule: str = Field(description="an expression such as \"madrs_pct_change <= -50\" or \"hippocampus_r / icv\"")

    def declare(self, names: NameResolver, index: int) -> None:
        path = ("derive", index)
        if not names.table(self.table, path + ("table",)):
            return
        names.expression(self.rule, self.table, path + ("rule",), index)
        try:  # the column's type comes from the rule's shape, even when a name in it is wrong
            kind = "boolean" if is_boolean(parse_expression(self.rule)) else "number"
        except ExpressionError:
            kind = "number"
        names.new_column(self.table, self.name, Column(type=kind, required=False, label=self.label,
                                                       description=self.description or self.rule), path + ("name",))

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        frame = tables[self.table]
        frame[self.name] = rule_column(frame, context.expression("rule"))
        return []
