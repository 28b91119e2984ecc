"""Where batched numerical work runs: in this process (``local``) or on a Dask cluster (``dask``).

An analysis that splits its work into independent tasks (e.g. ``mass_mixed_model``: chunks of
outcomes) hands them to :func:`map_tasks`, which returns the results **in task order** whatever
the engine, so the analysis's tables do not depend on where it ran. Each task is a tuple of
positional arguments of a top-level (importable, picklable) function.

- ``local``: the tasks run one after the other in this process.
- ``dask``: the tasks are submitted to a Dask ``distributed`` cluster — a local in-process
  cluster by default (``processes=False``, one worker with ``workers`` threads; NumPy releases
  the GIL, so threads use the cores without copying data between processes), or the scheduler at
  ``address`` (e.g. ``tcp://10.0.0.5:8786``; every worker needs ketastats installed). At most
  ``2 x threads`` tasks are in flight at once, so memory stays bounded however many tasks there
  are; results are collected as they finish and put back in order.

``dask`` is optional: ``pip install "ketastats[dask]"`` installs ``dask[distributed]``;
:func:`dask_available` says whether it is there (``run_plan`` refuses, exit 2, a plan that
needs it when it is not).

Progress: every finished task is logged on the ``ketastats.engines`` logger (INFO) and passed
to the optional ``progress(done, total)`` callback.

Example
-------
>>> map_tasks(pow, [(2, 3), (3, 2)])
[8, 9]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["map_tasks", "ENGINES", "DASK_INSTALL", "dask_available"]

ENGINES = ("local", "dask")
LOGGER = logging.getLogger("ketastats.engines")
DASK_INSTALL = 'pip install "ketastats[dask]"'


def dask_available() -> bool:
    """Whether ``dask`` and ``distributed`` can be imported (found without importing them)."""
    import importlib.util

    for name in ("dask", "distributed"):
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def map_tasks(function: Callable, tasks: Sequence[tuple], engine: str = "local", address: str | None = None,
              workers: int = 2, progress: Callable[[int, int], Any] | None = None) -> list:
    """``[function(*task) for task in tasks]``, on the chosen engine, in task order."""
    if engine == "local":
        results = []
        for index, task in enumerate(tasks):
            results.append(function(*task))
            _report(index + 1, len(tasks), progress, "local")
        return results
    if engine == "dask":
        if not dask_available():
            raise ImportError(f"engine 'dask' needs dask[distributed], which is not installed: {DASK_INSTALL}")
        from ketastats.engines.dask_engine import map_tasks_dask

        return map_tasks_dask(function, tasks, address=address, workers=workers,
                              report=lambda done, total: _report(done, total, progress, "dask"))
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _report(done: int, total: int, progress, engine: str) -> None:
    LOGGER.info("%s engine: %d of %d tasks done", engine, done, total)
    if progress is not None:
        progress(done, total)
