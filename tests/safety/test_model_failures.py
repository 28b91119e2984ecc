"""Model-level failures are data, not crashes: each condition gives a failed (or warned) analysis in
results.json and report.html with its reason, the other analyses complete, and `ketastats run`
exits 1 when an analysis failed.

One plan holds an analysis per condition and healthy ones beside them; it is run once through
the command line (a subprocess, as a user runs it). Non-convergence cannot be provoked reliably
with data, so it is simulated in-process by making the optimiser report failure.

The expected matrix (condition → status, issue code) is EXPECTED below; docs/safety.md lists it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def make_project(folder: Path) -> Path:
    """Three tables and one analysis per failure condition (plus healthy ones); returns the plan."""
    rng = np.random.default_rng(7)
    pids = [f"s{i:02d}" for i in range(12)]
    scores = pd.DataFrame({"pid": np.repeat(pids, 4), "visit": np.tile(["v0","v1","v2","v3"], 12),
                           "x": np.tile(np.arange(4.0), 12)})
    e = rng.normal(size=48)
    scores["y"] = 20 + scores["x"] + rng.normal(size=12).repeat(4) * 3 + e
    scores["y_singular"] = 10 + e - pd.Series(e).groupby(scores["pid"]).transform("mean").to_numpy()
    scores["y_const"] = 5.0
    scores["y_flat"] = np.repeat(rng.normal(20, 3, 12).round(1), 4)  # same value at every visit
    scores.to_csv(folder / "scores.csv", index=False, float_format="%.10g")
    people = pd.DataFrame({"pid": pids, "arm": ["ketamine"]*6 + ["placebo"]*6,
                           "age": [20,22,25,27,30,33,41,45,50,55,60,62],
                           "const": [7.0]*12, "w": rng.normal(size=12).round(3)})
    people["completed"] = people["age"] < 35
    people["single"] = ["a"] + ["b"]*11
    people.to_csv(folder / "people.csv", index=False)
    follow = pd.DataFrame({"pid": pids, "arm": people["arm"], "time": [10,20,30,40,50,60,15,25,35,45,55,65]})
    follow["event"] = [1,1,0,1,1,0, 0,0,0,0,0,0]
    follow["no_event"] = 0
    follow.to_csv(folder / "followup.csv", index=False)
    (folder / "scores.yaml").write_text("""table: scores
key: [pid, visit]
columns:
  pid: {type: string}
  visit: {type: category, levels: [v0, v1, v2, v3], ordered: true}
  x: {type: number}
  y: {type: number}
  y_singular: {type: number}
  y_const: {type: number}
  y_flat: {type: number}
""")
    (folder / "people.yaml").write_text("""table: people
key: [pid]
columns:
  pid: {type: string}
  arm: {type: category, levels: [ketamine, placebo]}
  age: {type: integer}
  const: {type: number}
  w: {type: number}
  completed: {type: boolean}
  single: {type: category, levels: [a, b]}
""")
    (folder / "followup.yaml").write_text("""table: followup
key: [pid]
columns:
  pid: {type: string}
  arm: {type: category, levels: [ketamine, placebo]}
  time: {type: number, min: 0}
  event: {type: boolean}
  no_event: {type: boolean}
""")
    (folder / "ketastats.toml").write_text("")
    (folder / "plan.yaml").write_text("""ketastats: 1
id: model_failures
title: Model-level failures (synthetic)
synthetic_data: true
subject: pid
output: out
seed: 1
data:
  scores: {source: scores.csv, dictionary: scores.yaml}
  people: {source: people.csv, dictionary: people.yaml}
  followup: {source: followup.csv, dictionary: followup.yaml}
analyses:
  - {id: healthy_model, type: mixed_model, table: scores, formula: "y ~ x", random: "1 | pid"}
  - {id: singular_model, type: mixed_model, table: scores, formula: "y_singular ~ x", random: "1 | pid"}
  - {id: constant_model, type: mixed_model, table: scores, formula: "y_const ~ x", random: "1 | pid"}
  - {id: separation, type: regression, table: people, formula: "completed ~ age", family: binomial}
  - {id: cox_no_events, type: cox, table: followup, covariates: arm, event: no_event}
  - {id: cox_group_no_events, type: cox, table: followup, covariates: arm}
  - {id: logrank_group_no_events, type: logrank, table: followup, by: arm}
  - {id: logrank_no_events, type: logrank, table: followup, by: arm, event: no_event}
  - {id: km_no_events, type: kaplan_meier, table: followup, by: arm, event: no_event}
  - {id: ttest_zero_variance, type: ttest, table: people, outcome: const, group: arm}
  - {id: ttest_single, type: ttest, table: people, outcome: age, group: single}
  - {id: ttest_single_student, type: ttest, table: people, outcome: age, group: single, method: student}
  - {id: correlation_zero_variance, type: correlation, table: people, outcome: const, x: age}
  - {id: spearman_zero_variance, type: correlation, table: people, outcome: const, x: age, method: spearman}
  - {id: paired_zero_variance, type: paired_ttest, table: scores, outcome: y_flat, pair_by: visit, levels: [v1, v0]}
  - {id: paired_ttest_in_ttest, type: ttest, table: scores, outcome: y_flat, within: visit, levels: [v1, v0],
     method: paired}
  - {id: rm_anova_zero_variance, type: rm_anova, table: scores, outcome: y_flat, within: visit}
  - {id: ols_constant, type: regression, table: people, formula: "const ~ age"}
  - {id: descriptive, type: descriptives, table: people, outcome: age}
""")
    return folder / "plan.yaml"

EXPECTED = {  # analysis id → (status, issue code, severity); None: no issue
    "healthy_model": ("ok", None, None),
    "singular_model": ("ok", "singular-fit", "warning"),                   # lme4: "boundary (singular) fit"
    "constant_model": ("failed", "zero-variance", "error"),
    "separation": ("failed", "model-not-estimable", "error"),              # perfect separation, logistic
    "cox_no_events": ("failed", "no-events", "error"),
    "cox_group_no_events": ("ok", "infinite-coefficient", "warning"),      # R: "Loglik converged before ..."
    "logrank_group_no_events": ("ok", None, None),                         # the test is defined
    "logrank_no_events": ("ok", "no-events", "warning"),                   # counts only, no test (R: chisq 0)
    "km_no_events": ("ok", "no-events", "warning"),                        # S(t) = 1, median not reached
    "ttest_zero_variance": ("failed", "zero-variance", "error"),           # R: "data are essentially constant"
    "ttest_single": ("failed", "too-few-observations", "error"),
    "ttest_single_student": ("failed", "too-few-observations", "error"),
    "correlation_zero_variance": ("failed", "zero-variance", "error"),
    "spearman_zero_variance": ("failed", "zero-variance", "error"),
    "paired_zero_variance": ("failed", "zero-variance", "error"),
    "paired_ttest_in_ttest": ("failed", "zero-variance", "error"),
    "rm_anova_zero_variance": ("failed", "zero-variance", "error"),        # was F = 796, p = 8e-31 from rounding
    "ols_constant": ("failed", "zero-variance", "error"),                  # was t = 1e16, p = 3e-157
    "descriptive": ("ok", None, None),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model_failures")
    plan = make_project(folder)
    done = subprocess.run([sys.executable, "-m", "ketastats", "run", str(plan), "-q"], capture_output=True,
                          text=True, timeout=600)
    document = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    html = (folder / "out" / "report.html").read_text(encoding="utf-8")
    return done, document, html, folder / "out"


def test_run_exits_1_without_a_traceback(outcome):
    done, document, _html, _out = outcome
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    failed = [name for name, (status, _, _) in EXPECTED.items() if status == "failed"]
    assert sorted(document["failed"]) == sorted(failed)
    for name in failed:
        assert f"{name}: error:" in " ".join(done.stderr.split())


@pytest.mark.parametrize("analysis", list(EXPECTED))
def test_each_condition_is_reported_with_its_reason(outcome, analysis):
    _done, document, html, out = outcome
    status, code, severity = EXPECTED[analysis]
    result = next(a for a in document["analyses"] if a["id"] == analysis)
    assert result["status"] == status
    if code is None:
        assert result["issues"] == []
    else:
        found = [i for i in result["issues"] if i["code"] == code]
        assert found and found[0]["severity"] == severity and found[0]["message"], result["issues"]
        assert code in html
    table = out / "tables" / f"{analysis}.csv"
    assert table.is_file() == (status == "ok")
    assert analysis in html


def test_non_convergence_is_a_warning_with_the_optimiser_message(tmp_path, monkeypatch):
    """lme4 returns a fit that did not converge with a warning; so does mixed_model (status ok, issue
    not-converged with the optimiser's message, in results.json and the report)."""
    from ketastats.api import run_plan
    from ketastats.stats import lmm

    plan = make_project(tmp_path)
    optimise = lmm._optimise

    def not_converged(*args, **kwargs):
        theta, _ok, _message = optimise(*args, **kwargs)
        return theta, False, "L-BFGS-B: STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"

    monkeypatch.setattr(lmm, "_optimise", not_converged)
    result = run_plan(plan, out=tmp_path / "report")
    model = result.results["healthy_model"]
    assert model.status == "ok"
    issue = next(i for i in model.issues if i.code == "not-converged")
    assert issue.severity == "warning" and "ITERATIONS REACHED LIMIT" in issue.message
    document = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    stored = next(a for a in document["analyses"] if a["id"] == "healthy_model")
    assert stored["glance"]["converged"] is False
    assert "not-converged" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
