"""ALFA-Mix: the candidate test against the library's reference, known answers, the strategy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alkit import strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies.alfamix import alfamix, alfamix_candidates, alfamix_reference, class_anchors

from .embed_probe import EmbedProbe, id_pool
from .template import make_state


def test_alfamix_candidates_equal_explicit_formula():
    rng = np.random.default_rng(0)
    n, d, C = 400, 12, 4
    z = rng.normal(size=(n, d)).astype(np.float32)
    z[:, 3] = 0.0  # a constant dimension (digits has several)
    z[:50, 5] = 0.7  # exact zeros of z* − z for one anchor
    W = rng.normal(size=(C, d)).astype(np.float32)
    b = rng.normal(size=C).astype(np.float32)
    anchors = rng.normal(size=(3, d)).astype(np.float32)
    anchors[:, 3] = 0.0
    anchors[1, 5] = 0.7
    for eps in (0.2 / math.sqrt(d), 0.5):
        got = alfamix_candidates(
            z, anchors, torch.from_numpy(W), torch.from_numpy(b), eps, chunk=64
        )
        expected = alfamix_reference(z, anchors, W, b, eps)
        np.testing.assert_array_equal(got, expected)
        assert 0 < got.sum() < n


def boundary_problem():
    """Two classes split by x0 = 0 (logits x0 and −x0); anchors at (±3, 0)."""
    W = np.array([[1.0, 0.0], [-1.0, 0.0]])
    b = np.zeros(2)
    x0 = np.concatenate(
        [np.linspace(-0.1, 0.1, 11), np.linspace(2, 4, 11), np.linspace(-4, -2, 11)]
    )
    x0 = x0[x0 != 0]
    x1 = np.resize([0.0, 0.5, -1.0], len(x0))
    z_u = np.stack([x0, x1], 1)
    z_l = np.array([[3.0, 0.2], [3.0, -0.2], [-3.0, 0.2], [-3.0, -0.2]])
    y_l = np.array([0, 0, 1, 1])
    return W, b, z_u, z_l, y_l


def test_alfamix_flags_boundary_points_only():
    W, b, z_u, z_l, y_l = boundary_problem()
    anchors, classes = class_anchors(z_l, y_l)
    np.testing.assert_allclose(anchors, [[3, 0], [-3, 0]])
    eps = 0.2 / math.sqrt(2)
    got = alfamix_candidates(z_u, anchors, torch.tensor(W), torch.tensor(b), eps)
    near = np.abs(z_u[:, 0]) <= 0.1
    assert got[near].all()  # within ε·‖z* − z‖ ≈ 0.4 of the boundary: all flip
    assert not got[~near].any()  # |x0| ≥ 2: none flips
    # the exact law here: ĝ = ∓e0, so a point flips iff ε·max_a ‖z*_a − z‖ > |x0|
    reach = eps * np.linalg.norm(anchors[None] - z_u[:, None], axis=2).max(1)
    np.testing.assert_array_equal(got, reach > np.abs(z_u[:, 0]))


def test_alfamix_strategy_selects_candidates_and_tops_up():
    W, b, z_u, z_l, y_l = boundary_problem()
    emb = np.concatenate([z_l, z_u]).astype(np.float32)
    n = len(emb)
    labels = np.concatenate([y_l, np.zeros(len(z_u), dtype=np.int64)])
    pool = id_pool(n, n_classes=2, labeled=range(4), labels=labels)
    probe = EmbedProbe(emb, weight=W, bias=b)
    near = 4 + np.flatnonzero(np.abs(z_u[:, 0]) <= 0.1)
    sel = alfamix(pool, probe, 4, np.random.default_rng(0))
    assert sel.info["n_candidates"] == len(near) and sel.info["n_anchors"] == 2
    assert sel.info["epsilon"] == pytest.approx(0.2 / math.sqrt(2))
    assert np.isin(sel.indices, near).all() and sel.info["n_topped_up"] == 0
    big = alfamix(pool, probe, len(near) + 3, np.random.default_rng(0))
    assert sel.info["n_topped_up"] == 0
    assert big.info["n_topped_up"] == 3
    np.testing.assert_array_equal(np.sort(big.indices[: len(near)]), near)


def test_alfamix_anchors_only_for_present_classes(digits):
    anchors, classes = class_anchors(
        np.arange(12, dtype=np.float32).reshape(6, 2), [5, 2, 5, 9, 2, 5]
    )
    np.testing.assert_array_equal(classes, [2, 5, 9])
    np.testing.assert_allclose(
        anchors, [[5, 6], [14 / 3, 17 / 3], [6, 7]]
    )  # rows (1, 4), (0, 2, 5), (3,)
    # a pool where only classes 3 and 7 are labeled (the reference would index classes 0, 1)
    y = digits.y_train
    lab = np.concatenate([np.flatnonzero(y == 3)[:5], np.flatnonzero(y == 7)[:5]])
    pool, probe = make_state(digits, 10)
    pool = Pool(digits.x_train, 10, np.isin(np.arange(len(y)), lab), y)
    probe.fit(digits.x_train[lab], y[lab])
    sel = strategies.select("alfamix", pool, probe, 10, np.random.default_rng(0), device="cpu")
    assert sel.info["n_anchors"] == 2


def test_alfamix_real_probe_equals_explicit(digits):
    pool, probe = make_state(digits, 20)
    unl, lab = pool.unlabeled_idx, pool.labeled_idx
    z = probe.embed(pool.x[unl])
    anchors, _ = class_anchors(probe.embed(pool.x[lab]), pool.labels[lab])
    eps = 0.2 / math.sqrt(z.shape[1])
    got = alfamix_candidates(z, anchors, probe.weight_, probe.bias_, eps)
    expected = alfamix_reference(z, anchors, probe.weight_.numpy(), probe.bias_.numpy(), eps)
    # float32 vs float64 may disagree only on exact ties; digits has none at this size
    np.testing.assert_array_equal(got, expected)
    sel = strategies.select("alfamix", pool, probe, 10, np.random.default_rng(0), device="cpu")
    assert sel.info["n_candidates"] == got.sum() >= 10 and sel.info["n_topped_up"] == 0
    assert got[np.searchsorted(unl, sel.indices)].all()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), "big"])
def test_alfamix_bad_epsilon(bad, digits):
    pool, probe = make_state(digits, 20)
    with pytest.raises(InvalidInputError, match="epsilon"):
        strategies.select(
            "alfamix", pool, probe, 5, np.random.default_rng(0), device="cpu", epsilon=bad
        )
