"""The output folder: ketastats never deletes what it did not write (issue 12, items 2, 4 and 8).

A report folder is replaced as a whole on every run (written into a staging folder, then renamed),
so the folder it replaces must be a ketastats report — marked by ``.ketastats-report`` (or, for
reports written before the marker, a ketastats ``manifest.json`` and ``results.json``) — holding only
files ketastats wrote. A folder the user added files to is refused with exit 2 naming them (decided:
refuse, not keep — see docs/safety.md); the output may never be the project root, the plan's folder
or a folder holding the plan's inputs; concurrent runs take turns under a lock; staging folders of
crashed runs are removed by the next run. Everything runs through the command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent / "project"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(PROJECT, folder)
    return folder


def ketastats(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "ketastats", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def set_output(study: Path, value: str) -> None:
    plan = study / "plan.yaml"
    plan.write_text(plan.read_text().replace("output: out", f"output: {value}"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("absolute", [True, False])
def test_output_dot_with_an_unrelated_manifest_deletes_nothing(study, absolute):
    """Issue 12: `output: .` and a manifest.json of someone else in the project root wiped the project."""
    (study / "manifest.json").write_text('{"name": "my web extension"}')
    (study / "NOTES.md").write_text("my notes")
    set_output(study, ".")
    before = snapshot(study)
    plan = str(study / "plan.yaml") if absolute else "plan.yaml"
    done = ketastats("run", plan, "-q", cwd=study)
    assert done.returncode == 2 and "output-holds-inputs" in done.stderr and "plan.yaml:6 output" in done.stderr
    assert snapshot(study) == before
    validated = ketastats("validate", plan, "--format", "json", cwd=study)
    assert validated.returncode == 2
    assert [i["code"] for i in json.loads(validated.stdout)["issues"]] == ["output-holds-inputs"]


def test_a_folder_with_a_foreign_manifest_is_not_a_report(study, tmp_path):
    webext = tmp_path / "webext"
    webext.mkdir()
    (webext / "manifest.json").write_text('{"manifest_version": 3, "name": "extension"}')
    (webext / "background.js").write_text("console.log('keep me')")
    before = snapshot(webext)
    done = ketastats("run", "plan.yaml", "-q", "--out", str(webext), cwd=study)
    assert done.returncode == 2 and "output-not-a-report" in done.stderr
    assert snapshot(webext) == before and not list(tmp_path.glob(".tmp-*"))


def test_files_the_user_added_to_a_report_are_never_deleted(study):
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    out = study / "out"
    marker = json.loads((out / ".ketastats-report").read_text())
    assert marker["ketastats_report"] == 1 and "results.json" in marker["files"]
    (out / "NOTES.md").write_text("reviewer notes")
    (out / "review").mkdir()
    (out / "review" / "comments.txt").write_text("check table 2")
    (out / "tables" / "my_extra.csv").write_text("a,b\n")
    before = snapshot(out)
    done = ketastats("run", "plan.yaml", "-q", cwd=study)
    assert done.returncode == 2 and "output-holds-other-files" in done.stderr
    assert "NOTES.md, review/, tables/my_extra.csv" in done.stderr.replace("\n", "")
    assert snapshot(out) == before
    for extra in ("NOTES.md", "review", "tables/my_extra.csv"):
        shutil.move(out / extra, study / Path(extra).name)
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0


def test_a_report_written_before_the_marker_is_recognised(study):
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    out = study / "out"
    (out / ".ketastats-report").unlink()       # as the reports written by earlier versions
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    (out / ".ketastats-report").unlink()
    (out / "thesis.tex").write_text("keep me")
    done = ketastats("run", "plan.yaml", "-q", cwd=study)
    assert done.returncode == 2 and "thesis.tex" in done.stderr
    assert (out / "thesis.tex").read_text() == "keep me"


@pytest.mark.parametrize("out", [".", "data", ".."])
def test_out_may_not_hold_the_plans_inputs(study, out):
    (study / "data").mkdir()
    shutil.move(study / "scores.csv", study / "data" / "scores.csv")
    plan = study / "plan.yaml"
    plan.write_text(plan.read_text().replace("source: scores.csv", "source: data/scores.csv"))
    before = snapshot(study.parent)
    done = ketastats("run", "plan.yaml", "-q", "--out", out, cwd=study)
    assert done.returncode == 2 and "output-holds-inputs" in done.stderr
    assert snapshot(study.parent) == before


def test_concurrent_runs_into_one_output_take_turns(study):
    processes = [subprocess.Popen([sys.executable, "-m", "ketastats", "run", "plan.yaml", "-q"], cwd=study,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert not [p.name for p in study.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    assert json.loads((study / "out" / ".ketastats-report").read_text())["ketastats_report"] == 1


def test_staging_folders_of_crashed_runs_are_removed(study):
    """`kill -9` during writing leaves .tmp-out-*; the next run (holding the lock) removes those that are its own."""
    crashed = study / ".tmp-out-k9x2"
    (crashed / "tables").mkdir(parents=True)
    (crashed / ".ketastats-staging").write_text("")
    (crashed / "tables" / "y_by_visit.csv").write_text("half a tab")
    empty = study / ".tmp-out-x7k2p9qa"   # killed between creating the staging folder and its marker
    empty.mkdir()
    mine = study / ".tmp-out-mine"        # the user's own folder with a similar name: not ketastats's
    mine.mkdir()
    (mine / "keep.txt").write_text("keep")
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    assert not crashed.exists() and not empty.exists() and (mine / "keep.txt").read_text() == "keep"


def test_a_report_left_aside_by_a_crash_is_put_back(study):
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    (study / "out").rename(study / ".old-out-abc123")   # a crash between the two renames
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    assert (study / "out" / "report.html").is_file()
    assert not [p.name for p in study.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def test_a_real_kill_during_writing_leaves_nothing_behind_after_the_next_run(study):
    """A run killed with SIGKILL at a random point; the next run succeeds and leaves no staging folder."""
    import signal
    import time

    process = subprocess.Popen([sys.executable, "-m", "ketastats", "run", "plan.yaml", "-q"], cwd=study,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".tmp-out-") for p in study.iterdir()):
            break
        time.sleep(0.005)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert ketastats("run", "plan.yaml", "-q", cwd=study).returncode == 0
    assert not [p.name for p in study.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def test_an_unwritable_output_is_a_located_error(study, tmp_path):
    """A parent that cannot hold the folder (a file; /proc; a read-only folder) is exit 2, not an OSError traceback."""
    (tmp_path / "a_file").write_text("")
    for out in (str(tmp_path / "a_file" / "report"), "/proc/ketastats-report"):
        done = ketastats("run", "plan.yaml", "-q", "--out", out, cwd=study)
        assert done.returncode == 2 and "output-not-writable" in done.stderr, done.stderr
    if os.geteuid() != 0:   # root may write anywhere
        locked = tmp_path / "read_only"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            done = ketastats("run", "plan.yaml", "-q", "--out", str(locked / "report"), cwd=study)
            assert done.returncode == 2 and "output-not-writable" in done.stderr
        finally:
            locked.chmod(0o755)
