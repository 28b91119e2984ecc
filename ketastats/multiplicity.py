"""Multiplicity adjustments: the public :func:`adjust` and the plan's ``multiplicity:`` families.

A family names its members as rows of analyses' tidy tables::

    multiplicity:
      primary_outcomes:
        method: bonferroni          # holm, hochberg, hommel, fdr_bh, fdr_by, fixed_sequence
        alpha: 0.05
        members:
          - {analysis: fc_sgacc_dmn, term: "time:responder_2wk"}
          - {analysis: fc_vs_controls_pre, where: {outcome: fc_dmn}}

``term`` and ``where`` (tidy column → value) together must pick exactly one row.

Member protocol (for analysis types)
------------------------------------
An analysis ``Spec`` may define ``planned_rows(columns) -> list[dict] | None``: the identifying
cells (``term``, ``outcome``, ``method``, ...) of every tidy row it will produce, computed from the
spec and the column catalog (``columns`` = the analysed table's columns after derivations)
without running anything. Members of such analyses are checked when the plan is validated —
unknown analysis, a column that does not identify rows, no matching row, or several — and
reported with the YAML path and line (:func:`member_issues`, called by ``plan.resolve``).
Types without the method (or returning ``None`` because the rows depend on the data) are checked
when the family is applied, after the analyses ran: a member that matches no row or several
makes the family fail with that reason (:func:`apply_families`).

Family table (``multiplicity/<family>.csv``)
--------------------------------------------
family, order, member, analysis_id, term, outcome, selector, estimate, statistic, p_value,
adjust_method, m, alpha, threshold, p_adjusted, significant. ``m`` counts members with a
p-value (a missing p-value stays missing and does not count, as R's ``p.adjust``), or the
family's declared ``m`` when some of its hypotheses are not tested in the plan (R's
``p.adjust(n = m)``);
``threshold`` is the raw p-value the test is compared with at its rank — α/m (Bonferroni),
α/(m − k + 1) for the k-th smallest p (Holm, Hochberg), kα/m (BH), kα/(m·Σ1/i) (BY), α
(fixed sequence), empty for Hommel, whose procedure has no per-test threshold — and
``significant`` is ``p_adjusted ≤ α``, which is the procedure's decision for every method
(including the step-down / step-up stopping rules and the fixed-sequence stop).

Example
-------
>>> from ketastats.multiplicity import adjust
>>> adjust([0.028, 0.003, 0.001], "bonferroni").round(3).tolist()
[0.084, 0.009, 0.003]
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ketastats.errors import Problem, did_you_mean
from ketastats.glossary import format_cell
from ketastats.language.fields import FamilyMethod, Identifier, Scalar, Strict
from ketastats.stats.p_adjust import METHODS, adjust_p


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

    method: FamilyMethod = Field(
        description="adjustment (R p.adjust names: fdr_bh = BH, fdr_by = BY); fixed_sequence tests in the listed order")
    alpha: float = Field(0.05, gt=0, lt=1, description="family-wise error rate (false discovery rate for fdr_*)")
    m: int | None = Field(None, ge=1, description="number of hypotheses in the family when some are not tested "
                                                 "in this plan (R p.adjust n); default: the members with a p-value")
    title: str | None = None
    description: str | None = None
    members: list[FamilyMember] = Field(min_length=1)


__all__ = ["adjust", "METHODS", "member_issues", "apply_families", "thresholds", "family_sentence"]

FAMILY_COLUMNS = ["family", "order", "member", "analysis_id", "term", "outcome", "selector", "estimate", "statistic",
                  "p_value", "adjust_method", "m", "alpha", "threshold", "p_adjusted", "significant"]
METHOD_NAMES = {"bonferroni": "Bonferroni correction", "holm": "Holm's step-down procedure",
                "hochberg": "Hochberg's step-up procedure", "hommel": "Hommel's procedure",
                "fdr_bh": "Benjamini–Hochberg false-discovery-rate procedure",
                "fdr_by": "Benjamini–Yekutieli false-discovery-rate procedure",
                "fixed_sequence": "fixed-sequence (hierarchical) testing"}


def adjust(p_values, method: str, n: int | None = None) -> np.ndarray:
    """Adjusted p-values in input order, as R's ``p.adjust``.

    Methods: bonferroni, holm, hochberg, hommel, fdr_bh, fdr_by, fixed_sequence (the given
    order is the testing order). Missing p-values stay missing and do not count towards m.
    ``n``: the number of hypotheses when more were tested than are given (R's ``p.adjust(n =)``).
    """
    return adjust_p(p_values, method, n)


def thresholds(p_values, method: str, alpha: float, n: int | None = None) -> np.ndarray:
    """The raw-p threshold of each test at its rank (NaN where the method has none or p is missing);
    ``n`` as in :func:`adjust`."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = len(present) if n is None else int(n)
    if len(present) == 0 or method == "hommel":
        return out
    ranks = np.empty(len(present), dtype=int)
    ranks[np.argsort(p[present], kind="stable")] = np.arange(1, len(present) + 1)
    if method == "bonferroni":
        values = np.full(len(present), alpha / m)
    elif method in ("holm", "hochberg"):
        values = alpha / (m - ranks + 1)
    elif method == "fdr_bh":
        values = ranks * alpha / m
    elif method == "fdr_by":
        values = ranks * alpha / (m * np.sum(1.0 / np.arange(1, m + 1)))
    elif method == "fixed_sequence":
        values = np.full(len(present), alpha)
    else:
        raise ValueError(f"unknown adjustment method {method!r}")
    out[present] = values
    return out


# --- members ----------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return format_cell(value)


def selector(member) -> dict[str, Any]:
    """The tidy cells a member asks for (``term`` plus ``where``)."""
    chosen = dict(member.where)
    if member.term is not None:
        chosen["term"] = member.term
    return chosen


def _selector_text(chosen: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in chosen.items())


def _selection(member) -> str:
    """What a member asks for, as the plan writes it: ``term: X, where: {effect: contrast, visit: eot}``."""
    parts = [f"term: {member.term}"] if member.term is not None else []
    if member.where:
        parts.append("where: {" + ", ".join(f"{k}: {_text(v)}" for k, v in member.where.items()) + "}")
    return ", ".join(parts) or "no term and no where (every row)"


def _who(name: str, k: int, member) -> str:
    """``family 'primary', member 2 ('HDRS at the end')``: how messages name a member (1-based, as read)."""
    return f"family '{name}', member {k + 1}" + (f" ('{member.label}')" if member.label else "")


def _matches(rows: list[dict[str, Any]], chosen: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in rows if all(_text(row.get(k)) == _text(v) for k, v in chosen.items())]


IDENTIFYING_KINDS = ("identity", "variable", "setting", "text")
"""Glossary kinds of the columns that say which row a tidy row is (not its numbers)."""


def _identifying(columns) -> list[str]:
    """The columns of a tidy table that can tell rows apart: glossary identity / variable / setting / text
    columns and the analysis's own grouping columns (not in the glossary)."""
    from ketastats import glossary

    return [c for c in columns if glossary.kind(c) in IDENTIFYING_KINDS or not glossary.known(c)]


def _values(rows: list[dict[str, Any]], column: str, limit: int = 12) -> str:
    values = list(dict.fromkeys(_text(row.get(column)) for row in rows))
    shown = ", ".join(v if v else "(empty)" for v in values[:limit])
    return shown + (f", … ({len(values)} values)" if len(values) > limit else "")


def no_row_message(rows: list[dict[str, Any]], chosen: dict[str, Any]) -> tuple[str, str | None]:
    """(what was found, hint) when no row matches ``chosen``: for the first selected column that rules
    every row out, the values it has among the rows matching the other cells."""
    for column in chosen:
        others = {k: v for k, v in chosen.items() if k != column}
        candidates = _matches(rows, others)
        if candidates and not _matches(candidates, {column: chosen[column]}):
            where = f" among the {len(candidates)} rows with {_selector_text(others)}" if others else ""
            found = f"'{column}' is never {_text(chosen[column])}{where}; its values there: " \
                    f"{_values(candidates, column)}"
            close = did_you_mean(_text(chosen[column]), {_text(r.get(column)) for r in candidates},
                                 list_choices=False)
            return found, close or f"Pick one of the values of '{column}' listed"
    return "no row has all of these cells at once", "Check each value against the analysis's table"


def several_rows_message(found: list[dict[str, Any]], columns) -> tuple[str, str]:
    """(what was found, hint) when several rows match: the columns whose values differ among them."""
    from ketastats import glossary

    differing = [c for c in _identifying(columns) if len({_text(r.get(c)) for r in found}) > 1]
    detail = "; ".join(f"{c}: {_values(found, c)}" for c in differing) or "the rows are identical in every column"
    # the fewest columns that tell the rows apart: plain values before composite ones (visit: eot
    # before group: visit=eot), the analysis's own grouping columns before the glossary's
    def preference(column: str) -> tuple[bool, bool]:
        return any("=" in _text(r.get(column)) for r in found), glossary.known(column)

    chosen: list[str] = []
    for column in sorted(differing, key=preference):
        if len({tuple(_text(r.get(c)) for c in chosen) for r in found}) == len(found):
            break
        chosen.append(column)
    example = ", ".join(f"{c}: {_text(found[0].get(c))}" for c in chosen)
    return f"they differ in {detail}", f"A member is one test: add where: {{{example}}} (or the values you mean)"


def _result_column_names(columns) -> set[str]:
    """Every name that can be a column of ``spec``'s tidy table, when its rows are not planned: the
    glossary's result columns and the analysed table's columns (grouping columns such as ``visit``)."""
    from ketastats import glossary

    return set(glossary.glossary().columns) | set(columns)


def member_issues(plan, catalog, skip: set[str] | frozenset[str] = frozenset()) -> list[Problem]:
    """(code, message, YAML path, hint) for every member that cannot be right, before anything runs.

    ``skip``: analyses whose own names could not be checked (their table's dictionary has
    errors, or the analysis was left out for schema errors); their members are not checked either."""

    analyses = {spec.id: spec for spec in plan.analyses}
    issues: list[Problem] = []
    for name, family in getattr(plan, "multiplicity", {}).items():
        seen: dict[tuple, int] = {}
        for k, member in enumerate(family.members):
            path = ("multiplicity", name, "members", k)
            who = _who(name, k, member)
            spec = analyses.get(member.analysis)
            if member.analysis in skip:
                continue
            if spec is None:
                issues.append(Problem.coded("unknown-analysis",
                                            f"{who}: analysis '{member.analysis}' is not in analyses:",
                                            path + ("analysis",), did_you_mean(member.analysis, analyses)))
                continue
            chosen = selector(member)
            key = (member.analysis, tuple(sorted((c, _text(v)) for c, v in chosen.items())), member.p_column)
            if key in seen:
                issues.append(Problem.coded("duplicate-member",
                                            f"{who} repeats member {seen[key] + 1} ({_selection(member)})", path,
                                            "Each test is a member once; remove one, or select another row"))
                continue
            seen[key] = k
            columns = catalog.columns.get(spec.table, {})
            rows = spec.planned_rows(columns)
            if rows is None:   # rows depend on the data: only the column names can be checked now
                known = _result_column_names(columns)
                for column in member.where:
                    if column not in known:
                        issues.append(Problem.coded(
                            "unknown-member-column", f"{who} selects where: {{{column}: "
                            f"{_text(member.where[column])}}}, but '{column}' cannot be a column of the table of "
                            f"analysis '{spec.id}' ({spec.type}): it is neither a result column nor a column of "
                            f"table '{spec.table}'", path + ("where", column),
                            did_you_mean(column, known, list_choices=False)
                            or "Write the column as the analysis's table (tables/<id>.csv) names it"))
                continue
            identity = sorted({c for row in rows for c in row})
            for column in chosen:
                if column not in identity:
                    where = path + (("term",) if column == "term" else ("where", column))
                    issues.append(Problem.coded("unknown-member-column",
                                                f"{who} selects by '{column}', but the rows of analysis "
                                                f"'{spec.id}' ({spec.type}) are not identified by '{column}'", where,
                                                f"Its rows are identified by: {', '.join(identity)}"))
            if any(column not in identity for column in chosen):
                continue
            found = _matches(rows, chosen)
            if not found:
                where = path + (("term",) if "term" in chosen else ("where",) if chosen else ("analysis",))
                what, hint = no_row_message(rows, chosen)
                issues.append(Problem.coded("unknown-member", f"{who} selects {_selection(member)}, but analysis "
                                            f"'{spec.id}' will have no such row: {what}", where, hint))
            elif len(found) > 1:
                what, hint = several_rows_message(found, identity)
                issues.append(Problem.coded("ambiguous-member",
                                            f"{who} selects {_selection(member)}, which matches {len(found)} rows "
                                            f"of analysis '{spec.id}': {what}", path, hint))
    return issues


# --- applying families after the analyses ---------------------------------------------------------

def apply_families(plan, results: dict) -> dict:
    """A :class:`ketastats.results.FamilyResult` per declared family (after all analyses ran)."""
    return {name: _apply(name, family, results) for name, family in getattr(plan, "multiplicity", {}).items()}


def member_row(name: str, k: int, member, result):
    """The one tidy row member ``k`` of family ``name`` selects from ``result`` (its analysis's
    :class:`~ketastats.results.AnalysisResult`), or an :class:`~ketastats.errors.Issue` saying
    why there is none: the analysis failed (with its reason), a selected column (or the
    ``p_column``) is not in its table (with the columns it has), no row matches (with the values
    the table has) or several do (with the columns that tell them apart), and what to do."""
    from ketastats.errors import Issue, Location

    location = Location(path=f"multiplicity.{name}.members[{k}]")
    who = _who(name, k, member)
    chosen = selector(member)
    if result is None or not result.ok:
        reasons = "; ".join(f"{i.message} ({i.code})" for i in getattr(result, "issues", []) if i.severity == "error")
        return Issue("member-analysis-failed", f"{who}: analysis '{member.analysis}' failed"
                     + (f" ({reasons})" if reasons else "") + ", so the family cannot be adjusted", location,
                     hint=f"Fix analysis '{member.analysis}' (its error is listed with it), or remove the member")
    tidy = result.tidy
    absent = [c for c in [*chosen, member.p_column] if c not in tidy.columns]
    if absent:
        named = ", ".join(f"'{c}'" + (" (p_column)" if c == member.p_column and c not in chosen else "")
                          for c in absent)
        close = [h for h in (did_you_mean(c, tidy.columns, list_choices=False) for c in absent) if h]
        asked = _selection(member) + (f", p_column: {member.p_column}" if member.p_column in absent else "")
        return Issue("unknown-member-column", f"{who} selects {asked}, but the table of analysis "
                     f"'{member.analysis}' ({result.type}) has no column {named}", location,
                     hint=" ".join(close + [f"Select by the columns it has: {', '.join(tidy.columns)}"]))
    rows = tidy.to_dict(orient="records")
    found = _matches(rows, chosen)
    if not found:
        what, hint = no_row_message(rows, chosen)
        return Issue("unknown-member", f"{who} selects {_selection(member)}, but no row of analysis "
                     f"'{member.analysis}' matches (0 of {len(rows)} rows): {what}", location, hint=hint)
    if len(found) > 1:
        what, hint = several_rows_message(found, tidy.columns)
        return Issue("ambiguous-member", f"{who} selects {_selection(member)}, which matches {len(found)} rows of "
                     f"analysis '{member.analysis}': {what}", location, hint=hint)
    return found[0]


def _apply(name: str, family, results: dict):
    import pandas as pd

    from ketastats.errors import Issue, Location
    from ketastats.results import FamilyResult

    records, issues = [], []
    for k, member in enumerate(family.members):
        chosen = selector(member)
        row = member_row(name, k, member, results.get(member.analysis))
        if isinstance(row, Issue):
            issues.append(row)
            continue
        p = row.get(member.p_column)
        label = member.label or " ".join([member.analysis] + [_text(v) for v in chosen.values()])
        records.append({"family": name, "order": k + 1, "member": label, "analysis_id": member.analysis,
                        "term": row.get("term"), "outcome": row.get("outcome"), "selector": _selector_text(chosen),
                        "estimate": row.get("estimate"), "statistic": row.get("statistic"),
                        "p_value": None if p is None or (isinstance(p, float) and math.isnan(p)) else float(p)})
    if issues:
        return FamilyResult(name, family.method, family.alpha, title=family.title, issues=issues, status="failed")
    table = pd.DataFrame(records, columns=FAMILY_COLUMNS)
    raw = table["p_value"].astype(float).to_numpy()
    tested = int(np.sum(~np.isnan(raw)))
    if family.m is not None and family.m < tested:
        return FamilyResult(name, family.method, family.alpha, title=family.title, status="failed", issues=[
            Issue("family-size-too-small", f"family '{name}' declares m = {family.m} hypotheses but {tested} of its "
                  "members have a p-value, so the family cannot be adjusted", Location(path=f"multiplicity.{name}.m"),
                  hint=f"m counts every hypothesis of the family, tested here or not: give m ≥ {tested}, "
                       "or remove m to count the members")])
    m = family.m if family.m is not None else tested
    adjusted = adjust(raw, family.method, m)
    table["adjust_method"] = family.method
    table["m"] = m
    table["alpha"] = family.alpha
    table["threshold"] = thresholds(raw, family.method, family.alpha, m)
    table["p_adjusted"] = adjusted
    table["significant"] = [None if math.isnan(a) else bool(a <= family.alpha) for a in adjusted]
    table = table[FAMILY_COLUMNS]
    return FamilyResult(name, family.method, family.alpha, table=table, title=family.title,
                        summary=family_sentence(table, family.method, family.alpha, family.description))


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3g}"


def family_sentence(table, method: str, alpha: float, description: str | None = None) -> str:
    """The family's verdicts in words, for the report."""
    tested = int(table["p_value"].notna().sum())
    m = int(table["m"].iloc[0]) if len(table) else tested
    passed = table[table["significant"] == True]  # noqa: E712
    failed = table[table["significant"] == False]  # noqa: E712
    rule = {
        "bonferroni": f"each raw p-value is compared with {alpha:g} / {m} = {alpha / m:.4g}" if m else "",
        "holm": f"the k-th smallest p-value is compared with {alpha:g} / ({m} − k + 1), stopping at the first that "
                "fails",
        "hochberg": f"from the largest p-value down, the k-th smallest is compared with {alpha:g} / ({m} − k + 1); "
                    "the first that passes and all smaller ones pass",
        "hommel": f"a test passes when its Hommel-adjusted p-value (R p.adjust) is at most {alpha:g}",
        "fdr_bh": f"the false discovery rate is controlled at {alpha:g}: the k-th smallest p-value is compared with "
                  f"k × {alpha:g} / {m}",
        "fdr_by": f"the false discovery rate is controlled at {alpha:g} under any dependence: the k-th smallest "
                  f"p-value is compared with k × {alpha:g} / ({m} × Σ 1/i)",
        "fixed_sequence": f"the tests are taken in the listed order, each at {alpha:g}; testing stops at the first "
                          "that fails",
    }[method]
    text = f"{METHOD_NAMES[method][0].upper() + METHOD_NAMES[method][1:]} over {m} test{'s' if m != 1 else ''} " \
        f"(α = {alpha:g}): {rule}. "
    if m > tested:
        text += f"The family declares m = {m} hypotheses; {tested} are tested in this plan" + \
            (f" ({description.strip()})" if description else "") + ". "
    describe = lambda frame: "; ".join(f"{r.member} ({_p(r.p_value)}" + (  # noqa: E731
        f", adjusted {_p(r.p_adjusted).replace('p ', '').strip()})" if method != "bonferroni" else ")")
        for r in frame.itertuples())
    text += f"{len(passed)} of {tested} pass" + (f": {describe(passed)}" if len(passed) else "") + ". "
    if len(failed):
        text += f"{len(failed)} do{'es' if len(failed) == 1 else ''} not pass: {describe(failed)}."
        if method == "fixed_sequence":
            first = failed.iloc[0]
            later = table[(table["order"] > first["order"]) & table["p_value"].notna()]
            lucky = later[later["p_value"] <= alpha]
            if len(lucky):
                text += (f" Tests after '{first['member']}' are not significant whatever their raw p-value "
                         f"({', '.join(lucky['member'])} had raw p ≤ {alpha:g}).")
    missing = table[table["p_value"].isna()]
    if len(missing):
        text += f" {len(missing)} member(s) had no p-value and were not counted: {', '.join(missing['member'])}."
    return text.strip()
