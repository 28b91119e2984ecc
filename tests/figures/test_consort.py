"""consort: the CONSORT flow diagram of a flow analysis. Box texts equal the tidy counts (with the
dictionary's labels), every text lies inside its box and the canvas, boxes do not overlap, every
arrow runs from a box's edge (or from the column's main line) to the next box's edge, and a
figure pointed at another analysis type is refused before anything runs."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from ketastats.analyses import flow, ttest
from ketastats.analyses.base import AnalysisInput
from ketastats.figures import consort
from ketastats.figures.base import FigureContext
from ketastats.figures.style import figure_style

from .conftest import by_gid, draw

TOLERANCE = 0.75
"""Display pixels: the rounding of a drawn edge (boxes have no padding; arrows end on the edge)."""


def _flat(text: str) -> str:
    """A box's text on one line (wrapping and non-breaking spaces undone)."""
    return " ".join(text.replace("\u00a0", " ").split())


def _boxes(figure) -> dict:
    """Box key → its extent in display pixels."""
    renderer = figure.canvas.get_renderer()
    return {a.get_gid()[len("box-"):]: a.get_window_extent(renderer) for a in by_gid(figure, "box-")}


def _texts(figure) -> dict:
    return {a.get_gid()[len("text-"):]: a for a in by_gid(figure, "text-")}


def _arrow_points(figure, arrow):
    """The arrow's path (as drawn from, to) in display pixels. ``_path_original`` is the path passed to
    FancyArrowPatch (matplotlib has no public getter; ``get_path`` adds the arrow head)."""
    return arrow.get_transform().transform(arrow._path_original.vertices)


def _check_geometry(figure):
    """Texts inside their boxes and the canvas, boxes apart, arrows from box (or line) to box."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    boxes = _boxes(figure)
    texts = _texts(figure)
    assert set(boxes) == set(texts)
    for key, text in texts.items():
        inner, outer = text.get_window_extent(renderer), boxes[key]
        assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and inner.y1 <= outer.y1, \
            (key, inner, outer)
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text()):
        box = text.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.x1 <= width + 0.5 and box.y0 >= -0.5 and box.y1 <= height + 0.5, \
            (text.get_text(), box)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), (a, b)
    # the synthetic-data mark and the title do not touch a box
    for text in figure.texts:
        extent = text.get_window_extent(renderer)
        assert not any(extent.overlaps(box) for box in boxes.values()), text.get_text()

    arrows = {a.get_gid(): a for a in by_gid(figure, "arrow-")}
    assert arrows
    lines = {}
    for gid, arrow in arrows.items():
        start, end = _arrow_points(figure, arrow)[[0, -1]]
        target = next(key for key in boxes if gid.endswith("-" + key))
        source = gid[len("arrow-"):-len(target) - 1]
        lines[(source, target)] = (start, end)
        assert _on_edge(end, boxes[target]), (gid, end, boxes[target])
        if not target.startswith("discontinued"):
            assert _on_edge(start, boxes[source]), (gid, start, boxes[source])
    # a side arrow leaves the main line running from the box above it to the completed box
    for (source, target), (start, _) in lines.items():
        if target.startswith("discontinued"):
            arm = target[len("discontinued-"):]
            top, bottom = lines[(source, f"completed-{arm}")]
            assert abs(start[0] - top[0]) <= TOLERANCE and bottom[1] < start[1] < top[1], (source, target)
    return boxes, texts, arrows


def _on_edge(point, box) -> bool:
    x, y = point
    inside_x = box.x0 - TOLERANCE <= x <= box.x1 + TOLERANCE
    inside_y = box.y0 - TOLERANCE <= y <= box.y1 + TOLERANCE
    on_x = min(abs(x - box.x0), abs(x - box.x1)) <= TOLERANCE
    on_y = min(abs(y - box.y0), abs(y - box.y1)) <= TOLERANCE
    return (inside_x and on_y) or (inside_y and on_x)


def _count(tidy, stage, group, visit=None, level=None) -> int:
    rows = tidy[(tidy["stage"] == stage) & (tidy["group"] == group)]
    rows = rows[rows["visit"] == visit] if visit is not None else rows
    rows = rows[rows["level"] == level] if level is not None else rows[rows["level"].isna()]
    (count,) = rows["count"].tolist()
    return int(count)


def test_consort_of_the_ketamine_vs_ect_plan(ect):
    figure = draw(ect, "consort_diagram")
    tidy = ect.results["participant_flow"].tidy
    boxes, texts, arrows = _check_geometry(figure)
    assert _flat(texts["randomized"].get_text()) == f"Randomized (n = {_count(tidy, 'randomized', 'Overall')})"
    visits = {"baseline": "Baseline", "tx3": "After treatment 3", "eot": "End of course", "m1": "1 month",
              "m3": "3 months", "m6": "6 months"}
    reasons = {"adverse_event": "Adverse event", "lack_of_efficacy": "Lack of efficacy",
               "withdrew_consent": "Withdrew consent", "lost_to_follow_up": "Lost to follow-up"}
    for arm, label in (("ect", "ECT"), ("ketamine", "Ketamine")):
        n, treated = _count(tidy, "randomized", arm), _count(tidy, "treated", arm)
        assert _flat(texts[f"allocated-{arm}"].get_text()) == (
            f"Allocated to {label} (n = {n}) Received allocated intervention (n = {treated}) "
            f"Did not receive allocated intervention (n = {n - treated})")
        assert _flat(texts[f"assessed-{arm}"].get_text()) == "Assessed at each visit " + " ".join(
            f"{text} (n = {_count(tidy, 'assessed', arm, visit=code)})" for code, text in visits.items())
        assert _flat(texts[f"discontinued-{arm}"].get_text()) == \
            f"Discontinued (n = {_count(tidy, 'discontinued', arm)}) " + " ".join(
                f"{text} (n = {_count(tidy, 'discontinued', arm, level=code)})" for code, text in reasons.items())
        assert _flat(texts[f"completed-{arm}"].get_text()) == f"Completed (n = {_count(tidy, 'completed', arm)})"
        for source, target in (("randomized", f"allocated-{arm}"), (f"allocated-{arm}", f"assessed-{arm}"),
                               (f"assessed-{arm}", f"completed-{arm}"), (f"assessed-{arm}", f"discontinued-{arm}")):
            assert f"arrow-{source}-{target}" in arrows
    # two arms: the side boxes on the outer sides
    assert boxes["discontinued-ect"].x1 < boxes["completed-ect"].x0
    assert boxes["discontinued-ketamine"].x0 > boxes["completed-ketamine"].x1
    assert all("$" not in t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")))


@pytest.mark.parametrize("preset", ["single_column", "one_and_half_column", "double_column"])
def test_every_preset_fits(ect, preset):
    figure = draw(ect, "consort_diagram", preset=preset)
    _check_geometry(figure)


def _flow_result(with_stages: bool, arms: str = "kkee"):
    people = pd.DataFrame({"pid": list("abcd"), "arm": list(arms), "treated": [True, True, False, True],
                           "status": ["completed", "lost", "completed", "completed"]}, index=range(1, 5))
    visits = pd.DataFrame({"pid": list("abcdab"), "visit": ["v0"] * 4 + ["v1"] * 2}, index=range(1, 7))
    if with_stages:
        spec = flow.Spec(id="f", type="flow", table="people", by="arm", treated="treated", status="status",
                         visits_table="visits")
    else:
        spec = flow.Spec(id="f", type="flow", table="people", by="arm")
    ctx = AnalysisInput("f", "people", people, "pid", ["pid"],
                        versus=AnalysisInput("f", "visits", visits, "pid", ["pid", "visit"]))
    return flow.run(spec, ctx)


def _draw_result(result, preset="single_column"):
    spec = consort.Spec(id="c", type="consort", analysis="f", preset=preset)
    with figure_style(spec.preset):
        figure = consort.draw(spec, FigureContext(spec=spec, result=None, analysis=result))
        figure.canvas.draw()
    return figure


def test_stages_the_flow_did_not_report_have_no_box():
    figure = _draw_result(_flow_result(with_stages=False))
    boxes, texts, _ = _check_geometry(figure)
    assert set(boxes) == {"randomized", "allocated-k", "allocated-e"}
    assert _flat(texts["allocated-k"].get_text()) == "Allocated to k (n = 2)"   # no dictionary: the code


def test_codes_without_labels_and_a_small_trial():
    figure = _draw_result(_flow_result(with_stages=True))
    _, texts, _ = _check_geometry(figure)
    assert _flat(texts["discontinued-k"].get_text()) == "Discontinued (n = 1) lost (n = 1)"
    assert _flat(texts["assessed-k"].get_text()) == "Assessed at each visit v0 (n = 2) v1 (n = 2)"
    assert _flat(texts["allocated-e"].get_text()).endswith("Did not receive allocated intervention (n = 1)")


def test_one_arm_column_has_its_side_box_on_the_right():
    figure = _draw_result(_flow_result(with_stages=True, arms="kkkk"))
    boxes, _, _ = _check_geometry(figure)
    assert boxes["discontinued-k"].x0 > boxes["completed-k"].x1


def test_a_consort_of_another_analysis_is_refused():
    figure = consort.Spec(id="c", type="consort", analysis="t")
    other = ttest.Spec(id="t", type="ttest", table="people", outcome="y", group="arm")
    (problem,) = figure.check_analysis(other)
    assert problem.message == "analysis 't' is of type ttest; a consort figure draws the participant counts of " \
                              "a flow analysis"
    assert consort.Spec.ANALYSIS_TYPES == ("flow",)     # validate's figure-analysis-mismatch
    no_arms = flow.Spec(id="f", type="flow", table="people")
    (problem,) = figure.check_analysis(no_arms)
    assert "has no by column" in problem.message
    assert figure.check_analysis(flow.Spec(id="f", type="flow", table="people", by="arm")) == []
