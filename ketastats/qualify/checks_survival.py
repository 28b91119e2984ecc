"""Qualification checks: survival analysis against R ``survival`` (``tests/reference/survival/``).

Kaplan-Meier curves, Greenwood SEs, intervals, medians and landmark values (``survfit``), log-rank
tests (``survdiff``), Cox models (``coxph``: coefficients, SEs, hazard ratios, likelihood-ratio /
Wald / score tests), ``cox.zph`` and ``concordance`` — through both the kernels of
:mod:`ketastats.stats.survival` and the ``kaplan_meier`` / ``logrank`` / ``cox`` analyses, on the
data sets stored in ``survival.json``; and the synthetic trial's relapse table
(``ketamine_relapse.csv``) re-derived by the ``ketamine_placebo_rct`` plan's time-to-event step.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ketastats.qualify.checks_basic import Context
from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import read_json

CATEGORIES = {"sex_f": ["male", "female"], "ecog_grp": ["0", "1", "2+"], "rx_f": ["A", "B"], "group": ["a", "b"],
              "arm": ["placebo", "ketamine"]}


def _number(value) -> float:
    if value is None:
        return math.nan
    if value == "Inf":
        return math.inf
    return float(value)


def _numbers(values) -> np.ndarray:
    return np.array([_number(v) for v in values], dtype=float)


def _dataset(ref: dict, name: str) -> pd.DataFrame:
    raw = ref["datasets"][name]
    frame = pd.DataFrame({key: (values if key in CATEGORIES or key == "participant_id" else _numbers(values))
                          for key, values in raw.items()})
    for key, levels in CATEGORIES.items():
        if key in frame:
            frame[key] = pd.Categorical(frame[key], categories=levels)
    frame["event"] = pd.array(frame["event"] == 1, dtype="boolean")
    frame["pid"] = [f"s{i}" for i in range(len(frame))]
    frame.index = range(1, len(frame) + 1)
    return frame


def _est(rec: Recorder, what: str, ours, theirs) -> None:
    rec.compare(what, ours, theirs, rtol="SURVIVAL_RTOL", atol="SURVIVAL_ATOL")


def _test(rec: Recorder, what: str, ours, theirs) -> None:
    rec.compare(what, ours, theirs, rtol="SURVIVAL_TEST_RTOL", atol="SURVIVAL_ATOL")


def kaplan_meier(rec: Recorder, ctx: Context) -> None:
    """``survfit``: curves, Greenwood SEs, CIs (plain / log / log-log), medians with CIs, landmarks."""
    from ketastats.analyses import kaplan_meier as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute
    from ketastats.stats.survival import km_at, km_curve, km_median

    rec.reference = "survival/survival.json"
    ref = read_json("survival", "survival.json", ctx.reference)
    for case in ref["km"]:
        frame = _dataset(ref, case["data"])
        conf_type = case["conf_type"].replace("-", "_")
        level = _number(case["conf_level"])
        by = [case["group"]] if case["group"] else []
        spec = analysis.Spec(id="km", type="kaplan_meier", table="t", by=by,
                             landmarks=[_number(v) for v in case["landmarks_requested"]], conf_type=conf_type,
                             conf_level=level)
        result = execute(analysis, spec, AnalysisInput("km", "t", frame, "pid", ["pid"]))
        for group in case["groups"]:
            label = f"survfit {case['name']}" + (f", {case['group']} = {group['group']}" if by else "")
            mask = (np.ones(len(frame), bool) if not by
                    else (frame[case["group"]].astype(str) == group["group"]).to_numpy())
            t, e = frame["time"].to_numpy()[mask], frame["event"].astype(float).to_numpy()[mask]
            curve = km_curve(t, e, level, conf_type)
            _est(rec, f"{label}: curve (time, at risk, events, censored, S, SE, CI)",
                 np.concatenate([np.asarray(curve[k], float) for k in ("time", "n_risk", "n_event", "n_censor",
                                                                       "surv", "std_err", "lower", "upper")]),
                 np.concatenate([_numbers(group["curve"][k]) for k in ("time", "n_risk", "n_event", "n_censor",
                                                                       "surv", "std_err", "lower", "upper")]))
            medians = [_number(group["median"]), _number(group["median_lower"]), _number(group["median_upper"])]
            _est(rec, f"{label}: median and its CI (kernel)", list(km_median(curve)), medians)
            at = km_at(curve, _numbers(case["landmarks_requested"]), level, conf_type)
            inside = ~at["beyond"]
            lm = group["landmarks"]
            _est(rec, f"{label}: landmarks (time, at risk, events, S, SE, CI) (kernel)",
                 np.concatenate([np.asarray(at[k], float)[inside] for k in ("time", "n_risk", "n_event", "surv",
                                                                            "se_surv", "lower", "upper")]),
                 np.concatenate([_numbers(lm[k]) for k in ("time", "n_risk", "n_event_cumulative", "surv", "se_surv",
                                                           "lower", "upper")]))
            if not result.ok:
                rec.fail(f"{label} (analysis)", "; ".join(i.message for i in result.issues))
                continue
            tidy = result.tidy
            mine = tidy if not by else tidy[tidy[by[0]].astype(str) == group["group"]]
            median = mine[mine["effect"] == "median"].iloc[0]
            rec.equal(f"{label}: n and events (analysis)", [int(median["n"]), int(median["n_events"])],
                      [int(_number(group["n"])), int(_number(group["events"]))])
            _est(rec, f"{label}: median and its CI (analysis)",
                 [median["estimate"], median["conf_low"], median["conf_high"]], medians)
            survival = mine[mine["effect"] == "survival"]
            reported = survival[survival["estimate"].notna()]
            _est(rec, f"{label}: landmark rows (analysis)",
                 np.concatenate([reported[c].astype(float).to_numpy() for c in
                                 ("time", "estimate", "std_error", "conf_low", "conf_high", "n_at_risk", "n_events")]),
                 np.concatenate([_numbers(lm[k]) for k in ("time", "surv", "se_surv", "lower", "upper", "n_risk",
                                                           "n_event_cumulative")]))


def logrank(rec: Recorder, ctx: Context) -> None:
    """``survdiff``: observed and expected events, chi-square, df and p (plain and stratified)."""
    from ketastats.analyses import logrank as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    rec.reference = "survival/survival.json"
    ref = read_json("survival", "survival.json", ctx.reference)
    for case in ref["logrank"]:
        frame = _dataset(ref, case["data"])
        strata = [case["strata"]] if case["strata"] else []
        spec = analysis.Spec(id="lr", type="logrank", table="t", by=case["group"], strata=strata)
        result = execute(analysis, spec, AnalysisInput("lr", "t", frame, "pid", ["pid"]))
        label = f"survdiff {case['name']}"
        if not result.ok:
            rec.fail(label, "; ".join(i.message for i in result.issues))
            continue
        tidy = result.tidy
        groups = tidy[tidy["effect"] == "group"]
        rec.equal(f"{label}: levels and n", [[str(v) if not isinstance(v, float) else f"{v:g}"
                                              for v in groups[case["group"]]], groups["n"].tolist()],
                  [case["levels"], case["n"]])
        _est(rec, f"{label}: observed and expected",
             np.concatenate([groups["n_events"].astype(float), groups["expected"]]),
             np.concatenate([_numbers(case["observed"]), _numbers(case["expected"])]))
        test = tidy[tidy["effect"] == "test"].iloc[0]
        rec.equal(f"{label}: df", int(test["df"]), int(case["df"]))
        _test(rec, f"{label}: chi-square and p", [test["statistic"], test["p_value"]],
              [_number(case["chisq"]), _number(case["p"])])


def cox(rec: Recorder, ctx: Context) -> None:
    """``coxph`` (Efron / Breslow, strata), ``cox.zph`` (km, identity) and ``concordance``: kernels and analysis."""
    from ketastats.analyses import cox as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute
    from ketastats.stats.survival import concordance, cox_fit, cox_zph

    rec.reference = "survival/survival.json"
    ref = read_json("survival", "survival.json", ctx.reference)
    for case in ref["cox"]:
        label = f"coxph {case['name']}"
        frame = _dataset(ref, case["data"])
        used = np.array(case["rows_used"]) - 1
        x = np.column_stack([_numbers(column) for column in case["x"]])
        t = frame["time"].to_numpy()[used]
        e = frame["event"].astype(float).to_numpy()[used]
        strata = frame[case["strata"]].cat.codes.to_numpy()[used] if case["strata"] else None
        fit = cox_fit(t, e, x, strata, case["ties"])
        rec.equal(f"{label}: converged (kernel)", bool(fit.converged), True)
        _est(rec, f"{label}: coefficients, SEs, log-likelihoods (kernel)",
             np.concatenate([fit.coef, np.sqrt(np.diag(fit.var)), [fit.loglik0, fit.loglik]]),
             np.concatenate([_numbers(case["coef"]), _numbers(case["se"]), _numbers(case["loglik"])]))
        _test(rec, f"{label}: LR, Wald, score chi-squares (kernel)", [fit.lr_test, fit.wald_test, fit.score_test],
              [_number(case[k]["chisq"]) for k in ("lr", "wald", "score")])
        c = concordance(t, e, fit.linear_predictor, strata)
        _est(rec, f"{label}: concordance pair counts, C and its SE",
             [c["concordant"], c["discordant"], c["tied_x"], c["tied_y"], c["tied_xy"], c["concordance"],
              c["std_error"]],
             list(_numbers(case["concordance"]["counts"])) + [_number(case["concordance"]["concordance"]),
                                                               _number(case["concordance"]["std"])])
        terms = [[i - 1 for i in (v if isinstance(v, list) else [v])] for v in case["assign"].values()]
        for transform in ("km", "identity"):
            zph = cox_zph(t, e, x, strata, fit, case["ties"], transform, terms)
            z = case["zph"][transform]
            _test(rec, f"{label}: cox.zph ({transform}) chi-squares and p, per term and global",
                  np.concatenate([zph["chisq"], zph["p"], [zph["global_chisq"], zph["global_p"]]]),
                  np.concatenate([_numbers(z["chisq"]), _numbers(z["p"]),
                                  [_number(z["global"]["chisq"]), _number(z["global"]["p"])]]))
            rec.equal(f"{label}: cox.zph ({transform}) df", [int(v) for v in zph["df"]], [int(v) for v in z["df"]])
        covariates = [term.strip() for term in case["formula"].split("~")[1].split("+") if "strata(" not in term]
        spec = analysis.Spec(id="c", type="cox", table="t", covariates=covariates, ties=case["ties"],
                             strata=[case["strata"]] if case["strata"] else [], ph_test=["km", "identity"])
        result = execute(analysis, spec, AnalysisInput("c", "t", frame, "pid", ["pid"]))
        if not result.ok:
            rec.fail(f"{label} (analysis)", "; ".join(i.message for i in result.issues))
            continue
        tidy = result.tidy
        fixed = tidy[tidy["effect"] == "fixed"]
        rec.equal(f"{label}: terms (analysis)", [t_.replace("[T.", "").replace("]", "") for t_ in fixed["term"]],
                  case["terms"])
        _est(rec, f"{label}: estimate, SE, HR and CI, z (analysis)",
             np.concatenate([fixed[c].to_numpy(float) for c in ("estimate", "std_error", "hazard_ratio",
                                                                "hazard_ratio_conf_low", "hazard_ratio_conf_high",
                                                                "statistic")]),
             np.concatenate([_numbers(case[k]) for k in ("coef", "se", "hr", "hr_lower", "hr_upper", "z")]))
        _test(rec, f"{label}: p (analysis)", fixed["p_value"], _numbers(case["p"]))
        rec.equal(f"{label}: n and events (analysis)", [sorted(set(fixed["n"])), sorted(set(fixed["n_events"]))],
                  [[case["n"]], [case["nevent"]]])
        joint = tidy[tidy["effect"] == "joint"].set_index("method")
        methods = (("lr", "likelihood ratio test"), ("wald", "Wald test"), ("score", "score (log-rank) test"))
        _test(rec, f"{label}: LR, Wald, score statistics and p (analysis)",
              [joint.loc[m, "statistic"] for _, m in methods] + [joint.loc[m, "p_value"] for _, m in methods],
              [_number(case[k]["chisq"]) for k, _ in methods] + [_number(case[k]["p"]) for k, _ in methods])
        conc = tidy[tidy["effect"] == "concordance"].iloc[0]
        _est(rec, f"{label}: concordance (analysis)", [conc["estimate"], conc["std_error"]],
             [_number(case["concordance"]["concordance"]), _number(case["concordance"]["std"])])
        for transform in ("km", "identity"):
            ph = tidy[(tidy["effect"] == "ph_test") & (tidy["method"] == f"cox.zph, transform = {transform}")]
            z = case["zph"][transform]
            _test(rec, f"{label}: cox.zph ({transform}) rows (analysis)",
                  np.concatenate([ph["statistic"].to_numpy(float), ph["p_value"].to_numpy(float)]),
                  np.concatenate([_numbers(z["chisq"]), [_number(z["global"]["chisq"])], _numbers(z["p"]),
                                  [_number(z["global"]["p"])]]))
    _relapse_table(rec, ctx)


def ketamine_placebo_rct(ctx: Context):
    """The synthetic ketamine-vs-saline trial's plan, run once per qualification (``write=False``)."""
    if "ketamine_placebo_rct" not in ctx.cache:
        from ketastats.api import run_plan

        ctx.cache["ketamine_placebo_rct"] = run_plan(ctx.project / "analysis_plans" / "ketamine_placebo_rct.yaml",
                                                     write=False, allow_outside=True)
    return ctx.cache["ketamine_placebo_rct"]


def _relapse_table(rec: Recorder, ctx: Context) -> None:
    """The R reference of the synthetic trial was computed from the relapse table the plan derives."""
    reference = pd.read_csv(ctx.reference / "survival" / "ketamine_relapse.csv")
    plan = ctx.project / "analysis_plans" / "ketamine_placebo_rct.yaml"
    if not plan.is_file():
        rec.fail("ketamine_relapse.csv re-derived", f"{plan} is not installed")
        return
    relapse = ketamine_placebo_rct(ctx).data["relapse"]
    rec.equal("ketamine_relapse.csv: participants, times, events, arms, baseline MADRS re-derived by the plan",
              [reference["participant_id"].tolist(), reference["time"].tolist(), reference["event"].tolist(),
               reference["arm"].tolist(), reference["madrs_baseline"].tolist()],
              [relapse["participant_id"].tolist(), relapse["time"].tolist(), relapse["event"].astype(bool).tolist(),
               relapse["arm"].astype(str).tolist(), relapse["madrs_baseline"].tolist()],
              reference="survival/ketamine_relapse.csv")
