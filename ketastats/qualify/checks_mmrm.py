"""Qualification checks: MMRM against R's mmrm 0.3.18 + emmeans, and SAS PROC MIXED (``tests/reference/mmrm/``).

* the kernel :mod:`ketastats.stats.mmrm`: log-likelihood, covariance parameters and their SEs, the
  covariance matrix, and every df / vcov choice's coefficient tests, per (data, structure, estimation)
  on fev_data and on the generated trials the test suite uses by default (every fourth of 120);
* the ``mmrm`` analysis: fixed-effect rows, type-III F tests, LS-means and treatment − placebo
  contrasts by visit, log-likelihood / AIC / BIC and theta, on fev_data (every structure and df / vcov
  choice) and the first four generated trials;
* emmeans ``weights = "proportional"`` on fev_data; the ketamine-vs-saline trial plan's primary MMRM
  (``madrs_mmrm``) against mmrm + emmeans (``rct_reference.csv``);
* SAS ``DDFM=KR(LINEAR)`` (and ``KR`` for ``us``) on fev_data, at the looser SAS tolerances.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketastats.qualify.checks_basic import Context
from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import load_module


def _reference(ctx: Context):
    if "mmrm_load" not in ctx.cache:
        ctx.cache["mmrm_load"] = load_module("ketastats_qualify_mmrm_load", ctx.reference / "mmrm" / "load.py")
    return ctx.cache["mmrm_load"]


def _kernel_fit(ref, case: str, formula_text: str, structure: str, reml: bool):
    from ketastats.language.formulas import design_matrices, parse_formula
    from ketastats.stats import mmrm

    data = ref.frame(case)
    formula = parse_formula(formula_text)
    data = data.dropna(subset=[formula.response])
    design = design_matrices(formula, data)
    subjects = pd.factorize(data["USUBJID"], sort=True)[0]
    X = design.to_numpy(dtype=float)
    fit = mmrm.fit(data[formula.response].to_numpy(float), X, subjects, data["AVISIT"].cat.codes.to_numpy(),
                   len(data["AVISIT"].cat.categories), structure, reml=reml)
    return fit, [ref.r_name(n) for n in design.columns], X, subjects


def _p(rec: Recorder, what: str, ours, theirs, labels=None) -> None:
    rec.compare(what, ours, theirs, rtol="MMRM_P_RTOL", atol="MMRM_P_ATOL", labels=labels)


def mmrm(rec: Recorder, ctx: Context) -> None:
    """The MMRM kernel and analysis against R mmrm / emmeans, and KR(linear) against SAS."""
    from ketastats.stats import mmrm as kernel

    rec.reference = "mmrm/reference.csv.gz"
    ref = _reference(ctx)
    cases = ref.cases()
    cases = cases[cases["converged"]]
    values = ref.values()
    # --- kernel, grouped by (data, structure, estimation) as tests/stats/test_mmrm.py (default selection)
    design = cases["case"].str.extract(r"^gen(\d+)\|", expand=False).astype(float)
    chosen = cases[design.isna() | (design % 4 == 1)]
    keys = chosen["case"].str.split("|").str[:4].str.join("|")
    out: dict[str, list] = {k: [] for k in ("loglik", "loglik_r", "theta", "theta_r", "theta_se", "theta_se_r",
                                            "sigma", "sigma_r", "sigma_scale", "est", "est_r", "est_scale", "se",
                                            "se_r", "df", "df_r", "p", "p_r", "labels", "fit_labels",
                                            "theta_labels", "sigma_labels")}
    not_converged = []
    for key, group in chosen.groupby(keys, sort=False):
        first = group.iloc[0]
        fit, names, X, subjects = _kernel_fit(ref, first["case"], first["formula"], first["structure"],
                                              bool(first["reml"]))
        if not fit.converged:
            not_converged.append(key)
            continue
        r = values[values["case"] == first["case"]]
        out["loglik"].append(fit.loglik)
        out["loglik_r"].append(r.loc[r["kind"] == "loglik", "estimate"].iloc[0])
        out["fit_labels"].append(key)
        theta = r.loc[r["kind"] == "theta", ["estimate", "std_error"]].to_numpy()
        out["theta"] += list(fit.theta)
        out["theta_r"] += list(theta[:, 0])
        out["theta_se"] += list(np.sqrt(np.diag(fit.theta_vcov)))
        out["theta_se_r"] += list(theta[:, 1])
        out["theta_labels"] += [key] * len(theta)
        for _, row in r[r["kind"] == "sigma"].iterrows():
            i, j = (int(v) - 1 for v in row["term"].split("."))
            out["sigma"].append(fit.sigma[i, j])
            out["sigma_r"].append(row["estimate"])
            out["sigma_scale"].append(max(abs(row["estimate"]), np.sqrt(fit.sigma[i, i] * fit.sigma[j, j])))
            out["sigma_labels"].append(f"{key} {row['term']}")
        kinds = kernel.coefficient_kinds(X, subjects, ["Intercept" if n == "(Intercept)" else n for n in names])
        for _, case in group.iterrows():
            tester = kernel.Tester(fit, ref.DF_METHODS[case["method"]], ref.VCOV_METHODS[case["vcov"]], kinds)
            for _, row in values[(values["case"] == case["case"]) & (values["kind"] == "fixed")].iterrows():
                estimate, se, df, t, p = tester.t_test(np.eye(len(names))[names.index(row["term"])])
                out["est"].append(estimate)
                out["est_r"].append(row["estimate"])
                out["est_scale"].append(max(abs(row["estimate"]), se))
                out["se"].append(se)
                out["se_r"].append(row["std_error"])
                out["df"].append(df)
                out["df_r"].append(row["df"])
                out["p"].append(p)
                out["p_r"].append(row["p_value"])
                out["labels"].append(f"{case['case']} {row['term']}")
    rec.equal(f"kernel: converged on all {len(out['fit_labels']) + len(not_converged)} fits", not_converged, [])
    rec.compare("kernel: log-likelihood", out["loglik"], out["loglik_r"], rtol="MMRM_LOGLIK_RTOL",
                labels=out["fit_labels"])
    rec.compare("kernel: covariance parameters theta", out["theta"], out["theta_r"], atol="MMRM_THETA_ATOL",
                labels=out["theta_labels"])
    rec.compare("kernel: SEs of theta", out["theta_se"], out["theta_se_r"], rtol="MMRM_SE_RTOL",
                labels=out["theta_labels"])
    rec.compare("kernel: covariance matrix (relative to sqrt(s_ii s_jj))", out["sigma"], out["sigma_r"],
                rtol="MMRM_ESTIMATE_RTOL", scale=out["sigma_scale"], labels=out["sigma_labels"])
    rec.compare("kernel: coefficient estimates, every df / vcov choice (relative to max(|b|, SE))", out["est"],
                out["est_r"], rtol="MMRM_ESTIMATE_RTOL", scale=out["est_scale"], labels=out["labels"])
    rec.compare("kernel: coefficient SEs", out["se"], out["se_r"], rtol="MMRM_SE_RTOL", labels=out["labels"])
    rec.compare("kernel: coefficient df (Kenward-Roger, Satterthwaite, residual, between-within)", out["df"],
                out["df_r"], rtol="MMRM_DF_RTOL", labels=out["labels"])
    _p(rec, "kernel: coefficient p-values", out["p"], out["p_r"], labels=out["labels"])
    _analysis(rec, ref, cases, values)
    _proportional(rec, ctx, ref)
    _trial(rec, ctx)
    _sas(rec, ctx, ref)


def _proportional(rec: Recorder, ctx: Context, ref) -> None:
    """emmeans ``weights = "proportional"`` on fev_data (RACE x SEX averaged by their frequencies)."""
    from ketastats.analyses import mmrm as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    spec = analysis.Spec.model_validate({
        "id": "m", "type": "mmrm", "table": "t", "visit": "AVISIT", "subject": "USUBJID",
        "formula": "FEV1 ~ RACE + SEX + ARMCD * AVISIT",
        "contrasts": [{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO", "weights": "proportional"}]})
    result = execute(analysis, spec, AnalysisInput("m", "t", ref.frame("fev"), "USUBJID", ["USUBJID", "AVISIT"]))
    want = pd.read_csv(ctx.reference / "mmrm" / "proportional_reference.csv")
    if not result.ok:
        rec.fail("proportional weights (analysis)", "; ".join(i.message for i in result.issues))
        return
    tidy = result.tidy
    got = []
    for _, row in want.iterrows():
        rows = tidy[(tidy["effect"] == row["kind"]) & (tidy["group"] == f"AVISIT={row['group']}")]
        got.append(rows[(rows["level"] if row["kind"] == "emmean" else rows["contrast"]) == row["level"]].iloc[0])
    where = "mmrm/proportional_reference.csv"
    rec.compare("emmeans weights = proportional: estimates", [g["estimate"] for g in got], want["estimate"],
                rtol="MMRM_ESTIMATE_RTOL", scale=[max(abs(w), g["std_error"]) for w, g in zip(want["estimate"], got)],
                reference=where)
    rec.compare("emmeans weights = proportional: SEs", [g["std_error"] for g in got], want["std_error"],
                rtol="MMRM_SE_RTOL", reference=where)
    rec.compare("emmeans weights = proportional: df", [g["df"] for g in got], want["df"], rtol="MMRM_DF_RTOL",
                reference=where)


def _trial(rec: Recorder, ctx: Context) -> None:
    """The ketamine-vs-saline trial plan's primary MMRM (``madrs_mmrm``) against mmrm + emmeans."""
    from ketastats.qualify.checks_survival import ketamine_placebo_rct

    where = "mmrm/rct_reference.csv"
    path = ctx.reference / "mmrm" / "rct_reference.csv"
    result = ketamine_placebo_rct(ctx).results.get("madrs_mmrm")
    if result is None or not result.ok:
        rec.fail("ketamine_placebo_rct madrs_mmrm", "the plan has no successful madrs_mmrm analysis", where)
        return
    want, tidy = pd.read_csv(path), result.tidy
    rec.equal("ketamine_placebo_rct madrs_mmrm: us structure, 80 subjects, observations as R",
              [result.glance["covariance"], int(result.glance["n_subjects"]), int(result.glance["n_obs"])],
              ["us", 80, int(want.loc[want["term"] == "n_obs", "estimate"].iloc[0])], reference=where)
    rec.compare("ketamine_placebo_rct madrs_mmrm: log-likelihood", result.glance["log_likelihood"],
                want.loc[want["kind"] == "loglik", "estimate"].iloc[0], rtol="MMRM_LOGLIK_RTOL", reference=where)
    contrasts = want[want["kind"] == "contrast"]
    got = [tidy[(tidy["effect"] == "contrast") & (tidy["group"] == f"visit={r['group']}")].iloc[0]
           for _, r in contrasts.iterrows()]
    rec.equal("ketamine_placebo_rct madrs_mmrm: contrast labels", [g["contrast"] for g in got],
              list(contrasts["level"]), reference=where)
    emmeans = want[want["kind"] == "emmean"]
    got_emm = [tidy[(tidy["effect"] == "emmean") & (tidy["group"] == f"visit={r['group']}")
                    & (tidy["level"] == r["level"])].iloc[0] for _, r in emmeans.iterrows()]
    both, ref_rows = got + got_emm, list(contrasts.itertuples()) + list(emmeans.itertuples())
    rec.compare("ketamine_placebo_rct madrs_mmrm: contrasts and LS-means by visit (relative to max(|b|, SE))",
                [g["estimate"] for g in both], [r.estimate for r in ref_rows], rtol="MMRM_ESTIMATE_RTOL",
                scale=[max(abs(r.estimate), g["std_error"]) for g, r in zip(both, ref_rows)], reference=where)
    rec.compare("ketamine_placebo_rct madrs_mmrm: SEs", [g["std_error"] for g in both],
                [r.std_error for r in ref_rows], rtol="MMRM_SE_RTOL", reference=where)
    rec.compare("ketamine_placebo_rct madrs_mmrm: contrast df", [g["df"] for g in got], list(contrasts["df"]),
                rtol="MMRM_DF_RTOL", reference=where)
    _p(rec, "ketamine_placebo_rct madrs_mmrm: contrast p", [g["p_value"] for g in got], list(contrasts["p_value"]))
    joint = tidy[tidy["effect"] == "joint"].set_index("term")
    wanted = want[want["kind"] == "joint"]
    rec.compare("ketamine_placebo_rct madrs_mmrm: type-III F", [joint.loc[t, "statistic"] for t in wanted["term"]],
                wanted["statistic"], rtol="MMRM_SE_RTOL", reference=where)
    rec.compare("ketamine_placebo_rct madrs_mmrm: F denominator df",
                [joint.loc[t, "df_denominator"] for t in wanted["term"]], wanted["df_denominator"],
                rtol="MMRM_DF_RTOL", reference=where)


def _analysis(rec: Recorder, ref, cases: pd.DataFrame, values: pd.DataFrame) -> None:
    """The ``mmrm`` analysis on fev_data (full model, every choice) and the first four generated trials."""
    from ketastats.analyses import mmrm as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    chosen = cases[cases["case"].str.startswith("fev|full|") | cases["case"].str.match(r"gen[1-4]\|")]
    out: dict[str, list] = {k: [] for k in ("est", "est_r", "scale", "se", "se_r", "df", "df_r", "p", "p_r", "F",
                                            "F_r", "fit", "fit_r", "theta", "theta_r", "labels", "p_labels",
                                            "F_labels", "fit_labels")}
    problems = []
    for _, row in chosen.iterrows():
        case = row["case"]
        spec = analysis.Spec.model_validate({
            "id": "m", "type": "mmrm", "table": "t", "visit": "AVISIT", "subject": "USUBJID",
            "formula": row["formula"], "covariance": row["structure"], "df_method": ref.DF_METHODS[row["method"]],
            "vcov": ref.VCOV_METHODS[row["vcov"]], "estimation": "reml" if row["reml"] else "ml",
            "contrasts": [{"emmeans": "ARMCD", "by": "AVISIT", "versus": "PBO"}]})
        result = execute(analysis, spec, AnalysisInput("m", "t", ref.frame(case), "USUBJID", ["USUBJID", "AVISIT"]))
        if not result.ok:
            problems.append(f"{case}: failed")
            continue
        tidy, r = result.tidy, values[values["case"] == case]
        if result.glance["covariance"] != row["structure"] or not result.glance["converged"]:
            problems.append(f"{case}: covariance {result.glance['covariance']}, converged {result.glance['converged']}")

        def add(got, want, where, p=True):
            out["est"].append(got["estimate"])
            out["est_r"].append(want["estimate"])
            out["scale"].append(max(abs(want["estimate"]), got["std_error"]))
            out["se"].append(got["std_error"])
            out["se_r"].append(want["std_error"])
            out["df"].append(got["df"])
            out["df_r"].append(want["df"])
            out["labels"].append(where)
            if p:
                out["p"].append(got["p_value"])
                out["p_r"].append(want["p_value"])
                out["p_labels"].append(where)

        fixed = tidy[tidy["effect"] == "fixed"].assign(r=lambda t: t["term"].map(ref.r_name)).set_index("r")
        for _, want in r[r["kind"] == "fixed"].iterrows():
            add(fixed.loc[want["term"]], want, f"{case} {want['term']}")
        joint = tidy[tidy["effect"] == "joint"].set_index("term")
        wanted = r[r["kind"] == "joint"]
        if sorted(joint.index) != sorted(wanted["term"]):
            problems.append(f"{case}: type-III terms {sorted(joint.index)} vs {sorted(wanted['term'])}")
            continue
        for _, want in wanted.iterrows():
            got = joint.loc[want["term"]]
            where = f"{case} F {want['term']}"
            if got["df"] != want["df"]:
                problems.append(f"{where}: numerator df {got['df']} vs {want['df']}")
            out["F"] += [got["statistic"]]
            out["F_r"] += [want["statistic"]]
            out["F_labels"].append(where)
            out["df"].append(got["df_denominator"])
            out["df_r"].append(want["df_denominator"])
            out["p"].append(got["p_value"])
            out["p_r"].append(want["p_value"])
            out["p_labels"].append(where)
        for kind in ("emmean", "contrast"):
            rows, wanted = tidy[tidy["effect"] == kind], r[r["kind"] == kind]
            if len(rows) != len(wanted) or not len(wanted):
                problems.append(f"{case}: {len(rows)} {kind} rows, R {len(wanted)}")
                continue
            for _, want in wanted.iterrows():
                key = rows["level"] if kind == "emmean" else rows["contrast"]
                got = rows[(key == want["level"]) & (rows["group"] == f"AVISIT={want['group']}")].iloc[0]
                add(got, want, f"{case} {kind} {want['level']} {want['group']}", p=kind == "contrast")
        for key in ("loglik", "aic", "bic"):
            out["fit"].append(result.glance["log_likelihood" if key == "loglik" else key])
            out["fit_r"].append(r.loc[r["kind"] == key, "estimate"].iloc[0])
            out["fit_labels"].append(f"{case} {key}")
        theta = tidy[(tidy["effect"] == "cov_pars") & tidy["term"].str.startswith("theta_")]
        out["theta"] += list(theta["estimate"])
        out["theta_r"] += list(r.loc[r["kind"] == "theta", "estimate"])
    rec.equal(f"analysis: {len(chosen)} cases ran with R's rows, structure and convergence", problems, [])
    rec.compare("analysis: estimates of coefficients, LS-means, contrasts (relative to max(|b|, SE))", out["est"],
                out["est_r"], rtol="MMRM_ESTIMATE_RTOL", scale=out["scale"], labels=out["labels"])
    rec.compare("analysis: SEs", out["se"], out["se_r"], rtol="MMRM_SE_RTOL", labels=out["labels"])
    rec.compare("analysis: df (coefficients, LS-means, contrasts, F denominators)", out["df"], out["df_r"],
                rtol="MMRM_DF_RTOL")
    rec.compare("analysis: type-III F statistics", out["F"], out["F_r"], rtol="MMRM_SE_RTOL", labels=out["F_labels"])
    _p(rec, "analysis: p-values of coefficients, F tests and contrasts", out["p"], out["p_r"], labels=out["p_labels"])
    rec.compare("analysis: log-likelihood, AIC, BIC", out["fit"], out["fit_r"], rtol="MMRM_LOGLIK_RTOL",
                labels=out["fit_labels"])
    rec.compare("analysis: theta", out["theta"], out["theta_r"], atol="MMRM_THETA_ATOL")


def _sas(rec: Recorder, ctx: Context, ref) -> None:
    """SAS PROC MIXED DDFM=KR(LINEAR) on fev_data, FEV1 ~ ARMCD, each structure (and DDFM=KR for us)."""
    from ketastats.stats import mmrm as kernel

    sas = pd.read_csv(ctx.reference / "mmrm" / "sas_ddfm_kr.csv")
    ours: dict[str, list] = {"est": [], "se": [], "df": []}
    theirs: dict[str, list] = {"est": [], "se": [], "df": []}
    labels = []
    for structure in ("us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "adh"):
        fit, _, _, _ = _kernel_fit(ref, "fev", "FEV1 ~ ARMCD", structure, True)
        estimate, se, df, t, p = kernel.Tester(fit, "kenward_roger", "kenward_roger_linear").t_test(
            np.array([0.0, 1.0]))
        for ddfm in (["kr(linear)", "kr"] if structure == "us" else ["kr(linear)"]):
            row = sas[(sas["structure"] == structure) & (sas["ddfm"] == ddfm)].iloc[0]
            for k, a, b in (("est", estimate, row["estimate"]), ("se", se, row["std_error"]), ("df", df, row["df"])):
                ours[k].append(a)
                theirs[k].append(b)
            labels.append(f"{structure} {ddfm}")
    ref_file = "mmrm/sas_ddfm_kr.csv"
    rec.compare("SAS KR(linear): ARMCD estimate", ours["est"], theirs["est"], rtol="MMRM_SAS_ESTIMATE_RTOL",
                labels=labels, reference=ref_file)
    rec.compare("SAS KR(linear): SE", ours["se"], theirs["se"], rtol="MMRM_SAS_SE_RTOL", labels=labels,
                reference=ref_file)
    rec.compare("SAS KR(linear): df", ours["df"], theirs["df"], rtol="MMRM_SAS_DF_RTOL", labels=labels,
                reference=ref_file)
