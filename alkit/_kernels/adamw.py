"""AdamW steps without ``torch.optim.AdamW``'s first-construction cost.

``torch.optim.AdamW``'s first construction in a process imports ``torch._dynamo`` (≈ 1.2 s on the
2-core VM: 2.0 s → 0.5 s for the first fit of a DropQuery query at N = 50 000), a cost every
user's first query paid for nothing. :func:`adamw_stepper` calls torch's own functional form,
``torch.optim.adamw.adamw``, with the state the class keeps and the kernel it picks: the same
bits, step by step (``tests/kernels/test_adamw.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim.adamw import adamw

__all__ = ["adamw_stepper"]


def adamw_stepper(
    params: list[torch.Tensor], lr: float, weight_decay: float, device: torch.device | str
) -> Callable[[], None]:
    """One ``torch.optim.AdamW(params, lr, weight_decay=weight_decay).step()`` per call.

    The class's defaults (betas (0.9, 0.999), eps 1e-8, no amsgrad), its CPU step counters, and
    its kernel: single-tensor on CPU, ``foreach`` on CUDA/XPU. Each parameter's ``.grad`` must be
    set before a call.
    """
    steps = [torch.tensor(0.0) for _ in params]
    exp_avgs = [torch.zeros_like(p) for p in params]
    exp_avg_sqs = [torch.zeros_like(p) for p in params]
    foreach = torch.device(device).type in ("cuda", "xpu")

    def step() -> None:
        adamw(
            params,
            [p.grad for p in params],
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            foreach=foreach,
            amsgrad=False,
            beta1=0.9,
            beta2=0.999,
            lr=lr,
            weight_decay=weight_decay,
            eps=1e-8,
            maximize=False,
        )

    return step
