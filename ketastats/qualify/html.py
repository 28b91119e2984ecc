"""``qualification.html``: the qualification report on one self-contained page (no scripts, no network).

Summary (pass / fail, counts, time), every requirement with its reference, R provenance, tolerances,
largest difference and status (its checks in a collapsible table), the tolerances against their
documented bounds, the environment and the SHA-256 of every reference file.
"""

from __future__ import annotations

import html
import json
from typing import Any

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .45rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{color:#106b21;font-weight:600}
.fail{color:#b00020;font-weight:600}code{font-size:.85rem}.banner{padding:.7rem 1rem;border-radius:6px;
margin:1rem 0;border:2px solid}.banner.pass{background:#e9f7ec;border-color:#106b21}
.banner.fail{background:#fde8eb;border-color:#b00020}details{margin:.3rem 0}"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _g(value: Any) -> str:
    return "" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status(ok: bool | str) -> str:
    passed = ok is True or ok == "pass"
    return f"<span class='{'pass' if passed else 'fail'}'>{'pass' if passed else 'FAIL'}</span>"


def render(report: dict) -> str:
    """The HTML page of a qualification report (the dict ``run_qualification`` returns)."""
    summary, env = report["summary"], report["environment"]
    ketastats_version = env.get("software", {}).get("ketastats", "")
    parts = [f"<h1>ketastats {_e(ketastats_version)} — qualification against R</h1>",
             f"<p class='banner {summary['status']}'>Qualification <strong>{_e(summary['status'].upper())}</strong>: "
             f"{summary['passed']}/{summary['requirements']} requirements passed; {summary['checks']} comparisons of "
             f"{summary['values']} values with R; {summary['seconds']} s; {_e(report['created'])}.</p>",
             "<p>Each requirement recomputes, with this installation of ketastats, values that R computed and "
             "stored with the package (reference folders, their R scripts and versions below), and compares them "
             "within the tolerance documented in <code>tolerances.py</code>. A value outside its tolerance, a "
             "reference file whose SHA-256 differs from the recorded one, or a tolerance looser than its documented "
             "bound fails the qualification.</p>"]
    problems = summary["reference_problems"] + summary["tolerance_problems"]
    if problems:
        parts.append("<h2>Integrity problems</h2><ul>" + "".join(f"<li class='fail'>{_e(p)}</li>" for p in problems)
                     + "</ul>")
    if summary["folders_not_covered"]:
        parts.append("<h2>Reference folders not covered</h2><ul>" + "".join(
            f"<li><code>{_e(f['folder'])}</code>: {_e(f['reason'])}</li>" for f in summary["folders_not_covered"])
            + "</ul>")
    rows = []
    for r in report["requirements"]:
        prov = r["provenance"]
        source = "<br>".join(_e(x) for x in [prov.get("script"), prov.get("R_version"),
                                             ", ".join(f"{k} {v}" for k, v in (prov.get("packages") or {}).items())]
                             if x)
        tol = "<br>".join(f"<code>{_e(k)}</code> = {_e(_g(v))}" for k, v in r["tolerances"].items())
        rows.append([f"<a href='#req-{_e(r['id'])}'>{_e(r['id'])}</a>", _e(r["title"]),
                     f"<code>{_e(r['folder'])}/</code>"
                     f"<br>{source}", tol, f"{r['n_checks']} / {r['n_values']}", _e(_g(r["max_rel_diff"])),
                     _e(_g(r["max_share_of_tolerance"])),
                     _status(r["status"]) + (f"<br>{_e(r['reason'])}" if r["reason"] else "")])
    parts.append("<h2>Requirements</h2>" + _table(
        ["id", "requirement", "reference and provenance", "tolerances", "checks / values",
         "largest relative difference",
         "largest difference / tolerance", "status"], rows))
    for r in report["requirements"]:
        parts.append(f"<h3 id='req-{_e(r['id'])}'>{_e(r['id'])}: {_e(r['title'])} {_status(r['status'])}</h3>")
        if r.get("error"):
            parts.append(f"<pre class='fail'>{_e(r['error'])}</pre>")
        failing = [c for c in r["checks"] if not c["passed"]]
        check_rows = [[_e(c["what"]), f"<code>{_e(c['reference'])}</code>", _e(c["tolerance"]), str(c["n"]),
                       _e(_g(c["max_abs_diff"])), _e(_g(c["max_rel_diff"])), _e(_g(c["share_of_tolerance"])),
                       _status(c["passed"]), _e(c["detail"])]
                      for c in failing + [c for c in r["checks"] if c["passed"]]]
        header = ["check", "reference", "tolerance", "values", "largest absolute difference",
                  "largest relative difference", "difference / tolerance", "status", "detail"]
        parts.append(f"<details{' open' if failing else ''}><summary>{len(r['checks'])} checks ({len(failing)} "
                     f"failing), {r['seconds']} s</summary>" + _table(header, check_rows) + "</details>")
    parts.append("<h2>Tolerances and their documented bounds</h2>" + _table(
        ["tolerance", "value in tolerances.py", "documented bound", "status"],
        [[f"<code>{_e(t['name'])}</code>", _e(_g(t["value"])), _e(_g(t["documented_bound"])), _status(t["ok"])]
         for t in report["tolerances"]]))
    software = env.pop("software", {})
    parts.append("<h2>Environment</h2>" + _table(["item", "value"], [
        [_e(k), f"<code>{_e(v if isinstance(v, str) else json.dumps(v))}</code>"]
                                                                   for k, v in env.items()]))
    env["software"] = software
    parts.append(_table(["package", "version"], [[_e(k), _e(v)] for k, v in software.items()]))
    parts.append(f"<h2>Reference files</h2><p>Read from <code>{_e(report['reference_root'])}</code>.</p>" + _table(
        ["file", "SHA-256", "state"],
        [[f"<code>{_e(f['file'])}</code>", f"<code>{_e(f['sha256'])}</code>",
          _status(True) if f["state"] == "ok" else _e(f["state"]) if f["state"] in ("not qualified", "bounds checked")
          else f"<span class='fail'>{_e(f['state'])}</span>"]
         for f in report["reference_files"]]))
    title = f"ketastats {ketastats_version} qualification: {summary['status']}"
    return (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>{_e(title)}</title>\n"
            f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n")
