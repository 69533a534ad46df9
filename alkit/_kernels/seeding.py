"""k-means++ seeding on large pools: D² sampling by rejection from distances refreshed in batches.

The plain seeding (:func:`alkit.cluster.kmeans_pp_seeds` on small pools) updates every row's
distance to its nearest seed after each seed: k − 1 sequential passes over the pool, each a
memory-bound matrix-vector product. Here the distances are refreshed only every ``batch`` seeds,
by one matrix product of the pool with the seeds added since (compute-bound, ``batch`` times
fewer passes), and the seeds in between are drawn exactly from the current D² distribution by
rejection:

* a row ``j`` is proposed with probability ``m_j / Σ m`` from the last refreshed minima
  ``m_j`` (inverse-CDF draw, one uniform);
* its current squared distance ``D²_j = min(m_j, D²(j, p) for the seeds p added since)`` is
  computed exactly (one small product), and the proposal is accepted with probability
  ``D²_j / m_j`` (a second uniform).

Since ``D²_j ≤ m_j``, an accepted row is distributed as ``D²_j / Σ D²``: the k-means++
distribution exactly (Arthur & Vassilvitskii 2007), not an approximation of it. The draws, and
so the seeds, differ from those of the sequential inverse-CDF sampler for the same generator
(documented in ``docs/deviations.md``). After :data:`MAX_REJECTIONS` rejections in a row the
distances are refreshed at once, so the acceptance rate never stays low.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["LAZY_MIN_ROWS", "BATCH", "MAX_REJECTIONS", "kmeanspp_batched"]

#: Pools of at least this many rows use the batched sampler (below, the sequential one).
LAZY_MIN_ROWS = 8192
#: Seeds between two refreshes of the distances (the columns of one matrix product): 128 makes
#: the refresh compute-bound (32 read the pool once per 32 seeds: 42 s against 28 s for 1 000 seeds
#: of 1.28M × 1536 rows), at a lower acceptance rate of the proposals in between.
BATCH = 128
#: Rejections in a row after which the distances are refreshed before the next proposal.
MAX_REJECTIONS = 8
#: Distances per block of a refresh (64 MiB of float32).
BLOCK_ELEMENTS = 1 << 24


def _sq_dists(
    xt: torch.Tensor, x_sq: torch.Tensor, rows: slice, c: torch.Tensor, c_sq
) -> torch.Tensor:
    """``‖x_r‖² − 2 x_r·c + ‖c‖²`` clamped at 0, shape (rows, len(c)), float32."""
    d2 = torch.mm(xt[rows], c.T).mul_(-2.0)
    return d2.add_(x_sq[rows, None]).add_(c_sq[None, :]).clamp_min_(0)


def kmeanspp_batched(
    xt: torch.Tensor,
    k: int,
    rng: np.random.Generator,
    batch: int = BATCH,
    x_sq: torch.Tensor | None = None,
) -> np.ndarray:
    """k-means++ seeds of the rows of ``xt`` (see the module docstring).

    Parameters
    ----------
    xt : Tensor of shape (n, d), float32
    k : int
        Number of seeds, at least 1.
    rng : numpy Generator
        The first seed, then two uniforms per proposal (one more integer draw per seed once
        every remaining row has distance 0 to the seeds: a uniform pick among unchosen rows).
    batch : int
        Seeds between two refreshes.
    x_sq : Tensor of shape (n,), optional
        ``(xt * xt).sum(1)`` when already computed.

    Returns
    -------
    ndarray of shape (k,), int64
        Seed indices in pick order, all distinct (as long as k ≤ n).
    """
    n, d = xt.shape
    dev = xt.device
    if x_sq is None:  # ‖x‖ then its square: several times faster than a sum of squares
        x_sq = torch.linalg.vector_norm(xt, dim=1).square_()
    # the seeds added since the last refresh, kept as rows (each proposal's exact distances)
    p_rows = torch.empty((batch, d), dtype=xt.dtype, device=dev)
    p_sq = torch.empty(batch, dtype=x_sq.dtype, device=dev)
    seeds = np.empty(k, dtype=np.int64)
    chosen = np.zeros(n, dtype=bool)
    seeds[0] = rng.integers(n)
    chosen[seeds[0]] = True
    m = torch.empty(n, dtype=torch.float32, device=dev)  # refreshed minima
    w = np.empty(n, dtype=np.float64)
    cdf = np.empty(n, dtype=np.float64)
    rows_per_block = max(1, BLOCK_ELEMENTS // max(1, batch))
    pending: list[int] = []

    def add_pending(i: int) -> None:
        p_rows[len(pending)] = xt[i]
        p_sq[len(pending)] = x_sq[i]
        pending.append(i)

    if dev.type == "cpu":  # numpy views: one small product per proposal, no thread pool
        x_np, x_sq_np, p_np, p_sq_np = xt.numpy(), x_sq.numpy(), p_rows.numpy(), p_sq.numpy()

        def nearest_pending_sq(j: int) -> float:
            p = len(pending)
            d2 = x_sq_np[j] - 2.0 * (p_np[:p] @ x_np[j]) + p_sq_np[:p]
            return max(float(d2.min()), 0.0)
    else:

        def nearest_pending_sq(j: int) -> float:
            c, c_sq = p_rows[: len(pending)], p_sq[: len(pending)]
            return float(_sq_dists(xt, x_sq, slice(j, j + 1), c, c_sq).min())

    add_pending(int(seeds[0]))
    first = True
    total = 0.0

    def refresh() -> float:
        nonlocal first
        c, c_sq = p_rows[: len(pending)], p_sq[: len(pending)]
        for s in range(0, n, rows_per_block):
            rows = slice(s, min(n, s + rows_per_block))
            d2 = _sq_dists(xt, x_sq, rows, c, c_sq).amin(1)
            if first:
                m[rows] = d2
            else:
                torch.minimum(m[rows], d2, out=m[rows])
        first = False
        m[torch.from_numpy(np.flatnonzero(chosen)).to(dev)] = 0.0
        pending.clear()
        w[:] = m.cpu().numpy()
        return float(np.cumsum(w, out=cdf)[-1])

    total = refresh()
    for i in range(1, k):
        if total <= 0:  # every row coincides with a seed: uniform among the unchosen rows
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        else:
            rejections = 0
            while True:
                u = rng.random() * total
                idx = min(int(np.searchsorted(cdf, u, side="right")), n - 1)
                while w[idx] == 0:  # the float edge at the end of the cdf
                    idx -= 1
                if chosen[idx]:  # a seed added since the refresh: its distance is 0
                    current = 0.0
                elif pending:
                    current = min(float(w[idx]), nearest_pending_sq(idx))
                else:
                    current = float(w[idx])
                if rng.random() * w[idx] < current:
                    break
                rejections += 1
                if rejections >= MAX_REJECTIONS and pending:
                    total = refresh()
                    rejections = 0
                    if total <= 0:
                        break
            if total <= 0:
                idx = int(rng.choice(np.flatnonzero(~chosen)))
        seeds[i] = idx
        chosen[idx] = True
        add_pending(idx)
        if len(pending) >= batch and i < k - 1:
            total = refresh()
    return seeds
