"""cox and its kernels against R coxph / cox.zph / concordance (tests/reference/survival/survival.json),
cross-checks with lifelines (Efron) and statsmodels PHReg (Breslow), and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import cox
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.stats.survival import concordance, cox_fit, cox_zph
from tests.analyses.test_kaplan_meier import REF, close, dataset, number, numbers
from tests.reference import tolerances

TEST = tolerances.SURVIVAL_TEST_RTOL
CASES = [case["name"] for case in REF["cox"]]


def _case(name):
    return next(c for c in REF["cox"] if c["name"] == name)


def _covariates(case) -> list[str]:
    return [term.strip() for term in case["formula"].split("~")[1].split("+") if "strata(" not in term]


def _r_name(term: str) -> str:
    """ketastats 'rx_f[T.B]' -> R 'rx_fB'."""
    return term.replace("[T.", "").replace("]", "")


@pytest.mark.parametrize("name", CASES)
def test_kernels_match_coxph(name):
    case = _case(name)
    frame = dataset(case["data"])
    used = np.array(case["rows_used"]) - 1
    x = np.column_stack([numbers(column) for column in case["x"]])
    t = frame["time"].to_numpy()[used]
    e = frame["event"].astype(float).to_numpy()[used]
    strata = None
    if case["strata"]:
        strata = frame[case["strata"]].cat.codes.to_numpy()[used]
    fit = cox_fit(t, e, x, strata, case["ties"])
    assert fit.converged
    close(fit.coef, numbers(case["coef"]))
    close(np.sqrt(np.diag(fit.var)), numbers(case["se"]))
    close([fit.loglik0, fit.loglik], numbers(case["loglik"]))
    close(fit.lr_test, number(case["lr"]["chisq"]), rtol=TEST)
    close(fit.wald_test, number(case["wald"]["chisq"]), rtol=TEST)
    close(fit.score_test, number(case["score"]["chisq"]), rtol=TEST)
    c = concordance(t, e, fit.linear_predictor, strata)
    close([c["concordant"], c["discordant"], c["tied_x"], c["tied_y"], c["tied_xy"]],
          numbers(case["concordance"]["counts"]))
    close([c["concordance"], c["std_error"]], [number(case["concordance"]["concordance"]),
                                               number(case["concordance"]["std"])])
    terms = [[i - 1 for i in (v if isinstance(v, list) else [v])] for v in case["assign"].values()]
    for transform in ("km", "identity"):
        zph = cox_zph(t, e, x, strata, fit, case["ties"], transform, terms)
        reference = case["zph"][transform]
        close(zph["chisq"], numbers(reference["chisq"]), rtol=TEST)
        close(zph["p"], numbers(reference["p"]), rtol=TEST)
        assert zph["df"].tolist() == reference["df"]
        close(zph["global_chisq"], number(reference["global"]["chisq"]), rtol=TEST)
        close(zph["global_p"], number(reference["global"]["p"]), rtol=TEST)


@pytest.mark.parametrize("name", CASES)
def test_analysis_matches_coxph(name):
    case = _case(name)
    frame = dataset(case["data"])
    spec = cox.Spec(id="c", type="cox", table="t", covariates=_covariates(case), ties=case["ties"],
                    strata=[case["strata"]] if case["strata"] else [], ph_test=["km", "identity"])
    result = execute(cox, spec, AnalysisInput("c", "t", frame, "pid", ["pid"]))
    assert result.ok, result.issues
    assert not result.issues
    tidy = result.tidy
    fixed = tidy[tidy["effect"] == "fixed"]
    assert [_r_name(term) for term in fixed["term"]] == case["terms"]
    close(fixed["estimate"], numbers(case["coef"]))
    close(fixed["std_error"], numbers(case["se"]))
    close(fixed["hazard_ratio"], numbers(case["hr"]))
    close(fixed["hazard_ratio_conf_low"], numbers(case["hr_lower"]))
    close(fixed["hazard_ratio_conf_high"], numbers(case["hr_upper"]))
    close(fixed["statistic"], numbers(case["z"]))
    close(fixed["p_value"], numbers(case["p"]), rtol=TEST)
    assert (fixed["n"] == case["n"]).all() and (fixed["n_events"] == case["nevent"]).all()
    assert case["n"] + len(result.exclusions) == len(frame)
    joint = tidy[tidy["effect"] == "joint"].set_index("method")
    for key, method in (("lr", "likelihood ratio test"), ("wald", "Wald test"), ("score", "score (log-rank) test")):
        close(joint.loc[method, "statistic"], number(case[key]["chisq"]), rtol=TEST)
        close(joint.loc[method, "p_value"], number(case[key]["p"]), rtol=TEST)
        assert joint.loc[method, "df"] == case[key]["df"]
    conc = tidy[tidy["effect"] == "concordance"].iloc[0]
    close([conc["estimate"], conc["std_error"]], [number(case["concordance"]["concordance"]),
                                                 number(case["concordance"]["std"])])
    for transform in ("km", "identity"):
        ph = tidy[(tidy["effect"] == "ph_test") & (tidy["method"] == f"cox.zph, transform = {transform}")]
        reference = case["zph"][transform]
        assert ph["term"].tolist() == [t.replace(".", "_") for t in reference["terms"]] + ["GLOBAL"]
        close(ph["statistic"], [*numbers(reference["chisq"]), number(reference["global"]["chisq"])], rtol=TEST)
        close(ph["p_value"], [*numbers(reference["p"]), number(reference["global"]["p"])], rtol=TEST)


def test_efron_matches_lifelines_and_breslow_matches_statsmodels():
    import warnings

    CoxPHFitter = pytest.importorskip(
        "lifelines", reason="lifelines (extra 'crosscheck', pandas < 3) is not installed").CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    frame = dataset("lung")[["time", "event", "age", "sex", "ph_ecog"]].dropna()
    x = frame[["age", "sex", "ph_ecog"]].to_numpy()
    t, e = frame["time"].to_numpy(), frame["event"].astype(float).to_numpy()
    efron = cox_fit(t, e, x, ties="efron")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lifelines_fit = CoxPHFitter().fit(frame.assign(event=e), "time", "event")
    # lifelines stops ~4e-6 relative from the optimum, hence the looser tolerance here
    np.testing.assert_allclose(efron.coef, lifelines_fit.params_.to_numpy(), rtol=1e-4)
    breslow = cox_fit(t, e, x, ties="breslow")
    statsmodels_fit = PHReg(t, x, status=e, ties="breslow").fit()
    np.testing.assert_allclose(breslow.coef, statsmodels_fit.params, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(breslow.var)), statsmodels_fit.bse, rtol=1e-6)


def test_no_events_fails_with_a_clear_message():
    frame = pd.DataFrame({"pid": list("abcd"), "time": [1.0, 2, 3, 4], "x": [1.0, 2, 3, 4],
                          "event": pd.array([False] * 4, dtype="boolean")}, index=range(1, 5))
    result = execute(cox, cox.Spec(id="c", type="cox", table="t", covariates="x"),
                     AnalysisInput("c", "t", frame, "pid", ["pid"]))
    assert result.status == "failed" and result.issues[0].code == "no-events"


def test_group_without_events_gives_an_infinite_coefficient_warning():
    frame = pd.DataFrame({"pid": list("abcdefgh"), "time": [1.0, 2, 3, 4, 5, 6, 7, 8],
                          "arm": pd.Categorical(list("aaaabbbb"), categories=["a", "b"]),
                          "event": pd.array([True, True, False, True, False, False, False, False], dtype="boolean")},
                         index=range(1, 9))
    result = execute(cox, cox.Spec(id="c", type="cox", table="t", covariates="arm"),
                     AnalysisInput("c", "t", frame, "pid", ["pid"]))
    assert result.ok
    assert "infinite-coefficient" in {i.code for i in result.issues}
    row = result.tidy[result.tidy["effect"] == "fixed"].iloc[0]
    assert row["term"] == "arm[T.b]" and pd.isna(row["estimate"]) and pd.isna(row["hazard_ratio"])
    lr = result.tidy[result.tidy["method"] == "likelihood ratio test"].iloc[0]
    assert lr["statistic"] > 0   # the likelihood-ratio test stays valid


def test_constant_covariate_is_dropped_with_a_warning_and_ties_and_single_subject_work():
    frame = pd.DataFrame({"pid": list("abcdefg"), "time": [1.0, 1, 2, 2, 3, 4, 4], "c": [1.0] * 7,
                          "x": [0.5, 1.0, 0.2, 2.0, 1.5, 0.1, 0.3],
                          "arm": pd.Categorical(list("aaaaaab"), categories=["a", "b"]),
                          "event": pd.array([True, True, True, False, True, True, False], dtype="boolean")},
                         index=range(1, 8))
    result = execute(cox, cox.Spec(id="c", type="cox", table="t", covariates=["c", "x", "arm"]),
                     AnalysisInput("c", "t", frame, "pid", ["pid"]))
    assert result.ok
    assert "aliased-term" in {i.code for i in result.issues}
    fixed = result.tidy[result.tidy["effect"] == "fixed"]
    assert fixed["term"].tolist() == ["c", "x", "arm[T.b]"]
    assert pd.isna(fixed.iloc[0]["estimate"]) and np.isfinite(fixed.iloc[1]["estimate"])


def test_missing_covariates_are_excluded():
    frame = dataset("lung")
    result = execute(cox, cox.Spec(id="c", type="cox", table="t", covariates=["age", "ph_ecog"], ph_test=[]),
                     AnalysisInput("c", "t", frame, "pid", ["pid"]))
    assert result.exclusions["reason"].tolist() == ["missing-value"]
    assert not (result.tidy["effect"] == "ph_test").any()
