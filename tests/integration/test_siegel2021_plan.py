"""Acceptance of the foundation on the Siegel et al. 2021 synthetic replica: published numbers,
byte-identical reruns, drift check, CLI equals API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketastats.api import run_plan

ROOT = Path(__file__).resolve().parents[2]


def ketastats(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ketastats", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def siegel(tmp_path_factory):
    out = tmp_path_factory.mktemp("siegel") / "report"
    return run_plan(ROOT / "analysis_plans" / "siegel2021.yaml", out=out), out


def paper_round(value: float, digits: int = 0) -> float:
    return round(value + 1e-12, digits)


def test_madrs_by_visit_matches_the_paper(siegel):
    result, _ = siegel
    table = result.tables["madrs_by_visit"].set_index("visit")
    # Siegel et al. 2021, Table 1 and Results: 28.83 (3.94) at baseline; 9 (8), 13 (8), 15 (8)
    assert (paper_round(table.at["baseline", "mean"], 1), paper_round(table.at["baseline", "sd"], 1)) == (28.8, 3.9)
    for visit, mean, sd in [("day1", 9, 8), ("week2", 13, 8), ("week8", 15, 8)]:
        assert (paper_round(table.at[visit, "mean"]), paper_round(table.at[visit, "sd"])) == (mean, sd), visit
    assert table["n"].to_dict() == {"baseline": 23, "day1": 22, "week2": 21, "week4": 21, "week6": 21, "week8": 21}


@pytest.mark.parametrize("outcome, expected", [
    ("responder", {"day1": (16, 22), "week2": (11, 21), "week8": (11, 21)}),
    ("remitter", {"day1": (13, 22), "week2": (8, 21), "week8": (7, 21)}),
    ("cgi_improved", {"day1": (16, 22), "week2": (15, 21), "week8": (13, 21)}),
])
def test_rates_match_the_paper(siegel, outcome, expected):
    result, _ = siegel
    table = result.tables["response_rates"]
    rows = table[(table["outcome"] == outcome) & (table["ci_method"] == "wilson")].set_index("visit")
    for visit, (count, n) in expected.items():
        assert (rows.at[visit, "count"], rows.at[visit, "n"]) == (count, n), visit


def test_rate_intervals_agree_with_r(siegel, tolerances):
    """CIs in the results table equal R's binom.test / prop.test(correct = FALSE) values stored in
    tests/reference/proportions/proportions.json (made by make_reference.R)."""
    result, _ = siegel
    reference = json.loads((ROOT / "tests/reference/proportions/proportions.json").read_text())
    cases = {(c["count"], c["n"], c["conf_level"]): c for c in reference["cases"]}
    table = result.tables["response_rates"]
    checked = 0
    for row in table.itertuples():
        case = cases.get((row.count, row.n, row.conf_level))
        if case is None:
            continue
        low, high = case[row.ci_method]
        assert row.conf_low == pytest.approx(low, abs=tolerances.PROPORTION_CI_ATOL)
        assert row.conf_high == pytest.approx(high, abs=tolerances.PROPORTION_CI_ATOL)
        checked += 1
    assert checked >= 18


def test_exclusions_account_for_every_row(siegel):
    result, _ = siegel
    clinical = result.data["clinical"]
    exclusions = result.exclusions
    rates = exclusions[exclusions["analysis_id"] == "response_rates"]
    analysed = result.tables["response_rates"].query("ci_method == 'wilson'").groupby("outcome")["n"].sum()
    for outcome in ("responder", "remitter", "cgi_improved"):
        missing = rates[rates["detail"] == f"{outcome} is missing"]
        other = rates[rates["reason"] != "missing-value"]
        assert analysed[outcome] + len(missing) + len(other) == len(clinical)
    baseline_rows = clinical.index[clinical["visit"] == "baseline"]
    assert set(rates.loc[rates["reason"].isin(["not-selected", "population"]), "row"]) >= set(baseline_rows)


def test_report_files(siegel):
    result, out = siegel
    assert sorted(p.name for p in (out / "tables").iterdir()) == sorted(   # CSV + manuscript copies (.tex, .docx)
        f"{analysis_id}.{kind}" for analysis_id, analysis in result.results.items() if analysis.ok
        for kind in ("csv", "docx", "tex"))
    written = {p.name for p in (out / "tables").iterdir()}
    assert {"madrs_by_visit.csv", "response_rates.csv", "fc_sgacc_dmn.csv"} <= written
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["synthetic_data"] is True
    assert len(manifest["inputs"]["clinical"]["sha256"]) == 64
    assert str(ROOT) not in (out / "manifest.json").read_text()
    html = (out / "report.html").read_text()
    assert "SYNTHETIC DATA" in html and "http://" not in html and "https://" not in html
    for path in (out / "tables").iterdir():
        assert str(ROOT).encode() not in path.read_bytes()   # .docx: see tests/report/test_exports.py


def test_two_runs_are_byte_identical_and_check_detects_drift(tmp_path):
    plan = ROOT / "analysis_plans" / "siegel2021.yaml"
    first, second = tmp_path / "a", tmp_path / "b"
    assert ketastats("run", str(plan), "--out", str(first), "-q", cwd=tmp_path).returncode == 0
    assert ketastats("run", str(plan), "--out", str(second), "-q", cwd=tmp_path).returncode == 0
    for path in sorted((first / "tables").iterdir()) + sorted((first / "multiplicity").iterdir()) + [
            first / "exclusions.csv", first / "results.json", first / "report.html"]:   # incl. .tex and .docx
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path.name
    ok = ketastats("check", str(plan), "--reports", str(first), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    table = first / "tables" / "madrs_by_visit.csv"
    table.write_text(table.read_text().replace("28.8261", "28.9261"))
    drift = ketastats("check", str(plan), "--reports", str(first), cwd=tmp_path)
    assert drift.returncode == 1
    assert "madrs_by_visit.csv row 1 (outcome=madrs, visit=baseline), column mean" in drift.stderr
    assert "28.9261" in drift.stderr and "28.8261" in drift.stderr


def test_cli_tables_equal_api_tables(siegel, tmp_path):
    result, out = siegel
    for analysis_id, frame in result.tables.items():
        written = pd.read_csv(out / "tables" / f"{analysis_id}.csv")
        assert list(written.columns) == list(frame.columns)
        numeric = frame.select_dtypes("number").columns
        pd.testing.assert_frame_equal(written[numeric].astype(float), frame[numeric].astype(float),
                                      rtol=1e-5, check_dtype=False)


def test_failed_run_keeps_previous_report(tmp_path, project):
    out = project / "reports" / "siegel2021"
    assert ketastats("run", "analysis_plans/siegel2021.yaml", "-q", cwd=project).returncode == 0
    before = (out / "tables" / "madrs_by_visit.csv").read_bytes()
    (project / "data" / "clinical.csv").write_text("participant_id,visit,madrs,cgi_i\nP01,baseline,99,\n")
    assert ketastats("run", "analysis_plans/siegel2021.yaml", "-q", cwd=project).returncode == 2
    assert (out / "tables" / "madrs_by_visit.csv").read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == ["siegel2021"]


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("keep me")
    run = ketastats("run", str(ROOT / "analysis_plans" / "siegel2021.yaml"), "--out", str(precious), "-q",
                    cwd=tmp_path)
    assert run.returncode == 2 and "output-not-a-report" in run.stderr
    assert (precious / "chapter1.tex").read_text() == "keep me"
