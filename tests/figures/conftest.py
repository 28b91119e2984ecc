"""Real analysis results of the two example plans (synthetic data), run once per session, and a
helper that draws one declared figure without writing files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def siegel():
    import ketastats

    return ketastats.run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", write=False)


@pytest.fixture(scope="session")
def ect():
    import ketastats

    return ketastats.run_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml", write=False)


@pytest.fixture(scope="session")
def rct():
    import ketastats

    return ketastats.run_plan(ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml", write=False)


def figure_spec(result, figure_id: str):
    return next(f for f in result.plan.figures if f.id == figure_id)


def draw(result, figure_id: str, **update):
    """The matplotlib Figure of the plan's figure ``figure_id`` (keys replaced by ``update``)."""
    from ketastats.figures import draw_figure
    from ketastats.figures.style import figure_style

    spec = figure_spec(result, figure_id)
    if update:
        spec = spec.model_copy(update=update)
    with figure_style(spec.preset):
        figure = draw_figure(result, spec)
        figure.canvas.draw()   # lay out text, so tests see what the files show
    return figure


def by_gid(figure, prefix: str) -> list:
    """Every artist whose gid starts with ``prefix``."""
    return [a for a in figure.findobj(lambda artist: (artist.get_gid() or "").startswith(prefix))]
