"""Tests of the synthetic ketamine vs saline trial (ketastats.datasets.simulate.ketamine_placebo_rct).

Expected numbers are the design targets documented in the simulator and in
docs/datasets/ketamine_placebo_rct.md, never read back from the generated output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketastats.datasets.simulate import ketamine_placebo_rct as sim
from ketastats.datasets.simulate import write_dataset

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "ketastats" / "datasets" / "ketamine_placebo_rct"
DICT_DIR = ROOT / "data_dictionary" / "ketamine_placebo_rct"
TABLES = ("participants", "ratings", "mrs")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(DATA_DIR / f"{name}.csv") for name in TABLES}


def test_shipped_files_are_the_simulator_output_byte_for_byte(tmp_path):
    written = write_dataset("ketamine_placebo_rct", tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{t}.csv" for t in TABLES)
    for path in written:
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


def test_every_dictionary_says_synthetic_and_matches_its_table(tables):
    for name in TABLES:
        dictionary = yaml.safe_load((DICT_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        assert "SYNTHETIC" in dictionary["description"].upper()
        assert list(dictionary["columns"]) == list(tables[name].columns)
        assert not tables[name].duplicated(dictionary["key"]).any()


def test_design(tables):
    participants, ratings = tables["participants"], tables["ratings"]
    assert len(participants) == sim.N_PARTICIPANTS == 80
    assert participants["arm"].value_counts().to_dict() == {"placebo": 40, "ketamine": 40}
    assert set(ratings["visit"]) == set(sim.VISITS)
    scheduled = ratings["visit"].map(sim.VISIT_DAYS)
    follow_up = ratings["visit"].str.startswith("fu_week")
    assert (ratings.loc[~follow_up, "study_day"] == scheduled[~follow_up]).all()
    assert (ratings.loc[follow_up, "study_day"] - scheduled[follow_up]).abs().max() <= 1
    baseline = ratings[ratings["visit"] == "baseline"]
    assert len(baseline) == 80 and baseline["madrs"].notna().all()
    assert ratings["madrs"].isna().any() and ratings["hdrs17"].isna().any()     # unrated scales at some visits
    assert set(tables["mrs"]["scan"]) == set(sim.SCANS)


def _response(ratings: pd.DataFrame, participants: pd.DataFrame, visit: str) -> pd.DataFrame:
    base = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["madrs"]
    rows = ratings[(ratings["visit"] == visit) & ratings["madrs"].notna()].copy()
    rows["responder"] = 2 * rows["madrs"] <= rows["participant_id"].map(base)
    rows["arm"] = rows["participant_id"].map(participants.set_index("participant_id")["arm"])
    return rows


def test_response_at_24_hours_hits_the_design_targets(tables):
    rates = _response(tables["ratings"], tables["participants"], "h24").groupby("arm")["responder"].mean()
    low, high = sim.RESPONSE_24H_TARGET["ketamine"]
    assert low <= rates["ketamine"] <= high                       # 65-70 % (the seeds' figure)
    low, high = sim.RESPONSE_24H_TARGET["placebo"]
    assert low <= rates["placebo"] <= high


def test_follow_up_ends_at_confirmed_relapse_and_dropouts_are_flagged(tables):
    participants, ratings = tables["participants"], tables["ratings"]
    dropped = participants["end_reason"].isin(sorted(sim.DROPOUT_REASONS))
    assert (participants["dropped_out"] == dropped).all()
    assert (participants.loc[participants["n_infusions"] < 8, "dropped_out"]).all()
    base = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["madrs"]
    for pid in participants.loc[participants["end_reason"] == "relapse", "participant_id"]:
        mine = ratings[(ratings["participant_id"] == pid) & ratings["visit"].str.startswith("fu_week")
                       & ratings["madrs"].notna()]
        below = (2 * mine["madrs"] > base[pid]).to_numpy()
        assert below[-2:].all(), pid                                # the last two rated visits confirm it
        assert not np.any(below[:-2][1:] & below[:-2][:-1]), pid    # no earlier confirmed relapse
    last = ratings.groupby("participant_id")["study_day"].max()
    assert (participants.set_index("participant_id")["last_visit_day"] == last).all()


def test_relapse_among_responders_in_both_arms(tables):
    participants = tables["participants"].set_index("participant_id")
    eot = _response(tables["ratings"], tables["participants"], "post_24h")
    at_risk = participants.loc[eot.loc[eot["responder"], "participant_id"]]
    for arm in ("placebo", "ketamine"):
        mine = at_risk[at_risk["arm"] == arm]
        assert len(mine) >= 5 and (mine["end_reason"] == "relapse").sum() >= 3
        assert (mine["end_reason"] != "relapse").sum() >= 1


def test_plan_data_validate_against_the_dictionaries():
    from ketastats.api import validate_plan

    prepared = validate_plan(ROOT / "analysis_plans" / "ketamine_placebo_rct.yaml")
    assert set(prepared.tables) == set(TABLES)
