"""``ketastats`` commands: run, validate, check, lock, qualify, schema, simulate.

Exit codes (the output contract): 0 everything ran; 1 an analysis failed (the others were
written) or ``check`` found drift; 2 the plan, a dictionary or the data is invalid (nothing
was written). Problems are printed as located issues, without a traceback; ``--debug`` shows
the traceback of an unexpected error.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Prespecified analysis of ketamine / TRD trials from a YAML plan.")

PlanArgument = typer.Argument(..., help="the analysis plan (YAML)", exists=False)
AllowOutside = typer.Option(False, "--allow-outside-paths",
                            help="allow data sources, dictionaries and output: outside the plan's project "
                                 "(see docs/safety.md)")


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_issues(exc, title: str) -> None:
    from ketastats.api import validation_stages

    console = _console()
    errors = [i for i in exc.issues if i.severity == "error"]
    console.print(f"[bold red]{title}[/]: {len(errors)} problem(s)")
    for issue in exc.issues:
        console.print(f"  {issue}", markup=False, soft_wrap=True)
    _print_stages(validation_stages(exc))


def _print_stages(stages) -> None:
    """Which stages of validation ran and which were skipped (and why), after a failed validation."""
    if not stages or all(stage.status == "passed" for stage in stages):
        return
    console = _console()
    console.print("stages: " + ", ".join(f"{stage.name} {stage.status}" for stage in stages), markup=False,
                  soft_wrap=True)
    grouped: dict[tuple[str, str], list[str]] = {}   # stages with the same outcome and reason on one line
    for stage in stages:
        if stage.status != "passed" and stage.detail:
            grouped.setdefault((stage.status, stage.detail), []).append(stage.name)
    for (status, detail), names in grouped.items():
        console.print(f"  {', '.join(names)} {status}: {detail}", markup=False, soft_wrap=True)


@contextmanager
def _handled(debug: bool, title: str):
    from ketastats.errors import KetastatsError

    try:
        yield
    except KetastatsError as exc:
        _print_issues(exc, title)
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception:
        if debug:
            raise
        import traceback

        _console().print("[bold red]internal error[/] (a bug in ketastats; please report it with --debug output):",
                         highlight=False)
        _console().print(traceback.format_exc(limit=-3), markup=False)
        raise typer.Exit(3) from None


@contextmanager
def _progress(quiet: bool):
    """A status line on a terminal; elsewhere (a log, CI) only the progress of large tables, as lines.

    Progress goes to stderr only, never into the tables or the JSON on stdout.
    """
    if quiet:
        yield lambda message: None
        return
    console = _console()
    if not console.is_terminal:
        def line(message: str) -> None:
            if message.startswith("validating "):  # validate_table's steps for tables of 100,000+ rows
                console.print(message, markup=False, highlight=False, soft_wrap=True)

        yield line
        return
    with console.status("starting") as status:
        yield lambda message: status.update(message)


@app.command()
def run(plan: Path = PlanArgument,
        out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: the plan's output)"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display"),
        debug: bool = typer.Option(False, "--debug", help="show tracebacks of unexpected errors"),
        allow_outside_paths: bool = AllowOutside,
        engine: Optional[str] = typer.Option(None, "--engine", help="local | dask: where batched analyses "
                                             "(mass_mixed_model) run; overrides the plan"),
        address: Optional[str] = typer.Option(None, "--address", help="Dask scheduler address, e.g. "
                                              "tcp://10.0.0.5:8786 (default: a local cluster)"),
        allow_deviation: bool = typer.Option(False, "--allow-deviation",
                                             help="run a 'require_lock: true' plan that is unlocked or deviates "
                                                  "from its lock (the report says so in a banner)")) -> None:
    """Validate the data, run every analysis and write the report."""
    from ketastats.api import run_plan
    from ketastats.engines import ENGINES

    if engine is not None and engine not in ENGINES:
        _console().print(f"[bold red]invalid option[/]: --engine {engine!r}; choose one of {', '.join(ENGINES)}")
        raise typer.Exit(2)
    if address is not None and engine is None:
        engine = "dask"
    with _handled(debug, "invalid input"), _progress(quiet) as progress:
        result = run_plan(plan, out=out, progress=progress, allow_outside=allow_outside_paths,
                          engine=engine, address=address, allow_deviation=allow_deviation)
    console = _console()
    _print_prespecification(result.manifest.get("prespecification"))
    for analysis in result.results.values():
        for issue in analysis.issues:
            console.print(f"  {analysis.analysis_id}: {issue.severity}: {issue.message} ({issue.code})", markup=False,
                          soft_wrap=True)
    failed_families = [family for family in result.families.values() if not family.ok]
    for family in failed_families:   # each member's real reason, with the plan's line
        for issue in family.issues:
            console.print(f"  family {family.family}: {issue.severity}: {issue}", markup=False, soft_wrap=True)
    for issue in result.warnings:
        console.print(f"  warning: {issue}", markup=False, soft_wrap=True)
    ran = len(result.results) - len(result.failed)
    console.print(f"{ran}/{len(result.results)} analyses ran; report written to {result.output}", markup=False)
    if result.failed:
        console.print(f"[bold red]failed[/]: {', '.join(result.failed)}")
    if failed_families:
        console.print("[bold red]multiplicity families not adjusted[/]: ", end="")
        console.print(", ".join(family.family for family in failed_families), markup=False)
    raise typer.Exit(result.exit_code)


@app.command()
def validate(plan: Path = PlanArgument,
             format: str = typer.Option("text", "--format", help="text | json"),
             debug: bool = typer.Option(False, "--debug"),
             allow_outside_paths: bool = AllowOutside) -> None:
    """Check the plan, its dictionaries and its data; run nothing, write nothing."""
    from ketastats.api import validate_plan, validation_stages
    from ketastats.errors import KetastatsError

    if format == "json":
        try:
            with _progress(False) as progress:
                prepared = validate_plan(plan, progress=progress, allow_outside=allow_outside_paths)
            issues, code, stages = prepared.warnings + prepared.derive_warnings, 0, prepared.stages
        except KetastatsError as exc:
            issues, code, stages = exc.issues, exc.exit_code, validation_stages(exc)
        typer.echo(json.dumps({"valid": code == 0, "issues": [i.to_dict() for i in issues],
                               "stages": [stage.to_dict() for stage in stages]}, indent=1))
        raise typer.Exit(code)
    with _handled(debug, "invalid input"), _progress(False) as progress:
        prepared = validate_plan(plan, progress=progress, allow_outside=allow_outside_paths)
    for issue in prepared.warnings + prepared.derive_warnings:
        _console().print(f"  warning: {issue}", markup=False, soft_wrap=True)
    rows = sum(len(frame) for frame in prepared.tables.values())
    _console().print(f"valid: plan '{prepared.plan.id}', {len(prepared.tables)} tables, {rows} rows, "
                     f"{len(prepared.plan.analyses)} analyses", markup=False)


@app.command()
def check(plan: Path = PlanArgument,
          reports: Optional[Path] = typer.Option(None, "--reports", help="committed report folder "
                                                 "(default: the plan's output)"),
          debug: bool = typer.Option(False, "--debug"),
          locked: bool = typer.Option(False, "--locked", help="compare the plan with its lock file instead "
                                      "(<plan>.lock; exit 1 when unlocked or deviating); runs no analysis"),
          allow_outside_paths: bool = AllowOutside) -> None:
    """Re-run the plan and compare its tables with the committed report (exit 1 on drift)."""
    if locked:
        _check_locked(plan, debug, allow_outside_paths)
    from ketastats.api import run_plan
    from ketastats.plan import load_plan
    from ketastats.report.check import RELATIVE_TOLERANCE, compare_reports
    from ketastats.report.writer import output_folder

    console = _console()
    with _handled(debug, "invalid input"):
        committed = reports or output_folder(load_plan(plan), None)
        if not (committed / "manifest.json").is_file():
            console.print(f"[bold red]no committed report[/] at {committed}: run 'ketastats run {plan}' first",
                          highlight=False)
            raise typer.Exit(1)
        with tempfile.TemporaryDirectory(prefix="ketastats-check-") as folder:
            current = Path(folder) / "report"
            result = run_plan(plan, out=current, allow_outside=allow_outside_paths)
            differences = compare_reports(committed, current)
    scope = ("compared: tables/*.csv, multiplicity/*.csv, exclusions.csv, adtte_*.csv; not compared: "
             "results.json, manifest.json (it records versions, which may differ), report.html, figures/ and "
             "the .tex / .docx copies — an edit to those is not detected")
    if differences:
        console.print(f"[bold red]drift[/]: {len(differences)} difference(s) from {committed} "
                      f"(relative tolerance {RELATIVE_TOLERANCE:g})")
        for difference in differences[:200]:
            console.print(f"  {difference}", markup=False)
        console.print(scope, markup=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"no drift: {committed} matches a fresh run of {plan} "
                  f"(relative tolerance {RELATIVE_TOLERANCE:g})", markup=False)
    console.print(scope, markup=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _check_locked(plan: Path, debug: bool, allow_outside_paths: bool) -> None:
    from ketastats.api import validate_plan
    from ketastats.lock import compare_with_lock

    with _handled(debug, "invalid input"), _progress(False) as progress:
        status = compare_with_lock(validate_plan(plan, progress=progress, allow_outside=allow_outside_paths))
    _print_prespecification(status.to_dict())
    raise typer.Exit(0 if status.matches else 1)


def _print_prespecification(status: dict | None) -> None:
    """The plan's lock status on the terminal: one line, then each deviation (key, old, new)."""
    if not status:
        return
    console = _console()
    colour = {"matches": "green", "deviates": "bold red"}.get(status["state"], "yellow")
    console.print(f"[{colour}]prespecification[/]: ", end="")
    console.print(status["summary"], markup=False, soft_wrap=True)
    from ketastats.lock import Deviation

    for entry in status.get("deviations", []):
        console.print(f"  {Deviation(**entry)}", markup=False, soft_wrap=True)


@app.command()
def lock(plan: Path = PlanArgument,
         note: Optional[str] = typer.Option(None, "--note", help="a note recorded in the lock (e.g. 'SAP v1.0, "
                                            "before unblinding')"),
         date: Optional[str] = typer.Option(None, "--date", help="the date of prespecification to record "
                                            "(default: the current UTC time)"),
         data: list[str] = typer.Option([], "--data", help="lock the data file of this table (its SHA-256 is "
                                        "then checked); repeat for several tables"),
         all_data: bool = typer.Option(False, "--all-data", help="lock the data files of every table"),
         debug: bool = typer.Option(False, "--debug"),
         allow_outside_paths: bool = AllowOutside) -> None:
    """Write <plan>.lock beside the plan: what was prespecified (commit it before unblinding)."""
    from ketastats.api import validate_plan
    from ketastats.lock import write_lock

    with _handled(debug, "invalid input"), _progress(False) as progress:
        prepared = validate_plan(plan, progress=progress, allow_outside=allow_outside_paths)
        tables = list(prepared.plan.data) if all_data else list(dict.fromkeys(data))
        written = write_lock(prepared, date=date, note=note, data=tables)
    locked = f"; data locked: {', '.join(tables)}" if tables else "; no data locked"
    _console().print(f"locked {len(prepared.plan.analyses)} analyses of plan '{prepared.plan.id}' in {written}"
                     f"{locked}", markup=False, soft_wrap=True)


@app.command()
def qualify(out: Path = typer.Option(Path("qualification"), "--out", help="folder for qualification.html and "
                                     "qualification.json"),
            debug: bool = typer.Option(False, "--debug")) -> None:
    """Run the installed package's reference suite against R and write a qualification report (exit 1 on failure)."""
    from ketastats.qualify import run_qualification

    with _handled(debug, "qualification"), _progress(False) as progress:
        report = run_qualification(out, progress=progress)
    console = _console()
    for requirement in report["requirements"]:
        if requirement["status"] != "pass":
            console.print(f"  [bold red]FAIL[/] {requirement['id']}: ", end="")
            console.print(requirement["title"] + (f" — {requirement['reason']}" if requirement.get("reason") else ""),
                          markup=False, soft_wrap=True)
    summary = report["summary"]
    console.print(f"{summary['passed']}/{summary['requirements']} requirements passed ({summary['checks']} "
                  f"comparisons with R); report written to {out}", markup=False)
    raise typer.Exit(0 if summary["status"] == "pass" else 1)


@app.command()
def schema() -> None:
    """Print the plan's JSON Schema (for editor validation and completion)."""
    from ketastats.plan.json_schema import plan_json_schema

    typer.echo(json.dumps(plan_json_schema(), indent=1))


@app.command()
def simulate(dataset: str = typer.Argument(..., help="dataset name, e.g. siegel2021"),
             out: Path = typer.Argument(..., help="folder to write the CSV files into"),
             force: bool = typer.Option(False, "--force", help="overwrite existing files")) -> None:
    """Regenerate a packaged synthetic dataset (deterministic: same seed, same bytes)."""
    from ketastats.datasets.simulate import SIMULATORS, write_dataset

    if dataset not in SIMULATORS:
        _console().print(f"unknown dataset '{dataset}'; choose from: {', '.join(sorted(SIMULATORS))}",
                         markup=False)
        raise typer.Exit(2)
    if out.exists() and any(out.glob("*.csv")) and not force:
        _console().print(f"{out} already holds CSV files; pass --force to overwrite them", markup=False)
        raise typer.Exit(2)
    written = write_dataset(dataset, out)
    _console().print(f"wrote {len(written)} synthetic tables to {out}", markup=False)


def main() -> None:
    app(prog_name="ketastats")


if __name__ == "__main__":  # pragma: no cover
    main()
