"""Participant flow (CONSORT-style counts): randomized, treated, assessed at each visit, completed, dropped out.

Every count is of participants (subjects), against the number randomized in the same arm, so a
participant without a row at a visit counts as *not assessed* there ("missing"), never as
absent from the denominator. The counts are what R gives with ``table()`` / ``tapply(...,
length)`` on the participant table and ``length(unique(subject))`` per visit on the visits
table (``tests/reference/flow/make_reference.R`` writes them with base R).

Plan keys
---------
``table`` is the participant table (one row per randomized participant); ``by`` the
randomized arm (optional: without it there is one group, ``Overall``). ``treated`` names a
boolean column (true = received any treatment; e.g. derived ``rule: "n_treatments > 0"``);
``status`` names the end-of-participation column and ``completed`` its level(s) meaning the
participant completed — every other level is a drop-out reason, reported even when its count
is 0. ``visits_table`` is the long table of visits (e.g. ``ratings``) with its ``visit``
column; a participant is assessed at a visit when they have a row there whose ``assessed``
column (default: any row) is not missing.

Tidy columns
------------
stage (``randomized``, ``treated``, ``assessed``, ``completed``, ``discontinued``), visit (for
``assessed`` rows), level (a drop-out reason, for ``discontinued`` rows; empty on the total),
group (an arm, then ``Overall``), count (participants), n_subjects (randomized in the group),
n_missing (randomized but not assessed: ``assessed`` rows only), percent (100 × count /
n_subjects).

Exclusions: participant rows outside the population / ``where`` or missing ``by`` (and, with
``status``, a missing status); visit rows whose subject is not among the analysed participants
(``invalid-value``).

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> people = pd.DataFrame({"pid": ["a", "b", "c"], "arm": ["k", "k", "e"]}, index=[1, 2, 3])
>>> visits = pd.DataFrame({"pid": ["a", "a", "b", "c"], "visit": ["v0", "v1", "v0", "v0"]}, index=[1, 2, 3, 4])
>>> spec = Spec(id="f", type="flow", table="people", by="arm", visits_table="visits")
>>> ctx = AnalysisInput("f", "people", people, "pid", ["pid"],
...                     versus=AnalysisInput("f", "visits", visits, "pid", ["pid", "visit"]))
>>> tidy = run(spec, ctx).tidy
>>> assessed = tidy[tidy["stage"] == "assessed"][["visit", "group", "count", "n_missing"]].values.tolist()
>>> assessed[:3]
[['v0', 'e', 1, 0], ['v0', 'k', 2, 0], ['v0', 'Overall', 3, 0]]
>>> assessed[3:]
[['v1', 'e', 0, 1], ['v1', 'k', 1, 1], ['v1', 'Overall', 1, 2]]
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import BeforeValidator, Field

from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    analysis_error,
    exclusion_record,
    group_levels,
    plain,
    select_rows,
)
from ketastats.errors import Problem
from ketastats.language.fields import Scalar, as_list, column_field
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras

OVERALL = "Overall"
"""The ``group`` value of the all-participants column."""

STAGES = ("randomized", "treated", "assessed", "completed", "discontinued")
"""The ``stage`` values, in table order."""


class Spec(AnalysisSpec):
    """Participants randomized, treated, assessed at each visit, completed and dropped out (with reasons), by arm."""

    type: Literal["flow"]
    by: str | None = column_field("the randomized arm (one column of the participant table)", default=None)
    treated: str | None = column_field("a boolean column: true = received any treatment", default=None)
    status: str | None = column_field("the end-of-participation column (its levels other than 'completed' "
                                      "are the drop-out reasons)", default=None)
    completed: Annotated[list[Scalar], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[Scalar](["completed"]),
        description="level(s) of status meaning the participant completed")
    visits_table: str | None = Field(None, description="the long table of visits, e.g. ratings")
    visit: str = Field("visit", description="the visit column of visits_table")
    assessed: str | None = Field(None, description="a column of visits_table: a visit counts as assessed when it is "
                                                   "not missing (default: any row)")

    def check_columns(self, columns) -> list[Problem]:
        """``treated`` must be boolean; ``completed`` must be levels of ``status`` when it declares levels."""
        problems = []
        if self.treated is not None and self.treated in columns and columns[self.treated].type != "boolean":
            problems.append(Problem("treated", f"column '{self.treated}' is {columns[self.treated].type}; "
                                               "treated needs a boolean column (derive one with a rule)"))
        if self.status is not None and self.status in columns and columns[self.status].levels is not None:
            for i, level in enumerate(self.completed):
                if str(level) not in columns[self.status].levels:
                    problems.append(Problem(f"completed[{i}]", f"'{level}' is not a level of '{self.status}'"))
        return problems

    def resolve_names(self, resolver, path) -> None:
        """Check ``visits_table`` and its ``visit`` / ``assessed`` / subject columns (before anything runs)."""
        if self.visits_table is None or not resolver.table(self.visits_table, path + ("visits_table",)):
            return
        resolver.column(self.visits_table, self.visit, path + ("visit",))
        resolver.column(self.visits_table, resolver.subject, path + ("visits_table",))
        if self.assessed is not None:
            resolver.column(self.visits_table, self.assessed, path + ("assessed",))


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """CONSORT-style counts of participants per arm and overall.

    R (base): ``table(arm)``; ``tapply(treated, arm, sum)``; per visit
    ``tapply(id %in% unique(visits$id[visits$visit == v & !is.na(assessed)]), arm, sum)``;
    ``table(arm, status)``. Percent = 100 × count / randomized in the group. A participant
    listed twice in ``table`` counts once (the subject, not the row); visits of subjects not in
    ``table`` (after its population / ``where``) are listed as exclusions and not counted.
    Fails (``no-visits-table``) when ``visits_table`` is declared but not provided.
    """
    # The randomized: every participant row inside the population / where with an arm (and a
    # status, when the flow reports completion); a row missing either is listed, never guessed.
    required = [c for c in (spec.by, spec.status) if c is not None]
    base, exclusions = select_rows(ctx, required)
    excluded = [exclusions]
    by = [spec.by] if spec.by else []
    # subjects as text, so that ids read from two tables compare equal whatever their dtype
    subjects = base[ctx.subject].astype(str)
    groups = [(plain(levels[0]), subjects[_mask(base, by[0], levels)]) for levels in group_levels(base, by)] \
        if by else []
    if any(str(name) == OVERALL for name, _ in groups):
        raise analysis_error("reserved-level", f"'{spec.by}' has a level '{OVERALL}', the name of the "
                                               "all-participants group; rename the level", spec)
    groups.append((OVERALL, subjects))

    # Assessed at each visit: the set of subjects with an assessed row there. The denominator is
    # always the randomized of the group, so a participant without a row is "not assessed".
    visit_sets: list[tuple[str, set[str]]] = []
    if spec.visits_table is not None:
        if ctx.versus is None:
            raise analysis_error("no-visits-table", f"the visits table '{spec.visits_table}' was not provided", spec)
        visits, visit_exclusions = _visits(spec, ctx.versus, set(subjects))
        excluded.append(visit_exclusions)
        visit_sets = visits

    # One block of rows per group, stage by stage; _ordered() then interleaves the groups so that
    # each stage / visit / reason is followed by its arms and Overall (the printed layout).
    rows = []
    for name, members in groups:
        ids = set(members)
        n = len(ids)

        def add(stage, count, visit=None, level=None, n_missing=None):
            rows.append({"stage": stage, "visit": visit, "level": level, "group": name, "count": int(count),
                         "n_subjects": n, "n_missing": n_missing,
                         "percent": 100.0 * count / n if n else None})

        add("randomized", n)
        if spec.treated is not None:
            treated = base.loc[members.index, spec.treated]
            add("treated", len(set(members[treated.fillna(False).astype(bool)])))
        for visit, assessed in visit_sets:
            count = len(ids & assessed)
            add("assessed", count, visit=visit, n_missing=n - count)
        if spec.status is not None:
            status = base.loc[members.index, spec.status].astype(str)
            done = status.isin([str(level) for level in spec.completed])
            add("completed", len(set(members[done])))
            add("discontinued", len(set(members[~done])))
            for level in _reasons(ctx, base, spec):
                add("discontinued", len(set(members[status == level])), level=level)
    tidy = pd.DataFrame(rows, columns=["stage", "visit", "level", "group", "count", "n_subjects", "n_missing",
                                       "percent"])
    tidy["n_missing"] = tidy["n_missing"].astype("Int64")   # empty except on the assessed rows
    tidy = _ordered(tidy, [g for g, _ in groups])
    notes = ["percent: of the participants randomized in the group; n_missing: randomized but not assessed "
             "at the visit (no row, or the assessed column missing)"]
    # the visits table's level names (its visit column) for the report's tables
    visit_column = ctx.versus.columns.get(spec.visit) if ctx.versus is not None and spec.visit else None
    visit_labels = visit_column.level_labels if visit_column is not None else None
    level_labels = {"visit": dict(visit_labels)} if visit_labels else {}
    return AnalysisResult(spec.id, spec.type, tidy=tidy,
                          exclusions=pd.concat(excluded, ignore_index=True)[EXCLUSION_COLUMNS], notes=notes,
                          extras=Extras(labels={}, outcomes=[], by=by, level_labels=level_labels))


def _mask(frame: pd.DataFrame, column: str, levels: tuple) -> pd.Series:
    """Rows of ``frame`` in one ``by`` group (a missing arm matches no group).

    >>> _mask(pd.DataFrame({"arm": ["k", None, "e"]}), "arm", ("k",)).tolist()
    [True, False, False]
    """
    return (frame[column] == levels[0]).fillna(False).astype(bool)


def _reasons(ctx: AnalysisInput, base: pd.DataFrame, spec: Spec) -> list[str]:
    """The drop-out reasons: the status column's declared levels (else observed values) other than completed.

    >>> ctx = AnalysisInput("f", "p", pd.DataFrame({"pid": ["a"], "s": ["lost"]}), "pid", ["pid"])
    >>> _reasons(ctx, ctx.frame, Spec(id="f", type="flow", table="p", status="s"))
    ['lost']
    """
    if spec.status is None:   # no status column: no drop-out reasons
        return []
    column = ctx.columns.get(spec.status)
    values = base[spec.status]
    if column is not None and column.levels is not None:
        levels = [str(level) for level in column.levels]
    elif isinstance(values.dtype, pd.CategoricalDtype):
        levels = [str(level) for level in values.cat.categories]
    else:
        levels = sorted({str(v) for v in values.dropna()})
    done = {str(level) for level in spec.completed}
    return [level for level in levels if level not in done]


def _visits(spec: Spec, visits: AnalysisInput, randomized: set[str]) -> tuple[list[tuple[str, set[str]]], pd.DataFrame]:
    """(visit, subjects assessed there) in visit order, and exclusions for rows of unknown subjects.

    Visits are the visit column's levels in the dictionary's order (an ordered category) that
    occur in the table; a level nobody attended has no row (it is not part of the schedule the
    data show). A visit row of a subject who is not among the analysed participants — not
    randomized, or outside the flow's population / ``where`` — is listed as ``invalid-value`` and
    not counted, so every row of the visits table is accounted for.
    """
    frame = visits.frame
    if spec.visit not in frame.columns:
        raise analysis_error("unknown-column", f"'{spec.visit}' is not a column of '{visits.table_name}'", spec)
    subject = frame[visits.subject].astype(str)
    unknown = ~subject.isin(randomized) | frame[visits.subject].isna()
    records = [exclusion_record(visits, row, "invalid-value",
                                f"{visits.subject} {frame.at[row, visits.subject]} is not among the analysed "
                                f"participants of the flow") for row in frame.index[unknown]]
    kept = frame[~unknown]
    present = kept if spec.assessed is None else kept[kept[spec.assessed].notna()]
    values = frame[spec.visit]
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [level for level in values.cat.categories if (values == level).any()]
    else:
        order = sorted({v for v in values.dropna()}, key=str)
    out = [(plain(level), set(subject[present.index][present[spec.visit] == level])) for level in order]
    return out, pd.DataFrame(records, columns=EXCLUSION_COLUMNS)


def _ordered(tidy: pd.DataFrame, groups: list) -> pd.DataFrame:
    """Rows by stage (:data:`STAGES`), then visit / reason in their order, then group (arms, then Overall).

    Each group added its rows of a stage in the same order, so the k-th row of a stage is the same
    visit / reason in every group.
    """
    order = pd.DataFrame({"stage": tidy["stage"].map({s: i for i, s in enumerate(STAGES)}),
                          "group": tidy["group"].map({g: i for i, g in enumerate(groups)})})
    order["item"] = order.groupby(["stage", "group"]).cumcount()
    index = order.sort_values(["stage", "item", "group"], kind="mergesort").index
    return tidy.loc[index].reset_index(drop=True)
