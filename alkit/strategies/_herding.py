"""The fast machinery both herding strategies share (MaxHerding, Uncertainty Herding).

The Gaussian kernel is kept as sparse rows: each point's k nearest neighbours with their kernel
values (:class:`NeighbourRows`, O(N·k) memory, cached in ``Pool.cache``); the coverage of every
point is kept exactly, each candidate's gain is summed over its own row, and the greedy
re-evaluates gains lazily (a pick only lowers gains). :mod:`alkit.strategies.maxherding` holds
the plain dense version the fast one is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._devices import resolve_device
from .._kernels.norms import l2_normalize, row_norms
from ..cluster import knn
from ..pool import UNIT_NORM_TOL
from ..validation import check_choice, check_float, check_int
from .probcover.graph import INDEXES
from .probcover.knn import knn_lists

__all__ = [
    "NeighbourRows",
    "neighbour_rows",
    "cached_rows",
    "labeled_coverage",
    "herding_greedy",
    "check_herding_params",
]

CACHE_KEY = "herding_rows"
GAIN_BLOCK_ROWS = 16384  # rows of the (rows, k + 1) gain temporaries at a time
LAZY_BATCH = 64  # first batch of stale gains re-evaluated per step (doubles while needed)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """``x`` L2-normalised as :attr:`alkit.pool.Pool.x_l2` does it (no copy of unit rows)."""
    norms = row_norms(x)
    if len(x) and bool(np.all(np.abs(norms - 1.0) <= UNIT_NORM_TOL)):
        return np.ascontiguousarray(x, dtype=np.float32)
    return l2_normalize(x, norms=norms)


def _sim_to_kernel(sims: np.ndarray, sigma: float) -> np.ndarray:
    """Kernel values from cosine similarities of unit rows (−inf similarity → 0)."""
    out = np.subtract(2.0, 2.0 * np.asarray(sims, dtype=np.float32))
    np.maximum(out, 0.0, out=out)
    out *= np.float32(-1.0 / float(sigma) ** 2)
    return np.exp(out, out=out)


@dataclass
class NeighbourRows:
    """Each point's nearest points by cosine similarity, the point itself in column 0.

    Attributes
    ----------
    sims : ndarray of shape (n, m), float32
        Cosine similarities, descending after column 0 (which is exactly 1, the point itself);
        ``-inf`` pads lists an approximate index left short (kernel value 0).
    idx : ndarray of shape (n, m), int32 (int64 beyond 2³¹ points)
        The neighbours' rows (the row itself where padded).
    index : str
        ``"exact"``, ``"hnsw"`` or ``"ivf"``.
    """

    sims: np.ndarray
    idx: np.ndarray
    index: str

    @property
    def n(self) -> int:
        return int(self.sims.shape[0])

    @property
    def width(self) -> int:
        """m = k + 1 (the point itself and its k neighbours)."""
        return int(self.sims.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.sims.nbytes + self.idx.nbytes)

    def first(self, width: int) -> NeighbourRows:
        """The first ``width`` columns (the lists of a smaller k)."""
        if width >= self.width:
            return self
        return NeighbourRows(
            np.ascontiguousarray(self.sims[:, :width]),
            np.ascontiguousarray(self.idx[:, :width]),
            self.index,
        )

    def kernel(self, sigma: float) -> np.ndarray:
        """Kernel values k(x_i, x_idx[i, t]) of shape (n, m), float32."""
        return _sim_to_kernel(self.sims, sigma)


def _self_first(
    sims: np.ndarray, idx: np.ndarray, k: int, block_rows: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Each row itself in column 0 (similarity exactly 1), then its first ``k`` other valid
    neighbours in the given (descending-similarity) order; missing ones are padded with the row
    and similarity −inf. Row blocks, so the temporaries stay small at large n.

    Returns
    -------
    sims : ndarray of shape (n, k + 1), float32
    idx : ndarray of shape (n, k + 1), int64
    """
    n = len(idx)
    out_sim = np.full((n, k + 1), -np.inf, dtype=np.float32)
    out_idx = np.empty((n, k + 1), dtype=np.int64)
    out_sim[:, 0] = 1.0
    for s in range(0, n, block_rows):
        e = min(n, s + block_rows)
        rows = np.arange(s, e)[:, None]
        ib = idx[s:e]
        valid = (ib >= 0) & (ib != rows)
        # stable: the valid neighbours first, in their order
        order = np.argsort(~valid, axis=1, kind="stable")[:, :k]
        ok = np.take_along_axis(valid, order, axis=1)
        width = order.shape[1]
        out_idx[s:e, 0] = rows[:, 0]
        out_idx[s:e, 1 : width + 1] = np.where(ok, np.take_along_axis(ib, order, axis=1), rows)
        out_idx[s:e, width + 1 :] = rows  # the index returned fewer columns than asked
        out_sim[s:e, 1 : width + 1] = np.where(
            ok, np.take_along_axis(sims[s:e], order, axis=1), -np.inf
        )
    return out_sim, out_idx


def neighbour_rows(
    x_l2: np.ndarray, k: int, index: str = "exact", *, seed: int = 0, device: str = "auto"
) -> NeighbourRows:
    """The ``k`` nearest points of every row (cosine similarity), the row itself first.

    Parameters
    ----------
    x_l2 : ndarray of shape (n, d)
        L2-normalised features.
    k : int
        Neighbours besides the point itself (clipped to n − 1; k = n − 1 keeps every point,
        which makes the truncated gains exact).
    index : {"exact", "hnsw", "ivf"}
        ``"exact"``: :func:`alkit.cluster.knn` (faiss ``IndexFlatIP`` on the CPU, matrix
        products and ``topk`` on CUDA), O(N² d) time; ``"hnsw"`` / ``"ivf"``: the approximate
        indexes of :func:`alkit.strategies.probcover.knn.knn_lists`.
    seed : int
        Seed of the IVF coarse quantiser.
    device : str

    Returns
    -------
    NeighbourRows
        Arrays of shape (n, min(k, n − 1) + 1).
    """
    n = len(x_l2)
    kk = int(min(k, n - 1))
    if kk <= 0:
        return NeighbourRows(
            np.ones((n, 1), np.float32), np.arange(n, dtype=np.int32)[:, None], index
        )
    if index == "exact":
        sims, idx = knn(x_l2, kk, exclude_self=True, device=device)
    else:
        d2, idx = knn_lists(x_l2, kk + 1, index, seed=seed, device=device)
        sims = np.where(np.isfinite(d2), 1.0 - 0.5 * d2, -np.inf).astype(np.float32)
    sims, idx = _self_first(sims, idx, kk)
    idx_dtype = np.int32 if n < 2**31 else np.int64
    return NeighbourRows(sims, idx.astype(idx_dtype), index)


def cached_rows(
    cache: dict | None,
    x_l2: np.ndarray,
    k: int,
    index: str,
    rng: np.random.Generator,
    device: str = "auto",
) -> tuple[NeighbourRows, bool]:
    """:func:`neighbour_rows` from ``cache[CACHE_KEY]`` when it fits (same index, same pool, at
    least as many neighbours: a longer exact list's first columns are the shorter list), else
    built and stored there. Returns ``(rows, reused)``."""
    width = int(min(k, len(x_l2) - 1)) + 1
    entry = None if cache is None else cache.get(CACHE_KEY)
    if (
        isinstance(entry, NeighbourRows)
        and entry.index == index
        and entry.n == len(x_l2)
        and entry.width >= width
    ):
        return entry.first(width), True
    seed = int(rng.integers(2**31 - 1)) if index == "ivf" else 0
    rows = neighbour_rows(x_l2, k, index, seed=seed, device=device)
    if cache is not None:
        cache[CACHE_KEY] = rows
    return rows, False


def labeled_coverage(
    x_l2: np.ndarray, labeled_idx: np.ndarray, sigma: float, device: str = "auto"
) -> np.ndarray:
    """c_j = max_{l ∈ L} k(x_j, x_l) for every point, exactly (one nearest-labeled search).

    Returns
    -------
    ndarray of shape (n,), float64
        0 everywhere when L is empty; exactly 1 on the labeled points.
    """
    n = len(x_l2)
    labeled_idx = np.asarray(labeled_idx, dtype=np.int64)
    if len(labeled_idx) == 0:
        return np.zeros(n)
    sims, _ = knn(x_l2[labeled_idx], 1, query=x_l2, exclude_self=False, device=device)
    c = _sim_to_kernel(sims[:, 0], sigma).astype(np.float64)
    c[labeled_idx] = 1.0
    return c


def _row_gains(
    rows: np.ndarray,
    kvals: np.ndarray,
    idx: np.ndarray,
    coverage: np.ndarray,
    weights: np.ndarray | None,
) -> np.ndarray:
    """gain(i) = Σ_t w[idx[i, t]] · max(0, kvals[i, t] − c[idx[i, t]]) for ``rows``, shape (len(rows),)."""
    out = np.empty(len(rows))
    for s in range(0, len(rows), GAIN_BLOCK_ROWS):
        r = rows[s : s + GAIN_BLOCK_ROWS]
        nb = idx[r]
        diff = kvals[r] - coverage[nb]  # float64
        np.maximum(diff, 0.0, out=diff)
        if weights is not None:
            diff *= weights[nb]
        out[s : s + len(r)] = diff.sum(axis=1)
    return out


def herding_greedy(
    x_l2: np.ndarray,
    rows: NeighbourRows,
    budget: int,
    *,
    sigma: float,
    coverage: np.ndarray,
    candidates: np.ndarray,
    weights: np.ndarray | None = None,
    device: str = "auto",
) -> tuple[np.ndarray, dict[str, Any]]:
    """The (weighted) herding greedy on truncated kernel rows with exact coverage, lazily.

    Each step picks the candidate with the largest gain(i) = Σ_{j ∈ list(i)} w_j max(0,
    k(x_i, x_j) − c_j) (ties: lowest index), then sets c_j ← max(c_j, k(x_pick, x_j)) for *every*
    point j (one matrix-vector product). Gains only fall as c grows, so stale gains are upper
    bounds: while the largest bound belongs to a stale candidate, the stale candidates with the
    largest bounds are re-evaluated (a batch of :data:`LAZY_BATCH`, doubling), and the first
    candidate whose bound is both fresh and largest is the exact argmax.

    Parameters
    ----------
    x_l2 : ndarray of shape (n, d)
        L2-normalised features.
    rows : NeighbourRows
        Lists of shape (n, m).
    budget : int
    sigma : float
    coverage : ndarray of shape (n,)
        Initial coverage c (from :func:`labeled_coverage`).
    candidates : ndarray of shape (n,), bool
        Points that may be picked (the unlabeled ones).
    weights : ndarray of shape (n,), optional
        Target weights w (None: all 1).
    device : str
        Device of the coverage updates.

    Returns
    -------
    picks : ndarray of shape (budget,), int64
    stats : dict
        ``n_gain_evaluations`` (row gains computed, initial ones included), ``coverage`` (the
        final c, shape (n,)).
    """
    n = len(x_l2)
    c = np.array(coverage, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    kvals = rows.kernel(sigma)
    idx = rows.idx
    cand = np.flatnonzero(candidates)
    bound = np.full(n, -np.inf)
    bound[cand] = _row_gains(cand, kvals, idx, c, w)
    fresh = np.zeros(n, dtype=bool)
    fresh[cand] = True
    n_eval = len(cand)
    dev = resolve_device(device)
    xt = torch.from_numpy(np.ascontiguousarray(x_l2, dtype=np.float32)).to(dev)
    inv_s2 = 1.0 / float(sigma) ** 2
    picks = np.empty(budget, dtype=np.int64)
    for t in range(budget):
        batch = LAZY_BATCH
        while True:
            i = int(np.argmax(bound))
            if fresh[i]:
                break
            stale = np.flatnonzero(~fresh & (bound > -np.inf))
            if len(stale) > batch:
                stale = stale[np.argpartition(-bound[stale], batch - 1)[:batch]]
            bound[stale] = _row_gains(stale, kvals, idx, c, w)
            fresh[stale] = True
            n_eval += len(stale)
            batch *= 2
        picks[t] = i
        bound[i] = -np.inf
        with torch.inference_mode():
            sim = torch.mv(xt, xt[i]).cpu().numpy().astype(np.float64)
        k_i = np.exp(-np.maximum(2.0 - 2.0 * sim, 0.0) * inv_s2)
        k_i[i] = 1.0
        np.maximum(c, k_i, out=c)
        fresh[:] = False
    return picks, {"n_gain_evaluations": int(n_eval), "coverage": c}


def check_herding_params(sigma: Any, k: Any, index: Any, who: str) -> tuple[float, int, str]:
    """σ > 0, k ≥ 1, index one of :data:`alkit.strategies.probcover.graph.INDEXES`, with the strategy's name."""
    return (
        check_float(sigma, f"{who}: sigma", min=0.0, min_open=True),
        check_int(k, f"{who}: k (neighbours per point)", min=1),
        check_choice(index, f"{who}: index", INDEXES),
    )


def _herding_info(
    rows: NeighbourRows,
    reused: bool,
    sigma: float,
    coverage_before: np.ndarray,
    stats: dict[str, Any],
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    c = stats["coverage"]
    info: dict[str, Any] = {
        "sigma": float(sigma),
        "k": rows.width - 1,
        "index": rows.index,
        "knn_reused": bool(reused),
        "knn_bytes": rows.nbytes,
        "coverage_before": float(coverage_before.mean()),
        "coverage": float(c.mean()),
        "n_gain_evaluations": stats["n_gain_evaluations"],
    }
    if weights is not None:
        info["weighted_coverage_before"] = float((weights * coverage_before).mean())
        info["weighted_coverage"] = float((weights * c).mean())
    return info
