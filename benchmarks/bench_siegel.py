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

The ketastats processes run with Python's bytecode cache on (``PYTHONDONTWRITEBYTECODE`` removed
from their environment, the cache in a temporary ``PYTHONPYCACHEPREFIX`` filled by the warm-up
run): an installed package has its modules compiled (pip compiles them at install time), as R's
packages are byte-compiled at install; without the cache every run compiles ketastats' own
modules again (about 0.15 s). ``--stages`` also prints, from one more process, where a run's
CPU goes (imports, validation, analyses, figures drawn and encoded, report written).
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


def python_env(cache: str) -> dict[str, str]:
    """The environment of the ketastats processes: bytecode cache on, kept in ``cache``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """CPU seconds, wall seconds, peak RSS (MiB) and exit status of one cold process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mass", action="store_true", help="also R with the 393-edge mass model")
    parser.add_argument("--stages", action="store_true", help="also print where a ketastats run's CPU goes")
    parser.add_argument("--inner-stages", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner_stages:
        stages(args.inner_stages)
        return
    with tempfile.TemporaryDirectory(prefix="ks-siegel-") as out, \
            tempfile.TemporaryDirectory(prefix="ks-pycache-") as cache:
        env = python_env(cache)
        commands = {
            "ketastats run (everything)": [sys.executable, "-m", "ketastats", "run", "analysis_plans/siegel2021.yaml",
                                           "--out", out],
            "R core statistics": ["Rscript", "benchmarks/siegel2021_core.R"],
        }
        if args.mass:
            commands["R core statistics + mass model"] = ["Rscript", "benchmarks/siegel2021_core.R", "--mass"]
        envs = {name: env if command[0] == sys.executable else None for name, command in commands.items()}
        for name, command in commands.items():   # warm-up (file and bytecode caches), not counted
            measure(command, envs[name])
        runs: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                runs[name].append(measure(command, envs[name]))
        if args.stages:
            breakdown = subprocess.run([sys.executable, __file__, "--inner-stages", out], cwd=ROOT, env=env,
                                       capture_output=True, text=True)
            print(breakdown.stdout + breakdown.stderr[-2000:] if breakdown.returncode else breakdown.stdout)
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


def stages(out: str) -> None:
    """In this process: ``ketastats run`` of the Siegel plan with CPU seconds per stage (process_time)."""
    start = time.process_time()
    import ketastats.api as api
    import ketastats.cli.app  # noqa: F401  (imported by `ketastats run` too)
    imported = time.process_time() - start
    import ketastats.analyses.execute as execute_module
    import ketastats.figures as figures_module
    import ketastats.figures.encoding as encoding_module
    import ketastats.report.writer as writer_module

    seconds: dict[str, float] = {}

    def timed(module, name: str, key: str) -> None:
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            begin = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[key] = seconds.get(key, 0.0) + time.process_time() - begin
        setattr(module, name, wrapper)

    timed(api, "validate_plan", "load + validate data")
    timed(execute_module, "execute", "analyses (with the imports they make)")
    timed(figures_module, "draw_figure", "figures: drawn")
    timed(encoding_module, "encode", "figures: encoded png + svg + pdf")
    timed(writer_module, "write_report", "report + tables + exports written")
    begin = time.process_time()
    api.run_plan("analysis_plans/siegel2021.yaml", out=out)
    total = time.process_time() - begin
    print(f"where a run's CPU goes (one process, process_time): imports {imported:.2f} s")
    for key, value in seconds.items():
        print(f"  {key:<40} {value:6.2f} s")
    print(f"  {'other (derivations, multiplicity, ...)':<40} {total - sum(seconds.values()):6.2f} s")
    print(f"  {'total after the first imports':<40} {total:6.2f} s")


if __name__ == "__main__":
    main()
