"""Turn pydantic validation errors into issues that point at the YAML path and line.

Pydantic puts a discriminated union's tag into the error location
(``analyses, 3, rm_anova, within``); it is stripped here so the user reads the path of the
YAML document (``analyses[3].within``). Unknown keys get a "did you mean" hint drawn from
the key names the schema knows.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ketastats.errors import Issue, PlanError, did_you_mean
from ketastats.plan.loader import PathKey, YamlDocument

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
            hint = did_you_mean(str(path[-1]), known_keys)
        elif kind == "missing":
            code, message = "missing-key", f"required key '{path[-1]}' is missing"
        elif kind in ("literal_error", "enum"):
            code = "invalid-choice"
            message = f"{_short(value)} is not allowed here: {error['msg'][0].lower() + error['msg'][1:]}"
        elif kind.startswith("union_tag_invalid") or kind == "union_tag_not_found":
            code, message = "invalid-choice", error["msg"]
        else:
            code = "invalid-value"
            message = f"{error['msg'][0].lower() + error['msg'][1:]}"
            if value is not None and not isinstance(value, (dict, list)):
                message += f" (got {_short(value)})"
        signature = (code, path, message)
        if signature in seen:
            continue
        seen.add(signature)
        issues.append(Issue(code, message, document.location(path), hint=hint))
    return issues


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
        elif isinstance(current, dict) and part in current:
            path.append(part)
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
