"""Drift check: re-run a plan and compare its tables with the committed report.

Compared: every CSV under ``tables/`` and ``multiplicity/``, ``exclusions.csv`` and the derived
time-to-event tables ``adtte_*.csv`` (the LaTeX and Word copies of the tables are not compared: they
are rendered from the same numbers). A file present on one side only, a different header or row
count, text cells that differ, or numbers that differ by more than the tolerance is drift. Numbers
are compared with a relative tolerance of :data:`RELATIVE_TOLERANCE` (committed tables hold 6
significant digits, so one unit in the last digit is at most 1e-5 relative; the tolerance is two
such units) plus an absolute floor of :data:`ABSOLUTE_TOLERANCE` for values near zero. results.json,
manifest.json and report.html are not compared (the manifest records versions, which may
legitimately differ).

Versions: when the software versions recorded in the fresh run's manifest differ from the committed
manifest's (a package both record), :func:`compare_reports` logs one note on the
``ketastats.check`` logger (level WARNING, so without any logging set up it is printed on stderr by
``ketastats check``); it is a note, not drift. :func:`version_notes` returns the differences.
CI installs the versions the reports were produced with (``constraints/reports.txt``;
docs/dependencies.md), so it sees none.

Example
-------
``differences = compare_reports(Path("reports/siegel2021"), Path("/tmp/new"))``
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

RELATIVE_TOLERANCE = 2e-5
ABSOLUTE_TOLERANCE = 1e-12
LOGGER = logging.getLogger("ketastats.check")


@dataclass
class Difference:
    file: str
    where: str
    committed: str
    current: str

    def __str__(self) -> str:
        return f"{self.file} {self.where}: committed {self.committed!r}, now {self.current!r}"


def _files(folder: Path) -> set[str]:
    found = {p.relative_to(folder).as_posix() for p in (folder / "tables").glob("*.csv")} \
        if (folder / "tables").is_dir() else set()
    if (folder / "multiplicity").is_dir():
        found |= {p.relative_to(folder).as_posix() for p in (folder / "multiplicity").glob("*.csv")}
    if (folder / "exclusions.csv").is_file():
        found.add("exclusions.csv")
    if folder.is_dir():   # derived time-to-event tables (ADTTE shape)
        found |= {p.name for p in folder.glob("adtte_*.csv") if p.is_file()}
    return found


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def cells_match(committed: str, current: str) -> bool:
    if committed == current:
        return True
    a, b = _number(committed), _number(current)
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * max(abs(a), abs(b))


def _software(folder: Path) -> dict[str, str]:
    try:
        software = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("software", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in software.items()} if isinstance(software, dict) else {}


def version_notes(committed: Path, current: Path) -> list[str]:
    """``"pandas 2.3.3 -> 3.1.1"`` for every package whose recorded version differs (manifest order).

    Only packages both manifests record are compared (the recorded set may change between
    ketastats versions); a missing or unreadable manifest gives no notes.
    """
    old, new = _software(committed), _software(current)
    return [f"{name} {old[name]} -> {new[name]}" for name in old if name in new and old[name] != new[name]]


def compare_reports(committed: Path, current: Path) -> list[Difference]:
    notes = version_notes(committed, current)
    if notes:
        LOGGER.warning("note: installed versions differ from %s: %s (not drift: the tables are compared; "
                       "the committed reports were made with constraints/reports.txt, see docs/dependencies.md)",
                       (committed / "manifest.json").as_posix(), "; ".join(notes))
    differences: list[Difference] = []
    old_files, new_files = _files(committed), _files(current)
    for name in sorted(old_files - new_files):
        differences.append(Difference(name, "file", "present", "missing"))
    for name in sorted(new_files - old_files):
        differences.append(Difference(name, "file", "missing", "present"))
    for name in sorted(old_files & new_files):
        old, new = _read(committed / name), _read(current / name)
        if not old or not new or old[0] != new[0]:
            differences.append(Difference(name, "header", ",".join(old[0] if old else []),
                                          ",".join(new[0] if new else [])))
            continue
        header = old[0]
        if len(old) != len(new):
            differences.append(Difference(name, "number of rows", str(len(old) - 1), str(len(new) - 1)))
        for index, (row_old, row_new) in enumerate(zip(old[1:], new[1:]), start=1):
            for column, a, b in zip(header, row_old, row_new):
                if not cells_match(a, b):
                    label = ", ".join(f"{h}={v}" for h, v in zip(header, row_old)
                                      if h in ("outcome", "term", "visit", "group", "ci_method", "analysis_id",
                                               "member")
                                      or (name.startswith("adtte_") and h in (header[0], "PARAMCD"))
                                      and v)
                    where = f"row {index}" + (f" ({label})" if label else "") + f", column {column}"
                    differences.append(Difference(name, where, a, b))
    return differences
