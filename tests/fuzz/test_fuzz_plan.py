"""Fuzzing the plan loader: random YAML, and the real Siegel plan with its keys, values, types and
structure mutated, through the whole plan front end (safe YAML → schema → name resolution against
the Siegel dictionaries, and for some, validation of the packaged data and the derivations).

Each must give a plan or a :class:`~ketastats.errors.KetastatsError` whose issues carry a stable
code and a location in the plan — never another exception.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ketastats.data.dictionary import load_dictionary
from ketastats.errors import KetastatsError
from ketastats.language.validation_errors import validate_model
from ketastats.language.yaml_source import load_yaml_text
from ketastats.plan.resolve import resolve
from ketastats.plan.schema import plan_model

ROOT = Path(__file__).resolve().parents[2]
PLAN_PATH = ROOT / "analysis_plans" / "siegel2021.yaml"
PLAN_TEXT = PLAN_PATH.read_text(encoding="utf-8")
PLAN = yaml.safe_load(PLAN_TEXT)
DICTIONARIES = {name: load_dictionary(PLAN_PATH.parent / source["dictionary"])
                for name, source in PLAN["data"].items()}
CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                    st.text(max_size=12), st.sampled_from(["clinical", "madrs", "visit", "baseline", "participant_id",
                                                           "mixed_model", "descriptives", "~", "y ~ x", "1 | g",
                                                           "madrs < 10", "", "-1", "1e400", ".nan", "week2"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def front_end(text: str):
    """The plan front end on YAML ``text``: returns the issues of name resolution (may be empty)."""
    document = load_yaml_text(text, "plan.yaml")
    plan = validate_model(plan_model(), document)
    issues, _catalog = resolve(plan, DICTIONARIES, document)
    return issues


def check(text: str) -> None:
    try:
        issues = front_end(text)
    except KetastatsError as exc:
        issues = exc.issues
        assert issues, "an error without issues"
    for issue in issues:
        assert CODE.match(issue.code), issue
        assert issue.location.file == "plan.yaml", issue
        str(issue)  # renders


def _paths(value, prefix=()):
    """Every path into a nested plan value (mappings and lists)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _get(value, path):
    for part in path:
        value = value[part]
    return value


def _typo(word: str, data) -> str:
    if not word:
        return "x"
    position = data.draw(st.integers(0, len(word) - 1))
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "upper"]))
    if kind == "drop":
        return word[:position] + word[position + 1:]
    if kind == "double":
        return word[:position] + word[position] + word[position:]
    if kind == "swap" and position + 1 < len(word):
        return word[:position] + word[position + 1] + word[position] + word[position + 2:]
    return word.upper()


def mutate(plan: dict, data) -> dict:
    plan = copy.deepcopy(plan)
    paths = list(_paths(plan))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = [p for p in _paths(plan) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent, key = _get(plan, path[:-1]), path[-1]
        action = data.draw(st.sampled_from(["delete", "rename", "replace", "retype", "duplicate", "graft", "add"]),
                           label="action")
        if action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[_typo(str(key), data)] = parent.pop(key)
        elif action == "replace":
            parent[key] = data.draw(VALUES, label="value")
        elif action == "retype":
            old = parent[key]
            parent[key] = data.draw(st.sampled_from([[old], {"value": old}, str(old), None, 0, True]), label="as")
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif action == "graft":  # a subtree from elsewhere in the plan
            donor = data.draw(st.sampled_from(list(_paths(PLAN))), label="donor")
            parent[key] = copy.deepcopy(_get(PLAN, donor))
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][data.draw(st.text(min_size=1, max_size=10), label="new key")] = data.draw(VALUES)
    return plan


def test_the_plan_itself_resolves_cleanly():
    assert front_end(PLAN_TEXT) == []


@given(st.data())
def test_mutated_siegel_plan(data):
    plan = mutate(PLAN, data)
    check(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))


@given(st.data())
def test_mutated_siegel_plan_text(data):
    """Line-level damage to the YAML text: deleted, duplicated, re-indented or garbled lines."""
    lines = PLAN_TEXT.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "garble", "truncate"]))
        line = lines[index]
        if kind == "delete":
            del lines[index]
        elif kind == "duplicate":
            lines.insert(index, line)
        elif kind == "indent":
            lines[index] = "  " + line
        elif kind == "dedent":
            lines[index] = line[2:] if line.startswith("  ") else line
        elif kind == "garble":
            position = data.draw(st.integers(0, len(line)))
            lines[index] = line[:position] + data.draw(st.sampled_from(
                ["{", "}", "[", "]", ":", "- ", "&a ", "*a", "!!python/object:os.system ", "'", '"', "#", "\t", "|",
                 "<<: *a", "? ", "%"]) | st.text(max_size=3)) + line[position:]
        else:
            lines = lines[:index]
        if not lines:
            lines = [""]
    check("\n".join(lines) + "\n")


@given(VALUES)
@example({"ketastats": 1, "id": "x", "subject": "participant_id", "data": {}, "analyses": []})
@example({"ketastats": 1, "id": "x", "subject": "participant_id", "data": {"clinical": None}, "analyses": []})
def test_random_plans(value):
    check(yaml.safe_dump(value, allow_unicode=True))


@given(st.text(max_size=200))
@example("a: &a [*a]")
@example("!!python/object/apply:os.system ['touch pwned.txt']")
@example("a: !!binary aGVsbG8=")
@example("a: 2021-01-01")
@example("? [a, b]\n: c")
@example("a: {b: 1, b: 2}")
@example("- " * 150 + "x")
@example("[" * 150 + "]" * 150)
@example("a: 1\n---\nb: 2")
@example("\ufeffketastats: 1")
def test_random_yaml_text(text):
    check(text)


# The data and the derivations as well, for mutated plans (slower: the packaged tables are read).
class _Tables:
    def __init__(self, tables):
        self.tables = tables

    def __repr__(self) -> str:  # keeps Hypothesis' report of a failing example short
        return "<the Siegel tables>"


@pytest.fixture(scope="module")
def prepared_tables():
    from ketastats.api import validate_plan

    return _Tables(validate_plan(PLAN_PATH).tables)


@settings(max_examples=max(10, settings().max_examples // 4))
@given(st.data())
def test_mutated_plans_through_derivations(prepared_tables, data):
    from ketastats.derive import apply_derivations

    plan = mutate({key: value for key, value in PLAN.items() if key not in ("analyses", "multiplicity", "figures")}
                  | {"analyses": PLAN["analyses"][:1]}, data)
    text = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True)
    try:
        document = load_yaml_text(text, "plan.yaml")
        parsed = validate_model(plan_model(), document)
        issues, catalog = resolve(parsed, DICTIONARIES, document)
        if issues or set(parsed.data) != set(PLAN["data"]):
            return
        apply_derivations(parsed, prepared_tables.tables, catalog)
    except KetastatsError as exc:
        assert all(CODE.match(i.code) for i in exc.issues)
    except Exception as exc:  # report the plan that failed (the derive: part of it)
        raise AssertionError(yaml.safe_dump(plan.get("derive"), sort_keys=False)) from exc


def _with_summarise(**change) -> str:
    plan = copy.deepcopy(PLAN)
    for derivation in plan["derive"]:
        if "summarise" in derivation:
            derivation.update(change)
    return yaml.safe_dump(plan, sort_keys=False)


@pytest.mark.parametrize("change", [
    {"by": ["participant_id", "time", "participant_id"]},  # found by fuzzing: pandas' groupby crashed
    {"mean": ["fc_dmn", "fc_dmn"]},
    {"mean": ["time"], "by": ["participant_id", "time"]},
])
def test_summarise_names_each_column_once(change):
    issues = front_end(_with_summarise(**change))
    assert [i.code for i in issues][:1] == ["duplicate-column"] and issues[0].location.path.startswith("derive[5].")
