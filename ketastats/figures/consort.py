"""``consort``: the CONSORT 2010 participant flow diagram of a ``flow`` analysis.

Drawn from the ``flow`` analysis's tidy rows only (stage, visit, level, group, count; never
recounted): a ``Randomized (n = N)`` box on top (the ``Overall`` group), an arrow down to one
column per arm (the flow's ``by`` levels in their order, printed with the dictionary's
``level_labels``), and in each column, as the flow reports them:

- ``Allocated to <arm> (n)`` with ``Received allocated intervention (n)`` / ``Did not receive
  allocated intervention (n)`` (stage ``treated``; randomized − treated);
- ``Assessed at each visit``: one line per visit, ``<visit label> (n = k)`` (stage ``assessed``);
- ``Discontinued (n)`` with one line per drop-out reason (stage ``discontinued``; reasons with
  0 participants are listed, as the tidy table lists them), in a side box on the outer side of
  the column, reached by an arrow from the column's main line;
- ``Completed (n)`` (stage ``completed``) at the bottom.

A stage the flow did not report (no ``treated``, no ``visits_table``, no ``status``) has no box.
Every text is measured with the renderer before the boxes are placed: lines are wrapped at word
boundaries to fit their box's width (a count such as ``(n = 29)`` is never split), and the figure
is as tall as its boxes need (``height_mm`` can only add space below). The drawing has one axes
spanning the figure in points, with its axis hidden; boxes are ``FancyBboxPatch`` and arrows
``FancyArrowPatch`` along explicit paths. Artists carry gids for tests: ``box-<stage>-<arm>``,
``text-<stage>-<arm>`` (``box-randomized`` / ``text-randomized`` on top) and
``arrow-<from>-<to>``.

Example
-------
``{id: consort_diagram, type: consort, analysis: participant_flow, preset: double_column}``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec

OVERALL = "Overall"
"""The flow's all-participants group (``ketastats.analyses.flow.OVERALL``; figures do not import analyses)."""

NBSP = "\u00a0"
"""Joins the words of a count, ``(n = 29)``, so that wrapping never splits it."""

PAD = 3.0
"""Space (points) between a box's edge and its text."""
GAP = 14.0
"""Vertical space (points) between two rows of boxes (where the arrows run)."""
GUTTER = 10.0
"""Horizontal space (points) between an arm's main box and its side box."""
COLUMN_GAP = 8.0
"""Horizontal space (points) between two arms' columns."""
MARGIN = 2.0
"""Space (points) kept free at the figure's left and right edges."""
MIN_FONT = 4.5
"""The smallest font size (points) tried when a single word is wider than its box."""


class Spec(FigureSpec):
    """CONSORT flow diagram: randomized, allocated / treated, assessed per visit, discontinued (reasons), completed."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("flow",)

    type: Literal["consort"]

    def check_analysis(self, analysis) -> list[Problem]:
        """A consort figure draws a flow analysis with ``by`` (the randomized arm: one column per arm)."""
        if getattr(analysis, "type", None) != "flow":
            return [Problem("analysis", f"analysis '{analysis.id}' is of type {analysis.type}; a consort figure "
                                        "draws the participant counts of a flow analysis",
                            "Point analysis: at a flow analysis (type: flow)")]
        if getattr(analysis, "by", None) is None:
            return [Problem("analysis", f"analysis '{analysis.id}' has no by column; a consort figure draws one "
                                        "column per randomized arm",
                            "Give the flow analysis by: <the randomized arm column>")]
        return []


def count_text(n) -> str:
    """``(n = 29)`` with non-breaking spaces.

    >>> count_text(29) == "(n\\u00a0=\\u00a029)"
    True
    """
    return f"(n{NBSP}={NBSP}{int(n)})"


@dataclass
class Box:
    """One box: its paragraphs (each wrapped separately; paragraphs after the first indented), where it goes."""

    key: str                          # gid suffix, e.g. "allocated-ketamine"
    paragraphs: list[str]
    centred: bool = False
    text: str = ""                    # the wrapped text (set by the layout)
    width: float = 0.0                # points
    height: float = 0.0
    x: float = 0.0                    # left edge
    y: float = 0.0                    # bottom edge
    lines: list[str] = field(default_factory=list)

    @property
    def top(self) -> float:
        return self.y + self.height

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


def flow_boxes(tidy, arm_text, visit_text, reason_text) -> tuple[Box, list[dict]]:
    """The top box and, per arm, its boxes by stage (``allocated``, ``assessed``, ``discontinued``,
    ``completed``; a stage the flow did not report is absent), all texts from the tidy rows.

    ``arm_text`` / ``visit_text`` / ``reason_text`` print a code with its dictionary label.
    """
    def rows(stage, group):
        return tidy[(tidy["stage"] == stage) & (tidy["group"] == group)]

    groups = list(dict.fromkeys(tidy["group"]))
    arms = [g for g in groups if g != OVERALL]
    overall = rows("randomized", OVERALL)
    if overall.empty or not arms:
        raise FigureError("a consort figure needs the flow's randomized counts by arm (the flow has no by column)")
    top = Box("randomized", [f"Randomized {count_text(overall['count'].iloc[0])}"], centred=True)
    columns = []
    for arm in arms:
        boxes: dict[str, Box] = {}
        randomized = int(rows("randomized", arm)["count"].iloc[0])
        allocated = [f"Allocated to {arm_text(arm)} {count_text(randomized)}"]
        treated = rows("treated", arm)
        if not treated.empty:
            n_treated = int(treated["count"].iloc[0])
            allocated += [f"Received allocated intervention {count_text(n_treated)}",
                          f"Did not receive allocated intervention {count_text(randomized - n_treated)}"]
        boxes["allocated"] = Box(f"allocated-{arm}", allocated)
        assessed = rows("assessed", arm)
        if not assessed.empty:
            boxes["assessed"] = Box(f"assessed-{arm}", ["Assessed at each visit"] + [
                f"{visit_text(r.visit)} {count_text(r.count)}" for r in assessed.itertuples()])
        stopped = rows("discontinued", arm)
        if not stopped.empty:
            total = stopped[stopped["level"].isna()]
            reasons = stopped[stopped["level"].notna()]
            boxes["discontinued"] = Box(f"discontinued-{arm}", [f"Discontinued {count_text(total['count'].iloc[0])}"]
                                        + [f"{reason_text(r.level)} {count_text(r.count)}"
                                           for r in reasons.itertuples()])
        completed = rows("completed", arm)
        if not completed.empty:
            boxes["completed"] = Box(f"completed-{arm}", [f"Completed {count_text(completed['count'].iloc[0])}"])
        columns.append({"arm": arm, "boxes": boxes})
    return top, columns


def _wrap(paragraphs: list[str], width: float, size: float, measure) -> list[str] | None:
    """Lines of the paragraphs, each wrapped greedily at spaces to ``width`` points (paragraphs after
    the first, and continuation lines, indented); ``None`` when one word alone is wider."""
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        indent = "" if index == 0 else "  "
        current = None                  # the line being filled (None: nothing on it yet)
        for word in paragraph.split(" "):
            candidate = indent + word if current is None else current + " " + word
            if measure(candidate, size) <= width:
                current = candidate
                continue
            if current is None:
                return None             # one word alone does not fit
            lines.append(current)
            current = indent + "  " + word
            if measure(current, size) > width:
                return None
        lines.append(current if current is not None else indent)
    return lines


def draw(spec: Spec, ctx: FigureContext):
    from matplotlib import rcParams
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MplPath
    from matplotlib.text import Text

    from ketastats.figures.style import MM, add_title, mark_synthetic, new_figure, title_height_mm

    analysis = ctx.analysis
    if analysis is None or analysis.type != "flow":
        raise FigureError(f"figure '{spec.id}': a consort figure draws a flow analysis")
    extras = analysis.extras if isinstance(analysis.extras, dict) else {}
    by = (extras.get("by") or [None])[0]
    extra_labels = extras.get("level_labels") or {}
    code_labels = _code_labels(getattr(analysis, "columns", None) or {})

    def arm_text(code):
        return ctx.level_text(by, code) if by else str(code)

    def visit_text(code):
        return str((extra_labels.get("visit") or {}).get(str(code), code))

    def reason_text(code):
        return code_labels.get(str(code), str(code).replace("_", " "))

    top, columns = flow_boxes(analysis.tidy, arm_text, visit_text, reason_text)
    width_pt = spec_width_mm(spec) * MM * 72
    figure = new_figure(spec.preset, spec.height_mm or 60)
    renderer = figure.canvas.get_renderer()
    scale = 72.0 / figure.dpi

    k = len(columns)
    column_width = (width_pt - 2 * MARGIN - COLUMN_GAP * (k - 1)) / k
    has_side = any("discontinued" in c["boxes"] for c in columns)

    widths: dict[tuple[str, float], float] = {}

    def measure(text: str, size: float) -> float:
        """Width in points of one line as the renderer draws it (leading spaces included)."""
        if (text, size) not in widths:
            probe = Text(0, 0, text, fontsize=size)
            probe.set_figure(figure)
            widths[(text, size)] = probe.get_window_extent(renderer).width * scale
        return widths[(text, size)]

    def wrapped(main: float, side: float, size: float) -> dict[str, list[str]] | None:
        """Every box's lines with these widths (``None`` when a word is wider than its box)."""
        out = {}
        for box, room in [(top, min(width_pt - 2 * MARGIN, max(main, 0.5 * width_pt)))] + [
                (b, side if name == "discontinued" else main) for c in columns for name, b in c["boxes"].items()]:
            lines = _wrap(box.paragraphs, room - 2 * PAD, size, measure)
            if lines is None:
                return None
            out[box.key] = lines
        return out

    def height_in_lines(lines: dict[str, list[str]]) -> int:
        """The tallest column's lines (main boxes plus side box; the layout's height, roughly)."""
        return max(sum(len(lines[b.key]) for b in c["boxes"].values()) for c in columns)

    # The font is the preset's, smaller only when a single word is wider than its box; main and side
    # boxes share the column at the split that needs the fewest lines (the main box wider on ties).
    room = column_width - GUTTER
    splits = [(room * f, room * (1 - f)) for f in (0.7, 0.65, 0.6, 0.55, 0.5, 0.45)] if has_side \
        else [(column_width, 0.0)]
    size = float(rcParams["font.size"])
    chosen = None
    while chosen is None and size >= MIN_FONT:
        options = [(lines, main, side) for main, side in splits
                   if (lines := wrapped(main, side, size)) is not None]
        if options:
            chosen = min(options, key=lambda option: height_in_lines(option[0]))
        else:
            size -= 0.5
    ok = chosen is not None
    if chosen is not None:
        found, main_width, side_width = chosen
        for box in [top] + [b for c in columns for b in c["boxes"].values()]:
            box.lines = found[box.key]
    if not ok:
        raise FigureError(f"figure '{spec.id}': the flow's texts do not fit the {spec.preset} width; "
                          "use a wider preset")

    def text_size(lines: list[str]) -> tuple[float, float]:
        probe = Text(0, 0, "\n".join(lines), fontsize=size, linespacing=1.25)
        probe.set_figure(figure)
        extent = probe.get_window_extent(renderer)
        return extent.width * scale, extent.height * scale

    for box in [top] + [b for c in columns for b in c["boxes"].values()]:
        box.text = "\n".join(box.lines)
        w, h = text_size(box.lines)
        box.height = h + 2 * PAD
        box.width = w + 2 * PAD if box.centred else (side_width if box.key.startswith("discontinued") else main_width)

    # rows from the top: title, randomized, allocated, assessed, (side gap), completed
    title_pt = title_height_mm(spec, spec_width_mm(spec)) * 72 / 25.4
    bottom_pt = 9.0 if ctx.synthetic else 3.0
    y = -title_pt                     # measured downwards from the top (0), shifted later
    top.x = (width_pt - top.width) / 2
    top.y = y - top.height
    y = top.y - GAP
    sides = [c["boxes"].get("discontinued") for c in columns]
    for stage in ("allocated", "assessed"):
        present = [c["boxes"][stage] for c in columns if stage in c["boxes"]]
        if not present:
            continue
        height = max(b.height for b in present)
        for box in present:
            box.height = height
            box.y = y - height
        y = y - height - GAP
    side_height = max((b.height for b in sides if b is not None), default=0.0)
    if side_height:
        side_top = y + GAP / 2          # in the gap below the row above, half a gap down
        for box in sides:
            if box is not None:
                box.y = side_top - box.height
        y = side_top - side_height - GAP / 2
    completed = [c["boxes"]["completed"] for c in columns if "completed" in c["boxes"]]
    if completed:
        height = max(b.height for b in completed)
        for box in completed:
            box.height = height
            box.y = y - height
        y = y - height
    height_pt = max(-y + bottom_pt, (spec.height_mm or 0) * 72 / 25.4)
    shift = height_pt                   # y was measured downwards from the top
    for box in [top] + [b for c in columns for b in c["boxes"].values()]:
        box.y += shift

    # columns left to right; with two arms the side boxes go on the outer sides (CONSORT's layout)
    for index, column in enumerate(columns):
        left = MARGIN + index * (column_width + COLUMN_GAP)
        side_left = k == 2 and index == 0
        main_x = left + (side_width + GUTTER if side_left and has_side else 0.0)
        side_x = left if side_left else left + main_width + GUTTER
        for name, box in column["boxes"].items():
            box.x = side_x if name == "discontinued" else main_x
        column["side_left"] = side_left

    figure.set_size_inches(figure.get_figwidth(), height_pt / 72)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_pt)
    ax.set_ylim(0, height_pt)
    ax.set_axis_off()
    ax.set_gid("consort")

    for box in [top] + [b for c in columns for b in c["boxes"].values()]:
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.width, box.height, boxstyle="square,pad=0",
                                    facecolor="white", edgecolor="black", linewidth=0.6, gid=f"box-{box.key}"))
        if box.centred:
            ax.text(box.centre_x, box.top - PAD, box.text, ha="center", va="top", fontsize=size, linespacing=1.25,
                    gid=f"text-{box.key}")
        else:
            ax.text(box.x + PAD, box.top - PAD, box.text, ha="left", va="top", fontsize=size, linespacing=1.25,
                    gid=f"text-{box.key}")

    def arrow(points, gid):
        ax.add_patch(FancyArrowPatch(path=MplPath(points), arrowstyle="-|>,head_length=0.45,head_width=0.22",
                                     mutation_scale=8, color="black", linewidth=0.6, gid=gid))

    split = top.y - GAP / 2
    for column in columns:
        boxes = column["boxes"]
        first = boxes["allocated"]
        arrow([(top.centre_x, top.y), (top.centre_x, split), (first.centre_x, split), (first.centre_x, first.top)],
              f"arrow-randomized-{first.key}")
        chain = [boxes[s] for s in ("allocated", "assessed", "completed") if s in boxes]
        for upper, lower in zip(chain, chain[1:]):
            arrow([(upper.centre_x, upper.y), (lower.centre_x, lower.top)], f"arrow-{upper.key}-{lower.key}")
        side = boxes.get("discontinued")
        if side is not None:
            y_side = side.y + side.height / 2
            edge = side.x + side.width if column["side_left"] else side.x
            last = chain[-2] if "completed" in boxes else chain[-1]   # the box above the side box's row
            arrow([(last.centre_x, y_side), (edge, y_side)], f"arrow-{last.key}-{side.key}")

    add_title(figure, spec)
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def spec_width_mm(spec: Spec) -> float:
    from ketastats.figures.style import PRESETS

    return float(PRESETS[spec.preset]["width_mm"])


def _code_labels(columns: dict) -> dict[str, str]:
    """Level code → display text over the analysed table's dictionary (codes two columns label
    differently are left out): how the report prints the drop-out reasons of the status column."""
    found: dict[str, set[str]] = {}
    for column in columns.values():
        for code, text in (getattr(column, "level_labels", None) or {}).items():
            found.setdefault(str(code), set()).add(str(text))
    return {code: next(iter(texts)) for code, texts in found.items() if len(texts) == 1}
