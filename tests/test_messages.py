"""Messages from the first user's log (issue 16, item 6), through the real command line.

Each test writes a small broken plan into ``tmp_path`` (a two-arm trial: ``people`` with one row
per participant, ``scores`` with three visits), runs ``ketastats validate`` / ``ketastats run``
with typer's ``CliRunner`` and checks the message text, its location (file, line and YAML path)
and the exit code:

- a multiplicity family that cannot be adjusted prints each member's real reason (what it
  selected, what it found, what to do) on the terminal, with the plan's line;
- a member ``where`` key that cannot be a column of the analysis's table, or an unknown
  analysis, is a ``validate`` error;
- ``(1 | participant)`` inside a model formula gets "random effects go under random:" at the
  formula's line, with the corrected keys.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ketastats.cli.app import app

PEOPLE_DICTIONARY = """\
table: people
key: [pid]
columns:
  pid: {type: string}
  arm: {type: category, levels: [ketamine, ect]}
  age: {type: integer, min: 18, max: 90}
  completed: {type: boolean}
  time: {type: number, min: 0, label: Days to relapse}
  relapsed: {type: boolean}
  marker: {type: number, label: Biomarker}
"""
SCORES_DICTIONARY = """\
table: scores
key: [pid, visit]
columns:
  pid: {type: string}
  visit: {type: category, levels: [v0, v1, v2], ordered: true}
  y: {type: number, min: 0, max: 60, label: Score}
  z: {type: number, label: Other score}
"""
HEAD = """\
ketastats: 1
id: messages
title: Message test (synthetic)
synthetic_data: true
subject: pid
output: out
data:
  people: {source: people.csv, dictionary: people.yaml}
  scores: {source: scores.csv, dictionary: scores.yaml}
"""
HEAD_LINES = HEAD.count("\n")


def write_trial(root: Path, participants: int = 24) -> None:
    """A small deterministic two-arm trial: dictionaries, CSV files and a project-root marker."""
    rng = np.random.default_rng(7)
    root.mkdir(parents=True, exist_ok=True)
    (root / "ketastats.toml").write_text("# project root\n", encoding="utf-8")
    (root / "people.yaml").write_text(PEOPLE_DICTIONARY, encoding="utf-8")
    (root / "scores.yaml").write_text(SCORES_DICTIONARY, encoding="utf-8")
    people = ["pid,arm,age,completed,time,relapsed,marker"]
    scores = ["pid,visit,y,z"]
    for i in range(participants):
        arm = "ketamine" if i % 2 else "ect"
        people.append(f"p{i:02d},{arm},{20 + 2 * i},{'true' if i % 5 else 'false'},{5 + 7 * i % 90},"
                      f"{'true' if i % 3 else 'false'},{rng.normal(5, 1):.3f}")
        base = rng.normal(25, 4)
        for k, visit in enumerate(["v0", "v1", "v2"]):
            y = base - k * (4 if arm == "ketamine" else 2) + rng.normal(0, 2)
            scores.append(f"p{i:02d},{visit},{y:.2f},{rng.normal(10, 2):.2f}")
    (root / "people.csv").write_text("\n".join(people) + "\n", encoding="utf-8")
    (root / "scores.csv").write_text("\n".join(scores) + "\n", encoding="utf-8")


def write_plan(root: Path, *parts: str) -> Path:
    """The trial's files and ``plan.yaml`` = the common head + ``parts`` (each dedented YAML)."""
    write_trial(root)
    plan = root / "plan.yaml"
    plan.write_text(HEAD + "".join(textwrap.dedent(part).lstrip("\n") for part in parts), encoding="utf-8")
    return plan


def line_of(plan: Path, text: str) -> int:
    """The 1-based line of the plan that contains ``text`` (exactly one)."""
    found = [n for n, line in enumerate(plan.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def validate_json(plan: Path) -> tuple[int, dict]:
    result = cli("validate", str(plan), "--format", "json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def issue(document: dict, code: str, path: str) -> dict:
    found = [i for i in document["issues"] if i["code"] == code and i["location"].get("path") == path]
    assert len(found) == 1, json.dumps(document["issues"], indent=1)
    return found[0]


MODEL = """\
derive:
  - {name: treat, subject_level: arm, from: people}
analyses:
  - {id: model, type: mixed_model, table: scores, formula: "y ~ treat * visit", random: "1 | pid",
     df_method: residual, contrasts: [{emmeans: treat, by: visit, versus: ect}]}
  - {id: corr, type: correlation, table: people, outcome: marker, x: age, method: [pearson, spearman]}
"""


# --- 1. a multiplicity family that fails says why --------------------------------------------------

def test_a_failing_family_prints_each_members_real_reason(tmp_path):
    """No row, several rows, a column the member's table lacks: each reason, the member, what it
    selected, what the table has and what to do, on the terminal with the plan's line (exit 1)."""
    plan = write_plan(tmp_path, MODEL, """\
        multiplicity:
          primary:
            method: holm
            members:
              - {analysis: model, where: {effect: contrast, df_method: kenward_roger}}
              - {analysis: model, where: {effect: contrast}, label: Contrasts}
              - {analysis: model, where: {effect: contrast, outcome: y}}
              - {analysis: corr, where: {method: pearson}}
        figures:
          - {id: primary_forest, type: forest, family: primary}
        """)
    assert cli("validate", str(plan)).exit_code == 0     # rows of a mixed model depend on the data
    result = cli("run", str(plan), "--quiet")
    assert result.exit_code == 1
    text = result.stderr
    assert "a member analysis failed" not in text
    lines = {n: next(line for line in text.splitlines() if f"members[{n}]:" in line) for n in range(3)}
    first = lines[0]
    assert f"plan.yaml:{line_of(plan, 'df_method: kenward_roger')} multiplicity.primary.members[0]:" in first
    assert "family 'primary', member 1 selects where: {effect: contrast, df_method: kenward_roger}" in first
    assert "no row of analysis 'model' matches" in first
    assert "'df_method' is never kenward_roger among the 3 rows with effect=contrast; its values there: residual" \
        in first and "(unknown-member)" in first
    second = lines[1]
    assert f"plan.yaml:{line_of(plan, 'label: Contrasts')}" in second
    assert "member 2 ('Contrasts') selects where: {effect: contrast}, which matches 3 rows of analysis 'model'" \
        in second
    assert "they differ in " in second and "visit: v0, v1, v2" in second and "(ambiguous-member)" in second
    assert "A member is one test: add where: {visit: v0}" in second     # a plain column, not group: visit=v0
    third = lines[2]
    assert "member 3 selects where: {effect: contrast, outcome: y}, but the table of analysis 'model' " \
        "(mixed_model) has no column 'outcome'" in third and "(unknown-member-column)" in third
    assert "Select by the columns it has: effect, term, level, contrast, group" in third
    assert "members[3]" not in text                      # the fourth member is fine
    assert "multiplicity families not adjusted: primary" in text
    forest = next(line for line in text.splitlines() if "figure 'primary_forest' was not drawn" in line)
    assert "family 'primary', member 1 selects" in forest      # the real reason, not "a member analysis failed"
    document = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    family = document["multiplicity"][0]
    assert family["status"] == "failed"
    assert [i["location"]["line"] for i in family["issues"]] == [line_of(plan, "kenward_roger"),
                                                                 line_of(plan, "Contrasts"),
                                                                 line_of(plan, "outcome: y")]


def test_a_member_of_a_failed_analysis_gives_the_analysis_reason(tmp_path):
    """The family names the failed analysis and its own error, not just 'a member analysis failed'."""
    plan = write_plan(tmp_path, """\
        analyses:
          - {id: t, type: ttest, table: people, outcome: marker, group: arm, where: "age > 200"}
          - {id: corr, type: correlation, table: people, outcome: marker, x: age, method: pearson}
        multiplicity:
          primary:
            method: bonferroni
            members:
              - {analysis: t, where: {outcome: marker}}
              - {analysis: corr}
        """)
    result = cli("run", str(plan), "--quiet")
    assert result.exit_code == 1
    line = next(line for line in result.stderr.splitlines() if "members[0]" in line)
    assert f"plan.yaml:{line_of(plan, '{analysis: t,')}" in line
    assert "family 'primary', member 1: analysis 't' failed (" in line
    assert "so the family cannot be adjusted (member-analysis-failed). Fix analysis 't'" in line


def test_validate_catches_what_is_known_before_running(tmp_path):
    """An unknown analysis, a where key that cannot be a column of the analysis's table (did you
    mean), and, for analyses whose rows are planned, no row / several rows: validate, exit 2."""
    plan = write_plan(tmp_path, MODEL, """\
        multiplicity:
          primary:
            method: holm
            members:
              - {analysis: model, where: {effct: contrast, visit: v2}}
              - {analysis: modle, where: {effect: contrast}}
              - {analysis: corr}
              - {analysis: corr, term: agee}
        """)
    code, document = validate_json(plan)
    assert code == 2 and not document["valid"]
    where = issue(document, "unknown-member-column", "multiplicity.primary.members[0].where.effct")
    assert where["location"]["line"] == line_of(plan, "effct")
    assert where["message"] == ("family 'primary', member 1 selects where: {effct: contrast}, but 'effct' cannot be "
                                "a column of the table of analysis 'model' (mixed_model): it is neither a result "
                                "column nor a column of table 'scores'")
    assert where["hint"] == "Did you mean 'effect'?"
    unknown = issue(document, "unknown-analysis", "multiplicity.primary.members[1].analysis")
    assert unknown["hint"] == "Did you mean 'model'?"
    several = issue(document, "ambiguous-member", "multiplicity.primary.members[2]")
    assert "matches 2 rows of analysis 'corr': they differ in method: pearson, spearman" in several["message"]
    assert several["hint"] == "A member is one test: add where: {method: pearson} (or the values you mean)"
    none = issue(document, "unknown-member", "multiplicity.primary.members[3].term")
    assert "selects term: agee, but analysis 'corr' will have no such row: 'term' is never agee" in none["message"]
    assert none["hint"] == "Did you mean 'age'?"
    assert len(document["issues"]) == 4     # visit (a column of the analysed table) is accepted


PLANS = sorted((Path(__file__).resolve().parents[1] / "analysis_plans").glob("*.yaml"))


@pytest.mark.parametrize("plan_file", PLANS, ids=lambda p: p.stem)
def test_the_shipped_plans_validate(plan_file):
    """The member and figure checks reject no valid plan."""
    assert len(PLANS) >= 4
    result = cli("validate", str(plan_file))
    assert result.exit_code == 0, result.output


# --- 3. random effects written into a formula ---------------------------------------------------

def test_random_effects_in_a_formula_point_at_the_formula_line(tmp_path):
    plan = write_plan(tmp_path, """\
        derive:
          - {name: treat, subject_level: arm, from: people}
        analyses:
          - id: model
            type: mixed_model
            table: scores
            formula: "y ~ treat * visit + (1 | pid)"
            random: "1 | pid"
          - {id: repeated, type: mmrm, table: scores, formula: "y ~ treat * visit + (1|pid)", visit: visit,
             subject: pid}
          - {id: mass, type: mass_mixed_model, table: scores, outcomes: [y, z], formula: "~ (1 | pid) + visit",
             random: "1 | pid"}
          - {id: reg, type: regression, table: people, formula: "marker ~ age + (1 | arm)"}
          - {id: lme4_random, type: mixed_model, table: scores, formula: "y ~ visit", random: "(1 | pid)"}
        """)
    code, document = validate_json(plan)
    assert code == 2
    model = issue(document, "random-effects-in-formula", "analyses[0].formula")
    assert model["location"] == {"file": "plan.yaml", "line": line_of(plan, 'formula: "y ~ treat * visit + (1 | pid)"'),
                                 "path": "analyses[0].formula"}
    assert model["message"] == ("random effects go under random:, not in the formula ('(1 | pid)' in "
                                "'y ~ treat * visit + (1 | pid)')")
    assert model["hint"] == 'Write formula: "y ~ treat * visit" and random: "1 | pid"'
    mmrm = issue(document, "random-effects-in-formula", "analyses[1].formula")
    assert mmrm["location"]["line"] == line_of(plan, "(1|pid)")
    assert mmrm["hint"].startswith('Write formula: "y ~ treat * visit"; an mmrm has no random effects')
    mass = issue(document, "random-effects-in-formula", "analyses[2].formula")
    assert mass["hint"] == 'Write formula: "~ visit" and random: "1 | pid"'
    regression = issue(document, "random-effects-in-formula", "analyses[3].formula")
    assert regression["hint"] == ('Write formula: "marker ~ age"; this analysis has no random effects '
                                  '(a mixed_model takes random: "1 | arm")')
    parenthesised = issue(document, "formula-syntax", "analyses[4].random")
    assert parenthesised["hint"] == 'Write random: "1 | pid"'
    text = cli("validate", str(plan)).stderr
    assert "Traceback" not in text and "patsy" not in text
    assert f"plan.yaml:{model['location']['line']} analyses[0].formula: random effects go under random:" in text
