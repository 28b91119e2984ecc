"""The plan's figures: section is checked before anything runs: unknown analysis, family or
column, a figure type that cannot draw the analysis, keys that do not fit it; errors name the plan
file, the YAML path and the line, with "did you mean"."""

from __future__ import annotations

import pytest

from ketastats.api import validate_plan
from ketastats.errors import PlanError

FIGURES = """
figures:
  - {id: f_ok, type: scatter, analysis: volumes_vs_madrs_change, x: hippocampus_r_icv}
  - {id: f_typo, type: scatter, analysis: volumes_vs_madrs_chang, x: hippocampus_r_icv}
  - {id: f_mismatch, type: kaplan_meier, analysis: fc_dmn}
  - {id: f_column, type: paired_change, analysis: fc_dmn, time: time_pots}
  - {id: f_x, type: scatter, analysis: volumes_vs_madrs_change, x: amygdala_l}
  - {id: f_family, type: forest, family: primary_outcome}
  - {id: f_ok, type: diagnostics, analysis: fc_dmn}
  - {id: f_panels, type: trajectory, analysis: madrs_by_visit, proportions: response_rates,
     proportion_outcomes: [responders]}
"""


def _issues(project, text):
    plan = project / "analysis_plans" / "siegel2021.yaml"
    original = plan.read_text(encoding="utf-8")
    head = original.split("\nfigures:")[0]
    plan.write_text(head + text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        validate_plan(plan)
    lines = plan.read_text(encoding="utf-8").splitlines()
    return caught.value.issues, lines


def test_figure_names_are_checked_with_locations(project):
    issues, lines = _issues(project, FIGURES)
    found = {(i.code, i.location.path): i for i in issues}
    typo = found[("unknown-analysis", "figures[1].analysis")]
    assert typo.hint == "Did you mean 'volumes_vs_madrs_change'?"
    assert typo.location.file.endswith("siegel2021.yaml")
    assert "volumes_vs_madrs_chang," in lines[typo.location.line - 1]
    mismatch = found[("figure-analysis-mismatch", "figures[2].analysis")]
    assert "mixed_model" in mismatch.message and "kaplan_meier" in mismatch.hint
    column = found[("unknown-column", "figures[3].time")]
    assert column.hint == "Did you mean 'time_post'?" and "time_pots" in lines[column.location.line - 1]
    assert ("figure-key-mismatch", "figures[4].x") in found          # a column, but not an x of the analysis
    assert found[("unknown-family", "figures[5].family")].hint == "Did you mean 'primary_outcomes'?"
    assert ("duplicate-id", "figures[6].id") in found
    assert ("figure-key-mismatch", "figures[7].proportion_outcomes[0]") in found
    assert not any(i.location.path and i.location.path.startswith("figures[0]") for i in issues)


def test_figure_shape_errors_point_at_the_yaml_path(project):
    issues, _ = _issues(project, """
figures:
  - {id: f1, type: scater, analysis: fc_dmn}
  - {id: f2, type: forest}
  - {id: f3, type: scatter, analysis: volumes_vs_madrs_change, x: hippocampus_r_icv, preset: poster}
""")
    paths = {i.location.path for i in issues}
    assert "figures[0].type" in paths
    assert any(p.startswith("figures[1]") for p in paths)
    assert "figures[2].preset" in paths
