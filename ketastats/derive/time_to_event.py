"""Time-to-event tables (e.g. time to relapse) derived from visit-level ratings, in ADaM ADTTE shape.

A ``time_to_event`` derivation adds a new *table* — one row per subject at risk — rather than a
column. From the visit-level table ``from`` it takes:

- the **population at risk**: subjects whose row selected by ``at_risk.at`` satisfies
  ``at_risk.where`` (e.g. responders at the visit 24 h after the last infusion); default every
  subject of ``from``;
- the **time origin** per subject: a number on the ``time`` scale (e.g. 27, the day of the last
  infusion), the ``time`` of the subject's row matching a selector, or a column holding it;
- the **follow-up assessments**: the subject's rows with ``time`` strictly after the origin,
  in time order; a row at which the ``event`` rule is missing (e.g. MADRS not rated) is a
  missed assessment: it neither counts towards nor breaks a run;
- the **event**: the ``event`` rule true at ``consecutive`` assessments in a row (default 1);
  the event is dated at the first assessment of the run (``event_time: first``, the usual
  relapse convention) or at the confirming one (``event_time: confirmed``);
- **censoring** otherwise, at the last follow-up assessment, with the reason:

  ===================  ===============================================================
  reason               when (first that applies)
  ===================  ===============================================================
  ``no_follow_up``     no assessment after the origin (censored at the origin, AVAL 0)
  ``unconfirmed``      the rule held at the last assessment(s) but too few to confirm
  ``dropout``          the ``dropout`` rule is true for the subject
  ``completed``        a ``dropout`` rule is declared and is not true for the subject
  ``last_assessment``  no ``dropout`` rule is declared
  ===================  ===============================================================

Output columns (ADaM ADTTE names in capitals, with ``ketastats`` conveniences after them):
the subject column (ADaM ``USUBJID``), ``PARAMCD``, ``PARAM``, ``STARTDY`` (origin on the
``time`` scale; ADaM ``STARTDT`` for a day number), ``ADY`` (time of the event or
censoring on that scale), ``AVAL`` (``ADY − STARTDY``), ``CNSR`` (0 = event, 1 = censored,
as ADaM), ``EVNTDESC`` (events) / ``CNSDTDSC`` (censorings), ``SRCSEQ`` (the source row of
the dated assessment in ``from``, empty when censored at the origin), ``time`` (= AVAL),
``event`` (boolean, = CNSR == 0), ``reason`` (``event`` or a censoring reason above), then the
columns of ``subject_table`` (as ADTTE carries ADSL). Rows are ordered by subject; the row
index is 1..n, the row numbers of ``adtte_<name>.csv`` in the report.

Missing data: a subject without an at-risk row, with a missing at-risk value or without an
origin is not in the table and is listed in a warning; rows with a missing ``time`` are not
used (warning).

Example
-------
>>> import pandas as pd
>>> from ketastats.language.expressions import parse_expression
>>> rows = pd.DataFrame({"pid": ["a"] * 4, "day": [0, 7, 14, 21], "madrs": [8, 22, 24, 25]}, index=[1, 2, 3, 4])
>>> rules = TimeToEventRules.model_validate({"from": "r", "time": "day", "origin": 0, "event": "madrs > 20",
...                                          "consecutive": 2})
>>> table, _ = derive_time_to_event(rows, "pid", "relapse", rules, parse_expression("madrs > 20"))
>>> table[["pid", "AVAL", "CNSR", "reason"]].values.tolist()
[['a', 7.0, 0, 'event']]
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ketastats.data.dictionary import Column
from ketastats.derive.base import DerivationSpec, DeriveContext
from ketastats.derive.change import selector_mask
from ketastats.errors import DataError, Issue, Location
from ketastats.language.expressions import Expression
from ketastats.language.fields import Identifier, Scalar, Strict
from ketastats.language.names import NameResolver


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




class TimeToEvent(DerivationSpec):
    """A new table, one row per subject at risk, in CDISC ADaM ADTTE shape (AVAL, CNSR, ...)."""

    KIND: ClassVar[str] = "time_to_event"
    ADDS_TABLE: ClassVar[bool] = True

    name: Identifier = Field(description="the new table")
    time_to_event: TimeToEventRules

    def declare(self, names: NameResolver, index: int) -> None:
        rules = self.time_to_event
        path = ("derive", index, "time_to_event")
        source = rules.from_
        if not names.table(source, path + ("from",)):
            return
        subject = names.subject
        if names.catalog.column(source, subject) is None:
            names.add("no-subject-column", f"table '{source}' has no subject column '{subject}'", path + ("from",))
            return
        time_spec = names.column(source, rules.time, path + ("time",), index)
        if time_spec is not None and time_spec.type not in ("integer", "number"):
            names.add("not-numeric", f"column '{rules.time}' is {time_spec.type}, not numeric", path + ("time",))
        if isinstance(rules.origin, dict):
            names.selector(source, rules.origin, path + ("origin",), index)
        elif isinstance(rules.origin, str):
            spec = names.column(source, rules.origin, path + ("origin",), index)
            if spec is not None and spec.type not in ("integer", "number"):
                names.add("not-numeric", f"column '{rules.origin}' is {spec.type}, not numeric", path + ("origin",))
        names.expression(rules.event, source, path + ("event",), index)
        if rules.at_risk is not None:
            names.selector(source, rules.at_risk.at, path + ("at_risk", "at"), index)
            names.expression(rules.at_risk.where, source, path + ("at_risk", "where"), index)
        carried: dict[str, Column] = {}
        if rules.subject_table is not None and names.table(rules.subject_table, path + ("subject_table",)):
            if not names.catalog.subject_keyed.get(rules.subject_table):
                names.add("not-subject-level", f"table '{rules.subject_table}' does not have one row per "
                          f"'{subject}'", path + ("subject_table",), "Name a table keyed by the subject alone")
            else:
                carried = {k: v.model_copy(update={"required": False})
                           for k, v in names.catalog.columns[rules.subject_table].items() if k != subject}
        if rules.dropout is not None:
            on = rules.subject_table if rules.subject_table is not None and \
                rules.subject_table in names.catalog.columns else source
            names.expression(rules.dropout, on, path + ("dropout",), index)
        if self.name in names.catalog.columns:
            names.add("duplicate-table", f"table '{self.name}' already exists", ("derive", index, "name"),
                      "Choose another name for the derived table")
            return
        columns = adtte_columns(subject, time_spec, carried)
        for clash in sorted(set(carried) & set(adtte_columns(subject, time_spec, {}))):
            names.add("duplicate-column", f"column '{clash}' of table '{rules.subject_table}' clashes with a "
                      f"time-to-event column of '{self.name}'", path + ("subject_table",), "Rename the column")
        names.catalog.columns[self.name] = columns
        names.catalog.subject_keyed[self.name] = True
        names.catalog.keys[self.name] = [subject]

    def apply(self, tables: dict[str, pd.DataFrame], context: DeriveContext) -> list[Issue]:
        rules = self.time_to_event
        source_columns = context.columns.get(rules.from_, {})
        tables[self.name], issues = derive_time_to_event(
            tables[rules.from_], context.subject, self.name, rules, context.expression("time_to_event", "event"),
            at_risk=context.expression("time_to_event", "at_risk", "where"),
            dropout=context.expression("time_to_event", "dropout"),
            subject_frame=tables[rules.subject_table] if rules.subject_table else None,
            unit=source_columns[rules.time].unit if rules.time in source_columns else None,
            path=f"derive[{context.index}]")
        return issues


REASONS = ["event", "unconfirmed", "dropout", "completed", "last_assessment", "no_follow_up"]
CENSOR_DESCRIPTIONS = {
    "no_follow_up": "NO ASSESSMENT AFTER ORIGIN",
    "unconfirmed": "LAST ASSESSMENT (EVENT NOT CONFIRMED)",
    "dropout": "DROP-OUT: LAST ASSESSMENT",
    "completed": "END OF FOLLOW-UP: LAST ASSESSMENT",
    "last_assessment": "LAST ASSESSMENT",
}
ADTTE_COLUMNS = ["PARAMCD", "PARAM", "STARTDY", "ADY", "AVAL", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCSEQ",
                 "time", "event", "reason"]


def paramcd(name: str, rules: TimeToEventRules) -> str:
    return rules.paramcd or "".join(ch for ch in name.upper() if ch.isalnum())[:8]


def param(name: str, rules: TimeToEventRules, unit: str | None) -> str:
    return rules.param or f"Time to {name.replace('_', ' ')}" + (f" ({unit})" if unit else "")


def event_description(rules: TimeToEventRules) -> str:
    if rules.event_description:
        return rules.event_description
    text = rules.event.strip()
    return text if rules.consecutive == 1 else f"{text} at {rules.consecutive} consecutive assessments"


def adtte_columns(subject: str, time_column: Column | None, carried: dict[str, Column]) -> dict[str, Column]:
    """The column catalog of a derived time-to-event table (what resolve checks analyses against)."""
    unit = time_column.unit if time_column is not None else None
    columns = {
        subject: Column(type="string", description="Subject identifier (ADaM USUBJID)"),
        "PARAMCD": Column(type="string", description="Parameter code"),
        "PARAM": Column(type="string", description="Parameter"),
        "STARTDY": Column(type="number", unit=unit, label="Time origin", description="Time origin on the time scale"),
        "ADY": Column(type="number", unit=unit, label="Time of event or censoring",
                      description="Time of the event or censoring on the time scale"),
        "AVAL": Column(type="number", unit=unit, label="Time from origin", description="ADY - STARTDY"),
        "CNSR": Column(type="integer", min=0, max=1, label="Censored", description="0 = event, 1 = censored (ADaM)"),
        "EVNTDESC": Column(type="string", required=False, description="Event description"),
        "CNSDTDSC": Column(type="string", required=False, description="Censoring description"),
        "SRCSEQ": Column(type="integer", required=False, description="Source row of the dated assessment"),
        "time": Column(type="number", unit=unit, label="Time from origin", description="= AVAL"),
        "event": Column(type="boolean", label="Event", description="true = event (CNSR == 0)"),
        "reason": Column(type="category", levels=REASONS, label="Event or censoring reason",
                         description="event, or why the subject was censored"),
    }
    for name, spec in carried.items():
        if name not in columns:
            columns[name] = spec
    return columns


def _per_subject(values: pd.Series, subjects: pd.Series, what: str, path: str) -> pd.Series:
    """One value per subject; two different non-missing values for a subject is an error."""
    values = values.astype(object) if isinstance(values.dtype, pd.CategoricalDtype) else values
    distinct = values.groupby(subjects.to_numpy(), dropna=False).nunique(dropna=True)
    bad = distinct[distinct > 1]
    if len(bad):
        raise DataError([Issue("inconsistent-subject-level", f"subject '{key}' has {count} different values of "
                               f"{what}", Location(path=path), hint="Select one row per subject")
                         for key, count in bad.items()])
    return values.groupby(subjects.to_numpy()).first()


def derive_time_to_event(frame: pd.DataFrame, subject: str, name: str, rules: TimeToEventRules,
                         event: Expression, at_risk: Expression | None = None, dropout: Expression | None = None,
                         subject_frame: pd.DataFrame | None = None, unit: str | None = None,
                         path: str = "derive") -> tuple[pd.DataFrame, list[Issue]]:
    """Build the time-to-event table; returns (table, warnings). See the module docstring."""
    issues: list[Issue] = []
    location = Location(table=name, path=path)
    frame = frame[frame[subject].notna()]
    time = pd.to_numeric(frame[rules.time], errors="coerce").astype(float)
    subjects = sorted(frame[subject].astype(str).unique())
    subject_text = frame[subject].astype(str)

    # population at risk
    if rules.at_risk is not None and at_risk is not None:
        rows = frame[selector_mask(frame, rules.at_risk.at)]
        status = _per_subject(at_risk.evaluate(rows).astype("boolean"), subject_text[rows.index],
                              f"'{rules.at_risk.where}' at {rules.at_risk.at}", path)
        undecided = [s for s in subjects if s not in status.index or pd.isna(status.get(s))]
        if undecided:
            issues.append(Issue("no-at-risk-status", f"{len(undecided)} subject(s) have no row at {rules.at_risk.at} "
                                f"or a missing '{rules.at_risk.where}' there, so they are not in '{name}': "
                                + ", ".join(undecided[:10]) + (" ..." if len(undecided) > 10 else ""),
                                location, severity="warning"))
        subjects = [s for s in subjects if s in status.index and not pd.isna(status[s]) and bool(status[s])]

    # time origin per subject
    if isinstance(rules.origin, dict):
        rows = frame[selector_mask(frame, rules.origin)]
        origin = _per_subject(time[rows.index], subject_text[rows.index], f"'{rules.time}' at {rules.origin}", path)
    elif isinstance(rules.origin, str):
        origin = _per_subject(pd.to_numeric(frame[rules.origin], errors="coerce").astype(float), subject_text,
                              f"'{rules.origin}'", path)
    else:
        origin = pd.Series(float(rules.origin), index=subjects, dtype=float)
    lacking = [s for s in subjects if s not in origin.index or pd.isna(origin.get(s))]
    if lacking:
        issues.append(Issue("no-origin", f"{len(lacking)} subject(s) at risk have no time origin, so they are not "
                            f"in '{name}': " + ", ".join(lacking[:10]) + (" ..." if len(lacking) > 10 else ""),
                            location, severity="warning"))
        subjects = [s for s in subjects if s not in lacking]
    missing_time = int(time.isna().sum())
    if missing_time:
        issues.append(Issue("missing-time", f"{missing_time} row(s) of the source table have no '{rules.time}' and "
                            "are not used", location, severity="warning"))

    # dropout flags
    dropped: set[str] = set()
    if rules.dropout is not None and dropout is not None:
        source = subject_frame if subject_frame is not None else frame
        flags = dropout.evaluate(source).fillna(False).astype(bool)
        dropped = set(source.loc[flags, subject].astype(str))

    flag = event.evaluate(frame).astype("boolean")
    records = []
    for s in subjects:
        start = float(origin[s])
        mine = (subject_text == s) & time.notna() & (time > start)
        rows = pd.DataFrame({"time": time[mine], "flag": flag[mine]})
        rows = rows[rows["flag"].notna()]
        rows = rows.iloc[np.lexsort((rows.index.to_numpy(), rows["time"].to_numpy()))] if len(rows) else rows
        records.append(_follow(s, start, rows, rules, s in dropped, rules.dropout is not None))

    table = pd.DataFrame.from_records(records, columns=[subject, "STARTDY", "ADY", "CNSR", "SRCSEQ", "reason"])
    table[subject] = table[subject].astype(object)
    table.insert(1, "PARAMCD", paramcd(name, rules))
    table.insert(2, "PARAM", param(name, rules, unit))
    table.insert(5, "AVAL", table["ADY"].astype(float) - table["STARTDY"].astype(float))
    table["STARTDY"] = table["STARTDY"].astype(float)
    table["ADY"] = table["ADY"].astype(float)
    table["CNSR"] = table["CNSR"].astype(int)
    # numpy's stubs reject None as a choice of np.where (it makes an object array, as wanted)
    table["EVNTDESC"] = np.where(table["CNSR"] == 0, event_description(rules), None)  # type: ignore[call-overload]
    table["CNSDTDSC"] = [CENSOR_DESCRIPTIONS.get(r) for r in table["reason"]]
    table["SRCSEQ"] = pd.array(table["SRCSEQ"], dtype="Int64")
    table["time"] = table["AVAL"]
    table["event"] = pd.array(table["CNSR"] == 0, dtype="boolean")
    table["reason"] = pd.Categorical(table["reason"], categories=REASONS)
    table = table[[subject, *ADTTE_COLUMNS]]
    if subject_frame is not None:
        carried = subject_frame.drop_duplicates(subject).set_index(subject)
        carried.index = carried.index.astype(str)
        for column in carried.columns:
            if column not in table.columns:
                table[column] = carried[column].reindex(table[subject].astype(str).to_numpy()).array
    table.index = pd.RangeIndex(1, len(table) + 1)
    return table, issues


def _follow(subject: str, start: float, rows: pd.DataFrame, rules: TimeToEventRules, dropped: bool,
            has_dropout_rule: bool) -> tuple:
    """(subject, STARTDY, ADY, CNSR, SRCSEQ, reason) from the assessed follow-up rows in time order."""
    run: list[tuple[float, int]] = []
    for row, (when, positive) in zip(rows.index, zip(rows["time"], rows["flag"])):
        if bool(positive):
            run.append((float(when), int(row)))
            if len(run) >= rules.consecutive:
                when_dated, row_dated = run[0] if rules.event_time == "first" else run[-1]
                return subject, start, when_dated, 0, row_dated, "event"
        else:
            run = []
    if not len(rows):
        return subject, start, start, 1, None, "no_follow_up"
    last_time, last_row = float(rows["time"].iloc[-1]), int(rows.index[-1])
    if run:
        reason = "unconfirmed"
    elif dropped:
        reason = "dropout"
    else:
        reason = "completed" if has_dropout_rule else "last_assessment"
    return subject, start, last_time, 1, last_row, reason
