"""Manuscript tables (LaTeX and Word), their determinism, and the drift check beside them."""

from __future__ import annotations

import io
import shutil
import zipfile

import pandas as pd
import pytest

from ketastats.report.check import compare_reports
from ketastats.report.display import display_table
from ketastats.report.exports import FIXED_DATE, docx_bytes, latex_escape, latex_table, write_exports


def test_latex_escapes_specials():
    assert latex_escape("a_b 50% R&D $5 #1 {x} ~ ^ \\") == \
        r"a\_b 50\% R\&D \$5 \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    assert latex_escape("< 0.001") == r"\textless{} 0.001"
    assert latex_escape("\u22120.5 × 10⁻⁵, α = 0.05, χ²") == \
        r"\textminus{}0.5 \texttimes{} 10\textsuperscript{\textminus{}}\textsuperscript{5}, " \
        r"\ensuremath{\alpha} = 0.05, " \
        r"\ensuremath{\chi}\textsuperscript{2}"


def test_latex_table_is_booktabs_and_escaped():
    frame = pd.DataFrame({"term": ["dose_mg", "arm[T.ketamine]"], "estimate": [-0.5, 1.25], "p_value": [0.0001, 0.5],
                          "n": [10, 12]})
    text = latex_table(display_table(frame, id="my_table", title="Dose & 50% response", notes=["a_b note"]))
    lines = text.splitlines()
    assert "\\begin{tabular}{@{}lrrr@{}}" in lines
    assert lines.index("\\toprule") < lines.index("\\midrule") < lines.index("\\bottomrule")
    assert "\\caption{Dose \\& 50\\% response}" in lines and "\\label{tab:my_table}" in lines
    assert "dose\\_mg & \\textminus{}0.500 & \\textless{} 0.001 & 10 \\\\" in lines
    assert "arm: ketamine & 1.250 & 0.500 & 12 \\\\" in lines   # the term in words (no reference known)
    assert "a\\_b note" in text
    body = [line for line in lines if line.endswith("\\\\") and "&" in line]
    assert all(line.count(" & ") == 3 for line in body)
    assert " % " not in "\n".join(lines[2:]) and "50%" not in "\n".join(lines[2:])


def _table(rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"outcome": ["madrs"] * rows, "visit": [f"week{k}" for k in range(rows)],
                         "mean": [28.8 - k for k in range(rows)], "p_value": [0.01 * (k + 1) for k in range(rows)]})


def test_docx_is_readable_with_the_right_shape():
    import docx

    table = display_table(_table(4), id="t", title="Means by visit", notes=["note one", "note two"])
    document = docx.Document(io.BytesIO(docx_bytes(table)))
    assert len(document.tables) == 1
    grid = document.tables[0]
    assert len(grid.rows) == 5 and len(grid.columns) == 3   # one outcome in every row: said in a note
    assert [c.text for c in grid.rows[0].cells] == ["Visit", "Mean", "p"]
    assert [c.text for c in grid.rows[1].cells] == ["week0", "28.8", "0.010"]
    texts = [p.text for p in document.paragraphs]
    assert "Table. Means by visit" in texts and "note one" in texts and "note two" in texts
    assert "Outcome: madrs." in texts
    core = document.core_properties
    assert {core.created.replace(tzinfo=None), core.modified.replace(tzinfo=None),
            core.last_printed.replace(tzinfo=None)} == {FIXED_DATE}
    assert core.title == "Means by visit"


def test_docx_bytes_are_deterministic(tmp_path):
    import time

    table = display_table(_table(), id="t", title="Means")
    first = docx_bytes(table)
    time.sleep(2.1)   # zip entry times have a 2-second resolution
    second = docx_bytes(table)
    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = archive.namelist()
    assert names == sorted(names) and names[0] == "[Content_Types].xml"
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert b"2000-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def test_wide_tables_are_landscape():
    import docx
    from docx.enum.section import WD_ORIENT

    frame = pd.DataFrame({f"col_{k}": [float(k)] for k in range(12)})
    document = docx.Document(io.BytesIO(docx_bytes(display_table(frame, title="wide"))))
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height


def test_write_exports_and_the_drift_check(fake_result, tmp_path):
    from ketastats.report.format import to_csv_text

    out = tmp_path / "report"
    write_exports(fake_result, out)
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["ok_analysis.docx", "ok_analysis.tex"]
    assert sorted(p.name for p in (out / "multiplicity").iterdir()) == ["primary.docx", "primary.tex"]
    tex = (out / "tables" / "ok_analysis.tex").read_text(encoding="utf-8")
    assert "Change in MADRS total score (points)" in tex and "\\textless{} 0.001" in tex
    # check compares the CSVs (and adtte_*.csv) and ignores the manuscript copies
    (out / "tables" / "ok_analysis.csv").write_text(to_csv_text(fake_result.results["ok_analysis"].tidy))
    (out / "adtte_relapse.csv").write_text("participant_id,PARAMCD,AVAL,CNSR\nK001,RELAPSE,70,0\nK002,RELAPSE,35,1\n")
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "tables" / "ok_analysis.tex").write_text("changed")
    assert compare_reports(out, copy) == []
    (copy / "adtte_relapse.csv").write_text("participant_id,PARAMCD,AVAL,CNSR\nK001,RELAPSE,71,0\nK002,RELAPSE,35,1\n")
    differences = compare_reports(out, copy)
    assert [str(d) for d in differences] == [
        "adtte_relapse.csv row 1 (participant_id=K001, PARAMCD=RELAPSE), column AVAL: committed '70', now '71'"]
    (copy / "adtte_relapse.csv").unlink()
    assert [(d.file, d.current) for d in compare_reports(out, copy)] == [("adtte_relapse.csv", "missing")]


@pytest.mark.parametrize("plan", ["ketamine_placebo_rct"])
def test_a_real_run_writes_identical_manuscript_tables_twice(plan, rct_result, tmp_path):
    write_exports(rct_result, tmp_path / "a")
    write_exports(rct_result, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert {f.suffix for f in files} == {".tex", ".docx"}
    ok = [a for a, r in rct_result.results.items() if r.ok]
    assert sorted(f.stem for f in files if f.parent.name == "tables" and f.suffix == ".tex") == sorted(ok)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_tables_compile_with_pdflatex(rct_result, fake_result, tmp_path):
    import subprocess

    write_exports(rct_result, tmp_path / "rct")
    write_exports(fake_result, tmp_path / "fake")
    inputs = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.tex"))
    (tmp_path / "all.tex").write_text(
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{booktabs}\\begin{document}\n"
        + "\n".join(f"\\input{{{name}}}\\clearpage" for name in inputs) + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    log = (tmp_path / "all.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert "Missing character" not in log and "Undefined control sequence" not in log
