"""alkit._kernels.adamw: torch's AdamW steps without the class."""

import torch

from alkit._kernels.adamw import adamw_stepper


def test_adamw_stepper_is_torch_adamw_bit_for_bit():
    g = torch.Generator().manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(7, 5, generator=g)), torch.nn.Parameter(torch.randn(7))]
    ref = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    step = adamw_stepper(ours, 1e-2, 1e-2, "cpu")
    opt = torch.optim.AdamW(ref, lr=1e-2, weight_decay=1e-2)
    with torch.no_grad():
        for _ in range(25):
            for a, b in zip(ours, ref):
                a.grad = torch.randn(a.shape, generator=g)
                b.grad = a.grad.clone()
            step()
            opt.step()
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)
