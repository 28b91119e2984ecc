"""Manuscript tables: every results table as LaTeX (booktabs) and as Word (.docx).

Written beside the CSV tables: ``tables/<analysis id>.tex`` and ``.docx`` for each analysis that
ran, ``multiplicity/<family>.tex`` and ``.docx`` for each family that was adjusted. Both show the
*display* table of :mod:`ketastats.report.display` — the same cells, column labels and notes as
report.html — so a number in the manuscript is the number in the report.

LaTeX: a ``table`` float with caption and label ``tab:<id>``, a ``tabular`` with ``\\toprule`` /
``\\midrule`` / ``\\bottomrule`` (needs ``\\usepackage{booktabs}``), every special character escaped
(``\\ & % $ # _ { } ~ ^ < >``) and the Unicode the display uses (minus sign, Greek letters, ×, ±,
superscripts) written as LaTeX commands, so the file compiles with pdfLaTeX as well as with
LuaLaTeX / XeLaTeX. Notes follow the tabular in ``\\footnotesize``.

Word: a caption paragraph, a table with rules above and below the column labels and below the
last row (the booktabs look), numbers right-aligned, notes under it; landscape pages for wide
tables. A .docx file is a zip archive whose entries and core properties carry dates, so the file
is rewritten with fixed dates (entries dated 1980-01-01, created / modified / last printed
2000-01-01) and entries in name order: the same table gives identical bytes.

Example
-------
``write_exports(plan_result, Path("reports/siegel2021"))``
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

from ketastats.report.display import DisplayTable, analysis_table, family_table

FIXED_DATE = _dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", "\u2212": r"\textminus{}", "×": r"\texttimes{}", "±": r"\textpm{}", "—": "---", "–": "--",
    "α": r"\ensuremath{\alpha}", "β": r"\ensuremath{\beta}", "η": r"\ensuremath{\eta}", "ε": r"\ensuremath{\varepsilon}",
    "χ": r"\ensuremath{\chi}", "σ": r"\ensuremath{\sigma}", "Σ": r"\ensuremath{\Sigma}", "μ": r"\ensuremath{\mu}",
    "√": r"\ensuremath{\surd}", "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}", "∞": r"\ensuremath{\infty}",
    "≈": r"\ensuremath{\approx}", "→": r"\ensuremath{\rightarrow}", "·": r"\ensuremath{\cdot}",
    "²": r"\textsuperscript{2}", "³": r"\textsuperscript{3}", "¹": r"\textsuperscript{1}",
    "⁰": r"\textsuperscript{0}", "⁴": r"\textsuperscript{4}", "⁵": r"\textsuperscript{5}",
    "⁶": r"\textsuperscript{6}", "⁷": r"\textsuperscript{7}", "⁸": r"\textsuperscript{8}",
    "⁹": r"\textsuperscript{9}", "⁻": r"\textsuperscript{\textminus{}}", "\u00a0": "~",
}


def latex_escape(text: str) -> str:
    """``text`` as LaTeX source that prints it (specials escaped, display Unicode as commands)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def latex_table(table: DisplayTable, source: str = "") -> str:
    """A booktabs ``table`` float of a display table."""
    spec = "".join("r" if a == "right" else "l" for a in table.align) or "l"
    lines = [f"% {latex_escape(table.title)}" if table.title else "%",
             "% Written by ketastats" + (f" from {source}" if source else "") + "; needs \\usepackage{booktabs}.",
             "\\begin{table}[htbp]", "\\centering"]
    if len(table.columns) > 8:
        lines.append("\\small")
    lines += [f"\\caption{{{latex_escape(table.title)}}}", f"\\label{{tab:{_label(table.id)}}}",
              f"\\begin{{tabular}}{{@{{}}{spec}@{{}}}}", "\\toprule",
              " & ".join(latex_escape(c) for c in table.columns) + " \\\\", "\\midrule"]
    lines += [" & ".join(latex_escape(cell) for cell in row) + " \\\\" for row in table.rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    if table.notes:
        lines.append("\\par\\smallskip")
        lines.append("{\\footnotesize\\raggedright " + " \\\\\n".join(latex_escape(note) for note in table.notes)
                     + "\\par}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def _label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9:._-]", "-", name)


# --- Word ---------------------------------------------------------------------------------------

def _border(cell, **edges: str) -> None:
    """Set cell borders, e.g. ``top="12"`` (eighths of a point, single line)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = cell._tc.get_or_add_tcPr()
    borders = properties.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        properties.append(borders)
    for edge, size in edges.items():
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), size)
        element.set(qn("w:space"), "0")
        element.set(qn("w:color"), "000000")
        borders.append(element)


def _core_text(text: str | None) -> str | None:
    """A Word core property (at most 255 characters, python-docx's limit): longer titles are shortened with '…'.

    The document's caption keeps the whole title."""
    if text is None or len(text) <= 255:
        return text
    return text[:254] + "\u2026"


def docx_bytes(table: DisplayTable, source: str = "") -> bytes:
    """The .docx file of a display table, byte-deterministic."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    core = document.core_properties
    core.title = _core_text(table.title)
    core.author = "ketastats"
    core.last_modified_by = "ketastats"
    core.comments = f"Written by ketastats from {source}" if source else "Written by ketastats"
    core.created = core.modified = core.last_printed = FIXED_DATE
    core.revision = 1
    section = document.sections[0]
    if len(table.columns) > 8:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    style = document.styles["Normal"]
    style.font.size = Pt(9)

    caption = document.add_paragraph()
    run = caption.add_run(f"Table. {table.title}")
    run.bold = True
    grid = document.add_table(rows=len(table.rows) + 1, cols=max(1, len(table.columns)))
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    last = len(table.rows)
    for r, values in enumerate([table.columns, *table.rows]):
        cells = grid.rows[r].cells
        for c, value in enumerate(values):
            paragraph = cells[c].paragraphs[0]
            text_run = paragraph.add_run(str(value))
            if r == 0:
                text_run.bold = True
            if table.align[c] == "right":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            edges = {}
            if r == 0:
                edges.update(top="12", bottom="6")
            if r == last:
                edges["bottom"] = "12"
            if edges:
                _border(cells[c], **edges)
    for note in table.notes:
        paragraph = document.add_paragraph()
        note_run = paragraph.add_run(note)
        note_run.font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return deterministic_zip(buffer.getvalue())


def deterministic_zip(data: bytes) -> bytes:
    """The same archive with entries in name order, fixed dates and attributes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()


# --- writing ------------------------------------------------------------------------------------

def _write(folder: Path, stem: str, table: DisplayTable, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{stem}.tex", "w", encoding="utf-8", newline="\n") as handle:
        handle.write(latex_table(table, source))
    (folder / f"{stem}.docx").write_bytes(docx_bytes(table, source))


def write_exports(result, folder: Path) -> None:
    """``tables/<id>.tex|.docx`` per analysis that ran, ``multiplicity/<family>.tex|.docx`` per family."""
    folder = Path(folder)
    for analysis_id, analysis in result.results.items():
        if analysis.ok:
            _write(folder / "tables", analysis_id, analysis_table(analysis), f"tables/{analysis_id}.csv")
    for name, family in result.families.items():
        if family.ok:
            _write(folder / "multiplicity", name, family_table(family), f"multiplicity/{name}.csv")
