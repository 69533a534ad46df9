"""BALD and PowerBALD (alkit.strategies.bald, alkit.strategies.power_bald): scores, picks, options."""

from __future__ import annotations

import numpy as np
import pytest

from alkit import strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies import scores
from alkit.strategies.bald import bald, bald_scores
from alkit.strategies.base import top_k
from alkit.strategies.power_bald import power_bald

from .template import make_state

LOG2 = float(np.log(2.0))


class PassesProbe:
    """A probe whose M stochastic passes are given by hand: ``samples`` (M, n, C).

    Rows are looked up through the pool's first feature column (the row id).
    """

    is_fitted = True

    def __init__(self, samples):
        self.samples = np.asarray(samples, dtype=np.float64)

    def mc_stats(self, x, M):
        ids = np.asarray(x)[:, 0].astype(np.int64)
        s = self.samples[:M, ids]
        assert len(s) == M
        return s.mean(0), np.stack([scores.entropy(p) for p in s]).mean(0)


def id_pool(n, n_classes=2, labeled=()):
    x = np.stack([np.arange(n, dtype=np.float32), np.zeros(n, dtype=np.float32)], 1)
    lab = np.zeros(n, dtype=bool)
    lab[list(labeled)] = True
    return Pool(x, n_classes, lab, np.where(lab, 0, -1))


def known_samples(M=20):
    """Per-pass probabilities of 4 kinds of point (M passes, 8 points, 2 classes):
    0-1 confident and consistent (BALD 0); 2-3 uncertain but consistent, p = (.5, .5) every
    pass (BALD 0: aleatoric); 4-5 passes confidently disagree half/half (BALD log 2:
    epistemic); 6-7 disagree on a quarter of the passes."""
    s = np.zeros((M, 8, 2))
    s[:, 0:2] = [1.0, 0.0]
    s[:, 2:4] = [0.5, 0.5]
    s[: M // 2, 4:6] = [1.0, 0.0]
    s[M // 2 :, 4:6] = [0.0, 1.0]
    s[:, 6:8] = [1.0, 0.0]
    s[: M // 4, 6:8] = [0.0, 1.0]
    return s


def test_bald_known_scores():
    s = known_samples()
    got = bald_scores(PassesProbe(s), id_pool(8).x, 20)
    quarter = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))  # H(mean) = H(.75, .25), mean H = 0
    expected = [0, 0, 0, 0, LOG2, LOG2, quarter, quarter]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_bald_picks_epistemic_not_aleatoric():
    s = known_samples()
    sel = bald(id_pool(8), PassesProbe(s), 2, np.random.default_rng(0))
    assert sorted(sel.indices.tolist()) == [4, 5]
    sel3 = bald(id_pool(8), PassesProbe(s), 4, np.random.default_rng(0))
    assert sorted(sel3.indices.tolist()) == [4, 5, 6, 7]


def test_bald_typical_takes_median_block():
    n = 101
    s = np.zeros((4, n, 2))
    # passes p = (1 − t, t), (1 − t, t), (t, 1 − t), (t, 1 − t): mean (.5, .5), so
    # BALD = log 2 − H(t), which increases with i as t_i falls from .5 to 0
    t = np.linspace(0.5, 0.0, n)
    s[:2, :, 0], s[:2, :, 1] = 1 - t, t
    s[2:, :, 0], s[2:, :, 1] = t, 1 - t
    probe = PassesProbe(s)
    sc = bald_scores(probe, id_pool(n).x, 4)
    assert np.all(np.diff(sc) > 0)
    sel = bald(id_pool(n), probe, 5, np.random.default_rng(0), M=4, typical=True)
    # ranking (descending) positions 48..52 hold points 52..48
    assert sorted(sel.indices.tolist()) == [48, 49, 50, 51, 52]


def test_bald_cluster_option(digits):
    pool, probe = make_state(digits, 20)
    sel = strategies.select(
        "bald", pool, probe, 10, np.random.default_rng(0), device="cpu", cluster=True
    )
    assert sel.info["n_candidates"] == 500  # min(50·B, |U|)
    assert len(np.unique(sel.indices)) == 10


def test_bald_real_probe_matches_explicit_passes(digits):
    """bald on the real probe equals BALD computed from M explicit dropout passes drawn from the
    same generator state (the pool fits in one chunk, so the masks are drawn in the same order)."""
    pool, probe = make_state(digits, 20)
    x_u = pool.x[pool.unlabeled_idx]
    state = probe.generator.get_state()
    got = bald_scores(probe, x_u, 6)
    probe.generator.set_state(state)
    p = np.stack([probe.predict_proba(x_u, dropout=True) for _ in range(6)]).astype(np.float64)
    expected = scores.entropy(p.mean(0)) - np.stack([scores.entropy(q) for q in p]).mean(0)
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_power_bald_is_top_k_of_perturbed_log_scores():
    s = known_samples()
    bald_s = bald_scores(PassesProbe(s), id_pool(8).x, 20)
    for seed in range(5):
        sel = power_bald(id_pool(8), PassesProbe(s), 3, np.random.default_rng(seed))
        noise = np.random.default_rng(seed).gumbel(0.0, 1.0, 8)
        expected = top_k(np.log(np.maximum(bald_s, 1e-12)) + noise, 3)
        np.testing.assert_array_equal(sel.indices, expected)


def test_power_bald_samples_proportional_to_score():
    """With B = 1, top-1 of log s + Gumbel draws i with probability s_i / Σ s (Gumbel-max)."""
    target = np.array([0.1, 0.2, 0.7])
    # two-class passes whose BALD values are proportional to target: scale by BALD(half/half)
    n, M = 3, 40
    s = np.zeros((M, n, 2))
    s[:, :, 0] = 1.0
    # BALD of a point disagreeing on k of M passes is the binary entropy of k/M
    from scipy.optimize import brentq

    def h(q):
        return -(q * np.log(q) + (1 - q) * np.log(1 - q))

    ks = []
    for v in target * h(0.5) / target.max():
        ks.append(round(M * brentq(lambda q, v=v: h(q) - v, 1e-9, 0.5)))
    for i, k in enumerate(ks):
        s[:k, i] = [0.0, 1.0]
    probe = PassesProbe(s)
    sc = bald_scores(probe, id_pool(n).x, M)
    expected = sc / sc.sum()
    picks = np.array(
        [
            power_bald(id_pool(n), probe, 1, np.random.default_rng(seed), M=M).indices[0]
            for seed in range(3000)
        ]
    )
    freq = np.bincount(picks, minlength=n) / len(picks)
    np.testing.assert_allclose(freq, expected, atol=0.03)


def test_power_bald_beta_zero_is_uniform_and_floor_handles_zero_scores():
    s = np.zeros((20, 30, 2))
    s[:, :, 0] = 1.0  # every BALD score is exactly 0: floored at 1e-12, no NaN
    sel = power_bald(id_pool(30), PassesProbe(s), 5, np.random.default_rng(7))
    expected = top_k(np.random.default_rng(7).gumbel(0.0, 1.0, 30), 5)
    np.testing.assert_array_equal(sel.indices, expected)
    s2 = known_samples()
    sel0 = power_bald(id_pool(8), PassesProbe(s2), 3, np.random.default_rng(3), beta=0.0)
    np.testing.assert_array_equal(sel0.indices, top_k(np.random.default_rng(3).gumbel(0, 1, 8), 3))


def test_labeled_points_never_scored():
    s = known_samples()
    sel = bald(id_pool(8, labeled=[4]), PassesProbe(s), 2, np.random.default_rng(0))
    assert 4 not in sel.indices and 5 in sel.indices


@pytest.mark.parametrize(
    "name,bad",
    [
        ("bald", {"M": 0}),
        ("power_bald", {"M": -1}),
        ("power_bald", {"beta": -1.0}),
        ("power_bald", {"beta": float("nan")}),
    ],
)
def test_bad_parameters(name, bad, digits):
    pool, probe = make_state(digits, 20)
    with pytest.raises(InvalidInputError, match=name):
        strategies.select(name, pool, probe, 5, np.random.default_rng(0), device="cpu", **bad)


def test_registry_entries():
    assert strategies.info("bald").params == {"M": 20, "typical": False, "cluster": False}
    assert strategies.info("power_bald").params == {"M": 20, "beta": 1.0}
    for name in ("bald", "power_bald"):
        assert strategies.info(name).family == "bayesian"
        assert strategies.default_initial_pool(name) == "random"
