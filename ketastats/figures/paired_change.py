"""``paired_change``: each participant's value before and after, by group, and the change
summary (Siegel et al. 2021, Fig. 2b-c / 2e and 3b-c).

Left: one panel per group (e.g. week-2 responders and non-responders), a line from pre to
post per participant with both values among the rows the analysis used (``data_used``), the
group mean in black. Right: the change (post − pre) per group, mean ± SD over those
participants as bars with the individual changes as points; where the analysis estimated
the change (a ``mixed_model`` contrast of the time levels ``by`` the group, or the
``paired_ttest`` estimate), that estimate and its CI are drawn as a black diamond beside the
bar. The analysis's p-values are printed above: for a ``mixed_model`` the fixed-effect rows of
the time term and its interaction with the group (first ``df_method`` of the analysis), for
a ``paired_ttest`` its t test.

Plan keys: ``outcome`` (default: the analysis's response / first outcome), ``time`` (default:
``pair_by`` of a paired_ttest; else the first predictor of the formula), ``levels`` ([pre,
post]; default: from the analysis or the observed level order), ``group`` (optional),
``level_labels`` (value → text, for time and group levels, e.g. {"0": Pre, "1": Post,
"True": Responders}).

Example
-------
``{id: fig2b_sgacc_dmn, type: paired_change, analysis: fc_sgacc_dmn, time: time_post,
group: responder_2wk}``
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ketastats.errors import FigureError, Problem
from ketastats.figures.base import FigureContext, FigureSpec, column_field
from ketastats.language.fields import Scalar


class Spec(FigureSpec):
    """Pre vs post lines per participant by group, with the change summary."""

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ("mixed_model", "paired_ttest")

    type: Literal["paired_change"]
    outcome: str | None = column_field("the outcome (default: the analysis's response)", default=None)
    time: str | None = column_field("the column whose two levels are pre and post", default=None)
    levels: list[Scalar] | None = Field(None, min_length=2, max_length=2, description="[pre, post] values of time")
    group: str | None = column_field("a subject-level grouping column, one panel per level", default=None)
    level_labels: dict[str, str] = Field(default_factory=dict,
                                         description="display text of time / group values, e.g. {\"1\": Post}")

    def check_analysis(self, analysis):
        names = _analysis_columns(analysis)
        problems = []
        for key in ("outcome", "time", "group"):
            value = getattr(self, key)
            if value is not None and value not in names:
                problems.append(Problem(key, f"'{value}' is not a column of analysis '{analysis.id}' "
                                             f"({', '.join(names)})"))
        return problems


    def check_others(self, analysis, others: dict, catalog) -> list[Problem]:
        """The [pre, post] levels must be levels of the time column, and a time column with more than
        two declared levels needs ``levels:`` (checked against the dictionary when it declares levels;
        not when the analysis's where / population may leave two of them)."""
        time = self.time or _default_time(analysis)
        column = catalog.columns.get(analysis.table, {}).get(time) if time else None
        declared = [str(level) for level in column.levels] if column is not None and column.levels else None
        if declared is None:
            return []
        key = "time" if self.time else "analysis"
        if self.levels is not None:
            return [Problem(f"levels[{i}]", f"'{level}' is not a level of '{time}' ({', '.join(declared)})")
                    for i, level in enumerate(self.levels) if not any(_same(level, d) for d in declared)]
        if analysis.type == "mixed_model" and len(declared) != 2 and analysis.where is None \
                and analysis.population is None:
            return [Problem(key, f"'{time}' has {len(declared)} levels ({', '.join(declared)}); a paired change "
                                 "figure draws two", hint=f"Give levels: [pre, post], e.g. levels: "
                                                          f"[{declared[0]}, {declared[-1]}]")]
        return []


def _default_time(analysis) -> str | None:
    """The time column the figure draws by default: a paired_ttest's ``pair_by``, else the first
    predictor of a mixed model's formula (as ``draw`` reads it from the results)."""
    if analysis.type == "paired_ttest":
        return analysis.pair_by
    from ketastats.language.formulas import FormulaError, parse_formula

    try:
        formula = parse_formula(analysis.formula)
    except (FormulaError, AttributeError):
        return None
    predictors = [name for name in formula.names if name != formula.response]
    return predictors[0] if predictors else None


def _analysis_columns(analysis) -> list[str]:
    """The columns an analysis spec names (checked before anything runs), through its generic hook."""
    return list(dict.fromkeys(column for _, column in analysis.column_references()))


def _defaults(spec: Spec, result) -> tuple[str, str, list | None]:
    """(outcome, time, [pre, post]) from the figure's keys, else from what the analysis analysed."""
    extras = result.extras
    if result.type == "paired_ttest":   # its levels are [first, second] of first − second = post − pre
        first, second = extras["levels"]
        return spec.outcome or extras["outcomes"][0], spec.time or extras["pair_by"], spec.levels or [second, first]
    return spec.outcome or extras["outcomes"][0], spec.time or extras["predictors"][0], spec.levels


def _same(a, b) -> bool:
    return str(a).lower() == str(b).lower() or (_number(a) is not None and _number(a) == _number(b))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def draw(spec: Spec, ctx: FigureContext):
    import numpy as np
    import pandas as pd

    from ketastats.figures.style import PALETTE, add_title, mark_synthetic, new_figure, wrap

    outcome, time, levels = _defaults(spec, ctx.analysis)
    subject = ctx.result.plan.subject
    group = spec.group
    data = ctx.analysis.data_used
    needed = [outcome, time] + ([group] if group else [])
    data = data[data[needed].notna().all(axis=1)]
    observed = ctx.levels(time, data[time].tolist())
    if levels is None:
        if len(observed) != 2:
            raise FigureError(f"'{time}' has {len(observed)} values; give levels: [pre, post]")
        levels = observed
    found = [next((v for v in observed if _same(v, level)), None) for level in levels]
    if None in found:
        absent = [str(level) for level, value in zip(levels, found) if value is None]
        raise FigureError(f"'{time}' has no value {', '.join(absent)} among the analysed rows "
                          f"({', '.join(map(str, observed))})")
    pre_value, post_value = found
    wide = {}
    for participant, rows in data.groupby(subject, observed=True, sort=False):
        pre, post = rows[rows[time] == pre_value], rows[rows[time] == post_value]
        if len(pre) == 1 and len(post) == 1:
            wide[participant] = (float(pre[outcome].iloc[0]), float(post[outcome].iloc[0]),
                                 pre[group].iloc[0] if group else None)
    if not wide:
        raise FigureError(f"no participant has both {levels[0]} and {levels[1]} values of '{outcome}'")
    frame = pd.DataFrame.from_dict(wide, orient="index", columns=["pre", "post", "group"])
    frame = frame.loc[sorted(frame.index, key=str)]
    groups = ctx.levels(group, frame["group"].tolist()) if group else [None]
    text = lambda value: _level_text(spec.level_labels, value)  # noqa: E731
    height = spec.height_mm or 70
    figure = new_figure(spec.preset, height)
    top = add_title(figure, spec)
    annotation = figure.text(0.01, top, _p_annotation(ctx, time, group), ha="left", va="top", fontsize=6)
    annotation.set_gid("p-values")
    points = height / 25.4 * 72
    widths = [1.0] * len(groups) + [0.3 + 0.45 * len(groups)]
    grid = figure.add_gridspec(1, len(groups) + 1, width_ratios=widths, wspace=0.45, left=0.12, right=0.98,
                               top=top - 26 / points, bottom=38 / points)
    axes = [figure.add_subplot(grid[0, 0])]
    axes += [figure.add_subplot(grid[0, k], sharey=axes[0]) for k in range(1, len(groups))]
    summary_ax = figure.add_subplot(grid[0, len(groups)])
    for k, (ax, level) in enumerate(zip(axes, groups)):
        part = frame if level is None else frame[frame["group"] == level]
        colour = PALETTE[k % len(PALETTE)]
        _participant_lines(ax, part, colour, level)
        (mean,) = ax.plot([0, 1], [part["pre"].mean(), part["post"].mean()], color="black", lw=1.8, marker="o",
                          ms=3.5, zorder=3)
        mean.set_gid(f"mean-{level}")
        ax.set_xticks([0, 1], [text(levels[0]), text(levels[1])])
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(f"{text(level)} (n = {len(part)})" if level is not None else f"n = {len(part)}", fontsize=None)
        if k == 0:
            ax.set_ylabel(ctx.label(outcome))
        else:
            ax.tick_params(labelleft=False)
        ax.set_xlabel(ctx.short_label(time))
    change = frame["post"] - frame["pre"]
    estimates = _model_changes(ctx, time, group, groups, levels)
    for k, level in enumerate(groups):
        values = change if level is None else change[frame["group"] == level]
        colour = PALETTE[k % len(PALETTE)]
        bar = summary_ax.bar(k, values.mean(), yerr=values.std(ddof=1) if len(values) > 1 else 0, width=0.6,
                             color=colour, alpha=0.45, edgecolor=colour, capsize=2.5, error_kw={"lw": 0.8})
        bar.patches[0].set_gid(f"change-{level}")
        jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
        summary_ax.scatter(k + jitter, values, s=3, color=colour, zorder=3, linewidths=0)
        if level in estimates or (level is None and None in estimates):
            estimate, low, high = estimates[level]
            summary_ax.errorbar(k + 0.38, estimate, yerr=[[estimate - low], [high - estimate]], fmt="D",
                                color="black", ms=2.8, capsize=1.5, lw=0.8, zorder=4)
    summary_ax.axhline(0, color="black", lw=0.5)
    summary_ax.set_xticks(range(len(groups)), [wrap(text(level), 12) if level is not None else "all"
                                               for level in groups])
    summary_ax.set_xlim(-0.6, len(groups) - 0.25)
    summary_ax.set_title(f"Change ({text(levels[1])} − {text(levels[0])})")
    unit = getattr((ctx.analysis.columns or {}).get(outcome), "unit", None)
    summary_ax.set_ylabel(f"Change ({unit})" if unit else "Change")
    figure.text(0.01, 0.005, "Right: change per participant (dots), mean ± SD (bars)"
                + ("; ◆ the analysis's estimated change (95 % CI)" if estimates else ""), fontsize=5, ha="left",
                va="bottom")
    if ctx.synthetic:
        mark_synthetic(figure)
    return figure


def _participant_lines(ax, part, colour: str, level) -> None:
    """Each participant's pre → post line (one ``LineCollection``, one segment per participant, in
    ``part``'s order) and its two values (one marker ``Line2D``): two artists per panel instead of one
    per participant, which each backend (PNG, SVG, PDF) lays out and draws separately (issue 15).

    Looks as one ``ax.plot`` line per participant did: the colour, width 0.7, alpha 0.75 and the
    line caps / joins of ``lines.solid_*``, at Line2D's z-order 2 (a collection's default is 1);
    the markers (○, 2.2 pt) are drawn after all the lines instead of after each one. Overlapping
    segments still blend one by one. gids: ``participants-<level>`` (the lines) and
    ``participants-<level>-values`` (the markers); the segments follow ``part``'s row order (the
    participants sorted by their id's text)."""
    import numpy as np
    from matplotlib import rcParams
    from matplotlib.collections import LineCollection

    pre, post = part["pre"].to_numpy(float), part["post"].to_numpy(float)
    segments = np.stack([np.column_stack([np.zeros(len(pre)), pre]), np.column_stack([np.ones(len(post)), post])],
                        axis=1)
    lines = LineCollection(list(segments), colors=colour, linewidths=0.7, alpha=0.75, zorder=2,
                           capstyle=rcParams["lines.solid_capstyle"], joinstyle=rcParams["lines.solid_joinstyle"])
    lines.set_gid(f"participants-{level}")
    ax.add_collection(lines)
    (values,) = ax.plot(segments[:, :, 0].ravel(), segments[:, :, 1].ravel(), linestyle="none", color=colour,
                        alpha=0.75, marker="o", ms=2.2)
    values.set_gid(f"participants-{level}-values")


def _level_text(labels: dict[str, str], value) -> str:
    """The display text of a value: ``labels`` by its text (1.0 is also found as "1"), else the value."""
    keys = [str(value)]
    number = _number(value)
    if number is not None and number == int(number) and not isinstance(value, bool):
        keys.append(str(int(number)))
    for key in keys:
        if key in labels:
            return labels[key]
    return keys[-1]


def _first_df_method(tidy):
    if "df_method" in tidy.columns and tidy["df_method"].notna().any():
        return tidy["df_method"].dropna().iloc[0]
    return None


def _model_changes(ctx: FigureContext, time: str, group: str | None, groups: list, levels) -> dict:
    """group level → (estimate, conf_low, conf_high) of post − pre, as the analysis estimated it."""
    tidy = ctx.analysis.tidy
    if ctx.analysis.type == "paired_ttest":
        if groups != [None] or len(tidy) != 1:
            return {}
        row = tidy.iloc[0]
        estimate, low, high = float(row["estimate"]), float(row["conf_low"]), float(row["conf_high"])
        # the analysis estimates its levels[0] − levels[1] = post − pre
        if _same(levels[1], ctx.analysis.extras["levels"][0]):
            return {None: (estimate, low, high)}
        return {None: (-estimate, -high, -low)}
    rows = tidy[(tidy["effect"] == "contrast") & (tidy["term"] == time)]
    method = _first_df_method(tidy)
    if method is not None:
        rows = rows[rows["df_method"] == method]
    found = {}
    for level in groups:
        key = f"{group}={level}" if group else None
        match = rows[rows["group"].astype(str) == str(key)] if group else rows[rows["group"].isna()]
        if len(match) == 1:
            row = match.iloc[0]
            found[level] = (float(row["estimate"]), float(row["conf_low"]), float(row["conf_high"]))
    return found


def _p_annotation(ctx: FigureContext, time: str, group: str | None) -> str:
    from ketastats.figures.style import p_text

    tidy = ctx.analysis.tidy
    if ctx.analysis.type == "paired_ttest":
        row = tidy.iloc[0]
        return f"paired t({row['df']:g}) = {row['statistic']:.2f}, {p_text(row['p_value'])}"
    method = _first_df_method(tidy)
    rows = tidy[tidy["effect"] == "fixed"]
    if method is not None:
        rows = rows[rows["df_method"] == method]
    parts = []
    for _, row in rows.iterrows():
        term = str(row["term"])
        names = term.split(":")
        if term == "Intercept" or not any(n.split("[")[0] == time for n in names):
            continue
        label = " × ".join(ctx.short_label(n.split("[")[0]) for n in names)
        parts.append(f"{label}: t({row['df']:.3g}) = {row['statistic']:.2f}, {p_text(row['p_value'])}")
    suffix = f" (df: {method})" if method else ""
    return "; ".join(parts) + suffix if parts else ""
