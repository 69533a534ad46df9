"""Batched k-means++ seeding (alkit._kernels.seeding): the exact D² distribution, deterministic."""

import numpy as np
import pytest
import torch

from alkit import cluster
from alkit._kernels import seeding


def _exact_three_seed_law(x: np.ndarray) -> np.ndarray:
    """P(s1, s2, s3) of k-means++ (uniform first seed, then D² sampling), enumerated."""
    d = ((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1)
    n = len(x)
    p = np.zeros((n, n, n))
    for i in range(n):
        p2 = d[i] / d[i].sum()
        for j in np.flatnonzero(p2):
            m = np.minimum(d[i], d[j])
            p[i, j] += p2[j] * m / m.sum() / n
    return p


@pytest.mark.parametrize("batch", [1, 2, 32])
def test_batched_seeds_follow_the_kmeanspp_law(batch):
    x = np.random.default_rng(5).standard_normal((8, 3)).astype(np.float32)
    x[5] = x[4]  # a duplicate: never both seeds
    law = _exact_three_seed_law(x)
    draws = 12_000
    counts = np.zeros_like(law)
    xt = torch.from_numpy(x)
    for t in range(draws):
        counts[tuple(seeding.kmeanspp_batched(xt, 3, np.random.default_rng(t), batch=batch))] += 1
    assert counts[law == 0].sum() == 0
    support = law > 0
    expected = draws * law[support]
    chi2 = float(((counts[support] - expected) ** 2 / expected).sum())
    dof = int(support.sum()) - 1
    assert chi2 < dof + 5 * np.sqrt(2 * dof)  # about five standard deviations


def test_batched_seeds_deterministic_distinct_and_exhaust_distinct_rows():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 16)).astype(np.float32)
    xt = torch.from_numpy(x)
    a = seeding.kmeanspp_batched(xt, 70, np.random.default_rng(3))
    b = seeding.kmeanspp_batched(xt, 70, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 70
    # 6 distinct rows, 10 seeds: the 6 distinct rows first, then uniform among unchosen rows
    dup = torch.from_numpy(np.repeat(np.eye(6, 8, dtype=np.float32), 50, axis=0))
    s = seeding.kmeanspp_batched(dup, 10, np.random.default_rng(0), batch=4)
    assert len(np.unique(s)) == 10
    assert len(np.unique(s[:6] // 50)) == 6


def test_kmeans_pp_seeds_uses_the_batched_sampler_on_large_pools(monkeypatch):
    x = np.random.default_rng(1).standard_normal((500, 8)).astype(np.float32)
    monkeypatch.setattr(seeding, "LAZY_MIN_ROWS", 100)
    got = cluster.kmeans_pp_seeds(x, 20, np.random.default_rng(2), device="cpu")
    want = seeding.kmeanspp_batched(torch.from_numpy(x), 20, np.random.default_rng(2))
    np.testing.assert_array_equal(got, want)
