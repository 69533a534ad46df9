"""ProbCover's ``index="hnsw"`` graph: neighbour lists that grow only where a ball needs it.

Each point starts with ``max_neighbors`` + 1 neighbours (faiss HNSW); the points whose δ-ball (or
nearest other pseudo-class) lies beyond their list are searched again with a doubled k, up to
:data:`MAX_ADAPTIVE_K`; the ball graph and the nearest other pseudo-class come from the lists.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidInputError
from .graph import INDEXES, BallGraph
from .ivf import _ListIndex

__all__ = [
    "knn_lists",
    "ball_graph_from_knn",
    "nearest_other_sqdist_knn",
    "KnnIndex",
    "AdaptiveKnn",
    "MAX_ADAPTIVE_K",
    "HNSW_M",
]

KNN_BLOCK_ROWS = 65536  # rows per block of the neighbour-list bookkeeping
HNSW_M = 32  # links per node of faiss.IndexHNSWFlat
MAX_ADAPTIVE_K = 1 << 14  # longest neighbour list of the adaptive re-queries


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
