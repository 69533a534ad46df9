"""Known answers for the uncertainty family on hand-made probability tables."""

import numpy as np
import pytest

from alkit import strategies
from alkit.pool import Pool
from alkit.strategies import scores
from alkit.strategies.base import top_k, typical_block

P = np.array(
    [
        [1.00, 0.00, 0.00],  # 0: certain (entropy 0, with 0·log 0 = 0)
        [0.34, 0.33, 0.33],  # 1: most uncertain by every measure
        [0.50, 0.50, 0.00],  # 2: margin 0, but lower entropy than row 1
        [0.80, 0.10, 0.10],  # 3
        [0.60, 0.30, 0.10],  # 4
    ]
)


class TableProbe:
    """A fake probe whose (clean and dropout) probabilities are a fixed table."""

    is_fitted = True

    def __init__(self, table, dropout_table=None):
        self.table, self.dropout_table = table, dropout_table

    def predict_proba(self, x, dropout=False):
        t = self.dropout_table if (dropout and self.dropout_table is not None) else self.table
        return t[np.asarray(x[:, 0], dtype=int)]


def pool_for(table, labeled=()):
    x = np.arange(len(table), dtype=np.float32)[:, None].repeat(2, 1)
    mask = np.zeros(len(table), dtype=bool)
    mask[list(labeled)] = True
    return Pool(x, table.shape[1], labeled=mask, labels=np.where(mask, 0, -1))


def test_scores_on_known_table():
    h = scores.entropy(P)
    assert h[0] == 0.0 and np.isfinite(h).all()
    np.testing.assert_allclose(h[2], np.log(2))
    assert np.argmax(h) == 1
    np.testing.assert_allclose(scores.least_confidence(P), [0.0, 0.66, 0.5, 0.2, 0.4])
    np.testing.assert_allclose(scores.margin(P), [-1.0, -0.01, 0.0, -0.7, -0.3], atol=1e-12)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("entropy", [1, 4]),  # highest entropy: row 1 (≈1.10), then row 4 (≈0.90 > log 2)
        ("least_confidence", [1, 2]),  # lowest max p: 0.34, then 0.5
        ("margin", [2, 1]),  # smallest p1 − p2: 0.0, then 0.01
    ],
)
def test_top_b_known_answers(name, expected):
    sel = strategies.select(name, pool_for(P), TableProbe(P), 2, np.random.default_rng(0))
    assert sel.indices.tolist() == expected


def test_labeled_points_are_never_picked():
    sel = strategies.select(
        "entropy", pool_for(P, labeled=[1]), TableProbe(P), 2, np.random.default_rng(0)
    )
    assert sel.indices.tolist() == [4, 2]


def test_dropout_option_scores_the_stochastic_pass():
    flipped = P[::-1].copy()  # the stochastic pass makes row 4 the most uncertain
    sel = strategies.select(
        "least_confidence",
        pool_for(P),
        TableProbe(P, flipped),
        1,
        np.random.default_rng(0),
        dropout=True,
    )
    assert sel.indices.tolist() == [3]  # row 3 of the pool reads flipped[3] = P[1]


def test_typical_block_is_centred_on_the_median():
    s = np.arange(11, dtype=float)  # ranking: 10, 9, …, 0; median position 5 (score 5)
    assert sorted(typical_block(s, 3).tolist()) == [4, 5, 6]
    assert top_k(s, 3).tolist() == [10, 9, 8]
    assert sorted(typical_block(s, 11).tolist()) == list(range(11))


def test_cluster_option_spreads_the_batch():
    # 40 equally uncertain points in two tight groups: top-2 by score alone takes both from one
    # group (ties by index); cluster=True takes one from each group
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.normal([5, 0], 0.01, (20, 2)), rng.normal([0, 5], 0.01, (20, 2))]
    ).astype(np.float32)
    pool = Pool(x, 2)

    class Flat:
        is_fitted = True

        def predict_proba(self, xx, dropout=False):
            return np.full((len(xx), 2), 0.5)

    plain = strategies.select("entropy", pool, Flat(), 2, np.random.default_rng(0))
    assert (plain.indices < 20).all()
    spread = strategies.select("entropy", pool, Flat(), 2, np.random.default_rng(0), cluster=True)
    assert sorted(int(i >= 20) for i in spread.indices) == [0, 1]
    assert spread.info["n_candidates"] == 40


def test_typical_and_cluster_cluster_the_median_block():
    """typical=True with cluster=True (allowed, as in the reference): the 50·B candidates are the
    block centred on the median of the ranking, then one pick per k-means cluster."""
    from alkit.strategies.base import CLUSTER_FACTOR, rank_select

    n, budget = 400, 2
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    scores_u = np.arange(n, dtype=np.float64)[::-1].copy()  # row i ranks i-th
    pool = Pool(x, 3)
    sel = rank_select(pool, scores_u, budget, np.random.default_rng(1), typical=True, cluster=True)
    block = set(typical_block(scores_u, CLUSTER_FACTOR * budget).tolist())
    assert len(sel.indices) == budget and set(sel.indices.tolist()) <= block
    assert sel.info["n_candidates"] == CLUSTER_FACTOR * budget
    top = rank_select(pool, scores_u, budget, np.random.default_rng(1), cluster=True)
    assert set(top.indices.tolist()) <= set(range(CLUSTER_FACTOR * budget))
