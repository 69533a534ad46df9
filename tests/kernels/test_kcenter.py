"""The lazy greedy k-center (alkit._kernels.kcenter): the picks of the plain traversal."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alkit._kernels import kcenter
from alkit._kernels.kcenter import kcenter_greedy
from alkit.strategies.coreset import coreset_reference


def test_kcenter_without_labeled_points_starts_uniformly():
    x = np.array([[0.0], [1.0], [10.0], [11.0]])
    picks, _ = kcenter_greedy(x, np.empty((0, 1)), 2, np.random.default_rng(0))
    first = np.random.default_rng(0).integers(4)
    assert picks[0] == first
    assert picks[1] == (3 if first < 2 else 0)


def test_kcenter_duplicates_never_repicked():
    x = np.zeros((5, 3))
    picks, radius = kcenter_greedy(x, np.zeros((1, 3)), 5, np.random.default_rng(0))
    assert sorted(picks.tolist()) == [0, 1, 2, 3, 4] and radius == 0.0


@pytest.mark.parametrize("n_labeled", [0, 1, 40])
@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("screen", [False, True])
def test_lazy_kcenter_is_the_eager_traversal(monkeypatch, n_labeled, batch, screen):
    """Lazy minima (bounds refreshed only where the maximum needs them) give the eager picks:
    clustered data with duplicated rows and grid points at equal distances (ties)."""
    from alkit._kernels import screen as _screen

    rng = np.random.default_rng(n_labeled + batch)
    centres = rng.standard_normal((12, 16)) * 4
    x = (centres[rng.integers(12, size=3000)] + rng.standard_normal((3000, 16))).astype(np.float32)
    x[200:260] = x[:60]  # duplicates
    x[300:340] = np.repeat(np.eye(4, 16, dtype=np.float32) * 50, 10, axis=0)  # far, tied points
    lab, pool = x[:n_labeled], x[n_labeled:]
    monkeypatch.setattr(kcenter, "KCENTER_BATCH", batch)
    monkeypatch.setattr(_screen, "MIN_ROWS", 0 if screen else 10**9)
    picks, radius = kcenter_greedy(pool, lab, 80, np.random.default_rng(3), device="cpu")
    ref_picks, ref_radius = coreset_reference(pool, lab, 80, np.random.default_rng(3))
    assert picks.tolist() == ref_picks.tolist()
    assert radius == pytest.approx(ref_radius, rel=1e-12)


@pytest.mark.parametrize("low", ["bfloat16", "float32"])
def test_kcenter_bounds_are_upper_bounds(monkeypatch, low):
    """Each row's first bound is ≥ its float64 distance to the nearest centre (rows of very
    different norms, duplicates of centres), and equal to it up to rounding where the
    low-precision product picks the right centre."""
    from alkit._kernels import screen as _screen

    monkeypatch.setattr(_screen, "MIN_ROWS", 0 if low == "bfloat16" else 10**9)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5000, 24)) * 10.0 ** rng.uniform(-3, 3, size=(5000, 1))).astype(
        np.float32
    )
    c = np.concatenate(
        [x[:40], rng.standard_normal((60, 24)).astype(np.float32)]
    )  # 40 rows are centres
    x_sq = torch.empty(len(x), dtype=torch.float64)
    ub = kcenter._kcenter_bounds(
        torch.from_numpy(x).__getitem__, len(x), 24, x_sq, torch.from_numpy(c).double()
    ).numpy()
    x64, c64 = x.astype(np.float64), c.astype(np.float64)
    exact = np.maximum((x64**2).sum(1)[:, None] - 2 * x64 @ c64.T + (c64**2).sum(1)[None], 0).min(1)
    np.testing.assert_allclose(x_sq.numpy(), (x64**2).sum(1), rtol=1e-15)
    assert (ub >= exact).all()
    tight = ub <= exact + 1e-6 * ((x64**2).sum(1) + (c64**2).sum(1).max())
    assert tight.mean() > 0.9
    assert (ub[:40] <= 1e-6 * (x64[:40] ** 2).sum(1) + 1e-30).all()  # a centre's own row: bound ≈ 0
    empty = kcenter._kcenter_bounds(
        torch.from_numpy(x).__getitem__, len(x), 24, x_sq, torch.zeros((0, 24), dtype=torch.float64)
    )
    assert bool(torch.isinf(empty).all()) and not math.isnan(float(x_sq.sum()))
