"""Shared fixtures: project paths and a scratch copy of the Siegel plan with its dictionaries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "analysis_plans" / "siegel2021.yaml"
DATA = ROOT / "ketastats" / "datasets" / "siegel2021"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project layout (plan, dictionaries, data as local CSVs) in a temporary folder."""
    shutil.copytree(ROOT / "data_dictionary", tmp_path / "data_dictionary")
    (tmp_path / "analysis_plans").mkdir()
    shutil.copytree(DATA, tmp_path / "data")
    text = PLAN.read_text(encoding="utf-8").replace("ketastats:siegel2021/", "../data/")
    (tmp_path / "analysis_plans" / "siegel2021.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "ketastats.toml").write_text("")  # marks the project root (ketastats.paths): ../data is inside
    return tmp_path
