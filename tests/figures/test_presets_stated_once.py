"""The figure presets are stated in figures/style.PRESETS (width and font of each); the plan's
``preset`` choices and the docs that list them for readers must say the same."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from ketastats.figures.base import Preset
from ketastats.figures.style import PRESETS

ROOT = Path(__file__).resolve().parents[2]


def test_preset_choices_are_the_presets():
    assert list(typing.get_args(Preset)) == list(PRESETS)


def test_docs_list_every_preset_with_its_size():
    row = next(line for line in (ROOT / "docs/figures.md").read_text().splitlines()
               if line.startswith("| `preset` |"))
    listed = re.findall(r"`(\w+)` \(([\d.]+) mm(?: wide)?, ([\d.]+) pt\)", row)
    assert [(name, float(w), float(f)) for name, w, f in listed] == \
        [(name, p["width_mm"], p["font_pt"]) for name, p in PRESETS.items()]
    example = next(line for line in (ROOT / "docs/plan_language.md").read_text().splitlines()
                   if line.strip().startswith("preset: single_column"))
    assert [m.strip() for m in example.split("#", 1)[1].split("|")] == list(PRESETS)
