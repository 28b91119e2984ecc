"""Acceptance: `ketastats validate` on a corrupted copy of the Siegel data lists every problem,
with its location, exits 2 and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketastats.api import validate_plan
from ketastats.errors import DataError, PlanError


def ketastats(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ketastats", *args], cwd=cwd, capture_output=True, text=True)


def corrupt(project: Path) -> None:
    path = project / "data" / "clinical.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[2, "madrs"] = "75"                    # out of range (row 3)
    frame.loc[4, "visit"] = "week3"                 # unknown level (row 5)
    frame.loc[6, "madrs"] = "n/a"                   # non-numeric (row 7)
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)  # duplicate participant x visit
    frame.to_csv(path, index=False, lineterminator="\n")
    volumes = pd.read_csv(project / "data" / "volumes.csv", dtype=str, keep_default_na=False)
    volumes.drop(columns=["icv"]).to_csv(project / "data" / "volumes.csv", index=False, lineterminator="\n")


def test_corrupted_data_lists_every_problem_and_writes_nothing(project):
    corrupt(project)
    plan = project / "analysis_plans" / "siegel2021.yaml"
    plan.write_text(plan.read_text().replace('rule: "madrs < 10"', 'rule: "madrs_total < 10"'))
    result = ketastats("validate", "analysis_plans/siegel2021.yaml", "--format", "json", cwd=project)
    assert result.returncode == 2, result.stderr
    issues = json.loads(result.stdout)["issues"]
    found = {(i["code"], i["location"].get("file"), i["location"].get("row"), i["location"].get("column"))
             for i in issues}
    n_rows = len(pd.read_csv(project / "data" / "clinical.csv"))
    assert ("out-of-range", "../data/clinical.csv", 3, "madrs") in found
    assert ("level-not-in-dictionary", "../data/clinical.csv", 5, "visit") in found
    assert ("not-a-number", "../data/clinical.csv", 7, "madrs") in found
    assert ("duplicate-key", "../data/clinical.csv", 1, None) in found
    assert ("duplicate-key", "../data/clinical.csv", n_rows, None) in found
    assert ("missing-column", "../data/volumes.csv", None, "icv") in found
    rule = next(i for i in issues if i["code"] == "unknown-column")
    assert rule["location"]["file"] == "siegel2021.yaml" and rule["location"]["path"].endswith(".rule")
    assert "Traceback" not in result.stderr
    run = ketastats("run", "analysis_plans/siegel2021.yaml", "-q", cwd=project)
    assert run.returncode == 2
    assert "out-of-range" in run.stderr and "Traceback" not in run.stderr
    assert not (project / "reports").exists()


def test_unknown_column_in_rule_is_a_plan_error_with_line(project):
    plan = project / "analysis_plans" / "siegel2021.yaml"
    text = plan.read_text().replace('rule: "madrs < 10"', 'rule: "madrs_total < 10"')
    plan.write_text(text)
    with pytest.raises(PlanError) as caught:
        validate_plan(plan)
    issue = caught.value.issues[0]
    assert issue.code == "unknown-column"
    assert issue.location.file == "siegel2021.yaml"
    assert issue.location.path.startswith("derive[") and issue.location.path.endswith(".rule")
    line = text.splitlines()[issue.location.line - 1]
    assert "madrs_total" in line
    assert "madrs" in (issue.hint or "")
    cli = ketastats("validate", "analysis_plans/siegel2021.yaml", cwd=project)
    assert cli.returncode == 2 and "unknown-column" in cli.stderr
    assert f"siegel2021.yaml:{issue.location.line}" in cli.stderr


def test_names_are_cross_checked(project):
    plan = project / "analysis_plans" / "siegel2021.yaml"
    text = plan.read_text()
    text = text.replace("by: visit\n    ci:", "by: vist\n    ci:", 1)
    text = text.replace("where: \"visit != 'baseline'\"", "where: \"visit != 'basline'\"", 1)
    text = text.replace("population: per_protocol\n    where", "population: per_protocl\n    where", 1)
    plan.write_text(text)
    with pytest.raises(PlanError) as caught:
        validate_plan(plan)
    codes = sorted(issue.code for issue in caught.value.issues)
    assert codes == ["level-not-in-dictionary", "unknown-column", "unknown-population"]
    assert all(issue.location.line for issue in caught.value.issues)


def test_forward_reference_is_explained(project):
    plan = project / "analysis_plans" / "siegel2021.yaml"
    text = plan.read_text().replace('rule: "madrs < 10"', 'rule: "madrs < 10 and responder_2wk"')
    plan.write_text(text)
    with pytest.raises(PlanError) as caught:
        validate_plan(plan)
    assert [i.code for i in caught.value.issues] == ["forward-reference"]


def test_valid_plan_validates(project):
    prepared = validate_plan(project / "analysis_plans" / "siegel2021.yaml")
    assert set(prepared.tables) == {"participants", "clinical", "imaging", "volumes", "controls", "pharmacology",
                                    "connectome_sgacc"}
    assert prepared.tables["clinical"].index[0] == 1


def test_parquet_and_xpt_inputs_give_the_same_validated_table(project):
    import pyreadstat

    csv = pd.read_csv(project / "data" / "volumes.csv")
    csv.to_parquet(project / "data" / "volumes.parquet", index=False)
    pyreadstat.write_xport(csv, str(project / "data" / "volumes.xpt"))
    plan = project / "analysis_plans" / "siegel2021.yaml"
    base = validate_plan(plan).tables["volumes"]
    for suffix in ("parquet", "xpt"):
        plan.write_text(plan.read_text().replace("../data/volumes.csv", f"../data/volumes.{suffix}")
                        .replace("../data/volumes.parquet", f"../data/volumes.{suffix}"))
        other = validate_plan(plan).tables["volumes"]
        pd.testing.assert_frame_equal(other, base, check_dtype=False)


def test_non_utf8_csv_is_reported(project):
    path = project / "data" / "volumes.csv"
    path.write_bytes(path.read_bytes().replace(b"P01", "P\xe901".encode("latin-1")))
    with pytest.raises(DataError) as caught:
        validate_plan(project / "analysis_plans" / "siegel2021.yaml")
    assert caught.value.issues[0].code == "not-utf8"
