"""MaxHerding: known answers on hand-made pools, the fast version against the dense reference,
the cache, the initial pool, parameter checks and linear memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import alkit
from alkit import initial_pools, strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies._herding import CACHE_KEY, neighbour_rows
from alkit.strategies.maxherding import (
    coverage_reference,
    maxherding,
    maxherding_initial_pool,
    maxherding_reference,
)


def two_blobs(n_big: int = 61, n_small: int = 21, spread: float = 0.15, seed: int = 0):
    """Points on the unit sphere in 3-d around e1 (``n_big``) and e2 (``n_small``, both odd); row
    0 is e1 and row ``n_big`` is e2 exactly (the blob centres), the rest are pairs c ± h around
    them. With σ = 0.5 the blobs do not see each other (k ≈ e⁻⁸ across), so each centre is its
    blob's density peak; with σ = 1 the big blob's peak leans towards the small blob."""
    rng = np.random.default_rng(seed)

    def blob(centre, n):
        half = rng.normal(0, spread, size=((n - 1) // 2, 3))
        half -= np.outer(half @ centre, centre)  # offsets orthogonal to the centre
        return np.concatenate([centre[None], centre + half, centre - half])

    e1, e2 = np.eye(3)[0], np.eye(3)[1]
    x = np.concatenate([blob(e1, n_big), blob(e2, n_small)])
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


SIGMA = 0.5  # the blobs' known answers (see two_blobs)


def _run(x, labeled, budget, **kw):
    pool = Pool(x, 2, labeled)
    return maxherding(pool, None, budget, np.random.default_rng(0), device="cpu", **kw)


# ----------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("fast", [False, True])
def test_first_pick_is_the_centre_of_the_larger_blob_then_the_smaller(fast):
    x = two_blobs()
    labeled = np.zeros(len(x), dtype=bool)
    if fast:
        picks = _run(x, labeled, 2, sigma=SIGMA).indices  # default k
    else:
        picks = maxherding_reference(x, labeled, 2, sigma=SIGMA)
    assert picks.tolist() == [0, 61]


@pytest.mark.parametrize("fast", [False, True])
def test_a_labeled_neighbourhood_lowers_the_gains(fast):
    x = two_blobs()
    labeled = np.zeros(len(x), dtype=bool)
    labeled[1] = True  # a point next to the big blob's centre
    if fast:
        picks = _run(x, labeled, 1, sigma=SIGMA).indices
    else:
        picks = maxherding_reference(x, labeled, 1, sigma=SIGMA)
    assert picks.tolist() == [61]  # the small blob is now worth more than the covered big one


def test_coverage_is_reported_exactly():
    x = two_blobs()
    sel = _run(x, np.zeros(len(x), dtype=bool), 3, k=5)
    assert sel.info["coverage_before"] == 0.0
    assert sel.info["coverage"] == pytest.approx(coverage_reference(x, sel.indices), rel=1e-6)
    assert sel.info["n_topped_up"] == 0


# ----------------------------------------------------------------------------- fast == reference
@pytest.mark.parametrize("n_labeled", [0, 10, 60])
@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_fast_equals_reference_when_lists_hold_every_point(digits, n_labeled, sigma):
    x = digits.x_train
    labeled = np.zeros(len(x), dtype=bool)
    labeled[np.random.default_rng(n_labeled).choice(len(x), n_labeled, replace=False)] = True
    ref = maxherding_reference(x, labeled, 15, sigma=sigma)
    fast = _run(x, labeled, 15, k=len(x) - 1, sigma=sigma)
    assert fast.info["k"] == len(x) - 1
    np.testing.assert_array_equal(fast.indices, ref)


def test_fast_equals_reference_on_synthetic_features(small_synthetic):
    x = small_synthetic.x_train[:600]
    labeled = np.zeros(len(x), dtype=bool)
    labeled[:16] = True
    ref = maxherding_reference(x, labeled, 12)
    np.testing.assert_array_equal(_run(x, labeled, 12, k=len(x) - 1).indices, ref)


# measured on these pools (docs/strategies_herding.md): ratio 1.0014 / 1.0004 / 0.99996 on
# digits and ≥ 0.9997 on the 1 500-point synthetic set; the bound leaves room for other BLAS
@pytest.mark.parametrize("n_labeled", [0, 20, 100])
def test_default_k_agrees_with_reference(digits, n_labeled):
    x = digits.x_train
    labeled = np.zeros(len(x), dtype=bool)
    labeled[np.random.default_rng(n_labeled).choice(len(x), n_labeled, replace=False)] = True
    ref = maxherding_reference(x, labeled, 20)
    fast = _run(x, labeled, 20).indices
    lab = np.flatnonzero(labeled)
    ratio = coverage_reference(x, np.r_[lab, fast]) / coverage_reference(x, np.r_[lab, ref])
    assert ratio > 0.999, ratio


# ----------------------------------------------------------------------------- cache, init, index
def test_cached_lists_are_reused_with_the_same_picks(digits):
    x = digits.x_train
    labeled = np.zeros(len(x), dtype=bool)
    labeled[:10] = True
    pool = Pool(x, 10, labeled)
    first = maxherding(pool, None, 10, np.random.default_rng(0), device="cpu")
    again = maxherding(pool, None, 10, np.random.default_rng(5), device="cpu")
    assert not first.info["knn_reused"] and again.info["knn_reused"]
    np.testing.assert_array_equal(first.indices, again.indices)
    # a smaller k reuses the first columns of the cached lists
    small = maxherding(pool, None, 10, np.random.default_rng(0), k=20, device="cpu")
    fresh = maxherding(Pool(x, 10, labeled), None, 10, np.random.default_rng(0), k=20)
    assert small.info["knn_reused"] and small.info["k"] == 20
    np.testing.assert_array_equal(small.indices, fresh.indices)


def test_initial_pool_is_the_strategy_with_nothing_labeled(digits):
    x = digits.x_train
    cache: dict = {}
    init = initial_pools.select("maxherding", x, 10, np.random.default_rng(0), cache=cache)
    strat = _run(x, np.zeros(len(x), dtype=bool), 10)
    np.testing.assert_array_equal(init.indices, strat.indices)
    assert CACHE_KEY in cache
    assert strategies.default_initial_pool("maxherding") == "maxherding"
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        maxherding_initial_pool(x, 5, np.random.default_rng(0), bogus=1)


def test_run_al_hands_the_lists_from_the_initial_pool_to_the_strategy(digits):
    run = alkit.run_al(digits, strategy="maxherding", iterations=2, seed=1, device="cpu")
    assert run.selections[1].info["knn_reused"]
    assert run.history["n_labeled"].tolist() == [10, 20]


def test_hnsw_lists_put_each_point_first():
    x = two_blobs(201, 101)
    rows = neighbour_rows(x, 8, "hnsw")
    assert rows.width == 9
    np.testing.assert_array_equal(rows.idx[:, 0], np.arange(len(x)))
    assert (rows.sims[:, 0] == 1).all()
    assert (rows.idx[:, 1:] != np.arange(len(x))[:, None]).all() or np.isinf(rows.sims).any()
    picks = _run(x, np.zeros(len(x), dtype=bool), 2, k=8, index="hnsw", sigma=SIGMA).indices
    exact = _run(x, np.zeros(len(x), dtype=bool), 2, k=8, sigma=SIGMA).indices
    np.testing.assert_array_equal(picks, exact)


def test_deterministic(small_synthetic):
    x = small_synthetic.x_train
    labeled = np.zeros(len(x), dtype=bool)
    labeled[::97] = True
    a = _run(x, labeled, 8)
    b = _run(x, labeled, 8)
    np.testing.assert_array_equal(a.indices, b.indices)


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "params",
    [{"sigma": 0.0}, {"sigma": -1.0}, {"k": 0}, {"index": "flat"}, {"sigma": "1"}, {"k": 2.0}],
)
def test_bad_parameters_are_rejected(digits, params):
    pool = Pool(digits.x_train, 10)
    with pytest.raises(InvalidInputError):
        strategies.select("maxherding", pool, None, 5, np.random.default_rng(0), **params)


def test_unknown_parameter_is_rejected(digits):
    with pytest.raises(InvalidInputError):
        strategies.select(
            "maxherding", Pool(digits.x_train, 10), None, 5, np.random.default_rng(0), delta=0.5
        )


# ----------------------------------------------------------------------------- memory
def test_memory_is_linear_in_n():
    """N = 20 000: the lists take N·(k + 1)·8 bytes, and no numpy allocation comes near an
    N × N float32 array (1.6 GB): the traced peak stays below 0.2 GB."""
    emb = alkit.load_embeddings("synthetic:N=20000,d=32,C=10,seed=0,test=0")
    n = len(emb.x_train)
    labeled = np.zeros(n, dtype=bool)
    labeled[:: n // 20] = True
    pool = Pool(emb.x_train, 10, labeled)
    _ = pool.x_l2
    tracemalloc.start()
    sel = maxherding(pool, None, 10, np.random.default_rng(0), device="cpu")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sel.info["knn_bytes"] == n * 101 * 8
    assert peak < 0.2e9 < n * n * 4, peak
