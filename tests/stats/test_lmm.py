"""ketastats.stats.lmm / .satterthwaite / .kenward_roger against lme4, lmerTest and pbkrtest.

Reference values: ``tests/reference/lmm/reference.json``, written by
``tests/reference/lmm/make_reference.R`` (see the README there). The JSON
also holds each model's data exactly as lme4 saw it (y, X, per-row Z, group codes),
so these tests fit the identical data and never need R. Each test id names the
case; each case records its R call (``case["call"]``), and each assertion message
names the R function compared with.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ketastats.stats import kenward_roger as kr
from ketastats.stats import satterthwaite as sat
from ketastats.stats.lmm import (
    LmmFit,
    fit_lmm,
    profiled_deviance,
    selection_matrix,
    varpar_deviance,
    varpar_deviance_gradient,
    vcov_beta_at,
    vcov_beta_jacobian,
)
from tests.reference import tolerances

_REFERENCE = Path(__file__).resolve().parents[1] / "reference"

RTOL = tolerances.LMM_ESTIMATE_RTOL
THETA_ATOL = tolerances.LMM_THETA_ATOL
SAT_DF_RTOL = tolerances.LMM_SATTERTHWAITE_DF_RTOL
KR_DF_RTOL = tolerances.LMM_KENWARD_ROGER_DF_RTOL
P_RTOL = tolerances.LMM_P_RTOL
P_ATOL = tolerances.LMM_P_ATOL
F_RTOL = tolerances.LMM_F_RTOL

with open(_REFERENCE / "lmm" / "reference.json", encoding="utf-8") as fh:
    REFERENCE = json.load(fh)
CASES = REFERENCE["cases"]
CASE_IDS = [c["name"] for c in CASES]
INFERENCE_CASES = [c for c in CASES if "coefficients_satterthwaite" in c]
REML_CASES = [c for c in INFERENCE_CASES if c["reml"]]

R_SUMMARY_SAT = "summary(m)$coefficients"
R_SUMMARY_KR = 'summary(m, ddf = "Kenward-Roger")$coefficients'
R_VCOVADJ = "as.matrix(pbkrtest::vcovAdj(m))"


# --- helpers ---------------------------------------------------------------------------

_FITS: dict[str, LmmFit] = {}


def _fit(case: dict) -> LmmFit:
    if case["name"] not in _FITS:
        d = case["data"]
        _FITS[case["name"]] = fit_lmm(
            np.array(d["y"], dtype=float), np.array(d["X"], dtype=float),
            np.array(d["Z"], dtype=float), np.array(d["groups"]), reml=case["reml"])
    return _FITS[case["name"]]


def _arr(x) -> np.ndarray:
    return np.array(x, dtype=float)


def _close_rel(got, want, rtol, what, scale=None):
    got, want = _arr(got), _arr(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs R {want.shape}"
    s = np.abs(want) if scale is None else _arr(scale)
    err = np.abs(got - want)
    bad = err > rtol * s
    assert not np.any(bad), (
        f"{what}: max relative difference {np.max(err / s):.3g} > {rtol:g}\n"
        f"ours {got[bad]}\nR    {want[bad]}")


def _close_matrix(got, want, rtol, what):
    """Matrices compared relative to sqrt(w_ii w_jj) (their natural scale)."""
    want = _arr(want)
    d = np.sqrt(np.abs(np.diag(want)))
    _close_rel(got, want, rtol, what, scale=np.outer(d, d))


def _close_p(got, want, what):
    got, want = _arr(got), _arr(want)
    err = np.abs(got - want)
    ok = (err <= P_RTOL * np.abs(want)) | (err <= P_ATOL)
    assert np.all(ok), f"{what}: ours {got[~ok]} vs R {want[~ok]}"


def _case_params(cases, key):
    return [pytest.param(c, item, id=f"{c['name']}-{item['name']}")
            for c in cases for item in c.get(key, [])]


# --- the reference file ----------------------------------------------------------------

def test_reference_records_versions_calls_and_tight_optimizer():
    assert REFERENCE["R_version"].startswith("R version ")
    assert set(REFERENCE["packages"]) >= {"lme4", "lmerTest", "pbkrtest", "jsonlite"}
    assert "rhoend = 1e-12" in REFERENCE["control"]
    for c in CASES:
        assert c["call"].startswith("lmerTest::lmer(")
        assert c["optimizer"]["name"] == "bobyqa"
        assert c["optimizer"]["rhoend"] == 1e-12
    names = set(CASE_IDS)
    assert {"sleepstudy_ri", "sleepstudy_rs_reml", "sleepstudy_rs_ml",
            "sleepstudy_factor_days", "orthodont_ri", "singular_ri"} <= names
    assert {f"siegel_{fc}" for fc in ("fc_dmn", "fc_sgacc_dmn", "fc_limbic",
                                      "fc_visual")} <= names


def test_siegel_table_is_40_rows_21_participants_3_fixed_effects():
    for c in CASES:
        if c["name"].startswith("siegel_"):
            assert c["data"]["n"] == 40
            assert len(c["data"]["group_labels"]) == 21
            assert c["data"]["X_columns"] == ["(Intercept)", "time", "time:responder_2wk"]
    csv = (_REFERENCE / "lmm" / "siegel_fc.csv").read_text().splitlines()
    assert len(csv) == 41


# --- the fit: lme4 --------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fit_matches_lme4(case):
    """fixef, vcov, sigma, getME(m, 'theta'), VarCorr, logLik, AIC, BIC, isSingular."""
    f = _fit(case)
    assert f.converged, f.message
    assert f.n_obs == case["data"]["n"]
    assert f.n_groups == len(case["data"]["group_labels"])
    se_r = np.sqrt(np.diag(_arr(case["vcov"])))
    _close_rel(f.beta, case["fixef"], RTOL, "fixef(m)",   # relative to max(|beta|, SE)
               scale=np.maximum(np.abs(case["fixef"]), se_r))
    _close_matrix(f.vcov_beta, case["vcov"], RTOL, "vcov(m)")
    _close_rel(f.se_beta, se_r, RTOL, "sqrt(diag(vcov(m)))")
    _close_rel(f.sigma, case["sigma"], RTOL, "sigma(m)")
    np.testing.assert_allclose(f.theta, case["theta"], rtol=0, atol=THETA_ATOL,
                               err_msg="getME(m, 'theta')")
    sd_r = _arr(case["varcorr"]["sd"])
    _close_rel(f.sd_re, sd_r, RTOL, "attr(VarCorr(m)[[1]], 'stddev')",
               scale=np.maximum(sd_r, RTOL * case["sigma"]))
    if sd_r.size > 1:
        np.testing.assert_allclose(f.corr_re, case["varcorr"]["corr"], rtol=0, atol=THETA_ATOL,
                                   err_msg="attr(VarCorr(m)[[1]], 'correlation')")
    if np.all(sd_r > 0):
        _close_matrix(f.cov_re, case["varcorr"]["cov"], RTOL, "VarCorr(m)[[1]]")
    else:
        np.testing.assert_allclose(f.cov_re, case["varcorr"]["cov"], atol=1e-12)
    _close_rel(f.loglik, case["logLik"], RTOL, "logLik(m)")
    assert f.n_params == case["logLik_df"]
    _close_rel(f.aic, case["AIC"], RTOL, "AIC(m)")
    _close_rel(f.bic, case["BIC"], RTOL, "BIC(m)")
    _close_rel(f.deviance, case["criterion"], RTOL, "REMLcrit(m) / deviance(m)")
    assert f.singular == case["is_singular"], "isSingular(m, tol = 1e-4)"


def test_reml_aic_bic_are_from_the_reml_criterion_as_lme4():
    """AIC(lmer(REML = TRUE)) = REMLcrit + 2 df; BIC = REMLcrit + df log(n)."""
    c = next(c for c in CASES if c["name"] == "sleepstudy_rs_reml")
    f = _fit(c)
    assert f.reml and f.n_params == 6
    assert f.aic == pytest.approx(c["criterion"] + 2 * 6, rel=1e-12)
    assert f.bic == pytest.approx(c["criterion"] + 6 * np.log(180), rel=1e-12)


# --- Satterthwaite: lmerTest -----------------------------------------------------------

@pytest.mark.parametrize("case", INFERENCE_CASES, ids=[c["name"] for c in INFERENCE_CASES])
def test_satterthwaite_coefficients_match_lmertest_summary(case):
    tab = sat.coefficient_table(_fit(case))
    ref = case["coefficients_satterthwaite"]
    what = f"{R_SUMMARY_SAT} of {case['call']}"
    _close_rel([r.se for r in tab], ref["se"], RTOL, f"Std. Error, {what}")
    _close_rel([r.t for r in tab], ref["t"], RTOL, f"t value, {what}")
    _close_rel([r.df for r in tab], ref["df"], SAT_DF_RTOL, f"df, {what}")
    _close_p([r.p for r in tab], ref["p"], f"Pr(>|t|), {what}")


@pytest.mark.parametrize("case", INFERENCE_CASES, ids=[c["name"] for c in INFERENCE_CASES])
def test_vcov_varpar_matches_lmertest(case):
    """m@vcov_varpar: 2 x inverse Hessian of the deviance in (theta, sigma)."""
    _close_matrix(sat.vcov_varpar(_fit(case)), case["vcov_varpar"], SAT_DF_RTOL, "m@vcov_varpar")


@pytest.mark.parametrize("case,item", _case_params(INFERENCE_CASES, "contrasts"))
def test_satterthwaite_contrast_matches_contest1d(case, item):
    r = sat.contrast(_fit(case), item["L"])
    ref = item["satterthwaite"]
    what = f'contest(m, L = {item["L"]}, joint = FALSE, ddf = "Satterthwaite")'
    _close_rel(r.estimate, ref["estimate"], RTOL, what, scale=max(abs(ref["estimate"]), ref["se"]))
    _close_rel(r.se, ref["se"], RTOL, what)
    _close_rel(r.t, ref["t"], RTOL, what)
    _close_rel(r.df, ref["df"], SAT_DF_RTOL, what)
    _close_p(r.p, ref["p"], what)


@pytest.mark.parametrize("case,item", _case_params(INFERENCE_CASES, "joint_tests"))
def test_satterthwaite_joint_matches_contestmd(case, item):
    r = sat.joint(_fit(case), item["L"])
    ref = item["satterthwaite"]
    what = f'contest(m, L, joint = TRUE, ddf = "Satterthwaite") [{item["name"]}] of {case["call"]}'
    _close_rel(r.F, ref["F"], F_RTOL, what)
    assert r.df_num == ref["ndf"], what
    _close_rel(r.df_den, ref["ddf"], SAT_DF_RTOL, what)
    _close_p(r.p, ref["p"], what)


# --- Kenward-Roger: pbkrtest / lmerTest --------------------------------------------------

@pytest.mark.parametrize("case", REML_CASES, ids=[c["name"] for c in REML_CASES])
def test_kenward_roger_coefficients_match_lmertest_summary(case):
    tab = kr.coefficient_table(_fit(case))
    ref = case["coefficients_kenward_roger"]
    what = f"{R_SUMMARY_KR} of {case['call']}"
    _close_rel([r.se for r in tab], ref["se"], RTOL, f"Std. Error, {what}")
    _close_rel([r.t for r in tab], ref["t"], RTOL, f"t value, {what}")
    _close_rel([r.df for r in tab], ref["df"], KR_DF_RTOL, f"df, {what}")
    _close_p([r.p for r in tab], ref["p"], f"Pr(>|t|), {what}")


@pytest.mark.parametrize("case", REML_CASES, ids=[c["name"] for c in REML_CASES])
def test_kenward_roger_vcov_matches_pbkrtest_vcovadj(case):
    _close_matrix(kr.vcov_adjusted(_fit(case)).vcov, case["vcov_kr"], RTOL,
                  f"{R_VCOVADJ} of {case['call']}")


@pytest.mark.parametrize("case,item", _case_params(REML_CASES, "contrasts"))
def test_kenward_roger_contrast_matches_contest1d(case, item):
    r = kr.contrast(_fit(case), item["L"])
    ref = item["kenward_roger"]
    what = f'contest(m, L = {item["L"]}, joint = FALSE, ddf = "Kenward-Roger")'
    _close_rel(r.se, ref["se"], RTOL, what)
    _close_rel(r.t, ref["t"], RTOL, what)
    _close_rel(r.df, ref["df"], KR_DF_RTOL, what)
    _close_p(r.p, ref["p"], what)


@pytest.mark.parametrize("case,item", _case_params(REML_CASES, "joint_tests"))
def test_kenward_roger_joint_matches_krmodcomp_and_contest(case, item):
    f = _fit(case)
    r = kr.krmodcomp(f, item["L"])
    ref = item["krmodcomp"]
    what = f'pbkrtest::KRmodcomp(m, L)$test [{item["name"]}] of {case["call"]}'
    _close_rel(r.F, ref["F"], F_RTOL, what)
    _close_rel(r.F_unscaled, ref["F_unscaled"], F_RTOL, what)
    _close_rel(r.F_scaling, ref["F_scaling"], F_RTOL, what)
    assert r.df_num == ref["ndf"]
    _close_rel(r.df_den, ref["ddf"], KR_DF_RTOL, what)
    _close_p(r.p, ref["p"], what)
    j = kr.joint(f, item["L"])
    ref = item["kenward_roger"]
    what = f'contest(m, L, joint = TRUE, ddf = "Kenward-Roger") [{item["name"]}]'
    _close_rel(j.F, ref["F"], F_RTOL, what)
    assert j.df_num == ref["ndf"]
    _close_rel(j.df_den, ref["ddf"], KR_DF_RTOL, what)
    _close_p(j.p, ref["p"], what)


def test_type3_test_of_a_factor_is_the_joint_test_of_its_coefficients():
    """anova(m, type = 3) for Reaction ~ factor(Days) + (1 | Subject) equals
    contest(m, L = identity rows of the 9 Days coefficients, joint = TRUE)."""
    c = next(c for c in CASES if c["name"] == "sleepstudy_factor_days")
    f = _fit(c)
    L = selection_matrix(10, range(1, 10))
    for module, key in ((sat, "satterthwaite"), (kr, "kenward_roger")):
        r = module.joint(f, L)
        ref = c["anova_type3"][key]
        _close_rel(r.F, ref["F"], F_RTOL, f'anova(m, type = 3, ddf = "{key}")')
        assert r.df_num == ref["ndf"] == 9
        _close_rel(r.df_den, ref["ddf"], SAT_DF_RTOL, f'anova(m, type = 3, ddf = "{key}")')
        _close_p(r.p, ref["p"], f'anova(m, type = 3, ddf = "{key}")')


def test_kenward_roger_refuses_ml_fits():
    c = next(c for c in CASES if c["name"] == "sleepstudy_rs_ml")
    with pytest.raises(ValueError, match="REML"):
        kr.contrast(_fit(c), [0, 1])


# --- internal consistency ----------------------------------------------------------------

def _richardson(fun, x0, k, h=1e-4):
    """Central difference with one Richardson step (error ~h^4)."""
    def central(step):
        xp, xm = x0.copy(), x0.copy()
        xp[k] += step
        xm[k] -= step
        return (fun(xp) - fun(xm)) / (2 * step)
    return (4 * central(h / 2) - central(h)) / 3


@pytest.mark.parametrize("name", ["sleepstudy_rs_reml", "sleepstudy_rs_ml", "orthodont_ri"])
def test_analytic_derivatives_equal_finite_differences(name):
    c = next(c for c in CASES if c["name"] == name)
    f = _fit(c)
    x0 = f.varpar * np.array([1.1] * (f.theta.size) + [0.9])  # away from the optimum
    g = varpar_deviance_gradient(f, x0)
    J = vcov_beta_jacobian(f, x0)
    for k in range(x0.size):
        fd = _richardson(lambda x: varpar_deviance(f, x), x0, k)
        assert g[k] == pytest.approx(fd, rel=1e-7, abs=1e-6)
        fdJ = _richardson(lambda x: vcov_beta_at(f, x), x0, k)
        np.testing.assert_allclose(J[k], fdJ, rtol=1e-6, atol=1e-8 * np.max(np.abs(fdJ)))
    th = f.theta * 1.1
    _, g0 = profiled_deviance(f.stats, th, f.reml)
    for k in range(th.size):
        fd = _richardson(lambda t: profiled_deviance(f.stats, t, f.reml)[0], th, k)
        assert g0[k] == pytest.approx(fd, rel=1e-7, abs=1e-6)


def test_varpar_deviance_at_optimum_is_the_criterion():
    for c in INFERENCE_CASES:
        f = _fit(c)
        assert varpar_deviance(f, f.varpar) == pytest.approx(f.deviance, rel=1e-12)


def test_optimum_does_not_depend_on_start():
    c = next(c for c in CASES if c["name"] == "sleepstudy_rs_reml")
    d = c["data"]
    f2 = fit_lmm(_arr(d["y"]), _arr(d["X"]), _arr(d["Z"]), np.array(d["groups"]),
                 start=[0.3, -0.2, 2.0])
    np.testing.assert_allclose(f2.theta, _fit(c).theta, atol=1e-8)


def test_group_codes_may_be_any_labels_in_any_order():
    c = next(c for c in CASES if c["name"] == "orthodont_ri")
    d = c["data"]
    labels = np.array(d["group_labels"], dtype=object)[np.array(d["groups"]) - 1]
    perm = np.random.default_rng(0).permutation(d["n"])
    f = fit_lmm(_arr(d["y"])[perm], _arr(d["X"])[perm], _arr(d["Z"])[perm], labels[perm])
    np.testing.assert_allclose(f.beta, _fit(c).beta, rtol=1e-10)
    np.testing.assert_allclose(f.vcov_beta, _fit(c).vcov_beta, rtol=1e-8)


# --- singular fits and invalid input ----------------------------------------------------

def test_singular_reference_case_matches_lme4():
    """lme4: theta = 0 exactly, isSingular TRUE, 'boundary (singular) fit' message."""
    c = next(c for c in CASES if c["name"] == "singular_ri")
    f = _fit(c)
    assert c["is_singular"] is True and c["theta"] == [0]
    assert f.singular and f.theta[0] == 0.0
    assert f.sd_re[0] == 0.0


def test_singular_fit_detected_without_subject_effect():
    """Simulated with no subject effect: REML intercept variance on the boundary."""
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(15), 3)
    x = np.tile([0.0, 1.0, 2.0], 15)
    e = rng.normal(size=45)
    e -= np.bincount(g, e)[g] / 3          # identical group means -> theta = 0 exactly
    f = fit_lmm(5.0 + 0.3 * x + e, np.column_stack([np.ones(45), x]), np.ones((45, 1)), g)
    assert f.singular and f.theta[0] == 0.0 and f.converged
    # a real subject effect is not flagged
    f2 = fit_lmm(5.0 + 0.3 * x + e + 2.0 * rng.normal(size=15)[g],
                 np.column_stack([np.ones(45), x]), np.ones((45, 1)), g)
    assert not f2.singular and f2.theta[0] > 0.1


def test_rank_deficient_X_raises():
    c = next(c for c in CASES if c["name"] == "orthodont_ri")
    d = c["data"]
    X = _arr(d["X"])
    X_bad = np.column_stack([X, X[:, 1] + X[:, 2]])
    with pytest.raises(ValueError, match="rank deficient"):
        fit_lmm(_arr(d["y"]), X_bad, _arr(d["Z"]), np.array(d["groups"]))


@pytest.mark.parametrize("change,match", [
    (lambda y, X, Z, g: (y[:-1], X, Z, g), "n x p"),
    (lambda y, X, Z, g: (np.where(np.arange(y.size) == 3, np.nan, y), X, Z, g), "non-finite"),
    (lambda y, X, Z, g: (y, X, Z, np.arange(y.size)), "number of groups"),
    (lambda y, X, Z, g: (y, X, Z, g[:-1]), "groups must have length"),
])
def test_invalid_input_raises(change, match):
    c = next(c for c in CASES if c["name"] == "orthodont_ri")
    d = c["data"]
    args = change(_arr(d["y"]), _arr(d["X"]), _arr(d["Z"]), np.array(d["groups"]))
    with pytest.raises(ValueError, match=match):
        fit_lmm(*args)


def test_contrast_shape_errors():
    f = _fit(CASES[0])
    with pytest.raises(ValueError):
        sat.contrast(f, [1, 0, 0])
    with pytest.raises(ValueError):
        sat.joint(f, np.zeros((2, 3)))
    with pytest.raises(ValueError):
        selection_matrix(2, [2])

# Speed is measured by benchmarks/bench_mixed_model.py (ratios to statsmodels), not by a timed test.
