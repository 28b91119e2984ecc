"""Path safety: sources, dictionaries and output: stay inside the plan's project unless the user
passes --allow-outside-paths (allow_outside=True); see docs/safety.md and ketastats/paths.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ketastats.api import run_plan, validate_plan
from ketastats.errors import PlanError
from ketastats.paths import outside, project_root

PROJECT = Path(__file__).resolve().parent / "project"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/study/{ketastats.toml, analysis_plans/plan.yaml, data/*.csv, dictionaries/*.yaml} and tmp/elsewhere/."""
    study = tmp_path / "study"
    (study / "analysis_plans").mkdir(parents=True)
    (study / "data").mkdir()
    (study / "dictionaries").mkdir()
    (study / "ketastats.toml").write_text("")
    for name in ("scores", "people"):
        shutil.copy(PROJECT / f"{name}.csv", study / "data" / f"{name}.csv")
        shutil.copy(PROJECT / f"{name}.yaml", study / "dictionaries" / f"{name}.yaml")
    text = (PROJECT / "plan.yaml").read_text()
    for name in ("scores", "people"):
        text = text.replace(f"source: {name}.csv", f"source: ../data/{name}.csv")
        text = text.replace(f"dictionary: {name}.yaml", f"dictionary: ../dictionaries/{name}.yaml")
    text = text.replace("output: out", "output: ../reports/safety_demo")
    (study / "analysis_plans" / "plan.yaml").write_text(text)
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(PROJECT / "scores.csv", tmp_path / "elsewhere" / "scores.csv")
    shutil.copy(PROJECT / "scores.yaml", tmp_path / "elsewhere" / "scores.yaml")
    return study


def plan_of(study: Path) -> Path:
    return study / "analysis_plans" / "plan.yaml"


def edit(study: Path, old: str, new: str) -> None:
    path = plan_of(study)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def refused(study: Path) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as caught:
        validate_plan(plan_of(study))
    return [(i.code, i.location.path) for i in caught.value.issues]


# --- what the project is ---------------------------------------------------------------------------

@pytest.mark.parametrize("marker", ["pyproject.toml", ".git", "ketastats.toml"])
def test_project_root_is_the_nearest_folder_with_a_marker(tmp_path, marker):
    plan = tmp_path / "a" / "b" / "plans" / "plan.yaml"
    plan.parent.mkdir(parents=True)
    plan.write_text("")
    assert project_root(plan) == plan.parent  # no marker anywhere above: the plan's folder
    (tmp_path / "a" / marker).mkdir() if marker == ".git" else (tmp_path / "a" / marker).write_text("")
    assert project_root(plan) == Path(os.path.realpath(tmp_path / "a"))


def test_committed_plans_are_inside_this_repository():
    assert project_root(ROOT / "analysis_plans" / "siegel2021.yaml") == Path(os.path.realpath(ROOT))
    assert not outside("../data_dictionary/siegel2021/clinical.yaml", ROOT / "analysis_plans", ROOT)
    assert not outside("../reports/siegel2021", ROOT / "analysis_plans", ROOT)


def test_the_layout_is_valid(layout):
    assert validate_plan(plan_of(layout)).plan.id == "safety_demo"


# --- refused ---------------------------------------------------------------------------------------

def test_absolute_source_outside_is_refused(layout):
    edit(layout, "source: ../data/scores.csv", f"source: {layout.parent / 'elsewhere' / 'scores.csv'}")
    assert refused(layout) == [("path-outside-project", "data.scores.source")]


def test_dotdot_beyond_the_project_is_refused(layout):
    edit(layout, "source: ../data/scores.csv", "source: ../../elsewhere/scores.csv")
    edit(layout, "dictionary: ../dictionaries/scores.yaml", "dictionary: ../../elsewhere/scores.yaml")
    assert refused(layout) == [("path-outside-project", "data.scores.source"),
                               ("path-outside-project", "data.scores.dictionary")]


def test_dotdot_that_comes_back_inside_is_allowed(layout):
    edit(layout, "source: ../data/scores.csv", "source: ../../study/data/../data/scores.csv")
    assert validate_plan(plan_of(layout)).tables["scores"].shape[0] == 24


def test_symlink_to_a_file_outside_is_refused(layout):
    link = layout / "data" / "scores.csv"
    link.unlink()
    link.symlink_to(layout.parent / "elsewhere" / "scores.csv")
    assert refused(layout) == [("path-outside-project", "data.scores.source")]


def test_symlinked_folder_pointing_outside_is_refused(layout):
    (layout / "linked").symlink_to(layout.parent / "elsewhere", target_is_directory=True)
    edit(layout, "dictionary: ../dictionaries/scores.yaml", "dictionary: ../linked/scores.yaml")
    assert refused(layout) == [("path-outside-project", "data.scores.dictionary")]


def test_symlink_inside_the_project_is_allowed(layout):
    link = layout / "data" / "scores_link.csv"
    link.symlink_to(layout / "data" / "scores.csv")
    edit(layout, "source: ../data/scores.csv", "source: ../data/scores_link.csv")
    validate_plan(plan_of(layout))


def test_output_outside_the_project_is_refused_before_anything_runs(layout):
    edit(layout, "output: ../reports/safety_demo", "output: ../../elsewhere/report")
    with pytest.raises(PlanError) as caught:
        run_plan(plan_of(layout))
    issue = caught.value.issues[0]
    assert (issue.code, issue.location.file, issue.location.path) == ("path-outside-project", "plan.yaml", "output")
    assert issue.location.line == 6
    assert not (layout.parent / "elsewhere" / "report").exists()


def test_refused_paths_are_not_read(layout):
    """The path check comes first: an outside dictionary that is not even YAML is never opened."""
    (layout.parent / "elsewhere" / "broken.yaml").write_text("a: [\n")
    edit(layout, "dictionary: ../dictionaries/scores.yaml", "dictionary: ../../elsewhere/broken.yaml")
    assert refused(layout) == [("path-outside-project", "data.scores.dictionary")]


def test_without_a_marker_the_project_is_the_plans_folder(layout):
    (layout / "ketastats.toml").unlink()
    if project_root(plan_of(layout)) != plan_of(layout).parent:
        pytest.skip("a folder above the temporary directory is marked as a project")
    codes = refused(layout)
    assert ("path-outside-project", "data.scores.source") in codes and len(codes) == 5


# --- allowed on request ----------------------------------------------------------------------------

def test_allow_outside_lifts_the_rule(layout, tmp_path):
    edit(layout, "source: ../data/scores.csv", "source: ../../elsewhere/scores.csv")
    edit(layout, "output: ../reports/safety_demo", "output: ../../elsewhere/report")
    result = run_plan(plan_of(layout), allow_outside=True)
    assert result.exit_code == 0 and (tmp_path / "elsewhere" / "report" / "report.html").is_file()


def test_cli_flag(layout, tmp_path):
    edit(layout, "source: ../data/scores.csv", "source: ../../elsewhere/scores.csv")
    cli = [sys.executable, "-m", "ketastats"]
    plan = str(plan_of(layout))
    refused_run = subprocess.run([*cli, "validate", plan], capture_output=True, text=True)
    assert refused_run.returncode == 2 and "path-outside-project" in refused_run.stderr
    assert "plan.yaml:8 data.scores.source" in refused_run.stderr and "Traceback" not in refused_run.stderr
    allowed = subprocess.run([*cli, "run", plan, "-q", "--allow-outside-paths"], capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr
    assert (layout / "reports" / "safety_demo" / "report.html").is_file()


def test_explicit_out_is_the_users_choice(layout, tmp_path):
    """--out (or run_plan(out=...)) may be anywhere: the user named it on the command line."""
    out = tmp_path / "elsewhere" / "chosen"
    done = subprocess.run([sys.executable, "-m", "ketastats", "run", str(plan_of(layout)), "-q", "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "manifest.json").is_file()


def test_packaged_sources_are_always_allowed(layout):
    from ketastats.errors import DataError

    edit(layout, "source: ../data/scores.csv", "source: 'ketastats:siegel2021/clinical.csv'")
    with pytest.raises(DataError) as caught:  # read (it does not fit this dictionary), not refused
        validate_plan(plan_of(layout))
    assert {i.location.file for i in caught.value.issues} == {"ketastats:siegel2021/clinical.csv"}
