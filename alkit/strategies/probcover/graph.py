"""ProbCover's δ-ball graph: exact blockwise construction, the purity search for δ, greedy cover.

Every distance is Euclidean on L2-normalised rows, compared through its square
(``d² = ‖a‖² + ‖b‖² − 2 a·b``, clamped at 0, as faiss ``IndexFlatL2`` computes it); ``j`` is in
the δ-ball of ``i`` when ``d²(i, j) < δ²`` (strict, as the reference's ``< delta``), and every
ball holds its centre. Nothing is ever N × N: the exact graph is built in row blocks of at most
:data:`BLOCK_ELEMENTS` distances and kept as CSR arrays (``n_edges`` int32 targets and an
(N + 1) int64 row pointer); the greedy cover needs no transposed copy (lazy gains).

The approximate graphs for large pools (``index="ivf"``, ``"hnsw"``) are in
:mod:`~alkit.strategies.probcover.ivf` and :mod:`~alkit.strategies.probcover.knn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..._devices import memory_headroom_bytes, resolve_device
from ..._kernels.near_pairs import NearPairs, near_pairs
from ..._kernels.norms import row_sq_norms
from ...errors import InvalidInputError

__all__ = [
    "BallGraph",
    "BLOCK_ELEMENTS",
    "INDEXES",
    "nearest_other_sqdist",
    "nearest_other_keeping_pairs",
    "ball_graph_exact",
    "ball_graph_from_pairs",
    "purity",
    "search_delta",
    "bisection_grid",
    "greedy_cover",
    "covered_by",
]

BLOCK_ELEMENTS = 1 << 24  # distances per block (64 MiB of float32)
#: How the graph is built: exact blockwise distances, or an approximate index for large pools.
INDEXES = ("exact", "hnsw", "ivf")


@dataclass
class BallGraph:
    """A directed graph in CSR form: row ``i`` lists the points of the δ-ball of ``i``.

    Attributes
    ----------
    indptr : ndarray of shape (n + 1,), int64
    indices : ndarray of shape (n_edges,), int32
        Ball members of row ``i`` are ``indices[indptr[i]:indptr[i + 1]]`` (ascending for the
        exact and ``"ivf"`` graphs, by distance for ``"hnsw"``). The centre is always a member.
    delta : float
        The radius (edges have distance < ``delta``).
    """

    indptr: np.ndarray
    indices: np.ndarray
    delta: float

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        return int(self.indptr[-1])

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes)

    def degrees(self) -> np.ndarray:
        """Ball sizes, shape (n,)."""
        return np.diff(self.indptr)

    def transpose(self) -> BallGraph:
        """The reversed graph: row ``j`` lists every ``i`` whose ball holds ``j`` (O(n_edges))."""
        import scipy.sparse as sp

        a = sp.csr_matrix(
            (np.ones(self.n_edges, dtype=np.int8), self.indices, self.indptr),
            shape=(self.n, self.n),
        )
        t = a.tocsc()  # column-compressed = CSR of the transpose
        return BallGraph(t.indptr.astype(np.int64), t.indices.astype(np.int32), self.delta)

    def to_edges(self) -> np.ndarray:
        """Edge list of shape (n_edges, 2): (centre, member) pairs, the reference's layout."""
        rows = np.repeat(np.arange(self.n, dtype=np.int64), self.degrees())
        return np.stack([rows, self.indices.astype(np.int64)], axis=1)


def _rows_per_block(n: int) -> int:
    return int(max(1, min(n, BLOCK_ELEMENTS // max(n, 1))))


def _blocks(x: np.ndarray, device: str):
    """Yield ``(start, stop, d² block of shape (stop - start, n))`` over row blocks (torch)."""
    dev = resolve_device(device)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    sq = row_sq_norms(xt)
    b = _rows_per_block(len(x))
    for s in range(0, len(x), b):
        e = min(len(x), s + b)
        d2 = torch.addmm(sq[s:e, None] + sq[None, :], xt[s:e], xt.T, alpha=-2.0).clamp_min_(0)
        d2[torch.arange(e - s, device=dev), torch.arange(s, e, device=dev)] = 0.0  # centre ∈ ball
        yield s, e, d2


def nearest_other_sqdist(x: np.ndarray, labels: np.ndarray, device: str = "auto") -> np.ndarray:
    """Squared distance from every point to its nearest point of another pseudo-class.

    The δ-ball of ``i`` is pure exactly when this is ≥ δ², so one pass over the pairs
    gives purity(δ) for every δ of the bisection (the reference rebuilds the graph per δ).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised features.
    labels : ndarray of shape (n,), int
        Pseudo-class of every point.

    Returns
    -------
    ndarray of shape (n,), float32
        ``inf`` where every point shares the pseudo-class.
    """
    dev = resolve_device(device)
    lab = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(dev)
    out = np.empty(len(x), dtype=np.float32)
    for s, e, d2 in _blocks(x, device):
        d2.masked_fill_(lab[s:e, None] == lab[None, :], float("inf"))
        out[s:e] = d2.min(1).values.cpu().numpy()
    return out


#: Largest share of the memory the process can still allocate that a δ-search pass may fill with
#: the pairs inside the largest reachable δ (12 bytes each), so that the graph needs no second
#: pass over the pairs; beyond it they are dropped and the graph takes its own pass.
KEEP_PAIRS_FRACTION = 0.25


def keep_pairs_bytes() -> int:
    """Bytes a δ-search pass may fill with kept pairs (:data:`KEEP_PAIRS_FRACTION`)."""
    return int(KEEP_PAIRS_FRACTION * memory_headroom_bytes())


def nearest_other_keeping_pairs(
    x: np.ndarray, labels: np.ndarray, max_delta: float, device: str = "auto"
) -> tuple[np.ndarray, list | None]:
    """The nearest other pseudo-class below ``max_delta``, and every pair closer than ``max_delta``.

    One pass (:func:`alkit._kernels.near_pairs.near_pairs`, rows visited by pseudo-class, a
    bfloat16 screen rules out the far columns with a proven bound) gives both, so
    :func:`ball_graph_from_pairs` can cut the graph at any δ ≤ ``max_delta`` (the largest the
    bisection evaluates) without a second pass. When the pairs would fill more than
    :func:`keep_pairs_bytes`, they are dropped (None) and the caller builds the graph with
    :func:`ball_graph_exact`.

    Returns
    -------
    r2 : ndarray of shape (n,), float32
        As :func:`nearest_other_sqdist` where that is below ``max_delta``², ``inf`` elsewhere
        (every δ ≤ ``max_delta`` finds those balls pure, as the exact value would).
    pairs : NearPairs or None
        Every pair (both directions, each row with itself) and its float32 d², as
        :func:`ball_graph_from_pairs` takes them.
    """
    labels = np.asarray(labels, dtype=np.int64)
    pairs, r2 = near_pairs(
        x,
        float(max_delta) ** 2,
        order=np.argsort(labels, kind="stable"),
        labels=labels,
        keep_bytes=keep_pairs_bytes(),
        device=device,
    )
    return r2, pairs


def ball_graph_from_pairs(pairs: NearPairs, delta: float) -> BallGraph:
    """The δ-ball graph cut from kept pairs (δ at most their radius), with no pass over the points.

    ``pairs``: as :func:`nearest_other_keeping_pairs` (exact) or ``ivf._ListIndex.range_counts``
    keep them. The comparison is theirs (``d² < δ²``, δ² in float32) and each row keeps its
    order, so the graph is that of a pass at δ (:func:`ball_graph_exact`,
    ``ivf._ListIndex.range_graph``), edge for edge.
    """
    indptr, indices = pairs.cut(float(delta) ** 2)
    return BallGraph(indptr, indices, float(delta))


def ball_graph_exact(
    x: np.ndarray, delta: float, device: str = "auto", order: np.ndarray | None = None
) -> BallGraph:
    """The exact δ-ball graph (never an N × N array).

    One pass over the upper triangle of the pairs (:func:`alkit._kernels.near_pairs.near_pairs`):
    a bfloat16 screen with a proven bound rules out the far columns of each block of rows, the
    rest are float32 distances; each unordered pair is computed once, so the graph is symmetric.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised features.
    delta : float
        Radius; ``j`` is in the ball of ``i`` when ``‖x_i − x_j‖ < delta``.
    order : ndarray of shape (n,), optional
        The order to visit the rows in (the pseudo-classes: near rows together make the screen
        selective); the graph does not depend on it.
    """
    near, _ = near_pairs(x, float(delta) ** 2, order=order, device=device)
    return ball_graph_from_pairs(near, delta)


def purity(r2: np.ndarray, delta: float) -> float:
    """Fraction of points whose δ-ball holds one pseudo-class, from :func:`nearest_other_sqdist`."""
    return float(np.mean(r2 >= np.float32(float(delta) ** 2)))


def search_delta(
    r2: np.ndarray, n_iter: int = 6, threshold: float = 0.95, rule: str = "largest"
) -> dict:
    """The reference's bisection for δ on [0, 1].

    Starts at 0.5; purity < ``threshold`` halves towards the lower bound, otherwise towards
    the upper one; ``n_iter`` values are evaluated.

    Parameters
    ----------
    r2 : ndarray of shape (n,)
        Squared distance of each point to its nearest other pseudo-class.
    rule : {"largest", "reference"}
        ``"largest"``: the largest evaluated δ whose purity ≥ ``threshold`` (the smallest
        evaluated δ if none reaches it). ``"reference"``: the last evaluated δ — the value
        the reference's graph is built at (it then stores the next, unevaluated midpoint).

    Returns
    -------
    dict
        ``delta``, ``purity`` (at ``delta``), ``purity_met`` (bool), ``any_pure`` (whether any
        evaluated δ reached the threshold), ``evaluated`` (list of
        (δ, purity)), ``reference_reported_delta`` (the midpoint the reference stores).
    """
    if rule not in ("largest", "reference"):
        raise InvalidInputError(f"delta_rule must be 'largest' or 'reference', got {rule!r}.")
    delta, lower, upper = 0.5, 0.0, 1.0
    evaluated = []
    for _ in range(int(n_iter)):
        p = purity(r2, delta)
        evaluated.append((delta, p))
        if p < threshold:
            upper = delta
            delta = 0.5 * (lower + delta)
        else:
            lower = delta
            delta = 0.5 * (upper + delta)
    if rule == "reference":
        chosen = evaluated[-1]
    else:
        pure = [e for e in evaluated if e[1] >= threshold]
        chosen = max(pure) if pure else min(evaluated)
    return {
        "delta": float(chosen[0]),
        "purity": float(chosen[1]),
        "purity_met": bool(chosen[1] >= threshold),
        "any_pure": bool(any(e[1] >= threshold for e in evaluated)),
        "evaluated": [(float(a), float(b)) for a, b in evaluated],
        "reference_reported_delta": float(delta),
    }


BISECTION_GRID_MAX = 63  # radii the one-pass range count may track (6 bisection steps)


def bisection_grid(n_iter: int) -> np.ndarray | None:
    """Every δ that :func:`search_delta` can evaluate in ``n_iter`` steps, ascending, or None if too many.

    The bisection starts at 1/2 and halves its interval, so step i evaluates a multiple of
    2^-i: the values are k / 2^n_iter, 0 < k < 2^n_iter (63 of them for the default 6 steps).
    """
    m = 2 ** int(n_iter)
    if m - 1 > BISECTION_GRID_MAX:
        return None
    return np.arange(1, m, dtype=np.float64) / m


def _gather_rows(g: BallGraph, rows: np.ndarray) -> np.ndarray:
    """Concatenation of the CSR rows ``rows`` of ``g`` (vectorised)."""
    starts = g.indptr[rows]
    lens = g.indptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return g.indices[np.arange(total) + offsets].astype(np.int64)


def _ball_gains(graph: BallGraph, nodes: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Uncovered members of the balls of ``nodes``, shape (len(nodes),), int64 (chunked gathers)."""
    nodes = np.asarray(nodes, dtype=np.int64)
    out = np.zeros(len(nodes), dtype=np.int64)
    lens = graph.indptr[nodes + 1] - graph.indptr[nodes]
    ends = np.cumsum(lens)
    s = 0
    while s < len(nodes):  # chunks of about BLOCK_ELEMENTS members
        e = max(
            s + 1,
            int(np.searchsorted(ends, (ends[s - 1] if s else 0) + BLOCK_ELEMENTS, side="right")),
        )
        e = min(e, len(nodes))
        members = _gather_rows(graph, nodes[s:e])
        seg = np.repeat(np.arange(e - s), lens[s:e])
        out[s:e] = np.bincount(seg, weights=~covered[members], minlength=e - s).astype(np.int64)
        s = e
    return out


def greedy_cover(
    graph: BallGraph, budget: int, covered: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximum coverage (ProbCover's selection).

    Repeatedly takes the node whose ball holds the most uncovered points (ties: lowest
    index) and marks its ball covered — the reference's "remove the in-edges of every
    covered node" — stopping early once every point is covered (max gain 0).

    The gains are evaluated lazily (Minoux's accelerated greedy), so no transposed graph is
    needed: a pick only lowers gains, so after a pick every stored gain is an upper bound;
    the nodes whose bound reaches the current maximum are re-counted, and the lowest-index
    node of maximum gain is taken once its gain is exact. Any node of lower index with the
    same true gain would have a bound at least as large and be ahead of it, so the picks
    are exactly those of the eager greedy.

    Parameters
    ----------
    graph : BallGraph
    budget : int
        At most this many picks.
    covered : ndarray of shape (n,), bool, optional
        Points covered already (the union of the labeled points' balls).

    Returns
    -------
    picks : ndarray of shape (≤ budget,), int64
        In pick order.
    covered : ndarray of shape (n,), bool
        Coverage after the picks.
    """
    n = graph.n
    covered = np.zeros(n, dtype=bool) if covered is None else np.asarray(covered, dtype=bool).copy()
    gain = _ball_gains(graph, np.arange(n), covered)
    exact = np.ones(n, dtype=bool)
    picks: list[int] = []
    while len(picks) < int(budget):
        p = int(np.argmax(gain))
        if gain[p] <= 0:
            break
        if not exact[p]:
            stale = np.flatnonzero((gain >= gain[p]) & ~exact)
            gain[stale] = _ball_gains(graph, stale, covered)
            exact[stale] = True
            continue
        ball = graph.indices[graph.indptr[p] : graph.indptr[p + 1]]
        covered[ball] = True
        picks.append(p)
        exact[:] = False
        gain[p], exact[p] = 0, True
    return np.asarray(picks, dtype=np.int64), covered


def covered_by(graph: BallGraph, nodes: np.ndarray) -> np.ndarray:
    """Boolean mask of shape (n,): the union of the balls of ``nodes``."""
    mask = np.zeros(graph.n, dtype=bool)
    nodes = np.asarray(nodes, dtype=np.int64)
    if len(nodes):
        mask[_gather_rows(graph, nodes)] = True
    return mask
