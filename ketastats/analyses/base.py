"""What every analysis shares: its input bundle and the accounted-for selection of rows.

``select_rows`` applies, in this order, the population, the analysis's ``where`` filter and
the requirement that the analysed columns are present, and records every row it leaves out
(with its source row number, subject, key and reason) so that each input row is either
analysed or listed in ``exclusions.csv``. Rows the analysis's own selection leaves out (its
``where``: reason ``not-selected``; levels it does not compare: ``other-level``) are listed too
but are *not selected* rather than excluded: :data:`NOT_SELECTED_REASONS`, counted apart by
:func:`exclusion_counts`.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"pid": ["a", "b"], "madrs": [20.0, None]}, index=[1, 2])
>>> ctx = AnalysisInput("x", "clinical", frame, subject="pid", key=["pid"])
>>> kept, excluded = select_rows(ctx, ["madrs"])
>>> list(kept.index), excluded["reason"].tolist()
([1], ['missing-value'])
>>> exclusion_counts(excluded)
(1, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from pydantic import Field

from ketastats.data.dictionary import Column
from ketastats.errors import AnalysisError, Issue, Location, Problem
from ketastats.language.fields import Identifier, Strict, declared_column_references
from ketastats.language.names import NameResolver, PathKey
from ketastats.results import EXCLUSION_COLUMNS

NOT_SELECTED_REASONS = ("not-selected", "other-level")
"""Reasons of rows an analysis's own selection leaves out: its ``where`` filter is false or missing
(``not-selected``), or the row is at a level the comparison does not use (``other-level``). They
are listed in ``exclusions.csv`` (every input row is analysed or listed) but are not exclusions:
the report and ``results.json`` count them apart from the rows excluded for a reason in the data
(outside the population, a missing value, an incomplete pair, ...)."""


def exclusion_counts(exclusions: pd.DataFrame) -> tuple[int, int]:
    """(rows excluded, rows not selected) of an exclusions frame (see :data:`NOT_SELECTED_REASONS`).

    >>> exclusion_counts(pd.DataFrame({"reason": ["not-selected", "missing-value", "other-level"]}))
    (1, 2)
    """
    if not len(exclusions) or "reason" not in exclusions.columns:
        return 0, 0
    not_selected = int(exclusions["reason"].isin(NOT_SELECTED_REASONS).sum())
    return len(exclusions) - not_selected, not_selected


class AnalysisSpec(Strict):
    """Keys every analysis has, and the hooks the plan calls before anything runs.

    A subclass adds ``type: Literal["<type>"]`` and its own keys; it overrides a hook only when
    it needs to (the defaults do nothing):

    - :meth:`column_references` — the (key, column) pairs checked against the table's dictionary;
    - :meth:`check_columns` — :class:`~ketastats.errors.Problem`\\ s with the columns' types/levels;
    - :meth:`resolve_names` — names in other tables (e.g. ttest's ``versus_table``);
    - :meth:`planned_rows` — the identifying cells of the rows ``run`` will produce, so a
      multiplicity family naming a row that will not exist fails before anything runs.
    """

    id: Identifier = Field(description="unique analysis id; also the results table's file name")
    table: str = Field(description="the table analysed")
    population: str | None = Field(None, description="a population declared under populations:")
    where: str | None = Field(None, description="an extra row filter (rule grammar)")
    title: str | None = None
    description: str | None = None

    def column_references(self) -> list[tuple[str, str]]:
        """(key, column) pairs of every key declared with ``column_field`` (checked against the dictionary)."""
        return declared_column_references(self)

    def check_columns(self, columns: dict[str, Column]) -> list[Problem]:
        """Problems with the named columns' types or levels (``columns``: the table's dictionary)."""
        return []

    def resolve_names(self, names: NameResolver, path: PathKey) -> None:
        """Check names outside the analysed table (through ``names``, which records the issues)."""

    def planned_rows(self, columns: dict[str, Column]) -> list[dict[str, Any]] | None:
        """The identifying cells of every row the tidy table will have, or ``None`` if not known before the run."""
        return None


@dataclass
class AnalysisInput:
    """Everything an analysis may read: the table (after derivations), names and the rng.

    ``frame`` is indexed by the source row number of the table, so that an exclusion record can
    name the row a reader finds in the input file; analyses never reset that index before
    :func:`select_rows`. ``subject`` is the participant column (the plan's ``subject``) and
    ``key`` the table's key columns; both only label exclusion records. ``columns`` is the data
    dictionary entry of each column (types, levels, display names). ``population`` and
    ``where`` are masks computed by the plan stage; an analysis applies them through
    :func:`select_rows`, never by hand, so that every left-out row is listed.
    """

    analysis_id: str
    table_name: str
    frame: pd.DataFrame
    subject: str
    key: list[str]
    columns: dict[str, Column] = field(default_factory=dict)
    population: tuple[str, pd.Series] | None = None   # (name, boolean mask over frame.index)
    where: tuple[str, pd.Series] | None = None        # (rule text, boolean mask over frame.index)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    versus: "AnalysisInput | None" = None             # a second table (ttest versus_table), same shape
    progress: Callable[[str], None] | None = None      # progress messages of long analyses (CLI status line)

    def label(self, column: str) -> str:
        """The display name of ``column`` from the data dictionary (the column name when it has none)."""
        spec = self.columns.get(column)
        return spec.display_name(column) if spec is not None else column


def select_rows(ctx: AnalysisInput, required: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows analysed and an exclusions frame (vocabulary :data:`EXCLUSION_COLUMNS`).

    The steps are applied in a fixed order and a row is listed under the *first* reason that
    excludes it only: ``population`` (not in the analysis population), ``not-selected`` (the
    analysis's own ``where`` filter is false *or missing*, as ``dplyr::filter`` drops NA; counted
    apart from exclusions, :data:`NOT_SELECTED_REASONS`), then ``missing-value`` for each column
    of ``required`` in the order given. A missing value in a column that is not required is left
    to the analysis (e.g. per-outcome or per-pair complete cases), which lists it itself.
    """
    frame = ctx.frame
    keep = pd.Series(True, index=frame.index)
    records: list[dict[str, Any]] = []

    def exclude(mask: pd.Series, reason: str, detail: str) -> None:
        # only rows still kept are recorded: a row is listed once, under its first reason
        nonlocal keep
        mask = mask & keep
        for row in frame.index[mask]:
            records.append(exclusion_record(ctx, row, reason, detail))
        keep = keep & ~mask

    if ctx.population is not None:
        name, mask = ctx.population
        exclude(~mask.fillna(False).astype(bool), "population", f"not in population '{name}'")
    if ctx.where is not None:
        text, mask = ctx.where
        exclude(~mask.fillna(False).astype(bool), "not-selected", f"where: {text} is false or missing")
    for column in required:
        exclude(frame[column].isna(), "missing-value", f"{column} is missing")
    exclusions = pd.DataFrame(records, columns=EXCLUSION_COLUMNS)
    return frame[keep], exclusions


def missing_exclusions(ctx: AnalysisInput, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Exclusion records for the rows of ``frame`` where ``column`` is missing.

    Used for per-outcome complete cases: the analysis selects the rows once (:func:`select_rows`
    without the outcome) and then lists, for each outcome, the rows that outcome is missing on,
    with reason ``missing-value``. A row missing two outcomes is therefore listed twice.
    """
    rows = frame.index[frame[column].isna()]
    return pd.DataFrame([exclusion_record(ctx, row, "missing-value", f"{column} is missing") for row in rows],
                        columns=EXCLUSION_COLUMNS)


def exclusion_record(ctx: AnalysisInput, row: int, reason: str, detail: str) -> dict[str, Any]:
    """One exclusion record: analysis, table, source row, subject, key (other than the subject), reason.

    ``key`` joins the key columns other than the subject as ``"visit=week2, hemisphere=L"``;
    ``subject`` is empty when the subject itself is missing.
    """
    frame = ctx.frame
    key = ", ".join(f"{k}={frame.at[row, k]}" for k in ctx.key if k != ctx.subject and k in frame.columns)
    subject = frame.at[row, ctx.subject] if ctx.subject in frame.columns else None
    return {"analysis_id": ctx.analysis_id, "table": ctx.table_name, "row": int(row),
            "subject": None if pd.isna(subject) else str(subject), "key": key, "reason": reason, "detail": detail}


def kernel_failure(exc: Exception, what: str, analysis_id: str):
    """An :class:`AnalysisError` for a numerical kernel's ``ValueError`` (too few values, constant data).

    The code says why: ``zero-variance`` (the data are constant), ``too-few-observations`` (fewer
    values than the test needs) or ``analysis-failed``; the message names the outcome / contrast.
    The code is read from the kernel's message, the wording R's functions use ("data are
    essentially constant", "at least 2 values").

    >>> kernel_failure(ValueError("data are essentially constant"), "madrs", "t1").issues[0].code
    'zero-variance'
    """
    text = str(exc)
    code = "zero-variance" if "constant" in text else "too-few-observations" if "at least" in text else \
        "analysis-failed"
    hint = {"zero-variance": "Check the population and filters: the analysed values do not vary",
            "too-few-observations": "Check the population, filters and missing values of the analysed rows"}.get(code)
    return AnalysisError(Issue(code, f"{what}: {text}", Location(path=f"analyses[{analysis_id}]"), hint=hint))


def group_levels(frame: pd.DataFrame, by: list[str]) -> list[tuple]:
    """The observed combinations of the ``by`` columns, in category-level order (deterministic).

    Categorical columns sort by their category order (the dictionary's ``levels``, e.g. baseline
    before week2), other columns by their text; only combinations present in ``frame`` are
    returned (no empty cells, unlike ``expand.grid``). With no ``by`` there is one group, ``()``.

    >>> frame = pd.DataFrame({"visit": pd.Categorical(["wk2", "base", "wk2"], categories=["base", "wk2"]),
    ...                       "arm": ["k", "s", "s"]})
    >>> group_levels(frame, ["visit", "arm"])
    [('base', 's'), ('wk2', 'k'), ('wk2', 's')]
    >>> group_levels(frame, [])
    [()]
    """
    if not by:
        return [()]
    present = frame[by].drop_duplicates()
    sort_keys = []
    for column in by:
        values = present[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            sort_keys.append(values.cat.codes)
        else:
            sort_keys.append(values.astype(str))
    order = pd.DataFrame({f"k{i}": k for i, k in enumerate(sort_keys)}, index=present.index)
    order = order.sort_values(list(order.columns), kind="mergesort")
    return [tuple(present.loc[i, c] for c in by) for i in order.index]


def group_frame(frame: pd.DataFrame, by: list[str], levels: tuple) -> pd.DataFrame:
    """The rows of ``frame`` whose ``by`` columns equal ``levels`` (one group of :func:`group_levels`).

    A missing value never matches a level, so rows missing a ``by`` value belong to no group
    (analyses exclude them beforehand with ``select_rows(ctx, by)``).

    >>> frame = pd.DataFrame({"arm": ["k", "s", None], "y": [1, 2, 3]})
    >>> group_frame(frame, ["arm"], ("s",))["y"].tolist()
    [2]
    """
    mask = pd.Series(True, index=frame.index)
    for column, level in zip(by, levels):
        mask &= (frame[column] == level).fillna(False).astype(bool)
    return frame[mask]


def plain(value: Any) -> Any:
    """A Python scalar for tables (categories and numpy types become str / int / float / bool).

    Missing values (None, NaN, ``pd.NA``) become None, so that an empty cell is written the same
    way whatever produced it.

    >>> plain(np.float64(1.5)), plain(np.int64(2)), plain(np.bool_(True)), plain(float("nan"))
    (1.5, 2, True, None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value if isinstance(value, (int, float, str)) else str(value)


def reference_level_problems(reference: dict, columns) -> list[Problem]:
    """A :class:`Problem` for each declared reference level that is not a level of its column.

    Checked before anything runs, against the data dictionary; columns without declared levels
    (free text) are checked at run time against the observed values instead.

    >>> reference_level_problems({"arm": "saline"}, {})
    []
    """
    problems = []
    for name, level in reference.items():
        spec = columns.get(name)
        if spec is not None and spec.levels is not None and str(level) not in spec.levels:
            problems.append(Problem(f"reference.{name}", f"'{level}' is not a level of '{name}'"))
    return problems


def model_column_problems(response: str | None, reference: dict, columns) -> list[Problem]:
    """A model's checks before it runs: a numeric outcome (located at ``formula``) and declared reference levels.

    >>> model_column_problems("y", {}, {"y": Column(type="category", levels=["a"])})[0].message
    "the outcome 'y' is category, not numeric"
    """
    problems = []
    if response in columns and columns[response].type not in ("integer", "number"):
        problems.append(Problem("formula", f"the outcome '{response}' is {columns[response].type}, not numeric"))
    return problems + reference_level_problems(reference, columns)


def analysis_error(code: str, message: str, spec) -> AnalysisError:
    """An :class:`AnalysisError` with one issue located at ``analyses[<id>]`` (the analysis fails with it)."""
    return AnalysisError(Issue(code, message, Location(path=f"analyses[{spec.id}]")))
