"""Benchmark: the whole synthetic connectome (77,421 edges) with `mass_mixed_model`, against a
statsmodels MixedLM loop, in one run on the same data.

Run from the project root (not part of the test suite; about a minute)::

    python benchmarks/bench_connectome.py [--sample 40] [--dask]

Data: the Siegel replica's synthetic connectome (ketastats.datasets.simulate.siegel2021_connectome):
40 observations (21 participants, pre / post) × 77,421 edges; per edge
fc ~ time_post + time_post:responder_2wk + (1 | participant_id), REML.

Measured, each in a fresh subprocess (so peak memory is that step's own):

1. ``statsmodels``: a loop of ``MixedLM(fc, X, groups).fit(reml=True)`` over a sample of edges
   (array interface, no formula parsing, i.e. statsmodels' fastest path) — seconds per outcome;
2. ``ketastats single``: the exact single-model kernels looped over the same sample
   (``lmm.fit_lmm`` + ``satterthwaite.coefficient_table``) — seconds per outcome;
3. ``batched kernel``: ``lmm_batched.fit_random_intercept`` on all 77,421 edges (with
   Satterthwaite df), chunks of 10,000 — wall time, seconds per outcome;
4. ``whole analysis``: the ``mass_mixed_model`` analysis (``run``) on the 3,096,840-row long table
   (participant_id, time, edge, fc, time_post, responder_2wk) as the plan hands it over: pivot,
   fits, residual and Satterthwaite df, t / p, BH and Bonferroni, the 619,368-row tidy table —
   wall time (scipy / patsy imported beforehand, as in a plan run) and peak resident memory of the
   process (ru_maxrss, including the data);
5. with ``--dask``: the same analysis with ``engine: dask`` (local in-process cluster, 2 threads).

Ratios are per outcome, statsmodels / batched, all measured in this run. The machine's cores are
printed; the goals (issue 8) are < 10 s and < 2 GiB for the whole connectome on 2 cores and
>= 1000x faster per outcome than statsmodels.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "~ time_post + time_post:responder_2wk"


def _design():
    import numpy as np

    from ketastats.datasets.simulate import siegel2021_connectome as sc

    obs, edges, fc = sc.connectome()
    post = (obs["time"] == "post").to_numpy(float)
    responder = obs["responder_2wk"].to_numpy(float)
    X = np.column_stack([np.ones(len(obs)), post, post * responder])
    return obs, edges, fc, X, obs["participant_id"].to_numpy()


def step_statsmodels(sample: int) -> dict:
    import time
    import warnings

    import numpy as np
    from statsmodels.regression.mixed_linear_model import MixedLM

    obs, edges, fc, X, groups = _design()
    columns = np.linspace(0, fc.shape[1] - 1, sample).astype(int)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in columns:
            MixedLM(fc[:, k], X, groups).fit(reml=True)
    seconds = time.perf_counter() - start
    return {"outcomes": sample, "seconds": seconds, "per_outcome": seconds / sample}


def step_single(sample: int) -> dict:
    import time

    import numpy as np

    from ketastats.stats import satterthwaite
    from ketastats.stats.lmm import fit_lmm

    obs, edges, fc, X, groups = _design()
    columns = np.linspace(0, fc.shape[1] - 1, sample).astype(int)
    Z = np.ones((len(X), 1))
    start = time.perf_counter()
    for k in columns:
        satterthwaite.coefficient_table(fit_lmm(fc[:, k], X, Z, groups))
    seconds = time.perf_counter() - start
    return {"outcomes": sample, "seconds": seconds, "per_outcome": seconds / sample}


def step_kernel() -> dict:
    import time

    from ketastats.stats.lmm_batched import fit_random_intercept

    obs, edges, fc, X, groups = _design()
    start = time.perf_counter()
    singular = 0
    for first in range(0, fc.shape[1], 10000):
        fit = fit_random_intercept(fc[:, first:first + 10000], X, groups)
        singular += int(fit.singular.sum())
    seconds = time.perf_counter() - start
    return {"outcomes": fc.shape[1], "seconds": seconds, "per_outcome": seconds / fc.shape[1],
            "singular": singular}


def step_analysis(engine: str) -> dict:
    import time

    import pandas as pd

    from ketastats.analyses import mass_mixed_model
    from ketastats.analyses.base import AnalysisInput
    from ketastats.datasets.simulate import siegel2021_connectome as sc

    frame = sc.connectome_long()
    frame["time"] = pd.Categorical(frame["time"], categories=["pre", "post"], ordered=True)
    responder = sc.sessions().groupby("participant_id")["responder_2wk"].first()
    frame["time_post"] = (frame["time"] == "post").astype(float)
    frame["responder_2wk"] = pd.array(frame["participant_id"].map(responder).to_numpy(), dtype="boolean")
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    spec = mass_mixed_model.Spec.model_validate({
        "id": "connectome", "type": "mass_mixed_model", "table": "connectome", "outcome_column": "edge",
        "value": "fc", "formula": FORMULA, "random": "1 | participant_id",
        "df_method": ["residual", "satterthwaite"], "engine": engine})
    ctx = AnalysisInput("connectome", "connectome", frame, "participant_id", ["participant_id", "time", "edge"])
    import patsy  # noqa: F401  imported before timing, as in a plan run (earlier analyses import them)
    import scipy.stats  # noqa: F401
    start = time.perf_counter()
    result = mass_mixed_model.run(spec, ctx)
    seconds = time.perf_counter() - start
    tidy = result.tidy
    truth = sc.true_effects()
    hits = tidy[(tidy["effect"] == "fixed") & (tidy["df_method"] == "satterthwaite") & (tidy["p_adjusted"] <= 0.05)
                & (tidy["term"] != "Intercept")]
    true_keys = set(zip(truth["edge"], truth["term"]))
    found = set(zip(hits["edge"] if "edge" in hits else hits["outcome"], hits["term"]))
    import resource

    return {"outcomes": int(result.glance["n_outcomes"]), "rows": len(tidy), "seconds": seconds,
            "per_outcome": seconds / result.glance["n_outcomes"],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "singular": int(result.glance["n_singular"]), "fdr_hits": len(found),
            "true_positives": len(found & true_keys), "true_effects": len(true_keys)}


STEPS = {"statsmodels": step_statsmodels, "single": step_single, "kernel": step_kernel, "analysis": step_analysis}


def _child(name: str, *args) -> dict:
    command = [sys.executable, __file__, "--step", name, *map(str, args)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=40, help="edges in the statsmodels / single-kernel loops")
    parser.add_argument("--dask", action="store_true", help="also run the analysis on a local Dask cluster")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, *rest = args.step
        rest = [int(r) if r.isdigit() else r for r in rest]
        print(json.dumps(STEPS[name](*rest)))
        return
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    sm = _child("statsmodels", args.sample)
    single = _child("single", args.sample)
    kernel = _child("kernel")
    whole = _child("analysis", "local")
    rows = [("statsmodels MixedLM loop", sm), ("ketastats single-model loop", single),
            ("batched kernel (77,421 edges)", kernel), ("mass_mixed_model analysis, local", whole)]
    if args.dask:
        rows.append(("mass_mixed_model analysis, dask", _child("analysis", "dask")))
    print(f"{'step':36s} {'outcomes':>9s} {'seconds':>9s} {'ms/outcome':>11s} {'vs statsmodels':>15s}")
    for label, r in rows:
        ratio = sm["per_outcome"] / r["per_outcome"]
        print(f"{label:36s} {r['outcomes']:9d} {r['seconds']:9.2f} {1e3 * r['per_outcome']:11.4f} {ratio:14.0f}x")
    for label, r in rows[3:]:
        print(f"{label}: wall {r['seconds']:.2f} s, peak RSS {r['peak_rss_mib']:.0f} MiB, tidy rows {r['rows']}, "
              f"singular fits {r['singular']}, BH hits {r['fdr_hits']} ({r['true_positives']} of "
              f"{r['true_effects']} true effects)")


if __name__ == "__main__":
    main()
