"""stats.risk_ratio: Katz's log and Koopman's score intervals against R (tests/reference/risk_ratio/):
the shipped ketamine vs ECT tables and 160 generated ones (zero cells, all-event groups, n from 1 to 250)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ketastats.stats.risk_ratio import koopman_statistic, risk_ratio
from tests.reference import tolerances

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "reference" / "risk_ratio" / "reference.json")
                       .read_text())
CASES = list(REFERENCE["shipped"].values()) + REFERENCE["designs"]


def number(value) -> float:
    """R's JSON: "Inf" and "NA" (0 / 0) as strings."""
    return math.nan if value == "NA" else float(value)


def same(ours: float, want: float, rtol: float) -> bool:
    """Equal non-finite values and zeros exactly, others within ``rtol``."""
    if math.isnan(want) or math.isinf(want) or want == 0:
        return (math.isnan(ours) and math.isnan(want)) or ours == want
    return math.isclose(ours, want, rel_tol=rtol)


def label(case) -> str:
    return f"{case['label']}:{case['x1']}/{case['n1']}-{case['x2']}/{case['n2']}@{case['conf_level']}"


@pytest.mark.parametrize("case", CASES, ids=label)
def test_katz_and_koopman_match_r(case):
    args = (case["x1"], case["n1"], case["x2"], case["n2"])
    for method in ("katz", "koopman"):
        estimate, low, high = risk_ratio(*args, method, case["conf_level"])
        assert same(estimate, number(case["estimate"]), tolerances.RISK_RATIO_RTOL)
        assert same(low, number(case[f"{method}_low"]), tolerances.RISK_RATIO_RTOL), method
        assert same(high, number(case[f"{method}_high"]), tolerances.RISK_RATIO_RTOL), method


@pytest.mark.parametrize("case", CASES, ids=label)
def test_koopman_matches_propcis(case):
    x1, n1, x2, n2 = case["x1"], case["n1"], case["x2"], case["n2"]
    _, low, high = risk_ratio(x1, n1, x2, n2, "koopman", case["conf_level"])
    stepped = x1 == n1 or x2 == n2
    rtol = tolerances.RISK_RATIO_PROPCIS_STEP_RTOL if stepped else tolerances.RISK_RATIO_PROPCIS_RTOL
    want_low, want_high = number(case["koopman_propcis_low"]), number(case["koopman_propcis_high"])
    if not (x1 == n1 and x2 == 0) and not math.isnan(want_low):   # see tolerances: PropCIs' 1 / p0 there
        assert same(low, want_low, rtol)
    assert same(high, want_high, rtol)


def test_koopman_limits_are_roots_and_propcis_lower_limit_at_all_vs_none_is_inside():
    # 1/1 vs 0/25: U(phi) = 26 / phi below phi = 26, so the lower limit is 26 / qchisq(0.95, 1);
    # PropCIs (and DescTools) print 26, where U = 1 < 3.84
    _, low, high = risk_ratio(1, 1, 0, 25, "koopman")
    assert low == pytest.approx(26 / 3.841458820694124, rel=1e-12) and high == math.inf
    assert koopman_statistic(26.0, 1, 1, 0, 25) == pytest.approx(1.0)


def test_zero_cells():
    assert risk_ratio(0, 10, 0, 12, "koopman")[1:] == (0.0, math.inf)
    assert math.isnan(risk_ratio(0, 10, 0, 12, "katz")[0])
    estimate, low, high = risk_ratio(0, 10, 4, 12, "katz")
    # DescTools katz.log: x1 = 0.5 in the ratio and the variance, n1 unchanged
    assert (estimate, low) == (0.0, 0.0)
    assert high == pytest.approx((0.05 / (4 / 12)) * math.exp(1.959963984540054 * math.sqrt(2 - 0.1 + 0.25 - 1 / 12)))
    assert risk_ratio(5, 10, 0, 12, "katz")[0] == math.inf and risk_ratio(5, 10, 0, 12, "katz")[2] == math.inf


def test_bad_input():
    with pytest.raises(ValueError, match="at least one observation"):
        risk_ratio(0, 0, 1, 2)
    with pytest.raises(ValueError, match="katz or koopman"):
        risk_ratio(1, 2, 1, 2, "wald")
