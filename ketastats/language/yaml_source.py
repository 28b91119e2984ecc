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

import re
from dataclasses import dataclass, field
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
"""Values that aliases may expand to (each use of an alias counts its whole value): a guard against
"billion laughs" documents, far above any real plan."""
MAX_DOCUMENT_NODES = 5_000_000
"""Values a document may hold in all (a dictionary of a 77,421-column table holds about 310,000)."""
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


@dataclass
class PrunedDocument(YamlDocument):
    """A document whose data leaves some list entries out (e.g. the analyses that do not match the
    schema); ``kept[section]`` lists the original positions of the entries kept, so that a
    location found in the pruned data names the plan's own position and line.

    >>> document = PrunedDocument({"analyses": []}, LineMap({("analyses", 2): 9}), "plan.yaml",
    ...                           kept={"analyses": [0, 2]})
    >>> str(document.location(("analyses", 1, "x")))
    'plan.yaml:9 analyses[2].x'
    """

    kept: dict[str, list[int]] = field(default_factory=dict)

    def location(self, path: PathKey) -> Location:
        path = tuple(path)
        if len(path) >= 2 and path[0] in self.kept and isinstance(path[1], int) \
                and 0 <= path[1] < len(self.kept[path[0]]):
            path = (path[0], self.kept[path[0]][path[1]]) + path[2:]
        return super().location(path)


def load_yaml_file(path: Path, display_name: str | None = None) -> YamlDocument:
    """Read and safely parse a YAML file; problems raise :class:`PlanError` naming the file and line."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(Issue("file-not-found", f"file '{path}' does not exist", Location(file=name),
                              hint="Check the path; relative paths are resolved from the plan's folder")) from None
    except OSError as exc:
        raise PlanError(Issue("file-unreadable", f"cannot read '{path}': {exc.strerror}",
                              Location(file=name))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(Issue("not-utf8", f"the file is not UTF-8 text (byte {exc.start})", Location(file=name),
                              hint="Save the file as UTF-8")) from None
    return load_yaml_text(text, name)


def load_yaml_text(text: str, file: str) -> YamlDocument:
    """Parse YAML text (see module docstring)."""
    try:
        node = _compose(text)
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


FAST_COMPOSE_CHARS = 64 * 1024
"""Documents at least this long (a dictionary of a 77,421-column table) are composed by libyaml."""


def _compose(text: str) -> yaml.Node | None:
    """The YAML node graph of ``text`` (no values constructed: tags and aliases are checked by :func:`_construct`).

    PyYAML's pure-Python composer takes about a millisecond per dictionary column (85 s for a
    77,421-column dictionary); long documents are composed by libyaml (``CSafeLoader``, the same
    YAML 1.1 resolver, line marks included) when PyYAML has it. On any error the pure-Python
    composer runs again, so messages are the same whichever composed the document.
    """
    fast = _FastLoader
    if fast is not None and len(text) >= FAST_COMPOSE_CHARS:
        try:
            return yaml.compose(text, Loader=fast)
        except (yaml.YAMLError, RecursionError):
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


if getattr(yaml, "CSafeLoader", None) is not None:
    class _FastLoader(yaml.CSafeLoader):   # type: ignore[name-defined, misc]
        """libyaml's parser with the safe resolver; implicit tags memoised (a wide dictionary repeats few values)."""

        _resolved: dict = {}

        def resolve(self, kind, value, implicit):
            if kind is not yaml.ScalarNode:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            tag = self._resolved.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) < 100_000:
                    self._resolved[key] = tag
            return tag
else:  # pragma: no cover - PyYAML without libyaml
    _FastLoader = None  # type: ignore[misc, assignment]  # mypy allows no class-or-None name


class _TooLarge(Exception):
    def __init__(self, code: str, message: str, line: int):
        super().__init__(message)
        self.code, self.message, self.line = code, message, line


class _LazyLocation:
    """The location of a node, built only when an issue needs it (a wide dictionary has 300,000 nodes)."""

    __slots__ = ("file", "line", "path")

    def __init__(self, file: str, line: int, path: PathKey):
        self.file, self.line, self.path = file, line, path

    def location(self) -> Location:
        return Location(file=self.file, line=self.line, path=format_path(self.path) or None)


class _Budget:
    """Counts constructed values and tracks the nodes being constructed (alias cycles)."""

    def __init__(self) -> None:
        self.nodes = 0
        self.repeats = 0
        self.seen: set[int] = set()
        self.active: set[int] = set()


def _construct(node: yaml.Node, path: PathKey, lines: dict, issues: list[Issue], file: str,
               budget: _Budget) -> Any:
    budget.nodes += 1
    node_id = id(node)
    if node_id in budget.seen:   # a value reached again through an alias
        budget.repeats += 1
    else:
        budget.seen.add(node_id)
    if budget.repeats > MAX_NODES or budget.nodes > MAX_DOCUMENT_NODES:
        raise _TooLarge("yaml-too-large", f"the YAML document expands to more than "
                        f"{MAX_NODES if budget.repeats > MAX_NODES else MAX_DOCUMENT_NODES} values",
                        node.start_mark.line + 1)
    if len(path) > MAX_DEPTH:
        raise _TooLarge("yaml-too-deep", f"the YAML document is nested more than {MAX_DEPTH} levels deep",
                        node.start_mark.line + 1)
    tag = node.tag
    if tag == "tag:yaml.org,2002:timestamp":  # dates stay text; the schema decides what they mean
        return str(node.value)
    if tag in _ALLOWED_TAGS and node.__class__ is yaml.ScalarNode:   # the common case, kept cheap
        cached = _SCALARS.get((tag, node.value), _UNSEEN)
        if cached is not _UNSEEN:
            return cached
    loc = _LazyLocation(file, node.start_mark.line + 1, path)
    if node.tag not in _ALLOWED_TAGS:
        issues.append(Issue("yaml-tag-not-allowed", f"YAML tag '{node.tag}' is not allowed in a plan", loc.location(),
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
                          budget: _Budget, loc: _LazyLocation) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                issues.append(Issue("yaml-merge-not-allowed", "YAML merge keys ('<<') are not supported",
                                    loc.location()))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                issues.append(Issue("yaml-complex-key", "mapping keys must be plain names", loc.location()))
                continue
            key = str(key_node.value)
            child = path + (key,)
            if _CONTROL.search(key):
                issues.append(_control_issue(key, Location(file=file, line=key_node.start_mark.line + 1,
                                                           path=format_path(path) or None)))
                continue
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
    scalar_key = (node.tag, node.value) if isinstance(node, yaml.ScalarNode) else None
    if scalar_key is not None and scalar_key in _SCALARS:
        return _SCALARS[scalar_key]
    try:
        value = _SCALAR_LOADER.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # pragma: no cover - SafeLoader rejects odd scalars
        issues.append(Issue("yaml-bad-scalar", f"cannot read value: {exc}", loc.location()))
        return None
    if isinstance(value, str) and _CONTROL.search(value):
        issues.append(_control_issue(value, loc.location()))
        return None
    if scalar_key is not None and isinstance(value, (str, int, float, bool, type(None))) and len(_SCALARS) < 100_000:
        _SCALARS[scalar_key] = value   # immutable: safe to share (a wide dictionary repeats a few values)
    return value


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""Characters that are not text: C0 controls other than tab and line breaks, DEL, lone surrogates and
non-characters (written as escapes in a quoted YAML string: "\\x1b", "\\v", "\\0"). They cannot go into a
Word or XML file (python-docx: "All strings must be XML compatible") and would garble a terminal."""


def _control_issue(text: str, location: Location) -> Issue:
    found = _CONTROL.search(text)
    assert found is not None   # called only for text that holds a control character
    position = found.start()
    return Issue("control-character", f"the text {text[:40]!r} holds a control character "
                 f"({text[position]!r}, at position {position + 1})", location,
                 hint="Plans and dictionaries hold plain text: remove the character (tabs and line breaks are fine)")


_SCALAR_LOADER = yaml.SafeLoader("")
_SCALARS: dict[tuple[str, str], object] = {}
_UNSEEN = object()
