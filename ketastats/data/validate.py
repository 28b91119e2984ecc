"""Validation of a table against its data dictionary: every problem, at once, with its cell.

Two steps. (1) Typing: each cell is converted to the dictionary's type; a cell that cannot be
(``"n/a"`` in an integer column, ``"1,5"`` with a decimal comma, ``"maybe"`` in a boolean
column, an unknown category level, ``inf``) is reported and set missing. Typing is done here
rather than by pandera's ``coerce=True`` because one uncoercible cell makes pandera skip the
range check of the whole column (see docs/library_notes.md); after this step the column is
clean, so (2) pandera checks every remaining rule (ranges, allowed levels, required values,
unique key) and reports all failures lazily. Failures are mapped to :class:`Issue` objects
naming the file, the 1-based data row, the column, the value and the rule.

Example
-------
>>> import pandas as pd
>>> from ketastats.data.dictionary import Dictionary
>>> d = Dictionary.model_validate({"table": "t", "key": ["id"], "columns": {
...     "id": {"type": "string"}, "score": {"type": "integer", "min": 0, "max": 60}}})
>>> frame = pd.DataFrame({"id": ["a", "b"], "score": ["12", "75"]}, index=[1, 2])
>>> typed, issues = validate_table(frame, d, "t.csv")
>>> [(i.code, i.location.row) for i in issues]
[('out-of-range', 2)]
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pandas as pd

from ketastats.data.dictionary import Column, Dictionary
from ketastats.errors import Issue, Location, did_you_mean

TRUE_TEXT = {"true", "t", "yes", "y", "1"}
FALSE_TEXT = {"false", "f", "no", "n", "0"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ISSUES_PER_RULE = 50
MAX_ISSUES_PER_CODE = 200
"""Issues listed per code and table (then one issue says how many more): see :func:`cap_issues`."""
LARGE_TABLE_ROWS = 100_000
"""Tables at least this long report progress while they are validated (see ``validate_table``)."""


def validate_table(frame: pd.DataFrame, dictionary: Dictionary, file: str,
                   progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, list[Issue]]:
    """Type ``frame`` by ``dictionary`` and check it; returns the typed frame and all issues.

    For a table of :data:`LARGE_TABLE_ROWS` rows or more, ``progress`` (if given) receives a
    line per step, each starting ``validating <table>: <n> rows`` (the CLI prints these on stderr).
    """
    issues: list[Issue] = []
    large = progress is not None and len(frame) >= LARGE_TABLE_ROWS
    report = progress if large else None

    def say(step: str) -> None:
        if report is not None:
            report(f"validating {dictionary.table}: {len(frame):,} rows — {step}")
    if len(frame) == 0:
        issues.append(Issue("empty-table", f"table '{dictionary.table}' has no data rows",
                            Location(file=file), hint="The file holds only a header"))
    present = list(frame.columns)
    unknown = [c for c in present if c not in dictionary.columns] if dictionary.extra_columns == "forbid" else []
    for column in unknown[:MAX_ISSUES_PER_RULE]:   # a hint costs a fuzzy match: not for a million columns
        issues.append(Issue("unknown-column", f"column '{column}' is not in the data dictionary",
                            Location(file=file, column=str(column)),
                            hint=did_you_mean(column, dictionary.columns) or
                            "Add it to the dictionary or set extra_columns: allow"))
    if len(unknown) > MAX_ISSUES_PER_RULE:
        issues.append(Issue("unknown-column", f"{len(unknown) - MAX_ISSUES_PER_RULE:,} more columns are not in the "
                            "data dictionary", Location(file=file),
                            hint="Add them to the dictionary or set extra_columns: allow"))
    # built whole, then one frame (inserting 77,421 columns one by one is quadratic)
    columns: dict[str, pd.Series] = {}
    present_set = set(present)
    clean = _clean_numeric_columns(frame, [n for n, spec in dictionary.columns.items()
                                           if spec.type in ("integer", "number") and n in present_set], dictionary)
    clean_names = set(clean.columns)
    for position, (name, spec) in enumerate(dictionary.columns.items(), start=1):
        say(f"typing column {name} ({position}/{len(dictionary.columns)})")
        if name in clean_names:
            continue
        if name not in present_set:
            if spec.required:
                issues.append(Issue("missing-column", f"required column '{name}' is missing",
                                    Location(file=file, column=name),
                                    hint=did_you_mean(name, present, list_choices=False)
                                    or "Add the column to the file"))
            columns[name] = _typed_empty(spec, len(frame), frame.index)
            continue
        columns[name], cell_issues = _coerce(frame[name], name, spec, file)
        issues += cell_issues
    extras = [c for c in present if c not in dictionary.columns] if dictionary.extra_columns == "allow" else []
    parts = [pd.DataFrame(columns, index=frame.index)] if columns else []
    parts += [part for part in (clean, frame[extras]) if part.shape[1]]
    typed = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    if len(parts) > 1:
        typed = typed[[*dictionary.columns, *extras]]
    reported = {(i.location.row, i.location.column) for i in issues}
    say("checking ranges, levels, required values and the key")
    issues += [i for i in _pandera_checks(typed, dictionary, file, [i for i in issues if i.code == "missing-column"],
                                          checked=clean_names)
               if (i.location.row, i.location.column) not in reported]
    order = {name: index for index, name in enumerate([*dictionary.columns, *present])}
    issues.sort(key=lambda i: (i.location.row or 0, order.get(i.location.column or "", -1)))
    return typed, cap_issues(issues, file)


def cap_issues(issues: list[Issue], file: str, limit: int | None = None) -> list[Issue]:
    """At most ``limit`` (:data:`MAX_ISSUES_PER_CODE`) issues of each code, then one saying how many more.

    A table with a million bad columns (or 77,421 columns each out of range) would otherwise print
    millions of lines (issue 12: 10^6 issues, 2.8 GB); the first ones locate the problem.
    """
    limit = MAX_ISSUES_PER_CODE if limit is None else limit
    counts: dict[str, int] = {}
    kept = []
    for issue in issues:
        if issue.location.row is None and issue.location.column is None:
            kept.append(issue)   # already a summary ("N more values ...") or about the whole table
            continue
        counts[issue.code] = counts.get(issue.code, 0) + 1
        if counts[issue.code] <= limit:
            kept.append(issue)
    for code, count in counts.items():
        if count > limit:
            kept.append(Issue(code, f"{count - limit:,} more problems of this kind ({code}) are not listed",
                              Location(file=file), hint=f"The first {limit} are listed; fix those and validate again"))
    return kept


# --- typing -----------------------------------------------------------------------------------

BLOCK_MIN_COLUMNS = 20
"""Tables with at least this many numeric columns type them as one block first (see below)."""


def _clean_numeric_columns(frame: pd.DataFrame, names: list[str], dictionary: Dictionary) -> pd.DataFrame:
    """The numeric columns that are entirely clean, typed at once: one float frame (a single block).

    A wide table (a connectome export: 77,421 edge columns × 40 rows) is typed as one 2-D block:
    one ``pandas.to_numeric`` over every cell, then numpy masks for the rules (a number, finite, a
    whole number for integers, within [min, max], present when required). A column with any
    problem is left out and goes through the per-column path (:func:`_coerce` and pandera), which
    names every bad cell exactly as for a narrow table; a clean column needs no further check.
    Per-column pandas work costs milliseconds a column, which is minutes for 77,421 columns.
    """
    dtypes = frame.dtypes   # one Series (frame[name] for 77,421 names costs seconds)
    if not frame.columns.is_unique:
        return pd.DataFrame(index=frame.index)
    names = [n for n in names if dtypes[n] == object or  # noqa: E721 (a numpy dtype compared with object dtype)
             (pd.api.types.is_numeric_dtype(dtypes[n]) and not pd.api.types.is_bool_dtype(dtypes[n])
              and not isinstance(dtypes[n], pd.api.extensions.ExtensionDtype))]
    if len(names) < BLOCK_MIN_COLUMNS or len(frame) == 0:
        return pd.DataFrame(index=frame.index)
    cells = frame[names].to_numpy(dtype=object).T          # one row per column
    missing = pd.isna(cells)
    numeric = pd.to_numeric(pd.Series(cells.ravel()), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    numeric = numeric.reshape(cells.shape)
    specs = [dictionary.columns[n] for n in names]
    low = np.array([-np.inf if c.min is None else float(c.min) for c in specs])[:, None]
    high = np.array([np.inf if c.max is None else float(c.max) for c in specs])[:, None]
    required = np.array([c.required for c in specs])[:, None]
    integer = np.array([c.type == "integer" for c in specs])[:, None]
    with np.errstate(invalid="ignore"):
        bad = (np.isnan(numeric) & ~missing) | np.isinf(numeric) | (numeric < low) | (numeric > high) \
            | (missing & required) | (integer & ~np.isnan(numeric) & (numeric != np.round(numeric))) \
            | (integer & (np.abs(numeric) >= MAX_EXACT_INTEGER))
    good = ~bad.any(axis=1)
    return pd.DataFrame(numeric[good].T, index=frame.index, columns=[n for n, ok in zip(names, good) if ok])


def _typed_empty(spec: Column, n: int, index: pd.Index) -> pd.Series:
    if spec.type == "category":
        return pd.Series(pd.Categorical([None] * n, categories=spec.levels, ordered=spec.ordered), index=index)
    if spec.type == "boolean":
        return pd.Series(pd.array([None] * n, dtype="boolean"), index=index)
    return pd.Series([np.nan] * n, index=index, dtype=float if spec.type in ("integer", "number") else object)


def _coerce(values: pd.Series, name: str, spec: Column, file: str) -> tuple[pd.Series, list[Issue]]:
    issues: list[Issue] = []

    def bad(mask: pd.Series, code: str, rule: str, hint: str | None = None) -> None:
        for row, value in values[mask].head(MAX_ISSUES_PER_RULE).items():
            issues.append(Issue(code, f"value {value!r} {rule}", Location(file=file, row=int(row), column=name),
                                hint=hint))
        extra = int(mask.sum()) - MAX_ISSUES_PER_RULE
        if extra > 0:
            issues.append(Issue(code, f"{extra} more values {rule}", Location(file=file, column=name)))

    missing = values.isna()
    if spec.type in ("integer", "number"):
        numeric_dtype = pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
        # cells of other types (text, dates in a Parquet file) are judged by their text
        as_text = values if numeric_dtype or values.dtype == object else values.astype(str)
        text = as_text.astype(object).where(~missing)
        numeric = pd.to_numeric(values if numeric_dtype else text, errors="coerce")
        if isinstance(numeric.dtype, pd.api.extensions.ExtensionDtype):
            numeric = numeric.astype("Float64")
        numeric = numeric.astype(float)
        not_number = numeric.isna() & ~missing
        comma = pd.Series(False, index=values.index, dtype=bool)
        if not_number.any():  # only the cells that failed (a regex over every cell of a large table is slow)
            matched = text[not_number].astype(str).str.fullmatch(r"-?\d+,\d+")
            comma = comma | matched.reindex(values.index).eq(True)
        bad(comma, "decimal-comma", f"in column '{name}' uses a decimal comma", "Write decimals with a point: 1.5")
        bad(not_number & ~comma, "not-a-number", f"in column '{name}' is not a number",
            "Leave the cell empty (or NA) if the value is missing")
        infinite = np.isinf(numeric)
        bad(infinite, "not-finite", f"in column '{name}' is infinite")
        numeric = numeric.where(~infinite)
        if spec.type == "integer":
            fractional = numeric.notna() & (numeric != np.round(numeric))
            bad(fractional, "not-an-integer", f"in column '{name}' is not a whole number")
            numeric = numeric.where(~fractional)
            huge = numeric.abs() >= MAX_EXACT_INTEGER   # 2**53 + 1 is read as 2**53: judge those by their text
            if huge.any():
                huge[huge] = [_beyond_exact(value, number) for value, number in zip(values[huge], numeric[huge])]
                bad(huge, "integer-too-large", f"in column '{name}' is beyond 2^53 = 9,007,199,254,740,992 and "
                    "cannot be held exactly (it would silently lose its last digits)",
                    "An identifier (a record number, a barcode) is text: declare the column as string")
                numeric = numeric.where(~huge)
        return numeric, issues
    if spec.type == "boolean":
        if pd.api.types.is_bool_dtype(values.dtype) or str(values.dtype) == "boolean":
            return values.astype("boolean"), issues
        lowered = values.astype(object).where(~missing).map(
            lambda v: str(v).strip().lower() if v is not None and not (isinstance(v, float) and np.isnan(v)) else v)
        lowered = lowered.map(lambda v: v[:-2] if isinstance(v, str) and v.endswith(".0") else v)
        truth = lowered.isin(TRUE_TEXT)
        falsity = lowered.isin(FALSE_TEXT)
        invalid = ~missing & ~truth & ~falsity
        bad(invalid, "not-a-boolean", f"in column '{name}' is not true/false", "Use true or false (or 1 / 0)")
        result = pd.Series(pd.array([None] * len(values), dtype="boolean"), index=values.index)
        result[truth] = True
        result[falsity] = False
        return result, issues
    if spec.type == "date":
        if pd.api.types.is_datetime64_any_dtype(values.dtype):   # a typed source (Parquet datetime64): kept
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_localize(None)
            timed = values.notna() & (values != values.dt.normalize())
            bad(timed, "not-a-date", f"in column '{name}' has a time of day, not only a date",
                "Store dates without a time (or declare the column as text)")
            return values.where(~timed), issues
        text = values.astype(object).where(~missing).map(_date_text)   # XPT DATE9. gives datetime.date
        is_iso = text.map(lambda v: isinstance(v, str) and bool(ISO_DATE.match(v.strip())))
        parsed = pd.to_datetime(text.where(is_iso), format="%Y-%m-%d", errors="coerce")
        beyond = is_iso & parsed.isna()
        if beyond.any():  # valid ISO dates outside pandas' nanosecond range (before 1677-09-22, after 2262-04-11)
            seconds = np.array([_numpy_date(v) if ok else np.datetime64("NaT", "s") for v, ok in zip(text, is_iso)],
                               dtype="datetime64[s]")
            parsed = pd.Series(seconds, index=values.index)
        invalid = ~missing & (~is_iso | parsed.isna())
        bad(invalid, "not-a-date", f"in column '{name}' is not a date in the form YYYY-MM-DD",
            "Write dates as ISO 8601 (2021-03-31); mixed formats are ambiguous")
        return parsed.where(~invalid), issues
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # already text (CSV): no per-cell work
        text = values.astype(object).where(~missing, None)
    else:
        text = values.astype(object).where(~missing).map(
            lambda v: v if v is None or isinstance(v, str) else
            (str(v) if not (isinstance(v, float) and np.isnan(v)) else None))
    if spec.type == "category":
        return text, issues  # levels are checked by pandera, then made categorical in finalize_types
    return text, issues


MAX_EXACT_INTEGER = 2 ** 53
"""Integers up to 2^53 are exact as floating-point numbers; integer columns beyond it are refused."""


def _beyond_exact(value, number: float) -> bool:
    """Whether an integer cell is beyond 2^53 (judged on its text where it has one: float() rounds it)."""
    if isinstance(value, str):
        try:
            return abs(int(value.strip())) > MAX_EXACT_INTEGER
        except ValueError:
            pass
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return abs(int(value)) > MAX_EXACT_INTEGER
    return abs(number) > MAX_EXACT_INTEGER


def _date_text(value):
    """A date object (SAS transport DATE9., Parquet date32 read as objects) as ISO text; other values as they are."""
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0) and value.tzinfo is None else value
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _numpy_date(text: str):
    """``text`` (YYYY-MM-DD) as numpy datetime64[s] (any year 0001-9999), NaT if it is not a calendar date."""
    try:
        return np.datetime64(text.strip(), "D").astype("datetime64[s]")
    except ValueError:
        return np.datetime64("NaT", "s")


def finalize_types(frame: pd.DataFrame, dictionary: Dictionary) -> pd.DataFrame:
    """Turn category columns into ordered pandas Categoricals (after validation passed)."""
    out = frame.copy()
    for name, spec in dictionary.columns.items():
        if spec.type == "category":
            out[name] = pd.Categorical(out[name], categories=spec.levels, ordered=spec.ordered)
    return out


# --- rule checks with pandera ------------------------------------------------------------------

_RULE_CODES = {"in_range": "out-of-range", "greater_than_or_equal_to": "out-of-range",
               "less_than_or_equal_to": "out-of-range", "isin": "level-not-in-dictionary",
               "not_nullable": "missing-value"}


def _schema(dictionary: Dictionary, skip: set[str]):
    import pandera.pandas as pa

    columns = {}
    for name, spec in dictionary.columns.items():
        if name in skip:
            continue
        if spec.min is None and spec.max is None and spec.levels is None and not spec.required:
            continue   # nothing to check (a column per check is costly on a wide table)
        checks = []
        if spec.min is not None and spec.max is not None:
            checks.append(pa.Check.in_range(spec.min, spec.max))
        elif spec.min is not None:
            checks.append(pa.Check.ge(spec.min))
        elif spec.max is not None:
            checks.append(pa.Check.le(spec.max))
        if spec.levels is not None:
            checks.append(pa.Check.isin(spec.levels))
        columns[name] = pa.Column(checks=checks, nullable=not spec.required, required=True)
    return pa.DataFrameSchema(columns)


def _pandera_checks(typed: pd.DataFrame, dictionary: Dictionary, file: str,
                    missing_columns: list[Issue], checked: frozenset[str] | set[str] = frozenset()) -> list[Issue]:
    """Rule checks by pandera for every column except missing ones and those already ``checked`` clean."""
    import pandera.errors as pe

    skip = {i.location.column for i in missing_columns if i.location.column}
    schema = _schema(dictionary, skip | set(checked))
    duplicates = _duplicate_key_issues(typed, dictionary, file, skip)
    try:
        schema.validate(typed, lazy=True)
        return duplicates
    except (pe.SchemaErrors, pe.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        if cases is None:
            return [Issue("invalid-table", str(exc).splitlines()[0], Location(file=file))] + duplicates
    return _issues_from_failure_cases(cases, dictionary, typed, file) + duplicates


def _duplicate_key_issues(typed: pd.DataFrame, dictionary: Dictionary, file: str, skip: set[str]) -> list[Issue]:
    """``duplicate-key`` for every row whose key (e.g. participant × visit) appears more than once.

    Done with pandas rather than pandera's ``unique=``: pandera reshapes its failure cases row by
    row, which takes minutes when a large table repeats its key (quadratic in the duplicates).
    A key column that is missing from the file is reported on its own; the key is then not checked
    (checking a part of it would report false duplicates).
    """
    key = list(dictionary.key)
    if not key or any(k in skip or k not in typed.columns for k in key):
        return []
    repeated = typed[key].duplicated(keep=False)   # typed.duplicated(subset=) walks every column of a wide table
    rows = typed.index[repeated]
    issues = []
    hint = f"Each combination of {', '.join(key)} must be unique"
    for row in rows[:MAX_ISSUES_PER_RULE]:
        values = ", ".join(f"{k}={_show(typed.at[row, k])}" for k in key)
        issues.append(Issue("duplicate-key", f"key ({values}) appears more than once",
                            Location(file=file, row=int(row)), hint=hint))
    if len(rows) > MAX_ISSUES_PER_RULE:
        issues.append(Issue("duplicate-key", f"{len(rows) - MAX_ISSUES_PER_RULE} more rows repeat a key",
                            Location(file=file), hint=hint))
    return issues


def _issues_from_failure_cases(cases: pd.DataFrame, dictionary: Dictionary, typed: pd.DataFrame,
                               file: str) -> list[Issue]:
    issues: list[Issue] = []
    counts: dict[tuple[str, str], int] = {}
    for case in cases.itertuples(index=False):
        check = str(case.check)
        rule = check.split("(")[0]
        code = _RULE_CODES.get(rule, "invalid-value")
        row = None if pd.isna(case.index) else int(case.index)
        column = None if pd.isna(case.column) else str(case.column)
        counts[(code, column or "")] = counts.get((code, column or ""), 0) + 1
        if counts[(code, column or "")] > MAX_ISSUES_PER_RULE:
            continue
        spec = dictionary.columns.get(column or "")
        value = case.failure_case
        if code == "out-of-range" and spec is not None:
            message = f"value {_show(value)} is outside the allowed range {_range_text(spec)}"
            hint = None
        elif code == "level-not-in-dictionary" and spec is not None:
            message = f"value {_show(value)} is not a level of '{column}'"
            hint = did_you_mean(str(value), spec.levels or [])
        elif code == "missing-value":
            message = f"a value is required in column '{column}' but the cell is empty"
            hint = "Mark the column required: false in the dictionary if values may be missing"
        else:
            message = f"value {_show(value)} fails the rule {check}"
            hint = None
        issues.append(Issue(code, message, Location(file=file, row=row, column=column), hint=hint))
    for (code, column), count in counts.items():
        if count > MAX_ISSUES_PER_RULE:
            issues.append(Issue(code, f"{count - MAX_ISSUES_PER_RULE} more values fail this rule",
                                Location(file=file, column=column or None)))
    return issues


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _range_text(spec: Column) -> str:
    low = "-inf" if spec.min is None else _show(float(spec.min))
    high = "inf" if spec.max is None else _show(float(spec.max))
    return f"[{low}, {high}]"
