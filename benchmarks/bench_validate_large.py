"""Benchmark: `ketastats validate` of a 1,000,000-row outcome table — wall time and peak memory.

Run from the project root (not part of the test suite)::

    python benchmarks/bench_validate_large.py [--rows 1000000]

Writes, in a temporary folder, a clinical-like CSV (participant_id, visit, madrs, cgi_i: the
Siegel clinical dictionary's columns, six visits per participant, ~167,000 participants), its
dictionary and a one-table plan, then measures in fresh subprocesses (each its own interpreter,
so imports count and the peak resident set size is that process's alone, read from ``wait4``):

1. ``ketastats validate plan.yaml`` (reading, typing, range / level / required / unique-key checks);
2. for reference, plain ``pandas.read_csv`` of the same file (pandas' own type inference);
3. ``pandas.read_csv(dtype=str)`` — how ketastats reads a CSV (cells as text, typed afterwards).

and prints wall time, peak RSS and the ratios of (1) to (2). The figures in docs/safety.md come
from this script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VISITS = ["baseline", "day1", "week2", "week4", "week6", "week8"]
LIMIT_BYTES = 2 * 1024 ** 3


def write_project(folder: Path, rows: int) -> Path:
    """The CSV, its dictionary, a plan and a project marker; returns the plan's path."""
    rng = np.random.default_rng(2021)
    visit_index = np.arange(rows) % len(VISITS)
    participant = np.arange(rows) // len(VISITS)
    madrs = rng.integers(0, 61, rows)
    cgi = rng.integers(1, 8, rows).astype(object)
    cgi[visit_index == 0] = ""
    with open(folder / "clinical.csv", "w", encoding="utf-8", newline="") as handle:
        handle.write("participant_id,visit,madrs,cgi_i\n")
        chunk = 100_000
        for start in range(0, rows, chunk):
            stop = min(rows, start + chunk)
            handle.write("".join(
                f"P{participant[i]:07d},{VISITS[visit_index[i]]},{madrs[i]},{cgi[i]}\n" for i in range(start, stop)))
    (folder / "clinical.yaml").write_text((ROOT / "data_dictionary/siegel2021/clinical.yaml").read_text("utf-8"),
                                          encoding="utf-8")
    (folder / "ketastats.toml").write_text("", encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text(
        "ketastats: 1\nid: large\ntitle: 1M-row validation benchmark\nsubject: participant_id\nseed: 1\n"
        "data:\n  clinical: {source: clinical.csv, dictionary: clinical.yaml}\n"
        "analyses:\n  - {id: madrs_by_visit, type: descriptives, table: clinical, outcome: madrs, by: [visit]}\n",
        encoding="utf-8")
    return plan


def measure(command: list[str], cwd: Path) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS in bytes, exit code and stderr of ``command`` in a fresh process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return wall, usage.ru_maxrss * 1024, process.returncode, stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="ketastats-bench-") as name:
        folder = Path(name)
        start = time.perf_counter()
        plan = write_project(folder, args.rows)
        size = (folder / "clinical.csv").stat().st_size
        print(f"wrote {args.rows:,} rows ({size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")
        runs = {
            "ketastats validate": [python, "-m", "ketastats", "validate", str(plan)],
            "pandas.read_csv": [python, "-c", "import pandas, sys; pandas.read_csv(sys.argv[1])", "clinical.csv"],
            "pandas.read_csv(dtype=str)": [python, "-c", "import pandas, sys; "
                                           "pandas.read_csv(sys.argv[1], dtype=str, keep_default_na=False, "
                                           "na_values=['', 'NA'])", "clinical.csv"],
        }
        figures = {}
        for label, command in runs.items():
            wall, peak, code, stderr = measure(command, folder)
            figures[label] = (wall, peak)
            print(f"{label:28s} wall {wall:6.2f} s   peak RSS {peak / 2**20:7.0f} MiB   exit {code}")
            if code != 0:
                print(stderr, file=sys.stderr)
            elif label == "ketastats validate":
                progress = [line for line in stderr.splitlines() if "validating" in line or "valid:" in line]
                print("   stderr: " + " | ".join(progress[-3:]))
        wall, peak = figures["ketastats validate"]
        base_wall, base_peak = figures["pandas.read_csv"]
        print(f"ratio ketastats / pandas.read_csv: wall {wall / base_wall:.1f}x, peak RSS {peak / base_peak:.1f}x")
        print(f"peak RSS under 2 GiB: {'yes' if peak < LIMIT_BYTES else 'NO'}")


if __name__ == "__main__":
    main()
