"""The `mixed_model` analysis tables against R on a few hundred generated designs.

Same designs as ``tests/stats/test_lmm_designs.py`` (``tests/reference/lmm_designs/``):
the analysis is run as a plan would run it (formula, random term, Satterthwaite and, for REML fits,
Kenward-Roger df, marginal means of ``group`` at two times with every group against the first) and
its tidy table is compared row by row with lmerTest's coefficient table, ``anova(m, type = 3)`` and
``emmeans(m, ~ group | time, at = ...)`` / ``contrast(trt.vs.ctrl)`` of lme4's best fit.

Tolerances (``tests/reference/tolerances.py``, ``LMM_DESIGN_*``): estimates and SEs 1e-5 relative to
max(|value|, SE); F 1e-5 relative; Satterthwaite df 1e-3, Kenward-Roger df 1e-2 relative; p-values
1e-4 relative or 1e-8 absolute (LMM_P_*). Satterthwaite df are compared with lmerTest's run with an
accurate Hessian of the deviance (see the reference README: lmerTest's default numerical Hessian is
off by up to a factor of 7 on designs with uncentred ages).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ketastats.analyses import mixed_model
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from tests.reference import tolerances
from tests.reference.lmm_designs import load as reference

DESIGNS = list(reference.designs()["design"])


def df_rtol(method: str) -> float:
    return (tolerances.LMM_DESIGN_SATTERTHWAITE_DF_RTOL if method == "satterthwaite"
            else tolerances.LMM_DESIGN_KENWARD_ROGER_DF_RTOL)


def close(ours, theirs, scale, rtol) -> bool:
    return abs(ours - theirs) <= rtol * max(abs(scale), 1e-300)


def close_p(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= max(tolerances.LMM_P_ATOL, tolerances.LMM_P_RTOL * abs(theirs))


def run_analysis(design: str) -> tuple[pd.DataFrame, dict]:
    row = reference.designs().loc[design]
    data = reference.data(design)
    data.index = range(1, len(data) + 1)
    reml = bool(row["reml"])
    spec = {"id": "m", "type": "mixed_model", "table": "t", "formula": row["formula"],
            "random": row["random"], "estimation": "reml" if reml else "ml",
            "df_method": ["satterthwaite", "kenward_roger"] if reml else ["satterthwaite"]}
    if "group" in row["formula"] and row["emm_times"]:
        times = [float(v) for v in row["emm_times"].split(";")]
        spec["contrasts"] = [{"emmeans": "group", "by": "time", "at": {"time": times},
                              "versus": sorted(data["group"].unique())[0]}]
    else:
        data = data.drop(columns="group")
    spec = mixed_model.Spec.model_validate(spec)
    result = execute(mixed_model, spec, AnalysisInput("m", "t", data, "subject", ["subject"]))
    assert result.ok, result.issues
    return result.tidy, result.glance, [issue.code for issue in result.issues]


def _by_time(label) -> float | None:
    if not isinstance(label, str) or not label.startswith("time="):
        return None
    return float(label.split("=", 1)[1])


@pytest.mark.parametrize("design", DESIGNS)
def test_analysis_tables_match_lmertest_and_emmeans(design):
    row = reference.designs().loc[design]
    tidy, glance, codes = run_analysis(design)
    assert glance["log_likelihood"] >= row["loglik"] - tolerances.LMM_DESIGN_LOGLIK_RTOL * abs(row["loglik"])
    assert glance["singular"] == row["is_singular"]
    # the singular-fit warning is true: exactly when lme4's best fit is singular
    assert ("singular-fit" in codes) == row["is_singular"]
    assert glance["converged"] and "not-converged" not in codes
    # fixed effects: lme4's column order is the analysis's order
    coef = reference.coefficients(design)
    for method, df_column, se_column in (("satterthwaite", "df_satterthwaite_fine", "std_error"),
                                         ("kenward_roger", "df_kr", "std_error_kr")):
        fixed = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == method)].reset_index(drop=True)
        if method == "kenward_roger" and not row["reml"]:
            assert fixed.empty
            continue
        assert len(fixed) == len(coef)
        fixed = fixed.set_index(fixed["term"].map(reference.r_name)).loc[coef["term"]]
        for ours, theirs in zip(fixed.itertuples(), coef.itertuples()):
            scale = max(abs(theirs.estimate), theirs.std_error)
            assert close(ours.estimate, theirs.estimate, scale, tolerances.LMM_DESIGN_ESTIMATE_RTOL), theirs.term
            assert close(ours.std_error, getattr(theirs, se_column), getattr(theirs, se_column),
                         tolerances.LMM_DESIGN_ESTIMATE_RTOL), theirs.term
            assert close(ours.df, getattr(theirs, df_column), getattr(theirs, df_column), df_rtol(method)), \
                (theirs.term, method, ours.df, getattr(theirs, df_column))
    # type-III F tests, marginal means and contrasts
    ref = reference.tests(design)
    # Satterthwaite rows: lmerTest with an accurate Hessian (see the module docstring)
    ref = ref[ref["df_method"] != "satterthwaite"].replace({"df_method": {"satterthwaite_fine": "satterthwaite"}})
    assert len(ref) > 0 and (ref["df_method"] == "satterthwaite").any()
    for theirs in ref.itertuples():
        if theirs.kind == "joint":
            ours = tidy[(tidy["effect"] == "joint") & (tidy["term"] == theirs.term)
                        & (tidy["df_method"] == theirs.df_method)]
        else:
            at = float(theirs.group.split("=", 1)[1])
            by = tidy["group"].map(_by_time)
            ours = tidy[(tidy["effect"] == theirs.kind) & (tidy["df_method"] == theirs.df_method)
                        & np.isclose(by.astype(float), at, rtol=1e-12, atol=1e-12)]
            # emmeans prefixes numeric-looking levels with the factor's name ("group2 - group1")
            label = re.sub(r"\bgroup(?=[0-9])", "", theirs.contrast)
            ours = ours[ours["level"] == theirs.level] if theirs.kind == "emmean" else \
                ours[ours["contrast"] == label]
        assert len(ours) == 1, (theirs.kind, theirs.term, theirs.level, theirs.contrast, theirs.group)
        ours = ours.iloc[0]
        rtol = df_rtol(theirs.df_method)
        if theirs.kind == "joint":
            assert ours["df"] == pytest.approx(theirs.df)
            # F is a squared t: compare on the scale max(F, 1) (an F near 0 is a t near 0)
            assert close(ours["statistic"], theirs.statistic, max(theirs.statistic, 1.0),
                         tolerances.LMM_DESIGN_ESTIMATE_RTOL)
            assert close(ours["df_denominator"], theirs.df_denominator, theirs.df_denominator, rtol), \
                (theirs.term, theirs.df_method, ours["df_denominator"], theirs.df_denominator)
            if theirs.df_denominator > 2.5:       # near 2 the F tail moves fast with the df
                assert close_p(ours["p_value"], theirs.p_value)
            continue
        scale = max(abs(theirs.estimate), theirs.std_error)
        assert close(ours["estimate"], theirs.estimate, scale, tolerances.LMM_DESIGN_ESTIMATE_RTOL)
        assert close(ours["std_error"], theirs.std_error, theirs.std_error, tolerances.LMM_DESIGN_ESTIMATE_RTOL)
        assert close(ours["df"], theirs.df, theirs.df, rtol), (theirs.kind, theirs.df_method, ours["df"], theirs.df)
        if theirs.kind == "contrast":
            assert close(ours["statistic"], theirs.statistic, max(abs(theirs.statistic), 1.0),
                         tolerances.LMM_DESIGN_ESTIMATE_RTOL)
