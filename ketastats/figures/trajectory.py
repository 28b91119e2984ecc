"""``trajectory``: an outcome's course over visits (Siegel et al. 2021, Fig. 1).

Top panel: one thin grey line per participant (the rows the ``descriptives`` analysis used),
and the analysis's mean ± SD per visit in black (its tidy ``mean`` and ``sd``, not recomputed).
Optional ``significance``: an ``rm_anova`` (post-hoc rows ``<visit> - <reference>``) or a
``paired_ttest`` analysis whose p-values (``p_adjusted`` when present) put ``*`` / ``**`` /
``***`` (p < 0.05 / 0.01 / 0.001) above the visit's mean. Optional ``proportions``: a
``proportions`` analysis by the same visit column, drawn beneath as percentages per visit (one
line per outcome, e.g. response, remission, CGI-I much / very much improved), with the number
of participants per visit (the descriptives ``n``) printed under the axis.

Plan keys: ``outcome`` (default the analysis's first outcome), ``x`` (default its first ``by``
column), ``individual`` (draw participant lines, default true), ``proportions``,
``proportion_outcomes`` (default all), ``significance``.

Example
-------
``{id: fig1_madrs_course, type: trajectory, analysis: madrs_by_visit_per_protocol,
proportions: response_rates, significance: madrs_rm_anova}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec, column_field
from ketastats.language.fields import Identifier, Names


class Spec(FigureSpec):
    """Mean ± SD (or SE) per visit with participant lines, one line per group when ``group`` is given,
    and optional panels of percentages with n per visit."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("descriptives",)
    OTHER_TYPES: ClassVar[dict] = {"proportions": ("proportions",), "significance": ("rm_anova", "paired_ttest")}

    type: Literal["trajectory"]
    outcome: str | None = column_field("the outcome drawn (default: the analysis's first outcome)", default=None)
    x: str | None = column_field("the visit column on the x axis (default: the analysis's first by column)",
                                 default=None)
    group: str | None = column_field("a by column of the analysis drawn as one line per level on the same axis "
                                     "(e.g. the arm); n is shown per group", default=None)
    interval: Literal["sd", "se"] = Field("sd", description="error bars: ± SD, or ± SE = SD / √n")
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
        return problems

    def check_others(self, analysis, others: dict, catalog) -> list[Problem]:
        """The proportions analysis must be by the same visit column (its outcomes as named).
        Nothing is said when that analysis names an unknown column: its own error is reported."""
        x = self.x or next((c for c in analysis.by if c != self.group), None)
        spec = others.get(self.proportions) if self.proportions else None
        problems = []
        known = catalog.columns.get(spec.table, {}) if spec is not None else {}
        if spec is not None and spec.type == "proportions" and all(c in known for c in [*spec.by, *spec.outcome]):
            if x not in spec.by:
                problems.append(Problem("proportions", f"analysis '{spec.id}' is not by '{x}'"))
            problems += [Problem(f"proportion_outcomes[{i}]", f"'{o}' is not an outcome of analysis '{spec.id}'")
                         for i, o in enumerate(self.proportion_outcomes) if o not in spec.outcome]
        return problems


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import GREY, PALETTE, add_title, mark_synthetic, new_figure, stars

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
    position = {level: i for i, level in enumerate(levels)}
    panels = spec.proportions is not None
    height = spec.height_mm or (105 if panels else 65)
    figure = new_figure(spec.preset, height)
    top = add_title(figure, spec)
    bottom = 40 / (height / 25.4 * 72)   # room for tick labels, the n row and the axis label (40 pt)
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
        for participant, rows in sorted(data.groupby(subject, observed=True, sort=False), key=lambda kv: str(kv[0])):
            xs = [position[v] for v in rows[x] if v in position]
            ys = [float(v) for v, level in zip(rows[outcome], rows[x]) if level in position]
            order = np.argsort(xs, kind="mergesort")
            (line,) = ax.plot(np.asarray(xs)[order], np.asarray(ys)[order], color=GREY, lw=0.45, alpha=0.6,
                              marker="o", ms=1.2, zorder=1)
            line.set_gid(f"individual-{participant}")
    means = [float(summary.loc[summary[x] == level, "mean"].iloc[0]) for level in levels]
    sds = [float(summary.loc[summary[x] == level, "sd"].iloc[0]) for level in levels]
    container = ax.errorbar(range(len(levels)), means, yerr=sds, color="black", lw=1.4, marker="o", ms=3.5,
                            capsize=2.5, elinewidth=1.0, zorder=3, label="mean ± SD")
    container[0].set_gid("mean")
    ax.set_ylabel(ctx.label(outcome))
    ax.set_xlim(-0.4, len(levels) - 0.6)
    ax.set_xticks(range(len(levels)))
    top = max(m + s for m, s in zip(means, sds))
    if spec.significance is not None:
        for level, p in _significance(ctx, spec.significance, x, outcome).items():
            if level in position and stars(p):
                i = position[level]
                text = ax.text(i, means[i] + sds[i] + 0.02 * top, stars(p), ha="center", va="bottom", fontsize=8)
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
        ax_p.set_xticks(range(len(levels)))
        ax_p.legend(loc="upper center", bbox_to_anchor=(0.5, 1.02), ncol=min(3, len(wanted)), handlelength=1.5,
                    columnspacing=1.0)
    target.set_xticks(range(len(levels)), [str(level) for level in levels])
    target.set_xlabel(ctx.label(x))
    for i, n in enumerate(n_per_level):
        text = target.annotate(f"{n}", xy=(i, 0), xycoords=("data", "axes fraction"), xytext=(0, -20),
                               textcoords="offset points", ha="center", va="top", fontsize=6)
        text.set_gid(f"n-{levels[i]}")
    target.annotate("n", xy=(0, 0), xycoords="axes fraction", xytext=(-6, -20), textcoords="offset points",
                    ha="right", va="top", fontsize=6, fontstyle="italic")
    target.xaxis.labelpad = 17
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def _draw_groups(spec: Spec, ctx: FigureContext, summary, outcome: str, x: str, levels: list):
    """One mean ± SD (or SE) line per level of ``spec.group`` on one axis (one y range), dodged a
    little along x so the bars do not overlap; participant lines in the group's colour; n per
    group and visit under the axis."""
    import numpy as np

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure, wrap

    group = spec.group
    assert group is not None
    groups = ctx.levels(group, summary[group].tolist())
    position = {level: i for i, level in enumerate(levels)}
    dodge = {g: (k - (len(groups) - 1) / 2) * 0.08 for k, g in enumerate(groups)}
    subject = ctx.result.plan.subject
    height = spec.height_mm or 70
    figure = new_figure(spec.preset, height)
    top = add_title(figure, spec)
    ticks = [wrap(ctx.level_text(x, level), 12) for level in levels]
    tick_lines = max(t.count("\n") + 1 for t in ticks)
    first_n = -12 - 8 * tick_lines          # points below the axis: the tick labels, then one n row per group
    bottom = (-first_n + 9 * len(groups) + 24) / (height / 25.4 * 72)
    grid = figure.add_gridspec(1, 1, left=0.15, right=0.97, top=top, bottom=bottom)
    ax = figure.add_subplot(grid[0])
    if spec.individual:
        data = ctx.analysis.data_used
        data = data[data[outcome].notna() & data[x].notna() & data[group].notna()]
        for participant, rows in sorted(data.groupby(subject, observed=True, sort=False), key=lambda kv: str(kv[0])):
            colour = PALETTE[groups.index(rows[group].iloc[0]) % len(PALETTE)] if rows[group].iloc[0] in groups \
                else "#999999"
            xs = [position[v] for v in rows[x] if v in position]
            ys = [float(v) for v, level in zip(rows[outcome], rows[x]) if level in position]
            order = np.argsort(xs, kind="mergesort")
            (line,) = ax.plot(np.asarray(xs)[order], np.asarray(ys)[order], color=colour, lw=0.35, alpha=0.3,
                              zorder=1)
            line.set_gid(f"individual-{participant}")
    tops, counts = [], {}
    for k, level in enumerate(groups):
        rows = summary[summary[group].astype(str) == str(level)]
        rows = rows[rows[x].isin(levels)]
        at = np.array([position[v] for v in rows[x]], dtype=float)
        order = np.argsort(at, kind="mergesort")
        means = rows["mean"].to_numpy(float)[order]
        spread = rows["sd"].to_numpy(float)[order]
        if spec.interval == "se":
            spread = spread / np.sqrt(rows["n"].to_numpy(float)[order])
        label = ctx.level_text(group, level)
        container = ax.errorbar(at[order] + dodge[level], means, yerr=spread, color=PALETTE[k % len(PALETTE)],
                                lw=1.3, marker="os^Dv"[k % 5], ms=3.2, capsize=2.2, elinewidth=0.9, zorder=3,
                                label=label)
        container[0].set_gid(f"mean-{level}")
        tops.append(np.nanmax(means + spread) if len(means) else 0.0)
        counts[level] = {v: int(n) for v, n in zip(rows[x], rows["n"])}
    ax.set_ylabel(ctx.label(outcome))
    ax.set_xlim(-0.4, len(levels) - 0.6)
    ax.set_xticks(range(len(levels)), ticks)
    ax.set_xlabel(ctx.label(x))
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(min(0, ymin), max(ymax, max(tops) * 1.1))
    ax.legend(loc="upper right", handlelength=1.5, title=ctx.short_label(group), title_fontsize=6,
              frameon=False)
    for k, level in enumerate(groups):   # one row of n per group beneath the axis
        offset = first_n - 9 * k
        for i, visit in enumerate(levels):
            text = ax.annotate(str(counts[level].get(visit, 0)), xy=(i, 0), xycoords=("data", "axes fraction"),
                               xytext=(0, offset), textcoords="offset points", ha="center", va="top", fontsize=6,
                               color=PALETTE[k % len(PALETTE)])
            text.set_gid(f"n-{level}-{visit}")
        ax.annotate(f"n {ctx.level_text(group, level)}", xy=(0, 0), xycoords="axes fraction", xytext=(-6, offset),
                    textcoords="offset points", ha="right", va="top", fontsize=6, fontstyle="italic",
                    color=PALETTE[k % len(PALETTE)])
    ax.xaxis.labelpad = 12 + 9 * len(groups)   # measured from the tick labels: past the n rows
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
