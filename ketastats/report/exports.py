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
import functools
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
    "α": r"\ensuremath{\alpha}", "β": r"\ensuremath{\beta}", "η": r"\ensuremath{\eta}",
    "ε": r"\ensuremath{\varepsilon}", "\u2003": r"\quad{}",
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
    """The .docx file of a display table, byte-deterministic.

    The document XML is written directly from the display strings into the parts of one template
    (python-docx's default document, stored in ``report/docx_template.zip`` and read once per process:
    :func:`_docx_template`), in
    python-docx's own markup, and zipped once (``tests/report/test_exports.py`` compares the
    bytes with the python-docx path, :func:`_docx_bytes_python_docx`, which is kept for text the
    direct writer does not handle: tabs, line breaks, characters XML cannot hold)."""
    fast = _docx_bytes_direct(table, source)
    return fast if fast is not None else _docx_bytes_python_docx(table, source)


_PLAIN_TEXT = re.compile(r"[^\t\n\r\x00-\x1f\ud800-\udfff\ufffe\uffff]*")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run_xml(text: str, properties: str = "") -> str:
    """A ``w:r`` as python-docx writes ``add_run(text)`` (with ``properties`` as its ``w:rPr``)."""
    pr = f"<w:rPr>{properties}</w:rPr>" if properties else ""
    if not text:
        return f"<w:r>{pr}</w:r>" if pr else "<w:r/>"
    space = ' xml:space="preserve"' if len(text.strip()) < len(text) else ""
    return f"<w:r>{pr}<w:t{space}>{_xml_text(text)}</w:t></w:r>"


TEMPLATE_FILE = Path(__file__).with_name("docx_template.zip")
"""python-docx's default document with the settings below, stored (:func:`store_docx_template` writes
it; ``tests/report/test_docx_direct.py`` checks it against python-docx), so that a run neither imports
python-docx nor parses its template."""


@functools.lru_cache(maxsize=1)
def _docx_template() -> dict:
    """The Word template, read once per process: :data:`TEMPLATE_FILE`, else built by python-docx.

    Returns, for portrait (False) and landscape (True) pages, the zip parts (name -> bytes), the
    document XML before and after the body content, the table width in EMU and the constant parts
    already deflated (name -> (bytes, CRC-32, deflated bytes)), which every .docx reuses."""
    try:
        with zipfile.ZipFile(TEMPLATE_FILE) as archive:
            stored = {name: archive.read(name) for name in archive.namelist()}
    except (OSError, zipfile.BadZipFile):
        return _with_deflated(_docx_template_python_docx())
    parts = {name[len("parts/"):]: data for name, data in stored.items() if name.startswith("parts/")}
    out = {}
    for landscape, page in ((False, "portrait"), (True, "landscape")):
        xml = stored[f"{page}/document.xml"].decode("utf-8")
        start = xml.index("<w:body>") + len("<w:body>")
        end = xml.index("<w:sectPr")
        out[landscape] = {"head": xml[:start], "tail": xml[end:], "width": int(stored[f"{page}/width"]),
                          "parts": parts}
    return _with_deflated(out)


def _with_deflated(template: dict) -> dict:
    """``template`` with each page's constant parts deflated once (as zipfile would, for :func:`_zip_parts`)."""
    import zlib

    cache: dict[str, tuple[bytes, int, bytes]] = {}
    for page in template.values():
        for name, data in page["parts"].items():
            if name not in cache or cache[name][0] is not data:
                deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
                cache[name] = (data, zlib.crc32(data), deflate.compress(data) + deflate.flush())
        page["deflated"] = cache
    return template


def store_docx_template(path: Path = TEMPLATE_FILE) -> None:
    """Write :data:`TEMPLATE_FILE` from python-docx (after a python-docx upgrade changes its default document:
    ``python -c "from ketastats.report.exports import store_docx_template; store_docx_template()"``)."""
    template = _docx_template_python_docx()
    entries = {f"parts/{name}": data for name, data in template[False]["parts"].items()}
    for landscape, page in ((False, "portrait"), (True, "landscape")):
        entries[f"{page}/document.xml"] = (template[landscape]["head"] + template[landscape]["tail"]).encode("utf-8")
        entries[f"{page}/width"] = str(template[landscape]["width"]).encode("ascii")
    Path(path).write_bytes(_zip_parts(entries))


def _docx_template_python_docx() -> dict:
    """python-docx's default document with the fixed settings (Normal 9 pt; a landscape page for wide
    tables): for each page, the zip parts, the document XML before / after the body, the table width (EMU)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    out: dict = {}
    for landscape in (False, True):
        document = Document()
        if landscape:
            section = document.sections[0]
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
        document.styles["Normal"].font.size = Pt(9)
        section = document.sections[0]
        # python-docx types the page geometry Optional; a new Document always has it
        width = section.page_width - section.left_margin - section.right_margin  # type: ignore[operator]
        buffer = io.BytesIO()
        document.save(buffer)
        with zipfile.ZipFile(buffer) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        xml = parts.pop("word/document.xml").decode("utf-8")
        start = xml.index("<w:body>") + len("<w:body>")
        end = xml.index("<w:sectPr")
        out[landscape] = {"head": xml[:start], "tail": xml[end:], "width": int(width), "parts": parts}
    return out


def _core_xml(title: str | None, comments: str) -> str:
    def element(tag: str, text: str | None) -> str:
        return f"<{tag}/>" if text is None else f"<{tag}>{_xml_text(text)}</{tag}>"

    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            + element("dc:title", title) + "<dc:subject/><dc:creator>ketastats</dc:creator><cp:keywords/>"
            + element("dc:description", comments) + "<cp:lastModifiedBy>ketastats</cp:lastModifiedBy>"
            "<cp:revision>1</cp:revision><dcterms:created xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z"
            "</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z</dcterms:modified>"
            "<cp:category/><cp:lastPrinted>2000-01-01T00:00:00Z</cp:lastPrinted></cp:coreProperties>")


def _docx_bytes_direct(table: DisplayTable, source: str) -> bytes | None:
    """:func:`docx_bytes` written directly; None when a text needs python-docx (tabs, breaks, control characters)."""
    texts = [table.title, *table.columns, *(str(v) for row in table.rows for v in row), *table.notes, source]
    if not table.columns or any(len(row) != len(table.columns) for row in table.rows) \
            or not all(_PLAIN_TEXT.fullmatch(str(text)) for text in texts):
        return None
    template = _docx_template()[len(table.columns) > 8]
    column = int(round(template["width"] // len(table.columns) / 635.0))   # python-docx Emu(...).twips
    cell_width = f'<w:tcW w:type="dxa" w:w="{column}"/>'
    last = len(table.rows)
    body = ["<w:p>" + _run_xml(f"Table. {table.title}", "<w:b/>") + "</w:p>",
            '<w:tbl><w:tblPr><w:tblW w:type="auto" w:w="0"/><w:jc w:val="center"/><w:tblLook w:firstColumn="1" '
            'w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr>'
            "<w:tblGrid>" + f'<w:gridCol w:w="{column}"/>' * len(table.columns) + "</w:tblGrid>"]
    rule = '<w:{edge} w:val="single" w:sz="{size}" w:space="0" w:color="000000"/>'
    right = ['<w:pPr><w:jc w:val="right"/></w:pPr>' if align == "right" else "" for align in table.align]
    for r, values in enumerate([table.columns, *table.rows]):
        edges: dict[str, str] = {}
        if r == 0:
            edges.update(top="12", bottom="6")
        if r == last:
            edges["bottom"] = "12"
        borders = ("<w:tcBorders>" + "".join(rule.format(edge=e, size=z) for e, z in edges.items())
                   + "</w:tcBorders>") if edges else ""
        bold = "<w:b/>" if r == 0 else ""
        body.append("<w:tr>" + "".join(
            f"<w:tc><w:tcPr>{cell_width}{borders}</w:tcPr><w:p>{right[c]}{_run_xml(str(value), bold)}</w:p></w:tc>"
            for c, value in enumerate(values)) + "</w:tr>")
    body.append("</w:tbl>")
    body.extend("<w:p>" + _run_xml(note, '<w:sz w:val="16"/>') + "</w:p>" for note in table.notes)
    parts = dict(template["parts"])
    parts["word/document.xml"] = (template["head"] + "".join(body) + template["tail"]).encode("utf-8")
    parts["docProps/core.xml"] = _core_xml(_core_text(table.title),
                                           f"Written by ketastats from {source}" if source else "Written by ketastats"
                                           ).encode("utf-8")
    return _zip_parts(parts, template["deflated"])


def _docx_bytes_python_docx(table: DisplayTable, source: str = "") -> bytes:
    """The .docx file of a display table built cell by cell with python-docx (byte-deterministic)."""
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
            edges: dict[str, str] = {}
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
    return _zip_parts({name: source.read(name) for name in source.namelist()})


def _zip_parts(parts: dict[str, bytes], deflated: dict[str, tuple[bytes, int, bytes]] | None = None) -> bytes:
    """A zip archive of ``parts`` with entries in name order, fixed dates and attributes.

    ``deflated``: parts already compressed (name -> (the same bytes object, CRC-32, raw deflate at zlib's
    default level, as zipfile compresses)); those entries are written as ``ZipFile.writestr`` writes them
    (local header with the final CRC and sizes, then the data), without compressing them again. The
    archive is byte-identical either way (``tests/report/test_docx_direct.py``)."""
    deflated = deflated or {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(parts):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            data = parts[name]
            known = deflated.get(name)
            if known is None or known[0] is not data or len(data) * 1.05 > zipfile.ZIP64_LIMIT:
                target.writestr(info, data)
                continue
            _, crc, compressed = known
            info.file_size, info.compress_size, info.CRC, info.flag_bits = len(data), len(compressed), crc, 0
            info.header_offset = target.fp.tell()   # type: ignore[union-attr]
            target._writecheck(info)   # type: ignore[attr-defined]
            target._didModify = True   # type: ignore[attr-defined]
            target.fp.write(info.FileHeader(False))   # type: ignore[union-attr]
            target.fp.write(compressed)   # type: ignore[union-attr]
            target.start_dir = target.fp.tell()   # type: ignore[union-attr, attr-defined]
            target.filelist.append(info)
            target.NameToInfo[name] = info
    return out.getvalue()


# --- writing ------------------------------------------------------------------------------------

def _write(folder: Path, stem: str, table: DisplayTable, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{stem}.tex", "w", encoding="utf-8", newline="\n") as handle:
        handle.write(latex_table(table, source))
    (folder / f"{stem}.docx").write_bytes(docx_bytes(table, source))


def write_exports(result, folder: Path, tables: dict[str, DisplayTable] | None = None,
                  family_tables: dict[str, DisplayTable] | None = None) -> None:
    """``tables/<id>.tex|.docx`` per analysis that ran, ``multiplicity/<family>.tex|.docx`` per family.

    ``tables`` / ``family_tables``: the display tables already built for report.html (by analysis id /
    family name); those missing are built here."""
    folder = Path(folder)
    tables, family_tables = tables or {}, family_tables or {}
    for analysis_id, analysis in result.results.items():
        if analysis.ok:
            table = tables.get(analysis_id) or analysis_table(analysis)
            _write(folder / "tables", analysis_id, table, f"tables/{analysis_id}.csv")
    for name, family in result.families.items():
        if family.ok:
            _write(folder / "multiplicity", name, family_tables.get(name) or family_table(family),
                   f"multiplicity/{name}.csv")
