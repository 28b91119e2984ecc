"""t tests: two groups of one table, two tables (patients vs controls), or paired levels.

R functions matched
-------------------
``t.test(x, y, var.equal = TRUE)`` (``student``), ``t.test(x, y)`` (``welch``) and
``t.test(x, y, paired = TRUE)`` (``paired``), with ``x`` the first sample; Cohen's d / Hedges'
g and their intervals as R's ``effectsize`` package computes them (formulas in
:mod:`ketastats.stats.two_sample`, by hand in base R in the reference script). Checked against
``tests/reference/correlation_ttest_group_proportions_regression/associations.json``.

Designs (exactly one of ``group``, ``versus_table``, ``within``)
---------------------------------------------------------------
* ``group: responder_2wk`` — two levels of a column of ``table`` (``levels: [true, false]`` sets
  the order; default: the two observed levels in dictionary order). Difference = first − second.
* ``versus_table: controls`` — all analysed rows of ``table`` against those of another table
  (``versus_where`` filters it, ``versus_subject`` names its subject column when it is not the
  plan's ``subject``, e.g. ``control_id``). Difference = ``table`` − ``versus_table``. The
  outcome column must exist in both tables. ``population`` applies to ``table`` only.
* ``within: visit`` + ``levels: [week2, baseline]`` + ``method: paired`` — pairs by subject,
  difference = first − second level.

``aggregate: mean`` first averages each subject's analysed rows (per group / level) into one
value — Siegel et al. average a participant's two baseline scans before comparing patients
with controls. Without it each row is one observation (and a subject with two rows at one level
fails a paired test).

Formulas
--------
Student: ``SE = s_p √(1/n₁ + 1/n₂)``, df = n₁ + n₂ − 2; Welch: ``SE = √(s₁²/n₁ + s₂²/n₂)``,
Welch–Satterthwaite df; paired: ``SE = sd(d)/√n``, df = n − 1. ``t = estimate / SE``; the
interval uses the t quantile (one-sided alternatives give an infinite bound, as R). Effect size:
Cohen's d with the pooled SD (``cohen_d``; the same on Student and Welch rows) or ``d_z`` =
mean(d)/sd(d) (``cohen_dz``), noncentral-t interval; Hedges' g = J·d with the exact J.

Missing-data policy
-------------------
Rows outside the population / ``where`` / ``versus_where`` and rows with a missing outcome are
excluded and listed (each table's rows under its own table name); rows at a level not compared
(reason ``other-level``) and, for paired tests, rows of subjects lacking one level
(``incomplete-pair``) are listed too.

Tidy columns
------------
outcome, contrast (``"post - pre"``, ``"imaging - controls"``), method (``student``, ``welch``,
``paired``), n (rows analysed), n1, n2 (values compared per sample after aggregation; pairs for
paired tests), estimate1, estimate2 (sample means), sd1, sd2, estimate (mean difference),
std_error, conf_low, conf_high, conf_level, statistic, statistic_type (``t``), df, p_value,
alternative, effect_size, effect_size_type (``cohen_d`` / ``cohen_dz``), effect_size_conf_low,
effect_size_conf_high, hedges_g, hedges_g_conf_low, hedges_g_conf_high.

Known differences from R
------------------------
None in the numbers. Where R stops (fewer than 2 values, constant data) the analysis fails with
the reason.

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": list("abcdef"), "g": ["a", "a", "a", "b", "b", "b"],
...                       "y": [5.0, 6, 7, 1, 2, 4]}, index=range(1, 7))
>>> spec = Spec(id="t", type="ttest", table="t", outcome="y", group="g", method="student")
>>> run(spec, AnalysisInput("t", "t", frame, "pid", ["pid"])).tidy[["contrast", "estimate", "df"]].values.tolist()
[['a - b', 3.6666666666666665, 4.0]]
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ketastats.analyses._levels import drop_other_levels, level_text, two_levels
from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    exclusion_record,
    kernel_failure,
    missing_exclusions,
    select_rows,
)
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import ConfLevel, Names, Scalar, as_list, column_field
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, Extras

Method = Literal["student", "welch", "paired"]
COLUMNS = ["outcome", "contrast", "method", "n", "n1", "n2", "estimate1", "estimate2", "sd1", "sd2", "estimate",
           "std_error", "conf_low", "conf_high", "conf_level", "statistic", "statistic_type", "df", "p_value",
           "alternative", "effect_size", "effect_size_type", "effect_size_conf_low", "effect_size_conf_high",
           "hedges_g", "hedges_g_conf_low", "hedges_g_conf_high"]


class Spec(AnalysisSpec):
    """Student / Welch two-sample or paired t tests with mean difference, CI and Cohen's d / Hedges' g."""

    type: Literal["ttest"]
    outcome: Names = column_field("numeric outcome column(s)")
    method: Annotated[list[Method], BeforeValidator(as_list)] = Field(
        default_factory=lambda: list[Method](["welch"]), description="student | welch (one or both) or paired")
    group: str | None = column_field("two-sample test within the table: the column defining the two groups",
                                     default=None)
    within: str | None = column_field("paired test: the column whose two levels are paired by subject",
                                      default=None)
    levels: list[Scalar] | None = Field(None, min_length=2, max_length=2,
                                        description="[first, second]: the difference is first − second")
    versus_table: str | None = Field(None, description="two-table test: the table of the second sample")
    versus_where: str | None = Field(None, description="row filter of versus_table (rule grammar)")
    versus_subject: str | None = Field(None, description="subject column of versus_table (default: the plan's)")
    aggregate: Literal["none", "mean"] = Field(
        "none", description="mean: average each subject's rows (per group / level) into one value first")
    conf_level: ConfLevel = 0.95
    alternative: Literal["two.sided", "less", "greater"] = "two.sided"

    @model_validator(mode="after")
    def _one_design(self) -> "Spec":
        """Exactly one design; ``paired`` only with ``within`` (and alone); the versus_* keys only with versus_table."""
        designs = [k for k in ("group", "within", "versus_table") if getattr(self, k) is not None]
        if len(designs) != 1:
            raise ValueError("give exactly one of 'group' (two groups of the table), 'versus_table' (two tables) "
                             "or 'within' (paired levels)")
        paired = "paired" in self.method
        if paired and (len(self.method) > 1 or designs[0] != "within"):
            raise ValueError("method 'paired' goes with 'within' (and no other method)")
        if designs[0] == "within" and not paired:
            raise ValueError("'within' pairs levels by subject: use method: paired")
        if designs[0] == "within" and self.levels is None:
            raise ValueError("a paired test needs 'levels: [first, second]'")
        if designs[0] != "versus_table" and (self.versus_where or self.versus_subject):
            raise ValueError("'versus_where' and 'versus_subject' need 'versus_table'")
        if designs[0] == "versus_table" and self.levels is not None:
            raise ValueError("'levels' is for 'group' or 'within'; the two samples of a two-table test are the tables")
        return self

    def check_columns(self, columns) -> list[Problem]:
        """Numeric outcomes; declared ``levels`` must be levels of the group / within column.

        Boolean columns accept ``true`` / ``false`` (YAML booleans are compared as lower-case text).
        """
        problems = [Problem(f"outcome[{i}]",
                            f"column '{name}' is {columns[name].type}; a t test needs a numeric outcome")
                    for i, name in enumerate(self.outcome)
                    if name in columns and columns[name].type not in ("integer", "number")]
        key = "group" if self.group is not None else "within"
        name = getattr(self, key)
        if name in columns and self.levels is not None:
            spec = columns[name]
            allowed = spec.levels if spec.levels is not None else \
                (["true", "false"] if spec.type == "boolean" else None)
            for i, level in enumerate(self.levels):
                text = str(level).lower() if isinstance(level, bool) else str(level)
                if allowed is not None and text not in allowed:
                    problems.append(Problem(f"levels[{i}]", f"'{level}' is not a level of '{name}'"))
        return problems

    def resolve_names(self, resolver, path) -> None:
        """Check the second table's names (called by plan.resolve before anything runs)."""
        if self.versus_table is None or not resolver.table(self.versus_table, path + ("versus_table",)):
            return
        for i, name in enumerate(self.outcome):
            resolver.column(self.versus_table, name, path + ("outcome", i))
        subject = self.versus_subject or resolver.subject
        key = "versus_subject" if self.versus_subject else "versus_table"
        resolver.column(self.versus_table, subject, path + (key,))
        if self.versus_where is not None:
            resolver.expression(self.versus_where, self.versus_table, path + ("versus_where",))

    def planned_rows(self, columns) -> list[dict[str, Any]]:
        """The identifying cells of every tidy row: one per outcome and method, in run order."""
        return [{"outcome": o, "method": m} for o in self.outcome for m in self.method]


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Mean difference, t test and Cohen's d / Hedges' g of each outcome, for the spec's design.

    R: ``t.test(x, y, var.equal = TRUE)`` (student), ``t.test(x, y)`` (welch) or ``t.test(x, y,
    paired = TRUE)`` (paired), ``x`` the first sample (first level, or ``table``), with
    ``alternative`` and ``conf.level``; effect sizes as ``effectsize::cohens_d`` /
    ``hedges_g`` (pooled SD; ``paired = TRUE`` gives d_z). The samples are built once per
    outcome and shared by the methods, so Student and Welch rows use the same values.

    Exclusions: population / ``where`` (and ``versus_where`` on the second table), a missing
    group / within value, ``other-level``, a missing outcome (per outcome) and, paired,
    ``incomplete-pair``. Tidy columns: see the module docstring; ``n`` counts the table rows
    used, ``n1`` / ``n2`` the values compared (after ``aggregate: mean``; pairs when paired).
    Raises an :class:`AnalysisError` (``not-two-levels``, ``level-absent``, ``duplicate-cell``,
    ``no-versus-table``) or a :func:`kernel_failure` (fewer than 2 values, constant data).
    """
    from ketastats.stats.two_sample import t_test

    rows, excluded = [], []
    if spec.versus_table is not None:
        if ctx.versus is None:
            raise AnalysisError(Issue("no-versus-table", "the second table was not provided",
                                      Location(path=f"analyses[{spec.id}]")))
        first, ex1 = select_rows(ctx, [])
        second, ex2 = select_rows(ctx.versus, [])
        excluded += [ex1, ex2]
        label = f"{ctx.table_name} - {spec.versus_table}"
        # each table's exclusions are recorded under its own table name (ctx vs ctx.versus)
        samples = lambda outcome: (_values(ctx, first, outcome, spec, excluded),  # noqa: E731
                                   _values(ctx.versus, second, outcome, spec, excluded))
    else:
        column = spec.group if spec.group is not None else spec.within
        assert column is not None   # exactly one of group, versus_table, within (Spec._check)
        base, ex = select_rows(ctx, [column])
        excluded.append(ex)
        levels = two_levels(base, column, spec.levels, ctx)
        # rows at a third level (e.g. a second active arm) are listed, not silently dropped
        base, other_levels = drop_other_levels(base, column, levels, ctx)
        excluded.append(other_levels)
        label = f"{level_text(levels[0])} - {level_text(levels[1])}"
        parts = [base[base[column] == level] for level in levels]   # first, second sample (rows)
        if spec.within is not None:
            samples = lambda outcome: _pairs(ctx, parts, outcome, spec, levels, excluded)  # noqa: E731
        else:
            samples = lambda outcome: (_values(ctx, parts[0], outcome, spec, excluded),  # noqa: E731
                                       _values(ctx, parts[1], outcome, spec, excluded))
    for outcome in spec.outcome:
        # x, y: the values compared (means per subject with aggregate: mean); used_*: table rows behind them
        (x, used_x), (y, used_y) = samples(outcome)
        for method in spec.method:
            try:
                res = t_test(x, y, method, spec.conf_level, spec.alternative)
            except (ValueError, ZeroDivisionError) as exc:   # where R's t.test stops: the analysis fails
                raise kernel_failure(exc, f"{outcome}, {label} ({method})", spec.id) from None
            rows.append({"outcome": outcome, "contrast": label, "method": method, "n": used_x + used_y,
                         "n1": res.n1, "n2": res.n2, "estimate1": res.estimate1, "estimate2": res.estimate2,
                         "sd1": res.sd1, "sd2": res.sd2, "estimate": res.estimate, "std_error": res.std_error,
                         "conf_low": res.conf_low, "conf_high": res.conf_high, "conf_level": spec.conf_level,
                         "statistic": res.statistic, "statistic_type": "t", "df": res.df, "p_value": res.p_value,
                         "alternative": spec.alternative, "effect_size": res.cohens_d,
                         "effect_size_type": "cohen_dz" if method == "paired" else "cohen_d",
                         "effect_size_conf_low": res.cohens_d_conf_low, "effect_size_conf_high": res.cohens_d_conf_high,
                         "hedges_g": res.hedges_g, "hedges_g_conf_low": res.hedges_g_conf_low,
                         "hedges_g_conf_high": res.hedges_g_conf_high})
    notes = [{"student": "student: two-sample t test with pooled variance, as R t.test(var.equal = TRUE)",
              "welch": "welch: Welch two-sample t test, as R t.test()",
              "paired": "paired: as R t.test(paired = TRUE); effect size d_z = mean / SD of the differences"}[m]
             for m in spec.method]
    if spec.method != ["paired"]:
        notes.append("effect size: Cohen's d with the pooled SD (same on Student and Welch rows)")
    notes.append("effect-size intervals: noncentral t inversion; Hedges' g = J·d with the exact gamma-function J "
                 "(R effectsize conventions)")
    if spec.aggregate == "mean":
        notes.append("each subject's analysed rows were averaged into one value per sample first")
    return AnalysisResult(spec.id, spec.type, tidy=pd.DataFrame(rows, columns=COLUMNS),
                          exclusions=pd.concat(excluded, ignore_index=True), notes=notes,
                          extras=Extras(labels={o: ctx.label(o) for o in spec.outcome}, outcomes=list(spec.outcome),
                                        by=[c for c in (spec.group, spec.within) if c is not None]))


def _values(ctx: AnalysisInput, frame: pd.DataFrame, outcome: str, spec: Spec, excluded: list
            ) -> tuple[np.ndarray, int]:
    """One sample's values (per-subject means when aggregating) and the number of rows used.

    Rows missing the outcome are appended to ``excluded``. With ``aggregate: mean`` each
    subject contributes one value, the mean of its non-missing rows (subjects in text order).
    """
    excluded.append(missing_exclusions(ctx, frame, outcome))
    present = frame[frame[outcome].notna()]
    if spec.aggregate == "mean":
        values = present[outcome].astype(float).groupby(present[ctx.subject].astype(str), sort=True).mean()
        return values.to_numpy(), len(present)
    return present[outcome].astype(float).to_numpy(), len(present)


def _pairs(ctx: AnalysisInput, parts: list[pd.DataFrame], outcome: str, spec: Spec, levels: list, excluded: list):
    """Aligned (first, second) values of subjects with both levels; others listed as incomplete pairs.

    Subjects are matched by their text, in text order. A subject with a non-missing outcome at
    one level only is excluded from the pair (``incomplete-pair``, every such row listed). Two
    rows of one subject at one level fail (``duplicate-cell``) unless ``aggregate: mean``. The
    row count used is returned with the first sample (the second gets 0), so ``n`` = rows used.
    """
    series = []
    for part, level in zip(parts, levels):
        excluded.append(missing_exclusions(ctx, part, outcome))
        present = part[part[outcome].notna()]
        keys = present[ctx.subject].astype(str)
        if spec.aggregate == "mean":
            series.append((present, present[outcome].astype(float).groupby(keys, sort=True).mean()))
        else:
            duplicated = keys[keys.duplicated()]
            if len(duplicated):
                raise AnalysisError(Issue("duplicate-cell", f"subject '{duplicated.iloc[0]}' has more than one row at "
                                          f"{spec.within} = {level_text(level)}; "
                                          "add aggregate: mean or a where: filter",
                                          Location(path=f"analyses[{ctx.analysis_id}]", column=spec.within)))
            series.append((present, pd.Series(present[outcome].astype(float).to_numpy(), index=keys.to_numpy())))
    common = sorted(set(series[0][1].index) & set(series[1][1].index))
    used = 0
    for (present, values), level, other in zip(series, levels, reversed(levels)):
        lacking = ~present[ctx.subject].astype(str).isin(common)
        excluded.append(pd.DataFrame([exclusion_record(ctx, row, "incomplete-pair", f"no {outcome} at {spec.within} = "
                                              f"{level_text(other)}") for row in present.index[lacking]],
                                     columns=EXCLUSION_COLUMNS))
        used += int((~lacking).sum())
    x = series[0][1].reindex(common).to_numpy()
    y = series[1][1].reindex(common).to_numpy()
    return (x, used), (y, 0)

