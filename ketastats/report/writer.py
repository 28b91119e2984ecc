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

Everything is written into a temporary sibling folder, which then replaces ``<out>`` by
rename; a failed run leaves the previous report untouched. An existing ``<out>`` that is
not a ketastats report (no manifest.json) is never replaced.

Example
-------
``write_report(plan_result, Path("reports/siegel2021"))``
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

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


def write_report(result: PlanResult, target: Path) -> None:
    target = Path(target)
    if target.is_symlink():  # never follow a link to replace (and delete) a folder elsewhere
        raise OutputError(Issue("output-is-a-link", f"'{target}' is a symbolic link", Location(file=str(target)),
                                hint="Give the real folder with --out, or remove the link yourself"))
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / "manifest.json").is_file())):
        raise OutputError(Issue("output-not-a-report", f"'{target}' exists and is not a ketastats report folder",
                                Location(file=str(target)),
                                hint="Choose another folder with --out, or remove it yourself"))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the report gets the user's usual permissions
    try:
        _write_all(result, staging)
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
    for figure in result.figures:  # the files now live in target, not in the staging folder
        figure.files = {kind: target / "figures" / path.name for kind, path in figure.files.items()}


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _write_all(result: PlanResult, folder: Path) -> None:
    from ketastats.figures import render_figures
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
    rendered = render_figures(result, folder)  # figures/<id>.png|svg|pdf; before results.json, which lists them
    _write_text(folder / "results.json", json.dumps(results_document(result), indent=1, ensure_ascii=False) + "\n")
    _write_text(folder / "manifest.json", json.dumps(result.manifest, indent=1, ensure_ascii=False) + "\n")
    write_exports(result, folder)   # tables/<id>.tex|.docx and multiplicity/<family>.tex|.docx (manuscripts)
    _write_text(folder / "report.html", render_html(result, figures=rendered))


def _time_to_event_tables(result: PlanResult) -> list[str]:
    from ketastats.plan.schema import TimeToEvent

    return [d.name for d in result.plan.derive if isinstance(d, TimeToEvent) and d.name in result.data]


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
            "n_excluded": int(len(analysis.exclusions)),
        })
    return {
        "ketastats_results": 1,
        "plan": {"id": plan.id, "title": plan.title, "synthetic_data": plan.synthetic_data},
        "status": "failed" if result.failed else "ok",
        "failed": result.failed,
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
