"""kaplan_meier and the KM kernel against R survfit (tests/reference/survival/survival.json), and edge cases.

The reference JSON holds the data as well, so nothing here needs R.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import kaplan_meier
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.stats.survival import km_at, km_curve, km_median
from tests.reference import tolerances

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "survival"
REF = json.loads((REFERENCE / "survival.json").read_text(encoding="utf-8"))
CATEGORIES = {"sex_f": ["male", "female"], "ecog_grp": ["0", "1", "2+"], "rx_f": ["A", "B"], "group": ["a", "b"],
              "arm": ["placebo", "ketamine"]}


def number(value):
    if value is None:
        return math.nan
    if value == "Inf":
        return math.inf
    return float(value)


def numbers(values) -> np.ndarray:
    return np.array([number(v) for v in values], dtype=float)


def dataset(name: str) -> pd.DataFrame:
    """A reference data set as a frame (categories as R's factors, event boolean, 1-based index)."""
    raw = REF["datasets"][name]
    frame = pd.DataFrame({key: (values if key in CATEGORIES or key == "participant_id" else numbers(values))
                          for key, values in raw.items()})
    for key, levels in CATEGORIES.items():
        if key in frame:
            frame[key] = pd.Categorical(frame[key], categories=levels)
    frame["event"] = pd.array(frame["event"] == 1, dtype="boolean")
    frame["pid"] = [f"s{i}" for i in range(len(frame))]
    frame.index = range(1, len(frame) + 1)
    return frame


def close(actual, expected, rtol=tolerances.SURVIVAL_RTOL) -> None:
    actual = np.atleast_1d(np.asarray(actual, dtype=float))
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    assert actual.shape == expected.shape, (actual, expected)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), (actual, expected)
    finite = np.isfinite(expected)
    assert np.array_equal(actual[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)])
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=tolerances.SURVIVAL_ATOL)


KM_CASES = [case["name"] for case in REF["km"]]


def _case(name: str) -> dict:
    return next(case for case in REF["km"] if case["name"] == name)


def _group_mask(frame: pd.DataFrame, case: dict, group) -> np.ndarray:
    if case["group"] is None:
        return np.ones(len(frame), dtype=bool)
    return (frame[case["group"]].astype(str) == group["group"]).to_numpy()


@pytest.mark.parametrize("name", KM_CASES)
def test_kernel_matches_survfit(name):
    case = _case(name)
    frame = dataset(case["data"])
    conf_type = case["conf_type"].replace("-", "_")
    for group in case["groups"]:
        mask = _group_mask(frame, case, group)
        t = frame["time"].to_numpy()[mask]
        e = frame["event"].astype(float).to_numpy()[mask]
        curve = km_curve(t, e, number(case["conf_level"]), conf_type)
        for key in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
            close(curve[key], numbers(group["curve"][key]))
        median, low, high = km_median(curve)
        close([median, low, high], [number(group["median"]), number(group["median_lower"]),
                                    number(group["median_upper"])])
        at = km_at(curve, numbers(case["landmarks_requested"]), number(case["conf_level"]), conf_type)
        inside = ~at["beyond"]
        reference = group["landmarks"]
        close(at["time"][inside], numbers(reference["time"]))
        close(at["n_risk"][inside], numbers(reference["n_risk"]))
        close(at["n_event"][inside], numbers(reference["n_event_cumulative"]))
        close(at["surv"][inside], numbers(reference["surv"]))
        close(at["se_surv"][inside], numbers(reference["se_surv"]))
        close(at["lower"][inside], numbers(reference["lower"]))
        close(at["upper"][inside], numbers(reference["upper"]))


@pytest.mark.parametrize("name", KM_CASES)
def test_analysis_matches_survfit(name):
    case = _case(name)
    frame = dataset(case["data"])
    by = [case["group"]] if case["group"] else []
    landmarks = [number(v) for v in case["landmarks_requested"]]
    spec = kaplan_meier.Spec(id="km", type="kaplan_meier", table="t", by=by, landmarks=landmarks,
                             conf_type=case["conf_type"].replace("-", "_"), conf_level=number(case["conf_level"]))
    result = execute(kaplan_meier, spec, AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert result.ok
    tidy = result.tidy
    assert len(result.exclusions) + int(tidy.drop_duplicates(["outcome", *by])["n"].sum()) == len(frame)
    for group in case["groups"]:
        mine = tidy if not by else tidy[tidy[by[0]].astype(str) == group["group"]]
        median = mine[mine["effect"] == "median"].iloc[0]
        assert median["n"] == number(group["n"]) and median["n_events"] == number(group["events"])
        close([median["estimate"], median["conf_low"], median["conf_high"]],
              [number(group["median"]), number(group["median_lower"]), number(group["median_upper"])])
        survival = mine[mine["effect"] == "survival"]
        reported = survival[survival["estimate"].notna()]
        reference = group["landmarks"]
        close(reported["time"], numbers(reference["time"]))
        close(reported["estimate"], numbers(reference["surv"]))
        close(reported["std_error"], numbers(reference["se_surv"]))
        close(reported["conf_low"], numbers(reference["lower"]))
        close(reported["conf_high"], numbers(reference["upper"]))
        close(reported["n_at_risk"].astype(float), numbers(reference["n_risk"]))
        close(reported["n_events"].astype(float), numbers(reference["n_event_cumulative"]))


def test_median_midpoint_rule_when_curve_sits_at_one_half():
    curve = km_curve(np.array([1.0, 2, 3, 4]), np.array([1, 1, 1, 1]))
    assert km_median(curve)[0] == 2.5 == number(_case("toy_half_log")["groups"][0]["median"])


def test_landmark_past_follow_up_is_a_warning_with_empty_values():
    frame = dataset("toy")
    spec = kaplan_meier.Spec(id="km", type="kaplan_meier", table="t", by="group", landmarks=[5.5])
    result = execute(kaplan_meier, spec, AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert result.ok
    codes = [issue.code for issue in result.issues]
    assert codes.count("landmark-beyond-follow-up") == 1  # group a ends at 4; group b reaches 6
    row = result.tidy[(result.tidy["group"] == "a") & (result.tidy["effect"] == "survival")].iloc[0]
    assert pd.isna(row["estimate"]) and pd.isna(row["n_at_risk"])


def test_group_without_events_and_single_subject_group_are_warnings():
    frame = pd.DataFrame({"pid": list("abcde"), "time": [1.0, 2, 3, 4, 5], "arm": list("xxxxy"),
                          "event": pd.array([False, False, False, False, True], dtype="boolean")}, index=range(1, 6))
    spec = kaplan_meier.Spec(id="km", type="kaplan_meier", table="t", by="arm", landmarks=[2])
    result = execute(kaplan_meier, spec, AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert result.ok
    codes = {issue.code for issue in result.issues}
    assert {"no-events", "single-subject-group"} <= codes
    x = result.tidy[(result.tidy["arm"] == "x")]
    assert pd.isna(x.iloc[0]["estimate"])                     # median not reached
    assert x.iloc[1]["estimate"] == 1.0 and x.iloc[1]["std_error"] == 0.0
    y = result.tidy[(result.tidy["arm"] == "y")]
    assert y.iloc[0]["estimate"] == 5.0                       # the single subject's event time


def test_all_censored_overall():
    frame = pd.DataFrame({"pid": list("abc"), "time": [1.0, 1, 2], "event": pd.array([False] * 3, dtype="boolean")},
                         index=[1, 2, 3])
    result = execute(kaplan_meier, kaplan_meier.Spec(id="km", type="kaplan_meier", table="t"),
                     AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert result.ok and "no-events" in {i.code for i in result.issues}


def test_ties_events_before_censorings():
    # at t = 2: one event and one censoring; R counts both at risk, so S(2) = 1 * (1 - 1/3)
    curve = km_curve(np.array([1.0, 2, 2, 3]), np.array([0, 1, 0, 1]))
    assert curve["surv"].tolist() == [1.0, pytest.approx(2 / 3), 0.0]
    assert curve["n_risk"].tolist() == [4, 3, 1]


def test_invalid_and_missing_rows_are_excluded_and_accounted_for():
    frame = pd.DataFrame({"pid": list("abcde"), "time": [1.0, None, -1, 3, 4],
                          "event": pd.array([True, True, True, None, True], dtype="boolean")}, index=range(1, 6))
    result = execute(kaplan_meier, kaplan_meier.Spec(id="km", type="kaplan_meier", table="t"),
                     AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert sorted(result.exclusions["reason"]) == ["invalid-value", "missing-value", "missing-value"]
    assert result.tidy.loc[0, "n"] + len(result.exclusions) == len(frame)


def test_event_as_integer_column():
    frame = pd.DataFrame({"pid": list("abcd"), "time": [1.0, 2, 3, 4], "status": [1, 0, 1, 2]}, index=range(1, 5))
    spec = kaplan_meier.Spec(id="km", type="kaplan_meier", table="t", event="status")
    result = execute(kaplan_meier, spec, AnalysisInput("km", "t", frame, "pid", ["pid"]))
    assert result.exclusions["reason"].tolist() == ["invalid-value"]   # 2 is not 0 / 1
    assert result.tidy.loc[0, "n_events"] == 2
