"""The entry points: :func:`validate_plan` and :func:`run_plan`. The CLI calls only these.

The data's way through the package, one stage per line of :func:`run_plan`::

    plan file ─ load_plan ─► Plan ─ prepare (dictionaries, names, data validation) ─► tables
              ─ apply_derivations ─► derived tables ─ run analyses ─► results ─ write_report

Example
-------
>>> result = run_plan("analysis_plans/siegel2021.yaml", out=None)   # doctest: +SKIP
>>> result.tables["madrs_by_visit"].head()                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ketastats.data.dictionary import Dictionary, load_dictionary
from ketastats.data.io import RawTable, read_table
from ketastats.data.validate import finalize_types, validate_table
from ketastats.errors import DataError, Issue, KetastatsError, PlanError
from ketastats.plan import LoadedPlan, load_plan
from ketastats.plan.resolve import Catalog, resolve
from ketastats.results import AnalysisResult, PlanResult

Progress = Callable[[str], None]


@dataclass
class PreparedPlan:
    """A plan whose names, dictionaries and data are all valid: ready to run."""

    loaded: LoadedPlan
    dictionaries: dict[str, Dictionary]
    raw: dict[str, RawTable]
    tables: dict[str, pd.DataFrame]
    catalog: Catalog
    warnings: list[Issue] = field(default_factory=list)

    @property
    def plan(self) -> Any:
        return self.loaded.plan


def validate_plan(path: str | Path, progress: Progress | None = None, allow_outside: bool = False) -> PreparedPlan:
    """Load the plan, its dictionaries and its data and check everything; raises on any problem.

    Raises ``PlanError`` (plan or dictionary problems) or ``DataError`` (data problems), each
    listing every issue found, with its location. Sources, dictionaries and the ``output:``
    folder must lie inside the plan's project (:mod:`ketastats.paths`) unless ``allow_outside``.
    """
    say = progress or (lambda message: None)
    say("loading plan")
    loaded = load_plan(path)
    plan = loaded.plan
    path_issues = _outside_paths(loaded) if not allow_outside else []
    if plan.output and not path_issues:  # the report folder may not hold the plan's inputs (it is replaced)
        from ketastats.report.writer import location_issues, output_folder

        path_issues = [dataclasses.replace(i, location=loaded.document.location(("output",)))
                       for i in location_issues(output_folder(loaded, None), protected_paths(loaded))]
    if path_issues:
        raise PlanError(path_issues)
    dictionaries: dict[str, Dictionary] = {}
    issues: list[Issue] = []
    for name, source in plan.data.items():
        try:
            dictionaries[name] = load_dictionary(loaded.base / source.dictionary, display_name=source.dictionary)
        except KetastatsError as exc:
            issues += [dataclasses.replace(i, location=loaded.document.location(("data", name, "dictionary")))
                       if i.code in ("file-not-found", "file-unreadable") else i for i in exc.issues]
    if issues:
        raise PlanError(issues)
    name_issues, catalog = resolve(plan, dictionaries, loaded.document)
    name_issues += _subject_type_issues(plan, dictionaries, loaded.document)
    raw: dict[str, RawTable] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, source in plan.data.items():
        say(f"reading and validating table '{name}'")
        try:
            raw[name] = read_table(source.source, loaded.base, name, source.format,
                                   dictionaries[name].missing_values)
        except KetastatsError as exc:  # a wrong path is the plan's mistake: point at its line
            issues += [dataclasses.replace(i, location=loaded.document.location(("data", name, "source")))
                       if i.code in ("file-not-found", "bad-package-source", "unknown-format") else i
                       for i in exc.issues]
            continue
        typed, table_issues = validate_table(raw[name].frame, dictionaries[name], raw[name].display_name, say)
        issues += table_issues
        tables[name] = typed
    if name_issues:  # plan and data problems are reported together
        raise PlanError(name_issues + issues)
    if issues:
        raise DataError(issues)
    link_errors, link_warnings = _subject_link_issues(plan, tables, loaded.document)
    if link_errors:
        raise DataError(link_errors + link_warnings)
    tables = {name: finalize_types(frame, dictionaries[name]) for name, frame in tables.items()}
    return PreparedPlan(loaded, dictionaries, raw, tables, catalog, warnings=link_warnings)


def run_plan(path: str | Path, out: str | Path | None = None, write: bool = True,
             progress: Progress | None = None, allow_outside: bool = False,
             engine: str | None = None, address: str | None = None, allow_deviation: bool = False) -> PlanResult:
    """Validate, derive, analyse and (unless ``write=False``) write the report.

    The plan is compared with its lock file (:mod:`ketastats.lock`); the status goes into
    ``result.manifest["prespecification"]`` (hence results.json and the report). A plan with
    ``require_lock: true`` that is unlocked or deviates raises ``PlanError`` unless ``allow_deviation``.

    ``out`` overrides the plan's output folder (the caller's explicit choice: not subject to the
    project rule of ``allow_outside``). ``engine`` (``local`` | ``dask``) and ``address`` (a Dask
    scheduler) override those keys of every analysis that has them (``mass_mixed_model``); the
    tables do not depend on the engine. Returns a :class:`PlanResult` whose ``tables`` hold each
    analysis's tidy table as a pandas DataFrame.
    """
    from ketastats.analyses import BY_TYPE
    from ketastats.analyses.execute import execute
    from ketastats.derive import apply_derivations
    from ketastats.engines import ENGINES
    from ketastats.report.manifest import build_manifest
    from ketastats.report.writer import output_folder, write_report

    say = progress or (lambda message: None)
    if engine is not None and engine not in ENGINES:
        raise PlanError(Issue("unknown-engine", f"unknown engine '{engine}'",
                              hint=f"Choose one of {', '.join(ENGINES)}"))
    prepared = validate_plan(path, progress, allow_outside=allow_outside)
    plan = prepared.plan
    from ketastats.lock import compare_with_lock, refusal

    prespecification = compare_with_lock(prepared)
    if prespecification.require_lock and not prespecification.matches:
        if not allow_deviation:
            raise PlanError(refusal(prespecification, prepared.loaded.path.name,
                                    prepared.loaded.document.location(("require_lock",))))
        prespecification.allowed_deviation = True
    if write:  # before any analysis runs: a folder that may not be replaced is refused now, not after an hour
        from ketastats.errors import OutputError
        from ketastats.report.writer import location_issues, target_issues

        target = output_folder(prepared.loaded, out)
        output_issues = location_issues(target, protected_paths(prepared.loaded)) + target_issues(target)
        if output_issues:
            raise OutputError(output_issues)
    engine_issues = _engine_issues(prepared.loaded, engine, address)
    if engine_issues:
        raise PlanError(engine_issues)
    say("deriving endpoints")
    try:
        tables, warnings = apply_derivations(plan, prepared.tables, prepared.catalog)
    except KetastatsError as exc:  # point derivation problems at the plan's line
        raise type(exc)([_locate(issue, prepared.loaded.document) for issue in exc.issues]) from None
    results: dict[str, AnalysisResult] = {}
    for index, spec in enumerate(plan.analyses):
        say(f"analysis {index + 1}/{len(plan.analyses)}: {spec.id} ({spec.type})")
        spec = _with_engine(spec, engine, address)
        ctx = _analysis_input(prepared, tables, spec, index)
        ctx.progress = progress
        results[spec.id] = execute(BY_TYPE[spec.type], spec, ctx)
    manifest = build_manifest(prepared)
    manifest["prespecification"] = prespecification.to_dict()
    result = PlanResult(plan=plan, results=results, data=tables, manifest=manifest,
                        warnings=prepared.warnings + warnings)
    if plan.multiplicity:
        from ketastats.multiplicity import apply_families

        say("adjusting multiplicity families")
        result.families = apply_families(plan, results)
        for family in result.families.values():   # the plan's file and line of each failing member
            family.issues = [_locate(issue, prepared.loaded.document) for issue in family.issues]
    if plan.figures:   # a stage of its own: results in, encoded files out (nothing written yet)
        from ketastats.figures import draw_figures

        say("drawing figures")
        result.figures, figure_warnings = draw_figures(result)
        result.warnings += figure_warnings
    if write:
        say(f"writing report to {target}")
        write_report(result, target, protected_paths(prepared.loaded))
        result.output = target
    return result


FEW_SUBJECTS_MATCH = 0.5
"""A subject-level join or population that finds fewer than this share of a table's subjects is a warning."""


def _subject_type_issues(plan, dictionaries: dict[str, Dictionary], document) -> list[Issue]:
    """``subject-type-mismatch``: the subject column must have one type in every table that has it.

    Subject-level values and populations are joined by the subject's value: an integer ``1`` in one
    table and the text ``'1'`` (or ``'01'``) in another match nobody, silently."""
    typed = {name: d.columns[plan.subject].type for name, d in dictionaries.items() if plan.subject in d.columns}
    if len(set(typed.values())) <= 1:
        return []
    first = next(iter(typed))
    return [Issue("subject-type-mismatch", f"the subject column '{plan.subject}' is {kind} in table '{name}' but "
                  f"{typed[first]} in table '{first}'", document.location(("data", name, "dictionary")),
                  hint=f"Declare '{plan.subject}' with one type in every dictionary (string is safest: '01' and "
                       "'1' stay distinct); joins by subject compare values, so different types match nobody")
            for name, kind in typed.items() if kind != typed[first]]


def _subject_link_issues(plan, tables: dict[str, pd.DataFrame], document) -> tuple[list[Issue], list[Issue]]:
    """Errors (``subjects-do-not-match``) and warnings (``few-subjects-match``) for joins by subject.

    A subject-level derivation joins its ``from`` table onto every table with the subject column; a
    population declared on one table selects the rows of another by subject. If the two tables share
    no subject (ids typed differently, ``01`` vs ``1``, a wrong file), the join silently matches
    nobody: an error. If fewer than half of a table's subjects are found, a warning says so.
    """
    subject = plan.subject
    subjects = {name: pd.unique(frame[subject].dropna()) for name, frame in tables.items() if subject in frame.columns}
    links: list[tuple[str, str, tuple, str]] = []
    for index, derivation in enumerate(plan.derive):
        source = derivation.joins_from()
        if source in subjects:
            links += [(source, name, ("derive", index), f"subject-level value '{derivation.name}'")
                      for name in subjects if name != source]
    for index, analysis in enumerate(plan.analyses):
        population = plan.populations.get(analysis.population) if analysis.population else None
        if population is not None and population.table != analysis.table and population.table in subjects \
                and analysis.table in subjects:
            links.append((population.table, analysis.table, ("analyses", index, "population"),
                          f"population '{analysis.population}'"))
    errors, warnings, seen = [], [], set()
    for source, target, path, what in links:
        if (source, target, what) in seen or not len(subjects[target]) or not len(subjects[source]):
            continue
        seen.add((source, target, what))
        found = pd.Index(subjects[target]).isin(subjects[source])
        share = float(found.mean())
        missing = pd.Index(subjects[target])[~found]
        example = f"(e.g. '{missing[0] if len(missing) else subjects[target][0]}' in '{target}', " \
                  f"'{subjects[source][0]}' in '{source}')"
        if share == 0:
            errors.append(Issue("subjects-do-not-match", f"the {what} joins table '{source}' onto table '{target}' "
                                f"by '{subject}', but the two tables share no subject {example}",
                                document.location(path),
                                hint="Check that the subject ids are written the same way in both files "
                                     "(type, leading zeros, case, spaces)"))
        elif share < FEW_SUBJECTS_MATCH:
            warnings.append(Issue("few-subjects-match", f"the {what} joins table '{source}' onto table '{target}' "
                                  f"by '{subject}', but only {int(found.sum())} of the {len(found)} subjects of "
                                  f"'{target}' are in '{source}' {example}", document.location(path),
                                  hint="Check that the subject ids are written the same way in both files",
                                  severity="warning"))
    return errors, warnings


def _with_engine(spec, engine: str | None, address: str | None):
    """``spec`` with ``engine`` / ``address`` replaced where the analysis type has them."""
    fields = type(spec).model_fields
    update = {key: value for key, value in (("engine", engine), ("address", address))
              if value is not None and key in fields}
    return spec.model_copy(update=update) if update else spec


def _engine_issues(loaded: LoadedPlan, engine: str | None, address: str | None) -> list[Issue]:
    """``missing-optional-dependency`` for analyses that would run on Dask when it is not installed."""
    from ketastats.engines import DASK_INSTALL, dask_available

    wanting = [(index, spec) for index, spec in enumerate(loaded.plan.analyses)
               if getattr(_with_engine(spec, engine, address), "engine", None) == "dask"]
    if not wanting or dask_available():
        return []
    issues = []
    for index, spec in wanting:
        where = "--engine dask" if engine == "dask" else "engine: dask"
        key = ("analyses", index) if engine == "dask" else ("analyses", index, "engine")
        issues.append(Issue("missing-optional-dependency",
                            f"analysis '{spec.id}' runs on the Dask engine ({where}), but dask[distributed] "
                            f"is not installed: {DASK_INSTALL}", loaded.document.location(key),
                            hint=f"Install the optional engine with {DASK_INSTALL}, or run with --engine local"))
    return issues


def protected_paths(loaded: LoadedPlan) -> list[tuple[Path, str]]:
    """What a report folder may never be or contain: the project root, the plan's folder, the plan, its inputs."""
    from ketastats.data.io import PACKAGE_PREFIX, SIMULATE_PREFIX
    from ketastats.paths import project_root

    protected = [(project_root(loaded.path), "the project root"), (Path(loaded.base), "the plan's folder"),
                 (Path(loaded.path), "the plan")]
    for name, source in loaded.plan.data.items():
        if not source.source.startswith((PACKAGE_PREFIX, SIMULATE_PREFIX)):
            protected.append((Path(loaded.base) / source.source, f"the data source of table '{name}'"))
        protected.append((Path(loaded.base) / source.dictionary, f"the dictionary of table '{name}'"))
    return protected


def _outside_paths(loaded: LoadedPlan) -> list[Issue]:
    """``path-outside-project`` issues for sources, dictionaries and ``output:`` outside the project."""
    from ketastats.data.io import PACKAGE_PREFIX, SIMULATE_PREFIX
    from ketastats.paths import outside, project_root

    root = project_root(loaded.path)
    named: list[tuple[tuple, str, str]] = []
    for name, source in loaded.plan.data.items():
        if not source.source.startswith((PACKAGE_PREFIX, SIMULATE_PREFIX)):
            named.append((("data", name, "source"), source.source, f"data source of table '{name}'"))
        named.append((("data", name, "dictionary"), source.dictionary, f"dictionary of table '{name}'"))
    if loaded.plan.output:
        named.append((("output",), loaded.plan.output, "output folder"))
    issues = []
    for key, value, what in named:
        if outside(value, loaded.base, root):
            issues.append(Issue("path-outside-project", f"the {what} '{value}' is outside the plan's project",
                                loaded.document.location(key),
                                hint="Plans read and write only inside their project (the nearest folder above "
                                     "the plan with pyproject.toml, .git or ketastats.toml); move the file, or "
                                     "pass --allow-outside-paths if this is intended"))
    return issues


def _locate(issue: Issue, document) -> Issue:
    """Add the plan file and line to an issue located only by a YAML path such as ``derive[1]``."""
    import re

    location = issue.location
    if location.file is not None or not location.path:
        return issue
    parts = tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", location.path))
    return dataclasses.replace(issue, location=dataclasses.replace(
        location, file=document.file, line=document.lines.line_of(parts)))


def _analysis_input(prepared: PreparedPlan, tables: dict[str, pd.DataFrame], spec, index: int):
    from ketastats.analyses.base import AnalysisInput
    from ketastats.derive.populations import population_mask

    plan = prepared.plan
    frame = tables[spec.table]
    population = None
    if spec.population is not None:
        declared = plan.populations[spec.population]
        expression = prepared.catalog.expressions[("populations", spec.population, "where")]
        mask = population_mask(frame, spec.table, declared.table, tables[declared.table], expression, plan.subject)
        population = (spec.population, mask)
    where = None
    if spec.where is not None:
        expression = prepared.catalog.expressions[("analyses", index, "where")]
        where = (spec.where, expression.evaluate(frame))
    seed = np.random.SeedSequence([plan.seed, index])
    versus = None
    # a second table: ttest's versus_table (patients vs controls), flow's visits_table
    second = getattr(spec, "versus_table", None) or getattr(spec, "visits_table", None)
    if second is not None:
        name = second
        versus_where = None
        if getattr(spec, "versus_where", None) is not None:
            expression = prepared.catalog.expressions[("analyses", index, "versus_where")]
            versus_where = (spec.versus_where, expression.evaluate(tables[name]))
        versus = AnalysisInput(analysis_id=spec.id, table_name=name, frame=tables[name],
                               subject=getattr(spec, "versus_subject", None) or plan.subject,
                               key=prepared.catalog.keys.get(name, [plan.subject]),
                               columns=prepared.catalog.columns[name], where=versus_where)
    return AnalysisInput(analysis_id=spec.id, table_name=spec.table, frame=frame, subject=plan.subject,
                         key=prepared.catalog.keys.get(spec.table, [plan.subject]),
                         columns=prepared.catalog.columns[spec.table],
                         population=population, where=where, rng=np.random.default_rng(seed), versus=versus)
