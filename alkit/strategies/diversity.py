"""Diversity strategies on the probe embedding: CoreSet, BADGE and ALFA-Mix.

All three work on the probe embedding z (the BatchNorm output in eval mode,
``probe.embed``), in torch on the probe's device, chunked over the pool so that memory
stays linear in N: nothing N × N and, for BADGE, nothing N × (d·C).

References
----------
Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
Approach", ICLR 2018.
Ash, Zhang, Krishnamurthy, Langford & Agarwal, "Deep Batch Active Learning by Diverse,
Uncertain Gradient Lower Bounds", ICLR 2020.
Parvaneh, Abbasnejad, Teney, Haffari, van den Hengel & Shi, "Active Learning by Feature
Mixing", CVPR 2022.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._kernels import screen as _screen
from .._kernels.norms import row_sq_norms
from .._utils import memory_headroom_bytes, resolve_device
from ..cluster import kmeans_nearest
from ..errors import InvalidInputError
from ..pool import Pool, Selection, top_up
from .base import embed_rows, pool_blocks

__all__ = [
    "coreset",
    "badge",
    "alfamix",
    "kcenter_greedy",
    "badge_seeds",
    "gradient_sq_dists",
    "alfamix_candidates",
    "class_anchors",
]

CORESET_PAPER = (
    "Sener & Savarese, 'Active Learning for Convolutional Neural Networks: "
    "A Core-Set Approach', ICLR 2018"
)
BADGE_PAPER = (
    "Ash et al., 'Deep Batch Active Learning by Diverse, Uncertain Gradient Lower "
    "Bounds', ICLR 2020"
)
ALFAMIX_PAPER = "Parvaneh et al., 'Active Learning by Feature Mixing', CVPR 2022"

CHUNK_ROWS = 16384  # rows per chunk of ALFA-Mix's candidate test
BLOCK_ELEMENTS = 1 << 22  # elements of one (rows × labeled) block of CoreSet's first pass
F64_COPY_MAX_BYTES: int | None = None  # float64 copy limit; None = min(8 GiB, MemAvailable / 4)
F64_BLOCK_ROWS = 16384  # rows per float64 conversion block (a multiple of 64: same BLAS tiles)
BADGE_STORE_Z_MAX_BYTES: int | None = (
    None  # above it BADGE recomputes z per pass; None = 2 × the float64 copy limit (MemAvailable / 2, 4–16 GiB)
)


# ---------------------------------------------------------------------------- helpers
def _torch_device(probe, device: str) -> torch.device:
    """The probe's device when it has one (a real probe), else ``device`` resolved."""
    dev = getattr(probe, "device", None)
    if isinstance(dev, torch.device):
        return dev
    return resolve_device(device)


def _as_tensor(
    x: np.ndarray, dev: torch.device, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).to(dev, dtype)


def _f64_copy_limit() -> int:
    """Bytes up to which :class:`_F64Rows` makes one float64 copy (see :data:`F64_COPY_MAX_BYTES`)."""
    if F64_COPY_MAX_BYTES is not None:
        return int(F64_COPY_MAX_BYTES)
    return int(min(8 << 30, max(2 << 30, memory_headroom_bytes() // 4)))


def _store_z_limit() -> int:
    """Bytes of float32 probe embeddings BADGE keeps in memory (see :data:`BADGE_STORE_Z_MAX_BYTES`)."""
    if BADGE_STORE_Z_MAX_BYTES is not None:
        return int(BADGE_STORE_Z_MAX_BYTES)
    return 2 * _f64_copy_limit()  # a float32 array of the float64 copy limit's element count


class _F64Rows:
    """An (n, d) matrix read in float64: one float64 copy, or float32 converted per block.

    Up to :func:`_f64_copy_limit` bytes the float64 copy is made once; above it (e.g. 1.28M ×
    1536, 15.7 GB in float64) the float32 rows are kept and each pass converts blocks of
    :data:`F64_BLOCK_ROWS` rows. The float64 values are the same either way, and the blocks
    start at multiples of 64 rows, so every product is bit-identical to the one-copy path.
    """

    def __init__(self, x: np.ndarray, dev: torch.device):
        n, d = x.shape
        self.n = n
        self.buf: torch.Tensor | None = None
        if n * d * 8 <= _f64_copy_limit():
            self.full: torch.Tensor | None = _as_tensor(x, dev, torch.float64)
            self.x32 = None
        else:
            self.full = None
            self.x32 = _as_tensor(x, dev, torch.float32)
            # one reused conversion buffer: a fresh 200 MB block per pass costs page faults
            self.buf = torch.empty((min(n, F64_BLOCK_ROWS), d), dtype=torch.float64, device=dev)

    def blocks(self, rows: int = F64_BLOCK_ROWS):
        """Yield ``(start, stop, float64 block)``; the whole matrix at once when copied."""
        if self.full is not None:
            yield 0, self.n, self.full
            return
        for s in range(0, self.n, rows):
            xb = self.slice(s, s + rows)
            yield s, s + len(xb), xb

    def row(self, i: int) -> torch.Tensor:
        return self.full[i] if self.full is not None else self.x32[i].to(torch.float64)

    def slice(self, s: int, e: int) -> torch.Tensor:
        """Rows ``s:e`` in float64 (a view of the conversion buffer: use it before the next call)."""
        if self.full is not None:
            return self.full[s:e]
        src = self.x32[s:e]
        if len(src) <= len(self.buf):
            return self.buf[: len(src)].copy_(src)
        return src.to(torch.float64)

    def sq_norms(self) -> torch.Tensor:
        """Row squared norms, shape (n,), float64."""
        return torch.cat([(xb * xb).sum(1) for _, _, xb in self.blocks()])


class _LazyF64Rows(_F64Rows):
    """Like :class:`_F64Rows` for a matrix that is never stored: ``rows_fn(idx)`` recomputes
    rows ``idx`` (a slice or an index array) in float32 (BADGE's probe embeddings from the pool features) and each block is
    converted to float64 at the same block boundaries as the stored path, so every product is
    bit-identical to it. Costs one recomputation per pass instead of an (n, d) array.
    """

    def __init__(self, rows_fn, n: int, d: int, dev: torch.device):
        self.n, self.d, self.full, self.x32 = n, d, None, None
        self.rows_fn, self.dev = rows_fn, dev
        self.buf = torch.empty((min(n, F64_BLOCK_ROWS), d), dtype=torch.float64, device=dev)

    def row(self, i: int) -> torch.Tensor:
        return _as_tensor(self.rows_fn(slice(i, i + 1)), self.dev)[0].to(torch.float64)

    def take32(self, idx: np.ndarray | torch.Tensor | slice) -> torch.Tensor:
        """Rows ``idx`` (an index array or tensor, or a slice) recomputed, float32."""
        if isinstance(idx, torch.Tensor):
            idx = idx.cpu().numpy()
        return _as_tensor(self.rows_fn(idx), self.dev)

    def slice(self, s: int, e: int) -> torch.Tensor:
        src = self.take32(slice(s, min(e, self.n)))
        if len(src) <= len(self.buf):
            return self.buf[: len(src)].copy_(src)
        return src.to(torch.float64)


def _lazy_embeddings(
    probe, pool: Pool, rows: np.ndarray, dev: torch.device, d: int | None = None
) -> _LazyF64Rows:
    """The probe embeddings of ``pool.x[rows]``, never stored: recomputed from the pool where read
    (``d``: their width, by default the feature width, as for a linear probe)."""
    return _LazyF64Rows(
        lambda idx: embed_rows(probe, pool.x, rows[idx]),
        len(rows),
        pool.x.shape[1] if d is None else d,
        dev,
    )


def _gradient_factor(proba: np.ndarray) -> np.ndarray:
    """BADGE's δ = p − onehot(argmax p), float32, shape (n, C)."""
    db = np.array(proba, dtype=np.float32)
    db[np.arange(len(db)), db.argmax(1)] -= 1.0
    return db


def _row_source(x, dev: torch.device):
    """``(take, n, d)``: float32 rows (by slice or index) of a stored matrix or a :class:`_LazyF64Rows`."""
    if isinstance(x, _LazyF64Rows):
        return x.take32, x.n, x.d
    if isinstance(x, _F64Rows):
        x32 = x.x32 if x.x32 is not None else x.full.to(torch.float32)
    else:
        x32 = _as_tensor(np.asarray(x), dev)
    return x32.__getitem__, x32.shape[0], x32.shape[1]


def _sq_norms64_and_blocks(take, n: int, sq_out: torch.Tensor, rows: int = F64_BLOCK_ROWS):
    """Yield ``(start, float32 block)`` over all rows, filling ``sq_out`` with their float64
    squared norms (cache-sized pieces: the bits of one pass) on the way."""
    for s in range(0, n, rows):
        xb = take(slice(s, min(n, s + rows)))
        sq_out[s : s + len(xb)] = row_sq_norms(xb, 512, torch.float64)  # cache-sized float64 pieces
        yield s, xb


# The greedy distances (CoreSet, BADGE) are float64: the ‖a‖² − 2a·b + ‖b‖² expansion then
# has no cancellation error between close points, so the picks do not depend on the BLAS or
# the device (and match float64 references exactly). CoreSet evaluates only the rows its lazy
# search refreshes and makes no copy. BADGE's unscreened passes make one float64 copy of the
# (n, d) embedding up front (converting on every pass was measured 12× slower on CPU) unless
# it exceeds F64_COPY_MAX_BYTES: then blocks are converted per pass (_F64Rows), with
# bit-identical products.


# ---------------------------------------------------------------------------- CoreSet
KCENTER_BATCH = 64  # stale rows re-evaluated together by the lazy k-center (doubled per round)
KCENTER_BOUND_ROWS = (
    4096  # rows per block of the bound pass (recomputed blocks stay below glibc's mmap threshold)
)


def _kcenter_bounds(
    take, n: int, d: int, x_sq: torch.Tensor, centres: torch.Tensor
) -> torch.Tensor:
    """Fill ``x_sq`` (float64 squared row norms) and return an upper bound on every row's squared
    distance to its nearest centre: its distance to the centre that a low-precision product
    (bfloat16 on pools of at least :data:`alkit._screen.MIN_ROWS` rows, else float32) ranks
    nearest, from float32 products summed in float64 plus their rounding bound. The product only
    chooses the centre, so the bound holds at any precision, and it is within that rounding of the
    true minimum wherever the choice is right; ``inf`` with no centres. The blocks reuse
    preallocated buffers (fresh large temporaries cost a page fault per 4 KiB)."""
    dev = x_sq.device
    ub = torch.full((n,), math.inf, dtype=torch.float64, device=dev)
    m = len(centres)
    low = torch.bfloat16 if (n >= _screen.MIN_ROWS and _screen.ENABLED) else torch.float32
    if m:
        c_sq = (centres * centres).sum(1)
        c32 = centres.to(torch.float32)
        c_lowT = centres.to(low).T
        c_sq32 = c_sq.to(torch.float32)
        rows = max(1, min(n, (BLOCK_ELEMENTS // 4) // m))  # cache-sized (rows × centres) blocks
        xl = torch.empty((rows, d), dtype=low, device=dev)
        dots = torch.empty((rows, m), dtype=low, device=dev)
        approx = torch.empty((rows, m), dtype=torch.float32, device=dev)
        gathered = torch.empty((rows, d), dtype=torch.float32, device=dev)
    for s0, xb in _sq_norms64_and_blocks(take, n, x_sq, KCENTER_BOUND_ROWS):
        if not m:
            continue
        for i in range(0, len(xb), rows):
            r = min(len(xb), i + rows) - i
            xr = xb[i : i + r]
            torch.mm(xl[:r].copy_(xr), c_lowT, out=dots[:r])
            j = approx[:r].copy_(dots[:r]).mul_(-2.0).add_(c_sq32).argmin(1)
            g = torch.index_select(c32, 0, j, out=gathered[:r]).mul_(xr)
            xs, cs = x_sq[s0 + i : s0 + i + r], c_sq[j]
            d2 = (xs - 2.0 * g.sum(1, dtype=torch.float64) + cs).clamp_min_(0.0)
            # float32 products: |error| ≤ 2⁻²⁴·Σ|x_k c_k| ≤ 2⁻²⁵(‖x‖² + ‖c‖²) per dot product
            ub[s0 + i : s0 + i + r] = d2 + 1e-7 * (xs + cs)
    return ub


def kcenter_greedy(
    x,
    labeled: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, float]:
    """Greedy k-center (farthest-first traversal) from a set of existing centres.

    Each pick is the point farthest (Euclidean) from its nearest centre, which then becomes a
    centre. Distances are ``‖x‖² − 2x·c + ‖c‖²`` in float64 (clamped at 0), memory is O(n):
    no n × n matrix and no copy of ``x``.

    The minima are evaluated lazily. A row's distance to its nearest centre only falls as
    centres are added, so a value computed against the first centres is an upper bound for
    later picks. Each pick takes the row of largest bound; if its value is not up to date, the
    stale rows of largest bound (:data:`KCENTER_BATCH`, doubled per round) are brought up to
    date against the centres they have not seen, and the search repeats. A row taken with an
    up-to-date value is the eager pass's pick, ties to the lowest index included: any row of
    lower index with the same true distance has a bound at least as large and comes first.
    The first bounds are each row's distance (plus its rounding bound) to the existing centre
    that one low-precision product ranks nearest (:func:`_kcenter_bounds`; usually the true
    minimum).
    A pick then costs a few stale rows instead of a pass over the pool.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Candidate points (e.g. probe embeddings of the unlabeled pool); also a
        :class:`_LazyF64Rows` (rows recomputed where read).
    labeled : ndarray of shape (m, d)
        Existing centres (e.g. embeddings of the labeled pool); may be empty (m = 0), then the
        first pick is uniform via ``rng``.
    budget : int
        Number of picks, ≤ n.
    rng : numpy Generator
        Only used when there are no existing centres.
    device : str or torch.device

    Returns
    -------
    picks : ndarray of shape (budget,), int64
        Row indices into ``x``, in pick order (ties: the lowest index).
    radius : float
        Largest distance of an unpicked row to its nearest centre after the batch.
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    take, n, d = _row_source(x, dev)
    labeled = np.asarray(labeled, dtype=np.float64).reshape(-1, d)
    m = len(labeled)
    cent = torch.empty(
        (m + budget, d), dtype=torch.float64, device=dev
    )  # labeled rows, then the picks
    cent[:m] = _as_tensor(labeled, dev, torch.float64)
    c_sq = (cent[:m] * cent[:m]).sum(1)
    c_sq = torch.cat([c_sq, torch.empty(budget, dtype=torch.float64, device=dev)])
    x_sq = torch.empty(n, dtype=torch.float64, device=dev)
    ub = _kcenter_bounds(take, n, d, x_sq, cent[:m])  # ub[i] ≥ its distance to the nearest centre
    seen = torch.zeros(n, dtype=torch.int64, device=dev)  # centres whose distance ub[i] includes
    done = torch.iinfo(torch.int64).max  # `seen` of a picked row: never stale

    def refresh(rows: torch.Tensor, total: int) -> None:
        """Bring ``rows`` up to date against the centres ``seen[row]:total`` they have not seen."""
        s_rows = seen[rows]
        for group in (rows[s_rows == 0], rows[s_rows > 0]):  # never evaluated / evaluated before
            if not len(group):
                continue
            lo = int(seen[group].min())
            cols = torch.arange(lo, total, device=dev)

            def exact(rb, lo=lo, cols=cols):
                d2 = (
                    x_sq[rb, None]
                    - 2.0 * (take(rb).to(torch.float64) @ cent[lo:total].T)
                    + c_sq[None, lo:total]
                ).clamp_min_(0.0)
                d2.masked_fill_(cols[None, :] < seen[rb, None], math.inf)  # already in ub
                fresh = d2.min(1).values
                return torch.where(seen[rb] > 0, torch.minimum(ub[rb], fresh), fresh)

            chunk = max(1, min(F64_BLOCK_ROWS, (F64_BLOCK_ROWS * 64) // len(cols)))
            ub[group] = _screen.in_chunks(group, exact, chunk)
            seen[group] = total

    def settle(total: int) -> int:
        """The row of largest distance to its nearest of ``total`` centres (lowest index on ties)."""
        k = KCENTER_BATCH
        while True:
            p = int(torch.argmax(ub))
            if int(seen[p]) >= total:
                return p
            stale = ub.masked_fill(seen >= total, -math.inf)
            if math.isinf(float(ub[p])):  # no bound yet: every unbounded row at once
                rows = torch.nonzero(torch.isinf(stale) & (stale > 0)).squeeze(1)
            else:
                rows = torch.topk(stale, min(k, n)).indices
                rows = rows[stale[rows] > -math.inf]
                k *= 2
            refresh(rows, total)

    picks = np.empty(budget, dtype=np.int64)
    for i in range(budget):
        total = m + i
        j = settle(total) if total else int(rng.integers(n))
        picks[i] = j
        cent[total] = take(slice(j, j + 1))[0].to(torch.float64)
        c_sq[total] = x_sq[j]
        ub[j], seen[j] = -1.0, done  # a centre is never picked again, even among duplicates
    radius = float(ub[settle(m + budget)].clamp_min(0.0).sqrt()) if budget < n else 0.0
    return picks, radius


def coreset(
    pool: Pool, probe, budget: int, rng: np.random.Generator, *, device: str = "auto"
) -> Selection:
    """CoreSet: greedy k-center on probe embeddings, starting from the labeled set.

    Every pick is the unlabeled point whose Euclidean distance (in the probe embedding,
    ``probe.embed``) to the nearest labeled-or-already-picked point is largest — the greedy
    2-approximation of the k-center cover of Sener & Savarese.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``embed(x) -> (n, d)``
    budget : int
    rng : numpy Generator
        Only used when nothing is labeled (first pick uniform).
    device : str
        Used when the probe has no ``device`` attribute.

    Returns
    -------
    Selection
        ``info["radius"]``: the covering radius (largest distance of an unlabeled, unpicked
        point to its nearest centre) after the batch.

    References
    ----------
    Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
    Approach", ICLR 2018.
    """
    unl, lab = pool.unlabeled_idx, pool.labeled_idx
    dev = _torch_device(probe, device)
    z_l = embed_rows(probe, pool.x, lab if len(lab) else unl[:1])
    d = z_l.shape[1]
    if not len(lab):
        z_l = np.empty((0, d), np.float32)
    # z is never stored: recomputed from pool.x where read (one pass of blocks for the bounds,
    # then only the rows the lazy search refreshes), so no (|U|, d) array is allocated
    z_u = _lazy_embeddings(probe, pool, unl, dev, d)
    picks, radius = kcenter_greedy(z_u, z_l, budget, rng, dev)
    return Selection(unl[picks], {"radius": radius})


# ---------------------------------------------------------------------------- BADGE
def gradient_sq_dists(
    z: torch.Tensor, delta: torch.Tensor, z_sq: torch.Tensor, d_sq: torch.Tensor, i: int
) -> torch.Tensor:
    """‖g_j − g_i‖² for every j, shape (n,) float64, without forming any g.

    With g = δ ⊗ z (δ = p − onehot(argmax p)), ⟨g_j, g_i⟩ = (z_j·z_i)(δ_j·δ_i), so
    ‖g_j − g_i‖² = ‖z_j‖²‖δ_j‖² − 2(z_j·z_i)(δ_j·δ_i) + ‖z_i‖²‖δ_i‖².

    Parameters
    ----------
    z : Tensor of shape (n, d), float64
    delta : Tensor of shape (n, C), float64
    z_sq, d_sq : Tensor of shape (n,), float64
        ‖z_j‖² and ‖δ_j‖².
    i : int
        The centre.
    """
    dots = (z @ z[i]) * (delta @ delta[i])
    return (z_sq * d_sq - 2.0 * dots + z_sq[i] * d_sq[i]).clamp_min_(0.0)


def _gradient_sq_dists_rows(
    zr: _F64Rows, dr: _F64Rows, z_sq: torch.Tensor, d_sq: torch.Tensor, i: int
) -> torch.Tensor:
    """:func:`gradient_sq_dists` on :class:`_F64Rows` (the same expression, block by block)."""
    if zr.full is not None and dr.full is not None:
        return gradient_sq_dists(zr.full, dr.full, z_sq, d_sq, i)
    zi, di = zr.row(i), dr.row(i)
    dots = torch.cat(
        [
            zr.slice(s, e) @ zi * (dr.slice(s, e) @ di)
            for s, e in ((s, min(zr.n, s + F64_BLOCK_ROWS)) for s in range(0, zr.n, F64_BLOCK_ROWS))
        ]
    )
    return (z_sq * d_sq - 2.0 * dots + z_sq[i] * d_sq[i]).clamp_min_(0.0)


def badge_seeds(
    z: np.ndarray,
    delta: np.ndarray,
    k: int,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """k-means++ seeding on gradient embeddings g = δ ⊗ z with implicit distances.

    The first seed is uniform (``rng.integers(n)``); each next seed is drawn with
    probability ∝ D²(u), the squared distance to the nearest seed so far, by the inverse
    CDF: ``searchsorted(cumsum(D²), rng.random() · sum(D²), side="right")`` (one
    ``rng.random()`` per seed). If every D² is 0 (only duplicates left) the seed is drawn
    uniformly among unchosen points with ``rng.choice``. Memory is O(n·(d + C)).

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Probe embeddings.
    delta : ndarray of shape (n, C)
        p − onehot(argmax p).
    k : int
        Number of seeds, ≤ n.
    rng : numpy Generator
    device : str or torch.device

    Returns
    -------
    ndarray of shape (k,), int64
        Row indices, in pick order.

    Notes
    -----
    On CPU pools of at least :data:`alkit._screen.MIN_ROWS` rows the passes are screened in
    float16 (:func:`_badge_seeds_screened`): the same seeds, and no float64 copy of z or δ.
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    n_rows, dz = (z.n, z.d) if isinstance(z, _LazyF64Rows) else np.shape(z)
    dd = delta.d if isinstance(delta, _LazyF64Rows) else np.shape(delta)[1]
    if _screen.enabled(n_rows, dev, nbytes=2 * n_rows * (dz + dd)):
        return _badge_seeds_screened(z, delta, k, rng, dev)
    zr = z if isinstance(z, _F64Rows) else _F64Rows(np.asarray(z), dev)
    dr = delta if isinstance(delta, _F64Rows) else _F64Rows(np.asarray(delta), dev)
    z_sq, d_sq = zr.sq_norms(), dr.sq_norms()
    n = zr.n
    return _d2_sample(
        n,
        k,
        rng,
        lambda c: _gradient_sq_dists_rows(zr, dr, z_sq, d_sq, c),
        lambda m, c: torch.minimum(m, _gradient_sq_dists_rows(zr, dr, z_sq, d_sq, c), out=m),
    )


def _d2_sample(n: int, k: int, rng: np.random.Generator, first, update) -> np.ndarray:
    """BADGE's D² sampling: the first seed ``rng.integers(n)``, D² = ``first(seed)``; each next
    seed by the inverse CDF (``searchsorted(cumsum(D²), rng.random()·ΣD², "right")``, uniform
    among unchosen points once every D² is 0), then ``update(D², seed)`` lowers D² in place."""
    seeds = np.empty(k, dtype=np.int64)
    chosen = np.zeros(n, dtype=bool)
    seeds[0] = int(rng.integers(n))
    chosen[seeds[0]] = True
    min_d2 = first(int(seeds[0]))
    min_d2[seeds[0]] = 0.0
    cdf = np.empty(n, dtype=np.float64)
    for i in range(1, k):
        np.cumsum(min_d2.cpu().numpy(), out=cdf)
        if cdf[-1] > 0:
            # u·total < total, so the index found has a positive weight (never a chosen point)
            idx = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        else:
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        seeds[i] = idx
        chosen[idx] = True
        update(min_d2, idx)
        min_d2[idx] = 0.0
    return seeds


def _badge_seeds_screened(
    z, delta, k: int, rng: np.random.Generator, dev: torch.device
) -> np.ndarray:
    """:func:`badge_seeds` on a large pool: float16 screening of both factors of the gradient
    dot product (:mod:`alkit._kernels.screen`), every distance that can lower a D² recomputed in float64.

    With ``cos̃`` within ``τ`` of each cosine, ``(z_j·z_c)(δ_j·δ_c) = S_j·cos_z·cos_δ`` (S_j the
    product of the four norms) is within ``S_j(τ|cos̃_δ| + τ|cos̃_z| + τ²)`` of ``S_j·cos̃_z·cos̃_δ``.
    ``z`` and ``delta`` may be :class:`_LazyF64Rows` (recomputed where needed): then only their
    float16 copies are kept.
    """
    take_z, n, dz = _row_source(z, dev)
    take_d, n_d, dd = _row_source(delta, dev)
    lazy = isinstance(z, _LazyF64Rows) or isinstance(delta, _LazyF64Rows)
    if n_d != n:
        raise InvalidInputError(f"badge_seeds: z has {n} rows but delta has {n_d}.")
    z_sq = torch.empty(n, dtype=torch.float64, device=dev)
    d_sq = torch.empty(n, dtype=torch.float64, device=dev)
    hz = _screen.UnitHalf(_sq_norms64_and_blocks(take_z, n, z_sq), n, dz, dev)
    hd = _screen.UnitHalf(_sq_norms64_and_blocks(take_d, n, d_sq), n, dd, dev)
    a = z_sq * d_sq
    tz, td = hz.tol, hd.tol

    def exact(rows: torch.Tensor | slice, c: int) -> torch.Tensor:
        zc, dc = (
            take_z(slice(c, c + 1))[0].to(torch.float64),
            take_d(slice(c, c + 1))[0].to(torch.float64),
        )
        dots = (take_z(rows).to(torch.float64) @ zc) * (take_d(rows).to(torch.float64) @ dc)
        return (z_sq[rows] * d_sq[rows] - 2.0 * dots + z_sq[c] * d_sq[c]).clamp_min_(0.0)

    def full_pass(c: int) -> torch.Tensor:
        return _screen.in_slices(n, lambda rb: exact(rb, c), F64_BLOCK_ROWS)

    def update(min_d2: torch.Tensor, idx: int) -> None:
        cz, cd = hz.cos(idx), hd.cos(idx)
        prod_s = (hz.norm * hz.norm[idx]) * (hd.norm * hd.norm[idx])
        upper_dot = prod_s * (cz * cd + tz * cd.abs() + td * cz.abs() + tz * td)
        lb = a + a[idx] - 2.0 * upper_dot.to(torch.float64) - _screen.SLACK * (a + a[idx])
        # recomputed rows: only the flagged ones, never a full pass
        _screen.lower_min_(
            min_d2, lb, lambda rb: exact(rb, idx), None if lazy else lambda: full_pass(idx)
        )

    return _d2_sample(n, k, rng, full_pass, update)


def badge(
    pool: Pool, probe, budget: int, rng: np.random.Generator, *, device: str = "auto"
) -> Selection:
    """BADGE: k-means++ seeding on gradient embeddings.

    g(u) = (p(u) − onehot(argmax p(u))) ⊗ z(u), the gradient of the cross-entropy at the
    predicted label with respect to the last layer, with z the probe embedding. B seeds of
    k-means++ (first uniform, then D² sampling) form the batch: uncertain points have long
    gradients, and D² sampling spreads the batch. Distances are implicit
    (:func:`gradient_sq_dists`); no N × (d·C) array is formed.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``predict_proba(x)`` and ``embed(x)``
    budget : int
    rng : numpy Generator
        Drives the seeding (see :func:`badge_seeds` for the exact draw protocol).
    device : str
        Used when the probe has no ``device`` attribute.

    Returns
    -------
    Selection

    References
    ----------
    Ash, Zhang, Krishnamurthy, Langford & Agarwal, "Deep Batch Active Learning by Diverse,
    Uncertain Gradient Lower Bounds", ICLR 2020.
    """
    unl = pool.unlabeled_idx
    dev = _torch_device(probe, device)
    # z is an elementwise function of x, so above BADGE_STORE_Z_MAX_BYTES it is recomputed from
    # pool.x block by block on every pass instead of stored (1.28M × 1536: 7.3 GiB saved)
    store_z = len(unl) * pool.x.shape[1] * 4 <= _store_z_limit()
    if not store_z and _screen.enabled(
        len(unl), dev, nbytes=2 * len(unl) * (pool.x.shape[1] + pool.n_classes)
    ):
        # screened passes recompute only the rows they flag: keep neither z nor δ (only their
        # float16 copies; 1.28M × (1536 + 1000): 6.5 GB instead of 13 GB of float32)
        delta = _LazyF64Rows(
            lambda idx: _gradient_factor(probe.predict_proba(pool.x[unl[idx]])),
            len(unl),
            pool.n_classes,
            dev,
        )
        return Selection(
            unl[badge_seeds(_lazy_embeddings(probe, pool, unl, dev), delta, budget, rng, dev)]
        )
    delta = z = None
    for s, e in pool_blocks(len(unl), probe):
        x_b = pool.x[unl[s:e]]
        db = _gradient_factor(probe.predict_proba(x_b))
        if delta is None:
            delta = np.empty((len(unl), db.shape[1]), dtype=np.float32)
        delta[s:e] = db
        if store_z:
            zb = probe.embed(x_b)
            if z is None:
                z = np.empty((len(unl), zb.shape[1]), dtype=zb.dtype)
            z[s:e] = zb
        del x_b, db
    if not store_z:
        z = _lazy_embeddings(probe, pool, unl, dev)
    picks = badge_seeds(z, delta, budget, rng, dev)
    return Selection(unl[picks])


# ---------------------------------------------------------------------------- ALFA-Mix
def class_anchors(z_labeled: np.ndarray, y_labeled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding of each class present among the labeled points.

    Parameters
    ----------
    z_labeled : ndarray of shape (m, d)
    y_labeled : ndarray of shape (m,), int

    Returns
    -------
    anchors : ndarray of shape (A, d), float32
    classes : ndarray of shape (A,), int64
        The present classes, ascending (the reference assumed classes 0..A−1).
    """
    classes, inv = np.unique(np.asarray(y_labeled, dtype=np.int64), return_inverse=True)
    sums = np.zeros((len(classes), z_labeled.shape[1]), dtype=np.float64)
    np.add.at(sums, inv.ravel(), z_labeled)
    counts = np.bincount(inv.ravel(), minlength=len(classes))
    return (sums / counts[:, None]).astype(np.float32), classes


def _flip_step(logits: torch.Tensor, y_hat: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Smallest s ≥ 0 at which argmax(logits + s·v) leaves ŷ, shape (n,) (inf if never).

    Class c overtakes ŷ once s > (ℓ_ŷ − ℓ_c)/(v_c − v_ŷ), which needs v_c > v_ŷ.
    """
    rows = torch.arange(len(logits), device=logits.device)
    gap = logits[rows, y_hat, None] - logits  # ≥ 0
    rate = v - v[rows, y_hat, None]
    step = torch.where(rate > 0, gap / rate.clamp_min(1e-300), torch.full_like(gap, math.inf))
    return step.min(1).values


class _CoordinateMatcher:
    """Which rows of z have a coordinate exactly equal to some anchor's in that dimension.

    A per-dimension table of the anchors' low :data:`LOW_BITS` mantissa bits rules out almost
    every (row, dimension) pair with one lookup, a second table on the next :data:`LOW_BITS`
    bits most of the rest; the few that pass are compared exactly (as
    ``==`` does: ``-0.0`` equals ``0.0``) by a binary search of their (dimension, bits) key
    among the anchors' keys. Dimensions in ``const`` never count.

    Parameters
    ----------
    anchors : Tensor of shape (A, d), float32
    const : Tensor of shape (d,), bool
    """

    LOW_BITS = 12

    def __init__(self, anchors: torch.Tensor, const: torch.Tensor):
        a, d = anchors.shape
        mask = (1 << self.LOW_BITS) - 1
        bits = (anchors.cpu() + 0.0).view(torch.int32).numpy()  # + 0.0 maps −0.0 to 0.0
        dims = np.arange(d, dtype=np.int64)
        self.offset = (dims << self.LOW_BITS).astype(np.int64)
        self.offset32 = self.offset.astype(np.int32)  # d · 2^LOW_BITS < 2³¹ for d < 2¹⁹
        table = np.zeros(d << self.LOW_BITS, dtype=bool)
        table[((bits & mask) + self.offset).ravel()] = True
        table.reshape(d, -1)[const.cpu().numpy()] = False
        self.table = table
        # a second table on the next LOW_BITS bits thins the first one's hits before the search
        table2 = np.zeros(d << self.LOW_BITS, dtype=bool)
        table2[(((bits >> self.LOW_BITS) & mask) + self.offset).ravel()] = True
        self.table2 = table2
        keys = (dims[None, :] << 32) | (bits.astype(np.int64) & 0xFFFFFFFF)
        keep = ~np.broadcast_to(const.cpu().numpy(), keys.shape)
        self.keys = np.unique(keys[keep])
        self.mask = mask

    def rows_with_match(self, z: torch.Tensor) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """Rows of ``z`` with some exact coordinate match.

        Returns
        -------
        exact : Tensor of shape (n,), bool, on ``z``'s device
        rows, dims : ndarray of shape (m,), int64
            The matching (row, dimension) pairs.
        """
        bits = (z.cpu() + 0.0).view(torch.int32).numpy()
        rs, cs = [], []
        for s in range(0, len(bits), 2048):  # cache-sized blocks, int32 table slots
            slot = np.bitwise_and(bits[s : s + 2048], self.mask)
            slot += self.offset32
            rb, cb = np.nonzero(self.table[slot])  # (rows, d) bool lookup
            rs.append(rb + s)
            cs.append(cb)
        r, c = (np.concatenate(rs), np.concatenate(cs)) if rs else (np.zeros(0, np.int64),) * 2
        if len(r):
            second = self.table2[((bits[r, c] >> self.LOW_BITS) & self.mask) + self.offset[c]]
            r, c = r[second], c[second]
        out = np.zeros(len(bits), dtype=bool)
        if len(r) and len(self.keys):
            keys = (c.astype(np.int64) << 32) | (bits[r, c].astype(np.int64) & 0xFFFFFFFF)
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[pos] == keys
            r, c = r[hit], c[hit]
            out[r] = True
        else:
            r = c = np.zeros(0, dtype=np.int64)
        return torch.from_numpy(out).to(z.device), r.astype(np.int64), c.astype(np.int64)


def _alfamix_exact_rows(
    ze: torch.Tensor,
    ge: torch.Tensor,
    le: torch.Tensor,
    ye: torch.Tensor,
    ve: torch.Tensor,
    anc32: torch.Tensor,
    anc: torch.Tensor,
    W: torch.Tensor,
    const: torch.Tensor,
    epsilon: float,
    d2e: torch.Tensor,
    anc_sq: torch.Tensor,
    n_match: torch.Tensor,
    match_dim: torch.Tensor,
) -> torch.Tensor:
    """ALFA-Mix's test for the rows with an exact coordinate match, anchor by anchor.

    For an anchor that matches no coordinate of a row, the row's mask is all ones, so its
    direction is the shared ``ve`` and the test is ε‖z* − z‖ > s*(z) with one s* per row,
    ‖z* − z‖ evaluated directly (``(z* − z).norm()``, as the per-anchor formula does). Most of
    those pairs are decided from the (row, anchor) distances already computed by the matrix
    product, ``d2e``: its error bound (a few (d + 4)·2⁻⁵³ relative to (‖z‖ + ‖z*‖)²) is far
    from the threshold for all but ties, and only the undecided pairs are evaluated directly.
    A (row, anchor) pair with exactly one equal coordinate k has the direction
    ``ve − ĝ_k·W[:, k]``: its masked product ``(ĝ⊙m) Wᵀ`` has a single non-zero term, which any
    summation order gives exactly, so those pairs are evaluated together too. Only anchors
    with a pair of several equal coordinates (discrete features) run the per-anchor formula
    with their own mask ``z* = z``, on all the rows, as before.

    Parameters
    ----------
    ze : Tensor of shape (m, d), float32
    ge : Tensor of shape (m, d), float64
        ĝ of the rows (constant dimensions zeroed).
    le : Tensor of shape (m, C), float64
    ye : Tensor of shape (m,), int64
    ve : Tensor of shape (m, C), float64
    anc32, anc : Tensor of shape (A, d), float32 and float64
    W : Tensor of shape (C, d), float64
    const : Tensor of shape (d,), bool
    epsilon : float
    d2e : Tensor of shape (m, A), float64
        ‖z‖² − 2z·z* + ‖z*‖² (clamped at 0) of the rows.
    anc_sq : Tensor of shape (A,), float64
    n_match : Tensor of shape (m, A), int64
        How many coordinates of row i equal anchor a's (outside ``const``).
    match_dim : Tensor of shape (m, A), int64
        The equal coordinate where ``n_match`` is 1.

    Returns
    -------
    Tensor of shape (m,), bool
    """
    m, d = ze.shape
    pair_match = n_match > 0
    ze64 = ze.to(torch.float64)
    s_star = _flip_step(le, ye, ve)[:, None]  # mask of ones: direction ve
    # bounds on the direct ‖z* − z‖ from the product's d², generous by a factor 16
    tol = 16.0 * (d + 4) * 2.0**-53
    scale = ((ze64 * ze64).sum(1, keepdim=True).sqrt() + anc_sq.sqrt()[None, :]) ** 2
    lo = (d2e - tol * scale).clamp_min(0.0).sqrt() * (1.0 - tol)
    hi = (d2e + tol * scale).sqrt() * (1.0 + tol)
    sure_hit = (epsilon * lo * (1.0 - tol) > s_star) & ~pair_match
    maybe = ~(epsilon * hi * (1.0 + tol) <= s_star) & ~pair_match & ~sure_hit
    hit = sure_hit.any(1)
    r, a_i = torch.nonzero(maybe & ~hit[:, None], as_tuple=True)
    if len(r):
        step = epsilon * (anc[a_i] - ze64[r]).norm(dim=1)
        hit[r[step > s_star[r, 0]]] = True
    # pairs with one equal coordinate k: direction ve − ĝ_k W[:, k]
    r1, a1 = torch.nonzero(n_match == 1, as_tuple=True)
    if len(r1):
        k1 = match_dim[r1, a1]
        v1 = ve[r1] - ge[r1, k1][:, None] * W[:, k1].T
        step = epsilon * (anc[a1] - ze64[r1]).norm(dim=1)
        hit[r1[step > _flip_step(le[r1], ye[r1], v1)]] = True
    for a_j in torch.nonzero((n_match > 1).any(0)).flatten().tolist():
        a32, a = anc32[a_j], anc[a_j]
        zero = (ze == a32) & ~const  # α = 0 where z* − z = 0
        v_a = ve - (ge * zero) @ W.T
        step = epsilon * (a - ze64).norm(dim=1)
        hit |= step > _flip_step(le, ye, v_a)
    return hit


def _anchor_sq_dists(zb: torch.Tensor, anc: torch.Tensor, anc_sq: torch.Tensor) -> torch.Tensor:
    """‖z‖² − 2 z·z*ₐ + ‖z*ₐ‖² in the inputs' dtype, evaluated in that order, clamped at 0: shape (m, A)."""
    return (
        torch.mm(zb, anc.T)
        .mul_(-2.0)
        .add_((zb * zb).sum(1, keepdim=True))
        .add_(anc_sq)
        .clamp_min_(0.0)
    )


def alfamix_candidates(
    z: np.ndarray,
    anchors: np.ndarray,
    weight: torch.Tensor,
    bias: torch.Tensor,
    epsilon: float,
    device: str | torch.device = "cpu",
    chunk: int = CHUNK_ROWS,
) -> np.ndarray:
    """Which points change prediction when mixed with some anchor (ALFA-Mix's test).

    For each point z with prediction ŷ = argmax(Wz + b) and g = ∂CE(Wz + b, ŷ)/∂z =
    Wᵀ(p − onehot(ŷ)), and each anchor z*: α = ε·‖z* − z‖·g / (‖g‖·(z* − z)) elementwise
    (not clipped; 0 where z* − z = 0), z̃ = αz* + (1 − α)z, and the point is a candidate if
    argmax(Wz̃ + b) ≠ ŷ for any anchor.

    How it is computed (same answer, linear cost): z̃ = z + α⊙(z* − z) = z + ε‖z* − z‖·ĝ⊙m
    with ĝ = g/‖g‖ and m = [z* ≠ z], so W z̃ + b = logits(z) + s·W(ĝ⊙m) with s = ε‖z* − z‖
    (this also avoids the cancellation of the reference's huge α where z* − z is tiny).
    When no coordinate of z equals the anchor's (m = 1 outside dimensions constant across
    all points and anchors), the direction W ĝ is the same for every anchor, the prediction
    leaves ŷ exactly when s exceeds a per-point step s*(z), and the test is
    ε·maxₐ‖z*ₐ − z‖ > s*(z): one (n, A) distance product and an (n, C) pass. Rows with an
    exact coordinate match (discrete features such as digits' pixels) are evaluated anchor
    by anchor with their own mask. A point with g = 0 (a saturated prediction) is never a
    candidate (the reference gets NaN there).

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Probe embeddings of the unlabeled points.
    anchors : ndarray of shape (A, d)
    weight : Tensor of shape (C, d)
    bias : Tensor of shape (C,)
        The probe's linear layer on the embedding (BN-output) space.
    epsilon : float
    device : str or torch.device
    chunk : int
        Rows per chunk; memory is O(chunk·(d + C + A)) beyond z.

    Returns
    -------
    ndarray of shape (n,), bool
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    f64 = torch.float64
    W = weight.detach().to(dev, f64)
    b = bias.detach().to(dev, f64)
    anc32 = _as_tensor(anchors, dev)
    anc = anc32.to(f64)
    anc_sq = (anc * anc).sum(1)
    zt = _as_tensor(z, dev)
    n = len(zt)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    # dimensions where every point and every anchor share one value: z* − z = 0 there always
    z_np = np.asarray(z, dtype=np.float32)
    # column extremes in numpy (torch's reductions along dim 0 are slow on CPU); exact either way
    col_min = torch.from_numpy(np.ascontiguousarray(z_np.min(0))).to(dev)
    col_max = torch.from_numpy(np.ascontiguousarray(z_np.max(0))).to(dev)
    const = (col_min == col_max) & (anc32 == col_min).all(0)
    keep = (~const).to(f64)
    finder = _CoordinateMatcher(anc32, const)
    # g = Wᵀ(p − e) is never formed: ‖g‖² = (p − e)ᵀ(W Wᵀ)(p − e) and the direction
    # W(ĝ ⊙ keep) = (W diag(keep) Wᵀ)(p − e)/‖g‖ only need two C × C matrices
    gram = W @ W.T
    gram_keep = (W * keep) @ W.T
    anc_sq32 = (anc32 * anc32).sum(1)
    anc_norm_max = float(anc_sq.max().sqrt()) if len(anc) else 0.0
    # bound on the float32 ‖z‖² − 2z·z* + ‖z*‖² error, relative to (‖z‖ + ‖z*‖)²: 16 × γ_(d+4)
    tol32 = 16.0 * (zt.shape[1] + 4) * 2.0**-24
    for s in range(0, n, chunk):
        zb32 = zt[s : s + chunk]
        zb = zb32.to(f64)
        rows = torch.arange(len(zb), device=dev)
        logits = torch.addmm(b, zb, W.T)
        y_hat = logits.argmax(1)
        p = torch.softmax(logits, 1)
        p[rows, y_hat] -= 1.0  # p − onehot(ŷ), (n_c, C)
        g_norm = ((p @ gram) * p).sum(1, keepdim=True).clamp_min_(0.0).sqrt_()  # ‖∂CE/∂z‖
        zero_g = g_norm[:, 0] == 0  # a saturated prediction: ĝ = 0
        inv_norm = torch.where(zero_g[:, None], 0.0, 1.0 / g_norm.clamp_min(1e-300))
        v = (p @ gram_keep).mul_(inv_norm)  # W ĝ, (n_c, C)
        # rows with some coordinate equal to some anchor's (outside the constant dimensions)
        exact, m_rows, m_dims = finder.rows_with_match(zb32)
        # ε·maxₐ‖z*ₐ − z‖ against the flip step: from float32 distances where their error bound
        # decides, from the float64 ones of _anchor_sq_dists for the rest
        s_star = _flip_step(logits, y_hat, v)
        m32 = _anchor_sq_dists(zb32, anc32, anc_sq32).max(1).values.to(f64)
        err = tol32 * (zb.norm(dim=1) + anc_norm_max) ** 2
        lo = (m32 - err).clamp_min_(0.0).sqrt_().mul_(epsilon)
        hi = (m32 + err).clamp_min_(0.0).sqrt_().mul_(epsilon)
        flagged = lo > s_star
        unsure = torch.nonzero(~flagged & (hi > s_star)).flatten()
        if len(unsure):
            reach = _anchor_sq_dists(zb[unsure], anc, anc_sq).max(1).values.sqrt_().mul_(epsilon)
            flagged[unsure] = reach > s_star[unsure]
        if bool(exact.any()):
            idx = torch.nonzero(exact).flatten()
            local = np.full(len(zb), -1, dtype=np.int64)
            local[idx.cpu().numpy()] = np.arange(len(idx))
            mr, md = torch.from_numpy(m_rows).to(dev), torch.from_numpy(m_dims).to(dev)
            pair_match = (anc32[:, md].T == zb32[mr, md][:, None]).cpu().numpy()  # (matches, A)
            pm = np.zeros((len(idx), len(anc)), dtype=np.int64)  # matching coordinates per pair
            np.add.at(pm, local[m_rows], pair_match)
            last = np.full((len(idx), len(anc)), -1, dtype=np.int64)  # one matching coordinate
            pr, pa = np.nonzero(pair_match)
            last[local[m_rows[pr]], pa] = m_dims[pr]
            g_hat = (p[idx] @ W).mul_(inv_norm[idx]).mul_(keep)  # ĝ ⊙ keep of these rows only
            flagged[idx] = _alfamix_exact_rows(
                zb32[idx],
                g_hat,
                logits[idx],
                y_hat[idx],
                v[idx],
                anc32,
                anc,
                W,
                const,
                epsilon,
                _anchor_sq_dists(zb[idx], anc, anc_sq),
                anc_sq,
                torch.from_numpy(pm).to(dev),
                torch.from_numpy(last).to(dev),
            )
        out[s : s + len(zb)] = flagged.cpu().numpy()
    return out


def _check_epsilon(epsilon) -> None:
    if epsilon is not None and (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, (int, float, np.integer, np.floating))
        or not np.isfinite(epsilon)
        or epsilon <= 0
    ):
        raise InvalidInputError(
            f"alfamix: epsilon must be a positive number or None (0.2/√d), got {epsilon!r}."
        )


def alfamix(
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    epsilon: float | None = None,
    device: str = "auto",
) -> Selection:
    """ALFA-Mix: points whose prediction flips when their embedding is mixed with a class anchor.

    Anchors are the mean probe embeddings of the labeled points of each class present in
    L. Each unlabeled embedding is interpolated towards each anchor with the per-feature
    α of Parvaneh et al. (ε = 0.2/√d by default, elementwise, not clipped; see
    :func:`alfamix_candidates`); points whose prediction changes for any anchor are the
    candidates. With ≥ B candidates the shared clustering (k = B) on their L2-normalised
    embeddings picks the batch (the candidate nearest each centroid); with fewer, all of
    them plus a random top-up.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe
        Needs ``embed``, ``weight_`` (C, d) and ``bias_`` (C,) (the linear layer on the
        BN-output space).
    budget : int
    rng : numpy Generator
        Drives the clustering and the top-up.
    epsilon : float or None, default None
        Mixing step; None = 0.2/√d.
    device : str

    Returns
    -------
    Selection
        ``info``: ``n_candidates``, ``n_anchors``, ``epsilon``.

    References
    ----------
    Parvaneh, Abbasnejad, Teney, Haffari, van den Hengel & Shi, "Active Learning by Feature
    Mixing", CVPR 2022.
    """
    unl, lab = pool.unlabeled_idx, pool.labeled_idx
    if len(lab) == 0:
        raise InvalidInputError(
            "alfamix needs labeled points for its class anchors; label an initial pool first."
        )
    _check_epsilon(epsilon)
    z_u = embed_rows(probe, pool.x, unl)
    d = z_u.shape[1]
    if epsilon is None:
        epsilon = 0.2 / math.sqrt(d)
    anchors, _ = class_anchors(embed_rows(probe, pool.x, lab), pool.labels[lab])
    dev = _torch_device(probe, device)
    cand = np.flatnonzero(
        alfamix_candidates(z_u, anchors, probe.weight_, probe.bias_, float(epsilon), dev)
    )
    info = {
        "n_candidates": int(len(cand)),
        "n_anchors": int(len(anchors)),
        "epsilon": float(epsilon),
    }
    if len(cand) < budget:
        return top_up(unl[cand], pool, budget, rng, info)
    picks, _ = kmeans_nearest(z_u[cand], budget, rng, device=device)  # L2-normalised inside
    return top_up(unl[cand[picks]], pool, budget, rng, info)


def check_alfamix(params: dict) -> None:
    """The registry's parameter check of ALFA-Mix."""
    _check_epsilon(params["epsilon"])
