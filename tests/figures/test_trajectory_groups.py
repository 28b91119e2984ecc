"""The two-arm trajectory: one mean ± SE line per arm on one axis, n per arm and visit, labels
from the dictionary's level_labels; a second by column without ``group`` is caught by validate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import by_gid, draw

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "analysis_plans" / "ketamine_vs_ect.yaml"


def test_one_line_per_arm_with_se_bars_and_n(ect):
    figure = draw(ect, "hdrs_trajectory")
    tidy = ect.results["hdrs_by_visit_arm"].tidy
    for arm in ("ect", "ketamine"):
        (line,) = by_gid(figure, f"mean-{arm}")
        rows = tidy[tidy["randomized_arm"] == arm]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), rows["mean"].to_numpy(float))
        n_texts = {a.get_gid(): a.get_text() for a in by_gid(figure, f"n-{arm}-")}
        assert [n_texts[f"n-{arm}-{v}"] for v in rows["visit"]] == [str(n) for n in rows["n"]]
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ECT", "Ketamine"]   # level_labels
    assert ax.get_legend().get_title().get_text() == "Arm (mean ± SE)"
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["Baseline", "After treatment 3", "End of course"]


def test_se_bars_are_sd_over_root_n(ect):
    figure = draw(ect, "hdrs_trajectory")
    tidy = ect.results["hdrs_by_visit_arm"].tidy
    rows = tidy[tidy["randomized_arm"] == "ect"]
    (container,) = [c for c in figure.axes[0].containers if c[0].get_gid() == "mean-ect"]
    segments = container.lines[2][0].get_segments()
    half = np.array([abs(s[1][1] - s[0][1]) / 2 for s in segments])
    np.testing.assert_allclose(half, rows["sd"].to_numpy(float) / np.sqrt(rows["n"].to_numpy(float)), rtol=1e-12)


def test_two_by_columns_without_group_is_a_validation_error(tmp_path):
    import ketastats
    from ketastats.errors import PlanError

    text = PLAN.read_text(encoding="utf-8").replace("    group: randomized_arm\n    interval: se\n", "")
    plan = PLAN.parent / "_tmp_trajectory_without_group.yaml"   # beside the plan: its relative paths hold
    plan.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(PlanError) as caught:
            ketastats.validate_plan(plan)
    finally:
        plan.unlink()
    issues = [i for i in caught.value.issues if i.code == "figure-key-mismatch"]
    assert issues and "at most one group column" in issues[0].message
    assert issues[0].hint == "Name the other by column with group:"


def test_kaplan_meier_legend_above_the_axes_labels_from_the_dictionary_and_the_plan(ect):
    figure = draw(ect, "relapse_km_figure")
    ax = next(a for a in figure.axes if a.get_legend() is not None)
    renderer = figure.canvas.get_renderer()
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert legend_box.y0 >= ax.get_window_extent(renderer).y1 - 1     # clear of every curve and band
    assert [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()] == ["ECT", "Ketamine"]
    assert ax.get_ylabel() == "Relapse-free"
    ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
    assert len(ticks) >= 4 and 28 not in ticks and 91 not in ticks   # round ticks, not only the landmarks


# --- visits at their real times, a model's EMMs, labels inside the canvas ---------------------------

TIMES = {"baseline": 0, "tx3": 8, "eot": 18, "m1": 48, "m3": 109, "m6": 200}


def _inside_canvas(figure):
    """Every visible text's rendered box lies inside the figure (nothing clipped at an edge)."""
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    hidden = {id(t) for ax in figure.axes if not ax.axison for t in ax.get_xticklabels() + ax.get_yticklabels()}
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text()):
        if id(text) in hidden:     # tick labels of an axes drawn without axis (the numbers-at-risk table)
            continue
        extent = text.get_window_extent(renderer)
        assert extent.x0 >= box.x0 - 0.5 and extent.x1 <= box.x1 + 0.5, repr(text.get_text())
        assert extent.y0 >= box.y0 - 0.5 and extent.y1 <= box.y1 + 0.5, repr(text.get_text())


def _slanted_apart(ax):
    """45° labels anchored at their ticks: adjacent parallel labels are a font height apart or more
    (their distance is the ticks' distance × sin 45°)."""
    ticks = ax.transData.transform([(t, 0) for t in ax.get_xticks()])[:, 0]
    size = ax.get_xticklabels()[0].get_fontsize() * ax.figure.dpi / 72
    assert min(np.diff(ticks)) * np.sin(np.pi / 4) >= size


def test_visits_at_their_real_times_with_level_labels(ect):
    figure = draw(ect, "hdrs_trajectory")
    (ax,) = figure.axes
    spec = next(f for f in ect.plan.figures if f.id == "hdrs_trajectory")
    assert spec.x_times == TIMES
    np.testing.assert_allclose(ax.get_xticks(), list(TIMES.values()))
    for arm, sign in (("ect", -1), ("ketamine", 1)):           # dodged by 0.8 % of the span either side
        (line,) = by_gid(figure, f"mean-{arm}")
        np.testing.assert_allclose(line.get_xdata(), np.array(list(TIMES.values())) + sign * 0.004 * 200)
    (n,) = by_gid(figure, "n-ect-m3")
    assert n.xy[0] == 109
    assert ax.get_xlabel() == "Study day (mean day of the visit)"
    renderer = figure.canvas.get_renderer()
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {45.0}   # 0, 8 and 18 days: too close side by side
    _slanted_apart(ax)
    _inside_canvas(figure)
    # the legend is above the axes, clear of every line
    assert ax.get_legend().get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 1


def test_the_mixed_models_emms_are_drawn_with_their_cis(ect):
    figure = draw(ect, "hdrs_emm_trajectory")
    tidy = ect.results["hdrs_mixed_model"].tidy
    rows = tidy[(tidy["effect"] == "emmean") & (tidy["df_method"] == "satterthwaite")]
    (ax,) = figure.axes
    for arm in ("ect", "ketamine"):
        (container,) = [c for c in ax.containers if c[0].get_gid() == f"mean-{arm}"]
        arm_rows = rows[rows["level"] == arm]
        visits = [g.split("=", 1)[1] for g in arm_rows["group"]]
        assert visits == list(TIMES)
        np.testing.assert_allclose(container[0].get_ydata(), arm_rows["estimate"].to_numpy(float), rtol=1e-12)
        segments = container.lines[2][0].get_segments()
        np.testing.assert_allclose([s[0][1] for s in segments], arm_rows["conf_low"].to_numpy(float), rtol=1e-12)
        np.testing.assert_allclose([s[1][1] for s in segments], arm_rows["conf_high"].to_numpy(float), rtol=1e-12)
        # n: the participants rated at each visit (the analysed rows with an outcome)
        data = ect.results["hdrs_mixed_model"].data_used
        data = data[(data["randomized_arm"] == arm) & data["hdrs17"].notna()]
        counts = {a.get_gid(): a.get_text() for a in by_gid(figure, f"n-{arm}-")}
        assert counts == {f"n-{arm}-{v}": str(int((data["visit"] == v).sum())) for v in TIMES}
    assert not by_gid(figure, "individual-")
    assert ax.get_legend().get_title().get_text() == "Arm (EMM with 95 % CI)"
    _inside_canvas(figure)


def test_emms_of_another_df_method_and_se_bars(ect):
    figure = draw(ect, "hdrs_emm_trajectory", df_method="kenward_roger", interval="se")
    tidy = ect.results["hdrs_mixed_model"].tidy
    rows = tidy[(tidy["effect"] == "emmean") & (tidy["df_method"] == "kenward_roger") & (tidy["level"] == "ect")]
    (container,) = [c for c in figure.axes[0].containers if c[0].get_gid() == "mean-ect"]
    half = [abs(s[1][1] - s[0][1]) / 2 for s in container.lines[2][0].get_segments()]
    np.testing.assert_allclose(half, rows["std_error"].to_numpy(float), rtol=1e-9)


def test_a_level_without_a_time_fails_the_figure_with_its_key(ect):
    from ketastats.errors import FigureError

    with pytest.raises(FigureError) as caught:
        draw(ect, "hdrs_trajectory", x_times={k: v for k, v in TIMES.items() if k != "m3"})
    message = caught.value.issues[0].message
    assert "hdrs_trajectory" in message and "x_times" in message and "'m3'" in message


def _validate_with(replacements: dict[str, str]):
    import ketastats
    from ketastats.errors import PlanError

    text = PLAN.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    plan = PLAN.parent / "_tmp_trajectory_times.yaml"   # beside the plan: its relative paths hold
    plan.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(PlanError) as caught:
            ketastats.validate_plan(plan)
    finally:
        plan.unlink()
    return [i for i in caught.value.issues if i.code == "figure-key-mismatch"]


def test_x_times_are_validated_before_anything_runs():
    line = "    x_times: {baseline: 0, tx3: 8, eot: 18, m1: 48, m3: 109, m6: 200}\n"
    issues = _validate_with({line: "    x_times: {baseline: 0, tx3: 8, eot: 4, m1: 48, m6: 200, m9: 300}\n"})
    found = {(i.location.path, i.message) for i in issues}
    paths = {path for path, _ in found}
    assert "figures[0].x_times" in paths and "figures[0].x_times.m9" in paths and "figures[0].x_times.eot" in paths
    assert any("'m3' of 'visit' has no time" in m and "hdrs_trajectory" in m for _, m in found)
    assert any("'eot' (4) is not after 'tx3' (8)" in m for _, m in found)


def test_an_emm_trajectory_needs_emms_of_the_group_by_the_visit():
    issues = _validate_with({"      - {emmeans: randomized_arm, by: visit, versus: ect}\n":
                             "      - {emmeans: randomized_arm, versus: ect}\n",
                             "    individual: false\n": "    individual: false\n    interval: sd\n"})
    messages = {i.location.path: i for i in issues}
    emm = messages["figures[1].analysis"]
    assert "no EMMs of randomized_arm by visit" in emm.message and "emmeans: randomized_arm, by: visit" in emm.hint
    assert "not an SD" in messages["figures[1].interval"].message


def test_kaplan_meier_numbers_at_risk_under_a_row_of_their_times(ect):
    figure = draw(ect, "relapse_km_figure")
    times = {a.get_gid(): a.get_text() for a in by_gid(figure, "risk-time-")}
    assert times == {f"risk-time-{t:g}": f"{t:g}" for t in (0, 28, 91, 182)}
    (time_28,) = by_gid(figure, "risk-time-28")
    (ect_28,) = by_gid(figure, "at-risk-ect-28")
    assert time_28.get_position()[0] == ect_28.get_position()[0] == 28     # the column's time above its numbers
    _inside_canvas(figure)


def test_an_mmrms_ls_means_by_arm_and_visit(rct):
    """An mmrm (one df method, covariate at its mean): its emmean rows per arm and visit, CI bars."""
    from ketastats.figures import draw_figure
    from ketastats.figures.style import figure_style
    from ketastats.figures.trajectory import Spec

    analysis_id = next(s.id for s in rct.plan.analyses if s.type == "mmrm")
    spec = Spec(id="mmrm_trajectory", type="trajectory", analysis=analysis_id, x="visit", group="randomized_arm",
                individual=False)
    with figure_style(spec.preset):
        figure = draw_figure(rct, spec)
        figure.canvas.draw()
    tidy = rct.results[analysis_id].tidy
    rows = tidy[(tidy["effect"] == "emmean") & (tidy["level"] == "ketamine")]
    (container,) = [c for c in figure.axes[0].containers if c[0].get_gid() == "mean-ketamine"]
    np.testing.assert_allclose(container[0].get_ydata(), rows["estimate"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose([s[1][1] for s in container.lines[2][0].get_segments()],
                               rows["conf_high"].to_numpy(float), rtol=1e-12)
    _inside_canvas(figure)


@pytest.mark.parametrize("preset", ["single_column", "double_column"])
def test_trajectories_keep_every_text_inside_at_other_presets(ect, preset):
    for figure_id in ("hdrs_trajectory", "hdrs_emm_trajectory"):
        figure = draw(ect, figure_id, preset=preset)
        _inside_canvas(figure)
        ax = figure.axes[0]
        rotation = ax.get_xticklabels()[0].get_rotation()
        if rotation == 45:
            _slanted_apart(ax)
        elif rotation == 90:                      # upright labels: a font height apart
            ticks = ax.transData.transform([(t, 0) for t in ax.get_xticks()])[:, 0]
            assert min(np.diff(ticks)) >= ax.get_xticklabels()[0].get_fontsize() * figure.dpi / 72
        renderer = figure.canvas.get_renderer()
        for arm in ("ect", "ketamine"):           # the numbers of one n row never touch
            boxes = sorted((t.get_window_extent(renderer) for t in by_gid(figure, f"n-{arm}-")), key=lambda b: b.x0)
            assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:])), (figure_id, preset, arm)


def test_descriptives_have_no_ci_and_no_df_method():
    issues = _validate_with({"    interval: se\n    x_times":
                             "    interval: ci\n    df_method: satterthwaite\n    x_times"})
    messages = {i.location.path: i.message for i in issues}
    assert "no confidence intervals" in messages["figures[0].interval"]
    assert "descriptives" in messages["figures[0].df_method"]
