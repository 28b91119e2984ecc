"""The field types every part of the plan language declares its keys with.

Analyses, figures, derivations and the plan itself are pydantic models; the small types they
share (a strict model base, identifiers, "one name or a list", a confidence level, the
multiplicity methods) are stated here once. This module sits below every registry, so any spec
may use it without importing the plan.

Example
-------
>>> class Demo(Strict):
...     outcome: Names = column_field("analysed column(s)")
...     conf_level: ConfLevel = 0.95
>>> Demo(outcome="madrs").outcome
['madrs']
>>> declared_column_references(Demo(outcome=["madrs", "hdrs"]))
[('outcome[0]', 'madrs'), ('outcome[1]', 'hdrs')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ketastats.stats.p_adjust import METHODS

IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]*$"
PLAN_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

MAX_NAME = 100
"""Longest identifier (ids and names become file names: tables/<id>.docx, reports/<plan id>/)."""

Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=MAX_NAME,
                                  description="a name: letters, digits and _ (at most 100 characters)")]
Scalar = Union[str, int, float, bool]

ConfLevel = Annotated[float, Field(gt=0, lt=1)]
"""A confidence level in (0, 1); declare as ``conf_level: ConfLevel = 0.95``."""

POST_HOC_METHODS = tuple(m for m in METHODS if m != "fixed_sequence")

# FamilyMethod: the multiplicity methods of a declared family (R ``p.adjust`` names, plus
# fixed_sequence). AdjustMethod: the adjustment over an analysis's own post-hoc rows (no testing
# order there: no fixed_sequence), or none. Both are Literals built from METHODS at run time, which
# mypy cannot read as static types: it sees str (pydantic checks the choices).
if TYPE_CHECKING:
    FamilyMethod = str
    AdjustMethod = str
else:
    FamilyMethod = Literal[METHODS]
    AdjustMethod = Literal[("none",) + POST_HOC_METHODS]


def as_list(value: Any) -> Any:
    """Accept one name or a list of names.

    >>> as_list("madrs"), as_list(None), as_list(["a", "b"])
    (['madrs'], [], ['a', 'b'])
    """
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(as_list)]
"""One column name or a list of them."""


class Strict(BaseModel):
    """A plan model: unknown keys are errors (a misspelt key must never be ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def column_field(description: str, **kwargs: Any) -> Any:
    """A spec field that names data columns (checked against the dictionaries)."""
    return Field(description=description, json_schema_extra={"x-ketastats": "column"}, **kwargs)


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
