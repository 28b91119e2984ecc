"""The plan model, assembled from the registries of every part (plan language version 1).

The shape, types and choices of a plan are declared once, as pydantic models, by the part that
owns them: analyses (:mod:`ketastats.analyses`), derivations (:mod:`ketastats.derive`),
figures (:mod:`ketastats.figures`) and multiplicity families (:mod:`ketastats.multiplicity`),
with the shared field types of :mod:`ketastats.language.fields`. This module adds the plan's
own keys and builds the discriminated unions from the registries, so adding an analysis type
adds it to the schema (and to ``ketastats schema``). It imports every registry and nothing
imports it but the plan loader: the layers stay free of cycles.

Names (tables, columns, levels, populations) are cross-checked afterwards, against the data
dictionaries, by :mod:`ketastats.plan.resolve`.

Example
-------
>>> plan = Plan.model_validate({"ketastats": 1, "id": "demo", "title": "Demo", "subject": "pid",
...     "data": {"t": {"source": "t.csv", "dictionary": "t.yaml"}},
...     "analyses": [{"id": "d", "type": "descriptives", "table": "t", "outcome": "score"}]})
>>> plan.analyses[0].outcome
['score']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, Field, field_validator

from ketastats.analyses import REGISTRY as ANALYSES
from ketastats.derive import Derivation
from ketastats.figures import REGISTRY as FIGURES
from ketastats.language.fields import MAX_NAME, PLAN_ID, Identifier, Strict
from ketastats.multiplicity import Family

if TYPE_CHECKING:
    from ketastats.analyses.base import AnalysisSpec
    from ketastats.figures.base import FigureSpec


class TableSource(Strict):
    """Where a table's data and its dictionary are."""

    source: str = Field(description="a path relative to the plan file, or ketastats:<dataset>/<file> for packaged data")
    dictionary: str = Field(description="the table's data dictionary (YAML), relative to the plan file")
    format: Literal["csv", "parquet", "xpt"] | None = Field(
        None, description="file format; inferred from the file extension when omitted")


class Population(Strict):
    """A named subset: rows of ``table`` where ``where`` is true.

    When ``table`` has one row per subject the population is a set of subjects and applies to
    analyses of any table; otherwise it filters rows of that table only.
    """

    table: str
    where: str
    description: str | None = None


if TYPE_CHECKING:   # Unions built from the registries at run time are not static types: mypy sees the bases
    AnalysisEntry = AnalysisSpec
    FigureEntry = FigureSpec
else:
    AnalysisEntry = Annotated[Union[tuple(module.Spec for module in ANALYSES)], Field(discriminator="type")]
    FigureEntry = Annotated[Union[tuple(module.Spec for module in FIGURES)], Field(discriminator="type")]


class Plan(Strict):
    """A prespecified analysis plan."""

    ketastats: Literal[1] = Field(description="plan language version")
    id: str = Field(pattern=PLAN_ID, max_length=MAX_NAME,
                    description="plan id; the default output folder is reports/<id>/")
    title: str
    description: str | None = None
    synthetic_data: bool | str = Field(False, description="true (or {description: text}, or the text itself) when "
                                                          "the plan runs on synthetic data; the report then says "
                                                          "so on every page, in the banner with that text")
    subject: Identifier = Field(description="the subject key column shared by the tables")
    output: str | None = Field(None, description="output folder relative to the plan file "
                                                 "(default: reports/<id> in the working directory)")
    seed: int = Field(20211, ge=0, description="seed of the random number generator handed to analyses")
    require_lock: bool = Field(False, description="refuse to run unless the plan matches its lock file "
                                                  "(<plan>.lock, written by 'ketastats lock'); "
                                                  "'ketastats run --allow-deviation' overrides")
    data: dict[Identifier, TableSource] = Field(min_length=1)
    derive: list[Derivation] = Field(default_factory=list)
    populations: dict[Identifier, Population] = Field(default_factory=dict)
    analyses: list[AnalysisEntry] = Field(min_length=1)
    multiplicity: dict[Identifier, Family] = Field(
        default_factory=dict, description="multiplicity families: name → method, alpha, members")
    figures: list[FigureEntry] = Field(
        default_factory=list, description="manuscript figures, each drawn from an analysis's results "
                                          "(see docs/figures.md)")


    @field_validator("synthetic_data", mode="before")
    @classmethod
    def _synthetic_description(cls, value: object) -> object:
        """``{description: text}`` → the text; ``{}`` → true; a blank text is an error."""
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"description"})
            if unknown:
                raise ValueError(f"synthetic_data takes only 'description', not {', '.join(map(str, unknown))}")
            value = value.get("description") or True
        if isinstance(value, str) and not value.strip():
            raise ValueError("synthetic_data: the description is empty (write true, or the text of the banner)")
        return value


def plan_model() -> type[BaseModel]:
    """The Plan model class (what ``load_plan`` validates a plan file against)."""
    return Plan


__all__ = ["Plan", "TableSource", "Population", "plan_model"]
