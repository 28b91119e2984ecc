"""The wide Table 1 (report/table1.py) built from baseline_table's tidy rows."""

from types import SimpleNamespace

import pandas as pd

from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.baseline_table import Spec, run
from ketastats.report.exports import latex_table
from ketastats.report.table1 import INDENT, table1_display


def _result():
    frame = pd.DataFrame({
        "pid": list("abcdefg"), "arm": ["k", "k", "k", "e", "e", "e", "e"],
        "age": [30.0, 40.0, None, 50.0, 60.0, 55.0, None],
        "sex": ["f", "m", "f", "f", None, "f", "m"]}, index=range(1, 8))
    spec = Spec(id="t1", type="baseline_table", table="p", variables=["age", "sex"], by="arm")
    result = run(spec, AnalysisInput("t1", "p", frame, "pid", ["pid"]))
    columns = {"arm": SimpleNamespace(level_labels={"k": "Ketamine", "e": "ECT"}),
               "sex": SimpleNamespace(level_labels={"f": "Female", "m": "Male"})}
    return SimpleNamespace(tidy=result.tidy, extras={"labels": {"age": "Age (years)", "sex": "Sex"}},
                           columns=columns, analysis_id="t1", title="Table 1", notes=[])


def test_wide_layout_counts_every_participant_of_an_arm():
    table = table1_display(_result())
    assert table.columns == ["Characteristic", "ECT (n = 4)", "Ketamine (n = 3)", "Overall (n = 7)"]
    first = [row[0] for row in table.rows]
    assert first == ["Age (years), mean (SD)", INDENT + "Missing", "Sex, n (%)", INDENT + "Female",
                     INDENT + "Male", INDENT + "Missing"]
    rows = {row[0]: row[1:] for row in table.rows[:2]}
    assert rows["Age (years), mean (SD)"] == ["55.0 (5.0)", "35.0 (7.1)", "47.0 (12.0)"]  # sd 12.04
    assert rows[INDENT + "Missing"] == ["1", "1", "2"]
    female = table.rows[3][1:]
    assert female == ["2 (66.7 %)", "2 (66.7 %)", "4 (66.7 %)"]
    assert table.rows[5][1:] == ["1", "0", "1"]          # sex missing for one ECT participant


def test_cells_are_the_analysis_summaries():
    result = _result()
    table = table1_display(result)
    shown = {cell for row in table.rows for cell in row[1:] if cell and "(" in cell}
    assert shown <= set(result.tidy["summary"])


def test_latex_copy_indents_with_quad():
    text = latex_table(table1_display(_result()))
    assert "\\quad Female" in text or "\\quad{}Female" in text


def test_other_tables_are_not_table1():
    assert table1_display(SimpleNamespace(tidy=pd.DataFrame({"term": ["x"]}), extras={}, columns={},
                                          analysis_id="m", title=None, notes=[])) is None


def test_report_html_latex_and_word_show_table1_wide():
    from ketastats.report.display import analysis_table
    result = _result()
    result.type = "baseline_table"
    assert analysis_table(result).columns[0] == "Characteristic"
    result.type = "descriptives"   # any other type: the ordinary display of its tidy rows
    assert analysis_table(result).columns[0] != "Characteristic"
