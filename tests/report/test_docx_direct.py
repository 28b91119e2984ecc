"""Word tables written directly from the display strings: the same bytes as python-docx cell by cell (issue 15)."""

from __future__ import annotations

import pytest

from ketastats.report import exports
from ketastats.report.display import DisplayTable

pytest.importorskip("docx")

TABLES = [
    DisplayTable(id="narrow", title="MADRS by visit & arm <per protocol>", columns=["Visit", "n", "Mean (SD)"],
                 rows=[["baseline", "23", "33.1 (4.2)"], ["day 1", "22", "−12.0 (8.0)"], ["", "  ", "x  "]],
                 align=["left", "right", "right"], notes=["sd: n − 1 denominator", "é ± ×"]),
    DisplayTable(id="wide", title="Nine columns: a landscape page", columns=[f"c{i}" for i in range(9)],
                 rows=[[str(i * j) for j in range(9)] for i in range(4)], align=["left"] + ["right"] * 8),
    DisplayTable(id="empty", title="", columns=["only"], rows=[], align=["right"]),
    DisplayTable(id="long", title="T" * 300, columns=["a"], rows=[["1"]], align=["left"]),
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.id)
@pytest.mark.parametrize("source", ["", "tables/x.csv"])
def test_direct_docx_is_python_docx(table, source):
    direct = exports._docx_bytes_direct(table, source)
    assert direct is not None
    assert direct == exports._docx_bytes_python_docx(table, source)
    assert exports.docx_bytes(table, source) == direct


def test_text_python_docx_handles_falls_back():
    table = DisplayTable(id="tab", title="a\tb", columns=["x"], rows=[["line\nbreak"]], align=["left"])
    assert exports._docx_bytes_direct(table, "") is None
    assert exports.docx_bytes(table, "") == exports._docx_bytes_python_docx(table, "")


def test_stored_template_is_python_docx():
    """report/docx_template.zip is python-docx's default document with our settings (regenerate with
    exports.store_docx_template() when python-docx changes it)."""
    stored = exports._docx_template()
    built = exports._docx_template_python_docx()
    for landscape in (False, True):
        for key in ("head", "tail", "width", "parts"):
            assert stored[landscape][key] == built[landscape][key], (landscape, key)


def test_zip_with_deflated_parts_is_zipfile():
    """Entries written from their already-deflated bytes give the archive zipfile writes."""
    import os
    import random

    rng = random.Random(15)
    parts = {f"p{i}/{'é' if i % 3 == 0 else 'x'}.xml": (os.urandom(rng.randrange(0, 2000)) if i % 2
                                                       else b"<a>" * rng.randrange(0, 5000))
             for i in range(12)}
    template = exports._with_deflated({False: {"parts": parts}})
    deflated = template[False]["deflated"]
    assert exports._zip_parts(parts, deflated) == exports._zip_parts(parts)
    partial = {name: deflated[name] for name in list(deflated)[::2]}
    assert exports._zip_parts(parts, partial) == exports._zip_parts(parts)
    changed = dict(parts, **{"p0/é.xml": b"other"})   # a part that is not the deflated bytes object
    assert exports._zip_parts(changed, deflated) == exports._zip_parts(changed)
