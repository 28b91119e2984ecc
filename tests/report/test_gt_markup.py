"""report.html writes its tables directly in great_tables' markup: the same bytes as great_tables (issue 15)."""

from __future__ import annotations

import re

import pytest

from ketastats.report.display import DisplayTable
from ketastats.report.gt_style import GT_CSS, GT_OPTIONS, great_tables_css
from ketastats.report.html import _table_html

gt = pytest.importorskip("great_tables")
pd = pytest.importorskip("pandas")


def _great_tables(table: DisplayTable, table_id: str) -> str:
    keys = [f"c{i}" for i in range(len(table.columns))]
    frame = pd.DataFrame(table.rows, columns=keys, dtype=object) if table.rows else \
        pd.DataFrame({k: pd.Series([], dtype=object) for k in keys})
    tbl = gt.GT(frame, id=table_id).cols_label(**dict(zip(keys, table.columns)))
    right = [k for k, a in zip(keys, table.align) if a == "right"]
    if right:
        tbl = tbl.cols_align(align="right", columns=right)
    left = [k for k, a in zip(keys, table.align) if a != "right"]
    if left:
        tbl = tbl.cols_align(align="left", columns=left)
    fragment = tbl.tab_options(**GT_OPTIONS).as_raw_html()
    fragment = re.sub(r"<style>.*?</style>", "", fragment, count=1, flags=re.S)
    return fragment.replace(f'<div id="{table_id}" style="', f'<div id="{table_id}" class="ks-gt" style="', 1)


TABLES = [
    DisplayTable(id="a", title="A", columns=["Term <x>", "Estimate", "95 % CI", "p"],
                 rows=[["visit & time", "1.23", "[0.1, 2.3]", "< 0.001"], ["q\"u'o", "", " ", "0.5"],
                       ["é — ±", "−1", "*md* `c`", "  two  spaces"]],
                 align=["left", "right", "right", "right"]),
    DisplayTable(id="b", title="B", columns=["only"], rows=[], align=["left"]),
    DisplayTable(id="c", title="C", columns=["x", "y"], rows=[["1", "2"]], align=["right", "left"]),
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.id)
def test_markup_is_great_tables(table):
    assert _table_html(table, f"table-{table.id}") == _great_tables(table, f"table-{table.id}")


def test_stylesheet_is_great_tables():
    assert great_tables_css() == GT_CSS
