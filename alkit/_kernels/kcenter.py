"""The lazy greedy k-center: CoreSet's farthest-first traversal without a pass per pick.

:func:`kcenter_greedy` gives exactly the picks of the textbook traversal
(:func:`alkit.strategies.coreset.coreset_reference`: one full distance pass per pick) in far
fewer operations. A row's distance to its nearest centre only falls as centres are added, so a
value computed against the first centres is an upper bound for later picks; only the rows whose
bound could be the maximum are brought up to date. At N = 50 000, d = 1536, B = 100 this is
0.20× the cost of the B passes (``docs/performance.md``).

Memory is O(n): no n × n matrix and no copy of the rows, which may be recomputed where read
(:class:`alkit._kernels.rows.LazyF64Rows`). The distances are float64 (see
:mod:`alkit._kernels.rows` for why); the first bounds come from one low-precision product.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._devices import resolve_device
from . import screen as _screen
from .rows import F64_BLOCK_ROWS, as_tensor, row_source, sq_norms64_and_blocks

__all__ = ["kcenter_greedy", "KCENTER_BATCH", "KCENTER_BOUND_ROWS", "BLOCK_ELEMENTS"]

#: Stale rows re-evaluated together by the lazy search (doubled per round of one pick).
KCENTER_BATCH = 64
#: Rows per block of the bound pass: recomputed blocks of 4096 rows stay below glibc's mmap
#: threshold, so they are served from the heap instead of fresh, page-faulting mappings.
KCENTER_BOUND_ROWS = 4096
#: Elements of one (rows × centres) block of the bound pass: cache-sized.
BLOCK_ELEMENTS = 1 << 22


def _kcenter_bounds(
    take, n: int, d: int, x_sq: torch.Tensor, centres: torch.Tensor
) -> torch.Tensor:
    """First upper bounds on every row's squared distance to its nearest centre.

    Each bound is the row's distance to the centre that a low-precision product (bfloat16 on
    pools of at least :data:`alkit._kernels.screen.MIN_ROWS` rows, else float32) ranks nearest,
    from float32 products summed in float64 plus their rounding bound. The product only chooses
    the centre, so the bound holds at any precision, and it is within that rounding of the true
    minimum wherever the choice is right. The blocks reuse preallocated buffers (fresh large
    temporaries cost a page fault per 4 KiB).

    Parameters
    ----------
    take : callable
        Float32 rows by slice (:func:`alkit._kernels.rows.row_source`).
    n, d : int
    x_sq : Tensor of shape (n,), float64
        Filled with the rows' squared norms.
    centres : Tensor of shape (m, d), float64

    Returns
    -------
    Tensor of shape (n,), float64
        The bounds; ``inf`` everywhere when there are no centres.
    """
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
    for s0, xb in sq_norms64_and_blocks(take, n, x_sq, KCENTER_BOUND_ROWS):
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
    centre. Distances are ``‖x‖² − 2x·c + ‖c‖²`` in float64 (clamped at 0).

    The minima are evaluated lazily. Each pick takes the row of largest bound; if its value is
    not up to date, the stale rows of largest bound (:data:`KCENTER_BATCH`, doubled per round)
    are brought up to date against the centres they have not seen, and the search repeats. A row
    taken with an up-to-date value is the eager pass's pick, ties to the lowest index included:
    any row of lower index with the same true distance has a bound at least as large and comes
    first. The first bounds are each row's distance (plus its rounding bound) to the existing
    centre that one low-precision product ranks nearest (usually the true minimum). A pick then
    costs a few stale rows instead of a pass over the pool.

    Parameters
    ----------
    x : ndarray of shape (n, d), or :class:`alkit._kernels.rows.LazyF64Rows`
        Candidate points (e.g. probe embeddings of the unlabeled pool), stored or recomputed
        where read.
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
    take, n, d = row_source(x, dev)
    labeled = np.asarray(labeled, dtype=np.float64).reshape(-1, d)
    m = len(labeled)
    cent = torch.empty(
        (m + budget, d), dtype=torch.float64, device=dev
    )  # labeled rows, then the picks
    cent[:m] = as_tensor(labeled, dev, torch.float64)
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
        """The row farthest from its nearest of ``total`` centres (the lowest index on ties)."""
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
