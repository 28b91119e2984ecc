"""The LS-means summary of the trial's primary MMRM (LS-mean (SE) by arm and visit, difference (SE),
CI, p), as a statistician reads it: every cell is the tidy table's value, formatted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketastats.glossary import format_p
from ketastats.report.display import format_number, lsmeans_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rct():
    import ketastats

    return ketastats.run_plan(ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml", write=False)


def test_every_cell_is_the_tidy_value(rct):
    analysis = rct.results["madrs_mmrm"]
    table = lsmeans_table(analysis)
    assert table is not None and table.columns[:4] == [
        "Visit", "Saline: LS-mean (SE)", "Ketamine: LS-mean (SE)", "Ketamine − Saline (SE)"]   # level_labels
    tidy = analysis.tidy
    means, contrasts = tidy[tidy["effect"] == "emmean"], tidy[tidy["effect"] == "contrast"]
    visits = list(dict.fromkeys(means["group"]))
    shown = analysis.columns["visit"].level_labels
    assert [row[0] for row in table.rows] == [shown[v.split("=", 1)[1]] for v in visits]
    for row, visit in zip(table.rows, visits):
        contrast = contrasts[contrasts["group"] == visit].iloc[0]
        estimate, se = row[3].split(" (")
        assert float(estimate.replace("−", "-")) == pytest.approx(contrast["estimate"], abs=0.051)
        assert float(se.rstrip(")")) == pytest.approx(contrast["std_error"], abs=0.0051)
        assert row[5] == format_p(contrast["p_value"])
        placebo = means[(means["group"] == visit) & (means["level"] == "placebo")].iloc[0]
        assert row[1].startswith(format_number(placebo["estimate"], 1, fixed=True))


def test_the_report_shows_it_before_the_full_table(rct, tmp_path):
    from ketastats.report.html import render_html

    page = render_html(rct, figures=rct.figures)
    assert page.index('id="table-madrs_mmrm-lsmeans"') < page.index('id="table-madrs_mmrm"')


def test_analyses_without_emmeans_have_none(rct):
    assert lsmeans_table(rct.results["relapse_km"]) is None
