"""The analysis registry: one module per plan ``type``.

Each module exports a pydantic ``Spec`` (with ``type: Literal[...]``), ``run(spec, ctx) ->
AnalysisResult`` and a docstring naming the R function it matches. The plan schema's
analysis union is built from :data:`REGISTRY`; adding a type touches its module, its test
file, its reference folder and one line in each list below.
"""

from __future__ import annotations

from types import ModuleType

from ketastats.analyses import (
    baseline_table,
    correlation,
    cox,
    descriptives,
    flow,
    group_proportions,
    kaplan_meier,
    logrank,
    mass_mixed_model,
    mixed_model,
    mmrm,
    paired_ttest,
    proportions,
    regression,
    rm_anova,
    subgroups,
    ttest,
)

#: Every analysis module, in alphabetical order (the order of the plan schema's union and the docs).
#: A module here must define ``Spec`` (a subclass of ``AnalysisSpec`` with a ``type`` literal) and
#: ``run(spec, ctx) -> AnalysisResult``. tests/contract/test_registry_contract.py runs an example of
#: each entry twice (same tidy table), checks its columns against the glossary (vocabulary.yaml) and
#: that rows analysed + rows excluded = rows in the table.
REGISTRY: list[ModuleType] = [
    baseline_table,
    correlation,
    cox,
    descriptives,
    flow,
    group_proportions,
    kaplan_meier,
    logrank,
    mass_mixed_model,
    mixed_model,
    mmrm,
    paired_ttest,
    proportions,
    regression,
    rm_anova,
    subgroups,
    ttest,
]
#: Plan ``type`` → module, read from each ``Spec``'s ``type: Literal[...]`` annotation.
BY_TYPE: dict[str, ModuleType] = {module.Spec.model_fields["type"].annotation.__args__[0]: module
                                  for module in REGISTRY}
