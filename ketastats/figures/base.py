"""What every figure type shares: the plan keys, the drawing context and the name checks.

A figure type is a module of :mod:`ketastats.figures` exporting a pydantic ``Spec`` (with
``type: Literal["<type>"]`` and ``ANALYSIS_TYPES``, the analysis types it can draw) and
``draw(spec, ctx) -> matplotlib Figure``. Figures draw only what an analysis produced: its
``tidy`` table, ``glance``, ``extras`` and ``data_used`` (the analysed table after population
and ``where``); they never call an analysis's ``run``.

Example
-------
>>> spec = FigureSpec(id="f", analysis="a")
>>> spec.preset
'single_column'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from ketastats.errors import Problem
from ketastats.figures.style import PRESETS
from ketastats.language.fields import Identifier, Strict, column_field, declared_column_references
from ketastats.results import RenderedFigure

if TYPE_CHECKING:
    Preset = str
else:
    Preset = Literal[tuple(PRESETS)]   # the names of style.PRESETS, stated there once
PRESET_TEXT = ", ".join(f"{name} ({p['width_mm']:g} mm, {p['font_pt']:g} pt)" for name, p in PRESETS.items())


class FigureSpec(Strict):
    """Keys every figure has. Subclasses add a ``type`` literal and their own keys."""

    if TYPE_CHECKING:
        type: str   # each figure type declares ``type: Literal["<type>"]``

    ANALYSIS_TYPES: ClassVar[tuple[str, ...]] = ()
    """The analysis types the main ``analysis`` may have."""
    OTHER_TYPES: ClassVar[dict[str, tuple[str, ...]]] = {}
    """For each other key naming an analysis (e.g. ``proportions``), the types it may have."""

    id: Identifier = Field(description="figure id; the files are figures/<id>.png, .svg and .pdf")
    analysis: Identifier = Field(description="the id of the analysis whose results are drawn")
    title: str | None = Field(None, description="drawn above the figure and used in the report")
    caption: str | None = Field(None, description="the figure legend (report and manuscript)")
    preset: Preset = Field("single_column", description=f"journal width and font sizes: {PRESET_TEXT}")
    height_mm: float | None = Field(None, gt=10, le=250, description="figure height; default set by the type")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="axis / legend label per column, overriding the dictionary's "
                                               "label and unit, e.g. {hippocampus_r_icv: Right hippocampus / ICV}")

    def analysis_references(self) -> list[tuple[str, str | None]]:
        """(key, analysis id) of every analysis the figure reads; the first is the main one."""
        return [("analysis", self.analysis)]

    def column_references(self) -> list[tuple[str, str]]:
        """(key, column) of every key declared with ``column_field``; checked on the analysis's table."""
        return declared_column_references(self)

    def check_analysis(self, analysis) -> list[Problem]:
        """Problems with keys that do not fit the analysis spec (e.g. an outcome it does not analyse)."""
        return []

    def check_others(self, analysis, others: dict, catalog) -> list[Problem]:
        """Problems with keys that do not fit the other analyses it reads (``others``: id → spec)."""
        return []


@dataclass
class FigureContext:
    """What ``draw`` may read: the plan result, the figure's analysis results and the table's columns."""

    spec: FigureSpec
    result: Any                       # ketastats.results.PlanResult
    analysis: Any                     # the main AnalysisResult (tidy, glance, typed extras, data_used)
    synthetic: bool = False

    def other(self, analysis_id: str):
        return self.result.results[analysis_id]

    def label(self, column: str, analysis=None) -> str:
        """The axis label of ``column``: the figure's ``labels``, else the dictionary's label (unit)."""
        if column in self.spec.labels:
            return self.spec.labels[column]
        columns = getattr(analysis or self.analysis, "columns", None) or {}
        found = columns.get(column)
        return found.display_name(column) if found is not None else column

    def short_label(self, column: str, analysis=None) -> str:
        """The dictionary label without its unit (legend entries, panel titles)."""
        if column in self.spec.labels:
            return self.spec.labels[column]
        columns = getattr(analysis or self.analysis, "columns", None) or {}
        found = columns.get(column)
        return (found.label or column) if found is not None else column

    def level_text(self, column: str, value, analysis=None) -> str:
        """How a level is printed: the dictionary's ``level_labels`` entry, else the value itself."""
        columns = getattr(analysis or self.analysis, "columns", None) or {}
        found = columns.get(column)
        labels = getattr(found, "level_labels", None) or {}
        return str(labels.get(str(value), value))

    def levels(self, column: str, values, analysis=None) -> list:
        """Observed values of ``column`` in dictionary level order (then sorted)."""
        columns = getattr(analysis or self.analysis, "columns", None) or {}
        found = columns.get(column)
        present = [v for v in dict.fromkeys(values) if v is not None and v == v]
        if found is not None and found.levels:
            order = {level: i for i, level in enumerate(found.levels)}
            return sorted(present, key=lambda v: (order.get(str(v), len(order)), str(v)))
        return sorted(present, key=lambda v: (str(type(v)), v))


__all__ = ["FigureSpec", "FigureContext", "RenderedFigure", "Preset", "column_field"]
