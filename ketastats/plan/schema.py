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

MAX_NAME = 100
"""Longest identifier (ids and names become file names: tables/<id>.docx, reports/<plan id>/)."""

Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=MAX_NAME,
                                  description="a name: letters, digits and _ (at most 100 characters)")]
Scalar = Union[str, int, float, bool]


def as_list(value: Any) -> Any:
    """Accept one name or a list of names."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(as_list)]
"""One column name or a list of them."""


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


class AtRisk(Strict):
    """Who is at risk: subjects whose row selected by ``at`` satisfies ``where``."""

    at: dict[str, Scalar] = Field(description="the row that decides, e.g. {visit: post_24h}")
    where: str = Field(description="a rule on that row, e.g. \"responder\"")


class TimeToEventRules(Strict):
    """How a time-to-event table is derived from visit-level rows (see docs/plan_language.md)."""

    from_: str = Field(alias="from", description="the visit-level table (one row per subject and assessment)")
    time: str = Field(description="numeric column: when the row was assessed (e.g. study_day)")
    origin: float | dict[str, Scalar] | str = Field(
        description="time origin: a number on the time scale (e.g. 27, the last infusion day), a row "
                    "selector (the time of that row, e.g. {visit: post_24h}) or a column holding it")
    event: str = Field(description="rule true at an assessment that counts towards the event, e.g. \"madrs > 20\"")
    consecutive: int = Field(1, ge=1, description="assessments in a row at which the rule must hold")
    event_time: Literal["first", "confirmed"] = Field(
        "first", description="with consecutive > 1: the event is dated at the first or the confirming assessment")
    at_risk: AtRisk | None = Field(None, description="the population at risk; default every subject")
    dropout: str | None = Field(None, description="rule marking subjects who dropped out (on subject_table if "
                                                  "given, else true at any row of from)")
    subject_table: str | None = Field(None, description="a one-row-per-subject table whose columns are carried "
                                                        "onto the derived table (as ADTTE carries ADSL)")
    paramcd: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9]{0,7}$", description="ADaM PARAMCD (default: NAME)")
    param: str | None = Field(None, description="ADaM PARAM (default: 'Time to <name>')")
    event_description: str | None = Field(None, description="EVNTDESC of events (default: the rule)")


class TimeToEvent(Strict):
    """A new table, one row per subject at risk, in CDISC ADaM ADTTE shape (AVAL, CNSR, ...)."""

    name: Identifier = Field(description="the new table")
    time_to_event: TimeToEventRules
    description: str | None = None


class Summarise(Strict):
    """A new table: one row per combination of ``by`` in table ``summarise``, with the mean of each
    ``mean`` column over that combination's rows (e.g. a participant's two baseline scans averaged)."""

    name: Identifier = Field(description="the new table")
    summarise: str = Field(description="the table summarised")
    by: Names = Field(description="the columns that define a row of the new table, e.g. [participant_id, time]")
    mean: Names = Field(description="numeric columns averaged over the rows of each combination")
    where: str | None = Field(None, description="only rows where this rule is true are summarised")
    description: str | None = None


DERIVATION_KINDS = {
    "change_from_baseline": ChangeFromBaseline,
    "percent_change_from_baseline": PercentChangeFromBaseline,
    "rule": RuleDerivation,
    "subject_level": SubjectLevel,
    "summarise": Summarise,
    "time_to_event": TimeToEvent,
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


# --- multiplicity families ----------------------------------------------------------------------

class FamilyMember(Strict):
    """One test of a family: the row of analysis ``analysis``'s tidy table picked by ``term`` and
    ``where`` (tidy column → value), e.g. ``{analysis: fc_sgacc_dmn, term: "time:responder_2wk"}``."""

    analysis: Identifier = Field(description="the analysis id")
    term: str | None = Field(None, description="the value of the row's term column")
    where: dict[str, Scalar] = Field(default_factory=dict,
                                     description="other tidy cells that pick the row, e.g. {outcome: fc_dmn}")
    p_column: Literal["p_value", "p_value_corrected", "lrt_p_value"] = Field(
        "p_value", description="which p-value of the row is adjusted")
    label: str | None = Field(None, description="the member's name in the family table (default: analysis + row)")


class Family(Strict):
    """A multiplicity family: its members' p-values are adjusted together."""

    method: Literal["bonferroni", "holm", "hochberg", "hommel", "fdr_bh", "fdr_by", "fixed_sequence"] = Field(
        description="adjustment (R p.adjust names: fdr_bh = BH, fdr_by = BY); fixed_sequence tests in the listed order")
    alpha: float = Field(0.05, gt=0, lt=1, description="family-wise error rate (false discovery rate for fdr_*)")
    m: int | None = Field(None, ge=1, description="number of hypotheses in the family when some are not tested "
                                                 "in this plan (R p.adjust n); default: the members with a p-value")
    title: str | None = None
    description: str | None = None
    members: list[FamilyMember] = Field(min_length=1)


# --- analyses ---------------------------------------------------------------------------------

def declared_column_references(model: BaseModel) -> list[tuple[str, str]]:
    """(key, column) pairs of every key of ``model`` declared with :func:`column_field`.

    A list-valued key gives ``key[i]``; empty values are skipped.
    """
    refs: list[tuple[str, str]] = []
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("x-ketastats") != "column":
            continue
        value = getattr(model, name)
        for index, column in enumerate(value if isinstance(value, list) else [value]):
            if column is not None:
                refs.append((f"{name}[{index}]" if isinstance(value, list) else name, column))
    return refs


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
        return declared_column_references(self)




@lru_cache(maxsize=1)
def plan_model() -> type[BaseModel]:
    """The Plan model, with the analysis union built from the registry."""
    from ketastats.analyses import REGISTRY

    from ketastats.figures import REGISTRY as FIGURES

    specs = tuple(module.Spec for module in REGISTRY)
    analysis = Annotated[Union[specs], Field(discriminator="type")]  # type: ignore[valid-type]
    figure = Annotated[Union[tuple(module.Spec for module in FIGURES)], Field(discriminator="type")]  # type: ignore

    class Plan(Strict):
        """A prespecified analysis plan."""

        ketastats: Literal[1] = Field(description="plan language version")
        id: str = Field(pattern=PLAN_ID, max_length=MAX_NAME,
                        description="plan id; the default output folder is reports/<id>/")
        title: str
        description: str | None = None
        synthetic_data: bool = Field(False, description="true when the plan runs on synthetic data; "
                                                        "the report then says so on every page")
        subject: Identifier = Field(description="the subject key column shared by the tables")
        output: str | None = Field(None, description="output folder relative to the plan file "
                                                     "(default: reports/<id> in the working directory)")
        seed: int = Field(20211, ge=0, description="seed of the random number generator handed to analyses")
        data: dict[Identifier, TableSource] = Field(min_length=1)
        derive: list[Derivation] = Field(default_factory=list)  # type: ignore[valid-type]
        populations: dict[Identifier, Population] = Field(default_factory=dict)
        analyses: list[analysis] = Field(min_length=1)  # type: ignore[valid-type]
        multiplicity: dict[Identifier, Family] = Field(
            default_factory=dict, description="multiplicity families: name → method, alpha, members")
        figures: list[figure] = Field(  # type: ignore[valid-type]
            default_factory=list, description="manuscript figures, each drawn from an analysis's results "
                                              "(see docs/figures.md)")

    Plan.__module__ = __name__
    return Plan


def __getattr__(name: str) -> Any:
    if name == "Plan":
        return plan_model()
    raise AttributeError(name)
