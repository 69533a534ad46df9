"""alkit's Lloyd for large CPU k-means (alkit._kernels.lloyd): the plain iteration's centroids."""

import numpy as np
import pytest
import torch

from alkit import cluster
from alkit._kernels import lloyd as _lloyd
from alkit._kernels import screen as _screen

needs_bf16_accumulation = pytest.mark.skipif(
    not _screen.accumulates_in_float32(torch.bfloat16),
    reason="this torch build's bfloat16 CPU products do not accumulate in float32",
)


def _blobs(n=3000, d=64, k=12, spread=1.0, seed=0, with_labels=False):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d)) * 3
    y = rng.integers(k, size=n)
    x = centres[y] + spread * rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return (x.astype(np.float32), y) if with_labels else x.astype(np.float32)


@needs_bf16_accumulation
@pytest.mark.parametrize("spread", [0.3, 3.0])  # well separated; hardly clustered
@pytest.mark.parametrize("screen", [False, True])
@pytest.mark.parametrize("bounds", ["elkan", "hamerly"])
def test_pruned_lloyd_equals_the_plain_iteration(spread, screen, bounds, monkeypatch):
    if bounds == "hamerly":  # one bound per point, as above ELKAN_MAX_ELEMENTS
        monkeypatch.setattr(_lloyd, "ELKAN_MAX_ELEMENTS", 0)
    x = _blobs(spread=spread)
    xt = torch.from_numpy(x)
    init = xt[np.random.default_rng(1).choice(len(x), 12, replace=False)]
    c, stats = _lloyd.lloyd_pruned(xt, init, 100, np.random.default_rng(0), screen=screen)
    plain = cluster.lloyd(xt.clone(), init.clone(), stats["iterations"], np.random.default_rng(0))
    torch.testing.assert_close(c, plain, rtol=0, atol=1e-6)
    assert stats["converged"]
    labels = ((xt[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
    torch.testing.assert_close(c, torch.stack([xt[labels == j].mean(0) for j in range(12)]))


@needs_bf16_accumulation
def test_pruned_lloyd_reaches_faiss_fixed_point():
    import faiss

    x, y = _blobs(n=4000, d=32, k=10, spread=1.5, seed=3, with_labels=True)
    init = x[[int(np.flatnonzero(y == j)[0]) for j in range(10)]]  # no cluster starts empty
    c, _ = _lloyd.lloyd_pruned(
        torch.from_numpy(x), torch.from_numpy(init), 100, np.random.default_rng(0), screen=True
    )
    km = faiss.Kmeans(32, 10, niter=100, min_points_per_centroid=1, max_points_per_centroid=512)
    km.train(x, init_centroids=init)
    np.testing.assert_allclose(c.numpy(), km.centroids, atol=1e-5)


def test_pruned_lloyd_splits_empty_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (60, 2)), rng.normal(5, 0.1, (40, 2))]).astype(
        np.float32
    )
    init = torch.tensor([[0.0, 0.0], [5.0, 5.0], [100.0, 100.0]])
    c, stats = _lloyd.lloyd_pruned(torch.from_numpy(x), init, 10, np.random.default_rng(0))
    labels = ((x[:, None, :] - c.numpy()[None]) ** 2).sum(-1).argmin(1)
    assert stats["n_split"] >= 1
    assert np.bincount(labels, minlength=3).min() > 0


@needs_bf16_accumulation
def test_screened_assign_gives_the_float32_labels(monkeypatch):
    x = _blobs(n=5000, d=48, k=40, spread=2.0, seed=4)
    c = x[np.random.default_rng(0).choice(len(x), 40, replace=False)] * 0.7
    monkeypatch.setattr(cluster, "LLOYD_MIN_WORK", float("inf"))
    want, want_d2 = cluster.assign(x, c, device="cpu")
    monkeypatch.setattr(cluster, "LLOYD_MIN_WORK", 0.0)
    got, got_d2 = cluster.assign(x, c, device="cpu")
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_d2, want_d2, atol=1e-5)


@needs_bf16_accumulation
def test_kmeans_switches_to_alkit_lloyd_on_large_problems(monkeypatch):
    x = _blobs(n=2000, d=32, k=8, spread=0.5, seed=6)
    init = x[np.random.default_rng(0).choice(len(x), 8, replace=False)]
    monkeypatch.setattr(cluster, "LLOYD_MIN_WORK", float("inf"))
    faiss_c = cluster.kmeans(x, init, np.random.default_rng(0), device="cpu")
    monkeypatch.setattr(cluster, "LLOYD_MIN_WORK", 0.0)
    ours = cluster.kmeans(x, init, np.random.default_rng(0), device="cpu")
    np.testing.assert_allclose(ours, faiss_c, atol=1e-5)


@needs_bf16_accumulation
@pytest.mark.parametrize("spread", [0.5, 3.0])
def test_kmeans_nearest_reuses_the_converged_assignment(monkeypatch, spread):
    """A converged alkit Lloyd's last assignment is assign()'s: the same picks and labels
    without the final pass."""
    x = _blobs(n=3000, d=48, k=20, spread=spread, seed=7)
    monkeypatch.setattr(cluster, "LLOYD_MIN_WORK", 0.0)
    monkeypatch.setattr(cluster, "REUSE_LLOYD_LABELS", False)
    want = cluster.kmeans_nearest(x, 20, np.random.default_rng(1), device="cpu")
    monkeypatch.setattr(cluster, "REUSE_LLOYD_LABELS", True)
    calls = []
    monkeypatch.setattr(cluster, "assign", lambda *a, **k: calls.append(1))
    got = cluster.kmeans_nearest(x, 20, np.random.default_rng(1), device="cpu")
    assert calls == []  # converged: no assignment pass
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_own_sq_dists_blocks_are_the_one_product_bits():
    """own_sq_dists in cache-sized blocks gives the bits of one whole-array evaluation."""
    x = torch.from_numpy(_blobs(n=2100, d=40, k=9, spread=1.0, seed=8))
    c = x[:9] * 0.9
    lab = torch.from_numpy(np.random.default_rng(0).integers(0, 9, len(x)))
    sq = torch.linalg.vector_norm(x, dim=1).square()
    want = (sq - 2.0 * torch.linalg.vecdot(x, c[lab]) + (c * c).sum(1)[lab]).clamp_min_(0)
    assert _lloyd.OWN_BLOCK_ROWS < len(x)
    np.testing.assert_array_equal(_lloyd.own_sq_dists(x, c, lab), want.numpy())
