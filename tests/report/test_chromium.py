"""Open report.html in headless Chromium (Debian's ``chromium``): it loads with no console errors and no
network requests, and the page is not wider than the window (wide tables scroll inside their box).

Skipped where Chromium is not installed (CI). The command is the one in docs/report.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest

from ketastats.report.html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Appended to a copy of the page (never to the report): writes the page's scroll width into the DOM.
PROBE = ("<script>document.body.setAttribute('data-scroll-width', String(document.documentElement.scrollWidth));"
         "document.body.setAttribute('data-client-width', String(document.documentElement.clientWidth));</script>")


def _chromium(page, *arguments: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *arguments, page.as_uri()],
                              capture_output=True, text=True, timeout=120)


def test_report_opens_without_errors_and_nothing_overflows(rct_result, figures, tmp_path):
    text = render_html(rct_result, figures=figures)
    page = tmp_path / "report.html"
    page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    run = _chromium(page, "--enable-logging=stderr", "--v=0", "--window-size=1280,2000", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    assert "net::ERR" not in run.stderr
    scroll = int(re.search(r'data-scroll-width="(\d+)"', run.stdout).group(1))
    client = int(re.search(r'data-client-width="(\d+)"', run.stdout).group(1))
    assert scroll <= client, f"the page is {scroll}px wide in a {client}px window"
    for analysis_id in rct_result.results:
        assert f'id="analysis-{analysis_id}"' in run.stdout


def test_screenshot(rct_result, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(rct_result), encoding="utf-8")
    shot = tmp_path / "report.png"
    run = _chromium(page, f"--screenshot={shot}", "--window-size=1280,3000")
    assert run.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000
