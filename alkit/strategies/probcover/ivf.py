"""ProbCover's ``index="ivf"`` graph: range passes over inverted lists, for large pools.

Every list searches its 32 nearest inverted lists (counted in lists of mean size); a pair of rows
is evaluated when either row's list searches the other's, once, for both rows. Pass 1 goes over
those pairs, screened in bfloat16 (:mod:`alkit._kernels.near_pairs`: only the candidates that may
lie inside the largest radius are compared in float32), and records the nearest other
pseudo-class (for the purity bisection), keeping the pairs inside the largest δ the bisection can
reach while they fit in memory; the graph at the
chosen δ is cut from them, or, when they did not fit, pass 2 keeps the pairs inside the chosen δ
only. Distances are exact float32; edges are missed only between lists that do not search one
another (measured in ``docs/strategies_representative.md``).

With pseudo-classes given, the inverted lists are nested in them (:func:`_group_lists`: a small
k-means inside each pseudo-class) instead of coming from a k-means of the whole pool with every
list a centroid, which at 1.28M rows and 4 500 lists cost minutes.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._devices import resolve_device
from ..._kernels import screen
from ..._kernels.near_pairs import screen_cut, symmetric_pairs
from ..._kernels.norms import row_sq_norms
from ...cluster import assign, kmeans
from ...errors import InvalidInputError
from .graph import (
    BLOCK_ELEMENTS,
    BallGraph,
    ball_graph_from_pairs,
    bisection_grid,
    keep_pairs_bytes,
    search_delta,
)

__all__ = ["ivf_ball_graph", "IVF_NPROBE"]

IVF_NPROBE = 32  # lists searched per query list, counted in lists of mean size
IVF_TRAIN_PER_LIST = 64  # coarse k-means training rows per list
IVF_TRAIN_ITER = 10  # coarse k-means iterations
#: Screen the range passes' candidates in bfloat16 (:mod:`alkit._kernels.near_pairs`); False:
#: every candidate distance in float32 (the same pairs, slower).
SCREEN = True
#: Nest the inverted lists in the pseudo-classes when they are given (False: one coarse k-means).
GROUP_LISTS = True


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
    but the per-list candidate rows (and, for the range passes' screen, a bfloat16 copy of the
    pool, freed after each pass), so memory is the pool plus the output (faiss
    ``IndexIVFFlat`` would hold a second float32 copy: 7.9 GB at 1.28M × 1536).
    Deterministic for a seed.

    Two uses: :meth:`search` (k nearest neighbours, for :class:`KnnIndex`) and the range
    passes of ProbCover (:meth:`range_counts`, then :meth:`kept_graph` or :meth:`range_graph`),
    which see each pair of rows of lists that search one another once per pass
    (:meth:`list_pairs`) and so need no neighbour lists at all.
    """

    def __init__(
        self,
        x: np.ndarray,
        seed: int = 0,
        device: str = "auto",
        groups: np.ndarray | None = None,
    ):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        n, d = self.x.shape
        self.n = n
        self.dev = resolve_device(device)
        self.xt = torch.from_numpy(self.x).to(self.dev)
        self.sq = row_sq_norms(self.xt)
        nlist = int(max(1, min(n // 39 or 1, round(4 * np.sqrt(n)))))
        rng = np.random.default_rng(seed)
        if groups is not None:
            labels, centroids = _group_lists(self.x, groups, n / nlist, rng)
            nlist = len(centroids)
        else:
            n_train = min(n, IVF_TRAIN_PER_LIST * nlist)
            train = (
                self.x[np.sort(rng.choice(n, n_train, replace=False))] if n_train < n else self.x
            )
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
        self.kept = None  # pairs inside the largest radius of the last counting pass, if kept
        self.h = None  # bfloat16 unit rows for the range passes' screen, built on first use
        self.n_screened_out = 0  # candidate distances the screen spared the last pass

    def _probed(self, lst: int, k: int) -> np.ndarray:
        """The lists ``lst`` searches: nearest centroids first (its own first), until they hold
        :data:`IVF_NPROBE` lists of mean size, or ``k`` rows."""
        need = max(int(k), min(self.n, -(-IVF_NPROBE * self.n // self.nlist)))
        lists = self.probe_order[lst]
        p = min(self.nlist, int(np.searchsorted(np.cumsum(self.sizes[lists]), need)) + 1)
        return lists[:p]

    def _rows_of(self, lists: np.ndarray) -> np.ndarray:
        return np.concatenate([self.order[self.starts[j] : self.starts[j + 1]] for j in lists])

    def _candidates(self, lst: int, k: int) -> np.ndarray:
        return self._rows_of(self._probed(lst, k))

    def list_pairs(self) -> list[np.ndarray]:
        """For every list i, the lists j ≥ i that i searches or that search i (ascending, i first):
        each pair of lists that either side would search, once."""
        probed = [self._probed(i, 1).astype(np.int64) for i in range(self.nlist)]
        a = np.repeat(np.arange(self.nlist, dtype=np.int64), [len(p) for p in probed])
        b = np.concatenate(probed)
        lo, hi = np.divmod(np.unique(np.minimum(a, b) * self.nlist + np.maximum(a, b)), self.nlist)
        bounds = np.searchsorted(lo, np.arange(self.nlist + 1))
        return [hi[bounds[i] : bounds[i + 1]] for i in range(self.nlist)]

    def _screen(self, radius_sq: float | None) -> float | None:
        """The screen's cosine cut for a range pass at ``radius_sq`` (building ``self.h``, the
        bfloat16 unit rows, on first use), or None when nothing is screened: no radius,
        screening off, rows not unit, or a radius no cosine can rule out
        (:mod:`alkit._kernels.near_pairs`)."""
        if radius_sq is None or not SCREEN:
            return None
        if not screen.enabled(self.n, self.dev, torch.bfloat16, nbytes=2 * self.x.size):
            return None
        cut = screen_cut(self.sq, radius_sq)
        if cut == -float("inf"):
            return None
        if self.h is None:
            self.h = screen.UnitHalf(
                [(0, self.xt)], self.n, self.x.shape[1], self.dev, torch.bfloat16
            )
        return cut

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
            # index_select: several times faster than x[idx] for row gathers on CPU
            xc, sq_c = self.xt.index_select(0, cand_t), self.sq[cand_t]
            step = max(1, BLOCK_ELEMENTS // max(1, len(cand)))
            self.n_candidates += len(pos) * len(cand)
            for s in range(0, len(pos), step):
                pb = pos[s : s + step]
                q = torch.from_numpy(rows[pb]).to(self.dev)
                d2 = torch.addmm(
                    self.sq[q, None] + sq_c[None, :], self.xt.index_select(0, q), xc.T, alpha=-2.0
                ).clamp_min_(0)
                d2.masked_fill_(q[:, None] == cand_t[None, :], 0.0)  # centre ∈ ball, as exact
                yield pb, q, cand, cand_t, d2

    def _pair_blocks(self, radius_sq: float | None):
        """Yield ``(q, c, d2)`` so that every unordered pair of rows whose lists search one another
        (:meth:`list_pairs`) is in exactly one block: row ids ``q`` (tensor), column ids ``c``
        (tensor) and their (len(q), len(c)) float32 squared distances, ``inf`` where the pair is
        not the block's (within a list, only a column after its row; never the row itself).

        Each distance serves both of its rows (half the products of searching every list's pairs
        from both sides, and the graph is symmetric). With ``radius_sq`` the columns are screened
        in bfloat16 first (:mod:`alkit._kernels.near_pairs`): those whose cosine with every row of
        the block proves them at or beyond the radius are left out of the float32 product and of
        the block (they hold no pair inside it)."""
        cut = self._screen(radius_sq)
        self.n_candidates = 0
        self.n_screened_out = 0
        # a list that many lists search pairs with all of them: its candidates are taken a
        # search's worth of rows at a time (bounded memory however many lists search it)
        cap = min(self.n, -(-IVF_NPROBE * self.n // self.nlist))
        for i, lists in enumerate(self.list_pairs()):
            m = int(self.sizes[i])
            if not m:
                continue
            q_all = torch.from_numpy(self.order[self.starts[i] : self.starts[i + 1]]).to(self.dev)
            ends = np.cumsum(self.sizes[lists])  # rows up to and including each list
            first, done = 0, 0
            while first < len(lists):  # list i itself opens the first chunk
                last = int(np.searchsorted(ends, done + max(cap, m), side="right"))
                last = max(first + 1, last)
                yield from self._pair_chunk(q_all, lists[first:last], cut, own=first == 0)
                first, done = last, int(ends[last - 1])

    def _pair_chunk(self, q_all: torch.Tensor, lists: np.ndarray, cut: float | None, own: bool):
        """The blocks of :meth:`_pair_blocks` for the rows ``q_all`` of one list against the rows
        of ``lists`` (starting with that list itself when ``own``)."""
        cand_t = torch.from_numpy(self._rows_of(lists)).to(self.dev)
        if cut is None:
            xc, sq_c = self.xt.index_select(0, cand_t), self.sq[cand_t]
        else:
            hc = self.h.h.index_select(0, cand_t)
        m = len(q_all)
        step = max(1, BLOCK_ELEMENTS // max(1, len(cand_t)))
        for s in range(0, m, step):
            e = min(m, s + step)
            q = q_all[s:e]
            self.n_candidates += (e - s) * len(cand_t)
            if cut is None:
                at, xs, sq_s = torch.arange(len(cand_t), device=self.dev), xc, sq_c
            else:
                hq = self.h.h.index_select(0, q)
                at = ((hq @ hc.T).amax(0).float() > cut).nonzero().squeeze(1)
                self.n_screened_out += (e - s) * (len(cand_t) - len(at))
                xs, sq_s = self.xt.index_select(0, cand_t[at]), self.sq[cand_t[at]]
            d2 = torch.addmm(
                self.sq[q, None] + sq_s[None, :], self.xt.index_select(0, q), xs.T, alpha=-2.0
            ).clamp_min_(0)
            # the list's own pairs once: a column at or before its row's position is not ours
            if own:
                d2.masked_fill_(
                    at[None, :] <= torch.arange(s, e, device=self.dev)[:, None], float("inf")
                )
            yield q, cand_t[at], d2

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
        self,
        thresholds_sq: np.ndarray,
        labels: np.ndarray | None = None,
        keep_bytes: int = 0,
        count: bool = True,
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """One pass over the pairs of searching lists: ball sizes at several radii, and the nearest other label.

        Every pair of rows whose lists search one another is computed once (:meth:`_pair_blocks`)
        and counted for both rows. With ``keep_bytes`` > 0 the pass also keeps every pair closer
        than the largest radius (its float32 d²) in ``self.kept`` while they fit in
        ``keep_bytes`` (else ``self.kept`` is None): :meth:`kept_graph` then needs no second pass.

        Parameters
        ----------
        thresholds_sq : ndarray of shape (t,), ascending
            Squared radii (compared in float32, strictly: ``d² < δ²``).
        labels : ndarray of shape (n,), int, optional
            Pseudo-classes; with them, the squared distance to the nearest candidate of another one.
        count : bool
            Count the ball sizes (False: ``counts`` is None; the δ search needs only ``r2`` and
            the kept pairs, so :func:`ivf_ball_graph` spares the (n, t + 1) histogram).

        Returns
        -------
        r2 : ndarray of shape (n,), float32, or None
            As :func:`nearest_other_sqdist` over the candidates (``inf`` if all share the label);
            with thresholds, exact below the largest and ``inf`` or some value at or beyond it
            elsewhere (the screen leaves far candidates out: every radius finds those balls pure).
        counts : ndarray of shape (n, t), int32, or None
            Candidates (the centre included) closer than each radius.
        """
        thr = np.asarray(thresholds_sq, dtype=np.float32)
        if thr.ndim != 1 or (np.diff(thr) < 0).any():
            raise InvalidInputError("thresholds_sq must be an ascending 1-d array.")
        thr_t = torch.from_numpy(thr).to(self.dev)
        t = len(thr)
        hist = torch.zeros(self.n * (t + 1), dtype=torch.int32, device=self.dev) if count else None
        r2 = None if labels is None else torch.full((self.n,), float("inf"), device=self.dev)
        lab = (
            None
            if labels is None
            else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(self.dev)
        )
        kept = [] if keep_bytes > 0 and t else None
        n_kept = 0
        # the screen needs a radius: with none (the nearest other label everywhere) no screen
        for q, c, d2 in self._pair_blocks(float(thr[-1]) if t else None):
            if t:
                rr, cc = (d2 < thr_t[-1]).nonzero(as_tuple=True)
                a, b, inside = q[rr], c[cc], d2[rr, cc]
                if hist is not None:
                    bucket = torch.bucketize(inside, thr_t, right=True)  # radii ≤ d²: larger balls
                    one = torch.ones(len(a), dtype=torch.int32, device=self.dev)
                    hist.index_add_(0, a * (t + 1) + bucket, one)
                    hist.index_add_(0, b * (t + 1) + bucket, one)
                if kept is not None:
                    n_kept += len(a)
                    if n_kept * 12 > keep_bytes:
                        kept = None  # too many pairs to hold: the graph takes its own pass
                    else:
                        kept.append(
                            (
                                a.to(torch.int32).cpu().numpy(),
                                b.to(torch.int32).cpu().numpy(),
                                inside.cpu().numpy(),
                            )
                        )
            if lab is not None and d2.shape[1]:
                d2.masked_fill_(lab[q][:, None] == lab[c][None, :], float("inf"))
                r2.scatter_reduce_(0, q, d2.min(1).values, "amin")
                r2.scatter_reduce_(0, c, d2.min(0).values, "amin")
        self.h = None  # the bfloat16 copy is only for the passes
        counts = None
        if hist is not None:  # + the centre
            counts = (
                hist.view(self.n, t + 1).cumsum(1, dtype=torch.int32)[:, :t].add_(1).cpu().numpy()
            )
        self.kept = None if kept is None else symmetric_pairs(kept, self.n)
        return (None if r2 is None else r2.cpu().numpy()), counts

    def kept_graph(self, delta: float) -> BallGraph:
        """The δ-ball graph from the pairs kept by :meth:`range_counts` (δ at most its largest
        radius): :meth:`range_graph`'s graph, with no pass."""
        g = ball_graph_from_pairs(self.kept, delta)
        self.kept = None
        return g

    def range_graph(self, delta: float) -> BallGraph:
        """The δ-ball graph over the pairs of searching lists, from a pass of its own (for when
        :meth:`range_counts` could not keep its pairs): the pairs inside δ only."""
        thr = np.float32(float(delta) ** 2)
        parts = []
        for q, c, d2 in self._pair_blocks(float(thr)):
            rr, cc = (d2 < float(thr)).nonzero(as_tuple=True)
            parts.append(
                (
                    q[rr].to(torch.int32).cpu().numpy(),
                    c[cc].to(torch.int32).cpu().numpy(),
                    d2[rr, cc].cpu().numpy(),
                )
            )
        self.h = None
        return ball_graph_from_pairs(symmetric_pairs(parts, self.n), delta)


def _group_lists(
    x: np.ndarray, groups: np.ndarray, mean_size: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted lists nested in ``groups`` (the pseudo-classes): each group of m rows is split by
    its own k-means (round(m / mean_size) lists, at least one; :data:`IVF_TRAIN_ITER` Lloyd rounds
    from random rows of the group; a list left empty keeps its centroid and no rows). Returns every
    row's list and the lists' centroids.

    The groups are a k-means of the whole pool already, so the lists cost a small k-means per
    group (m · m / mean_size · d per round) instead of one over the pool with every list as a
    centroid (n · n / mean_size · d): seconds instead of minutes at 1.28M rows. Each group's
    k-means is a few small numpy products (no thread pool to wake for each of them).
    """
    groups = np.asarray(groups, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    _, first = np.unique(groups[order], return_index=True)
    bounds = np.append(first, len(order))
    labels = np.empty(len(groups), dtype=np.int64)
    cents = []
    offset = 0  # lists made so far
    for g in range(len(first)):
        rows = order[bounds[g] : bounds[g + 1]]
        xg = x[rows]
        k = int(max(1, min(len(rows), round(len(rows) / mean_size))))
        c = xg[np.sort(rng.choice(len(rows), k, replace=False))].copy()
        lab = np.zeros(len(rows), dtype=np.int64)
        if k > 1:
            x_sq = np.einsum("ij,ij->i", xg, xg)
            for it in range(IVF_TRAIN_ITER + 1):
                d2 = x_sq[:, None] - 2.0 * (xg @ c.T) + np.einsum("ij,ij->i", c, c)
                new = d2.argmin(1)
                if it and np.array_equal(new, lab):
                    break
                lab = new
                if it == IVF_TRAIN_ITER:
                    break
                counts = np.bincount(lab, minlength=k)
                if k <= 64:  # the sums as one small product with the one-hot assignment
                    sums = (lab[None, :] == np.arange(k)[:, None]).astype(xg.dtype) @ xg
                else:  # index_add_: row by row as np.add.at, without its per-element dispatch
                    sums = (
                        torch.zeros(c.shape, dtype=torch.float32)
                        .index_add_(0, torch.from_numpy(lab), torch.from_numpy(xg))
                        .numpy()
                    )
                live = counts > 0
                c[live] = sums[live] / counts[live, None]
        labels[rows] = offset + lab
        cents.append(c)
        offset += k
    return labels, np.concatenate(cents)


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

    One screened pass over the pairs of rows whose lists search one another
    (:meth:`_ListIndex.range_counts`, not counting ball sizes) gives each row's nearest other
    pseudo-class (for the purity bisection) and keeps the pairs inside the largest δ the
    bisection can reach (:func:`bisection_grid`); the graph at the chosen δ is cut from those
    pairs. When they would fill more than
    :data:`~alkit.strategies.probcover.graph.KEEP_PAIRS_FRACTION` of the free memory, they are
    dropped and a second pass keeps only the pairs inside the chosen δ. With more than
    :data:`BISECTION_GRID_MAX` reachable radii the first pass is unscreened (the nearest other
    pseudo-class is then needed at any distance). With ``labels`` the lists are nested in the
    pseudo-classes (:data:`GROUP_LISTS`).

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
        Seed of the lists' k-means (the coarse quantiser's, or those inside the pseudo-classes).
    device : str

    Returns
    -------
    graph : BallGraph
    search : dict
        :func:`search_delta`'s result (empty with a fixed ``delta``).
    stats : dict
        ``nlist``, ``mean_candidates`` (distances computed in the first pass per row, each
        serving both of its rows) and ``passes`` over the pairs (1: the kept pairs sufficed).
    """
    lx = _ListIndex(x, seed, device, groups=labels if GROUP_LISTS else None)
    search: dict = {}
    if delta is None:
        if labels is None:
            raise InvalidInputError("ivf_ball_graph needs the pseudo-class labels to search δ.")
        grid = bisection_grid(n_iter)
        r2, _ = lx.range_counts(
            np.zeros(0) if grid is None else grid**2,
            labels,
            keep_bytes=keep_pairs_bytes(),
            count=False,
        )
        search = search_delta(r2, n_iter, threshold, rule)
        delta = search["delta"]
    else:
        lx.range_counts(np.array([float(delta) ** 2]), keep_bytes=keep_pairs_bytes(), count=False)
    stats = {
        "nlist": lx.nlist,
        "mean_candidates": float(lx.n_candidates / max(1, lx.n)),
        "passes": 1 if lx.kept is not None else 2,
    }
    if lx.kept is not None:
        return lx.kept_graph(float(delta)), search, stats
    return lx.range_graph(float(delta)), search, stats
