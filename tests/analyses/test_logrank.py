"""logrank and its kernel against R survdiff (tests/reference/survival/survival.json), and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import logrank
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from tests.analyses.test_kaplan_meier import REF, close, dataset, number, numbers
from tests.reference import tolerances


@pytest.mark.parametrize("name", [case["name"] for case in REF["logrank"]])
def test_analysis_matches_survdiff(name):
    case = next(c for c in REF["logrank"] if c["name"] == name)
    frame = dataset(case["data"])
    strata = [case["strata"]] if case["strata"] else []
    spec = logrank.Spec(id="lr", type="logrank", table="t", by=case["group"], strata=strata)
    result = execute(logrank, spec, AnalysisInput("lr", "t", frame, "pid", ["pid"]))
    assert result.ok, result.issues
    tidy = result.tidy
    groups = tidy[tidy["effect"] == "group"]
    labels = [str(v) if not isinstance(v, float) else f"{v:g}" for v in groups[case["group"]]]
    assert labels == case["levels"]
    assert groups["n"].tolist() == case["n"]
    close(groups["n_events"].astype(float), numbers(case["observed"]))
    close(groups["expected"], numbers(case["expected"]))
    test = tidy[tidy["effect"] == "test"].iloc[0]
    assert test["df"] == case["df"]
    close(test["statistic"], number(case["chisq"]), rtol=tolerances.SURVIVAL_TEST_RTOL)
    close(test["p_value"], number(case["p"]), rtol=tolerances.SURVIVAL_TEST_RTOL)
    assert int(groups["n"].sum()) + len(result.exclusions) == len(frame)
    if strata:
        assert "stratified" in test["method"]


def test_no_events_gives_a_warning_and_no_test():
    frame = pd.DataFrame({"pid": list("abcd"), "time": [1.0, 2, 3, 4], "arm": list("xxyy"),
                          "event": pd.array([False] * 4, dtype="boolean")}, index=range(1, 5))
    result = execute(logrank, logrank.Spec(id="lr", type="logrank", table="t", by="arm"),
                     AnalysisInput("lr", "t", frame, "pid", ["pid"]))
    assert result.ok and "no-events" in {i.code for i in result.issues}
    assert pd.isna(result.tidy.iloc[-1]["statistic"]) and pd.isna(result.tidy.iloc[-1]["p_value"])


def test_single_group_and_group_without_subjects_at_risk():
    frame = pd.DataFrame({"pid": list("abc"), "time": [1.0, 2, 3], "arm": list("xxx"),
                          "event": pd.array([True, False, True], dtype="boolean")}, index=range(1, 4))
    result = execute(logrank, logrank.Spec(id="lr", type="logrank", table="t", by="arm"),
                     AnalysisInput("lr", "t", frame, "pid", ["pid"]))
    assert result.ok and "single-group" in {i.code for i in result.issues}
    # group y is censored before the first event: expected 0, left out of the test (R: df = 1, not 2)
    frame = pd.DataFrame({"pid": list("abcdef"), "time": [2.0, 3, 4, 5, 6, 0.5], "arm": list("xxyyyz"),
                          "event": pd.array([True, False, True, True, False, False], dtype="boolean")},
                         index=range(1, 7))
    result = execute(logrank, logrank.Spec(id="lr", type="logrank", table="t", by="arm"),
                     AnalysisInput("lr", "t", frame, "pid", ["pid"]))
    assert "no-expected-events" in {i.code for i in result.issues}
    assert result.tidy.iloc[-1]["df"] == 1


def test_kernel_matches_lifelines_multivariate_logrank():
    multivariate_logrank_test = pytest.importorskip(
        "lifelines.statistics", reason="lifelines (extra 'crosscheck', pandas < 3) is not installed"
    ).multivariate_logrank_test

    frame = dataset("lung")
    from ketastats.stats.survival import logrank_test
    codes = frame["sex_f"].cat.codes.to_numpy()
    ours = logrank_test(frame["time"], frame["event"].astype(float), codes)
    theirs = multivariate_logrank_test(frame["time"], frame["sex_f"].astype(str), frame["event"].astype(bool))
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=1e-10)
    assert np.isfinite(ours.p_value)
