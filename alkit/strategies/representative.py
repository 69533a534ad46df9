"""Representative strategies and their initial pools: TypiClust and ProbCover (DESIGN §6).

Both work on the L2-normalised raw features only (no probe), and both hand state from the
initial pool to the query through ``Pool.cache``: TypiClust its cluster labels (reused while
the number of clusters stays the same), ProbCover its δ-ball graph and δ.

Registered at import: strategies ``typiclust`` and ``probcover`` (family ``representative``,
each starting from its own initial pool) and initial pools ``typiclust`` and ``probcover``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .. import graph as _graph
from .._kernels.norms import row_sq_norms
from .._utils import l2_normalize, resolve_device
from ..cluster import kmeans_nearest
from ..errors import InvalidInputError
from ..pool import Pool, Selection, top_up
from ..validation import suggest

__all__ = [
    "typicality",
    "typiclust",
    "typiclust_initial_pool",
    "probcover",
    "probcover_initial_pool",
    "TYPICLUST_PARAMS",
    "PROBCOVER_PARAMS",
]

TYPICLUST_PARAMS: dict[str, Any] = {"knn": 20, "min_size": 5, "max_clusters": 500}
PROBCOVER_PARAMS: dict[str, Any] = {
    "delta": None,
    "delta_rule": "largest",
    "delta_iter": 6,
    "purity_threshold": 0.95,
    "index": "exact",
    "max_neighbors": 256,
}

TYPICLUST_PAPER = (
    "G. Hacohen, A. Dekel, D. Weinshall. Active Learning on a Budget: Opposite Strategies "
    "Suit High and Low Budgets. ICML 2022"
)
PROBCOVER_PAPER = (
    "O. Yehuda, A. Dekel, G. Hacohen, D. Weinshall. Active Learning Through a Covering Lens. "
    "NeurIPS 2022"
)


# --------------------------------------------------------------------------- validation
def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < low:
        raise InvalidInputError(f"{name} must be an integer ≥ {low}, got {value!r}.")
    return int(value)


def _check_typiclust(knn: Any, min_size: Any, max_clusters: Any) -> tuple[int, int, int]:
    return (
        _check_int(knn, "knn", 1),
        _check_int(min_size, "min_size", 0),
        _check_int(max_clusters, "max_clusters", 1),
    )


def _check_probcover(p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    if out["delta"] is not None:
        if (
            isinstance(out["delta"], bool)
            or not isinstance(out["delta"], (int, float, np.floating, np.integer))
            or not 0 < float(out["delta"]) <= 2
        ):
            raise InvalidInputError(
                f"delta must be None (search it) or a radius in (0, 2] on L2-normalised features, got {out['delta']!r}."
            )
        out["delta"] = float(out["delta"])
    if out["delta_rule"] not in ("largest", "reference"):
        raise InvalidInputError(
            f"delta_rule must be 'largest' or 'reference', got {out['delta_rule']!r}."
            + suggest(str(out["delta_rule"]), ["largest", "reference"])
        )
    if out["index"] not in _graph.INDEXES:
        raise InvalidInputError(
            f"index must be one of {list(_graph.INDEXES)}, got {out['index']!r}."
            + suggest(str(out["index"]), list(_graph.INDEXES))
        )
    out["delta_iter"] = _check_int(out["delta_iter"], "delta_iter", 1)
    out["max_neighbors"] = _check_int(out["max_neighbors"], "max_neighbors", 1)
    thr = out["purity_threshold"]
    if (
        isinstance(thr, bool)
        or not isinstance(thr, (int, float, np.floating))
        or not 0 < float(thr) <= 1
    ):
        raise InvalidInputError(f"purity_threshold must be in (0, 1], got {thr!r}.")
    out["purity_threshold"] = float(thr)
    return out


def _complete(
    picks: np.ndarray, n: int, budget: int, rng: np.random.Generator, info: dict
) -> Selection:
    """Random completion of an initial pool to ``budget`` (the initial-pool twin of ``top_up``)."""
    picks = np.asarray(picks, dtype=np.int64)[:budget]
    missing = budget - len(picks)
    if missing > 0:
        avail = np.ones(n, dtype=bool)
        avail[picks] = False
        picks = np.concatenate([picks, rng.choice(np.flatnonzero(avail), missing, replace=False)])
    info["n_topped_up"] = int(max(missing, 0))
    return Selection(picks, info)


# --------------------------------------------------------------------------- TypiClust
def typicality(x: np.ndarray, knn: int, device: str = "auto", squared: bool = True) -> np.ndarray:
    """Mean distance of every point to its ``knn + 1`` nearest points of ``x``, itself included.

    Lower is more typical: TypiClust's typicality is the inverse of this mean (Hacohen et
    al. 2022, Eq. 1). Exact kNN in row blocks (torch; CUDA when ``device`` says so), never
    more than :data:`alkit.graph.BLOCK_ELEMENTS` distances at once.

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
    b = int(max(1, min(m, _graph.BLOCK_ELEMENTS // max(m, 1))))
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
    return _complete(picks, len(x), budget, rng, info)


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


# --------------------------------------------------------------------------- ProbCover
def _probcover_key(p: dict[str, Any]) -> tuple:
    return (
        p["delta"],
        p["delta_rule"],
        p["delta_iter"],
        p["purity_threshold"],
        p["index"],
        p["max_neighbors"] if p["index"] == "hnsw" else None,
    )


def _graph_purity(g: _graph.BallGraph, labels: np.ndarray) -> float:
    rows = np.repeat(np.arange(g.n), g.degrees())
    impure = np.zeros(g.n, dtype=bool)
    impure[rows[labels[rows] != labels[g.indices]]] = True
    return float(1.0 - impure.mean())


def _warn_not_pure(search: dict, p: dict[str, Any]) -> None:
    if not search["any_pure"]:
        warnings.warn(
            f"ProbCover: no evaluated δ reached purity {p['purity_threshold']} "
            f"(evaluated {search['evaluated']}); using δ={search['delta']}. Pass delta= to fix it.",
            RuntimeWarning,
            stacklevel=4,
        )


def _probcover_graph(
    x_l2: np.ndarray,
    n_classes: int,
    rng: np.random.Generator,
    cache: dict,
    p: dict[str, Any],
    device: str,
) -> tuple[dict, bool]:
    """The δ-ball graph for parameters ``p`` from ``cache["probcover"]``, or built and stored there."""
    key = _probcover_key(p)
    entry = cache.get("probcover")
    if entry is not None and entry["key"] == key and entry["graph"].n == len(x_l2):
        return entry, True
    _, pseudo = kmeans_nearest(x_l2, int(n_classes), rng, device=device, normalize=False)
    if p["index"] == "ivf":
        g, search, stats = _graph.ivf_ball_graph(
            x_l2,
            pseudo,
            p["delta"],
            p["delta_iter"],
            p["purity_threshold"],
            p["delta_rule"],
            seed=int(rng.integers(2**31 - 1)),
            device=device,
        )
        if search:
            _warn_not_pure(search, p)
        entry = {
            "key": key,
            "graph": g,
            "delta": g.delta,
            "search": search,
            "ivf": stats,
            "purity": search.get("purity", _graph_purity(g, pseudo)),
        }
        cache["probcover"] = entry
        return entry, False
    ak = None
    if p["index"] != "exact":
        # neighbour lists of max_neighbors + 1 that grow only for the rows whose δ-ball (or
        # nearest other pseudo-class) lies beyond their list: no capped balls (up to MAX_ADAPTIVE_K)
        ak = _graph.AdaptiveKnn(
            x_l2,
            p["max_neighbors"] + 1,
            p["index"],
            seed=int(rng.integers(2**31 - 1)),
            device=device,
        )
    search: dict[str, Any] = {}
    if p["delta"] is None:
        if ak is None:
            r2 = _graph.nearest_other_sqdist(x_l2, pseudo, device)
            search = _graph.search_delta(
                r2, p["delta_iter"], p["purity_threshold"], p["delta_rule"]
            )
        else:
            # r2 needs to be exact only below the largest δ² the bisection evaluates: resolve up
            # to that level and repeat the (cheap) bisection until the level covers it
            level = 0.25
            while True:
                r2 = ak.nearest_other_sqdist(pseudo, level)
                search = _graph.search_delta(
                    r2, p["delta_iter"], p["purity_threshold"], p["delta_rule"]
                )
                top = max(e[0] for e in search["evaluated"]) ** 2
                if top <= level:
                    break
                level = top
        delta = search["delta"]
        _warn_not_pure(search, p)
    else:
        delta = p["delta"]
    g = _graph.ball_graph_exact(x_l2, delta, device) if ak is None else ak.ball_graph(delta)
    entry = {
        "key": key,
        "graph": g,
        "delta": float(delta),
        "purity": search.get("purity", _graph_purity(g, pseudo)),
        "search": search,
    }
    if ak is not None:
        entry["n_balls_capped"] = ak.n_capped(delta)
        entry["n_requeried"] = int(ak.n_requeried)
        entry["max_list"] = int(ak.max_k)
        if entry["n_balls_capped"]:
            # capped balls tie at the cap, and the greedy cover's first picks are exactly those
            warnings.warn(
                f"ProbCover ({p['index']}): {entry['n_balls_capped']} δ-balls exceeded "
                f"{_graph.MAX_ADAPTIVE_K} neighbours and were truncated, which changes the greedy picks; "
                "use index='exact'.",
                RuntimeWarning,
                stacklevel=3,
            )
    cache["probcover"] = entry
    return entry, False


def _probcover_info(
    entry: dict, p: dict[str, Any], reused: bool, covered_before: int, covered_after: np.ndarray
) -> dict:
    g = entry["graph"]
    info: dict[str, Any] = {
        "delta": entry["delta"],
        "n_edges": g.n_edges,
        "purity": entry["purity"],
        "mean_ball_size": float(g.n_edges / max(g.n, 1)),
        "graph_bytes": g.nbytes,
        "delta_rule": p["delta_rule"],
        "index": p["index"],
        "graph_reused": bool(reused),
        "n_covered_before": int(covered_before),
        "coverage": float(covered_after.mean()),
    }
    if entry["search"]:
        info["delta_evaluated"] = entry["search"]["evaluated"]
        info["purity_met"] = entry["search"]["purity_met"]
        info["reference_reported_delta"] = entry["search"]["reference_reported_delta"]
    if "ivf" in entry:
        info["ivf_nlist"] = entry["ivf"]["nlist"]
        info["ivf_mean_candidates"] = entry["ivf"]["mean_candidates"]
    if "n_balls_capped" in entry:
        info["n_balls_capped"] = entry["n_balls_capped"]
        info["n_requeried"] = entry["n_requeried"]
        info["max_list"] = entry["max_list"]
    return info


def probcover_initial_pool(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    **params: Any,
) -> Selection:
    """ProbCover's initial pool: greedy maximum coverage of the δ-ball graph.

    Pseudo-classes by k-means (k = ``n_classes``) on the L2-normalised features; δ by the
    6-step purity bisection on [0, 1] (see :func:`alkit.graph.search_delta`) unless
    ``delta`` is given; the directed graph of pairs closer than δ (built blockwise, kept in
    ``cache["probcover"]`` with δ); ``budget`` greedy max-degree picks, each removing the
    in-edges of the points it covers. Once everything is covered the rest is random.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Raw features.
    budget : int
    rng : numpy Generator
    n_classes : int
        Number of pseudo-classes (the task's C).
    cache : dict, optional
    **params
        ``delta=None``, ``delta_rule="largest"``, ``delta_iter=6``, ``purity_threshold=0.95``,
        ``index="exact"``, ``max_neighbors=256`` (see :func:`probcover`).

    Returns
    -------
    Selection
        ``info``: ``delta``, ``n_edges``, ``purity``, ``coverage``, ``n_topped_up``, …

    References
    ----------
    .. [1] O. Yehuda, A. Dekel, G. Hacohen, D. Weinshall. Active Learning Through a
       Covering Lens. NeurIPS 2022.
    """
    unknown = set(params) - set(PROBCOVER_PARAMS)
    if unknown:
        raise InvalidInputError(
            f"probcover initial pool got unknown parameter(s) {sorted(unknown)}; "
            f"valid: {sorted(PROBCOVER_PARAMS)}."
        )
    if n_classes is None or int(n_classes) < 1:
        raise InvalidInputError(
            "The probcover initial pool needs n_classes (the number of pseudo-classes)."
        )
    p = _check_probcover({**PROBCOVER_PARAMS, **params})
    cache = {} if cache is None else cache
    x_l2 = l2_normalize(x)
    entry, reused = _probcover_graph(x_l2, int(n_classes), rng, cache, p, device)
    picks, covered = _graph.greedy_cover(entry["graph"], budget)
    return _complete(picks, len(x), budget, rng, _probcover_info(entry, p, reused, 0, covered))


def probcover(
    pool: Pool,
    probe: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    device: str = "auto",
    delta: float | None = None,
    delta_rule: str = "largest",
    delta_iter: int = 6,
    purity_threshold: float = 0.95,
    index: str = "exact",
    max_neighbors: int = 256,
    **params: Any,
) -> Selection:
    """ProbCover: greedy maximum coverage of δ-balls, labeled balls removed first.

    Uses the initial pool's graph and δ from ``pool.cache`` (built on first use otherwise,
    exactly as the initial pool builds it, from the strategy's ``rng``); the balls of the
    labeled points are marked covered; then B greedy picks of the point whose ball holds
    the most uncovered points (ties: lowest index). When everything is covered, the rest
    is drawn at random (``info["n_topped_up"]``).

    Parameters
    ----------
    pool : Pool
    probe : ignored
    budget : int
    rng : numpy Generator
    delta : float, optional
        A fixed radius (skips the search). Euclidean on L2-normalised features.
    delta_rule : {"largest", "reference"}
        ``"largest"``: the largest evaluated δ with purity ≥ ``purity_threshold``;
        ``"reference"``: the last evaluated δ (the graph the reference builds).
    delta_iter : int
        Bisection steps (6).
    purity_threshold : float
        α of Yehuda et al. (0.95).
    index : {"exact", "hnsw", "ivf"}
        ``"exact"``: blockwise exact distances (O(N² d) time, memory of the graph only).
        ``"ivf"``: two range passes over inverted lists searched by matrix products (exact
        float32 distances to the candidates of 32 lists, no copy of the pool; the choice at
        ImageNet-1k scale, :func:`alkit.graph.ivf_ball_graph`). ``"hnsw"`` (faiss HNSW):
        lists of ``max_neighbors`` + 1 neighbours, searched again with a doubled k only for the
        points whose δ-ball (or nearest other pseudo-class) lies beyond their list. See
        docs/strategies_representative.md for the measured agreement with ``"exact"``.
    max_neighbors : int
        Initial list length of ``"hnsw"`` (ignored by ``"exact"`` and ``"ivf"``); balls are
        only truncated beyond :data:`alkit.graph.MAX_ADAPTIVE_K` points (``n_balls_capped``).

    Returns
    -------
    Selection
        ``info``: ``delta``, ``n_edges``, ``purity``, ``mean_ball_size``, ``graph_bytes``,
        ``coverage`` (fraction covered after the picks), ``n_covered_before``,
        ``graph_reused``, ``n_topped_up``, the δ search (``delta_evaluated``, ``purity_met``),
        and per index ``n_balls_capped`` / ``n_requeried`` / ``max_list`` (``"hnsw"``) or
        ``ivf_nlist`` / ``ivf_mean_candidates`` (``"ivf"``).

    Notes
    -----
    Memory is that of the graph, N × mean ball size edges (4 bytes each, no transposed
    copy: the greedy gains are evaluated lazily), reported as ``n_edges`` / ``graph_bytes``.
    Time: two passes over all pairs (nearest other pseudo-class, then the edges) for
    ``index="exact"``; the same two passes over each row's 32 · N / nlist candidates for ``"ivf"``.

    References
    ----------
    .. [1] O. Yehuda, A. Dekel, G. Hacohen, D. Weinshall. Active Learning Through a
       Covering Lens. NeurIPS 2022.
    """
    p = _check_probcover(
        {
            "delta": delta,
            "delta_rule": delta_rule,
            "delta_iter": delta_iter,
            "purity_threshold": purity_threshold,
            "index": index,
            "max_neighbors": max_neighbors,
        }
    )
    entry, reused = _probcover_graph(pool.x_l2, pool.n_classes, rng, pool.cache, p, device)
    g = entry["graph"]
    covered = _graph.covered_by(g, pool.labeled_idx)
    before = int(covered.sum())
    picks, covered = _graph.greedy_cover(g, budget, covered)
    return top_up(picks, pool, budget, rng, _probcover_info(entry, p, reused, before, covered))


# --------------------------------------------------------------------------- registration


def check_typiclust(params: dict) -> None:
    """The registry's parameter check of TypiClust."""
    _check_typiclust(params["knn"], params["min_size"], params["max_clusters"])


def check_probcover(params: dict) -> None:
    """The registry's parameter check of ProbCover."""
    _check_probcover({k: params[k] for k in PROBCOVER_PARAMS})
