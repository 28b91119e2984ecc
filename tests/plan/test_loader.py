"""Plan loading: safe YAML, located errors, schema messages."""

from __future__ import annotations

import pytest

from ketastats.errors import PlanError
from ketastats.language.yaml_source import load_yaml_text
from ketastats.plan import load_plan

MINIMAL = """ketastats: 1
id: demo
title: Demo
subject: pid
data:
  t: {source: t.csv, dictionary: t.yaml}
analyses:
  - id: d
    type: descriptives
    table: t
    outcome: score
"""


def codes(exc: PlanError) -> list[str]:
    return [issue.code for issue in exc.issues]


def test_object_tags_are_refused_and_nothing_is_constructed():
    with pytest.raises(PlanError) as caught:
        load_yaml_text("a: !!python/object/apply:os.system ['touch /tmp/owned']\n", "p.yaml")
    assert codes(caught.value) == ["yaml-tag-not-allowed"]
    assert caught.value.issues[0].location.line == 1


def test_duplicate_keys_are_reported_with_their_line():
    with pytest.raises(PlanError) as caught:
        load_yaml_text("a: 1\nb: 2\na: 3\n", "p.yaml")
    issue = caught.value.issues[0]
    assert (issue.code, issue.location.line, issue.location.path) == ("duplicate-key", 3, "a")


def test_syntax_error_names_file_and_line():
    with pytest.raises(PlanError) as caught:
        load_yaml_text("a: [1,\nb: 2\n", "plan.yaml")
    issue = caught.value.issues[0]
    assert issue.code == "yaml-syntax" and issue.location.file == "plan.yaml" and issue.location.line is not None


def test_line_numbers_of_paths():
    doc = load_yaml_text(MINIMAL, "p.yaml")
    assert doc.lines.line_of(("analyses", 0, "outcome")) == 11
    assert doc.lines.line_of(("data", "t", "source")) == 6


def write_plan(tmp_path, text):
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_plan_loads(tmp_path):
    plan = load_plan(write_plan(tmp_path, MINIMAL)).plan
    assert plan.analyses[0].outcome == ["score"]


def test_unknown_key_gets_suggestion_path_and_line(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(write_plan(tmp_path, MINIMAL.replace("outcome: score", "outcom: score")))
    issues = {issue.code: issue for issue in caught.value.issues}
    unknown = issues["unknown-key"]
    assert unknown.location.path == "analyses[0].outcom"
    assert unknown.location.line == 11
    assert "outcome" in unknown.hint
    assert issues["missing-key"].location.path == "analyses[0].outcome"


def test_union_tag_is_stripped_from_the_path(tmp_path):
    text = MINIMAL.replace("outcome: score", "outcome: score\n    ci: exact")
    text = text.replace("type: descriptives", "type: proportions")
    with pytest.raises(PlanError) as caught:
        load_plan(write_plan(tmp_path, text))
    issue = caught.value.issues[0]
    assert issue.code == "invalid-choice"
    assert issue.location.path == "analyses[0].ci[0]"
    assert issue.location.line == 12


def test_unknown_analysis_type_lists_choices(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(write_plan(tmp_path, MINIMAL.replace("type: descriptives", "type: anova")))
    issue = caught.value.issues[0]
    assert issue.location.path == "analyses[0].type" or issue.location.path == "analyses[0]"
    assert "descriptives" in issue.message and "proportions" in issue.message


def test_wrong_language_version(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(write_plan(tmp_path, MINIMAL.replace("ketastats: 1", "ketastats: 2")))
    assert caught.value.issues[0].location.path == "ketastats"


def test_missing_plan_file(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nope.yaml")
    assert codes(caught.value) == ["file-not-found"]
