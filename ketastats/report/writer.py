"""Write a run's report folder atomically.

Layout (the output contract)::

    <out>/tables/<analysis id>.csv   tidy results, rounded by report.format
    <out>/tables/<analysis id>.tex   the same table for manuscripts: LaTeX (booktabs) and Word (.docx),
    <out>/tables/<analysis id>.docx  as report.html shows it (report.exports); also multiplicity/<family>.tex|.docx
    <out>/exclusions.csv            every row an analysis left out, and why
    <out>/adtte_<name>.csv          each derived time-to-event table (ADaM ADTTE shape), one row per subject
    <out>/multiplicity/<family>.csv each multiplicity family: raw and adjusted p, threshold, verdict
    <out>/figures/<figure id>.png   each figure of the plan's figures: (also .svg and .pdf; ketastats.figures)
    <out>/results.json              everything at full precision, with notes and warnings
    <out>/manifest.json             provenance (hashes, versions, seed)
    <out>/report.html               one self-contained page

    <out>/.ketastats-report         the marker: this folder is a ketastats report, and the files the run wrote

Everything is written into a temporary sibling folder (``.tmp-<out>-*``), which then replaces
``<out>`` by rename; a failed run leaves the previous report untouched. Only a ketastats report is
ever replaced: an existing ``<out>`` must be empty or carry the marker (reports written before the
marker existed are recognised by their ``manifest.json`` *and* ``results.json``, both ketastats's),
and must hold nothing but the files ketastats wrote there — a file or folder the user added
(``NOTES.md``, ``review/``) is never deleted: the run is refused (exit 2) naming it, before any
analysis runs. Writers of the same parent folder take an exclusive lock (``flock`` on the parent
folder itself, so no lock file is left behind): concurrent runs into one output take turns, and
each, holding the lock, first removes staging folders of crashed runs (``.tmp-<out>-*`` that carry
ketastats's staging marker) and puts back a report a crash left renamed to ``.old-<out>-*``.

Example
-------
``write_report(plan_result, Path("reports/siegel2021"))``
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from ketastats.analyses.base import exclusion_counts
from ketastats.errors import Issue, Location, OutputError
from ketastats.report.format import json_value, to_csv_text
from ketastats.results import EXCLUSION_COLUMNS, PlanResult


def output_folder(loaded, out) -> Path:
    """``out`` if given, else the plan's ``output:`` (relative to the plan file), else reports/<id>."""
    if out is not None:
        return Path(out)
    if loaded.plan.output:
        return Path(os.path.normpath(loaded.base / loaded.plan.output))
    return Path("reports") / loaded.plan.id


MARKER = ".ketastats-report"
"""The report marker file: JSON ``{"ketastats_report": 1, "files": [every file the run wrote]}``."""
STAGING_MARKER = ".ketastats-staging"
"""Written first into a staging folder, so a crashed run's folder can be recognised and removed."""
MAX_LISTED = 20


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def report_files(folder: Path) -> set[str] | None:
    """The files (relative POSIX paths) ketastats wrote in ``folder``, or ``None`` if it is not a ketastats report."""
    marker = folder / MARKER
    if _lexists(marker):
        try:
            document = json.loads(marker.read_text(encoding="utf-8")) if not marker.is_symlink() else None
        except (OSError, ValueError):
            return None
        if isinstance(document, dict) and document.get("ketastats_report") == 1 and \
                isinstance(document.get("files"), list) and all(isinstance(f, str) for f in document["files"]):
            return set(document["files"]) | {MARKER}
        return None
    return _legacy_report_files(folder)


def _legacy_report_files(folder: Path) -> set[str] | None:
    """A report written before the marker: ketastats's manifest.json and results.json, and the files they imply."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and manifest.get("ketastats_manifest") == 1 and isinstance(results, dict)
            and results.get("ketastats_results") == 1):
        return None
    files = {"manifest.json", "results.json", "report.html", "exclusions.csv"}
    try:
        for analysis in results.get("analyses") or []:
            files |= {f"tables/{analysis['id']}.{ext}" for ext in ("csv", "tex", "docx")}
        for family in results.get("multiplicity") or []:
            files |= {f"multiplicity/{family['family']}.{ext}" for ext in ("csv", "tex", "docx")}
        for figure in results.get("figures") or []:
            files |= {str(path) for path in (figure.get("files") or {}).values()}
    except (TypeError, KeyError, AttributeError):
        return None
    files |= {p.name for p in folder.glob("adtte_*.csv")}
    return files


def foreign_entries(folder: Path, ours: set[str]) -> list[str]:
    """Files and folders under ``folder`` that ketastats did not write (folders shown once, with a trailing /)."""
    found: list[str] = []
    keep_dirs = {part for name in ours for part in _parents(name)}
    for here, dirs, files in os.walk(folder, followlinks=False):
        relative = Path(here).relative_to(folder).as_posix()
        prefix = "" if relative == "." else relative + "/"
        for name in sorted(dirs):
            path = prefix + name
            if path not in keep_dirs or os.path.islink(Path(here) / name):
                found.append(path + "/")
        dirs[:] = [d for d in dirs if prefix + d in keep_dirs and not os.path.islink(Path(here) / d)]
        found += [prefix + name for name in sorted(files) if prefix + name not in ours]
    return sorted(found)


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def target_issues(target: Path) -> list[Issue]:
    """Why ``target`` may not be replaced by a report (empty if it may): a link, a file, a foreign folder."""
    target = Path(target)
    location = Location(file=str(target))
    if target.is_symlink():  # never follow a link to replace (and delete) a folder elsewhere
        return [Issue("output-is-a-link", f"'{target}' is a symbolic link", location,
                      hint="Give the real folder with --out, or remove the link yourself")]
    if not target.exists():
        return []
    if not target.is_dir():
        return [Issue("output-not-a-report", f"'{target}' exists and is not a folder", location,
                      hint="Choose another folder with --out, or remove it yourself")]
    try:
        if not any(target.iterdir()):
            return []
        ours = report_files(target)
    except OSError as exc:
        return [Issue("output-not-writable", f"cannot read the output folder '{target}': {exc.strerror}", location)]
    if ours is None:
        return [Issue("output-not-a-report", f"'{target}' exists and is not a ketastats report folder", location,
                      hint="Choose another folder with --out, or remove it yourself. A report folder carries "
                           f"the marker file {MARKER} (or a ketastats manifest.json and results.json)")]
    foreign = foreign_entries(target, ours)
    if foreign:
        more = f" and {len(foreign) - MAX_LISTED} more" if len(foreign) > MAX_LISTED else ""
        shown = ", ".join(foreign[:MAX_LISTED]) + more
        return [Issue("output-holds-other-files",
                      f"the report folder '{target}' holds {len(foreign)} file(s) or folder(s) ketastats did not "
                      f"write: {shown}", location,
                      hint="A report folder is replaced as a whole on every run, and ketastats never deletes what "
                           "it did not write: move these elsewhere (or choose another folder with --out)")]
    return []


def location_issues(target: Path, protected: list[tuple[Path, str]]) -> list[Issue]:
    """``output-holds-inputs`` if the report folder is, or contains, one of ``protected`` (the project root,
    the plan's folder, the plan, its data files and dictionaries): replacing it would delete them."""
    resolved = Path(os.path.realpath(target))
    for path, what in protected:
        real = Path(os.path.realpath(path))
        if real == resolved or real.is_relative_to(resolved):
            return [Issue("output-holds-inputs", f"the output folder '{target}' is or contains {what} "
                          f"('{path}')", Location(file=str(target)),
                          hint="The report folder is replaced as a whole on every run: it may not be the project "
                               "root, the plan's folder or a folder holding the plan's inputs. Choose a folder of "
                               "its own, e.g. reports/<plan id>")]
    return []


@contextmanager
def _locked(folder: Path):
    """An exclusive ``flock`` on ``folder`` (a directory): writers of reports in the same folder take turns."""
    import fcntl

    descriptor = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts): write without one
            pass
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _clean_stale(target: Path) -> None:
    """Holding the lock: remove staging folders of crashed runs; put back a report a crash left aside."""
    parent, name = target.parent, target.name
    for staging in parent.glob(f".tmp-{name}-*"):   # every writer holds the lock while it stages: these are stale
        if staging.is_dir() and not staging.is_symlink() and \
                (_lexists(staging / STAGING_MARKER) or _lexists(staging / MARKER) or not any(staging.iterdir())):
            shutil.rmtree(staging, ignore_errors=True)   # (empty: killed between mkdtemp and the marker)
    backups = sorted((p for p in parent.glob(f".old-{name}-*") if p.is_dir() and not p.is_symlink()
                      and report_files(p) is not None), key=lambda p: p.stat().st_mtime)
    for backup in backups:
        if not _lexists(target):
            backup.rename(target)   # a crash between the two renames: the previous report comes back
        elif not foreign_entries(backup, report_files(backup) or set()):
            shutil.rmtree(backup, ignore_errors=True)



def write_report(result: PlanResult, target: Path, protected: Sequence[tuple[Path, str]] = ()) -> None:
    """Write the report into ``target`` (atomically, under a lock); raises :class:`OutputError` (exit 2)."""
    target = Path(os.path.abspath(target))
    issues = target_issues(target) if target.is_symlink() else \
        location_issues(target, list(protected)) + target_issues(target)
    if issues:
        raise OutputError(issues)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target.parent):
            _clean_stale(target)
            issues = target_issues(target)   # again, holding the lock: another run may have written meanwhile
            if issues:
                raise OutputError(issues)
            _replace(result, target)
    except OSError as exc:
        where = exc.filename or target
        raise OutputError(Issue("output-not-writable", f"cannot write the report to '{target}': "
                                f"{exc.strerror or exc} ('{where}')", Location(file=str(target)),
                                hint="Check that the folder (and its parent) is writable and the disk is not full, "
                                     "or choose another folder with --out")) from None
    for figure in result.figures:  # the files now live in target, not in the staging folder
        figure.files = {kind: target / "figures" / path.name for kind, path in figure.files.items()}


def _replace(result: PlanResult, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    (staging / STAGING_MARKER).write_text("", encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the report gets the user's usual permissions
    try:
        _write_all(result, staging)
        (staging / STAGING_MARKER).unlink()
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        _write_text(staging / MARKER, json.dumps({"ketastats_report": 1, "files": files}, indent=1) + "\n")
        if target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
            backup.rmdir()
            target.rename(backup)
            try:
                staging.rename(target)
            except BaseException:
                backup.rename(target)  # put the previous report back
                raise
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _write_all(result: PlanResult, folder: Path) -> None:
    from ketastats.figures import write_figures
    from ketastats.report.display import analysis_table, family_table
    from ketastats.report.exports import write_exports
    from ketastats.report.html import render_html

    for analysis_id, analysis in result.results.items():
        if analysis.ok:
            _write_text(folder / "tables" / f"{analysis_id}.csv", to_csv_text(analysis.tidy))
    exclusions = result.exclusions.sort_values(["analysis_id", "row", "reason"], kind="mergesort") \
        if len(result.exclusions) else result.exclusions
    _write_text(folder / "exclusions.csv", to_csv_text(exclusions[EXCLUSION_COLUMNS]))
    for name in _time_to_event_tables(result):   # derived ADaM ADTTE-shaped tables (ketastats.derive.time_to_event)
        _write_text(folder / f"adtte_{name}.csv", to_csv_text(result.data[name]))
    for name, family in result.families.items():
        if family.ok:
            _write_text(folder / "multiplicity" / f"{name}.csv", to_csv_text(family.table))
    write_figures(result.figures, folder / "figures")   # drawn by run_plan's figures stage; listed by results.json
    _write_text(folder / "results.json", json.dumps(results_document(result), indent=1, ensure_ascii=False) + "\n")
    _write_text(folder / "manifest.json", json.dumps(result.manifest, indent=1, ensure_ascii=False) + "\n")
    # each display table is built once, for the LaTeX / Word copies and for report.html
    tables = {analysis_id: analysis_table(analysis) for analysis_id, analysis in result.results.items() if analysis.ok}
    family_tables = {name: family_table(family) for name, family in result.families.items() if family.ok}
    write_exports(result, folder, tables, family_tables)   # tables/<id>.tex|.docx, multiplicity/<family>.tex|.docx
    _write_text(folder / "report.html", render_html(result, figures=result.figures, tables=tables,
                                                    family_tables=family_tables))


def _time_to_event_tables(result: PlanResult) -> list[str]:
    return [d.name for d in result.plan.derive if d.KIND == "time_to_event" and d.name in result.data]


def results_document(result: PlanResult) -> dict:
    """results.json: every analysis at full precision, with notes, warnings and failures."""
    plan = result.plan
    analyses = []
    for analysis in result.results.values():
        analyses.append({
            "id": analysis.analysis_id,
            "type": analysis.type,
            "title": analysis.title,
            "status": analysis.status,
            "notes": analysis.notes,
            "issues": [issue.to_dict() for issue in analysis.issues],
            "glance": {key: json_value(value) for key, value in analysis.glance.items()},
            "tidy": [{key: json_value(value) for key, value in row.items()}
                     for row in analysis.tidy.to_dict(orient="records")],
            "n_excluded": exclusion_counts(analysis.exclusions)[0],   # not-selected rows apart (analyses.base)
            "n_not_selected": exclusion_counts(analysis.exclusions)[1],
        })
    return {
        "ketastats_results": 1,
        "plan": {"id": plan.id, "title": plan.title, "synthetic_data": plan.synthetic_data},
        "status": "failed" if result.failed else "ok",
        "failed": result.failed,
        # whether the plan matches its lock file (ketastats.lock); absent when the manifest lacks it
        "prespecification": (result.manifest.get("prespecification") if isinstance(result.manifest, dict)
                             else None),
        "warnings": [issue.to_dict() for issue in result.warnings],
        "analyses": analyses,
        "multiplicity": [{
            "family": family.family, "method": family.method, "alpha": family.alpha, "title": family.title,
            "status": family.status, "summary": family.summary,
            "issues": [issue.to_dict() for issue in family.issues],
            "members": [{key: json_value(value) for key, value in row.items()}
                        for row in family.table.to_dict(orient="records")],
        } for family in result.families.values()],
        "figures": [{"id": figure.id, "type": figure.type, "analysis": figure.analysis, "title": figure.title,
                     "caption": figure.caption, "status": figure.status, "reason": figure.reason,
                     "files": {kind: f"figures/{path.name}" for kind, path in figure.files.items()}}
                    for figure in result.figures],
    }
