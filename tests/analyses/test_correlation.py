"""correlation: kernels against R (tests/reference/correlation_ttest_group_proportions_regression/
associations.json), the analysis's rows, exclusions (complete cases per pair), planned rows, plan
validation, and the Siegel replica."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import correlation
from ketastats.analyses.base import AnalysisInput
from ketastats.stats.correlation import correlation_test
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "correlation_ttest_group_proportions_regression"
REFERENCE = json.loads((REF_DIR / "associations.json").read_text())


def close(a, b) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    return math.isclose(a, b, rel_tol=tolerances.ASSOCIATION_RTOL, abs_tol=tolerances.ASSOCIATION_ATOL)


@pytest.mark.parametrize("case", REFERENCE["correlations"], ids=lambda c: c["name"])
def test_cor_test_matches_r(case):
    res = correlation_test(case["x"], case["y"], case["method"], None, case["conf_level"], case["alternative"])
    assert close(res.estimate, case["estimate"])
    assert close(res.statistic, case["statistic"])
    assert close(res.p_value, case["p_value"])
    if "df" in case:
        assert res.df == case["df"] and res.statistic_type == "t"
    else:
        assert res.statistic_type == "S" and res.df is None
    interval = case["conf_int"] if case["method"] == "pearson" else case["conf_int_bonett_wright"]
    assert close(res.conf_low, interval[0]) and close(res.conf_high, interval[1])


@pytest.mark.parametrize("case", REFERENCE["partial_correlations"], ids=lambda c: c["name"])
def test_partial_correlation_matches_r(case):
    source = REFERENCE["correlations"][0]
    z1 = [30, 41, 28, 55, 47, 36, 60, 33, 52, 49, 45, 38, 58, 29, 35]
    z2 = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1]
    covariates = np.column_stack([z1, z2]) if case["name"].endswith("_2") else np.array(z1, dtype=float)[:, None]
    res = correlation_test(source["x"], source["y"], case["method"], covariates)
    assert res.df == case["df"]
    for ours, theirs in [(res.estimate, case["estimate"]), (res.statistic, case["statistic"]),
                         (res.p_value, case["p_value"]), (res.conf_low, case["conf_int"][0]),
                         (res.conf_high, case["conf_int"][1])]:
        assert close(ours, theirs)


def _ctx(frame):
    return AnalysisInput("c", "t", frame, "pid", ["pid"])


def test_rows_and_exclusions_per_pair():
    frame = pd.DataFrame({"pid": list("abcdefgh"), "y": [1.0, 2, 3, 4, 5, 6, None, 8],
                          "x1": [2.0, 1, 4, 3, 6, 5, 7, None], "x2": [1.0, 3, 2, 5, 4, 7, 6, 9]}, index=range(1, 9))
    spec = correlation.Spec(id="c", type="correlation", table="t", outcome="y", x=["x1", "x2"],
                            method=["pearson", "spearman"])
    result = correlation.run(spec, _ctx(frame))
    tidy = result.tidy
    assert tidy[["term", "method", "n"]].values.tolist() == [["x1", "pearson", 6], ["x1", "spearman", 6],
                                                             ["x2", "pearson", 7], ["x2", "spearman", 7]]
    excluded = result.exclusions
    assert sorted(excluded["row"].tolist()) == [7, 7, 8]
    assert "pair x1 ~ y" in " ".join(excluded["detail"])
    assert set(tidy["statistic_type"]) == {"t", "S"}
    # every row is analysed or excluded, per pair
    for term, n in tidy.drop_duplicates("term")[["term", "n"]].values:
        assert n + (excluded["detail"].str.contains(f"pair {term} ~")).sum() == len(frame)


def test_planned_rows_and_column_checks():
    spec = correlation.Spec(id="c", type="correlation", table="t", outcome=["a", "b"], x="v", method="spearman")
    assert spec.planned_rows({}) == [{"outcome": "a", "term": "v", "method": "spearman"},
                                     {"outcome": "b", "term": "v", "method": "spearman"}]
    from ketastats.data.dictionary import Column

    problems = spec.check_columns({"a": Column(type="boolean"), "v": Column(type="number")})
    assert problems and problems[0].key == "outcome[0]"


def test_too_few_pairs_fails_cleanly():
    from ketastats.analyses.execute import execute

    frame = pd.DataFrame({"pid": list("abc"), "y": [1.0, 2, None], "x": [1.0, 3, 2]}, index=[1, 2, 3])
    spec = correlation.Spec(id="c", type="correlation", table="t", outcome="y", x="x")
    result = execute(correlation, spec, _ctx(frame))
    assert result.status == "failed" and "at least 3" in result.issues[0].message


@pytest.fixture(scope="module")
def siegel(tmp_path_factory):
    from ketastats.api import run_plan

    return run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", write=False)


def test_siegel_volume_correlations_match_r(siegel):
    table = siegel.tables["volumes_vs_madrs_change"].set_index("term")
    for term, ref in REFERENCE["siegel"]["volume_correlations"].items():
        row = table.loc[term]
        assert row["n"] == ref["n"] == 19  # the participants with usable volumes and a week-2 MADRS
        for ours, theirs in [(row["estimate"], ref["estimate"]), (row["statistic"], ref["statistic"]),
                             (row["p_value"], ref["p_value"]), (row["conf_low"], ref["conf_int"][0]),
                             (row["conf_high"], ref["conf_int"][1])]:
            assert close(float(ours), theirs)
    # Siegel et al. 2021: right hippocampus r = 0.52, p = 0.023 (n = 19); the other five not significant
    assert round(table.at["hippocampus_r_icv", "estimate"], 2) == 0.52
    assert (table.drop("hippocampus_r_icv")["p_value"] > 0.05).all()


def test_siegel_bprs_correlation_matches_r_and_paper(siegel):
    table = siegel.tables["bprs_vs_madrs_change"].set_index("outcome")
    for visit, outcome in [("day1", "madrs_change_day1"), ("week2", "madrs_change_2wk"), ("week8", "madrs_change_8wk")]:
        ref = REFERENCE["siegel"]["bprs_correlations"][visit]
        assert table.at[outcome, "n"] == ref["n"]
        assert close(float(table.at[outcome, "estimate"]), ref["estimate"])
        assert close(float(table.at[outcome, "p_value"]), ref["p_value"])
    # the paper: r = -0.54, p = 0.009 at day 1; p > 0.1 at weeks 2 and 8
    assert round(table.at["madrs_change_day1", "estimate"], 2) == -0.54
    assert round(table.at["madrs_change_day1", "p_value"], 3) in (0.009, 0.010)
    assert (table.loc[["madrs_change_2wk", "madrs_change_8wk"], "p_value"] > 0.1).all()
