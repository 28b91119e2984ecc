"""Benchmark: the scaling table of issue 15 — mixed_model (Satterthwaite, Kenward-Roger), rm_anova and
cox at 2,300 and 23,000 participants × 6 visits and 2,300 × 60 — against lme4 / lmerTest / pbkrtest,
afex and survival, plus the whole four-analysis plan (`ketastats run`) with its peak RSS.

Run from the project root (not part of the test suite; needs Rscript with lme4, lmerTest, pbkrtest,
afex, survival, jsonlite)::

    python benchmarks/bench_scaling.py [--repeats 3] [--sizes 2300x6,23000x6,2300x60] [--no-r]

For each size it writes a synthetic trial (visits.csv: participant × visit scores with a random
intercept, arm and time effects; participants.csv: arm, age, an exponential time to event with
censoring) and a plan with the four analyses into a temporary folder. Then, alternating the two
sides ``--repeats`` times (the machine is shared: medians of alternating runs):

* ketastats: one process (``benchmarks/bench_scaling.py --inner``) loads and validates the plan and
  times each analysis alone (``time.process_time`` around ``ketastats.analyses.execute.execute``);
* R: ``benchmarks/scaling.R`` times the same analyses (proc.time, user + system);
* the whole plan: ``ketastats run PLAN --out DIR`` as a child process, its CPU seconds and peak RSS
  from ``resource.getrusage(RUSAGE_CHILDREN)`` (maxrss of the largest child so far: each size is
  measured in its own process tree, see ``_whole_run``).

Prints per size and analysis the median CPU seconds of both and the ratio ketastats / R (< 1:
ketastats is faster), then the whole-plan medians and peak RSS. Cox is run at × 6 only (it is one
row per participant).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ANALYSES = ["mixed_model_satterthwaite", "mixed_model_kenward_roger", "rm_anova", "cox"]

PLAN = """ketastats: 1
id: scaling_{n}x{v}
title: Scaling benchmark, {n} participants x {v} visits (SYNTHETIC)
synthetic_data: true
subject: participant_id
output: out
seed: 1
data:
  participants: {{source: participants.csv, dictionary: participants.yaml}}
  visits: {{source: visits.csv, dictionary: visits.yaml}}
analyses:
  - id: mixed_model_satterthwaite
    type: mixed_model
    table: visits
    formula: "score ~ arm * time"
    random: "1 | participant_id"
    estimation: reml
    df_method: satterthwaite
  - id: mixed_model_kenward_roger
    type: mixed_model
    table: visits
    formula: "score ~ arm * time"
    random: "1 | participant_id"
    estimation: reml
    df_method: kenward_roger
  - id: rm_anova
    type: rm_anova
    table: visits
    outcome: score
    within: visit
    sphericity: greenhouse_geisser
    effect_size: [eta_sq_partial, eta_sq_generalized]
{cox}"""

COX = """  - id: cox
    type: cox
    table: participants
    covariates: [arm, age]
    ph_test: [km, identity]
"""

PARTICIPANTS_YAML = """table: participants
description: Synthetic participants of the scaling benchmark
key: [participant_id]
columns:
  participant_id: {type: string, description: identifier}
  arm: {type: category, levels: [placebo, ketamine], label: Arm, description: arm}
  age: {type: integer, min: 18, max: 80, unit: years, label: Age, description: age}
  time: {type: number, min: 0, unit: days, label: Time to event, description: follow-up time}
  event: {type: boolean, label: Event, description: event (true) or censored (false)}
"""

VISITS_YAML = """table: visits
description: Synthetic visits of the scaling benchmark
key: [participant_id, visit]
columns:
  participant_id: {{type: string, description: identifier}}
  arm: {{type: category, levels: [placebo, ketamine], label: Arm, description: arm}}
  visit: {{type: category, ordered: true, levels: [{levels}], label: Visit, description: visit}}
  time: {{type: number, min: 0, label: Time, description: visit number (0 = baseline)}}
  score: {{type: number, label: Score, description: outcome}}
"""


def write_trial(folder: Path, n: int, v: int, seed: int = 15) -> Path:
    """The synthetic trial and its plan in ``folder``; returns the plan path."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"P{i:06d}" for i in range(n)])
    arm = np.where(rng.random(n) < 0.5, "ketamine", "placebo")
    age = rng.integers(18, 80, n)
    hazard = 0.01 * np.exp(0.4 * (arm == "ketamine") + 0.01 * (age - 45))
    event_time = rng.exponential(1 / hazard)
    censor = rng.uniform(20, 200, n)
    time_ = np.round(np.minimum(event_time, censor), 1)
    pd.DataFrame({"participant_id": ids, "arm": arm, "age": age, "time": time_,
                  "event": np.where(event_time <= censor, "true", "false")}).to_csv(folder / "participants.csv",
                                                                                 index=False)
    levels = [f"v{j:02d}" for j in range(v)]
    intercept = rng.normal(0, 4, n)
    t = np.tile(np.arange(v, dtype=float), n)
    a = np.repeat(arm == "ketamine", v)
    score = 30 + np.repeat(intercept, v) - 0.8 * t - 1.5 * a * t + rng.normal(0, 3, n * v)
    pd.DataFrame({"participant_id": np.repeat(ids, v), "arm": np.repeat(arm, v), "visit": np.tile(levels, n),
                  "time": t, "score": np.round(score, 3)}).to_csv(folder / "visits.csv", index=False)
    (folder / "participants.yaml").write_text(PARTICIPANTS_YAML)
    (folder / "visits.yaml").write_text(VISITS_YAML.format(levels=", ".join(levels)))
    plan = folder / "plan.yaml"
    plan.write_text(PLAN.format(n=n, v=v, cox=COX if v <= 6 else ""))
    return plan


def inner(plan: str) -> None:
    """In this process: run the plan's analyses, print CPU seconds per analysis as JSON."""
    import ketastats.analyses.execute as execute_module

    seconds: dict[str, float] = {}
    original = execute_module.execute

    def timed(module, spec, ctx):
        start = time.process_time()
        result = original(module, spec, ctx)
        seconds[spec.id] = time.process_time() - start
        if not result.ok:
            seconds[spec.id + ":failed"] = 1.0
        return result

    execute_module.execute = timed
    import importlib
    import pkgutil

    import scipy.linalg  # noqa: F401  (imported first, as R loads its packages before timing)
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401

    import ketastats.analyses
    import ketastats.api
    import ketastats.stats

    for package in (ketastats.stats, ketastats.analyses):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")

    with tempfile.TemporaryDirectory() as out:
        ketastats.api.run_plan(plan, out=out)
    print(json.dumps(seconds))


def _json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output:\n{text[-2000:]}")


def _whole_run(plan: Path, out: Path) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of `ketastats run plan` as a child process (via /usr/bin/time when present).

    With Python's bytecode cache on (kept next to the plan), as for an installed package (see
    ``bench_siegel.py``)."""
    command = [sys.executable, "-m", "ketastats", "run", str(plan), "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(plan.parent / "pycache")
    if Path("/usr/bin/time").exists():
        result = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M", *command], capture_output=True, text=True,
                                env=env)
        line = [x for x in result.stderr.splitlines() if x.startswith("TIME ")][-1].split()
        return float(line[1]) + float(line[2]), float(line[3]) / 1024
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="2300x6,23000x6,2300x60")
    parser.add_argument("--no-r", action="store_true", help="ketastats only")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner)
        return
    sizes = [tuple(int(x) for x in size.split("x")) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ks-scaling-") as tmp:
        for n, v in sizes:
            folder = Path(tmp) / f"{n}x{v}"
            plan = write_trial(folder, n, v)
            ks: dict[str, list[float]] = {a: [] for a in ANALYSES}
            rr: dict[str, list[float]] = {a: [] for a in ANALYSES}
            whole_cpu, whole_rss = [], []
            _whole_run(plan, folder / "out")   # warm-up (file and bytecode caches), not counted
            for _ in range(args.repeats):   # alternating: ketastats, R, whole run
                out = subprocess.run([sys.executable, __file__, "--inner", str(plan)], capture_output=True, text=True,
                                     cwd=ROOT)
                for key, value in _json_line(out.stdout + out.stderr).items():
                    if key.endswith(":failed"):
                        print(f"  {n}x{v}: ketastats {key[:-7]} FAILED", flush=True)
                    elif key in ks:
                        ks[key].append(value)
                if not args.no_r:
                    out = subprocess.run(["Rscript", str(ROOT / "benchmarks/scaling.R"), str(folder)],
                                         capture_output=True, text=True)
                    for key, value in _json_line(out.stdout).items():
                        rr[key].append(value)
                cpu, rss = _whole_run(plan, folder / "out")
                whole_cpu.append(cpu)
                whole_rss.append(rss)
            for analysis in ANALYSES:
                if ks[analysis]:
                    k = statistics.median(ks[analysis])
                    r = statistics.median(rr[analysis]) if rr[analysis] else float("nan")
                    rows.append((f"{n:,} x {v}", analysis, k, r, k / r if r == r and r > 0 else float("nan")))
                    print(f"{n:>6,} x {v:<3} {analysis:<27} ketastats {k:7.2f} s   R {r:7.2f} s   "
                          f"ratio {rows[-1][4]:6.2f}", flush=True)
            print(f"{n:>6,} x {v:<3} whole `ketastats run` (4 analyses + report): CPU median "
                  f"{statistics.median(whole_cpu):.2f} s, peak RSS median {statistics.median(whole_rss):.0f} MiB "
                  f"(max {max(whole_rss):.0f})", flush=True)
    print("\n| participants × visits | analysis | ketastats CPU s | R CPU s | ketastats / R |")
    print("| --- | --- | --- | --- | --- |")
    for size, analysis, k, r, ratio in rows:
        print(f"| {size} | {analysis} | {k:.2f} | {r:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
