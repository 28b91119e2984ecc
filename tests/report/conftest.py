"""Fixtures for the report tests: a real run of the placebo-controlled plan, and a small hand-made run
with a failed analysis, a failed family, warnings and exclusions (every branch of the page)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from ketastats.errors import Issue, Location
from ketastats.results import EXCLUSION_COLUMNS, AnalysisResult, FamilyResult, PlanResult

ROOT = Path(__file__).resolve().parents[2]

# a 1 x 1 transparent PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
                       "AAAABJRU5ErkJggg==")

SVG = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="180pt" height="120pt" viewBox="0 0 180 120" \
xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata><rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>x</dc:title></rdf:RDF></metadata>
 <!-- made by a test -->
 <defs><clipPath id="clip1"><rect x="0" y="0" width="180" height="120"/></clipPath>
 <path id="glyph-a" d="M 0 0 L 10 10"/></defs>
 <g clip-path="url(#clip1)"><use xlink:href="#glyph-a" x="5" y="5"/><circle cx="90" cy="60" r="30"/></g>
</svg>
"""


@dataclass
class FakeFigure:
    """Duck-typed like ketastats.results.RenderedFigure."""

    id: str
    title: str | None
    caption: str | None
    content: dict[str, bytes] = field(default_factory=dict)
    analysis: str | None = None
    status: str = "ok"
    reason: str | None = None


@pytest.fixture
def figures() -> list[FakeFigure]:
    svg = SVG.encode("utf-8")
    return [
        FakeFigure("one", "First figure", "A circle. Synthetic data.", {"svg": svg, "png": PNG},
                   analysis="ok_analysis"),
        FakeFigure("two", "Second figure", "The same circle", {"svg": svg}),   # same ids as one: must not clash
        FakeFigure("three", "PNG only", "Drawn as PNG.", {"png": PNG}),
        FakeFigure("four", "Broken", None, {}, status="failed", reason="analysis 'x' failed, nothing to draw"),
    ]


def _exclusions(analysis_id: str, n: int, reason: str) -> pd.DataFrame:
    return pd.DataFrame([{"analysis_id": analysis_id, "table": "clinical", "row": k + 1, "subject": f"P{k:02d}",
                          "key": f"P{k:02d}|baseline", "reason": reason, "detail": f"{reason} detail"}
                         for k in range(n)], columns=EXCLUSION_COLUMNS)


def make_result(synthetic: bool = True) -> PlanResult:
    tidy = pd.DataFrame({
        "outcome": ["madrs_change", "madrs_change"], "term": ["Intercept", "dose_mg"],
        "estimate": [-12.345678, 0.00942349], "std_error": [2.5, 0.00799], "statistic": [-4.9, 1.18],
        "statistic_type": ["t", "t"], "df": [37, 37], "p_value": [1.2e-05, 0.23823],
        "conf_low": [-17.4, -0.0062], "conf_high": [-7.3, 0.025], "conf_level": [0.95, 0.95], "n": [40, 40]})
    ok = AnalysisResult("ok_analysis", "regression", tidy=tidy, title="Change in MADRS by dose",
                        extras={"labels": {"madrs_change": "Change in MADRS total score (points)",
                                           "dose_mg": "Dose (mg)"}},
                        notes=["gaussian regression as R lm"],
                        exclusions=_exclusions("ok_analysis", 3, "missing-value"),
                        issues=[Issue("singular-fit", "the fit is singular", severity="warning")])
    failed = AnalysisResult("broken_analysis", "mixed_model", status="failed", title="A model that cannot be fitted",
                            issues=[Issue("zero-variance", "outcome 'madrs' has zero variance, nothing to fit",
                                          hint="Check the population")],
                            exclusions=_exclusions("broken_analysis", 2, "population"))
    family_table = pd.DataFrame({
        "family": ["primary"], "order": [1], "member": ["dose effect"], "analysis_id": ["ok_analysis"],
        "term": ["dose_mg"], "outcome": ["madrs_change"], "selector": ["term=dose_mg"], "estimate": [0.0094],
        "statistic": [1.18], "p_value": [0.23823], "adjust_method": ["bonferroni"], "m": [1], "alpha": [0.05],
        "threshold": [0.05], "p_adjusted": [0.23823], "significant": [False]})
    families = {
        "primary": FamilyResult("primary", "bonferroni", 0.05, table=family_table, title="Primary outcome",
                                summary="Bonferroni over 1 test (α = 0.05): each raw p-value is compared with "
                                        "0.05 / 1 = 0.05. 0 of 1 pass."),
        "secondary": FamilyResult("secondary", "holm", 0.05, title="Secondary", status="failed",
                                  issues=[Issue("member-analysis-failed", "family 'secondary': analysis "
                                                "'broken_analysis' did not run successfully")]),
    }
    spec = lambda id, **kw: SimpleNamespace(id=id, table="clinical", population=kw.get("population"),  # noqa: E731
                                            where=kw.get("where"), description=kw.get("description"))
    plan = SimpleNamespace(
        id="demo_plan", title="Demo & <test> plan", description="A plan with 50 % of everything_underscored.",
        synthetic_data=synthetic, seed=7, ketastats=1, populations={"pp": object()}, derive=[],
        analyses=[spec("ok_analysis", where="visit != 'baseline'", description="Regression of change on dose."),
                  spec("broken_analysis", population="pp")],
        multiplicity={"primary": SimpleNamespace(members=[object()], description=None),
                      "secondary": SimpleNamespace(members=[object(), object()], description="two tests")})
    manifest = {"ketastats_manifest": 1, "plan": {"id": "demo_plan", "title": plan.title, "file": "demo.yaml",
                                                  "sha256": "ab" * 32},
                "synthetic_data": synthetic,
                "inputs": {"clinical": {"source": "ketastats:demo/clinical.csv", "format": "csv", "sha256": "cd" * 32,
                                        "rows": 40, "dictionary": "clinical.yaml", "dictionary_sha256": "ef" * 32}},
                "seeds": {"plan": 7}, "software": {"ketastats": "0.1.0", "python": "3.11"}, "platform": "Linux"}
    return PlanResult(plan=plan, results={"ok_analysis": ok, "broken_analysis": failed}, data={}, manifest=manifest,
                      warnings=[Issue("no-at-risk-status", "2 subject(s) have no row at visit post_24h",
                                      Location(path="derive[4]"), severity="warning")], families=families)


@pytest.fixture
def fake_result() -> PlanResult:
    return make_result()


@pytest.fixture(scope="session")
def rct_result():
    import ketastats

    return ketastats.run_plan(ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml", write=False)
