"""Manuscript figures declared in the plan's ``figures:`` section.

One module per figure type (the plan ``type``), each exporting ``Spec`` and ``draw``; the plan
schema's figure union is built from :data:`REGISTRY`, as the analysis union is. Figures draw
an analysis's results (tidy table, glance, extras, and ``data_used``: the analysed table after
population and ``where``), never a new fit. :func:`render_figures` writes
``<report>/figures/<id>.{png,svg,pdf}``; a figure that cannot be drawn is recorded as failed
with its reason (the run then exits 1), and the other figures are still written.

Example
-------
``rendered = render_figures(plan_result, Path("reports/siegel2021"))``
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ketastats.errors import Issue, KetastatsError, Location, Problem, did_you_mean
from ketastats.figures import (
    consort,
    diagnostics,
    forest,
    group_bars,
    kaplan_meier,
    paired_change,
    scatter,
    subgroup_forest,
    trajectory,
)
from ketastats.figures.base import FigureContext, FigureSpec
from ketastats.results import RenderedFigure

REGISTRY = [trajectory, paired_change, group_bars, scatter, kaplan_meier, forest, diagnostics, subgroup_forest,
            consort]
BY_TYPE = {module.Spec.model_fields["type"].annotation.__args__[0]: module for module in REGISTRY}

EXPECTED_FAILURES = (KetastatsError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError)
"""What may stop one figure and not the run: ketastats' own errors (``FigureError``: the results
hold nothing to draw) and numerical ones. Anything else is a bug and propagates."""


def default_caption(spec: FigureSpec, analysis_title: str | None, synthetic: bool) -> str:
    """The figure's legend: its caption, else its title, else the analysis's title; "(synthetic data)" added."""
    text = spec.caption or spec.title or analysis_title or spec.id
    if synthetic and "synthetic" not in text.lower():
        text = f"{text} (synthetic data)"
    return text


def draw_figure(result, spec: FigureSpec):
    """The matplotlib Figure of one figure spec (call inside ``style.figure_style(spec.preset)``)."""
    plan = result.plan
    context = FigureContext(spec=spec, result=result,
                            analysis=result.results.get(spec.analysis) if spec.analysis else None,
                            synthetic=bool(plan.synthetic_data))
    return BY_TYPE[spec.type].draw(spec, context)


def draw_figures(result) -> tuple[list[RenderedFigure], list[Issue]]:
    """Draw every figure of ``result.plan`` (a stage of ``run_plan``: results in, encoded files out).

    Returns the figures (each with its png / svg / pdf bytes, or failed with the reason) and a
    ``figure-failed`` warning per failed figure; the run then exits 1. Nothing is written.
    """
    from ketastats.figures.encoding import encode
    from ketastats.figures.style import figure_style

    plan = result.plan
    rendered: list[RenderedFigure] = []
    issues: list[Issue] = []
    for index, spec in enumerate(plan.figures):
        analysis = result.results.get(spec.analysis) if spec.analysis else None
        caption = default_caption(spec, getattr(analysis, "title", None), bool(plan.synthetic_data))
        entry = RenderedFigure(spec.id, spec.title, caption, type=spec.type, analysis=spec.analysis)
        needed = [analysis_id for _, analysis_id in spec.analysis_references() if analysis_id]
        failed = [a for a in needed if a not in result.results or not result.results[a].ok]
        if failed:
            entry.status = "failed"
            entry.reason = f"analysis {', '.join(repr(a) for a in failed)} did not run successfully"
        else:
            try:
                with figure_style(spec.preset), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    entry.content = encode(draw_figure(result, spec))   # not registered with pyplot
            except EXPECTED_FAILURES as exc:
                entry.status = "failed"
                entry.reason = "; ".join(i.message for i in exc.issues) if isinstance(exc, KetastatsError) \
                    else f"{type(exc).__name__}: {exc}"
        if not entry.ok:
            issues.append(Issue("figure-failed", f"figure '{spec.id}' was not drawn: {entry.reason}",
                                Location(path=f"figures[{index}]"), severity="warning"))
        rendered.append(entry)
    return rendered, issues


def write_figures(figures: list[RenderedFigure], folder: Path) -> None:
    """Write each drawn figure's files as ``folder/<id>.<kind>`` and record where (``figure.files``)."""
    folder = Path(folder)
    for figure in figures:
        if figure.content:
            folder.mkdir(parents=True, exist_ok=True)
        for kind, content in figure.content.items():
            (folder / f"{figure.id}.{kind}").write_bytes(content)
        figure.files = {kind: folder / f"{figure.id}.{kind}" for kind in figure.content}


def render_figures(result, folder: Path) -> list[RenderedFigure]:
    """Draw every figure of ``result.plan`` and write them into ``folder / "figures"`` (no report).

    >>> rendered = render_figures(plan_result, Path("drafts"))   # doctest: +SKIP
    """
    rendered, _ = draw_figures(result)
    write_figures(rendered, Path(folder) / "figures")
    return rendered


__all__ = ["REGISTRY", "BY_TYPE", "RenderedFigure", "FigureSpec", "draw_figures", "write_figures", "render_figures",
           "draw_figure", "figure_issues"]


def figure_issues(plan, catalog) -> list[Problem]:
    """(code, message, YAML path, hint) for every figure name that cannot be right, before anything runs."""

    analyses = {spec.id: spec for spec in plan.analyses}
    families = plan.multiplicity
    issues: list[Problem] = []
    seen: dict[str, int] = {}
    for index, figure in enumerate(plan.figures):
        path = ("figures", index)
        if figure.id in seen:
            issues.append(Problem.coded("duplicate-id", f"figure id '{figure.id}' is used twice (first at "
                                        f"figures[{seen[figure.id]}])", path + ("id",), None))
        seen.setdefault(figure.id, index)
        family = getattr(figure, "family", None)
        if family is not None and family not in families:
            issues.append(Problem.coded("unknown-family", f"figure '{figure.id}': family '{family}' is not "
                                        "declared under multiplicity:", path + ("family",),
                                        did_you_mean(family, families)))
        main = None
        for position, (key, analysis_id) in enumerate(figure.analysis_references()):
            if analysis_id is None:
                continue
            spec = analyses.get(analysis_id)
            key_path = path + Problem(key, "").path
            if spec is None:
                issues.append(Problem.coded("unknown-analysis", f"figure '{figure.id}': analysis '{analysis_id}' is "
                                            "not in analyses:", key_path, did_you_mean(analysis_id, analyses)))
                continue
            allowed = figure.ANALYSIS_TYPES if position == 0 else figure.OTHER_TYPES.get(key.split("[")[0])
            if allowed and spec.type not in allowed:
                issues.append(Problem.coded("figure-analysis-mismatch", f"figure '{figure.id}' ({figure.type}) "
                                            f"cannot draw analysis '{analysis_id}' of type {spec.type}", key_path,
                               f"A {figure.type} figure draws analyses of type {', '.join(allowed)}"))
                continue
            if position == 0:
                main = spec
        if main is None:
            continue
        columns = catalog.columns.get(main.table, {})
        for key, column in figure.column_references():
            if column not in columns:
                key_path = path + Problem(key, "").path
                issues.append(Problem.coded("unknown-column", f"figure '{figure.id}': column '{column}' is not in "
                                            f"table '{main.table}' (analysed by '{main.id}')", key_path,
                                            did_you_mean(column, columns)))
        for problem in figure.check_analysis(main) + figure.check_others(main, analyses, catalog):
            issues.append(Problem.coded("figure-key-mismatch", f"figure '{figure.id}': {problem.message}",
                                        path + problem.path, problem.hint))
    return issues
