"""Multiplicity: ketastats.multiplicity.adjust against R p.adjust (tests/reference/p_adjust), per-test
thresholds, plan families (members checked before running, with YAML lines), the family table, the
report, and the Siegel primary-outcome family (the paper's Bonferroni verdicts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ketastats.multiplicity import adjust, thresholds

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests/reference/p_adjust/p_adjust.json").read_text())
R_NAMES = {"BH": "fdr_bh", "BY": "fdr_by"}


def test_method_lists_in_docs_are_p_adjust_methods():
    """The method lists written out for readers (the plan-language example, the module's example)
    are stats.p_adjust.METHODS, the one source of the choices; a new method must be added to them."""
    from ketastats import multiplicity
    from ketastats.stats.p_adjust import METHODS

    doc = (ROOT / "docs/plan_language.md").read_text().splitlines()
    for lines, separator in ((doc, "|"), (multiplicity.__doc__.splitlines(), ",")):
        line = next(text for text in lines if text.strip().startswith("method: bonferroni"))
        assert ["bonferroni"] + [m.strip() for m in line.split("#", 1)[1].split(separator)] == list(METHODS)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['vector']}-{c['method']}-n{c['n']}")
def test_adjust_matches_r_p_adjust(case, tolerances):
    p = np.array([np.nan if v is None else v for v in case["p"]])
    expected = np.array([np.nan if v is None else v for v in case["adjusted"]])
    ours = adjust(p, R_NAMES.get(case["method"], case["method"]), case["n"])
    assert np.array_equal(np.isnan(ours), np.isnan(expected))
    assert np.nanmax(np.abs(ours - expected)) <= tolerances.P_ADJUST_ATOL


def test_missing_p_values_do_not_count_unlike_statsmodels():
    assert adjust([0.01, np.nan, 0.02], "bonferroni").tolist()[::2] == [0.02, 0.04]


def test_fixed_sequence_and_thresholds():
    p = [0.01, 0.04, 0.03, 0.001]
    assert adjust(p, "fixed_sequence").tolist() == [0.01, 0.04, 0.04, 0.04]
    assert thresholds(p, "bonferroni", 0.05).tolist() == [0.0125] * 4
    assert thresholds(p, "holm", 0.05).tolist() == pytest.approx([0.05 / 3, 0.05, 0.05 / 2, 0.05 / 4])
    assert thresholds(p, "fdr_bh", 0.05).tolist() == pytest.approx([0.025, 0.05, 0.0375, 0.0125])
    assert thresholds(p, "bonferroni", 0.05, n=8).tolist() == [0.00625] * 4
    assert np.isnan(thresholds(p, "hommel", 0.05)).all()
    with pytest.raises(ValueError):
        adjust(p, "bonferroni", n=3)


# --- plan families ------------------------------------------------------------------------------

def _plan(project: Path, families: str) -> Path:
    path = project / "analysis_plans" / "siegel2021.yaml"
    text = path.read_text()
    start = text.index("multiplicity:\n")
    path.write_text(text[:start] + families)
    return path


FAMILY = """multiplicity:
  demo:
    method: holm
    members:
{members}
"""


@pytest.mark.parametrize("member, code, where", [
    ("      - {analysis: volumes_vs_madrs_chang, term: hippocampus_r_icv}", "unknown-analysis", "analysis"),
    ("      - {analysis: volumes_vs_madrs_change, term: hippocampus_x_icv}", "unknown-member", "term"),
    ("      - {analysis: volumes_vs_madrs_change, where: {visit: week2}}", "unknown-member-column", "where.visit"),
    ("      - {analysis: volumes_vs_madrs_change}", "ambiguous-member", "members[1]"),
])
def test_members_are_checked_before_anything_runs(project, member, code, where):
    from ketastats.api import validate_plan
    from ketastats.errors import PlanError

    members = "      - {analysis: volumes_vs_madrs_change, term: hippocampus_r_icv}\n" + member
    path = _plan(project, FAMILY.format(members=members))
    with pytest.raises(PlanError) as error:
        validate_plan(path)
    issues = [i for i in error.value.issues if i.code == code]
    assert issues, error.value.issues
    location = issues[0].location
    assert location.line is not None and location.line > 100
    assert where in location.path and location.path.startswith("multiplicity.demo.members[1]")
    if code == "unknown-member":
        assert issues[0].hint == "Did you mean 'hippocampus_r_icv'?"
    if code == "unknown-analysis":
        assert issues[0].hint == "Did you mean 'volumes_vs_madrs_change'?"


def test_member_of_an_unplanned_type_is_checked_at_run_time(project):
    from ketastats.api import run_plan

    members = ("      - {analysis: fc_dmn, term: no_such_term}\n"
               "      - {analysis: volumes_vs_madrs_change, term: hippocampus_r_icv}")
    path = _plan(project, FAMILY.format(members=members))
    result = run_plan(path, write=False)
    family = result.families["demo"]
    assert family.status == "failed" and family.issues[0].code == "unknown-member"
    assert "fc_dmn" in family.issues[0].message and result.exit_code == 1


def test_declared_family_size_must_cover_the_members(project):
    from ketastats.api import run_plan

    text = FAMILY.format(members="      - {analysis: volumes_vs_madrs_change, term: hippocampus_r_icv}\n"
                                 "      - {analysis: volumes_vs_madrs_change, term: nacc_r_icv}")
    path = _plan(project, text.replace("    method: holm\n", "    method: holm\n    m: 1\n"))
    assert run_plan(path, write=False).families["demo"].issues[0].code == "family-size-too-small"


# --- the Siegel family ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def siegel(tmp_path_factory):
    from ketastats.api import run_plan

    out = tmp_path_factory.mktemp("siegel") / "report"
    return run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", out=out), out


def test_siegel_primary_family_reproduces_the_paper_verdicts(siegel):
    result, _ = siegel
    family = result.families["primary_outcomes"]
    assert family.ok, family.issues
    table = family.table.set_index("member")
    assert (table["threshold"] == 0.00625).all() and (table["m"] == 8).all()  # 0.05 / 8, as the paper
    verdicts = table["significant"].to_dict()
    # Siegel et al. 2021: MADRS (p < 0.001) and the time effects (p = 0.003, 0.001, 0.003) pass; the
    # interactions (p = 0.051, 0.028, 0.54) do not — "this does not pass Bonferroni-corrected threshold"
    assert verdicts == {"MADRS over visits (RM-ANOVA, Greenhouse-Geisser)": True, "DMN time": True,
                        "DMN time x response": False, "sgACC-DMN time": True, "sgACC-DMN time x response": False,
                        "limbic time": True, "limbic time x response": False}
    assert round(table.at["sgACC-DMN time x response", "p_value"], 3) in (0.027, 0.028)
    # the adjusted p-values are R's p.adjust(p, "bonferroni", n = 8) of the same raw p-values
    case = next(c for c in REFERENCE["cases"]
                if c["vector"] == "siegel_primary" and c["method"] == "bonferroni" and c["n"] == 8)
    assert np.allclose(family.table["p_value"], case["p"], rtol=1e-6)
    assert np.allclose(family.table["p_adjusted"], case["adjusted"], rtol=1e-6)
    assert "0.05 / 8 = 0.00625" in family.summary and "3 do not pass" in family.summary


def test_family_files_report_and_drift_check(siegel):
    from ketastats.report.check import compare_reports

    _, out = siegel
    files = sorted(p.name for p in (out / "multiplicity").glob("*.csv"))
    assert files == ["limbic_volumes.csv", "patients_vs_controls.csv", "primary_outcomes.csv"]
    header = (out / "multiplicity" / "primary_outcomes.csv").read_text().splitlines()[0]
    assert header.split(",")[-4:] == ["alpha", "threshold", "p_adjusted", "significant"]
    document = json.loads((out / "results.json").read_text())
    assert {f["family"] for f in document["multiplicity"]} == {"primary_outcomes", "patients_vs_controls",
                                                               "limbic_volumes"}
    html = (out / "report.html").read_text()
    assert "each raw p-value is compared with 0.05 / 8 = 0.00625" in html
    assert "id='family-primary_outcomes'" in html
    assert compare_reports(out, out) == []
    table = out / "multiplicity" / "primary_outcomes.csv"
    copy = out.parent / "copy"
    import shutil

    shutil.copytree(out, copy)
    (copy / "multiplicity" / "primary_outcomes.csv").write_text(table.read_text().replace(",0.00625,", ",0.00725,", 1))
    differences = compare_reports(out, copy)
    assert differences and differences[0].file == "multiplicity/primary_outcomes.csv"
