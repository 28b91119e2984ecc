"""``report.html``: one self-contained page (no scripts, no network) with every table.

Contents list, the plan's title and a synthetic-data banner when the plan says so, each
analysis (notes, warnings, failures, its table), each multiplicity family (its verdicts in words
and its table), the exclusions summary and the manifest.

Example
-------
``render_html(plan_result)`` returns the page as text.
"""

from __future__ import annotations

import html
import json

from ketastats.report.format import format_frame

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;color:#1a1a1a;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem .8rem;margin:1rem 0;font-weight:600}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0;display:block;overflow-x:auto}
th,td{padding:.2rem .55rem;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #555;background:#f7f7f7}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:.85rem}.failed{color:#a00;font-weight:600}.warning{color:#8a5a00}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _table(frame) -> str:
    shown = format_frame(frame)
    head = "".join(f"<th>{_e(c)}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in shown.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result) -> str:
    plan = result.plan
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(plan.title)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{_e(plan.title)}</h1><p class='note'>Plan <code>{_e(plan.id)}</code> · "
             f"ketastats {_e(result.manifest['software']['ketastats'])}</p>"]
    if plan.synthetic_data:
        parts.append("<p class='banner'>SYNTHETIC DATA: these results come from simulated data calibrated to "
                     "published summaries, not from real participants.</p>")
    if plan.description:
        parts.append(f"<p>{_e(plan.description)}</p>")
    parts.append("<h2 id='contents'>Contents</h2><ol>")
    for analysis in result.results.values():
        status = "" if analysis.ok else " <span class='failed'>(failed)</span>"
        parts.append(f"<li><a href='#{_e(analysis.analysis_id)}'>{_e(analysis.title or analysis.analysis_id)}</a>"
                     f"{status}</li>")
    for name, family in result.families.items():
        status = "" if family.ok else " <span class='failed'>(failed)</span>"
        parts.append(f"<li><a href='#family-{_e(name)}'>Multiplicity: {_e(family.title or name)}</a>{status}</li>")
    parts.append("<li><a href='#exclusions'>Exclusions</a></li><li><a href='#manifest'>Manifest</a></li></ol>")
    if result.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li class='warning'>{_e(w)}</li>" for w in result.warnings)
                     + "</ul>")
    for analysis in result.results.values():
        parts.append(f"<h2 id='{_e(analysis.analysis_id)}'>{_e(analysis.title or analysis.analysis_id)}</h2>"
                     f"<p class='note'>Analysis <code>{_e(analysis.analysis_id)}</code>, type "
                     f"<code>{_e(analysis.type)}</code>; {len(analysis.exclusions)} row(s) excluded.</p>")
        for issue in analysis.issues:
            css = "failed" if issue.severity == "error" else "warning"
            parts.append(f"<p class='{css}'>{_e(issue.severity)}: {_e(issue.message)} ({_e(issue.code)})</p>")
        if analysis.ok:
            parts.append(_table(analysis.tidy))
        for note in analysis.notes:
            parts.append(f"<p class='note'>{_e(note)}</p>")
    for name, family in result.families.items():
        parts.append(f"<h2 id='family-{_e(name)}'>Multiplicity: {_e(family.title or name)}</h2>"
                     f"<p class='note'>Family <code>{_e(name)}</code>, method <code>{_e(family.method)}</code>, "
                     f"α = {family.alpha:g}.</p>")
        for issue in family.issues:
            parts.append(f"<p class='failed'>{_e(issue.severity)}: {_e(issue.message)} ({_e(issue.code)})</p>")
        if family.ok:
            parts.append(f"<p>{_e(family.summary)}</p>")
            parts.append(_table(family.table))
    exclusions = result.exclusions
    parts.append("<h2 id='exclusions'>Exclusions</h2>")
    if len(exclusions):
        summary = exclusions.groupby(["analysis_id", "reason", "detail"], sort=True).size().reset_index(name="n")
        parts.append("<p class='note'>Every row each analysis left out is listed in exclusions.csv; counts:</p>")
        parts.append(_table(summary))
    else:
        parts.append("<p>No rows were excluded.</p>")
    parts.append("<h2 id='manifest'>Manifest</h2><pre>" + _e(json.dumps(result.manifest, indent=1)) + "</pre>")
    parts.append("</body></html>\n")
    return "".join(parts)
