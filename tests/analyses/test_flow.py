"""The flow analysis (participant flow, CONSORT-style counts): base-R reference on the ketamine vs ECT example,
participants without a row at a visit counted as missing against the randomized n, exclusions, plan validation.
R values: tests/reference/flow/make_reference.R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from ketastats.analyses import flow
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.api import run_plan

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests/reference/flow/reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result():
    return run_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml", write=False)


def _same(value, expected) -> bool:
    return (expected is None and pd.isna(value)) or (expected is not None and value == expected)


def test_counts_match_base_r_row_for_row(result, tolerances):
    table = result.tables["participant_flow"]
    assert len(table) == len(REFERENCE) == 42
    by_key = {(r["stage"], r["visit"], r["level"], r["group"]): r for r in REFERENCE}
    for _, mine in table.iterrows():
        key = tuple(None if pd.isna(mine[c]) else mine[c] for c in ("stage", "visit", "level", "group"))
        ref = by_key[key]
        assert int(mine["count"]) == ref["count"] and int(mine["n_subjects"]) == ref["n_subjects"], key
        assert _same(None if pd.isna(mine["n_missing"]) else int(mine["n_missing"]), ref["n_missing"]), key
        assert math.isclose(mine["percent"], ref["percent"], rel_tol=tolerances.BASELINE_TABLE_RTOL), key


def test_row_order_and_consort_identities(result):
    table = result.tables["participant_flow"]
    assert list(dict.fromkeys(table["stage"])) == ["randomized", "treated", "assessed", "completed", "discontinued"]
    assessed = table[table["stage"] == "assessed"]
    assert list(dict.fromkeys(assessed["visit"])) == ["baseline", "tx3", "eot", "m1", "m3", "m6"]
    # count + not assessed = randomized, at every visit and in every group
    assert (assessed["count"] + assessed["n_missing"] == assessed["n_subjects"]).all()
    overall = table[table["group"] == "Overall"]
    total = overall[(overall["stage"] == "discontinued") & overall["level"].isna()]["count"].iloc[0]
    by_reason = overall[(overall["stage"] == "discontinued") & overall["level"].notna()]["count"].sum()
    completed = overall[overall["stage"] == "completed"]["count"].iloc[0]
    assert total == by_reason and completed + total == 60
    # every declared reason is listed, also with no participants
    assert "adverse_event" in set(overall["level"].dropna())


def test_participants_without_a_row_are_missing_not_absent():
    people = pd.DataFrame({"pid": ["a", "b", "c", "d"], "arm": ["k", "k", "e", "e"],
                           "n_tx": [3, 0, 2, 2]}, index=range(1, 5))
    people["treated"] = people["n_tx"] > 0
    visits = pd.DataFrame({"pid": ["a", "a", "b", "c", "c", "d", "z"],
                           "visit": pd.Categorical(["v0", "v1", "v0", "v0", "v1", "v0", "v0"],
                                                   categories=["v0", "v1", "v2"]),
                           "score": [1.0, 2.0, 3.0, 4.0, None, 5.0, 6.0]}, index=range(1, 8))
    spec = flow.Spec(id="f", type="flow", table="people", by="arm", treated="treated",
                     visits_table="visits", assessed="score")
    ctx = AnalysisInput("f", "people", people, "pid", ["pid"],
                        versus=AnalysisInput("f", "visits", visits, "pid", ["pid", "visit"]))
    result = execute(flow, spec, ctx)
    assert result.ok
    tidy = result.tidy
    v1 = tidy[(tidy["stage"] == "assessed") & (tidy["visit"] == "v1")].set_index("group")
    assert v1["count"].to_dict() == {"e": 0, "k": 1, "Overall": 1}          # c's v1 row has no score
    assert v1["n_missing"].to_dict() == {"e": 2, "k": 1, "Overall": 3}
    assert set(tidy["visit"].dropna()) == {"v0", "v1"}                       # a level nobody attended is not a row
    treated = tidy[tidy["stage"] == "treated"].set_index("group")["count"].to_dict()
    assert treated == {"e": 2, "k": 1, "Overall": 3}
    # the visit row of a subject who is not a randomized participant is listed, not counted
    assert result.exclusions[["table", "row", "reason"]].values.tolist() == [["visits", 7, "invalid-value"]]


def test_without_arm_and_visits_there_is_one_overall_group():
    people = pd.DataFrame({"pid": ["a", "b"], "status": ["completed", "lost"]})
    spec = flow.Spec(id="f", type="flow", table="people", status="status")
    tidy = execute(flow, spec, AnalysisInput("f", "people", people, "pid", ["pid"])).tidy
    assert tidy[["stage", "level", "count"]].fillna("").values.tolist() == [   # "": missing (None or NaN, pandas 2 / 3)
        ["randomized", "", 2], ["completed", "", 1], ["discontinued", "", 1], ["discontinued", "lost", 1]]


def test_missing_visits_table_input_is_an_analysis_error():
    people = pd.DataFrame({"pid": ["a"], "arm": ["k"]})
    spec = flow.Spec(id="f", type="flow", table="people", by="arm", visits_table="ratings")
    result = execute(flow, spec, AnalysisInput("f", "people", people, "pid", ["pid"]))
    assert not result.ok and result.issues[0].code == "no-visits-table"


@pytest.mark.parametrize("old, new, message", [
    ("assessed: hdrs17", "assessed: hdrs18", "hdrs18"),
    ("visits_table: ratings", "visits_table: scans", "scans"),
    ("treated: treated", "treated: n_treatments", "treated needs a boolean column"),
    ("status: end_reason\n", "status: end_reason\n    completed: finished\n", "'finished' is not a level"),
])
def test_plan_problems_are_found_before_anything_runs(tmp_path, old, new, message):
    from ketastats.api import validate_plan
    from ketastats.errors import PlanError

    text = (ROOT / "analysis_plans" / "ketamine_vs_ect.yaml").read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new).replace("../data_dictionary", str(ROOT / "data_dictionary"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        validate_plan(plan, allow_outside=True)
    assert message in str(caught.value)
