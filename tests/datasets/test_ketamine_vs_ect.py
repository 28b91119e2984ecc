"""Tests of the synthetic ketamine vs ECT trial (ketastats.datasets.simulate.ketamine_vs_ect).

Expected numbers are the design targets documented in the simulator and in
docs/datasets/ketamine_vs_ect.md, never read back from the generated output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketastats.datasets.simulate import ketamine_vs_ect as sim
from ketastats.datasets.simulate import write_dataset

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "ketastats" / "datasets" / "ketamine_vs_ect"
DICT_DIR = ROOT / "data_dictionary" / "ketamine_vs_ect"
TABLES = ("participants", "ratings", "biomarkers")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(DATA_DIR / f"{name}.csv") for name in TABLES}


def test_shipped_files_are_the_simulator_output_byte_for_byte(tmp_path):
    written = write_dataset("ketamine_vs_ect", tmp_path)
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
    assert len(participants) == sim.N_PARTICIPANTS == 60
    assert participants["arm"].value_counts().to_dict() == {"ect": 30, "ketamine": 30}
    assert set(ratings["visit"]) == set(sim.VISITS)
    baseline = ratings[ratings["visit"] == "baseline"]
    assert len(baseline) == 60 and (baseline["study_day"] == 0).all()
    arm = ratings["participant_id"].map(participants.set_index("participant_id")["arm"])
    assert set(ratings.loc[(ratings["visit"] == "tx3") & (arm == "ketamine"), "study_day"]) == {9}
    assert set(ratings.loc[(ratings["visit"] == "tx3") & (arm == "ect"), "study_day"]) == {6}
    treated = participants.set_index("participant_id")["n_treatments"]
    assert treated[participants.set_index("participant_id")["arm"] == "ketamine"].max() == 4
    assert treated.max() <= 12
    # the never treated have the baseline visit only
    never = treated.index[treated == 0]
    assert len(never) >= 1
    assert set(ratings.loc[ratings["participant_id"].isin(never), "visit"]) == {"baseline"}


def test_response_at_end_of_course_hits_the_design_targets(tables):
    participants, ratings = tables["participants"], tables["ratings"]
    base = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["hdrs17"]
    eot = ratings[ratings["visit"] == "eot"].copy()
    eot["responder"] = 2 * eot["hdrs17"] <= eot["participant_id"].map(base)
    eot["arm"] = eot["participant_id"].map(participants.set_index("participant_id")["arm"])
    rates = eot.groupby("arm")["responder"].mean()
    for arm in sim.ARMS:
        low, high = sim.RESPONSE_TARGET[arm]
        assert low <= rates[arm] <= high, arm
    # relapse data exist exactly for the responders at the end of the course
    responders = set(eot.loc[eot["responder"], "participant_id"])
    assert set(participants.loc[participants["relapsed"].notna(), "participant_id"]) == responders
    assert (participants["relapse_days"].notna() == participants["relapsed"].notna()).all()


def test_relapse_events_and_censorings_in_both_arms(tables):
    at_risk = tables["participants"][tables["participants"]["relapsed"].notna()]
    for arm in sim.ARMS:
        mine = at_risk[at_risk["arm"] == arm]
        assert (mine["relapsed"] == True).sum() >= 4 and (mine["relapsed"] == False).sum() >= 2  # noqa: E712
    events = at_risk[at_risk["relapsed"] == True]  # noqa: E712
    assert (events["relapse_days"] % 7 == 0).all()              # detected by the weekly remote rating
    assert at_risk["relapse_days"].max() <= sim.RELAPSE_HORIZON


def test_dropout_is_flagged_and_ends_the_visits(tables):
    participants, ratings = tables["participants"], tables["ratings"]
    dropped = participants["end_reason"].isin(sorted(sim.DROPOUT_REASONS))
    assert (participants["dropped_out"] == dropped).all()
    assert set(participants.loc[participants["arm"] == "ect", "dropped_out"]) == {True, False}
    assert set(participants.loc[participants["arm"] == "ketamine", "dropped_out"]) == {True, False}
    completers = participants.loc[~dropped, "participant_id"]
    last_visit = ratings.assign(code=ratings["visit"].map({v: i for i, v in enumerate(sim.VISITS)}))
    last_visit = last_visit.groupby("participant_id")["code"].max()
    # a drop-out never has the 6-month visit; most completers do (5 % missed visits)
    assert (last_visit[participants.loc[dropped, "participant_id"]] < sim.VISITS.index("m6")).all()
    assert (last_visit[completers] == sim.VISITS.index("m6")).mean() > 0.8


def test_dropout_is_missing_at_random_on_the_last_observed_score():
    """Drop-out depends on the last observed HDRS: across many seeds, participants who drop out before
    the end of the course had higher scores at their last rating than those who stay (a MAR mechanism)."""
    high, low = [], []
    for seed in range(5):
        tables = sim.simulate(seed=seed)
        ratings, participants = tables["ratings"], tables["participants"]
        base = ratings[ratings["visit"] == "baseline"].set_index("participant_id")["hdrs17"]
        early = participants.loc[participants["end_reason"].isin(["adverse_event", "lack_of_efficacy"]),
                                 "participant_id"]
        stayed = participants.loc[~participants["dropped_out"], "participant_id"]
        high.extend(base[early].tolist())
        low.extend(base[stayed].tolist())
    assert np.mean(high) > np.mean(low)
    assert sim._logistic(sim.DROPOUT_INTERCEPT["tx3"] + sim.DROPOUT_SLOPE * 20) > \
        sim._logistic(sim.DROPOUT_INTERCEPT["tx3"] + sim.DROPOUT_SLOPE * 0)


def test_biomarkers(tables):
    bio, ratings = tables["biomarkers"], tables["ratings"]
    assert set(bio["visit"]) == {"baseline", "eot"}
    assert (bio["visit"] == "baseline").sum() == 60
    assert set(bio.loc[bio["visit"] == "eot", "participant_id"]) == set(ratings.loc[ratings["visit"] == "eot",
                                                                                     "participant_id"])
    assert bio["il6"].isna().any() and (bio["il6"].dropna() > 0).all()


def test_plan_data_validate_against_the_dictionaries():
    from ketastats.api import validate_plan

    prepared = validate_plan(ROOT / "analysis_plans" / "ketamine_vs_ect.yaml")
    assert set(prepared.tables) == set(TABLES)
