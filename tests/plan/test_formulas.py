"""The formula grammar: expansion as R / patsy, and refusal of anything that is not a name."""

from __future__ import annotations

import pandas as pd
import pytest

from ketastats.language.formulas import FormulaError, design_matrices, parse_formula, parse_random


@pytest.mark.parametrize("text, rhs", [
    ("y ~ a", "1 + a"),
    ("y ~ a * b", "1 + a + b + a:b"),
    ("y ~ a*b*c", "1 + a + b + a:b + c + a:c + b:c + a:b:c"),
    ("y ~ (a + b):c", "1 + a:c + b:c"),
    ("y ~ a + b - 1", "0 + a + b"),
    ("y ~ 0 + a", "0 + a"),
    ("y ~ a * b - a:b", "1 + a + b"),
    ("y ~ time + time:responder_2wk", "1 + time + time:responder_2wk"),
    ("y ~ a + a", "1 + a"),
])
def test_expansion(text, rhs):
    assert parse_formula(text).rhs_text() == rhs


@pytest.mark.parametrize("text, code", [
    ("y ~ log(a)", "formula-function-not-allowed"),
    ("y ~ __import__('os').system('x')", "formula-not-allowed"),
    ("y ~ exec(x)", "formula-function-not-allowed"),
    ("y ~ I(a**2)", "formula-function-not-allowed"),
    ("y ~ a.b", "formula-not-allowed"),
    ("y ~ a + 2", "formula-not-allowed"),
    ("y ~ a +", "formula-syntax"),
    ("y a", "formula-syntax"),
    ("~ a", "formula-syntax"),
    ("", "formula-empty"),
    ("y ~ (a + b", "formula-syntax"),
    ("y ~ a:1", "formula-syntax"),
])
def test_refused(text, code):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert caught.value.code == code


def test_random_effects():
    assert parse_random("1 | participant_id").terms == []
    slope = parse_random("day | participant_id")
    assert (slope.group, slope.terms, slope.intercept) == ("participant_id", [("day",)], True)
    assert parse_random("0 + day | s").intercept is False
    with pytest.raises(FormulaError):
        parse_random("day")
    with pytest.raises(FormulaError):
        parse_random("a:b | s")


def test_design_uses_only_formula_columns_and_no_python_names():
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [0.0, 1.0, 0.0, 1.0],
                          "g": pd.Categorical(["a", "b", "a", "b"]), "open": [1, 2, 3, 4]})
    design = design_matrices(parse_formula("y ~ x * g"), frame)
    assert list(design.columns) == ["Intercept", "g[T.b]", "x", "x:g[T.b]"]
    with pytest.raises(Exception):
        design_matrices(parse_formula("y ~ abs"), frame)  # not a column: patsy must not find the builtin
