"""Exact seeding passes screened in half precision (k-means++, BADGE).

Every pass of those seedings lowers a running minimum, ``m_j ← min(m_j, D²(j, c))`` for a
new centre ``c``, and on a large pool only the rows near ``c`` change. :class:`UnitHalf`
keeps the row *directions* ``x_j / ‖x_j‖`` in float16 (half the bytes of float32, a quarter
of float64) with the norms in float32, so one matrix-vector product gives every cosine to
within :data:`COS_TOL` and therefore a lower bound on every ``D²(j, c)``. Only the rows whose
lower bound is below ``m_j`` are recomputed at full precision (the strategy's own formula);
every other row provably keeps ``m_j``. The minima, and so the picks, are those of the
unscreened pass, up to the BLAS rounding of the recomputed dot products (the last bit of a
float32/float64 dot product; tested equal on random, clustered and duplicated pools).

The tolerances hold for float16/bfloat16 inputs *with float32 accumulation*;
:func:`accumulates_in_float32` checks that once per process on the CPU kernels and screening
is off when it fails. It is only used on CPU: GPU kernels may reduce in half precision
(``allow_fp16_reduced_precision_reduction``) and GPU bandwidth makes the exact pass cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import torch

from .._devices import memory_headroom_bytes

__all__ = [
    "COS_TOL",
    "MIN_ROWS",
    "ENABLED",
    "UnitHalf",
    "enabled",
    "accumulates_in_float32",
    "in_chunks",
    "in_slices",
    "lower_min_",
    "lower_bound_sq",
]

#: Bound on |cos − cos̃| for unit rows stored in each dtype: two input roundings (2·2⁻¹¹ for
#: float16, 2·2⁻⁹ for bfloat16), the rounding of the output (2⁻¹² / 2⁻⁹ for |cos| ≤ 1) and the
#: float32 accumulation (≤ 1e-4 at d = 1536), with a safety factor of about 1.4.
COS_TOL = {torch.float16: 2e-3, torch.bfloat16: 8e-3}
#: Relative slack for the float32/float64 rounding of ``‖x‖² + ‖c‖² − 2x·c`` itself.
SLACK = 1e-5
#: Pools below this many rows are not screened (one exact pass is cheap there).
MIN_ROWS = 8192
#: Recompute every row (one exact pass) when more than this fraction is flagged.
FULL_PASS_FRACTION = 0.25
#: Set to False to turn screening off everywhere (every pass exact).
ENABLED = True
#: The half-precision copies may take at most this fraction of the allocatable memory.
HEADROOM_FRACTION = 0.7


@functools.cache
def accumulates_in_float32(dtype: torch.dtype = torch.float16) -> bool:
    """Whether CPU matrix-vector and matrix products of ``dtype`` accumulate in float32.

    1 + 1535 · 2⁻¹² is lost to a half-precision accumulator (the ulp of 1 is 2⁻¹⁰) but exact in
    float32; the product is checked against it for ``mv`` and ``mm``.
    """
    a = torch.full((4, 1536), 2.0**-12)
    a[:, 0] = 1.0
    exact = 1.0 + 1535 * 2.0**-12
    ah = a.to(dtype)
    got = [
        torch.mv(ah, torch.ones(1536, dtype=dtype)),
        (ah @ torch.ones(1536, 8, dtype=dtype))[:, 0],
    ]
    tol = 2.0**-8  # the output's own rounding; a half-precision accumulator is off by ~0.37
    return all(bool(((g.float() - exact).abs() <= tol).all()) for g in got)


def enabled(
    n: int, device: torch.device, dtype: torch.dtype = torch.float16, nbytes: int | None = None
) -> bool:
    """Whether a pass over ``n`` rows on ``device`` is screened.

    ``nbytes``: the size of the half-precision copies it needs; screening is off (the exact
    passes run, slower but in less memory) when they would take more than
    :data:`HEADROOM_FRACTION` of what this process can still allocate
    (:func:`alkit._devices.memory_headroom_bytes`, which honours an ``RLIMIT_AS``).
    """
    if not (ENABLED and n >= MIN_ROWS and device.type == "cpu" and accumulates_in_float32(dtype)):
        return False
    return nbytes is None or nbytes <= HEADROOM_FRACTION * memory_headroom_bytes()


class UnitHalf:
    """Half-precision unit rows and float32 norms of an (n, d) matrix, built block by block.

    Parameters
    ----------
    blocks : iterable of (start, Tensor of shape (rows, d))
        The matrix in row blocks (any float dtype), covering rows 0..n−1 in order.
    n, d : int
    device : torch.device
    dtype : torch.dtype
        ``torch.float16`` (matrix-vector passes) or ``torch.bfloat16`` (matrix products: its
        CPU GEMM is fast, float16's is not).

    Attributes
    ----------
    h : Tensor of shape (n, d), ``dtype``
        ``x_j / ‖x_j‖`` (zero rows stay zero).
    norm : Tensor of shape (n,), float32
    tol : float
        :data:`COS_TOL` of ``dtype``.
    """

    def __init__(
        self,
        blocks: Iterable[tuple[int, torch.Tensor]],
        n: int,
        d: int,
        device: torch.device,
        dtype: torch.dtype = torch.float16,
    ) -> None:
        self.h = torch.empty((n, d), dtype=dtype, device=device)
        self.norm = torch.empty(n, dtype=torch.float32, device=device)
        self.tol = COS_TOL[dtype]
        for s0, block in blocks:
            for i in range(0, len(block), 2048):  # cache-sized pieces: 7× faster than 16k-row ones
                s, xb = s0 + i, block[i : i + 2048]
                nb = torch.linalg.vector_norm(xb, dim=1)
                self.norm[s : s + len(xb)] = nb
                self.h[s : s + len(xb)] = xb / nb.clamp_min(torch.finfo(nb.dtype).tiny)[:, None]

    def cos(self, i: int) -> torch.Tensor:
        """Approximate cosines of every row with row ``i``, shape (n,), float32."""
        return torch.mv(self.h, self.h[i]).float()


def in_chunks(rows: torch.Tensor, fn, chunk: int = 16384) -> torch.Tensor:
    """``fn(rows)`` evaluated on chunks of at most ``chunk`` rows and concatenated (bounded
    temporaries when a pass flags many rows of a large pool)."""
    if len(rows) <= chunk:
        return fn(rows)
    return torch.cat([fn(rows[i : i + chunk]) for i in range(0, len(rows), chunk)])


def in_slices(n: int, fn, chunk: int = 16384) -> torch.Tensor:
    """``fn(slice)`` over consecutive row slices covering ``0..n``, concatenated: a full pass."""
    return torch.cat([fn(slice(s, min(n, s + chunk))) for s in range(0, n, chunk)])


def lower_min_(min_d2: torch.Tensor, lb: torch.Tensor, exact, full=None) -> None:
    """``min_d2 ← min(min_d2, D²)`` in place, given a lower bound ``lb ≤ D²`` for every row.

    Only the rows with ``lb < min_d2`` can change: ``exact(rows)`` (an index tensor) gives their
    D², evaluated :func:`in_chunks`. ``full()``, when given, gives the D² of every row and is used
    instead once more than :data:`FULL_PASS_FRACTION` of the rows are flagged (a contiguous pass
    is then cheaper than a gather); leave it out where rows are recomputed, not stored.
    """
    rows = torch.nonzero(lb < min_d2).squeeze(1)
    if full is not None and len(rows) > FULL_PASS_FRACTION * len(min_d2):
        torch.minimum(min_d2, full(), out=min_d2)
    elif len(rows):
        min_d2[rows] = torch.minimum(min_d2[rows], in_chunks(rows, exact))


def lower_bound_sq(
    x_sq: torch.Tensor,
    norm: torch.Tensor,
    c_sq: torch.Tensor | float,
    c_norm: torch.Tensor | float,
    cos: torch.Tensor,
    tol: float,
) -> torch.Tensor:
    """A lower bound on ``‖x_j − c‖² = ‖x_j‖² + ‖c‖² − 2‖x_j‖‖c‖cos_j`` from ``cos̃`` within ``tol``."""
    s = x_sq + c_sq
    return s - 2.0 * (norm * c_norm).to(s.dtype) * (cos.to(s.dtype) + tol) - SLACK * s
