"""`ketastats check` notes (does not fail on) software versions that differ from the committed manifest."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from ketastats.report.check import compare_reports, version_notes

ROOT = Path(__file__).resolve().parents[2]


def _manifest(folder: Path, software: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"software": software}), encoding="utf-8")
    return folder


def test_version_notes_list_packages_recorded_on_both_sides_that_differ(tmp_path):
    old = _manifest(tmp_path / "old", {"ketastats": "0.1.0", "pandas": "2.3.3", "lifelines": "0.30.3",
                                       "numpy": "2.4.6"})
    new = _manifest(tmp_path / "new", {"ketastats": "0.1.0", "pandas": "3.1.1", "numpy": "2.4.6",
                                       "pyarrow": "26.0.1"})
    assert version_notes(old, new) == ["pandas 2.3.3 -> 3.1.1"]
    assert version_notes(old, old) == []
    assert version_notes(tmp_path / "none", new) == []


def test_compare_reports_logs_the_note_and_counts_no_drift(tmp_path, caplog):
    old = _manifest(tmp_path / "old", {"pandas": "2.3.3", "scipy": "1.17.1"})
    new = _manifest(tmp_path / "new", {"pandas": "3.1.1", "scipy": "1.17.1"})
    with caplog.at_level(logging.WARNING, logger="ketastats.check"):
        assert compare_reports(old, new) == []
    assert "pandas 2.3.3 -> 3.1.1" in caplog.text and "scipy" not in caplog.text


def test_check_prints_a_note_when_the_manifest_versions_differ(tmp_path):
    """A version difference is a note on stderr, not drift: the exit code stays 0."""
    plan = ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml"
    committed = tmp_path / "committed"
    made = subprocess.run([sys.executable, "-m", "ketastats", "run", str(plan), "--out", str(committed), "--quiet"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((committed / "manifest.json").read_text(encoding="utf-8"))
    manifest["software"]["numpy"] = "1.0.0"
    (committed / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ketastats", "check", str(plan), "--reports", str(committed)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, text
    assert "note: installed versions differ" in text and "numpy 1.0.0 ->" in text
    assert "no drift" in text
