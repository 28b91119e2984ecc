"""The wide participant-flow table (report/flow_table.py) built from the flow analysis's tidy rows."""

from types import SimpleNamespace

import pandas as pd

from ketastats.analyses import flow
from ketastats.analyses.base import AnalysisInput
from ketastats.report.display import analysis_table
from ketastats.report.exports import latex_table
from ketastats.report.flow_table import flow_display
from ketastats.report.table1 import INDENT


def _result():
    people = pd.DataFrame({"pid": list("abcde"), "arm": ["k", "k", "e", "e", "e"],
                           "treated": [True, True, False, True, True],
                           "status": ["completed", "lost", "completed", "completed", "ae"]}, index=range(1, 6))
    visits = pd.DataFrame({"pid": list("abcdeab"), "visit": ["v0"] * 5 + ["v1"] * 2}, index=range(1, 8))
    spec = flow.Spec(id="flow", type="flow", table="people", by="arm", treated="treated", status="status",
                     visits_table="visits")
    ctx = AnalysisInput("flow", "people", people, "pid", ["pid"],
                        versus=AnalysisInput("flow", "visits", visits, "pid", ["pid", "visit"]))
    result = flow.run(spec, ctx)
    result.columns = {"arm": SimpleNamespace(level_labels={"k": "Ketamine", "e": "ECT"}),
                      "status": SimpleNamespace(level_labels={"lost": "Lost to follow-up", "ae": "Adverse event"})}
    result.extras["level_labels"] = {"visit": {"v0": "Baseline", "v1": "Week 1"}}
    result.title = "Participant flow"
    return result


def test_rows_are_stages_and_columns_are_arms():
    table = flow_display(_result())
    assert table.columns == ["Stage", "ECT (n = 3)", "Ketamine (n = 2)", "Overall (n = 5)"]
    assert [row[0] for row in table.rows] == [
        "Randomized", "Received treatment", "Assessed at each visit", INDENT + "Baseline", INDENT + "Week 1",
        "Completed",
        "Discontinued", INDENT + "Adverse event", INDENT + "Lost to follow-up"]
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["Randomized"] == ["3 (100.0 %)", "2 (100.0 %)", "5 (100.0 %)"]
    assert rows["Received treatment"] == ["2 (66.7 %)", "2 (100.0 %)", "4 (80.0 %)"]
    assert rows[INDENT + "Week 1"] == ["0 (0.0 %)", "2 (100.0 %)", "2 (40.0 %)"]
    assert rows["Discontinued"] == ["1 (33.3 %)", "1 (50.0 %)", "2 (40.0 %)"]
    assert rows[INDENT + "Lost to follow-up"] == ["0 (0.0 %)", "1 (50.0 %)", "1 (20.0 %)"]


def test_cells_are_the_tidy_counts():
    """Every cell is the tidy row's count and percent (the CSV keeps the tidy rows)."""
    result = _result()
    table = flow_display(result)
    tidy = result.tidy
    expected = {f"{int(c)} ({p:.1f} %)" for c, p in zip(tidy["count"], tidy["percent"])}
    assert {cell for row in table.rows for cell in row[1:] if cell} == expected
    assert sum(len(row) - 1 for row in table.rows if row[0] != "Assessed at each visit") == len(tidy)


def test_report_dispatches_a_flow_to_the_wide_table():
    result = _result()
    wide = flow_display(result).columns
    assert analysis_table(result).columns == wide
    result.type = "descriptives"   # any other type: the ordinary display of its tidy rows
    assert analysis_table(result).columns != wide


def test_latex_copy_indents_the_reasons():
    text = latex_table(flow_display(_result()))
    assert "\\quad Adverse event" in text or "\\quad{}Adverse event" in text


def test_other_tables_are_not_flows():
    assert flow_display(SimpleNamespace(tidy=pd.DataFrame({"term": ["x"]}), extras={}, columns={},
                                        analysis_id="m", title=None, notes=[])) is None
