"""What the report's files say (issue 12, item 10), through the command line: text cells that a
spreadsheet would run as a formula are neutralised in the CSV files (numbers never), ``ketastats
check`` says which files it compares, and ``paired_ttest``'s ``n`` counts pairs as documented."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "project"


def ketastats(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "ketastats", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_text_cells_starting_like_a_formula_are_neutralised(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(PROJECT, study)
    levels = {"v0": "=HYPERLINK(\"http://x\")", "v1": "+v1", "v2": "-v2"}
    dictionary = (study / "scores.yaml").read_text()
    assert "levels: [v0, v1, v2]" in dictionary
    (study / "scores.yaml").write_text(dictionary.replace(
        "levels: [v0, v1, v2]", "levels: [" + ", ".join(json.dumps(v) for v in levels.values()) + "]"))
    data = (study / "scores.csv").read_text()
    for old, new in levels.items():
        data = data.replace(f",{old},", f",\"{new.replace(chr(34), chr(34) * 2)}\",")
    (study / "scores.csv").write_text(data)
    plan = (study / "plan.yaml").read_text().replace("baseline: {visit: v0}", "baseline: {visit: '-v2'}")
    (study / "plan.yaml").write_text(plan)
    done = ketastats("run", "plan.yaml", "-q", cwd=study)
    assert done.returncode == 0, done.stderr
    table = rows(study / "out" / "tables" / "y_by_visit.csv")
    assert [row["visit"] for row in table] == ["'=HYPERLINK(\"http://x\")", "'+v1", "'-v2"]
    numbers = [float(row["mean"]) for row in table]          # numbers are untouched
    assert all(not row["mean"].startswith("'") for row in table) and numbers
    document = json.loads((study / "out" / "results.json").read_text())
    assert [row["visit"] for row in document["analyses"][0]["tidy"]] == list(levels.values())


def test_check_says_what_it_does_not_compare(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(PROJECT, study)
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    results = study / "out" / "results.json"
    results.write_text(results.read_text().replace('"ok"', '"edited"', 1))
    done = ketastats("check", "plan.yaml", cwd=study)
    assert done.returncode == 0
    assert "not compared: results.json, manifest.json" in done.stderr.replace("\n", " ")
    assert "an edit to those is not detected" in done.stderr.replace("\n", " ")


def test_paired_ttest_n_counts_pairs(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(PROJECT, study)
    plan = (study / "plan.yaml").read_text().rstrip("\n") + (
        "\n  - {id: y_v1_v0, type: paired_ttest, table: scores, outcome: y, pair_by: visit, levels: [v1, v0]}\n")
    (study / "plan.yaml").write_text(plan)
    done = ketastats("run", "plan.yaml", "-q", cwd=study)
    assert done.returncode == 0, done.stderr
    row = rows(study / "out" / "tables" / "y_v1_v0.csv")[0]
    document = json.loads((study / "out" / "results.json").read_text())
    analysis = next(a for a in document["analyses"] if a["id"] == "y_v1_v0")
    assert row["n"] == row["n_subjects"]                          # pairs, as R's t.test
    assert analysis["glance"]["n_rows_used"] == 2 * int(row["n"])   # the rows: 2 per pair
    docs = (Path(__file__).resolve().parents[2] / "docs" / "plan_language.md").read_text()
    assert "In `paired_ttest` `n`\ncounts **pairs**" in docs
