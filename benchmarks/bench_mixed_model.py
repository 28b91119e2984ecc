"""Benchmark: one mixed model on the Siegel FC table with each df method, as ratios to statsmodels.

Run from the project root (not part of the test suite)::

    python benchmarks/bench_mixed_model.py

Measures, in one run on the same 40-row table (fc_sgacc_dmn ~ time + time:responder_2wk,
random intercept by participant): the plain statsmodels MixedLM REML fit (the reference), the
ketastats kernel fit, and fit + full coefficient table with residual, Satterthwaite and
Kenward-Roger df; then the whole `mixed_model` analysis with contrasts; then a random-slope model
(sleepstudy, ``Reaction ~ Days + (Days | Subject)``) by statsmodels and by ketastats. Reports the
median of repeated timings and each as a ratio to the statsmodels random-intercept fit.
"""

from __future__ import annotations

import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 30


def median_seconds(function, repeats: int = REPEATS) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import statsmodels.api as sm

    from ketastats.analyses import mixed_model
    from ketastats.analyses.base import AnalysisInput
    from ketastats.stats import kenward_roger, satterthwaite
    from ketastats.stats.lmm import fit_lmm

    data = pd.read_csv(ROOT / "tests/reference/lmm/siegel_fc.csv")
    y = data["fc_sgacc_dmn"].to_numpy(float)
    X = np.column_stack([np.ones(len(data)), data["time"], data["time"] * data["responder_2wk"]])
    Z = np.ones((len(data), 1))
    groups = data["participant_id"].to_numpy()

    def statsmodels_reml(y, X, groups, Z):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sm.MixedLM(y, X, groups, exog_re=Z).fit(reml=True)

    def statsmodels_fit():
        statsmodels_reml(y, X, groups, Z)

    def kernel_fit():
        fit_lmm(y, X, Z, groups)

    def residual_table():
        fit = fit_lmm(y, X, Z, groups)
        return fit.se_beta

    def satterthwaite_table():
        satterthwaite.coefficient_table(fit_lmm(y, X, Z, groups))

    def kenward_roger_table():
        kenward_roger.coefficient_table(fit_lmm(y, X, Z, groups))

    frame = data.assign(responder_2wk=data["responder_2wk"].astype(bool))
    frame.index = range(1, len(frame) + 1)
    spec = mixed_model.Spec.model_validate({
        "id": "b", "type": "mixed_model", "table": "t", "formula": "fc_sgacc_dmn ~ time + time:responder_2wk",
        "random": "1 | participant_id", "df_method": ["residual", "satterthwaite", "kenward_roger"],
        "contrasts": [{"emmeans": "time", "by": "responder_2wk", "at": {"time": [0, 1]}, "versus": 0}]})

    def whole_analysis():
        mixed_model.run(spec, AnalysisInput("b", "t", frame, "participant_id", ["participant_id"]))

    sleep = pd.read_csv(ROOT / "tests/reference/mixed_model/sleepstudy.csv")
    ys = sleep["reaction"].to_numpy(float)
    Xs = np.column_stack([np.ones(len(sleep)), sleep["days"].to_numpy(float)])
    gs = sleep["subject"].to_numpy()

    def statsmodels_slopes():
        statsmodels_reml(ys, Xs, gs, Xs)

    def kernel_slopes():
        fit_lmm(ys, Xs, Xs, gs)

    reference = median_seconds(statsmodels_fit)
    rows = [("statsmodels MixedLM fit (reference)", reference),
            ("ketastats fit (lme4 parametrisation)", median_seconds(kernel_fit)),
            ("fit + residual-df table", median_seconds(residual_table)),
            ("fit + Satterthwaite table", median_seconds(satterthwaite_table)),
            ("fit + Kenward-Roger table", median_seconds(kenward_roger_table)),
            ("mixed_model analysis, 3 df methods + contrasts + type-III", median_seconds(whole_analysis, 10)),
            ("random slopes (sleepstudy): statsmodels MixedLM fit", median_seconds(statsmodels_slopes, 10)),
            ("random slopes (sleepstudy): ketastats fit", median_seconds(kernel_slopes, 10))]
    print(f"{'step':<58} {'median ms':>10} {'ratio':>7}")
    for name, seconds in rows:
        print(f"{name:<58} {seconds * 1e3:>10.2f} {seconds / reference:>7.2f}")


if __name__ == "__main__":
    main()
