"""Table 1: baseline characteristics by arm and overall.

For each variable, in each arm and over all participants: numeric variables as mean (SD) or
median [IQR] as declared per variable, categorical and boolean variables as counts and
percentages per level, and the number missing on every row. The statistics are R's ``mean``,
``sd`` (n − 1 denominator), ``median`` and ``quantile(type = 7)`` quartiles of the non-missing
values, and ``table()`` counts with percentages of the non-missing values
(``tests/reference/baseline_table/make_reference.R`` writes them with base R).

Plan keys
---------
``table`` is a participant table (one row per participant); ``variables`` the characteristics
in table order; ``by`` the randomized arm (optional: without it only ``Overall``);
``median_iqr`` the numeric variables summarised as median [IQR] (others as mean (SD));
``decimals`` the decimals of the summary text of each numeric variable (default 1).

Tidy columns
------------
outcome (the variable), level (a category level; empty for numeric variables), group (an
arm, then ``Overall``), summary_type (``mean_sd``, ``median_iqr`` or ``count``), summary (the
cell as a paper prints it: ``45.2 (11.3)``, ``12.0 [8.5, 20.1]``, ``12 (40.0 %)``), n
(participants with a value), n_missing, count and percent (category rows: the level's count
and 100 × count / n), mean, sd, median, q1, q3 (numeric rows). The CSV keeps every number; the
report shows them next to the summary.

Rows outside the population / ``where`` or missing ``by`` are excluded once; a missing value
of a variable is listed per variable (``missing-value``) and counted in ``n_missing`` on its rows.
The glance's ``n_rows_used`` counts the values summarised, summed over the variables (so that it
plus the exclusions is the number of rows times the number of variables, as for descriptives).

Example
-------
>>> import pandas as pd
>>> from ketastats.analyses.base import AnalysisInput
>>> frame = pd.DataFrame({"pid": ["a", "b", "c", "d"], "arm": ["k", "k", "e", "e"],
...                       "age": [30.0, 40.0, 50.0, None], "sex": ["f", "m", "f", "f"]}, index=[1, 2, 3, 4])
>>> spec = Spec(id="t1", type="baseline_table", table="p", variables=["age", "sex"], by="arm")
>>> tidy = run(spec, AnalysisInput("t1", "p", frame, "pid", ["pid"])).tidy
>>> tidy[["outcome", "level", "group", "summary"]].fillna("").values.tolist()[:3]   # empty: missing (any pandas)
[['age', '', 'e', '50.0 (—)'], ['age', '', 'k', '35.0 (7.1)'], ['age', '', 'Overall', '40.0 (10.0)']]
>>> tidy[["outcome", "level", "group", "summary"]].values.tolist()[3]
['sex', 'f', 'e', '2 (100.0 %)']
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ketastats.analyses.base import (
    AnalysisInput,
    AnalysisSpec,
    analysis_error,
    group_levels,
    missing_exclusions,
    plain,
    select_rows,
)
from ketastats.errors import Problem
from ketastats.language.fields import Names, column_field
from ketastats.results import AnalysisResult

OVERALL = "Overall"
"""The ``group`` value of the all-participants column."""

MINUS = "\u2212"
DASH = "\u2014"   # an undefined statistic (SD of one value) in the summary text

COLUMNS = ["outcome", "level", "group", "summary_type", "summary", "n", "n_missing", "count", "percent",
           "mean", "sd", "median", "q1", "q3"]


class Spec(AnalysisSpec):
    """Baseline characteristics (Table 1) by arm and overall: mean (SD) or median [IQR], counts and %, missing."""

    type: Literal["baseline_table"]
    variables: Names = column_field("the characteristics, in table order (numeric, category or boolean columns)")
    by: str | None = column_field("the randomized arm (default: all participants only)", default=None)
    median_iqr: Names = column_field("numeric variables summarised as median [IQR] (others: mean (SD))",
                                     default_factory=list)
    decimals: dict[str, int] = Field(default_factory=dict,
                                     description="decimals of the summary text per numeric variable (default 1)")

    @property
    def outcome(self) -> list[str]:
        """The variables (the name the tidy table and the contract tests use)."""
        return list(self.variables)

    def check_columns(self, columns) -> list[Problem]:
        """median_iqr / decimals name numeric variables of the table; variables have a summarisable type."""
        problems = []
        for i, name in enumerate(self.median_iqr):
            if name not in self.variables:
                problems.append(Problem(f"median_iqr[{i}]", f"'{name}' is not one of the variables"))
            elif name in columns and columns[name].type not in ("integer", "number"):
                problems.append(Problem(f"median_iqr[{i}]", f"column '{name}' is {columns[name].type}; "
                                                            "median [IQR] needs a numeric column"))
        for name in self.decimals:
            if name not in self.variables:
                problems.append(Problem(f"decimals.{name}", f"'{name}' is not one of the variables"))
        for i, name in enumerate(self.variables):
            if name in columns and columns[name].type not in ("integer", "number", "category", "boolean", "string"):
                problems.append(Problem(f"variables[{i}]", f"column '{name}' is {columns[name].type}; a baseline "
                                                           "table summarises numeric, category or boolean columns"))
        return problems


def run(spec: Spec, ctx: AnalysisInput) -> AnalysisResult:
    """Table 1 rows: each variable × (level) × group (arms in level order, then Overall).

    R: ``mean(x, na.rm = TRUE)``, ``sd(x, na.rm = TRUE)``, ``median``, ``quantile(x, c(.25, .75),
    type = 7, na.rm = TRUE)``; ``table(x)`` and ``100 * table(x) / sum(!is.na(x))`` for categories
    (every declared level, also when its count is 0); ``sum(is.na(x))`` missing. Numeric variables
    are those whose values are numbers (not booleans); others are categorical. A group with no
    values has empty statistics; the SD of one value is empty (R gives NA).
    """
    # Population / where / a missing arm exclude a participant from every row (listed once);
    # a missing characteristic only from that characteristic's rows (listed per variable).
    required = [spec.by] if spec.by else []
    base, exclusions = select_rows(ctx, required)
    excluded = [exclusions]
    # The groups: each arm in the dictionary's level order (only arms with participants), then
    # Overall = every analysed participant (the last column of a printed Table 1).
    groups = [(plain(levels[0]), base[(base[spec.by] == levels[0]).fillna(False).astype(bool)])
              for levels in group_levels(base, required)] if spec.by else []
    if any(str(name) == OVERALL for name, _ in groups):
        raise analysis_error("reserved-level", f"'{spec.by}' has a level '{OVERALL}', the name of the "
                                               "all-participants group; rename the level", spec)
    groups.append((OVERALL, base))
    rows: list[dict] = []
    n_used = 0
    # Variables in plan order; within a categorical variable, levels in the dictionary's order
    # and, within a level, the groups — so the CSV reads as the printed table, top to bottom.
    for variable in spec.variables:
        excluded.append(missing_exclusions(ctx, base, variable))
        values = base[variable]
        n_used += int(values.notna().sum())
        if _numeric(values):
            kind = "median_iqr" if variable in spec.median_iqr else "mean_sd"
            decimals = spec.decimals.get(variable, 1)
            for name, group in groups:
                rows.append({"outcome": variable, "level": None, "group": name,
                             **_numeric_row(group[variable], kind, decimals)})
        else:
            levels = _levels(ctx, values, variable)
            for level in levels:
                for name, group in groups:
                    rows.append({"outcome": variable, "level": level, "group": name,
                                 **_count_row(group[variable], level)})
    tidy = pd.DataFrame(rows, columns=COLUMNS)
    # counts stay integers with empty cells where they do not apply (count on numeric rows)
    for column in ("n", "n_missing", "count"):
        tidy[column] = tidy[column].astype("Int64")
    notes = ["mean (SD): SD with the n − 1 denominator; median [IQR]: quartiles by quantile type 7 (R default); "
             "categories: count (% of the participants with a value); n_missing: participants without a value"]
    if ctx.subject in base.columns and base[ctx.subject].duplicated().any():
        notes.append("rows of the table are counted; a baseline table expects one row per participant")
    return AnalysisResult(spec.id, spec.type, tidy=tidy, exclusions=pd.concat(excluded, ignore_index=True),
                          glance={"n_rows_used": n_used}, notes=notes,
                          extras={"labels": {v: ctx.label(v) for v in spec.variables}})


def _numeric(values: pd.Series) -> bool:
    """Whether a column is summarised as a number (not boolean, not categorical).

    An integer-coded characteristic (e.g. number of failed treatments) is numeric and gets mean
    (SD) or median [IQR]; to show it as counts per value, declare it ``type: category``.

    >>> _numeric(pd.Series([1, 2])), _numeric(pd.Series([True, False])), _numeric(pd.Series(["a"]))
    (True, False, False)
    """
    return (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            and not isinstance(values.dtype, pd.CategoricalDtype))


def _levels(ctx: AnalysisInput, values: pd.Series, variable: str) -> list[str]:
    """Category levels in the dictionary's order (booleans: true, false), else in observed order of text."""
    column = ctx.columns.get(variable)
    if pd.api.types.is_bool_dtype(values) or (column is not None and column.type == "boolean"):
        return ["true", "false"]
    if column is not None and column.levels is not None:
        return [str(level) for level in column.levels]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(level) for level in values.cat.categories]
    return sorted({str(v) for v in values.dropna()})


def _text(value: float | None, decimals: int) -> str:
    """A number with ``decimals`` decimals and a true minus sign; a dash when undefined.

    >>> _text(-1.25, 1), _text(None, 1)
    ('−1.2', '—')
    """
    if value is None:
        return DASH
    return f"{value:.{decimals}f}".replace("-", MINUS)


def _numeric_row(values: pd.Series, kind: str, decimals: int) -> dict:
    """n, missing, mean, SD, median, quartiles and the summary text of one group's values.

    Every statistic is kept whichever ``kind`` is printed, so the CSV has both mean (SD) and
    median [IQR]; the summary cell is R's ``sprintf("%.1f (%.1f)", mean, sd)`` or
    ``sprintf("%.1f [%.1f, %.1f]", median, q1, q3)`` (round half to even on the binary value,
    as C's printf). A group without values prints a dash.

    >>> _numeric_row(pd.Series([1.0, 2.0, None]), "mean_sd", 1)["summary"]
    '1.5 (0.7)'
    """
    present = values.dropna().astype(float).to_numpy()
    n = len(present)
    row = {"summary_type": kind, "n": n, "n_missing": int(values.isna().sum()), "count": None, "percent": None,
           "mean": None, "sd": None, "median": None, "q1": None, "q3": None}
    if n:
        q1, median, q3 = np.quantile(present, [0.25, 0.5, 0.75])
        row.update(mean=float(np.mean(present)), sd=float(np.std(present, ddof=1)) if n > 1 else None,
                   median=float(median), q1=float(q1), q3=float(q3))
    value: dict[str, float | None] = {}
    for key in ("mean", "sd", "median", "q1", "q3"):
        cell = row[key]
        value[key] = float(cell) if isinstance(cell, float) else None
    if kind == "mean_sd":
        row["summary"] = f"{_text(value['mean'], decimals)} ({_text(value['sd'], decimals)})" if n else DASH
    else:
        row["summary"] = (f"{_text(value['median'], decimals)} [{_text(value['q1'], decimals)}, "
                          f"{_text(value['q3'], decimals)}]") if n else DASH
    return row


def _count_row(values: pd.Series, level: str) -> dict:
    """Count and percent (of the non-missing values) of one level in one group.

    Values are compared as text (booleans as ``true`` / ``false``), the form the dictionary's
    levels take. The percent's denominator is n, the participants with a value, as CONSORT asks;
    the missing are on the same row in ``n_missing``.

    >>> _count_row(pd.Series(["f", "m", None]), "f")["summary"]
    '1 (50.0 %)'
    """
    present = values.dropna()
    text = present.map(lambda v: str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v))
    n = len(present)
    count = int((text == level).sum())
    percent = 100.0 * count / n if n else None
    summary = f"{count} ({percent:.1f} %)" if n else DASH
    return {"summary_type": "count", "summary": summary, "n": n, "n_missing": int(values.isna().sum()),
            "count": count, "percent": percent, "mean": None, "sd": None, "median": None, "q1": None, "q3": None}
