"""Turn pydantic validation errors into issues that point at the YAML path and line.

Pydantic puts a discriminated union's tag into the error location
(``analyses, 3, rm_anova, within``); it is stripped here so the user reads the path of the
YAML document (``analyses[3].within``). Unknown keys get a "did you mean" hint drawn from
the key names the schema knows.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, Tag, ValidationError

from ketastats.errors import Issue, PlanError, did_you_mean
from ketastats.language.yaml_source import PathKey, YamlDocument

Model = TypeVar("Model", bound=BaseModel)


def validate_model(model: type[Model], document: YamlDocument) -> Model:
    """Validate ``document.data`` against ``model``; raise :class:`PlanError` with every issue."""
    if not isinstance(document.data, dict):
        raise PlanError(Issue("not-a-mapping", "the file must be a YAML mapping of keys to values",
                              document.location(())))
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise PlanError(issues_from_validation(exc, document, model)) from None


def issues_from_validation(exc: ValidationError, document: YamlDocument, model: type[BaseModel]) -> list[Issue]:
    known_keys = _field_names(model)
    issues: list[Issue] = []
    seen: set[tuple] = set()
    for error in exc.errors(include_url=False):
        path = _document_path(document.data, error["loc"])
        kind = error["type"]
        value = error.get("input")
        hint = None
        if kind == "extra_forbidden":
            code, message = "unknown-key", f"unknown key '{path[-1]}'"
            keys = _keys_at(model, error["loc"][:-1])  # the keys valid where the unknown one is
            hint = did_you_mean(str(path[-1]), (keys if keys is not None else known_keys) - {str(path[-1])})
        elif kind == "missing":
            code, message = "missing-key", f"required key '{path[-1]}' is missing"
        elif kind in ("literal_error", "enum"):
            code = "invalid-choice"
            message = f"{_short(value)} is not allowed here: {error['msg'][0].lower() + error['msg'][1:]}"
        elif kind.startswith("union_tag_invalid") or kind == "union_tag_not_found":
            code, message = "invalid-choice", error["msg"]
            key = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
            tags = [t.strip(" '") for t in str(error.get("ctx", {}).get("expected_tags", "")).split(",") if t.strip()]
            if kind.startswith("union_tag_invalid") and key.isidentifier():
                path = path + (key,)  # point at the line of `type:`
                message = (f"{_short(error.get('ctx', {}).get('tag'))} is not a valid '{key}'; "
                           f"choose one of {', '.join(tags)}")
                hint = did_you_mean(str(error["ctx"].get("tag")), tags, list_choices=False)
        else:
            code = "invalid-value"
            message = f"{error['msg'][0].lower() + error['msg'][1:]}"
            if kind == "value_error":  # a validator's ValueError; "... (issue-code)" carries its own code
                message = message.removeprefix("value error, ")
                coded = _CODED.match(message)
                if coded:
                    message, code = coded.group(1), coded.group(2)
                path = _strip_tag(document.data, path)
                if code.startswith(("formula-", "random-effects")):   # at the formula's (or random's) own line
                    path, hint = _formula_path(document.data, path, message, _keys_at(model, error["loc"]))
            if value is not None and not isinstance(value, (dict, list)):
                message += f" (got {_short(value)})"
        signature = (code, path, message)
        if signature in seen:
            continue
        seen.add(signature)
        issues.append(Issue(code, message, document.location(path), hint=hint))
    return issues


_CODED = re.compile(r"^(.*) \(([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\)$", re.DOTALL)


def _formula_path(data: Any, path: PathKey, message: str, keys) -> tuple[PathKey, str | None]:
    """(``path`` + the key, ``formula`` or ``random``, of the entry at ``path`` whose text gives
    ``message``; the parser's hint for an entry with ``keys``)."""
    from ketastats.language.formulas import formula_error

    entry = data
    for part in path:
        try:
            entry = entry[part]
        except (KeyError, IndexError, TypeError):
            return path, None
    found = formula_error(entry, message) if isinstance(entry, dict) else None
    if found is None:
        return path, None
    key, exc = found
    return path + (key,), exc.hint_for(keys or ())


def _strip_tag(data: Any, path: PathKey) -> PathKey:
    """Drop a trailing union tag (``analyses[1].mixed_model``) that is not a key of the document."""
    current = data
    for part in path[:-1]:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return path
    if path and isinstance(current, dict) and isinstance(path[-1], str) and path[-1] not in current:
        return path[:-1]
    return path


def _keys_at(model: Any, loc: tuple) -> set[str] | None:
    """The keys of the model found by following ``loc`` (with pydantic's union tags) from ``model``."""
    current: Any = model
    parts = list(loc)
    index = 0
    for _ in range(4 * len(parts) + 8):
        current = _unwrap(current)
        if index == len(parts):
            break
        part = parts[index]
        origin, args = typing.get_origin(current), typing.get_args(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {(info.alias or name): info for name, info in current.model_fields.items()}
            fields.update(current.model_fields)
            if part not in fields:
                return None
            current, index = fields[part].annotation, index + 1
        elif origin is dict and len(args) == 2:
            current, index = args[1], index + 1
        elif origin is list and args:
            current, index = args[0], index + 1
        elif origin in (typing.Union, types.UnionType):
            members = [m for m in args if m is not type(None)]
            tagged = [m for m in members if _tag_of(m) == part]
            if tagged:
                current, index = tagged[0], index + 1
            elif len(members) == 1:
                current = members[0]
            else:
                return None
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {info.alias or name for name, info in current.model_fields.items()}
    return None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _tag_of(member: Any) -> str | None:
    if typing.get_origin(member) is typing.Annotated:
        for meta in typing.get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
        member = _unwrap(member)
    if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
        choices = typing.get_args(member.model_fields["type"].annotation)
        if len(choices) == 1:
            return str(choices[0])
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _document_path(data: Any, loc: tuple) -> PathKey:
    """Follow ``loc`` through the document, dropping parts that are not in it (union tags)."""
    path: list[str | int] = []
    current = data
    parts = list(loc)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and part in current and (
                last or isinstance(current[part], (dict, list)) or parts[index + 1] not in current):
            path.append(part)  # (a key whose name is also the union tag, e.g. rule:, is skipped as the tag)
            current = current[part]
        elif last or isinstance(current, (str, int, float)) or current is None:
            if isinstance(part, (str, int)) and not str(part).startswith(("function-", "tagged-union")):
                path.append(part)
            break
        # otherwise a union tag or a validator name: skip it
    return tuple(path)


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    pending: list[Any] = [model]
    visited: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, type) and issubclass(item, BaseModel):
            for name, info in item.model_fields.items():
                names.add(info.alias or name)
                pending.append(info.annotation)
        for arg in typing.get_args(item):
            pending.append(arg)
    return names
