"""The analysis registry: one module per plan ``type``.

Each module exports a pydantic ``Spec`` (with ``type: Literal[...]``), ``run(spec, ctx) ->
AnalysisResult`` and a docstring naming the R function it matches. The plan schema's
analysis union is built from :data:`REGISTRY`; adding a type touches its module, its test
file, its reference folder and one line in each list below.
"""

from __future__ import annotations

from types import ModuleType

from ketastats.analyses import (
    descriptives,
    proportions,
)

REGISTRY: list[ModuleType] = [
    descriptives,
    proportions,
]
BY_TYPE: dict[str, ModuleType] = {module.Spec.model_fields["type"].annotation.__args__[0]: module
                                  for module in REGISTRY}
