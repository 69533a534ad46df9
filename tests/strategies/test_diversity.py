"""CoreSet, BADGE and ALFA-Mix: known answers and explicit references on small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alkit import strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies.diversity import (
    alfamix,
    alfamix_candidates,
    badge,
    badge_seeds,
    class_anchors,
    coreset,
    gradient_sq_dists,
    kcenter_greedy,
)

from .template import make_state


class EmbedProbe:
    """A probe whose embedding, probabilities and linear layer are given by hand.

    Rows are looked up through the pool's first feature column (the row id).
    """

    is_fitted = True

    def __init__(self, emb, proba=None, weight=None, bias=None):
        self.emb = np.asarray(emb, dtype=np.float32)
        self.proba = None if proba is None else np.asarray(proba, dtype=np.float32)
        if weight is not None:
            self.weight_ = torch.as_tensor(weight, dtype=torch.float32)
            self.bias_ = torch.as_tensor(bias, dtype=torch.float32)

    @staticmethod
    def _ids(x):
        return np.asarray(x)[:, 0].astype(np.int64)

    def embed(self, x):
        return self.emb[self._ids(x)]

    def predict_proba(self, x, dropout=False):
        return self.proba[self._ids(x)]


def id_pool(n, n_classes=3, labeled=(), labels=None):
    x = np.stack([np.arange(n, dtype=np.float32), np.zeros(n, dtype=np.float32)], 1)
    lab = np.zeros(n, dtype=bool)
    lab[list(labeled)] = True
    y = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels)
    return Pool(x, n_classes, lab, np.where(lab, y, -1))


# ------------------------------------------------------------------------------ CoreSet
def test_coreset_farthest_first_on_a_line():
    pos = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    emb = np.stack([pos, np.zeros_like(pos)], 1)
    sel = coreset(id_pool(6, labeled=[0]), EmbedProbe(emb), 5, np.random.default_rng(0))
    # 16 (dist 16 from 0), then 8 (8 from both ends), 4, 2, 1
    np.testing.assert_array_equal(sel.indices, [5, 4, 3, 2, 1])
    assert sel.info["radius"] == 0.0


def test_coreset_partial_batch_and_radius():
    pos = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 3.0])
    emb = pos[:, None]
    sel = coreset(id_pool(7, labeled=[0, 6]), EmbedProbe(emb), 2, np.random.default_rng(0))
    # nearest centre of 1, 2, 4, 8, 16 in {0, 3}: 1, 1, 1, 5, 13 → 16; then 8 (5 from 3)
    np.testing.assert_array_equal(sel.indices, [5, 4])
    assert sel.info["radius"] == pytest.approx(1.0)  # 1, 2 and 4 are all 1 from a centre


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


def _eager_kcenter(x, lab, budget, first=0):
    """The textbook farthest-first traversal: one full float64 pass per pick."""
    x64 = x.astype(np.float64)
    sq = (x64 * x64).sum(1)
    md = np.full(len(x), np.inf)
    if len(lab):
        l64 = lab.astype(np.float64)
        md = np.maximum(sq[:, None] - 2 * x64 @ l64.T + (l64 * l64).sum(1)[None], 0).min(1)
    picks = []
    for i in range(budget):
        j = first if (i == 0 and not len(lab)) else int(np.argmax(md))
        picks.append(j)
        md = np.minimum(md, np.maximum(sq - 2 * x64 @ x64[j] + sq[j], 0))
        md[j] = -1
    return picks, float(np.sqrt(max(md.max(), 0)))


@pytest.mark.parametrize("n_labeled", [0, 1, 40])
@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("screen", [False, True])
def test_lazy_kcenter_is_the_eager_traversal(monkeypatch, n_labeled, batch, screen):
    """Lazy minima (bounds refreshed only where the maximum needs them) give the eager picks:
    clustered data with duplicated rows and grid points at equal distances (ties)."""
    from alkit._kernels import screen as _screen
    from alkit.strategies import diversity

    rng = np.random.default_rng(n_labeled + batch)
    centres = rng.standard_normal((12, 16)) * 4
    x = (centres[rng.integers(12, size=3000)] + rng.standard_normal((3000, 16))).astype(np.float32)
    x[200:260] = x[:60]  # duplicates
    x[300:340] = np.repeat(np.eye(4, 16, dtype=np.float32) * 50, 10, axis=0)  # far, tied points
    lab, pool = x[:n_labeled], x[n_labeled:]
    monkeypatch.setattr(diversity, "KCENTER_BATCH", batch)
    monkeypatch.setattr(_screen, "MIN_ROWS", 0 if screen else 10**9)
    first = int(np.random.default_rng(3).integers(len(pool)))
    picks, radius = kcenter_greedy(pool, lab, 80, np.random.default_rng(3), device="cpu")
    ref_picks, ref_radius = _eager_kcenter(pool, lab, 80, first)
    assert picks.tolist() == ref_picks
    assert radius == pytest.approx(ref_radius, rel=1e-12)


@pytest.mark.parametrize("low", ["bfloat16", "float32"])
def test_kcenter_bounds_are_upper_bounds(monkeypatch, low):
    """Each row's first bound is ≥ its float64 distance to the nearest centre (rows of very
    different norms, duplicates of centres), and equal to it up to rounding where the
    low-precision product picks the right centre."""
    import math

    import torch

    from alkit._kernels import screen as _screen
    from alkit.strategies import diversity

    monkeypatch.setattr(_screen, "MIN_ROWS", 0 if low == "bfloat16" else 10**9)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5000, 24)) * 10.0 ** rng.uniform(-3, 3, size=(5000, 1))).astype(
        np.float32
    )
    c = np.concatenate(
        [x[:40], rng.standard_normal((60, 24)).astype(np.float32)]
    )  # 40 rows are centres
    x_sq = torch.empty(len(x), dtype=torch.float64)
    ub = diversity._kcenter_bounds(
        torch.from_numpy(x).__getitem__, len(x), 24, x_sq, torch.from_numpy(c).double()
    ).numpy()
    x64, c64 = x.astype(np.float64), c.astype(np.float64)
    exact = np.maximum((x64**2).sum(1)[:, None] - 2 * x64 @ c64.T + (c64**2).sum(1)[None], 0).min(1)
    np.testing.assert_allclose(x_sq.numpy(), (x64**2).sum(1), rtol=1e-15)
    assert (ub >= exact).all()
    tight = ub <= exact + 1e-6 * ((x64**2).sum(1) + (c64**2).sum(1).max())
    assert tight.mean() > 0.9
    assert (ub[:40] <= 1e-6 * (x64[:40] ** 2).sum(1) + 1e-30).all()  # a centre's own row: bound ≈ 0
    empty = diversity._kcenter_bounds(
        torch.from_numpy(x).__getitem__, len(x), 24, x_sq, torch.zeros((0, 24), dtype=torch.float64)
    )
    assert bool(torch.isinf(empty).all()) and not math.isnan(float(x_sq.sum()))


def test_coreset_matches_bruteforce_on_digits(digits):
    pool, probe = make_state(digits, 30)
    z = probe.embed(pool.x).astype(np.float64)
    lab, unl = pool.labeled_idx, pool.unlabeled_idx
    dist = np.sqrt(((z[unl, None, :] - z[None, lab, :]) ** 2).sum(-1)).min(1)
    expected = []
    for _ in range(15):
        j = int(np.argmax(dist))
        expected.append(unl[j])
        dist = np.minimum(dist, np.sqrt(((z[unl] - z[unl[j]]) ** 2).sum(1)))
    sel = strategies.select("coreset", pool, probe, 15, np.random.default_rng(0), device="cpu")
    np.testing.assert_array_equal(sel.indices, expected)


# ------------------------------------------------------------------------------ BADGE
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


def explicit_badge(g, k, rng):
    """BADGE's k-means++ on explicit gradient embeddings, with the documented draw protocol."""
    n = len(g)
    seeds = [int(rng.integers(n))]
    d2 = ((g - g[seeds[0]]) ** 2).sum(1)
    d2[seeds[0]] = 0.0
    for _ in range(1, k):
        cdf = np.cumsum(d2)
        if cdf[-1] > 0:
            idx = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        else:
            idx = int(rng.choice(np.setdiff1d(np.arange(n), seeds)))
        seeds.append(idx)
        d2 = np.minimum(d2, ((g - g[idx]) ** 2).sum(1))
        d2[idx] = 0.0
    return np.array(seeds)


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
    g = explicit_gradients(z, delta)
    expected = explicit_badge(g, 12, np.random.default_rng(seed))
    np.testing.assert_array_equal(badge_seeds(z, delta, 12, np.random.default_rng(seed)), expected)
    sel = badge(id_pool(80), EmbedProbe(z, proba=p), 12, np.random.default_rng(seed))
    np.testing.assert_array_equal(sel.indices, expected)


def test_badge_real_probe_matches_explicit(digits):
    pool, probe = make_state(digits, 20)
    unl = pool.unlabeled_idx
    p = probe.predict_proba(pool.x[unl])
    delta = p.copy()
    delta[np.arange(len(p)), p.argmax(1)] -= 1.0
    g = explicit_gradients(probe.embed(pool.x[unl]), delta)
    for seed in (1, 2):
        sel = strategies.select("badge", pool, probe, 10, np.random.default_rng(seed), device="cpu")
        np.testing.assert_array_equal(
            sel.indices, unl[explicit_badge(g, 10, np.random.default_rng(seed))]
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


# ------------------------------------------------------------------------------ ALFA-Mix
def explicit_alfamix(z, anchors, W, b, eps):
    """The reference's formula, elementwise α (0 where z* − z = 0), z̃ = αz* + (1 − α)z."""
    z, anchors, W, b = (np.asarray(a, dtype=np.float64) for a in (z, anchors, W, b))
    logits = z @ W.T + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = logits.argmax(1)
    p[np.arange(len(z)), y] -= 1
    g = p @ W
    gn = np.linalg.norm(g, axis=1, keepdims=True)
    flagged = np.zeros(len(z), dtype=bool)
    for a in anchors:
        diff = a - z
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = eps * np.linalg.norm(diff, axis=1, keepdims=True) * g / (gn * diff)
        alpha[diff == 0] = 0.0
        mixed = alpha * a + (1 - alpha) * z
        flagged |= (mixed @ W.T + b).argmax(1) != y
    return flagged


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
        expected = explicit_alfamix(z, anchors, W, b, eps)
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
    expected = explicit_alfamix(z, anchors, probe.weight_.numpy(), probe.bias_.numpy(), eps)
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


def test_registry_entries():
    for name in ("coreset", "badge", "alfamix"):
        assert strategies.info(name).family == "diversity"
        assert strategies.default_initial_pool(name) == "random"
    assert strategies.info("alfamix").params == {"epsilon": None}
    assert strategies.info("coreset").params == {} and strategies.info("badge").params == {}


@pytest.mark.parametrize("name", ["coreset", "badge"])
def test_float64_block_path_gives_identical_picks(name, digits, monkeypatch):
    """Above the copy limit, float32 rows converted per block give the same picks as one copy."""
    from alkit import strategies
    from alkit.strategies import diversity

    from .template import make_state

    pool, probe = make_state(digits, 30)
    copy = strategies.select(name, pool, probe, 10, np.random.default_rng(4))
    monkeypatch.setattr(diversity, "F64_COPY_MAX_BYTES", 0)
    blocks = strategies.select(name, pool, probe, 10, np.random.default_rng(4))
    np.testing.assert_array_equal(copy.indices, blocks.indices)


def test_badge_recomputed_embeddings_give_identical_picks(digits, monkeypatch):
    """Above the store limit BADGE recomputes z from the pool per pass: same picks."""
    from alkit import strategies
    from alkit.strategies import diversity

    from .template import count_embed_calls, make_state

    pool, probe = make_state(digits, 30)
    monkeypatch.setattr(diversity, "F64_COPY_MAX_BYTES", 0)  # the stored path in blocks too
    stored = strategies.select("badge", pool, probe, 10, np.random.default_rng(7))
    calls = count_embed_calls(probe, monkeypatch)
    monkeypatch.setattr(diversity, "BADGE_STORE_Z_MAX_BYTES", 0)
    lazy = strategies.select("badge", pool, probe, 10, np.random.default_rng(7))
    np.testing.assert_array_equal(stored.indices, lazy.indices)
    assert len(calls) > 10  # z was recomputed pass after pass, never stored
