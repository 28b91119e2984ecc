"""PDF fonts: the two-stage subset embeds the same font bytes as a direct subset of the whole font (issue 15)."""

from __future__ import annotations

import io
import random
import re
import zlib

import pytest

matplotlib = pytest.importorskip("matplotlib")

from fontTools import subset  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends import _backend_pdf_ps  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from ketastats.figures import pdf_fonts  # noqa: E402


def _font_path(weight: str):
    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight=weight))
    return font_manager.FontPath(path, 0) if hasattr(font_manager, "FontPath") else path


def _direct(fontfile, glyphs):
    options = pdf_fonts._options(pdf_fonts.LAYOUT_TABLES)
    options.font_number = getattr(fontfile, "face_index", 0)
    font = subset.load_font(fontfile, options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=glyphs)
    subsetter.subset(font)
    return _backend_pdf_ps.font_as_file(font).getvalue(), subsetter.glyph_index_map


@pytest.mark.parametrize("weight", ["normal", "bold"])
def test_two_stages_give_the_direct_subset(weight):
    fontfile = _font_path(weight)
    charmap = FT2Font(str(fontfile)).get_charmap()
    pool = sorted({charmap[c] for c in pdf_fonts.REPERTOIRE if c in charmap})
    rng = random.Random(7)
    for _ in range(8):
        glyphs = set(rng.sample(pool, rng.randint(1, 80)))
        expected, expected_map = _direct(fontfile, glyphs)
        with pdf_fonts.get_glyphs_subset(fontfile, glyphs) as result:
            got = _backend_pdf_ps.font_as_file(result.font).getvalue()
            got_map = result.glyph_index_map
        assert got == expected
        assert {g: got_map[g] for g in glyphs} == {g: expected_map[g] for g in glyphs}
    outside = {charmap[0x4E00]} if 0x4E00 in charmap else {max(charmap.values())}
    with pdf_fonts.get_glyphs_subset(fontfile, outside | {pool[0]}) as result:   # falls back to the whole font
        assert set(result.glyph_index_map) >= outside | {pool[0]}


def test_pdf_text_embedded_and_searchable():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.5, "MADRS ± SD − p < 0.001")
    out = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42, "pdf.compression": 6}), pdf_fonts.fast_font_subsets():
        figure.savefig(out, format="pdf", metadata={"CreationDate": None})
    data = out.getvalue()
    assert b"/FontFile2" in data and b"/ToUnicode" in data
    streams = [zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S)
               if m[:1] == b"x"]
    unicode_maps = [s for s in streams if b"beginbfchar" in s or b"beginbfrange" in s]
    assert unicode_maps, "no ToUnicode map: the text would not be searchable"
    assert _backend_pdf_ps.get_glyphs_subset is not pdf_fonts.get_glyphs_subset   # restored after the block
