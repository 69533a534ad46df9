"""Half-precision screening (alkit._kernels.screen): bounds hold, picks unchanged.

(k-means++ seeding on large pools is batched instead: tests/kernels/test_seeding.py.)
"""

import numpy as np
import pytest
import torch

from alkit._kernels import rows as _rows
from alkit._kernels import screen as _screen
from alkit._kernels.kcenter import kcenter_greedy
from alkit._kernels.rows import LazyF64Rows
from alkit.strategies.badge import badge_seeds

CPU = torch.device("cpu")

needs_fp32_accumulation = pytest.mark.skipif(
    not _screen.accumulates_in_float32(),
    reason="this torch build's float16 CPU kernels do not accumulate in float32",
)


def _scaled_rows(rng, n, d):
    """Rows of wildly different norms (1e-6 … 1e6), some zero, some duplicated."""
    x = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-6, 6, size=(n, 1))
    x[:5] = 0.0
    x[5:15] = x[15:25]
    return x.astype(np.float32)


@needs_fp32_accumulation
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_lower_bound_is_a_lower_bound(dtype):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(_scaled_rows(rng, 400, 96))
    unit = _screen.UnitHalf([(0, x[:150]), (150, x[150:])], len(x), x.shape[1], CPU, dtype)
    x64 = x.double()
    x_sq = (x64 * x64).sum(1)
    for c in (0, 7, 30, 200, 399):
        exact = (x_sq - 2.0 * (x64 @ x64[c]) + x_sq[c]).clamp_min(0.0)
        cos = (unit.h.float() @ unit.h[c].float()) if dtype == torch.bfloat16 else unit.cos(c)
        lb = _screen.lower_bound_sq(x_sq, unit.norm, x_sq[c], unit.norm[c], cos, unit.tol)
        assert bool((lb <= exact).all())
        # and it is a useful bound: within a few percent of the products it replaces
        assert float((exact - lb).max()) <= 0.05 * float((x_sq + x_sq[c]).max())


def _clustered(n=6000, d=48, k=30, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d)) * 3
    x = centres[rng.integers(k, size=n)] + rng.standard_normal((n, d))
    x[100:160] = x[:60]  # duplicated rows
    return x.astype(np.float32)


def _both(monkeypatch, fn):
    """``fn()`` with screening forced on (every size) and forced off."""
    monkeypatch.setattr(_screen, "MIN_ROWS", 0)
    on = fn()
    monkeypatch.setattr(_screen, "ENABLED", False)
    off = fn()
    return on, off


@needs_fp32_accumulation
@pytest.mark.parametrize("n_labeled", [0, 1, 25])
def test_kcenter_greedy_unchanged_by_screening(monkeypatch, n_labeled):
    x = _clustered(seed=n_labeled)
    lab, pool = x[:n_labeled], x[n_labeled:]
    (p_on, r_on), (p_off, r_off) = _both(
        monkeypatch, lambda: kcenter_greedy(pool, lab, 60, np.random.default_rng(3), device="cpu")
    )
    np.testing.assert_array_equal(p_on, p_off)
    assert r_on == pytest.approx(r_off, rel=1e-12)


@needs_fp32_accumulation
@pytest.mark.parametrize("lazy", [False, True])
def test_badge_seeds_unchanged_by_screening(monkeypatch, lazy):
    rng = np.random.default_rng(5)
    z = _clustered(seed=5)
    logits = rng.standard_normal((len(z), 7)) * 3
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = p.astype(np.float32)
    delta[np.arange(len(delta)), delta.argmax(1)] -= 1.0

    def run():
        zz = LazyF64Rows(lambda idx: z[idx], len(z), z.shape[1], CPU) if lazy else z
        dd = LazyF64Rows(lambda idx: delta[idx], len(delta), delta.shape[1], CPU) if lazy else delta
        return badge_seeds(zz, dd, 50, np.random.default_rng(9), device="cpu")

    on, off = _both(monkeypatch, run)
    np.testing.assert_array_equal(on, off)


@needs_fp32_accumulation
def test_kcenter_greedy_on_recomputed_rows(monkeypatch):
    x = _clustered(seed=4)
    lazy = LazyF64Rows(lambda idx: x[30:][idx], len(x) - 30, x.shape[1], CPU)
    (p_on, _), (p_off, _) = _both(
        monkeypatch,
        lambda: kcenter_greedy(lazy, x[:30], 40, np.random.default_rng(0), device="cpu"),
    )
    np.testing.assert_array_equal(p_on, p_off)
    np.testing.assert_array_equal(
        p_on, kcenter_greedy(x[30:], x[:30], 40, np.random.default_rng(0), device="cpu")[0]
    )


@needs_fp32_accumulation
@pytest.mark.parametrize("name", ["coreset", "badge"])
def test_large_pool_strategies_keep_only_half_copies(monkeypatch, name, digits):
    """Above the store limit CoreSet and BADGE recompute z (and BADGE δ) where the screen flags
    rows: the picks of the stored, unscreened path."""
    from alkit import strategies

    from ..strategies.template import count_embed_calls, make_state

    pool, probe = make_state(digits, 30)
    off = strategies.select(
        name, pool, probe, 12, np.random.default_rng(7)
    )  # digits: below MIN_ROWS
    monkeypatch.setattr(_screen, "MIN_ROWS", 0)
    monkeypatch.setattr(_rows, "STORE_Z_MAX_BYTES", 0)
    calls = count_embed_calls(probe, monkeypatch)
    on = strategies.select(name, pool, probe, 12, np.random.default_rng(7))
    np.testing.assert_array_equal(on.indices, off.indices)
    n_unl = int((~pool.labeled).sum())
    assert max(calls) <= n_unl and min(calls) < n_unl / 4  # recomputed rows, not one stored z


def test_screening_off_without_float32_accumulation(monkeypatch):
    monkeypatch.setattr(_screen, "accumulates_in_float32", lambda dtype=torch.float16: False)
    assert not _screen.enabled(10**6, CPU)
    assert not _screen.enabled(10, CPU)  # below MIN_ROWS anyway


def test_screening_is_cpu_only_and_size_gated(monkeypatch):
    monkeypatch.setattr(_screen, "accumulates_in_float32", lambda dtype=torch.float16: True)
    assert not _screen.enabled(_screen.MIN_ROWS - 1, CPU)
    assert _screen.enabled(_screen.MIN_ROWS, CPU)
    assert not _screen.enabled(10**6, torch.device("cuda"))
    monkeypatch.setattr(_screen, "ENABLED", False)
    assert not _screen.enabled(10**6, CPU)
