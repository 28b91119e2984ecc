"""Qualification checks: linear mixed models against lme4, lmerTest, pbkrtest and emmeans.

* ``lmm/``: the kernels :mod:`ketastats.stats.lmm`, :mod:`~ketastats.stats.satterthwaite` and
  :mod:`~ketastats.stats.kenward_roger` on the data lme4 saw (fixef, vcov, sigma, theta, VarCorr,
  logLik / AIC / BIC, isSingular; lmerTest summaries, ``contest`` one- and multi-df, ``m@vcov_varpar``,
  pbkrtest ``vcovAdj`` / ``KRmodcomp``, type-III anova);
* ``mixed_model/``: the ``mixed_model`` analysis's type-III F tests, emmeans and contrasts;
* ``mass_mixed_model/``: the batched kernel and the ``mass_mixed_model`` analysis over 240 outcomes;
* ``lmm_designs/``: 315 generated hard designs (kernel, batched kernel on random-intercept REML designs,
  and the analysis's coefficient, F, emmeans and contrast rows).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from ketastats.qualify.checks_basic import Context
from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import load_module, read_json


def _p(rec: Recorder, what: str, ours, theirs, prefix: str = "LMM") -> None:
    rec.compare(what, ours, theirs, rtol=f"{prefix}_P_RTOL", atol=f"{prefix}_P_ATOL")


def _matrix(rec: Recorder, what: str, ours, theirs, rtol: str) -> None:
    """Matrices relative to sqrt(w_ii w_jj), their natural scale."""
    want = np.asarray(theirs, dtype=float)
    d = np.sqrt(np.abs(np.diag(want)))
    rec.compare(what, np.asarray(ours, float), want, rtol=rtol, scale=np.outer(d, d))


def lmm(rec: Recorder, ctx: Context) -> None:
    """The single-model kernels against lme4 / lmerTest / pbkrtest on the named cases."""
    from ketastats.stats import kenward_roger as kr
    from ketastats.stats import satterthwaite as sat
    from ketastats.stats.lmm import fit_lmm, selection_matrix

    rec.reference = "lmm/reference.json"
    for case in read_json("lmm", "reference.json", ctx.reference)["cases"]:
        name, d = case["name"], case["data"]
        f = fit_lmm(np.array(d["y"], float), np.array(d["X"], float), np.array(d["Z"], float), np.array(d["groups"]),
                    reml=case["reml"])
        rec.equal(f"{name}: converged, n, groups, df of logLik, isSingular",
                  [bool(f.converged), f.n_obs, f.n_groups, f.n_params, bool(f.singular)],
                  [True, d["n"], len(d["group_labels"]), case["logLik_df"], bool(case["is_singular"])])
        se_r = np.sqrt(np.diag(np.array(case["vcov"], float)))
        rec.compare(f"{name}: fixef (relative to max(|beta|, SE))", f.beta, case["fixef"], rtol="LMM_ESTIMATE_RTOL",
                    scale=np.maximum(np.abs(case["fixef"]), se_r))
        _matrix(rec, f"{name}: vcov", f.vcov_beta, case["vcov"], "LMM_ESTIMATE_RTOL")
        rec.compare(f"{name}: SE, sigma, logLik, AIC, BIC, criterion",
                    np.concatenate([f.se_beta, [f.sigma, f.loglik, f.aic, f.bic, f.deviance]]),
                    np.concatenate([se_r, [case["sigma"], case["logLik"], case["AIC"], case["BIC"],
                                           case["criterion"]]]),
                    rtol="LMM_ESTIMATE_RTOL")
        rec.compare(f"{name}: theta", f.theta, case["theta"], atol="LMM_THETA_ATOL")
        sd_r = np.array(case["varcorr"]["sd"], float)
        rec.compare(f"{name}: random-effect SDs", f.sd_re, sd_r, rtol="LMM_ESTIMATE_RTOL",
                    scale=np.maximum(sd_r, rec.value("LMM_ESTIMATE_RTOL") * case["sigma"]))
        if sd_r.size > 1:
            rec.compare(f"{name}: random-effect correlations", f.corr_re, case["varcorr"]["corr"],
                        atol="LMM_THETA_ATOL")
        if np.all(sd_r > 0):
            _matrix(rec, f"{name}: VarCorr", f.cov_re, case["varcorr"]["cov"], "LMM_ESTIMATE_RTOL")
        else:
            rec.compare(f"{name}: VarCorr (singular)", f.cov_re, case["varcorr"]["cov"], atol_value=1e-12)
        if "coefficients_satterthwaite" not in case:
            continue
        tab, ref = sat.coefficient_table(f), case["coefficients_satterthwaite"]
        rec.compare(f"{name}: lmerTest summary SE and t", [r.se for r in tab] + [r.t for r in tab],
                    ref["se"] + ref["t"], rtol="LMM_ESTIMATE_RTOL")
        rec.compare(f"{name}: lmerTest Satterthwaite df", [r.df for r in tab], ref["df"],
                    rtol="LMM_SATTERTHWAITE_DF_RTOL")
        _p(rec, f"{name}: lmerTest Satterthwaite p", [r.p for r in tab], ref["p"])
        _matrix(rec, f"{name}: m@vcov_varpar", sat.vcov_varpar(f), case["vcov_varpar"], "LMM_SATTERTHWAITE_DF_RTOL")
        for item in case.get("contrasts", []):
            r, ref = sat.contrast(f, item["L"]), item["satterthwaite"]
            label = f"{name}: contest1D {item['name']} (Satterthwaite)"
            rec.compare(f"{label} estimate", r.estimate, ref["estimate"], rtol="LMM_ESTIMATE_RTOL",
                        scale=max(abs(ref["estimate"]), ref["se"]))
            rec.compare(f"{label} SE, t", [r.se, r.t], [ref["se"], ref["t"]], rtol="LMM_ESTIMATE_RTOL")
            rec.compare(f"{label} df", r.df, ref["df"], rtol="LMM_SATTERTHWAITE_DF_RTOL")
            _p(rec, f"{label} p", r.p, ref["p"])
        for item in case.get("joint_tests", []):
            joint, ref = sat.joint(f, item["L"]), item["satterthwaite"]
            label = f"{name}: contestMD {item['name']} (Satterthwaite)"
            rec.compare(f"{label} F", joint.F, ref["F"], rtol="LMM_F_RTOL")
            rec.equal(f"{label} numerator df", joint.df_num, ref["ndf"])
            rec.compare(f"{label} denominator df", joint.df_den, ref["ddf"], rtol="LMM_SATTERTHWAITE_DF_RTOL")
            _p(rec, f"{label} p", joint.p, ref["p"])
        if not case["reml"]:
            continue
        tab, ref = kr.coefficient_table(f), case["coefficients_kenward_roger"]
        rec.compare(f"{name}: Kenward-Roger SE and t", [r.se for r in tab] + [r.t for r in tab], ref["se"] + ref["t"],
                    rtol="LMM_ESTIMATE_RTOL")
        rec.compare(f"{name}: Kenward-Roger df", [r.df for r in tab], ref["df"], rtol="LMM_KENWARD_ROGER_DF_RTOL")
        _p(rec, f"{name}: Kenward-Roger p", [r.p for r in tab], ref["p"])
        _matrix(rec, f"{name}: pbkrtest vcovAdj", kr.vcov_adjusted(f).vcov, case["vcov_kr"], "LMM_ESTIMATE_RTOL")
        for item in case.get("contrasts", []):
            r, ref = kr.contrast(f, item["L"]), item["kenward_roger"]
            label = f"{name}: contest1D {item['name']} (Kenward-Roger)"
            rec.compare(f"{label} SE, t", [r.se, r.t], [ref["se"], ref["t"]], rtol="LMM_ESTIMATE_RTOL")
            rec.compare(f"{label} df", r.df, ref["df"], rtol="LMM_KENWARD_ROGER_DF_RTOL")
            _p(rec, f"{label} p", r.p, ref["p"])
        for item in case.get("joint_tests", []):
            mc, ref = kr.krmodcomp(f, item["L"]), item["krmodcomp"]
            label = f"{name}: KRmodcomp {item['name']}"
            rec.compare(f"{label} F, unscaled F, scaling", [mc.F, mc.F_unscaled, mc.F_scaling],
                        [ref["F"], ref["F_unscaled"], ref["F_scaling"]], rtol="LMM_F_RTOL")
            rec.equal(f"{label} numerator df", mc.df_num, ref["ndf"])
            rec.compare(f"{label} denominator df", mc.df_den, ref["ddf"], rtol="LMM_KENWARD_ROGER_DF_RTOL")
            _p(rec, f"{label} p", mc.p, ref["p"])
            j, ref = kr.joint(f, item["L"]), item["kenward_roger"]
            label = f"{name}: contestMD {item['name']} (Kenward-Roger)"
            rec.compare(f"{label} F", j.F, ref["F"], rtol="LMM_F_RTOL")
            rec.compare(f"{label} denominator df", j.df_den, ref["ddf"], rtol="LMM_KENWARD_ROGER_DF_RTOL")
            _p(rec, f"{label} p", j.p, ref["p"])
        if "anova_type3" in case:
            L = selection_matrix(f.n_fixed, range(1, f.n_fixed))
            for module, key in ((sat, "satterthwaite"), (kr, "kenward_roger")):
                r, ref = module.joint(f, L), case["anova_type3"][key]
                label = f"{name}: anova(m, type = 3, ddf = {key})"
                rec.compare(f"{label} F", r.F, ref["F"], rtol="LMM_F_RTOL")
                rec.equal(f"{label} numerator df", r.df_num, ref["ndf"])
                rec.compare(f"{label} denominator df", r.df_den, ref["ddf"], rtol="LMM_SATTERTHWAITE_DF_RTOL")
                _p(rec, f"{label} p", r.p, ref["p"])


def _mixed(frame: pd.DataFrame, subject: str, **spec) -> pd.DataFrame:
    from ketastats.analyses import mixed_model as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    frame = frame.copy()
    frame.index = range(1, len(frame) + 1)
    model = analysis.Spec.model_validate({"id": "m", "type": "mixed_model", "table": "t",
                                          "df_method": ["satterthwaite", "kenward_roger"], **spec})
    result = execute(analysis, model, AnalysisInput("m", "t", frame, subject, [subject]))
    if not result.ok:
        raise RuntimeError("; ".join(i.message for i in result.issues))
    return result.tidy


def _df_rtol(method: str) -> str:
    return "LMM_SATTERTHWAITE_DF_RTOL" if method == "satterthwaite" else "LMM_KENWARD_ROGER_DF_RTOL"


def mixed_model(rec: Recorder, ctx: Context) -> None:
    """The ``mixed_model`` analysis: lmerTest type-III anova, emmeans means and contrasts, Siegel FC models."""
    rec.reference = "mixed_model/reference.csv"
    folder = ctx.reference / "mixed_model"
    table = pd.read_csv(folder / "reference.csv", keep_default_na=False, dtype=str)
    for column in ("estimate", "std_error", "df", "df_denominator", "statistic", "p_value"):
        table[column] = pd.to_numeric(table[column].mask(table[column] == ""))

    def reference(case: str, kind: str) -> pd.DataFrame:
        return table[(table["case"] == case) & (table["kind"] == kind)].reset_index(drop=True)

    def joint_rows(tidy, case):
        joint = tidy[tidy["effect"] == "joint"]
        for row in reference(case, "joint").itertuples():
            ours = joint[(joint["term"] == row.term) & (joint["df_method"] == row.df_method)].iloc[0]
            label = f"{case}: type-III F test of {row.term} ({row.df_method})"
            rec.equal(f"{label} numerator df", float(ours["df"]), float(row.df))
            rec.compare(f"{label} F", ours["statistic"], row.statistic, rtol="LMM_F_RTOL")
            rec.compare(f"{label} denominator df", ours["df_denominator"], row.df_denominator,
                        rtol=_df_rtol(row.df_method))
            _p(rec, f"{label} p", ours["p_value"], row.p_value)

    def emmeans_rows(tidy, case, adjusted):
        for kind in ("emmean", "contrast"):
            ours_all, ref = tidy[tidy["effect"] == kind], reference(case, kind)
            for method in ("satterthwaite", "kenward_roger"):
                ours = ours_all[ours_all["df_method"] == method].reset_index(drop=True)
                theirs = ref[ref["df_method"] == method].reset_index(drop=True)
                label = f"{case}: emmeans {kind}s ({method})"
                if not rec.equal(f"{label}: number of rows", len(ours), len(theirs)):
                    continue
                rec.compare(f"{label}: estimate, SE", np.concatenate([ours["estimate"], ours["std_error"]]),
                            np.concatenate([theirs["estimate"], theirs["std_error"]]), rtol="LMM_ESTIMATE_RTOL")
                rec.compare(f"{label}: df", ours["df"], theirs["df"], rtol=_df_rtol(method))
                if kind == "contrast":
                    rec.compare(f"{label}: t", ours["statistic"], theirs["statistic"], rtol="LMM_ESTIMATE_RTOL")
                    _p(rec, f"{label}: p" + (" (adjusted)" if adjusted else ""),
                       ours["p_adjusted"] if adjusted else ours["p_value"], theirs["p_value"])

    orthodont = pd.read_csv(folder / "orthodont.csv")
    orthodont["age_f"] = pd.Categorical(orthodont["age"].astype(str), categories=["8", "10", "12", "14"], ordered=True)
    orthodont["sex"] = pd.Categorical(orthodont["sex"], categories=["Male", "Female"])
    tidy = _mixed(orthodont, "subject", formula="distance ~ age_f * sex", random="1 | subject",
                  contrasts=[{"emmeans": "age_f", "versus": "8", "adjust": "bonferroni"}])
    joint_rows(tidy, "orthodont_factor")
    emmeans_rows(tidy, "orthodont_factor", adjusted=True)
    tidy = _mixed(orthodont, "subject", formula="distance ~ age * sex", random="1 | subject",
                  contrasts=[{"emmeans": "sex", "pairwise": True}])
    emmeans_rows(tidy, "orthodont_numeric", adjusted=False)
    sleep = pd.read_csv(folder / "sleepstudy.csv")
    sleep["days_f"] = pd.Categorical(sleep["days"].astype(str), categories=[str(d) for d in range(10)])
    tidy = _mixed(sleep, "subject", formula="reaction ~ days_f", random="1 | subject",
                  contrasts=[{"emmeans": "days_f", "versus": "0", "adjust": "holm"}])
    joint_rows(tidy, "sleepstudy_factor")
    emmeans_rows(tidy, "sleepstudy_factor", adjusted=True)
    data = pd.read_csv(ctx.reference / "lmm" / "siegel_fc.csv")
    data["responder_2wk"] = data["responder_2wk"].astype(bool)
    cases = {c["name"]: c for c in read_json("lmm", "reference.json", ctx.reference)["cases"]}
    for outcome in ("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"):
        tidy = _mixed(data, "participant_id", formula=f"{outcome} ~ time + time:responder_2wk",
                      random="1 | participant_id", df_method=["residual", "satterthwaite", "kenward_roger"],
                      contrasts=[{"emmeans": "time", "by": "responder_2wk", "at": {"time": [0, 1]}, "versus": 0}])
        case = cases[f"siegel_{outcome}"]
        fixed = tidy[tidy["effect"] == "fixed"]
        residual = fixed[fixed["df_method"] == "residual"]
        rec.equal(f"Siegel {outcome}: terms, residual df 37, 40 observations, 21 participants",
                  [list(residual["term"]), sorted(set(residual["df"])), sorted(set(tidy["n_obs"])),
                   sorted(set(tidy["n_subjects"]))],
                  [["Intercept", "time", "time:responder_2wk[T.True]"], [37], [40], [21]],
                  reference="lmm/reference.json")
        rec.compare(f"Siegel {outcome}: fixef and SE", np.concatenate([residual["estimate"], residual["std_error"]]),
                    np.concatenate([case["fixef"], np.sqrt(np.diag(case["vcov"]))]), rtol="LMM_ESTIMATE_RTOL",
                    reference="lmm/reference.json")
        rec.compare(f"Siegel {outcome}: Satterthwaite df", fixed[fixed["df_method"] == "satterthwaite"]["df"],
                    case["coefficients_satterthwaite"]["df"], rtol="LMM_SATTERTHWAITE_DF_RTOL",
                    reference="lmm/reference.json")
        ref = reference(f"siegel_{outcome}", "contrast")
        contrasts = tidy[tidy["effect"] == "contrast"]
        for method in ("satterthwaite", "kenward_roger"):
            ours, theirs = contrasts[contrasts["df_method"] == method], ref[ref["df_method"] == method]
            rec.equal(f"Siegel {outcome}: post - pre groups ({method})", list(ours["group"]),
                      ["responder_2wk=False", "responder_2wk=True"])
            rec.compare(f"Siegel {outcome}: post - pre by responder ({method}) estimate, SE",
                        np.concatenate([ours["estimate"], ours["std_error"]]),
                        np.concatenate([theirs["estimate"], theirs["std_error"]]), rtol="LMM_ESTIMATE_RTOL")
            rec.compare(f"Siegel {outcome}: post - pre by responder ({method}) df", ours["df"], theirs["df"],
                        rtol=_df_rtol(method))


R_TERMS = {"(Intercept)": "Intercept", "time": "time", "groupb": "group[T.b]", "time:groupb": "time:group[T.b]"}


def mass_mixed_model(rec: Recorder, ctx: Context) -> None:
    """lme4 + lmerTest looped over 240 outcomes: the batched kernel and the ``mass_mixed_model`` analysis."""
    from ketastats.analyses import mass_mixed_model as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute
    from ketastats.stats.lmm_batched import fit_random_intercept, t_tests

    rec.reference = "mass_mixed_model/reference.json"
    folder = ctx.reference / "mass_mixed_model"
    ref = json.loads((folder / "reference.json").read_text(encoding="utf-8"))
    data = pd.read_csv(folder / "data.csv")
    outcomes = [o["outcome"] for o in ref["outcomes"]]

    def get(key):
        return np.array([[float(v) for v in o[key]] if isinstance(o[key], list) else float(o[key])
                         for o in ref["outcomes"]])

    time = data["time"].to_numpy(float)
    b = (data["group"] == "b").to_numpy(float)
    X = np.column_stack([np.ones(len(data)), time, b, time * b])
    fit = fit_random_intercept(data[outcomes].to_numpy(float), X, data["participant_id"].to_numpy())
    se = get("std_error")
    labels = np.repeat(outcomes, 4).reshape(-1, 4)
    rec.compare("kernel: fixef (relative to max(|beta|, SE)), 240 outcomes", fit.beta, get("estimate"),
                rtol="MASS_LMM_ESTIMATE_RTOL", scale=np.maximum(np.abs(get("estimate")), se), labels=labels)
    rec.compare("kernel: SEs", fit.se, se, rtol="MASS_LMM_ESTIMATE_RTOL", labels=labels)
    rec.compare("kernel: sigma", fit.sigma, get("sigma"), rtol="MASS_LMM_ESTIMATE_RTOL", labels=outcomes)
    rec.compare("kernel: random-intercept SD (relative to the largest sigma)", fit.sd_intercept, get("sd_intercept"),
                rtol="MASS_LMM_ESTIMATE_RTOL", scale=np.full(len(outcomes), fit.sigma.max()), labels=outcomes)
    rec.compare("kernel: theta", fit.theta, get("theta"), atol="MASS_LMM_THETA_ATOL", labels=outcomes)
    rec.equal("kernel: singular fits as lme4, boundary theta exactly 0, all converged",
              [np.array_equal(fit.singular, np.array([o["singular"] for o in ref["outcomes"]])),
               bool(np.all(fit.theta[get("theta") == 0] == 0)), bool(fit.converged.all())], [True, True, True])
    rec.at_least("kernel: REML criterion never worse than R's (max excess <= 1e-9)",
                 -float((fit.reml_criterion - get("reml_criterion")).max()), -1e-9, "absolute 1e-9")
    rec.compare("kernel: Satterthwaite df", fit.df_satterthwaite, get("df"), rtol="MASS_LMM_SATTERTHWAITE_DF_RTOL",
                labels=labels)
    _, p = t_tests(fit.beta, fit.se, fit.df_satterthwaite)
    _p(rec, "kernel: p-values", p, get("p_value"), prefix="MASS_LMM")
    frame = data.copy()
    frame["group"] = pd.Categorical(frame["group"], categories=["a", "b"])
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    spec = analysis.Spec.model_validate({"id": "mm", "type": "mass_mixed_model", "table": "t",
                                         "formula": "~ time * group",
                                         "random": "1 | participant_id", "outcomes": ["y*"],
                                         "df_method": ["residual", "satterthwaite"]})
    result = execute(analysis, spec, AnalysisInput("mm", "t", frame, "participant_id", ["participant_id", "time"]))
    if not result.ok:
        rec.fail("mass_mixed_model analysis", "; ".join(i.message for i in result.issues))
        return
    rows = [{"outcome": o["outcome"], "term": R_TERMS[term],
             **{k: float(o[k][j]) for k in ("estimate", "std_error", "df", "statistic", "p_value")}}
            for o in ref["outcomes"] for j, term in enumerate(o["terms"])]
    tidy = result.tidy
    sat = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "satterthwaite")]
    merged = sat.merge(pd.DataFrame(rows), on=["outcome", "term"], suffixes=("", "_r"))
    rec.equal("analysis: rows matched with R (4 terms x 240 outcomes)", len(merged), 4 * ref["n_outcomes"])
    where = (merged["outcome"] + " " + merged["term"]).to_numpy()
    rec.compare("analysis: estimates", merged["estimate"], merged["estimate_r"], rtol="MASS_LMM_ESTIMATE_RTOL",
                scale=np.maximum(merged["estimate_r"].abs(), merged["std_error_r"]), labels=where)
    rec.compare("analysis: SEs", merged["std_error"], merged["std_error_r"], rtol="MASS_LMM_ESTIMATE_RTOL",
                labels=where)
    rec.compare("analysis: Satterthwaite df", merged["df"], merged["df_r"], rtol="MASS_LMM_SATTERTHWAITE_DF_RTOL",
                labels=where)
    _p(rec, "analysis: p-values", merged["p_value"], merged["p_value_r"], prefix="MASS_LMM")
    rec.equal("analysis: residual df n - 4 and singular-fit count",
              [sorted(set(tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "residual")]["df"])),
               result.glance["n_singular"]], [[ref["n_obs"] - 4], ref["n_singular"]])


def lmm_designs(rec: Recorder, ctx: Context) -> None:
    """315 hard generated designs: kernel, batched kernel and ``mixed_model`` analysis against lme4's best fit."""
    from ketastats.stats import kenward_roger, lmm_batched, satterthwaite
    from ketastats.stats import lmm as kernel

    rec.reference = "lmm_designs/"
    import patsy

    ref = load_module("ketastats_qualify_lmm_designs_load", ctx.reference / "lmm_designs" / "load.py")
    designs = ref.designs()
    kernel_rows: dict[str, list] = {k: [] for k in ("beta", "beta_r", "beta_scale", "se", "se_r", "sigma", "sigma_r",
                                                    "sat", "sat_r", "kr", "kr_r", "kr_se", "kr_se_r", "labels",
                                                    "sigma_labels", "kr_labels")}
    loglik_short, singular_wrong, not_converged = [], [], []
    batched_rows: dict[str, list] = {k: [] for k in ("beta", "beta_r", "scale", "se", "se_r", "df", "df_r", "labels")}
    batched_worse, batched_singular = [], []
    analysis_rows: dict[str, list] = {k: [] for k in ("est", "est_r", "est_scale", "se", "se_r", "sat", "sat_r", "kr",
                                                      "kr_r", "F", "F_r", "F_scale", "p", "p_r", "labels", "sat_labels",
                                                      "kr_labels", "F_labels", "p_labels")}
    analysis_problems: list[str] = []
    for design in designs["design"]:
        row = designs.loc[design]
        data = ref.data(design)
        rhs = row["formula"].split("~", 1)[1].strip()
        if "group" in rhs:
            data["group"] = pd.Categorical(data["group"], categories=sorted(data["group"].unique()))
        matrix = patsy.dmatrix(rhs, data, return_type="dataframe")
        columns = {ref.r_name(name): name for name in matrix.columns}
        coef = ref.coefficients(design)
        X = matrix[[columns[name] for name in coef["term"]]].to_numpy()
        slope = row["random"].split("|")[0].strip()
        Z = np.ones((len(data), 1)) if slope == "1" else np.column_stack([np.ones(len(data)), data[slope]])
        y, groups, reml = data["y"].to_numpy(), data["subject"].to_numpy(), bool(row["reml"])
        fit = kernel.fit_lmm(y, X, Z, groups, reml=reml)
        if not fit.converged:
            not_converged.append(design)
        if fit.loglik < row["loglik"] - rec.value("LMM_DESIGN_LOGLIK_RTOL") * abs(row["loglik"]):
            loglik_short.append(design)
        if bool(fit.singular) != bool(row["is_singular"]):
            singular_wrong.append(design)
        k = kernel_rows
        k["beta"] += list(fit.beta)
        k["beta_r"] += list(coef["estimate"])
        k["beta_scale"] += list(np.maximum(np.abs(coef["estimate"]), coef["std_error"]))
        k["se"] += list(fit.se_beta)
        k["se_r"] += list(coef["std_error"])
        k["labels"] += [f"{design} {t}" for t in coef["term"]]
        k["sigma"].append(fit.sigma)
        k["sigma_r"].append(row["sigma"])
        k["sigma_labels"].append(design)
        eye = np.eye(fit.n_fixed)
        k["sat"] += [satterthwaite.contrast(fit, eye[j]).df for j in range(fit.n_fixed)]
        k["sat_r"] += list(coef["df_satterthwaite_fine"])
        if fit.reml:
            krs = [kenward_roger.contrast(fit, eye[j]) for j in range(fit.n_fixed)]
            k["kr"] += [r.df for r in krs]
            k["kr_r"] += list(coef["df_kr"])
            k["kr_se"] += [r.se for r in krs]
            k["kr_se_r"] += list(coef["std_error_kr"])
            k["kr_labels"] += [f"{design} {t}" for t in coef["term"]]
            if slope == "1":   # the batched kernel on REML random-intercept designs
                batched = lmm_batched.fit_random_intercept(y[:, None], X, groups)
                allowed = rec.value("LMM_DESIGN_LOGLIK_RTOL") * row["criterion"]
                if batched.reml_criterion[0] > row["criterion"] + allowed:
                    batched_worse.append(design)
                if bool(batched.singular[0]) != bool(row["is_singular"]):
                    batched_singular.append(design)
                b = batched_rows
                b["beta"] += list(batched.beta[0])
                b["beta_r"] += list(coef["estimate"])
                b["scale"] += list(np.maximum(np.abs(coef["estimate"]), coef["std_error"]))
                b["se"] += list(batched.se[0])
                b["se_r"] += list(coef["std_error"])
                b["df"] += list(np.asarray(batched.df_satterthwaite)[0])
                b["df_r"] += list(coef["df_satterthwaite_fine"])
                b["labels"] += [f"{design} {t}" for t in coef["term"]]
        _design_analysis(ref, design, row, coef, analysis_rows, analysis_problems, rec.value("LMM_DESIGN_LOGLIK_RTOL"))
    n = len(designs)
    best = designs[["loglik_bobyqa", "loglik_nelder_mead", "loglik_restart"]].max(axis=1)
    rec.compare("reference: lme4's logLik is the best of its three tight fits", designs["loglik"], best,
                atol_value=1e-12 * float(best.abs().max()), labels=list(designs["design"]))
    rec.equal(f"kernel: converged on all {n} designs", not_converged, [])
    rec.equal(f"kernel: logLik >= lme4's best - LMM_DESIGN_LOGLIK_RTOL |logLik| on all {n} designs "
              f"(LMM_DESIGN_LOGLIK_RTOL = {rec.value('LMM_DESIGN_LOGLIK_RTOL'):g}, one-sided)", loglik_short, [])
    rec.equal("kernel: isSingular(m, tol = 1e-4) as lme4", singular_wrong, [])
    k = kernel_rows
    rec.compare("kernel: fixef (relative to max(|beta|, SE))", k["beta"], k["beta_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL",
                scale=k["beta_scale"], labels=k["labels"])
    rec.compare("kernel: SEs", k["se"], k["se_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL", labels=k["labels"])
    rec.compare("kernel: sigma", k["sigma"], k["sigma_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL", labels=k["sigma_labels"])
    rec.compare("kernel: Satterthwaite df (lmerTest, accurate Hessian)", k["sat"], k["sat_r"],
                rtol="LMM_DESIGN_SATTERTHWAITE_DF_RTOL", labels=k["labels"])
    rec.compare("kernel: Kenward-Roger df (REML designs)", k["kr"], k["kr_r"], rtol="LMM_DESIGN_KENWARD_ROGER_DF_RTOL",
                labels=k["kr_labels"])
    rec.compare("kernel: Kenward-Roger SEs", k["kr_se"], k["kr_se_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL",
                labels=k["kr_labels"])
    b = batched_rows
    rec.equal("batched kernel (REML random-intercept designs): criterion no worse than lme4's, singular as lme4",
              [batched_worse, batched_singular], [[], []])
    rec.compare("batched kernel: fixef", b["beta"], b["beta_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL", scale=b["scale"],
                labels=b["labels"])
    rec.compare("batched kernel: SEs", b["se"], b["se_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL", labels=b["labels"])
    rec.compare("batched kernel: Satterthwaite df", b["df"], b["df_r"], rtol="LMM_DESIGN_SATTERTHWAITE_DF_RTOL",
                labels=b["labels"])
    a = analysis_rows
    rec.equal("mixed_model analysis: every design ran, logLik / singular / warnings / row matching as lme4",
              analysis_problems, [])
    rec.compare("mixed_model analysis: estimates of coefficients, emmeans, contrasts", a["est"], a["est_r"],
                rtol="LMM_DESIGN_ESTIMATE_RTOL", scale=a["est_scale"], labels=a["labels"])
    rec.compare("mixed_model analysis: SEs", a["se"], a["se_r"], rtol="LMM_DESIGN_ESTIMATE_RTOL", labels=a["labels"])
    rec.compare("mixed_model analysis: Satterthwaite df (coefficients, F denominators, emmeans, contrasts)", a["sat"],
                a["sat_r"], rtol="LMM_DESIGN_SATTERTHWAITE_DF_RTOL", labels=a["sat_labels"])
    rec.compare("mixed_model analysis: Kenward-Roger df", a["kr"], a["kr_r"], rtol="LMM_DESIGN_KENWARD_ROGER_DF_RTOL",
                labels=a["kr_labels"])
    rec.compare("mixed_model analysis: F and contrast t (relative to max(|value|, 1))", a["F"], a["F_r"],
                rtol="LMM_DESIGN_ESTIMATE_RTOL", scale=a["F_scale"], labels=a["F_labels"])
    _p(rec, "mixed_model analysis: type-III F p-values (denominator df > 2.5)", a["p"], a["p_r"])


def _design_analysis(ref, design: str, row, coef: pd.DataFrame, out: dict, problems: list, loglik_rtol: float) -> None:
    """One design through the ``mixed_model`` analysis, rows collected into ``out`` (as the test suite compares)."""
    from ketastats.analyses import mixed_model as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    data = ref.data(design)
    data.index = range(1, len(data) + 1)
    reml = bool(row["reml"])
    spec = {"id": "m", "type": "mixed_model", "table": "t", "formula": row["formula"], "random": row["random"],
            "estimation": "reml" if reml else "ml",
            "df_method": ["satterthwaite", "kenward_roger"] if reml else ["satterthwaite"]}
    if "group" in row["formula"] and row["emm_times"]:
        times = [float(v) for v in row["emm_times"].split(";")]
        spec["contrasts"] = [{"emmeans": "group", "by": "time", "at": {"time": times},
                              "versus": sorted(data["group"].unique())[0]}]
    else:
        data = data.drop(columns="group")
    result = execute(analysis, analysis.Spec.model_validate(spec),
                     AnalysisInput("m", "t", data, "subject", ["subject"]))
    if not result.ok:
        problems.append(f"{design}: failed")
        return
    tidy, glance = result.tidy, result.glance
    codes = [issue.code for issue in result.issues]
    if glance["log_likelihood"] < row["loglik"] - loglik_rtol * abs(row["loglik"]):
        problems.append(f"{design}: logLik below lme4's")
    if bool(glance["singular"]) != bool(row["is_singular"]) or ("singular-fit" in codes) != bool(row["is_singular"]):
        problems.append(f"{design}: singular fit flag / warning differs from lme4")
    if not glance["converged"] or "not-converged" in codes:
        problems.append(f"{design}: not converged")

    def add(kind, ours_est, r_est, ours_se, r_se, ours_df, r_df, method, label):
        out["est"].append(ours_est)
        out["est_r"].append(r_est)
        out["est_scale"].append(max(abs(r_est), r_se))
        out["se"].append(ours_se)
        out["se_r"].append(r_se)
        out["labels"].append(label)
        key = "sat" if method == "satterthwaite" else "kr"
        out[key].append(ours_df)
        out[f"{key}_r"].append(r_df)
        out[f"{key}_labels"].append(label)

    for method, df_column, se_column in (("satterthwaite", "df_satterthwaite_fine", "std_error"),
                                         ("kenward_roger", "df_kr", "std_error_kr")):
        fixed = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == method)].reset_index(drop=True)
        if method == "kenward_roger" and not reml:
            if not fixed.empty:
                problems.append(f"{design}: Kenward-Roger rows for an ML fit")
            continue
        if len(fixed) != len(coef):
            problems.append(f"{design}: {len(fixed)} coefficient rows, R {len(coef)}")
            continue
        fixed = fixed.set_index(fixed["term"].map(ref.r_name)).loc[coef["term"]]
        for ours, theirs in zip(fixed.itertuples(), coef.itertuples()):
            add("fixed", ours.estimate, theirs.estimate, ours.std_error, getattr(theirs, se_column), ours.df,
                getattr(theirs, df_column), method, f"{design} {theirs.term} ({method})")
    tests = ref.tests(design)
    tests = tests[tests["df_method"] != "satterthwaite"].replace({"df_method": {"satterthwaite_fine": "satterthwaite"}})
    for theirs in tests.itertuples():
        if theirs.kind == "joint":
            ours = tidy[(tidy["effect"] == "joint") & (tidy["term"] == theirs.term)
                        & (tidy["df_method"] == theirs.df_method)]
        else:
            at = float(theirs.group.split("=", 1)[1])
            by = tidy["group"].map(lambda v: float(v.split("=", 1)[1]) if isinstance(v, str) and v.startswith("time=")
                                   else np.nan)
            ours = tidy[(tidy["effect"] == theirs.kind) & (tidy["df_method"] == theirs.df_method)
                        & np.isclose(by.astype(float), at, rtol=1e-12, atol=1e-12)]
            label = re.sub(r"\bgroup(?=[0-9])", "", theirs.contrast)
            ours = ours[ours["level"] == theirs.level] if theirs.kind == "emmean" else ours[ours["contrast"] == label]
        where = f"{design} {theirs.kind} {theirs.term or ''}{theirs.level or ''}{theirs.contrast or ''} " \
                f"{theirs.group or ''} ({theirs.df_method})"
        if len(ours) != 1:
            problems.append(f"{where}: {len(ours)} matching rows")
            continue
        ours = ours.iloc[0]
        key = "sat" if theirs.df_method == "satterthwaite" else "kr"
        if theirs.kind == "joint":
            if float(ours["df"]) != float(theirs.df):
                problems.append(f"{where}: numerator df {ours['df']} vs {theirs.df}")
            out["F"].append(ours["statistic"])
            out["F_r"].append(theirs.statistic)
            out["F_scale"].append(max(theirs.statistic, 1.0))
            out["F_labels"].append(where)
            out[key].append(ours["df_denominator"])
            out[f"{key}_r"].append(theirs.df_denominator)
            out[f"{key}_labels"].append(where)
            if theirs.df_denominator > 2.5:
                out["p"].append(ours["p_value"])
                out["p_r"].append(theirs.p_value)
                out["p_labels"].append(where)
            continue
        add(theirs.kind, ours["estimate"], theirs.estimate, ours["std_error"], theirs.std_error, ours["df"], theirs.df,
            theirs.df_method, where)
        if theirs.kind == "contrast":
            out["F"].append(ours["statistic"])
            out["F_r"].append(theirs.statistic)
            out["F_scale"].append(max(abs(theirs.statistic), 1.0))
            out["F_labels"].append(where)
