"""A singular mixed model is a warning in results.json and report.html (the plan completes, exit 0);
a model that cannot be fitted is a failed analysis (the others are written, exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

PLAN = """ketastats: 1
id: warnings_demo
title: Singular and failing models (synthetic)
synthetic_data: true
subject: pid
output: out
data:
  scores: {source: scores.csv, dictionary: scores.yaml}
analyses:
  - id: singular_model
    type: mixed_model
    table: scores
    formula: "y ~ x"
    random: "1 | pid"
  - id: descriptive
    type: descriptives
    table: scores
    outcome: y
"""

DICTIONARY = """table: scores
description: synthetic scores
key: [pid, x]
columns:
  pid: {type: string}
  x: {type: number}
  y: {type: number}
"""


def make_project(folder: Path, constant: bool = False) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"pid": np.repeat([f"s{i:02d}" for i in range(12)], 4), "x": np.tile(np.arange(4.0), 12)})
    e = rng.normal(size=48)
    # every participant has the same mean: the REML random-intercept variance is 0 (lme4: isSingular TRUE)
    frame["y"] = 10 + e - pd.Series(e).groupby(frame["pid"]).transform("mean").to_numpy()
    if constant:
        frame["y"] = 3.0
    frame.to_csv(folder / "scores.csv", index=False, float_format="%.10g")
    (folder / "scores.yaml").write_text(DICTIONARY)
    (folder / "plan.yaml").write_text(PLAN)
    return folder / "plan.yaml"


def run(plan: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ketastats", "run", str(plan), "-q"], capture_output=True, text=True)


def test_singular_fit_is_a_warning_and_the_plan_completes(tmp_path):
    result = run(make_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "singular-fit" in result.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    model = next(a for a in document["analyses"] if a["id"] == "singular_model")
    assert model["status"] == "ok" and model["glance"]["singular"] is True
    assert [i["code"] for i in model["issues"]] == ["singular-fit"]
    assert "singular fit" in (tmp_path / "out" / "report.html").read_text()


def test_model_that_cannot_be_fitted_fails_alone(tmp_path):
    result = run(make_project(tmp_path, constant=True))
    assert result.returncode == 1
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    status = {a["id"]: a["status"] for a in document["analyses"]}
    assert status == {"singular_model": "failed", "descriptive": "ok"}
    assert (tmp_path / "out" / "tables" / "descriptive.csv").is_file()
    assert not (tmp_path / "out" / "tables" / "singular_model.csv").exists()
    failed = next(a for a in document["analyses"] if a["id"] == "singular_model")
    assert failed["issues"][0]["code"] == "zero-variance"
    assert "failed" in (tmp_path / "out" / "report.html").read_text()
