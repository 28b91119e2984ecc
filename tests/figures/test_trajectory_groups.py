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
    assert ax.get_legend().get_title().get_text() == "Arm"
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["Baseline", "After\ntreatment 3", "End of\ncourse"]


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
