"""Shared clustering: k-means++ seeding, k-means, nearest-to-centroid picks, kNN.

One code path for every strategy that clusters (centroid init, ``cluster=True``,
DropQuery, ALFA-Mix, TypiClust): faiss on CPU, torch on CUDA, chosen by ``device``.
"""

from __future__ import annotations

import numpy as np
import torch

from ._devices import resolve_device
from ._kernels import lloyd as _lloyd
from ._kernels import screen as _screen
from ._kernels import seeding as _seeding
from ._kernels.norms import l2_normalize, l2_normalize_, row_sq_norms
from ._kernels.rows import take_rows

__all__ = [
    "kmeans_nearest",
    "kmeans_pp_seeds",
    "kmeans",
    "knn",
    "n_distinct_at_least",
    "sq_dists_to",
]

N_ITER = 100
MAX_POINTS_PER_CENTROID = 512
#: Distances per row block of :func:`assign` (64 MiB of float32).
ASSIGN_BLOCK_ELEMENTS = 1 << 24
#: CPU k-means (and assignments) of at least this many n·k·d multiply-adds per round run alkit's
#: Lloyd (:mod:`alkit._kernels.lloyd`: exact assignments, pruned by bounds and screened in
#: bfloat16) instead of faiss; smaller ones run faiss, as the reference.
LLOYD_MIN_WORK = 1e9
#: Take the final assignment from a converged alkit Lloyd instead of a last pass (same labels).
REUSE_LLOYD_LABELS = True


def _faiss():
    import faiss

    return faiss


def sq_dists_to(x: np.ndarray, c: np.ndarray, x_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances of shape (n,) from every row of ``x`` to the point ``c``."""
    if x_sq is None:
        x_sq = np.einsum("ij,ij->i", x, x)
    d = x_sq - 2.0 * (x @ c) + float(c @ c)
    return np.maximum(d, 0.0, out=d)


def kmeans_pp_seeds(
    x: np.ndarray, k: int, rng: np.random.Generator, device: str = "auto"
) -> np.ndarray:
    """k-means++ seeding: the first seed uniform, then D² sampling.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    k : int
    rng : numpy Generator

    Returns
    -------
    ndarray of shape (k,), int64
        Indices of the seeds, in pick order. Once every remaining point has distance 0
        to the chosen seeds, further seeds are drawn uniformly among unchosen points.

    Notes
    -----
    Pools of fewer than :data:`alkit._kernels.seeding.LAZY_MIN_ROWS` rows are seeded
    sequentially: after each seed every distance is updated, and the next seed is one
    inverse-CDF draw. Larger pools refresh the distances once per batch of seeds (one matrix
    product instead of a pass per seed) and draw the seeds in between by rejection
    (:mod:`alkit._kernels.seeding`): the same D² distribution, other draws.
    """
    n = len(x)
    dev = resolve_device(device)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    if k > 1 and n >= _seeding.LAZY_MIN_ROWS:
        return _seeding.kmeanspp_batched(xt, k, rng)
    x_sq = row_sq_norms(xt)
    seeds = np.empty(k, dtype=np.int64)
    seeds[0] = rng.integers(n)
    d2 = torch.clamp(x_sq - 2 * (xt @ xt[seeds[0]]) + x_sq[seeds[0]], min=0)
    d2[seeds[0]] = 0
    chosen = np.zeros(n, dtype=bool)
    chosen[seeds[0]] = True
    w = np.empty(n, dtype=np.float64)
    cdf = np.empty(n, dtype=np.float64)
    step = torch.empty_like(d2)
    for i in range(1, k):
        w[:] = d2.cpu().numpy()  # float32 → float64, into one buffer
        total = w.sum()
        if total > 0:
            # inverse-CDF draw: one uniform per seed, deterministic under rng
            idx = int(np.searchsorted(np.cumsum(w, out=cdf), rng.random() * total, side="right"))
            idx = min(idx, n - 1)
            while w[idx] == 0:  # guard against float edge at the end of the cdf
                idx -= 1
        else:
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        seeds[i] = idx
        chosen[idx] = True
        # x_sq − 2·(x·c) + ‖c‖², clamped at 0, in place
        torch.mv(xt, xt[idx], out=step).mul_(-2).add_(x_sq).add_(x_sq[idx]).clamp_min_(0)
        torch.minimum(d2, step, out=d2)
        d2[idx] = 0
    return seeds


def _large(n: int, k: int, d: int, dev: torch.device) -> bool:
    """Whether a CPU clustering of this size runs alkit's screened Lloyd (:data:`LLOYD_MIN_WORK`)."""
    return (
        dev.type == "cpu"
        and float(n) * k * d >= LLOYD_MIN_WORK
        and k > 1
        and _screen.ENABLED
        and _screen.accumulates_in_float32(torch.bfloat16)
    )


def kmeans(
    x: np.ndarray,
    init: np.ndarray,
    rng: np.random.Generator,
    n_iter: int = N_ITER,
    device: str = "auto",
    return_labels: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
    """Lloyd's k-means from given initial centroids; returns centroids of shape (k, d).

    With ``return_labels``, ``(centroids, labels)``: ``labels`` (n,) are every row's nearest
    centroid, exactly :func:`assign`'s, when the iteration already holds them (alkit's Lloyd on
    all rows, stopped at its fixed point), else None.

    When ``n > 512·k`` the centroids are trained on a random subsample of 512·k points
    (as faiss and the reference do); all points are assigned afterwards by the caller.
    On CPU, faiss (``faiss.Kmeans``, at most ``n_iter`` rounds, stopping once its objective
    no longer changes); from :data:`LLOYD_MIN_WORK` multiply-adds per round, the same
    iteration by :func:`alkit._kernels.lloyd.lloyd_pruned` (exact assignments, most of them
    settled by bounds or a bfloat16 screen; stops at the fixed point); on CUDA, :func:`lloyd`.
    """
    k, d = init.shape
    n = len(x)
    dev = resolve_device(device)
    sub = x
    if n > MAX_POINTS_PER_CENTROID * k:
        sub = take_rows(x, np.sort(rng.choice(n, MAX_POINTS_PER_CENTROID * k, replace=False)))
    if _large(len(sub), k, d, dev):
        xt = torch.from_numpy(np.ascontiguousarray(sub, dtype=np.float32))
        c0 = torch.from_numpy(np.ascontiguousarray(init, dtype=np.float32))
        # faiss draws its seed here (unused without a subsample of its own): the same stream
        rng.integers(2**31 - 1)
        centroids, stats = _lloyd.lloyd_pruned(xt, c0, n_iter, rng, screen=True)
        if not return_labels:
            return centroids.numpy()
        known = stats.get("labels") if sub is x else None
        return centroids.numpy(), None if known is None else known.numpy()
    if dev.type == "cpu":
        faiss = _faiss()
        km = faiss.Kmeans(
            d,
            k,
            niter=n_iter,
            seed=int(rng.integers(2**31 - 1)),
            verbose=False,
            min_points_per_centroid=1,
            max_points_per_centroid=MAX_POINTS_PER_CENTROID,
            spherical=False,
        )
        km.train(
            np.ascontiguousarray(sub, dtype=np.float32),
            init_centroids=np.ascontiguousarray(init, dtype=np.float32),
        )
        return (km.centroids.copy(), None) if return_labels else km.centroids.copy()
    xt = torch.from_numpy(np.ascontiguousarray(sub, dtype=np.float32)).to(dev)
    c = torch.from_numpy(np.ascontiguousarray(init, dtype=np.float32)).to(dev)
    out = lloyd(xt, c, n_iter, rng).cpu().numpy()
    return (out, None) if return_labels else out


#: Relative perturbation of a split centroid (faiss ``Clustering.cpp``: ``EPS = 1 / 1024``).
SPLIT_EPS = _lloyd.SPLIT_EPS


def split_empty_clusters(c: torch.Tensor, counts: np.ndarray, rng: np.random.Generator) -> int:
    """Give every empty cluster half of a populated one, as faiss does (in place).

    For each empty cluster, a cluster is drawn with probability proportional to its size − 1
    (faiss draws the same distribution by rejection); the empty centroid becomes a copy of it,
    and the two are pushed apart by ±``SPLIT_EPS`` relative, alternating signs over the
    dimensions, so the next assignment splits its members between them. The counts are
    updated as faiss assumes (an even split), so one large cluster can give several splits.
    (:func:`alkit._kernels.lloyd.split_empty`.)

    Parameters
    ----------
    c : Tensor of shape (k, d)
        Centroids, modified in place.
    counts : ndarray of shape (k,)
        Members per centroid after the last assignment; modified in place.
    rng : numpy Generator

    Returns
    -------
    int
        The number of clusters split.
    """
    return _lloyd.split_empty(c, counts, rng)


def lloyd(xt: torch.Tensor, c: torch.Tensor, n_iter: int, rng: np.random.Generator) -> torch.Tensor:
    """Lloyd iterations on a torch device (the CUDA path of :func:`kmeans`).

    Empty clusters are split from populated ones after each assignment
    (:func:`split_empty_clusters`), as faiss's CPU k-means does, so a run on the GPU does not
    lose a centroid where the CPU run would keep all ``k``.

    Parameters
    ----------
    xt : Tensor of shape (n, d)
    c : Tensor of shape (k, d)
        Initial centroids (updated in place and returned).
    n_iter : int
    rng : numpy Generator
        Draws the clusters to split.

    Returns
    -------
    Tensor of shape (k, d)
    """
    k = len(c)
    x_sq = (xt * xt).sum(1, keepdim=True)
    for _ in range(n_iter):
        labels = (x_sq - 2 * xt @ c.T + (c * c).sum(1)).argmin(1)
        sums = torch.zeros_like(c).index_add_(0, labels, xt)
        counts = torch.bincount(labels, minlength=k)
        nonempty = counts > 0
        c[nonempty] = sums[nonempty] / counts[nonempty, None].to(c.dtype)
        if not bool(nonempty.all()):
            split_empty_clusters(c, counts.cpu().numpy().copy(), rng)
    return c


def assign(
    x: np.ndarray, centroids: np.ndarray, device: str = "auto", chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row: (labels (n,), squared distances (n,)).

    ``‖x‖² − 2 x·c + ‖c‖²`` in float32 per row block of at most ``chunk`` rows (fewer when k is
    large: one block holds at most 2²⁴ distances), computed in place in one (rows, k) buffer.
    From :data:`LLOYD_MIN_WORK` multiply-adds on CPU, screened in bfloat16
    (:func:`alkit._kernels.lloyd.assign_screened`): the same labels.
    """
    dev = resolve_device(device)
    if _large(len(x), len(centroids), x.shape[1], dev):
        return _lloyd.assign_screened(
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(centroids, dtype=np.float32)),
        )
    c = torch.from_numpy(np.ascontiguousarray(centroids, dtype=np.float32)).to(dev)
    c_sq = (c * c).sum(1)
    labels = np.empty(len(x), dtype=np.int64)
    dist = np.empty(len(x), dtype=np.float32)
    chunk = max(1, min(int(chunk), ASSIGN_BLOCK_ELEMENTS // max(1, len(c))))
    for s in range(0, len(x), chunk):
        xb = torch.from_numpy(np.ascontiguousarray(x[s : s + chunk], dtype=np.float32)).to(dev)
        # 2·(x·c) is (2x)·c bit for bit (a power of two), without a scaled copy of the block
        d2 = torch.mm(xb, c.T).mul_(2.0)
        d2 = torch.sub(row_sq_norms(xb)[:, None], d2, out=d2).add_(c_sq)
        val, idx = d2.min(1)
        labels[s : s + len(xb)] = idx.cpu().numpy()
        dist[s : s + len(xb)] = val.clamp_min(0).cpu().numpy()
    return labels, dist


def n_distinct_at_least(x: np.ndarray, k: int) -> tuple[bool, np.ndarray | None]:
    """Whether ``x`` has at least ``k`` distinct rows; if not, the index of one row per distinct row.

    A random projection hashes the rows first (cheap); the exact ``np.unique`` only runs
    when the hash says there may be fewer than ``k`` distinct rows.
    """
    if len(x) < k:
        _, first = np.unique(x, axis=0, return_index=True)
        return False, np.sort(first)
    # float32 (no float64 copy): equal rows always hash equal; the few distinct rows that
    # collide only make the exact check below run
    direction = np.random.default_rng(12345).standard_normal(x.shape[1]).astype(np.float32)
    proj = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), 65536):
        proj[s : s + 65536] = np.asarray(x[s : s + 65536], dtype=np.float32) @ direction
    if len(np.unique(proj)) >= k:
        return True, None
    _, first = np.unique(x, axis=0, return_index=True)
    if len(first) >= k:
        return True, None
    return False, np.sort(first)


def kmeans_nearest(
    x: np.ndarray,
    k: int,
    rng: np.random.Generator,
    device: str = "auto",
    normalize: bool = True,
    n_iter: int = N_ITER,
    overwrite: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The shared clustering step (docs/strategies_uncertainty_diversity.md): one representative per k-means cluster.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Points to cluster (L2-normalised here unless ``normalize=False``).
    k : int
        Number of clusters.
    rng : numpy Generator
    overwrite : bool
        Normalise a C-contiguous float32 ``x`` in place instead of in a copy (for callers that
        own ``x``, e.g. an embedding computed for this call): the same values, one (n, d)
        array less.

    Returns
    -------
    picks : ndarray of shape (k,) (or fewer, see below), int64
        Per cluster, the member nearest its centroid (row indices into ``x``), ordered by cluster.
        If ``k`` ≥ the number of distinct points, one row per distinct point instead.
        An empty cluster contributes no pick (callers top up).
    labels : ndarray of shape (n,), int64
        Cluster of every point.
    """
    if not normalize:
        xs = np.ascontiguousarray(x, dtype=np.float32)
    elif overwrite and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable:
        xs = l2_normalize_(x)
    else:
        xs = l2_normalize(x)
    enough, distinct = n_distinct_at_least(xs, k)
    if not enough:
        labels = np.empty(len(xs), dtype=np.int64)
        _, inv = np.unique(xs, axis=0, return_inverse=True)
        # relabel by order of first occurrence, matching `distinct`
        order = {v: i for i, v in enumerate(inv[distinct])}
        labels[:] = [order[v] for v in inv.ravel()]
        return distinct, labels
    seeds = kmeans_pp_seeds(xs, k, rng, device)
    centroids, labels = kmeans(xs, xs[seeds], rng, n_iter=n_iter, device=device, return_labels=True)
    if labels is None or not REUSE_LLOYD_LABELS:
        labels, d2 = assign(xs, centroids, device)
    else:  # the converged iteration's assignment is assign()'s: only the distances are left
        d2 = _lloyd.own_sq_dists(
            torch.from_numpy(xs), torch.from_numpy(centroids), torch.from_numpy(labels)
        )
    # the member nearest each centroid: sort by (cluster, distance), take each cluster's first
    order = np.lexsort((np.arange(len(xs)), d2, labels))
    first = np.ones(len(order), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    picks = order[first]
    return picks.astype(np.int64), labels


def knn(
    x: np.ndarray,
    k: int,
    query: np.ndarray | None = None,
    exclude_self: bool = True,
    device: str = "auto",
    chunk: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by inner product on (already normalised) rows.

    Returns ``(similarities, indices)``, each of shape (n_query, k), most similar first.
    With ``exclude_self`` (and ``query=None``) a point is not its own neighbour.
    faiss ``IndexFlatIP`` on CPU, chunked matrix products + ``topk`` on CUDA.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    self_query = query is None
    q = x if self_query else np.ascontiguousarray(query, dtype=np.float32)
    kk = k + 1 if (self_query and exclude_self) else k
    kk = min(kk, len(x))
    dev = resolve_device(device)
    if dev.type == "cpu":
        faiss = _faiss()
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        sims, idx = index.search(q, kk)
    else:
        xt = torch.from_numpy(x).to(dev)
        sims = np.empty((len(q), kk), dtype=np.float32)
        idx = np.empty((len(q), kk), dtype=np.int64)
        for s in range(0, len(q), chunk):
            qb = torch.from_numpy(q[s : s + chunk]).to(dev)
            v, i = torch.topk(qb @ xt.T, kk, dim=1)
            sims[s : s + len(qb)] = v.cpu().numpy()
            idx[s : s + len(qb)] = i.cpu().numpy()
    if self_query and exclude_self:
        rows = np.arange(len(q))[:, None]
        is_self = idx == rows
        # drop self where found, else drop the last column
        keep = ~is_self
        no_self = keep.all(1)
        keep[no_self, -1] = False
        sims = sims[keep].reshape(len(q), kk - 1)
        idx = idx[keep].reshape(len(q), kk - 1)
    return sims, idx.astype(np.int64)
