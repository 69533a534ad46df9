"""Float64 row buffers: an (n, d) matrix read in float64 without always holding a float64 copy.

CoreSet's and BADGE's greedy distances are evaluated in float64: the expansion
``‖a‖² − 2a·b + ‖b‖²`` then has no cancellation error between close points, so the picks do not
depend on the BLAS or the device (and match float64 references exactly). This module holds the
row sources those passes read:

- :class:`F64Rows`: a stored matrix. Up to :func:`f64_copy_limit` bytes it makes one float64
  copy up front (converting on every pass was measured 12× slower on CPU); above it (e.g. 1.28M
  × 1536, 15.7 GB in float64) it keeps the float32 rows and converts blocks of
  :data:`F64_BLOCK_ROWS` rows per pass.
- :class:`LazyF64Rows`: a matrix that is never stored; its rows are recomputed where read (the
  probe embeddings from the pool features, above :func:`store_z_limit`).
- :func:`row_source` and :func:`sq_norms64_and_blocks`: float32 rows by slice or index from any
  of those, and one pass that fills their float64 squared norms.

Bit-identical paths. The blocks start at multiples of 64 rows, the BLAS's tile height, so every
product of a converted block is bit-identical to the same rows of the one-copy product: which
path runs changes memory and time, never a pick (``tests/kernels/test_rows.py``). The conversion
buffer is allocated once and reused: a fresh 200 MB block per pass costs a page fault per 4 KiB.
Measurements: ``docs/performance.md``.
"""

from __future__ import annotations

import numpy as np
import torch

from .._devices import memory_headroom_bytes
from .norms import row_sq_norms

__all__ = [
    "F64_BLOCK_ROWS",
    "F64_COPY_MAX_BYTES",
    "STORE_Z_MAX_BYTES",
    "F64Rows",
    "LazyF64Rows",
    "as_tensor",
    "take_rows",
    "f64_copy_limit",
    "store_z_limit",
    "row_source",
    "sq_norms64_and_blocks",
]

#: Bytes up to which :class:`F64Rows` makes one float64 copy; None = min(8 GiB, MemAvailable / 4)
#: (at least 2 GiB).
F64_COPY_MAX_BYTES: int | None = None
#: Rows per float64 conversion block: a multiple of 64, so the BLAS tiles (and the bits of every
#: product) are those of the one-copy path.
F64_BLOCK_ROWS = 16384
#: Bytes of float32 probe embeddings BADGE keeps in memory; above it they are recomputed from the
#: pool on every pass (1.28M × 1536: 7.3 GiB saved). None = 2 × :func:`f64_copy_limit` (the
#: float64 copy limit's element count in float32: MemAvailable / 2, 4–16 GiB).
STORE_Z_MAX_BYTES: int | None = None


def as_tensor(x: np.ndarray, dev: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``x`` as a contiguous tensor of ``dtype`` on ``dev``."""
    return torch.from_numpy(np.ascontiguousarray(x)).to(dev, dtype)


def take_rows(x: np.ndarray, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x[idx]`` for a C-contiguous float32/float64 matrix and integer row indices, gathered by
    ``torch.index_select`` (several threads; about 5× numpy's fancy indexing for 512 000 rows of
    1 536 floats, 4× ``np.take`` into a buffer); any other input (and a read-only array) by
    numpy. The same values either way. With ``out`` (C-contiguous, ``x``'s dtype, shape
    (len(idx), d)), the rows are written into it and it is returned."""
    if (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and x.dtype in (np.float32, np.float64)
        and x.flags.c_contiguous
        and x.flags.writeable  # torch warns on read-only arrays (e.g. memory-mapped caches)
    ):
        rows = torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))
        if out is None:
            return torch.from_numpy(x).index_select(0, rows).numpy()
        torch.index_select(torch.from_numpy(x), 0, rows, out=torch.from_numpy(out))
        return out
    if out is None:
        return x[idx]
    return np.take(x, idx, axis=0, out=out)


def f64_copy_limit() -> int:
    """Bytes up to which :class:`F64Rows` makes one float64 copy (:data:`F64_COPY_MAX_BYTES`)."""
    if F64_COPY_MAX_BYTES is not None:
        return int(F64_COPY_MAX_BYTES)
    return int(min(8 << 30, max(2 << 30, memory_headroom_bytes() // 4)))


def store_z_limit() -> int:
    """Bytes of float32 probe embeddings kept in memory (:data:`STORE_Z_MAX_BYTES`)."""
    if STORE_Z_MAX_BYTES is not None:
        return int(STORE_Z_MAX_BYTES)
    return 2 * f64_copy_limit()  # a float32 array of the float64 copy limit's element count


class F64Rows:
    """An (n, d) matrix read in float64: one float64 copy, or float32 converted per block.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    dev : torch.device

    Attributes
    ----------
    full : Tensor of shape (n, d), float64, or None
        The float64 copy, when it fits under :func:`f64_copy_limit`.
    x32 : Tensor of shape (n, d), float32, or None
        The rows kept instead (converted block by block).
    """

    def __init__(self, x: np.ndarray, dev: torch.device):
        n, d = x.shape
        self.n = n
        self.buf: torch.Tensor | None = None
        if n * d * 8 <= f64_copy_limit():
            self.full: torch.Tensor | None = as_tensor(x, dev, torch.float64)
            self.x32 = None
        else:
            self.full = None
            self.x32 = as_tensor(x, dev, torch.float32)
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
        """Row ``i`` in float64, shape (d,)."""
        return self.full[i] if self.full is not None else self.x32[i].to(torch.float64)

    def slice(self, s: int, e: int) -> torch.Tensor:
        """Rows ``s:e`` in float64 (a view of the conversion buffer: use it before the next)."""
        if self.full is not None:
            return self.full[s:e]
        src = self.x32[s:e]
        if len(src) <= len(self.buf):
            return self.buf[: len(src)].copy_(src)
        return src.to(torch.float64)

    def sq_norms(self) -> torch.Tensor:
        """Row squared norms, shape (n,), float64."""
        return torch.cat([(xb * xb).sum(1) for _, _, xb in self.blocks()])


class LazyF64Rows(F64Rows):
    """Like :class:`F64Rows` for a matrix that is never stored.

    ``rows_fn(idx)`` recomputes rows ``idx`` (a slice or an index array) in float32, e.g. BADGE's
    probe embeddings from the pool features. Each block is converted to float64 at the same block
    boundaries as the stored path, so every product is bit-identical to it. Costs one
    recomputation per pass instead of an (n, d) array.

    Parameters
    ----------
    rows_fn : callable
        ``rows_fn(idx) -> ndarray of shape (len(idx), d)``, float32.
    n, d : int
    dev : torch.device
    """

    def __init__(self, rows_fn, n: int, d: int, dev: torch.device):
        self.n, self.d, self.full, self.x32 = n, d, None, None
        self.rows_fn, self.dev = rows_fn, dev
        self.buf = torch.empty((min(n, F64_BLOCK_ROWS), d), dtype=torch.float64, device=dev)

    def row(self, i: int) -> torch.Tensor:
        return as_tensor(self.rows_fn(slice(i, i + 1)), self.dev)[0].to(torch.float64)

    def take32(self, idx: np.ndarray | torch.Tensor | slice) -> torch.Tensor:
        """Rows ``idx`` (an index array or tensor, or a slice) recomputed, float32."""
        if isinstance(idx, torch.Tensor):
            idx = idx.cpu().numpy()
        return as_tensor(self.rows_fn(idx), self.dev)

    def slice(self, s: int, e: int) -> torch.Tensor:
        src = self.take32(slice(s, min(e, self.n)))
        if len(src) <= len(self.buf):
            return self.buf[: len(src)].copy_(src)
        return src.to(torch.float64)


def row_source(x, dev: torch.device):
    """``(take, n, d)``: float32 rows of ``x`` by slice or index, with its shape.

    ``x`` is an ndarray, an :class:`F64Rows` or a :class:`LazyF64Rows` (rows recomputed).
    """
    if isinstance(x, LazyF64Rows):
        return x.take32, x.n, x.d
    if isinstance(x, F64Rows):
        x32 = x.x32 if x.x32 is not None else x.full.to(torch.float32)
    else:
        x32 = as_tensor(np.asarray(x), dev)
    return x32.__getitem__, x32.shape[0], x32.shape[1]


def sq_norms64_and_blocks(take, n: int, sq_out: torch.Tensor, rows: int = F64_BLOCK_ROWS):
    """Yield ``(start, float32 block)`` over all ``n`` rows of ``take``.

    On the way, ``sq_out`` (shape (n,), float64) is filled with their float64 squared norms,
    converted in 512-row pieces that stay in cache: one pass gives both.
    """
    for s in range(0, n, rows):
        xb = take(slice(s, min(n, s + rows)))
        sq_out[s : s + len(xb)] = row_sq_norms(xb, 512, torch.float64)
        yield s, xb
