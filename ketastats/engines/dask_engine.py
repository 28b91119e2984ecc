"""The Dask path of :func:`ketastats.engines.map_tasks` (needs ``dask[distributed]``).

A client is opened on the scheduler at ``address`` or, without one, on a local in-process
cluster (``LocalCluster(processes=False, n_workers=1, threads_per_worker=workers)``, no
dashboard), and closed again afterwards (a cluster it started is shut down). Tasks are
streamed: at most ``2 x threads`` are submitted at a time and a new one goes out whenever one
finishes; each result is stored under its task index and the list is returned in task order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def _client(address: str | None, workers: int):
    from distributed import Client, LocalCluster

    if address:
        return Client(address), None
    cluster = LocalCluster(processes=False, n_workers=1, threads_per_worker=max(1, int(workers)),
                           dashboard_address=None)
    return Client(cluster), cluster


def map_tasks_dask(function: Callable, tasks: Sequence[tuple], address: str | None = None, workers: int = 2,
                   report: Callable[[int, int], None] | None = None) -> list:
    from distributed import as_completed

    total = len(tasks)
    if total == 0:
        return []
    client, cluster = _client(address, workers)
    try:
        threads = max(1, sum(client.nthreads().values()))
        window = 2 * threads
        results: list = [None] * total
        index_of = {}
        pending = iter(enumerate(tasks))
        stream = as_completed()
        for index, task in _take(pending, window):
            future = client.submit(function, *task, pure=False)
            index_of[future.key] = index
            stream.add(future)
        done = 0
        for future in stream:
            results[index_of.pop(future.key)] = future.result()
            future.release()
            done += 1
            if report is not None:
                report(done, total)
            for index, task in _take(pending, 1):
                nxt = client.submit(function, *task, pure=False)
                index_of[nxt.key] = index
                stream.add(nxt)
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _take(iterator, count: int) -> list:
    out = []
    for _ in range(count):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out
