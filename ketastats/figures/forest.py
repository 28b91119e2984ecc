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

import math
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ketastats.errors import FigureError, Problem
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

    def check_analysis(self, analysis):
        """Each of ``terms`` must be a term of the Cox model: a covariate, or ``<covariate>[T.<level>]``."""
        covariates = list(getattr(analysis, "covariates", []))
        return [Problem(f"terms[{i}]", f"'{term}' is not a term of analysis '{analysis.id}' (its covariates: "
                                       f"{', '.join(covariates)})",
                        hint="A category covariate's terms are written <column>[T.<level>], e.g. arm[T.ketamine]")
                for i, term in enumerate(self.terms)
                if not any(term == c or term.startswith(f"{c}[T.") for c in covariates)]


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

    ax.set_yticks(ys, [wrap(text, 22) for text in term_texts(ctx, [str(t) for t in rows["term"]])])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    # a long term label (e.g. a covariate's label with its unit) moves the axes right rather than leave the figure
    renderer = figure.canvas.get_renderer()
    leftmost = min(label.get_window_extent(renderer).x0 for label in ax.get_yticklabels())
    if leftmost < 2.0:
        box = ax.get_position()
        shift = (2.0 - leftmost) / figure.bbox.width
        ax.set_position((box.x0 + shift, box.y0, box.width - shift, box.height))
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


def term_texts(ctx: FigureContext, terms: list[str]) -> list[str]:
    """The Cox terms in words, as the report's tables write them (:mod:`ketastats.language.term_labels`):
    ``arm[T.ketamine]`` → ``Ketamine vs ECT`` (the reference: the one level of the analysed rows without
    a term), ``age`` → ``Age (years)``; the figure's ``labels`` (by term or column) win."""
    from ketastats.language.term_labels import infer_references, term_labels, term_names

    names = term_names(terms)
    labels = {name: ctx.label(name) for name in names}
    columns = ctx.analysis.columns or {}
    level_labels = {name: dict(getattr(columns.get(name), "level_labels", None) or {}) for name in names}
    data = ctx.analysis.data_used
    levels = {name: [str(v) for v in data[name].dropna().unique()] for name in names
              if data is not None and name in data.columns}
    shown = term_labels(terms, labels, level_labels, infer_references(terms, levels))
    return [ctx.spec.labels.get(term, str(text)) for term, text in zip(terms, shown)]


def member_rows(ctx: FigureContext, family_name: str) -> list[dict]:
    """Each member's row of its analysis's tidy table (the row the family adjusted), in member order."""
    from ketastats.multiplicity import _matches, selector

    family = ctx.result.plan.multiplicity[family_name]
    rows = []
    for member in family.members:
        found = _matches(ctx.result.results[member.analysis].tidy.to_dict(orient="records"), selector(member))
        rows.append(found[0] if len(found) == 1 else {})
    return rows


RATIO_COLUMNS = ("hazard_ratio", "odds_ratio", "risk_ratio", "rate_ratio")
"""Tidy columns holding exp(estimate) (Cox, logistic regression): such a member is drawn as that ratio."""
RATIO_TERMS = {"odds_ratio": "OR", "risk_ratio": "RR", "hazard_ratio": "HR", "rate_ratio": "Rate ratio"}
"""Tidy terms whose ``estimate`` is itself a ratio (group_proportions' Fisher odds ratio)."""


def member_scale(detail: dict) -> tuple[str, str, float, float, float] | None:
    """(scale, kind, estimate, low, high) of a member's tidy row: scale ``ratio`` (drawn on a log axis,
    null 1) for a ratio — the row's ``hazard_ratio`` / ``odds_ratio`` … columns when filled (the
    estimate is then their log), or an estimate whose ``term`` is a ratio — else ``difference``
    (null 0); None without an estimate and CI.

    >>> member_scale({"term": "odds_ratio", "estimate": 0.3, "conf_low": 0.1, "conf_high": 1.2})
    ('ratio', 'odds_ratio', 0.3, 0.1, 1.2)
    >>> member_scale({"term": "age", "estimate": 0.1, "conf_low": 0.0, "conf_high": 0.2, "hazard_ratio": 1.1,
    ...               "hazard_ratio_conf_low": 1.0, "hazard_ratio_conf_high": 1.2})[:2]
    ('ratio', 'hazard_ratio')
    >>> member_scale({"term": "time", "estimate": -0.04, "conf_low": -0.07, "conf_high": -0.01})[0]
    'difference'
    """
    def number(value) -> float | None:
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    for name in RATIO_COLUMNS:
        found = [number(detail.get(key)) for key in (name, f"{name}_conf_low", f"{name}_conf_high")]
        if all(v is not None for v in found):
            return ("ratio", name, *found)   # type: ignore[return-value]
    found = [number(detail.get(key)) for key in ("estimate", "conf_low", "conf_high")]
    if any(v is None for v in found):
        return None
    term = str(detail.get("term"))
    return ("ratio" if term in RATIO_TERMS else "difference", term, *found)   # type: ignore[return-value]


def _decimals(low: float, high: float) -> int:
    """Decimals that show a CI of this width with two significant digits (at least one decimal)."""
    width = abs(high - low)
    return max(1, 1 - math.floor(math.log10(width))) if width > 0 else 2


def _estimate_text(scale: tuple | None, detail: dict) -> str:
    """The printed estimate: ``3.4 (0.2, 6.5)``, ``OR 0.32 (0.08, 1.15)``, or the statistic of a test."""
    if scale is None:
        statistic = detail.get("statistic")
        kind = detail.get("statistic_type") or "statistic"
        kind = {"chi2": "χ²"}.get(str(kind), str(kind))
        if statistic is None or statistic != statistic:
            return "no estimate"
        df, denominator = detail.get("df"), detail.get("df_denominator")
        if kind == "F" and df is not None and df == df and denominator is not None and denominator == denominator:
            return f"F({float(df):.3g}, {float(denominator):.3g}) = {float(statistic):.2f}"
        df_text = f", df = {float(df):g}" if df is not None and df == df and kind == "χ²" else ""
        return f"{kind} = {float(statistic):.2f}{df_text}"
    kind, estimate, low, high = scale[1:]
    if scale[0] == "ratio":
        prefix = RATIO_TERMS.get(kind, "")
        return f"{prefix} {estimate:.2f} ({low:.2f}, {high:.2f})".strip()
    d = _decimals(low, high)
    return f"{estimate:.{d}f} ({low:.{d}f}, {high:.{d}f})".replace("-", "−")


def ratio_ticks(low: float, high: float) -> list[float]:
    """Round ticks of a ratio axis from ``low`` to ``high`` (the null, 1, included)."""
    candidates = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    ticks = [t for t in candidates if low <= t <= high]
    return [t for t in ticks if not (t in (0.2, 5.0) and (0.25 in ticks or 4.0 in ticks))]


def _family(spec: Spec, ctx: FigureContext):
    """A multiplicity family's members: estimates in panels by scale — differences (linear, null 0),
    ratios (log axis with plain ticks, null 1), tests without an estimate (no axis) — the printed
    estimate, the raw p on a log axis with the family's thresholds, and p (adjusted). Column widths
    are measured from the texts, so no label or number leaves the figure; at narrow presets the
    printed columns are dropped (p first) before the panels would become too small."""
    import numpy as np

    from ketastats.figures.style import (
        PALETTE,
        PRESETS,
        add_title,
        mark_synthetic,
        new_figure,
        plain_log_axis,
        text_width,
        title_height_mm,
        wrap,
    )
    from ketastats.glossary import format_p

    family = ctx.result.families.get(spec.family)
    if family is None or not family.ok:
        reason = "; ".join(i.message for i in family.issues) if family is not None and family.issues else \
            "a member analysis failed"
        raise FigureError(f"multiplicity family '{spec.family}' was not adjusted ({reason})")
    table = family.table.reset_index(drop=True)
    details = member_rows(ctx, family.family)
    scales = [member_scale(d) for d in details]
    kinds = [scale[0] if scale else "test" for scale in scales]
    order = [k for k in ("difference", "ratio", "test") if k in kinds]
    blocks = [(kind, [i for i, k in enumerate(kinds) if k == kind]) for kind in order]

    size = PRESETS[spec.preset]["font_pt"] - 0.5
    small = size - 0.5
    width_pt = PRESETS[spec.preset]["width_mm"] / 25.4 * 72
    margin, gap = 4.0, 8.0
    estimate_texts = [_estimate_text(s, d) for s, d in zip(scales, details)]
    p_texts = [f"{format_p(p, 'figure')} ({format_p(a, 'figure')})" if p == p else "" for p, a in
               zip(table["p_value"].astype(float), table["p_adjusted"].astype(float))]
    level = next((float(d["conf_level"]) for d in details if d.get("conf_level") == d.get("conf_level")
                  and d.get("conf_level") is not None), 0.95)
    ci = f"{round(100 * level):g} % CI"
    headings = {"estimate": f"Estimate ({ci})", "p": "p (adjusted)"}
    for chars in (34, 28, 22, 18, 14):
        labels = [wrap(m, chars) for m in table["member"]]
        label_w = max(text_width(t, size) for t in labels)
        if label_w <= 0.3 * width_pt:
            break
    columns = {"estimate": max(text_width(t, small) for t in [*estimate_texts, headings["estimate"]]),
               "p": max(text_width(t, small) for t in [*p_texts, headings["p"]])}
    while True:   # the panels need about 90 points; drop the printed columns (p first) until they have it
        free = width_pt - 2 * margin - label_w - gap - sum(w + gap for w in columns.values()) - gap
        if free >= 90 or not columns:
            break
        columns.pop("p" if "p" in columns else "estimate")
    lines = sum(t.count("\n") + 1 for t in labels)
    axis_pt, header_pt, footer_pt = 30.0, 26.0, 12.0   # header: the threshold legend over the column headings
    title_pt = title_height_mm(spec, PRESETS[spec.preset]["width_mm"]) / 25.4 * 72
    row_pt = 16.0 + 4.0 * max(0.0, lines / len(labels) - 1)
    fixed = title_pt + header_pt + footer_pt + axis_pt * len(blocks)
    if spec.height_mm:
        height = spec.height_mm
        row_pt = max(8.0, (height / 25.4 * 72 - fixed) / len(table))
    else:
        height = (fixed + row_pt * len(table)) * 25.4 / 72
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    add_title(figure, spec)

    # horizontal layout, in points from the left edge
    left = margin + label_w + gap
    panel_w = free
    estimate_w, p_w = 0.55 * panel_w, 0.45 * panel_w
    estimate_x = left + estimate_w + gap if "estimate" in columns else None
    p_left = left + estimate_w + gap + (columns.get("estimate", 0.0) + gap if "estimate" in columns else 0.0)
    p_text_x = width_pt - margin if "p" in columns else None

    y_top = points - title_pt - header_pt
    p_axes: list = []
    threshold_handle = None
    for b, (kind, members) in enumerate(blocks):
        block_h = row_pt * len(members)
        y0 = y_top - block_h
        ax = figure.add_axes((left / width_pt, y0 / points, estimate_w / width_pt, block_h / points))
        ax_p = figure.add_axes((p_left / width_pt, y0 / points, p_w / width_pt, block_h / points),
                               sharex=p_axes[0] if p_axes else None)
        ax.set_gid(f"panel-{kind}")
        ax_p.set_gid(f"panel-p-{kind}")
        p_axes.append(ax_p)
        ys = np.arange(len(members))[::-1].astype(float)
        values = []
        for y, i in zip(ys, members):
            member = table.iloc[i]
            significant = bool(member["significant"])
            colour = PALETTE[0] if significant else PALETTE[1]
            order_id = member["order"]
            scale = scales[i]
            if scale is not None:
                _, _, estimate, low, high = scale
                container = ax.errorbar(estimate, y, xerr=[[estimate - low], [high - estimate]], fmt="o",
                                        color=colour, ms=3.2, capsize=1.5, lw=0.9,
                                        mfc=colour if significant else "white")
                container[0].set_gid(f"estimate-{order_id}")
                values += [low, high]
            p = member["p_value"]
            if p is not None and not math.isnan(p):
                (point,) = ax_p.plot([p], [y], "o", color=colour, ms=3.2, mfc=colour if significant else "white")
                point.set_gid(f"p-{order_id}")
            for key, x_pt, text, align in (("estimate", estimate_x, estimate_texts[i], "left"),
                                           ("p", p_text_x, p_texts[i], "right")):
                if x_pt is not None:
                    drawn = ax.annotate(text, xy=(x_pt / width_pt, y), xycoords=("figure fraction", "data"),
                                        ha=align, va="center", fontsize=small)
                    drawn.set_gid(f"text-{key}-{order_id}")
        ax.set_yticks(ys, [labels[i] for i in members])
        ax.set_ylim(-0.6, len(members) - 0.4)
        ax.tick_params(axis="y", length=0)
        ax_p.tick_params(axis="y", left=False, labelleft=False, length=0)
        ax_p.set_ylim(ax.get_ylim())
        if kind == "difference":
            null = ax.axvline(0.0, color="black", lw=0.6, ls="--")
            null.set_gid("null-difference")
            low, high = min([0.0, *values]), max([0.0, *values])
            pad = 0.08 * ((high - low) or 1.0)
            ax.set_xlim(low - pad, high + pad)
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.set_xlabel(f"Difference ({ci})")
        elif kind == "ratio":
            null = ax.axvline(1.0, color="black", lw=0.6, ls="--")
            null.set_gid("null-ratio")
            ax.set_xscale("log")
            low, high = min([1.0, *values]) / 1.3, max([1.0, *values]) * 1.3
            ax.set_xlim(low, high)
            from matplotlib.ticker import FixedLocator, NullLocator

            ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(low, high)))
            ax.xaxis.set_minor_locator(NullLocator())
            plain_log_axis(ax.xaxis)
            names = {scale[1] for scale in (scales[i] for i in members) if scale is not None}
            name = {"odds_ratio": "Odds ratio", "hazard_ratio": "Hazard ratio", "risk_ratio": "Risk ratio",
                    "rate_ratio": "Rate ratio"}.get(next(iter(names)), "Ratio") if len(names) == 1 else "Ratio"
            ax.set_xlabel(f"{name} ({ci}, log scale)")
        else:   # tests without an estimate: the label and the printed statistic, no axis
            ax.set_xticks([])
            for side in ("top", "right", "bottom", "left"):
                ax.spines[side].set_visible(False)
        y_top = y0 - axis_pt
    thresholds = table["threshold"].astype(float)
    for b, (kind, members) in enumerate(blocks):
        ax_p = p_axes[b]
        ys = np.arange(len(members))[::-1].astype(float)
        if thresholds.nunique() == 1:
            line = ax_p.axvline(float(thresholds.iloc[0]), color=PALETTE[3], lw=0.8, ls="--",
                                label=f"threshold {float(thresholds.iloc[0]):.3g}")
        else:
            line = ax_p.scatter(thresholds.iloc[members], ys, marker="|", s=30, color=PALETTE[3],
                                label="threshold (per rank)")
        line.set_gid("threshold" if b == 0 else f"{kind}-threshold")
        threshold_handle = threshold_handle or line
        if b < len(blocks) - 1:
            ax_p.tick_params(axis="x", labelbottom=False)
    first = p_axes[0]
    first.set_xscale("log")
    low_p = min(float(table["p_value"].min()), float(thresholds.min()))
    lowest = math.floor(math.log10(low_p))
    first.set_xlim(10.0 ** lowest, 1.5)
    from matplotlib.ticker import FixedLocator, NullLocator

    step = max(1, math.ceil(-lowest / 4))   # at most five decades labelled, so the labels never touch
    decades = range(-lowest - (-lowest) % step, 0, -step)
    first.xaxis.set_major_locator(FixedLocator([10.0 ** -e for e in decades] + [1.0]))
    first.xaxis.set_minor_locator(NullLocator())   # shared by every p panel (and no tick objects to lay out)
    for ax_p in p_axes:
        plain_log_axis(ax_p.xaxis)
    p_axes[-1].set_xlabel("p (raw, log scale)")
    first.legend(handles=[threshold_handle], loc="upper center", handlelength=1.5, fontsize=small, borderaxespad=0,
                 bbox_to_anchor=(0.5, (points - title_pt) / points), bbox_transform=figure.transFigure)
    heading_y = (points - title_pt - header_pt + 3) / points
    if estimate_x is not None:
        figure.text(estimate_x / width_pt, heading_y, headings["estimate"], fontsize=small, fontweight="bold",
                    ha="left", va="bottom")
    if p_text_x is not None:
        figure.text(p_text_x / width_pt, heading_y, headings["p"], fontsize=small, fontweight="bold",
                    ha="right", va="bottom")
    figure.text(0.01, 0.005, f"{family.method}, α = {family.alpha:g}, m = {int(table['m'].iloc[0])}; filled: "
                "significant after adjustment", fontsize=5, ha="left", va="bottom")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure

