"""Data dictionaries: what each column of a table is, its type, range, levels, unit and label.

A dictionary is a YAML file (see ``docs/plan_language.md``)::

    table: clinical
    description: Clinical ratings per visit (synthetic replica of Siegel et al. 2021)
    key: [participant_id, visit]
    columns:
      participant_id: {type: string, description: Participant identifier}
      visit: {type: category, levels: [baseline, day1, week2], ordered: true}
      madrs: {type: integer, min: 0, max: 60, unit: points, label: MADRS total score}
      cgi_i: {type: integer, min: 1, max: 7, required: false}

``required: false`` means a value may be missing (the column itself must still be present).
A column in the data that the dictionary does not name is an error unless
``extra_columns: allow``.

Example
-------
>>> d = Dictionary.model_validate({"table": "t", "key": ["id"], "columns": {
...     "id": {"type": "string"}, "score": {"type": "integer", "min": 0, "max": 60}}})
>>> d.columns["score"].display_name("score")
'score'
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnType = Literal["string", "integer", "number", "boolean", "category", "date"]


class Column(BaseModel):
    """One column's definition."""

    model_config = ConfigDict(extra="forbid")

    type: ColumnType
    description: str | None = None
    label: str | None = None
    unit: str | None = None
    required: bool = Field(True, description="false: values may be missing")
    min: float | None = None
    max: float | None = None
    levels: list[str] | None = Field(None, description="allowed values of a category column, in order")
    ordered: bool = False
    level_labels: dict[str, str] | None = Field(
        None, description="display names of levels, e.g. {ect: ECT}, in the report's tables (the CSVs keep the codes)")

    @model_validator(mode="after")
    def _check(self) -> "Column":
        if self.type == "category" and not self.levels:
            raise ValueError("a category column needs 'levels'")
        if self.levels is not None and self.type != "category":
            raise ValueError("'levels' is only for type: category")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError("'levels' has duplicates")
        if (self.min is not None or self.max is not None) and self.type not in ("integer", "number"):
            raise ValueError("'min' / 'max' are only for integer and number columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is larger than 'max'")
        if self.level_labels is not None:
            allowed = self.levels if self.type == "category" else ["true", "false"] if self.type == "boolean" else None
            if allowed is None:
                raise ValueError("'level_labels' is only for category and boolean columns")
            unknown = [k for k in self.level_labels if str(k) not in allowed]
            if unknown:
                raise ValueError(f"'level_labels' names {', '.join(map(str, unknown))}, not among the levels "
                                 f"{', '.join(allowed)}")
        return self

    def display_name(self, name: str) -> str:
        """Label with unit for headers and axes, e.g. ``MADRS total score (points)``."""
        text = self.label or name
        return f"{text} ({self.unit})" if self.unit else text


class Dictionary(BaseModel):
    """A table's dictionary."""

    model_config = ConfigDict(extra="forbid")

    table: str
    description: str | None = None
    key: list[str] = Field(default_factory=list, description="columns unique together")
    columns: dict[str, Column]
    extra_columns: Literal["forbid", "allow"] = "forbid"
    missing_values: list[str] = Field(default_factory=lambda: ["", "NA"],
                                      description="cell texts that mean 'missing' in CSV files")

    @model_validator(mode="after")
    def _check_key(self) -> "Dictionary":
        unknown = [k for k in self.key if k not in self.columns]
        if unknown:
            raise ValueError(f"key column(s) {unknown} are not defined under 'columns'")
        return self


def load_dictionary(path: Path, display_name: str | None = None) -> Dictionary:
    """Load and validate a dictionary file; problems raise ``PlanError`` with file and line."""
    from ketastats.language.validation_errors import validate_model
    from ketastats.language.yaml_source import load_yaml_file

    document = load_yaml_file(path, display_name)
    return validate_model(Dictionary, document)
