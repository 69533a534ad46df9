"""Lloyd's k-means with exact assignments that skip the points whose centroid cannot change.

Elkan's and Hamerly's bounds (Elkan 2003, "Using the triangle inequality to accelerate k-means";
Hamerly 2010, "Making k-means even faster"): every point keeps an upper bound ``u`` on the
distance to its centroid and a lower bound on the distance to each other centroid (Elkan: one
per centroid, up to :data:`ELKAN_MAX_ELEMENTS` points × centroids) or to all of them (Hamerly:
one per point). When the centroids move, ``u`` grows by its centroid's drift and each lower
bound shrinks by the drift of its centroid (Hamerly: by the largest drift of the others); a
point whose ``u`` stays below ``max(l, s)`` (``l``: its smallest lower bound; ``s``: half the
distance from its centroid to the nearest other centroid) keeps its centroid without a single
distance being computed. Elkan's bounds shrink only where centroids moved: once most centroids
have settled, far fewer points are compared again (at 35 000 × 100 clusters, a fifth fewer
rows over the run). Only the other points are compared with every centroid (one matrix
product over those rows). The assignments are therefore those of the plain iteration, and so are
the centroids: the bounds decide only which distances are computed, with a margin
(:data:`REL_SLACK`) that sends every near tie to the full comparison.

The iteration is faiss's: centroids are the means of their points, an empty cluster takes half of
a populated one (:func:`split_empty`), at most ``n_iter`` iterations, and it stops once no
assignment changes (the centroids would not move again: the fixed point the remaining iterations
would keep).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["lloyd_pruned", "assign_screened", "REL_SLACK", "SPLIT_EPS", "split_empty"]

#: Relative margin of the bounds' test: a point within it of a tie is compared in full.
REL_SLACK = 1e-4
#: Relative perturbation of a split centroid (faiss ``Clustering.cpp``: ``EPS = 1 / 1024``).
SPLIT_EPS = 1.0 / 1024
#: Distances per block of a full comparison (64 MiB of float32).
BLOCK_ELEMENTS = 1 << 24
#: Points × centroids up to which every point keeps one lower bound per centroid (Elkan 2003,
#: 128 MiB of float32); above it, one bound per point (Hamerly 2010).
ELKAN_MAX_ELEMENTS = 1 << 25
#: Rows per block of :func:`own_sq_dists` on CPU.
OWN_BLOCK_ROWS = 512


def split_empty(c: torch.Tensor, counts: np.ndarray, rng: np.random.Generator) -> int:
    """Give every empty cluster half of a populated one, as faiss does (in place).

    For each empty cluster, a cluster is drawn with probability proportional to its size − 1;
    the empty centroid becomes a copy of it, and the two are pushed apart by ±``SPLIT_EPS``
    relative, alternating signs over the dimensions. The counts are updated as faiss assumes (an
    even split). Returns the number of clusters split.
    """
    n_split = 0
    sign = torch.ones(c.shape[1], dtype=c.dtype, device=c.device)
    sign[1::2] = -1.0
    for ci in np.flatnonzero(counts == 0):
        w = np.maximum(counts - 1, 0).astype(np.float64)
        if w.sum() <= 0:
            break  # no cluster has two members to give
        cj = int(np.searchsorted(np.cumsum(w), rng.random() * w.sum(), side="right"))
        cj = min(cj, len(w) - 1)
        c[ci] = c[cj] * (1 + SPLIT_EPS * sign)
        c[cj] = c[cj] * (1 - SPLIT_EPS * sign)
        counts[ci] = counts[cj] // 2
        counts[cj] -= counts[ci]
        n_split += 1
    return n_split


class _Rows:
    """The points of one k-means: float32 rows, squared norms and norms, and (when screening is
    on) their bfloat16 copy for the screened comparisons of :func:`_nearest_two`."""

    def __init__(self, xt: torch.Tensor, screen: bool):
        self.xt = xt
        self.norm = torch.linalg.vector_norm(xt, dim=1)
        self.sq = self.norm.square()
        self.half = None
        if screen:
            self.half = torch.empty(xt.shape, dtype=torch.bfloat16, device=xt.device)
            for s in range(0, len(xt), 8192):
                self.half[s : s + 8192] = xt[s : s + 8192]


def _nearest_two(
    pts: _Rows, rows: torch.Tensor | None, c: torch.Tensor, all_bounds: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, torch.Tensor | None]:
    """For ``rows`` (all when None): the nearest centroid, its distance and the second distance.

    Screened (``pts.half`` set): the distances of a block come from one bfloat16 product, within
    ``2·tol·‖x‖·‖c‖`` of the float32 ones (:data:`alkit._kernels.screen.COS_TOL`); the rows whose
    two nearest are closer than that are compared again in float32. The result is the float32
    comparison's either way. Returns also the number of rows compared in float32 and, with
    ``all_bounds``, a lower bound on every row's distance to every other centroid (shape (n, k), inf
    at the row's own centroid; else None).
    """
    from .screen import COS_TOL

    k = len(c)
    c_sq = (c * c).sum(1)
    ch = None if pts.half is None or k == 1 else c.to(torch.bfloat16)
    # bound on |d̃² − d²| per unit of ‖x‖: the product's (2·tol·‖x‖·max‖c‖) and float32's own
    margin = 2.0 * COS_TOL[torch.bfloat16] * float(c_sq.max().sqrt())
    n = len(pts.xt) if rows is None else len(rows)
    dev = pts.xt.device
    lab = torch.empty(n, dtype=torch.int64, device=dev)
    d1 = torch.empty(n, dtype=pts.xt.dtype, device=dev)
    d2 = torch.empty(n, dtype=pts.xt.dtype, device=dev)
    lows = torch.empty((n, k), dtype=pts.xt.dtype, device=dev) if all_bounds else None
    n_exact = 0
    step = max(1, BLOCK_ELEMENTS // max(1, k))

    def exact(sel, xb, xs):
        dist = torch.mm(xb, c.T).mul_(-2.0).add_(xs[:, None]).add_(c_sq).clamp_min_(0)
        if k == 1:
            lab[sel], d1[sel], d2[sel] = 0, dist[:, 0], float("inf")
            return
        first, idx, second = _two_smallest(dist)
        lab[sel], d1[sel], d2[sel] = idx, first, second
        if lows is not None:  # the own column is inf after _two_smallest
            lows[sel] = dist

    def take(src, r, sl):  # rows of one block; a gather only of the rows asked for
        return src[sl] if r is None else src.index_select(0, r)

    for s in range(0, n, step):
        sl = slice(s, min(n, s + step))
        r = None if rows is None else rows[sl]
        xs = take(pts.sq, r, sl)
        if ch is None:
            exact(sl, take(pts.xt, r, sl), xs)
            n_exact += len(xs)
            continue
        dist = torch.mm(take(pts.half, r, sl), ch.T).float().mul_(-2.0).add_(xs[:, None]).add_(c_sq)
        first, idx, second = _two_smallest(dist)
        xn = take(pts.norm, r, sl)
        err = margin * xn + REL_SLACK * (xs + c_sq.max())  # |d̃² − d²| ≤ err for every centroid
        tie = second - first <= 2.0 * err
        lab[sl] = idx
        d1[sl] = first + err  # bounds (upper, lower) for the rows the screen settles
        d2[sl] = (second - err).clamp_min_(0)
        if lows is not None:
            lows[sl] = dist.sub_(err[:, None]).clamp_min_(0)
        amb = torch.nonzero(tie).squeeze(1)
        if len(amb):
            # only the near ties are read in float32
            xb = pts.xt.index_select(0, amb + s if r is None else r[amb])
            exact(amb + s, xb, xs[amb])
            n_exact += len(amb)
    return lab, d1.sqrt_(), d2.sqrt_(), n_exact, None if lows is None else lows.sqrt_()


def _two_smallest(dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per row of ``dist`` (k ≥ 2 columns, overwritten): the smallest value, its column (the
    first on ties, as ``argmin``) and the second smallest. Two ``min`` passes: about twice as
    fast on CPU as ``topk(2)``, whose tie order is unspecified."""
    first, idx = dist.min(1)
    dist.scatter_(1, idx[:, None], float("inf"))
    return first, idx, dist.min(1).values


def _half_gaps(c: torch.Tensor) -> torch.Tensor:
    """Half the distance from every centroid to its nearest other one, rounded down (a lower
    bound: the cancellation of ``‖a‖² + ‖b‖² − 2a·b`` is taken off before the square root)."""
    c_sq = (c * c).sum(1)
    cc = torch.mm(c, c.T).mul_(-2.0).add_(c_sq[:, None]).add_(c_sq[None, :])
    cc.sub_(1e-6 * (c_sq[:, None] + c_sq[None, :])).clamp_min_(0)
    cc.fill_diagonal_(float("inf"))
    return cc.min(1).values.sqrt_().mul_(0.5)


def assign_screened(xt: torch.Tensor, c: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row and its squared distance (float32), screened in bfloat16.

    The labels are those of the float32 comparison (:func:`_nearest_two`); the distances are
    float32, ``‖x‖² − 2 x·c + ‖c‖²`` with the row's own centroid, clamped at 0.
    """
    c = c.to(xt.dtype)
    pts = _Rows(xt, screen=True)
    lab, _, _, _, _ = _nearest_two(pts, None, c)
    return lab.cpu().numpy(), own_sq_dists(xt, c, lab, pts.sq)


def own_sq_dists(
    xt: torch.Tensor, c: torch.Tensor, lab: torch.Tensor, sq: torch.Tensor | None = None
) -> np.ndarray:
    """Squared float32 distance of every row to its own centroid ``c[lab]``,
    ``‖x‖² − 2 x·c + ‖c‖²`` clamped at 0 (``sq``: the rows' squared norms, if known)."""
    c = c.to(xt.dtype)
    if sq is None:
        sq = torch.linalg.vector_norm(xt, dim=1).square()
    c_sq = (c * c).sum(1)
    d2 = torch.empty(len(xt), dtype=xt.dtype, device=xt.device)
    # on CPU, blocks whose gathered centroids stay in cache (10× faster than 64 MiB blocks, the
    # same bits: each row's dot product does not depend on the block)
    step = OWN_BLOCK_ROWS if xt.device.type == "cpu" else max(1, BLOCK_ELEMENTS // xt.shape[1])
    for s in range(0, len(xt), step):
        sl = slice(s, min(len(xt), s + step))
        own = lab[sl]
        dots = torch.linalg.vecdot(xt[sl], c.index_select(0, own))
        d2[sl] = (sq[sl] - 2.0 * dots + c_sq[own]).clamp_min_(0)
    return d2.cpu().numpy()


def _means(xt: torch.Tensor, lab: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    sums = torch.zeros((k, xt.shape[1]), dtype=xt.dtype, device=xt.device).index_add_(0, lab, xt)
    counts = torch.bincount(lab, minlength=k)
    return sums, counts


def lloyd_pruned(
    xt: torch.Tensor,
    init: torch.Tensor,
    n_iter: int,
    rng: np.random.Generator,
    screen: bool = False,
) -> tuple[torch.Tensor, dict]:
    """Lloyd's k-means from ``init`` with exact, pruned assignments (see the module docstring).

    Parameters
    ----------
    xt : Tensor of shape (n, d), float32
    init : Tensor of shape (k, d)
        Initial centroids (copied).
    n_iter : int
        At most this many assignment + update rounds (faiss's ``niter``).
    rng : numpy Generator
        Draws the clusters that give half of their points to an empty one.
    screen : bool
        Compare the points with the centroids through a bfloat16 product first
        (:func:`_nearest_two`); the assignments are the same.

    Returns
    -------
    centroids : Tensor of shape (k, d)
    stats : dict
        ``iterations`` (rounds run), ``converged`` (stopped at a fixed point), ``full_rows``
        (rows compared with every centroid, summed over rounds), ``exact_rows`` (of those, rows
        compared in float32), ``n_split`` and, when converged, ``labels`` (Tensor of shape
        (n,): every row's nearest of the returned centroids, as :func:`assign_screened` gives).
    """
    n, _ = xt.shape
    c = init.to(xt.dtype).clone()
    k = len(c)
    pts = _Rows(xt, screen)
    # Elkan's bounds (one per point and centroid) where they fit, else Hamerly's single one
    per_centroid = k > 1 and n * k <= ELKAN_MAX_ELEMENTS
    lab, upper, lower, n_exact, lows = _nearest_two(pts, None, c, all_bounds=per_centroid)
    stats = {"iterations": 0, "converged": False, "full_rows": n, "exact_rows": n_exact}
    stats["n_split"] = 0
    for it in range(int(n_iter)):
        stats["iterations"] = it + 1
        sums, counts = _means(xt, lab, k)
        nonempty = counts > 0
        new = c.clone()
        new[nonempty] = sums[nonempty] / counts[nonempty, None].to(c.dtype)
        split = 0
        if not bool(nonempty.all()):
            split = split_empty(new, counts.cpu().numpy().copy(), rng)
            stats["n_split"] += split
        if it + 1 == int(n_iter):
            c = new
            break
        drift = torch.linalg.vector_norm(new - c, dim=1)
        c = new
        # bounds after the move: u grows by the own centroid's drift, each lower bound by its
        # centroid's (Elkan) or by the largest drift of the centroids a point is not assigned
        # to (Hamerly)
        upper.add_(drift[lab])
        if lows is not None:  # each bound shrinks by its own centroid's drift
            lower = lows.sub_(drift).min(1).values
            bound = torch.maximum(lower, _half_gaps(c)[lab])
        elif k > 1:
            top2 = torch.topk(drift, 2).values
            lower.sub_(torch.where(lab == int(torch.argmax(drift)), top2[1], top2[0]))
            bound = torch.maximum(lower, _half_gaps(c)[lab])
        else:
            bound = torch.full_like(upper, float("inf"))
        # near ties (within the margin) are settled by the full comparison, never by the bounds
        todo = torch.nonzero(upper * (1 + REL_SLACK) >= bound).squeeze(1)
        changed = 0
        if len(todo):
            stats["full_rows"] += len(todo)
            every = len(todo) > n // 2  # a contiguous pass beats a gather of most rows
            new_lab, d1, d2, n_exact, new_lows = _nearest_two(
                pts, None if every else todo, c, all_bounds=lows is not None
            )
            stats["exact_rows"] += n_exact
            if every:
                changed = int((new_lab != lab).sum())
                lab, upper, lower, lows = new_lab, d1, d2, new_lows
            else:
                changed = int((new_lab != lab[todo]).sum())
                lab[todo], upper[todo], lower[todo] = new_lab, d1, d2
                if lows is not None:
                    lows[todo] = new_lows
        if changed == 0 and split == 0:  # the next means are these centroids: a fixed point
            stats["converged"] = True
            stats["labels"] = lab  # the nearest of c for every row: no assignment pass needed
            break
    return c, stats
