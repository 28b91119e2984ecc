"""What analyses return and what a plan run holds.

Every analysis, whatever its kind, returns an :class:`AnalysisResult` whose ``tidy`` table
uses only the column names of the results vocabulary (``ketastats/vocabulary.yaml``), so
multiplicity, figures, reports and drift checks need no knowledge of model internals.

Example
-------
>>> import pandas as pd
>>> r = AnalysisResult("a", "descriptives", tidy=pd.DataFrame({"outcome": ["madrs"], "n": [23]}))
>>> r.ok
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from ketastats.errors import Issue

EXCLUSION_COLUMNS = ["analysis_id", "table", "row", "subject", "key", "reason", "detail"]


class Extras(TypedDict, total=False):
    """What figures may read of an analysis besides its tidy table and glance.

    Analyses fill ``labels``, ``outcomes`` and ``by`` (the survival models and mass_mixed_model,
    which no figure draws, fill none); an analysis module declares the keys it adds in its own
    subclass (e.g. ``mixed_model.ModelExtras`` adds the fitted values). Figures read these, never
    the analysis's plan spec or its formula.
    """

    labels: dict[str, str]
    """column → its display label (dictionary label and unit)."""
    outcomes: list[str]
    """the analysed columns (a model's response), in plan order."""
    by: list[str]
    """the grouping (or within-participant) columns of the tidy rows."""
    rows_by_p: bool
    """a mass analysis (one row per outcome, thousands of rows): the report shows the rows with the
    smallest p-values first and at most ``report.display.MAX_ROWS`` of them; any other table is
    shown whole, in its own order."""
    level_labels: dict[str, dict[str, str]]
    """column → {level: display text} for columns of the tidy table not in the analysed table's
    dictionary (e.g. flow's visits); the report shows these instead of the codes."""


@dataclass
class AnalysisResult:
    """The outcome of one planned analysis.

    ``tidy``: one row per term / contrast / group / time point (vocabulary columns only).
    ``glance``: one-row model summary. ``extras``: arrays that figures draw (never recomputed).
    ``exclusions``: every input row the analysis left out, with the reason.
    ``issues``: warnings (and, when ``status == "failed"``, the error).
    ``notes``: conventions in force (e.g. "quantiles: R type 7"), shown as table footnotes.
    """

    analysis_id: str
    type: str
    tidy: pd.DataFrame = field(default_factory=pd.DataFrame)
    glance: dict[str, Any] = field(default_factory=dict)
    extras: Extras = field(default_factory=lambda: Extras())
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXCLUSION_COLUMNS))
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    title: str | None = None
    # The analysed table after population and ``where`` (before the analysis's own missing-value
    # exclusions), and its columns (dictionary + derived: labels, units, levels); set by
    # ``analyses.execute`` for figures, which draw participants' values but never refit.
    data_used: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    columns: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class FamilyResult:
    """A multiplicity family after adjustment (see :mod:`ketastats.multiplicity`).

    ``table``: one row per member (raw p, adjusted p, threshold, significant); ``summary``: the
    verdicts in words; ``status`` is ``failed`` (with ``issues``) when a member could not be found.
    """

    family: str
    method: str
    alpha: float
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: str = ""
    title: str | None = None
    issues: list[Issue] = field(default_factory=list)
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class RenderedFigure:
    """One manuscript figure: its encoded files (``png`` / ``svg`` / ``pdf`` → bytes), or why it failed.

    ``files`` is where the report writer put them (empty until a report is written).
    """

    id: str
    title: str | None
    caption: str | None
    content: dict[str, bytes] = field(default_factory=dict, repr=False)
    type: str = ""
    analysis: str | None = None
    status: str = "ok"
    reason: str | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class PlanResult:
    """Everything a run produced: the plan, each analysis result, the derived data and the manifest.

    ``tables`` maps analysis id → tidy DataFrame, for use from Python::

        result = ketastats.run_plan("analysis_plans/siegel2021.yaml")
        result.tables["madrs_by_visit"]
    """

    plan: Any
    results: dict[str, AnalysisResult]
    data: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    warnings: list[Issue] = field(default_factory=list)
    output: Any = None
    families: dict[str, FamilyResult] = field(default_factory=dict)
    figures: list[RenderedFigure] = field(default_factory=list)   # drawn by ketastats.figures.draw_figures

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {key: value.tidy for key, value in self.results.items()}

    @property
    def exclusions(self) -> pd.DataFrame:
        frames = [r.exclusions for r in self.results.values() if len(r.exclusions)]
        if not frames:
            return pd.DataFrame(columns=EXCLUSION_COLUMNS)
        return pd.concat(frames, ignore_index=True)[EXCLUSION_COLUMNS]

    @property
    def failed(self) -> list[str]:
        return [key for key, value in self.results.items() if not value.ok]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or any(not family.ok for family in self.families.values()) \
            or any(not figure.ok for figure in self.figures) else 0
