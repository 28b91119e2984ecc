"""``ketastats validate`` reports the problems of every stage in one pass (issue 16, item 6).

The stages (``ketastats.api.STAGES``): plan (YAML, schema) → paths → dictionaries → names
(derivations, populations, analyses' column checks, multiplicity members, figures) → data →
subjects → derivations. A stage that fails does not stop the others; a stage that needs a failed
one is skipped and says so, in the text output and in ``--format json`` (``stages``). Exit code 2.
Each test writes a small trial with one error per independent stage into ``tmp_path`` and runs
the command line (typer's ``CliRunner``).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_messages import cli, line_of, validate_json, write_plan

PLAN = """\
derive:
  - {name: treat, subject_level: arm, from: people}
analyses:
  - {id: desc, type: descriptives, table: scores, outcome: y, by: [visit, treat]}
  - {id: ages, type: descriptives, table: people, outcome: age, by: arm}
  - {id: corr, type: correlation, table: scores, outcome: y, x: zz}
multiplicity:
  primary:
    method: holm
    members:
      - {analysis: corrr}
figures:
  - {id: traj, type: trajectory, analysis: desc}
"""


def break_dictionary(root: Path) -> None:
    """people.yaml: a misspelt column type (a dictionary error)."""
    path = root / "people.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("age: {type: integer", "age: {type: intger"),
                    encoding="utf-8")


def break_data(root: Path) -> None:
    """scores.csv, row 3: a visit that is not a level of the dictionary (a data error)."""
    path = root / "scores.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",v2,", ",v9,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def stages(document: dict) -> dict[str, dict]:
    return {stage["stage"]: stage for stage in document["stages"]}


def codes(document: dict) -> list[tuple[str, str]]:
    return [(i["code"], i["location"].get("path") or i["location"].get("column")) for i in document["issues"]]


def test_names_dictionary_data_figure_and_family_errors_in_one_pass(tmp_path):
    """A dictionary error, a name error, a data error, a figure / analysis mismatch and an unknown
    family member: all five reported by one validate; nothing on the broken dictionary's table is
    called wrong; the derivations, which need everything valid, are skipped and say why."""
    plan = write_plan(tmp_path, PLAN)
    break_dictionary(tmp_path)
    break_data(tmp_path)
    code, document = validate_json(plan)
    assert code == 2 and not document["valid"]
    assert codes(document) == [
        ("invalid-choice", "columns.age.type"),                                    # dictionaries
        ("unknown-column", "analyses[2].x[0]"),                                    # names: analyses
        ("unknown-analysis", "multiplicity.primary.members[0].analysis"),          # names: multiplicity
        ("figure-key-mismatch", "figures[0].group"),                               # names: figures
        ("level-not-in-dictionary", "visit"),                                      # data
    ]
    located = {i["location"].get("path"): i["location"] for i in document["issues"]}
    assert located["columns.age.type"]["file"] == "people.yaml"
    assert located["analyses[2].x[0]"]["line"] == line_of(plan, "x: zz")
    assert located["figures[0].group"]["line"] == line_of(plan, "id: traj")
    assert located[None] == {"file": "scores.csv", "row": 3, "column": "visit"}
    found = stages(document)
    assert [s["status"] for s in document["stages"]] == ["passed", "passed", "failed", "failed", "failed",
                                                          "partial", "skipped"]
    assert found["names"]["detail"] == "3 problem(s); names in table(s) people not checked"
    assert found["data"]["detail"] == "1 problem(s); table 'people' not checked: its dictionary has errors"
    assert found["derivations"]["detail"] == ("they need a valid plan and valid data; failed: dictionaries, names, "
                                              "data, subjects (partly)")
    text = cli("validate", str(plan))
    assert text.exit_code == 2
    assert "invalid input: 5 problem(s)" in text.stderr
    assert "stages: plan passed, paths passed, dictionaries failed, names failed, data failed, subjects partial, " \
        "derivations skipped" in text.stderr
    assert "  derivations skipped: they need a valid plan and valid data" in text.stderr
    assert f"plan.yaml:{line_of(plan, 'corrr')} multiplicity.primary.members[0].analysis" in text.stderr


def test_a_schema_error_still_checks_dictionaries_and_data(tmp_path):
    """The plan does not match the schema at its top (an unknown plan key): its data: section still
    names the tables, so their dictionaries and data are checked; names and derivations are skipped."""
    plan = write_plan(tmp_path, "outptu: elsewhere\n", PLAN)
    break_dictionary(tmp_path)
    break_data(tmp_path)
    code, document = validate_json(plan)
    assert code == 2
    assert codes(document) == [("unknown-key", "outptu"), ("invalid-choice", "columns.age.type"),
                               ("level-not-in-dictionary", "visit")]
    assert document["issues"][0]["location"]["line"] == line_of(plan, "outptu")
    found = stages(document)
    assert found["plan"] == {"stage": "plan", "status": "failed", "checks": found["plan"]["checks"],
                             "detail": "1 problem(s)"}
    assert found["names"] == {"stage": "names", "status": "skipped", "checks": found["names"]["checks"],
                              "detail": "the plan does not match the schema"}
    assert found["derivations"]["status"] == "skipped"
    text = cli("validate", str(plan)).stderr
    assert "names, subjects skipped: the plan does not match the schema" in text


def test_entries_with_schema_errors_are_left_out_and_the_rest_is_checked(tmp_path):
    """An unknown key in a derivation, a population and an analysis, a figure of an unknown type:
    those entries are left out, the others' names are still checked (at their own lines), and
    nothing that names a left-out entry is called wrong."""
    plan = write_plan(tmp_path, """\
        derive:
          - {name: treat, subject_level: arm, from: people, colour: red}
          - {name: low, table: scores, rule: "y < 20"}
        populations:
          adults: {table: people, where: "age >= 18", size: 3}
        analyses:
          - {id: desc, type: descriptives, table: scores, outcome: y, by: [visit, treat]}
          - {id: ages, type: descriptives, table: people, outcome: age, by: arm, population: adults}
          - {id: corr, type: correlation, table: people, outcome: marker, x: agee, methd: pearson}
          - {id: t, type: ttest, table: people, outcome: marker, group: armm}
        multiplicity:
          primary:
            method: holm
            members:
              - {analysis: corr}
              - {analysis: t, where: {outcme: marker}}
        figures:
          - {id: traj, type: trajectory, analysis: desc, group: treat}
          - {id: dots, type: scatter, analysis: corr, x: age}
          - {id: bad, type: histogram, analysis: desc}
        """)
    code, document = validate_json(plan)
    assert code == 2
    assert codes(document) == [
        ("unknown-key", "derive[0].colour"), ("unknown-key", "populations.adults.size"),
        ("unknown-key", "analyses[2].methd"), ("invalid-choice", "figures[2].type"),
        ("unknown-column", "analyses[3].group"),                                   # the entry after a left-out one
        ("unknown-member-column", "multiplicity.primary.members[1].where.outcme"),
    ]
    group = next(i for i in document["issues"] if i["location"]["path"] == "analyses[3].group")
    assert group["location"]["line"] == line_of(plan, "armm")
    found = stages(document)
    assert found["plan"]["detail"] == \
        "4 problem(s); checked without derive[0], populations.adults, analyses[2], figures[2]"
    assert found["names"]["detail"] == \
        "2 problem(s); not checked: derive[0], populations.adults, analyses[2], figures[2] (schema errors)"


def test_a_derivation_error_is_found_by_validate(tmp_path):
    """A subject-level value whose rows disagree was found only by `run`; validate computes the
    derivations of a valid plan, so it reports it, at the derivation's line."""
    plan = write_plan(tmp_path, """\
        derive:
          - {name: first_y, subject_level: y, from: scores}
        analyses:
          - {id: ages, type: descriptives, table: people, outcome: age, by: arm}
        """)
    code, document = validate_json(plan)
    assert code == 2
    assert {i["code"] for i in document["issues"]} == {"inconsistent-subject-level"}   # one per subject
    problem = document["issues"][0]
    assert problem["message"] == "subject 'p00' has 3 different values of 'y' in the rows selected by no selector"
    assert problem["location"] == {"file": "plan.yaml", "line": line_of(plan, "first_y"), "path": "derive[0]"}
    assert stages(document)["derivations"]["status"] == "failed"


def test_a_table_outside_the_project_is_not_read_and_the_rest_is_checked(tmp_path):
    """A dictionary outside the project is refused (and not read); the other table's names and
    data are still checked."""
    project = tmp_path / "project"
    plan = write_plan(project, """\
        analyses:
          - {id: ages, type: descriptives, table: people, outcome: age, by: arm}
          - {id: ys, type: descriptives, table: scores, outcome: yy, by: visit}
        """)
    (tmp_path / "people.yaml").write_text((project / "people.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    plan.write_text(plan.read_text(encoding="utf-8").replace("dictionary: people.yaml", "dictionary: ../people.yaml"),
                    encoding="utf-8")
    code, document = validate_json(plan)
    assert code == 2
    assert codes(document) == [("path-outside-project", "data.people.dictionary"),
                               ("unknown-column", "analyses[1].outcome[0]")]
    assert stages(document)["dictionaries"]["detail"] == \
        "table 'people' not read: its path is outside the project"


def test_a_valid_plan_lists_every_stage_passed(tmp_path):
    plan = write_plan(tmp_path, """\
        analyses:
          - {id: ages, type: descriptives, table: people, outcome: age, by: arm}
        """)
    code, document = validate_json(plan)
    assert code == 0 and document["valid"] and document["issues"] == []
    assert [(s["stage"], s["status"]) for s in document["stages"]] == [
        (name, "passed") for name in ("plan", "paths", "dictionaries", "names", "data", "subjects", "derivations")]
    result = cli("validate", str(plan))
    assert result.exit_code == 0 and "stages:" not in result.stderr
    assert json.loads(cli("validate", str(plan), "--format", "json").stdout)["valid"]
