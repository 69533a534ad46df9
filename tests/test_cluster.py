import numpy as np

from alkit import initial_pools
from alkit.cluster import kmeans_nearest, kmeans_pp_seeds, knn


def three_blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]])
    x = np.concatenate([c + rng.standard_normal((50, 3)) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(3), 50)


def test_centroids_pick_one_point_per_blob_nearest_its_centroid():
    x, y = three_blobs()
    sel = initial_pools.select("centroids", x, 3, np.random.default_rng(0), n_classes=3)
    assert sorted(y[sel.indices].tolist()) == [0, 1, 2]
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    for i in sel.indices:
        members = np.flatnonzero(y == y[i])
        centre = xn[members].mean(0)
        d = ((xn[members] - centre) ** 2).sum(1)
        assert members[np.argmin(d)] == i


def test_kmeans_nearest_deterministic_and_distinct_rule():
    x, _ = three_blobs()
    a = kmeans_nearest(x, 5, np.random.default_rng(1))[0]
    b = kmeans_nearest(x, 5, np.random.default_rng(1))[0]
    np.testing.assert_array_equal(a, b)
    # k ≥ number of distinct points: one point per distinct point
    dup = np.repeat(x[:3], 4, axis=0)
    picks, labels = kmeans_nearest(dup, 5, np.random.default_rng(0))
    assert sorted(picks.tolist()) == [0, 4, 8]
    assert len(np.unique(labels)) == 3


def test_kmeans_pp_first_uniform_then_d2():
    # two far points and many at the origin: after an origin seed, D² sampling picks a far point
    x = np.zeros((100, 2), dtype=np.float32)
    x[0] = [100, 0]
    x[1] = [0, 100]
    hits = 0
    for s in range(20):
        seeds = kmeans_pp_seeds(x, 2, np.random.default_rng(s))
        if seeds[0] >= 2:
            hits += seeds[1] in (0, 1)
            assert seeds[1] in (0, 1)
    assert hits > 0


def test_knn_excludes_self():
    x, _ = three_blobs()
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims, idx = knn(xn, 4)
    assert idx.shape == (150, 4)
    assert not (idx == np.arange(150)[:, None]).any()
    assert (np.diff(sims, axis=1) <= 1e-6).all()


def test_torch_lloyd_splits_empty_clusters_like_faiss():
    """The CUDA k-means path (run here on CPU tensors) gives an empty cluster half of a populated
    one, as faiss does, instead of keeping a centroid no point is assigned to."""
    import torch

    from alkit.cluster import lloyd, split_empty_clusters

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (60, 2)), rng.normal(5, 0.1, (40, 2))]).astype(
        np.float32
    )
    init = np.array([[0.0, 0.0], [5.0, 5.0], [100.0, 100.0]], dtype=np.float32)  # the third: far
    c = lloyd(torch.from_numpy(x), torch.from_numpy(init.copy()), 10, np.random.default_rng(0))
    labels = ((x[:, None, :] - c.numpy()[None]) ** 2).sum(-1).argmin(1)
    assert np.bincount(labels, minlength=3).min() > 0  # every centroid keeps members
    assert np.abs(c.numpy()).max() < 10  # the far centroid moved into the data

    # the split itself: size-weighted choice, ±1/1024 alternating perturbation, even split
    cc = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    counts = np.array([1, 9, 0])  # cluster 0 has one member: never split
    assert split_empty_clusters(cc, counts, np.random.default_rng(0)) == 1
    eps = 1 / 1024
    assert torch.allclose(cc[2], torch.tensor([3 * (1 + eps), 4 * (1 - eps)]))
    assert torch.allclose(cc[1], torch.tensor([3 * (1 - eps), 4 * (1 + eps)]))
    assert counts.tolist() == [1, 5, 4]
