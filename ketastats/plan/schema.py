"""The typed schema of an analysis plan (plan language version 1).

The shape, types and choices of a plan are declared here once, as pydantic models; they drive
validation, error messages and the JSON Schema that ``ketastats schema`` prints. The analysis
list is a discriminated union on ``type`` built from the explicit registry in
:mod:`ketastats.analyses`, so adding an analysis type adds it to the schema.

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

from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]*$"
PLAN_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Identifier = Annotated[str, Field(pattern=IDENTIFIER, description="a name: letters, digits and _")]
Scalar = Union[str, int, float, bool]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TableSource(Strict):
    """Where a table's data and its dictionary are."""

    source: str = Field(description="a path relative to the plan file, or ketastats:<dataset>/<file> for packaged data")
    dictionary: str = Field(description="the table's data dictionary (YAML), relative to the plan file")
    format: Literal["csv", "parquet", "xpt"] | None = Field(
        None, description="file format; inferred from the file extension when omitted")


# --- derivations -----------------------------------------------------------------------------

class _TableDerivation(Strict):
    name: Identifier = Field(description="the new column")
    table: str = Field(description="the table the column is added to")
    description: str | None = None


class ChangeFromBaseline(_TableDerivation):
    """``value − value at the baseline row`` of the same subject."""

    change_from_baseline: str = Field(description="the column whose change is derived")
    baseline: dict[str, Scalar] = Field(description="how to find the baseline row, e.g. {visit: baseline}")


class PercentChangeFromBaseline(_TableDerivation):
    """``100 × (value − baseline) / baseline``; missing where the baseline is 0 or missing."""

    percent_change_from_baseline: str
    baseline: dict[str, Scalar]


class RuleDerivation(_TableDerivation):
    """A flag or value computed row by row from a rule expression (see the rule grammar)."""

    rule: str = Field(description="an expression such as \"madrs_pct_change <= -50\" or \"hippocampus_r / icv\"")


class SubjectLevel(Strict):
    """One value per subject, taken from a row (e.g. the week-2 visit), joined onto every table by subject."""

    name: Identifier
    subject_level: str = Field(description="the column the value is taken from")
    from_: str = Field(alias="from", description="the table the value is taken from")
    at: dict[str, Scalar] = Field(default_factory=dict, description="which row per subject, e.g. {visit: week2}")
    description: str | None = None


DERIVATION_KINDS = {
    "change_from_baseline": ChangeFromBaseline,
    "percent_change_from_baseline": PercentChangeFromBaseline,
    "rule": RuleDerivation,
    "subject_level": SubjectLevel,
}


def _derivation_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        for kind in DERIVATION_KINDS:
            if kind in value:
                return kind
    return None


Derivation = Annotated[
    Union[tuple(Annotated[model, Tag(kind)] for kind, model in DERIVATION_KINDS.items())],
    Discriminator(_derivation_kind, custom_error_type="derivation-kind",
                  custom_error_message="a derivation needs one of the keys " + ", ".join(DERIVATION_KINDS)),
]


class Population(Strict):
    """A named subset: rows of ``table`` where ``where`` is true.

    When ``table`` has one row per subject the population is a set of subjects and applies to
    analyses of any table; otherwise it filters rows of that table only.
    """

    table: str
    where: str
    description: str | None = None


# --- analyses ---------------------------------------------------------------------------------

def column_field(description: str, **kwargs: Any) -> Any:
    """A spec field that names data columns (checked against the dictionaries)."""
    return Field(description=description, json_schema_extra={"x-ketastats": "column"}, **kwargs)


class AnalysisSpec(Strict):
    """Keys every analysis has. Subclasses add a ``type`` literal and their own keys."""

    id: Identifier = Field(description="unique analysis id; also the results table's file name")
    table: str = Field(description="the table analysed")
    population: str | None = Field(None, description="a population declared under populations:")
    where: str | None = Field(None, description="an extra row filter (rule grammar)")
    title: str | None = None
    description: str | None = None

    def column_references(self) -> list[tuple[str, str]]:
        """(key, column) pairs of every key declared with :func:`column_field`."""
        refs: list[tuple[str, str]] = []
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("x-ketastats") != "column":
                continue
            value = getattr(self, name)
            for index, column in enumerate(value if isinstance(value, list) else [value]):
                if column is not None:
                    refs.append((f"{name}[{index}]" if isinstance(value, list) else name, column))
        return refs


def as_list(value: Any) -> Any:
    """Accept one name or a list of names."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(as_list)]
"""One column name or a list of them."""


@lru_cache(maxsize=1)
def plan_model() -> type[BaseModel]:
    """The Plan model, with the analysis union built from the registry."""
    from ketastats.analyses import REGISTRY

    specs = tuple(module.Spec for module in REGISTRY)
    analysis = Annotated[Union[specs], Field(discriminator="type")]  # type: ignore[valid-type]

    class Plan(Strict):
        """A prespecified analysis plan."""

        ketastats: Literal[1] = Field(description="plan language version")
        id: str = Field(pattern=PLAN_ID, description="plan id; the default output folder is reports/<id>/")
        title: str
        description: str | None = None
        synthetic_data: bool = Field(False, description="true when the plan runs on synthetic data; "
                                                        "the report then says so on every page")
        subject: Identifier = Field(description="the subject key column shared by the tables")
        output: str | None = Field(None, description="output folder relative to the plan file "
                                                     "(default: reports/<id> in the working directory)")
        seed: int = Field(20211, description="seed of the random number generator handed to analyses")
        data: dict[Identifier, TableSource] = Field(min_length=1)
        derive: list[Derivation] = Field(default_factory=list)  # type: ignore[valid-type]
        populations: dict[Identifier, Population] = Field(default_factory=dict)
        analyses: list[analysis] = Field(min_length=1)  # type: ignore[valid-type]

    Plan.__module__ = __name__
    return Plan


def __getattr__(name: str) -> Any:
    if name == "Plan":
        return plan_model()
    raise AttributeError(name)
