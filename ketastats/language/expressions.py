"""The rule grammar: a small, whitelisted expression language for derivations and filters.

A rule such as ``"madrs_pct_change <= -50"`` or ``"hippocampus_r / icv"`` is parsed into a
syntax tree by Python's parser (parsing only — nothing is ever evaluated by Python) and then
checked node by node against a whitelist: column names, numbers, quoted text, ``true`` /
``false``, arithmetic ``+ - * /``, comparisons ``< <= > >= == !=``, ``in [...]`` lists,
``and`` / ``or`` / ``not``, and the functions in :data:`FUNCTIONS`. Anything else (attribute
access, subscripts, lambdas, other calls, ``**``) is refused with an ``expression-not-allowed``
issue. The checked tree is evaluated by this module's own small interpreter over pandas
columns.

Missing values propagate: a comparison with a missing value is missing (not false), and
``and`` / ``or`` follow three-valued (Kleene) logic, so a responder flag is missing where
the score is missing and the row is reported as excluded rather than counted as a failure.

Example
-------
>>> import pandas as pd
>>> rule = parse_expression("madrs < 10 and visit != 'baseline'")
>>> sorted(rule.names)
['madrs', 'visit']
>>> frame = pd.DataFrame({"madrs": [8, 12, None], "visit": ["week2", "week2", "week2"]})
>>> rule.evaluate(frame).tolist()
[True, False, <NA>]
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

MAX_LENGTH = 2000

FUNCTIONS: dict[str, tuple[int, Callable[..., pd.Series]]] = {
    "abs": (1, lambda x: _numeric(x).abs()),
    "log": (1, lambda x: _finite(np.log(_numeric(x).where(_numeric(x) > 0)))),
    "log10": (1, lambda x: _finite(np.log10(_numeric(x).where(_numeric(x) > 0)))),
    "exp": (1, lambda x: _finite(_quiet(np.exp, _numeric(x)))),
    "sqrt": (1, lambda x: _finite(np.sqrt(_numeric(x).where(_numeric(x) >= 0)))),
    "as_number": (1, lambda x: _numeric(x)),
    "is_missing": (1, lambda x: pd.Series(pd.isna(x), index=x.index, dtype="boolean")),
    "not_missing": (1, lambda x: pd.Series(~pd.isna(x), index=x.index, dtype="boolean")),
}
"""Named functions a rule may call, with their number of arguments."""

_CONSTANT_NAMES = {"true": True, "false": False, "True": True, "False": False}


class ExpressionError(ValueError):
    """A rule is not in the grammar; ``code`` is the stable issue code."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass
class Expression:
    """A checked rule: its text, the columns it reads and the (column, text) pairs it compares."""

    text: str
    tree: ast.expr
    names: set[str] = field(default_factory=set)
    level_comparisons: list[tuple[str, str]] = field(default_factory=list)

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Evaluate on ``frame`` (which must hold every name); returns a boolean or float Series."""
        value = _Evaluator(frame).visit(self.tree)
        if not isinstance(value, pd.Series):
            value = pd.Series([value] * len(frame), index=frame.index)
        if pd.api.types.is_bool_dtype(value.dtype) or str(value.dtype) == "boolean":
            return value.astype("boolean")
        return value


def parse_expression(text: str) -> Expression:
    """Parse and check a rule; raises :class:`ExpressionError` on anything outside the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression-empty", "the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expression-too-long", f"the expression is longer than {MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():  # Python's SyntaxWarnings ("invalid decimal literal") are not for users
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError("expression-syntax", f"cannot parse expression {text!r}: {exc.msg}",
                              "Use column names, numbers, 'quoted text', < <= > >= == !=, and, or, not") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression-syntax", f"cannot parse expression {text!r}") from None
    expression = Expression(text=text, tree=tree)
    try:
        _Checker(expression).visit(tree)
    except RecursionError:
        raise ExpressionError("expression-too-deep", "the expression is nested too deeply") from None
    return expression


class _Checker(ast.NodeVisitor):
    def __init__(self, expression: Expression):
        self.expression = expression

    def generic_visit(self, node: ast.AST) -> None:
        construct = _describe(node)
        raise ExpressionError("expression-not-allowed", f"{construct} is not allowed in a rule",
                              "Rules may use column names, numbers, 'quoted text', arithmetic + - * /, "
                              "comparisons, in [...], and / or / not, and the functions "
                              + ", ".join(sorted(FUNCTIONS)))

    def visit_Name(self, node: ast.Name) -> None:
        if node.id not in _CONSTANT_NAMES:
            self.expression.names.add(node.id)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, (int, float, str, bool)) or isinstance(node.value, complex):
            self.generic_visit(node)
        if isinstance(node.value, str):  # text is only compared (==, !=, in): it is never a value
            raise ExpressionError("expression-not-allowed", f"the text {node.value!r} can only be compared with "
                                  "a column (== or !=, or in [...])", "e.g. visit == 'week2'")
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            try:
                finite = bool(np.isfinite(float(node.value)))
            except OverflowError:
                finite = False
            if not finite:
                raise ExpressionError("expression-not-allowed", "the number is too large", "Use a finite number")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            self.generic_visit(node.op)
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            self.generic_visit(node.op)
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)) or not all(
                        isinstance(e, ast.Constant) and isinstance(e.value, (int, float, str)) for e in right.elts):
                    raise ExpressionError("expression-not-allowed", "'in' needs a list of numbers or quoted text, "
                                          "e.g. visit in ['week2', 'week8']")
                self.visit(left)
                if isinstance(left, ast.Name):
                    self.expression.level_comparisons += [(left.id, e.value) for e in right.elts
                                                          if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                continue
            if not isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)):
                self.generic_visit(op)
            for name, const in ((left, right), (right, left)):
                if isinstance(name, ast.Name) and isinstance(const, ast.Constant) and isinstance(const.value, str):
                    self.expression.level_comparisons.append((name.id, const.value))
        for position, operand in enumerate(operands):
            if isinstance(operand, (ast.List, ast.Tuple)):
                if position == len(node.ops) and isinstance(node.ops[-1], (ast.In, ast.NotIn)):
                    continue  # the list of an 'in' at the end of the comparison
                self.generic_visit(operand)  # a list compared with < or chained on ('x in [] < 0')
            if isinstance(operand, ast.Constant) and isinstance(operand.value, str):
                beside = [node.ops[i] for i in (position - 1, position) if 0 <= i < len(node.ops)]
                if all(isinstance(op, (ast.Eq, ast.NotEq)) for op in beside):
                    continue  # text compared with == / != (ordering text is refused by visit_Constant)
            self.visit(operand)

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = f"function {node.func.id!r}" if isinstance(node.func, ast.Name) else \
                f"calling the result of {_describe(node.func)}"
            raise ExpressionError("expression-function-not-allowed", f"{what} is not allowed in a rule",
                                  "Allowed functions: " + ", ".join(sorted(FUNCTIONS)))
        arity = FUNCTIONS[node.func.id][0]
        if node.keywords or len(node.args) != arity:
            raise ExpressionError("expression-arguments", f"{node.func.id}() takes exactly {arity} argument")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.generic_visit(arg)
            self.visit(arg)


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access ('.')", "Subscript": "indexing ('[...]')", "Lambda": "lambda",
        "Call": "a function call", "Pow": "the power operator '**'", "Starred": "'*' unpacking",
        "IfExp": "'if ... else'", "ListComp": "a comprehension", "GeneratorExp": "a comprehension",
        "Dict": "a dictionary", "Set": "a set", "JoinedStr": "an f-string", "NamedExpr": "':='",
        "Await": "await", "Yield": "yield", "Mod": "the operator '%'", "FloorDiv": "the operator '//'",
        "BitAnd": "the operator '&' (use 'and')", "BitOr": "the operator '|' (use 'or')",
        "Invert": "the operator '~' (use 'not')", "Is": "'is' (use ==)", "IsNot": "'is not' (use !=)",
        "List": "a list outside 'in [...]'", "Tuple": "a tuple", "MatMult": "the operator '@'",
        "BitXor": "the operator '^'", "LShift": "the operator '<<'", "RShift": "the operator '>>'",
    }
    return names.get(type(node).__name__, f"'{type(node).__name__}'")


def _numeric(value: pd.Series) -> pd.Series:
    if isinstance(value, pd.Series):
        if str(value.dtype) == "boolean" or pd.api.types.is_bool_dtype(value.dtype):
            return value.astype("Float64").astype(float)
        return pd.to_numeric(value, errors="coerce").astype(float)
    return value


def _quiet(function, value):
    """``function(value)`` without numpy's overflow warning (an overflow becomes missing via _finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return function(value)


def _finite(value: pd.Series) -> pd.Series:
    return value.where(np.isfinite(value))


def _boolean(value) -> pd.Series:
    if isinstance(value, pd.Series):
        if str(value.dtype) == "boolean":
            return value
        if pd.api.types.is_bool_dtype(value.dtype):
            return value.astype("boolean")
        numeric = pd.to_numeric(value, errors="coerce")
        out = (numeric != 0).astype("boolean")
        out[numeric.isna()] = pd.NA
        return out
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.NA
    return bool(value)  # a number used as a condition: nonzero is true (``madrs and 0``)


class _Evaluator(ast.NodeVisitor):
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    def visit_Name(self, node: ast.Name):
        if node.id in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.id]
        column = self.frame[node.id]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object).where(column.notna(), None)
        return column

    def visit_Constant(self, node: ast.Constant):
        return node.value

    def visit_BinOp(self, node: ast.BinOp):
        left, right = _numeric(self.visit(node.left)), _numeric(self.visit(node.right))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if isinstance(node.op, ast.Add):
                result = left + right
            elif isinstance(node.op, ast.Sub):
                result = left - right
            elif isinstance(node.op, ast.Mult):
                result = left * right
            else:
                if isinstance(right, (int, float)) and right == 0:
                    right = np.nan
                result = left / right
        return _finite(result) if isinstance(result, pd.Series) else result

    def visit_UnaryOp(self, node: ast.UnaryOp):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_boolean(value) if isinstance(value, pd.Series) else (not value)
        value = _numeric(value)
        return -value if isinstance(node.op, ast.USub) else value

    def visit_BoolOp(self, node: ast.BoolOp):
        values = [_boolean(self.visit(v)) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = (result & value) if isinstance(node.op, ast.And) else (result | value)
        return result

    def visit_Compare(self, node: ast.Compare):
        operands = [node.left, *node.comparators]
        result = None
        for op, left_node, right_node in zip(node.ops, operands, operands[1:]):
            left = self.visit(left_node)
            if isinstance(op, (ast.In, ast.NotIn)):
                assert isinstance(right_node, (ast.List, ast.Tuple))   # the checker allows only lists of constants
                choices = [e.value for e in right_node.elts if isinstance(e, ast.Constant)]
                part = self._membership(left, choices, negate=isinstance(op, ast.NotIn))
            else:
                part = self._compare(op, left, self.visit(right_node))
            result = part if result is None else (result & part)
        return result

    def visit_Call(self, node: ast.Call):
        args = [self.visit(a) for a in node.args]
        args = [a if isinstance(a, pd.Series) else pd.Series([a] * len(self.frame), index=self.frame.index)
                for a in args]
        assert isinstance(node.func, ast.Name)   # the checker allows only calls of FUNCTIONS by name
        return FUNCTIONS[node.func.id][1](*args)

    def _membership(self, left, choices, negate: bool):
        if not isinstance(left, pd.Series):
            return (left in choices) != negate
        missing = pd.isna(left)
        as_text = left.map(lambda v: v if isinstance(v, str) else v)
        result = as_text.isin(choices).astype("boolean")
        if negate:
            result = ~result
        result[missing] = pd.NA
        return result

    def _compare(self, op: ast.cmpop, left, right):
        textual = any(isinstance(v, str) for v in (left, right))
        if not textual:
            left, right = _numeric(left), _numeric(right)
        operations = {
            ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
            ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
        }
        if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
            return operations[type(op)](left, right)
        series = left if isinstance(left, pd.Series) else right
        missing = pd.isna(left) if isinstance(left, pd.Series) else pd.Series(False, index=series.index)
        if isinstance(right, pd.Series):
            missing = missing | pd.isna(right)
        if textual and type(op) not in (ast.Eq, ast.NotEq):
            raise ExpressionError("expression-type", "text can only be compared with == or !=")
        result = operations[type(op)](left, right)
        result = pd.Series(result, index=series.index).astype("boolean")
        result[missing] = pd.NA
        return result
