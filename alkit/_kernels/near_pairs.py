"""Every pair of unit rows closer than a radius: a bfloat16 screen, float32 where it can matter.

ProbCover's exact δ search and graph need, of the N² pairs, only those closer than the largest
δ the bisection can reach (and, per row, the nearest one of another pseudo-class among them);
on the pools it serves they are a few per cent of the pairs. :func:`near_pairs` therefore goes
once over the upper triangle of the pairs (each unordered pair once) in blocks of
:data:`ROW_BLOCK` rows:

1. the block's cosines with every later row in bfloat16 (:class:`~alkit._kernels.screen.UnitHalf`;
   the CPU GEMM runs about 2.3 times the float32 rate on AVX512-BF16 cores), which rule out,
   within the proven tolerance :data:`~alkit._kernels.screen.COS_TOL`, every column that has no
   pair inside the radius with any row of the block (:func:`screen_cos`);
2. the block's float32 squared distances to the remaining columns only, computed as the
   unscreened pass computes them (``‖a‖² + ‖b‖² − 2a·b``, clamped at 0); the pairs come from
   these, so they are the pairs of a float32 pass.

Rows are visited in the order of ``order`` (ProbCover passes its pseudo-classes), which puts a
block's near columns together and few. Each unordered pair is computed once and stored for both
directions, so the graph is symmetric by construction. Screening is used on CPU when the rows are
unit (``|‖x‖ − 1| ≤`` :data:`UNIT_TOL`) and :func:`~alkit._kernels.screen.enabled` holds;
otherwise step 2 takes every column (one exact float32 pass over the upper triangle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from .._devices import resolve_device
from . import screen
from .norms import row_sq_norms

__all__ = [
    "ROW_BLOCK",
    "UNIT_TOL",
    "NearPairs",
    "near_pairs",
    "screen_cos",
    "screen_cut",
    "symmetric_pairs",
]

#: Rows per block: the bfloat16 product of a block with every later row keeps the GEMM efficient
#: while the block's near columns stay few (a block spans a few pseudo-classes).
ROW_BLOCK = 256
#: Bytes counted against ``keep_bytes`` per unordered pair kept (its two directions with their
#: share of the CSR assembly's temporaries).
PAIR_BYTES = 64
#: Distances per unscreened block (64 MiB of float32).
BLOCK_ELEMENTS = 1 << 24
#: Largest ``|‖x‖ − 1|`` of a row for the screen (L2-normalised rows are within 1e-6; zero rows
#: are not, and turn the screen off).
UNIT_TOL = 1e-3


@dataclass
class NearPairs:
    """The pairs closer than the radius, in CSR form over the original row ids.

    Attributes
    ----------
    indptr : ndarray of shape (n + 1,), int64
    indices : ndarray of shape (n_pairs,), int32
        Row ``i``'s partners, ascending, ``i`` itself included (distance 0).
    d2 : ndarray of shape (n_pairs,), float32
        Their squared distances, as the float32 pass computes them.
    """

    indptr: np.ndarray
    indices: np.ndarray
    d2: np.ndarray

    def cut(self, radius_sq: float) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, indices)`` of the pairs with ``d2 < radius_sq`` (float32, strict), in order."""
        keep = self.d2 < np.float32(radius_sq)
        c = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=c[1:])
        return c[self.indptr], self.indices[keep]


def screen_cos(radius_sq: float, eta: float, tol: float) -> float:
    """The cosine at or below which a bfloat16 cosine proves a pair outside the radius.

    For rows of norm within ``1 ± eta`` and a screened cosine ``cos̃`` within ``tol`` of the
    true one, :func:`~alkit._kernels.screen.lower_bound_sq` is at least
    ``2(1 − η)²(1 − SLACK) − 2(1 + η)²(cos̃ + tol)``; that is ≥ ``radius_sq`` whenever
    ``cos̃ ≤`` the returned value (and when ``cos̃ + tol < 0``, the bound is at least
    ``2(1 − η)²(1 − SLACK)`` ≥ ``radius_sq``). Returns ``-inf`` (nothing ruled out) if the radius
    reaches beyond that.
    """
    base = 2.0 * (1.0 - eta) ** 2 * (1.0 - screen.SLACK)
    if radius_sq > base:
        return -float("inf")
    return (base - radius_sq) / (2.0 * (1.0 + eta) ** 2) - tol


def screen_cut(sq: torch.Tensor, radius_sq: float) -> float:
    """:func:`screen_cos` for rows of squared norms ``sq`` (shape (n,)): ``-inf`` (nothing can
    be ruled out) when some row is not unit within :data:`UNIT_TOL` or the radius is too large."""
    eta = float((sq.sqrt() - 1.0).abs().max()) if len(sq) else 0.0
    if eta > UNIT_TOL:
        return -float("inf")
    return screen_cos(float(radius_sq), eta, screen.COS_TOL[torch.bfloat16])


def near_pairs(
    x: np.ndarray,
    radius_sq: float,
    *,
    order: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    keep_bytes: int | None = None,
    device: str = "auto",
    screened: bool | None = None,
) -> tuple[NearPairs | None, np.ndarray | None]:
    """Every pair of rows with float32 squared distance below ``radius_sq``.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Rows (L2-normalised for the screen to apply).
    radius_sq : float
        Pairs with ``d² < radius_sq`` (float32 comparison, strict) are returned; every row is
        paired with itself (distance 0) when ``radius_sq > 0``.
    order : ndarray of shape (n,), optional
        A permutation of the rows to visit them in (near rows together make the screen
        selective); the output is over the original ids regardless.
    labels : ndarray of shape (n,), int, optional
        With labels, also the squared distance of every row to its nearest row of another label,
        exact where it is below ``radius_sq`` and ``inf`` otherwise.
    keep_bytes : int, optional
        Drop the pairs (return None for them, the labels' minima are still computed) once
        holding them would take more than this many bytes.
    screened : bool, optional
        Force the bfloat16 screen on or off (default: on CPU for unit rows of at least
        :data:`~alkit._kernels.screen.MIN_ROWS` rows).

    Returns
    -------
    pairs : NearPairs or None
    nearest_other : ndarray of shape (n,), float32, or None
        Only with ``labels``.
    """
    dev = resolve_device(device)
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    xt = torch.from_numpy(x).to(dev)
    sq_x = row_sq_norms(xt)
    thr = float(np.float32(radius_sq))
    lab_x = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64))
    r2 = None if labels is None else torch.full((n,), float("inf"), device=dev)
    if screened is None:
        screened = screen.enabled(n, dev, torch.bfloat16, nbytes=2 * n * d)
    cut = screen_cut(sq_x, thr) if screened and n else -float("inf")
    # the visiting order only helps the screen: unscreened, the rows are taken as they are
    if cut == -float("inf") or order is None:
        perm = torch.arange(n, device=dev)
    else:
        perm = torch.from_numpy(np.asarray(order, dtype=np.int64)).to(dev)
    sq = sq_x[perm]
    labp = None if lab_x is None else lab_x.to(dev)[perm]
    h = None
    if cut > -float("inf"):  # bfloat16 unit rows in visiting order (no float32 copy of the pool)
        blocks = ((s, xt.index_select(0, perm[s : s + 8192])) for s in range(0, n, 8192))
        h = screen.UnitHalf(blocks, n, d, dev, torch.bfloat16).h
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = []
    held = 0
    # unscreened, a block is as many rows as BLOCK_ELEMENTS distances allow (fewer, larger products)
    step = ROW_BLOCK if h is not None else max(ROW_BLOCK, BLOCK_ELEMENTS // max(n, 1))
    for s in range(0, n, step):
        e = min(n, s + step)
        if h is not None:
            cmax = (h[s:e] @ h[s:].T).amax(0)  # bfloat16: the best cosine of each later column
            cols = (cmax.float() > cut).nonzero().squeeze(1) + s
            if not len(cols):
                continue
            # index_select: a fast row gather on CPU (several times x[idx])
            xr, xc = xt.index_select(0, perm[s:e]), xt.index_select(0, perm[cols])
        else:
            cols = torch.arange(s, n, device=dev)
            xr, xc = xt[s:e], xt[s:]
        d2 = torch.addmm(sq[s:e, None] + sq[cols][None, :], xr, xc.T, alpha=-2.0).clamp_min_(0)
        # each unordered pair once: the columns after the row (the row itself is added at the end)
        upper = cols[None, :] > torch.arange(s, e, device=dev)[:, None]
        rr, cc = ((d2 < thr) & upper).nonzero(as_tuple=True)
        if not len(rr):
            continue
        i, j, v = rr + s, cols[cc], d2[rr, cc]
        if labp is not None:
            other = labp[i] != labp[j]
            r2.scatter_reduce_(0, i[other], v[other], "amin")
            r2.scatter_reduce_(0, j[other], v[other], "amin")
        if parts is not None:
            # both directions of an int32 row, int32 column and float32 d², and the CSR assembly's
            # positions and index copies
            held += PAIR_BYTES * len(i)
            if keep_bytes is not None and held > keep_bytes:
                parts = None
            else:
                parts.append((i.cpu().numpy(), j.cpu().numpy(), v.cpu().numpy()))
    nearest = None
    if r2 is not None:  # in visiting order: back to the rows' own
        nearest = np.empty(n, dtype=np.float32)
        nearest[perm.cpu().numpy()] = r2.cpu().numpy()
    if parts is None:
        return None, nearest
    ids = perm.to(torch.int32).cpu().numpy()
    parts = [(ids[i], ids[j], v) for i, j, v in parts]
    return symmetric_pairs(parts, n, thr > 0), nearest


def symmetric_pairs(parts: list, n: int, with_diag: bool = True) -> NearPairs:
    """Both directions of unordered pairs (and each row with itself at distance 0), as CSR.

    Parameters
    ----------
    parts : list of (i, j, d2)
        Arrays of int32 row ids and float32 squared distances, each unordered pair once
        (``i ≠ j``), in any order.
    n : int
    with_diag : bool
        Pair every row with itself (distance 0).
    """
    i = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    j = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    v = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32)
    parts.clear()  # the caller's blocks are now in i, j, v: free them as the CSR is assembled
    diag = np.arange(n if with_diag else 0, dtype=np.int32)
    rows, cols = np.concatenate([i, j, diag]), np.concatenate([j, i, diag])
    del i, j
    vals = np.concatenate([v, v, np.zeros(len(diag), np.float32)])
    del v
    # scipy's assembly (a counting sort, then each row's columns sorted) carries as data each
    # entry's position (+1, so that none is an explicit zero) to take the float32 d² from, unchanged
    pos = np.arange(1, len(vals) + 1, dtype=np.int32 if len(vals) < 2**31 - 1 else np.int64)
    a = sp.csr_matrix((pos, (rows, cols)), shape=(n, n))
    del rows, cols, pos
    a.sort_indices()
    return NearPairs(a.indptr.astype(np.int64), a.indices.astype(np.int32), vals[a.data - 1])
