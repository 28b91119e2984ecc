"""The glossary as data (ketastats/vocabulary.yaml through ketastats.glossary): one source for the
report's labels and kinds, the one p-value formatter, and the generated docs tables."""

from __future__ import annotations

import ast
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketastats import glossary
from ketastats.analyses import BY_TYPE
from ketastats.errors import KetastatsError
from ketastats.figures.style import p_text
from ketastats.report.display import display_table

ROOT = Path(__file__).resolve().parent.parent


def _docs_tables():
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "tools" / "docs_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def extra_columns(monkeypatch):
    """Add columns to the vocabulary for one test (the real loading path, cache cleared around it)."""
    def add(entries: str) -> None:
        text = glossary.vocabulary_text().replace("columns:\n", "columns:\n  test_only:\n" + entries, 1)
        monkeypatch.setattr(glossary, "vocabulary_text", lambda: text)
        glossary.glossary.cache_clear()

    yield add
    monkeypatch.undo()
    glossary.glossary.cache_clear()


def test_every_column_has_meaning_label_and_a_known_kind():
    columns = glossary.glossary().columns
    assert len(columns) > 100
    assert {c.kind for c in columns.values()} == set(glossary.KINDS)
    assert glossary.kind("p_value") == "p_value" and glossary.label("std_error") == "Std. error"
    assert glossary.kind("n_significant time_post (residual)") == "count"
    assert glossary.label("not_in_glossary") == "Not in glossary" and glossary.kind("not_in_glossary") is None
    assert glossary.settings()[:3] == ["conf_level", "ci_method", "alternative"]


def test_a_bad_vocabulary_is_refused():
    good = glossary.vocabulary_text()
    with pytest.raises(KetastatsError, match="kind 'pvalue'"):
        glossary.parse(good.replace("kind: p_value", "kind: pvalue", 1))
    with pytest.raises(KetastatsError, match="listed twice"):
        twice = "columns:\n  again:\n    p_value: {meaning: m, label: p, kind: p_value}\n"
        glossary.parse(good.replace("columns:\n", twice, 1))


@pytest.mark.parametrize("value, table, figure", [
    (1.19e-21, "< 0.001", "p < 0.001"), (0.000999, "< 0.001", "p < 0.001"), (0.001, "0.001", "p = 0.001"),
    (0.0162, "0.016", "p = 0.016"), (0.0999, "0.100", "p = 0.100"), (0.5404, "0.540", "p = 0.54"),
    (1.0, "1.000", "p = 1.00"), (None, "", "p = n/a"), (math.nan, "", "p = n/a")])
def test_one_p_value_formatter_two_styles(value, table, figure):
    assert glossary.format_p(value) == table
    assert p_text(value) == figure


def test_the_family_sentences_print_p_in_the_sentence_style():
    from ketastats.multiplicity import _p

    for value in (1e-9, 0.000999, 0.001, 0.00123456, 0.0162, 0.0999, 0.5, 0.54321, 1.0):
        text = glossary.format_p(value, "sentence")
        assert _p(value) == (f"p {text}" if text.startswith("<") else f"p = {text}")


def test_a_new_p_value_column_is_formatted_as_a_p_value_without_code_change(extra_columns):
    frame = pd.DataFrame({"term": ["x", "y"], "q_value": [0.00002, 0.54321], "share": [0.5, 1.5]})
    before = display_table(frame)
    assert before.columns == ["Term", "Q value", "Share"]
    assert [row[1:] for row in before.rows] == [["2.0 × 10⁻⁵", "0.50"], ["0.543", "1.50"]]   # plain numbers
    extra_columns("    q_value: {meaning: a q-value, label: q, kind: p_value}\n"
                  "    share: {meaning: a share, label: '%', kind: percent}\n")
    after = display_table(frame)
    assert after.columns == ["Term", "q", "%"]
    assert [row[1:] for row in after.rows] == [["< 0.001", "0.5"], ["0.543", "1.5"]]


def test_a_new_setting_moves_to_the_notes(extra_columns):
    frame = pd.DataFrame({"term": ["x", "y"], "estimate": [1.5, 2.5], "solver": ["newton", "newton"]})
    assert "Solver" in display_table(frame).columns
    extra_columns("    solver: {meaning: the solver, label: Solver, kind: setting}\n")
    table = display_table(frame)
    assert "Solver" not in table.columns and table.notes == ["Solver: newton."]


def test_docs_generated_from_the_code_are_current():
    docs = _docs_tables()
    stale = docs.stale()
    assert not stale, (f"stale generated docs: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; "
                       f"regenerate them with `{docs.COMMAND}`")


def test_the_tidy_columns_table_lists_every_registered_type():
    text = (ROOT / "docs" / "plan_language.md").read_text(encoding="utf-8")
    table = text.split("| type | tidy columns |", 1)[1].split("\n\n", 1)[0]
    types = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert types == set(BY_TYPE), "docs/plan_language.md: edit the tidy-columns table by hand"


def test_glossary_is_a_leaf_and_multiplicity_does_not_need_the_report():
    tree = ast.parse((ROOT / "ketastats" / "glossary.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {m for m in imported if m.startswith("ketastats")} <= {"ketastats.errors"}
    code = ("import sys, ketastats.multiplicity as m; m._text(1.5); "
            "print(sorted(k for k in sys.modules if k.startswith('ketastats.report')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
