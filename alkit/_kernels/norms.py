"""Row norms of torch matrices, in chunks (no (n, d) temporary)."""

from __future__ import annotations

import torch

__all__ = ["row_sq_norms"]


def row_sq_norms(
    xt: torch.Tensor, chunk: int = 8192, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``(xt * xt).sum(1)`` in row chunks: the same values without an (n, d) temporary.

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
