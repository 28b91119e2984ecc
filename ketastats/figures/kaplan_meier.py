"""``kaplan_meier``: survival curves by group with censor marks, CI bands and numbers at risk.

Drawn from the ``kaplan_meier`` analysis's ``extras["curves"]`` (the survfit-style curve of
each group: time, n_risk, n_censor, surv, lower, upper; never refitted): a step curve from
(0, 1), ``+`` at each censoring time, the pointwise CI band (the analysis's ``conf_type``) and,
aligned under the time axis, the number at risk in each group at ``risk_times`` (default: 0
and the analysis's landmarks), i.e. subjects with time ≥ t, which equals the tidy table's
``n_at_risk`` at the landmarks, under a row giving those times (the axis has round ticks).
The legend gives each group's n and median (tidy).

Plan keys: ``risk_times``, ``ci`` (draw bands, default true), ``level_labels`` (group value →
text), ``x_max`` (end of the time axis; default the last risk time or follow-up).

Example
-------
``{id: relapse_km_figure, type: kaplan_meier, analysis: relapse_km}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ketastats.figures.base import FigureContext, FigureSpec


class Spec(FigureSpec):
    """Kaplan-Meier curves with censor marks, CI bands and a numbers-at-risk table."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("kaplan_meier",)

    type: Literal["kaplan_meier"]
    risk_times: list[float] | None = Field(None, description="times of the numbers-at-risk table "
                                                             "(default: 0 and the analysis's landmarks)")
    ci: bool = Field(True, description="draw the pointwise confidence bands")
    level_labels: dict[str, str] = Field(default_factory=dict, description="group value → legend text (default: "
                                                                           "the dictionary's level_labels)")
    y_label: str = Field("Survival probability", description="the y axis label, e.g. Relapse-free")
    x_max: float | None = Field(None, gt=0, description="end of the time axis")


def at_risk(curve: dict, t: float) -> int:
    """Subjects with time ≥ t: n_risk at the first curve time ≥ t (0 after the last)."""
    for time, n in zip(curve["time"], curve["n_risk"]):
        if time >= t:
            return int(n)
    return 0


def _steps(times, values):
    """Right-continuous step coordinates starting at (0, 1)."""
    xs, ys = [0.0], [1.0]
    for t, v in zip(times, values):
        xs += [t, t]
        ys += [ys[-1], v]
    return xs, ys


def draw(spec: Spec, ctx: FigureContext):
    import math

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure

    extras = ctx.analysis.extras
    curves = ctx.analysis.extras["curves"]
    tidy = ctx.analysis.tidy
    medians = tidy[tidy["effect"] == "median"].reset_index(drop=True)
    risk_times = spec.risk_times if spec.risk_times is not None else [0.0, *extras["landmarks"]]
    last = max(max(c["time"]) for c in curves.values() if len(c["time"]))
    x_max = spec.x_max or max([last, *risk_times])
    groups = list(curves)
    unit = getattr(ctx.analysis.columns.get(extras["time"]), "unit", None)
    height = spec.height_mm or (72 + 7 * len(groups))
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec)
    table_height = 10 * (len(groups) + 1) / points   # a row of the risk times, then one row per group
    table_bottom = 12 / points
    axes_bottom = table_bottom + table_height + 40 / points   # the table's title, tick labels and axis label
    left = 0.22
    legend_height = (9 * len(groups) + 4) / points   # the legend sits above the axes, clear of curves and bands
    ax = figure.add_axes((left, axes_bottom, 0.74, top - legend_height - axes_bottom))
    table = figure.add_axes((left, table_bottom, 0.74, table_height), sharex=ax)
    for k, label in enumerate(groups):
        curve = curves[label]
        colour = PALETTE[k % len(PALETTE)]
        column, level = label.split("=", 1) if "=" in label else ("", label)
        name = spec.level_labels.get(level) or (ctx.level_text(column, level) if column else level)
        row = medians.iloc[k] if k < len(medians) else None
        median = row["estimate"] if row is not None else None
        median_text = "not reached" if median is None or median != median else \
            f"{median:g}" + (f" {unit}" if unit else "")
        n = int(row["n"]) if row is not None else int(curve["n_risk"][0])
        xs, ys = _steps(curve["time"], curve["surv"])
        xs.append(x_max)
        ys.append(ys[-1])
        (line,) = ax.plot(xs, ys, color=colour, lw=1.1, label=f"{name} (n = {n}; median {median_text})")
        line.set_gid(f"curve-{level}")
        if spec.ci:
            lower = [1.0 if math.isnan(v) else v for v in curve["lower"]]
            upper = [1.0 if math.isnan(v) else v for v in curve["upper"]]
            lx, ly = _steps(curve["time"], lower)
            _, uy = _steps(curve["time"], upper)
            band = ax.fill_between(lx + [x_max], ly + [ly[-1]], uy + [uy[-1]], color=colour, alpha=0.15, lw=0,
                                   step=None)
            band.set_gid(f"ci-{level}")
        censored = [(t, s) for t, c, s in zip(curve["time"], curve["n_censor"], curve["surv"]) if c > 0]
        if censored:
            marks = ax.scatter([t for t, _ in censored], [s for _, s in censored], marker="+", s=14,
                               color=colour, linewidths=0.8, zorder=4)
            marks.set_gid(f"censor-{level}")
        for t in risk_times:
            text = table.text(t, len(groups) - 1 - k, str(at_risk(curve, t)), ha="center", va="center",
                              color=colour, fontsize=6)
            text.set_gid(f"at-risk-{level}-{t:g}")
        table.annotate(name, xy=(0, len(groups) - 1 - k), xycoords=("axes fraction", "data"), xytext=(-10, 0),
                       textcoords="offset points", ha="right", va="center", color=colour, fontsize=6)
    ax.set_ylim(0, 1.03)
    ax.set_xlim(0, x_max * 1.02)
    ax.set_ylabel(spec.y_label)
    ax.set_xlabel(ctx.label(extras["time"]))
    # ticks at round numbers (the numbers-at-risk table gives its own times); the legend above the
    # axes, where it can cover no curve, band or censoring mark
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2, handlelength=1.5, frameon=False)
    # the times of the columns above the numbers: they need not be at the axis's round ticks
    for t in risk_times:
        text = table.text(t, len(groups), f"{t:g}", ha="center", va="center", color="#555555", fontsize=6)
        text.set_gid(f"risk-time-{t:g}")
    table.annotate(str(unit).capitalize() if unit else "Time", xy=(0, len(groups)), xycoords=("axes fraction", "data"),
                   xytext=(-10, 0), textcoords="offset points", ha="right", va="center", color="#555555", fontsize=6)
    table.set_ylim(-0.6, len(groups) + 0.6)
    table.axis("off")
    table.set_title("Number at risk", loc="left", fontsize=6, pad=2)
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure
