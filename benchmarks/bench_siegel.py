"""Benchmark: the whole `ketastats run analysis_plans/siegel2021.yaml` against R doing the plan's core
statistics (benchmarks/siegel2021_core.R), cold processes, alternating, medians (issue 15).

Run from the project root (not part of the test suite; needs Rscript with lme4, lmerTest, pbkrtest,
afex, emmeans)::

    python benchmarks/bench_siegel.py [--repeats 5] [--mass]

Each repeat starts, in turn: ``ketastats run`` (all analyses, figures, report.html, LaTeX / Word copies,
into a temporary folder), then ``Rscript benchmarks/siegel2021_core.R`` (statistics only; with
``--mass`` also the 393-edge mass model that the plan runs, as a third command). Per process the CPU
seconds (user + system) and the peak RSS come from ``os.wait4`` (the operating system's accounting of
that process). Prints each command's median CPU, wall and peak RSS, and the ratios ketastats / R
(median of the per-repeat ratios and ratio of the medians); ≤ 1 means the whole ketastats run used no
more CPU than R's statistics alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(command: list[str]) -> tuple[float, float, float, int]:
    """CPU seconds, wall seconds, peak RSS (MiB) and exit status of one cold process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mass", action="store_true", help="also R with the 393-edge mass model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ks-siegel-") as out:
        commands = {
            "ketastats run (everything)": [sys.executable, "-m", "ketastats", "run", "analysis_plans/siegel2021.yaml",
                                           "--out", out],
            "R core statistics": ["Rscript", "benchmarks/siegel2021_core.R"],
        }
        if args.mass:
            commands["R core statistics + mass model"] = ["Rscript", "benchmarks/siegel2021_core.R", "--mass"]
        for command in commands.values():   # warm-up (file cache), not counted
            measure(command)
        runs: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                runs[name].append(measure(command))
    print(f"{args.repeats} alternating runs per command, cold processes; medians (min-max)")
    for name, values in runs.items():
        cpu, wall, rss, codes = zip(*values)
        print(f"  {name:<32} CPU {statistics.median(cpu):6.2f} s ({min(cpu):.2f}-{max(cpu):.2f})   "
              f"wall {statistics.median(wall):6.2f} s   peak RSS {statistics.median(rss):6.0f} MiB   "
              f"exit {sorted(set(codes))}")
    ks = [v[0] for v in runs["ketastats run (everything)"]]
    for name in list(commands)[1:]:
        r = [v[0] for v in runs[name]]
        pair = statistics.median(a / b for a, b in zip(ks, r))
        print(f"  ketastats / {name}: CPU ratio {pair:.2f} (median of pairs), "
              f"{statistics.median(ks) / statistics.median(r):.2f} (ratio of medians)")


if __name__ == "__main__":
    main()
