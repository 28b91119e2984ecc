"""Synthetic whole-brain connectome for the Siegel et al. (2021) replica (edge-wise FC).

Everything here is **synthetic**: no value comes from a real scan.

Design
------
* **Regions.** A 394-region parcellation: 333 cortical parcels ``c001``-``c333`` (the size
  of the Gordon et al. 2016 parcellation the paper used) and 61 subcortical / cerebellar
  regions ``s01``-``s61``. ``c001`` is the seed of the paper's seed maps, the bilateral
  subgenual anterior cingulate (sgACC). Labels only: no coordinates, no real atlas.
* **Edges.** All 394·393/2 = 77,421 region pairs, named ``"<a>-<b>"`` with ``a`` before ``b``
  in parcellation order (so text order is parcellation order), e.g. ``c001-c002``.
* **Observations.** The 40 observations of the replica's FC mixed model: the 21 participants
  with a week-2 visit, each before the infusion (``time = pre``: the mean of the participant's
  pre-infusion scans) and, for the 19 with a post scan, 2 weeks after it (``time = post``).
  Participants, scans and week-2 response are taken from
  :func:`ketastats.datasets.simulate.siegel2021.simulate` (its default seed), so the connectome
  joins the other tables by ``participant_id`` and ``responder_2wk`` is the plan's.
* **Values** (Fisher z), per edge e: ``fc = mu_e + u_pe + beta_time_e * post +
  beta_int_e * post * responder + noise``, with ``mu_e ~ N(0.15, 0.10)``, a participant
  intercept ``u_pe ~ N(0, sd_u_e)``, ``sd_u_e = 0.08 * U(0, 1.5)`` and ``sd_u_e = 0`` on 15 %
  of the edges (so boundary fits occur), scan noise SD 0.08 (divided by sqrt(2) for a pre value
  that averages two scans). Rounded to 4 decimals.
* **True effects** (:func:`true_effects`): 40 sgACC edges (seed ``c001`` to ``c002``-``c041``,
  standing for the default-mode network) with ``time_post`` -0.06 and
  ``time_post:responder_2wk`` -0.15 (responders' sgACC-DMN connectivity falls more, the
  replica's sign convention), and 360 other edges (drawn at random, not touching the seed)
  with a common change ``time_post`` of ±0.12. Every other edge has no effect.

All randomness comes from ``numpy.random.default_rng(SEED)`` used in a fixed order; the
whole matrix is drawn at once (about 0.1 s), so any subset is the same values as the whole.

Files
-----
Only the sgACC seed table (393 edges × 40 observations, long: ``participant_id, time, edge,
fc``) is shipped, as ``ketastats/datasets/siegel2021/connectome_sgacc.csv`` (about 0.4 MB).
The whole connectome (3,096,840 rows) is generated on demand — :func:`connectome` (a
40 × 77,421 matrix, float64, 25 MB in memory) or :func:`connectome_long` (the same long table
as the seed file) — or written with::

    python -m ketastats.datasets.simulate.siegel2021_connectome OUT.parquet   # ~13 MB

Examples
--------
>>> sessions, edges, fc = connectome()
>>> fc.shape, len(edges), edges[0], edges[-1]
((40, 77421), 77421, 'c001-c002', 's60-s61')
"""

from __future__ import annotations

import functools
from itertools import combinations

import numpy as np
import pandas as pd

from . import siegel2021

SEED: int = siegel2021.SEED + 2
"""Seed of the connectome stream (the siegel2021 tables use SEED and SEED + 1)."""

N_CORTICAL = 333
N_SUBCORTICAL = 61
REGIONS: tuple[str, ...] = tuple([f"c{i:03d}" for i in range(1, N_CORTICAL + 1)]
                                 + [f"s{i:02d}" for i in range(1, N_SUBCORTICAL + 1)])
SEED_REGION = "c001"
"""The sgACC (bilateral subgenual anterior cingulate) seed region."""
N_SEED_EFFECTS = 40
N_OTHER_EFFECTS = 360
SEED_TIME, SEED_INTERACTION = -0.06, -0.15
OTHER_TIME = 0.12
SCAN_SD = 0.08
ZERO_SD_FRACTION = 0.15


def edges() -> list[str]:
    """All region pairs ``"<a>-<b>"`` in parcellation order (77,421 for 394 regions)."""
    return [f"{a}-{b}" for a, b in combinations(REGIONS, 2)]


def seed_edges() -> list[str]:
    """The 393 edges of the sgACC seed (``c001-...``), in edge order."""
    return [e for e in edges() if SEED_REGION in e.split("-")]


@functools.lru_cache(maxsize=1)
def sessions() -> pd.DataFrame:
    """The 40 observations: participant_id, time (pre / post), n_scans (pre scans averaged), responder_2wk."""
    tables = siegel2021.simulate()
    clinical, imaging = tables["clinical"], tables["imaging"]
    base = clinical[clinical["visit"] == "baseline"].set_index("participant_id")["madrs"]
    week2 = clinical[(clinical["visit"] == "week2") & clinical["madrs"].notna()].set_index("participant_id")["madrs"]
    responder = (100.0 * (week2 - base.loc[week2.index]) / base.loc[week2.index]) <= -50
    rows = []
    for pid in sorted(week2.index):
        scans = imaging[imaging["participant_id"] == pid]
        for time in ("pre", "post"):
            n = int((scans["time"] == time).sum())
            if n:
                rows.append({"participant_id": pid, "time": time, "n_scans": n,
                             "responder_2wk": bool(responder.loc[pid])})
    return pd.DataFrame(rows)


def _effects(rng: np.random.Generator, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    n_edges = len(names)
    time = np.zeros(n_edges)
    interaction = np.zeros(n_edges)
    seed_idx = np.array([i for i, e in enumerate(names) if e.split("-")[0] == SEED_REGION])
    time[seed_idx[:N_SEED_EFFECTS]] = SEED_TIME
    interaction[seed_idx[:N_SEED_EFFECTS]] = SEED_INTERACTION
    others = np.setdiff1d(np.arange(n_edges), seed_idx)
    chosen = np.sort(rng.choice(others, size=N_OTHER_EFFECTS, replace=False))
    time[chosen] = OTHER_TIME * rng.choice([-1.0, 1.0], size=N_OTHER_EFFECTS)
    return time, interaction


@functools.lru_cache(maxsize=2)
def _draw(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obs = sessions()
    names = edges()
    rng = np.random.default_rng(seed)
    n_edges = len(names)
    pids = sorted(obs["participant_id"].unique())
    code = obs["participant_id"].map({p: i for i, p in enumerate(pids)}).to_numpy()
    post = (obs["time"] == "post").to_numpy(float)
    responder = obs["responder_2wk"].to_numpy(float)
    noise_sd = SCAN_SD / np.sqrt(obs["n_scans"].to_numpy(float))
    mu = rng.normal(0.15, 0.10, size=n_edges)
    sd_u = 0.08 * rng.uniform(0.0, 1.5, size=n_edges)
    sd_u[rng.random(n_edges) < ZERO_SD_FRACTION] = 0.0
    time, interaction = _effects(rng, names)
    u = rng.standard_normal((len(pids), n_edges)) * sd_u
    noise = rng.standard_normal((len(obs), n_edges)) * noise_sd[:, None]
    fc = mu + u[code] + post[:, None] * time + (post * responder)[:, None] * interaction + noise
    return np.round(fc, 4), time, interaction


def connectome(seed: int = SEED) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """(observations, edge names, fc matrix of shape (40, 77421)); observations as :func:`sessions`."""
    fc = _draw(seed)[0]
    return sessions().copy(), edges(), fc.copy()


def true_effects(seed: int = SEED) -> pd.DataFrame:
    """The edges with a true effect: edge, term (patsy name in the plan's model), value."""
    _, time, interaction = _draw(seed)
    names = np.asarray(edges(), dtype=object)
    rows = [pd.DataFrame({"edge": names[time != 0], "term": "time_post", "value": time[time != 0]}),
            pd.DataFrame({"edge": names[interaction != 0], "term": "time_post:responder_2wk[T.True]",
                          "value": interaction[interaction != 0]})]
    return pd.concat(rows, ignore_index=True)


def connectome_long(seed: int = SEED, edge_subset: list[str] | None = None) -> pd.DataFrame:
    """Long table participant_id, time, edge, fc (rows by participant, time, then edge)."""
    obs, names, fc = connectome(seed)
    columns = np.arange(len(names))
    if edge_subset is not None:
        position = {e: i for i, e in enumerate(names)}
        columns = np.array([position[e] for e in edge_subset], dtype=int)
    k = len(columns)
    return pd.DataFrame({
        "participant_id": np.repeat(obs["participant_id"].to_numpy(), k),
        "time": np.repeat(obs["time"].to_numpy(), k),
        "edge": np.tile(np.asarray(names, dtype=object)[columns], len(obs)),
        "fc": fc[:, columns].ravel(),
    })


def simulate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The shipped table: ``connectome_sgacc`` (the sgACC seed's 393 edges, long)."""
    return {"connectome_sgacc": connectome_long(seed, seed_edges())}


def write_parquet(path, seed: int = SEED) -> None:
    """Write the whole connectome as a long Parquet table (fc as float32, edge dictionary-encoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = connectome_long(seed)
    table = pa.table({"participant_id": pa.array(frame["participant_id"]).dictionary_encode(),
                      "time": pa.array(frame["time"]).dictionary_encode(),
                      "edge": pa.array(frame["edge"]).dictionary_encode(),
                      "fc": pa.array(frame["fc"].to_numpy(np.float32))})
    pq.write_table(table, str(path), compression="zstd")


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m ketastats.datasets.simulate.siegel2021_connectome OUT.parquet")
    write_parquet(sys.argv[1])
    print(sys.argv[1])
