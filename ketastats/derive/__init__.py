"""Derivations declared in the plan's ``derive:`` list, applied in order.

Each derivation kind is a :class:`~ketastats.derive.base.DerivationSpec` listed in
:data:`REGISTRY` (its ``KIND`` is the plan key that identifies it). Most add one column: change
and percent change from a baseline row (:mod:`.change`), a rule-based flag or value
(:mod:`.rules`), or a subject-level value joined onto every table by subject
(:mod:`.subject_level`). Row indexes (the source file's
row numbers) are preserved, so exclusions keep pointing at the rows a user sees.

A ``time_to_event`` derivation (:mod:`.time_to_event`) adds a new *table* instead — one row
per subject at risk, in ADaM ADTTE shape — which later derivations, populations and analyses
use like a declared table (its rows are numbered 1..n).

Example
-------
``tables = apply_derivations(plan, tables, catalog)`` returns new frames; inputs are not changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

import pandas as pd
from pydantic import BaseModel, Discriminator, Tag

from ketastats.derive.base import DerivationSpec, DeriveContext
from ketastats.derive.change import ChangeFromBaseline, PercentChangeFromBaseline
from ketastats.derive.rules import RuleDerivation
from ketastats.derive.subject_level import SubjectLevel
from ketastats.derive.summarise import Summarise
from ketastats.derive.time_to_event import TimeToEvent
from ketastats.errors import Issue

REGISTRY: list[type[DerivationSpec]] = [ChangeFromBaseline, PercentChangeFromBaseline, RuleDerivation, SubjectLevel,
                                        Summarise, TimeToEvent]
"""Every derivation kind, in the order their keys are looked for in a ``derive:`` entry."""
BY_KIND: dict[str, type[DerivationSpec]] = {spec.KIND: spec for spec in REGISTRY}


def _derivation_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        for kind in BY_KIND:
            if kind in value:
                return kind
    return None


if TYPE_CHECKING:   # a Union built from REGISTRY at run time is not a static type: mypy sees the base
    Derivation = DerivationSpec
else:
    Derivation = Annotated[
        Union[tuple(Annotated[spec, Tag(spec.KIND)] for spec in REGISTRY)],
        Discriminator(_derivation_kind, custom_error_type="derivation-kind",
                      custom_error_message="a derivation needs one of the keys " + ", ".join(BY_KIND)),
    ]
"""The plan's ``derive:`` entry: the kind is the key present (``change_from_baseline``, ``rule``, ...)."""


def apply_derivations(plan, tables: dict[str, pd.DataFrame], catalog) -> tuple[dict[str, pd.DataFrame], list[Issue]]:
    """Apply ``plan.derive`` to copies of ``tables``; returns (tables, warnings)."""
    out = {name: frame.copy() for name, frame in tables.items()}
    warnings: list[Issue] = []
    for index, derivation in enumerate(plan.derive):
        context = DeriveContext(plan.subject, index, catalog.expressions, catalog.columns)
        warnings += derivation.apply(out, context)
    return out, warnings


__all__ = ["REGISTRY", "BY_KIND", "Derivation", "DerivationSpec", "apply_derivations"]
