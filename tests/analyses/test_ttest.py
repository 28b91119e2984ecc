"""ttest: kernel against R t.test and the by-hand effectsize conventions; the three designs; exclusions;
the patients-vs-controls comparison on the Siegel replica against R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from ketastats.analyses import ttest
from ketastats.analyses.base import AnalysisInput
from ketastats.stats.two_sample import t_test
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "correlation_ttest_group_proportions_regression"
REFERENCE = json.loads((REF_DIR / "associations.json").read_text())


def close(a, b) -> bool:
    if isinstance(b, float) and math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=tolerances.ASSOCIATION_RTOL, abs_tol=tolerances.ASSOCIATION_ATOL)


@pytest.mark.parametrize("case", REFERENCE["ttests"], ids=lambda c: c["name"])
def test_t_test_matches_r(case):
    res = t_test(case["x"], case["y"], case["method"], case["conf_level"], case["alternative"])
    pairs = [(res.estimate, case["estimate"]), (res.std_error, case["std_error"]), (res.statistic, case["statistic"]),
             (res.df, case["df"]), (res.p_value, case["p_value"]), (res.conf_low, case["conf_int"][0]),
             (res.conf_high, case["conf_int"][1]), (res.cohens_d, case["cohens_d"]),
             (res.cohens_d_conf_low, case["cohens_d_ci"][0]), (res.cohens_d_conf_high, case["cohens_d_ci"][1]),
             (res.hedges_g, case["hedges_g"]), (res.hedges_g_conf_low, case["hedges_g_ci"][0]),
             (res.hedges_g_conf_high, case["hedges_g_ci"][1])]
    for ours, theirs in pairs:
        assert close(ours, theirs), (ours, theirs)


def _ctx(frame, **kw):
    return AnalysisInput("t", "t", frame, "pid", ["pid", "visit"], **kw)


FRAME = pd.DataFrame({
    "pid": ["a", "a", "b", "b", "c", "c", "d", "e", "e"],
    "visit": pd.Categorical(["pre", "post", "pre", "post", "pre", "post", "pre", "pre", "other"],
                            categories=["pre", "post", "other"]),
    "y": [20.0, 10, 25, 12, 30, None, 22, 27, 5],
}, index=range(1, 10))


def test_paired_design_accounts_for_rows():
    spec = ttest.Spec(id="t", type="ttest", table="t", outcome="y", within="visit", levels=["post", "pre"],
                      method="paired")
    result = ttest.run(spec, _ctx(FRAME))
    row = result.tidy.iloc[0]
    assert (row["contrast"], row["n1"], row["n"], row["effect_size_type"]) == ("post - pre", 2, 4, "cohen_dz")
    assert row["estimate"] == pytest.approx(-11.5)
    reasons = result.exclusions.set_index("row")["reason"].to_dict()
    assert reasons == {9: "other-level", 6: "missing-value", 5: "incomplete-pair", 7: "incomplete-pair",
                       8: "incomplete-pair"}
    assert row["n"] + len(result.exclusions) == len(FRAME)


def test_group_design_and_level_order():
    frame = pd.DataFrame({"pid": list("abcdefg"), "r": pd.array([True, True, True, False, False, False, None],
                                                                   dtype="boolean"),
                          "y": [5.0, 6, 7, 1, 2, 4, 3]}, index=range(1, 8))
    spec = ttest.Spec(id="t", type="ttest", table="t", outcome="y", group="r", levels=[True, False],
                      method=["student", "welch"])
    result = ttest.run(spec, AnalysisInput("t", "t", frame, "pid", ["pid"]))
    assert result.tidy["contrast"].tolist() == ["true - false"] * 2
    assert result.tidy["estimate"].tolist() == pytest.approx([11 / 3] * 2)
    assert result.tidy["method"].tolist() == ["student", "welch"]
    assert result.exclusions["row"].tolist() == [7]


def test_two_tables_with_aggregation():
    patients = pd.DataFrame({"pid": ["a", "a", "b", "c"], "visit": ["pre", "pre", "pre", "pre"],
                             "y": [1.0, 3.0, 4.0, 5.0]}, index=[1, 2, 3, 4])
    controls = pd.DataFrame({"cid": ["x", "y", "y", "z"], "scan": ["s1", "s1", "s2", "s1"],
                             "y": [1.0, 0.0, 2.0, None]}, index=[1, 2, 3, 4])
    versus = AnalysisInput("t", "controls", controls, "cid", ["cid", "scan"])
    spec = ttest.Spec(id="t", type="ttest", table="t", outcome="y", versus_table="controls", versus_subject="cid",
                      method="student", aggregate="mean")
    result = ttest.run(spec, _ctx(patients, versus=versus))
    row = result.tidy.iloc[0]
    assert (row["n1"], row["n2"], row["n"]) == (3, 2, 7)
    assert row["estimate1"] == pytest.approx((2 + 4 + 5) / 3) and row["estimate2"] == pytest.approx(1.0)
    assert result.exclusions[["table", "row", "subject"]].values.tolist() == [["controls", 4, "z"]]


@pytest.mark.parametrize("spec, message", [
    ({"outcome": "y", "group": "g", "within": "visit", "method": "paired", "levels": ["a", "b"]}, "exactly one"),
    ({"outcome": "y", "within": "visit", "method": "student", "levels": ["a", "b"]}, "method: paired"),
    ({"outcome": "y", "within": "visit", "method": "paired"}, "levels"),
    ({"outcome": "y", "group": "g", "method": ["paired", "welch"]}, "paired"),
    ({"outcome": "y", "group": "g", "versus_where": "x > 1"}, "versus_table"),
])
def test_spec_rejects_inconsistent_designs(spec, message):
    with pytest.raises(ValidationError, match=message):
        ttest.Spec.model_validate({"id": "t", "type": "ttest", "table": "t", **spec})


def test_versus_table_names_are_checked_before_running(project):
    from ketastats.api import validate_plan
    from ketastats.errors import PlanError

    path = project / "analysis_plans" / "siegel2021.yaml"
    text = path.read_text()
    text = text.replace("    versus_subject: control_id\n    outcome: [fc_dmn, fc_sgacc_dmn, fc_limbic, fc_visual]\n"
                        "    method: student\n    aggregate: mean\n\n  - id: fc_patients_vs_controls_post",
                        "    versus_subject: control_idx\n    outcome: [fc_dmn, fc_sgacc_dmn, fc_limbic, fc_visual]\n"
                        "    method: student\n    aggregate: mean\n\n  - id: fc_patients_vs_controls_post", 1)
    path.write_text(text)
    with pytest.raises(PlanError) as error:
        validate_plan(path)
    issue = error.value.issues[0]
    assert issue.code == "unknown-column" and "control_idx" in issue.message
    assert issue.location.line is not None and "versus_subject" in issue.location.path


@pytest.fixture(scope="module")
def siegel():
    from ketastats.api import run_plan

    return run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", write=False)


def test_siegel_patients_vs_controls_match_r_and_the_paper(siegel):
    for when in ("pre", "post"):
        table = siegel.tables[f"fc_patients_vs_controls_{when}"].set_index("outcome")
        for outcome in ("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"):
            ref = REFERENCE["siegel"]["patients_vs_controls"][f"{outcome}_{when}"]
            row = table.loc[outcome]
            for ours, theirs in [(row["estimate"], ref["estimate"]), (row["statistic"], ref["statistic"]),
                                 (row["df"], ref["df"]), (row["p_value"], ref["p_value"]),
                                 (row["conf_low"], ref["conf_int"][0]), (row["conf_high"], ref["conf_int"][1])]:
                assert close(float(ours), theirs)
    pre = siegel.tables["fc_patients_vs_controls_pre"].set_index("outcome")
    post = siegel.tables["fc_patients_vs_controls_post"].set_index("outcome")
    # Siegel et al. 2021: hyperconnectivity before ketamine in DMN, sgACC-DMN and limbic (p < 0.05), not visual;
    # no difference after ketamine in any of the four
    assert (pre.loc[["fc_dmn", "fc_sgacc_dmn", "fc_limbic"], "p_value"] < 0.05).all()
    assert (pre.loc[["fc_dmn", "fc_sgacc_dmn", "fc_limbic"], "estimate"] > 0).all()
    assert pre.at["fc_visual", "p_value"] > 0.05 and (post["p_value"] > 0.05).all()
    assert pre["n1"].tolist() == [23] * 4 and post["n1"].tolist() == [20] * 4 and (pre["n2"] == 27).all()
