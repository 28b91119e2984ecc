"""Dictionary ``level_labels``: display names of levels in the report's tables (HTML, LaTeX, Word), codes in the
CSVs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from ketastats.data.dictionary import Column
from ketastats.report.display import analysis_table, display_table
from ketastats.report.format import to_csv_text
from ketastats.results import AnalysisResult

ROOT = Path(__file__).resolve().parents[2]
ARM = Column(type="category", levels=["ect", "ketamine"], level_labels={"ect": "ECT", "ketamine": "Ketamine"})
VISIT = Column(type="category", levels=["baseline", "tx3"], level_labels={"tx3": "After treatment 3"})


def _result(tidy: pd.DataFrame) -> AnalysisResult:
    result = AnalysisResult("a", "descriptives", tidy=tidy)
    result.columns = {"randomized_arm": ARM, "visit": VISIT}
    return result


def test_by_columns_identity_columns_contrasts_and_selectors_are_relabelled():
    tidy = pd.DataFrame({"randomized_arm": ["ect", "ketamine"], "level": ["ect", "other"],
                         "contrast": ["ketamine - ect", None], "group": ["visit=tx3", "visit=baseline"],
                         "estimate": [1.0, 2.0]})
    table = analysis_table(_result(tidy))
    assert [row[:4] for row in table.rows] == [["ECT", "ECT", "Ketamine \u2212 ECT", "visit=After treatment 3"],
                                               ["Ketamine", "other", "", "visit=baseline"]]
    # the CSV keeps the codes
    assert "ketamine - ect" in to_csv_text(tidy) and "ECT" not in to_csv_text(tidy)


def test_a_code_two_columns_label_differently_is_left_alone():
    other = Column(type="category", levels=["ect"], level_labels={"ect": "Electroconvulsive therapy"})
    table = display_table(pd.DataFrame({"level": ["ect"], "estimate": [1.0]}),
                          level_labels={"arm": ARM.level_labels, "treatment": other.level_labels})
    assert table.rows == [["ect", "1"]]


def test_without_level_labels_nothing_changes():
    tidy = pd.DataFrame({"group": ["ect"], "estimate": [1.0]})
    result = AnalysisResult("a", "descriptives", tidy=tidy)
    assert analysis_table(result).rows == [["ect", "1"]]


@pytest.mark.parametrize("column, message", [
    ({"type": "category", "levels": ["a"], "level_labels": {"b": "B"}}, "not among the levels"),
    ({"type": "integer", "level_labels": {"1": "one"}}, "only for category and boolean"),
])
def test_dictionary_checks_level_labels(column, message):
    with pytest.raises(ValidationError, match=message):
        Column.model_validate(column)


def test_boolean_level_labels():
    assert Column(type="boolean", level_labels={"true": "Responder"}).level_labels == {"true": "Responder"}


def test_example_plan_tables_use_the_labels():
    import ketastats

    result = ketastats.run_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml", write=False)
    flow = analysis_table(result.results["participant_flow"])
    assert ["\u2003After treatment 3", "24 (80.0 %)"] in [row[:2] for row in flow.rows]   # wide: stage x arm
    assert flow.columns[1] == "ECT (n = 30)"
    assert "ect" in set(result.tables["participant_flow"]["group"])
