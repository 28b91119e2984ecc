"""Qualification checks: closed-form and exact-algorithm results against R.

Each function takes a :class:`~ketastats.qualify.record.Recorder` and a :class:`Context` and
recomputes, with ketastats, every value that the test suite compares with a stored R value in
one reference folder: ``p_adjust/`` (``p.adjust``), ``proportions/`` (``prop.test`` /
``binom.test``), ``correlation_ttest_group_proportions_regression/`` (``cor.test``, partial
correlation, ``t.test`` with effect sizes, ``fisher.test`` / ``chisq.test`` / risk differences,
``lm``, ``glm(binomial)`` with MASS profile intervals and ``drop1``) and
``rm_anova_paired_ttest/`` (afex ``aov_ez`` / car, ``t.test(paired = TRUE)``). The comparisons
mirror the tests named in ``tests/reference/README.md``; the tolerances are those of
``tolerances.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import read_json


@dataclass
class Context:
    """Shared inputs: the reference folder, the Siegel replica plan, and a cache of expensive results."""

    reference: Path
    project: Path
    cache: dict[str, Any] = field(default_factory=dict)

    def siegel(self):
        """The Siegel replica plan run in memory (``write=False``), once per qualification."""
        if "siegel" not in self.cache:
            from ketastats.api import run_plan

            self.cache["siegel"] = run_plan(self.project / "analysis_plans" / "siegel2021.yaml", write=False,
                                            allow_outside=True)
        return self.cache["siegel"]

    def siegel_table(self, name: str) -> pd.DataFrame:
        """A packaged Siegel replica table, read as the tests read it (rows numbered from 1)."""
        from importlib import resources

        frame = pd.read_csv(Path(str(resources.files("ketastats.datasets").joinpath("siegel2021", f"{name}.csv"))))
        frame.index = range(1, len(frame) + 1)
        return frame


# --- p_adjust ---------------------------------------------------------------------------------

def p_adjust(rec: Recorder, ctx: Context) -> None:
    """``ketastats.multiplicity.adjust`` against R ``p.adjust`` for every method and vector."""
    from ketastats.multiplicity import adjust

    rec.reference = "p_adjust/p_adjust.json"
    names = {"BH": "fdr_bh", "BY": "fdr_by"}
    for case in read_json("p_adjust", "p_adjust.json", ctx.reference)["cases"]:
        p = np.array([np.nan if v is None else v for v in case["p"]])
        ours = adjust(p, names.get(case["method"], case["method"]), case["n"])
        rec.compare(f"p.adjust {case['method']} on {case['vector']} (n = {case['n']})", ours, case["adjusted"],
                    atol="P_ADJUST_ATOL")


# --- proportions --------------------------------------------------------------------------------

def proportions(rec: Recorder, ctx: Context) -> None:
    """Wilson (``prop.test(correct = FALSE)``) and Clopper-Pearson (``binom.test``) intervals: grid and Siegel plan."""
    from ketastats.stats.intervals import clopper_pearson_interval, wilson_interval

    rec.reference = "proportions/proportions.json"
    cases = read_json("proportions", "proportions.json", ctx.reference)["cases"]
    for key, function in (("wilson", wilson_interval), ("clopper_pearson", clopper_pearson_interval)):
        for level in sorted({c["conf_level"] for c in cases}):
            chosen = [c for c in cases if c["conf_level"] == level]
            lower, upper = function(np.array([c["count"] for c in chosen]), np.array([c["n"] for c in chosen]),
                                    conf_level=level)
            rec.compare(f"{key} lower bounds, conf_level {level}", lower, [c[key][0] for c in chosen],
                        atol="PROPORTION_CI_ATOL")
            rec.compare(f"{key} upper bounds, conf_level {level}", upper, [c[key][1] for c in chosen],
                        atol="PROPORTION_CI_ATOL")
            for c, lo, hi in zip(chosen, lower, upper):   # scalar calls, as the per-case tests
                one = function(c["count"], c["n"], conf_level=level)
                if float(one[0]) != float(lo) or float(one[1]) != float(hi):
                    rec.fail(f"{key} scalar call {c['count']}/{c['n']}", "differs from the vectorised call")
    # the Siegel replica plan's response_rates table (the proportions analysis) on the reference grid
    by_case = {(c["count"], c["n"], c["conf_level"]): c for c in cases}
    ours, theirs, labels = [], [], []
    for row in ctx.siegel().tables["response_rates"].itertuples():
        case = by_case.get((row.count, row.n, row.conf_level))
        if case is not None:
            ours += [row.conf_low, row.conf_high]
            theirs += list(case[row.ci_method])
            labels += [f"{row.outcome} {row.visit} {row.ci_method} {b}" for b in ("low", "high")]
    rec.equal("Siegel replica response_rates: rows on the reference grid (at least 18)", len(ours) // 2 >= 18, True)
    rec.compare("Siegel replica response_rates: Wilson / Clopper-Pearson bounds", ours, theirs,
                atol="PROPORTION_CI_ATOL", labels=labels)


# --- associations -------------------------------------------------------------------------------

ASSOC = "correlation_ttest_group_proportions_regression"
DOSE = [1.2, 2.5, 3.1, 0.8, 4.2, 3.3, 2.9, 5.0, 1.7, 4.4, 3.8, 2.2, 4.9, 0.5, 3.5, 2.7, 4.0, 1.5, 5.5, 3.0]
AGE = [34, 51, 45, 29, 60, 38, 42, 55, 31, 48, 62, 40, 57, 25, 44, 36, 52, 30, 65, 47]
EVENT = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0]
SCORE = [10.2, 14.1, 15.8, 9.0, 20.3, 14.9, 13.2, 22.8, 11.5, 19.0, 18.1, 12.4, 21.7, 8.1, 16.0, 13.9, 18.6, 10.4,
         24.1, 15.2]


def _assoc(rec: Recorder, what: str, ours, theirs) -> None:
    rec.compare(what, ours, theirs, rtol="ASSOCIATION_RTOL", atol="ASSOCIATION_ATOL")


def correlation(rec: Recorder, ctx: Context) -> None:
    """``cor.test`` (Pearson, Spearman, Kendall), partial correlations, and the Siegel replica's correlations."""
    from ketastats.stats.correlation import correlation_test

    rec.reference = f"{ASSOC}/associations.json"
    ref = read_json(ASSOC, "associations.json", ctx.reference)
    for case in ref["correlations"]:
        res = correlation_test(case["x"], case["y"], case["method"], None, case["conf_level"], case["alternative"])
        interval = case["conf_int"] if case["method"] == "pearson" else case["conf_int_bonett_wright"]
        _assoc(rec, f"cor.test {case['name']}: estimate, statistic, p, CI",
               [res.estimate, res.statistic, res.p_value, res.conf_low, res.conf_high],
               [case["estimate"], case["statistic"], case["p_value"], interval[0], interval[1]])
        if "df" in case:
            rec.equal(f"cor.test {case['name']}: df", res.df, case["df"])
    source = ref["correlations"][0]
    z1 = [30, 41, 28, 55, 47, 36, 60, 33, 52, 49, 45, 38, 58, 29, 35]
    z2 = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1]
    for case in ref["partial_correlations"]:
        covariates = np.column_stack([z1, z2]) if case["name"].endswith("_2") else np.array(z1, dtype=float)[:, None]
        res = correlation_test(source["x"], source["y"], case["method"], covariates)
        rec.equal(f"partial correlation {case['name']}: df", res.df, case["df"])
        _assoc(rec, f"partial correlation {case['name']}: estimate, statistic, p, CI",
               [res.estimate, res.statistic, res.p_value, res.conf_low, res.conf_high],
               [case["estimate"], case["statistic"], case["p_value"], case["conf_int"][0], case["conf_int"][1]])
    siegel = ctx.siegel()
    table = siegel.tables["volumes_vs_madrs_change"].set_index("term")
    for term, r in ref["siegel"]["volume_correlations"].items():
        row = table.loc[term]
        rec.equal(f"Siegel replica volumes_vs_madrs_change {term}: n", int(row["n"]), r["n"])
        _assoc(rec, f"Siegel replica volumes_vs_madrs_change {term}: estimate, statistic, p, CI",
               [row["estimate"], row["statistic"], row["p_value"], row["conf_low"], row["conf_high"]],
               [r["estimate"], r["statistic"], r["p_value"], r["conf_int"][0], r["conf_int"][1]])
    table = siegel.tables["bprs_vs_madrs_change"].set_index("outcome")
    for visit, outcome in [("day1", "madrs_change_day1"), ("week2", "madrs_change_2wk"), ("week8", "madrs_change_8wk")]:
        r = ref["siegel"]["bprs_correlations"][visit]
        rec.equal(f"Siegel replica bprs_vs_madrs_change {visit}: n", int(table.at[outcome, "n"]), r["n"])
        _assoc(rec, f"Siegel replica bprs_vs_madrs_change {visit}: estimate, p",
               [table.at[outcome, "estimate"], table.at[outcome, "p_value"]], [r["estimate"], r["p_value"]])


def ttest(rec: Recorder, ctx: Context) -> None:
    """``t.test`` (Student, Welch) with Cohen's d / Hedges' g and their intervals; Siegel patients vs controls."""
    from ketastats.stats.two_sample import t_test

    rec.reference = f"{ASSOC}/associations.json"
    ref = read_json(ASSOC, "associations.json", ctx.reference)
    for case in ref["ttests"]:
        res = t_test(case["x"], case["y"], case["method"], case["conf_level"], case["alternative"])
        _assoc(rec, f"t.test {case['name']}: estimate, SE, t, df, p, CI, d, g and their CIs",
               [res.estimate, res.std_error, res.statistic, res.df, res.p_value, res.conf_low, res.conf_high,
                res.cohens_d, res.cohens_d_conf_low, res.cohens_d_conf_high, res.hedges_g, res.hedges_g_conf_low,
                res.hedges_g_conf_high],
               [case["estimate"], case["std_error"], case["statistic"], case["df"], case["p_value"],
                case["conf_int"][0], case["conf_int"][1], case["cohens_d"], case["cohens_d_ci"][0],
                case["cohens_d_ci"][1], case["hedges_g"], case["hedges_g_ci"][0], case["hedges_g_ci"][1]])
    siegel = ctx.siegel()
    for when in ("pre", "post"):
        table = siegel.tables[f"fc_patients_vs_controls_{when}"].set_index("outcome")
        for outcome in ("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"):
            r = ref["siegel"]["patients_vs_controls"][f"{outcome}_{when}"]
            row = table.loc[outcome]
            _assoc(rec, f"Siegel replica fc_patients_vs_controls_{when} {outcome}: estimate, t, df, p, CI",
                   [row["estimate"], row["statistic"], row["df"], row["p_value"], row["conf_low"], row["conf_high"]],
                   [r["estimate"], r["statistic"], r["df"], r["p_value"], r["conf_int"][0], r["conf_int"][1]])


def group_proportions(rec: Recorder, ctx: Context) -> None:
    """``fisher.test``, ``chisq.test`` (with and without Yates) and risk differences (Newcombe, Wald)."""
    from ketastats.stats.contingency import chi_square, fisher_exact, risk_difference

    rec.reference = f"{ASSOC}/associations.json"
    ref = read_json(ASSOC, "associations.json", ctx.reference)
    for case in ref["tables"]:
        a, b, c, d = (int(v) for v in case["cells"])
        label = f"2x2 table {a} {b} / {c} {d}"
        level = case["conf_level"]
        fisher = fisher_exact(a, b, c, d, level)
        yates, plain = chi_square(a, b, c, d, True), chi_square(a, b, c, d, False)
        _assoc(rec, f"{label}: fisher.test p, odds ratio, CI; chisq.test with / without Yates",
               [fisher.p_value, fisher.estimate, fisher.conf_low, fisher.conf_high, yates.statistic, yates.p_value,
                plain.statistic, plain.p_value],
               [case["fisher_p"], case["fisher_estimate"], case["fisher_conf_int"][0], case["fisher_conf_int"][1],
                case["chisq_yates"], case["chisq_yates_p"], case["chisq"], case["chisq_p"]])
        for method in ("newcombe", "wald"):
            estimate, low, high = risk_difference(a, a + b, c, c + d, method, level)
            _assoc(rec, f"{label}: risk difference and {method} CI", [estimate, low, high],
                   [case["risk_difference"], case[method][0], case[method][1]])
    first = ctx.siegel().tables["week8_response_by_week2_response"].iloc[0]
    r = next(c for c in ref["tables"] if [int(v) for v in c["cells"]] == [8, 3, 3, 7])
    _assoc(rec, "Siegel replica week8_response_by_week2_response: Fisher p and odds ratio",
           [first["p_value"], first["estimate"]], [r["fisher_p"], r["fisher_estimate"]])


def regression(rec: Recorder, ctx: Context) -> None:
    """``lm`` and ``glm(binomial)``: Wald and MASS profile intervals, exact profile roots, ``drop1`` LRTs."""
    from ketastats.analyses import regression as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute
    from ketastats.stats import glm

    rec.reference = f"{ASSOC}/associations.json"
    ref = read_json(ASSOC, "associations.json", ctx.reference)
    frame = pd.DataFrame({"pid": [f"p{i}" for i in range(20)], "dose": DOSE, "age": AGE,
                          "event": pd.array([bool(e) for e in EVENT], dtype="boolean"), "score": SCORE},
                         index=range(1, 21))

    def run(**spec):
        model = analysis.Spec.model_validate({"id": "r", "type": "regression", "table": "t", **spec})
        return execute(analysis, model, AnalysisInput("r", "t", frame, "pid", ["pid"]))

    for case in ref["logistic"]:
        result = run(formula=case["formula"], family="binomial", ci=["wald", "profile"])
        if not result.ok:
            rec.fail(f"glm {case['name']}", "; ".join(i.message for i in result.issues))
            continue
        tidy = result.tidy
        wald, profile = tidy[tidy.ci_method == "wald"], tidy[tidy.ci_method == "profile"]
        rec.equal(f"glm {case['name']}: terms", [t.replace("Intercept", "(Intercept)") for t in wald["term"]],
                  case["terms"])
        for column, key in [("estimate", "estimate"), ("std_error", "std_error"), ("statistic", "statistic"),
                            ("p_value", "p_value"), ("conf_low", "wald_low"), ("conf_high", "wald_high")]:
            _assoc(rec, f"glm {case['name']}: {column}", wald[column], case[key])
        _assoc(rec, f"glm {case['name']}: MASS profile CI", list(profile["conf_low"]) + list(profile["conf_high"]),
               case["mass_profile_low"] + case["mass_profile_high"])
        _assoc(rec, f"glm {case['name']}: odds-ratio profile upper bound", profile["odds_ratio_conf_high"],
               [math.exp(v) for v in case["mass_profile_high"]])
        rows = [wald[wald.term == term].iloc[0] for term in case["lrt_terms"]]
        _assoc(rec, f"glm {case['name']}: drop1 LRT statistic and p",
               [r["lrt_statistic"] for r in rows] + [r["lrt_p_value"] for r in rows],
               case["lrt_statistic"] + case["lrt_p_value"])
        design = [np.ones(20), np.array(DOSE, float)] + ([np.array(AGE, float)] if "age" in case["formula"] else [])
        X, y = np.column_stack(design), np.array(EVENT, dtype=float)
        fit = glm.logistic(X, y)
        exact = [glm.profile_interval(X, y, fit, j) for j in range(len(case["exact_profile"]))]
        _assoc(rec, f"glm {case['name']}: exact profile-likelihood roots (R uniroot)",
               [v for pair in exact for v in pair], [v for pair in case["exact_profile"] for v in pair])
        rec.compare(f"glm {case['name']}: MASS interpolated profile vs exact root (documents MASS's approximation)",
                    case["mass_profile_low"] + case["mass_profile_high"],
                    [p[0] for p in case["exact_profile"]] + [p[1] for p in case["exact_profile"]],
                    rtol="PROFILE_MASS_VS_EXACT_RTOL", atol="ASSOCIATION_ATOL")
    case = ref["ols"]
    result = run(formula="score ~ dose + age")
    tidy = result.tidy
    rec.equal("lm score ~ dose + age: terms", [t.replace("Intercept", "(Intercept)") for t in tidy["term"]],
              case["terms"])
    rec.equal("lm score ~ dose + age: residual df", [int(v) for v in tidy["df"]], [case["df"]] * len(tidy))
    for column in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        _assoc(rec, f"lm score ~ dose + age: {column}", tidy[column], case[column])
    _assoc(rec, "lm score ~ dose + age: sigma", result.glance["sigma"], case["sigma"])
    case = ref["siegel"]["nausea_vs_ketamine"]
    tidy = ctx.siegel().tables["nausea_vs_ketamine"]
    wald, profile = tidy[tidy.ci_method == "wald"], tidy[tidy.ci_method == "profile"]
    _assoc(rec, "Siegel replica nausea_vs_ketamine: estimate, p, MASS profile CI, LRT p",
           list(wald["estimate"].iloc[:2]) + list(wald["p_value"].iloc[:2]) + list(profile["conf_low"].iloc[:2])
           + list(profile["conf_high"].iloc[:2]) + [wald.iloc[1]["lrt_p_value"]],
           case["estimate"][:2] + case["p_value"][:2] + case["mass_profile_low"][:2] + case["mass_profile_high"][:2]
           + [case["lrt_p_value"][0]])


# --- repeated measures -------------------------------------------------------------------------

RM = "rm_anova_paired_ttest"
LEVELS = {"treatment": ["control", "A", "B"], "gender": ["F", "M"], "phase": ["fup", "post", "pre"],
          "hour": ["1", "2", "3", "4", "5"]}


def _obk_long(ctx: Context) -> pd.DataFrame:
    frame = pd.read_csv(ctx.reference / RM / "obk_long.csv", dtype={"id": str, "hour": str})
    for column, levels in LEVELS.items():
        frame[column] = pd.Categorical(frame[column], categories=levels)
    frame.index = range(1, len(frame) + 1)
    return frame


def _obk_phase(ctx: Context) -> pd.DataFrame:
    agg = _obk_long(ctx).groupby(["id", "treatment", "gender", "phase"], observed=True)["value"].mean().reset_index()
    agg.index = range(1, len(agg) + 1)
    return agg


def _obk_incomplete(ctx: Context) -> pd.DataFrame:
    frame = _obk_long(ctx)
    drop = ((frame["id"] == "3") & (frame["phase"] == "post") & (frame["hour"] == "2")) | \
           ((frame["id"] == "7") & (frame["phase"] == "fup") & (frame["hour"] == "5"))
    return frame[~drop]


def _siegel_per_protocol(ctx: Context) -> pd.DataFrame:
    clinical, participants = ctx.siegel_table("clinical"), ctx.siegel_table("participants")
    keep = set(participants.loc[participants["completed_infusion"].astype(str).str.lower() == "true",
                                "participant_id"])
    frame = clinical[clinical["participant_id"].isin(keep)
                     & clinical["visit"].isin(["baseline", "day1", "week2", "week8"])].copy()
    frame["visit"] = pd.Categorical(frame["visit"], categories=["baseline", "day1", "week2", "week4", "week6",
                                                                "week8"], ordered=True)
    return frame


DESIGNS = {  # case -> (frame, subject, outcome, within, between, posthoc)
    "obk_within": (_obk_long, "id", "value", ["phase", "hour"], [],
                   {"factor": "hour", "versus": "1", "adjust": "holm"}),
    "obk_oneway": (_obk_phase, "id", "value", ["phase"], [], {"versus": "all", "adjust": "holm"}),
    "obk_mixed": (_obk_phase, "id", "value", ["phase"], ["treatment"],
                  {"versus": "pre", "adjust": "bonferroni", "by": ["treatment"]}),
    "obk_full": (_obk_long, "id", "value", ["phase", "hour"], ["treatment", "gender"], None),
    "obk_incomplete": (_obk_incomplete, "id", "value", ["phase", "hour"], [], None),
    "siegel_madrs": (_siegel_per_protocol, "participant_id", "madrs", ["visit"], [],
                     {"versus": "baseline", "adjust": "bonferroni"}),
}


def _p(rec: Recorder, what: str, ours, theirs) -> None:
    rec.compare(what, ours, theirs, rtol="RM_ANOVA_P_RTOL", atol="RM_ANOVA_P_ATOL")


def rm_anova(rec: Recorder, ctx: Context) -> None:
    """afex ``aov_ez`` / car: ANOVA tables, sphericity (Mauchly, GG, HF), effect sizes, post-hoc paired t tests."""
    from ketastats.analyses import rm_anova as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    rec.reference = f"{RM}/rm_anova.json"
    cases = {case["name"]: case for case in read_json(RM, "rm_anova.json", ctx.reference)["cases"]}
    for name, (make, subject, outcome, within, between, posthoc) in DESIGNS.items():
        case = cases[name]
        for sphericity in ("greenhouse_geisser", "huynh_feldt"):
            spec = analysis.Spec(id=name, type="rm_anova", table="t", outcome=outcome, within=within, between=between,
                                 sphericity=sphericity, posthoc=posthoc)
            result = execute(analysis, spec, AnalysisInput(name, "t", make(ctx), subject, [subject, *within]))
            if not result.ok:
                rec.fail(f"{name} ({sphericity})", "; ".join(i.message for i in result.issues))
                continue
            table = result.tidy[result.tidy["statistic_type"] == "F"]
            rec.equal(f"{name}: terms", table["term"].tolist(), [t["term"] for t in case["terms"]])
            for (_, row), ref in zip(table.iterrows(), case["terms"]):
                term = f"{name} {ref['term']}"
                if sphericity == "greenhouse_geisser":
                    columns = ("sum_sq", "df", "sum_sq_error", "df_denominator", "statistic", "eta_sq_partial",
                               "eta_sq_generalized", "epsilon_gg", "epsilon_hf", "mauchly_w")
                    rec.compare(f"{term}: SS, df, F, eta squared, epsilons, Mauchly W",
                                [row[c] for c in columns], [ref.get(c) for c in columns], rtol="RM_ANOVA_RTOL")
                    _p(rec, f"{term}: p and Mauchly p", [row["p_value"], row["mauchly_p"]],
                       [ref["p_value"], ref.get("mauchly_p")])
                    rec.compare(f"{term}: afex GG-corrected df", [row["df_corrected"], row["df_denominator_corrected"]],
                                [ref["afex_gg_df"], ref["afex_gg_df_denominator"]], rtol="RM_ANOVA_RTOL")
                    _p(rec, f"{term}: afex GG-corrected p", row["p_value_corrected"], ref["afex_gg_p_value"])
                else:
                    rec.compare(f"{term}: afex HF-corrected df", row["df_corrected"], ref["afex_hf_df"],
                                rtol="RM_ANOVA_RTOL")
                    _p(rec, f"{term}: afex HF-corrected p", row["p_value_corrected"], ref["afex_hf_p_value"])
                    if "epsilon_hf_raw" in ref:
                        extras: Any = result.extras
                        extra = extras["sphericity"][outcome][ref["term"]]
                        rec.compare(f"{term}: car's raw Huynh-Feldt epsilon", extra["epsilon_hf_raw"],
                                    ref["epsilon_hf_raw"], rtol="RM_ANOVA_RTOL")
            if sphericity != "greenhouse_geisser" or not case["posthoc"]:
                continue
            reference = case["posthoc"]
            rows = result.tidy[result.tidy["statistic_type"] == "t"]
            rec.equal(f"{name}: post-hoc contrasts", rows["contrast"].tolist(),
                      [r["contrast"] for r in reference["rows"]])
            for (_, row), ref in zip(rows.iterrows(), reference["rows"]):
                label = f"{name} post hoc {ref['contrast']}" + (f" ({ref['group']})" if "group" in ref else "")
                posthoc_columns = ("estimate", "std_error", "conf_low", "conf_high", "statistic", "df", "effect_size")
                rec.compare(f"{label}: estimate, SE, CI, t, df, d_z", [row[c] for c in posthoc_columns],
                            [ref[c] for c in posthoc_columns], rtol="PAIRED_T_RTOL", atol_value=1e-12)
                _p(rec, f"{label}: p and adjusted p", [row["p_value"], row["p_adjusted"]],
                   [ref["p_value"], ref["p_adjusted"]])
    # the Siegel replica plan's rm_anova (the same design, through the plan)
    rm = ctx.siegel().results["madrs_rm_anova"]
    ref = cases["siegel_madrs"]
    anova = rm.tidy.iloc[0]
    rec.compare("Siegel replica madrs_rm_anova: F", anova["statistic"], ref["terms"][0]["statistic"],
                rtol="RM_ANOVA_RTOL")
    _p(rec, "Siegel replica madrs_rm_anova: GG-corrected p", anova["p_value_corrected"],
       ref["terms"][0]["afex_gg_p_value"])
    posthoc = rm.tidy[rm.tidy["statistic_type"] == "t"]
    rec.compare("Siegel replica madrs_rm_anova: post-hoc d_z", posthoc["effect_size"],
                [r["effect_size"] for r in ref["posthoc"]["rows"]], rtol="PAIRED_T_RTOL")


def paired_ttest(rec: Recorder, ctx: Context) -> None:
    """``t.test(paired = TRUE)`` through the paired_ttest analysis: Siegel visits, obk by groups, one-sided."""
    from ketastats.analyses import paired_ttest as analysis
    from ketastats.analyses.base import AnalysisInput
    from ketastats.analyses.execute import execute

    rec.reference = f"{RM}/rm_anova.json"
    reference = {case["name"]: case for case in read_json(RM, "rm_anova.json", ctx.reference)["paired_ttest"]}

    def matches(label: str, row, ref) -> None:
        rec.equal(f"{label}: n", int(row["n_subjects"]), ref["n_subjects"])
        columns = ("estimate", "std_error", "conf_low", "conf_high", "statistic", "df", "effect_size", "conf_level")
        rec.compare(f"{label}: estimate, SE, CI, t, df, d_z", [row[c] for c in columns], [ref[c] for c in columns],
                    rtol="PAIRED_T_RTOL", atol_value=1e-12)
        _p(rec, f"{label}: p", row["p_value"], ref["p_value"])

    clinical = ctx.siegel_table("clinical")
    clinical["visit"] = pd.Categorical(clinical["visit"], categories=["baseline", "day1", "week2", "week4", "week6",
                                                                      "week8"], ordered=True)
    participants = ctx.siegel_table("participants")
    per_protocol = clinical["participant_id"].isin(set(participants.loc[
        participants["completed_infusion"].astype(str).str.lower() == "true", "participant_id"]))
    for visit in ("day1", "week2", "week8"):
        spec = analysis.Spec(id="p", type="paired_ttest", table="clinical", outcome="madrs", pair_by="visit",
                             levels=[visit, "baseline"])
        ctx_in = AnalysisInput("p", "clinical", clinical, "participant_id", ["participant_id", "visit"],
                               population=("per_protocol", per_protocol))
        result = execute(analysis, spec, ctx_in)
        matches(f"Siegel replica {visit} vs baseline", result.tidy.iloc[0], reference[f"siegel_{visit}_vs_baseline"])
    frame = pd.read_csv(ctx.reference / RM / "obk_long.csv", dtype={"id": str, "hour": str})
    frame = frame.groupby(["id", "treatment", "phase"], sort=True)["value"].mean().reset_index()
    frame["treatment"] = pd.Categorical(frame["treatment"], categories=["control", "A", "B"])
    frame.index = range(1, len(frame) + 1)
    spec = analysis.Spec(id="p", type="paired_ttest", table="t", outcome="value", pair_by="phase",
                         levels=["post", "pre"], by="treatment", conf_level=0.9, alternative="greater")
    result = execute(analysis, spec, AnalysisInput("p", "t", frame, "id", ["id", "phase"]))
    for _, row in result.tidy.iterrows():
        matches(f"obk post vs pre, {row['treatment']}, one-sided, 90 %", row,
                reference[f"obk_post_vs_pre_{row['treatment']}"])
    covered = {f"siegel_{v}_vs_baseline" for v in ("day1", "week2", "week8")} | \
        {f"obk_post_vs_pre_{t}" for t in ("control", "A", "B")}
    rec.equal("every paired_ttest reference case is compared", sorted(set(reference) - covered), [])
