"""The display form of results tables shared by report.html, LaTeX and Word."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ketastats.report.display import MAX_ROWS, MINUS, analysis_table, display_table, format_number, format_p
from ketastats.results import AnalysisResult


@pytest.mark.parametrize("value, text", [(1.19e-21, "< 0.001"), (0.000999, "< 0.001"), (0.001, "0.001"),
                                         (0.0496, "0.050"), (0.23823, "0.238"), (1.0, "1.000"),
                                         (None, ""), (math.nan, "")])
def test_p_values(value, text):
    assert format_p(value) == text


@pytest.mark.parametrize("value, decimals, text", [(28.8261, 1, "28.8"), (-0.0416606, 3, f"{MINUS}0.042"),
                                                   (0.00942, 2, "0.00942"), (8.0, 0, "8"), (-0.0, 2, "0.00"),
                                                   (3.5e-6, 3, f"3.5 × 10{chr(0x207B)}{chr(0x2076)}"),
                                                   (True, 0, "yes"), (math.inf, 1, "∞")])
def test_numbers(value, decimals, text):
    assert format_number(value, decimals) == text


def test_settings_move_to_notes_and_intervals_join():
    frame = pd.DataFrame({"outcome": ["a", "b"], "estimate": [1.5, 2.25], "conf_low": [1.0, 2.0],
                          "conf_high": [2.0, 2.5], "conf_level": [0.9, 0.9], "method": ["welch", "welch"],
                          "statistic": [2.0, 3.0], "statistic_type": ["t", "t"], "effect_size": [0.4, 0.5],
                          "effect_size_type": ["cohen_d", "cohen_d"], "effect_size_conf_low": [0.1, 0.2],
                          "effect_size_conf_high": [0.7, 0.8], "empty": [None, None], "n": [10, 12]})
    table = display_table(frame)
    assert table.columns == ["Outcome", "Estimate", "90% CI", "t", "Cohen's d", "Cohen's d 90% CI", "n"]
    assert table.rows[0] == ["a", "1.50", "1.00 to 2.00", "2", "0.400", "0.100 to 0.700", "10"]
    assert table.notes == ["Confidence level: 0.9.", "Method: welch."]
    assert table.align == ["left", "right", "right", "right", "right", "right", "right"]


def test_varying_settings_stay_columns():
    frame = pd.DataFrame({"ci_method": ["wilson", "clopper_pearson"], "estimate": [0.5, 0.5]})
    assert display_table(frame).columns == ["CI method", "Estimate"]


def test_labels_from_the_dictionary_and_ambiguous_labels():
    frame = pd.DataFrame({"outcome": ["madrs_change_day1", "madrs_change_2wk", "other"], "estimate": [1.0, 2.0, 3.0]})
    labels = {"madrs_change_day1": "Change in MADRS (points)", "madrs_change_2wk": "Change in MADRS (points)",
              "other": "Something else"}
    assert [row[0] for row in display_table(frame, labels).rows] == [
        "Change in MADRS (points) [madrs_change_day1]", "Change in MADRS (points) [madrs_change_2wk]",
        "Something else"]


def test_long_tables_show_the_smallest_p_values():
    frame = pd.DataFrame({"outcome": [f"e{k:03d}" for k in range(150)], "p_value": [(k % 50 + 1) / 1000 + k / 1e6
                                                                                       for k in range(150)]})
    table = analysis_table(AnalysisResult("mass", "mass_mixed_model", tidy=frame, extras={"rows_by_p": True}))
    assert table.shape == (MAX_ROWS, 2)
    assert [row[0] for row in table.rows[:3]] == ["e000", "e050", "e100"]
    assert "Showing the 60 rows with the smallest p-values of 150" in table.notes[0]
    assert "tables/mass.csv" in table.notes[0]


def test_long_tables_put_intercepts_last():
    frame = pd.DataFrame({"outcome": [f"e{k // 2:03d}" for k in range(200)],
                          "term": ["Intercept", "time"] * 100, "p_value": [1e-20, 0.5] * 100})
    table = analysis_table(AnalysisResult("mass", "mass_mixed_model", tidy=frame, extras={"rows_by_p": True}))
    assert {row[1] for row in table.rows} == {"0.500"} and "Term: time." in table.notes   # one term left: a note


def test_an_ordinary_long_table_is_shown_whole_in_its_own_order():
    frame = pd.DataFrame({"term": [f"t{k:03d}" for k in range(150)], "p_value": [1 - k / 200 for k in range(150)]})
    table = analysis_table(AnalysisResult("mmrm", "mmrm", tidy=frame))
    assert table.shape == (150, 2) and [row[0] for row in table.rows[:2]] == ["t000", "t001"]
    assert not any("Showing" in note for note in table.notes)
