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
from ketastats.plan import LoadedPlan
from ketastats.plan.resolve import Catalog, resolve
from ketastats.results import AnalysisResult, PlanResult

Progress = Callable[[str], None]


STAGES = {
    "plan": "the plan file: YAML and the plan's schema (keys, types, choices)",
    "paths": "data sources, dictionaries and output: inside the plan's project",
    "dictionaries": "each table's data dictionary",
    "names": "tables, columns, levels and rules named by derivations, populations, analyses (their column "
             "checks), multiplicity families and figures",
    "data": "each table against its dictionary",
    "subjects": "subject ids shared by the tables that are joined by subject",
    "derivations": "the derived columns and tables computed from the data",
}
"""Validation's stages, in order. A stage that fails does not stop the others: every stage whose
inputs are valid runs, so one ``validate`` reports every independent problem; a stage that needs
a failed one is skipped and says so (:class:`Stage`)."""


@dataclass(frozen=True)
class Stage:
    """What one stage of validation did: ``passed``, ``failed`` (with the number of problems),
    ``partial`` (some tables could not be checked: ``detail`` names them and why) or ``skipped``
    (``detail`` says which failed stage it needs)."""

    name: str
    status: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.status}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict:
        out = {"stage": self.name, "status": self.status, "checks": STAGES[self.name]}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class PreparedPlan:
    """A plan whose names, dictionaries and data are all valid, with its derivations computed: ready to run."""

    loaded: LoadedPlan
    dictionaries: dict[str, Dictionary]
    raw: dict[str, RawTable]
    tables: dict[str, pd.DataFrame]
    catalog: Catalog
    warnings: list[Issue] = field(default_factory=list)
    derived: dict[str, pd.DataFrame] | None = None   # the tables after plan.derive (None: not computed)
    derive_warnings: list[Issue] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)

    @property
    def plan(self) -> Any:
        return self.loaded.plan


def _invalid(issues: list[Issue], stages: list[Stage], plan_level: bool) -> KetastatsError:
    """The error ``validate_plan`` raises: ``PlanError`` when the plan, a path, a dictionary or a
    name is wrong (data problems found in the same pass are listed with them), else ``DataError``;
    ``stages`` records what each stage did (read by the CLI)."""
    error = PlanError(issues) if plan_level else DataError(issues)
    setattr(error, "stages", stages)   # noqa: B010 - KetastatsError has no field for it
    return error


def validation_stages(error: BaseException) -> list[Stage]:
    """The stages recorded on an error raised by :func:`validate_plan` (empty for other errors)."""
    return list(getattr(error, "stages", []))


def _data_section(document) -> dict[str, Any]:
    """The valid entries of the ``data:`` section of a plan that does not match the schema elsewhere,
    so that its dictionaries and data are still checked."""
    from ketastats.plan.schema import TableSource

    section = document.data.get("data") if isinstance(document.data, dict) else None
    sources: dict[str, Any] = {}
    for name, entry in (section.items() if isinstance(section, dict) else []):
        if not isinstance(name, str):
            continue
        try:
            sources[name] = TableSource.model_validate(entry)
        except ValueError:   # pydantic's ValidationError: reported by the schema stage
            continue
    return sources


ENTRY_SECTIONS = {"derive": "name", "populations": None, "analyses": "id", "multiplicity": None, "figures": "id"}
"""Plan sections of independent entries (list: the key naming an entry; mapping: its key names it)."""


@dataclass
class _Partial:
    """The entries of a plan that match the schema when others do not (:func:`_partial_plan`)."""

    plan: Any
    document: Any                     # a PrunedDocument: locations name the plan's own positions
    dropped: dict[str, set[str]]      # section → names of the entries left out
    left_out: list[str]               # their YAML paths, e.g. analyses[3]


def _partial_plan(document, issues: list[Issue]) -> _Partial | None:
    """The plan without the entries that have schema errors, when every error is inside an entry of
    :data:`ENTRY_SECTIONS` (an analysis with an unknown key, a figure of an unknown type, ...) and
    the rest matches the schema; else None. Names in the other entries can then still be checked."""
    import re

    from ketastats.language.yaml_source import PrunedDocument
    from ketastats.plan.schema import plan_model

    data = document.data
    if not isinstance(data, dict):
        return None
    bad: dict[str, set] = {}
    for issue in issues:
        parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", issue.location.path or "")]
        if len(parts) < 2 or parts[0] not in ENTRY_SECTIONS:
            return None
        bad.setdefault(str(parts[0]), set()).add(parts[1])
    pruned, kept, dropped, left_out = dict(data), {}, {}, []
    for section, keys in bad.items():
        value = data.get(section)
        name_key = ENTRY_SECTIONS[section]
        if isinstance(value, list) and name_key is not None:
            kept[section] = [i for i in range(len(value)) if i not in keys]
            pruned[section] = [value[i] for i in kept[section]]
            entries = [value[i] for i in sorted(k for k in keys if isinstance(k, int) and k < len(value))]
            dropped[section] = {str(e[name_key]) for e in entries if isinstance(e, dict) and name_key in e}
            left_out += [f"{section}[{k}]" for k in sorted(keys, key=str)]
        elif isinstance(value, dict) and name_key is None:
            pruned[section] = {k: v for k, v in value.items() if k not in keys}
            dropped[section] = {str(k) for k in keys}
            left_out += [f"{section}.{k}" for k in sorted(keys, key=str)]
        else:
            return None
    try:
        plan = plan_model().model_validate(pruned)
    except ValueError:   # pydantic's ValidationError: the rest does not stand on its own
        return None
    return _Partial(plan, PrunedDocument(document.data, document.lines, document.file, kept=kept), dropped,
                    left_out)


def validate_plan(path: str | Path, progress: Progress | None = None, allow_outside: bool = False) -> PreparedPlan:
    """Load the plan, its dictionaries and its data, check everything and compute the derivations;
    raises on any problem.

    Every stage of :data:`STAGES` whose inputs are valid runs, so one call reports every
    independent problem: a plan that does not match the schema still has its dictionaries and
    data checked, and, when its errors are inside entries (an analysis, a figure, ...), the names
    of its other entries (:func:`_partial_plan`); a table whose dictionary has errors is left out
    of the name and data checks (and nothing on it is called wrong); the data of every other table
    is validated whatever the names; the derivations are computed only from a valid plan and
    valid data. Raises
    ``PlanError`` (plan, path, dictionary or name problems, with any data problems) or
    ``DataError`` (data problems only), listing every issue with its location, in stage order;
    :func:`validation_stages` of the error says what each stage did. Sources, dictionaries and
    the ``output:`` folder must lie inside the plan's project (:mod:`ketastats.paths`) unless
    ``allow_outside``.
    """
    from ketastats.language.validation_errors import validate_model
    from ketastats.language.yaml_source import load_yaml_file
    from ketastats.plan.schema import plan_model

    say = progress or (lambda message: None)
    say("loading plan")
    path = Path(path)
    stages: list[Stage] = []

    def skip(names: list[str], why: str) -> None:
        stages.extend(Stage(name, "skipped", why) for name in names)

    try:
        document = load_yaml_file(path, display_name=path.name)
    except PlanError as exc:   # nothing else can be read
        stages.append(Stage("plan", "failed", "the file cannot be read as YAML"))
        skip([s for s in STAGES if s != "plan"], "the plan file cannot be read")
        raise _invalid(exc.issues, stages, True) from None
    plan_issues: list[Issue] = []     # plan, paths, dictionaries, names
    data_issues: list[Issue] = []     # data, subjects (and derivations)
    plan: Any = None
    partial = None
    names_document: Any = document
    try:
        plan = validate_model(plan_model(), document)
        stages.append(Stage("plan", "passed"))
    except PlanError as exc:
        plan_issues += exc.issues
        partial = _partial_plan(document, exc.issues)
        if partial is not None:   # the entries with errors are left out; the others are checked
            plan, names_document = partial.plan, partial.document
        stages.append(Stage("plan", "failed", f"{len(exc.issues)} problem(s)" + (
            f"; checked without {', '.join(partial.left_out)}" if partial is not None else "")))
    loaded = LoadedPlan(plan=plan, document=document, path=path)
    sources = dict(plan.data) if plan is not None else _data_section(document)

    # paths: a table with a source or dictionary outside the project is not read at all
    blocked: dict[str, str] = {}
    path_issues = [] if allow_outside else _outside_paths(loaded, sources)
    for issue in path_issues:
        parts = (issue.location.path or "").split(".")
        if len(parts) >= 2 and parts[0] == "data":
            blocked[parts[1]] = "its path is outside the project"
    if plan is not None and plan.output and not path_issues:  # the report folder may not hold the plan's inputs
        from ketastats.report.writer import location_issues, output_folder

        path_issues = [dataclasses.replace(i, location=loaded.document.location(("output",)))
                       for i in location_issues(output_folder(loaded, None), protected_paths(loaded))]
    plan_issues += path_issues
    stages.append(Stage("paths", "failed" if path_issues else "passed",
                        f"{len(path_issues)} problem(s)" if path_issues else ""))

    # dictionaries
    dictionaries: dict[str, Dictionary] = {}
    dictionary_issues: list[Issue] = []
    for name, source in sources.items():
        if name in blocked:
            continue
        try:
            dictionaries[name] = load_dictionary(loaded.base / source.dictionary, display_name=source.dictionary)
        except KetastatsError as exc:
            dictionary_issues += [dataclasses.replace(i, location=document.location(("data", name, "dictionary")))
                                  if i.code in ("file-not-found", "file-unreadable") else i for i in exc.issues]
            blocked[name] = "its dictionary has errors"
    plan_issues += dictionary_issues
    not_read = "; ".join(f"table '{name}' not checked: {why}" for name, why in blocked.items())
    outside = "; ".join(f"table '{name}' not read: {why}" for name, why in blocked.items() if "outside" in why)
    stages.append(Stage("dictionaries", "failed" if dictionary_issues else "partial" if blocked else "passed",
                        "; ".join(filter(None, [f"{len(dictionary_issues)} problem(s)" if dictionary_issues else "",
                                                outside]))))

    # names: every name the plan uses, against the dictionaries that could be read
    catalog = Catalog()
    if plan is None:
        skip(["names"], "the plan does not match the schema")
    else:
        name_issues, catalog = resolve(plan, dictionaries, names_document, unavailable=set(blocked),
                                       dropped=partial.dropped if partial is not None else None)
        name_issues += _subject_type_issues(plan, dictionaries, document)
        plan_issues += name_issues
        unchecked = "; ".join(filter(None, [
            f"names in table(s) {', '.join(sorted(blocked))} not checked" if blocked else "",
            f"not checked: {', '.join(partial.left_out)} (schema errors)" if partial is not None else ""]))
        stages.append(Stage("names", "failed" if name_issues else "partial" if unchecked else "passed",
                            "; ".join(filter(None, [f"{len(name_issues)} problem(s)" if name_issues else "",
                                                    unchecked]))))

    # data: each table whose dictionary was read, whatever the names
    raw: dict[str, RawTable] = {}
    tables: dict[str, pd.DataFrame] = {}
    clean: dict[str, pd.DataFrame] = {}
    for name, source in sources.items():
        if name not in dictionaries:
            continue
        say(f"reading and validating table '{name}'")
        try:
            raw[name] = read_table(source.source, loaded.base, name, source.format,
                                   dictionaries[name].missing_values)
        except KetastatsError as exc:  # a wrong path is the plan's mistake: point at its line
            read_issues = [dataclasses.replace(i, location=document.location(("data", name, "source")))
                           if i.code in ("file-not-found", "bad-package-source", "unknown-format") else i
                           for i in exc.issues]
            data_issues += read_issues
            continue
        typed, table_issues = validate_table(raw[name].frame, dictionaries[name], raw[name].display_name, say)
        data_issues += table_issues
        tables[name] = typed
        if not any(i.severity == "error" for i in table_issues):
            clean[name] = typed
    stages.append(Stage("data", "failed" if data_issues else "partial" if blocked else "passed",
                        "; ".join(filter(None, [f"{len(data_issues)} problem(s)" if data_issues else "",
                                                not_read]))))

    # subjects: joins by subject between tables whose data are valid
    warnings: list[Issue] = []
    if plan is None:
        skip(["subjects"], "the plan does not match the schema")
    else:
        link_errors, warnings = _subject_link_issues(plan, clean, document)
        data_issues += link_errors
        unchecked_tables = [name for name in sources if name not in clean]
        stages.append(Stage("subjects", "failed" if link_errors else "partial" if unchecked_tables else "passed",
                            "; ".join(filter(None, [
                                f"{len(link_errors)} problem(s)" if link_errors else "",
                                f"table(s) {', '.join(unchecked_tables)} not joined: their dictionary or data "
                                "have errors" if unchecked_tables else ""]))))

    # derivations: computed from a valid plan and valid data only
    derived: dict[str, pd.DataFrame] | None = None
    derive_warnings: list[Issue] = []
    failed = [stage.name for stage in stages if stage.status == "failed"] + \
        [f"{stage.name} (partly)" for stage in stages if stage.status == "partial"]
    if plan is not None and not plan_issues and not data_issues and not blocked:
        tables = {name: finalize_types(frame, dictionaries[name]) for name, frame in tables.items()}
        if plan.derive:
            say("deriving endpoints")
        try:
            from ketastats.derive import apply_derivations

            derived, derive_warnings = apply_derivations(plan, tables, catalog)
            stages.append(Stage("derivations", "passed"))
        except KetastatsError as exc:  # point derivation problems at the plan's line
            data_issues += [_locate(issue, document) for issue in exc.issues]
            stages.append(Stage("derivations", "failed", "a derivation that fails stops the ones after it"))
    else:
        skip(["derivations"], f"they need a valid plan and valid data; failed: {', '.join(failed)}")

    if plan_issues or data_issues:
        raise _invalid(plan_issues + data_issues, stages, bool(plan_issues))
    return PreparedPlan(loaded, dictionaries, raw, tables, catalog, warnings=warnings, derived=derived,
                        derive_warnings=derive_warnings, stages=stages)


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
    assert prepared.derived is not None   # validate_plan computes the derivations of a valid plan
    tables, warnings = prepared.derived, prepared.derive_warnings
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


def _outside_paths(loaded: LoadedPlan, sources: dict[str, Any] | None = None) -> list[Issue]:
    """``path-outside-project`` issues for sources, dictionaries and ``output:`` outside the project.

    ``sources``: the tables' entries (default: the plan's ``data:``; the valid entries of a plan
    that does not match the schema)."""
    from ketastats.data.io import PACKAGE_PREFIX, SIMULATE_PREFIX
    from ketastats.paths import outside, project_root

    root = project_root(loaded.path)
    named: list[tuple[tuple, str, str]] = []
    for name, source in (sources if sources is not None else loaded.plan.data).items():
        if not source.source.startswith((PACKAGE_PREFIX, SIMULATE_PREFIX)):
            named.append((("data", name, "source"), source.source, f"data source of table '{name}'"))
        named.append((("data", name, "dictionary"), source.dictionary, f"dictionary of table '{name}'"))
    if loaded.plan is not None and loaded.plan.output:
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
