"""TypiClust (Hacohen et al., ICML 2022): the most typical point of the least-covered clusters.

Cluster the L2-normalised features into k = min(|L| + B, 500) k-means clusters, drop the
clusters of ≤ 5 points, order the rest by (labeled count ascending, size descending) and visit
them round-robin, each visit taking the cluster's most *typical* unlabeled point: the one with
the smallest mean squared distance to its nearest neighbours within the cluster. The initial
pool does the same with k = min(B, 500) and no labeled points. The cluster labels go into
``Pool.cache`` and are reused while k stays the same.

:func:`typiclust_reference` below is the algorithm written plainly (dense distances, Python
loops); :func:`typiclust` is the registered version (blockwise exact kNN in torch, cached
clusters), tested equal to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._devices import resolve_device
from .._kernels.norms import l2_normalize, row_sq_norms
from ..cluster import kmeans_nearest
from ..errors import InvalidInputError
from ..pool import Pool, Selection, top_up
from ..validation import check_int
from .base import complete_initial

__all__ = [
    "typiclust_reference",
    "typicality",
    "typiclust",
    "typiclust_initial_pool",
    "check_typiclust",
    "TYPICLUST_PARAMS",
    "TYPICLUST_PAPER",
]

TYPICLUST_PARAMS: dict[str, Any] = {"knn": 20, "min_size": 5, "max_clusters": 500}
TYPICLUST_PAPER = (
    "G. Hacohen, A. Dekel, D. Weinshall. Active Learning on a Budget: Opposite Strategies "
    "Suit High and Low Budgets. ICML 2022"
)
BLOCK_ELEMENTS = 1 << 24  # distances per block of the kNN pass (64 MiB of float32)


# ----------------------------------------------------------------------- the algorithm, plainly
def typiclust_reference(
    x_l2: np.ndarray,
    cluster_labels: np.ndarray,
    labeled: np.ndarray,
    budget: int,
    knn: int = 20,
    min_size: int = 5,
) -> list[int]:
    """TypiClust's query picks for given clusters, written for reading (O(m²) memory per cluster).

    This is the strategy's rule; the initial pool (nothing labeled) differs only in skipping a
    cluster once it is emptied rather than once it holds ≤ ``min_size`` available points.

    Parameters
    ----------
    x_l2 : ndarray of shape (n, d)
        L2-normalised features.
    cluster_labels : ndarray of shape (n,)
        k-means cluster of every point (0..k−1).
    labeled : ndarray of shape (n,), bool
    budget : int
    knn, min_size : int

    Returns
    -------
    list of int
        At most ``budget`` picks (skipped visits are not topped up here).
    """
    k = int(cluster_labels.max()) + 1
    sizes = np.bincount(cluster_labels, minlength=k)
    n_labeled = np.bincount(cluster_labels[labeled], minlength=k)
    # visit order: fewest labeled first, then largest, then lowest cluster id
    order = sorted(range(k), key=lambda c: (n_labeled[c], -sizes[c], c))
    order = [c for c in order if sizes[c] > min_size]
    available = ~labeled.copy()
    picks = []
    for visit in range(budget if order else 0):
        c = order[visit % len(order)]
        members = np.flatnonzero((cluster_labels == c) & available)
        if len(members) <= min_size:
            continue  # too few left to judge typicality: skipped, as the reference does
        m = len(members)
        neighbours = min(knn, m // 2) + 1  # the point itself included
        d2 = ((x_l2[members, None, :] - x_l2[None, members, :]) ** 2).sum(-1)
        mean_d2 = np.sort(d2, axis=1)[:, :neighbours].mean(1)
        best = members[int(np.argmin(mean_d2))]  # lowest index on ties
        picks.append(int(best))
        available[best] = False
    return picks


# ----------------------------------------------------------------------------- validation
def _check_typiclust(knn: Any, min_size: Any, max_clusters: Any) -> tuple[int, int, int]:
    return (
        check_int(knn, "typiclust knn", min=1),
        check_int(min_size, "typiclust min_size", min=0),
        check_int(max_clusters, "typiclust max_clusters", min=1),
    )


def check_typiclust(params: dict) -> None:
    """The registry's parameter check of TypiClust."""
    _check_typiclust(params["knn"], params["min_size"], params["max_clusters"])


# ------------------------------------------------------------------------ the fast version
def typicality(x: np.ndarray, knn: int, device: str = "auto", squared: bool = True) -> np.ndarray:
    """Mean distance of every point to its ``knn + 1`` nearest points of ``x``, itself included.

    Lower is more typical: TypiClust's typicality is the inverse of this mean (Hacohen et
    al. 2022, Eq. 1). Exact kNN in row blocks (torch; CUDA when ``device`` says so), never
    more than :data:`BLOCK_ELEMENTS` distances at once.

    Parameters
    ----------
    x : ndarray of shape (m, d)
        The members of one cluster (L2-normalised features).
    knn : int
        Neighbours besides the point itself (clipped to m − 1).
    squared : bool, default True
        Average squared Euclidean distances, as the reference and the original TypiClust code
        (faiss ``IndexFlatL2``) do; ``False`` averages plain Euclidean distances, as
        scikit-activeml's ``TypiClust`` does (the argmin can differ).

    Returns
    -------
    ndarray of shape (m,), float32
    """
    m = len(x)
    k = int(min(max(knn, 0), m - 1)) + 1
    dev = resolve_device(device)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    sq = row_sq_norms(xt)
    out = np.empty(m, dtype=np.float32)
    b = int(max(1, min(m, BLOCK_ELEMENTS // max(m, 1))))
    for s in range(0, m, b):
        e = min(m, s + b)
        d2 = torch.addmm(sq[s:e, None] + sq[None, :], xt[s:e], xt.T, alpha=-2.0).clamp_min_(0)
        d2[torch.arange(e - s, device=dev), torch.arange(s, e, device=dev)] = 0.0
        vals = torch.topk(d2, k, dim=1, largest=False).values
        if not squared:
            vals = vals.sqrt()
        out[s:e] = vals.mean(1).cpu().numpy()
    return out


def _most_typical(
    x_l2: np.ndarray, members: np.ndarray, knn: int, device: str, squared: bool
) -> int:
    scores = typicality(x_l2[members], min(knn, len(members) // 2), device, squared)
    return int(members[int(np.argmin(scores))])  # ties: lowest index (members ascend)


def _cluster_members(labels: np.ndarray, k: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(k)]


def _typiclust_select(
    x_l2: np.ndarray,
    labels: np.ndarray,
    available: np.ndarray,
    budget: int,
    *,
    labeled: np.ndarray | None,
    knn: int,
    min_size: int,
    device: str = "auto",
    squared: bool = True,
) -> tuple[np.ndarray, dict]:
    """TypiClust's round-robin over clusters (shared by the initial pool and the strategy).

    Clusters of ≤ ``min_size`` points are dropped; the rest are visited in the order
    (labeled count ascending, size descending, cluster id ascending), ``budget`` visits in
    all, each taking the most typical of the cluster's available members. With ``labeled``
    given (the strategy), a visit to a cluster with ≤ ``min_size`` available members is
    skipped, as in the reference; otherwise (the initial pool) only an emptied cluster is.

    Returns
    -------
    picks : ndarray of shape (≤ budget,), int64
    info : dict
    """
    k = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=k)
    n_lab = (
        np.bincount(labels[labeled], minlength=k)
        if labeled is not None
        else np.zeros(k, dtype=np.int64)
    )
    ids = np.arange(k)
    order = np.lexsort((ids, -sizes, n_lab))
    order = order[sizes[order] > min_size]
    members = _cluster_members(labels, k)
    available = available.copy()
    picks: list[int] = []
    n_skipped = 0
    floor = min_size if labeled is not None else 0
    for i in range(budget if len(order) else 0):
        c = order[i % len(order)]
        cand = members[c][available[members[c]]]
        if len(cand) <= floor:
            n_skipped += 1
            continue
        p = _most_typical(x_l2, cand, knn, device, squared)
        picks.append(p)
        available[p] = False
    info = {
        "n_clusters": int(k),
        "n_clusters_kept": int(len(order)),
        "n_visits_skipped": int(n_skipped),
    }
    return np.asarray(picks, dtype=np.int64), info


def _typiclust_labels(
    x_l2: np.ndarray, k: int, rng: np.random.Generator, cache: dict, device: str
) -> tuple[np.ndarray, bool]:
    entry = cache.get("typiclust")
    if entry is not None and entry["k"] == k and len(entry["labels"]) == len(x_l2):
        return entry["labels"], True
    _, labels = kmeans_nearest(x_l2, k, rng, device=device, normalize=False)
    cache["typiclust"] = {"k": int(k), "labels": labels}
    return labels, False


def typiclust_initial_pool(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    knn: int = 20,
    min_size: int = 5,
    max_clusters: int = 500,
    **params: Any,
) -> Selection:
    """TypiClust's initial pool: the most typical point of each of the largest clusters.

    k = min(budget, ``max_clusters``) k-means clusters of the L2-normalised features (the
    shared clustering; labels kept in ``cache["typiclust"]`` for the query); clusters of
    ≤ ``min_size`` points are dropped; the rest are visited by size, largest first,
    round-robin, each giving its most typical unpicked member (:func:`typicality` with
    min(``knn``, m // 2) neighbours, m its unpicked members). Missing points are drawn at
    random (``info["n_topped_up"]``).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Raw features.
    budget : int
    rng : numpy Generator
    cache : dict, optional
    knn, min_size, max_clusters : int
        Reference defaults 20, 5, 500.

    Returns
    -------
    Selection
        ``info``: ``n_clusters``, ``n_clusters_kept``, ``n_visits_skipped``, ``n_topped_up``.

    References
    ----------
    .. [1] G. Hacohen, A. Dekel, D. Weinshall. Active Learning on a Budget: Opposite
       Strategies Suit High and Low Budgets. ICML 2022.
    """
    if params:
        raise InvalidInputError(
            f"typiclust initial pool got unknown parameter(s) {sorted(params)}; "
            f"valid: {sorted(TYPICLUST_PARAMS)}."
        )
    knn, min_size, max_clusters = _check_typiclust(knn, min_size, max_clusters)
    cache = {} if cache is None else cache
    x_l2 = l2_normalize(x)
    k = min(budget, max_clusters)
    labels, _ = _typiclust_labels(x_l2, k, rng, cache, device)
    picks, info = _typiclust_select(
        x_l2,
        labels,
        np.ones(len(x), dtype=bool),
        budget,
        labeled=None,
        knn=knn,
        min_size=min_size,
        device=device,
    )
    return complete_initial(picks, len(x), budget, rng, info)


def typiclust(
    pool: Pool,
    probe: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    device: str = "auto",
    knn: int = 20,
    min_size: int = 5,
    max_clusters: int = 500,
    **params: Any,
) -> Selection:
    """TypiClust: the most typical unlabeled point of the least-covered large clusters.

    k = min(|L| + B, ``max_clusters``) k-means clusters of the L2-normalised features
    (reused from ``pool.cache`` when k is unchanged); clusters of ≤ ``min_size`` points are
    dropped; the rest are ordered by (labeled count ascending, size descending) and visited
    round-robin, B visits in all, each taking the most typical unlabeled, unpicked member
    (typicality among those members, min(``knn``, m // 2) neighbours). A visit to a
    cluster with ≤ ``min_size`` such members is skipped, so fewer than B may come back;
    the rest is drawn at random (``info["n_topped_up"]``).

    Parameters
    ----------
    pool : Pool
    probe : ignored
    budget : int
    rng : numpy Generator
    knn, min_size, max_clusters : int
        Reference defaults 20, 5, 500.

    Returns
    -------
    Selection
        ``info``: ``n_clusters``, ``n_clusters_kept``, ``n_visits_skipped``,
        ``clusters_reused``, ``n_topped_up``.

    References
    ----------
    .. [1] G. Hacohen, A. Dekel, D. Weinshall. Active Learning on a Budget: Opposite
       Strategies Suit High and Low Budgets. ICML 2022.
    """
    knn, min_size, max_clusters = _check_typiclust(knn, min_size, max_clusters)
    x_l2 = pool.x_l2
    k = min(pool.n_labeled + budget, max_clusters, pool.n)
    labels, reused = _typiclust_labels(x_l2, k, rng, pool.cache, device)
    picks, info = _typiclust_select(
        x_l2,
        labels,
        ~pool.labeled,
        budget,
        labeled=pool.labeled,
        knn=knn,
        min_size=min_size,
        device=device,
    )
    info["clusters_reused"] = bool(reused)
    return top_up(picks, pool, budget, rng, info)
