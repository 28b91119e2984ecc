"""The stylesheet of great_tables' HTML tables, as ``report.html`` uses it (issue 15).

great_tables gives the report's tables their look: the stylesheet below is what
``great_tables.GT(...).tab_options(**GT_OPTIONS).as_raw_html()`` writes before a table, with the
table's id selector replaced by the class ``ks-gt`` (one copy per page). The tables themselves are
written directly from the display strings by :func:`ketastats.report.html._table_html` in
great_tables' markup (same classes, ids and escaping), which is 100 times cheaper than building a
``GT`` object per table. :func:`great_tables_css` renders the stylesheet with the installed
great_tables; ``tests/report/test_gt_markup.py`` checks that it still equals :data:`GT_CSS` and that
the markup equals great_tables' own, so a new great_tables version that changes either is noticed.
"""

from __future__ import annotations

import re
from typing import Any

GT_OPTIONS: dict[str, Any] = dict(table_font_size="13px", table_margin_left="0px", table_margin_right="0px",
                  column_labels_font_weight="bold", data_row_padding="3px", source_notes_font_size="12px",
                  table_border_top_color="#333333", column_labels_border_bottom_color="#333333",
                  table_body_border_bottom_color="#333333", table_border_bottom_color="#ffffff",
                  container_padding_y="4px")


def great_tables_css() -> str:
    """The stylesheet great_tables writes for a table with :data:`GT_OPTIONS`, scoped by ``.ks-gt``."""
    import great_tables as gt
    import pandas as pd

    fragment = gt.GT(pd.DataFrame({"c0": ["x"]}, dtype=object), id="ks-css").tab_options(**GT_OPTIONS).as_raw_html()
    style = re.search(r"<style>(.*?)</style>", fragment, flags=re.S)
    assert style is not None, "great_tables wrote no <style> block"
    css = style.group(1)
    return css.replace("#ks-css", ".ks-gt")


GT_CSS = """
.ks-gt table {
          font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Oxygen, Ubuntu, Cantarell, 'Helvetica Neue', 'Fira Sans', 'Droid Sans', Arial, sans-serif;
          -webkit-font-smoothing: antialiased;
          -moz-osx-font-smoothing: grayscale;
        }

.ks-gt thead, tbody, tfoot, tr, td, th { border-style: none; }
 tr { background-color: transparent; }
.ks-gt p { margin: 0; padding: 0; }
 .ks-gt .gt_table { display: table; border-collapse: collapse; line-height: normal; margin-left: 0px; margin-right: 0px; color: #333333; font-size: 13px; font-weight: normal; font-style: normal; background-color: #FFFFFF; width: auto; border-top-style: solid; border-top-width: 2px; border-top-color: #333333; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #ffffff; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; }
 .ks-gt .gt_caption { padding-top: 4px; padding-bottom: 4px; }
 .ks-gt .gt_title { color: #333333; font-size: 125%; font-weight: initial; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; border-bottom-color: #FFFFFF; border-bottom-width: 0; }
 .ks-gt .gt_subtitle { color: #333333; font-size: 85%; font-weight: initial; padding-top: 3px; padding-bottom: 5px; padding-left: 5px; padding-right: 5px; border-top-color: #FFFFFF; border-top-width: 0; }
 .ks-gt .gt_heading { background-color: #FFFFFF; text-align: center; border-bottom-color: #FFFFFF; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; }
 .ks-gt .gt_bottom_border { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; }
 .ks-gt .gt_col_headings { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #333333; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; }
 .ks-gt .gt_col_heading { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: bold; text-transform: inherit; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: bottom; padding-top: 5px; padding-bottom: 5px; padding-left: 5px; padding-right: 5px; overflow-x: hidden; }
 .ks-gt .gt_column_spanner_outer { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: bold; text-transform: inherit; padding-top: 0; padding-bottom: 0; padding-left: 4px; padding-right: 4px; }
 .ks-gt .gt_column_spanner_outer:first-child { padding-left: 0; }
 .ks-gt .gt_column_spanner_outer:last-child { padding-right: 0; }
 .ks-gt .gt_column_spanner { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #333333; vertical-align: bottom; padding-top: 5px; padding-bottom: 5px; overflow-x: hidden; display: inline-block; width: 100%; }
 .ks-gt .gt_spanner_row { border-bottom-style: hidden; }
 .ks-gt .gt_group_heading { padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: middle; text-align: left; }
 .ks-gt .gt_empty_group_heading { padding: 0.5px; color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; vertical-align: middle; }
 .ks-gt .gt_from_md> :first-child { margin-top: 0; }
 .ks-gt .gt_from_md> :last-child { margin-bottom: 0; }
 .ks-gt .gt_row { padding-top: 3px; padding-bottom: 3px; padding-left: 5px; padding-right: 5px; margin: 10px; border-top-style: solid; border-top-width: 1px; border-top-color: #D3D3D3; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: middle; overflow-x: hidden; }
 .ks-gt .gt_stub { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-right-style: solid; border-right-width: 2px; border-right-color: #D3D3D3; padding-left: 5px; padding-right: 5px; }
 .ks-gt .gt_indent_1 { text-indent: 5px; }
 .ks-gt .gt_indent_2 { text-indent: calc(5px * 2); }
 .ks-gt .gt_indent_3 { text-indent: calc(5px * 3); }
 .ks-gt .gt_indent_4 { text-indent: calc(5px * 4); }
 .ks-gt .gt_indent_5 { text-indent: calc(5px * 5); }
 .ks-gt .gt_stub_row_group { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-right-style: solid; border-right-width: 2px; border-right-color: #D3D3D3; padding-left: 5px; padding-right: 5px; vertical-align: top; }
 .ks-gt .gt_row_group_first td { border-top-width: 2px; }
 .ks-gt .gt_row_group_first th { border-top-width: 2px; }
 .ks-gt .gt_striped { color: #333333; background-color: #F4F4F4; }
 .ks-gt .gt_table_body { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #333333; }
 .ks-gt .gt_summary_row { color: #333333; background-color: #FFFFFF; text-transform: inherit; padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; }
 .ks-gt .gt_first_summary_row { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; }
 .ks-gt .gt_last_summary_row_top { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; }
 .ks-gt .gt_grand_summary_row { color: #333333; background-color: #FFFFFF; text-transform: inherit; padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; }
 .ks-gt .gt_first_grand_summary_row_bottom { border-top-style: double; border-top-width: 6px; border-top-color: #D3D3D3; }
 .ks-gt .gt_last_grand_summary_row_top { border-bottom-style: double; border-bottom-width: 6px; border-bottom-color: #D3D3D3; }
 .ks-gt .gt_sourcenotes { color: #333333; background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }
 .ks-gt .gt_sourcenote { font-size: 12px; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; text-align: left; }
 .ks-gt .gt_left { text-align: left; }
 .ks-gt .gt_center { text-align: center; }
 .ks-gt .gt_right { text-align: right; font-variant-numeric: tabular-nums; }
 .ks-gt .gt_font_normal { font-weight: normal; }
 .ks-gt .gt_font_bold { font-weight: bold; }
 .ks-gt .gt_font_italic { font-style: italic; }
 .ks-gt .gt_super { font-size: 65%; }
 .ks-gt .gt_footnotes { color: font-color(#FFFFFF); background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }
 .ks-gt .gt_footnote { margin: 0px; font-size: 90%; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; }
 .ks-gt .gt_sourcenotes { color: #333333; background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }
 .ks-gt .gt_sourcenote { font-size: 12px; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; text-align: left; }
 .ks-gt .gt_footnote_marks { font-size: 75%; vertical-align: 0.4em; position: initial; }
 .ks-gt .gt_asterisk { font-size: 100%; vertical-align: 0; }
 
"""
"""great_tables' stylesheet for :data:`GT_OPTIONS` (written by great_tables 1.1; see :func:`great_tables_css`)."""
