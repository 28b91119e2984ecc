"""Reading tables: CSV, Parquet, SAS transport (.xpt) and data shipped in the package.

This is the only module that reads data files. A table is read as it is written: CSV cells
stay text so that validation can name every bad cell; typing happens in
:mod:`ketastats.data.validate`. The frame's index is the 1-based data row of the file, so
every later message and exclusion can point back at the row a user sees in their editor
(the header is not counted).

Sources are paths relative to the plan file, ``ketastats:<dataset>/<file>`` for the
synthetic datasets shipped with the package, or ``simulate:<dataset>/<table>`` for synthetic
tables too large to ship, generated on demand by their simulator (deterministic: same
ketastats version, same values; see :data:`ketastats.datasets.simulate.ON_DEMAND`). A
generated table's SHA-256 is that of its canonical Parquet serialisation.

Example
-------
>>> table = read_table("ketastats:siegel2021/clinical.csv", base=None, name="clinical")
>>> table.frame.index[0], table.display_name
(1, 'ketastats:siegel2021/clinical.csv')
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ketastats.errors import DataError, Issue, Location

PACKAGE_PREFIX = "ketastats:"
SIMULATE_PREFIX = "simulate:"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xpt": "xpt"}
MAX_FILE_BYTES = 2 * 2 ** 30
"""Largest data file read (2 GiB): tables are read into memory (a 1,000,000-row outcome table is 20 MB)."""
MAX_NUL_ISSUES = 20
NUL_SCAN_BYTES = 16 * 2 ** 20
"""NUL bytes are located in the first 16 MiB after the first one (a 2 GiB hole is not read to its end)."""


@dataclass
class RawTable:
    """A table as read: the frame (index = 1-based data row), where it came from and its SHA-256."""

    name: str
    frame: pd.DataFrame
    display_name: str
    sha256: str
    format: str


def resolve_source(source: str, base: Path | None) -> tuple[Path, str]:
    """The file behind ``source`` and the name to show for it (never an absolute path if avoidable)."""
    if source.startswith(PACKAGE_PREFIX):
        relative = source[len(PACKAGE_PREFIX):]
        parts = [p for p in relative.split("/") if p]
        if len(parts) != 2 or any(p in (".", "..") for p in parts):
            raise DataError(Issue("bad-package-source", f"'{source}' is not of the form ketastats:<dataset>/<file>",
                                  Location(file=source)))
        path = Path(str(resources.files("ketastats.datasets").joinpath(*parts)))
        return path, source
    path = Path(source)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path, source


def read_table(source: str, base: Path | None, name: str, format: str | None = None,
               missing_values: list[str] | None = None) -> RawTable:
    """Read one table; a missing, unreadable or undecodable file raises :class:`DataError`."""
    if source.startswith(SIMULATE_PREFIX):
        return _generate(source, name)
    path, display = resolve_source(source, base)
    location = Location(file=display)
    if not path.is_file():
        raise DataError(Issue("file-not-found", f"data file for table '{name}' does not exist: {display}",
                              location, hint="Paths are relative to the plan file; packaged data is "
                                             "ketastats:<dataset>/<file>"))
    kind = format or FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(Issue("unknown-format", f"cannot tell the format of '{display}'", location,
                              hint="Use a .csv, .parquet or .xpt file, or set format: in the plan"))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(Issue("file-too-large", f"the file is {size / 2 ** 30:.1f} GiB; ketastats reads a table into "
                              f"memory and accepts files up to {MAX_FILE_BYTES / 2 ** 30:.0f} GiB", location,
                              hint="Check that this is the intended file; split a larger table, or select the "
                                   "columns and rows the plan needs"))
    if kind == "csv":
        _refuse_nul_bytes(path, display)   # before reading: a NUL would silently cut a cell short
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    missing = missing_values if missing_values is not None else ["", "NA"]
    if kind == "csv":
        frame = _read_csv(data, display, missing)
    elif kind == "parquet":
        frame = _read_binary(lambda: pd.read_parquet(io.BytesIO(data)), display, "Parquet")
    else:
        frame = _read_binary(lambda: _read_xpt(path), display, "SAS transport (XPT)")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return RawTable(name=name, frame=frame, display_name=display, sha256=digest, format=kind)


def _generate(source: str, name: str) -> RawTable:
    """A ``simulate:<dataset>/<table>`` source: the table made by its simulator, typed like Parquet."""
    from ketastats.datasets.simulate import ON_DEMAND

    key = source[len(SIMULATE_PREFIX):]
    if key not in ON_DEMAND:
        raise DataError(Issue("unknown-simulated-table", f"no simulator makes '{key}' (table '{name}')",
                              Location(file=source),
                              hint="Generated tables: " + ", ".join(SIMULATE_PREFIX + k for k in sorted(ON_DEMAND))))
    frame = ON_DEMAND[key]().reset_index(drop=True)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return RawTable(name=name, frame=frame, display_name=source, sha256=_frame_sha256(frame), format="simulated")


def _frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's Parquet bytes (pyarrow, no compression, no pandas metadata): stable per version."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), sink,
                   compression="none", write_statistics=False)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _refuse_nul_bytes(path: Path, display: str) -> None:
    """``nul-byte`` (located: data row and column) for NUL bytes in a CSV file.

    pandas' C parser ends a cell at a NUL (``5\\x002`` is read as ``5``, subject ``p\\x003`` as ``p``),
    silently; a NUL is never part of a valid text table. The file is searched without reading it
    into memory (a 2 GiB file that is mostly a NUL hole is refused at once).
    """
    import mmap

    if path.stat().st_size == 0:
        return
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        if view[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or view[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return   # UTF-16 / UTF-32 with a byte-order mark: not-utf8 says what to do
        first = view.find(b"\x00")
        if first < 0:
            return
        header_end = view.find(b"\n")
        header = _fields(bytes(view[: header_end if header_end >= 0 else min(len(view), 1 << 20)]))
        issues: list[Issue] = []
        count, position = 0, first
        end = min(len(view), first + NUL_SCAN_BYTES)   # a hole of NULs is not read to its end
        while position >= 0:
            count += 1
            if len(issues) < MAX_NUL_ISSUES:
                line_start = view.rfind(b"\n", 0, position) + 1
                line = view[:line_start].count(b"\n") + 1 if line_start < (1 << 26) else None
                field = len(_fields(bytes(view[line_start:position]) + b"x")) - 1
                column = header[field] if 0 <= field < len(header) else None
                row = line - 1 if line is not None and line > 1 else None
                where = f"line {line}" if line is not None else f"byte {position}"
                issues.append(Issue("nul-byte", f"a NUL byte (\\x00) in a cell ({where}); it would cut the value "
                                    "short", Location(file=display, row=row, column=column if row else None),
                                    hint="NUL is not text: the file is damaged, not a CSV export, or UTF-16 text "
                                         "(save it as UTF-8). Remove the NUL bytes (or re-export the file)"))
            next_line = view.find(b"\n", position, end)
            position = view.find(b"\x00", next_line, end) if next_line >= 0 else -1
        searched = "" if end >= len(view) else f" (searched up to byte {end:,} of {len(view):,})"
        if count > MAX_NUL_ISSUES or searched:
            issues.append(Issue("nul-byte", f"{max(0, count - MAX_NUL_ISSUES)} more lines hold NUL bytes{searched}",
                                Location(file=display)))
    raise DataError(issues)


def _fields(line: bytes) -> list[str]:
    """The CSV fields of one line (for locating a NUL byte's column)."""
    text = line.replace(b"\x00", b"").decode("utf-8-sig", errors="replace").rstrip("\r\n")
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return text.split(",")


def _read_csv(data: bytes, display: str, missing: list[str]) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(Issue("not-utf8", f"the file is not UTF-8 text (line {line})", Location(file=display),
                              hint="Save the file as UTF-8 (e.g. 'CSV UTF-8' in Excel)")) from None
    if not text.strip():
        raise DataError(Issue("empty-file", "the file is empty", Location(file=display)))
    try:
        wide = _read_wide_csv(text, missing)
        if wide is not None:
            return wide
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=missing,
                           skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise DataError(Issue("csv-syntax", f"cannot parse CSV: {exc}".strip(), Location(file=display),
                              hint="Check quoting and the number of fields on that line")) from None


WIDE_COLUMNS = 1_000
"""CSV files with more columns than this are read by :func:`_read_wide_csv`."""


def _read_wide_csv(text: str, missing: list[str]) -> pd.DataFrame | None:
    """A wide CSV (a connectome export: 77,421 columns × 40 rows) as one block of text cells, or ``None``.

    ``pandas.read_csv(dtype=str)`` builds one array per column (12 s for 77,421 columns); the csv
    module and a single 2-D object array take under a second. Same result as the pandas call for
    such files: text cells, the missing-value strings as NaN, blank lines skipped, short rows filled
    with NaN, a row with too many fields an error with pandas' message. ``None`` (use pandas) for
    narrow files and for headers with repeated names (pandas renames those).
    """
    first = text.split("\n", 1)[0]
    if first.count(",") < WIDE_COLUMNS:
        return None
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if len(set(header)) != len(header):
        return None
    width = len(header)
    rows = []
    for row in reader:
        if not row:
            continue
        if len(row) > width:
            raise ValueError(f"Error tokenizing data. C error: Expected {width} fields in line {reader.line_num}, "
                             f"saw {len(row)}")
        rows.append(row if len(row) == width else row + [None] * (width - len(row)))
    cells = np.array(rows, dtype=object).reshape(len(rows), width)
    absent = np.isin(cells, list(missing)) | (cells == None)  # noqa: E711 - elementwise
    cells[absent] = np.nan
    return pd.DataFrame(cells, columns=header, dtype=object)  # object: pandas 3 would infer a str column each


def _read_binary(reader, display: str, kind: str) -> pd.DataFrame:
    try:
        return reader()
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes a located data error
        raise DataError(Issue("unreadable-file", f"cannot read {kind} file: {exc}", Location(file=display))) from None


def _read_xpt(path: Path) -> pd.DataFrame:
    import pyreadstat

    frame, _meta = pyreadstat.read_xport(str(path))
    return frame
