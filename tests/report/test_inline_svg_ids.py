"""inline_svg prefixes every id and every reference to it in one pass (issue 15: the former loop made
three passes over the whole SVG per id); the result is what the per-id replacement gave."""

from ketastats.report.html import inline_svg


def _per_id(text: str, prefix: str) -> str:
    """The former algorithm (longest id first, three replacements per id), as the reference."""
    import re

    ids = re.findall(r"\sid=\"([^\"]+)\"", text)
    for name in sorted(set(ids), key=len, reverse=True):
        new = f"{prefix}-{name}"
        text = text.replace(f' id="{name}"', f' id="{new}"').replace(f"url(#{name})", f"url(#{new})") \
            .replace(f'href="#{name}"', f'href="#{new}"')
    return text


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt">'
       '<defs><path id="a" d="M0 0"/><path id="ab" d="M1 1"/><clipPath id="p1"><rect/></clipPath></defs>'
       '<g id="line2d_1" clip-path="url(#p1)"><use xlink:href="#a"/><use xlink:href="#ab"/></g>'
       '<g id="text_1"><use href="#ab" x="2"/><text>id="a" url(#b) href="#zz"</text></g></svg>')


def test_every_id_and_reference_prefixed_once():
    out = inline_svg(SVG, "fig")
    for name in ("a", "ab", "p1", "line2d_1", "text_1"):
        assert f' id="fig-{name}"' in out
    assert 'url(#fig-p1)' in out and 'href="#fig-a"' in out and 'href="#fig-ab"' in out
    assert "fig-fig-" not in out and 'href="#zz"' in out and "url(#b)" in out


def test_same_as_the_per_id_replacement():
    plain = SVG.replace(' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert inline_svg(plain, "fig") == _per_id(plain.replace("xlink:href=", "href="), "fig")


def _alternation(text: str, prefix: str) -> str:
    """The one-pass algorithm before issue 15's second round: one alternation of every id, longest first."""
    import re

    ids = set(re.findall(r"\sid=\"([^\"]+)\"", text))
    names = "|".join(re.escape(name) for name in sorted(ids, key=len, reverse=True))
    return re.sub(f'( id="|url\\(#|href="#)({names})(?=["\\)])', lambda m: m.group(1) + prefix + "-" + m.group(2)
                  if (m.group(1) == "url(#") == (text[m.end()] == ")") else m.group(0), text)


def test_generic_reference_pattern_matches_the_alternation_of_ids():
    """Without compiling the ids into one pattern (ids with " ( ) still take the alternation)."""
    cases = [SVG.replace(' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"', ""),
             '<svg><g id="a"/><g id="ab"/><use href="#ab"/><x href="#abc"/><y href="#a)"/><z id="url(#a"/></svg>',
             '<svg><g id="p1"/><x href="#zzurl(#p1)"/><x href="#p1"/><a style="url(#p1"/><b href="#"/></svg>',
             '<svg><g id="a(b)"/><g id="a"/><use href="#a(b)"/><path clip-path="url(#a(b))"/></svg>']
    for text in cases:
        assert inline_svg(text, "P") == _alternation(text.replace("xlink:href=", "href="), "P").strip()
