"""alkit._kernels.dropout: keep-masks and masked passes."""

import numpy as np
import pytest
import torch

from alkit._kernels import dropout


@pytest.mark.parametrize("p", [0.75, 0.3])
def test_keep_draws_rate_and_kind(p):
    g = torch.Generator().manual_seed(0)
    draws, keep_below = dropout.keep_draws((300, 400), p, g, torch.device("cpu"))
    if p == 0.75:  # 1 − p = 32/128: 7-bit integers
        assert draws.dtype == torch.uint8 and keep_below == 32 and int(draws.max()) < 128
    else:
        assert draws.dtype == torch.float32 and keep_below == pytest.approx(0.7)
    assert abs(float((draws < keep_below).float().mean()) - (1 - p)) < 0.005


def test_masked_logits_in_steps_equal_one_product():
    rng = np.random.default_rng(0)
    xs = torch.from_numpy(rng.normal(size=(1300, 48)).astype(np.float32))
    w = torch.from_numpy(rng.normal(size=(48, 7)).astype(np.float32))
    b = torch.from_numpy(rng.normal(size=7).astype(np.float32))
    draws, keep_below = dropout.keep_draws(
        tuple(xs.shape), 0.75, torch.Generator().manual_seed(1), torch.device("cpu")
    )
    want = torch.addmm(b, (draws < keep_below).float() * xs, w)
    scaled, masked, out = dropout.pass_buffers(xs, 7)
    assert len(masked) == dropout.PASS_ROWS < len(xs)
    got = dropout.masked_logits(xs, draws, keep_below, w, b, masked, out)
    assert torch.equal(got, want)
