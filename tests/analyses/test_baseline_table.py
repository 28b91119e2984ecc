"""The baseline_table analysis (Table 1): R reference on the ketamine vs ECT example, missing values shown,
levels with no participants, plan validation. R values: tests/reference/baseline_table/make_reference.R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from ketastats.analyses import baseline_table
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.api import run_plan

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests/reference/baseline_table/reference.json").read_text(encoding="utf-8"))
NUMBERS = ("mean", "sd", "median", "q1", "q3", "percent")
COUNTS = ("n", "n_missing", "count")


@pytest.fixture(scope="module")
def table1() -> pd.DataFrame:
    return run_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml", write=False).tables["table1"]


def _row(table: pd.DataFrame, outcome: str, level, group: str) -> pd.Series:
    mask = (table["outcome"] == outcome) & (table["group"] == group)
    mask &= table["level"].isna() if level is None else (table["level"] == level)
    rows = table[mask]
    assert len(rows) == 1, (outcome, level, group)
    return rows.iloc[0]


def test_every_reference_row_matches_base_r(table1, tolerances):
    assert len(table1) == len(REFERENCE) == 18
    for ref in REFERENCE:
        mine = _row(table1, ref["outcome"], ref["level"], ref["group"])
        where = (ref["outcome"], ref["level"], ref["group"])
        assert mine["summary"] == ref["summary"], where
        assert mine["summary_type"] == ref["summary_type"], where
        for column in COUNTS:
            if column in ref:
                assert int(mine[column]) == ref[column], (where, column)
        for column in NUMBERS:
            if column in ref:
                assert math.isclose(mine[column], ref[column], rel_tol=tolerances.BASELINE_TABLE_RTOL), (where, column)


def test_rows_are_in_variable_level_group_order(table1):
    assert list(dict.fromkeys(table1["outcome"])) == ["age", "sex", "episode_months", "hdrs_baseline",
                                                      "il6_baseline"]
    assert table1["group"].tolist()[:3] == ["ect", "ketamine", "Overall"]
    sex = table1[table1["outcome"] == "sex"]
    assert sex["level"].tolist() == ["female"] * 3 + ["male"] * 3


def test_missing_values_are_shown_and_listed():
    frame = pd.DataFrame({"pid": list("abcdef"), "arm": ["k", "k", "k", "e", "e", "e"],
                          "age": [30.0, None, 50.0, 40.0, 41.0, None],
                          "sex": pd.Categorical(["f", None, "m", "f", "f", "f"], categories=["f", "m", "x"])},
                         index=range(1, 7))
    spec = baseline_table.Spec(id="t1", type="baseline_table", table="p", variables=["age", "sex"], by="arm")
    result = execute(baseline_table, spec, AnalysisInput("t1", "p", frame, "pid", ["pid"]))
    assert result.ok
    tidy = result.tidy
    age = tidy[tidy["outcome"] == "age"].set_index("group")
    assert age["n"].tolist() == [2, 2, 4] and age["n_missing"].tolist() == [1, 1, 2]
    assert age.at["k", "summary"] == "40.0 (14.1)"
    sex = tidy[tidy["outcome"] == "sex"]
    # every declared level is a row, also with no participants; percent of those with a value
    assert sex["level"].tolist() == ["f"] * 3 + ["m"] * 3 + ["x"] * 3
    k_female = sex[(sex["level"] == "f") & (sex["group"] == "k")].iloc[0]
    assert (k_female["count"], k_female["n"], k_female["n_missing"], k_female["summary"]) == (1, 2, 1, "1 (50.0 %)")
    x_overall = sex[(sex["level"] == "x") & (sex["group"] == "Overall")].iloc[0]
    assert x_overall["summary"] == "0 (0.0 %)"
    assert sorted(result.exclusions["row"].tolist()) == [2, 2, 6]
    assert set(result.exclusions["reason"]) == {"missing-value"}
    assert result.glance["n_rows_used"] + len(result.exclusions) == 2 * len(frame)


def test_median_iqr_boolean_and_single_value():
    frame = pd.DataFrame({"pid": list("abcd"), "arm": ["k", "e", "e", "e"], "months": [1.0, 2.0, 4.0, 10.0],
                          "flag": pd.array([True, False, True, None], dtype="boolean")}, index=range(1, 5))
    spec = baseline_table.Spec(id="t1", type="baseline_table", table="p", variables=["months", "flag"], by="arm",
                               median_iqr=["months"], decimals={"months": 2})
    tidy = execute(baseline_table, spec, AnalysisInput("t1", "p", frame, "pid", ["pid"])).tidy
    months = tidy[tidy["outcome"] == "months"].set_index("group")
    assert months.at["e", "summary"] == "4.00 [3.00, 7.00]"          # quantile type 7 of 2, 4, 10
    assert months.at["k", "summary"] == "1.00 [1.00, 1.00]"
    flag = tidy[tidy["outcome"] == "flag"]
    assert flag["level"].tolist() == ["true"] * 3 + ["false"] * 3
    assert flag[flag["group"] == "Overall"]["count"].tolist() == [2, 1]


def test_a_level_named_overall_is_refused():
    frame = pd.DataFrame({"pid": ["a", "b"], "arm": ["Overall", "k"], "age": [1.0, 2.0]})
    spec = baseline_table.Spec(id="t1", type="baseline_table", table="p", variables=["age"], by="arm")
    result = execute(baseline_table, spec, AnalysisInput("t1", "p", frame, "pid", ["pid"]))
    assert not result.ok and result.issues[0].code == "reserved-level"


def test_plan_problems_are_found_before_anything_runs(tmp_path):
    from ketastats.api import validate_plan
    from ketastats.errors import PlanError

    text = (ROOT / "analysis_plans" / "ketamine_vs_ect.yaml").read_text(encoding="utf-8")
    text = text.replace("median_iqr: [episode_months, il6_baseline]", "median_iqr: [sex, il6_baseline]")
    text = text.replace("../data_dictionary", str(ROOT / "data_dictionary"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        validate_plan(plan, allow_outside=True)
    assert "median [IQR] needs a numeric column" in str(caught.value)
