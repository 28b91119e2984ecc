r"""Paired t test of an outcome between two levels of a pairing column (e.g. week 2 versus baseline).

Role
----
A standalone paired comparison of a prespecified plan: for every participant with both levels of
``pair_by`` (e.g. ``visit``), the difference ``first level − second level`` of ``outcome``, its
mean, standard error, confidence interval, t test and Cohen's d_z; optionally within each group
of ``by`` columns (e.g. ``arm``).

R function matched
------------------
``t.test(x, y, paired = TRUE, conf.level = conf_level, alternative = alternative)`` with ``x`` the
first level and ``y`` the second, matched by participant (base package ``stats``); d_z is
``mean(x - y) / sd(x - y)``. Checked against
``tests/reference/rm_anova_paired_ttest/rm_anova.json`` (section ``paired_ttest``, written by
``tests/reference/rm_anova_paired_ttest/make_reference.R``).

Formulas
--------
See :mod:`ketastats.stats.ttests`: estimate = mean difference, std_error = SD/√n, t = estimate /
std_error, df = n − 1, interval from the t quantile (one-sided intervals have an infinite bound,
as R), Cohen's d_z = mean difference / SD of the differences.

Missing-data policy
-------------------
Available pairs per comparison (and per ``by`` group): a participant lacking either level — no row
or a missing outcome — is excluded from that comparison, and every one of their rows at the two
levels is listed with reason ``incomplete-pair`` and a detail naming the missing level. Rows at
other levels of ``pair_by`` are listed with reason ``other-level`` (not selected, like rows a
``where:`` leaves out: reason ``not-selected``). Rows with a missing subject, ``pair_by`` or ``by``
value are listed with reason ``missing-value``. Two rows for one participant and level fail the
analysis (``duplicate-cell``); a ``by`` value that changes within a participant too
(``by-not-constant``).

Tidy columns
------------
outcome, one column per ``by`` variable, contrast (``"week2 - baseline"``), method
(``paired t-test``), n (pairs, what R calls n), n_subjects (participants), estimate (mean difference),
std_error, conf_low, conf_high, conf_level, statistic_type (``t``), statistic, df, p_value,
alternative (``two.sided`` / ``less`` / ``greater``), effect_size, effect_size_type (``cohen_dz``).
The number of table rows analysed (2 per pair) is ``glance["n_rows_used"]``, so that rows analysed +
rows excluded = rows in the table.

Known differences from R
------------------------
None in the numbers. Where R stops ("not enough 'x' observations", "data are essentially
constant"), the row has empty statistics and the analysis carries a warning.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("aabbccd"),
...                       "visit": pd.Categorical(["pre", "post"] * 3 + ["pre"], categories=["pre", "post"]),
...                       "y": [20.0, 10, 25, 12, 30, 14, 22]}, index=range(1, 8))
>>> spec = Spec(id="p", type="paired_ttest", table="t", outcome="y", pair_by="visit", levels=["post", "pre"])
>>> result = run(spec, AnalysisInput("p", "t", frame, "pid", ["pid", "visit"]))
>>> result.tidy[["contrast", "n_subjects", "estimate", "df"]].values.tolist()
[['post - pre', 3, -13.0, 2.0]]
>>> result.exclusions[["row", "reason"]].values.tolist()
[[7, 'incomplete-pair']]
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses._within import cell_text, wide_cells
from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    analysis_error,
    exclusion_record,
    group_frame,
    group_levels,
    kernel_failure,
    plain,
    select_rows,
)
from ketastats.errors import Issue, Location, Problem
from ketastats.language.fields import ConfLevel, Names, column_field
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras
from ketastats.stats.ttests import paired_t_test

METHOD = "paired t-test"


def _as_str_list(value):
    """Levels as text, so that ``[2, 1]`` or ``[true, false]`` in YAML match the column's level text.

    >>> _as_str_list([2, "baseline"]), _as_str_list("x")
    (['2', 'baseline'], 'x')
    """
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else value


class PairedExtras(Extras, total=False):
    """paired_ttest's extras: the pairing column and the two levels compared (first − second)."""

    pair_by: str
    levels: list


class Spec(AnalysisSpec):
    """Paired t test of first level − second level of pair_by, with Cohen's d_z."""

    type: Literal["paired_ttest"]
    outcome: Names = column_field("numeric outcome column(s)")
    pair_by: str = column_field("the column whose two levels are paired within a participant, e.g. visit")
    levels: Annotated[list[str], BeforeValidator(_as_str_list)] = Field(
        min_length=2, max_length=2,
        description="[first, second]: the difference is first − second, e.g. [week2, baseline]")
    by: Names = column_field("grouping columns (constant within a participant), e.g. [arm]", default_factory=list)
    subject: str | None = column_field("the participant column (default: the plan's subject)", default=None)
    conf_level: ConfLevel = 0.95
    alternative: Literal["two.sided", "less", "greater"] = Field(
        "two.sided", description="alternative hypothesis about first − second, as R's t.test")
    effect_size: Literal["cohen_dz"] = "cohen_dz"

    @model_validator(mode="after")
    def _check(self) -> "Spec":
        """Two different levels; outcome, pair_by, by and subject name different columns."""
        if self.levels[0] == self.levels[1]:
            raise ValueError("levels: give two different levels")
        names = [self.pair_by, *self.by, *([self.subject] if self.subject else [])]
        if len(set(names)) != len(names) or set(self.outcome) & set(names):
            raise ValueError("outcome, pair_by, by and subject must name different columns")
        return self

    def check_columns(self, columns) -> list[Problem]:
        """Numeric outcomes; both ``levels`` must be declared levels of ``pair_by`` (when it has levels)."""
        problems = [Problem(f"outcome[{i}]", f"column '{name}' is {columns[name].type}; paired_ttest needs a numeric "
                     "outcome") for i, name in enumerate(self.outcome)
                    if name in columns and columns[name].type not in ("integer", "number")]
        column = columns.get(self.pair_by)
        if column is not None and column.levels:
            problems += [Problem(f"levels[{i}]",
                                 f"'{level}' is not a level of '{self.pair_by}' ({', '.join(column.levels)})")
                         for i, level in enumerate(self.levels) if level not in column.levels]
        return problems


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Paired t test of ``levels[0] − levels[1]`` of each outcome, within each ``by`` group.

    R: ``t.test(x, y, paired = TRUE, alternative, conf.level)`` with x, y the participant's
    values at the two levels, matched by participant; Cohen's d_z = mean(x − y) / sd(x − y).
    Levels are compared as text (``str`` of the value), so an integer ``visit`` of 2 matches
    ``"2"``. Participants lacking a level, or its outcome, are left out of that comparison
    (``incomplete-pair``); rows at other levels are ``other-level``.

    Tidy columns: outcome, one column per ``by`` variable, contrast, method, n (pairs),
    n_subjects, estimate, std_error, conf_low, conf_high, conf_level, statistic_type, statistic,
    df, p_value, alternative, effect_size, effect_size_type. A comparison R's ``t.test`` would
    stop on (fewer than 2 pairs, constant differences) keeps its row with empty numbers and a
    ``test-not-computed`` warning; when no comparison at all can be tested the analysis fails.
    """
    subject = spec.subject or ctx.subject
    base, exclusions = select_rows(ctx, [subject, spec.pair_by, *spec.by])
    excluded = [exclusions]
    # the pairing column as text, the form in which levels are declared (and compared)
    text = base[spec.pair_by].map(lambda v: str(plain(v)))
    other = ~text.isin(spec.levels)
    excluded.append(pd.DataFrame(
        [exclusion_record(ctx, row, "other-level", f"{spec.pair_by}={text[row]} is not one of the compared levels "
                 f"{spec.levels[0]}, {spec.levels[1]}") for row in base.index[other]], columns=EXCLUSION_COLUMNS))
    base = base[~other]
    # a by group must hold whole participants, else one participant's two levels could fall in two groups
    for column in spec.by:
        varying = base.groupby(subject, observed=True)[column].nunique()
        if (varying > 1).any():
            who = sorted(varying.index[varying > 1], key=str)[0]
            raise analysis_error("by-not-constant", f"'{column}' takes several values for participant {who}; paired "
                         "groups must be constant within a participant", spec)
    contrast = f"{spec.levels[0]} - {spec.levels[1]}"
    rows, issues, failures = [], [], []
    for outcome in spec.outcome:
        for group in group_levels(base, spec.by):
            frame = group_frame(base, spec.by, group)
            # participants × the two levels (complete pairs only); the pairing column compared as text
            wide, incomplete = wide_cells(ctx, frame.assign(**{spec.pair_by: text[frame.index]}), subject,
                                          [spec.pair_by], [(level,) for level in spec.levels], outcome, spec,
                                          reason="incomplete-pair",
                                          policy="the participant is left out of this paired comparison")
            excluded.append(incomplete)
            # n and n_subjects are both the number of pairs (R's t.test counts pairs); rows used = 2 n
            row = {"outcome": outcome, **{c: plain(v) for c, v in zip(spec.by, group)}, "contrast": contrast,
                   "method": METHOD, "n": len(wide), "n_subjects": len(wide), "conf_level": spec.conf_level,
                   "statistic_type": "t", "alternative": spec.alternative, "effect_size_type": spec.effect_size}
            try:
                t = paired_t_test(wide[spec.levels[0]].to_numpy(), wide[spec.levels[1]].to_numpy(),
                                  spec.conf_level, spec.alternative)
            except ValueError as exc:
                where = f" ({cell_text(spec.by, group)})" if group else ""
                issues.append(Issue("test-not-computed", f"{outcome}, {contrast}{where}: {exc}",
                                    Location(path=f"analyses[{spec.id}]"), severity="warning"))
                failures.append((exc, f"{outcome}, {contrast}{where}"))
            else:
                row.update({"estimate": t.estimate, "std_error": t.std_error, "conf_low": t.conf_low,
                            "conf_high": t.conf_high, "statistic": t.statistic, "df": t.df, "p_value": t.p_value,
                            "effect_size": t.effect_size})
            rows.append(row)
    if rows and len(failures) == len(rows):  # no test at all: the analysis failed (R's t.test stops)
        raise kernel_failure(failures[0][0], failures[0][1], spec.id)
    columns = ["outcome", *spec.by, "contrast", "method", "n", "n_subjects", "estimate", "std_error", "conf_low",
               "conf_high", "conf_level", "statistic_type", "statistic", "df", "p_value", "alternative",
               "effect_size", "effect_size_type"]
    notes = [f"paired t test of {contrast} (R t.test(x, y, paired = TRUE), alternative = {spec.alternative}); "
             "Cohen's d_z = mean difference / SD of the differences",
             "available pairs: participants lacking either level are excluded from the comparison (incomplete-pair)",
             "n counts pairs"]
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=columns),
                          exclusions=pd.concat(excluded, ignore_index=True), issues=issues, notes=notes,
                          glance={"n_rows_used": int(sum(2 * row["n"] for row in rows))},
                          extras=PairedExtras(labels={o: ctx.label(o) for o in spec.outcome},
                                              outcomes=list(spec.outcome), by=list(spec.by), pair_by=spec.pair_by,
                                              levels=list(spec.levels)))
