"""rm_anova: numbers against afex / car (tests/reference/rm_anova_paired_ttest), complete-case accounting, the
sphericity policies, post-hoc tests, failures and plan validation. The tests read the JSON; R is not needed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ketastats.analyses import rm_anova
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.data.dictionary import Column
from ketastats.stats.repeated_measures import orthonormal_contrasts
from ketastats.stats.repeated_measures import rm_anova as rm_anova_kernel
from ketastats.stats.sphericity import greenhouse_geisser, mauchly, sphericity
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "rm_anova_paired_ttest"
REFERENCE = json.loads((REF_DIR / "rm_anova.json").read_text(encoding="utf-8"))
CASES = {case["name"]: case for case in REFERENCE["cases"]}

LEVELS = {"treatment": ["control", "A", "B"], "gender": ["F", "M"], "phase": ["fup", "post", "pre"],
          "hour": ["1", "2", "3", "4", "5"]}


def number(value):
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"Inf": math.inf, "-Inf": -math.inf}[value]
    return float(value)


def close(ours, theirs, rtol, atol=0.0) -> bool:
    ours, theirs = number(ours), number(theirs)
    if math.isnan(theirs) or math.isinf(theirs):
        return (math.isnan(ours) and math.isnan(theirs)) or ours == theirs
    return abs(ours - theirs) <= max(rtol * abs(theirs), atol)


def close_p(ours, theirs) -> bool:
    return close(ours, theirs, tolerances.RM_ANOVA_P_RTOL, tolerances.RM_ANOVA_P_ATOL)


def obk_long() -> pd.DataFrame:
    frame = pd.read_csv(REF_DIR / "obk_long.csv", dtype={"id": str, "hour": str})
    for column, levels in LEVELS.items():
        frame[column] = pd.Categorical(frame[column], categories=levels)
    frame.index = range(1, len(frame) + 1)
    return frame


def obk_phase() -> pd.DataFrame:
    agg = (obk_long().groupby(["id", "treatment", "gender", "phase"], observed=True)["value"].mean().reset_index())
    agg.index = range(1, len(agg) + 1)
    return agg


def obk_incomplete() -> pd.DataFrame:
    frame = obk_long()
    drop = ((frame["id"] == "3") & (frame["phase"] == "post") & (frame["hour"] == "2")) | \
           ((frame["id"] == "7") & (frame["phase"] == "fup") & (frame["hour"] == "5"))
    return frame[~drop]


def siegel_per_protocol() -> pd.DataFrame:
    data = ROOT / "ketastats" / "datasets" / "siegel2021"
    clinical = pd.read_csv(data / "clinical.csv")
    participants = pd.read_csv(data / "participants.csv")
    clinical.index = range(1, len(clinical) + 1)
    keep = set(participants.loc[participants["completed_infusion"].astype(str).str.lower() == "true",
                                "participant_id"])
    frame = clinical[clinical["participant_id"].isin(keep)
                     & clinical["visit"].isin(["baseline", "day1", "week2", "week8"])].copy()
    frame["visit"] = pd.Categorical(frame["visit"], categories=["baseline", "day1", "week2", "week4", "week6",
                                                                "week8"], ordered=True)
    return frame


DESIGNS = {  # case -> (frame, subject, outcome, within, between, posthoc)
    "obk_within": (obk_long, "id", "value", ["phase", "hour"], [], {"factor": "hour", "versus": "1", "adjust": "holm"}),
    "obk_oneway": (obk_phase, "id", "value", ["phase"], [], {"versus": "all", "adjust": "holm"}),
    "obk_mixed": (obk_phase, "id", "value", ["phase"], ["treatment"],
                  {"versus": "pre", "adjust": "bonferroni", "by": ["treatment"]}),
    "obk_full": (obk_long, "id", "value", ["phase", "hour"], ["treatment", "gender"], None),
    "obk_incomplete": (obk_incomplete, "id", "value", ["phase", "hour"], [], None),
    "siegel_madrs": (siegel_per_protocol, "participant_id", "madrs", ["visit"], [],
                     {"versus": "baseline", "adjust": "bonferroni"}),
}


def run_design(name: str, sphericity: str = "greenhouse_geisser"):
    make, subject, outcome, within, between, posthoc = DESIGNS[name]
    frame = make()
    spec = rm_anova.Spec(id=name, type="rm_anova", table="t", outcome=outcome, within=within, between=between,
                         sphericity=sphericity, posthoc=posthoc)
    result = execute(rm_anova, spec, AnalysisInput(name, "t", frame, subject, [subject, *within]))
    assert result.ok, result.issues
    return frame, result


# --- numbers against afex ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_anova_table_matches_afex(name):
    case = CASES[name]
    _, result = run_design(name)
    table = result.tidy[result.tidy["statistic_type"] == "F"]
    assert table["term"].tolist() == [t["term"] for t in case["terms"]]
    assert set(table["n_subjects"]) == {case["n_subjects"]}
    for (_, row), ref in zip(table.iterrows(), case["terms"]):
        for column in ("sum_sq", "df", "sum_sq_error", "df_denominator", "statistic", "eta_sq_partial",
                       "eta_sq_generalized", "epsilon_gg", "epsilon_hf", "mauchly_w"):
            assert close(row[column], ref.get(column), tolerances.RM_ANOVA_RTOL), (ref["term"], column)
        assert close_p(row["p_value"], ref["p_value"]), ref["term"]
        assert close_p(row["mauchly_p"], ref.get("mauchly_p")), ref["term"]
        # afex's GG-corrected table: df and p (1-df and between terms are uncorrected there too)
        assert close(row["df_corrected"], ref["afex_gg_df"], tolerances.RM_ANOVA_RTOL), ref["term"]
        assert close(row["df_denominator_corrected"], ref["afex_gg_df_denominator"], tolerances.RM_ANOVA_RTOL)
        assert close_p(row["p_value_corrected"], ref["afex_gg_p_value"]), ref["term"]
        assert row["correction"] == ("greenhouse_geisser" if "epsilon_gg" in ref else "none")


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_huynh_feldt_matches_afex(name):
    case = CASES[name]
    _, result = run_design(name, sphericity="huynh_feldt")
    table = result.tidy[result.tidy["statistic_type"] == "F"]
    for (_, row), ref in zip(table.iterrows(), case["terms"]):
        assert close(row["df_corrected"], ref["afex_hf_df"], tolerances.RM_ANOVA_RTOL), ref["term"]
        assert close_p(row["p_value_corrected"], ref["afex_hf_p_value"]), ref["term"]
        if "epsilon_hf_raw" in ref:
            outcome = DESIGNS[name][2]
            extra = result.extras["sphericity"][outcome][ref["term"]]
            assert close(extra["epsilon_hf_raw"], ref["epsilon_hf_raw"], tolerances.RM_ANOVA_RTOL)


@pytest.mark.parametrize("name", [n for n in sorted(DESIGNS) if CASES[n]["posthoc"]])
def test_posthoc_matches_paired_t_tests_in_r(name):
    reference = CASES[name]["posthoc"]
    _, result = run_design(name)
    rows = result.tidy[result.tidy["statistic_type"] == "t"]
    assert rows["contrast"].tolist() == [r["contrast"] for r in reference["rows"]]
    assert [r["contrast"] for r in result.extras["posthoc"]] == rows["contrast"].tolist()
    for (_, row), ref in zip(rows.iterrows(), reference["rows"]):
        if "group" in ref:
            assert row[reference["by"]] == ref["group"]
        assert row["n_subjects"] == ref["n_subjects"]
        for column in ("estimate", "std_error", "conf_low", "conf_high", "statistic", "df", "effect_size"):
            assert close(row[column], ref[column], tolerances.PAIRED_T_RTOL, 1e-12), (ref["contrast"], column)
        assert close_p(row["p_value"], ref["p_value"]) and close_p(row["p_adjusted"], ref["p_adjusted"])
        assert row["adjust_method"] == reference["adjust"] and row["effect_size_type"] == "cohen_dz"


def test_kernel_is_invariant_to_the_order_of_subjects():
    frame = obk_long()
    wide = frame.pivot_table(index="id", columns=["phase", "hour"], values="value", observed=True).to_numpy()
    a = rm_anova_kernel(wide, [3, 5])
    b = rm_anova_kernel(wide[::-1], [3, 5])
    for x, y in zip(a, b):
        assert x.statistic == pytest.approx(y.statistic, rel=1e-12)
        assert x.mauchly_p == pytest.approx(y.mauchly_p, rel=1e-12, nan_ok=True)


def test_sphericity_does_not_depend_on_the_contrast_basis():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(12, 4)) + np.array([0, 1, 1.5, 3])
    r = y - y.mean(axis=0)
    P = orthonormal_contrasts(4)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))   # another orthonormal basis of the same space
    S1, S2 = P.T @ r.T @ r @ P, (P @ Q).T @ r.T @ r @ (P @ Q)
    one, two = sphericity(S1, 11, n_cells=4), sphericity(S2, 11, n_cells=4)
    assert one.epsilon_gg == pytest.approx(two.epsilon_gg, rel=1e-12)
    assert one.mauchly_p == pytest.approx(two.mauchly_p, rel=1e-12)
    assert 1 / 3 <= one.epsilon_gg <= 1


def test_car_mauchly_differs_from_the_textbook_form_for_more_than_two_contrasts():
    # car writes 3k (cells) where stats::mauchly.test has 3p; we follow car (and afex).
    ref = next(t for t in CASES["obk_within"]["terms"] if t["term"] == "hour")
    frame = obk_long()
    wide = frame.pivot_table(index="id", columns=["phase", "hour"], values="value", observed=True).to_numpy()
    hour = [t for t in rm_anova_kernel(wide, [3, 5]) if t.within == (1,)][0]
    assert close_p(hour.mauchly_p, ref["mauchly_p"])
    P = np.kron(np.full((3, 1), 1 / np.sqrt(3)), orthonormal_contrasts(5))
    r = wide - wide.mean(axis=0)
    _, textbook_p = mauchly(P.T @ r.T @ r @ P, 15)
    assert abs(textbook_p - float(ref["mauchly_p"])) > 1e-4 * float(ref["mauchly_p"])


def test_huynh_feldt_is_capped_at_one_as_afex():
    S = np.diag([1.0, 1.01, 0.99])
    result = sphericity(S, error_df=20)
    assert result.epsilon_hf_raw > 1 and result.epsilon_hf == 1.0
    assert greenhouse_geisser(S) <= 1


# --- complete cases and row accounting -------------------------------------------------------------

def test_incomplete_participants_are_listed_with_every_row():
    frame, result = run_design("obk_incomplete")
    excluded = result.exclusions
    assert set(excluded["reason"]) == {"incomplete-subject"}
    assert sorted(set(excluded["subject"])) == ["3", "7"]
    assert len(excluded) == 28 and set(excluded["row"]) == set(frame.index[frame["id"].isin(["3", "7"])])
    detail = excluded.loc[excluded["subject"] == "3", "detail"].iloc[0]
    assert "phase=post, hour=2" in detail and "complete_cases" in detail
    anova = result.tidy[result.tidy["statistic_type"] == "F"]
    assert set(anova["n"]) == {14 * 15} and int(anova["n"].iloc[0]) + len(excluded) == len(frame)


def test_missing_outcome_value_makes_the_participant_incomplete():
    frame = obk_phase()
    frame.loc[frame.index[(frame["id"] == "5") & (frame["phase"] == "fup")], "value"] = np.nan
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase")
    result = execute(rm_anova, spec, AnalysisInput("r", "t", frame, "id", ["id", "phase"]))
    assert result.ok
    assert result.exclusions["subject"].tolist() == ["5"] * 3
    assert set(result.tidy["n_subjects"]) == {15}


def test_siegel_plan_excludes_p17_entirely(tmp_path):
    from ketastats.api import run_plan

    result = run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", out=tmp_path / "report")
    rm = result.results["madrs_rm_anova"]
    assert rm.ok
    incomplete = rm.exclusions[rm.exclusions["reason"] == "incomplete-subject"]
    assert set(incomplete["subject"]) == {"P17"} and len(incomplete) == 2   # P17 has baseline and day 1 only
    assert "visit=week2; visit=week8" in incomplete["detail"].iloc[0]
    anova = rm.tidy.iloc[0]
    assert anova["n"] + len(rm.exclusions) == len(result.data["clinical"])
    ref = CASES["siegel_madrs"]
    assert close(anova["statistic"], ref["terms"][0]["statistic"], tolerances.RM_ANOVA_RTOL)
    assert close_p(anova["p_value_corrected"], ref["terms"][0]["afex_gg_p_value"])
    posthoc = rm.tidy[rm.tidy["statistic_type"] == "t"]
    # Siegel et al. 2021: each post-infusion visit differs from baseline, p < 0.001
    assert (posthoc["p_adjusted"] < 0.001).all()
    for (_, row), r in zip(posthoc.iterrows(), ref["posthoc"]["rows"]):
        assert close(row["effect_size"], r["effect_size"], tolerances.PAIRED_T_RTOL)


# --- policies and options ----------------------------------------------------------------------------

def test_auto_applies_greenhouse_geisser_only_where_mauchly_rejects():
    _, result = run_design("obk_within", sphericity="auto")
    table = result.tidy[result.tidy["statistic_type"] == "F"].set_index("term")
    # Mauchly p: phase 0.086 (kept), hour 0.0007 and phase:hour 0.027 (corrected)
    assert table.at["phase", "correction"] == "none"
    assert table.at["phase", "p_value_corrected"] == table.at["phase", "p_value"]
    assert table.at["hour", "correction"] == "greenhouse_geisser"
    assert table.at["phase:hour", "correction"] == "greenhouse_geisser"


def test_none_leaves_p_values_uncorrected_and_one_df_terms_are_never_corrected():
    _, result = run_design("obk_within", sphericity="none")
    anova = result.tidy[result.tidy["statistic_type"] == "F"]
    assert (anova["correction"] == "none").all()
    assert (anova["p_value_corrected"] == anova["p_value"]).all()
    frame = obk_phase()
    two_levels = frame[frame["phase"] != "fup"]
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase")
    result = execute(rm_anova, spec, AnalysisInput("r", "t", two_levels, "id", ["id", "phase"]))
    row = result.tidy.iloc[0]
    assert row["correction"] == "none" and row["df"] == 1 and pd.isna(row["epsilon_gg"]) and pd.isna(row["mauchly_p"])


def test_effect_size_selection_and_adjust_none():
    make, *_ = DESIGNS["obk_oneway"]
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase",
                         effect_size="eta_sq_generalized", posthoc={"versus": "all", "adjust": "none"})
    result = execute(rm_anova, spec, AnalysisInput("r", "t", make(), "id", ["id", "phase"]))
    assert "eta_sq_partial" not in result.tidy and "eta_sq_generalized" in result.tidy
    posthoc = result.tidy[result.tidy["statistic_type"] == "t"]
    assert (posthoc["p_adjusted"] == posthoc["p_value"]).all()
    assert posthoc["contrast"].tolist() == ["fup - post", "fup - pre", "post - pre"]


def test_rows_are_identical_on_rerun():
    _, first = run_design("obk_mixed")
    _, second = run_design("obk_mixed")
    pd.testing.assert_frame_equal(first.tidy, second.tidy)


# --- failures ------------------------------------------------------------------------------------------

def test_two_rows_in_one_cell_fail_the_analysis():
    frame = obk_long()   # several hours per phase: analysing phase alone gives 5 rows per cell
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase")
    result = execute(rm_anova, spec, AnalysisInput("r", "t", frame, "id", ["id", "phase", "hour"]))
    assert not result.ok and result.issues[0].code == "duplicate-cell"


def test_between_factor_must_be_constant_within_a_participant():
    frame = obk_phase()
    frame.loc[frame.index[0], "treatment"] = "A"
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase", between="treatment")
    result = execute(rm_anova, spec, AnalysisInput("r", "t", frame, "id", ["id", "phase"]))
    assert not result.ok and result.issues[0].code == "between-not-constant"


def test_unknown_versus_level_fails():
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="value", within="phase",
                         posthoc={"versus": "baseline"})
    result = execute(rm_anova, spec, AnalysisInput("r", "t", obk_phase(), "id", ["id", "phase"]))
    assert not result.ok and result.issues[0].code == "unknown-level"


@pytest.mark.parametrize("keys", [
    {"within": ["a", "b", "c"]},
    {"within": ["phase"], "between": ["phase"]},
    {"within": ["phase"], "posthoc": {"factor": "hour"}},
    {"within": ["phase"], "posthoc": {"adjust": "tukey"}},
    {"within": ["phase"], "sphericity": "lower_bound"},
    {"within": ["phase"], "incomplete": "pairwise"},
])
def test_invalid_specs_are_refused(keys):
    with pytest.raises(ValidationError):
        rm_anova.Spec.model_validate({"id": "r", "type": "rm_anova", "table": "t", "outcome": "value", **keys})


def test_check_columns_reports_types_and_levels():
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="visit", within="madrs",
                         posthoc={"factor": "madrs", "versus": "all"})
    columns = {"visit": Column(type="category", levels=["baseline", "day1"]), "madrs": Column(type="number")}
    assert [problem.key for problem in spec.check_columns(columns)] == ["outcome[0]", "within[0]"]
    spec = rm_anova.Spec(id="r", type="rm_anova", table="t", outcome="madrs", within="visit",
                         posthoc={"versus": "week9"})
    assert [problem.key for problem in spec.check_columns(columns)] == ["posthoc.versus"]
