"""report.html: structure (contents links resolve, a section per analysis, family and figure), failures
with their reasons, the synthetic-data banner, the families in words, no network resources, and the
same bytes twice."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from ketastats.report.html import inline_svg, render_html


class _Page(HTMLParser):
    """Every id, every in-page link and every resource attribute of a page; checks tags balance."""

    VOID = {"meta", "br", "img", "hr", "input", "link", "col", "source", "wbr", "area", "base", "embed", "track",
            "path", "rect", "circle", "use", "stop", "line", "polyline", "polygon", "ellipse", "image"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []
        self.resources: list[str] = []
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        values = dict(attrs)
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "a" and values.get("href", "").startswith("#"):
            self.links.append(values["href"][1:])
        for name in ("src", "href", "xlink:href", "data", "poster", "action"):
            if name in values and not values[name].startswith("#"):
                self.resources.append(values[name])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_contents_links_resolve_and_ids_are_unique(fake_result, figures):
    page = _Page(render_html(fake_result, figures=figures))
    assert not page.stack, page.stack
    assert len(page.ids) == len(set(page.ids)), [i for i in page.ids if page.ids.count(i) > 1][:5]
    assert page.links and set(page.links) <= set(page.ids), set(page.links) - set(page.ids)
    contents = render_html(fake_result, figures=figures).split("<nav id='contents'", 1)[1].split("</nav>", 1)[0]
    for target in ["prespecification", "status", "warnings", "analyses", "analysis-ok_analysis",
                   "analysis-broken_analysis", "multiplicity", "family-primary", "family-secondary", "figures",
                   "figure-one", "figure-two", "figure-three", "figure-four", "exclusions", "manifest"]:
        assert f"href='#{target}'" in contents, target


def test_every_analysis_and_family_of_a_real_run_has_a_section(rct_result):
    text = render_html(rct_result)
    page = _Page(text)
    assert not page.stack
    assert set(page.links) <= set(page.ids)
    for analysis_id, analysis in rct_result.results.items():
        assert f"id='analysis-{analysis_id}'" in text
        assert (f'id="table-{analysis_id}"' in text) == analysis.ok
    for name in rct_result.families:
        assert f"id='family-{name}'" in text
    assert text.count("<section id='analysis-") == len(rct_result.results)


def test_failed_analysis_shows_its_reason(fake_result):
    text = render_html(fake_result)
    section = text.split("<section id='analysis-broken_analysis'>", 1)[1].split("</section>", 1)[0]
    assert "(failed)" in section and "class='failure'" in section
    assert "outcome &#x27;madrs&#x27; has zero variance, nothing to fit" in section
    assert "zero-variance" in section and "Check the population" in section
    assert "table-broken_analysis" not in text      # no results table for a failed analysis
    assert "1 analysis failed" in text              # also said at the top
    family = text.split("<section id='family-secondary'>", 1)[1].split("</section>", 1)[0]
    assert "could not be adjusted" in family and "member-analysis-failed" in family


def test_warnings_of_analyses_and_of_the_run(fake_result):
    text = render_html(fake_result)
    assert "the fit is singular" in text and "singular-fit" in text
    assert "<section id='warnings'>" in text and "no-at-risk-status" in text and "derive[4]" in text


def test_synthetic_banner(fake_result):
    text = render_html(fake_result)
    assert "class='banner'" in text and "SYNTHETIC DATA" in text
    assert "<title>[SYNTHETIC DATA] Demo &amp; &lt;test&gt; plan</title>" in text
    assert text.index("SYNTHETIC DATA") < text.index("<nav")           # before anything else
    assert "SYNTHETIC DATA — not real participants" in text.split("<footer>", 1)[1]


def test_synthetic_banner_text_from_the_plan(fake_result):
    """``synthetic_data: {description: ...}`` (the schema keeps the text) replaces the default sentence."""
    fake_result.plan.synthetic_data = "Simulated from the design of trial X & Y; no real participants."
    text = render_html(fake_result)
    banner = text.split("id='synthetic'>", 1)[1].split("</p>", 1)[0]
    assert banner == "SYNTHETIC DATA: Simulated from the design of trial X &amp; Y; no real participants."
    assert "published summaries" not in text
    assert "<title>[SYNTHETIC DATA] " in text


def test_synthetic_data_forms_in_the_plan():
    from ketastats.plan.schema import Plan
    base = {"ketastats": 1, "id": "demo", "title": "Demo", "subject": "pid",
            "data": {"t": {"source": "t.csv", "dictionary": "t.yaml"}},
            "analyses": [{"id": "d", "type": "descriptives", "table": "t", "outcome": "score"}]}
    forms: list[tuple[object, object]] = [(True, True), (False, False), ("Simulated.", "Simulated."),
                                          ({"description": "Sim"}, "Sim"), ({}, True)]
    for given, expected in forms:
        assert Plan.model_validate({**base, "synthetic_data": given}).synthetic_data == expected
    for bad in ({"text": "x"}, "  "):
        with pytest.raises(ValueError):
            Plan.model_validate({**base, "synthetic_data": bad})


def test_no_banner_for_real_data(fake_result):
    fake_result.plan.synthetic_data = False
    text = render_html(fake_result)
    assert "class='banner'" not in text and "SYNTHETIC" not in text


def test_title_description_and_prespecification(fake_result):
    text = render_html(fake_result)
    assert "<h1>Demo &amp; &lt;test&gt; plan</h1>" in text
    assert "A plan with 50 % of everything_underscored." in text
    box = text.split("id='prespecification'>", 1)[1].split("</div>", 1)[0]
    assert "demo.yaml" in box and "ab" * 32 in box and "Random seed 7" in box
    assert "2 analyses, 2 multiplicity families" in box


def test_families_in_words_and_tables(fake_result):
    text = render_html(fake_result)
    family = text.split("<section id='family-primary'>", 1)[1].split("</section>", 1)[0]
    assert "each raw p-value is compared with 0.05 / 1 = 0.05. 0 of 1 pass." in family
    assert 'id="family-table-primary"' in family and ">Adjusted p<" in family and ">no<" in family


def test_analysis_table_is_formatted_for_reading(fake_result):
    text = render_html(fake_result)
    section = text.split("<section id='analysis-ok_analysis'>", 1)[1].split("</section>", 1)[0]
    assert "&lt; 0.001" in section and ">0.238<" in section                   # p-values
    assert "Change in MADRS total score (points)" in section and "Dose (mg)" in section   # dictionary labels
    assert ">95% CI<" in section and "\u221217.40 to \u22127.30" in section   # one CI column, true minus
    assert ">t<" in section                                                 # statistic named by its type
    assert "gaussian regression as R lm" in section                         # analysis notes
    assert "where <code>visit != &#x27;baseline&#x27;</code>" in section


def test_exclusions_counts_and_full_list(fake_result):
    text = render_html(fake_result)
    section = text.split("<section id='exclusions'>", 1)[1].split("</section>", 1)[0]
    assert "5 row(s) were excluded" in section and "0 row(s) were not selected" in section
    assert "table-not-selected-counts" not in section
    assert 'id="table-exclusion-counts"' in section
    counts = section.split('id="table-exclusion-counts"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"broken_analysis</td>\s*<td[^>]*>population</td>\s*<td[^>]*>2</td>", counts)
    assert re.search(r"ok_analysis</td>\s*<td[^>]*>missing-value</td>\s*<td[^>]*>3</td>", counts)
    details = section.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "All 5 rows left out" in details and details.count("|baseline") == 5


def test_rows_not_selected_are_counted_apart(fake_result):
    """Rows an analysis's own where leaves out (reason not-selected) are not exclusions (issue 16)."""
    ok = fake_result.results["ok_analysis"]
    extra = ok.exclusions.copy().assign(reason="not-selected", row=[11, 12, 13],
                                        detail="where: visit == 'eot' is false or missing")
    ok.exclusions = pd.concat([ok.exclusions, extra, extra.head(1).assign(row=14, reason="other-level")],
                              ignore_index=True)
    text = render_html(fake_result)
    section = text.split("<section id='exclusions'>", 1)[1].split("</section>", 1)[0]
    assert "5 row(s) were excluded" in section and "4 row(s) were not selected" in section
    excluded = section.split('id="table-exclusion-counts"', 1)[1].split("</table>", 1)[0]
    assert "not-selected" not in excluded and "other-level" not in excluded
    chosen = section.split('id="table-not-selected-counts"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"ok_analysis</td>\s*<td[^>]*>not-selected</td>\s*<td[^>]*>3</td>", chosen)
    assert re.search(r"ok_analysis</td>\s*<td[^>]*>other-level</td>\s*<td[^>]*>1</td>", chosen)
    meta = text.split("<section id='analysis-ok_analysis'>", 1)[1].split("</p>", 1)[0]
    assert "4 row(s) not selected; 3 row(s) excluded" in meta
    status = text.split("<section id='status'>", 1)[1].split("</section>", 1)[0]
    assert "rows not selected" in status and re.search(r"<td>4</td><td>3</td></tr>", status)


def test_manifest_section(fake_result):
    section = render_html(fake_result).split("<section id='manifest'>", 1)[1].split("</section>", 1)[0]
    assert "cd" * 32 in section and "ketastats:demo/clinical.csv" in section and "3.11" in section
    assert "<details><summary>manifest.json</summary>" in section


def test_no_network_resources_scripts_or_absolute_paths(fake_result, figures, tmp_path):
    text = render_html(fake_result, figures=figures)
    page = _Page(text)
    assert all(r.startswith("data:") for r in page.resources), page.resources
    assert "http" not in text.lower()
    assert "<script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "@import" not in text and "url(http" not in text
    assert str(tmp_path) not in text


def test_figures_are_embedded(fake_result, figures):
    text = render_html(fake_result, figures=figures)
    section = text.split("<section id='figures'>", 1)[1].split("</section>", 1)[0]
    assert section.count("<svg") == 2 and "<?xml" not in section and "DOCTYPE" not in section
    assert "<metadata>" not in section and "made by a test" not in section
    assert 'id="figure-one-clip1"' in section and 'id="figure-two-clip1"' in section   # prefixed: no clash
    assert 'url(#figure-one-clip1)' in section and 'href="#figure-two-glyph-a"' in section
    assert "data:image/png;base64,iVBOR" in section                                  # PNG-only figure
    assert "<strong>First figure.</strong> A circle. Synthetic data. From analysis" in section
    assert "href='#analysis-ok_analysis'" in section
    assert "This figure could not be drawn" in section and "nothing to draw" in section
    assert "<code>figures/one.svg</code>" in section


def test_inline_svg_keeps_drawing(figures):
    out = inline_svg(figures[0].content["svg"].decode("utf-8"), "p")
    assert out.startswith("<svg") and out.endswith("</svg>")
    assert "<circle" in out and "viewBox=\"0 0 180 120\"" in out and "xmlns" not in out


def test_same_bytes_twice(fake_result, figures, rct_result):
    assert render_html(fake_result, figures=figures) == render_html(fake_result, figures=figures)
    first = render_html(rct_result)
    assert first == render_html(rct_result)
    assert not re.search(r"id=\"[a-z]{10}\"", first)   # great_tables' random ids are not used
    assert not re.search(r"20\d\d-\d\d-\d\dT", first)  # no timestamps
