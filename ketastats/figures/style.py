"""The house style of every figure, and byte-deterministic saving.

Journal presets set the width (mm) and font sizes; colours come from the Okabe-Ito palette
(safe for the common colour-vision deficiencies; Okabe & Ito 2008). Text uses matplotlib's
bundled DejaVu Sans, so no system font changes the output. Saving strips what varies
between runs: PDF ``CreationDate`` and SVG ``Date`` are dropped, the producer is the fixed
string ``ketastats``, SVG ids come from a fixed ``svg.hashsalt``, and the PNG carries no
``Software`` entry or timestamp. Same inputs → identical bytes (tested).

Example
-------
>>> with figure_style("single_column"):
...     figure = new_figure("single_column", 60)
>>> round(figure.get_figwidth() * 25.4)
89
"""

from __future__ import annotations

import contextlib
import math

MM = 1 / 25.4

#: Okabe-Ito colours (black last, used for means and reference lines).
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
GREY = "#999999"

#: width (mm) and base font size (pt) of each journal preset.
PRESETS = {"single_column": {"width_mm": 89.0, "font_pt": 7.0},
           "one_and_half_column": {"width_mm": 140.0, "font_pt": 7.5},
           "double_column": {"width_mm": 183.0, "font_pt": 8.0}}

DPI = 300
FORMATS = ("png", "svg", "pdf")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def rc_params(preset: str) -> dict:
    size = PRESETS[preset]["font_pt"]
    return {
        "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "mathtext.fontset": "dejavusans",
        "font.size": size, "axes.titlesize": size + 0.5, "axes.labelsize": size, "xtick.labelsize": size - 0.5,
        "ytick.labelsize": size - 0.5, "legend.fontsize": size - 0.5, "figure.titlesize": size + 1,
        "axes.linewidth": 0.6, "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5,
        "ytick.major.size": 2.5, "lines.linewidth": 1.0, "lines.markersize": 3.0, "axes.spines.top": False,
        "axes.spines.right": False, "legend.frameon": False, "axes.prop_cycle": None,
        "svg.hashsalt": "ketastats", "svg.fonttype": "path", "pdf.fonttype": 42, "pdf.compression": 6,
        "path.simplify": False, "savefig.dpi": DPI, "figure.dpi": 100, "axes.unicode_minus": True,
        "figure.constrained_layout.use": False, "image.interpolation": "nearest",
    }


@contextlib.contextmanager
def figure_style(preset: str):
    """A fixed rc context (matplotlib's defaults first, so a user's matplotlibrc changes nothing).

    Figures are drawn on their own Agg canvas (:func:`new_figure`), never through pyplot, so the
    session's backend is left alone."""
    import matplotlib
    import matplotlib.style
    from matplotlib import cycler  # type: ignore[attr-defined]  # re-exported at run time; the stubs omit it

    params = rc_params(preset)
    params["axes.prop_cycle"] = cycler(color=PALETTE)
    with matplotlib.style.context("default"), matplotlib.rc_context(params):
        yield


def new_figure(preset: str, height_mm: float):
    """A Figure (not registered with pyplot, so nothing leaks between figures) of the preset's width."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(PRESETS[preset]["width_mm"] * MM, height_mm * MM))
    FigureCanvasAgg(figure)
    return figure


def mark_synthetic(figure) -> None:
    """A small grey note in the bottom-right corner: the data are simulated."""
    figure.text(0.995, 0.004, "synthetic data", ha="right", va="bottom", fontsize=5.0, color=GREY)


def encode(figure) -> dict[str, bytes]:
    """The figure as ``png`` (300 dpi), ``svg`` and ``pdf`` bytes; byte-deterministic (no dates).

    Implemented in :func:`ketastats.figures.encoding.encode` (PNG written from Agg's pixels, PDF fonts
    subset once per process)."""
    from ketastats.figures.encoding import encode as encode_figure

    return encode_figure(figure)


def p_text(p: float | None, symbol: str = "p") -> str:
    """p as printed on figures: ``p < 0.001``, 3 decimals below 0.1, else 2 (``p = 0.016``, ``p = 0.54``);
    the number is :func:`ketastats.glossary.format_p`'s ``figure`` style (the report's rules)."""
    from ketastats.glossary import format_p

    text = format_p(p, "figure")
    return f"{symbol} {text}" if text.startswith("<") else f"{symbol} = {text}"


def stars(p: float | None, levels=(0.05, 0.01, 0.001)) -> str:
    """``*``, ``**``, ``***`` for p below each level; empty otherwise."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "*" * sum(p < level for level in levels)


def add_title(figure, spec, pad_mm: float = 2.0) -> float:
    """Draw ``spec.title`` (bold, wrapped to the figure's width) at the top; return the figure
    fraction below it where the axes may start (1 − pad when there is no title)."""
    import textwrap

    from matplotlib import rcParams

    width_mm = figure.get_figwidth() / MM
    height_mm = figure.get_figheight() / MM
    if not spec.title:
        return 1 - pad_mm / height_mm
    size = float(rcParams["figure.titlesize"])
    chars = max(20, int(width_mm / (size * 0.3528 * 0.66)))
    lines = textwrap.wrap(spec.title, chars)
    figure.text(0.01, 1 - 1.0 / height_mm, "\n".join(lines), ha="left", va="top", fontsize=size,
                fontweight="bold", linespacing=1.15)
    return 1 - title_height_mm(spec, width_mm, pad_mm) / height_mm


def title_height_mm(spec, width_mm: float, pad_mm: float = 2.0) -> float:
    """The height :func:`add_title` takes at the top of a figure ``width_mm`` wide (inside ``figure_style``)."""
    import textwrap

    from matplotlib import rcParams

    if not spec.title:
        return pad_mm
    size = float(rcParams["figure.titlesize"])
    lines = textwrap.wrap(spec.title, max(20, int(width_mm / (size * 0.3528 * 0.66))))
    return 1.0 + len(lines) * size * 0.3528 * 1.2 + pad_mm


def wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def text_width(text: str, size: float) -> float:
    """Width in points of ``text`` (the widest of its lines) in the figure font at ``size`` points,
    without drawing: for layouts that must fit labels and text columns inside the figure."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family="sans-serif", size=size)
    return max(text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]
               for line in str(text).split("\n"))


def plain_number(value: float) -> str:
    """A log-axis tick as plain text (no mathtext): ``0.25``, ``1``, ``4``, ``0.001``; powers of ten
    below 10⁻⁴ as ``1e-6``.

    >>> [plain_number(v) for v in (0.25, 0.5, 1.0, 2.0, 4.0, 0.001, 1e-6, 1e-10)]
    ['0.25', '0.5', '1', '2', '4', '0.001', '1e-6', '1e-10']
    """
    if value <= 0 or not math.isfinite(value):
        return ""
    if value < 1e-4:
        exponent = math.log10(value)
        if abs(exponent - round(exponent)) < 1e-9:
            return f"1e{int(round(exponent))}"
        return f"{value:.0e}".replace("e-0", "e-")
    return f"{value:g}"


def plain_log_axis(axis) -> None:
    """Label a log axis's major ticks with :func:`plain_number` and its minor ticks not at all
    (matplotlib's default writes ``10^{-2}`` in mathtext, slower to lay out and unlike a journal's)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: plain_number(value)))
    axis.set_minor_formatter(NullFormatter())
