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
