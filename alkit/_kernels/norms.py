"""Row norms and L2 normalisation, in row chunks (no (n, d) temporary beyond the output;
none at all in place)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["row_sq_norms", "row_norms", "l2_normalize", "l2_normalize_"]


def row_sq_norms(
    xt: torch.Tensor, chunk: int = 8192, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``(xt * xt).sum(1)`` in row chunks: the same values without an (n, d) temporary.

    Each row's sum is reduced the same way whatever the chunk, so the values are those of the
    whole-matrix expression bit for bit (smaller chunks are slower: the reduction's cost is per
    call).

    ``dtype``: convert each chunk first (e.g. float64 norms of float32 rows, without a float64
    copy of the whole matrix).
    """

    def sq(b):
        if dtype is not None and b.dtype != dtype:
            return (
                b.to(dtype).square_().sum(1)
            )  # squared in the converted copy: no second temporary
        return (b * b).sum(1)

    if len(xt) <= chunk:
        return sq(xt)
    return torch.cat([sq(b) for b in torch.split(xt, chunk)])


def row_norms(x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Row L2 norms of shape (n,) in float32, in row chunks (no (n, d) temporary)."""
    x = np.asarray(x, dtype=np.float32)
    out = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), chunk):
        out[s : s + chunk] = np.linalg.norm(x[s : s + chunk], axis=1)
    return out


def l2_normalize(x: np.ndarray, chunk: int = 8192, norms: np.ndarray | None = None) -> np.ndarray:
    """Row-wise L2 normalisation in float32 (zero rows stay zero), in row chunks: the output is
    the only (n, d) allocation. ``norms``: the rows' :func:`row_norms` when already computed."""
    x = np.asarray(x, dtype=np.float32)
    return _divide_rows(x, row_norms(x, chunk) if norms is None else norms, np.empty_like(x), chunk)


def l2_normalize_(x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """:func:`l2_normalize` in place: the same values, written over ``x``.

    ``x`` must be a writable, C-contiguous float32 array the caller owns; returns it.
    """
    return _divide_rows(x, row_norms(x, chunk), x, chunk)


def _divide_rows(x: np.ndarray, norms: np.ndarray, out: np.ndarray, chunk: int) -> np.ndarray:
    """``out = x / max(norms, 1e-12)`` row-wise, chunk by chunk (``out`` may be ``x``)."""
    for s in range(0, len(x), chunk):
        np.divide(
            x[s : s + chunk], np.maximum(norms[s : s + chunk, None], 1e-12), out=out[s : s + chunk]
        )
    return out
