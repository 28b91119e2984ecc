"""``scatter``: x versus y with the least-squares line, r and p annotated (Siegel et al. 2021, Fig. 5).

Points: the rows the ``correlation`` analysis used for the pair (``data_used`` with x, y and any
covariates present: its complete cases per pair). The annotation (r, its CI, p and n) is the
analysis's tidy row for the pair (``estimate``, ``conf_low``, ``conf_high``, ``p_value``, ``n``);
the line is the ordinary least-squares fit of y on x over the same points (a drawing aid; for
a partial correlation the annotation is the partial r and the line is still the plain fit).

Plan keys: ``x`` (one of the analysis's x columns), ``y`` (default: its single outcome),
``method`` (pearson | spearman, when the analysis ran both; default the first).

Example
-------
``{id: fig5_hippocampus, type: scatter, analysis: volumes_vs_madrs_change, x: hippocampus_r_icv}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec, column_field


class Spec(FigureSpec):
    """x vs y with the fitted line; r and p from the correlation analysis."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("correlation",)

    type: Literal["scatter"]
    x: str = column_field("the x column (one of the analysis's x)")
    y: str | None = column_field("the y column (default: the analysis's outcome)", default=None)
    method: Literal["pearson", "spearman"] | None = Field(None, description="which correlation, when several ran")

    def check_analysis(self, analysis):
        problems = []
        if self.x not in analysis.x:
            problems.append(Problem("x", f"'{self.x}' is not an x of analysis '{analysis.id}' "
                                         f"({', '.join(analysis.x)})"))
        if self.y is not None and self.y not in analysis.outcome:
            problems.append(Problem("y", f"'{self.y}' is not an outcome of analysis '{analysis.id}'"))
        if self.y is None and len(analysis.outcome) != 1:
            problems.append(Problem("y", f"analysis '{analysis.id}' has several outcomes; name one with y:"))
        if self.method is not None and self.method not in analysis.method:
            problems.append(Problem("method", f"analysis '{analysis.id}' computes {', '.join(analysis.method)}, "
                                              f"not {self.method}"))
        return problems


def correlation_row(spec: Spec, ctx: FigureContext):
    y = spec.y or ctx.analysis.extras["outcomes"][0]
    tidy = ctx.analysis.tidy
    rows = tidy[(tidy["term"] == spec.x) & (tidy["outcome"] == y)]
    if spec.method is not None:
        rows = rows[rows["method"] == spec.method]
    if rows.empty:
        raise FigureError(f"analysis '{ctx.analysis.analysis_id}' has no row for {spec.x} ~ {y}")
    return rows.iloc[0]


def annotation_text(row) -> str:
    from ketastats.figures.style import p_text

    symbol = "r" if row["method"] == "pearson" else "ρ"
    partial = " (partial)" if isinstance(row.get("covariates"), str) and row.get("covariates") else ""
    ci = ""
    if row.get("conf_low") == row.get("conf_low") and row.get("conf_low") is not None:
        ci = f" [{row['conf_low']:.2f}, {row['conf_high']:.2f}]"
    return f"{symbol}{partial} = {row['estimate']:.2f}{ci}\n{p_text(float(row['p_value']))}, n = {int(row['n'])}"


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure

    y = spec.y or ctx.analysis.extras["outcomes"][0]
    row = correlation_row(spec, ctx)
    needed = list(dict.fromkeys([spec.x, y, *ctx.analysis.extras["covariates"]]))
    data = ctx.analysis.data_used
    data = data[data[needed].notna().all(axis=1)]
    xs, ys = data[spec.x].to_numpy(dtype=float), data[y].to_numpy(dtype=float)
    if len(xs) != int(row["n"]):
        raise FigureError(f"{len(xs)} complete pairs in the analysed rows, but the analysis reports n = {row['n']}")
    height = spec.height_mm or 72
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec) - 4 / points
    ax = figure.add_axes((0.17, 34 / points, 0.79, top - 34 / points))
    points = ax.scatter(xs, ys, s=12, color=PALETTE[0], edgecolor="white", linewidths=0.3, zorder=3)
    points.set_gid("points")
    slope, intercept = np.polyfit(xs, ys, 1)
    grid = np.linspace(xs.min(), xs.max(), 2)
    (line,) = ax.plot(grid, intercept + slope * grid, color="black", lw=1.0)
    line.set_gid("fit")
    text = ax.text(0.03, 0.97, annotation_text(row), transform=ax.transAxes, ha="left", va="top", fontsize=6.5)
    text.set_gid("annotation")
    ax.set_xlabel(ctx.label(spec.x))
    ax.set_ylabel(ctx.label(y))
    ax.xaxis.set_major_formatter(plain_offset_formatter())
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


SUPERSCRIPTS = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")


def plain_offset_formatter():
    """matplotlib's ``ScalarFormatter`` in scientific style (``scilimits=(-3, 4)``), whose axis
    offset is plain text: "×10⁻³" in Unicode superscripts instead of the mathtext
    ``$\\times\\mathdefault{10^{-3}}$`` that ``useMathText=True`` writes (same place, same
    meaning; mathtext is parsed on every layout of every format, ≈ 0.05 s per run, issue 15).
    An additive offset (values far from 0 in a narrow range) falls back to matplotlib's plain
    "1e-3+1e3" text.

    >>> from ketastats.figures.style import figure_style, new_figure
    >>> with figure_style("single_column"):
    ...     figure = new_figure("single_column", 40)
    ...     ax = figure.add_subplot()
    ...     _ = ax.plot([0.0012, 0.0031], [0, 1])
    ...     ax.xaxis.set_major_formatter(plain_offset_formatter())
    ...     figure.canvas.draw()
    >>> ax.xaxis.get_offset_text().get_text()
    '×10⁻³'
    """
    import re

    from matplotlib.ticker import ScalarFormatter

    class PlainOffsetFormatter(ScalarFormatter):
        def get_offset(self) -> str:
            text = super().get_offset()   # "1e−3" (plain text; with an additive offset "1e−3+1e3")
            match = re.fullmatch(r"1e([−-]?\d+)", text)
            return "×10" + match.group(1).translate(SUPERSCRIPTS) if match else text

    formatter = PlainOffsetFormatter(useMathText=False)
    formatter.set_scientific(True)
    formatter.set_powerlimits((-3, 4))
    return formatter
