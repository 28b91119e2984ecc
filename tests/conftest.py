"""Shared fixtures: project paths, the reference tolerances and a scratch copy of the Siegel plan."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "analysis_plans" / "siegel2021.yaml"
DATA = ROOT / "ketastats" / "datasets" / "siegel2021"


@pytest.fixture(scope="session")
def tolerances() -> ModuleType:
    """``tests/reference/tolerances.py``: every tolerance for comparing with R reference values.

    Where a tolerance is needed at import time (``parametrize``, module constants, helpers), import
    the same module directly: ``from tests.reference import tolerances``. That works because pytest
    (``--import-mode=importlib``) imports this file as ``tests.conftest``, which makes ``tests``
    an importable package; there is no other loader.
    """
    from tests.reference import tolerances as module

    return module


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
