"""ketastats.stats.lmm_batched against lme4 / lmerTest looped over 240 outcomes, and against the
single-model kernels (ketastats.stats.lmm + satterthwaite).

Reference: tests/reference/mass_mixed_model (make_reference.R there; boundary fits and participants
with one, two or three scans). Terms are mapped from R's order to the design below.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketastats.stats import satterthwaite as sat
from ketastats.stats.lmm import fit_lmm
from ketastats.stats.lmm_batched import fit_random_intercept, t_tests

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def case():
    ref = json.loads((REFERENCE / "mass_mixed_model" / "reference.json").read_text())
    data = pd.read_csv(REFERENCE / "mass_mixed_model" / "data.csv")
    outcomes = [o["outcome"] for o in ref["outcomes"]]
    time = data["time"].to_numpy(float)
    b = (data["group"] == "b").to_numpy(float)
    X = np.column_stack([np.ones(len(data)), time, b, time * b])       # R's column order
    Y = data[outcomes].to_numpy(float)
    groups = data["participant_id"].to_numpy()
    fit = fit_random_intercept(Y, X, groups)

    def get(key):
        values = [o[key] for o in ref["outcomes"]]
        return np.array([[float(v) for v in row] if isinstance(row, list) else float(row) for row in values])

    return {"ref": ref, "get": get, "fit": fit, "X": X, "Y": Y, "groups": groups}


def scaled_error(ours, theirs, scale):
    return np.abs(ours - theirs) / np.maximum(np.abs(theirs), scale)


def test_reference_covers_boundary_and_unbalanced(case):
    ref = case["ref"]
    assert ref["n_outcomes"] >= 200
    assert set(ref["scans_per_participant"]) == {"1", "2", "3"}
    assert ref["n_singular"] >= 30
    assert (case["get"]("theta") == 0).sum() >= 20


def test_estimates_and_standard_errors_match_lme4(case, tolerances):
    fit, get = case["fit"], case["get"]
    se = get("std_error")
    rtol = tolerances.MASS_LMM_ESTIMATE_RTOL
    assert scaled_error(fit.beta, get("estimate"), se).max() < rtol, "fixef(m)"
    assert scaled_error(fit.se, se, se).max() < rtol, "sqrt(diag(vcov(m)))"
    assert scaled_error(fit.sigma, get("sigma"), 0).max() < rtol, "sigma(m)"
    sd_b = get("sd_intercept")
    assert np.abs(fit.sd_intercept - sd_b).max() < rtol * fit.sigma.max(), "VarCorr(m)"


def test_theta_boundary_and_singular_flags_match_lme4(case, tolerances):
    fit, get = case["fit"], case["get"]
    theta = get("theta")
    assert np.abs(fit.theta - theta).max() < tolerances.MASS_LMM_THETA_ATOL
    assert np.all(fit.theta[theta == 0] == 0), "boundary fits: theta exactly 0, as lme4's bobyqa"
    assert np.all(theta[fit.theta == 0] < 1e-6)
    assert np.array_equal(fit.singular, np.array([o["singular"] for o in case["ref"]["outcomes"]]))
    # our optimum is never worse than R's (REML criterion)
    assert (fit.reml_criterion - get("reml_criterion")).max() < 1e-9
    assert fit.converged.all()


def test_satterthwaite_df_t_and_p_match_lmertest(case, tolerances):
    fit, get = case["fit"], case["get"]
    df = get("df")
    assert (np.abs(fit.df_satterthwaite - df) / df).max() < tolerances.MASS_LMM_SATTERTHWAITE_DF_RTOL
    t, p = t_tests(fit.beta, fit.se, fit.df_satterthwaite)
    p_ref = get("p_value")
    assert np.all(np.abs(p - p_ref) <= np.maximum(tolerances.MASS_LMM_P_ATOL, tolerances.MASS_LMM_P_RTOL * p_ref))
    # at theta = 0 Satterthwaite's df is the residual df n - p, as lmerTest
    boundary = fit.theta == 0
    assert np.allclose(fit.df_satterthwaite[boundary], fit.df_residual, rtol=1e-8)


def test_agrees_with_single_model_kernels(case):
    fit, X, Y, groups = case["fit"], case["X"], case["Y"], case["groups"]
    Z = np.ones((len(X), 1))
    for k in range(0, Y.shape[1], 7):
        single = fit_lmm(Y[:, k], X, Z, groups, start=[max(fit.theta[k], 0.5)] if fit.theta[k] > 0 else [0.0])
        assert single.deviance >= fit.reml_criterion[k] - 1e-9
        if abs(single.deviance - fit.reml_criterion[k]) > 1e-9:
            continue
        np.testing.assert_allclose(single.beta, fit.beta[k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(single.se_beta, fit.se[k], rtol=1e-9)
        if fit.theta[k] > 0:
            df = [row.df for row in sat.coefficient_table(single)]
            np.testing.assert_allclose(df, fit.df_satterthwaite[k], rtol=1e-6)


def test_each_outcome_is_independent_of_its_batch(case):
    fit, X, Y, groups = case["fit"], case["X"], case["Y"], case["groups"]
    subset = np.array([5, 0, 17, 239, 100])
    part = fit_random_intercept(Y[:, subset], X, groups)
    for name in ("beta", "se", "df_satterthwaite", "sigma", "theta", "reml_criterion"):
        assert np.array_equal(getattr(part, name), getattr(fit, name)[subset]), name


def test_degenerate_outcomes_and_bad_input():
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(6), 2)
    X = np.column_stack([np.ones(12), np.tile([0.0, 1.0], 6)])
    Y = np.column_stack([np.full(12, 3.0), rng.normal(size=12)])
    fit = fit_random_intercept(Y, X, g)
    assert np.isnan(fit.beta[0]).all() and not fit.converged[0]
    assert np.isfinite(fit.beta[1]).all() and fit.converged[1]
    with pytest.raises(ValueError, match="rank deficient"):
        fit_random_intercept(Y, np.column_stack([X, X[:, 1]]), g)
    with pytest.raises(ValueError, match="groups"):
        fit_random_intercept(Y, X, np.arange(12))
    with pytest.raises(ValueError, match="finite"):
        fit_random_intercept(np.where(np.arange(12)[:, None] == 0, np.nan, Y), X, g)
