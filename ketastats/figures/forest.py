"""``forest``: estimates with confidence intervals, one row per term or per family member.

Two sources:

- a ``cox`` analysis (``analysis:``): each fixed term's hazard ratio and CI (tidy
  ``hazard_ratio``, ``hazard_ratio_conf_low`` / ``_high``, ``p_value``) on a log axis with the
  null line at 1, and the numbers printed at the right;
- a multiplicity family (``family:``): each member's estimate and CI (the member's row of its
  analysis's tidy table, the row the family adjusted) with the null line at 0, and beside it
  the member's raw p-value on a log axis with the family's threshold marked (the Bonferroni
  threshold α / m as a line; a step-down or step-up method's per-rank thresholds as ticks);
  members that pass are filled. Members without an estimate (e.g. an F test) show their
  statistic as text.

Plan keys: ``analysis`` or ``family`` (exactly one), ``terms`` (cox terms to show, default all).

Example
-------
``{id: primary_forest, type: forest, family: primary_outcomes}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ketastats.errors import FigureError
from ketastats.figures.base import FigureContext, FigureSpec
from ketastats.language.fields import Identifier


class Spec(FigureSpec):
    """Estimates with CIs for a Cox model or a multiplicity family, the null line and threshold marked."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("cox",)

    type: Literal["forest"]
    analysis: Identifier | None = Field(None, description="a cox analysis (or give family:)")  # type: ignore[assignment]  # optional here: a forest may draw a family instead
    family: Identifier | None = Field(None, description="a multiplicity family declared under multiplicity:")
    terms: list[str] = Field(default_factory=list, description="cox terms shown (default: every fixed term)")

    @model_validator(mode="after")
    def _one_source(self) -> "Spec":
        if (self.analysis is None) == (self.family is None):
            raise ValueError("give exactly one of 'analysis' (a cox model) or 'family' (a multiplicity family)")
        return self

    def analysis_references(self):
        return [("analysis", self.analysis)] if self.analysis else []


def draw(spec: Spec, ctx: FigureContext):
    return _family(spec, ctx) if spec.family else _cox(spec, ctx)


def _cox(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure, p_text

    tidy = ctx.analysis.tidy
    rows = tidy[tidy["effect"] == "fixed"]
    if spec.terms:
        rows = rows[rows["term"].isin(spec.terms)]
    if rows.empty:
        raise FigureError(f"analysis '{ctx.analysis.analysis_id}' has no fixed terms to draw")
    height = spec.height_mm or (30 + 9 * len(rows))
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec) - 12 / points   # the column headings
    ax = figure.add_axes((0.3, 30 / points, 0.3, top - 30 / points))
    ys = np.arange(len(rows))[::-1]
    for y, (_, row) in zip(ys, rows.iterrows()):
        hr = float(row["hazard_ratio"])
        low, high = float(row["hazard_ratio_conf_low"]), float(row["hazard_ratio_conf_high"])
        container = ax.errorbar(hr, y, xerr=[[hr - low], [high - hr]], fmt="s", color=PALETTE[0], ms=3.5, capsize=2,
                                lw=0.9)
        container[0].set_gid(f"estimate-{row['term']}")
        text = ax.annotate(f"{hr:.2f} ({low:.2f}, {high:.2f})", xy=(1.0, y), xycoords=("axes fraction", "data"),
                           xytext=(6, 0), textcoords="offset points", va="center", fontsize=6)
        text.set_gid(f"text-{row['term']}")
        p = ax.annotate(p_text(float(row["p_value"])), xy=(0.99, y), xycoords=("figure fraction", "data"),
                        ha="right", va="center", fontsize=6)
        p.set_gid(f"p-{row['term']}")
    ax.axvline(1.0, color="black", lw=0.6, ls="--")
    ax.set_xscale("log")
    from ketastats.figures.style import wrap

    ax.set_yticks(ys, [wrap(_term_label(ctx, str(t)), 22) for t in rows["term"]])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"Hazard ratio ({int(round(100 * float(rows['conf_level'].iloc[0])))} % CI, log scale)")
    ax.annotate("HR (95 % CI)", xy=(1.0, 1.0), xycoords="axes fraction", xytext=(6, 4),
                textcoords="offset points", va="bottom", fontsize=6, fontweight="bold")
    ax.annotate("p", xy=(0.99, 1.0), xycoords=("figure fraction", "axes fraction"), xytext=(0, 4),
                textcoords="offset points", ha="right", va="bottom", fontsize=6, fontweight="bold")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    low = float(rows["hazard_ratio_conf_low"].min())
    high = float(rows["hazard_ratio_conf_high"].max())
    ticks = [t for t in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 10.0, 20.0)
             if min(low, 1.0) / 1.3 <= t <= max(high, 1.0) * 1.3]
    ticks = [t for t in ticks if not (t in (0.2, 5.0) and (0.25 in ticks or 4.0 in ticks))]
    ax.set_xlim(min(low, 1.0) / 1.3, max(high, 1.0) * 1.3)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def _term_label(ctx: FigureContext, term: str) -> str:
    """``arm[T.ketamine]`` → ``Arm: ketamine``; a column → its dictionary label; the figure's labels win."""
    if term in ctx.spec.labels:
        return ctx.spec.labels[term]
    if "[T." in term:
        name, level = term.split("[T.", 1)
        return f"{ctx.short_label(name)}: {level.rstrip(']')}"
    return ctx.short_label(term)


def member_rows(ctx: FigureContext, family_name: str) -> list[dict]:
    """Each member's row of its analysis's tidy table (the row the family adjusted), in member order."""
    from ketastats.multiplicity import _matches, selector

    family = ctx.result.plan.multiplicity[family_name]
    rows = []
    for member in family.members:
        found = _matches(ctx.result.results[member.analysis].tidy.to_dict(orient="records"), selector(member))
        rows.append(found[0] if len(found) == 1 else {})
    return rows


def _family(spec: Spec, ctx: FigureContext):
    import math

    import numpy as np

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure, wrap

    family = ctx.result.families.get(spec.family)
    if family is None or not family.ok:
        raise FigureError(f"multiplicity family '{spec.family}' was not adjusted (a member analysis failed)")
    table = family.table.reset_index(drop=True)
    details = member_rows(ctx, family.family)
    n = len(table)
    height = spec.height_mm or (34 + 7 * n)
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec) - 14 / points   # the threshold legend
    bottom = 34 / points
    ax = figure.add_axes((0.36, bottom, 0.3, top - bottom))
    ax_p = figure.add_axes((0.69, bottom, 0.29, top - bottom), sharey=ax)
    ys = np.arange(n)[::-1]
    for y, (_, member), detail in zip(ys, table.iterrows(), details):
        significant = bool(member["significant"])
        colour = PALETTE[0] if significant else PALETTE[1]
        estimate, low, high = detail.get("estimate"), detail.get("conf_low"), detail.get("conf_high")
        if estimate is not None and estimate == estimate and low is not None and low == low:
            container = ax.errorbar(estimate, y, xerr=[[estimate - low], [high - estimate]], fmt="o", color=colour,
                                    ms=3.2, capsize=1.5, lw=0.9, mfc=colour if significant else "white")
            container[0].set_gid(f"estimate-{member['order']}")
        else:
            statistic = detail.get("statistic")
            kind = detail.get("statistic_type") or "statistic"
            text = f"{kind} = {statistic:.1f}" if statistic is not None and statistic == statistic else "no estimate"
            ax.text(0.5, y, text, transform=ax.get_yaxis_transform(), ha="center", va="center", fontsize=5.5,
                    color="#555555")
        p = member["p_value"]
        if p is not None and not math.isnan(p):
            (point,) = ax_p.plot([p], [y], "o", color=colour, ms=3.2, mfc=colour if significant else "white")
            point.set_gid(f"p-{member['order']}")
    thresholds = table["threshold"].astype(float)
    if thresholds.nunique() == 1:
        line = ax_p.axvline(float(thresholds.iloc[0]), color=PALETTE[3], lw=0.8, ls="--",
                            label=f"threshold {float(thresholds.iloc[0]):.3g}")
        line.set_gid("threshold")
    else:
        marks = ax_p.scatter(thresholds, ys, marker="|", s=30, color=PALETTE[3], label="threshold (per rank)")
        marks.set_gid("threshold")
    ax.axvline(0, color="black", lw=0.6, ls="--")
    ax_p.set_xscale("log")
    low_p = min(float(table["p_value"].min()), float(thresholds.min()))
    ax_p.set_xlim(10 ** math.floor(math.log10(low_p)), 1.5)
    ax.set_yticks(ys, [wrap(m, 34) for m in table["member"]])
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="y", length=0)
    ax_p.tick_params(axis="y", labelleft=False, length=0)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel("Estimate (95 % CI)")
    ax_p.set_xlabel("p (raw, log scale)")
    ax_p.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), handlelength=1.5, fontsize=5.5)
    figure.text(0.01, 0.005, f"{family.method}, α = {family.alpha:g}, m = {int(table['m'].iloc[0])}; filled: "
                "significant after adjustment", fontsize=5, ha="left", va="bottom")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure
