"""Plans: safe loading (:mod:`.loader`), the typed schema (:mod:`.schema`), name resolution
(:mod:`.resolve`) and the rule grammar (:mod:`.expressions`).

Example
-------
>>> loaded = load_plan("analysis_plans/siegel2021.yaml")   # doctest: +SKIP
>>> loaded.plan.id                                          # doctest: +SKIP
'siegel2021'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ketastats.language.validation_errors import validate_model
from ketastats.language.yaml_source import YamlDocument, load_yaml_file


@dataclass
class LoadedPlan:
    """A schema-valid plan, its YAML document (for line numbers) and where it lives."""

    plan: Any
    document: YamlDocument
    path: Path

    @property
    def base(self) -> Path:
        """The folder relative paths in the plan are resolved from."""
        return self.path.parent


def load_plan(path: str | Path) -> LoadedPlan:
    """Load a plan file and check its shape; raises ``PlanError`` listing every problem."""
    from ketastats.plan.schema import plan_model

    path = Path(path)
    document = load_yaml_file(path, display_name=path.name)
    plan = validate_model(plan_model(), document)
    return LoadedPlan(plan=plan, document=document, path=path)
