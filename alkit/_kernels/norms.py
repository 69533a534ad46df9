"""Row norms of torch matrices, in chunks (no (n, d) temporary); in-place row normalisation."""

from __future__ import annotations

import numpy as np
import torch

from .._utils import row_norms

__all__ = ["row_sq_norms", "l2_normalize_"]


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


def l2_normalize_(x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """:func:`alkit._utils.l2_normalize` in place: the same values, written over ``x``.

    ``x`` must be a writable, C-contiguous float32 array the caller owns; returns it.
    """
    norms = row_norms(x, chunk)
    for s in range(0, len(x), chunk):
        np.divide(
            x[s : s + chunk], np.maximum(norms[s : s + chunk, None], 1e-12), out=x[s : s + chunk]
        )
    return x
