"""The descriptives analysis: ``denominator: participants`` counts a participant without a row at a visit as
missing against the randomised n (issue 16), checked against base R on the ketamine vs ECT example
(tests/reference/descriptives/make_reference.R); the default (rows present) is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ketastats.analyses import descriptives
from ketastats.analyses.base import AnalysisInput
from ketastats.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests/reference/descriptives/reference.json").read_text(encoding="utf-8"))["rows"]
DATA = ROOT / "ketastats/datasets/ketamine_vs_ect"


def _ratings() -> pd.DataFrame:
    ratings = pd.read_csv(DATA / "ratings.csv")
    arms = pd.read_csv(DATA / "participants.csv").set_index("participant_id")["arm"]
    ratings["randomized_arm"] = ratings["participant_id"].map(arms)
    ratings["visit"] = pd.Categorical(ratings["visit"], categories=["baseline", "tx3", "eot", "m1", "m3", "m6"],
                                      ordered=True)
    ratings.index = range(1, len(ratings) + 1)
    return ratings


def _run(frame: pd.DataFrame, denominator: str = "participants", by=("visit", "randomized_arm"), **ctx):
    spec = descriptives.Spec(id="d", type="descriptives", table="ratings", outcome="hdrs17", by=list(by),
                             denominator=denominator)
    return descriptives.run(spec, AnalysisInput("d", "ratings", frame, "participant_id",
                                                ["participant_id", "visit"], **ctx))


def test_against_the_randomised_n_matches_base_r(tolerances):
    tidy = _run(_ratings()).tidy
    assert len(tidy) == len(REFERENCE) == 12
    for (_, mine), ref in zip(tidy.iterrows(), REFERENCE):
        assert (mine["visit"], mine["randomized_arm"]) == (ref["visit"], ref["randomized_arm"])
        for count in ("n", "n_subjects", "n_missing"):
            assert int(mine[count]) == ref[count], (ref["visit"], ref["randomized_arm"], count)
        for stat in ("mean", "sd", "median", "q1", "q3", "min", "max"):
            assert mine[stat] == pytest.approx(ref[stat], rel=tolerances.BASELINE_TABLE_RTOL, abs=0)
    # participants without a rating are missing: 30 randomised per arm, fewer rated after baseline
    eot = tidy[(tidy["visit"] == "eot") & (tidy["randomized_arm"] == "ect")].iloc[0]
    assert (eot["n_subjects"], eot["n"], eot["n_missing"]) == (30, 25, 5)


def test_the_default_counts_rows_present():
    tidy = _run(_ratings(), denominator="rows").tidy
    assert "n_subjects" not in tidy.columns and set(tidy["n_missing"]) == {0}
    with_denominator = _run(_ratings()).tidy
    for column in ("n", "mean", "sd", "median", "q1", "q3", "min", "max"):   # only the missing count changes
        pd.testing.assert_series_equal(tidy[column], with_denominator[column])


def test_a_missing_value_and_a_missing_row_both_count():
    frame = pd.DataFrame({"participant_id": ["a", "a", "b", "c", "c", "d"],
                          "visit": pd.Categorical(["v0", "v1", "v0", "v0", "v1", "v0"], categories=["v0", "v1"]),
                          "randomized_arm": ["k", "k", "k", "p", "p", "p"],
                          "hdrs17": [20.0, 10.0, 22.0, 25.0, None, 24.0]}, index=[1, 2, 3, 4, 5, 6])
    result = _run(frame)
    rows = result.tidy[["visit", "randomized_arm", "n", "n_missing", "n_subjects"]].values.tolist()
    assert rows == [["v0", "k", 2, 0, 2], ["v0", "p", 2, 0, 2], ["v1", "k", 1, 1, 2], ["v1", "p", 0, 2, 2]]
    assert result.exclusions["row"].tolist() == [5]          # the missing value is listed; an absent row cannot be


def test_a_visit_nobody_in_an_arm_attended_gets_its_row():
    frame = pd.DataFrame({"participant_id": ["a", "a", "b", "c"],
                          "visit": pd.Categorical(["v0", "v1", "v0", "v0"], categories=["v0", "v1"]),
                          "randomized_arm": ["k", "k", "p", "p"], "hdrs17": [20.0, 10.0, 22.0, 25.0]},
                         index=[1, 2, 3, 4])
    rows = _run(frame).tidy[["visit", "randomized_arm", "n", "n_missing", "n_subjects"]].values.tolist()
    assert rows == [["v0", "k", 1, 0, 1], ["v0", "p", 2, 0, 2], ["v1", "k", 1, 0, 1], ["v1", "p", 0, 2, 2]]


def test_population_limits_the_participants_and_where_only_the_rows():
    frame = _ratings()
    in_population = frame["participant_id"] != "E001"
    after_baseline = frame["visit"] != "baseline"
    tidy = _run(frame, population=("pp", in_population), where=("visit != 'baseline'", after_baseline)).tidy
    assert "baseline" not in set(tidy["visit"])
    e001_arm = frame.loc[frame["participant_id"] == "E001", "randomized_arm"].iloc[0]
    assert set(tidy.loc[tidy["randomized_arm"] == e001_arm, "n_subjects"]) == {29}


def test_several_rows_per_participant_in_a_group_fail_with_a_reason():
    with pytest.raises(AnalysisError, match="one row per participant"):
        _run(_ratings(), by=("randomized_arm",))


def test_no_by_counts_every_participant():
    frame = _ratings()
    tidy = _run(frame[frame["visit"] == "eot"], by=()).tidy
    assert int(tidy["n_subjects"].iloc[0]) == frame.loc[frame["visit"] == "eot", "participant_id"].nunique()
