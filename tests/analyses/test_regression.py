"""regression: lm and glm(binomial) against R (Wald, MASS profile and exact profile intervals, drop1 LRT);
safe formulas, planned term names, failures; the Siegel logistic regression."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ketastats.analyses import regression
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.stats import glm
from tests.reference import tolerances

ROOT = Path(__file__).resolve().parents[2]
REF_DIR = ROOT / "tests" / "reference" / "correlation_ttest_group_proportions_regression"
REFERENCE = json.loads((REF_DIR / "associations.json").read_text())

DOSE = [1.2, 2.5, 3.1, 0.8, 4.2, 3.3, 2.9, 5.0, 1.7, 4.4, 3.8, 2.2, 4.9, 0.5, 3.5, 2.7, 4.0, 1.5, 5.5, 3.0]
AGE = [34, 51, 45, 29, 60, 38, 42, 55, 31, 48, 62, 40, 57, 25, 44, 36, 52, 30, 65, 47]
EVENT = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0]
SCORE = [10.2, 14.1, 15.8, 9.0, 20.3, 14.9, 13.2, 22.8, 11.5, 19.0, 18.1, 12.4, 21.7, 8.1, 16.0, 13.9, 18.6, 10.4,
         24.1, 15.2]
FRAME = pd.DataFrame({"pid": [f"p{i}" for i in range(20)], "dose": DOSE, "age": AGE,
                      "event": pd.array([bool(e) for e in EVENT], dtype="boolean"), "score": SCORE},
                     index=range(1, 21))


def close(a, b, rtol=None) -> bool:
    return math.isclose(a, b, rel_tol=rtol or tolerances.ASSOCIATION_RTOL, abs_tol=tolerances.ASSOCIATION_ATOL)


def _run(**spec):
    module_spec = regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", **spec})
    return execute(regression, module_spec, AnalysisInput("r", "t", FRAME, "pid", ["pid"]))


@pytest.mark.parametrize("case", REFERENCE["logistic"], ids=lambda c: c["name"])
def test_logistic_matches_r(case):
    formula = case["formula"]
    result = _run(formula=formula, family="binomial", ci=["wald", "profile"])
    assert result.ok, result.issues
    tidy = result.tidy
    wald, profile = tidy[tidy.ci_method == "wald"], tidy[tidy.ci_method == "profile"]
    assert [t.replace("Intercept", "(Intercept)") for t in wald["term"]] == case["terms"]
    for j in range(len(case["terms"])):
        for column, key in [("estimate", "estimate"), ("std_error", "std_error"), ("statistic", "statistic"),
                            ("p_value", "p_value"), ("conf_low", "wald_low"), ("conf_high", "wald_high")]:
            assert close(wald.iloc[j][column], case[key][j]), (column, j)
        assert close(profile.iloc[j]["conf_low"], case["mass_profile_low"][j])
        assert close(profile.iloc[j]["conf_high"], case["mass_profile_high"][j])
        assert close(profile.iloc[j]["odds_ratio_conf_high"], math.exp(case["mass_profile_high"][j]))
    for j, term in enumerate(case["lrt_terms"]):
        row = wald[wald.term == term].iloc[0]
        assert close(row["lrt_statistic"], case["lrt_statistic"][j])
        assert close(row["lrt_p_value"], case["lrt_p_value"][j])


@pytest.mark.parametrize("case", REFERENCE["logistic"], ids=lambda c: c["name"])
def test_exact_profile_interval_matches_r_and_mass_is_close(case):
    columns = [np.ones(20), DOSE] + ([AGE] if "age" in case["formula"] else [])
    X, y = np.column_stack(columns).astype(float), np.array(EVENT, dtype=float)
    fit = glm.logistic(X, y)
    for j, (low, high) in enumerate(case["exact_profile"]):
        ours = glm.profile_interval(X, y, fit, j)
        assert close(ours[0], low) and close(ours[1], high)
        # MASS's interpolated interval is near, not equal (library notes section 5)
        assert close(case["mass_profile_low"][j], low, tolerances.PROFILE_MASS_VS_EXACT_RTOL)
        assert close(case["mass_profile_high"][j], high, tolerances.PROFILE_MASS_VS_EXACT_RTOL)


def test_ols_matches_r():
    case = REFERENCE["ols"]
    result = _run(formula="score ~ dose + age")
    tidy = result.tidy
    assert [t.replace("Intercept", "(Intercept)") for t in tidy["term"]] == case["terms"]
    assert (tidy["df"] == case["df"]).all() and (tidy["statistic_type"] == "t").all()
    for j in range(3):
        for column, key in [("estimate", "estimate"), ("std_error", "std_error"), ("statistic", "statistic"),
                            ("p_value", "p_value"), ("conf_low", "conf_low"), ("conf_high", "conf_high")]:
            assert close(tidy.iloc[j][column], case[key][j])
    assert close(result.glance["sigma"], case["sigma"])


def test_formula_is_checked_and_safe():
    with pytest.raises(ValidationError, match="function calls"):
        regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", "formula": "event ~ log(dose)"})
    with pytest.raises(ValidationError, match="formula-not-allowed"):
        regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t",
                                        "formula": "event ~ __import__('os')"})
    with pytest.raises(ValidationError, match="binomial"):
        regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", "formula": "score ~ dose",
                                        "ci": "profile"})


def test_planned_terms_follow_patsy_names():
    from ketastats.data.dictionary import Column

    spec = regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", "family": "binomial",
                                           "formula": "event ~ dose * sex + flag"})
    columns = {"event": Column(type="boolean"), "dose": Column(type="number"), "flag": Column(type="boolean"),
               "sex": Column(type="category", levels=["female", "male"])}
    terms = [row["term"] for row in spec.planned_rows(columns)]
    assert terms == ["Intercept", "dose", "sex[T.male]", "flag[T.True]", "dose:sex[T.male]"]


def test_separation_fails_with_the_reason():
    frame = FRAME.assign(event=pd.array([d > 3 for d in DOSE], dtype="boolean"))
    spec = regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", "formula": "event ~ dose",
                                           "family": "binomial"})
    result = execute(regression, spec, AnalysisInput("r", "t", frame, "pid", ["pid"]))
    assert result.status == "failed" and "separat" in result.issues[0].message


def test_missing_rows_are_excluded():
    frame = FRAME.copy()
    frame.loc[3, "dose"] = None
    spec = regression.Spec.model_validate({"id": "r", "type": "regression", "table": "t", "formula": "score ~ dose"})
    result = regression.run(spec, AnalysisInput("r", "t", frame, "pid", ["pid"]))
    assert result.tidy["n"].iloc[0] == 19 and result.exclusions["row"].tolist() == [3]


def test_siegel_logistic_regression_matches_r():
    from ketastats.api import run_plan

    case = REFERENCE["siegel"]["nausea_vs_ketamine"]
    tidy = run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", write=False).tables["nausea_vs_ketamine"]
    wald, profile = tidy[tidy.ci_method == "wald"], tidy[tidy.ci_method == "profile"]
    for j in range(2):
        assert close(wald.iloc[j]["estimate"], case["estimate"][j])
        assert close(wald.iloc[j]["p_value"], case["p_value"][j])
        assert close(profile.iloc[j]["conf_low"], case["mass_profile_low"][j])
        assert close(profile.iloc[j]["conf_high"], case["mass_profile_high"][j])
    assert close(wald.iloc[1]["lrt_p_value"], case["lrt_p_value"][0])
    assert wald.iloc[1]["p_value"] > 0.05  # the paper: side effects not related to concentrations
