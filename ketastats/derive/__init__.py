"""Derivations declared in the plan's ``derive:`` list, applied in order.

Each derivation adds one column: change and percent change from a baseline row
(:mod:`.change`), a rule-based flag or value (:mod:`.rules`), or a subject-level value
joined onto every table by subject (:mod:`.subject_level`). Row indexes (the source file's
row numbers) are preserved, so exclusions keep pointing at the rows a user sees.

A ``time_to_event`` derivation (:mod:`.time_to_event`) adds a new *table* instead — one row
per subject at risk, in ADaM ADTTE shape — which later derivations, populations and analyses
use like a declared table (its rows are numbered 1..n).

Example
-------
``tables = apply_derivations(plan, tables, catalog)`` returns new frames; inputs are not changed.
"""

from __future__ import annotations

import pandas as pd

from ketastats.derive.change import change_from_baseline
from ketastats.derive.rules import rule_column
from ketastats.derive.subject_level import subject_level_values
from ketastats.derive.summarise import summarise_table
from ketastats.derive.time_to_event import derive_time_to_event
from ketastats.errors import Issue
from ketastats.plan.schema import (ChangeFromBaseline, PercentChangeFromBaseline, RuleDerivation, SubjectLevel,
                                   Summarise, TimeToEvent)


def apply_derivations(plan, tables: dict[str, pd.DataFrame], catalog) -> tuple[dict[str, pd.DataFrame], list[Issue]]:
    """Apply ``plan.derive`` to copies of ``tables``; returns (tables, warnings)."""
    out = {name: frame.copy() for name, frame in tables.items()}
    warnings: list[Issue] = []
    for index, derivation in enumerate(plan.derive):
        path = ("derive", index)
        if isinstance(derivation, TimeToEvent):
            rules = derivation.time_to_event
            rules_path = path + ("time_to_event",)
            source_columns = catalog.columns.get(rules.from_, {})
            out[derivation.name], issues = derive_time_to_event(
                out[rules.from_], plan.subject, derivation.name, rules, catalog.expressions[rules_path + ("event",)],
                at_risk=catalog.expressions.get(rules_path + ("at_risk", "where")),
                dropout=catalog.expressions.get(rules_path + ("dropout",)),
                subject_frame=out[rules.subject_table] if rules.subject_table else None,
                unit=source_columns[rules.time].unit if rules.time in source_columns else None,
                path=f"derive[{index}]")
            warnings += issues
            continue
        if isinstance(derivation, Summarise):
            expression = catalog.expressions.get(path + ("where",))
            source = out[derivation.summarise]
            mask = expression.evaluate(source) if expression is not None else None
            out[derivation.name] = summarise_table(source, derivation.by, derivation.mean, mask)
            continue
        if isinstance(derivation, SubjectLevel):
            values, issues = subject_level_values(out[derivation.from_], plan.subject, derivation, path)
            warnings += issues
            for frame in out.values():
                if plan.subject in frame.columns:
                    frame[derivation.name] = frame[plan.subject].map(values)
                    if str(values.dtype) == "boolean":
                        frame[derivation.name] = frame[derivation.name].astype("boolean")
                    elif values.dtype == object:  # text stays object (pandas 3's map infers its str dtype)
                        frame[derivation.name] = frame[derivation.name].astype(object)
            continue
        frame = out[derivation.table]
        if isinstance(derivation, (ChangeFromBaseline, PercentChangeFromBaseline)):
            percent = isinstance(derivation, PercentChangeFromBaseline)
            source = derivation.percent_change_from_baseline if percent else derivation.change_from_baseline
            frame[derivation.name], issues = change_from_baseline(
                frame, plan.subject, source, derivation.baseline, percent, derivation.name)
            warnings += issues
        elif isinstance(derivation, RuleDerivation):
            frame[derivation.name] = rule_column(frame, catalog.expressions[path + ("rule",)])
    return out, warnings
