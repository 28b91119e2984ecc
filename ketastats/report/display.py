"""Results tables as a reader sees them: the one presentation shared by report.html, LaTeX and Word.

The CSV tables (``report.format``) keep every tidy column at 6 significant digits for drift
checks; the *display* table is for people. From a tidy frame it

- drops columns that are empty in every row;
- joins each pair ``X_conf_low`` / ``X_conf_high`` into one "95% CI" column (``low to high``);
- moves columns of kind *setting* that are the same in every row (``conf_level``, ``ci_method``,
  ``alternative``, ``df_method``, ``method``, ...) out of the table into a note under it;
- writes cells of kind *variable* (``outcome`` / ``term``) with the data dictionary's label and unit
  where the analysis recorded one (``AnalysisResult.extras["labels"]``);
- formats numbers by the column's kind: counts as integers; p-values with
  :func:`ketastats.glossary.format_p` (three decimals, or "< 0.001"); percents with one decimal;
  other numbers with one number of decimals per column (per column and ``effect`` in model tables
  that mix kinds of rows), chosen to give the typical value three significant digits (0–4
  decimals); a value that would keep fewer than two significant digits gets three (scientific form
  below 1e-4); a true minus sign (U+2212); missing values as empty cells;
- names columns in words ("Std. error", "p", "n subjects").

Labels, kinds and the display names of settings' values (``chi2`` → ``χ²``) come from the glossary
(``ketastats/vocabulary.yaml`` via :mod:`ketastats.glossary`): a new column declared there is shown
by its kind with no change here.

Everything here is a pure function of the frame, so the three renderings agree cell for cell
and are deterministic.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"term": ["x"], "estimate": [0.1234], "conf_low": [0.01], "conf_high": [0.25],
...                       "conf_level": [0.95], "p_value": [0.00002], "n": [40]})
>>> table = display_table(frame)
>>> table.columns, table.rows
(['Term', 'Estimate', '95% CI', 'p', 'n'], [['x', '0.123', '0.010 to 0.250', '< 0.001', '40']])
>>> table.notes
['Confidence level: 0.95.']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ketastats import glossary
from ketastats.glossary import format_p
from ketastats.language.term_labels import coding_note, infer_references, term_labels

__all__ = ["DisplayTable", "display_table", "analysis_table", "family_table", "shown_rows", "format_p",
           "format_number", "column_decimals", "row_decimals", "MINUS", "MAX_ROWS"]

MINUS = "\u2212"

MAX_ROWS = 60
"""Longer tables (mass analyses) show their MAX_ROWS rows with the smallest p-values (intercepts last);
the CSV has all."""



@dataclass
class DisplayTable:
    """Cells as text (Unicode), column labels, alignment and the notes printed under the table."""

    id: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    align: list[str]                       # "left" or "right", one per column
    notes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)   # the tidy column(s) behind each displayed column

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.columns)


_missing = glossary.missing


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _minus(text: str) -> str:
    return text.replace("-", MINUS) if text.startswith("-") or "e-" in text else text


def column_decimals(values) -> int:
    """Decimals giving the column's median absolute (non-zero) value three significant digits, in 0–4."""
    finite = np.abs(np.asarray([float(v) for v in values if not _missing(v)], dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if not len(finite):
        return 0
    if np.all(finite == np.round(finite)):
        return 0
    magnitude = math.floor(math.log10(float(np.median(finite))))
    return int(min(4, max(0, 2 - magnitude)))


def format_number(value: Any, decimals: int, fixed: bool = False) -> str:
    """``value`` with the column's ``decimals``; a value that would keep fewer than two significant
    digits gets three (plain down to 1e-4, then two in scientific form), unless ``fixed`` (a summary
    table whose columns are read down: every cell keeps the column's decimals).

    >>> format_number(-0.967, 1), format_number(-0.967, 1, fixed=True)
    ('−0.967', '−1.0')
    >>> format_number(0.00004, 1, fixed=True)
    '0.0'
    """
    if _missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    rounded_away = abs(value - round(value, decimals)) > 1e-12 * abs(value)
    if not fixed and value != 0 and abs(value) < 10.0 ** (1 - decimals) and rounded_away:
        if abs(value) < 1e-4:
            mantissa, exponent = f"{value:.1e}".split("e")
            return _minus(mantissa) + " × 10" + _superscript(int(exponent))
        decimals = 2 - math.floor(math.log10(abs(value)))
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return _minus(text)


def _superscript(exponent: int) -> str:
    table = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return str(exponent).translate(table)


def row_decimals(columns: list[pd.Series], groups: pd.Series | None) -> list[int]:
    """Decimals per row: :func:`column_decimals` over ``columns``, within each group of rows (e.g. each
    ``effect`` of a model table, whose medians in days and survival probabilities differ in scale)."""
    n = len(columns[0])
    if groups is None:
        return [column_decimals(pd.concat(columns, ignore_index=True))] * n
    keys = ["" if _missing(g) else str(g) for g in groups]
    cells = [list(zip(keys, column)) for column in columns]   # plain lists: no pandas selection per group
    by_group = {key: column_decimals([v for column in cells for k, v in column if k == key])
                for key in sorted(set(keys))}
    return [by_group[key] for key in keys]


def _format_column(name: str, series: pd.Series, decimals: list[int] | None = None,
                   groups: pd.Series | None = None) -> list[str]:
    if pd.api.types.is_bool_dtype(series) or (series.dtype == object and all(
            isinstance(v, (bool, np.bool_)) for v in series if not _missing(v)) and series.notna().any()):
        return ["" if _missing(v) else ("yes" if v else "no") for v in series]
    if not _numeric(series):
        return ["" if _missing(v) else str(v) for v in series]
    kind = glossary.kind(name)
    if kind == "p_value":
        return [format_p(v) for v in series]
    if kind == "count" or (kind is None and name.startswith("n_")) or pd.api.types.is_integer_dtype(series):
        if all(_missing(v) or float(v) == round(float(v)) for v in series):
            return [format_number(v, 0) for v in series]
    if kind == "percent":
        return [format_number(v, 1) for v in series]
    decimals = row_decimals([series], groups) if decimals is None else decimals
    return [format_number(v, d) for v, d in zip(series, decimals)]


def _setting_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def _labelled(series: pd.Series, labels: dict[str, str]) -> list[str]:
    """Cells naming columns, shown by label; where two names share a label, the name is added."""
    codes = sorted({str(v) for v in series if not _missing(v)})
    shown = {code: labels.get(code, code) for code in codes}
    counts: dict[str, int] = {}
    for text in shown.values():
        counts[text] = counts.get(text, 0) + 1
    shown = {code: (f"{text} [{code}]" if counts[text] > 1 and text != code else text) for code, text in shown.items()}
    return ["" if _missing(v) else shown[str(v)] for v in series]


def _interval(low: str, high: str) -> str:
    if not low and not high:
        return ""
    return f"{low or '—'} to {high or '—'}"


def _confidence_pairs(columns: list[str]) -> list[tuple[str, str, str]]:
    """(prefix, low column, high column) for every ``*conf_low`` with its ``*conf_high``."""
    pairs = []
    for column in columns:
        if column.endswith("conf_low"):
            prefix = column[: -len("conf_low")]
            if prefix + "conf_high" in columns:
                pairs.append((prefix, column, prefix + "conf_high"))
        elif column == "conf_low_adjusted" and "conf_high_adjusted" in columns:   # Tukey / Dunnett
            pairs.append((SIMULTANEOUS, column, "conf_high_adjusted"))
    return pairs


SIMULTANEOUS = "simultaneous"
"""The prefix of the simultaneous interval (``conf_low_adjusted`` / ``conf_high_adjusted``): "Simultaneous 95% CI"."""


def display_table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *, id: str = "table",
                  title: str = "", notes: list[str] | None = None,
                  level_labels: dict[str, dict[str, str]] | None = None,
                  references: dict[str, str] | None = None) -> DisplayTable:
    """The display form of a tidy results table (see the module docstring).

    ``level_labels`` (column → {level code: display name}, from the data dictionary) relabels the
    text cells of that column and of the identity columns (``level``, ``group``, ``contrast``,
    ``visit``, ...): ``ect`` → ``ECT``, ``ketamine - ect`` → ``Ketamine − ECT``, ``visit=tx3`` →
    ``visit=After treatment 3``. The CSV keeps the codes.

    ``term`` cells read as a statistician writes them (:mod:`ketastats.language.term_labels`, with
    ``labels``, ``level_labels`` and the treatment-coding ``references``, column → reference level):
    ``randomized_arm[T.ketamine]:visit[T.tx3]`` → ``Ketamine vs ECT × After treatment 3``. In a
    model table (an ``effect`` column), the rows of LS-means, contrasts and random effects say what
    they are in the term cell (``Ketamine − ECT at End of course``) and the ``level`` /
    ``contrast`` / ``group`` columns are dropped when that leaves them empty; a statistic whose
    type varies reads ``t = 2.08`` / ``F = 6.18`` (no type column); in any table an F test's two df
    read ``5, 242`` (:data:`DF_PAIRS`); counts that are the same in every row (``n_obs``,
    ``n_subjects``) move to a note, and so does a ``term`` or ``contrast`` shared by every row of a
    table without ``effect`` (a two-group comparison).
    """
    labels = labels or {}
    out_notes: list[str] = []
    if "term" in frame.columns and not _numeric(frame["term"]):
        note = coding_note(frame["term"], labels, level_labels, references)
        frame = frame.assign(term=term_labels(frame["term"], labels, level_labels, references))
        if note:
            out_notes.append(note)
    if level_labels:
        frame = _relabel_levels(frame, level_labels)
    frame = frame.reset_index(drop=True)
    if "effect" in frame.columns and "term" in frame.columns:
        frame, constant = _model_rows(frame)
        out_notes.extend(constant)
    else:
        frame, constant = _constant_counts(frame, list(SAMPLE_SIZES))
        out_notes.extend(constant)
    if "outcome" in frame.columns and len(frame) > 1 and frame["outcome"].notna().all() \
            and frame["outcome"].nunique() == 1 and not _numeric(frame["outcome"]):
        # one outcome in every row: said once, under the table, instead of in a wide column
        out_notes.insert(0, f"{glossary.label('outcome')}: {_labelled(frame['outcome'].head(1), labels)[0]}.")
        frame = frame.drop(columns=["outcome"])
    if "effect" not in frame.columns and len(frame) > 1:
        for name in ("term", "contrast"):   # one comparison in every row (two-group tables): said once
            if name in frame.columns and not _numeric(frame[name]) and frame[name].notna().all() \
                    and frame[name].nunique() == 1:
                text = _labelled(frame[name].head(1), labels)[0] if name == "term" else str(frame[name].iloc[0])
                out_notes.insert(0, f"{glossary.label(name)}: {text}.")
                frame = frame.drop(columns=[name])
    if {"p_value", "p_adjusted", "adjust_method"} <= set(frame.columns) and _numeric(frame["p_adjusted"]) \
            and _numeric(frame["p_value"]) and {str(v) for v in frame["adjust_method"].dropna()} <= {"none"}:
        adjusted = frame["p_adjusted"].notna().to_numpy()
        if np.allclose(frame["p_adjusted"].astype(float)[adjusted], frame["p_value"].astype(float)[adjusted],
                       rtol=1e-12, atol=0, equal_nan=True):
            frame = frame.drop(columns=["p_adjusted"])   # not adjusted (adjust: none): the same p twice
    columns = [c for c in frame.columns if frame[c].notna().any() and not (
        frame[c].dtype == object and all(_missing(v) or v == "" for v in frame[c]))]
    statistic_symbol = None
    typed_statistic = False
    if "statistic_type" in columns and "statistic" in columns:
        types = {str(v) for v in frame["statistic_type"] if not _missing(v) and v != ""}
        symbol = glossary.value_label("statistic_type", next(iter(types))) if len(types) == 1 else None
        if symbol:
            statistic_symbol = symbol
            columns.remove("statistic_type")
        elif len(types) > 1:   # a table mixing t, F, χ²: "t = 2.08", "F = 6.18"
            typed_statistic = True
            columns.remove("statistic_type")
    # an F test's two df in one cell, "5, 242" (numerator, denominator), as R prints F(5, 242)
    joined_df = {numerator: denominator for numerator, denominator in DF_PAIRS
                 if numerator in columns and denominator in columns}
    for denominator in joined_df.values():
        columns.remove(denominator)
    effect_name = None
    if "effect_size_type" in columns and "effect_size" in columns:
        kinds = {str(v) for v in frame["effect_size_type"] if not _missing(v) and v != ""}
        if len(kinds) == 1:
            kind = kinds.pop()
            effect_name = glossary.value_label("effect_size_type", kind) or kind.replace("_", " ")
            columns.remove("effect_size_type")
    for name in glossary.settings():
        if name in columns:
            values = [v for v in frame[name] if not _missing(v) and v != ""]
            if len({_setting_text(v) for v in values}) == 1:
                text = _setting_text(values[0])
                out_notes.append(f"{glossary.label(name)}: {glossary.value_label(name, text) or text}.")
                columns.remove(name)
    level = None
    if "conf_level" in frame.columns:
        levels = {float(v) for v in frame["conf_level"] if not _missing(v)}
        if len(levels) == 1:
            level = levels.pop()
    ci_label = f"{100 * level:g}% CI" if level is not None else "CI"
    pairs = _confidence_pairs(columns)
    merged: dict[str, tuple[str, str, str]] = {low: (prefix, low, high) for prefix, low, high in pairs}
    highs = {high for _, _, high in pairs}

    groups = frame["effect"] if "effect" in frame.columns and frame["effect"].nunique() > 1 else None
    header: list[str] = []
    keys: list[str] = []
    cells: list[list[str]] = []
    align: list[str] = []
    for name in columns:
        if name in highs:
            continue
        if name in merged:
            prefix, low, high = merged[name]
            decimals = row_decimals([frame[low], frame[high]], groups)
            lows, highs_text = _format_column(low, frame[low], decimals), _format_column(high, frame[high], decimals)
            cells.append([_interval(a, b) for a, b in zip(lows, highs_text)])
            owner = prefix.rstrip("_")
            owner_label = effect_name if owner == "effect_size" and effect_name else \
                "Simultaneous" if owner == SIMULTANEOUS else glossary.label(owner)
            header.append(f"{owner_label} {ci_label}" if owner else ci_label)
            keys.append(f"{low},{high}")
            align.append("right")
            continue
        series = frame[name]
        if glossary.kind(name) == "variable" and not _numeric(series):
            cells.append(_labelled(series, labels))
        elif name == "statistic" and typed_statistic:
            texts = _format_column(name, series, groups=groups)
            cells.append([f"{_symbol(kind)} = {text}" if text and not _missing(kind) and kind != "" else text
                          for kind, text in zip(frame["statistic_type"], texts)])
        elif name in joined_df:
            numerators = _format_column(name, series, groups=groups)
            denominators = _format_column(joined_df[name], frame[joined_df[name]])
            cells.append([f"{a}, {b}" if a and b else a or b for a, b in zip(numerators, denominators)])
        elif glossary.kind(name) in ("setting", "identity") and not _numeric(series):   # values' display names
            cells.append(["" if _missing(v) else glossary.value_label(name, str(v)) or str(v) for v in series])
        else:
            cells.append(_format_column(name, series, groups=groups))
        if name == "statistic" and statistic_symbol:
            header.append(statistic_symbol)
        elif name == "effect_size" and effect_name:
            header.append(effect_name)
        else:
            header.append(glossary.label(name))
        keys.append(name)
        align.append("right" if _numeric(series) and not pd.api.types.is_bool_dtype(series) else "left")
    rows = [list(row) for row in zip(*cells)] if cells else []
    return DisplayTable(id=id, title=title, columns=header, rows=rows, align=align,
                        notes=out_notes + list(notes or []), keys=keys)


def _symbol(statistic_type: Any) -> str:
    return glossary.value_label("statistic_type", str(statistic_type)) or str(statistic_type)


_FOLDED = ("level", "contrast", "group")
_NEVER_FOLDED = ("effect", "term", "estimate", "std_error", "statistic", "df", "p_value", "df_method")

DF_PAIRS = (("df", "df_denominator"), ("df_corrected", "df_denominator_corrected"),
            ("interaction_df", "interaction_df_denominator"))
"""Numerator and denominator df shown in one cell (the numerator's column), "1.81, 36.3"."""


def _model_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A model table with each row saying what it is in its ``term`` cell, and the notes of its
    constant counts (see :func:`display_table`).

    LS-mean rows read ``ECT at End of course`` (level, then the ``by`` levels of ``group``),
    contrast rows ``Ketamine − ECT at End of course``, random-effect rows name their grouping
    factor (``SD (Intercept), participant_id``); these cells leave ``level``, ``contrast`` and
    ``group``, which the table then drops when nothing else is in them. Count columns with one
    value in every row (``n_obs``, ``n_subjects``, a Cox model's ``n``) become a note.

    >>> frame = pd.DataFrame({"effect": ["fixed", "emmean", "contrast", "ran_pars"],
    ...     "term": ["Ketamine vs ECT", "randomized_arm", "randomized_arm", "SD (Intercept)"],
    ...     "level": [None, "ECT", None, None], "contrast": [None, None, "Ketamine − ECT", None],
    ...     "group": [None, "visit=End of course", "visit=End of course", "participant_id"],
    ...     "visit": [None, "End of course", "End of course", None], "n_obs": [305] * 4})
    >>> out, notes = _model_rows(frame)
    >>> out["term"].tolist()[1:]
    ['ECT at End of course', 'Ketamine − ECT at End of course', 'SD (Intercept), participant_id']
    >>> bool(out["group"].isna().all() and out["visit"].isna().all()), notes
    (True, ['n observations: 305 in every row.'])
    """
    out = frame.copy()
    notes: list[str] = []
    present = [c for c in _FOLDED if c in out.columns]
    if present:
        for c in present + ["term"]:
            out[c] = out[c].astype(object)
        for i in out.index:
            effect = out.at[i, "effect"]
            group = out.at[i, "group"] if "group" in out.columns else None
            where = ""
            if not _missing(group) and group != "":
                where = ", ".join(part.split("=", 1)[1] if "=" in part else part for part in str(group).split(", "))
            if effect in ("emmean", "contrast"):
                what = out.at[i, "contrast" if effect == "contrast" else "level"] if \
                    ("contrast" if effect == "contrast" else "level") in out.columns else None
                if _missing(what) or what == "":
                    continue
                out.at[i, "term"] = f"{what} at {where}" if where else str(what)
                # the by columns the group names (a "visit" column beside "visit=eot") said it too
                named = [part.split("=", 1)[0].strip() for part in str(group).split(", ") if "=" in part] \
                    if where else []
                for c in present + [c for c in named if c in out.columns and c not in _NEVER_FOLDED]:
                    if c not in present:
                        out[c] = out[c].astype(object)
                    out.at[i, c] = None
            elif effect == "ran_pars" and where:
                out.at[i, "term"] = str(out.at[i, "term"]) if where == "Residual" else f"{out.at[i, 'term']}, {where}"
                if "group" in out.columns:
                    out.at[i, "group"] = None
    out, constant = _constant_counts(out, [name for name in out.columns if glossary.kind(name) == "count"])
    return out, notes + constant


SAMPLE_SIZES = ("n_obs", "n_subjects", "n_events")
"""Sample sizes said once, in a note, when the same in every row of any table (other counts only in
model tables: a two-group table's n per group stays beside its counts)."""


def _constant_counts(frame: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` without the count columns of ``names`` that hold one value in every row (of two or
    more), and the notes that say it ("n subjects: 60 in every row.")."""
    notes = []
    if len(frame) > 1:
        for name in names:
            if name not in frame.columns or not _numeric(frame[name]) or frame[name].isna().any():
                continue
            values = set(frame[name].astype(float))
            if len(values) == 1:
                notes.append(f"{glossary.label(name)}: {format_number(values.pop(), 0)} in every row.")
                frame = frame.drop(columns=[name])
    return frame, notes


def _relabel_levels(frame: pd.DataFrame, level_labels: dict[str, dict[str, str]]) -> pd.DataFrame:
    """A copy of ``frame`` with level codes replaced by their display names (text columns only).

    A column named in ``level_labels`` is mapped with its own labels; identity columns with the
    labels of every column, where a code has one display name only (a code two columns label
    differently is left as it is). Contrasts ``a - b`` and selectors ``column=level`` are mapped
    part by part.

    >>> frame = pd.DataFrame({"arm": ["ect"], "contrast": ["ketamine - ect"], "group": ["visit=tx3"]})
    >>> out = _relabel_levels(frame, {"arm": {"ect": "ECT", "ketamine": "Ketamine"}, "visit": {"tx3": "Week 1"}})
    >>> out.iloc[0].tolist()
    ['ECT', 'Ketamine − ECT', 'visit=Week 1']
    """
    merged: dict[str, str | None] = {}
    for mapping in level_labels.values():
        for code, text in mapping.items():
            merged[code] = text if merged.get(code, text) == text else None   # None: two different names

    def one(code: str, own: dict[str, str] | None) -> str:
        if own is not None and code in own:
            return own[code]
        if "=" in code:
            column, _, level = code.partition("=")
            mapping = level_labels.get(column.strip())
            if mapping is not None and level in mapping:
                return f"{column}={mapping[level]}"
        return merged.get(code) or code

    def cell(value: Any, own: dict[str, str] | None) -> Any:
        if _missing(value) or not isinstance(value, str):
            return value
        if " - " in value:
            return f" {MINUS} ".join(one(part, own) for part in value.split(" - "))
        if ", " in value and "=" in value:
            return ", ".join(one(part, own) for part in value.split(", "))
        return one(value, own)

    out = frame.copy()
    for column in out.columns:
        own = level_labels.get(column)
        if own is None and glossary.kind(column) != "identity":
            continue
        if _numeric(out[column]) or pd.api.types.is_bool_dtype(out[column]):
            continue
        out[column] = [cell(v, own) for v in out[column]]
    return out


def _dictionary_level_labels(columns: Any) -> dict[str, dict[str, str]]:
    """Column → {level: display name} of the dictionary columns that declare ``level_labels``."""
    if not isinstance(columns, dict):
        return {}
    return {name: dict(spec.level_labels) for name, spec in columns.items()
            if getattr(spec, "level_labels", None)}


def shown_rows(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """At most :data:`MAX_ROWS` rows (smallest p-values first when there are more), and a note saying so."""
    if len(frame) <= MAX_ROWS:
        return frame, []
    if "p_value" in frame.columns:
        p = frame["p_value"].astype(float).fillna(np.inf).to_numpy()
        intercept = (frame["term"] == "Intercept").to_numpy() if "term" in frame.columns else np.zeros(len(p), bool)
        order = np.lexsort((np.arange(len(p)), p, intercept))[:MAX_ROWS]   # intercepts last: rarely the question
        return frame.iloc[order], [f"Showing the {MAX_ROWS} rows with the smallest p-values of {len(frame)} "
                                   "(intercepts last); every row is in " f"tables/{name}.csv."]
    return frame.iloc[:MAX_ROWS], [f"Showing the first {MAX_ROWS} rows of {len(frame)}; every row is in "
                                   f"tables/{name}.csv."]


def analysis_table(analysis) -> DisplayTable:
    """The display table of an :class:`~ketastats.results.AnalysisResult` (labels from its extras).

    Level names: the analysed table's dictionary ``level_labels`` (``analysis.columns``) and any the
    analysis recorded for another table (``extras["level_labels"]``, e.g. flow's visits table).
    A ``baseline_table`` is shown wide (:func:`ketastats.report.table1.table1_display`), and so is a
    ``flow`` (:func:`ketastats.report.flow_table.flow_display`).
    """
    wide = _wide_display(analysis)
    if wide is not None:
        return wide
    extras = analysis.extras if isinstance(analysis.extras, dict) else {}
    labels = extras.get("labels")
    columns = getattr(analysis, "columns", None)
    level_labels = {**_dictionary_level_labels(columns), **(extras.get("level_labels") or {})}
    # every column's dictionary label (terms name covariates and factors), then the analysis's own
    labels = {**_dictionary_labels(columns), **(labels if isinstance(labels, dict) else {})}
    references = _references(analysis) if "term" in analysis.tidy.columns else None
    # only a mass analysis is cut to its smallest p-values; an ordinary model's table is shown whole
    frame, cut = shown_rows(analysis.tidy, analysis.analysis_id) if extras.get("rows_by_p") else (analysis.tidy, [])
    return display_table(frame, labels or None, id=analysis.analysis_id,
                         title=analysis.title or analysis.analysis_id, notes=cut + list(analysis.notes),
                         level_labels=level_labels, references=references)


def _wide_display(analysis) -> DisplayTable | None:
    """The wide form of the analysis types papers print wide (Table 1, participant flow), else ``None``."""
    from ketastats.report import flow_table, table1  # (both build on this module)

    build = {"baseline_table": table1.table1_display, "flow": flow_table.flow_display}.get(
        str(getattr(analysis, "type", "")))
    return build(analysis) if build is not None else None


def _dictionary_labels(columns: Any) -> dict[str, str]:
    """Column → its display name (dictionary label and unit) for the columns that declare a label."""
    if not isinstance(columns, dict):
        return {}
    return {name: spec.display_name(name) for name, spec in columns.items()
            if getattr(spec, "label", None) and hasattr(spec, "display_name")}


def _references(analysis) -> dict[str, str]:
    """The treatment-coding reference level of each factor in the analysis's terms: the one level
    the analysis used (in its data, else the dictionary's levels) that no ``col[T.level]`` names."""
    data = getattr(analysis, "data_used", None)
    columns = getattr(analysis, "columns", None) or {}
    terms = "\n".join(term for term in analysis.tidy["term"] if isinstance(term, str))
    levels: dict[str, list[str]] = {}
    for name, spec in (columns.items() if isinstance(columns, dict) else []):
        if f"{name}[T." not in terms:   # only a column that a treatment term names has a reference
            continue
        if data is not None and name in data.columns:
            series = data[name].dropna()
            if isinstance(series.dtype, pd.CategoricalDtype):
                observed = set(series.astype(object))
                levels[name] = [str(c) for c in series.cat.categories if c in observed]
            else:
                levels[name] = sorted({str(v) for v in series})
        elif getattr(spec, "levels", None):
            levels[name] = [str(v) for v in spec.levels]
    return infer_references(analysis.tidy["term"], levels)


def family_table(family) -> DisplayTable:
    """The display table of a multiplicity family (columns that only repeat the family dropped)."""
    frame = family.table.drop(columns=[c for c in ("family", "analysis_id", "selector") if c in family.table.columns])
    return display_table(frame, id=f"multiplicity_{family.family}", title=family.title or family.family)


def lsmeans_table(analysis) -> DisplayTable | None:
    """The LS-means summary a trial report prints for a model with EMMs and contrasts by a factor
    (SAS ``LSMEANS arm*visit / DIFF CL``; emmeans ``pairs``): one row per ``by`` level (e.g. visit)
    with each level's LS-mean (SE), the contrast's difference (SE), its confidence interval and p.

    Drawn from the tidy ``emmean`` and ``contrast`` rows (of the first df method when there are
    several); ``None`` when the analysis has none. The full table stays below it in the report.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> tidy = pd.DataFrame({"effect": ["emmean", "emmean", "contrast"], "term": ["arm"] * 3,
    ...     "level": ["pbo", "ket", None], "contrast": [None, None, "ket - pbo"], "group": ["visit=w1"] * 3,
    ...     "estimate": [-5.25, -9.5, -4.25], "std_error": [1.02, 1.13, 1.51], "conf_low": [None, None, -7.2],
    ...     "conf_high": [None, None, -1.3], "conf_level": [0.95] * 3, "p_value": [None, None, 0.012]})
    >>> table = lsmeans_table(SimpleNamespace(tidy=tidy, extras={}, columns={}, analysis_id="m", title="MMRM"))
    >>> table.columns
    ['visit', 'pbo: LS-mean (SE)', 'ket: LS-mean (SE)', 'ket − pbo (SE)', '95 % CI', 'p']
    >>> table.rows
    [['w1', '−5.25 (1.02)', '−9.50 (1.13)', '−4.25 (1.51)', '−7.20 to −1.30', '0.012']]
    """
    tidy = analysis.tidy
    needed = {"effect", "term", "level", "contrast", "group", "estimate", "std_error"}
    if not needed <= set(tidy.columns):
        return None
    if "df_method" in tidy.columns and tidy["df_method"].notna().any():
        tidy = tidy[tidy["df_method"] == tidy["df_method"].dropna().iloc[0]]
    means, contrasts = tidy[tidy["effect"] == "emmean"], tidy[tidy["effect"] == "contrast"]
    if means.empty or contrasts.empty or means["group"].isna().all():
        return None
    term = means["term"].iloc[0]
    means, contrasts = means[means["term"] == term], contrasts[contrasts["term"] == term]
    level_labels = {**_dictionary_level_labels(getattr(analysis, "columns", None)),
                    **((analysis.extras or {}).get("level_labels") or {})}
    if level_labels:
        means, contrasts = _relabel_levels(means, level_labels), _relabel_levels(contrasts, level_labels)
    groups = list(dict.fromkeys(means["group"].dropna()))
    levels = list(dict.fromkeys(means["level"].dropna()))
    contrast = next(iter(contrasts["contrast"].dropna()), None)
    if contrast is None or not groups or not levels:
        return None
    by = str(groups[0]).split("=", 1)[0] if "=" in str(groups[0]) else "group"
    by = _dictionary_labels(getattr(analysis, "columns", None)).get(by, by)   # "visit" → "Visit"
    decimals = column_decimals(pd.concat([means["estimate"], contrasts["estimate"]]))
    se_decimals = column_decimals(pd.concat([means["std_error"], contrasts["std_error"]]))

    def mean_se(row) -> str:
        return (f"{format_number(row['estimate'], decimals, fixed=True)} "
                f"({format_number(row['std_error'], se_decimals, fixed=True)})")

    rows = []
    for group in groups:
        cells = [str(group).split("=", 1)[1] if "=" in str(group) else str(group)]
        for level in levels:
            found = means[(means["group"] == group) & (means["level"] == level)]
            cells.append(mean_se(found.iloc[0]) if len(found) else "")
        found = contrasts[(contrasts["group"] == group) & (contrasts["contrast"] == contrast)]
        if len(found):
            row = found.iloc[0]
            low, high = row.get("conf_low"), row.get("conf_high")
            cells += [mean_se(row), _interval(format_number(low, decimals, fixed=True),
                                              format_number(high, decimals, fixed=True)),
                      glossary.format_p(row.get("p_value"), "table")]
        else:
            cells += ["", "", ""]
        rows.append(cells)
    level = contrasts["conf_level"].dropna().iloc[0] if "conf_level" in contrasts.columns and \
        contrasts["conf_level"].notna().any() else 0.95
    columns = [by, *[f"{lvl}: LS-mean (SE)" for lvl in levels], f"{_minus_sign(contrast)} (SE)",
               f"{float(level) * 100:g} % CI", "p"]
    notes = ["LS-means (estimated marginal means) and their difference by " + by + ", from the model's "
             "tidy emmean and contrast rows; every row, with df, is in the table below"]
    return DisplayTable(id=f"{analysis.analysis_id}-lsmeans", title=f"{analysis.title or analysis.analysis_id}: "
                        "LS-means", columns=columns, rows=rows, align=["left"] + ["right"] * (len(columns) - 1),
                        notes=notes, keys=["group", *["estimate"] * len(levels), "estimate", "conf_low", "p_value"])


def _minus_sign(text: str) -> str:
    """A contrast as printed: ``ket - pbo`` → ``ket − pbo`` (a true minus between the levels)."""
    return str(text).replace(" - ", " − ")
