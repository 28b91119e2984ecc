"""The `mixed_model` analysis type against R: lme4 / lmerTest coefficients (tests/reference/lmm),
lmerTest type-III anova and emmeans means / contrasts (tests/reference/mixed_model, made by
make_reference.R there), with Satterthwaite and Kenward-Roger df."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import mixed_model
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "mixed_model"

ESTIMATE_RTOL = tolerances.LMM_ESTIMATE_RTOL      # estimates and standard errors
SATTERTHWAITE_RTOL = tolerances.LMM_SATTERTHWAITE_DF_RTOL
KENWARD_ROGER_RTOL = tolerances.LMM_KENWARD_ROGER_DF_RTOL
P_RTOL, P_ATOL = tolerances.LMM_P_RTOL, tolerances.LMM_P_ATOL
F_RTOL = tolerances.LMM_F_RTOL


def reference(case: str, kind: str) -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "reference.csv", keep_default_na=False, dtype=str)
    frame = frame[(frame["case"] == case) & (frame["kind"] == kind)].copy()
    for column in ("estimate", "std_error", "df", "df_denominator", "statistic", "p_value"):
        frame[column] = pd.to_numeric(frame[column].mask(frame[column] == ""))
    return frame.reset_index(drop=True)


def fit(frame: pd.DataFrame, subject: str, **spec) -> pd.DataFrame:
    frame = frame.copy()
    frame.index = range(1, len(frame) + 1)
    spec = mixed_model.Spec.model_validate({"id": "m", "type": "mixed_model", "table": "t",
                                            "df_method": ["satterthwaite", "kenward_roger"], **spec})
    result = execute(mixed_model, spec, AnalysisInput("m", "t", frame, subject, [subject]))
    assert result.ok, result.issues
    return result.tidy


def df_rtol(method: str) -> float:
    return SATTERTHWAITE_RTOL if method == "satterthwaite" else KENWARD_ROGER_RTOL


def close_p(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= max(P_ATOL, P_RTOL * abs(theirs))


@pytest.fixture(scope="module")
def orthodont():
    frame = pd.read_csv(REFERENCE / "orthodont.csv")
    frame["age_f"] = pd.Categorical(frame["age"].astype(str), categories=["8", "10", "12", "14"], ordered=True)
    frame["sex"] = pd.Categorical(frame["sex"], categories=["Male", "Female"])
    return frame


def test_type3_anova_matches_lmertest(orthodont):
    """R: anova(lmer(distance ~ factor(age) * Sex + (1 | Subject)), type = 3, ddf = ...)."""
    tidy = fit(orthodont, "subject", formula="distance ~ age_f * sex", random="1 | subject",
               contrasts=[{"emmeans": "age_f", "versus": "8", "adjust": "bonferroni"}])
    joint = tidy[tidy["effect"] == "joint"]
    ref = reference("orthodont_factor", "joint")
    assert len(joint) == len(ref) == 6
    for row in ref.itertuples():
        ours = joint[(joint["term"] == row.term) & (joint["df_method"] == row.df_method)].iloc[0]
        assert ours["df"] == row.df
        assert ours["statistic"] == pytest.approx(row.statistic, rel=F_RTOL)
        assert ours["df_denominator"] == pytest.approx(row.df_denominator, rel=df_rtol(row.df_method))
        assert close_p(ours["p_value"], row.p_value)


def test_emmeans_and_treatment_contrasts_match(orthodont):
    """R: emmeans(m, ~ age_f, lmer.df = ...); contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "bonferroni")."""
    tidy = fit(orthodont, "subject", formula="distance ~ age_f * sex", random="1 | subject",
               contrasts=[{"emmeans": "age_f", "versus": "8", "adjust": "bonferroni"}])
    compare_emmeans(tidy, "orthodont_factor", adjusted=True)


def test_pairwise_at_mean_of_numeric_covariate(orthodont):
    """R: emmeans(lmer(distance ~ age * Sex + (1 | Subject)), ~ Sex) then pairwise (Male - Female)."""
    tidy = fit(orthodont, "subject", formula="distance ~ age * sex", random="1 | subject",
               contrasts=[{"emmeans": "sex", "pairwise": True}])
    compare_emmeans(tidy, "orthodont_numeric", adjusted=False)


def test_factor_with_nine_df_and_holm():
    """R: lmer(Reaction ~ factor(Days) + (1 | Subject)); anova type 3; trt.vs.ctrl with holm."""
    sleep = pd.read_csv(REFERENCE / "sleepstudy.csv")
    sleep["days_f"] = pd.Categorical(sleep["days"].astype(str), categories=[str(d) for d in range(10)])
    tidy = fit(sleep, "subject", formula="reaction ~ days_f", random="1 | subject",
               contrasts=[{"emmeans": "days_f", "versus": "0", "adjust": "holm"}])
    joint = tidy[tidy["effect"] == "joint"]
    for row in reference("sleepstudy_factor", "joint").itertuples():
        ours = joint[joint["df_method"] == row.df_method].iloc[0]
        assert (ours["term"], ours["df"]) == ("days_f", 9)
        assert ours["statistic"] == pytest.approx(row.statistic, rel=F_RTOL)
        assert ours["df_denominator"] == pytest.approx(row.df_denominator, rel=df_rtol(row.df_method))
        assert close_p(ours["p_value"], row.p_value)
    compare_emmeans(tidy, "sleepstudy_factor", adjusted=True)


@pytest.mark.parametrize("outcome", ["fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"])
def test_siegel_fc_model_coefficients_and_post_minus_pre_by_group(outcome):
    """The paper's model: fc ~ time + time:responder_2wk + (1 | participant_id), 40 observations, residual
    df 37; R: lmerTest summary (Satterthwaite, Kenward-Roger) and emmeans(~ time | responder_2wk,
    at = list(time = 0:1)) revpairwise."""
    data = pd.read_csv(ROOT / "tests" / "reference" / "lmm" / "siegel_fc.csv")
    data["responder_2wk"] = data["responder_2wk"].astype(bool)
    tidy = fit(data, "participant_id", formula=f"{outcome} ~ time + time:responder_2wk",
               random="1 | participant_id", df_method=["residual", "satterthwaite", "kenward_roger"],
               contrasts=[{"emmeans": "time", "by": "responder_2wk", "at": {"time": [0, 1]}, "versus": 0}])
    cases = {c["name"]: c for c in json.loads((ROOT / "tests/reference/lmm/reference.json").read_text())["cases"]}
    case = cases[f"siegel_{outcome}"]
    fixed = tidy[tidy["effect"] == "fixed"]
    residual = fixed[fixed["df_method"] == "residual"]
    assert list(residual["term"]) == ["Intercept", "time", "time:responder_2wk[T.True]"]
    assert (residual["df"] == 37).all() and (tidy["n_obs"] == 40).all() and (tidy["n_subjects"] == 21).all()
    np.testing.assert_allclose(residual["estimate"], case["fixef"], rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(residual["std_error"], np.sqrt(np.diag(case["vcov"])), rtol=ESTIMATE_RTOL)
    satterthwaite = fixed[fixed["df_method"] == "satterthwaite"]
    reference_df = case["coefficients_satterthwaite"]["df"]
    np.testing.assert_allclose(satterthwaite["df"], reference_df, rtol=SATTERTHWAITE_RTOL)
    ref = reference(f"siegel_{outcome}", "contrast")
    contrasts = tidy[tidy["effect"] == "contrast"]
    for method in ("satterthwaite", "kenward_roger"):
        ours = contrasts[contrasts["df_method"] == method]
        theirs = ref[ref["df_method"] == method]
        assert list(ours["group"]) == ["responder_2wk=False", "responder_2wk=True"]
        np.testing.assert_allclose(ours["estimate"], theirs["estimate"], rtol=ESTIMATE_RTOL)
        np.testing.assert_allclose(ours["std_error"], theirs["std_error"], rtol=ESTIMATE_RTOL)
        np.testing.assert_allclose(ours["df"], theirs["df"], rtol=df_rtol(method))


def compare_emmeans(tidy: pd.DataFrame, case: str, adjusted: bool) -> None:
    for kind in ("emmean", "contrast"):
        ours_all = tidy[tidy["effect"] == kind]
        ref = reference(case, kind)
        assert len(ref) > 0
        for method in ("satterthwaite", "kenward_roger"):
            ours = ours_all[ours_all["df_method"] == method].reset_index(drop=True)
            theirs = ref[ref["df_method"] == method].reset_index(drop=True)
            assert len(ours) == len(theirs)
            np.testing.assert_allclose(ours["estimate"], theirs["estimate"], rtol=ESTIMATE_RTOL)
            np.testing.assert_allclose(ours["std_error"], theirs["std_error"], rtol=ESTIMATE_RTOL)
            np.testing.assert_allclose(ours["df"], theirs["df"], rtol=df_rtol(method))
            if kind == "contrast":
                np.testing.assert_allclose(ours["statistic"], theirs["statistic"], rtol=ESTIMATE_RTOL)
                p = ours["p_adjusted"] if adjusted else ours["p_value"]
                for mine, r in zip(p, theirs["p_value"]):
                    assert close_p(mine, r), (mine, r)


def test_singular_and_failed_fits_are_data_not_crashes():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"g": np.repeat([f"s{i}" for i in range(12)], 4), "x": np.tile(np.arange(4.0), 12)})
    e = rng.normal(size=48)
    frame["y"] = 10 + e - pd.Series(e).groupby(frame["g"]).transform("mean").to_numpy()
    frame.index = range(1, 49)
    spec = mixed_model.Spec.model_validate({"id": "s", "type": "mixed_model", "table": "t", "formula": "y ~ x",
                                            "random": "1 | g"})
    result = execute(mixed_model, spec, AnalysisInput("s", "t", frame, "g", ["g"]))
    assert result.ok and result.glance["singular"] is True
    assert "singular-fit" in [issue.code for issue in result.issues]
    bad = frame.assign(y=1.0)
    failed = execute(mixed_model, spec, AnalysisInput("s", "t", bad, "g", ["g"]))
    assert failed.status == "failed" and failed.issues[0].code == "zero-variance"


def test_formula_code_is_refused_at_validation():
    with pytest.raises(ValueError, match="formula"):
        mixed_model.Spec.model_validate({"id": "s", "type": "mixed_model", "table": "t",
                                         "formula": "y ~ __import__('os').system('echo hi')", "random": "1 | g"})


@pytest.mark.parametrize("case_name, estimation", [("sleepstudy_rs_reml", "reml"), ("sleepstudy_rs_ml", "ml")])
def test_correlated_random_slopes(case_name, estimation):
    """R: lmer(Reaction ~ Days + (Days | Subject), REML = TRUE / FALSE); lmerTest summary (Satterthwaite)."""
    cases = {c["name"]: c for c in json.loads((ROOT / "tests/reference/lmm/reference.json").read_text())["cases"]}
    case = cases[case_name]
    sleep = pd.read_csv(REFERENCE / "sleepstudy.csv")
    tidy = fit(sleep, "subject", formula="reaction ~ days", random="days | subject", estimation=estimation,
               df_method=["satterthwaite"])
    fixed = tidy[tidy["effect"] == "fixed"]
    np.testing.assert_allclose(fixed["estimate"], case["fixef"], rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(fixed["std_error"], np.sqrt(np.diag(case["vcov"])), rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(fixed["df"], case["coefficients_satterthwaite"]["df"], rtol=SATTERTHWAITE_RTOL)
    variance = tidy[tidy["effect"] == "ran_pars"].set_index("term")["estimate"]
    np.testing.assert_allclose([variance["sd__(Intercept)"], variance["sd__days"]], case["varcorr"]["sd"],
                               rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(variance["cor__(Intercept).days"], np.asarray(case["varcorr"]["corr"])[0][1],
                               rtol=1e-5)
    np.testing.assert_allclose(variance["sd__Observation"], case["sigma"], rtol=ESTIMATE_RTOL)


def test_conditional_fitted_equals_the_blup_formula_group_by_group():
    """X β + Z b with b_i = G Z_i' V_i⁻¹ (y_i − X_i β) (the textbook BLUP, dense per group), on
    shuffled rows and unequal group sizes; the one-pass version must agree to rounding."""
    from ketastats.stats import lmm

    rng = np.random.default_rng(11)
    groups = np.concatenate([np.full(n, g) for g, n in enumerate(rng.integers(1, 7, size=30))])
    rng.shuffle(groups)
    t = rng.normal(size=groups.size)
    X = np.column_stack([np.ones_like(t), t])
    Z = X.copy()
    y = 1 + t + rng.normal(size=30)[groups] + 0.5 * rng.normal(size=30)[groups] * t + rng.normal(size=t.size)
    fit = lmm.fit_lmm(y, X, Z, groups)
    G = fit.cov_re
    expected = X @ fit.beta
    for g in np.unique(groups):
        rows = groups == g
        V = Z[rows] @ G @ Z[rows].T + fit.sigma ** 2 * np.eye(rows.sum())
        b = G @ Z[rows].T @ np.linalg.solve(V, y[rows] - X[rows] @ fit.beta)
        expected[rows] += Z[rows] @ b
    got = mixed_model._conditional_fitted(fit, X, Z, y, groups)
    assert np.allclose(got, expected, rtol=1e-10, atol=1e-10)
