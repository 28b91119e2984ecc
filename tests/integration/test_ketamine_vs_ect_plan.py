"""The ketamine vs ECT example plan against R: key numbers of analysis_plans/ketamine_vs_ect.yaml equal the
values R computed from the same synthetic CSV files (tests/reference/ketamine_vs_ect/make_reference.R →
reference.json: lmer + lmerTest / pbkrtest + emmeans, fisher.test, survdiff, coxph, cor.test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from ketastats.api import run_plan
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests/reference/ketamine_vs_ect/reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml", out=tmp_path_factory.mktemp("ect") / "report")


def close(actual, expected, rtol, atol=0.0) -> bool:
    return abs(float(actual) - float(expected)) <= atol + rtol * abs(float(expected))


def _python_term(r_term: str) -> str:
    """R's ``armketamine:visittx3`` → patsy's ``randomized_arm[T.ketamine]:visit[T.tx3]``."""
    if r_term == "(Intercept)":
        return "Intercept"
    parts = []
    for part in r_term.split(":"):
        match = re.fullmatch(r"(arm|visit)(.+)", part)
        column = "randomized_arm" if match.group(1) == "arm" else "visit"
        parts.append(f"{column}[T.{match.group(2)}]")
    return ":".join(parts)


def test_plan_runs_every_analysis(result):
    assert all(r.ok for r in result.results.values())
    assert set(result.families) == {"primary"}
    assert {"hdrs_mixed_model", "response_eot_by_arm", "relapse_cox", "il6_vs_hdrs_change"} <= set(result.tables)


def test_mixed_model_fixed_effects_match_lmer(result):
    table = result.tables["hdrs_mixed_model"]
    fixed = table[(table["effect"] == "fixed") & (table["df_method"] == "satterthwaite")].set_index("term")
    assert len(fixed) == len(REFERENCE["mixed_model"]["fixed"]) == 12
    for row in REFERENCE["mixed_model"]["fixed"]:
        mine = fixed.loc[_python_term(row["term"])]
        assert close(mine["estimate"], row["estimate"], tolerances.LMM_ESTIMATE_RTOL), row["term"]
        assert close(mine["std_error"], row["std_error"], tolerances.LMM_ESTIMATE_RTOL), row["term"]
        assert close(mine["df"], row["df"], tolerances.LMM_SATTERTHWAITE_DF_RTOL), row["term"]
        assert close(mine["p_value"], row["p_value"], tolerances.LMM_P_RTOL, tolerances.LMM_P_ATOL), row["term"]


@pytest.mark.parametrize("df_method, key, df_rtol", [
    ("satterthwaite", "contrasts_satterthwaite", tolerances.LMM_SATTERTHWAITE_DF_RTOL),
    ("kenward_roger", "contrasts_kenward_roger", tolerances.LMM_KENWARD_ROGER_DF_RTOL),
])
def test_ketamine_minus_ect_by_visit_matches_emmeans(result, df_method, key, df_rtol):
    table = result.tables["hdrs_mixed_model"]
    rows = table[(table["effect"] == "contrast") & (table["df_method"] == df_method)].set_index("group")
    assert set(rows["contrast"]) == {"ketamine - ect"}
    for row in REFERENCE["mixed_model"][key]:
        mine = rows.loc[f"visit={row['visit']}"]
        for column in ("estimate", "std_error", "statistic", "conf_low", "conf_high"):
            assert close(mine[column], row[column], tolerances.LMM_ESTIMATE_RTOL, 1e-9), (row["visit"], column)
        assert close(mine["df"], row["df"], df_rtol), row["visit"]
        assert close(mine["p_value"], row["p_value"], tolerances.LMM_P_RTOL, tolerances.LMM_P_ATOL), row["visit"]
    assert int(rows["n_obs"].iloc[0]) == REFERENCE["mixed_model"]["n_obs"]


def test_response_at_end_of_course_matches_fisher_test(result):
    table = result.tables["response_eot_by_arm"]
    row = table[(table["outcome"] == "responder") & (table["term"] == "odds_ratio")].iloc[0]
    ref = REFERENCE["response_eot"]
    assert (row["count1"], row["n1"], row["count2"], row["n2"]) == (
        ref["count_ketamine"], ref["n_ketamine"], ref["count_ect"], ref["n_ect"])
    for column, key in [("estimate", "odds_ratio"), ("conf_low", "conf_low"), ("conf_high", "conf_high"),
                        ("p_value", "p_value")]:
        assert close(row[column], ref[key], tolerances.ASSOCIATION_RTOL, tolerances.ASSOCIATION_ATOL), column


def test_relapse_logrank_and_cox_match_survival(result):
    ref = REFERENCE["relapse"]
    logrank = result.tables["relapse_logrank"]
    test = logrank[logrank["effect"] == "test"].iloc[0]
    assert close(test["statistic"], ref["logrank_chisq"], tolerances.SURVIVAL_TEST_RTOL)
    assert close(test["p_value"], ref["logrank_p"], tolerances.SURVIVAL_TEST_RTOL)
    groups = logrank[logrank["effect"] == "group"].set_index("arm")
    for arm in ("ect", "ketamine"):
        assert int(groups.at[arm, "n_events"]) == ref["logrank_observed"][arm]
        assert close(groups.at[arm, "expected"], ref["logrank_expected"][arm], tolerances.SURVIVAL_RTOL)
    cox = result.tables["relapse_cox"]
    fixed = cox[cox["effect"] == "fixed"].set_index("term")
    names = {"armketamine": "arm[T.ketamine]", "age": "age"}
    for row in ref["cox"]:
        mine = fixed.loc[names[row["term"]]]
        assert int(mine["n"]) == ref["n"] and int(mine["n_events"]) == ref["n_events"]
        for column, key in [("estimate", "estimate"), ("std_error", "std_error"), ("hazard_ratio", "hazard_ratio"),
                            ("hazard_ratio_conf_low", "conf_low"), ("hazard_ratio_conf_high", "conf_high")]:
            assert close(mine[column], row[key], tolerances.SURVIVAL_RTOL, tolerances.SURVIVAL_ATOL), column
        assert close(mine["p_value"], row["p_value"], tolerances.SURVIVAL_TEST_RTOL), row["term"]


def test_il6_change_vs_hdrs_change_matches_cor_test(result):
    table = result.tables["il6_vs_hdrs_change"]
    row = table[table["method"] == "pearson"].iloc[0]
    ref = REFERENCE["il6_vs_hdrs_change"]
    assert int(row["n"]) == ref["n"] and int(row["df"]) == ref["df"]
    for column in ("estimate", "conf_low", "conf_high", "statistic", "p_value"):
        assert close(row[column], ref[column], tolerances.ASSOCIATION_RTOL, tolerances.ASSOCIATION_ATOL), column


def test_committed_report_tables_agree_with_the_run(result):
    """The committed CSV (6 significant digits) is the run's table (``ketastats check`` covers every table)."""
    committed = pd.read_csv(ROOT / "reports/ketamine_vs_ect/tables/relapse_logrank.csv")
    test = committed[committed["effect"] == "test"].iloc[0]
    assert close(test["statistic"], REFERENCE["relapse"]["logrank_chisq"], 1e-5)
