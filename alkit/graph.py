"""δ-ball graphs for ProbCover: blockwise construction, the purity search for δ, greedy max coverage.

Every distance here is Euclidean on L2-normalised rows, compared through its square
(``d² = ‖a‖² + ‖b‖² − 2 a·b``, clamped at 0, as faiss ``IndexFlatL2`` computes it); a point
``j`` is in the δ-ball of ``i`` when ``d²(i, j) < δ²`` (strict, as the reference's ``< delta``),
and every ball holds its centre.

Memory: nothing is ever N × N. The exact graph is built in row blocks of at most
:data:`BLOCK_ELEMENTS` distances; what is kept is the graph itself, ``n_edges`` int32 targets
plus an (N + 1) int64 row pointer, i.e. N × (mean ball size) — it grows with the density of
the data at the chosen δ, which is why ProbCover reports ``n_edges``. The greedy cover needs
no transposed copy (:func:`greedy_cover` evaluates its gains lazily).

Approximate graphs for large pools: ``"ivf"`` (:func:`ivf_ball_graph`) makes two range passes
over inverted lists — nearest other pseudo-class and ball sizes at every reachable δ, then the
edges written into pre-sized arrays; ``"hnsw"`` (:class:`AdaptiveKnn`) starts from
``max_neighbors`` + 1 neighbours per point and searches again, with a doubled k, only the
points whose ball (or nearest other pseudo-class) lies beyond their list, up to
:data:`MAX_ADAPTIVE_K`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._kernels.norms import row_sq_norms
from ._utils import resolve_device
from .cluster import assign, kmeans
from .errors import InvalidInputError

__all__ = [
    "BallGraph",
    "BLOCK_ELEMENTS",
    "INDEXES",
    "nearest_other_sqdist",
    "knn_lists",
    "ball_graph_exact",
    "ball_graph_from_knn",
    "nearest_other_sqdist_knn",
    "purity",
    "search_delta",
    "greedy_cover",
    "covered_by",
    "KnnIndex",
    "AdaptiveKnn",
    "ivf_ball_graph",
    "bisection_grid",
]

BLOCK_ELEMENTS = 1 << 24  # distances per block (64 MiB of float32)
KNN_BLOCK_ROWS = 65536  # rows per block of the neighbour-list bookkeeping
INDEXES = ("exact", "hnsw", "ivf")
HNSW_M = 32  # links per node of faiss.IndexHNSWFlat


@dataclass
class BallGraph:
    """A directed graph in CSR form: row ``i`` lists the points of the δ-ball of ``i``.

    Attributes
    ----------
    indptr : ndarray of shape (n + 1,), int64
    indices : ndarray of shape (n_edges,), int32
        Ball members of row ``i`` are ``indices[indptr[i]:indptr[i + 1]]`` (ascending for the
        exact graph; by distance for the approximate ones). The centre is always a member.
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


def ball_graph_exact(x: np.ndarray, delta: float, device: str = "auto") -> BallGraph:
    """The exact δ-ball graph, built blockwise (never an N × N array).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised features.
    delta : float
        Radius; ``j`` is in the ball of ``i`` when ``‖x_i − x_j‖ < delta``.
    """
    counts = np.empty(len(x), dtype=np.int64)
    parts = []
    thr = float(delta) ** 2
    for s, e, d2 in _blocks(x, device):
        mask = d2 < thr
        counts[s:e] = mask.sum(1).cpu().numpy()
        parts.append(
            mask.nonzero()[:, 1].to(torch.int32).cpu().numpy()
        )  # row-major: sorted per row
    indptr = np.zeros(len(x) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return BallGraph(indptr, indices, float(delta))


def knn_lists(
    x: np.ndarray, k: int, index: str = "hnsw", seed: int = 0, device: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate k nearest neighbours (self included): one :meth:`KnnIndex.search` of every row.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised features.
    k : int
        Neighbours per point (the ball cap ``max_neighbors``).
    index : {"hnsw", "ivf"}
        See :class:`KnnIndex`.
    seed : int
        Seed of the IVF coarse quantiser's k-means.
    device : str
        Device of the ``"ivf"`` matrix products.

    Returns
    -------
    d2 : ndarray of shape (n, k), float32
        Squared distances, ascending; ``inf`` where the index returned fewer than k.
    idx : ndarray of shape (n, k), int64
        Neighbour indices (``-1`` where missing).
    """
    return KnnIndex(x, index, seed, device).search(None, k)


def ball_graph_from_knn(d2: np.ndarray, idx: np.ndarray, delta: float) -> BallGraph:
    """The δ-ball graph restricted to capped neighbour lists (the centre always included).

    Parameters
    ----------
    d2, idx : ndarray of shape (n, k)
        From :func:`knn_lists`.
    delta : float
    """
    n = len(idx)
    thr = float(delta) ** 2
    counts = np.empty(n, dtype=np.int64)
    parts = []
    for s in range(0, n, KNN_BLOCK_ROWS):  # row blocks: no (n, k) temporaries at 1.28M
        e = min(n, s + KNN_BLOCK_ROWS)
        rows = np.arange(s, e)[:, None]
        ib = idx[s:e]
        mask = np.concatenate(
            [np.ones((e - s, 1), dtype=bool), (d2[s:e] < thr) & (ib >= 0) & (ib != rows)], axis=1
        )
        counts[s:e] = mask.sum(1)
        parts.append(np.concatenate([rows.astype(np.int32), ib.astype(np.int32)], axis=1)[mask])
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return BallGraph(
        indptr, np.concatenate(parts) if parts else np.zeros(0, np.int32), float(delta)
    )


def nearest_other_sqdist_knn(
    d2: np.ndarray, idx: np.ndarray, labels: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """:func:`nearest_other_sqdist` from neighbour lists (``inf`` if none of them differs).

    ``d2``, ``idx``: the lists of ``rows`` (all rows, in order, by default), shape (len(rows), k).
    """
    labels = np.asarray(labels)
    own = labels if rows is None else labels[rows]
    other = (idx >= 0) & (labels[np.maximum(idx, 0)] != own[:, None])
    return np.where(other, d2, np.inf).min(1).astype(np.float32)


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


# --------------------------------------------------------------------------- adaptive approximate graph
MAX_ADAPTIVE_K = 1 << 14  # longest neighbour list of the adaptive re-queries


IVF_NPROBE = 32  # lists searched per query list, counted in lists of mean size
IVF_TRAIN_PER_LIST = 64  # coarse k-means training rows per list
IVF_TRAIN_ITER = 10  # coarse k-means iterations


class _ListIndex:
    """Inverted lists searched by matrix products: ``index="ivf"``.

    A coarse k-means (nlist = round(4√n) centroids, at least 39 points per list, trained on
    ≤ :data:`IVF_TRAIN_PER_LIST`·nlist random rows for :data:`IVF_TRAIN_ITER` iterations with
    the shared :func:`alkit.cluster.kmeans`) splits the rows into lists. The queries of one list
    are compared, by one matrix product per block, with the rows of the lists whose centroids
    are nearest that list's centroid (its own list first), taken in that order until they hold
    :data:`IVF_NPROBE` · n / nlist rows (:data:`IVF_NPROBE` lists of mean size, so unbalanced
    lists cost no more than balanced ones) or, for a k-NN search, at least k. Distances are
    ``‖q‖² + ‖x‖² − 2q·x`` in float32, clamped at 0, and 0 for the query itself (as the exact
    graph); a neighbour is missed only when it lies outside the probed lists. Nothing is copied
    but the per-list candidate rows, so memory is the pool plus the output (faiss
    ``IndexIVFFlat`` would hold a second copy of the pool: 7.9 GB at 1.28M × 1536).
    Deterministic for a seed.

    Two uses: :meth:`search` (k nearest neighbours, for :class:`KnnIndex`) and the range
    passes of ProbCover (:meth:`range_counts`, then :meth:`range_graph`), which see every
    candidate of every row once per pass and so need no neighbour lists at all.
    """

    def __init__(self, x: np.ndarray, seed: int = 0, device: str = "auto"):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        n, d = self.x.shape
        self.n = n
        self.dev = resolve_device(device)
        self.xt = torch.from_numpy(self.x).to(self.dev)
        self.sq = row_sq_norms(self.xt)
        nlist = int(max(1, min(n // 39 or 1, round(4 * np.sqrt(n)))))
        rng = np.random.default_rng(seed)
        n_train = min(n, IVF_TRAIN_PER_LIST * nlist)
        train = self.x[np.sort(rng.choice(n, n_train, replace=False))] if n_train < n else self.x
        init = train[np.sort(rng.choice(len(train), nlist, replace=False))]
        centroids = kmeans(train, init, rng, n_iter=IVF_TRAIN_ITER, device=self.dev.type)
        del train
        labels, _ = assign(self.x, centroids, device=self.dev.type)
        self.labels = labels
        self.order = np.argsort(labels, kind="stable")
        self.starts = np.searchsorted(labels[self.order], np.arange(nlist + 1))
        self.sizes = np.diff(self.starts)
        c = torch.from_numpy(np.ascontiguousarray(centroids, dtype=np.float32))
        c_sq = (c * c).sum(1)
        cd = torch.addmm(c_sq[:, None] + c_sq[None, :], c, c.T, alpha=-2.0)
        cd.fill_diagonal_(-float("inf"))  # a list's own rows come first, even among equal centroids
        self.probe_order = torch.argsort(cd, dim=1, stable=True).to(torch.int32).numpy()
        self.nlist = nlist
        self.n_candidates = 0  # candidate distances computed by the last pass

    def _candidates(self, lst: int, k: int) -> np.ndarray:
        need = max(int(k), min(self.n, -(-IVF_NPROBE * self.n // self.nlist)))
        lists = self.probe_order[lst]
        p = min(self.nlist, int(np.searchsorted(np.cumsum(self.sizes[lists]), need)) + 1)
        return np.concatenate([self.order[self.starts[j] : self.starts[j + 1]] for j in lists[:p]])

    def _blocks(self, rows: np.ndarray, k: int):
        """Yield ``(pos, q, cand, cand_t, d2)``: positions in ``rows``, their row ids (tensor), the
        candidate ids (numpy and tensor) and the (len(pos), len(cand)) float32 squared distances."""
        lab = self.labels[rows]
        by_list = np.argsort(lab, kind="stable")
        lists, first = np.unique(lab[by_list], return_index=True)
        bounds = np.append(first, len(rows))
        self.n_candidates = 0
        for j, lst in enumerate(lists.tolist()):
            pos = by_list[bounds[j] : bounds[j + 1]]
            cand = self._candidates(lst, k)
            cand_t = torch.from_numpy(cand).to(self.dev)
            xc = self.xt[cand_t]
            sq_c = self.sq[cand_t]
            step = max(1, BLOCK_ELEMENTS // max(1, len(cand)))
            self.n_candidates += len(pos) * len(cand)
            for s in range(0, len(pos), step):
                pb = pos[s : s + step]
                q = torch.from_numpy(rows[pb]).to(self.dev)
                d2 = torch.addmm(
                    self.sq[q, None] + sq_c[None, :], self.xt[q], xc.T, alpha=-2.0
                ).clamp_min_(0)
                d2.masked_fill_(
                    q[:, None] == cand_t[None, :], 0.0
                )  # centre ∈ ball, as the exact graph
                yield pb, q, cand, cand_t, d2

    def search(
        self, rows: np.ndarray | None, k: int, idx_dtype=np.int64
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        k = int(min(k, self.n))
        d2_out = np.full((len(rows), k), np.inf, dtype=np.float32)
        idx_out = np.full((len(rows), k), -1, dtype=idx_dtype)
        for pb, _, cand, _, d2 in self._blocks(rows, k):
            kk = min(k, len(cand))
            v, at = torch.topk(d2, kk, dim=1, largest=False, sorted=True)
            d2_out[pb, :kk] = v.cpu().numpy()
            idx_out[pb, :kk] = cand[at.cpu().numpy()]
        return d2_out, idx_out

    def range_counts(
        self, thresholds_sq: np.ndarray, labels: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """One pass over every row's candidates: ball sizes at several radii, and the nearest other label.

        Parameters
        ----------
        thresholds_sq : ndarray of shape (t,), ascending
            Squared radii (compared in float32, strictly: ``d² < δ²``).
        labels : ndarray of shape (n,), int, optional
            Pseudo-classes; with them, the squared distance to the nearest candidate of another one.

        Returns
        -------
        r2 : ndarray of shape (n,), float32, or None
            As :func:`nearest_other_sqdist` over the candidates (``inf`` if all share the label).
        counts : ndarray of shape (n, t), int32
            Candidates (the centre included) closer than each radius.
        """
        thr = np.asarray(thresholds_sq, dtype=np.float32)
        if thr.ndim != 1 or (np.diff(thr) < 0).any():
            raise InvalidInputError("thresholds_sq must be an ascending 1-d array.")
        thr_t = torch.from_numpy(thr).to(self.dev)
        t = len(thr)
        counts = np.empty((self.n, t), dtype=np.int32)
        r2 = None if labels is None else np.empty(self.n, dtype=np.float32)
        lab = (
            None
            if labels is None
            else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(self.dev)
        )
        for pb, q, _, cand_t, d2 in self._blocks(np.arange(self.n), 1):
            if t:
                rr, cc = (d2 < thr_t[-1]).nonzero(as_tuple=True)
                bucket = torch.bucketize(
                    d2[rr, cc], thr_t, right=True
                )  # radii ≤ d²: in the larger balls
                hist = torch.bincount(rr * (t + 1) + bucket, minlength=len(pb) * (t + 1)).view(
                    len(pb), t + 1
                )
                counts[pb] = hist.cumsum(1)[:, :t].cpu().numpy()
            if lab is not None:
                d2.masked_fill_(lab[q][:, None] == lab[cand_t][None, :], float("inf"))
                r2[pb] = d2.min(1).values.cpu().numpy()
        return r2, counts

    def range_graph(self, delta: float, counts: np.ndarray) -> BallGraph:
        """The δ-ball graph over the candidates, written straight into its CSR arrays.

        ``counts`` (shape (n,)): the ball sizes from :meth:`range_counts` at δ², which size the
        arrays before the pass (no second copy of the edges). The pass recomputes the same
        products; should a kernel round differently, a row keeps its ``counts`` nearest candidates.
        """
        counts = np.asarray(counts, dtype=np.int64)
        thr = np.float32(float(delta) ** 2)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        for pb, _, cand, _, d2 in self._blocks(np.arange(self.n), 1):
            want = torch.from_numpy(counts[pb]).to(self.dev)
            mask = d2 < float(thr)
            bad = mask.sum(1) != want
            if bool(bad.any()):
                rank = torch.argsort(torch.argsort(d2[bad], dim=1, stable=True), dim=1)
                mask[bad] = rank < want[bad, None]
            rr, cc = (v.cpu().numpy() for v in mask.nonzero(as_tuple=True))  # row-major
            seg = np.cumsum(counts[pb]) - counts[pb]
            indices[indptr[pb[rr]] + np.arange(len(rr)) - seg[rr]] = cand[cc]
        return BallGraph(indptr, indices, float(delta))


def ivf_ball_graph(
    x: np.ndarray,
    labels: np.ndarray | None,
    delta: float | None = None,
    n_iter: int = 6,
    threshold: float = 0.95,
    rule: str = "largest",
    seed: int = 0,
    device: str = "auto",
) -> tuple[BallGraph, dict, dict]:
    """ProbCover's δ search and δ-ball graph through the inverted lists (``index="ivf"``).

    Two passes over every row's candidates (:class:`_ListIndex`): the first gives each row's
    nearest other pseudo-class (for the purity bisection) together with its ball size at
    every δ the bisection can reach (:func:`bisection_grid`), the second writes the edges at
    the chosen δ into arrays sized by those counts. No neighbour lists, no list regrowth and
    no second copy of the edges, so memory is the pool plus the graph. With more than
    :data:`BISECTION_GRID_MAX` reachable radii the sizes take a pass of their own.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised rows.
    labels : ndarray of shape (n,), int, or None
        Pseudo-classes (needed when ``delta`` is None).
    delta : float, optional
        A fixed radius: no search, one counting pass.
    n_iter, threshold, rule
        As :func:`search_delta`.
    seed : int
        Seed of the coarse quantiser.
    device : str

    Returns
    -------
    graph : BallGraph
    search : dict
        :func:`search_delta`'s result (empty with a fixed ``delta``).
    stats : dict
        ``nlist`` and ``mean_candidates`` (distances computed per row and pass).
    """
    lx = _ListIndex(x, seed, device)
    search: dict = {}
    col = None  # ball sizes at δ
    if delta is None:
        if labels is None:
            raise InvalidInputError("ivf_ball_graph needs the pseudo-class labels to search δ.")
        grid = bisection_grid(n_iter)
        r2, counts = lx.range_counts(np.zeros(0) if grid is None else grid**2, labels)
        search = search_delta(r2, n_iter, threshold, rule)
        delta = search["delta"]
        if grid is not None:  # a copy: the (n, 63) int32 counts are freed before the edges exist
            col = counts[:, int(np.flatnonzero(grid == delta)[0])].copy()
        del counts
    if col is None:  # a fixed δ, or too many reachable radii: a counting pass of its own
        col = lx.range_counts(np.array([float(delta) ** 2]))[1][:, 0]
    g = lx.range_graph(float(delta), col)
    return g, search, {"nlist": lx.nlist, "mean_candidates": float(lx.n_candidates / max(1, lx.n))}


class KnnIndex:
    """An approximate index over L2-normalised rows that can be queried again with a larger k.

    ``"hnsw"``: ``faiss.IndexHNSWFlat(d, 32)``, efConstruction 80, efSearch max(2k, 128) per
    query; ``"ivf"``: inverted lists searched by matrix products (:class:`_ListIndex`:
    nlist = round(4 √n), the rows of the lists nearest each query's list up to
    :data:`IVF_NPROBE` lists of mean size, exact float32 distances, no copy of the pool). :func:`knn_lists` is one :meth:`search` of all rows.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    index : {"hnsw", "ivf"}
    seed : int
        Seed of the IVF coarse quantiser's k-means.
    device : str
        Device of the ``"ivf"`` matrix products (HNSW runs in faiss on the CPU).
    """

    def __init__(self, x: np.ndarray, index: str = "hnsw", seed: int = 0, device: str = "auto"):
        if index not in INDEXES[1:]:
            raise InvalidInputError(f"index must be one of {INDEXES[1:]}, got {index!r}.")
        self.kind = index
        if index == "ivf":
            self.lists = _ListIndex(x, seed, device)
            self.n = self.lists.n
            return
        import faiss

        self.x = np.ascontiguousarray(x, dtype=np.float32)
        n, d = self.x.shape
        self.n = n
        ix = faiss.IndexHNSWFlat(d, HNSW_M)
        ix.hnsw.efConstruction = 80
        ix.add(self.x)
        self.index = ix

    def search(
        self, rows: np.ndarray | None, k: int, idx_dtype=np.int64
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(d2, idx)`` of shape (len(rows), k): squared distances ascending (``inf`` / ``-1`` where
        missing); ``idx`` of ``idx_dtype`` (int32 halves the lists of a large pool)."""
        if self.kind == "ivf":
            return self.lists.search(rows, k, idx_dtype)
        k = int(min(k, self.n))
        self.index.hnsw.efSearch = max(2 * k, 128)
        q = self.x if rows is None else self.x[np.asarray(rows, dtype=np.int64)]
        d2, idx = self.index.search(q, k)
        d2 = np.where(idx < 0, np.inf, np.maximum(d2, 0)).astype(np.float32)
        return d2, idx.astype(idx_dtype)


class AdaptiveKnn:
    """Neighbour lists of every row that grow only where a query needs more (ProbCover's approximate path).

    Starts from one :meth:`KnnIndex.search` with ``k0`` neighbours for every row; rows whose
    list is too short for a question (their δ-ball fills the list, or no other pseudo-class
    is in it while the list ends inside the largest δ searched) are searched again with a
    doubled k, up to :data:`MAX_ADAPTIVE_K` (efSearch 2k for HNSW).
    Only those rows' longer lists are kept, so memory stays N·k0 plus the grown rows.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        L2-normalised rows.
    k0 : int
        Initial list length (``max_neighbors`` + 1, self included).
    index : {"hnsw", "ivf"}
    seed : int
    device : str
        Device of the ``"ivf"`` matrix products.
    """

    def __init__(
        self, x: np.ndarray, k0: int, index: str = "hnsw", seed: int = 0, device: str = "auto"
    ):
        self.ix = KnnIndex(x, index, seed, device)
        self.n = self.ix.n
        self.d2, self.idx = self.ix.search(
            None, k0, idx_dtype=np.int32
        )  # (n, k0): 8 bytes an entry
        self.k0 = self.d2.shape[1]
        self.long: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # row -> longer (d2, idx)
        self.n_requeried = 0
        self.max_k = self.k0

    def _grow(self, rows: np.ndarray, need) -> None:
        """Re-search ``rows`` with a doubled k while ``need(d2, idx, rows)`` says their list is too short.

        Each row starts from its current list; k stops at min(n, :data:`MAX_ADAPTIVE_K`), and a
        row still too short then stays so (counted by :meth:`n_capped`).
        """
        k_max = min(self.n, MAX_ADAPTIVE_K)
        pending: dict[int, list[int]] = {}
        for r in np.asarray(rows, dtype=np.int64).tolist():
            pending.setdefault(len(self.lists(r)[1]), []).append(r)
        while pending:
            k = min(pending)
            batch = np.asarray(pending.pop(k), dtype=np.int64)
            if k >= k_max:
                continue
            k2 = min(2 * k, k_max)
            d2, idx = self.ix.search(batch, k2)
            self.n_requeried += len(batch)
            self.max_k = max(self.max_k, k2)
            for r, a, b in zip(batch.tolist(), d2, idx):
                self.long[r] = (a, b)
            still = batch[need(d2, idx, batch)]
            if len(still):
                pending.setdefault(k2, []).extend(still.tolist())

    def lists(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """The current ``(d2, idx)`` list of row ``r``."""
        return self.long.get(r, (self.d2[r], self.idx[r]))

    def _ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Last squared distance and last index of every row's current list, shape (n,) each."""
        last_d2, last_idx = self.d2[:, -1].copy(), self.idx[:, -1].copy()
        for r, (a, b) in self.long.items():
            last_d2[r], last_idx[r] = a[-1], b[-1]
        return last_d2, last_idx

    def nearest_other_sqdist(self, labels: np.ndarray, max_sqdist: float) -> np.ndarray:
        """:func:`nearest_other_sqdist`, exact (up to the index's recall) wherever it is below ``max_sqdist``.

        Elsewhere it may be ``inf`` (the true value is then ≥ ``max_sqdist``), so purities at
        δ² ≤ ``max_sqdist`` are right.
        """
        labels = np.asarray(labels)

        def need(d2, idx, rows):
            return (
                np.isinf(nearest_other_sqdist_knn(d2, idx, labels, rows))
                & (idx[:, -1] >= 0)
                & (d2[:, -1] < max_sqdist)
            )

        def current_r2():
            r2 = np.empty(self.n, dtype=np.float32)
            for s in range(0, self.n, KNN_BLOCK_ROWS):  # row blocks: no (n, k) temporaries
                e = min(self.n, s + KNN_BLOCK_ROWS)
                r2[s:e] = nearest_other_sqdist_knn(
                    self.d2[s:e], self.idx[s:e], labels, np.arange(s, e)
                )
            for r, (a, b) in self.long.items():
                r2[r] = nearest_other_sqdist_knn(a[None], b[None], labels, np.array([r]))[0]
            return r2

        r2 = current_r2()
        last_d2, last_idx = self._ends()
        todo = np.isinf(r2) & (last_idx >= 0) & (last_d2 < max_sqdist)
        if todo.any():
            self._grow(np.flatnonzero(todo), need)
            r2 = current_r2()
        return r2

    def ball_graph(self, delta: float) -> BallGraph:
        """The δ-ball graph; rows whose ball fills their list are searched again until it does not."""
        thr = float(delta) ** 2

        def need(d2, idx, rows):
            return (idx[:, -1] >= 0) & (d2[:, -1] < thr)

        last_d2, last_idx = self._ends()
        self._grow(np.flatnonzero((last_idx >= 0) & (last_d2 < thr)), need)
        g = ball_graph_from_knn(self.d2, self.idx, delta)
        if not self.long:
            return g
        counts = g.degrees().copy()
        extra = {}
        for r, (a, b) in self.long.items():
            keep = (a < thr) & (b >= 0) & (b != r)
            extra[r] = np.concatenate([[r], b[keep]]).astype(np.int32)
            counts[r] = len(extra[r])
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        old_rows = np.ones(self.n, dtype=bool)
        old_rows[list(extra)] = False
        indices[np.repeat(old_rows, counts)] = g.indices[np.repeat(old_rows, g.degrees())]
        for r, members in extra.items():
            indices[indptr[r] : indptr[r + 1]] = members
        return BallGraph(indptr, indices, float(delta))

    def n_capped(self, delta: float) -> int:
        """Balls still filling their list at ``delta`` (0 unless a ball outgrew :data:`MAX_ADAPTIVE_K`)."""
        last_d2, last_idx = self._ends()
        short = np.full(self.n, self.k0 < self.n)
        for r, (_, b) in self.long.items():
            short[r] = len(b) < self.n
        return int(((last_idx >= 0) & (last_d2 < float(delta) ** 2) & short).sum())
