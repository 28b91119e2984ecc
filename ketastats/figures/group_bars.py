"""``group_bars``: group means ± SD per outcome with significance marks (Siegel et al. 2021, Fig. 4).

Drawn from ``ttest`` tidy tables only (``estimate1``/``sd1``/``n1`` and ``estimate2``/``sd2``/
``n2`` are the two samples' means, SDs and sizes; ``p_value`` the test). One cluster per
outcome; the first bar is the second sample of ``analysis`` (the shared reference, e.g. the
matched controls of a ``versus_table`` test), then the first sample of ``analysis`` and of each
analysis in ``also`` (e.g. patients before and after ketamine, each compared with the
controls). A bracket with ``*`` / ``**`` / ``***`` joins the reference bar and a bar whose test
has p below 0.05 / 0.01 / 0.001 (``p_column``, default the raw ``p_value``; the paper reports
uncorrected p).

Plan keys: ``also`` (more ttest analyses against the same reference), ``outcomes`` (default:
all of the analysis's outcomes), ``bar_labels`` ([reference, analysis, also...]; default from the
tidy ``contrast``, "first - second"),
``method`` (which t-test row when the analysis ran several; default the first).

Example
-------
``{id: fig4_patients_vs_controls, type: group_bars, analysis: fc_patients_vs_controls_pre,
also: [fc_patients_vs_controls_post], bar_labels: [Controls, Patients before, Patients after]}``
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec
from ketastats.language.fields import Identifier, Names


class Spec(FigureSpec):
    """Group means ± SD per outcome, with significance marks from the declared t tests."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("ttest",)
    OTHER_TYPES: ClassVar[dict] = {"also": ("ttest",)}

    type: Literal["group_bars"]
    also: list[Identifier] = Field(default_factory=list, description="more ttest analyses whose second sample is "
                                                                     "the same reference group")
    outcomes: Names = Field(default_factory=list, description="outcomes drawn, one cluster each (default: all)")
    bar_labels: list[str] | None = Field(None, description="legend text: [reference, analysis, also...]")
    method: Literal["student", "welch", "paired"] | None = Field(None, description="the t-test row used when "
                                                                                  "the analysis ran several")
    p_column: Literal["p_value"] = "p_value"

    def analysis_references(self):
        return [("analysis", self.analysis)] + [(f"also[{i}]", a) for i, a in enumerate(self.also)]

    def check_analysis(self, analysis):
        problems = [Problem(f"outcomes[{i}]", f"'{o}' is not an outcome of analysis '{analysis.id}'")
                    for i, o in enumerate(self.outcomes) if o not in analysis.outcome]
        if self.bar_labels is not None and len(self.bar_labels) != len(self.also) + 2:
            problems.append(Problem("bar_labels", f"bar_labels has {len(self.bar_labels)} entries; it needs "
                                                  f"{len(self.also) + 2}: the reference, analysis '{analysis.id}'"
                                                  + "".join(f", '{a}'" for a in self.also)))
        if self.method is not None and self.method not in analysis.method:
            problems.append(Problem("method", f"analysis '{analysis.id}' runs {', '.join(analysis.method)}, "
                                              f"not {self.method}"))
        return problems

    def check_others(self, analysis, others: dict, catalog) -> list[Problem]:
        """Each analysis of ``also`` must have every drawn outcome (and the ``method``)."""
        outcomes = self.outcomes or list(analysis.outcome)
        problems = []
        for i, other_id in enumerate(self.also):
            other = others.get(other_id)
            if other is None or other.type != "ttest":
                continue   # reported as an unknown analysis / a type mismatch
            missing = [o for o in outcomes if o not in other.outcome]
            if missing:
                problems.append(Problem(f"also[{i}]", f"analysis '{other_id}' has no outcome {', '.join(missing)} "
                                                      f"(drawn from analysis '{analysis.id}')",
                                        hint="Give outcomes: the ones every analysis has"))
            if self.method is not None and self.method not in other.method:
                problems.append(Problem(f"also[{i}]", f"analysis '{other_id}' runs {', '.join(other.method)}, "
                                                      f"not {self.method}"))
        return problems


def _rows(tidy, outcomes, method):
    rows = tidy[tidy["outcome"].isin(outcomes)]
    if method is not None:
        rows = rows[rows["method"] == method]
    return rows.drop_duplicates(subset=["outcome"]).set_index("outcome")


def _default_labels(tables, outcome: str, ids: list[str]) -> list[str]:
    """From the tidy ``contrast`` ("first - second"): the reference, then each analysis's first sample
    (with the analysis id when two analyses name their first sample alike)."""
    parts = [str(table.loc[outcome]["contrast"]).split(" - ", 1) for table in tables]
    firsts = [p[0] for p in parts]
    return [parts[0][-1]] + [f"{first} ({analysis_id})" if firsts.count(first) > 1 else first
                             for first, analysis_id in zip(firsts, ids)]


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np

    from ketastats.figures.style import OKABE_ITO, add_title, mark_synthetic, new_figure, stars

    outcomes = spec.outcomes or list(ctx.analysis.extras["outcomes"])
    ids = [spec.analysis, *spec.also]
    tables = [_rows(ctx.other(a).tidy, outcomes, spec.method) for a in ids]
    for analysis_id, table in zip(ids, tables):
        missing = [o for o in outcomes if o not in table.index]
        if missing:
            raise FigureError(f"analysis '{analysis_id}' has no row for {', '.join(missing)}")
    labels = spec.bar_labels or _default_labels(tables, outcomes[0], ids)
    if len(labels) != len(ids) + 1:
        raise FigureError(f"bar_labels needs {len(ids) + 1} entries (reference, then one per analysis)")
    colours = [OKABE_ITO["yellow"], OKABE_ITO["sky_blue"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"],
               OKABE_ITO["vermillion"], OKABE_ITO["reddish_purple"]]
    height = spec.height_mm or 62
    figure = new_figure(spec.preset, height)
    points = height / 25.4 * 72
    top = add_title(figure, spec) - 14 / points   # the legend sits above the axes
    ax = figure.add_axes((0.12, 36 / points, 0.86, top - 36 / points))
    n_bars = len(ids) + 1
    width = 0.8 / n_bars
    tops: dict[tuple[int | str, str], tuple[Any, float]] = {}   # (bar, outcome) or ('level', outcome)
    for j in range(n_bars):
        means, sds = [], []
        for outcome in outcomes:
            row = tables[0].loc[outcome] if j == 0 else tables[j - 1].loc[outcome]
            means.append(float(row["estimate2"] if j == 0 else row["estimate1"]))
            sds.append(float(row["sd2"] if j == 0 else row["sd1"]))
        xs = np.arange(len(outcomes)) + (j - (n_bars - 1) / 2) * width
        n = int((tables[0].loc[outcomes[0]]["n2"]) if j == 0 else tables[j - 1].loc[outcomes[0]]["n1"])
        bars = ax.bar(xs, means, width=width * 0.92, yerr=sds, color=colours[j % len(colours)], edgecolor="black",
                      linewidth=0.4, capsize=1.8, error_kw={"lw": 0.7}, label=f"{labels[j]} (n = {n})")
        for outcome, patch, x, m, s in zip(outcomes, bars.patches, xs, means, sds):
            patch.set_gid(f"bar-{j}-{outcome}")
            tops[(j, outcome)] = (x, m + s)
    ymax = max(t for _, t in tops.values())
    step = 0.07 * ymax
    for i, outcome in enumerate(outcomes):
        level = max(tops[(j, outcome)][1] for j in range(n_bars)) + 0.3 * step
        for j, table in enumerate(tables, start=1):
            mark = stars(float(table.loc[outcome][spec.p_column]))
            if not mark:
                continue
            x0, x1 = tops[(0, outcome)][0], tops[(j, outcome)][0]
            ax.plot([x0, x0, x1, x1], [level, level + 0.3 * step, level + 0.3 * step, level], color="black", lw=0.6)
            text = ax.text((x0 + x1) / 2, level + 0.25 * step, mark, ha="center", va="bottom", fontsize=7)
            text.set_gid(f"mark-{j}-{outcome}")
            level += 1.3 * step
        tops[("level", outcome)] = (0, level)
    ax.set_ylim(min(0, ax.get_ylim()[0]), max(t for _, t in tops.values()) + step)
    ax.set_xticks(range(len(outcomes)), [ctx.short_label(o) for o in outcomes])
    units = {getattr(ctx.analysis.columns.get(o), "unit", None) for o in outcomes} if ctx.analysis.columns else set()
    unit = units.pop() if len(units) == 1 else None
    ax.set_ylabel(spec.labels.get("y", f"Mean ± SD ({unit})" if unit else "Mean ± SD"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=n_bars, handlelength=1.2, columnspacing=1.0,
              fontsize=5.5)
    figure.text(0.01, 0.005, "Error bars: SD. * p < 0.05, ** p < 0.01, *** p < 0.001 (two-tailed t test, "
                f"{'uncorrected' if spec.p_column == 'p_value' else spec.p_column})", fontsize=5, ha="left",
                va="bottom")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure
