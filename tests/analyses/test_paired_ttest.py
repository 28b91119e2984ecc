"""paired_ttest: numbers against R's t.test(paired = TRUE) (tests/reference/rm_anova_paired_ttest/rm_anova.json,
section paired_ttest), available-pair accounting, options, failures and plan validation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ketastats.analyses import paired_ttest
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.data.dictionary import Column
from ketastats.stats.ttests import paired_t_test
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "rm_anova_paired_ttest"
REFERENCE = {case["name"]: case for case in
             json.loads((REF_DIR / "rm_anova.json").read_text(encoding="utf-8"))["paired_ttest"]}
VISITS = ["baseline", "day1", "week2", "week4", "week6", "week8"]


def number(value):
    if isinstance(value, str):
        return {"Inf": math.inf, "-Inf": -math.inf}[value]
    return float(value)


def assert_matches(row, ref):
    assert row["n_subjects"] == ref["n_subjects"] and row["n"] == ref["n_subjects"]
    for column in ("estimate", "std_error", "conf_low", "conf_high", "statistic", "df", "effect_size", "conf_level"):
        theirs = number(ref[column])
        if math.isinf(theirs):
            assert row[column] == theirs, column
        else:
            assert row[column] == pytest.approx(theirs, rel=tolerances.PAIRED_T_RTOL, abs=1e-12), column
    assert row["p_value"] == pytest.approx(float(ref["p_value"]), rel=tolerances.RM_ANOVA_P_RTOL,
                                           abs=tolerances.RM_ANOVA_P_ATOL)
    assert row["alternative"] == ref["alternative"] and row["effect_size_type"] == "cohen_dz"


def siegel_clinical() -> pd.DataFrame:
    data = ROOT / "ketastats" / "datasets" / "siegel2021"
    clinical = pd.read_csv(data / "clinical.csv")
    clinical.index = range(1, len(clinical) + 1)
    clinical["visit"] = pd.Categorical(clinical["visit"], categories=VISITS, ordered=True)
    participants = pd.read_csv(data / "participants.csv")
    per_protocol = set(participants.loc[participants["completed_infusion"].astype(str).str.lower() == "true",
                                        "participant_id"])
    return clinical, clinical["participant_id"].isin(per_protocol)


@pytest.mark.parametrize("visit", ["day1", "week2", "week8"])
def test_siegel_visits_versus_baseline_match_r(visit):
    clinical, per_protocol = siegel_clinical()
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="clinical", outcome="madrs", pair_by="visit",
                             levels=[visit, "baseline"])
    ctx = AnalysisInput("p", "clinical", clinical, "participant_id", ["participant_id", "visit"],
                        population=("per_protocol", per_protocol))
    result = execute(paired_ttest, spec, ctx)
    assert result.ok, result.issues
    row = result.tidy.iloc[0]
    assert row["contrast"] == f"{visit} - baseline"
    assert_matches(row, REFERENCE[f"siegel_{visit}_vs_baseline"])
    # every row of the table is analysed or listed
    assert result.glance["n_rows_used"] + len(result.exclusions) == len(clinical)
    reasons = result.exclusions.groupby("reason").size().to_dict()
    assert reasons["population"] == 1 and reasons["other-level"] > 0
    if visit != "day1":   # P17 has baseline and day 1 only
        p17 = result.exclusions[result.exclusions["subject"] == "P17"]
        assert set(p17["reason"]) == {"incomplete-pair", "other-level"}
        assert f"lacks madrs at visit={visit}" in p17.loc[p17["reason"] == "incomplete-pair", "detail"].iloc[0]


def test_by_groups_one_sided_and_conf_level_match_r():
    frame = pd.read_csv(REF_DIR / "obk_long.csv", dtype={"id": str, "hour": str})
    frame = frame.groupby(["id", "treatment", "phase"], sort=True)["value"].mean().reset_index()
    frame["treatment"] = pd.Categorical(frame["treatment"], categories=["control", "A", "B"])
    frame.index = range(1, len(frame) + 1)
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="value", pair_by="phase",
                             levels=["post", "pre"], by="treatment", conf_level=0.9, alternative="greater")
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "id", ["id", "phase"]))
    assert result.ok, result.issues
    assert result.tidy["treatment"].tolist() == ["control", "A", "B"]
    for _, row in result.tidy.iterrows():
        assert_matches(row, REFERENCE[f"obk_post_vs_pre_{row['treatment']}"])
    assert set(result.exclusions["reason"]) == {"other-level"}   # the fup rows


def test_missing_value_and_missing_row_make_incomplete_pairs():
    frame = pd.DataFrame({"pid": list("aabbccdde"), "visit": ["pre", "post"] * 4 + ["pre"],
                          "y": [20.0, 10, 25, np.nan, 30, 12, 22, 15, 18]}, index=range(1, 10))
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="visit",
                             levels=["post", "pre"])
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "pid", ["pid", "visit"]))
    assert result.tidy.at[0, "n_subjects"] == 3
    excluded = result.exclusions.set_index("row")
    assert excluded["reason"].to_dict() == {3: "incomplete-pair", 4: "incomplete-pair", 9: "incomplete-pair"}
    assert "lacks y at visit=post" in excluded.at[9, "detail"]
    expected = paired_t_test([10, 12, 15], [20, 30, 22])
    assert result.tidy.at[0, "estimate"] == pytest.approx(expected.estimate)


def test_constant_differences_fail_when_no_test_remains():
    """As R's t.test ("data are essentially constant"): no test at all → the analysis fails with its reason."""
    frame = pd.DataFrame({"pid": list("aabb"), "visit": ["pre", "post"] * 2, "y": [20.0, 10, 25, 15]},
                         index=range(1, 5))
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="visit",
                             levels=["post", "pre"])
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "pid", ["pid", "visit"]))
    assert result.status == "failed" and [i.code for i in result.issues] == ["zero-variance"]
    assert "essentially constant" in result.issues[0].message


def test_constant_differences_in_one_group_are_a_warning():
    frame = pd.DataFrame({"pid": list("aabbccddee"), "visit": ["pre", "post"] * 5, "arm": list("xxxxyyyyyy"),
                          "y": [20.0, 10, 25, 15, 20, 11, 25, 12, 30, 22]}, index=range(1, 11))
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="visit",
                             levels=["post", "pre"], by="arm")
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "pid", ["pid", "visit"]))
    assert result.ok and pd.isna(result.tidy.at[0, "p_value"]) and pd.notna(result.tidy.at[1, "p_value"])
    assert [i.code for i in result.issues] == ["test-not-computed"]


def test_duplicate_rows_fail():
    frame = pd.DataFrame({"pid": list("aaab"), "visit": ["pre", "post", "post", "pre"], "y": [1.0, 2, 3, 4]},
                         index=range(1, 5))
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="visit",
                             levels=["post", "pre"])
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "pid", ["pid"]))
    assert not result.ok and result.issues[0].code == "duplicate-cell"


def test_integer_levels_are_matched_as_text():
    frame = pd.DataFrame({"pid": list("aabbcc"), "week": [0, 2] * 3, "y": [20.0, 10, 25, 12, 30, 14]},
                         index=range(1, 7))
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="week", levels=[2, 0])
    result = execute(paired_ttest, spec, AnalysisInput("p", "t", frame, "pid", ["pid", "week"]))
    assert result.ok and result.tidy.at[0, "contrast"] == "2 - 0" and result.tidy.at[0, "n_subjects"] == 3


@pytest.mark.parametrize("keys", [
    {"levels": ["pre", "pre"]},
    {"levels": ["pre"]},
    {"levels": ["post", "pre"], "alternative": "two_sided"},
    {"levels": ["post", "pre"], "by": "visit"},
])
def test_invalid_specs_are_refused(keys):
    with pytest.raises(ValidationError):
        paired_ttest.Spec.model_validate({"id": "p", "type": "paired_ttest", "table": "t", "outcome": "y",
                                          "pair_by": "visit", **keys})


def test_check_columns_reports_unknown_levels():
    spec = paired_ttest.Spec(id="p", type="paired_ttest", table="t", outcome="madrs", pair_by="visit",
                             levels=["week9", "baseline"])
    columns = {"visit": Column(type="category", levels=VISITS), "madrs": Column(type="integer")}
    assert [problem.key for problem in spec.check_columns(columns)] == ["levels[0]"]
