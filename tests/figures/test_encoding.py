"""The PNG written from Agg's pixels (figures/encoding.py) shows exactly matplotlib's PNG (issue 15)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ketastats.figures.encoding import encode, png_bytes
from ketastats.figures.style import DPI, figure_style, mark_synthetic, new_figure


def _figure(transparent: bool = False):
    rng = np.random.default_rng(15)
    figure = new_figure("single_column", 55)
    ax = figure.add_subplot()
    x = rng.standard_normal(80)
    ax.scatter(x, x + rng.standard_normal(80), s=4, alpha=0.6)
    ax.plot([-2, 2], [-2, 2], lw=1.2)
    ax.set_xlabel("Change in MADRS (points) − αβ × 10⁻³")
    ax.set_title("p = 0.016")
    mark_synthetic(figure)
    if transparent:
        figure.patch.set_alpha(0.0)
        ax.patch.set_alpha(0.0)
    return figure


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


@pytest.mark.parametrize("transparent", [False, True])
def test_png_pixels_are_matplotlibs(transparent):
    with figure_style("single_column"):
        figure = _figure(transparent)
        ours = png_bytes(figure)
        theirs = io.BytesIO()
        figure.savefig(theirs, format="png", dpi=DPI, metadata={"Software": None})
    image = Image.open(io.BytesIO(ours))
    assert image.mode == ("RGBA" if transparent else "RGB")
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert np.array_equal(_pixels(ours), _pixels(theirs.getvalue()))


def test_encode_deterministic():
    with figure_style("single_column"):
        first = encode(_figure())
        second = encode(_figure())
    assert first == second
    assert first["png"].startswith(b"\x89PNG") and first["pdf"].startswith(b"%PDF") and b"<svg" in first["svg"]
