import numpy as np
import pytest

from alkit import strategies
from alkit.errors import BudgetError, EmptyPoolError, InvalidInputError
from alkit.pool import Pool, Selection, check_budget, top_up


def test_pool_hides_unlabeled_labels():
    y = np.array([0, 1, 2, 0])
    pool = Pool(np.eye(4, dtype=np.float32), 3, labeled=[True, False, True, False], labels=y)
    assert pool.labels.tolist() == [0, -1, 2, -1]
    assert pool.unlabeled_idx.tolist() == [1, 3]


def test_top_up_completes_and_counts():
    pool = Pool(np.random.default_rng(0).standard_normal((20, 3)), 2, labeled=np.arange(20) < 5)
    sel = top_up(np.array([7, 9]), pool, 6, np.random.default_rng(0), {"x": 1})
    assert len(sel.indices) == 6 and len(set(sel.indices)) == 6
    assert sel.indices[:2].tolist() == [7, 9]
    assert not pool.labeled[sel.indices].any()
    assert sel.info == {"x": 1, "n_topped_up": 4}


def test_forced_under_production_through_registry():
    """A strategy that yields fewer than the budget is topped up and says so."""

    def half(pool, probe, budget, rng, **params):
        return top_up(pool.unlabeled_idx[: budget // 2], pool, budget, rng)

    strategies.register("_half_for_test", half, needs_probe=False, overwrite=True)
    try:
        pool = Pool(np.random.default_rng(0).standard_normal((30, 3)), 2, labeled=np.arange(30) < 3)
        sel = strategies.select("_half_for_test", pool, None, 8, np.random.default_rng(1))
        assert len(sel.indices) == 8 and sel.info["n_topped_up"] == 4
    finally:
        strategies.unregister("_half_for_test")


def test_registry_rejects_broken_strategy_and_unknown_names():
    def dup(pool, probe, budget, rng, **params):
        return Selection(np.zeros(budget, dtype=np.int64))

    strategies.register("_dup_for_test", dup, needs_probe=False, overwrite=True)
    try:
        pool = Pool(np.zeros((10, 2)), 2)
        with pytest.raises(AssertionError, match="returned"):
            strategies.select("_dup_for_test", pool, None, 3, np.random.default_rng(0))
    finally:
        strategies.unregister("_dup_for_test")
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        strategies.check_params("entropy", {"bogus": 1})
    with pytest.raises(KeyError, match="available"):
        strategies.get("nope")


def test_check_budget():
    assert check_budget(3, 5) == 3
    with pytest.raises(BudgetError, match="exceeds the 5 unlabeled"):
        check_budget(6, 5)
    with pytest.raises(EmptyPoolError):
        check_budget(1, 0)
    for bad in (0, -1, 1.5, "3", True):
        with pytest.raises(BudgetError):
            check_budget(bad, 5)


def test_add_labels_validation():
    pool = Pool(np.zeros((5, 2)), 3)
    with pytest.raises(InvalidInputError, match="duplicates"):
        pool.add_labels([1, 1], [0, 0])
    with pytest.raises(InvalidInputError, match=r"\[0, 3\)"):
        pool.add_labels([1], [5])
    with pytest.raises(InvalidInputError, match="one label per index"):
        pool.add_labels([1, 2], [0])


def test_x_l2_reuses_unit_features_and_normalises_others():
    from alkit._kernels.norms import l2_normalize

    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 8)).astype(np.float32)
    pool = Pool(x, 3)
    np.testing.assert_array_equal(
        pool.x_l2, x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    )
    assert pool.x_l2 is not pool.x
    unit = l2_normalize(x)
    upool = Pool(unit, 3)
    assert upool.x_l2 is upool.x  # already normalised: no second copy


def test_l2_normalize_in_chunks_equals_one_pass():
    from alkit._kernels.norms import l2_normalize, row_norms

    x = np.random.default_rng(1).standard_normal((1000, 5)).astype(np.float32)
    x[3] = 0.0
    one = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    np.testing.assert_array_equal(l2_normalize(x, chunk=7), one)
    np.testing.assert_array_equal(row_norms(x, chunk=7), np.linalg.norm(x, axis=1))
