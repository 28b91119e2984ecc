"""``subgroup_forest``: the treatment effect overall and within subgroups, as trial reports draw it
(CONSORT / NEJM subgroup forest), from a ``subgroups`` analysis.

Layout, left to right: the row labels (``Overall`` on top, then each subgroup column's heading
with its levels indented beneath), n per arm (events / n for a boolean outcome), the forest panel
(estimate and CI; null line at 0 for differences, at 1 on a log axis with plain tick numbers for
odds ratios), the estimate [CI] text and, on each heading row, the interaction p. Every column's
width is measured from its texts, so no label leaves the figure, and the texts are outside the
panel, so none is drawn over the null line. Rows without an estimate (a level with one arm, no
participants, a zero cell) show the counts and a short reason in the estimate column.

Plan keys: ``analysis`` (a subgroups analysis), ``outcome`` (when it has several), ``term``
(``mean_difference`` / ``odds_ratio`` / ``risk_difference``; default: the outcome's first),
``subgroups`` (which subgroup columns, in this order; default all), ``favours`` (two texts written
under the axis, left and right of the null, e.g. ``[Ketamine better, ECT better]``).

Example
-------
``{id: hdrs_subgroup_forest, type: subgroup_forest, analysis: hdrs_change_subgroups}``
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec

TERMS = {"mean_difference": "Mean difference", "odds_ratio": "Odds ratio", "risk_difference": "Risk difference"}
RATIOS = ("odds_ratio",)


class Spec(FigureSpec):
    """Overall and per-subgroup treatment effects with CIs, n per arm and the interaction p."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("subgroups",)

    type: Literal["subgroup_forest"]
    outcome: str | None = Field(None, description="the outcome drawn (default: the analysis's first)")
    term: Literal["mean_difference", "odds_ratio", "risk_difference"] | None = Field(
        None, description="the effect measure drawn (default: the outcome's first)")
    subgroups: list[str] = Field(default_factory=list, description="subgroup columns drawn, in order (default all)")
    favours: list[str] | None = Field(None, min_length=2, max_length=2,
                                      description="[left, right] texts under the axis, e.g. [Ketamine better, "
                                                  "ECT better]")

    def check_analysis(self, analysis) -> list[Problem]:
        """The outcome and subgroup columns must be the analysis's."""
        problems = []
        if self.outcome is not None and self.outcome not in analysis.outcome:
            problems.append(Problem("outcome", f"'{self.outcome}' is not an outcome of analysis '{analysis.id}'"))
        for i, name in enumerate(self.subgroups):
            if name not in analysis.subgroups:
                problems.append(Problem(f"subgroups[{i}]", f"'{name}' is not a subgroup of analysis '{analysis.id}'"))
        return problems


def _rows(spec: Spec, ctx: FigureContext):
    """The tidy rows drawn: one outcome and term; the overall row, then each subgroup's rows."""
    tidy = ctx.analysis.tidy
    outcome = spec.outcome or str(tidy["outcome"].iloc[0])
    rows = tidy[tidy["outcome"] == outcome]
    term = spec.term or str(rows["term"].iloc[0])
    rows = rows[rows["term"] == term]
    if rows.empty:
        raise FigureError(f"analysis '{ctx.analysis.analysis_id}' has no {term} rows for {outcome}")
    names = spec.subgroups or list(dict.fromkeys(s for s in rows["subgroup"] if s != "overall"))
    return outcome, term, rows[rows["subgroup"] == "overall"], [(n, rows[rows["subgroup"] == n]) for n in names]


def _number(value) -> float | None:
    """A finite float, or None for a missing / infinite cell."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _decimals(low: float, high: float) -> int:
    """Decimals showing a CI of this width with two significant digits (one at least, three at most)."""
    width = abs(high - low)
    return min(3, max(1, 1 - math.floor(math.log10(width)))) if width > 0 else 2


def _estimate_text(row, ratio: bool) -> str:
    """``−3.4 [−6.1, −0.7]`` (differences, minus sign), ``0.52 [0.18, 1.49]`` (ratios) or the reason
    there is none (``one arm only``, ``no participants``, ``not estimable``)."""
    estimate, low, high = (_number(row[k]) for k in ("estimate", "conf_low", "conf_high"))
    if estimate is None or low is None or high is None:
        note = str(row.get("note") or "")
        return "no participants" if note.startswith("no participants") else \
            "one arm only" if note.startswith("one arm") else "not estimable"
    d = 2 if ratio else _decimals(low, high)
    return f"{estimate:.{d}f} [{low:.{d}f}, {high:.{d}f}]".replace("-", "−")


def _n_text(row, binary: bool, arm: int) -> str:
    """n of one arm, or events / n for a boolean outcome."""
    n = row[f"n{arm}"]
    n = int(n) if _number(n) is not None else 0
    if binary:
        count = _number(row.get(f"count{arm}"))
        return f"{int(count) if count is not None else 0}/{n}"
    return str(n)


def _wrap_to(text: str, width_pt: float, size: float) -> str:
    """``text`` broken at spaces into lines no wider than ``width_pt`` at ``size`` points (measured)."""
    from ketastats.figures.style import text_width

    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size) <= width_pt:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def _ticks(low: float, high: float) -> list[float]:
    """Round ticks of the ratio axis between ``low`` and ``high`` (1 always among them)."""
    candidates = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    ticks = [t for t in candidates if low <= t <= high]
    return [t for t in ticks if not (t in (0.2, 5.0) and (0.25 in ticks or 4.0 in ticks))]


def _spaced(ticks: list[float], low: float, high: float, width_pt: float, size: float) -> list[float]:
    """The ticks of a log axis ``width_pt`` wide whose plain labels do not touch: 1 first, then the
    powers of ten, then the others nearest 1 first, each kept when its label clears every kept one
    by 4 points.

    >>> _spaced([0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0], 0.1, 10.0, 60, 6.5)
    [0.1, 1.0, 2.0, 4.0, 10.0]
    """
    from ketastats.figures.style import plain_number, text_width

    span = math.log(high / low)

    def position(t: float) -> float:
        return width_pt * math.log(t / low) / span

    def clear(a: float, b: float) -> bool:
        half = (text_width(plain_number(a), size) + text_width(plain_number(b), size)) / 2
        return abs(position(a) - position(b)) >= half + 4

    def rank(t: float) -> tuple[int, float]:
        decade = abs(math.log10(t) - round(math.log10(t))) < 1e-9
        return (0 if t == 1.0 else 1 if decade else 2, abs(math.log(t)))

    kept: list[float] = []
    for t in sorted(ticks, key=rank):
        if all(clear(t, k) for k in kept):
            kept.append(t)
    return sorted(kept)


def draw(spec: Spec, ctx: FigureContext):
    """Draw the subgroup forest (see the module docstring); every text measured to fit the figure."""
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

    from ketastats.figures.style import (
        PALETTE,
        PRESETS,
        add_title,
        mark_synthetic,
        new_figure,
        plain_log_axis,
        text_width,
        title_height_mm,
    )
    from ketastats.glossary import format_p

    outcome, term, overall, groups = _rows(spec, ctx)
    ratio = term in RATIOS
    binary = term != "mean_difference"
    first = overall.iloc[0] if len(overall) else (groups[0][1].iloc[0] if groups else None)
    if first is None:
        raise FigureError(f"analysis '{ctx.analysis.analysis_id}' has no rows to draw")
    by = (ctx.analysis.extras or {}).get("by") or []
    group = by[0] if by else None
    codes = str(first["contrast"]).split(" - ", 1)
    arms = [ctx.level_text(group, c) if group else c for c in codes] if len(codes) == 2 else ["1", "2"]

    # the rows drawn, top to bottom: (kind, label, tidy row or None, interaction p text)
    lines: list[tuple[str, str, object, str]] = []
    for _, row in overall.iterrows():
        lines.append(("overall", "Overall", row, ""))
    for name, rows in groups:
        p = _number(rows["interaction_p_value"].iloc[0]) if len(rows) else None
        test = rows["interaction_test"].iloc[0] if len(rows) else None
        p_cell = format_p(p, "figure") if p is not None and test == test else "–"   # NaN test: not computed
        lines.append(("heading", ctx.label(name), None, p_cell))
        for _, row in rows.iterrows():
            lines.append(("level", ctx.level_text(name, row["level"]), row, ""))

    size = PRESETS[spec.preset]["font_pt"] - 0.5
    small = size - 0.5
    width_pt = PRESETS[spec.preset]["width_mm"] / 25.4 * 72
    margin, gap, indent = 4.0, 7.0, 6.0
    estimate_texts = [_estimate_text(r, ratio) if r is not None else "" for _, _, r, _ in lines]
    n_texts = [[_n_text(r, binary, arm) if r is not None else "" for _, _, r, _ in lines] for arm in (1, 2)]
    ci = f"{round(100 * float(first['conf_level'])):g}\u00a0% CI"   # no line break inside "95 % CI"
    headings = {"n1": arms[0], "n2": arms[1], "estimate": f"Estimate [{ci}]", "p": "Interaction p"}
    if binary:
        headings["n1"], headings["n2"] = f"{arms[0]}\nevents/n", f"{arms[1]}\nevents/n"
    else:
        headings["n1"], headings["n2"] = f"{arms[0]}\nn", f"{arms[1]}\nn"
    label_w = max(text_width(label, size) * (1.0 if kind == "level" else 1.08) + (indent if kind == "level" else 0)
                  for kind, label, _, _ in lines)
    # bold texts (headings, the overall row) are measured 8 % wider than the regular face
    columns = {"n1": n_texts[0], "n2": n_texts[1], "estimate": estimate_texts, "p": [c for *_, c in lines]}
    widths = {key: max(max(1.08 * text_width(t, small) for t in texts[:1] + [headings[key]]),
                       max(text_width(t, small) for t in texts)) for key, texts in columns.items()}
    panel_w = width_pt - 2 * margin - label_w - sum(w + gap for w in widths.values()) - gap
    if panel_w < 60:   # a narrow preset: the estimate [CI] column goes first (the panel shows the same)
        panel_w += widths.pop("estimate") + gap
    if panel_w < 60:
        raise FigureError(f"the subgroup forest does not fit the {spec.preset} width ({panel_w:.0f} pt left for "
                          "the panel); use preset: one_and_half_column or double_column, or shorter labels")

    row_pt = 12.0
    header_pt, axis_pt = 22.0, 30.0 + (12.0 if spec.favours else 0.0)
    title_pt = title_height_mm(spec, PRESETS[spec.preset]["width_mm"]) / 25.4 * 72
    if spec.height_mm:
        height = spec.height_mm
        row_pt = max(8.0, (height / 25.4 * 72 - title_pt - header_pt - axis_pt - 6) / len(lines))
    else:
        height = (title_pt + header_pt + axis_pt + 6 + row_pt * len(lines)) * 25.4 / 72
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    add_title(figure, spec)

    # x positions in points from the left edge: labels | n1 | n2 | panel | estimate | p
    x_n1 = margin + label_w + gap + widths["n1"]            # right-aligned
    x_n2 = x_n1 + gap + widths["n2"]
    panel_left = x_n2 + gap
    x_estimate = panel_left + panel_w + gap if "estimate" in widths else None   # left-aligned
    x_p = width_pt - margin                                 # right-aligned
    top = points - title_pt - header_pt
    ax = figure.add_axes((panel_left / width_pt, (top - row_pt * len(lines)) / points, panel_w / width_pt,
                          row_pt * len(lines) / points))
    ax.set_gid("panel")
    ys = np.arange(len(lines), dtype=float)
    values: list[float] = []
    for y, (kind, label, row, p_cell), estimate_text, n1, n2 in zip(ys, lines, estimate_texts, *n_texts):
        bold = "bold" if kind in ("overall", "heading") else "normal"
        x_label = margin + (indent if kind == "level" else 0)
        ident = f"{kind}-{label}" if kind != "level" else f"level-{row['subgroup']}-{row['level']}"  # type: ignore[index]
        text = ax.annotate(label, xy=(x_label / width_pt, y), xycoords=("figure fraction", "data"), ha="left",
                           va="center", fontsize=size, fontweight=bold)
        text.set_gid(f"label-{ident}")
        if kind == "heading":
            drawn = ax.annotate(p_cell, xy=(x_p / width_pt, y), xycoords=("figure fraction", "data"), ha="right",
                                va="center", fontsize=small)
            drawn.set_gid(f"p-{label}")
            continue
        for x_pt, cell, key, align in ((x_n1, n1, "n1", "right"), (x_n2, n2, "n2", "right"),
                                       (x_estimate, estimate_text, "text", "left")):
            if x_pt is None:
                continue
            drawn = ax.annotate(cell, xy=(x_pt / width_pt, y), xycoords=("figure fraction", "data"), ha=align,
                                va="center", fontsize=small, fontweight=bold if kind == "overall" else "normal")
            drawn.set_gid(f"{key}-{ident}")
        estimate, low, high = (_number(row[k]) for k in ("estimate", "conf_low", "conf_high"))  # type: ignore[index]
        if estimate is None or low is None or high is None:
            continue
        marker = "D" if kind == "overall" else "s"
        container = ax.errorbar(estimate, y, xerr=[[estimate - low], [high - estimate]], fmt=marker,
                                color="black" if kind == "overall" else PALETTE[0], ms=3.6 if kind == "overall"
                                else 3.0, capsize=1.5, lw=0.9)
        container[0].set_gid(f"estimate-{ident}")
        values += [low, high]
    null_value = 1.0 if ratio else 0.0
    null = ax.axvline(null_value, color="black", lw=0.6, ls="--")
    null.set_gid("null")
    ax.set_ylim(len(lines) - 0.5, -0.5)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    adjusted = "Adjusted m" if str(first.get("method")) == "ancova" else "M"   # ANCOVA: say so on the axis
    name = f"{adjusted}ean difference" if term == "mean_difference" else TERMS[term]
    label = f"{name}, {arms[0]} vs {arms[1]} ({ci}"
    if ratio:
        ax.set_xscale("log")
        low, high = min([1.0, *values]) / 1.25, max([1.0, *values]) * 1.25
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator(_spaced(_ticks(low, high), low, high, panel_w, small)))
        ax.xaxis.set_minor_locator(NullLocator())
        plain_log_axis(ax.xaxis)
        label += ", log scale)"
    else:
        low, high = min([0.0, *values]), max([0.0, *values])
        pad = 0.06 * ((high - low) or 1.0)
        ax.set_xlim(low - pad, high + pad)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}".replace("-", "−")
                                                   if abs(value) > 1e-12 else "0"))
        label += ")"
    ax.set_xlabel(_wrap_to(label, panel_w, small), fontsize=small)
    ax.tick_params(axis="x", labelsize=small)
    if spec.favours:
        for text, align, x in ((spec.favours[0], "right", null_value), (spec.favours[1], "left", null_value)):
            drawn = ax.annotate(f"← {text}" if align == "right" else f"{text} →", xy=(x, 0),
                                xycoords=("data", "axes fraction"), xytext=(-3 if align == "right" else 3, -15),
                                textcoords="offset points", ha=align, va="top", fontsize=small - 0.5)
            drawn.set_gid("favours-left" if align == "right" else "favours-right")   # side of the null line
        ax.xaxis.labelpad = 13   # the favours line between the tick labels and the axis label
    heading_y = (top + 2) / points
    for key, x_pt, align in (("n1", x_n1, "right"), ("n2", x_n2, "right"), ("estimate", x_estimate, "left"),
                             ("p", x_p, "right")):
        if x_pt is None:
            continue
        drawn = figure.text(x_pt / width_pt, heading_y, headings[key], fontsize=small, fontweight="bold", ha=align,
                            va="bottom", linespacing=1.1)
        drawn.set_gid(f"heading-{key}")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure

