"""The `mmrm` analysis type against R's mmrm 0.3.18 + emmeans (tests/reference/mmrm, make_reference.R):
fixed-effect rows, type-III F tests (mmrm's Anova), LS-means and treatment − placebo contrasts by
visit, covariance parameters and glance, for every covariance structure and df / vcov choice on
fev_data and on generated trials with dropout; plus the fallback chain, exclusions and the plan
keys' validation."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from ketastats.analyses import mmrm
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from tests.reference import tolerances
from tests.reference.mmrm import load as reference


def run(frame: pd.DataFrame, **keys):
    """Run one mmrm analysis on ``frame`` (subject USUBJID, visit AVISIT unless given)."""
    spec = mmrm.Spec.model_validate({"id": "m", "type": "mmrm", "table": "t", "visit": "AVISIT",
                                     "subject": "USUBJID", **keys})
    return execute(mmrm, spec, AnalysisInput("m", "t", frame, "USUBJID", ["USUBJID", "AVISIT"]))


def close(ours: float, theirs: float, rtol: float, scale: float = 0.0) -> bool:
    return abs(ours - theirs) <= rtol * max(abs(theirs), scale, 1e-300)


def close_p(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= max(tolerances.MMRM_P_ATOL, tolerances.MMRM_P_RTOL * theirs)


def selected_cases() -> list[str]:
    """Every fev_data case with LS-means (each structure × df / vcov choice, and ML) and every case of
    the first 4 generated designs (all 120 with KETASTATS_MMRM_ALL=1; the kernel test covers more)."""
    cases = reference.cases()
    cases = cases[cases["converged"]]
    first = r"gen\d+\|" if os.environ.get("KETASTATS_MMRM_ALL") == "1" else r"gen[1-4]\|"
    chosen = cases["case"].str.startswith("fev|full|") | cases["case"].str.match(first)
    return cases.loc[chosen, "case"].tolist()


@pytest.mark.parametrize("case", selected_cases())
def test_tables_match_mmrm_and_emmeans(case):
    row = reference.cases().set_index("case").loc[case]
    frame = reference.frame(case)
    result = run(frame, formula=row["formula"], covariance=row["structure"],
                 df_method=reference.DF_METHODS[row["method"]], vcov=reference.VCOV_METHODS[row["vcov"]],
                 estimation="reml" if row["reml"] else "ml",
                 contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}])
    assert result.ok, result.issues
    tidy, values = result.tidy, reference.values()
    ref = values[values["case"] == case]
    fixed = tidy[tidy["effect"] == "fixed"].assign(r=lambda t: t["term"].map(reference.r_name)).set_index("r")
    for _, want in ref[ref["kind"] == "fixed"].iterrows():
        got = fixed.loc[want["term"]]
        assert close(got["estimate"], want["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
        assert close(got["std_error"], want["std_error"], tolerances.MMRM_SE_RTOL)
        assert close(got["df"], want["df"], tolerances.MMRM_DF_RTOL)
        assert close_p(got["p_value"], want["p_value"])
    joint = tidy[tidy["effect"] == "joint"].set_index("term")
    wanted = ref[ref["kind"] == "joint"]
    assert sorted(joint.index) == sorted(wanted["term"])
    for _, want in wanted.iterrows():
        got = joint.loc[want["term"]]
        assert got["df"] == want["df"]
        assert close(got["statistic"], want["statistic"], tolerances.MMRM_SE_RTOL)
        assert close(got["df_denominator"], want["df_denominator"], tolerances.MMRM_DF_RTOL)
        assert close_p(got["p_value"], want["p_value"])
    for kind in ("emmean", "contrast"):
        rows = tidy[tidy["effect"] == kind]
        wanted = ref[ref["kind"] == kind]
        assert len(rows) == len(wanted) > 0
        for _, want in wanted.iterrows():
            key = rows["level"] if kind == "emmean" else rows["contrast"]
            got = rows[(key == want["level"]) & (rows["group"] == f"AVISIT={want['group']}")].iloc[0]
            assert close(got["estimate"], want["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
            assert close(got["std_error"], want["std_error"], tolerances.MMRM_SE_RTOL)
            assert close(got["df"], want["df"], tolerances.MMRM_DF_RTOL)
            if kind == "contrast":
                assert close_p(got["p_value"], want["p_value"])
    loglik = ref.loc[ref["kind"] == "loglik", "estimate"].iloc[0]
    assert close(result.glance["log_likelihood"], loglik, tolerances.MMRM_LOGLIK_RTOL)
    for key, kind in (("aic", "aic"), ("bic", "bic")):
        assert close(result.glance[key], ref.loc[ref["kind"] == kind, "estimate"].iloc[0], tolerances.MMRM_LOGLIK_RTOL)
    theta = tidy[(tidy["effect"] == "cov_pars") & tidy["term"].str.startswith("theta_")]
    assert np.allclose(theta["estimate"], ref.loc[ref["kind"] == "theta", "estimate"], rtol=0,
                       atol=tolerances.MMRM_THETA_ATOL)
    assert result.glance["covariance"] == row["structure"] and result.glance["converged"]


def test_covariance_rows_are_the_visit_variances_and_correlations():
    case = "fev|full|us|reml|Kenward-Roger|Kenward-Roger-Linear"
    result = run(reference.frame(case), formula="FEV1 ~ RACE + SEX + ARMCD * AVISIT")
    cov = result.tidy[result.tidy["effect"] == "cov_pars"].set_index("term")["estimate"]
    values = reference.values()
    sigma = values[(values["case"] == case) & (values["kind"] == "sigma")].set_index("term")["estimate"]
    assert close(cov["var__VIS2"], sigma["2.2"], tolerances.MMRM_ESTIMATE_RTOL)
    assert close(cov["cor__VIS1.VIS4"], sigma["1.4"] / np.sqrt(sigma["1.1"] * sigma["4.4"]),
                 tolerances.MMRM_ESTIMATE_RTOL)


def test_default_vcov_is_kenward_roger_linear_as_sas():
    spec = mmrm.Spec.model_validate({"id": "m", "type": "mmrm", "table": "t", "formula": "y ~ arm",
                                     "visit": "visit"})
    assert spec.df_method == "kenward_roger" and spec.vcov_method == "kenward_roger_linear"
    spec = mmrm.Spec.model_validate({"id": "m", "type": "mmrm", "table": "t", "formula": "y ~ arm",
                                     "visit": "visit", "df_method": "satterthwaite"})
    assert spec.vcov_method == "asymptotic"


@pytest.mark.parametrize("keys, message", [
    ({"df_method": "kenward_roger", "estimation": "ml"}, "REML"),
    ({"df_method": "satterthwaite", "vcov": "kenward_roger"}, "needs df_method: kenward_roger"),
    ({"df_method": "kenward_roger", "vcov": "asymptotic"}, "goes with vcov"),
    ({"covariance": "spline"}, "covariance"),
])
def test_invalid_combinations_are_refused(keys, message):
    with pytest.raises(ValidationError, match=message):
        mmrm.Spec.model_validate({"id": "m", "type": "mmrm", "table": "t", "formula": "y ~ arm",
                                  "visit": "visit", **keys})


def test_margin_and_one_sided_alternative():
    """contrast = margin tested one-sided (emmeans ``test(null = margin, side = "<")``): t and p from
    the same estimate, SE and df as the two-sided row."""
    frame = reference.frame("gen3")
    keys = {"formula": "Y ~ BASE + ARMCD * AVISIT + BASE:AVISIT"}
    two = run(frame, **keys, contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}]).tidy
    one = run(frame, **keys, contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO", "margin": 1.5,
                                         "alternative": "less"}]).tidy
    a, b = two[two["effect"] == "contrast"].iloc[-1], one[one["effect"] == "contrast"].iloc[-1]
    t = (a["estimate"] - 1.5) / a["std_error"]
    assert b["statistic"] == pytest.approx(t, rel=1e-12)
    assert b["p_value"] == pytest.approx(stats.t.cdf(t, a["df"]), rel=1e-12)
    assert b["null_value"] == 1.5 and b["alternative"] == "less"


def test_at_restricts_the_grid_and_proportional_weights_average_other_factors():
    """``at: {AVISIT: VIS4}`` gives the VIS4 LS-means only; ``weights: proportional`` averages RACE × SEX
    by their frequencies, as emmeans ``weights = "proportional"`` (proportional_reference.csv)."""
    frame = reference.frame("fev")
    keys = {"formula": "FEV1 ~ RACE + SEX + ARMCD * AVISIT"}
    at = run(frame, **keys, contrasts=[{"emmeans": "ARMCD", "at": {"AVISIT": "VIS4"}, "versus": "PBO"}]).tidy
    by = run(frame, **keys, contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}]).tidy
    got = at[at["effect"] == "contrast"].iloc[0]
    want = by[(by["effect"] == "contrast") & (by["group"] == "AVISIT=VIS4")].iloc[0]
    assert got["estimate"] == pytest.approx(want["estimate"], rel=1e-12) and got["group"] == "AVISIT=VIS4"
    prop = run(frame, **keys, contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO",
                                          "weights": "proportional"}]).tidy
    want = pd.read_csv(reference.FOLDER / "proportional_reference.csv")   # emmeans weights = "proportional"
    for _, row in want.iterrows():
        rows = prop[(prop["effect"] == row["kind"]) & (prop["group"] == f"AVISIT={row['group']}")]
        got = rows[(rows["level"] if row["kind"] == "emmean" else rows["contrast"]) == row["level"]].iloc[0]
        assert close(got["estimate"], row["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
        assert close(got["std_error"], row["std_error"], tolerances.MMRM_SE_RTOL)
        assert close(got["df"], row["df"], tolerances.MMRM_DF_RTOL)
    equal = by[by["effect"] == "emmean"]["estimate"].to_numpy()
    assert not np.allclose(equal, prop[prop["effect"] == "emmean"]["estimate"].to_numpy())


def test_fallback_chain_uses_the_next_structure_and_records_why():
    """A design too small for ``us`` (6 visits, 21 covariance parameters, 5 subjects: the REML
    likelihood has no interior maximum) — the chain ``[us, ar1]`` rejects us and fits ar1; glance
    and the notes name both, and ``[us]`` alone fails with the reason."""
    rng = np.random.default_rng(4)
    rows = []
    for s in range(5):
        level = rng.normal()
        for v in range(6):
            rows.append({"USUBJID": f"S{s}", "AVISIT": f"V{v + 1}", "ARMCD": "PBO" if s % 2 else "TRT",
                         "Y": level + 0.3 * v + rng.normal()})
    frame = pd.DataFrame(rows)
    frame.index = range(1, len(frame) + 1)
    result = run(frame, formula="Y ~ ARMCD + AVISIT", covariance=["us", "ar1"])
    assert result.ok, result.issues
    assert result.glance["covariance"] == "ar1"
    assert result.glance["covariance_rejected"].startswith("us: ")
    assert any("covariance fallback" in note for note in result.notes)
    failed = run(frame, formula="Y ~ ARMCD + AVISIT", covariance=["us"])
    assert not failed.ok and failed.issues[0].code == "not-converged"


def test_missing_rows_and_subjects_without_visits_are_listed():
    frame = reference.frame("gen1").copy()
    first = frame["USUBJID"].iloc[0]
    frame.loc[frame["USUBJID"] == first, "Y"] = np.nan     # a subject with no analysable visit
    frame.loc[frame.index[10], "BASE"] = np.nan
    result = run(frame, formula="Y ~ BASE + ARMCD * AVISIT")
    assert result.ok, result.issues
    reasons = result.exclusions["reason"].tolist()
    assert "no-analysable-visit" in reasons
    usable = frame[["Y", "BASE"]].notna().all(axis=1).groupby(frame["USUBJID"]).any()
    listed = result.exclusions.loc[result.exclusions["reason"] == "no-analysable-visit", "subject"].tolist()
    assert first in listed and listed == sorted(usable.index[~usable])
    assert (result.exclusions["detail"] == "BASE is missing").sum() == 1
    assert result.glance["n_obs"] == frame[["Y", "BASE"]].notna().all(axis=1).sum()


def test_duplicated_visit_is_an_error():
    frame = reference.frame("gen2")
    frame = pd.concat([frame, frame.iloc[[0]]])
    frame.index = range(1, len(frame) + 1)
    result = run(frame, formula="Y ~ ARMCD * AVISIT")
    assert not result.ok and result.issues[0].code == "duplicate-visit"


def test_same_input_same_table():
    frame = reference.frame("gen7")
    keys = {"formula": "Y ~ BASE + ARMCD * AVISIT", "contrasts": [{"emmeans": "ARMCD", "by": "AVISIT",
                                                                   "versus": "PBO"}]}
    a, b = run(frame, **keys).tidy, run(frame, **keys).tidy
    pd.testing.assert_frame_equal(a, b)


def test_ketamine_placebo_rct_primary_analysis_matches_mmrm():
    """The plan's madrs_mmrm (analysis_plans/ketamine_placebo_rct.yaml) on the shipped synthetic trial,
    with the plan's derivations redone here, against mmrm + emmeans (make_reference_rct.R)."""
    import yaml

    from ketastats.analyses.base import AnalysisInput as Input

    root = reference.FOLDER.parents[2]
    plan = yaml.safe_load((root / "analysis_plans" / "ketamine_placebo_rct.yaml").read_text())
    keys = next(a for a in plan["analyses"] if a["id"] == "madrs_mmrm")
    source = root / "ketastats" / "datasets" / "ketamine_placebo_rct"
    ratings = pd.read_csv(source / "ratings.csv")
    arms = pd.read_csv(source / "participants.csv").set_index("participant_id")["arm"]
    levels = ["baseline", "h4", "h24", "h72", "tx_day8", "tx_day15", "tx_day23", "post_24h"] + \
        [f"fu_week{k}" for k in range(1, 13)]
    ratings["visit"] = pd.Categorical(ratings["visit"], categories=levels, ordered=True)
    baseline = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["madrs"]
    ratings["madrs_baseline"] = ratings["participant_id"].map(baseline)
    ratings["madrs_change"] = ratings["madrs"] - ratings["madrs_baseline"]
    ratings["randomized_arm"] = ratings["participant_id"].map(arms)
    visits = ["h24", "tx_day8", "tx_day15", "tx_day23", "post_24h", "fu_week4", "fu_week8", "fu_week12"]
    ratings.index = range(1, len(ratings) + 1)
    where = ("visit in [...]", ratings["visit"].isin(visits))
    spec = mmrm.Spec.model_validate({k: v for k, v in keys.items() if k not in ("where", "title")})
    result = execute(mmrm, spec, Input("madrs_mmrm", "ratings", ratings, "participant_id",
                                       ["participant_id", "visit"], where=where))
    assert result.ok, result.issues
    assert result.glance["covariance"] == "us" and result.glance["n_subjects"] == 80
    want = pd.read_csv(reference.FOLDER / "rct_reference.csv")
    tidy = result.tidy
    loglik = want.loc[want["kind"] == "loglik", "estimate"].iloc[0]
    assert close(result.glance["log_likelihood"], loglik, tolerances.MMRM_LOGLIK_RTOL)
    assert result.glance["n_obs"] == want.loc[want["term"] == "n_obs", "estimate"].iloc[0]
    for _, row in want[want["kind"] == "contrast"].iterrows():
        got = tidy[(tidy["effect"] == "contrast") & (tidy["group"] == f"visit={row['group']}")].iloc[0]
        assert got["contrast"] == row["level"]
        assert close(got["estimate"], row["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
        assert close(got["std_error"], row["std_error"], tolerances.MMRM_SE_RTOL)
        assert close(got["df"], row["df"], tolerances.MMRM_DF_RTOL)
        assert close_p(got["p_value"], row["p_value"])
    for _, row in want[want["kind"] == "emmean"].iterrows():
        got = tidy[(tidy["effect"] == "emmean") & (tidy["group"] == f"visit={row['group']}")
                   & (tidy["level"] == row["level"])].iloc[0]
        assert close(got["estimate"], row["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
        assert close(got["std_error"], row["std_error"], tolerances.MMRM_SE_RTOL)
    joint = tidy[tidy["effect"] == "joint"].set_index("term")
    for _, row in want[want["kind"] == "joint"].iterrows():
        assert close(joint.loc[row["term"], "statistic"], row["statistic"], tolerances.MMRM_SE_RTOL)
        assert close(joint.loc[row["term"], "df_denominator"], row["df_denominator"], tolerances.MMRM_DF_RTOL)


@pytest.mark.parametrize("structure", ["us", "cs", "ar1h", "toeph"])
def test_satterthwaite_with_empirical_covariance_matches_mmrm(structure):
    """mmrm ``method = "Satterthwaite", vcov = "Empirical"`` (empirical_satterthwaite_reference.csv):
    SEs, df of coefficients, type-III F tests and treatment − placebo contrasts by visit."""
    want = pd.read_csv(reference.FOLDER / "empirical_satterthwaite_reference.csv")
    want = want[want["structure"] == structure]
    result = run(reference.frame("fev"), formula="FEV1 ~ RACE + SEX + ARMCD * AVISIT", covariance=structure,
                 df_method="satterthwaite", vcov="empirical",
                 contrasts=[{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}])
    assert result.ok, result.issues
    tidy = result.tidy
    fixed = tidy[tidy["effect"] == "fixed"].assign(r=lambda t: t["term"].map(reference.r_name)).set_index("r")
    for _, row in want[want["kind"] == "fixed"].iterrows():
        got = fixed.loc[row["term"]]
        assert close(got["estimate"], row["estimate"], tolerances.MMRM_ESTIMATE_RTOL, got["std_error"])
        assert close(got["std_error"], row["std_error"], tolerances.MMRM_SE_RTOL)
        assert close(got["df"], row["df"], tolerances.MMRM_DF_RTOL)
        assert close_p(got["p_value"], row["p_value"])
    joint = tidy[tidy["effect"] == "joint"].set_index("term")
    for _, row in want[want["kind"] == "joint"].iterrows():
        assert close(joint.loc[row["term"], "statistic"], row["statistic"], tolerances.MMRM_SE_RTOL)
        assert close(joint.loc[row["term"], "df_denominator"], row["df_denominator"], tolerances.MMRM_DF_RTOL)
    contrasts = tidy[tidy["effect"] == "contrast"]
    for _, row in want[want["kind"] == "contrast"].iterrows():
        got = contrasts[contrasts["group"] == f"AVISIT={row['group']}"].iloc[0]
        assert close(got["std_error"], row["std_error"], tolerances.MMRM_SE_RTOL)
        assert close(got["df"], row["df"], tolerances.MMRM_DF_RTOL)
