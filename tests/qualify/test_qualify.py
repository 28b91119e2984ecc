"""``ketastats qualify`` (issue 17): the reference suite shipped with the package, its report, and its
integrity rules (a changed reference value, a loosened tolerance and an uncovered folder are caught).

The full run (every requirement, about a minute) is done once per module; the tampering tests
run one quick requirement on a temporary copy of the reference folder.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketastats.cli.app import app
from ketastats.qualify import NOT_YET_COVERED, REQUIREMENTS, TOLERANCE_BOUNDS, reference_folders, run_qualification
from ketastats.qualify.sources import current_hashes, recorded_hashes, reference_root, tracked_files

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("qualification")
    result = CliRunner().invoke(app, ["qualify", "--out", str(out)], catch_exceptions=False)
    return result, out


def test_in_the_repository_the_suite_reads_tests_reference():
    assert reference_root() == REFERENCE


def test_recorded_hashes_match_the_reference_files():
    """Re-running an R script changes a reference file: record it with `python -m ketastats.qualify`."""
    recorded, current = recorded_hashes(), current_hashes(REFERENCE, {r.folder for r in REQUIREMENTS})
    hint = ("tests/reference differs from ketastats/qualify/reference_sha256.json; if the change is intended, "
            "run `python -m ketastats.qualify` and commit the new hashes")
    assert {name: current.get(name) for name in recorded} == recorded, hint
    tracked = tracked_files(REFERENCE)
    if tracked is not None:   # every committed file of a qualified folder is recorded
        assert {name for name in current if name in tracked} <= set(recorded), hint


def test_documented_bounds_equal_tolerances_py(tolerances):
    """A bound is the tolerance's documented value: changing a tolerance means changing its bound, on purpose."""
    values = {name: value for name, value in vars(tolerances).items() if re.fullmatch(r"[A-Z][A-Z0-9_]+", name)}
    assert {name: values.get(name) for name in TOLERANCE_BOUNDS} == TOLERANCE_BOUNDS


def test_every_reference_folder_has_a_requirement():
    covered = {r.folder for r in REQUIREMENTS}
    missing = set(reference_folders(REFERENCE)) - covered - set(NOT_YET_COVERED)
    assert not missing, f"add a Requirement in ketastats/qualify/__init__.py for: {sorted(missing)}"
    assert not covered & set(NOT_YET_COVERED)


def test_full_qualification_passes_and_writes_html_and_json(full_run):
    result, out = full_run
    assert result.exit_code == 0, result.output
    report = json.loads((out / "qualification.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    assert summary["status"] == "pass" and summary["passed"] == summary["requirements"] == len(REQUIREMENTS)
    assert summary["checks"] > 1000 and summary["values"] > 40000
    assert summary["seconds"] > 0   # its time is reported (measured by benchmarks, not asserted here)
    for requirement in report["requirements"]:
        assert requirement["status"] == "pass" and requirement["n_checks"] > 0
        assert requirement["tolerances"] and requirement["provenance"]["script"].endswith("make_reference.R")
        assert requirement["provenance"]["R_version"].startswith("R version")
        assert 0 <= requirement["max_share_of_tolerance"] <= 1
        assert set(requirement["tolerances"]) <= set(TOLERANCE_BOUNDS)   # every tolerance used has a bound
    environment = report["environment"]
    assert environment["python"] and environment["platform"] and environment["software"]["numpy"]
    files = {f["file"]: f for f in report["reference_files"]}
    assert files["tolerances.py"]["state"] == "bounds checked" and len(files["p_adjust/p_adjust.json"]["sha256"]) == 64
    assert {f["state"] for f in report["reference_files"]} <= {"ok", "not qualified", "bounds checked", "not recorded"}
    page = (out / "qualification.html").read_text(encoding="utf-8")
    assert "Qualification <strong>PASS</strong>" in page and "lmerTest" in page and "<script" not in page
    assert "requirements passed" in result.output


def _copy_reference(tmp_path: Path) -> Path:
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_tampered_reference_value_fails(tmp_path):
    copy = _copy_reference(tmp_path)
    path = copy / "p_adjust" / "p_adjust.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    case = next(c for c in document["cases"] if c["method"] == "holm" and c["adjusted"][0] is not None)
    case["adjusted"][0] = case["adjusted"][0] * 1.001
    path.write_text(json.dumps(document), encoding="utf-8")
    report = run_qualification(None, only=["p_adjust"], root=copy)
    requirement = report["requirements"][0]
    assert report["summary"]["status"] == "fail" and requirement["status"] == "fail"
    assert "outside tolerance" in requirement["reason"] and "SHA-256" in requirement["reason"]
    assert any("p_adjust/p_adjust.json is changed" in p for p in report["summary"]["reference_problems"])


def test_a_changed_file_fails_even_when_values_still_agree(tmp_path):
    copy = _copy_reference(tmp_path)
    script = copy / "proportions" / "make_reference.R"
    script.write_text(script.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    report = run_qualification(None, only=["proportions"], root=copy)
    assert report["summary"]["status"] == "fail"
    assert report["requirements"][0]["status"] == "fail" and "SHA-256" in report["requirements"][0]["reason"]


def test_a_loosened_tolerance_fails(tmp_path):
    copy = _copy_reference(tmp_path)
    path = copy / "tolerances.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("P_ADJUST_ATOL = 1e-8", "P_ADJUST_ATOL = 1e-2"), encoding="utf-8")
    report = run_qualification(None, only=["p_adjust"], root=copy)
    assert report["summary"]["status"] == "fail"
    assert any("P_ADJUST_ATOL" in p for p in report["summary"]["tolerance_problems"])
    assert "looser than documented: P_ADJUST_ATOL" in report["requirements"][0]["reason"]


def test_cli_exits_1_on_failure(tmp_path, monkeypatch):
    import ketastats.qualify as qualify

    def failing(rec, ctx):
        rec.compare("a deliberately wrong value", [1.0], [2.0], rtol="P_ADJUST_ATOL")

    monkeypatch.setattr(qualify, "REQUIREMENTS", [qualify.Requirement("broken", "a broken requirement", "p_adjust",
                                                                      failing)])
    result = CliRunner().invoke(app, ["qualify", "--out", str(tmp_path / "q")], catch_exceptions=False)
    assert result.exit_code == 1 and "FAIL broken" in result.output
    assert (tmp_path / "q" / "qualification.html").is_file()
