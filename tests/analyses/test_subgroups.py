"""subgroups: effects within subgroup levels and the interaction test against R (lm / anova,
glm binomial / anova LRT, Newcombe and Wald risk differences) on 120 generated designs and the
ketamine vs ECT example; degenerate subgroups give notes, not failures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import subgroups
from ketastats.analyses.base import AnalysisInput
from ketastats.errors import AnalysisError
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests" / "reference" / "subgroups" / "reference.json").read_text())
DATASET = ROOT / "ketastats" / "datasets" / "ketamine_vs_ect"


def close(ours, theirs, rtol=None) -> bool:
    rtol = tolerances.SUBGROUP_RTOL if rtol is None else rtol
    return ours is not None and not (isinstance(ours, float) and math.isnan(ours)) and \
        math.isclose(float(ours), float(theirs), rel_tol=rtol, abs_tol=tolerances.SUBGROUP_ATOL)


def _frame(case) -> pd.DataFrame:
    data = case["data"]
    n = len(data["y"])
    y = pd.array([bool(v) for v in data["y"]], dtype="boolean") if case["binary"] else \
        np.asarray(data["y"], dtype=float)
    return pd.DataFrame({"pid": [f"p{i}" for i in range(n)], "y": y, "g": data["g"], "s1": data["s1"],
                         "s2": [v if v is not None else None for v in data["s2"]], "x": data["x"]},
                        index=range(1, n + 1))


def _run(frame, subgroup_columns, covariate, **keys):
    spec = subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", levels=["trt", "ref"],
                          subgroups=subgroup_columns, covariates=["x"] if covariate else [], **keys)
    return subgroups.run(spec, AnalysisInput("s", "t", frame, "pid", ["pid"])).tidy


def _row(tidy, term, subgroup, level):
    found = tidy[(tidy["term"] == term) & (tidy["subgroup"] == subgroup) & (tidy["level"] == level)]
    assert len(found) == 1, (term, subgroup, level)
    return found.iloc[0]


def _check_case(tidy, case, ci="newcombe"):
    """Every R row (estimate, SE, statistic, df, p, interval) and every interaction test."""
    checked = 0
    for ref in case["rows"]:
        result = ref["result"] or {}
        if not case["binary"]:
            row = _row(tidy, "mean_difference", ref["subgroup"], ref["level"])
            if not result:
                assert pd.isna(row["estimate"]) and isinstance(row["note"], str), row.to_dict()
                continue
            for key in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
                assert close(row[key], result[key]), (case.get("id"), ref["subgroup"], ref["level"], key)
            assert row["df"] == result["df"]
            checked += 1
            continue
        if not case["covariate"]:
            row = _row(tidy, "risk_difference", ref["subgroup"], ref["level"])
            if "rd" in result:
                bounds = result[f"rd_{ci}"]
                assert close(row["estimate"], result["rd"]) and close(row["conf_low"], bounds[0]) \
                    and close(row["conf_high"], bounds[1]), (case.get("id"), ref)
                checked += 1
            else:
                assert pd.isna(row["estimate"]) and isinstance(row["note"], str)
        row = _row(tidy, "odds_ratio", ref["subgroup"], ref["level"])
        if "or" in result:
            for key in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
                assert close(row[key], result["or"][key], tolerances.SUBGROUP_GLM_RTOL), \
                    (case.get("id"), ref["subgroup"], ref["level"], key)
            checked += 1
        else:   # one arm only, or a zero cell (separation): counts and a note, no odds ratio
            assert pd.isna(row["estimate"]) and isinstance(row["note"], str), row.to_dict()
    names = [n for n in tidy["subgroup"].unique() if n != "overall"]
    for name in names:   # R drops a NULL test from its list: no test in R, none here
        test = (case["tests"] or {}).get(name)
        rows = tidy[tidy["subgroup"] == name]
        if not test:
            assert rows["interaction_p_value"].isna().all()
            continue
        first = rows.iloc[0]
        assert first["interaction_test"] == ("LRT" if case["binary"] else "F")
        assert first["interaction_df"] == test["df"]
        assert close(first["interaction_statistic"], test["statistic"], tolerances.SUBGROUP_INTERACTION_RTOL)
        assert close(first["interaction_p_value"], test["p_value"], tolerances.SUBGROUP_INTERACTION_RTOL)
        if not case["binary"]:
            assert first["interaction_df_denominator"] == test["df_denominator"]
        assert rows["interaction_p_value"].nunique() == 1   # the same test on every row of the subgroup
    return checked


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: c["id"])
def test_generated_design_matches_r(case):
    tidy = _run(_frame(case), ["s1", "s2"], case["covariate"])
    _check_case(tidy, case)
    if case["binary"] and not case["covariate"]:
        _check_case(_run(_frame(case), ["s1", "s2"], False, ci="wald"), case, ci="wald")


def test_reference_covers_the_hard_designs():
    """The generated designs include the degenerate cases the analysis must survive."""
    cases = REFERENCE["cases"]
    assert len(cases) >= 100
    one_arm = [c for c in cases if any(r["result"] is None and r["subgroup"] != "overall" for r in c["rows"])]
    zero_cell = [c for c in cases if c["binary"] and any(r["result"] and "or" not in r["result"] for r in c["rows"])]
    missing = [c for c in cases if any(v is None for v in c["data"]["s2"])]
    assert len(one_arm) >= 10 and len(zero_cell) >= 5 and len(missing) >= 5
    assert sum(c["covariate"] for c in cases) >= 20 and sum(c["binary"] for c in cases) >= 50


def _example_frame() -> pd.DataFrame:
    p = pd.read_csv(DATASET / "participants.csv")
    r = pd.read_csv(DATASET / "ratings.csv")
    base = r[r["visit"] == "baseline"].set_index("participant_id")["hdrs17"]
    eot = r[r["visit"] == "eot"].set_index("participant_id")["hdrs17"]
    p["hdrs_baseline"] = p["participant_id"].map(base).astype(float)
    eot_score = p["participant_id"].map(eot).astype(float)
    p["hdrs_change_eot"] = eot_score - p["hdrs_baseline"]
    pct = (eot_score - p["hdrs_baseline"]) / p["hdrs_baseline"] * 100
    p["responder_eot"] = pd.array([None if pd.isna(v) else bool(v <= -50) for v in pct], dtype="boolean")
    p["arm"] = pd.Categorical(p["arm"], categories=["ect", "ketamine"])
    p["sex"] = pd.Categorical(p["sex"], categories=["female", "male"])
    p.index = range(1, len(p) + 1)
    return p


@pytest.mark.parametrize("name", ["hdrs_change", "hdrs_change_ancova", "response"])
def test_ketamine_vs_ect_example_matches_r(name):
    ref = REFERENCE["example"][name]
    spec = subgroups.Spec(id="s", type="subgroups", table="participants", outcome=ref["outcome"], group="arm",
                          levels=["ketamine", "ect"], subgroups=["sex", "age", "hdrs_baseline"],
                          cut={"age": [50], "hdrs_baseline": [25]},
                          covariates=["hdrs_baseline"] if ref["covariate"] else [])
    result = subgroups.run(spec, AnalysisInput("s", "participants", _example_frame(), "participant_id",
                                               ["participant_id"]))
    tidy = result.tidy.replace({"subgroup": {"age": "age_group", "hdrs_baseline": "severity"}})
    assert result.glance["n_rows_used"] == ref["n"]
    assert _check_case(tidy, ref) == len(ref["rows"]) * (2 if ref["binary"] else 1)


def _frame_small(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"pid": [f"p{i}" for i in range(n)], **columns}, index=range(1, n + 1))


def test_empty_and_one_arm_levels_are_rows_with_notes():
    frame = _frame_small(g=["t", "t", "t", "r", "r", "r", "t", "r"],
                         s=pd.Categorical(["a", "a", "b", "a", "a", "a", "a", "b"], categories=["a", "b", "c"]),
                         y=[1.0, 2, 3, 4, 3, 6, 2, 5])
    frame.loc[3, "g"] = "t"
    spec = subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", levels=["t", "r"],
                          subgroups="s")
    result = subgroups.run(spec, AnalysisInput("s", "t", frame, "pid", ["pid"]))
    tidy = result.tidy.set_index("level")
    assert tidy.loc["c", "note"] == "no participants" and tidy.loc["c", "n"] == 0
    assert not pd.isna(tidy.loc["a", "estimate"])
    assert tidy.loc["b", "n1"] == 1 and tidy.loc["b", "n2"] == 1
    assert "not estimable" in tidy.loc["b", "note"]   # one value per arm: no residual df
    assert tidy["interaction_p_value"].isna().all() or tidy.loc["a", "interaction_df"] == 1


def test_separation_gives_counts_and_a_note():
    frame = _frame_small(g=list("ttttrrrr") * 2, s=list("aaaaaaaa") + list("bbbbbbbb"),
                         y=pd.array([True] * 4 + [True, False, False, True] + [True, False] * 4, dtype="boolean"))
    spec = subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", levels=["t", "r"],
                          subgroups="s")
    tidy = subgroups.run(spec, AnalysisInput("s", "t", frame, "pid", ["pid"])).tidy
    odds = tidy[(tidy["term"] == "odds_ratio") & (tidy["level"] == "a")].iloc[0]
    assert pd.isna(odds["estimate"]) and "zero cell" in odds["note"] and odds["count1"] == 4
    risk = tidy[(tidy["term"] == "risk_difference") & (tidy["level"] == "a")].iloc[0]
    assert close(risk["estimate"], 0.5)
    assert not pd.isna(odds["interaction_p_value"])   # the LRT still exists (deviance at R's stopping point)


def test_numeric_subgroup_without_cut_is_refused_before_running():
    from ketastats.data.dictionary import Column

    spec = subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", subgroups=["age"])
    problems = spec.check_columns({"y": Column(type="number"), "age": Column(type="integer")})
    assert problems and "cut" in problems[0].message and "age" in problems[0].message


@pytest.mark.parametrize("keys, message", [
    ({"subgroups": ["g"]}, "treatment column"),
    ({"subgroups": ["s"], "cut": {"x": [1]}}, "not one of the subgroups"),
    ({"subgroups": ["s"], "cut": {"s": [2, 1]}}, "increasing"),
    ({"subgroups": ["s"], "covariates": ["x"], "measure": "risk_difference"}, "unadjusted"),
])
def test_spec_errors(keys, message):
    with pytest.raises(ValueError, match=message):
        subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", **keys)


def test_missing_group_level_fails_cleanly():
    frame = _frame_small(g=["t", "t"], s=["a", "b"], y=[1.0, 2.0])
    spec = subgroups.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", levels=["t", "r"],
                          subgroups="s")
    with pytest.raises(AnalysisError):
        subgroups.run(spec, AnalysisInput("s", "t", frame, "pid", ["pid"]))
