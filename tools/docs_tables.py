"""Regenerate the docs tables that are copies of code or data.

- ``docs/plan_language.md``, between the ``generated: analyses`` markers: one row per registered
  analysis type (``ketastats.analyses.REGISTRY``) — the ``type`` literal of its ``Spec``, the first
  paragraph of its module docstring and its own keys (choices of ``Literal`` keys listed).
- ``docs/results_vocabulary.md``: the glossary of result columns, from ``ketastats/vocabulary.yaml``.

Usage: ``python tools/docs_tables.py`` rewrites them; ``--check`` only reports stale files (exit 1).
``tests/test_glossary.py`` runs the check.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "python tools/docs_tables.py"
PLAN_LANGUAGE = ROOT / "docs" / "plan_language.md"
VOCABULARY_DOC = ROOT / "docs" / "results_vocabulary.md"
BEGIN = f"<!-- generated: analyses (edit the analysis modules, then run `{COMMAND}`) -->"
END = "<!-- end generated: analyses -->"
COMMON_KEYS = {"id", "type", "table", "population", "where", "title", "description"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(module) -> str:
    """The first paragraph of a module docstring, on one line."""
    paragraph = (module.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def _choices(annotation) -> tuple[list[str], bool] | None:
    """(choices, is_list) of a ``Literal`` or ``list[Literal]`` annotation (None-able), else None."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)], False
    if typing.get_origin(annotation) is list and args and typing.get_origin(args[0]) is typing.Literal:
        return [str(a) for a in typing.get_args(args[0])], True
    if len(args) == 1 and typing.get_origin(annotation) is not list:
        return _choices(args[0])
    return None


def _model(annotation):
    """The pydantic model inside ``Model``, ``Model | None`` or ``list[Model]``, else None."""
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model(arg)
        if found is not None:
            return found
    return None


def key_text(name: str, annotation) -> str:
    choices = _choices(annotation)
    if choices:
        values, is_list = choices
        return f"`{name}: {' | '.join(values)}`" + (" (one or more)" if is_list and len(values) > 1 else "")
    model = _model(annotation)
    if model is not None:
        return f"`{name}: {{{', '.join(model.model_fields)}}}`"
    return f"`{name}`"


def analyses_table() -> str:
    from ketastats.analyses import REGISTRY

    lines = ["| type | what it computes | keys |", "| --- | --- | --- |"]
    for module in REGISTRY:
        fields = module.Spec.model_fields
        kind = typing.get_args(fields["type"].annotation)[0]
        keys = ", ".join(key_text(name, f.annotation) for name, f in fields.items() if name not in COMMON_KEYS)
        lines.append(f"| `{kind}` | {_cell(summary(module))} | {_cell(keys)} |")
    return "\n".join(lines)


def plan_language(text: str) -> str:
    """``text`` of docs/plan_language.md with the generated analyses table replaced."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{PLAN_LANGUAGE}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{analyses_table()}\n{END}{tail}"


def vocabulary_doc() -> str:
    from ketastats.glossary import glossary

    g = glossary()
    lines = ["# Results vocabulary", "",
             f"<!-- generated from ketastats/vocabulary.yaml by `{COMMAND}`; do not edit -->", "",
             "Every column of the tidy tables (`tables/*.csv`, `results.json`), the multiplicity tables,",
             "`exclusions.csv` and every `glance` key of `results.json`, with its meaning, its header in the",
             "report and its kind. The kind decides how the report shows the column:", "",
             "| kind | shown as |", "| --- | --- |"]
    lines += [f"| `{kind}` | {_cell(text)} |" for kind, text in g.kinds.items()]
    lines += ["", "Settings that are the same in every row are moved to a note under the table, in this order: "
              + ", ".join(f"`{n}`" for n in g.note_order) + "; then any other setting.",
              "A glance key qualified after a space (`n_significant time_post (residual)`) is an entry of",
              "its first word."]
    groups: dict[str, list] = {}
    for column in g.columns.values():
        groups.setdefault(column.group, []).append(column)
    for group, columns in groups.items():
        lines += ["", f"## {group}", "", "| column | label | kind | meaning |", "| --- | --- | --- | --- |"]
        for c in columns:
            values = ("; values: " + ", ".join(f"`{k}` → {v}" for k, v in c.values.items())) if c.values else ""
            lines.append(f"| `{c.name}` | {_cell(c.label)} | {c.kind} | {_cell(c.meaning + values)} |")
    return "\n".join(lines) + "\n"


def stale() -> list[Path]:
    """The generated docs that differ from what the code and vocabulary.yaml give."""
    wanted = {PLAN_LANGUAGE: plan_language(PLAN_LANGUAGE.read_text(encoding="utf-8")),
              VOCABULARY_DOC: vocabulary_doc()}
    return [path for path, text in wanted.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        paths = stale()
        for path in paths:
            print(f"{path.relative_to(ROOT)} is stale: run `{COMMAND}`")
        return 1 if paths else 0
    PLAN_LANGUAGE.write_text(plan_language(PLAN_LANGUAGE.read_text(encoding="utf-8")), encoding="utf-8")
    VOCABULARY_DOC.write_text(vocabulary_doc(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
