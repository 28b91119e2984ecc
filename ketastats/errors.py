"""Errors as data: every problem ketastats reports is an :class:`Issue` with a location.

Validation collects all issues before raising one :class:`KetastatsError` that carries
them, so a user sees every mistake in one go. The CLI prints issues without a traceback;
any other exception is a bug.

Example
-------
>>> loc = Location(file="siegel2021.yaml", line=42, path="analyses[3].within")
>>> str(Issue("unknown-column", "no column 'vist' in table 'clinical'", loc,
...           hint="Did you mean 'visit'?"))
"siegel2021.yaml:42 analyses[3].within: no column 'vist' in table 'clinical' (unknown-column). Did you mean 'visit'?"
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """Where a problem is: a plan position (file, line, YAML path) or a data cell (file, row, column).

    ``row`` is the 1-based data row of the source table (the header is not counted).
    """

    file: str | None = None
    line: int | None = None
    path: str | None = None
    table: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        head = self.file or (f"table '{self.table}'" if self.table else "")
        if head and self.line is not None:
            head = f"{head}:{self.line}"
        cell = ", ".join(
            part for part in (
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column}" if self.column is not None else "",
            ) if part
        )
        text = " ".join(part for part in (head, self.path or "", cell) if part)
        return text or "<unknown location>"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Issue:
    """One problem: a stable kebab-case ``code``, a one-sentence ``message``, its location and a hint."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        text = f"{self.location}: {self.message} ({self.code})"
        if self.hint:
            text += f". {self.hint}"
        return text

    def to_dict(self) -> dict:
        out = {"code": self.code, "severity": self.severity, "message": self.message,
               "location": self.location.to_dict()}
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass(frozen=True)
class Problem:
    """A problem a spec's check finds before anything runs: where, what, its code and a hint.

    ``key`` is a YAML path: a tuple, or the dotted text a spec hook writes relative to its own
    entry (``"outcome[0]"``, ``"reference.arm"``); the resolver turns it into a located
    :class:`Issue`. Every validation hook (analyses, figures, derivations, families) returns these.

    >>> Problem("contrasts[1].by", "'vist' is not a column").path
    ('contrasts', 1, 'by')
    """

    key: str | tuple
    message: str
    code: str = "wrong-column-type"
    hint: str | None = None

    @classmethod
    def coded(cls, code: str, message: str, key: str | tuple, hint: str | None = None) -> "Problem":
        """A problem given code first, as issues are written: ``Problem.coded("unknown-analysis", ...)``."""
        return cls(key, message, code, hint)

    @property
    def path(self) -> tuple:
        """``key`` as a YAML path tuple (list positions as integers)."""
        if isinstance(self.key, tuple):
            return self.key
        parts = self.key.replace("]", "").replace("[", ".").split(".")
        return tuple(int(part) if part.isdigit() else part for part in parts if part)


class KetastatsError(Exception):
    """Base class of every error ketastats raises on purpose; carries one or more issues."""

    exit_code = 2

    def __init__(self, issues: Issue | Iterable[Issue]):
        self.issues: list[Issue] = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class PlanError(KetastatsError):
    """The plan (or a data dictionary) is invalid: nothing runs, nothing is written."""


class DataError(KetastatsError):
    """A data table does not satisfy its dictionary: nothing runs, nothing is written."""


class AnalysisError(KetastatsError):
    """One analysis could not be computed; the others still run (exit code 1)."""

    exit_code = 1


class FigureError(KetastatsError):
    """A figure cannot be drawn from the results it reads (the other figures are still drawn; exit code 1)."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(Issue("figure-failed", message))


class OutputError(KetastatsError):
    """The report could not be written where asked (e.g. the folder is not a ketastats report)."""


def did_you_mean(word: str, choices: Iterable[str], list_choices: bool = True) -> str | None:
    """A hint naming the closest valid choice, or listing the choices when there are few.

    >>> did_you_mean("vist", ["visit", "madrs"])
    "Did you mean 'visit'?"
    """
    choices = sorted(set(map(str, choices)))
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if close:
        return f"Did you mean '{close[0]}'?"
    if list_choices and 0 < len(choices) <= 8:
        return "Valid choices: " + ", ".join(f"'{c}'" for c in choices)
    return None
