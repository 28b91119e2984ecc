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
from ketastats.errors import Issue, did_you_mean
from ketastats.plan.expressions import Expression, ExpressionError, parse_expression
from ketastats.plan.loader import PathKey, YamlDocument
from ketastats.plan.schema import (ChangeFromBaseline, PercentChangeFromBaseline, RuleDerivation,
                                   SubjectLevel, Summarise, TimeToEvent)


@dataclass
class Catalog:
    """Columns available per table (dictionary columns plus derived ones), with their definitions."""

    columns: dict[str, dict[str, Column]] = field(default_factory=dict)
    subject_keyed: dict[str, bool] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    expressions: dict[PathKey, Expression] = field(default_factory=dict)

    def column(self, table: str, name: str) -> Column | None:
        return self.columns.get(table, {}).get(name)


def resolve(plan, dictionaries: dict[str, Dictionary], document: YamlDocument) -> tuple[list[Issue], Catalog]:
    """Check names; return (issues, catalog)."""
    checker = _Resolver(plan, dictionaries, document)
    checker.run()
    return checker.issues, checker.catalog


class _Resolver:
    def __init__(self, plan, dictionaries: dict[str, Dictionary], document: YamlDocument):
        self.plan = plan
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

    def add(self, code: str, message: str, path: PathKey, hint: str | None = None) -> None:
        self.issues.append(Issue(code, message, self.document.location(path), hint=hint))

    def run(self) -> None:
        for index, derivation in enumerate(self.plan.derive):
            self.derivation(index, derivation)
        for name, population in self.plan.populations.items():
            self.population(name, population)
        seen: dict[str, int] = {}
        broken: set[str] = set()  # analyses with issues of their own
        for index, analysis in enumerate(self.plan.analyses):
            if analysis.id in seen:
                self.add("duplicate-id", f"analysis id '{analysis.id}' is used twice (first at analyses[{seen[analysis.id]}])",
                         ("analyses", index, "id"))
            seen.setdefault(analysis.id, index)
            before = len(self.issues)
            self.analysis(index, analysis)
            if len(self.issues) > before:
                broken.add(analysis.id)
        from ketastats.multiplicity import member_issues  # families name analyses and rows of their tables

        for code, message, path, hint in member_issues(self.plan, self.catalog):
            self.add(code, message, path, hint)
        from ketastats.figures import figure_issues  # figures name analyses, families and columns

        figures = getattr(self.plan, "figures", None) or []
        for code, message, path, hint in figure_issues(self.plan, self.catalog):
            if code == "figure-key-mismatch" and isinstance(path[1], int) and path[1] < len(figures) and any(
                    ref in broken for _key, ref in figures[path[1]].analysis_references()):
                continue  # it only echoes the analysis's own issue (e.g. by: vist), reported above
            self.add(code, message, path, hint)

    # --- helpers -------------------------------------------------------------------------------
    def table(self, name: str, path: PathKey) -> bool:
        if name in self.catalog.columns:
            return True
        self.add("unknown-table", f"table '{name}' is not declared under data:", path,
                 did_you_mean(name, self.catalog.columns))
        return False

    def column(self, table: str, name: str, path: PathKey, position: int | None = None) -> Column | None:
        found = self.catalog.column(table, name)
        if found is not None:
            return found
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
        path: PathKey = ("derive", index)
        if isinstance(derivation, Summarise):
            self.summarise(index, derivation, path)
            return
        if isinstance(derivation, TimeToEvent):
            self.time_to_event(index, derivation, path)
            return
        if isinstance(derivation, SubjectLevel):
            source = derivation.from_
            if not self.table(source, path + ("from",)):
                return
            self.selector(source, derivation.at, path + ("at",), index)
            spec = self.column(source, derivation.subject_level, path + ("subject_level",), index)
            if self.catalog.column(source, self.plan.subject) is None:
                self.add("no-subject-column", f"table '{source}' has no subject column '{self.plan.subject}'",
                         path + ("from",))
                return
            if spec is None:
                return
            copy = spec.model_copy(update={"required": False, "description": derivation.description or
                                           f"{derivation.subject_level} at {derivation.at or 'subject level'}"})
            for table, columns in self.catalog.columns.items():
                if self.plan.subject in columns:
                    self.new_column(table, derivation.name, copy, path + ("name",))
            return
        if not self.table(derivation.table, path + ("table",)):
            return
        table = derivation.table
        if isinstance(derivation, (ChangeFromBaseline, PercentChangeFromBaseline)):
            key = "change_from_baseline" if isinstance(derivation, ChangeFromBaseline) else "percent_change_from_baseline"
            source = getattr(derivation, key)
            spec = self.column(table, source, path + (key,), index)
            if spec is not None and spec.type not in ("integer", "number"):
                self.add("not-numeric", f"column '{source}' is {spec.type}, not numeric", path + (key,))
            self.selector(table, derivation.baseline, path + ("baseline",), index)
            if self.catalog.column(table, self.plan.subject) is None:
                self.add("no-subject-column", f"table '{table}' has no subject column '{self.plan.subject}'",
                         path + ("table",))
            unit = "%" if key.startswith("percent") else (spec.unit if spec else None)
            label = ("% change in " if key.startswith("percent") else "Change in ") + \
                ((spec.label or source) if spec else source)
            self.new_column(table, derivation.name, Column(type="number", required=False, unit=unit, label=label,
                                                           description=derivation.description), path + ("name",))
        elif isinstance(derivation, RuleDerivation):
            self.expression(derivation.rule, table, path + ("rule",), index)
            try:  # the column's type comes from the rule's shape, even when a name in it is wrong
                kind = "boolean" if _is_boolean(parse_expression(derivation.rule)) else "number"
            except ExpressionError:
                kind = "number"
            self.new_column(table, derivation.name, Column(type=kind, required=False,
                                                           description=derivation.description or derivation.rule),
                            path + ("name",))

    def time_to_event(self, index: int, derivation: TimeToEvent, path: PathKey) -> None:
        from ketastats.derive.time_to_event import adtte_columns

        rules = derivation.time_to_event
        path = path + ("time_to_event",)
        source = rules.from_
        if not self.table(source, path + ("from",)):
            return
        subject = self.plan.subject
        if self.catalog.column(source, subject) is None:
            self.add("no-subject-column", f"table '{source}' has no subject column '{subject}'", path + ("from",))
            return
        time_spec = self.column(source, rules.time, path + ("time",), index)
        if time_spec is not None and time_spec.type not in ("integer", "number"):
            self.add("not-numeric", f"column '{rules.time}' is {time_spec.type}, not numeric", path + ("time",))
        if isinstance(rules.origin, dict):
            self.selector(source, rules.origin, path + ("origin",), index)
        elif isinstance(rules.origin, str):
            spec = self.column(source, rules.origin, path + ("origin",), index)
            if spec is not None and spec.type not in ("integer", "number"):
                self.add("not-numeric", f"column '{rules.origin}' is {spec.type}, not numeric", path + ("origin",))
        self.expression(rules.event, source, path + ("event",), index)
        if rules.at_risk is not None:
            self.selector(source, rules.at_risk.at, path + ("at_risk", "at"), index)
            self.expression(rules.at_risk.where, source, path + ("at_risk", "where"), index)
        carried: dict[str, Column] = {}
        if rules.subject_table is not None and self.table(rules.subject_table, path + ("subject_table",)):
            if not self.catalog.subject_keyed.get(rules.subject_table):
                self.add("not-subject-level", f"table '{rules.subject_table}' does not have one row per "
                         f"'{subject}'", path + ("subject_table",), "Name a table keyed by the subject alone")
            else:
                carried = {k: v.model_copy(update={"required": False})
                           for k, v in self.catalog.columns[rules.subject_table].items() if k != subject}
        if rules.dropout is not None:
            on = rules.subject_table if rules.subject_table in self.catalog.columns else source
            self.expression(rules.dropout, on, path + ("dropout",), index)
        name = derivation.name
        if name in self.catalog.columns:
            self.add("duplicate-table", f"table '{name}' already exists", ("derive", index, "name"),
                     "Choose another name for the derived table")
            return
        columns = adtte_columns(subject, time_spec, carried)
        clashes = sorted(set(carried) & set(adtte_columns(subject, time_spec, {})))
        for clash in clashes:
            self.add("duplicate-column", f"column '{clash}' of table '{rules.subject_table}' clashes with a "
                     f"time-to-event column of '{name}'", path + ("subject_table",), "Rename the column")
        self.catalog.columns[name] = columns
        self.catalog.subject_keyed[name] = True
        self.catalog.keys[name] = [subject]

    def summarise(self, index: int, derivation: Summarise, path: PathKey) -> None:
        source = derivation.summarise
        if not self.table(source, path + ("summarise",)):
            return
        if derivation.name in self.catalog.columns:
            self.add("duplicate-table", f"table '{derivation.name}' already exists", path + ("name",))
            return
        if derivation.where is not None:
            self.expression(derivation.where, source, path + ("where",), index)
        columns: dict[str, Column] = {}
        named = [("by", position, name) for position, name in enumerate(derivation.by)] + \
            [("mean", position, name) for position, name in enumerate(derivation.mean)]
        seen: set[str] = set()
        for key, position, name in named:  # each column once: by and mean become the new table's columns
            if name in seen or name == "n_rows":
                self.add("duplicate-column", f"column '{name}' appears twice in the summarised table",
                         path + (key, position), "Name each column once under by: and mean: (n_rows is added)")
            seen.add(name)
        for position, name in enumerate(derivation.by):
            spec = self.column(source, name, path + ("by", position), index)
            if spec is not None:
                columns[name] = spec
        for position, name in enumerate(derivation.mean):
            spec = self.column(source, name, path + ("mean", position), index)
            if spec is None:
                continue
            if spec.type not in ("integer", "number", "boolean"):
                self.add("not-numeric", f"column '{name}' is {spec.type}; only numbers can be averaged",
                         path + ("mean", position))
                continue
            columns[name] = spec.model_copy(update={"type": "number", "required": False, "min": None, "max": None,
                                                    "description": f"mean of {name} over the rows of {source}"})
        columns["n_rows"] = Column(type="integer", description=f"number of rows of {source} summarised")
        self.catalog.columns[derivation.name] = columns
        self.catalog.subject_keyed[derivation.name] = list(derivation.by) == [self.plan.subject]
        self.catalog.keys[derivation.name] = list(derivation.by)

    def population(self, name: str, population) -> None:
        path: PathKey = ("populations", name)
        if self.table(population.table, path + ("table",)):
            self.expression(population.where, population.table, path + ("where",))

    def analysis(self, index: int, analysis) -> None:
        path: PathKey = ("analyses", index)
        if not self.table(analysis.table, path + ("table",)):
            return
        if analysis.population is not None:
            population = self.plan.populations.get(analysis.population)
            if population is None:
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
            field_path = tuple(int(p) if p.isdigit() else p for p in key.replace("]", "").replace("[", ".").split("."))
            self.column(analysis.table, column, path + field_path)
        check = getattr(analysis, "check_columns", None)
        if check is not None:
            for key, message in check(self.catalog.columns[analysis.table]):
                field_path = tuple(int(p) if p.isdigit() else p for p in key.replace("]", "").replace("[", ".").split("."))
                self.add("wrong-column-type", message, path + field_path)
        hook = getattr(analysis, "resolve_names", None)  # names in other tables (e.g. ttest versus_table)
        if hook is not None:
            hook(self, path)


def _is_boolean(expression: Expression) -> bool:
    import ast

    tree = expression.tree
    if isinstance(tree, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return True
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in ("is_missing", "not_missing"):
        return True
    return isinstance(tree, ast.Name) and tree.id in ("true", "false", "True", "False")
