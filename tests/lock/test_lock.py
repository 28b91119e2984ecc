"""``ketastats lock``, ``check --locked``, ``require_lock`` and the prespecification status of a run (issue 17).

A small two-analysis plan on the Siegel tables (a copy of the project in a temporary folder): lock
it, edit one analysis key, and check that run / check / the report / results.json all say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketastats.cli.app import app
from ketastats.lock import canonical_sha256, lock_path, plan_deviations, read_lock

PLAN = """\
ketastats: 1
id: locktest
title: Lock test
synthetic_data: true
subject: participant_id
seed: 7
{extra}
data:
  participants: {{source: ../data/participants.csv, dictionary: ../data_dictionary/siegel2021/participants.yaml}}
  clinical: {{source: ../data/clinical.csv, dictionary: ../data_dictionary/siegel2021/clinical.yaml}}

analyses:
  - id: madrs_by_visit
    type: descriptives
    title: MADRS by visit
    table: clinical
    outcome: madrs
    by: visit
  - id: madrs_day1
    type: paired_ttest
    title: MADRS day 1 vs baseline
    table: clinical
    outcome: madrs
    pair_by: visit
    levels: [day1, baseline]
"""

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def plan(project: Path) -> Path:
    path = project / "analysis_plans" / "locktest.yaml"
    path.write_text(PLAN.format(extra=""), encoding="utf-8")
    return path


def test_lock_file_is_deterministic_and_records_the_plan(plan: Path):
    result = _invoke("lock", str(plan), "--date", "2026-11-30", "--note", "SAP v1", "--data", "clinical")
    assert result.exit_code == 0, result.output
    first = lock_path(plan).read_bytes()
    assert _invoke("lock", str(plan), "--date", "2026-11-30", "--note", "SAP v1", "--data", "clinical").exit_code == 0
    assert lock_path(plan).read_bytes() == first
    lock = read_lock(lock_path(plan))
    assert lock["locked_at"] == "2026-11-30" and lock["note"] == "SAP v1"
    assert sorted(lock["analyses"]) == ["madrs_by_visit", "madrs_day1"]
    assert set(lock["dictionaries"]) == {"participants", "clinical"} and set(lock["data"]) == {"clinical"}
    assert lock["software"]["ketastats"] and lock["plan"]["file"] == "locktest.yaml"
    assert len(lock["plan"]["sha256"]) == 64 and len(lock["plan"]["canonical_sha256"]) == 64


def test_reformatting_and_comments_are_not_deviations(plan: Path):
    assert _invoke("lock", str(plan), "--date", "2026-11-30").exit_code == 0
    text = plan.read_text(encoding="utf-8")
    # comments, blank lines, flow style instead of block style, key order, and a default written out
    reformatted = "# Statistical analysis plan, v1 (a comment)\n\n" + text.replace(
        "  - id: madrs_by_visit\n    type: descriptives\n    title: MADRS by visit\n    table: clinical\n"
        "    outcome: madrs\n    by: visit\n",
        "  - {type: descriptives, id: madrs_by_visit,   # inline comment\n"
        "     table: clinical, title: 'MADRS by visit', outcome: [madrs], by: visit}\n").replace(
        "seed: 7\n", "seed: 7   # the seed\nrequire_lock: false\n")
    assert reformatted != text
    plan.write_text(reformatted, encoding="utf-8")
    result = _invoke("check", str(plan), "--locked")
    assert result.exit_code == 0, result.output
    assert "matches the lock of 2026-11-30" in result.output


def test_an_edited_key_is_a_deviation_everywhere(plan: Path, tmp_path: Path):
    assert _invoke("lock", str(plan), "--date", "2026-11-30").exit_code == 0
    plan.write_text(PLAN.format(extra="").replace("levels: [day1, baseline]",
                                                  "levels: [day1, baseline]\n    conf_level: 0.9"), encoding="utf-8")
    check = _invoke("check", str(plan), "--locked")
    assert check.exit_code == 1
    assert "deviates from the prespecified plan" in check.output
    assert "analysis 'madrs_day1': conf_level changed from 0.95 to 0.9" in check.output

    out = tmp_path / "report"
    result = _invoke("run", str(plan), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert "analysis 'madrs_day1': conf_level changed from 0.95 to 0.9" in result.output   # the terminal
    block = json.loads((out / "results.json").read_text(encoding="utf-8"))["prespecification"]
    assert block["state"] == "deviates" and block["locked_at"] == "2026-11-30"
    assert block["deviations"] == [{"scope": "madrs_day1", "kind": "changed", "key": "conf_level",
                                    "old": 0.95, "new": 0.9}]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "deviates from the prespecified plan" in html and "<code>conf_level</code>" in html
    assert "id='deviation'" in html    # the banner
    for table in (out / "tables").glob("*.csv"):   # the lock's date never reaches the tables
        assert "2026-11-30" not in table.read_text(encoding="utf-8")


def test_matching_run_says_so_and_tables_do_not_change(plan: Path, tmp_path: Path):
    _invoke("run", str(plan), "--out", str(tmp_path / "before"), "--quiet")
    assert _invoke("lock", str(plan), "--date", "2026-11-30").exit_code == 0
    result = _invoke("run", str(plan), "--out", str(tmp_path / "after"), "--quiet")
    assert result.exit_code == 0 and "matches the lock of 2026-11-30 (plan sha" in result.output
    html = (tmp_path / "after" / "report.html").read_text(encoding="utf-8")
    assert "matches the lock of 2026-11-30" in html and "id='deviation'" not in html
    for table in sorted((tmp_path / "before" / "tables").glob("*.csv")):
        assert (tmp_path / "after" / "tables" / table.name).read_bytes() == table.read_bytes()


def test_require_lock_refuses_unless_allowed(plan: Path, tmp_path: Path):
    plan.write_text(PLAN.format(extra="require_lock: true"), encoding="utf-8")
    unlocked = _invoke("run", str(plan), "--out", str(tmp_path / "a"), "--quiet")
    assert unlocked.exit_code == 2 and "plan-not-locked" in unlocked.output
    assert _invoke("lock", str(plan), "--date", "2026-11-30").exit_code == 0
    assert _invoke("run", str(plan), "--out", str(tmp_path / "b"), "--quiet").exit_code == 0
    edited = PLAN.format(extra="require_lock: true").replace("    by: visit", "    by: visit\n    where: madrs > 0")
    plan.write_text(edited, encoding="utf-8")
    refused = _invoke("run", str(plan), "--out", str(tmp_path / "c"), "--quiet")
    assert refused.exit_code == 2 and "plan-deviates-from-lock" in refused.output
    assert not (tmp_path / "c").exists()
    allowed = _invoke("run", str(plan), "--out", str(tmp_path / "c"), "--quiet", "--allow-deviation")
    assert allowed.exit_code == 0, allowed.output
    html = (tmp_path / "c" / "report.html").read_text(encoding="utf-8")
    assert "This run deviates from the prespecified plan (run with --allow-deviation)" in html
    block = json.loads((tmp_path / "c" / "results.json").read_text(encoding="utf-8"))["prespecification"]
    assert block["allowed_deviation"] and block["require_lock"]
    assert {"scope": "madrs_by_visit", "kind": "changed", "key": "where", "old": None,
            "new": "madrs > 0"} in block["deviations"]


def test_locked_data_and_dictionary_changes_are_deviations(plan: Path, project: Path):
    assert _invoke("lock", str(plan), "--date", "2026-11-30", "--data", "clinical").exit_code == 0
    data = project / "data" / "clinical.csv"
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    dictionary = project / "data_dictionary" / "siegel2021" / "participants.yaml"
    dictionary.write_text(dictionary.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    result = _invoke("check", str(plan), "--locked")
    assert result.exit_code == 1
    assert "data of table 'clinical' (sha256)" in result.output
    assert "dictionary of table 'participants' (sha256)" in result.output


def test_check_locked_without_a_lock_and_with_a_broken_lock(plan: Path):
    result = _invoke("check", str(plan), "--locked")
    assert result.exit_code == 1 and "not locked" in result.output
    lock_path(plan).write_text("{not json", encoding="utf-8")
    broken = _invoke("check", str(plan), "--locked")
    assert broken.exit_code == 2 and "bad-lock-file" in broken.output and "Traceback" not in broken.output
    assert _invoke("lock", str(plan), "--data", "nope").exit_code == 2


def test_deviations_per_analysis_added_removed_changed():
    old = {"id": "p", "analyses": [{"id": "a", "type": "t", "x": 1, "opts": {"k": 1}}, {"id": "b", "type": "t"}]}
    new = {"id": "p", "analyses": [{"id": "a", "type": "t", "x": 2, "opts": {"k": 1, "j": 0}},
                                   {"id": "c", "type": "t"}], "populations": {"pp": {"where": "x"}}}
    found = {(d.scope, d.kind, d.key, json.dumps(d.old), json.dumps(d.new)) for d in plan_deviations(old, new)}
    assert ("a", "changed", "x", "1", "2") in found
    assert ("a", "added", "opts.j", "null", "0") in found
    assert ("b", "removed", "(analysis)", json.dumps({"id": "b", "type": "t"}), "null") in found
    assert ("c", "added", "(analysis)", "null", json.dumps({"id": "c", "type": "t"})) in found
    assert ("(plan)", "added", "populations", "null", json.dumps({"pp": {"where": "x"}})) in found
    assert plan_deviations(old, json.loads(json.dumps(old))) == []


def test_canonical_hash_ignores_key_order(plan: Path):
    from ketastats.plan import load_plan

    first = canonical_sha256(load_plan(plan).plan)
    plan.write_text(plan.read_text(encoding="utf-8").replace("seed: 7\n", "").replace("id: locktest\n",
                                                                                      "id: locktest\nseed: 7\n"),
                    encoding="utf-8")
    assert canonical_sha256(load_plan(plan).plan) == first
