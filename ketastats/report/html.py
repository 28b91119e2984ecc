"""``report.html``: the whole analysis on one self-contained page.

One file that opens offline: CSS inline, figures embedded (inline SVG, or PNG as a data URI), no
scripts, no fonts or anything else fetched from the network. In order:

1. the plan's title and description, a synthetic-data banner (also in the page title and footer)
   when the plan says ``synthetic_data: true`` (with the plan's own text when it gives one:
   ``synthetic_data: {description: ...}``), and the prespecification status (plan file and its
   SHA-256, plan language version, seed, what the plan declares, whether it matches its lock file, with
   every deviation, and a banner when it deviates: :mod:`ketastats.lock`);
2. a contents list linking every section below;
3. the run status: one row per analysis and family (ok / failed, warnings, rows excluded);
4. run warnings (derivations and other plan-level issues);
5. every analysis: what it is (type, table, population, filter), its warnings, its failure with the
   reason, its results table in great_tables' markup and stylesheet from :mod:`ketastats.report.display`
   (labels and units from the data dictionaries, p-values as "< 0.001", one CI column) and its
   notes (the conventions in force) under the table;
6. every multiplicity family: its verdicts in words (``FamilyResult.summary``) and its table;
7. figures (``RenderedFigure``-like objects: ``id``, ``title``, ``caption``, ``files`` with 'svg' /
   'png' paths), each with its title and caption;
8. exclusions: counts per analysis and reason, rows not selected by an analysis's own ``where`` (or
   levels it does not compare) counted apart, and every row left out in a collapsible list;
9. the manifest: plan, inputs with their SHA-256, seeds, software versions (and the raw JSON).

The page is a pure function of the run: no timestamps, no absolute paths, no random ids (each table
has an id from its analysis, and inline SVG ids are prefixed with the figure id so figures cannot
clash), so the same plan and data give identical bytes.

Example
-------
``render_html(plan_result, figures=rendered)`` returns the page as text.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from typing import Any

from ketastats.analyses.base import NOT_SELECTED_REASONS, exclusion_counts
from ketastats.report.display import DisplayTable, analysis_table, display_table, family_table, lsmeans_table
from ketastats.report.gt_style import GT_CSS

SYNTHETIC_TEXT = ("SYNTHETIC DATA: every number and figure in this report comes from simulated data, not from real "
                  "participants. Do not cite these results as findings.")
"""The banner of a plan with ``synthetic_data: true``; a plan's own description replaces the part after the colon."""


def synthetic_banner(value: Any) -> str | None:
    """The synthetic-data banner's text for the plan's ``synthetic_data`` (``None`` when the data are real).

    >>> synthetic_banner(True) == SYNTHETIC_TEXT, synthetic_banner(False)
    (True, None)
    >>> synthetic_banner("Simulated from the design of trial X; no real participants.")
    'SYNTHETIC DATA: Simulated from the design of trial X; no real participants.'
    """
    if not value:
        return None
    if isinstance(value, str) and value.strip():
        return "SYNTHETIC DATA: " + value.strip()
    return SYNTHETIC_TEXT

STYLE = """
:root{--ink:#1b1f24;--muted:#59636e;--rule:#d0d7de;--accent:#0b5cad;--bad:#b42318;--warn:#8a5a00}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--ink);
line-height:1.5;margin:0 auto;max-width:72rem;padding:1rem 1.5rem 3rem}
h1{font-size:1.7rem;line-height:1.25;margin:1.2rem 0 .3rem}
h2{font-size:1.3rem;margin:2.6rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid var(--rule)}
h3{font-size:1.08rem;margin:2rem 0 .3rem}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f3f4f6;
padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
.banner{background:#fff4ce;border:2px solid #d4a72c;border-radius:6px;padding:.7rem 1rem;margin:1rem 0;
font-weight:650}
.lead{font-size:1.02rem;max-width:60rem}
.meta{color:var(--muted);font-size:.88rem;margin:.2rem 0}
.box{border:1px solid var(--rule);border-radius:6px;padding:.6rem 1rem;margin:.8rem 0;background:#fafbfc}
.box p{margin:.3rem 0}
.failed{color:var(--bad);font-weight:650}
.failure{border:2px solid var(--bad);background:#fff1f0;border-radius:6px;padding:.6rem 1rem;margin:.6rem 0}
.warning{color:var(--warn)}
ul.issues{margin:.3rem 0;padding-left:1.2rem}
nav ol{padding-left:1.4rem;margin:.3rem 0}nav li{margin:.1rem 0}nav ol ol{font-size:.94rem}
.words{max-width:62rem}
.notes{color:var(--muted);font-size:.84rem;margin:.1rem 0 .8rem;padding-left:.3rem;list-style:none;max-width:62rem}
.table-wrap{max-width:100%;overflow-x:auto}
table.plain{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
table.plain th,table.plain td{border-bottom:1px solid var(--rule);border-style:none none solid;padding:.2rem .6rem;
text-align:left;vertical-align:top}
table.plain th{border-bottom:2px solid #333}
table.plain td code{white-space:nowrap}
table.plain .path{overflow-wrap:anywhere}
table.plain .hash{display:inline-block;min-width:16ch;word-break:break-all;font-family:ui-monospace,monospace;
font-size:.8rem}
.ks-gt{overflow-x:auto;max-width:100%}
.ks-gt .gt_table td,.ks-gt .gt_table th{font-variant-numeric:tabular-nums}
.ks-gt .gt_table td.gt_right{white-space:nowrap}
.ks-gt .gt_table th{white-space:normal;min-width:2.5em}
.ks-gt .gt_table td.gt_left{white-space:normal;min-width:4em}
.ks-gt .gt_table td.gt_row{vertical-align:top}
.ks-wide .ks-gt .gt_table{font-size:12px}
.ks-wider .ks-gt .gt_table{font-size:11px}
.ks-gt .gt_sourcenote{white-space:normal}
figure{margin:1.4rem 0;padding:0}
figure .graphic{max-width:100%;overflow-x:auto}
figure svg,figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9rem;color:var(--ink);max-width:62rem;margin-top:.4rem}
details{margin:.6rem 0}summary{cursor:pointer;color:var(--accent)}
pre{background:#f6f8fa;border:1px solid var(--rule);border-radius:6px;padding:.6rem;overflow-x:auto;font-size:.78rem}
footer{margin-top:3rem;border-top:1px solid var(--rule);padding-top:.6rem;color:var(--muted);font-size:.82rem}
@media print{details{display:block}.ks-gt,.table-wrap{overflow:visible}}
"""

WIDE_COLUMNS = 10
WIDER_COLUMNS = 16
"""Tables with more than WIDE_COLUMNS columns are set in 12 px instead of 13 px, more than WIDER_COLUMNS in
11 px (a repeated-measures ANOVA with its post-hoc rows). Headers and text cells wrap, numbers never: at
1280 px the widest tables of the shipped plans then fit without a horizontal scrollbar hiding their p-values."""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(name))


# --- tables ---------------------------------------------------------------------------------------

class _Styles:
    """great_tables' stylesheet, once per page, scoped by the class ``ks-gt`` (set when a table is written)."""

    def __init__(self) -> None:
        self.css: str | None = None


def _table_html(table: DisplayTable, table_id: str) -> str:
    """A display table in great_tables' markup (classes, ids, escaping), written directly from its strings.

    Byte for byte what ``great_tables.GT(...).as_raw_html()`` writes for the same strings with
    :data:`~ketastats.report.gt_style.GT_OPTIONS`, without its stylesheet (the page has one copy) —
    ``tests/report/test_gt_markup.py`` compares the two.
    """
    heads, cells = [], []
    for i, (label, align) in enumerate(zip(table.columns, table.align)):
        side = "gt_right" if align == "right" else "gt_left"
        column = f"{table_id}-c{i}"
        heads.append(f'  <th class="gt_col_heading gt_columns_bottom_border {side}" rowspan="1" colspan="1" '
                     f'scope="col" id="{column}">{_e(label)}</th>\n')
        cells.append(f'    <td headers="{column}" class="gt_row {side}">')
    body = "".join("  <tr>\n" + "".join(f"{cell}{_e(value)}</td>\n" for cell, value in zip(cells, row)) + "  </tr>\n"
                   for row in table.rows)
    return (f'<div id="{table_id}" class="ks-gt" style="padding-left:0px;padding-right:0px;padding-top:4px;'
            'padding-bottom:4px;overflow-x:auto;overflow-y:auto;width:auto;height:auto;">\n\n'
            '<table class="gt_table" data-quarto-disable-processing="false" data-quarto-bootstrap="false">\n'
            '<thead>\n\n<tr class="gt_col_headings">\n' + "".join(heads) + '</tr>\n</thead>\n'
            '<tbody class="gt_table_body">\n' + (body or "\n") + '</tbody>\n\n</table>\n\n</div>\n')


def _gt_html(table: DisplayTable, table_id: str, styles: _Styles) -> str:
    if not table.columns:
        return "<p class='meta'>(no rows)</p>"
    styles.css = GT_CSS
    fragment = _table_html(table, table_id)
    if len(table.columns) > WIDE_COLUMNS:   # a smaller type, so that p and the CI stay in view without scrolling
        fragment = f"<div class='{'ks-wider' if len(table.columns) > WIDER_COLUMNS else 'ks-wide'}'>{fragment}</div>"
    if table.notes:   # under the table, outside its scrolling box, so that long notes wrap to the page
        fragment += "<ul class='notes'>" + "".join(f"<li>{_e(note)}</li>" for note in table.notes) + "</ul>"
    return fragment


def _simple_table(header: list[str], rows: list[list[str]], raw: set[int] | None = None) -> str:
    """A small key/value table of the page's own (already formatted text; ``raw`` columns are HTML)."""
    raw = raw or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell if i in raw else _e(cell)}</td>" for i, cell in enumerate(row))
                   + "</tr>" for row in rows)
    return (f"<div class='table-wrap'><table class='plain'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


# --- figures --------------------------------------------------------------------------------------

_SVG_DROP = [r"<\?xml[^>]*\?>", r"<!DOCTYPE[^>]*>", r"<!--.*?-->", r"<metadata>.*?</metadata>",
             r"\s+xmlns(:\w+)?=\"[^\"]*\"", r"\s+xmlns(:\w+)?='[^']*'"]


def inline_svg(text: str, prefix: str) -> str:
    """SVG file content made fit to inline: no prolog, doctype, comments, metadata or namespace URLs;
    ``xlink:href`` as ``href``; every id (and reference to it) prefixed so figures cannot clash."""
    for pattern in _SVG_DROP:
        text = re.sub(pattern, "", text, flags=re.S)
    text = text.replace("xlink:href=", "href=")
    ids = set(re.findall(r"\sid=\"([^\"]+)\"", text))
    if ids:   # one pass over the text for all ids (a figure has hundreds: glyphs, clip paths, artists)
        if any(set(name) & set('"()') for name in ids):
            names = "|".join(re.escape(name) for name in sorted(ids, key=len, reverse=True))
            reference = re.compile(f'( id="|url\\(#|href="#)({names})(?=["\\)])')
        else:
            # the same matches without compiling an alternation of hundreds of ids per figure (issue 15):
            # an id without " ( ) is the whole run of such characters after the reference's opening and
            # before its closing " or ), and a run that is not an id holds no other reference
            reference = _REFERENCE
        text = reference.sub(lambda m: m.group(1) + prefix + "-" + m.group(2)
                             if m.group(2) in ids and (m.group(1) == "url(#") == (text[m.end()] == ")")
                             else m.group(0), text)
    return text.strip()


_REFERENCE = re.compile(r'( id="|url\(#|href="#)([^"()]+)(?=["\)])')
"""An id reference in an SVG (``id="…"``, ``url(#…)``, ``href="#…"``) whose name has no " ( )."""


SCREEN_SCALE = 1.6
"""Figures are drawn at print size (e.g. 89 mm for one journal column); on screen they are shown larger."""


def _screen_width(svg: str) -> str:
    match = re.search(r"<svg\b[^>]*?\swidth=\"([0-9.]+)(pt|px)?\"", svg)
    if not match:
        return ""
    pixels = float(match.group(1)) * (4 / 3 if match.group(2) in (None, "pt") else 1) * SCREEN_SCALE
    return f" style='width:{pixels:.0f}px'"


def _figure_html(figure: Any) -> str:
    figure_id = str(getattr(figure, "id"))
    title = getattr(figure, "title", None) or figure_id
    caption = getattr(figure, "caption", None) or ""
    content = getattr(figure, "content", None) or {}
    anchor = _anchor("figure", figure_id)
    svg, png = content.get("svg"), content.get("png")
    status = getattr(figure, "status", "ok")
    if status != "ok":
        reason = getattr(figure, "reason", None) or "no reason was recorded"
        graphic = ("<div class='failure'><p class='failed'>This figure could not be drawn.</p>"
                   f"<p><strong>Reason:</strong> {_e(reason)}</p></div>")
    elif svg is not None:
        graphic = inline_svg(svg.decode("utf-8"), anchor)
        graphic = re.sub(r"<svg\b", f"<svg role='img' aria-label='{_e(title)}'{_screen_width(graphic)}", graphic,
                         count=1)
    elif png is not None:
        data = base64.b64encode(png).decode("ascii")
        graphic = f"<img src='data:image/png;base64,{data}' alt='{_e(title)}'>"
    else:
        graphic = "<p class='failed'>The figure's file was not produced.</p>"
    downloads = ", ".join(f"<code>figures/{_e(figure_id)}.{_e(kind)}</code>" for kind in sorted(content))
    analysis = getattr(figure, "analysis", None)
    if analysis:
        caption = caption.rstrip()
        ended = (caption + ("" if caption.endswith((".", "!", "?")) else ".") + " ") if caption else ""
        caption = ended + "From analysis "
        source = f"<a href='#{_anchor('analysis', analysis)}'><code>{_e(analysis)}</code></a>."
    else:
        source = ""
    return (f"<figure id='{anchor}'><div class='graphic'>{graphic}</div><figcaption><strong>{_e(title)}.</strong> "
            f"{_e(caption)}{source}" + (f" <span class='meta'>Files: {downloads}.</span>" if downloads else "")
            + "</figcaption></figure>")


# --- sections -------------------------------------------------------------------------------------

def _issues_html(issues) -> str:
    if not issues:
        return ""
    items = []
    for issue in issues:
        css = "failed" if issue.severity == "error" else "warning"
        hint = f" {_e(issue.hint)}" if getattr(issue, "hint", None) else ""
        items.append(f"<li class='{css}'>{_e(issue.severity)}: {_e(issue.message)} (<code>{_e(issue.code)}</code>)"
                     f"{hint}</li>")
    return "<ul class='issues'>" + "".join(items) + "</ul>"


def _spec_of(plan, analysis_id: str):
    return next((spec for spec in getattr(plan, "analyses", []) if spec.id == analysis_id), None)


def _analysis_section(analysis, plan, styles: _Styles, table: DisplayTable | None = None) -> str:
    anchor = _anchor("analysis", analysis.analysis_id)
    spec = _spec_of(plan, analysis.analysis_id)
    title = analysis.title or analysis.analysis_id
    what = [f"Analysis <code>{_e(analysis.analysis_id)}</code>", f"type <code>{_e(analysis.type)}</code>"]
    if spec is not None:
        what.append(f"table <code>{_e(spec.table)}</code>")
        if spec.population:
            what.append(f"population <code>{_e(spec.population)}</code>")
        if spec.where:
            what.append(f"where <code>{_e(spec.where)}</code>")
    excluded, not_selected = exclusion_counts(analysis.exclusions)
    if not_selected:
        what.append(f"{not_selected} row(s) not selected")
    what.append(f"{excluded} row(s) excluded")
    parts = [f"<section id='{anchor}'><h3>{_e(title)}"
             + (" <span class='failed'>(failed)</span>" if not analysis.ok else "") + "</h3>",
             "<p class='meta'>" + "; ".join(what) + ".</p>"]
    if spec is not None and spec.description:
        parts.append(f"<p>{_e(spec.description)}</p>")
    if analysis.ok:
        parts.append(_issues_html(analysis.issues))
        summary = lsmeans_table(analysis)   # LS-means by visit first, as trial reports print them
        if summary is not None:
            parts.append(_gt_html(summary, _anchor("table", summary.id), styles))
        parts.append(_gt_html(table or analysis_table(analysis), _anchor("table", analysis.analysis_id), styles))
    else:
        errors = [i for i in analysis.issues if i.severity == "error"] or analysis.issues
        reasons = "".join(f"<p><strong>Reason:</strong> {_e(i.message)} (<code>{_e(i.code)}</code>)"
                          + (f" {_e(i.hint)}" if i.hint else "") + "</p>" for i in errors)
        parts.append(f"<div class='failure'><p class='failed'>This analysis failed; it has no results table. The "
                     f"other analyses ran.</p>{reasons or '<p>No reason was recorded.</p>'}</div>")
        parts.append(_issues_html([i for i in analysis.issues if i not in errors]))
        if analysis.notes:
            parts.append("<ul class='notes'>" + "".join(f"<li>{_e(n)}</li>" for n in analysis.notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def _family_section(name: str, family, plan, styles: _Styles, table: DisplayTable | None = None) -> str:
    declared = getattr(plan, "multiplicity", {}).get(name)
    parts = [f"<section id='family-{_e(name)}'><h3>{_e(family.title or name)}"
             + (" <span class='failed'>(failed)</span>" if not family.ok else "") + "</h3>",
             f"<p class='meta'>Family <code>{_e(name)}</code>; method <code>{_e(family.method)}</code>; "
             f"α = {family.alpha:g}"
             + (f"; {len(declared.members)} member(s) declared" if declared is not None else "") + ".</p>"]
    if declared is not None and declared.description:
        parts.append(f"<p>{_e(declared.description)}</p>")
    if family.ok:
        parts.append(f"<p class='words'>{_e(family.summary)}</p>")
        parts.append(_gt_html(table or family_table(family), _anchor("family-table", name), styles))
    else:
        parts.append("<div class='failure'><p class='failed'>This family could not be adjusted.</p>"
                     + _issues_html(family.issues) + "</div>")
    parts.append("</section>")
    return "".join(parts)


def _status_rows(result) -> list[list[str]]:
    rows = []
    for analysis in result.results.values():
        warnings = sum(1 for i in analysis.issues if i.severity != "error")
        status = "ok" if analysis.ok else "<span class='failed'>failed</span>"
        link = _anchor("analysis", analysis.analysis_id)
        rows.append([f"<a href='#{link}'>{_e(analysis.title or analysis.analysis_id)}</a>",
                     f"<code>{_e(analysis.type)}</code>", status, str(len(analysis.tidy)) if analysis.ok else "",
                     str(warnings), *map(str, exclusion_counts(analysis.exclusions)[::-1])])
    for name, family in result.families.items():
        status = "ok" if family.ok else "<span class='failed'>failed</span>"
        rows.append([f"<a href='#family-{_e(name)}'>{_e(family.title or name)}</a>", "multiplicity family", status,
                     str(len(family.table)) if family.ok else "", "0", "", ""])
    return rows


def _prespecification(result) -> str:
    plan, manifest = result.plan, result.manifest
    plan_info = manifest.get("plan", {}) if isinstance(manifest, dict) else {}
    n_analyses, n_families = len(result.results), len(result.families)
    n_figures = len(getattr(plan, "figures", None) or [])
    declared = [f"{n_analyses} analys{'is' if n_analyses == 1 else 'es'}",
                f"{n_families} multiplicity famil{'y' if n_families == 1 else 'ies'}"]
    if n_figures:
        declared.append(f"{n_figures} figure{'s' if n_figures != 1 else ''}")
    declared.append(f"{len(getattr(plan, 'populations', {}) or {})} population(s)")
    declared.append(f"{len(getattr(plan, 'derive', []) or [])} derivation(s)")
    text = (f"<p><strong>Prespecified plan.</strong> Every analysis, population, derivation and multiplicity family "
            f"below was declared in the plan file <code>{_e(plan_info.get('file', ''))}</code> (plan language "
            f"version {_e(getattr(plan, 'ketastats', 1))}) before this run; the report shows them in the plan's order "
            f"and adds nothing. The plan declares {', '.join(declared)}.</p>"
            f"<p>Plan SHA-256 <code>{_e(plan_info.get('sha256', ''))}</code> — compare it with the registered or "
            f"time-stamped copy of the plan to confirm that this is the prespecified version. Random seed "
            f"{_e(getattr(plan, 'seed', ''))}.</p>")
    text += _lock_status(manifest.get("prespecification") if isinstance(manifest, dict) else None)
    failed = result.failed
    if failed:
        text += (f"<p class='failed'>{len(failed)} analys{'is' if len(failed) == 1 else 'es'} failed: "
                 + ", ".join(f"<a href='#{_anchor('analysis', a)}'>{_e(a)}</a>" for a in failed) + ".</p>")
    else:
        text += "<p>Every planned analysis ran.</p>"
    return f"<div class='box' id='prespecification'>{text}</div>"


def _lock_status(status: dict | None) -> str:
    """The plan's lock status (ketastats.lock): matches, not locked, or every deviation (key, old, new)."""
    if not status:
        return ""
    text = f"<p id='lock-status'><strong>Lock status:</strong> {_e(status.get('summary', ''))}."
    if status.get("note"):
        text += f" Lock note: {_e(status['note'])}."
    text += "</p>"
    deviations = status.get("deviations") or []
    if deviations:
        rows = [[_e(d["scope"]), _e(d["kind"]), f"<code>{_e(d['key'])}</code>",
                 "" if d["kind"] == "added" else f"<code>{_e(json.dumps(d['old'], sort_keys=True))}</code>",
                 "" if d["kind"] == "removed" else f"<code>{_e(json.dumps(d['new'], sort_keys=True))}</code>"]
                for d in deviations]
        text += ("<p>Differences from the lock file <code>" + _e(status.get("lock_file", "")) + "</code>:</p>"
                 + _simple_table(["analysis", "difference", "key", "locked value", "value in this run"], rows,
                                 raw={0, 1, 2, 3, 4}))
    return text


def _deviation_banner(manifest) -> str:
    """A banner when the plan deviates from its lock, or is unlocked although it says ``require_lock: true``."""
    status = manifest.get("prespecification") if isinstance(manifest, dict) else None
    if not status:
        return ""
    extra = " (run with --allow-deviation)" if status.get("allowed_deviation") else ""
    if status.get("state") == "deviates":
        what = (f"deviates from the prespecified plan{extra}: {len(status.get('deviations') or [])} "
                f"difference(s) from the lock of {_e(status.get('locked_at'))}")
    elif status.get("state") == "unlocked" and status.get("require_lock"):
        what = f"deviates from the prespecified plan{extra}: the plan requires a lock and has none"
    else:
        return ""
    return (f"<p class='banner' role='note' id='deviation'>This run {what}; see "
            f"<a href='#lock-status'>Prespecification</a>.</p>")


EXCLUSION_REASONS = {
    "not-selected": "the analysis's own where filter is false or missing (not selected, not an exclusion)",
    "other-level": "a row at a level the comparison does not use (not selected, not an exclusion)",
    "population": "not in the analysis's population",
    "missing-value": "a value the analysis needs is missing",
    "incomplete-pair": "the subject lacks one of the paired levels",
    "incomplete-subject": "the subject lacks a level the analysis needs (complete cases)",
    "invalid-value": "a value the analysis cannot use",
}


def _exclusions_section(result, styles: _Styles) -> str:
    exclusions = result.exclusions
    parts = ["<section id='exclusions'><h2>Exclusions</h2>"]
    if not len(exclusions):
        parts.append("<p>No rows were excluded from any analysis.</p></section>")
        return "".join(parts)
    exclusions = exclusions.sort_values(["analysis_id", "row", "reason"], kind="mergesort").reset_index(drop=True)
    counts = exclusions.groupby(["analysis_id", "reason"], sort=True).agg(
        n=("row", "size"), n_subjects=("subject", "nunique")).reset_index()
    selection = counts["reason"].isin(NOT_SELECTED_REASONS)
    excluded, not_selected = exclusion_counts(exclusions)
    present = [reason for reason in EXCLUSION_REASONS if reason in set(exclusions["reason"])]
    explained = "; ".join(f"<code>{_e(r)}</code>: {_e(EXCLUSION_REASONS[r])}" for r in present)
    parts.append(f"<p>{excluded} row(s) were excluded from analyses for a reason in the data or the population "
                 f"(a row can be excluded from several), and {not_selected} row(s) were not selected by an "
                 "analysis's own filter (its <code>where</code>, or levels it does not compare): those are the "
                 "analysis's definition, not exclusions, and are counted apart. Both are listed in "
                 "<code>exclusions.csv</code>" + (f" ({explained})" if explained else "") + ".</p>")
    if excluded:
        parts.append("<p>Excluded, per analysis and reason:</p>")
        parts.append(_gt_html(display_table(counts[~selection], id="exclusion_counts"), "table-exclusion-counts",
                              styles))
    if not_selected:
        parts.append("<p>Not selected, per analysis:</p>")
        parts.append(_gt_html(display_table(counts[selection], id="not_selected_counts"), "table-not-selected-counts",
                              styles))
    parts.append(f"<details><summary>All {len(exclusions)} rows left out (also in <code>exclusions.csv</code>)"
                 "</summary>")
    parts.append(_gt_html(display_table(exclusions, id="exclusions"), "table-exclusions", styles))
    parts.append("</details></section>")
    return "".join(parts)


def _manifest_section(manifest: dict) -> str:
    parts = ["<section id='manifest'><h2>Manifest</h2><p>What produced this report (also in "
             "<code>manifest.json</code>).</p>"]
    plan = manifest.get("plan", {})
    rows = [[key, str(value)] for key, value in plan.items()]
    for key in ("synthetic_data", "seeds", "platform"):
        if key in manifest:
            value = manifest[key]
            rows.append([key, value if isinstance(value, str) else json.dumps(value, sort_keys=True)])
    parts.append("<h3>Plan</h3>" + _simple_table(["item", "value"], rows))
    inputs = manifest.get("inputs", {})
    if inputs:
        parts.append("<h3>Inputs</h3>" + _simple_table(
            ["table", "source", "format", "rows", "SHA-256", "dictionary", "dictionary SHA-256"],
            [[_e(name), f"<span class='path'>{_e(i.get('source', ''))}</span>", _e(i.get("format", "")),
              _e(i.get("rows", "")), f"<span class='hash'>{_e(i.get('sha256', ''))}</span>",
              f"<span class='path'>{_e(i.get('dictionary', ''))}</span>",
              f"<span class='hash'>{_e(i.get('dictionary_sha256', ''))}</span>"]
             for name, i in inputs.items()], raw=set(range(7))))   # hashes wrap anywhere, names do not
    software = manifest.get("software", {})
    if software:
        parts.append("<h3>Software</h3>" + _simple_table(["package", "version"],
                                                         [[k, str(v)] for k, v in software.items()]))
    parts.append("<details><summary>manifest.json</summary><pre>"
                 + _e(json.dumps(manifest, indent=1, ensure_ascii=False)) + "</pre></details></section>")
    return "".join(parts)


def render_html(result, figures: Sequence[Any] | None = None, tables: dict[str, DisplayTable] | None = None,
                family_tables: dict[str, DisplayTable] | None = None) -> str:
    """The report page for a :class:`~ketastats.results.PlanResult` and its rendered figures.

    ``tables`` / ``family_tables``: display tables already built (by id / family name), as the report writer
    passes them to the LaTeX / Word copies too; missing ones are built here."""
    tables, family_tables = tables or {}, family_tables or {}
    plan = result.plan
    figures = list(figures or [])
    banner = synthetic_banner(getattr(plan, "synthetic_data", False))
    synthetic = banner is not None
    styles = _Styles()
    version = result.manifest.get("software", {}).get("ketastats", "") if isinstance(result.manifest, dict) else ""

    contents = ["<li><a href='#prespecification'>Prespecification</a></li>",
                "<li><a href='#status'>Run status</a></li>"]
    if result.warnings:
        contents.append("<li><a href='#warnings'>Warnings</a></li>")
    contents.append("<li><a href='#analyses'>Analyses</a><ol>" + "".join(
        f"<li><a href='#{_anchor('analysis', a.analysis_id)}'>{_e(a.title or a.analysis_id)}</a>"
        + (" <span class='failed'>(failed)</span>" if not a.ok else "") + "</li>"
        for a in result.results.values()) + "</ol></li>")
    if result.families:
        contents.append("<li><a href='#multiplicity'>Multiplicity families</a><ol>" + "".join(
            f"<li><a href='#family-{_e(name)}'>{_e(f.title or name)}</a>"
            + (" <span class='failed'>(failed)</span>" if not f.ok else "") + "</li>"
            for name, f in result.families.items()) + "</ol></li>")
    if figures:
        contents.append("<li><a href='#figures'>Figures</a><ol>" + "".join(
            f"<li><a href='#{_anchor('figure', f.id)}'>{_e(getattr(f, 'title', None) or f.id)}</a>"
            + (" <span class='failed'>(failed)</span>" if getattr(f, "status", "ok") != "ok" else "") + "</li>"
            for f in figures) + "</ol></li>")
    contents.append("<li><a href='#exclusions'>Exclusions</a></li><li><a href='#manifest'>Manifest</a></li>")

    body = []
    body.append(f"<header><h1>{_e(plan.title)}</h1><p class='meta'>Plan <code>{_e(plan.id)}</code> · "
                f"ketastats {_e(version)}</p>")
    if synthetic:
        body.append(f"<p class='banner' role='note' id='synthetic'>{_e(banner)}</p>")
    body.append(_deviation_banner(result.manifest))
    if getattr(plan, "description", None):
        body.append(f"<p class='lead'>{_e(plan.description)}</p>")
    body.append(_prespecification(result) + "</header>")
    body.append("<nav id='contents' aria-label='Contents'><h2>Contents</h2><ol>" + "".join(contents) + "</ol></nav>")
    body.append("<section id='status'><h2>Run status</h2>" + _simple_table(
        ["analysis", "type", "status", "table rows", "warnings", "rows not selected", "rows excluded"],
        _status_rows(result),
        raw={0, 1, 2}) + "</section>")
    if result.warnings:
        body.append("<section id='warnings'><h2>Warnings</h2><p>Issues raised while deriving endpoints or preparing "
                    "the data; the analyses ran.</p><ul class='issues'>"
                    + "".join(f"<li class='warning'>{_e(w)}</li>" for w in result.warnings) + "</ul></section>")
    body.append("<section id='analyses'><h2>Analyses</h2>"
                "<p class='meta'>Numbers are rounded for reading; <code>tables/&lt;id&gt;.csv</code> keeps six "
                "significant digits and <code>results.json</code> full precision. CI: confidence interval.</p>")
    for analysis in result.results.values():
        body.append(_analysis_section(analysis, plan, styles, tables.get(analysis.analysis_id)))
    body.append("</section>")
    if result.families:
        body.append("<section id='multiplicity'><h2>Multiplicity families</h2><p>Each family's p-values are adjusted "
                    "together, as the plan prespecifies; the sentence says which tests pass and why.</p>")
        for name, family in result.families.items():
            body.append(_family_section(name, family, plan, styles, family_tables.get(name)))
        body.append("</section>")
    if figures:
        body.append("<section id='figures'><h2>Figures</h2>" + "".join(_figure_html(f) for f in figures)
                    + "</section>")
    body.append(_exclusions_section(result, styles))
    body.append(_manifest_section(result.manifest if isinstance(result.manifest, dict) else {}))
    footer = f"{_e(plan.title)} · plan <code>{_e(plan.id)}</code> · written by ketastats {_e(version)}"
    if synthetic:
        footer = "<strong>SYNTHETIC DATA — not real participants.</strong> " + footer
    body.append(f"<footer>{footer}</footer>")

    title = ("[SYNTHETIC DATA] " if synthetic else "") + str(plan.title)
    head = (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n<title>{_e(title)}</title>\n"
            f"<style>{STYLE}{styles.css or ''}</style>\n</head>\n<body>\n")
    return head + "\n".join(body) + "\n</body>\n</html>\n"
