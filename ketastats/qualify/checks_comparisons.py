"""Qualification checks on two-group comparisons: risk ratios and treatment effects within subgroups.

Each function recomputes, with ketastats, every value the test suite compares with R in one
reference folder, with the tolerances of ``tolerances.py``:

* ``risk_ratio/`` (tests/stats/test_risk_ratio.py): Katz's log interval (DescTools ``BinomRatioCI``
  ``katz.log`` zero-cell rules) and Koopman's score interval solved exactly in R with ``uniroot``,
  cross-checked against PropCIs ``riskscoreci``, on the ketamine vs ECT response / remission counts
  and 160 generated tables (zero cells, all-event groups, n from 1 to 250);
* ``subgroups/`` (tests/analyses/test_subgroups.py): the ``subgroups`` analysis on 120 generated
  designs and the ketamine vs ECT example against ``lm`` / ``anova`` (difference in means, ANCOVA,
  interaction F), ``glm(binomial)`` / ``anova`` LRT (odds ratios, interaction test) and Newcombe /
  Wald risk differences; degenerate subgroups (one arm, zero cell) must give a note and no estimate.

Every value is compared (never a sample of them); the checks are grouped by quantity so that the
report shows one line per kind of value with its largest difference.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ketastats.qualify.checks_basic import Context
from ketastats.qualify.record import Recorder
from ketastats.qualify.sources import read_json

# --- risk_ratio ---------------------------------------------------------------------------------


def _number(value) -> float:
    """R's JSON: ``"Inf"`` and ``"NA"`` (0 / 0) as strings."""
    return math.nan if value == "NA" else float(value)


def risk_ratio(rec: Recorder, ctx: Context) -> None:
    """``stats.risk_ratio`` (Katz log, Koopman score) against R (DescTools / uniroot) and PropCIs ``riskscoreci``.

    Zero, infinite and undefined (0 / 0) values must be equal exactly (``Recorder.compare``: a zero
    reference allows no difference, infinities and NaN must match), others within the tolerance.
    """
    from ketastats.stats.risk_ratio import risk_ratio as compute

    rec.reference = "risk_ratio/reference.json"
    ref = read_json("risk_ratio", "reference.json", ctx.reference)
    for source, cases in (("ketamine vs ECT counts", list(ref["shipped"].values())),
                          ("160 generated tables", ref["designs"])):
        labels = [f"{c['label']}:{c['x1']}/{c['n1']}-{c['x2']}/{c['n2']}@{c['conf_level']}" for c in cases]
        for method in ("katz", "koopman"):
            ours, theirs, where = [], [], []
            for case, label in zip(cases, labels):
                estimate, low, high = compute(case["x1"], case["n1"], case["x2"], case["n2"], method,
                                              case["conf_level"])
                ours += [estimate, low, high]
                theirs += [_number(case["estimate"]), _number(case[f"{method}_low"]),
                           _number(case[f"{method}_high"])]
                where += [f"{label} {part}" for part in ("estimate", "low", "high")]
            name = "Katz log (DescTools katz.log)" if method == "katz" else "Koopman score (R uniroot)"
            rec.compare(f"{source}: risk ratio and {name} interval", ours, theirs, rtol="RISK_RATIO_RTOL",
                        labels=where)
        # PropCIs riskscoreci: closed-form (Nam's cubic); a step near an all-event group (see tolerances)
        for stepped, tolerance in ((False, "RISK_RATIO_PROPCIS_RTOL"), (True, "RISK_RATIO_PROPCIS_STEP_RTOL")):
            ours, theirs, where = [], [], []
            for case, label in zip(cases, labels):
                x1, n1, x2, n2 = case["x1"], case["n1"], case["x2"], case["n2"]
                if (x1 == n1 or x2 == n2) != stepped:
                    continue
                _, low, high = compute(x1, n1, x2, n2, "koopman", case["conf_level"])
                want_low = _number(case["koopman_propcis_low"])
                # PropCIs' lower limit at x1 = n1, x2 = 0 is 1 / p0, not a root (tolerances.py): not compared
                if not (x1 == n1 and x2 == 0) and not math.isnan(want_low):
                    ours.append(low)
                    theirs.append(want_low)
                    where.append(f"{label} low")
                ours.append(high)
                theirs.append(_number(case["koopman_propcis_high"]))
                where.append(f"{label} high")
            if theirs:
                kind = "with an all-event group" if stepped else "without an all-event group"
                rec.compare(f"{source}: Koopman limits vs PropCIs riskscoreci, tables {kind}", ours, theirs,
                            rtol=tolerance, labels=where)


# --- subgroups ------------------------------------------------------------------------------------

ESTIMATES = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


class _Collected:
    """The values of one source (the generated designs or the example), gathered per kind of check."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[list, list, list]] = {}
        self.exact: dict[str, tuple[list, list]] = {}

    def add(self, kind: str, ours, theirs, label: str) -> None:
        mine, ref, labels = self.values.setdefault(kind, ([], [], []))
        mine.append(math.nan if ours is None or pd.isna(ours) else float(ours))
        ref.append(float(theirs))
        labels.append(label)

    def same(self, kind: str, ours, theirs) -> None:
        mine, ref = self.exact.setdefault(kind, ([], []))
        mine.append(ours)
        ref.append(theirs)


def _row(tidy: pd.DataFrame, term: str, subgroup: str, level: str):
    found = tidy[(tidy["term"] == term) & (tidy["subgroup"] == subgroup) & (tidy["level"] == level)]
    return found.iloc[0] if len(found) == 1 else None


def _noted(row) -> bool:
    """A degenerate subgroup: no estimate, and a note saying why."""
    return row is not None and bool(pd.isna(row["estimate"])) and isinstance(row["note"], str)


def _collect(into: _Collected, tidy: pd.DataFrame, case: dict, where: str, ci: str = "newcombe") -> int:
    """Gather every R row (estimate, SE, statistic, df, p, interval) and interaction test of one case."""
    checked = 0
    for ref in case["rows"]:
        result = ref["result"] or {}
        at = f"{where} {ref['subgroup']}={ref['level']}"
        if not case["binary"]:
            row = _row(tidy, "mean_difference", ref["subgroup"], ref["level"])
            if row is None:
                into.same("one row per subgroup level", at, None)
                continue
            if not result:
                into.same("subgroups without an estimate in R: no estimate here, a note", _noted(row), True)
                continue
            for key in ESTIMATES:
                into.add("mean_difference", row[key], result[key], f"{at} {key}")
            into.same("residual df of each difference in means", int(row["df"]), result["df"])
            checked += 1
            continue
        if not case["covariate"]:
            row = _row(tidy, "risk_difference", ref["subgroup"], ref["level"])
            if row is None:
                into.same("one row per subgroup level", at, None)
            elif "rd" in result:
                bounds = result[f"rd_{ci}"]
                for key, value in zip(("estimate", "conf_low", "conf_high"), (result["rd"], *bounds)):
                    into.add(f"risk_difference_{ci}", row[key], value, f"{at} {key}")
                checked += 1
            else:
                into.same("subgroups without an estimate in R: no estimate here, a note", _noted(row), True)
        row = _row(tidy, "odds_ratio", ref["subgroup"], ref["level"])
        if row is None:
            into.same("one row per subgroup level", at, None)
        elif "or" in result:
            for key in ESTIMATES:
                into.add("odds_ratio", row[key], result["or"][key], f"{at} {key}")
            checked += 1
        else:   # one arm only, or a zero cell (separation): counts and a note, no odds ratio
            into.same("subgroups without an estimate in R: no estimate here, a note", _noted(row), True)
    for name in [n for n in tidy["subgroup"].unique() if n != "overall"]:
        test = (case["tests"] or {}).get(name)
        rows = tidy[tidy["subgroup"] == name]
        if not test:   # R drops a NULL test from its list: no test in R, none here
            into.same("no interaction test where R has none", bool(rows["interaction_p_value"].isna().all()), True)
            continue
        first = rows.iloc[0]
        at = f"{where} {name} interaction"
        into.same("interaction test kind and df (F / LRT, numerator and denominator df)",
                  [first["interaction_test"], int(first["interaction_df"]),
                   None if case["binary"] else int(first["interaction_df_denominator"])],
                  ["LRT" if case["binary"] else "F", test["df"], None if case["binary"] else test["df_denominator"]])
        into.add("interaction", first["interaction_statistic"], test["statistic"], f"{at} statistic")
        into.add("interaction", first["interaction_p_value"], test["p_value"], f"{at} p")
        into.same("one interaction test on every row of the subgroup", int(rows["interaction_p_value"].nunique()), 1)
    return checked


DESCRIPTIONS = {
    "mean_difference": ("differences in means and ANCOVA effects: estimate, SE, t, p, CI (lm)", "SUBGROUP_RTOL"),
    "risk_difference_newcombe": ("risk differences with Newcombe intervals (prop.test Wilson limits)",
                                 "SUBGROUP_RTOL"),
    "risk_difference_wald": ("risk differences with Wald intervals", "SUBGROUP_RTOL"),
    "odds_ratio": ("odds ratios: estimate, SE, z, p, CI (glm binomial)", "SUBGROUP_GLM_RTOL"),
    "interaction": ("treatment x subgroup interaction: statistic and p (anova F of nested lm, LRT of nested glm)",
                    "SUBGROUP_INTERACTION_RTOL"),
}


def _record(rec: Recorder, into: _Collected, source: str) -> None:
    for kind, (what, tolerance) in DESCRIPTIONS.items():
        if kind in into.values:
            ours, theirs, labels = into.values[kind]
            rec.compare(f"{source}: {what}", ours, theirs, rtol=tolerance, atol="SUBGROUP_ATOL", labels=labels)
    for what, (ours, theirs) in into.exact.items():
        rec.equal(f"{source}: {what}", ours, theirs)


def _design_frame(case: dict) -> pd.DataFrame:
    data = case["data"]
    n = len(data["y"])
    y = pd.array([bool(v) for v in data["y"]], dtype="boolean") if case["binary"] else \
        np.asarray(data["y"], dtype=float)
    return pd.DataFrame({"pid": [f"p{i}" for i in range(n)], "y": y, "g": data["g"], "s1": data["s1"],
                         "s2": list(data["s2"]), "x": data["x"]}, index=range(1, n + 1))


def _example_frame() -> pd.DataFrame:
    """The ketamine vs ECT participants with baseline HDRS, change and response at end of course (as R derives them)."""
    folder = Path(str(resources.files("ketastats.datasets").joinpath("ketamine_vs_ect")))
    p = pd.read_csv(folder / "participants.csv")
    r = pd.read_csv(folder / "ratings.csv")
    base = r[r["visit"] == "baseline"].set_index("participant_id")["hdrs17"]
    eot = r[r["visit"] == "eot"].set_index("participant_id")["hdrs17"]
    p["hdrs_baseline"] = p["participant_id"].map(base).astype(float)
    eot_score = p["participant_id"].map(eot).astype(float)
    p["hdrs_change_eot"] = eot_score - p["hdrs_baseline"]
    pct = (eot_score - p["hdrs_baseline"]) / p["hdrs_baseline"] * 100
    p["responder_eot"] = pd.array([None if pd.isna(v) else bool(v <= -50) for v in pct], dtype="boolean")
    p["arm"] = pd.Categorical(p["arm"], categories=["ect", "ketamine"])
    p["sex"] = pd.Categorical(p["sex"], categories=["female", "male"])
    p.index = range(1, len(p) + 1)
    return p


def subgroups(rec: Recorder, ctx: Context) -> None:
    """The ``subgroups`` analysis against lm / anova, glm / LRT and Newcombe / Wald risk differences."""
    from ketastats.analyses import subgroups as analysis
    from ketastats.analyses.base import AnalysisInput

    rec.reference = "subgroups/reference.json"
    ref = read_json("subgroups", "reference.json", ctx.reference)
    designs = _Collected()
    for case in ref["cases"]:
        for ci in (("newcombe", "wald") if case["binary"] and not case["covariate"] else ("newcombe",)):
            spec = analysis.Spec(id="s", type="subgroups", table="t", outcome="y", group="g", levels=["trt", "ref"],
                                 subgroups=["s1", "s2"], covariates=["x"] if case["covariate"] else [], ci=ci)
            tidy = analysis.run(spec, AnalysisInput("s", "t", _design_frame(case), "pid", ["pid"])).tidy
            _collect(designs, tidy, case, case["id"], ci)
    rec.equal("generated designs: number of designs (at least 100)", len(ref["cases"]) >= 100, True)
    _record(rec, designs, f"{len(ref['cases'])} generated designs")
    example = _Collected()
    frame = _example_frame()
    for name, case in ref["example"].items():
        spec = analysis.Spec(id="s", type="subgroups", table="participants", outcome=case["outcome"], group="arm",
                             levels=["ketamine", "ect"], subgroups=["sex", "age", "hdrs_baseline"],
                             cut={"age": [50], "hdrs_baseline": [25]},
                             covariates=["hdrs_baseline"] if case["covariate"] else [])
        result = analysis.run(spec, AnalysisInput("s", "participants", frame, "participant_id", ["participant_id"]))
        tidy = result.tidy.replace({"subgroup": {"age": "age_group", "hdrs_baseline": "severity"}})
        example.same("participants analysed and rows estimated", [int(result.glance["n_rows_used"]),
                                                                   _collect(example, tidy, case, name)],
                     [case["n"], len(case["rows"]) * (2 if case["binary"] else 1)])
    _record(rec, example, "ketamine vs ECT example (sex, age < 50, baseline HDRS < 25)")


# --- contrast_adjust ----------------------------------------------------------------------------

CONTRAST_KEYS = ["design", "df_method", "adjust", "by", "contrast"]


def _contrast_reference(ctx: Context, name: str) -> pd.DataFrame:
    """R's rows (written with ``format(digits = 17)``: padded text, read back as numbers)."""
    frame = pd.read_csv(ctx.reference / "contrast_adjust" / name, dtype=str, keep_default_na=False)
    frame = frame.apply(lambda column: column.str.strip())
    for column in frame.columns:
        if column not in CONTRAST_KEYS:
            frame[column] = pd.to_numeric(frame[column])
    return frame


def _contrast_entries(by: list[str], first) -> list[dict]:
    """All pairwise comparisons with Tukey's adjustment, and each level against the first with Dunnett's."""
    return [{"emmeans": "g" if first is None else first[0], "by": by, "pairwise": True, "adjust": "tukey"},
            {"emmeans": "g" if first is None else first[0], "by": by,
             "versus": "g1" if first is None else first[1], "adjust": "dunnett"}]


def _trial_frame() -> pd.DataFrame:
    """HDRS-17 ratings of the ketamine vs ECT trial with arm (h) and visit (g), as the R script reads them."""
    folder = Path(str(resources.files("ketastats.datasets").joinpath("ketamine_vs_ect")))
    ratings = pd.read_csv(folder / "ratings.csv")
    arms = pd.read_csv(folder / "participants.csv").set_index("participant_id")["arm"]
    frame = pd.DataFrame({"pid": ratings["participant_id"], "visit_id": ratings["visit"],
                         "y": ratings["hdrs17"].astype(float),
                         "h": pd.Categorical(ratings["participant_id"].map(arms), categories=["ect", "ketamine"]),
                         "g": pd.Categorical(ratings["visit"],
                                             categories=["baseline", "tx3", "eot", "m1", "m3", "m6"])})
    frame.index = range(1, len(frame) + 1)   # after building: the columns are aligned on the CSV's row order
    return frame


def _mixed_model_contrasts(design: str, designs: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """The mixed_model contrast rows of one design (the shipped trial, or a generated design), keyed as R's."""
    from ketastats.analyses import mixed_model
    from ketastats.analyses.base import AnalysisInput

    if design == "ketamine_vs_ect":
        frame = _trial_frame().drop(columns="visit_id")
        spec = mixed_model.Spec(id="m", type="mixed_model", table="t", formula="y ~ h * g", random="1 | pid",
                                df_method=["satterthwaite", "kenward_roger"], reference={"h": "ect", "g": "baseline"},
                                contrasts=_contrast_entries(["h"], ("g", "baseline")))
    else:
        info = designs.loc[int(design)]
        rows = data[data["design"] == int(design)]
        frame = pd.DataFrame({"pid": rows["id"], "y": rows["y"].astype(float),
                              "g": pd.Categorical(rows["g"], categories=[f"g{i}" for i in range(1, info["levels"] + 1)
                                                                           ]),
                              "h": pd.Categorical(rows["h"])})
        frame.index = range(1, len(frame) + 1)
        by = info["kind"] == "by"
        spec = mixed_model.Spec(id="m", type="mixed_model", table="t", formula="y ~ g * h" if by else "y ~ g",
                                random="1 | pid", df_method=info["df_methods"].split(";"),
                                contrasts=_contrast_entries(["h"] if by else [], None))
    tidy = mixed_model.run(spec, AnalysisInput("m", "t", frame, "pid", ["pid"])).tidy
    rows = tidy[tidy["effect"] == "contrast"].copy()
    rows["design"], rows["adjust"] = design, rows["adjust_method"]
    rows["by"] = rows["h"].fillna("") if "h" in rows else ""
    return rows


class _Contrasts:
    """Our contrast rows and R's, gathered over designs, compared per quantity with the test suite's tolerances."""

    def __init__(self) -> None:
        self.ours: list[pd.DataFrame] = []
        self.theirs: list[pd.DataFrame] = []

    def add(self, rec: Recorder, ours: pd.DataFrame, theirs: pd.DataFrame, where: str) -> None:
        """One design's rows, matched to R's by design, df method, adjustment, by level and contrast."""
        got, want = ours.set_index(CONTRAST_KEYS), theirs.set_index(CONTRAST_KEYS)
        if sorted(got.index) != sorted(want.index):
            rec.fail(f"{where}: the contrasts R computed", f"ketastats gives {len(got)} rows, R {len(want)} "
                     f"({len(set(want.index) - set(got.index))} of R's missing)")
            return
        self.ours.append(got.loc[want.index])
        self.theirs.append(want)

    def record(self, rec: Recorder, source: str, estimate_rtol: str, se_rtol: str, df_rtol: dict[str, str]) -> None:
        """Estimates, SEs, df as the model tests; adjusted p and critical values against R's precise values and
        against emmeans' printout, each with its tolerance (``CONTRAST_ADJUST_*``, one value per adjustment)."""
        if not self.theirs:
            return
        got, want = pd.concat(self.ours), pd.concat(self.theirs)
        labels = [" ".join(map(str, key)) for key in want.index]
        rec.equal(f"{source}: contrasts (rows) as R", len(got), len(want))
        rec.compare(f"{source}: contrast estimates (emmeans; scale max(|estimate|, SE))", got["estimate"],
                    want["estimate"], rtol=estimate_rtol, scale=np.maximum(np.abs(want["estimate"]), want["std_error"]),
                    labels=labels)
        rec.compare(f"{source}: contrast SEs (emmeans)", got["std_error"], want["std_error"], rtol=se_rtol,
                    labels=labels)
        methods = want.index.get_level_values("df_method")
        for method, tolerance in df_rtol.items():
            mask = np.asarray(methods == method)
            if mask.any():
                rec.compare(f"{source}: {method} df", got["df"][mask], want["df"][mask], rtol=tolerance,
                            labels=np.asarray(labels, dtype=object)[mask])
        critical = (got["conf_high_adjusted"] - got["estimate"]) / got["std_error"]
        critical_emmeans = (want["conf_high_emmeans"] - want["estimate"]) / want["std_error"]
        adjusts = want.index.get_level_values("adjust")
        for adjust, r_name in (("tukey", "ptukey / qtukey"), ("dunnett", "mvtnorm, 4e5 points")):
            mask = np.asarray(adjusts == adjust)
            if not mask.any():
                continue
            where = np.asarray(labels, dtype=object)[mask]
            rec.compare(f"{source}: {adjust} adjusted p vs R's precise values ({r_name})", got["p_adjusted"][mask],
                        want["p_adjusted_precise"][mask], atol=f"CONTRAST_ADJUST_P_ATOL[{adjust}]", labels=where)
            rec.compare(f"{source}: {adjust} simultaneous critical values vs R's precise values ({r_name})",
                        critical[mask], want["crit_precise"][mask], rtol=f"CONTRAST_ADJUST_CRITICAL_RTOL[{adjust}]",
                        labels=where)
            rec.compare(f"{source}: {adjust} adjusted p vs emmeans' printout", got["p_adjusted"][mask],
                        want["p_adjusted_emmeans"][mask], atol=f"CONTRAST_ADJUST_EMMEANS_P_ATOL[{adjust}]",
                        labels=where)
            rec.compare(f"{source}: {adjust} simultaneous critical values vs emmeans' printout", critical[mask],
                        critical_emmeans[mask], rtol=f"CONTRAST_ADJUST_EMMEANS_CRITICAL_RTOL[{adjust}]", labels=where)


def contrast_adjust(rec: Recorder, ctx: Context) -> None:
    """Tukey and Dunnett adjusted contrasts of mixed_model and mmrm against emmeans (lmerTest / pbkrtest, mmrm).

    R: ``pairs(adjust = "tukey")`` and ``contrast("trt.vs.ctrl", adjust = "mvt")`` (the exact Dunnett)
    on the ketamine vs ECT model (visits pairwise and against baseline, by arm; Satterthwaite and
    Kenward-Roger df), on 120 generated designs and on the trial's MMRM. Adjusted p-values and
    simultaneous critical values are compared with R's precise values and with emmeans' printout.
    """
    from ketastats.analyses import mmrm
    from ketastats.analyses.base import AnalysisInput

    rec.reference = "contrast_adjust/contrasts.csv.gz"
    reference = _contrast_reference(ctx, "contrasts.csv.gz")
    designs = pd.read_csv(ctx.reference / "contrast_adjust" / "designs.csv").set_index("design")
    data = pd.read_csv(ctx.reference / "contrast_adjust" / "data.csv.gz")
    df_rtol = {"satterthwaite": "LMM_DESIGN_SATTERTHWAITE_DF_RTOL", "kenward_roger": "LMM_DESIGN_KENWARD_ROGER_DF_RTOL"}
    for name, cases in (("ketamine vs ECT mixed model", ["ketamine_vs_ect"]),
                        (f"{len(designs)} generated designs", [str(d) for d in designs.index])):
        gathered = _Contrasts()
        for design in cases:
            gathered.add(rec, _mixed_model_contrasts(design, designs, data),
                         reference[reference["design"] == design], f"design {design}")
        # as the test suite: SEs within max(CONTRAST_ADJUST_FIT_RTOL, 1e-5) = CONTRAST_ADJUST_FIT_RTOL, df within
        # max(LMM_DESIGN_*_DF_RTOL, CONTRAST_ADJUST_FIT_RTOL) = LMM_DESIGN_*_DF_RTOL
        gathered.record(rec, name, "CONTRAST_ADJUST_FIT_RTOL", "CONTRAST_ADJUST_FIT_RTOL", df_rtol)
    frame = _trial_frame()
    frame = frame[frame["y"].notna()]   # as the R script: rows without a rating are left out
    frame.index = range(1, len(frame) + 1)
    spec = mmrm.Spec(id="m", type="mmrm", table="t", formula="y ~ h * g", visit="g", subject="pid", covariance="us",
                     reference={"h": "ect", "g": "baseline"}, contrasts=_contrast_entries(["h"], ("g", "baseline")))
    tidy = mmrm.run(spec, AnalysisInput("m", "t", frame, "pid", ["pid", "visit_id"])).tidy
    rows = tidy[tidy["effect"] == "contrast"].copy()
    rows["design"], rows["adjust"], rows["by"] = "ketamine_vs_ect_mmrm", rows["adjust_method"], rows["h"]
    rec.reference = "contrast_adjust/mmrm_contrasts.csv.gz"
    gathered = _Contrasts()
    gathered.add(rec, rows, _contrast_reference(ctx, "mmrm_contrasts.csv.gz"), "ketamine vs ECT MMRM")
    # R's us fit (21 covariance parameters) and ours agree to ~1e-5: CONTRAST_ADJUST_FIT_RTOL, as the test suite
    gathered.record(rec, "ketamine vs ECT MMRM (unstructured)", "CONTRAST_ADJUST_FIT_RTOL", "CONTRAST_ADJUST_FIT_RTOL",
                    {"kenward_roger": "MMRM_DF_RTOL"})
