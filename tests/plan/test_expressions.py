"""The rule grammar: what it accepts, what it refuses (without evaluating), missing values."""

from __future__ import annotations

import pandas as pd
import pytest

from ketastats.language.expressions import ExpressionError, parse_expression

FRAME = pd.DataFrame({
    "madrs": [8.0, 12.0, None, 30.0],
    "icv": [1.5e6, 1.4e6, 1.6e6, 0.0],
    "hippocampus_r": [4000.0, 3900.0, None, 4100.0],
    "visit": ["week2", "baseline", "week2", None],
    "flag": pd.array([True, False, None, True], dtype="boolean"),
})


@pytest.mark.parametrize("text, expected", [
    ("madrs < 10", [True, False, pd.NA, False]),
    ("madrs >= 10 and visit == 'week2'", [False, False, pd.NA, pd.NA]),
    ("madrs < 10 or flag", [True, False, pd.NA, True]),
    ("not flag", [False, True, pd.NA, False]),
    ("visit in ['week2', 'week8']", [True, False, True, pd.NA]),
    ("visit not in ['week2']", [False, True, False, pd.NA]),
    ("is_missing(madrs)", [False, False, True, False]),
    ("10 <= madrs <= 20", [False, True, pd.NA, False]),
])
def test_flags(text, expected):
    result = parse_expression(text).evaluate(FRAME)
    assert str(result.dtype) == "boolean"
    assert [None if pd.isna(v) else bool(v) for v in result] == [None if v is pd.NA else v for v in expected]


def test_ratio_and_division_by_zero_is_missing():
    result = parse_expression("hippocampus_r / icv").evaluate(FRAME)
    assert result.iloc[0] == pytest.approx(4000 / 1.5e6, rel=1e-15)
    assert result.isna().tolist() == [False, False, True, True]


def test_arithmetic():
    result = parse_expression("-(madrs - 2) * 2 + abs(-1)").evaluate(FRAME)
    assert result.tolist()[:2] == [-11.0, -19.0]


@pytest.mark.parametrize("text, code", [
    ("__import__('os').system('touch /tmp/owned')", "expression-function-not-allowed"),
    ("madrs.__class__", "expression-not-allowed"),
    ("(lambda: 1)()", "expression-function-not-allowed"),
    ("lambda x: x", "expression-not-allowed"),
    ("open('/etc/passwd')", "expression-function-not-allowed"),
    ("madrs[0]", "expression-not-allowed"),
    ("madrs ** 2", "expression-not-allowed"),
    ("[x for x in madrs]", "expression-not-allowed"),
    ("f'{madrs}'", "expression-not-allowed"),
    ("madrs if flag else icv", "expression-not-allowed"),
    ("madrs <", "expression-syntax"),
    ("", "expression-empty"),
    ("log(madrs, 2)", "expression-arguments"),
    ("madrs & flag", "expression-not-allowed"),
])
def test_refused(text, code):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.code == code


def test_names_and_level_comparisons_are_collected():
    expression = parse_expression("visit == 'week2' and madrs < 10 or visit in ['day1']")
    assert expression.names == {"visit", "madrs"}
    assert sorted(expression.level_comparisons) == [("visit", "day1"), ("visit", "week2")]
