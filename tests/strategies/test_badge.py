"""BADGE: implicit gradient distances, and the seeds of the library's reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alkit import strategies
from alkit.strategies.badge import badge, badge_reference, badge_seeds, gradient_sq_dists

from .embed_probe import EmbedProbe, id_pool
from .template import make_state


def random_badge_inputs(n=60, d=7, C=5, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d)).astype(np.float32)
    logits = rng.normal(scale=2.0, size=(n, C))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    delta = p.astype(np.float32)
    delta[np.arange(n), delta.argmax(1)] -= 1.0
    return z, p.astype(np.float32), delta


def explicit_gradients(z, delta):
    return np.einsum("nc,nd->ncd", delta.astype(np.float64), z.astype(np.float64)).reshape(
        len(z), -1
    )


def test_badge_implicit_distances_equal_explicit():
    z, _, delta = random_badge_inputs()
    g = explicit_gradients(z, delta)
    zt, dt = torch.from_numpy(z).double(), torch.from_numpy(delta).double()
    z_sq, d_sq = (zt**2).sum(1), (dt**2).sum(1)
    for i in (0, 17, 59):
        got = gradient_sq_dists(zt, dt, z_sq, d_sq, i).numpy()
        expected = ((g - g[i]) ** 2).sum(1)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        assert got[i] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_badge_picks_follow_d2_sampling(seed):
    z, p, delta = random_badge_inputs(n=80, seed=seed + 10)
    expected = badge_reference(z, p, 12, np.random.default_rng(seed))
    np.testing.assert_array_equal(badge_seeds(z, delta, 12, np.random.default_rng(seed)), expected)
    sel = badge(id_pool(80), EmbedProbe(z, proba=p), 12, np.random.default_rng(seed))
    np.testing.assert_array_equal(sel.indices, expected)


def test_badge_real_probe_matches_explicit(digits):
    pool, probe = make_state(digits, 20)
    unl = pool.unlabeled_idx
    p = probe.predict_proba(pool.x[unl])
    z = probe.embed(pool.x[unl])
    for seed in (1, 2):
        sel = strategies.select("badge", pool, probe, 10, np.random.default_rng(seed), device="cpu")
        np.testing.assert_array_equal(
            sel.indices, unl[badge_reference(z, p, 10, np.random.default_rng(seed))]
        )


@pytest.mark.parametrize("seed", range(6))
def test_badge_first_pick_uniform_then_zero_gradient_points_covered(seed):
    """Confident points (one-hot p) have g = 0, so they are all one point of gradient space:
    after the uniform first pick, at most one of them is ever picked while uncertain points
    remain (once one is a centre, every other has D² = 0)."""
    n = 40
    z = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    p = np.zeros((n, 3), dtype=np.float32)
    p[:, 0] = 1.0  # confident: δ = 0, g = 0
    p[:4] = [0.4, 0.35, 0.25]  # four uncertain points
    sel = badge(id_pool(n), EmbedProbe(z, proba=p), 5, np.random.default_rng(seed))
    first = int(np.random.default_rng(seed).integers(n))
    assert sel.indices[0] == first
    assert len(np.unique(sel.indices)) == 5
    if first >= 4:
        assert sorted(sel.indices[1:].tolist()) == [0, 1, 2, 3]
    else:
        assert (sel.indices >= 4).sum() <= 1


def test_badge_all_duplicates_falls_back_to_uniform():
    z = np.ones((10, 3), dtype=np.float32)
    p = np.tile(np.array([[0.5, 0.5]], dtype=np.float32), (10, 1))
    delta = p.copy()
    delta[:, 0] -= 1
    seeds = badge_seeds(z, delta, 10, np.random.default_rng(0))
    assert sorted(seeds.tolist()) == list(range(10))
