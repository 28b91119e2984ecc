"""Safe YAML loading that remembers the line of every YAML path.

Plans and dictionaries are data, never code: documents are composed with PyYAML's
``SafeLoader`` (no object tags), duplicate keys are refused, and only the standard scalar
tags are accepted. The result is the plain Python value plus a :class:`LineMap` from YAML
paths such as ``analyses[3].within`` to 1-based line numbers, used to point error messages
at the right line.

Example
-------
>>> doc = load_yaml_text("id: demo\\nanalyses:\\n  - {id: a, type: descriptives}\\n", "plan.yaml")
>>> doc.data["analyses"][0]["type"], doc.lines.line_of(("analyses", 0, "type"))
('descriptives', 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ketastats.errors import Issue, Location, PlanError

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}

PathKey = tuple[str | int, ...]

MAX_NODES = 200_000
"""Values a document may expand to (aliases count each time they are used): a guard against
"billion laughs" documents, far above any real plan."""
MAX_DEPTH = 100
"""Nesting depth of mappings and sequences."""


def format_path(path: PathKey) -> str:
    """Render a path tuple as ``analyses[3].within``.

    >>> format_path(("analyses", 3, "within"))
    'analyses[3].within'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class LineMap:
    """Line numbers (1-based) of every mapping key and sequence item, by path."""

    lines: dict[PathKey, int]

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


@dataclass
class YamlDocument:
    data: Any
    lines: LineMap
    file: str

    def location(self, path: PathKey) -> Location:
        return Location(file=self.file, line=self.lines.line_of(path), path=format_path(path) or None)


def load_yaml_file(path: Path, display_name: str | None = None) -> YamlDocument:
    """Read and safely parse a YAML file; problems raise :class:`PlanError` naming the file and line."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(Issue("file-not-found", f"file '{path}' does not exist", Location(file=name),
                              hint="Check the path; relative paths are resolved from the plan's folder")) from None
    except OSError as exc:
        raise PlanError(Issue("file-unreadable", f"cannot read '{path}': {exc.strerror}", Location(file=name))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(Issue("not-utf8", f"the file is not UTF-8 text (byte {exc.start})", Location(file=name),
                              hint="Save the file as UTF-8")) from None
    return load_yaml_text(text, name)


def load_yaml_text(text: str, file: str) -> YamlDocument:
    """Parse YAML text (see module docstring)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise PlanError(Issue("yaml-too-deep", "the YAML document is nested too deeply", Location(file=file),
                              hint=f"Plans nest a few levels; at most {MAX_DEPTH} are accepted")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise PlanError(Issue("yaml-syntax", f"YAML syntax error: {problem}", Location(file=file, line=line),
                              hint="Check indentation, colons and quotes around this line")) from None
    except yaml.YAMLError as exc:
        raise PlanError(Issue("yaml-syntax", f"YAML syntax error: {exc}", Location(file=file))) from None
    if node is None:
        raise PlanError(Issue("empty-file", "the file is empty", Location(file=file)))
    lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
    issues: list[Issue] = []
    try:
        data = _construct(node, (), lines, issues, file, _Budget())
    except _TooLarge as exc:
        hint = (f"Plans nest a few levels; at most {MAX_DEPTH} are accepted" if exc.code == "yaml-too-deep" else
                "Anchors and aliases ('&' / '*') may not refer to themselves or expand to a huge document")
        raise PlanError(Issue(exc.code, exc.message, Location(file=file, line=exc.line), hint=hint)) from None
    if issues:
        raise PlanError(issues)
    return YamlDocument(data=data, lines=LineMap(lines), file=file)


class _TooLarge(Exception):
    def __init__(self, code: str, message: str, line: int):
        super().__init__(message)
        self.code, self.message, self.line = code, message, line


class _Budget:
    """Counts constructed values and tracks the nodes being constructed (alias cycles)."""

    def __init__(self) -> None:
        self.nodes = 0
        self.active: set[int] = set()


def _construct(node: yaml.Node, path: PathKey, lines: dict, issues: list[Issue], file: str,
               budget: _Budget) -> Any:
    loc = Location(file=file, line=node.start_mark.line + 1, path=format_path(path) or None)
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        raise _TooLarge("yaml-too-large", f"the YAML document expands to more than {MAX_NODES} values", loc.line)
    if len(path) > MAX_DEPTH:
        raise _TooLarge("yaml-too-deep", f"the YAML document is nested more than {MAX_DEPTH} levels deep", loc.line)
    if node.tag == "tag:yaml.org,2002:timestamp":  # dates stay text; the schema decides what they mean
        return str(node.value)
    if node.tag not in _ALLOWED_TAGS:
        issues.append(Issue("yaml-tag-not-allowed", f"YAML tag '{node.tag}' is not allowed in a plan", loc,
                            hint="Plans are data: remove the tag"))
        return None
    if id(node) in budget.active:
        raise _TooLarge("yaml-recursive-alias", "an alias refers to the value that contains it", loc.line)
    budget.active.add(id(node))
    try:
        return _construct_collection(node, path, lines, issues, file, budget, loc)
    finally:
        budget.active.discard(id(node))


def _construct_collection(node: yaml.Node, path: PathKey, lines: dict, issues: list[Issue], file: str,
                          budget: _Budget, loc: Location) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                issues.append(Issue("yaml-merge-not-allowed", "YAML merge keys ('<<') are not supported", loc))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                issues.append(Issue("yaml-complex-key", "mapping keys must be plain names", loc))
                continue
            key = str(key_node.value)
            child = path + (key,)
            if key in out:
                issues.append(Issue("duplicate-key", f"key '{key}' appears twice",
                                    Location(file=file, line=key_node.start_mark.line + 1, path=format_path(child)),
                                    hint="Keep one of the two entries"))
                continue
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, issues, file, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = path + (index,)
            lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, lines, issues, file, budget))
        return items
    try:
        return _SCALAR_LOADER.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # pragma: no cover - SafeLoader rejects odd scalars
        issues.append(Issue("yaml-bad-scalar", f"cannot read value: {exc}", loc))
        return None


_SCALAR_LOADER = yaml.SafeLoader("")
