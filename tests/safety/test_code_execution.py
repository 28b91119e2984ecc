"""A plan is data, never code: rules, formulas and YAML tags that try to run code are refused at
plan validation, and nothing is evaluated — each payload would create a file, and the tests check
that the file does not exist afterwards."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ketastats.api import run_plan, validate_plan
from ketastats.errors import PlanError

PROJECT = Path(__file__).resolve().parent / "project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT, tmp_path / "project")
    return tmp_path / "project"


def payloads(marker: Path) -> list[str]:
    """Python that would create ``marker`` if anything evaluated it."""
    m = str(marker)
    return [
        f"__import__('os').system('touch {m}')",
        f"open('{m}', 'w').write('x')",
        f"exec(\"open('{m}', 'w')\")",
        f"eval(\"open('{m}', 'w')\")",
        f"(lambda: open('{m}', 'w'))()",
        "().__class__.__bases__[0].__subclasses__()",
        f"y.__class__.__init__.__globals__['os'].system('touch {m}')",
        f"getattr(__builtins__, 'open')('{m}', 'w')",
        f"[open('{m}', 'w') for _ in [1]]",
        f"(f := open('{m}', 'w'))",
        f"f\"{{open('{m}', 'w')}}\"",
        f"y if open('{m}', 'w') else y",
        f"{{open('{m}', 'w')}}",
        f"y[open('{m}', 'w')]",
        f"y ** open('{m}', 'w')",
    ]


def _codes(exc: PlanError) -> set[str]:
    return {issue.code for issue in exc.issues}


@pytest.mark.parametrize("where", ["derive", "population", "analysis"])
@pytest.mark.parametrize("index", range(15))
def test_rule_payloads_are_refused_unevaluated(project, where, index):
    marker = project.parent / "pwned.txt"
    payload = payloads(marker)[index].replace('"', '\\"')
    plan = project / "plan.yaml"
    text = plan.read_text()
    if where == "derive":
        text = text.replace('rule: "y < 20"', f'rule: "{payload}"')
        path = "derive[1].rule"
    elif where == "population":
        text = text.replace('where: "completed"', f'where: "{payload}"')
        path = "populations.completers.where"
    else:
        text = text.replace("population: completers}", f'population: completers, where: "{payload}"}}')
        path = "analyses[0].where"
    plan.write_text(text)
    with pytest.raises(PlanError) as caught:
        run_plan(plan, write=True)
    issues = [i for i in caught.value.issues if i.location.path == path]
    assert issues and issues[0].code.startswith("expression-"), caught.value
    assert issues[0].location.file == "plan.yaml" and issues[0].location.line is not None
    assert not marker.exists()
    assert not (project / "out").exists()


FORMULA_PAYLOADS = [
    "y ~ __import__('os').system('touch {m}')",
    "y ~ I(__import__('os').system('touch {m}'))",
    "y ~ C(visit, __import__('os').system('touch {m}'))",
    "y ~ Q('visit') + visit",
    "y ~ visit + {{open('{m}', 'w')}}",
    "y ~ visit.__class__",
    "y ~ (lambda: 1)()",
    "y ~ visit + `touch {m}`",
    "y ~ visit; import os",
    "y ~ np.log(y)",
]


@pytest.mark.parametrize("key", ["formula", "random"])
@pytest.mark.parametrize("template", FORMULA_PAYLOADS)
def test_formula_payloads_are_refused_unevaluated(project, key, template):
    marker = project.parent / "pwned.txt"
    payload = template.format(m=marker).replace('"', '\\"')
    if key == "random":
        payload = payload.split("~", 1)[1] + " | pid"
    formula, random = (payload, "1 | pid") if key == "formula" else ("y ~ visit", payload)
    plan = project / "plan.yaml"
    plan.write_text(plan.read_text() + f'  - {{id: m, type: mixed_model, table: scores, formula: "{formula}", '
                                       f'random: "{random}"}}\n')
    with pytest.raises(PlanError) as caught:
        run_plan(plan)
    issue = caught.value.issues[0]
    assert issue.code.startswith("formula-"), caught.value
    assert (issue.location.file, issue.location.path) == ("plan.yaml", f"analyses[1].{key}")   # the key's own line
    assert not marker.exists()
    assert not (project / "out").exists()


def test_patsy_only_ever_sees_checked_names():
    """design_matrices rebuilds the formula text from validated names; a name that is not a plain
    column name never reaches patsy, even if a Formula object is built by hand."""
    import pandas as pd

    from ketastats.language.formulas import Formula, FormulaError, design_matrices

    evil = Formula(text="y ~ x", response="y", terms=[("__import__('os').getcwd()",)])
    with pytest.raises(FormulaError) as caught:
        design_matrices(evil, pd.DataFrame({"y": [1.0], "x": [1.0]}))
    assert caught.value.code == "formula-not-allowed"


TAGS = [
    "!!python/object/apply:os.system ['touch {m}']",
    "!!python/object/new:os.system ['touch {m}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:argparse.Namespace {{x: 1}}",
    "!!binary aGVsbG8=",
    "!!set {{a: null}}",
    "!custom value",
]


@pytest.mark.parametrize("file", ["plan.yaml", "scores.yaml"])
@pytest.mark.parametrize("template", TAGS)
def test_yaml_tags_are_refused(project, file, template):
    marker = project.parent / "pwned.txt"
    tag = template.format(m=marker)
    path = project / file
    line = "description: " + tag + "\n"
    text = path.read_text()
    path.write_text(text.replace("title: Safety tests (synthetic)\n", "title: Safety tests (synthetic)\n" + line)
                    if file == "plan.yaml" else text.replace("description: Synthetic visit-level scores\n", line))
    with pytest.raises(PlanError) as caught:
        validate_plan(project / "plan.yaml")
    issue = caught.value.issues[0]
    assert issue.code == "yaml-tag-not-allowed"
    assert (issue.location.file, issue.location.path) == (file, "description")
    assert not marker.exists()


def test_yaml_payload_through_the_cli_prints_no_traceback(project):
    marker = project.parent / "pwned.txt"
    plan = project / "plan.yaml"
    plan.write_text(plan.read_text().replace("title: Safety tests (synthetic)",
                                             f"title: !!python/object/apply:os.system ['touch {marker}']"))
    done = subprocess.run([sys.executable, "-m", "ketastats", "run", "plan.yaml", "-q"], cwd=project,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "yaml-tag-not-allowed" in done.stderr and "Traceback" not in done.stderr
    assert not marker.exists() and not (project / "out").exists()


def test_cells_that_look_like_code_are_only_text(project):
    """Data is never evaluated either: a cell holding Python is text (or an invalid number)."""
    from ketastats.errors import DataError

    marker = project.parent / "pwned.txt"
    payload = f"\"__import__('os').system('touch {marker}')\""
    people = project / "people.csv"
    original = people.read_text()
    people.write_text(original.replace("p4,", payload + ",", 1))
    result = run_plan(project / "plan.yaml", write=False)
    assert result.exit_code == 0
    assert not marker.exists()
    people.write_text(original.replace("p4,ketamine,40,", "p4,ketamine," + payload + ",", 1))
    with pytest.raises(DataError) as caught:
        validate_plan(project / "plan.yaml")
    assert [(i.code, i.location.row, i.location.column) for i in caught.value.issues] == [("not-a-number", 4, "age")]
    assert not marker.exists()
