"""Cheaper font embedding in the PDF figures: each font parsed and cut down once per process (issue 15).

matplotlib embeds the text of a PDF as a Type 42 subset of DejaVu Sans (``pdf.fonttype: 42``:
embedded, selectable and searchable text). For every embedding it re-reads the whole font file
(about 6,000 glyphs) with fontTools and subsets it, including the OpenType layout tables
(GSUB / GPOS / kern) that a PDF never uses: about 0.25 s per font per file, 45 % of writing the
Siegel figures. :func:`fast_font_subsets` replaces that step, while the figures are saved, by a
two-stage subset with the same result glyphs:

1. once per font file and process, the font is subset to the glyphs of a fixed repertoire (ASCII,
   Latin-1, Greek, punctuation, arrows, super- and subscripts, common mathematical operators,
   geometric shapes, f-ligatures)
   without the layout tables, and kept in memory (a few hundred glyphs);
2. each embedding subsets that small font to the glyphs the figure uses, and the glyph index map
   is composed with the first stage's.

The embedded font holds exactly the glyphs the figure uses (with ``.notdef``), in the original
order, with their outlines, metrics, names and cmap, so text is still embedded, selectable and
searchable; only the layout tables, which PDF viewers ignore, are left out. A figure using a glyph
outside the repertoire falls back to a one-stage subset of the whole font (also without the
layout tables). Deterministic: the same glyphs give the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import io

LAYOUT_TABLES = ["GSUB", "GPOS", "GDEF", "kern", "JSTF", "BASE", "MATH"]
"""OpenType layout tables: shaping data that a PDF (glyphs placed one by one) never uses."""

REPERTOIRE = [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x391, 0x3CA), *range(0x2010, 0x2045),
              *range(0x2070, 0x20A0), *range(0x2190, 0x2194), 0x2030, 0x2032, 0x2033, 0x2122, 0x2202, 0x2206,
              0x2211, 0x2212, 0x2213, 0x2215, 0x2217, 0x2219, 0x221A, 0x221D, 0x221E, 0x2223, 0x2225, 0x2227,
              0x2228, 0x2229, 0x222A, 0x222B, 0x2234, 0x223C, 0x2248, 0x2260, 0x2261, 0x2264, 0x2265, 0x22C5,
              *range(0x25A0, 0x2600), 0x2605, *range(0xFB00, 0xFB07)]
"""Code points whose glyphs the first stage keeps (with geometric shapes for markers, and the f-ligatures
that matplotlib's text layout substitutes, e.g. "fi")."""


def _options(drop_extra: list[str]):
    from fontTools import subset

    options = subset.Options(glyph_names=True, recommended_glyphs=True)
    # matplotlib's list (backends/_backend_pdf_ps.get_glyphs_subset) and the layout tables
    options.drop_tables += ["FFTM", "PfEd", "BDF", "meta", "MERG", "TSIV", "Zapf", "bdat", "bloc", "cidg", "fdsc",
                            "feat", "fmtx", "fond", "just", "kerx", "ltag", "morx", "trak", "xref", *drop_extra]
    return options


@functools.lru_cache(maxsize=16)
def _first_stage(path: str, face_index: int) -> tuple[bytes, dict[int, int]]:
    """The font cut to :data:`REPERTOIRE`, as bytes, and its map original glyph index -> new index."""
    from fontTools import subset

    options = _options(LAYOUT_TABLES)
    options.font_number = face_index
    font = subset.load_font(path, options)
    cmap = font.getBestCmap()
    names = sorted({cmap[c] for c in REPERTOIRE if c in cmap})
    gids = sorted(font.getGlyphID(name) for name in names)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=gids)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    font.close()
    return out.getvalue(), dict(subsetter.glyph_index_map)


def get_glyphs_subset(fontfile, glyphs):
    """Drop-in for ``matplotlib.backends._backend_pdf_ps.get_glyphs_subset`` (same result type)."""
    from fontTools import subset
    from matplotlib.backends import _backend_pdf_ps

    glyphs = set(glyphs)
    options = _options(LAYOUT_TABLES)
    stage, first_map = _first_stage(str(fontfile), int(getattr(fontfile, "face_index", 0)))
    if glyphs <= first_map.keys():
        font = subset.load_font(io.BytesIO(stage), options)
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(gids={first_map[g] for g in glyphs})
        subsetter.subset(font)
        second = subsetter.glyph_index_map
        index_map = {g: second[m] for g, m in first_map.items() if m in second}
        return _backend_pdf_ps.SubsetResults(font, index_map)._as_cm()
    options.font_number = getattr(fontfile, "face_index", 0)
    font = subset.load_font(fontfile, options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=glyphs)
    subsetter.subset(font)
    return _backend_pdf_ps.SubsetResults(font, subsetter.glyph_index_map)._as_cm()


@contextlib.contextmanager
def fast_font_subsets():
    """Within the block, matplotlib's PDF backend subsets fonts with :func:`get_glyphs_subset`."""
    from matplotlib.backends import _backend_pdf_ps

    original = _backend_pdf_ps.get_glyphs_subset
    _backend_pdf_ps.get_glyphs_subset = get_glyphs_subset
    try:
        yield
    finally:
        _backend_pdf_ps.get_glyphs_subset = original
