"""ketastats.stats.intervals against R (stored reference values) and on edge cases.

The reference values in ``tests/reference/proportions/proportions.json`` come from
``tests/reference/proportions/make_reference.R`` (see the README there); these tests
only read the JSON and never need R.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ketastats.stats.intervals import clopper_pearson_interval, wilson_interval
from tests.reference import tolerances

_REFERENCE = Path(__file__).resolve().parents[1] / "reference"

ATOL = tolerances.PROPORTION_CI_ATOL

with open(_REFERENCE / "proportions" / "proportions.json", encoding="utf-8") as fh:
    REFERENCE = json.load(fh)
CASES = REFERENCE["cases"]

# R calls the reference records; the test ids below spell them out per case.
R_WILSON = "prop.test(x, n, conf.level = conf_level, correct = FALSE)$conf.int"
R_CLOPPER_PEARSON = "binom.test(x, n, conf.level = conf_level)$conf.int"

REQUIRED_PAIRS = [
    (16, 22), (11, 21), (13, 22), (8, 21), (7, 21), (15, 21), (13, 21), (0, 10),
    (10, 10), (1, 1), (0, 1), (1, 2), (50, 100), (3, 1000), (999, 1000),
]
REQUIRED_LEVELS = [0.95, 0.90]


def _wilson_id(case: dict) -> str:
    return (f"prop.test({case['count']}, {case['n']}, "
            f"conf.level = {case['conf_level']:g}, correct = FALSE)")


def _cp_id(case: dict) -> str:
    return f"binom.test({case['count']}, {case['n']}, conf.level = {case['conf_level']:g})"


# --- the reference file itself -------------------------------------------------------

def test_reference_records_the_r_calls_and_versions():
    assert REFERENCE["calls"] == {"wilson": R_WILSON, "clopper_pearson": R_CLOPPER_PEARSON}
    assert REFERENCE["R_version"].startswith("R version ")
    assert set(REFERENCE["packages"]) >= {"stats", "jsonlite"}
    assert REFERENCE["skipped"] == []


def test_reference_covers_the_required_grid():
    present = {(c["count"], c["n"], c["conf_level"]) for c in CASES}
    missing = [(x, n, cl) for x, n in REQUIRED_PAIRS for cl in REQUIRED_LEVELS
               if (x, n, cl) not in present]
    assert missing == []


def test_reference_keeps_17_significant_digits():
    # jsonlite::toJSON would round to 15 significant digits; the generator writes
    # %.17g. A value stored with 15 digits equals its own 15-digit rounding, while
    # most exact doubles strictly inside (0, 1) do not.
    text = (_REFERENCE / "proportions" / "proportions.json").read_text(encoding="utf-8")
    assert "0.49777879873365105" in text  # binom.test(16, 22)$conf.int[1]
    interior = [b for c in CASES for b in c["wilson"] + c["clopper_pearson"] if 0 < b < 1]
    not_15_digit = [b for b in interior if float(f"{b:.15g}") != b]
    assert len(not_15_digit) > 0.5 * len(interior)  # 220 of 246 with R 4.2.2


# --- agreement with R ------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_wilson_id)
def test_wilson_matches_r_prop_test_without_correction(case):
    """wilson_interval == R prop.test(x, n, conf.level, correct = FALSE)$conf.int."""
    lower, upper = wilson_interval(case["count"], case["n"], conf_level=case["conf_level"])
    r_lower, r_upper = case["wilson"]
    assert abs(float(lower) - r_lower) <= ATOL
    assert abs(float(upper) - r_upper) <= ATOL


@pytest.mark.parametrize("case", CASES, ids=_cp_id)
def test_clopper_pearson_matches_r_binom_test(case):
    """clopper_pearson_interval == R binom.test(x, n, conf.level)$conf.int."""
    lower, upper = clopper_pearson_interval(
        case["count"], case["n"], conf_level=case["conf_level"]
    )
    r_lower, r_upper = case["clopper_pearson"]
    assert abs(float(lower) - r_lower) <= ATOL
    assert abs(float(upper) - r_upper) <= ATOL


@pytest.mark.parametrize(
    "func, key",
    [(wilson_interval, "wilson"), (clopper_pearson_interval, "clopper_pearson")],
    ids=[R_WILSON, R_CLOPPER_PEARSON],
)
def test_vectorised_call_matches_r_for_whole_grid(func, key):
    for level in sorted({c["conf_level"] for c in CASES}):
        cases = [c for c in CASES if c["conf_level"] == level]
        count = np.array([c["count"] for c in cases])
        n = np.array([c["n"] for c in cases])
        lower, upper = func(count, n, conf_level=level)
        assert lower.shape == upper.shape == (len(cases),)
        np.testing.assert_allclose(lower, [c[key][0] for c in cases], rtol=0, atol=ATOL)
        np.testing.assert_allclose(upper, [c[key][1] for c in cases], rtol=0, atol=ATOL)


def test_boundaries_are_exactly_r_values():
    # R: prop.test sets p.l = 0 when x = 0 and p.u = 1 when x = n;
    # binom.test sets the lower bound 0 when x = 0 and the upper 1 when x = n.
    for case in CASES:
        x, n, level = case["count"], case["n"], case["conf_level"]
        for func, key in ((wilson_interval, "wilson"),
                          (clopper_pearson_interval, "clopper_pearson")):
            lower, upper = func(x, n, conf_level=level)
            if x == 0:
                assert case[key][0] == 0.0 and float(lower) == 0.0
            if x == n:
                assert case[key][1] == 1.0 and float(upper) == 1.0


# --- the formulas written out (independent of statsmodels), off the R grid -----------

def _all_pairs(max_n: int = 40):
    n = np.concatenate([np.full(k + 1, k) for k in range(1, max_n + 1)])
    count = np.concatenate([np.arange(k + 1) for k in range(1, max_n + 1)])
    return count, n


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_wilson_equals_closed_form(level):
    count, n = _all_pairs()
    p = count / n
    z = stats.norm.ppf((1 + level) / 2)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    lower, upper = wilson_interval(count, n, conf_level=level)
    np.testing.assert_allclose(lower, centre - half, rtol=0, atol=ATOL)
    np.testing.assert_allclose(upper, centre + half, rtol=0, atol=ATOL)


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_clopper_pearson_equals_beta_quantiles(level):
    count, n = _all_pairs()
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        expected_lower = np.where(
            count == 0, 0.0, stats.beta.ppf(alpha / 2, count, n - count + 1))
        expected_upper = np.where(
            count == n, 1.0, stats.beta.ppf(1 - alpha / 2, count + 1, n - count))
    lower, upper = clopper_pearson_interval(count, n, conf_level=level)
    np.testing.assert_allclose(lower, expected_lower, rtol=0, atol=ATOL)
    np.testing.assert_allclose(upper, expected_upper, rtol=0, atol=ATOL)


@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
def test_interval_contains_estimate_and_narrows_with_level(func):
    count, n = _all_pairs()
    lo95, up95 = func(count, n, conf_level=0.95)
    lo90, up90 = func(count, n, conf_level=0.90)
    p = count / n
    assert np.all((0 <= lo95) & (lo95 <= p) & (p <= up95) & (up95 <= 1))
    assert np.all((lo95 <= lo90) & (up90 <= up95))


def test_clopper_pearson_is_wider_than_wilson_on_grid():
    count, n = _all_pairs()
    w_lo, w_up = wilson_interval(count, n)
    cp_lo, cp_up = clopper_pearson_interval(count, n)
    assert np.all(cp_up - cp_lo >= w_up - w_lo)


# --- shapes, types and n == 0 ---------------------------------------------------------

@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
def test_scalar_input_gives_0d_float_arrays(func):
    lower, upper = func(16, 22)
    assert isinstance(lower, np.ndarray) and isinstance(upper, np.ndarray)
    assert lower.shape == upper.shape == ()
    assert lower.dtype == upper.dtype == np.float64


@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
def test_broadcasting_and_whole_floats(func):
    lower, upper = func([[1], [2]], [3, 4, 5])
    assert lower.shape == upper.shape == (2, 3)
    ref_lower, ref_upper = func(2, 4)
    assert lower[1, 1] == ref_lower and upper[1, 1] == ref_upper
    f_lower, f_upper = func(np.array([16.0]), np.array([22.0]))
    i_lower, i_upper = func(np.array([16]), np.array([22]))
    assert f_lower[0] == i_lower[0] and f_upper[0] == i_upper[0]


@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
def test_n_zero_gives_nan_without_warnings(func, recwarn):
    lower, upper = func([0, 3, 0], [0, 10, 0])
    assert np.isnan(lower[[0, 2]]).all() and np.isnan(upper[[0, 2]]).all()
    assert np.isfinite(lower[1]) and np.isfinite(upper[1])
    lower0, upper0 = func(0, 0)
    assert math.isnan(float(lower0)) and math.isnan(float(upper0))
    assert len(recwarn) == 0


@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
def test_empty_input(func):
    lower, upper = func([], [])
    assert lower.shape == upper.shape == (0,)


# --- invalid input ----------------------------------------------------------------------

@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
@pytest.mark.parametrize(
    "count, n, match",
    [
        (11, 10, r"0 <= count <= n"),
        ([1, 11], [10, 10], r"0 <= count <= n"),
        (-1, 10, r"0 <= count <= n"),
        (1, -2, r"n must be >= 0"),
        (2.5, 10, r"count must be whole"),
        (2, 10.5, r"n must be whole"),
        (float("nan"), 10, r"count must be finite"),
        (1, float("inf"), r"n must be finite"),
        ("3", 10, r"count must be integer counts"),
        (True, 10, r"count must be integer counts"),
        (1, None, r"n must be integer counts"),
        ([1, 2, 3], [10, 10], r"cannot be broadcast"),
    ],
)
def test_invalid_counts_raise_value_error(func, count, n, match):
    with pytest.raises(ValueError, match=match):
        func(count, n)


@pytest.mark.parametrize("func", [wilson_interval, clopper_pearson_interval])
@pytest.mark.parametrize(
    "conf_level", [0, 1, 1.5, -0.1, 95, float("nan"), [0.9, 0.95], "0.95", None, True]
)
def test_invalid_conf_level_raises_value_error(func, conf_level):
    with pytest.raises(ValueError, match="conf_level"):
        func(5, 10, conf_level=conf_level)
