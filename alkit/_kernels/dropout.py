"""Input-dropout masks and masked probe passes (the probe's MC-dropout inference).

A keep-mask is Bernoulli(1 − p) per element. When 1 − p is a multiple of 1/128 (the paper's
p = 0.75 is), each element compares 7 random bits, taken from 64-bit random words (eight elements
per draw): exact, and about 4× cheaper on CPU than one uniform float per element. Otherwise it
compares uniform floats with 1 − p.

A masked pass draws the mask of a whole chunk at once (the same draws whatever the step below)
and applies it :data:`PASS_ROWS` rows at a time on CPU: the comparison writes the 0/1 floats
straight into one reused buffer, which is multiplied by the chunk's rows and by the weights
while it is still in cache (measured 31 → 24 ms per 8 192 × 1 536 chunk and pass, against a
boolean mask, a float copy of it and one chunk-wide product). Row blocks of a float32 product
give the bits of the chunk-wide product (``tests/test_probe.py`` checks the passes against it).
"""

from __future__ import annotations

import torch

__all__ = ["PASS_ROWS", "keep_draws", "masked_logits", "pass_buffers"]

#: Rows per step of a masked pass on CPU: the mask, the masked rows and their product stay in
#: cache (a multiple of 64, the BLAS's tile height).
PASS_ROWS = 512


def keep_draws(
    shape: tuple[int, int], dropout: float, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, int | float]:
    """Fresh draws for a keep-mask of ``shape`` and the value they are compared with.

    The mask is ``draws < keep_below``: 7-bit integers (uint8) against round(128·(1 − p)) when
    1 − p is a multiple of 1/128, else uniform floats against 1 − p.
    """
    q = 1.0 - dropout
    n_el = shape[0] * shape[1]
    k = q * 128
    if abs(k - round(k)) < 1e-9 and 0 < round(k) < 128:
        words = torch.empty((n_el + 7) // 8, dtype=torch.int64, device=device)
        words.random_(generator=generator)  # 63 uniform low bits per word
        bits = words.view(torch.uint8)[:n_el].view(shape)
        return bits.bitwise_and_(0x7F), int(round(k))
    return torch.rand(shape, generator=generator, device=device), q


def pass_buffers(
    xb: torch.Tensor, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reused buffers of the masked passes over chunks like ``xb``: the scaled chunk, the masked
    rows (one step's on CPU, the chunk's elsewhere) and the chunk's logits."""
    step = PASS_ROWS if xb.device.type == "cpu" else len(xb)
    return (
        torch.empty_like(xb),
        torch.empty((step, xb.shape[1]), dtype=xb.dtype, device=xb.device),
        torch.empty((len(xb), n_classes), dtype=xb.dtype, device=xb.device),
    )


def masked_logits(
    xs: torch.Tensor,
    draws: torch.Tensor,
    keep_below: int | float,
    weight: torch.Tensor,
    bias: torch.Tensor,
    masked: torch.Tensor,
    out: torch.Tensor,
) -> torch.Tensor:
    """``bias + (mask ⊙ xs) @ weight`` into ``out``, ``len(masked)`` rows at a time.

    Parameters
    ----------
    xs : Tensor of shape (m, d)
        The chunk's rows, already scaled by 1/(1 − p) (inverted dropout).
    draws, keep_below
        From :func:`keep_draws` with shape (m, d): the mask is ``draws < keep_below``.
    weight : Tensor of shape (d, C)
    bias : Tensor of shape (C,)
    masked : Tensor of shape (step, d)
        Scratch rows (:func:`pass_buffers`).
    out : Tensor of shape (m, C)

    Returns
    -------
    out
    """
    step = len(masked)
    for s in range(0, len(xs), step):
        e = min(len(xs), s + step)
        xm = torch.lt(draws[s:e], keep_below, out=masked[: e - s]).mul_(xs[s:e])
        torch.addmm(bias, xm, weight, out=out[s:e])
    return out
