"""Model terms as a statistician writes them, for the report, the Word / LaTeX tables and figures.

Here, below the analyses, figures and report (the layers of ``pyproject.toml``), so that the report's
tables (:func:`ketastats.report.display.display_table`) and the figures (a forest's term axis) read
terms in the same words. Pure text functions: no data, no plotting.

The tidy tables (and their CSVs) keep the codes that patsy and the analyses write; the display
shows them in words, from the data dictionary's column labels and ``level_labels``:

============================================  ==========================================
tidy ``term``                                 shown
============================================  ==========================================
``randomized_arm[T.ketamine]``                Ketamine vs ECT
``visit[T.m1]``                               1 month vs Baseline
``randomized_arm[T.ketamine]:visit[T.tx3]``   Ketamine vs ECT × After treatment 3
``age``                                       Age (years)
``time_post:responder_2wk[T.True]``           Time post (days) × Responder: yes vs no
``randomized_arm:visit`` (a joint F test)     Arm × Visit
``C(arm, Treatment('ect'))[T.ketamine]``      Ketamine vs ECT
``sd__(Intercept)`` / ``sd__Observation``     SD (Intercept) / Residual SD
``var__week2`` / ``cor__week1.week2`` (mmrm)  Variance week2 / Correlation week1, week2
``GLOBAL`` (cox.zph)                          Global test
``odds_ratio`` (group_proportions)            Odds ratio
anything else (``np.log(x)``, ``dose_mg``)    as it is (a column without a label: its name)
============================================  ==========================================

A treatment-coded term (patsy ``col[T.level]``, R's ``contr.treatment``) is the difference between
``level`` and the reference level, hence "Ketamine vs ECT"; the reference is the one level of the
column without a term of its own (:func:`infer_references`, from the levels the analysis used),
or given. Without a known reference the term reads "Arm: Ketamine". An interaction of treatment
terms is written with "×" between its factors, as in "Ketamine vs ECT × After treatment 3": the
coefficient by which the ketamine − ECT difference at "After treatment 3" differs from the one at
the second factor's reference (Baseline). Only the first treatment-coded factor names its
reference: "Ketamine vs ECT × After treatment 3 vs Baseline" is exact but reads as a chain of
comparisons, and the main-effect rows ("After treatment 3 vs Baseline") and :func:`coding_note`
under the table name the other references. A term of a shape not listed is shown unchanged, never an error.

Example
-------
>>> labels = {"randomized_arm": "Arm", "visit": "Visit", "age": "Age (years)"}
>>> levels = {"randomized_arm": {"ect": "ECT", "ketamine": "Ketamine"},
...           "visit": {"baseline": "Baseline", "tx3": "After treatment 3", "m1": "1 month"}}
>>> references = {"randomized_arm": "ect", "visit": "baseline"}
>>> [term_label(t, labels, levels, references) for t in
...  ["randomized_arm[T.ketamine]:visit[T.tx3]", "randomized_arm[T.ketamine]", "age", "visit[T.m1]", "Intercept"]]
['Ketamine vs ECT × After treatment 3', 'Ketamine vs ECT', 'Age (years)', '1 month vs Baseline', 'Intercept']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["term_label", "term_labels", "infer_references", "coding_note", "split_interaction", "term_names",
           "TIMES"]

TIMES = " × "
"""Between the factors of an interaction."""

_NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
_TREATMENT = re.compile(rf"^(?P<column>{_NAME})\[T\.(?P<level>.+)\]$")
_C_TREATMENT = re.compile(
    rf"^C\(\s*(?P<column>{_NAME})\s*(?:,\s*(?:Treatment|contr\.treatment)\s*\(\s*(?:reference\s*=\s*)?"
    r"(?P<quote>['\"]?)(?P<reference>[^'\")]*)(?P=quote)\s*\))?\s*\)\[T\.(?P<level>.+)\]$")
_PLAIN = re.compile(rf"^{_NAME}$")
_BOOLEAN = {"True": "False", "true": "false", "TRUE": "FALSE", "1": "0"}
_SPECIAL = {"Intercept": "Intercept", "(Intercept)": "Intercept", "GLOBAL": "Global test",
            "sd__Observation": "Residual SD", "sd__Residual": "Residual SD",
            # the statistics two-group comparisons name in their term column (group_proportions)
            "odds_ratio": "Odds ratio", "risk_difference": "Risk difference", "risk_ratio": "Risk ratio",
            "mean_difference": "Mean difference"}


def split_interaction(term: str) -> list[str]:
    """The factors of a term, split at the ``:`` outside brackets and parentheses.

    >>> split_interaction("a[T.x:y]:C(b, Treatment('p:q'))[T.z]")
    ['a[T.x:y]', "C(b, Treatment('p:q'))[T.z]"]
    """
    parts, depth, start, quote = [], 0, 0, ""
    for i, char in enumerate(term):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == ":" and depth == 0:
            parts.append(term[start:i])
            start = i + 1
    parts.append(term[start:])
    return parts


def _level_text(column: str, level: str, level_labels: Mapping[str, Mapping[str, str]]) -> str:
    return str((level_labels.get(column) or {}).get(level, level))


def _factor(part: str, labels: Mapping[str, str], level_labels: Mapping[str, Mapping[str, str]],
            references: Mapping[str, str], first: bool = True) -> str | None:
    """One factor of a term in words, or None when its shape is not known (``first``: the first
    treatment-coded factor of the term, which names its reference; later ones name their level only)."""
    if part in _SPECIAL:
        return _SPECIAL[part]
    match = _TREATMENT.match(part) or _C_TREATMENT.match(part)
    if match:
        column, level = match.group("column"), match.group("level")
        reference = (match.groupdict().get("reference") or None) or references.get(column)
        name = labels.get(column, column)
        if level in _BOOLEAN and reference in (None, _BOOLEAN[level]) and column not in level_labels:
            return f"{name}: yes vs no"
        if reference is None:
            return f"{name}: {_level_text(column, level, level_labels)}"
        if not first:
            return _level_text(column, level, level_labels)
        return f"{_level_text(column, level, level_labels)} vs {_level_text(column, str(reference), level_labels)}"
    if part.startswith("sd__"):
        inner = part[4:]
        return f"SD {inner}" if inner.startswith("(") else f"SD of {labels.get(inner, inner)}"
    if part.startswith("var__"):   # mmrm's covariance parameters: the variance at a visit
        return f"Variance {part[5:]}"
    if part.startswith("cor__"):
        return "Correlation " + ", ".join(labels.get(p, p) for p in part[5:].split(".", 1))
    if _PLAIN.match(part):
        return labels.get(part, part)
    return None


def term_label(term: Any, labels: Mapping[str, str] | None = None,
               level_labels: Mapping[str, Mapping[str, str]] | None = None,
               references: Mapping[str, str] | None = None) -> Any:
    """A model term in words (see the module docstring); anything not a known shape is returned as is.

    ``labels``: column → display label (dictionary label and unit); ``level_labels``: column →
    {level code: display text}; ``references``: column → reference level code.

    >>> term_label("arm[T.ketamine]", {"arm": "Arm"}, {"arm": {"ketamine": "Ketamine"}})
    'Arm: Ketamine'
    >>> term_label("C(arm, Treatment('ect'))[T.ketamine]", {}, {"arm": {"ect": "ECT", "ketamine": "Ketamine"}})
    'Ketamine vs ECT'
    >>> term_label("np.log(x):arm[T.k]"), term_label(None), term_label("odds_ratio")
    ('np.log(x):arm[T.k]', None, 'Odds ratio')
    """
    if not isinstance(term, str) or not term:
        return term
    labels, level_labels, references = labels or {}, level_labels or {}, references or {}
    if term in _SPECIAL:
        return _SPECIAL[term]
    factors, first = [], True
    for part in split_interaction(term):
        factors.append(_factor(part, labels, level_labels, references, first))
        first = first and not (_TREATMENT.match(part) or _C_TREATMENT.match(part))
    if any(f is None for f in factors):
        return term
    return TIMES.join(str(f) for f in factors)


def term_labels(terms: Iterable[Any], labels: Mapping[str, str] | None = None,
                level_labels: Mapping[str, Mapping[str, str]] | None = None,
                references: Mapping[str, str] | None = None) -> list[Any]:
    """:func:`term_label` of each term; where two different terms would read alike, the code is added.

    >>> term_labels(["a", "b"], {"a": "Score", "b": "Score"})
    ['Score [a]', 'Score [b]']
    """
    terms = list(terms)
    shown = {t: term_label(t, labels, level_labels, references) for t in dict.fromkeys(t for t in terms
                                                                                     if isinstance(t, str))}
    counts: dict[str, int] = {}
    for text in shown.values():
        counts[text] = counts.get(text, 0) + 1
    return [f"{shown[t]} [{t}]" if isinstance(t, str) and counts[shown[t]] > 1 and shown[t] != t
            else shown.get(t, t) if isinstance(t, str) else t for t in terms]


def term_names(terms: Iterable[Any]) -> list[str]:
    """The names (columns, statistics) the factors of ``terms`` refer to, in order of appearance.

    >>> term_names(["Intercept", "age", "arm[T.k]:dose", "odds_ratio", "GLOBAL", "sd__(Intercept)", "x_y"])
    ['age', 'arm', 'dose', 'x_y']
    """
    names: dict[str, None] = {}
    for term in terms:
        if not isinstance(term, str):
            continue
        for part in split_interaction(term):
            match = _TREATMENT.match(part) or _C_TREATMENT.match(part)
            if match:
                names[match.group("column")] = None
            elif _PLAIN.match(part) and part not in _SPECIAL and not part.startswith(("sd__", "cor__", "var__")):
                names[part] = None
    return list(names)


def infer_references(terms: Iterable[Any], levels: Mapping[str, Iterable[Any]]) -> dict[str, str]:
    """Column → reference level: the one level (of ``levels``, those the analysis used) that no
    treatment term names. Columns with several such levels (or unknown levels) get none.

    >>> infer_references(["arm[T.k]", "visit[T.w1]", "arm[T.k]:visit[T.w2]"],
    ...                  {"arm": ["p", "k"], "visit": ["base", "w1", "w2"], "age": []})
    {'arm': 'p', 'visit': 'base'}
    """
    named: dict[str, set[str]] = {}
    for term in terms:
        if not isinstance(term, str):
            continue
        for part in split_interaction(term):
            match = _TREATMENT.match(part)
            if match:
                named.setdefault(match.group("column"), set()).add(match.group("level"))
    references = {}
    for column, seen in sorted(named.items()):
        rest = [str(level) for level in dict.fromkeys(str(v) for v in levels.get(column, []))
                if str(level) not in seen]
        if len(rest) == 1:
            references[column] = rest[0]
    return references


def coding_note(terms: Iterable[Any], labels: Mapping[str, str] | None = None,
                level_labels: Mapping[str, Mapping[str, str]] | None = None,
                references: Mapping[str, str] | None = None) -> str | None:
    """The note under a table whose terms are treatment-coded (None when none is).

    >>> note = coding_note(["arm[T.k]", "arm[T.k]:visit[T.w1]"], {"arm": "Arm", "visit": "Visit"}, {},
    ...                    {"arm": "p", "visit": "base"})
    >>> note.split("; an interaction")[0]
    'Terms: treatment coding, each level against the reference level (Arm: p; Visit: base)'
    """
    labels, level_labels, references = labels or {}, level_labels or {}, references or {}
    columns: dict[str, None] = {}
    interaction = False
    for term in terms:
        if not isinstance(term, str):
            continue
        parts = split_interaction(term)
        coded = [m.group("column") for m in (_TREATMENT.match(p) for p in parts) if m]
        columns.update(dict.fromkeys(coded))
        interaction = interaction or (len(parts) > 1 and bool(coded))
    named = [f"{labels.get(c, c)}: {_level_text(c, references[c], level_labels)}" for c in columns if c in references]
    if not named:
        return None
    text = f"Terms: treatment coding, each level against the reference level ({'; '.join(named)})"
    if interaction:
        text += ("; an interaction A × B is how much the A difference at B differs from that at the reference "
                 "level of B")
    return text + "."
