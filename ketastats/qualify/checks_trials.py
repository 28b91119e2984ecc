"""Qualification checks on the synthetic ketamine-vs-ECT trial, run through its plan as a user would.

``analysis_plans/ketamine_vs_ect.yaml`` (shipped with the qualification suite) runs in memory and its
tables are compared with what R computed from the same CSV files:

* ``ketamine_vs_ect/``: lmer + lmerTest / pbkrtest fixed effects and emmeans ketamine - ECT
  contrasts by visit (Satterthwaite and Kenward-Roger), ``fisher.test`` on response, ``survdiff``
  and ``coxph`` on relapse, ``cor.test`` of IL-6 change against HDRS change;
* ``baseline_table/``: Table 1 (n, missing, mean, SD, median, quartiles, counts and percentages,
  and the printed cells) against base R;
* ``flow/``: the participant flow (CONSORT-style counts and percentages) against base R;
* ``descriptives/``: HDRS-17 by visit and arm with ``denominator: participants`` (missing against the
  randomised n) against base R, the analysis run on the trial's CSV files as the test suite runs it.
"""

from __future__ import annotations

import re

import pandas as pd

from ketastats.qualify.checks_basic import Context
from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import read_json


def _run(ctx: Context):
    """The ketamine vs ECT plan, run once per qualification (``write=False``)."""
    if "ketamine_vs_ect" not in ctx.cache:
        from ketastats.api import run_plan

        ctx.cache["ketamine_vs_ect"] = run_plan(ctx.project / "analysis_plans" / "ketamine_vs_ect.yaml", write=False,
                                                allow_outside=True)
    return ctx.cache["ketamine_vs_ect"]


def _python_term(r_term: str) -> str:
    """R's ``armketamine:visittx3`` → patsy's ``randomized_arm[T.ketamine]:visit[T.tx3]``."""
    if r_term == "(Intercept)":
        return "Intercept"
    parts = []
    for part in r_term.split(":"):
        match = re.fullmatch(r"(arm|visit)(.+)", part)
        if match is None:
            return r_term
        column = "randomized_arm" if match.group(1) == "arm" else "visit"
        parts.append(f"{column}[T.{match.group(2)}]")
    return ":".join(parts)


def ketamine_vs_ect(rec: Recorder, ctx: Context) -> None:
    """The trial's plan against lmerTest / emmeans, fisher.test, survdiff / coxph and cor.test."""
    rec.reference = "ketamine_vs_ect/reference.json"
    ref = read_json("ketamine_vs_ect", "reference.json", ctx.reference)
    result = _run(ctx)
    rec.equal("every analysis of the plan ran", sorted(a for a, r in result.results.items() if not r.ok), [])
    table = result.tables["hdrs_mixed_model"]
    fixed = table[(table["effect"] == "fixed") & (table["df_method"] == "satterthwaite")].set_index("term")
    rows = [fixed.loc[_python_term(r["term"])] for r in ref["mixed_model"]["fixed"]]
    rec.equal("mixed model: number of fixed effects", len(fixed), len(ref["mixed_model"]["fixed"]))
    expected = ref["mixed_model"]["fixed"]
    rec.compare("mixed model: fixed effects and SEs (lmer)",
                [r["estimate"] for r in rows] + [r["std_error"] for r in rows],
                [r["estimate"] for r in expected] + [r["std_error"] for r in expected], rtol="LMM_ESTIMATE_RTOL")
    rec.compare("mixed model: Satterthwaite df (lmerTest)", [r["df"] for r in rows],
                [r["df"] for r in ref["mixed_model"]["fixed"]], rtol="LMM_SATTERTHWAITE_DF_RTOL")
    rec.compare("mixed model: p-values (lmerTest)", [r["p_value"] for r in rows],
                [r["p_value"] for r in ref["mixed_model"]["fixed"]], rtol="LMM_P_RTOL", atol="LMM_P_ATOL")
    for method, key, df_rtol in (("satterthwaite", "contrasts_satterthwaite", "LMM_SATTERTHWAITE_DF_RTOL"),
                                 ("kenward_roger", "contrasts_kenward_roger", "LMM_KENWARD_ROGER_DF_RTOL")):
        contrasts = table[(table["effect"] == "contrast") & (table["df_method"] == method)].set_index("group")
        mine = [contrasts.loc[f"visit={r['visit']}"] for r in ref["mixed_model"][key]]
        columns = ("estimate", "std_error", "statistic", "conf_low", "conf_high")
        rec.compare(f"ketamine - ECT by visit ({method}): estimate, SE, t, CI (emmeans)",
                    [m[c] for m in mine for c in columns], [r[c] for r in ref["mixed_model"][key] for c in columns],
                    rtol="LMM_ESTIMATE_RTOL", atol_value=1e-9)
        rec.compare(f"ketamine - ECT by visit ({method}): df", [m["df"] for m in mine],
                    [r["df"] for r in ref["mixed_model"][key]], rtol=df_rtol)
        rec.compare(f"ketamine - ECT by visit ({method}): p", [m["p_value"] for m in mine],
                    [r["p_value"] for r in ref["mixed_model"][key]], rtol="LMM_P_RTOL", atol="LMM_P_ATOL")
        rec.equal(f"ketamine - ECT by visit ({method}): observations", int(contrasts["n_obs"].iloc[0]),
                  ref["mixed_model"]["n_obs"])
    response = result.tables["response_eot_by_arm"]
    row = response[(response["outcome"] == "responder") & (response["term"] == "odds_ratio")].iloc[0]
    r = ref["response_eot"]
    rec.equal("response at end of course: counts", [int(row[c]) for c in ("count1", "n1", "count2", "n2")],
              [r["count_ketamine"], r["n_ketamine"], r["count_ect"], r["n_ect"]])
    rec.compare("response at end of course: odds ratio, CI, p (fisher.test)",
                [row["estimate"], row["conf_low"], row["conf_high"], row["p_value"]],
                [r["odds_ratio"], r["conf_low"], r["conf_high"], r["p_value"]], rtol="ASSOCIATION_RTOL",
                atol="ASSOCIATION_ATOL")
    r = ref["relapse"]
    logrank = result.tables["relapse_logrank"]
    test = logrank[logrank["effect"] == "test"].iloc[0]
    rec.compare("relapse: log-rank chi-square and p (survdiff)", [test["statistic"], test["p_value"]],
                [r["logrank_chisq"], r["logrank_p"]], rtol="SURVIVAL_TEST_RTOL")
    groups = logrank[logrank["effect"] == "group"].set_index("arm")
    rec.equal("relapse: observed events by arm", [int(groups.at[a, "n_events"]) for a in ("ect", "ketamine")],
              [r["logrank_observed"][a] for a in ("ect", "ketamine")])
    rec.compare("relapse: expected events by arm", [groups.at[a, "expected"] for a in ("ect", "ketamine")],
                [r["logrank_expected"][a] for a in ("ect", "ketamine")], rtol="SURVIVAL_RTOL")
    cox = result.tables["relapse_cox"]
    cox_fixed = cox[cox["effect"] == "fixed"].set_index("term")
    names = {"armketamine": "arm[T.ketamine]", "age": "age"}
    mine = [cox_fixed.loc[names[c["term"]]] for c in r["cox"]]
    rec.equal("relapse Cox: n and events", [[int(m["n"]), int(m["n_events"])] for m in mine],
              [[r["n"], r["n_events"]] for _ in mine])
    pairs = [("estimate", "estimate"), ("std_error", "std_error"), ("hazard_ratio", "hazard_ratio"),
             ("hazard_ratio_conf_low", "conf_low"), ("hazard_ratio_conf_high", "conf_high")]
    rec.compare("relapse Cox: coefficients, SEs, HRs and CIs (coxph)", [m[a] for m in mine for a, _ in pairs],
                [c[b] for c in r["cox"] for _, b in pairs], rtol="SURVIVAL_RTOL", atol="SURVIVAL_ATOL")
    rec.compare("relapse Cox: p", [m["p_value"] for m in mine], [c["p_value"] for c in r["cox"]],
                rtol="SURVIVAL_TEST_RTOL")
    table = result.tables["il6_vs_hdrs_change"]
    row = table[table["method"] == "pearson"].iloc[0]
    r = ref["il6_vs_hdrs_change"]
    rec.equal("IL-6 vs HDRS change: n and df", [int(row["n"]), int(row["df"])], [r["n"], r["df"]])
    columns = ("estimate", "conf_low", "conf_high", "statistic", "p_value")
    rec.compare("IL-6 vs HDRS change: r, CI, t, p (cor.test)", [row[c] for c in columns], [r[c] for c in columns],
                rtol="ASSOCIATION_RTOL", atol="ASSOCIATION_ATOL")


def baseline_table(rec: Recorder, ctx: Context) -> None:
    """Table 1 of the trial against base R: every row's counts, summaries and printed cell."""
    rec.reference = "baseline_table/reference.json"
    ref = read_json("baseline_table", "reference.json", ctx.reference)
    table = _run(ctx).tables["table1"]
    rec.equal("rows", len(table), len(ref))
    numbers, expected, counts, expected_counts, texts, expected_texts, labels = [], [], [], [], [], [], []
    for r in ref:
        mask = (table["outcome"] == r["outcome"]) & (table["group"] == r["group"])
        mask &= table["level"].isna() if r["level"] is None else (table["level"] == r["level"])
        rows = table[mask]
        where = f"{r['outcome']} {r['level'] or ''} {r['group']}"
        if len(rows) != 1:
            rec.fail(f"row {where}", f"{len(rows)} matching rows")
            continue
        mine = rows.iloc[0]
        texts.append([mine["summary"], mine["summary_type"]])
        expected_texts.append([r["summary"], r["summary_type"]])
        for column in ("n", "n_missing", "count"):
            if column in r:
                counts.append(int(mine[column]))
                expected_counts.append(r[column])
        for column in ("mean", "sd", "median", "q1", "q3", "percent"):
            if column in r:
                numbers.append(mine[column])
                expected.append(r[column])
                labels.append(f"{where} {column}")
    rec.equal("printed cells and summary types (sprintf in R)", texts, expected_texts)
    rec.equal("counts: n, missing, level counts", counts, expected_counts)
    rec.compare("means, SDs, medians, quartiles, percentages", numbers, expected, rtol="BASELINE_TABLE_RTOL",
                labels=labels)


def flow(rec: Recorder, ctx: Context) -> None:
    """The participant flow of the trial against base R: counts, subjects, missing and percentages per stage."""
    rec.reference = "flow/reference.json"
    ref = read_json("flow", "reference.json", ctx.reference)
    table = _run(ctx).tables["participant_flow"]
    rec.equal("rows", len(table), len(ref))
    by_key: dict[tuple, dict] = {(r["stage"], r["visit"], r["level"], r["group"]): r for r in ref}
    mine_counts, ref_counts, percent, ref_percent, labels = [], [], [], [], []
    for _, mine in table.iterrows():
        key = tuple(None if pd.isna(mine[c]) else mine[c] for c in ("stage", "visit", "level", "group"))
        r = by_key.get(key)
        if r is None:
            rec.fail(f"row {key}", "not in the R reference")
            continue
        mine_counts.append([int(mine["count"]), int(mine["n_subjects"]),
                            None if pd.isna(mine["n_missing"]) else int(mine["n_missing"])])
        ref_counts.append([r["count"], r["n_subjects"], r["n_missing"]])
        percent.append(mine["percent"])
        ref_percent.append(r["percent"])
        labels.append(" ".join(str(v) for v in key if v is not None))
    rec.equal("counts, subjects and missing per stage, visit, level and arm", mine_counts, ref_counts)
    rec.compare("percentages", percent, ref_percent, rtol="BASELINE_TABLE_RTOL", labels=labels)


def descriptives(rec: Recorder, ctx: Context) -> None:
    """``descriptives`` with ``denominator: participants`` against base R: HDRS-17 by visit and arm on the trial.

    A participant without a rating at a visit is missing against the randomised n of the arm
    (``participants.csv``); counts are compared exactly, summaries (mean, SD, median, quartiles by
    ``quantile(type = 7)``, min, max) within ``BASELINE_TABLE_RTOL``.
    """
    from importlib import resources
    from pathlib import Path

    from ketastats.analyses import descriptives as analysis
    from ketastats.analyses.base import AnalysisInput

    rec.reference = "descriptives/reference.json"
    ref = read_json("descriptives", "reference.json", ctx.reference)["rows"]
    folder = Path(str(resources.files("ketastats.datasets").joinpath("ketamine_vs_ect")))
    ratings = pd.read_csv(folder / "ratings.csv")
    arms = pd.read_csv(folder / "participants.csv").set_index("participant_id")["arm"]
    ratings["randomized_arm"] = ratings["participant_id"].map(arms)
    ratings["visit"] = pd.Categorical(ratings["visit"], categories=["baseline", "tx3", "eot", "m1", "m3", "m6"],
                                      ordered=True)
    ratings.index = range(1, len(ratings) + 1)
    spec = analysis.Spec(id="d", type="descriptives", table="ratings", outcome="hdrs17",
                         by=["visit", "randomized_arm"], denominator="participants")
    tidy = analysis.run(spec, AnalysisInput("d", "ratings", ratings, "participant_id",
                                            ["participant_id", "visit"])).tidy
    rec.equal("rows (visit x arm)", len(tidy), len(ref))
    if len(tidy) != len(ref):
        return
    rec.equal("row order: visit and arm", [[m["visit"], m["randomized_arm"]] for _, m in tidy.iterrows()],
              [[r["visit"], r["randomized_arm"]] for r in ref])
    rec.equal("counts: n rated, n randomised (n_subjects), n missing",
              [[int(m[c]) for c in ("n", "n_subjects", "n_missing")] for _, m in tidy.iterrows()],
              [[r[c] for c in ("n", "n_subjects", "n_missing")] for r in ref])
    stats = ("mean", "sd", "median", "q1", "q3", "min", "max")
    rec.compare("mean, SD, median, quartiles (quantile type 7), min, max",
                [m[s] for _, m in tidy.iterrows() for s in stats], [r[s] for r in ref for s in stats],
                rtol="BASELINE_TABLE_RTOL",
                labels=[f"{r['visit']} {r['randomized_arm']} {s}" for r in ref for s in stats])
