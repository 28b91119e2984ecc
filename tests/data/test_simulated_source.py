"""`simulate:<dataset>/<table>` sources: synthetic tables generated on demand instead of shipped."""

from __future__ import annotations

import pytest

from ketastats.data.io import read_table
from ketastats.datasets.simulate import ON_DEMAND
from ketastats.errors import DataError


def test_generated_table_is_typed_indexed_and_hashed_stably(monkeypatch):
    import pandas as pd

    small = pd.DataFrame({"participant_id": ["P01", "P01", "P02"], "time": ["pre", "post", "pre"],
                          "edge": ["a-b"] * 3, "fc": [0.1, 0.2, 0.3]})
    monkeypatch.setitem(ON_DEMAND, "toy/table", lambda: small.copy())
    first = read_table("simulate:toy/table", base=None, name="toy")
    second = read_table("simulate:toy/table", base=None, name="toy")
    assert list(first.frame.index) == [1, 2, 3] and first.frame["fc"].dtype == float
    assert first.sha256 == second.sha256 and len(first.sha256) == 64
    assert first.display_name == "simulate:toy/table" and first.format == "simulated"
    changed = small.copy()
    changed.loc[2, "fc"] = 0.31
    monkeypatch.setitem(ON_DEMAND, "toy/table", lambda: changed.copy())
    assert read_table("simulate:toy/table", base=None, name="toy").sha256 != first.sha256


def test_unknown_generated_table_names_the_choices():
    with pytest.raises(DataError) as info:
        read_table("simulate:siegel2021/connectom", base=None, name="connectome")
    issue = info.value.issues[0]
    assert issue.code == "unknown-simulated-table" and "simulate:siegel2021/connectome" in issue.hint


def test_whole_connectome_source_has_every_edge():
    frame = read_table("simulate:siegel2021/connectome", base=None, name="connectome").frame
    assert frame.shape == (3_096_840, 4) and frame["edge"].nunique() == 77_421
