"""Cells on a Dask cluster: a LocalCluster (no HTTP server) or an existing scheduler, one task
per cell, results handed back to the caller as they finish, and a watch that stops a sweep whose
cluster has had no worker for too long (Dask itself would wait forever)."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import MissingResourceError, NoWorkersError
from .cells import Cell
from .execute import _THREAD_ENV, _execute
from .outputs import _failure_record


def _n_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


def _dask_available() -> bool:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _open_client(scheduler: Any, n_workers: int | None):
    """(client, cluster_or_None, owned): a LocalCluster, an address, or a given Client."""
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, None, False
    if scheduler in (None, "local"):
        # dashboard_address=None only leaves the bokeh dashboard out: the scheduler still serves
        # HTTP on port 8787 (dask/distributed#7207). So bind it to a free local port, with no
        # routes, and stop it once the cluster is up.
        with dask.config.set({"distributed.scheduler.http.routes": []}):
            cluster = LocalCluster(
                n_workers=n_workers or _n_cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
                env=dict(_THREAD_ENV),
            )
        try:
            cluster.sync(_stop_http_server, cluster.scheduler)
        except BaseException:
            cluster.close()
            raise
        cluster.scheduler_info.get("services", {}).pop("dashboard", None)
        return Client(cluster), cluster, True
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise MissingResourceError(
            f"Cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`, or use "
            "--scheduler local."
        ) from exc
    return client, None, True


async def _stop_http_server(scheduler) -> None:
    """Stop the scheduler's HTTP server (on its event loop, as tornado requires)."""
    server = scheduler.services.pop("dashboard", None)
    if server is not None:
        server.stop()


def _n_live_workers(client) -> int:
    """Workers the scheduler counts as running (``ncores_running``: closing ones excluded)."""
    return len(client.nthreads())


def _run_dask(
    todo: list[Cell],
    scheduler: Any,
    n_workers: int | None,
    record,
    worker_timeout: float | None,
    out: Path,
) -> None:
    from dask.distributed import as_completed

    client, cluster, owned = _open_client(scheduler, n_workers)
    futures = {}
    try:
        for cell in todo:
            fut = client.submit(
                _execute, cell, key=f"alkit-cell-{cell.hash}", pure=False, retries=0
            )
            futures[fut.key] = (fut, cell)
        pending = as_completed([f for f, _ in futures.values()])
        watch = _WorkerWatch(client, worker_timeout)
        n_done = 0

        def check_workers() -> None:
            # Dask waits for workers forever: a cluster whose workers all died would hang the
            # sweep without a word
            if watch.expired():
                raise NoWorkersError(
                    f"The Dask cluster ({_describe_scheduler(scheduler, client)}) has had no "
                    f"worker for {worker_timeout:g} s while {len(todo) - n_done} cell(s) were "
                    f"left; {n_done} cell(s) finished in this run are saved in {out}. Start "
                    "workers (`dask worker ADDRESS --nthreads 1`) or find what stopped them "
                    "(memory? a crash in a cell?), then rerun the same command: finished cells "
                    "are kept. Wait longer with --worker-timeout."
                )

        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            if not batch:
                check_workers()
                time.sleep(0.05)
                continue
            for fut in batch:
                cell = futures[fut.key][1]
                try:
                    status, payload, diag = _fetch(fut, check_workers)
                except NoWorkersError:
                    raise
                except Exception as exc:  # the worker died (KilledWorker), or the cell was not sent
                    status, payload, diag = (
                        "failed",
                        _failure_record(cell, exc, traceback.format_exc()),
                        None,
                    )
                record(cell, status, payload, diag)
                n_done += 1
                fut.release()
    finally:
        for fut, _ in futures.values():
            if not fut.done():
                fut.cancel()
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()


def _fetch(fut, check_workers, poll: float = 1.0):
    """``fut.result()``, checking for workers meanwhile: a finished cell whose worker died
    before its result was fetched is recomputed, which needs a worker."""
    while True:
        try:
            return fut.result(timeout=poll)
        except TimeoutError:
            check_workers()


class _WorkerWatch:
    """How long the scheduler has had no live worker; asks it at most once a second."""

    def __init__(self, client, timeout: float | None, interval: float = 1.0) -> None:
        self.client = client
        self.timeout = timeout
        self.interval = min(interval, timeout / 4) if timeout else interval
        self.last_check = -float("inf")
        self.alone_since: float | None = None

    def expired(self) -> bool:
        if self.timeout is None:
            return False
        now = time.monotonic()
        if now - self.last_check >= self.interval:
            self.last_check = now
            if _n_live_workers(self.client) > 0:
                self.alone_since = None
            elif self.alone_since is None:
                self.alone_since = now
        return self.alone_since is not None and now - self.alone_since > self.timeout


def _describe_scheduler(scheduler: Any, client) -> str:
    if scheduler in (None, "local"):
        return "LocalCluster"
    return str(getattr(client, "scheduler", None) and client.scheduler.address or scheduler)
