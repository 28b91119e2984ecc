"""The synthetic connectome of the Siegel replica: shape, the 40 observations, reproducibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ketastats.datasets.simulate import SIMULATORS, siegel2021_connectome, write_dataset

DATA = Path(__file__).resolve().parents[2] / "ketastats" / "datasets" / "siegel2021"


def test_shipped_seed_table_is_reproduced_byte_for_byte(tmp_path):
    assert SIMULATORS["siegel2021_connectome"] is siegel2021_connectome.simulate
    (path,) = write_dataset("siegel2021_connectome", tmp_path)
    assert path.name == "connectome_sgacc.csv"
    assert path.read_bytes() == (DATA / path.name).read_bytes()


def test_whole_connectome_shape_and_observations():
    obs, edges, fc = siegel2021_connectome.connectome()
    assert fc.shape == (40, 77421) == (len(obs), 394 * 393 // 2)
    assert len(set(edges)) == 77421 and edges == sorted(edges)
    assert obs["participant_id"].nunique() == 21 and (obs["time"] == "post").sum() == 19
    assert obs.groupby("participant_id")["responder_2wk"].first().sum() == 11
    assert np.isfinite(fc).all()
    seed = siegel2021_connectome.simulate()["connectome_sgacc"]
    assert len(seed) == 40 * 393
    position = {e: i for i, e in enumerate(edges)}
    np.testing.assert_array_equal(seed["fc"].to_numpy().reshape(40, 393),
                                  fc[:, [position[e] for e in siegel2021_connectome.seed_edges()]])
    truth = siegel2021_connectome.true_effects()
    assert len(truth) == 440 and set(truth["term"]) == {"time_post", "time_post:responder_2wk[T.True]"}
