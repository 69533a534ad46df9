"""Running a grid: every cell without a valid result in the output directory, serially or on
Dask, each result written as soon as it arrives and each failure recorded, the others going on
(``docs/sweeps.md``, "Cells, result files, resuming" and "Where cells run")."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import write_json_atomic
from ..results import RESULT_COLUMNS
from ..validation import check_float
from .cells import Cell, _expand
from .distributed import _dask_available, _run_dask
from .execute import _execute
from .grid import load_grid
from .outputs import (
    FAILURES_DIR,
    _failure_summary,
    _read_result,
    _write_failure,
    _write_result,
)

#: Seconds a Dask sweep waits with no live worker before it stops (``worker_timeout``).
DEFAULT_WORKER_TIMEOUT = 120.0


class SweepFailedError(RuntimeError):
    """Raised by :func:`sweep` with ``raise_on_failure=True`` when some cells failed."""

    def __init__(self, message: str, failures: list[dict]) -> None:
        super().__init__(message)
        self.failures = failures


def sweep(
    spec: str | os.PathLike | Mapping,
    out_dir: str | os.PathLike,
    scheduler: Any = None,
    force: bool = False,
    progress: bool = True,
    n_workers: int | None = None,
    device: str | None = None,
    raise_on_failure: bool = False,
    worker_timeout: float | None = DEFAULT_WORKER_TIMEOUT,
) -> pd.DataFrame:
    """Run every cell of a grid that has no valid result in ``out_dir`` yet.

    Parameters
    ----------
    spec : dict, path or str
        A grid (see :func:`load_grid`); validated, and its embeddings located, before anything runs.
    out_dir : path
        One ``<hash>.parquet`` per cell; failures in ``out_dir/failures/<hash>.json``.
    scheduler : None, "serial", "local", address or ``dask.distributed.Client``
        ``None``: a Dask ``LocalCluster`` (processes, one thread each, ``n_workers`` = cores)
        when dask is installed, else serial. ``"serial"``: this process. ``"local"``: a
        LocalCluster. ``"tcp://host:8786"``: an existing scheduler (its workers must import
        alkit and see the embeddings cache; results come back to this process, which writes them).
    force : bool
        Rerun cells that already have a result.
    progress : bool
        Show a progress bar over cells (with ETA).
    n_workers : int, optional
        LocalCluster size (default: the cores available).
    device : str, optional
        Overrides the grid's ``device`` (not part of the cell hash).
    raise_on_failure : bool
        Raise :class:`SweepFailedError` after the sweep when cells failed.
    worker_timeout : float or None
        Dask only: seconds the cluster may have no live worker while cells remain before the
        sweep stops with :class:`~alkit.errors.NoWorkersError` (finished cells stay on disk; a
        rerun goes on from them). Dask itself would wait forever, e.g. after the only worker
        died. ``None`` waits forever.

    Returns
    -------
    DataFrame
        The tidy table (``alkit.results.RESULT_COLUMNS``) of every finished cell of this grid.
        ``attrs["failures"]`` lists the failed cells (hash, cell, error_type, message, path),
        ``attrs["sweep"]`` the counts (cells, done, ran, skipped, failed) and ``workers``
        (``"host:pid"`` → embedding sets that process loaded: one per setting it served).

    Raises
    ------
    GridError, MissingResourceError
        Before anything runs: a malformed grid (names, parameters, ``exclude`` rules that match
        nothing, more labels than a pool holds, …) or embeddings that are not cached.
    NoWorkersError
        No Dask worker for ``worker_timeout`` seconds.
    """
    if worker_timeout is not None:
        worker_timeout = check_float(
            worker_timeout,
            "worker_timeout",
            min=0,
            min_open=True,
            hint="Pass seconds, or None to wait for workers forever.",
        )
    grid = load_grid(spec)
    cells = _expand(grid, resolve=True)
    if device is not None:
        for c in cells:
            c.device = device
    out = Path(out_dir)
    todo, results = [], {}
    for cell in cells:
        path = out / f"{cell.hash}.parquet"
        df = None if force or not path.exists() else _read_result(path, cell)
        if df is None:
            todo.append(cell)
        else:
            results[cell.hash] = df
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        out / f".grid-{grid['name']}.json",
        {
            "grid": grid,
            "n_cells": len(cells),
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        },
    )

    failures: list[dict] = []
    workers: dict[str, int] = {}  # "host:pid" -> embedding sets that process has loaded
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(cells),
            initial=len(cells) - len(todo),
            unit="cell",
            desc=f"sweep {grid['name']}",
            dynamic_ncols=True,
        )

    def record(cell: Cell, status: str, payload: Any, diag: dict | None) -> None:
        if diag:
            workers[f"{diag['host']}:{diag['pid']}"] = int(diag.get("loads", 0))
        if status == "ok":
            _write_result(out, cell, payload)
            results[cell.hash] = payload
        else:
            payload["path"] = str(out / FAILURES_DIR / f"{cell.hash}.json")
            _write_failure(out, payload)
            failures.append(payload)
        if bar is not None:
            bar.update(1)
            if failures:
                bar.set_postfix(failed=len(failures))

    try:
        if todo:
            if scheduler == "serial" or (scheduler is None and not _dask_available()):
                for cell in todo:
                    record(cell, *_execute(cell))
            else:
                _run_dask(todo, scheduler, n_workers, record, worker_timeout, out)
    finally:
        if bar is not None:
            bar.close()

    frames = [results[c.hash] for c in cells if c.hash in results]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    table.attrs = {
        "failures": [
            {k: f[k] for k in ("hash", "cell", "error_type", "message", "path")} for f in failures
        ],
        "sweep": {
            "cells": len(cells),
            "done": len(results),
            "ran": len(todo) - len(failures),
            "skipped": len(cells) - len(todo),
            "failed": len(failures),
            "out_dir": str(out),
            "workers": workers,
        },
    }
    if failures and raise_on_failure:
        raise SweepFailedError(_failure_summary(failures, out), failures)
    return table
