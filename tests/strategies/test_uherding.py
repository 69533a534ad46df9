"""Uncertainty Herding: known answers, the limits (u ≡ 1 is MaxHerding, a narrow kernel is margin
sampling), the fast version against the dense reference, temperature, adaptive σ, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from alkit import strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies import uherding as U
from alkit.strategies.maxherding import coverage_reference, maxherding_reference
from alkit.strategies.uherding import (
    TEMPERATURES,
    expected_calibration_error,
    min_labeled_distance,
    temperature_by_ece,
    uherding,
    uherding_reference,
    uncertainty_weights,
)

from .template import make_state
from .test_maxherding import SIGMA, two_blobs


class TableProbe:
    """A probe whose probabilities are set per pool row by hand (rows looked up by content)."""

    is_fitted = True

    def __init__(self, x, proba):
        self.row = {r.tobytes(): i for i, r in enumerate(np.asarray(x, dtype=np.float32))}
        self.proba = np.asarray(proba, dtype=np.float64)

    def predict_proba(self, x, dropout=False):
        rows = [self.row[r.tobytes()] for r in np.asarray(x, dtype=np.float32)]
        return self.proba[rows]


# ----------------------------------------------------------------------------- known answers
def test_uncertain_small_blob_wins_over_the_dense_certain_one():
    """Two blobs (61 and 21 points): MaxHerding takes the big blob's centre first; with the
    small blob uncertain (margin 0.9 vs 0.1) UHerding takes the small blob's centre first."""
    x = two_blobs()
    labeled = np.zeros(len(x), dtype=bool)
    u = np.where(np.arange(len(x)) >= 61, 0.9, 0.1)
    assert maxherding_reference(x, labeled, 1, sigma=SIGMA).tolist() == [0]
    assert uherding_reference(x, labeled, 1, u, sigma=SIGMA).tolist() == [61]
    # the strategy, with a probe giving those margins (p = (0.55, 0.45) → u = 0.9; (0.95, 0.05) → 0.1)
    proba = np.where((np.arange(len(x)) >= 61)[:, None], [0.55, 0.45], [0.95, 0.05])
    sel = uherding(
        Pool(x, 2, labeled),
        TableProbe(x, proba),
        1,
        np.random.default_rng(0),
        temperature_scaling=False,
        adaptive_sigma=False,
        sigma=SIGMA,
        device="cpu",
    )
    assert sel.indices.tolist() == [61]
    assert sel.info["sigma_rule"] == "fixed" and sel.info["temperature"] == 1.0


def test_constant_uncertainty_is_maxherding(digits):
    x = digits.x_train
    labeled = np.zeros(len(x), dtype=bool)
    labeled[:30] = True
    u = np.full(len(x), 0.37)
    np.testing.assert_array_equal(
        uherding_reference(x, labeled, 12, u), maxherding_reference(x, labeled, 12)
    )


def test_narrow_kernel_is_margin_sampling(digits):
    """σ → 0: k(x_i, x_j) = 1[i = j], gain(i) = u_i: the picks are margin sampling's."""
    pool, probe = make_state(digits, 30)
    params = dict(temperature_scaling=False, adaptive_sigma=False, sigma=1e-4, device="cpu")
    got = strategies.select("uherding", pool, probe, 10, np.random.default_rng(0), **params)
    want = strategies.select("margin", pool, probe, 10, np.random.default_rng(0), device="cpu")
    np.testing.assert_array_equal(got.indices, want.indices)


# ----------------------------------------------------------------------------- fast == reference
@pytest.mark.parametrize("n_labeled", [20, 60])
def test_fast_equals_reference_when_lists_hold_every_point(digits, n_labeled):
    pool, probe = make_state(digits, n_labeled)
    sel = uherding(pool, probe, 15, np.random.default_rng(0), k=pool.n - 1, device="cpu")
    t, sigma = sel.info["temperature"], sel.info["sigma"]
    assert sel.info["sigma_rule"] == "adaptive"
    u = uncertainty_weights(U._softmax(U._logits(probe, pool.x) / t), "margin")
    ref = uherding_reference(pool.x, pool.labeled, 15, u, sigma=sigma)
    np.testing.assert_array_equal(sel.indices, ref)


def test_default_k_agrees_with_reference(digits):
    pool, probe = make_state(digits, 20)
    sel = uherding(pool, probe, 15, np.random.default_rng(0), device="cpu")
    u = uncertainty_weights(U._softmax(U._logits(probe, pool.x) / sel.info["temperature"]))
    u[pool.labeled] = 0
    ref = uherding_reference(pool.x, pool.labeled, 15, u, sigma=sel.info["sigma"])
    lab = pool.labeled_idx
    s = sel.info["sigma"]
    got = coverage_reference(pool.x, np.r_[lab, sel.indices], sigma=s, weights=u)
    best = coverage_reference(pool.x, np.r_[lab, ref], sigma=s, weights=u)
    assert got / best > 0.999
    assert sel.info["weighted_coverage"] == pytest.approx(got, rel=1e-5)


# ----------------------------------------------------------------------------- the weights
def test_uncertainty_weights():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(uncertainty_weights(p, "margin"), [0.5, 1.0])
    np.testing.assert_allclose(uncertainty_weights(p, "least_confidence"), [0.3, 0.6])
    np.testing.assert_allclose(
        uncertainty_weights(p, "entropy"), -(p * np.log(p)).sum(1), rtol=1e-12
    )


def test_expected_calibration_error_known_answer():
    # confidences 0.9, 0.9 (bin 9 of 10; one right, one wrong) and 0.6 (bin 5, right):
    # ECE = 2/3·|0.9 − 0.5| + 1/3·|0.6 − 1| = 0.4
    logits = np.log(np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]]))
    labels = np.array([0, 1, 1])
    assert expected_calibration_error(logits, labels, 10) == pytest.approx(0.4)


def test_temperature_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), labels] += 1.0  # about 60 % right …
    t, eces = temperature_by_ece(logits * 8.0, labels, 3)  # … but claiming ~100 %
    assert t > 4.0 and eces.min() < eces[0]
    t1, _ = temperature_by_ece(logits, labels, 3)
    assert t1 < t
    assert TEMPERATURES[0] == 1.0 and TEMPERATURES[-1] == 19.9 and len(TEMPERATURES) == 190


def test_temperature_is_fitted_on_held_out_labels(digits):
    pool, probe = make_state(digits, 40)
    sel = uherding(pool, probe, 5, np.random.default_rng(0), device="cpu")
    assert sel.info["temperature_rule"] == "ece"
    assert sel.info["n_temperature_val"] == 12  # int(0.3 · 40)
    assert sel.info["temperature"] in TEMPERATURES
    assert sel.info["ece"] <= sel.info["ece_at_1"]


def test_min_labeled_distance_skips_duplicates():
    x = np.array([[1, 0, 0], [1, 0, 0], [0.8, 0.6, 0], [0, 1, 0]], dtype=np.float32)
    assert min_labeled_distance(x, np.array([0, 1, 2, 3])) == pytest.approx(
        np.linalg.norm(x[0] - x[2])
    )
    assert min_labeled_distance(x, np.array([0, 1])) is None
    assert min_labeled_distance(x, np.array([3])) is None


# ----------------------------------------------------------------------------- probes, params
def test_probe_without_fit_needs_temperature_scaling_off():
    x = two_blobs()
    proba = np.tile([0.6, 0.4], (len(x), 1))
    labeled = np.zeros(len(x), dtype=bool)
    labeled[[0, 5, 61, 70]] = True
    pool = Pool(x, 2, labeled, np.where(np.arange(len(x)) >= 61, 1, 0))
    with pytest.raises(InvalidInputError, match="temperature_scaling=False"):
        uherding(pool, TableProbe(x, proba), 2, np.random.default_rng(0), device="cpu")
    sel = uherding(
        pool, TableProbe(x, proba), 2, np.random.default_rng(0), temperature_scaling=False
    )
    assert len(sel.indices) == 2


def test_deterministic_under_a_seed(digits):
    pool, probe = make_state(digits, 30)
    a = uherding(pool, probe, 8, np.random.default_rng(3), device="cpu")
    pool2, probe2 = make_state(digits, 30)
    b = uherding(pool2, probe2, 8, np.random.default_rng(3), device="cpu")
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.info["temperature"] == b.info["temperature"]


def test_initial_pool_is_maxherding():
    assert strategies.default_initial_pool("uherding") == "maxherding"
    assert strategies.info("uherding").family == "hybrid"


@pytest.mark.parametrize(
    "params",
    [
        {"uncertainty": "bald"},
        {"temperature_scaling": "yes"},
        {"adaptive_sigma": 1},
        {"sigma": 0.0},
        {"k": -1},
        {"index": "annoy"},
        {"temperature": 2.0},
    ],
)
def test_bad_parameters_are_rejected(digits, params):
    pool, probe = make_state(digits, 20)
    with pytest.raises(InvalidInputError):
        strategies.select("uherding", pool, probe, 5, np.random.default_rng(0), **params)
