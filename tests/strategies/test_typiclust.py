"""TypiClust: typicality, the round-robin over clusters, skipping, top-up and the cached clusters."""

import numpy as np
import pytest

from alkit import initial_pools, strategies
from alkit._kernels.norms import l2_normalize
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies import typiclust as typiclust_module
from alkit.strategies.typiclust import typicality


def _brute_typicality(x, knn):
    x = np.asarray(x, dtype=np.float64)
    d2 = np.maximum((x * x).sum(1)[:, None] + (x * x).sum(1)[None] - 2 * x @ x.T, 0)
    np.fill_diagonal(d2, 0)
    k = min(knn, len(x) - 1) + 1
    return np.sort(d2, axis=1)[:, :k].mean(1)


def _most_typical(x, members, knn=20):
    return int(members[np.argmin(_brute_typicality(x[members], min(knn, len(members) // 2)))])


def test_typicality_picks_the_densest_point_of_a_blob_with_an_outlier():
    # a blob whose density falls away from its core (index 0): points at ±0.01·i² along a line
    # (gaps widen outwards), in 2-D, plus one outlier (last index) far away
    i = np.arange(1, 13)
    pos = np.concatenate([[0.0], 0.01 * i**2, -0.01 * i**2])
    x = np.stack([pos, np.zeros_like(pos)], 1)
    x = np.concatenate([x, [[4.0, 4.0]]]).astype(np.float32) + np.float32([2.0, -1.0])
    for knn in (1, 2, 6, 12, 20):
        t = typicality(x, knn, device="cpu")
        assert int(np.argmin(t)) == 0
        assert int(np.argmax(t)) == len(x) - 1
    # through the initial pool: one cluster (k = budget = 1), its most typical point is the core
    sel = initial_pools.select("typiclust", x, 1, np.random.default_rng(0), n_classes=2, knn=6)
    assert sel.indices.tolist() == [0]


def test_typicality_matches_brute_force_in_blocks(monkeypatch):
    monkeypatch.setattr(typiclust_module, "BLOCK_ELEMENTS", 53 * 4)
    x = np.random.default_rng(1).standard_normal((53, 7)).astype(np.float32)
    for knn in (1, 5, 26, 60):
        np.testing.assert_allclose(
            typicality(x, knn, device="cpu"), _brute_typicality(x, knn), rtol=1e-4, atol=1e-5
        )
    assert typicality(x[:1], 20, device="cpu").tolist() == [0.0]


def _planted(sizes, d=8, seed=0, noise=0.05):
    """Well-separated blobs of the given sizes on the sphere, with their cluster labels."""
    r = np.random.default_rng(seed)
    centres = l2_normalize(r.standard_normal((len(sizes), d)))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = l2_normalize(centres[labels] + noise * r.standard_normal((len(labels), d)))
    return x, labels


def test_strategy_skips_small_clusters_and_tops_up():
    # clusters: 0 (10 points, none labeled), 1 (8, two labeled → 6 left),
    # 2 (6, one labeled → 5 left: skipped when visited), 3 (3 points: dropped)
    x, labels = _planted([10, 8, 6, 3])
    labeled = np.zeros(len(x), dtype=bool)
    labeled[[10, 11, 18]] = True
    pool = Pool(x, 4, labeled, np.where(labeled, labels, -1))
    budget = 4
    pool.cache["typiclust"] = {"k": pool.n_labeled + budget, "labels": labels}  # planted clusters
    sel = strategies.select("typiclust", pool, None, budget, np.random.default_rng(0))
    # order: (labeled count asc, size desc) = 0, 2, 1; visits 0, 2 (skipped), 1, 0
    first = _most_typical(x, np.arange(10))
    in1 = np.setdiff1d(np.arange(10, 18), [10, 11])
    second0 = _most_typical(x, np.setdiff1d(np.arange(10), [first]))
    assert sel.indices[:3].tolist() == [first, _most_typical(x, in1), second0]
    assert sel.info["n_visits_skipped"] == 1 and sel.info["n_topped_up"] == 1
    assert sel.info["n_clusters_kept"] == 3 and sel.info["clusters_reused"]
    assert len(np.unique(sel.indices)) == 4 and not pool.labeled[sel.indices].any()


def test_strategy_with_no_cluster_above_min_size_is_all_random():
    x, labels = _planted([4, 5, 3])
    pool = Pool(x, 3, np.eye(1, len(x), 0, dtype=bool)[0], np.where(np.arange(len(x)) == 0, 0, -1))
    pool.cache["typiclust"] = {"k": 1 + 3, "labels": labels}
    sel = strategies.select("typiclust", pool, None, 3, np.random.default_rng(0))
    assert sel.info["n_topped_up"] == 3 and sel.info["n_clusters_kept"] == 0


def test_initial_pool_visits_clusters_by_size_round_robin():
    # k = budget = 3: cluster 1 (12) first, then 0 (7); 2 (4 points) is dropped; then 1 again
    x, labels = _planted([7, 12, 4], seed=3)
    cache = {"typiclust": {"k": 3, "labels": labels}}
    sel = initial_pools.select(
        "typiclust", x, 3, np.random.default_rng(0), n_classes=3, cache=cache
    )
    c1 = np.arange(7, 19)
    a = _most_typical(x, c1)
    b = _most_typical(x, np.arange(7))
    c = _most_typical(x, np.setdiff1d(c1, [a]))
    assert sel.indices.tolist() == [a, b, c]
    assert sel.info["n_topped_up"] == 0 and sel.info["n_clusters_kept"] == 2


def test_initial_pool_on_blobs_takes_each_blobs_most_typical_point():
    x, labels = _planted(
        [40, 50, 30, 45, 35], d=16, seed=5, noise=0.01
    )  # tight: k-means finds them
    cache: dict = {}
    sel = initial_pools.select(
        "typiclust", x, 5, np.random.default_rng(0), n_classes=5, cache=cache
    )
    assert sorted(labels[sel.indices].tolist()) == [0, 1, 2, 3, 4]
    for i in sel.indices:
        assert i == _most_typical(x, np.flatnonzero(labels == labels[i]))
    assert cache["typiclust"]["k"] == 5  # kept for the query
    # sizes descending: blob 1 (50) first, then 3 (45), 0 (40), 4 (35), 2 (30)
    assert labels[sel.indices].tolist() == [1, 3, 0, 4, 2]


def test_strategy_reuses_clusters_only_while_k_is_unchanged(small_synthetic):
    x, C = small_synthetic.x_train, small_synthetic.n_classes
    pool = Pool(x, C)
    pool.add_labels(np.arange(C), small_synthetic.y_train[:C])
    s1 = strategies.select("typiclust", pool, None, C, np.random.default_rng(0))
    assert not s1.info["clusters_reused"] and pool.cache["typiclust"]["k"] == 2 * C
    s2 = strategies.select("typiclust", pool, None, C, np.random.default_rng(0))
    assert s2.info["clusters_reused"]
    np.testing.assert_array_equal(s1.indices, s2.indices)
    pool.add_labels(s1.indices, small_synthetic.y_train[s1.indices])
    s3 = strategies.select("typiclust", pool, None, C, np.random.default_rng(0), max_clusters=2 * C)
    assert s3.info["clusters_reused"] and s3.info["n_clusters"] <= 2 * C  # capped k = 2C again
    assert not set(s3.indices) & set(s1.indices)


def test_bad_parameters_raise_clear_errors(small_synthetic):
    pool = Pool(small_synthetic.x_train, 8)
    for bad in ({"knn": 0}, {"min_size": -1}, {"max_clusters": 0}, {"knn": 2.5}):
        with pytest.raises(InvalidInputError):
            strategies.select("typiclust", pool, None, 3, np.random.default_rng(0), **bad)


def test_fast_typiclust_equals_the_readable_reference(small_synthetic):
    """The registered selection (blockwise torch kNN) picks what the plain version picks."""
    from alkit._kernels.norms import l2_normalize
    from alkit.cluster import kmeans_nearest
    from alkit.strategies.typiclust import _typiclust_select, typiclust_reference

    x_l2 = l2_normalize(small_synthetic.x_train[:600])
    rng = np.random.default_rng(0)
    for k, n_labeled, budget in ((12, 0, 8), (12, 30, 8), (40, 25, 20)):
        _, labels = kmeans_nearest(x_l2, k, rng, device="cpu", normalize=False)
        labeled = np.zeros(len(x_l2), dtype=bool)
        labeled[rng.choice(len(x_l2), n_labeled, replace=False)] = True
        fast, _ = _typiclust_select(
            x_l2, labels, ~labeled, budget, labeled=labeled, knn=20, min_size=5, device="cpu"
        )
        assert fast.tolist() == typiclust_reference(x_l2, labels, labeled, budget)
