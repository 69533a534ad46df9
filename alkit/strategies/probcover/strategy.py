"""ProbCover (Yehuda et al., NeurIPS 2022): greedy maximum coverage of δ-balls.

Pseudo-classes come from k-means (k = C) on the L2-normalised features; δ is the radius whose
balls are pure (hold one pseudo-class) for at least 95 % of the points, found by a 6-step
bisection on [0, 1]; the graph links every pair closer than δ. The initial pool, then each query,
takes greedily the point whose ball holds the most uncovered points (the balls of labeled points
count as covered), until the budget is spent or everything is covered (then random top-up).

:func:`probcover_reference` below is the algorithm written plainly (dense distances, a Python
loop); :func:`probcover` is the registered version, whose graph (:mod:`.graph`, or the
approximate :mod:`.ivf` / :mod:`.knn` for large pools) is built once and reused from
``Pool.cache``; it is tested equal to the reference.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._kernels.norms import l2_normalize
from ...cluster import kmeans_nearest
from ...errors import InvalidInputError
from ...pool import Pool, Selection, top_up
from ...validation import check_choice, check_float, check_int
from ..base import complete_initial
from .graph import (
    INDEXES,
    BallGraph,
    ball_graph_exact,
    ball_graph_from_pairs,
    bisection_grid,
    covered_by,
    greedy_cover,
    nearest_other_keeping_pairs,
    nearest_other_sqdist,
    search_delta,
)
from .ivf import ivf_ball_graph
from .knn import MAX_ADAPTIVE_K, AdaptiveKnn

__all__ = [
    "probcover_reference",
    "probcover",
    "probcover_initial_pool",
    "check_probcover",
    "PROBCOVER_PARAMS",
    "PROBCOVER_PAPER",
]

PROBCOVER_PARAMS: dict[str, Any] = {
    "delta": None,
    "delta_rule": "largest",
    "delta_iter": 6,
    "purity_threshold": 0.95,
    "index": "exact",
    "max_neighbors": 256,
}
PROBCOVER_PAPER = (
    "O. Yehuda, A. Dekel, G. Hacohen, D. Weinshall. Active Learning Through a Covering Lens. "
    "NeurIPS 2022"
)


# ----------------------------------------------------------------------- the algorithm, plainly
def probcover_reference(
    x_l2: np.ndarray,
    pseudo_labels: np.ndarray,
    budget: int,
    labeled: np.ndarray | None = None,
    delta: float | None = None,
    n_iter: int = 6,
    threshold: float = 0.95,
) -> tuple[list[int], float]:
    """ProbCover's picks written for reading: dense (n, n) distances, so small pools only.

    Parameters
    ----------
    x_l2 : ndarray of shape (n, d)
        L2-normalised features.
    pseudo_labels : ndarray of shape (n,)
        The k-means pseudo-class of every point.
    budget : int
    labeled : ndarray of shape (n,), bool, optional
        Points whose balls count as covered before the first pick.
    delta : float, optional
        The ball radius; ``None`` searches it as the paper does (the largest evaluated δ with
        purity ≥ ``threshold``; the smallest evaluated if none reaches it).
    n_iter, threshold : int, float
        Bisection steps and purity threshold.

    Returns
    -------
    picks : list of int
        At most ``budget`` points, in pick order (no random top-up here).
    delta : float
    """
    x = np.asarray(x_l2, dtype=np.float64)
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)
    if delta is None:

        def purity(r: float) -> float:
            # a ball is pure when every point in it shares the centre's pseudo-class
            inside = d2 < r * r
            mixed = inside & (pseudo_labels[:, None] != pseudo_labels[None, :])
            return float(np.mean(~mixed.any(1)))

        evaluated, r, low, high = [], 0.5, 0.0, 1.0
        for _ in range(n_iter):
            p = purity(r)
            evaluated.append((r, p))
            if p < threshold:
                high, r = r, (low + r) / 2
            else:
                low, r = r, (high + r) / 2
        pure = [e for e in evaluated if e[1] >= threshold]
        delta = max(pure)[0] if pure else min(evaluated)[0]
    balls = d2 < delta * delta  # balls[i, j]: j is in the ball of i
    covered = np.zeros(len(x), dtype=bool)
    if labeled is not None:
        covered |= balls[np.asarray(labeled, dtype=bool)].any(0)
    picks = []
    for _ in range(budget):
        gains = (balls & ~covered).sum(1)
        best = int(np.argmax(gains))  # lowest index on ties
        if gains[best] == 0:
            break  # everything is covered
        picks.append(best)
        covered |= balls[best]
    return picks, float(delta)


# ----------------------------------------------------------------------------- validation
def _check_probcover(p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    if out["delta"] is not None:
        out["delta"] = check_float(
            out["delta"],
            "probcover delta",
            min=0.0,
            max=2.0,
            min_open=True,
            hint="Pass None to search it, or a radius on L2-normalised features.",
        )
    check_choice(out["delta_rule"], "probcover delta_rule", ("largest", "reference"))
    check_choice(out["index"], "probcover index", INDEXES)
    out["delta_iter"] = check_int(out["delta_iter"], "probcover delta_iter", min=1)
    out["max_neighbors"] = check_int(out["max_neighbors"], "probcover max_neighbors", min=1)
    out["purity_threshold"] = check_float(
        out["purity_threshold"], "probcover purity_threshold", min=0.0, max=1.0, min_open=True
    )
    return out


def check_probcover(params: dict) -> None:
    """The registry's parameter check of ProbCover."""
    _check_probcover({k: params[k] for k in PROBCOVER_PARAMS})


# ------------------------------------------------------------------------ the fast version
def _probcover_key(p: dict[str, Any]) -> tuple:
    return (
        p["delta"],
        p["delta_rule"],
        p["delta_iter"],
        p["purity_threshold"],
        p["index"],
        p["max_neighbors"] if p["index"] == "hnsw" else None,
    )


def _graph_purity(g: BallGraph, labels: np.ndarray) -> float:
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
        g, search, stats = ivf_ball_graph(
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
        ak = AdaptiveKnn(
            x_l2,
            p["max_neighbors"] + 1,
            p["index"],
            seed=int(rng.integers(2**31 - 1)),
            device=device,
        )
    search: dict[str, Any] = {}
    pairs, kept_max = None, 0.0  # the exact search's pairs closer than kept_max, if they fit
    if p["delta"] is None:
        if ak is None:
            grid = bisection_grid(p["delta_iter"])
            if grid is None:  # too many reachable radii to keep the pairs of the largest
                r2 = nearest_other_sqdist(x_l2, pseudo, device)
            else:  # one all-pairs pass for the δ search and the graph
                kept_max = float(grid[-1])
                r2, pairs = nearest_other_keeping_pairs(x_l2, pseudo, kept_max, device)
            search = search_delta(r2, p["delta_iter"], p["purity_threshold"], p["delta_rule"])
        else:
            # r2 needs to be exact only below the largest δ² the bisection evaluates: resolve up
            # to that level and repeat the (cheap) bisection until the level covers it
            level = 0.25
            while True:
                r2 = ak.nearest_other_sqdist(pseudo, level)
                search = search_delta(r2, p["delta_iter"], p["purity_threshold"], p["delta_rule"])
                top = max(e[0] for e in search["evaluated"]) ** 2
                if top <= level:
                    break
                level = top
        delta = search["delta"]
        _warn_not_pure(search, p)
    else:
        delta = p["delta"]
    if ak is not None:
        g = ak.ball_graph(delta)
    elif pairs is not None and float(delta) <= kept_max:
        g = ball_graph_from_pairs(pairs, delta)
    else:
        g = ball_graph_exact(x_l2, delta, device, order=np.argsort(pseudo, kind="stable"))
    del pairs
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
                f"{MAX_ADAPTIVE_K} neighbours and were truncated, which changes the greedy picks; "
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
    6-step purity bisection on [0, 1] (see :func:`~alkit.strategies.probcover.graph.search_delta`) unless
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
    picks, covered = greedy_cover(entry["graph"], budget)
    return complete_initial(
        picks, len(x), budget, rng, _probcover_info(entry, p, reused, 0, covered)
    )


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
        ``"ivf"``: a range pass over the pairs of inverted lists that search one another
        (each list its 32 nearest; exact float32 distances where the bfloat16 screen cannot rule
        a pair out, no float32 copy of the pool; the choice at ImageNet-1k scale,
        :func:`~alkit.strategies.probcover.ivf.ivf_ball_graph`). ``"hnsw"`` (faiss HNSW):
        lists of ``max_neighbors`` + 1 neighbours, searched again with a doubled k only for the
        points whose δ-ball (or nearest other pseudo-class) lies beyond their list. See
        docs/strategies_representative.md for the measured agreement with ``"exact"``.
    max_neighbors : int
        Initial list length of ``"hnsw"`` (ignored by ``"exact"`` and ``"ivf"``); balls are
        only truncated beyond :data:`~alkit.strategies.probcover.knn.MAX_ADAPTIVE_K` points (``n_balls_capped``).

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
    Time: one pass over the N²/2 unordered pairs (the nearest other pseudo-class, keeping the
    pairs inside the largest reachable δ; a second for the edges only when those would not fit),
    most of it a bfloat16 screen (:mod:`alkit._kernels.near_pairs`), for ``index="exact"``; one
    such pass over the pairs of rows whose lists search one another, at most 32 · N / nlist
    per row, for ``"ivf"`` (two when its kept pairs would not fit in memory).

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
    covered = covered_by(g, pool.labeled_idx)
    before = int(covered.sum())
    picks, covered = greedy_cover(g, budget, covered)
    return top_up(picks, pool, budget, rng, _probcover_info(entry, p, reused, before, covered))


# --------------------------------------------------------------------------- registration
