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

import pandas as pd

from ketastats.errors import DataError, Issue, Location

PACKAGE_PREFIX = "ketastats:"
SIMULATE_PREFIX = "simulate:"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xpt": "xpt"}


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
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=missing,
                           skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise DataError(Issue("csv-syntax", f"cannot parse CSV: {exc}".strip(), Location(file=display),
                              hint="Check quoting and the number of fields on that line")) from None


def _read_binary(reader, display: str, kind: str) -> pd.DataFrame:
    try:
        return reader()
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes a located data error
        raise DataError(Issue("unreadable-file", f"cannot read {kind} file: {exc}", Location(file=display))) from None


def _read_xpt(path: Path) -> pd.DataFrame:
    import pyreadstat

    frame, _meta = pyreadstat.read_xport(str(path))
    return frame
