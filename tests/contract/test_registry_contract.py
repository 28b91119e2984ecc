"""One suite over every registered analysis type (scikit-learn's common tests, broom's modeltests).

Each type must: have an example here (a new type fails until it adds one), appear in the JSON
Schema, use only glossary columns (plus its grouping columns) and glossary ``glance`` keys
(``ketastats/vocabulary.yaml``, read through :mod:`ketastats.glossary`), give identical tables
twice, and account for every input row (analysed or listed in exclusions).
"""

from __future__ import annotations

import pandas as pd
import pytest

from ketastats import glossary
from ketastats.analyses import BY_TYPE, REGISTRY
from ketastats.analyses.base import AnalysisInput
from ketastats.analyses.execute import execute
from ketastats.plan.json_schema import plan_json_schema
from ketastats.report.format import to_csv_text

# One entry per registered type (one line each), run on FRAME below.
EXAMPLES = {
    "descriptives": {"table": "t", "outcome": ["score"], "by": ["visit"]},
    "baseline_table": {"table": "t", "variables": ["score", "flag", "visit"], "by": "visit", "median_iqr": ["score"]},
    "flow": {"table": "t", "by": "visit", "treated": "flag"},
    "proportions": {"table": "t", "outcome": ["flag"], "by": ["visit"], "ci": ["wilson", "clopper_pearson"]},
    "rm_anova": {"table": "t", "outcome": ["score"], "within": ["visit"],
                 "posthoc": {"versus": "pre", "adjust": "holm"}},
    "paired_ttest": {"table": "t", "outcome": ["score"], "pair_by": "visit", "levels": ["post", "pre"]},
    "correlation": {"table": "t", "outcome": ["score"], "x": ["dose"], "method": ["pearson", "spearman"]},
    "ttest": {"table": "t", "outcome": ["score"], "group": "flag", "method": ["student", "welch"]},
    "group_proportions": {"table": "t", "outcome": ["flag"], "group": "visit", "ci": ["newcombe", "wald"]},
    "subgroups": {"table": "t", "outcome": ["score"], "group": "flag", "levels": [True, False], "subgroups": ["visit"]},
    "regression": {"table": "t", "formula": "score ~ dose"},
    "kaplan_meier": {"table": "t", "time": "score", "event": "flag", "by": ["visit"], "landmarks": [15, 40]},
    "logrank": {"table": "t", "time": "score", "event": "flag", "by": ["visit"]},
    "cox": {"table": "t", "time": "score", "event": "flag", "covariates": ["dose"], "ph_test": ["km", "identity"]},
    "mass_mixed_model": {"table": "t", "outcomes": ["score", "dose"], "formula": "~ visit", "random": "1 | pid"},
    "mixed_model": {"table": "t", "formula": "score ~ visit", "random": "1 | pid", "df_method": ["residual"],
                    "contrasts": [{"emmeans": "visit", "versus": "pre"}]},
    "mmrm": {"table": "t", "formula": "score ~ visit", "visit": "visit", "subject": "pid", "covariance": ["us", "cs"],
             "contrasts": [{"emmeans": "visit", "versus": "pre"}]},
}

FRAME = pd.DataFrame({
    "pid": ["a", "a", "b", "b", "c", "c", "d"],
    "visit": pd.Categorical(["pre", "post"] * 3 + ["pre"], categories=["pre", "post"], ordered=True),
    "score": [20.0, 10.0, 25.0, None, 30.0, 12.0, 22.0],
    "flag": pd.array([False, True, False, None, False, True, True], dtype="boolean"),
    "dose": [1.0, 2.0, 1.5, 3.0, 2.5, 2.25, None],
}, index=range(1, 8))


def test_every_registered_type_has_an_example():
    assert set(BY_TYPE) == set(EXAMPLES)
    assert len(REGISTRY) == len(BY_TYPE)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_contract(kind):
    module = BY_TYPE[kind]
    spec = module.Spec.model_validate({"id": f"{kind}_example", "type": kind, **EXAMPLES[kind]})
    schema_text = str(plan_json_schema())
    assert module.Spec.__name__ in schema_text or f"'{kind}'" in schema_text
    results = [execute(module, spec, AnalysisInput(spec.id, "t", FRAME, "pid", ["pid", "visit"])) for _ in range(2)]
    first, second = results
    assert first.ok, first.issues
    assert to_csv_text(first.tidy) == to_csv_text(second.tidy)
    by = set(getattr(spec, "by", []) or [])
    unknown = set(first.tidy.columns) - set(glossary.glossary().columns) - by
    assert not unknown, f"columns not in ketastats/vocabulary.yaml: {unknown}"
    unknown_glance = {key for key in first.glance if not glossary.known(key)}
    assert not unknown_glance, f"glance keys not in ketastats/vocabulary.yaml: {unknown_glance}"
    assert module.__doc__ and "R" in module.__doc__
    n_used = first.glance.get("n_rows_used")
    if n_used is None and "n" in first.tidy:
        n_used = first.tidy.drop_duplicates(["outcome", *by])["n"].sum()
    if n_used is not None:
        outcomes = len(spec.outcome)
        assert n_used + len(first.exclusions) == outcomes * len(FRAME)
