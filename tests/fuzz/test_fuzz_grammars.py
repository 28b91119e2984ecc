"""Fuzzing the rule grammar (language/expressions.py) and the formula grammar (language/formulas.py).

Random text and mutations of valid rules / formulas must either parse (and then evaluate or
build a design) or raise the grammar's own error with a stable issue code — never another
exception, and never evaluate anything (a rule or formula is parsed, not run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ketastats.errors import KetastatsError
from ketastats.language.expressions import FUNCTIONS, Expression, ExpressionError, parse_expression
from ketastats.language.formulas import Formula, FormulaError, design_matrices, parse_formula, parse_random

CODE = __import__("re").compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")

# A small table with every kind of column a rule meets after validation: integers with missing
# values (float), booleans (nullable), a category, text, and a derived float.
FRAME = pd.DataFrame({
    "madrs": [28.0, 12.0, np.nan, 0.0, 60.0, 7.0],
    "madrs_pct_change": [0.0, -57.1, np.nan, -100.0, 114.3, -75.0],
    "completed": pd.array([True, False, None, True, True, False], dtype="boolean"),
    "visit": pd.Categorical(["baseline", "day1", "week2", None, "week8", "day1"],
                            categories=["baseline", "day1", "week2", "week8"], ordered=True),
    "site": ["a", "b", None, "a", "c", "b"],
    "age": [18.0, 65.0, 40.0, 33.0, np.nan, 21.0],
}, index=range(1, 7))
COLUMNS = list(FRAME.columns)

VALID_RULES = [
    "madrs_pct_change <= -50", "madrs < 10", "madrs < 10 and visit != 'baseline'", "not completed",
    "visit in ['week2', 'week8']", "visit not in ['baseline']", "completed or madrs > 20",
    "as_number(visit == 'week2')", "madrs / age", "log(age) - 1.5", "abs(madrs_pct_change) >= 50",
    "is_missing(madrs)", "not_missing(site) and site == 'a'", "sqrt(madrs) * 2 + exp(0)",
    "-madrs", "10 < madrs <= 30", "madrs / 0", "true", "1e308 * madrs * 1e308",
]
VALID_FORMULAS = ["y ~ x", "madrs ~ visit * arm", "fc ~ time + time:responder_2wk", "y ~ 1",
                  "y ~ a + b - 1", "y ~ (a + b) * c", "y ~ 0 + a", "y ~ a*b*c - a:b:c"]
VALID_RANDOM = ["1 | participant_id", "Days | Subject", "0 + x | g", "x + z | g"]

TOKENS = ["madrs", "visit", "completed", "site", "age", "madrs_pct_change", "'week2'", "'baseline'", "0", "1",
          "-1", "2.5", "1e400", "(", ")", "[", "]", ",", "and", "or", "not", "in", "<", "<=", "==", "!=", ">",
          "+", "-", "*", "/", "**", "%", ".", "__class__", "lambda", ":", "if", "else", "true", "false", "None",
          "__import__", "'os'", "open", "f'{x}'", "~", "&", "|", *FUNCTIONS]


def _mutate(text: str, data) -> str:
    """Delete, duplicate or insert a slice / token of ``text``."""
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        if action == "delete":
            text = text[:position] + text[position + data.draw(st.integers(1, 5)):]
        elif action == "duplicate":
            text = text[:position] + text[position:] + text[position:]
        else:
            piece = data.draw(st.sampled_from(TOKENS) | st.text(max_size=3))
            end = position + (data.draw(st.integers(0, 3)) if action == "replace" else 0)
            text = text[:position] + " " + piece + " " + text[end:]
    return text


def _check_expression(text: str) -> None:
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        assert CODE.match(exc.code) and exc.message
        return
    assert isinstance(expression, Expression)
    if not expression.names <= set(COLUMNS):
        return  # resolve.py reports unknown columns before anything is evaluated
    try:
        value = expression.evaluate(FRAME)
    except ExpressionError as exc:  # e.g. text ordered with <: a located plan error
        assert CODE.match(exc.code)
        return
    assert isinstance(value, pd.Series) and len(value) == len(FRAME)


@given(st.text(max_size=80))
@example("__import__('os').system('touch pwned.txt')")
@example("(lambda: 1)()")
@example("madrs.__class__")
@example("1" * 5000)
@example("(" * 300 + "madrs" + ")" * 300)
@example("not " * 400 + "completed")
@example("madrs if completed else age")
@example("visit in []")
@example("9" * 400 + " < madrs")
@example("\x00")
def test_random_text_rules(text):
    _check_expression(text)


@given(st.sampled_from(VALID_RULES), st.data())
def test_mutated_rules(text, data):
    _check_expression(_mutate(text, data))


RULE = st.deferred(lambda: st.one_of(
    st.sampled_from(COLUMNS),
    st.integers(-100, 100).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["'week2'", "'a'", "true", "false"]),
    st.tuples(RULE, st.sampled_from(["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"]), RULE)
      .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    RULE.map(lambda r: f"not ({r})"),
    st.tuples(st.sampled_from(sorted(FUNCTIONS)), RULE).map(lambda t: f"{t[0]}({t[1]})"),
    st.tuples(st.sampled_from(COLUMNS), st.lists(st.sampled_from(["'week2'", "'a'", "1", "2.5"]), max_size=3))
      .map(lambda t: f"{t[0]} in [{', '.join(t[1])}]"),
))


@given(RULE)
@example("(visit < 'week2')")
@example("(site + 1)")
@example("not (visit)")
@example("(visit == 1)")
@example("exp(madrs * 100)")
@example("(madrs and 0)")  # found by fuzzing: a number in and / or crashed the evaluator
@example("(1 or completed)")
@example("not 0")
@example("(madrs in [] < 0)")  # found by fuzzing: a list as an operand of < reached the evaluator
@example("madrs in [1] == age")
def test_generated_rules_evaluate(text):
    _check_expression(text)


def _check_formula(text: str) -> None:
    for parse in (parse_formula, lambda t: parse_formula(t, require_response=False), parse_random):
        try:
            parsed = parse(text)
        except FormulaError as exc:
            assert CODE.match(exc.code) and exc.message
            continue
        if isinstance(parsed, Formula):
            _check_design(parsed)


DESIGN_FRAME = pd.DataFrame({
    "a": [1.0, 2.0, 3.0, 4.0], "b": pd.Categorical(["x", "y", "x", "y"]), "c": [0.5, 0.1, 0.2, 0.9],
    "x": [1.0, 1.0, 1.0, 1.0], "arm": pd.Categorical(["k", "p", "k", "p"]),
    "visit": pd.Categorical(["1", "1", "2", "2"]),
})


def _check_design(formula: Formula) -> None:
    if not set(formula.names) - {formula.response} <= set(DESIGN_FRAME.columns):
        return
    try:
        design = design_matrices(formula, DESIGN_FRAME)
    except KetastatsError as exc:
        assert all(CODE.match(i.code) for i in exc.issues)
        return
    assert len(design) == len(DESIGN_FRAME)


FORMULA_TOKENS = ["y", "a", "b", "c", "x", "arm", "visit", "~", "+", "-", "*", ":", "|", "(", ")", "1", "0", "2",
                  "log(", "I(", "C(", "**", "__import__('os')", ".", "/", "%in%", "^2", ",", "'", "g"]


@given(st.text(max_size=60))
@example("y ~ __import__('os').system('touch pwned.txt')")
@example("y ~ " + "*".join("abcdefghijkl"))
@example("y ~ " + "(" * 80 + "a" + ")" * 80)
@example("y ~ a | ")
@example("~")
@example("y ~ 1.5")
@example("y ~ (1)*a")
@example("y ~ a - (1)")
@example("a | b | c")
def test_random_text_formulas(text):
    _check_formula(text)


@given(st.lists(st.sampled_from(FORMULA_TOKENS), max_size=14).map(" ".join))
@example("y ~ a + (b")
@example("y ~ a ( b )")
@example("y ~ 0 + 0")
@example("y ~ - a")
@example("y ~ a - a")
@example("~ b : b")
def test_token_soup_formulas(text):
    _check_formula(text)


@given(st.sampled_from(VALID_FORMULAS + VALID_RANDOM), st.data())
def test_mutated_formulas(text, data):
    text = text
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.sampled_from(FORMULA_TOKENS) | st.text(max_size=2))
        cut = data.draw(st.integers(0, 3))
        text = text[:position] + piece + text[position + cut:]
    _check_formula(text)


@pytest.mark.parametrize("text", VALID_RULES)
def test_valid_rules_parse(text):
    assert isinstance(parse_expression(text), Expression)
