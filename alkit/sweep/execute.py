"""One cell in one process (this one, or a Dask worker): BLAS, OpenMP and torch pinned to one
thread, the embeddings from the process's cache, :func:`alkit.run_al`, and a failure record
instead of an exception."""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import traceback
from collections.abc import Iterator
from typing import Any

from ..errors import CorruptCacheError
from ..loop import run_al
from . import embeddings as _embeddings
from .cells import Cell
from .outputs import _failure_record

# environment of every Dask worker process, so BLAS/OpenMP start with one thread (the task
# also pins torch, faiss and BLAS at run time, for workers started by someone else)
_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Pin torch, faiss (OpenMP) and BLAS to one thread, restoring the previous counts after.

    Results then do not depend on how many cores a worker has (float reductions are split
    by thread), so the serial path and every worker give identical tables."""
    import torch
    from threadpoolctl import threadpool_limits

    old_torch = torch.get_num_threads()
    try:
        import faiss

        old_faiss = faiss.omp_get_max_threads()
    except ImportError:  # pragma: no cover - faiss is a dependency
        faiss, old_faiss = None, None
    torch.set_num_threads(1)
    if faiss is not None:
        faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(old_torch)
        if faiss is not None:
            faiss.omp_set_num_threads(old_faiss)


def _execute(cell: Cell) -> tuple[str, Any, dict]:
    """Run one cell (in this process or on a Dask worker).

    Returns ``("ok", DataFrame, diag)`` or ``("failed", failure record, diag)``; never raises
    for an error of the cell itself."""
    for key, val in _THREAD_ENV.items():
        os.environ.setdefault(key, val)
    diag = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        for mod in cell.imports:
            importlib.import_module(mod)
        with _single_thread():
            emb = _embeddings._cached_embeddings(cell.embedding)
            if cell.embedding_checksum is not None and emb.checksum != cell.embedding_checksum:
                raise CorruptCacheError(
                    f"The embeddings {cell.embedding!r} seen by this worker have checksum {emb.checksum[:12]}…, "
                    f"not the planned {cell.embedding_checksum[:12]}…: they changed during the sweep or the "
                    "worker reads another cache (set ALKIT_HOME on the workers); rerun the sweep."
                )
            run = run_al(emb, **cell.run_kwargs())
            df = run.to_frame()
        diag["loads"] = _embeddings._EMB_LOADS
        return "ok", df, diag
    except Exception as exc:
        diag["loads"] = _embeddings._EMB_LOADS
        return "failed", _failure_record(cell, exc, traceback.format_exc(), diag), diag
