"""``trajectory``: an outcome's course over visits (Siegel et al. 2021, Fig. 1; two-arm trials).

Top panel: one thin grey line per participant (the rows the ``descriptives`` analysis used),
and the analysis's mean ± SD per visit in black (its tidy ``mean`` and ``sd``, not recomputed).
Optional ``significance``: an ``rm_anova`` (post-hoc rows ``<visit> - <reference>``) or a
``paired_ttest`` analysis whose p-values (``p_adjusted`` when present) put ``*`` / ``**`` /
``***`` (p < 0.05 / 0.01 / 0.001) above the visit's mean. Optional ``proportions``: a
``proportions`` analysis by the same visit column, drawn beneath as percentages per visit (one
line per outcome, e.g. response, remission, CGI-I much / very much improved), with the number
of participants per visit (the descriptives ``n``) printed under the axis.

With ``group`` (a second by column, e.g. the arm) one coloured line per level is drawn on one
axis: mean ± SD or ± SE (SD / √n) of the descriptives. The source may also be a model: a
``mixed_model`` or ``mmrm`` analysis with an ``emmeans`` contrast of the group by the visit (or
of the visit by the group): its tidy ``emmean`` rows (``estimate`` with ``conf_low`` /
``conf_high``, or ± ``std_error``) are drawn, one line per group; n per group and visit counts
the analysed rows with an outcome. ``x_times`` puts each visit at its real time (e.g. the study
day); the ticks still show the visits' labels.

Plan keys: ``outcome`` (default the analysis's first outcome), ``x`` (default its first ``by``
column), ``group``, ``interval``, ``x_times``, ``x_label``, ``df_method`` (a mixed model fitted
with several: which one's EMM rows), ``individual`` (draw participant lines, default true),
``proportions``, ``proportion_outcomes`` (default all), ``significance``.

Example
-------
``{id: fig1_madrs_course, type: trajectory, analysis: madrs_by_visit_per_protocol,
proportions: response_rates, significance: madrs_rm_anova}``

>>> tick_rotation([0, 7, 21], [10.0, 10.0, 10.0], 2.0, 6.0)   # 2 pt per day: 14 pt apart, labels 10 pt wide
0
>>> tick_rotation([0, 7, 21], [30.0, 30.0, 30.0], 2.0, 6.0)   # too wide side by side: slanted
45
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec, column_field
from ketastats.language.fields import Identifier, Names

MODEL_TYPES = ("mixed_model", "mmrm")


class Spec(FigureSpec):
    """Mean ± SD (or SE) per visit with participant lines, one line per group when ``group`` is given,
    and optional panels of percentages with n per visit; or a mixed model's EMMs with their CIs."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("descriptives", *MODEL_TYPES)
    OTHER_TYPES: ClassVar[dict] = {"proportions": ("proportions",), "significance": ("rm_anova", "paired_ttest")}

    type: Literal["trajectory"]
    outcome: str | None = column_field("the outcome drawn (default: the analysis's first outcome)", default=None)
    x: str | None = column_field("the visit column on the x axis (default: the analysis's first by column)",
                                 default=None)
    group: str | None = column_field("a by column of the analysis drawn as one line per level on the same axis "
                                     "(e.g. the arm); n is shown per group", default=None)
    interval: Literal["sd", "se", "ci"] | None = Field(
        None, description="error bars: ± SD (the default for descriptives), ± SE (SD / √n; a model's std_error) "
                          "or a model's confidence interval (conf_low, conf_high; the default for models)")
    x_times: dict[str, float] | None = Field(
        None, description="visit level → its time (e.g. study day): visits drawn at their real times, ticks "
                          "labelled with the levels; every level of x, increasing in level order")
    x_label: str | None = Field(None, description="the x axis label (default: the x column's label), e.g. "
                                                  "Days since randomization")
    df_method: str | None = Field(None, description="a mixed model fitted with several df methods: whose EMM rows "
                                                    "(default: the analysis's first)")
    individual: bool = Field(True, description="draw one line per participant")
    proportions: Identifier | None = Field(None, description="a proportions analysis by the same visit column, "
                                                             "drawn beneath as percentages per visit")
    proportion_outcomes: Names = Field(default_factory=list, description="which outcomes of the proportions "
                                                                         "analysis (default: all)")
    significance: Identifier | None = Field(None, description="an rm_anova (post hoc versus a reference visit) or "
                                                              "paired_ttest analysis marking visits with * / ** / ***")

    def analysis_references(self):
        return [("analysis", self.analysis), ("proportions", self.proportions), ("significance", self.significance)]

    def check_analysis(self, analysis):
        if analysis.type in MODEL_TYPES:
            return self._check_model(analysis)
        problems = []
        if self.outcome is not None and self.outcome not in analysis.outcome:
            problems.append(Problem("outcome", f"'{self.outcome}' is not an outcome of analysis '{analysis.id}' "
                                        f"({', '.join(analysis.outcome)})"))
        if self.x is not None and self.x not in analysis.by:
            problems.append(Problem("x", f"'{self.x}' is not a by column of analysis '{analysis.id}'"))
        if self.x is None and not analysis.by:
            problems.append(Problem("analysis", f"analysis '{analysis.id}' has no by column to put on the x axis"))
        if self.group is not None and self.group not in analysis.by:
            problems.append(Problem("group", f"'{self.group}' is not a by column of analysis '{analysis.id}'"))
        x = self.x or next((c for c in analysis.by if c != self.group), None)
        others = [c for c in analysis.by if c not in (x, self.group)]
        if analysis.by and others:
            problems.append(Problem("group" if self.group is None else "analysis",
                                    f"analysis '{analysis.id}' is by {', '.join(analysis.by)}; a trajectory draws "
                                    "one x column and at most one group column",
                                    hint="Name the other by column with group:"))
        if self.group is not None and (self.proportions is not None or self.significance is not None):
            problems.append(Problem("group", "proportions and significance panels are drawn for one group only"))
        if self.interval == "ci":
            problems.append(Problem("interval", f"analysis '{analysis.id}' (descriptives) has no confidence "
                                                "intervals: use sd or se", hint="interval: ci is for a model's EMMs"))
        if self.df_method is not None:
            problems.append(Problem("df_method", "df_method selects a mixed model's EMM rows; analysis "
                                                 f"'{analysis.id}' is descriptives"))
        return problems

    def _check_model(self, analysis) -> list[Problem]:
        """A model's EMMs: ``x`` (required) and ``group`` must be the target and the by column of one
        of its ``emmeans`` contrasts; no proportions / significance panels; no SD."""
        problems = []
        entries = [(c.emmeans, list(c.by)) for c in getattr(analysis, "contrasts", [])]
        if self.x is None:
            problems.append(Problem("x", f"a trajectory of a model's EMMs needs x: (the visit factor of analysis "
                                         f"'{analysis.id}')"))
        elif emm_entry(entries, self.x, self.group) is None:
            wanted = f"emmeans: {self.group}, by: {self.x}" if self.group else f"emmeans: {self.x}"
            problems.append(Problem("analysis", f"analysis '{analysis.id}' has no EMMs of "
                                                f"{self.group + ' by ' + self.x if self.group else self.x}",
                                    hint=f"Add a contrast with {wanted} to analysis '{analysis.id}'"))
        response = _response(analysis)
        if self.outcome is not None and response is not None and self.outcome != response:
            problems.append(Problem("outcome", f"'{self.outcome}' is not the response of analysis '{analysis.id}' "
                                               f"({response})"))
        if self.proportions is not None or self.significance is not None:
            problems.append(Problem("proportions" if self.proportions else "significance",
                                    "proportions and significance panels are drawn with descriptives only"))
        if self.interval == "sd":
            problems.append(Problem("interval", "EMMs have a standard error and a confidence interval, not an SD",
                                    hint="Use interval: ci (the default) or se"))
        methods = getattr(analysis, "df_method", None)
        methods = [methods] if isinstance(methods, str) else list(methods or [])
        if self.df_method is not None and self.df_method not in methods:
            problems.append(Problem("df_method", f"'{self.df_method}' is not a df method of analysis "
                                                 f"'{analysis.id}' ({', '.join(methods)})"))
        return problems

    def check_others(self, analysis, others: dict, catalog) -> list[Problem]:
        """The proportions analysis must be by the same visit column (its outcomes as named); ``x_times``
        must give every level of the x column (in the dictionary) a finite time, increasing in level
        order. Nothing is said when that analysis names an unknown column: its own error is reported."""
        if analysis.type in MODEL_TYPES:
            x = self.x
        else:
            x = self.x or next((c for c in analysis.by if c != self.group), None)
        problems = []
        column = catalog.columns.get(analysis.table, {}).get(x) if x else None
        if self.x_times is not None and x and column is not None and getattr(column, "levels", None):
            problems += time_problems(self.x_times, [str(v) for v in column.levels], x)
        spec = others.get(self.proportions) if self.proportions else None
        known = catalog.columns.get(spec.table, {}) if spec is not None else {}
        if spec is not None and spec.type == "proportions" and all(c in known for c in [*spec.by, *spec.outcome]):
            if x not in spec.by:
                problems.append(Problem("proportions", f"analysis '{spec.id}' is not by '{x}'"))
            problems += [Problem(f"proportion_outcomes[{i}]", f"'{o}' is not an outcome of analysis '{spec.id}'")
                         for i, o in enumerate(self.proportion_outcomes) if o not in spec.outcome]
        return problems


def _response(analysis) -> str | None:
    """The response column of a model spec's formula (None when the formula does not parse: its own error)."""
    from ketastats.language.formulas import parse_formula

    try:
        return str(parse_formula(analysis.formula).response)
    except Exception:   # noqa: BLE001 - the analysis's own check reports a bad formula
        return None


def emm_entry(entries, x: str, group: str | None) -> tuple[str, list[str]] | None:
    """The (emmeans, by) contrast whose EMM rows give one value per x level (and group level):
    ``emmeans: group, by: x`` or ``emmeans: x, by: group``; without a group ``emmeans: x`` with no by.

    >>> emm_entry([("arm", ["visit"])], "visit", "arm")
    ('arm', ['visit'])
    >>> emm_entry([("arm", ["visit"])], "visit", None) is None
    True
    """
    for target, by in entries:
        if group is None and target == x and not by:
            return target, list(by)
        if group is not None and sorted([target, *by]) == sorted([x, group]) and len(by) == 1:
            return target, list(by)
    return None


def time_problems(times: dict, levels: list[str], x: str) -> list[Problem]:
    """What is wrong with ``x_times`` for the levels of ``x`` (in level order): a level without a time,
    a key that is no level, a time that is not finite, times not increasing.

    >>> [p.message for p in time_problems({"a": 0, "b": 7}, ["a", "b"], "visit")]
    []
    >>> [p.message for p in time_problems({"a": 7, "b": 0, "z": 1}, ["a", "b", "c"], "visit")][0]
    "level 'c' of 'visit' has no time"
    """
    problems = [Problem("x_times", f"level '{level}' of '{x}' has no time",
                        hint=f"Give every level of '{x}' a time: {', '.join(levels)}")
                for level in levels if level not in times]
    problems += [Problem(f"x_times.{key}", f"'{key}' is not a level of '{x}' ({', '.join(levels)})")
                 for key in times if key not in levels]
    problems += [Problem(f"x_times.{key}", f"the time of '{key}' is not a finite number")
                 for key, value in times.items() if not math.isfinite(float(value))]
    ordered = [(level, float(times[level])) for level in levels if level in times]
    for (a, ta), (b, tb) in zip(ordered, ordered[1:]):
        if not tb > ta:
            problems.append(Problem(f"x_times.{b}", f"times must increase in the order of the levels of '{x}': "
                                                    f"'{b}' ({tb:g}) is not after '{a}' ({ta:g})"))
    return problems


def tick_rotation(positions, widths, points_per_unit: float, font_pt: float) -> int:
    """0 when the tick labels (``widths`` in points, centred at ``positions`` in data units, drawn at
    ``points_per_unit``) fit side by side with a small gap, else 45, else 90 (slanted labels need
    about 1.5 font heights between ticks, upright ones about 1.2)."""
    gaps = [(b - a) * points_per_unit for a, b in zip(positions, positions[1:])]
    if all(gap >= (wa + wb) / 2 + 0.6 * font_pt for gap, wa, wb in zip(gaps, widths, widths[1:])):
        return 0
    return 45 if all(gap >= 1.5 * font_pt for gap in gaps) else 90


def _positions(spec: Spec, ctx: FigureContext, levels: list) -> dict:
    """level → x position: its ``x_times`` time, else its index (0, 1, …). Every drawn level must have a
    finite time, increasing in level order (a clear error naming the figure and the key)."""
    if spec.x_times is None:
        return {level: i for i, level in enumerate(levels)}
    x = spec.x or "x"
    problems = time_problems({k: v for k, v in spec.x_times.items() if k in {str(v) for v in levels}},
                             [str(level) for level in levels], x)
    if problems:
        raise FigureError(f"figure '{spec.id}': x_times: {problems[0].message}")
    return {level: float(spec.x_times[str(level)]) for level in levels}


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import GREY, PALETTE, add_title, mark_synthetic, new_figure, stars

    if ctx.analysis.type in MODEL_TYPES:
        return _draw_model(spec, ctx)
    extras = ctx.analysis.extras
    outcome = spec.outcome or extras["outcomes"][0]
    x = spec.x or next(c for c in extras["by"] if c != spec.group)
    subject = ctx.result.plan.subject
    tidy = ctx.analysis.tidy
    summary = tidy[tidy["outcome"] == outcome]
    if [c for c in extras["by"] if c not in (x, spec.group)]:
        raise FigureError(f"analysis '{ctx.analysis.analysis_id}' is by {extras['by']}; a trajectory draws one x "
                          "column and at most one group column")
    levels = ctx.levels(x, summary[x].tolist())
    if spec.group is not None:
        return _draw_groups(spec, ctx, summary, outcome, x, levels)
    position = _positions(spec, ctx, levels)
    at = [position[level] for level in levels]
    panels = spec.proportions is not None
    height = spec.height_mm or (105 if panels else 65)
    ticks = [str(level) for level in levels]
    rotation, tick_pt = _tick_layout(spec, at, ticks, 0.15, 0.97)
    height += 0 if spec.height_mm else tick_pt * 25.4 / 72
    figure = new_figure(spec.preset, height)
    top = add_title(figure, spec)
    bottom = (40 + tick_pt) / (height / 25.4 * 72)   # tick labels, the n row and the axis label (40 pt)
    if panels:
        grid = figure.add_gridspec(2, 1, height_ratios=[3, 2], hspace=0.12, left=0.15, right=0.97, top=top,
                                   bottom=bottom)
        ax, ax_p = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    else:
        grid = figure.add_gridspec(1, 1, left=0.15, right=0.97, top=top, bottom=bottom)
        ax, ax_p = figure.add_subplot(grid[0]), None
    if spec.individual:
        data = ctx.analysis.data_used
        data = data[data[outcome].notna() & data[x].notna()]
        traces = []
        for participant, rows in sorted(data.groupby(subject, observed=True, sort=False), key=lambda kv: str(kv[0])):
            xs = [position[v] for v in rows[x] if v in position]
            ys = [float(v) for v, level in zip(rows[outcome], rows[x]) if level in position]
            order = np.argsort(xs, kind="mergesort")
            traces.append(np.column_stack([np.asarray(xs, float)[order], np.asarray(ys, float)[order]]))
        individual_lines(ax, traces, [GREY] * len(traces), lw=0.45, alpha=0.6, marker_size=1.2)
    means = [float(summary.loc[summary[x] == level, "mean"].iloc[0]) for level in levels]
    sds = [float(summary.loc[summary[x] == level, "sd"].iloc[0]) for level in levels]
    container = ax.errorbar(at, means, yerr=sds, color="black", lw=1.4, marker="o", ms=3.5,
                            capsize=2.5, elinewidth=1.0, zorder=3, label="mean ± SD")
    container[0].set_gid("mean")
    ax.set_ylabel(ctx.label(outcome))
    ax.set_xlim(*_xlim(spec, at))
    ax.set_xticks(at)
    top = max(m + s for m, s in zip(means, sds))
    if spec.significance is not None:
        index = {level: i for i, level in enumerate(levels)}
        for level, p in _significance(ctx, spec.significance, x, outcome).items():
            if level in position and stars(p):
                i = index[level]
                text = ax.text(at[i], means[i] + sds[i] + 0.02 * top, stars(p), ha="center", va="bottom",
                               fontsize=8)
                text.set_gid(f"significance-{level}")
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(min(0, ymin), max(ymax, top * 1.1))
    ax.legend(loc="upper right", handlelength=1.5)
    n_per_level = [int(summary.loc[summary[x] == level, "n"].iloc[0]) for level in levels]
    target = ax_p if panels else ax
    if panels:
        assert spec.proportions is not None   # panels are drawn only for a proportions analysis
        ax.tick_params(labelbottom=False)
        proportions = ctx.other(spec.proportions).tidy
        wanted = spec.proportion_outcomes or list(dict.fromkeys(proportions["outcome"]))
        markers = ["o", "s", "^", "D", "v"]
        for k, name in enumerate(wanted):
            rows = proportions[proportions["outcome"] == name].drop_duplicates(subset=["outcome", x])
            xs = [position[v] for v in rows[x] if v in position]
            ys = [float(v) for v, level in zip(rows["percent"], rows[x]) if level in position]
            (line,) = ax_p.plot(xs, ys, color=PALETTE[k % len(PALETTE)], marker=markers[k % len(markers)], ms=3,
                                lw=1.0, label=ctx.short_label(name, ctx.other(spec.proportions)))
            line.set_gid(f"percent-{name}")
        ax_p.set_ylim(0, 100)
        ax_p.set_yticks([0, 25, 50, 75, 100])
        ax_p.set_ylabel("Participants (%)")
        ax_p.set_xlim(ax.get_xlim())
        ax_p.set_xticks(at)
        ax_p.legend(loc="upper center", bbox_to_anchor=(0.5, 1.02), ncol=min(3, len(wanted)), handlelength=1.5,
                    columnspacing=1.0)
    _set_ticks(target, at, ticks, rotation)
    target.set_xlabel(spec.x_label or ctx.label(x))
    for i, n in enumerate(n_per_level):
        text = target.annotate(f"{n}", xy=(at[i], 0), xycoords=("data", "axes fraction"), xytext=(0, -20 - tick_pt),
                               textcoords="offset points", ha="center", va="top", fontsize=6)
        text.set_gid(f"n-{levels[i]}")
    target.annotate("n", xy=(0, 0), xycoords="axes fraction", xytext=(-6, -20 - tick_pt), textcoords="offset points",
                    ha="right", va="top", fontsize=6, fontstyle="italic")
    target.xaxis.labelpad = 17
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def individual_lines(ax, traces: list, colours: list[str], lw: float, alpha: float, marker_size: float | None = None):
    """The participants' lines as one ``LineCollection`` (gid ``individual``; one polyline per
    participant, in ``traces``' order: the participants sorted by their id's text), and their values
    as one marker ``Line2D`` per colour (gid ``individual-values``) when ``marker_size`` is given: two artists
    instead of one per participant, which each backend (PNG, SVG, PDF) lays out and draws
    separately (issue 15). Looks as one ``ax.plot`` per participant did (colour, width, alpha, the
    caps / joins of ``lines.solid_*``, z-order 1); the markers are drawn after all the lines.
    ``traces``: (n, 2) arrays of x, y; a participant without values is left out."""
    import numpy as np
    from matplotlib import rcParams
    from matplotlib.collections import LineCollection

    kept = [(trace, colour) for trace, colour in zip(traces, colours) if len(trace)]
    lines = LineCollection([trace for trace, _ in kept], colors=[colour for _, colour in kept], linewidths=lw,
                           alpha=alpha, zorder=1, capstyle=rcParams["lines.solid_capstyle"],
                           joinstyle=rcParams["lines.solid_joinstyle"])
    lines.set_gid("individual")
    ax.add_collection(lines)
    for colour in dict.fromkeys(colour for _, colour in kept) if marker_size is not None else []:
        values = np.concatenate([trace for trace, c in kept if c == colour])
        (markers,) = ax.plot(values[:, 0], values[:, 1], linestyle="none", color=colour, alpha=alpha,
                             marker="o", ms=marker_size, zorder=1)
        markers.set_gid("individual-values")
    return lines


def _xlim(spec: Spec, at: list) -> tuple[float, float]:
    """Half a visit beyond the first and last visit; with real times, 4 % of the time span."""
    if spec.x_times is None:
        return -0.4, len(at) - 0.6
    span = (max(at) - min(at)) or 1.0
    return min(at) - 0.04 * span, max(at) + 0.04 * span


def _tick_layout(spec: Spec, at: list, ticks: list[str], left: float, right: float) -> tuple[int, float]:
    """(rotation, extra points below the axis) of the tick labels: visits at their real times may be too
    close for level labels side by side; they are then slanted (45°) or upright (90°) and the rows
    beneath move down by the labels' extra height. Evenly spaced visits: (0, 0)."""
    from matplotlib import rcParams

    from ketastats.figures.style import PRESETS, text_width

    if spec.x_times is None:
        return 0, 0.0
    size = float(rcParams["xtick.labelsize"])
    low, high = _xlim(spec, at)
    points_per_unit = PRESETS[spec.preset]["width_mm"] / 25.4 * 72 * (right - left) / (high - low)
    widths = [text_width(t, size) for t in ticks]
    rotation = tick_rotation(at, widths, points_per_unit, size)
    lines = max(t.count("\n") + 1 for t in ticks)
    if rotation == 0:
        return 0, 0.0
    flat = max(text_width(t.replace("\n", " "), size) for t in ticks)
    height = flat * 0.71 + size * 0.71 if rotation == 45 else flat
    return rotation, max(0.0, height - lines * size * 1.2)


def _set_ticks(ax, at: list, ticks: list[str], rotation: int) -> None:
    """Tick labels at ``at``; slanted (45°, ending at their tick) or upright (90°) labels on one line."""
    if not rotation:
        ax.set_xticks(at, ticks)
        return
    ax.set_xticks(at, [t.replace("\n", " ") for t in ticks])
    for label in ax.get_xticklabels():
        label.set_rotation(rotation)
        label.set_ha("right" if rotation == 45 else "center")
        label.set_rotation_mode("anchor" if rotation == 45 else "default")


def _emm_table(spec: Spec, ctx: FigureContext, x: str):
    """The EMM rows drawn: one per x level (and group level), with the interval's ends.

    Columns ``x``, ``group`` (the group level; "" without a group), ``centre`` (the tidy ``estimate``),
    ``lower`` / ``upper`` (``conf_low`` / ``conf_high``, or estimate ∓ ``std_error``). The by level is
    read from a tidy column named after the by variable when the table has one, else from ``group``
    (``"visit=eot"``); rows of the first df method unless ``df_method`` says which."""
    import pandas as pd

    name = ctx.analysis.analysis_id
    entries = [(e["emmeans"], list(e.get("by") or [])) for e in ctx.analysis.extras.get("emmeans", [])]
    found = emm_entry(entries, x, spec.group)
    if found is None:
        raise FigureError(f"figure '{spec.id}': analysis '{name}' has no EMMs of "
                          f"{spec.group + ' by ' + x if spec.group else x}")
    target, by = found
    tidy = ctx.analysis.tidy
    rows = tidy[(tidy["effect"] == "emmean") & (tidy["term"] == target)]
    if "df_method" in rows.columns and rows["df_method"].notna().any():
        methods = list(dict.fromkeys(rows["df_method"].dropna()))
        method = spec.df_method or methods[0]
        if method not in methods:
            raise FigureError(f"figure '{spec.id}': df_method '{method}' is not one of analysis '{name}' "
                              f"({', '.join(methods)})")
        rows = rows[rows["df_method"] == method]
    records = []
    for _, row in rows.iterrows():
        parts = dict(part.split("=", 1) for part in str(row["group"]).split(", ") if "=" in part) \
            if "group" in rows.columns and isinstance(row["group"], str) else {}
        if set(parts) - set(by):          # rows of a contrast with other by / at variables
            continue
        levels: dict[str, str | None] = {target: str(row["level"])}
        for b in by:
            value = row[b] if b in rows.columns and isinstance(row[b], str) else parts.get(b)
            levels[b] = None if value is None else str(value)
        if any(v is None for v in levels.values()):
            continue
        estimate = float(row["estimate"])
        if (spec.interval or "ci") == "ci":
            lower, upper = float(row["conf_low"]), float(row["conf_high"])
        else:
            lower, upper = estimate - float(row["std_error"]), estimate + float(row["std_error"])
        records.append({"x": levels[x], "group": levels[spec.group] if spec.group else "", "centre": estimate,
                        "lower": lower, "upper": upper})
    table = pd.DataFrame(records, columns=["x", "group", "centre", "lower", "upper"])
    table = table.drop_duplicates(subset=["x", "group"])
    if table.empty:
        raise FigureError(f"figure '{spec.id}': analysis '{name}' has no EMM rows of {target}")
    return table


def _draw_model(spec: Spec, ctx: FigureContext):
    """A model's EMMs (with CI or ± SE) per visit, one line per group; n per group and visit counts the
    analysed rows with an outcome (drawing aid; the estimates are the tidy rows)."""
    x = spec.x
    assert x is not None   # validate requires x for a model
    outcome = spec.outcome or ctx.analysis.extras["outcomes"][0]
    table = _emm_table(spec, ctx, x)
    data = ctx.analysis.data_used
    columns = [c for c in (outcome, x, spec.group) if c]
    if data is not None and all(c in data.columns for c in columns):
        data = data[data[columns].notna().all(axis=1)]
        counts = data.groupby([x, spec.group] if spec.group else [x], observed=True).size()
        xs = _originals(data, x, table["x"])
        keys = list(zip(xs, _originals(data, spec.group, table["group"]))) if spec.group else xs
        table["n"] = [int(counts.get(key, 0)) for key in keys]
    levels = ctx.levels(x, table["x"].tolist())
    level = float(ctx.analysis.tidy["conf_level"].dropna().iloc[0]) if "conf_level" in ctx.analysis.tidy else 0.95
    label = "EMM ± SE" if spec.interval == "se" else f"EMM with {round(100 * level):g} % CI"
    return _draw_lines(spec, ctx, table, outcome, x, levels, individual_data=data, what=label)


def _originals(data, column: str, values) -> list:
    """The data's own values of ``column`` matching the tidy text ``values`` (tidy levels are strings)."""
    lookup = {str(v): v for v in data[column].dropna().unique()}
    return [lookup.get(str(v), v) for v in values]


def _draw_groups(spec: Spec, ctx: FigureContext, summary, outcome: str, x: str, levels: list):
    """One mean ± SD (or SE) line per level of ``spec.group`` on one axis (one y range)."""
    import numpy as np
    import pandas as pd

    group = spec.group
    assert group is not None
    spread = summary["sd"].to_numpy(float)
    if spec.interval == "se":
        spread = spread / np.sqrt(summary["n"].to_numpy(float))
    mean = summary["mean"].to_numpy(float)
    table = pd.DataFrame({"x": summary[x].to_numpy(object), "group": summary[group].to_numpy(object),
                          "centre": mean, "lower": mean - spread, "upper": mean + spread,
                          "n": summary["n"].to_numpy()})
    table = table[table["x"].isin(levels)]
    return _draw_lines(spec, ctx, table, outcome, x, levels, individual_data=ctx.analysis.data_used,
                       what="mean ± SE" if spec.interval == "se" else "mean ± SD")


def _draw_lines(spec: Spec, ctx: FigureContext, table, outcome: str, x: str, levels: list, individual_data,
                what: str):
    """One line of ``table["centre"]`` with bars from ``lower`` to ``upper`` per group (``table["group"]``)
    on one axis (one y range), dodged a little along x so the bars do not overlap; participant lines
    in the group's colour; the legend above the axes (clear of every line); n per group and visit
    under the axis."""
    import numpy as np

    from ketastats.figures.style import PALETTE, PRESETS, add_title, mark_synthetic, new_figure, text_width, wrap

    group = spec.group
    groups = ctx.levels(group, table["group"].tolist()) if group else [""]
    position = _positions(spec, ctx, levels)
    at_levels = [position[level] for level in levels]
    by_text = {str(level): position[level] for level in levels}
    # groups side by side: 0.08 of a visit apart, or 0.8 % of the time span at real times
    step = 0.08 if spec.x_times is None else 0.008 * ((max(at_levels) - min(at_levels)) or 1.0)
    dodge = {g: (k - (len(groups) - 1) / 2) * step for k, g in enumerate(groups)}
    subject = ctx.result.plan.subject
    ticks = [wrap(ctx.level_text(x, level), 12) for level in levels]
    # room at the left for the n rows' labels ("n Ketamine", 6 pt, 6 pt from the axis) as well as the y axis
    width_pt = PRESETS[spec.preset]["width_mm"] / 25.4 * 72
    n_labels = [f"n {ctx.level_text(group, level)}" if group else "n" for level in groups]
    left = max(0.15, (max(text_width(t, 6) for t in n_labels) + 6 + 3) / width_pt)
    rotation, extra_pt = _tick_layout(spec, at_levels, ticks, left, 0.97)
    height = spec.height_mm or 70 + extra_pt * 25.4 / 72   # slanted labels do not shrink the axes
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec)
    legend_pt = 18 if group else 0
    tick_lines = max(t.count("\n") + 1 for t in ticks)
    first_n = -12 - 8 * tick_lines - extra_pt   # points below the axis: the tick labels, then one n row per group
    n_rows = "n" in table.columns
    # n side by side where they fit between the visits, else upright (visits days apart on a narrow figure)
    low, high = _xlim(spec, at_levels)
    per_unit = width_pt * (0.97 - left) / (high - low)
    n_width = max(text_width(str(int(n)), 6) for n in table["n"]) if n_rows and len(table) else 0.0
    gaps = np.diff(sorted(at_levels)) * per_unit
    n_upright = bool(len(gaps)) and float(gaps.min()) < n_width + 1.5
    n_step = n_width + 4 if n_upright else 9
    bottom = (-first_n + (n_step * len(groups) if n_rows else 0) + 24) / points
    grid = figure.add_gridspec(1, 1, left=left, right=0.97, top=top - legend_pt / points, bottom=bottom)
    ax = figure.add_subplot(grid[0])
    if spec.individual and individual_data is not None:
        data = individual_data
        data = data[data[outcome].notna() & data[x].notna() & (data[group].notna() if group else True)]
        traces, colours = [], []
        for participant, rows in sorted(data.groupby(subject, observed=True, sort=False), key=lambda kv: str(kv[0])):
            first = str(rows[group].iloc[0]) if group else ""
            colours.append(PALETTE[[str(g) for g in groups].index(first) % len(PALETTE)]
                           if first in [str(g) for g in groups] else "#999999")
            xs = [by_text[str(v)] for v in rows[x] if str(v) in by_text]
            ys = [float(v) for v, level in zip(rows[outcome], rows[x]) if str(level) in by_text]
            order = np.argsort(xs, kind="mergesort")
            traces.append(np.column_stack([np.asarray(xs, float)[order], np.asarray(ys, float)[order]]))
        individual_lines(ax, traces, colours, lw=0.35, alpha=0.3)
    tops, counts = [], {}
    for k, level in enumerate(groups):
        rows = table[table["group"].astype(str) == str(level)]
        rows = rows[rows["x"].astype(str).isin(by_text)]
        at = np.array([by_text[str(v)] for v in rows["x"]], dtype=float)
        order = np.argsort(at, kind="mergesort")
        centre = rows["centre"].to_numpy(float)[order]
        lower = rows["lower"].to_numpy(float)[order]
        upper = rows["upper"].to_numpy(float)[order]
        label = ctx.level_text(group, level) if group else what
        container = ax.errorbar(at[order] + dodge[level], centre, yerr=[centre - lower, upper - centre],
                                color=PALETTE[k % len(PALETTE)], lw=1.3, marker="os^Dv"[k % 5], ms=3.2, capsize=2.2,
                                elinewidth=0.9, zorder=3, label=label)
        container[0].set_gid(f"mean-{level}" if group else "mean")
        tops.append(np.nanmax(upper) if len(upper) else 0.0)
        if n_rows:
            counts[level] = {str(v): int(n) for v, n in zip(rows["x"], rows["n"])}
    ax.set_ylabel(ctx.label(outcome))
    ax.set_xlim(*_xlim(spec, at_levels))
    _set_ticks(ax, at_levels, ticks, rotation)
    ax.set_xlabel(spec.x_label or ctx.label(x))
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(min(0, ymin), max(ymax, max(tops) * 1.1))
    if group:   # above the axes, in one row: it covers no line, bar or participant
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(groups), handlelength=1.5,
                  title=f"{ctx.short_label(group)} ({what})", title_fontsize=6, frameon=False, borderaxespad=0.2)
    for k, level in enumerate(groups if n_rows else []):   # one row of n per group beneath the axis
        offset = first_n - n_step * k
        for i, visit in enumerate(levels):
            text = ax.annotate(str(counts[level].get(str(visit), 0)), xy=(at_levels[i], 0),
                               xycoords=("data", "axes fraction"), xytext=(0, offset), textcoords="offset points",
                               ha="center", va="top", fontsize=6, color=PALETTE[k % len(PALETTE)],
                               rotation=90 if n_upright else 0)
            text.set_gid(f"n-{level}-{visit}" if group else f"n-{visit}")
        ax.annotate(f"n {ctx.level_text(group, level)}" if group else "n", xy=(0, 0), xycoords="axes fraction",
                    xytext=(-6, offset), textcoords="offset points", ha="right", va="top", fontsize=6,
                    fontstyle="italic", color=PALETTE[k % len(PALETTE)])
    # the axis label under the n rows (placed in points below the axis: tick labels vary in height)
    below = -first_n + (n_step * len(groups) if n_rows else 0) + 3
    ax.xaxis.set_label_coords(0.5, -below / (ax.get_position().height * points))
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def _significance(ctx: FigureContext, analysis_id: str, x: str, outcome: str) -> dict:
    """visit level → p of that visit versus the reference (adjusted p where the analysis adjusted)."""
    result = ctx.other(analysis_id)
    tidy = result.tidy
    rows = tidy[tidy["contrast"].notna()] if "contrast" in tidy.columns else tidy.iloc[0:0]
    if "outcome" in rows.columns:
        rows = rows[rows["outcome"] == outcome]
    found = {}
    for _, row in rows.iterrows():
        level = str(row["contrast"]).split(" - ")[0].strip()
        p = row.get("p_adjusted")
        if p is None or p != p:
            p = row.get("p_value")
        found[level] = float(p)
    levels = {str(v): v for v in ctx.analysis.tidy[x]}
    return {levels.get(k, k): p for k, p in found.items()}
