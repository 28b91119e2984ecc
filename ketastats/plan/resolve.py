"""Cross-check every name a plan uses against the data dictionaries, before anything runs.

Tables, columns (including those derived earlier in ``derive:``), category levels in
baseline selectors and rules, populations and analysis ids are all checked; every problem
is collected, with the plan file, the YAML path and the line.

Derived columns become available in order: a derivation may use only the dictionary's
columns and columns derived above it (a forward reference is reported as such). A
subject-level value becomes available in every table that has the subject column. A
``time_to_event`` derivation adds a new table (one row per subject at risk, ADaM ADTTE shape):
its column catalog comes from :func:`ketastats.derive.time_to_event.adtte_columns` and its
key is the subject.

Example
-------
``resolve(plan, dictionaries, document)`` returns a list of issues (empty when all is well)
and the :class:`Catalog` of columns available in each table after the derivations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ketastats.data.dictionary import Column, Dictionary
from ketastats.errors import Issue, Problem, did_you_mean
from ketastats.figures import figure_issues
from ketastats.language.expressions import Expression, ExpressionError, parse_expression
from ketastats.language.yaml_source import PathKey, YamlDocument
from ketastats.multiplicity import member_issues


@dataclass
class Catalog:
    """Columns available per table (dictionary columns plus derived ones), with their definitions."""

    columns: dict[str, dict[str, Column]] = field(default_factory=dict)
    subject_keyed: dict[str, bool] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    expressions: dict[PathKey, Expression] = field(default_factory=dict)

    def column(self, table: str, name: str) -> Column | None:
        return self.columns.get(table, {}).get(name)


def resolve(plan, dictionaries: dict[str, Dictionary], document: YamlDocument,
            unavailable: set[str] | frozenset[str] = frozenset(),
            dropped: dict[str, set[str]] | None = None) -> tuple[list[Issue], Catalog]:
    """Check names; return (issues, catalog).

    ``unavailable``: declared tables whose dictionary could not be read (their own error is
    reported by the caller). Names in them are not checked, and nothing that reads them is said
    to be wrong: a derivation, analysis, family member or figure on such a table is skipped.
    ``dropped``: section → names of plan entries left out because they do not match the schema
    (``derive`` names, ``populations``, ``analyses`` ids, ``multiplicity`` families); what names
    them is not said to be wrong either."""
    checker = _Resolver(plan, dictionaries, document, unavailable, dropped or {})
    checker.run()
    return checker.issues, checker.catalog


class _Resolver:
    def __init__(self, plan, dictionaries: dict[str, Dictionary], document: YamlDocument,
                 unavailable: set[str] | frozenset[str] = frozenset(), dropped: dict[str, set[str]] | None = None):
        self.plan = plan
        self.unavailable = set(unavailable) - set(dictionaries)
        self.dropped = dropped or {}
        self.failed_derivations: set[str] = set(self.dropped.get("derive", ()))   # made by derivations with errors
        self.subject = plan.subject
        self.document = document
        self.issues: list[Issue] = []
        self.catalog = Catalog()
        self.all_derived: dict[str, int] = {}
        for name, dictionary in dictionaries.items():
            self.catalog.columns[name] = dict(dictionary.columns)
            self.catalog.subject_keyed[name] = dictionary.key == [plan.subject]
            self.catalog.keys[name] = list(dictionary.key)
        for index, derivation in enumerate(plan.derive):
            self.all_derived.setdefault(derivation.name, index)
        for name in self.failed_derivations:   # left out (schema errors): as if derived before everything
            self.all_derived.setdefault(name, -1)

    def add(self, code: str, message: str, path: PathKey, hint: str | None = None) -> None:
        self.issues.append(Issue(code, message, self.document.location(path), hint=hint))

    def problem(self, problem: Problem, prefix: PathKey = ()) -> None:
        """Record a hook's :class:`Problem` (its key relative to ``prefix``)."""
        self.add(problem.code, problem.message, prefix + problem.path, problem.hint)

    def run(self) -> None:
        for index, derivation in enumerate(self.plan.derive):
            before = len(self.issues)
            self.derivation(index, derivation)
            made = derivation.name in self.catalog.columns or any(
                derivation.name in columns for columns in self.catalog.columns.values())
            if len(self.issues) > before or not made:   # its errors (or its table's) are reported already
                self.failed_derivations.add(derivation.name)
        for name, population in self.plan.populations.items():
            self.population(name, population)
        seen: dict[str, int] = {}
        broken: set[str] = set()  # analyses with issues of their own
        for index, analysis in enumerate(self.plan.analyses):
            if analysis.id in seen:
                self.add("duplicate-id",
                         f"analysis id '{analysis.id}' is used twice (first at analyses[{seen[analysis.id]}])",
                         ("analyses", index, "id"))
            seen.setdefault(analysis.id, index)
            before = len(self.issues)
            self.analysis(index, analysis)
            if len(self.issues) > before:
                broken.add(analysis.id)
        unchecked = {a.id for a in self.plan.analyses if self.reads_unavailable(a)}
        unchecked |= self.dropped.get("analyses", set())
        families = self.dropped.get("multiplicity", set())
        # families name analyses and rows of their tables
        for problem in member_issues(self.plan, self.catalog, skip=unchecked):
            self.problem(problem)
        figures = self.plan.figures
        for problem in figure_issues(self.plan, self.catalog):  # figures name analyses, families and columns
            path = problem.path
            if isinstance(path[1], int) and path[1] < len(figures) and (any(
                    ref in unchecked for _key, ref in figures[path[1]].analysis_references())
                    or getattr(figures[path[1]], "family", None) in families):
                continue  # what it draws could not be checked (a table not read, an entry left out)
            if problem.code == "unknown-column" and isinstance(path[1], int) and path[1] < len(figures) and any(
                    ("figures", path[1]) + Problem(key, "").path == path and column in self.failed_derivations
                    for key, column in figures[path[1]].column_references()):
                continue  # a column whose derivation has errors of its own, reported there
            if problem.code == "figure-key-mismatch" and isinstance(path[1], int) and path[1] < len(figures) and any(
                    ref in broken for _key, ref in figures[path[1]].analysis_references()):
                continue  # it only echoes the analysis's own issue (e.g. by: vist), reported above
            self.problem(problem)

    # --- helpers -------------------------------------------------------------------------------
    def reads_unavailable(self, analysis) -> bool:
        """Whether the analysis reads a table whose dictionary could not be read."""
        tables = [analysis.table, getattr(analysis, "versus_table", None), getattr(analysis, "visits_table", None)]
        population = self.plan.populations.get(analysis.population) if analysis.population else None
        if population is not None:
            tables.append(population.table)
        return any(self.gone(table) for table in tables if table is not None)

    def gone(self, table: str) -> bool:
        """A declared table whose dictionary could not be read, or a derived table whose derivation failed."""
        return table not in self.catalog.columns and (table in self.unavailable or table in self.failed_derivations)

    def table(self, name: str, path: PathKey) -> bool:
        if name in self.catalog.columns:
            return True
        if self.gone(name):
            return False   # declared, but its dictionary (or derivation) has errors, reported there
        self.add("unknown-table", f"table '{name}' is not declared under data:", path,
                 did_you_mean(name, self.catalog.columns))
        return False

    def column(self, table: str, name: str, path: PathKey, position: int | None = None) -> Column | None:
        found = self.catalog.column(table, name)
        if found is not None:
            return found
        if name in self.failed_derivations and (position is None or self.all_derived[name] < position):
            return None    # made by a derivation with errors of its own, reported there
        if name in self.all_derived and (position is None or self.all_derived[name] >= position):
            self.add("forward-reference", f"column '{name}' is derived later (derive[{self.all_derived[name]}]) "
                     "and cannot be used here", path, "Move the derivation above its first use")
        else:
            self.add("unknown-column", f"column '{name}' is not in table '{table}'", path,
                     did_you_mean(name, self.catalog.columns.get(table, {})))
        return None

    def level(self, table: str, column: str, value, path: PathKey) -> None:
        spec = self.catalog.column(table, column)
        if spec is not None and spec.levels is not None and not isinstance(value, str):
            # YAML 1.1 reads unquoted 010 as the number 8 (octal), 1.50 as 1.5, yes as true: comparing
            # str(value) with the levels would silently pick another level (010 -> '8')
            read = "true/false" if isinstance(value, bool) else f"the number {value!r}"
            self.add("level-not-text", f"the value given for category column '{column}' was read by YAML as "
                     f"{read}, not as text; levels are text: {', '.join(repr(v) for v in spec.levels[:10])}",
                     path, "Quote the level exactly as the dictionary writes it, e.g. "
                     f"{column}: '{spec.levels[0]}' (unquoted, YAML reads 010 as 8, 1.50 as 1.5, yes as true)")
            return
        if spec is not None and spec.levels is not None and str(value) not in spec.levels:
            self.add("level-not-in-dictionary", f"'{value}' is not a level of '{column}' in table '{table}'", path,
                     did_you_mean(str(value), spec.levels))

    def expression(self, text: str, table: str, path: PathKey, position: int | None = None) -> Expression | None:
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            self.add(exc.code, exc.message, path, exc.hint)
            return None
        ok = True
        for name in sorted(expression.names):
            if self.column(table, name, path, position) is None:
                ok = False
        for name, value in expression.level_comparisons:
            self.level(table, name, value, path)
        if ok:
            self.catalog.expressions[path] = expression
        return expression if ok else None

    def selector(self, table: str, selector: dict, path: PathKey, position: int) -> None:
        for column, value in selector.items():
            if self.column(table, column, path + (column,), position) is not None:
                self.level(table, column, value, path + (column,))

    def new_column(self, table: str, name: str, spec: Column, path: PathKey) -> None:
        if name in self.catalog.columns[table]:
            self.add("duplicate-column", f"column '{name}' already exists in table '{table}'", path,
                     "Choose another name for the derived column")
            return
        self.catalog.columns[table][name] = spec

    # --- sections ------------------------------------------------------------------------------
    def derivation(self, index: int, derivation) -> None:
        derivation.declare(self, index)   # each kind checks its names and adds its column / table

    def population(self, name: str, population) -> None:
        path: PathKey = ("populations", name)
        if self.table(population.table, path + ("table",)):
            self.expression(population.where, population.table, path + ("where",))

    def analysis(self, index: int, analysis) -> None:
        path: PathKey = ("analyses", index)
        if self.reads_unavailable(analysis) or not self.table(analysis.table, path + ("table",)):
            return
        if analysis.population is not None:
            population = self.plan.populations.get(analysis.population)
            if population is None and analysis.population in self.dropped.get("populations", set()):
                pass   # declared, but left out: it has schema errors of its own
            elif population is None:
                self.add("unknown-population", f"population '{analysis.population}' is not declared under populations:",
                         path + ("population",), did_you_mean(analysis.population, self.plan.populations))
            elif population.table != analysis.table and not self.catalog.subject_keyed.get(population.table):
                self.add("population-table-mismatch",
                         f"population '{analysis.population}' filters rows of table '{population.table}', "
                         f"not '{analysis.table}'", path + ("population",),
                         f"Define it on a table with one row per {self.plan.subject}, or on '{analysis.table}'")
            elif population.table != analysis.table and self.catalog.column(analysis.table, self.plan.subject) is None:
                self.add("no-subject-column", f"table '{analysis.table}' has no subject column "
                         f"'{self.plan.subject}' to apply population '{analysis.population}'", path + ("population",))
        if analysis.where is not None:
            self.expression(analysis.where, analysis.table, path + ("where",))
        for key, column in analysis.column_references():
            self.column(analysis.table, column, path + Problem(key, "").path)
        for problem in analysis.check_columns(self.catalog.columns[analysis.table]):
            self.problem(problem, path)
        analysis.resolve_names(self, path)  # names in other tables (e.g. ttest versus_table)

