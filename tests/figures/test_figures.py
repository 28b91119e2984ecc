"""Every figure type drawn from real analysis results of the example plans (synthetic data).

Each test checks something the figure could get wrong: labels from the data dictionaries,
the number of participant lines or bars, annotations equal to the analysis's tidy values,
numbers at risk equal to the Kaplan-Meier table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ketastats.figures.style import p_text, stars

from .conftest import by_gid, draw


def _texts(figure, prefix):
    return {a.get_gid(): a.get_text() for a in by_gid(figure, prefix)}


# --- trajectory (Fig. 1) ------------------------------------------------------------------------

def test_trajectory_participant_lines_means_panels_and_n(siegel):
    figure = draw(siegel, "fig1_madrs_course")
    analysis = siegel.results["madrs_by_visit_per_protocol"]
    used = analysis.data_used
    participants = used.loc[used["madrs"].notna(), "participant_id"].nunique()
    (lines,) = [a for a in by_gid(figure, "individual") if a.get_gid() == "individual"]   # one LineCollection
    assert len(lines.get_segments()) == participants == 22                  # one polyline per participant
    (values,) = by_gid(figure, "individual-values")                          # their values, one marker line
    assert len(values.get_xdata()) == sum(len(segment) for segment in lines.get_segments())
    tidy = analysis.tidy[analysis.tidy["outcome"] == "madrs"]
    (mean_line,) = by_gid(figure, "mean")
    np.testing.assert_allclose(np.asarray(mean_line.get_ydata(), float), tidy["mean"].to_numpy(float))
    main_axes = mean_line.axes
    assert main_axes.get_ylabel() == "MADRS total score (points)"     # dictionary label and unit
    n_texts = _texts(figure, "n-")
    assert [n_texts[f"n-{v}"] for v in tidy["visit"]] == [str(n) for n in tidy["n"]]
    proportions = siegel.results["response_rates"].tidy.drop_duplicates(subset=["outcome", "visit"])
    for outcome in ("responder", "remitter", "cgi_improved"):
        (line,) = by_gid(figure, f"percent-{outcome}")
        expected = proportions.loc[proportions["outcome"] == outcome, "percent"].to_numpy()
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), np.asarray(expected, float))
    assert {line.get_label() for line in by_gid(figure, "percent-")} == {"Response", "Remission", "CGI-I 1-2"}
    posthoc = siegel.results["madrs_rm_anova"].tidy.dropna(subset=["contrast"])
    marks = _texts(figure, "significance-")
    expected = {f"significance-{c.split(' - ')[0]}": stars(p) for c, p in zip(posthoc["contrast"],
                                                                              posthoc["p_adjusted"])}
    assert marks == expected and set(marks.values()) == {"***"}


def test_trajectory_without_panels_puts_n_under_the_main_axis(siegel):
    figure = draw(siegel, "fig1_madrs_course", proportions=None, significance=None, individual=False)
    assert by_gid(figure, "individual-") == [] and by_gid(figure, "percent-") == []
    assert len(figure.axes) == 1 and len(by_gid(figure, "n-")) == 6


def test_trajectory_at_real_times_moves_means_participants_stars_and_n(siegel):
    tidy = siegel.results["madrs_by_visit_per_protocol"].tidy
    levels = list(dict.fromkeys(tidy["visit"]))
    times = {str(level): float(day) for level, day in zip(levels, [0, 1, 2, 7, 14, 28])}
    figure = draw(siegel, "fig1_madrs_course", x_times=times, x_label="Day")
    (mean_line,) = by_gid(figure, "mean")
    np.testing.assert_allclose(np.asarray(mean_line.get_xdata(), float),
                               [times[str(v)] for v in tidy[tidy["outcome"] == "madrs"]["visit"]])
    assert by_gid(figure, f"n-{levels[3]}")[0].xy[0] == 7
    for mark in by_gid(figure, "significance-"):
        assert mark.get_position()[0] == times[mark.get_gid().split("-", 1)[1]]
    (lines,) = [a for a in by_gid(figure, "individual") if a.get_gid() == "individual"]
    assert set(np.concatenate([segment[:, 0] for segment in lines.get_segments()])) <= set(times.values())
    percent_axes = by_gid(figure, "percent-")[0].axes
    assert percent_axes.get_xlabel() == "Day"
    assert [t.get_text() for t in percent_axes.get_xticklabels()] == [str(v) for v in levels]
    np.testing.assert_allclose(percent_axes.get_xticks(), list(times.values()))


# --- paired_change (Fig. 2b-c, 3b-c) ---------------------------------------------------------------

@pytest.mark.parametrize("figure_id, analysis_id", [("fig2b_sgacc_dmn", "fc_sgacc_dmn"), ("fig3b_limbic", "fc_limbic")])
def test_paired_change_lines_per_participant_and_model_p_values(siegel, figure_id, analysis_id):
    figure = draw(siegel, figure_id)
    result = siegel.results[analysis_id]
    used = result.data_used.dropna(subset=["responder_2wk"])
    outcome = analysis_id
    counts = used.dropna(subset=[outcome]).groupby("participant_id")["time_post"].nunique()
    both = set(counts.index[counts == 2])
    # one segment per participant (one LineCollection per group panel), in the participants' id order,
    # each joining the participant's pre and post values; the markers are the same points
    for level in (True, False):
        (lines,) = [c for c in by_gid(figure, f"participants-{level}") if c.get_gid() == f"participants-{level}"]
        (values,) = by_gid(figure, f"participants-{level}-values")
        ids = sorted(used.loc[used["participant_id"].isin(both) & (used["responder_2wk"] == level),
                              "participant_id"].unique(), key=str)
        segments = lines.get_segments()
        assert len(segments) == len(ids) > 0
        for segment, participant in zip(segments, ids):
            rows = used[used["participant_id"] == participant].sort_values("time_post")
            np.testing.assert_allclose(segment[:, 1], rows[outcome].to_numpy(float))
            np.testing.assert_allclose(segment[:, 0], [0, 1])
        np.testing.assert_allclose(np.asarray(values.get_ydata(), float), np.concatenate(segments)[:, 1])
    assert sum(len(c.get_segments()) for c in by_gid(figure, "participants-") if hasattr(c, "get_segments")) \
        == len(both)
    titles = sorted(ax.get_title() for ax in figure.axes if "(n = " in ax.get_title())
    by_group = used[used["participant_id"].isin(both)].drop_duplicates("participant_id")["responder_2wk"]
    assert titles == sorted([f"Non-responders (n = {int((~by_group.astype(bool)).sum())})",
                             f"Responders (n = {int(by_group.astype(bool).sum())})"])
    tidy = result.tidy
    fixed = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "residual")].set_index("term")
    (annotation,) = by_gid(figure, "p-values")
    assert p_text(fixed.loc["time_post", "p_value"]) in annotation.get_text()
    assert p_text(fixed.loc["time_post:responder_2wk[T.True]", "p_value"]) in annotation.get_text()
    assert figure.axes[0].get_ylabel() == siegel.results[analysis_id].columns[outcome].display_name(outcome)


def test_paired_change_from_a_paired_ttest(siegel):
    from ketastats.figures.paired_change import Spec

    spec = Spec(id="madrs_day1", type="paired_change", analysis="madrs_day1_vs_baseline")
    from ketastats.figures import draw_figure
    from ketastats.figures.style import figure_style

    with figure_style(spec.preset):
        figure = draw_figure(siegel, spec)
    row = siegel.results["madrs_day1_vs_baseline"].tidy.iloc[0]
    (lines,) = [c for c in by_gid(figure, "participants-") if hasattr(c, "get_segments")]
    assert len(lines.get_segments()) == int(row["n"])                        # one segment per participant
    (annotation,) = by_gid(figure, "p-values")
    assert p_text(row["p_value"]) in annotation.get_text()
    (diamond,) = [c for c in figure.axes[-1].get_lines() if c.get_marker() == "D"]
    assert diamond.get_ydata()[0] == pytest.approx(row["estimate"])          # day1 − baseline, as the analysis
    (change,) = by_gid(figure, "change-None")
    assert change.get_height() == pytest.approx(row["estimate"])              # mean change of the same pairs
    with figure_style(spec.preset):                                             # levels reversed: sign flips
        reversed_figure = draw_figure(siegel, spec.model_copy(update={"levels": ["day1", "baseline"]}))
    (diamond,) = [c for c in reversed_figure.axes[-1].get_lines() if c.get_marker() == "D"]
    assert diamond.get_ydata()[0] == pytest.approx(-row["estimate"])


# --- group_bars (Fig. 4) -------------------------------------------------------------------------

def test_group_bars_heights_and_significance_marks(siegel):
    figure = draw(siegel, "fig4_patients_vs_controls")
    pre = siegel.results["fc_patients_vs_controls_pre"].tidy.set_index("outcome")
    post = siegel.results["fc_patients_vs_controls_post"].tidy.set_index("outcome")
    outcomes = ["fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual"]
    bars = {b.get_gid(): b.get_height() for b in by_gid(figure, "bar-")}
    assert len(bars) == 12
    for o in outcomes:
        assert bars[f"bar-0-{o}"] == pytest.approx(pre.loc[o, "estimate2"])
        assert bars[f"bar-1-{o}"] == pytest.approx(pre.loc[o, "estimate1"])
        assert bars[f"bar-2-{o}"] == pytest.approx(post.loc[o, "estimate1"])
    marks = _texts(figure, "mark-")
    expected = {f"mark-{j}-{o}": stars(table.loc[o, "p_value"]) for j, table in ((1, pre), (2, post))
                for o in outcomes if table.loc[o, "p_value"] < 0.05}
    assert marks == expected
    assert len(marks) == 3   # DMN, sgACC-DMN and limbic before ketamine (the paper's Fig. 4)
    assert "Fisher z" in figure.axes[0].get_ylabel()
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["DMN FC", "sgACC-DMN FC", "Limbic FC",
                                                                        "Visual FC"]
    default = draw(siegel, "fig4_patients_vs_controls", bar_labels=None)
    assert [t.get_text().split(" (n = ")[0] for t in default.axes[0].get_legend().get_texts()] == [
        "controls", "imaging (fc_patients_vs_controls_pre)", "imaging (fc_patients_vs_controls_post)"]


# --- scatter (Fig. 5) ----------------------------------------------------------------------------

def test_scatter_annotation_equals_the_correlation_table(siegel):
    figure = draw(siegel, "fig5_hippocampus")
    tidy = siegel.results["volumes_vs_madrs_change"].tidy
    row = tidy[tidy["term"] == "hippocampus_r_icv"].iloc[0]
    (annotation,) = by_gid(figure, "annotation")
    text = annotation.get_text()
    assert f"r = {row['estimate']:.2f}" in text and text.endswith(f"{p_text(row['p_value'])}, n = {row['n']}")
    assert "r = 0.52" in text and "p = 0.023" in text   # the paper's r and p (19 participants with volumes)
    (points,) = by_gid(figure, "points")
    assert len(points.get_offsets()) == row["n"] == 19
    ax = figure.axes[0]
    assert ax.get_xlabel() == "Right hippocampus volume / ICV"             # the figure's labels: key
    # derived columns: the source's label, the row it is taken at (dictionary level label) and the unit
    assert ax.get_ylabel() == "Change in MADRS total score at Week 2 (points)"
    (fit,) = by_gid(figure, "fit")
    slope = np.diff(fit.get_ydata())[0] / np.diff(fit.get_xdata())[0]
    assert math.copysign(1, slope) == math.copysign(1, row["estimate"])


# --- kaplan_meier ---------------------------------------------------------------------------------

def test_kaplan_meier_numbers_at_risk_equal_the_km_table(rct):
    figure = draw(rct, "relapse_km_figure")
    tidy = rct.results["relapse_km"].tidy
    at_risk = _texts(figure, "at-risk-")
    for arm in ("placebo", "ketamine"):
        rows = tidy[(tidy["arm"] == arm) & (tidy["effect"] == "survival")]
        for time, n in zip(rows["time"], rows["n_at_risk"]):
            assert at_risk[f"at-risk-{arm}-{time:g}"] == str(n)
        n_total = tidy[(tidy["arm"] == arm) & (tidy["effect"] == "median")]["n"].iloc[0]
        assert at_risk[f"at-risk-{arm}-0"] == str(n_total)
        curve = rct.results["relapse_km"].extras["curves"][f"arm={arm}"]
        (marks,) = by_gid(figure, f"censor-{arm}")
        assert len(marks.get_offsets()) == sum(1 for c in curve["n_censor"] if c > 0)
        (line,) = by_gid(figure, f"curve-{arm}")
        assert min(line.get_ydata()) == pytest.approx(min(curve["surv"]))
        assert by_gid(figure, f"ci-{arm}")
    assert len(at_risk) == 2 * 5
    ax = by_gid(figure, "curve-placebo")[0].axes
    assert ax.get_xlabel() == rct.results["relapse_km"].columns["time"].display_name("time")
    legend = [t.get_text() for t in ax.get_legend().get_texts()][0]
    assert legend.startswith("Saline (n = 10; median 29")
    unit = rct.results["relapse_km"].columns["time"].unit
    assert unit and legend.endswith(f" {unit})")   # the median in the time's unit


# --- forest ---------------------------------------------------------------------------------------

def test_forest_of_a_cox_model(rct):
    figure = draw(rct, "relapse_cox_forest")
    tidy = rct.results["relapse_cox"].tidy
    fixed = tidy[tidy["effect"] == "fixed"]
    for _, row in fixed.iterrows():
        (marker,) = by_gid(figure, f"estimate-{row['term']}")
        assert marker.get_xdata()[0] == pytest.approx(row["hazard_ratio"])
        (text,) = by_gid(figure, f"text-{row['term']}")
        assert text.get_text() == f"{row['hazard_ratio']:.2f} ({row['hazard_ratio_conf_low']:.2f}, " \
                                  f"{row['hazard_ratio_conf_high']:.2f})"
        (p,) = by_gid(figure, f"p-{row['term']}")
        assert p.get_text() == p_text(row["p_value"])
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    assert any(list(line.get_xdata()) == [1.0, 1.0] for line in ax.get_lines())   # the null line


def test_forest_of_a_multiplicity_family_marks_the_threshold(siegel):
    figure = draw(siegel, "primary_outcomes_forest")
    family = siegel.families["primary_outcomes"].table
    (threshold,) = by_gid(figure, "threshold")
    assert threshold.get_xdata()[0] == pytest.approx(0.05 / 8)
    for _, member in family.iterrows():
        (point,) = by_gid(figure, f"p-{member['order']}")
        assert point.get_xdata()[0] == pytest.approx(member["p_value"])
        assert (point.get_markerfacecolor() != "white") == bool(member["significant"])
    estimates = [a for a in by_gid(figure, "estimate-") if a.get_gid()[len("estimate-"):].isdigit()]
    assert len(estimates) == int(family["estimate"].notna().sum()) == 6     # the F test has no estimate
    (f_text,) = by_gid(figure, "text-estimate-1")
    assert f_text.get_text().startswith("F(3, ")                           # printed beside, not over the axis
    dmn = siegel.results["fc_dmn"].tidy
    row = dmn[(dmn["term"] == "time_post") & (dmn["effect"] == "fixed") & (dmn["df_method"] == "residual")].iloc[0]
    (marker,) = by_gid(figure, "estimate-2")
    assert marker.get_xdata()[0] == pytest.approx(row["estimate"])


# --- diagnostics ----------------------------------------------------------------------------------

def test_diagnostics_residuals_are_conditional_on_the_random_intercepts(siegel):
    figure = draw(siegel, "diagnostics_fc_sgacc_dmn")
    result = siegel.results["fc_sgacc_dmn"]
    (points,) = by_gid(figure, "residuals")
    fitted, residual = points.get_offsets().T
    assert len(residual) == result.glance["n_obs"] == 40
    # random intercept: b_i = s_b^2 * sum(r_i) / (sigma^2 + n_i s_b^2), r = y - X beta (lme4 ranef)
    sd = result.tidy[result.tidy["effect"] == "ran_pars"].set_index("term")["estimate"]
    s_b, sigma = sd["sd__(Intercept)"], sd["sd__Observation"]
    extras = result.extras
    marginal = extras["observed"] - extras["fitted"]
    groups = np.asarray(extras["row_groups"])
    expected = np.empty_like(marginal)
    for g in np.unique(groups):
        rows = groups == g
        b = s_b ** 2 * marginal[rows].sum() / (sigma ** 2 + rows.sum() * s_b ** 2)
        expected[rows] = marginal[rows] - b
    np.testing.assert_allclose(residual, expected, rtol=1e-6, atol=1e-10)
    (qq,) = by_gid(figure, "qq")
    assert len(qq.get_offsets()) == 40
    assert figure.axes[0].get_ylabel() == "Residual" and figure.axes[1].get_xlabel() == "Normal quantile"


def test_figures_never_run_an_analysis(siegel, rct, monkeypatch):
    """Design convention 5: figures draw results; they never call an analysis's run."""
    from ketastats.analyses import REGISTRY

    def forbidden(*args, **kwargs):
        raise AssertionError("a figure called an analysis's run")

    for module in REGISTRY:
        monkeypatch.setattr(module, "run", forbidden)
    for result in (siegel, rct):
        for spec in result.plan.figures:
            assert draw(result, spec.id).axes, spec.id


# --- forest of a family mixing ratios and differences ---------------------------------------------

def _texts_inside(figure):
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text()):
        extent = text.get_window_extent(renderer)
        assert box.x0 - 0.5 <= extent.x0 and extent.x1 <= box.x1 + 0.5, repr(text.get_text())
        assert box.y0 - 0.5 <= extent.y0 and extent.y1 <= box.y1 + 0.5, repr(text.get_text())
    return renderer


def test_a_family_of_ratios_and_differences_is_drawn_in_panels_by_scale(ect):
    figure = draw(ect, "primary_forest")
    panels = {ax.get_gid(): ax for ax in figure.axes}
    difference, ratio = panels["panel-difference"], panels["panel-ratio"]
    assert difference.get_xscale() == "linear" and ratio.get_xscale() == "log"
    (null0,) = by_gid(figure, "null-difference")
    (null1,) = by_gid(figure, "null-ratio")
    assert null0.axes is difference and list(null0.get_xdata()) == [0.0, 0.0]
    assert null1.axes is ratio and list(null1.get_xdata()) == [1.0, 1.0]
    # the values drawn are the members' tidy rows
    mixed = ect.results["hdrs_mixed_model"].tidy
    hdrs = mixed[(mixed["effect"] == "contrast") & (mixed["group"] == "visit=eot")
                 & (mixed["df_method"] == "satterthwaite")].iloc[0]
    (marker,) = by_gid(figure, "estimate-1")
    assert marker.axes is difference and marker.get_xdata()[0] == pytest.approx(hdrs["estimate"])
    fisher = ect.results["response_eot_by_arm"].tidy
    odds = fisher[(fisher["outcome"] == "responder") & (fisher["term"] == "odds_ratio")].iloc[0]
    (marker,) = by_gid(figure, "estimate-2")
    assert marker.axes is ratio and marker.get_xdata()[0] == pytest.approx(odds["estimate"])
    assert ratio.get_xlim()[0] < odds["conf_low"] and ratio.get_xlim()[1] > odds["conf_high"] > 1
    (text,) = by_gid(figure, "text-estimate-2")
    assert text.get_text() == f"OR {odds['estimate']:.2f} ({odds['conf_low']:.2f}, {odds['conf_high']:.2f})"
    assert not by_gid(figure, "estimate-3")                                 # log-rank: no estimate
    assert by_gid(figure, "text-estimate-3")[0].get_text().startswith("χ² = 5.67")
    family = ect.families["primary"].table
    (p_text_3,) = by_gid(figure, "text-p-3")
    assert p_text_3.get_text() == "0.017 (0.052)" and family["p_adjusted"].iloc[2] == pytest.approx(0.0517, abs=1e-4)
    # plain tick labels on the log axes (no mathtext), and no text drawn inside a panel over its null line
    for ax in figure.axes:
        for label in ax.get_xticklabels():
            assert "$" not in label.get_text()
    assert [t.get_text() for t in ratio.get_xticklabels()] == ["0.1", "0.25", "0.5", "1"]
    renderer = _texts_inside(figure)
    for ax in (difference, ratio):
        inside = ax.get_window_extent(renderer)
        for text in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_text() and a is not ax.xaxis.label):
            if text in ax.get_xticklabels() + ax.get_yticklabels():
                continue
            assert not text.get_window_extent(renderer).overlaps(inside) or text.axes is not ax, text.get_text()


@pytest.mark.parametrize("preset", ["single_column", "one_and_half_column", "double_column"])
def test_family_forests_keep_labels_and_columns_inside_the_figure(ect, siegel, preset):
    for result, figure_id in ((ect, "primary_forest"), (siegel, "primary_outcomes_forest")):
        figure = draw(result, figure_id, preset=preset)
        _texts_inside(figure)
        renderer = figure.canvas.get_renderer()
        labels = [t for ax in figure.axes for t in ax.get_yticklabels() if t.get_text()]
        panels = [ax.get_window_extent(renderer) for ax in figure.axes if ax.get_gid().startswith("panel-")]
        for label in labels:                       # member labels end left of every panel
            assert label.get_window_extent(renderer).x1 <= min(p.x0 for p in panels) + 0.5


def test_cox_forest_texts_inside_at_every_preset_and_terms_in_words(rct, ect):
    for preset in ("single_column", "one_and_half_column", "double_column"):
        _texts_inside(draw(rct, "relapse_cox_forest", preset=preset))
    figure = draw(ect, "relapse_cox_forest")
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["Ketamine vs ECT", "Age (years)"]
