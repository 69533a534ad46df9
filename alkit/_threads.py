"""Thread counts for the notebooks and the demo: one thread for small problems.

The quick lessons train a linear probe on ~10³ points of ≤ 10² features hundreds of times. Each
torch/OpenMP operation on so little data is over before a second thread helps, and on a busy
machine the idle threads spin on contended cores: notebook 00 measured 92 s with torch's default
2 threads against 2.8 s with 1 (2 shared cores, load ≈ 5). Large embedding sets (CIFAR-100 ×
ViT-g: 5·10⁴ × 1536) do gain from more threads, so the choice depends on the data's size.
"""

from __future__ import annotations

import os

__all__ = ["set_threads", "auto_threads", "SMALL"]

#: Below this many feature values (rows × features) one thread is fastest.
SMALL = 5_000_000


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def auto_threads(n_rows: int | None = None, n_features: int | None = None) -> int:
    """1 for small data (or unknown size), else every core available to this process."""
    if n_rows is None or n_features is None or int(n_rows) * int(n_features) < SMALL:
        return 1
    return _available_cores()


def set_threads(
    n: int | None = None, *, n_rows: int | None = None, n_features: int | None = None
) -> int | None:
    """Set the thread count of torch, faiss and the BLAS/OpenMP pools (threadpoolctl).

    Parameters
    ----------
    n : int, optional
        Threads to use; default :func:`auto_threads` of the data size.
    n_rows, n_features : int, optional
        Size of the embeddings the session works on.

    Returns
    -------
    int or None
        The count set; None when ``OMP_NUM_THREADS`` is set in the environment (the user's
        choice wins and nothing is changed).
    """
    if n is None and os.environ.get("OMP_NUM_THREADS"):
        return None
    n = auto_threads(n_rows, n_features) if n is None else max(1, int(n))
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        import faiss

        faiss.omp_set_num_threads(n)
    except ImportError:  # pragma: no cover - faiss is a dependency
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)  # stays in effect: not used as a context manager
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    return n
