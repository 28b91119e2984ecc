"""subgroup_forest: one row per subgroup level under its heading, the overall row on top, n per arm,
estimate [CI] texts equal to the tidy table, interaction p per subgroup, the null line at 0 (linear
axis) or 1 (log axis), no text over the null line or outside the canvas, plain tick labels."""

from __future__ import annotations

import pandas as pd
import pytest

from ketastats.analyses import subgroups
from ketastats.analyses.base import AnalysisInput
from ketastats.figures import subgroup_forest
from ketastats.figures.base import FigureContext
from ketastats.figures.style import figure_style
from ketastats.glossary import format_p

from .conftest import by_gid, draw


def _inside_canvas(figure):
    """Every visible text lies inside the figure (no clipped label)."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text()):
        box = text.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.x1 <= width + 0.5 and box.y0 >= -0.5 and box.y1 <= height + 0.5, \
            (text.get_text(), box)


def _no_text_over_the_null_line(figure, null):
    renderer = figure.canvas.get_renderer()
    x = null.get_window_extent(renderer).x0
    panel = next(a for a in figure.axes if a.get_gid() == "panel").get_window_extent(renderer)
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text()):
        box = text.get_window_extent(renderer)
        if box.y1 > panel.y0 and box.y0 < panel.y1:    # a text beside the panel's rows
            assert not (box.x0 < x < box.x1), text.get_text()


def test_subgroup_forest_of_the_ketamine_vs_ect_plan(ect):
    figure = draw(ect, "hdrs_subgroup_forest")
    tidy = ect.results["hdrs_change_subgroups"].tidy
    estimates = by_gid(figure, "estimate-")
    assert len(estimates) == len(tidy) == 7           # overall + 2 sex + 2 age + 2 severity
    overall = tidy[tidy["subgroup"] == "overall"].iloc[0]
    (marker,) = by_gid(figure, "estimate-overall-Overall")
    assert marker.get_xdata()[0] == pytest.approx(overall["estimate"])
    assert marker.get_ydata()[0] == 0                 # the overall row on top
    (text,) = by_gid(figure, "text-overall-Overall")
    assert text.get_text() == f"{overall['estimate']:.1f} [{overall['conf_low']:.1f}, {overall['conf_high']:.1f}]"
    for _, row in tidy[tidy["subgroup"] != "overall"].iterrows():
        ident = f"level-{row['subgroup']}-{row['level']}"
        (point,) = by_gid(figure, f"estimate-{ident}")
        assert point.get_xdata()[0] == pytest.approx(row["estimate"])
        (n1,) = by_gid(figure, f"n1-{ident}")
        (n2,) = by_gid(figure, f"n2-{ident}")
        assert (n1.get_text(), n2.get_text()) == (str(row["n1"]), str(row["n2"]))
        (printed,) = by_gid(figure, f"text-{ident}")
        assert printed.get_text() == \
            f"{row['estimate']:.1f} [{row['conf_low']:.1f}, {row['conf_high']:.1f}]".replace("-", "−")
    # the levels sit under their heading, in order; the interaction p is printed on the heading row
    labels = {a.get_gid(): a for a in by_gid(figure, "label-")}
    rows = sorted(labels.values(), key=lambda a: a.xy[1])
    assert [a.get_text() for a in rows] == ["Overall", "Sex", "Female", "Male", "Age (years)", "< 50", "≥ 50",
                                            "Baseline HDRS-17", "< 25", "≥ 25"]
    for heading, name in (("Sex", "sex"), ("Age (years)", "age"), ("Baseline HDRS-17", "hdrs_baseline")):
        (p,) = by_gid(figure, f"p-{heading}")
        assert p.get_text() == format_p(tidy[tidy["subgroup"] == name]["interaction_p_value"].iloc[0], "figure")
        assert p.xy[1] == labels[f"label-heading-{heading}"].xy[1]
    (null,) = by_gid(figure, "null")
    assert list(null.get_xdata()) == [0.0, 0.0]
    panel = next(a for a in figure.axes if a.get_gid() == "panel")
    assert panel.get_xscale() == "linear"
    ticks = [t.get_text() for t in panel.get_xticklabels() if t.get_text()]
    assert ticks and all("$" not in t for t in ticks)   # plain numbers, no mathtext
    assert by_gid(figure, "favours-right")[0].get_text() == "ECT better →"
    _inside_canvas(figure)
    _no_text_over_the_null_line(figure, null)


@pytest.mark.parametrize("preset", ["single_column", "double_column"])
def test_every_preset_fits(ect, preset):
    figure = draw(ect, "hdrs_subgroup_forest", preset=preset)
    _inside_canvas(figure)
    (null,) = by_gid(figure, "null")
    _no_text_over_the_null_line(figure, null)


def _binary_result():
    """A boolean outcome with a zero cell (level c: every treated participant responds) and a level
    with one arm only (d): odds ratios on a log axis, rows without an estimate say why."""
    arms = list("ttttrrrr")
    frame = pd.DataFrame({
        "pid": [f"p{i}" for i in range(40)],
        "g": arms * 4 + list("tttttttt"),
        "s": ["a"] * 8 + ["b"] * 8 + ["c"] * 8 + ["a"] * 8 + ["d"] * 8,
        "y": pd.array([True, False, True, False, False, False, True, False] * 2
                      + [True] * 4 + [True, False, False, False] + [True, True, False, False] * 2 + [True, False] * 4,
                      dtype="boolean")}, index=range(1, 41))
    spec = subgroups.Spec(id="resp", type="subgroups", table="t", outcome="y", group="g", levels=["t", "r"],
                          subgroups="s")
    return subgroups.run(spec, AnalysisInput("resp", "t", frame, "pid", ["pid"]))


def test_odds_ratios_on_a_log_axis_with_the_null_at_1_and_notes():
    result = _binary_result()
    spec = subgroup_forest.Spec(id="f", type="subgroup_forest", analysis="resp", term="odds_ratio",
                                preset="one_and_half_column")
    with figure_style(spec.preset):
        figure = subgroup_forest.draw(spec, FigureContext(spec=spec, result=None, analysis=result))
        figure.canvas.draw()
    panel = next(a for a in figure.axes if a.get_gid() == "panel")
    assert panel.get_xscale() == "log"
    (null,) = by_gid(figure, "null")
    assert list(null.get_xdata()) == [1.0, 1.0]
    ticks = [t.get_text() for t in panel.get_xticklabels() if t.get_text()]
    assert "1" in ticks and all("$" not in t and "^" not in t for t in ticks)
    texts = {a.get_gid(): a.get_text() for a in by_gid(figure, "text-level-")}
    assert texts["text-level-s-c"] == "not estimable"    # zero cell
    assert texts["text-level-s-d"] == "one arm only"
    assert by_gid(figure, "n1-level-s-c")[0].get_text() == "4/4"   # events / n for a boolean outcome
    tidy = result.tidy[result.tidy["term"] == "odds_ratio"]
    drawn = by_gid(figure, "estimate-")
    assert len(drawn) == int(tidy["estimate"].notna().sum())
    _inside_canvas(figure)
    _no_text_over_the_null_line(figure, null)


def test_a_mismatched_subgroup_is_a_validate_problem():
    analysis = subgroups.Spec(id="a", type="subgroups", table="t", outcome="y", group="g", subgroups=["sex"])
    figure = subgroup_forest.Spec(id="f", type="subgroup_forest", analysis="a", subgroups=["age"], outcome="z")
    messages = [p.message for p in figure.check_analysis(analysis)]
    assert any("'age' is not a subgroup" in m for m in messages) and any("'z' is not an outcome" in m for m in messages)
