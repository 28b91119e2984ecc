"""group_proportions: fisher.test / chisq.test / risk differences against R; rows, orientation, exclusions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from ketastats.analyses import group_proportions
from ketastats.analyses.base import AnalysisInput
from ketastats.stats.contingency import chi_square, fisher_exact, risk_difference
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "correlation_ttest_group_proportions_regression"
REFERENCE = json.loads((REF_DIR / "associations.json").read_text())


def close(a, b) -> bool:
    if isinstance(b, float) and math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=tolerances.ASSOCIATION_RTOL, abs_tol=tolerances.ASSOCIATION_ATOL)


@pytest.mark.parametrize("case", REFERENCE["tables"], ids=lambda c: "-".join(str(int(v)) for v in c["cells"]))
def test_two_by_two_matches_r(case):
    a, b, c, d = (int(v) for v in case["cells"])
    level = case["conf_level"]
    fisher = fisher_exact(a, b, c, d, level)
    assert close(fisher.p_value, case["fisher_p"])
    assert close(fisher.estimate, case["fisher_estimate"])
    assert close(fisher.conf_low, case["fisher_conf_int"][0]) and close(fisher.conf_high, case["fisher_conf_int"][1])
    yates, plain = chi_square(a, b, c, d, True), chi_square(a, b, c, d, False)
    assert close(yates.statistic, case["chisq_yates"]) and close(yates.p_value, case["chisq_yates_p"])
    assert close(plain.statistic, case["chisq"]) and close(plain.p_value, case["chisq_p"])
    for method in ("newcombe", "wald"):
        estimate, low, high = risk_difference(a, a + b, c, c + d, method, level)
        assert close(estimate, case["risk_difference"])
        assert close(low, case[method][0]) and close(high, case[method][1])


def test_rows_orientation_and_exclusions():
    frame = pd.DataFrame({
        "pid": list("abcdefghij"),
        "arm": ["k", "k", "k", "k", "p", "p", "p", "p", "x", None],
        "ae": pd.array([True, True, True, None, False, True, False, False, True, True], dtype="boolean"),
    }, index=range(1, 11))
    spec = group_proportions.Spec(id="g", type="group_proportions", table="t", outcome="ae", group="arm",
                                  levels=["k", "p"], ci=["newcombe", "wald"])
    result = group_proportions.run(spec, AnalysisInput("g", "t", frame, "pid", ["pid"]))
    tidy = result.tidy
    assert tidy["term"].tolist() == ["odds_ratio", "risk_difference", "risk_difference"]
    first = tidy.iloc[0]
    assert (first["count1"], first["n1"], first["count2"], first["n2"], first["contrast"]) == (3, 3, 1, 4, "k - p")
    assert tidy.iloc[1]["estimate"] == pytest.approx(1 - 0.25)
    assert tidy["method"].tolist() == ["fisher_exact", "chi_square_yates", "chi_square_yates"]
    assert result.exclusions.set_index("row")["reason"].to_dict() == {10: "missing-value", 9: "other-level",
                                                                       4: "missing-value"}
    assert first["n"] + len(result.exclusions) == len(frame)
    assert any("expected count is below 5" in note for note in result.notes)


def test_planned_rows():
    spec = group_proportions.Spec(id="g", type="group_proportions", table="t", outcome=["a"], group="arm",
                                  ci=["wald"])
    assert spec.planned_rows({}) == [{"outcome": "a", "term": "odds_ratio", "ci_method": "conditional_exact"},
                                     {"outcome": "a", "term": "risk_difference", "ci_method": "wald"}]


def test_siegel_week8_response_by_week2_response():
    from ketastats.api import run_plan

    table = run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", write=False).tables[
        "week8_response_by_week2_response"]
    first = table.iloc[0]
    # Siegel et al. 2021: 8 of the 11 week-2 responders still responded at week 8 (11 / 21 overall)
    assert (first["count1"], first["n1"], first["count1"] + first["count2"], first["n"]) == (8, 11, 11, 21)
    ref = next(c for c in REFERENCE["tables"] if [int(v) for v in c["cells"]] == [8, 3, 3, 7])
    assert close(first["p_value"], ref["fisher_p"]) and close(first["estimate"], ref["fisher_estimate"])


RISK_RATIO = json.loads((ROOT / "tests" / "reference" / "risk_ratio" / "reference.json").read_text())


@pytest.mark.parametrize("outcome", ["responder", "remitter"])
def test_risk_ratio_rows_match_r_on_the_ketamine_vs_ect_counts(outcome):
    want = RISK_RATIO["shipped"][outcome]
    x1, n1, x2, n2 = want["x1"], want["n1"], want["x2"], want["n2"]
    values = [True] * x1 + [False] * (n1 - x1) + [True] * x2 + [False] * (n2 - x2)
    frame = pd.DataFrame({"pid": [f"p{i}" for i in range(n1 + n2)], "arm": ["ketamine"] * n1 + ["ect"] * n2,
                          "y": pd.array(values, dtype="boolean")}, index=range(1, n1 + n2 + 1))
    spec = group_proportions.Spec(id="g", type="group_proportions", table="t", outcome="y", group="arm",
                                  levels=["ketamine", "ect"], risk_ratio_ci=["katz", "koopman"])
    tidy = group_proportions.run(spec, AnalysisInput("g", "t", frame, "pid", ["pid"])).tidy
    assert tidy["term"].tolist() == ["odds_ratio", "risk_difference", "risk_ratio", "risk_ratio"]
    rows = tidy[tidy["term"] == "risk_ratio"].set_index("ci_method")
    for method in ("katz", "koopman"):
        row = rows.loc[method]
        assert row["estimate"] == pytest.approx(want["estimate"], rel=tolerances.RISK_RATIO_RTOL)
        assert row["conf_low"] == pytest.approx(want[f"{method}_low"], rel=tolerances.RISK_RATIO_RTOL)
        assert row["conf_high"] == pytest.approx(want[f"{method}_high"], rel=tolerances.RISK_RATIO_RTOL)
        assert pd.isna(row["p_value"]) and pd.isna(row["method"])


def test_risk_ratio_zero_cell_rows_and_note():
    frame = pd.DataFrame({"pid": list("abcdefgh"), "g": list("aaaabbbb"),
                          "y": pd.array([False] * 4 + [True, False, True, False], dtype="boolean")},
                         index=range(1, 9))
    spec = group_proportions.Spec(id="g", type="group_proportions", table="t", outcome="y", group="g",
                                  risk_ratio_ci=["katz", "koopman"])
    result = group_proportions.run(spec, AnalysisInput("g", "t", frame, "pid", ["pid"]))
    rows = result.tidy[result.tidy["term"] == "risk_ratio"]
    assert rows["estimate"].tolist() == [0.0, 0.0] and rows["conf_low"].tolist() == [0.0, 0.0]
    assert any("zero cell" in note and "0.5" in note for note in result.notes)
