"""Paper-level behaviour of DropQuery (Gupte et al., TMLR 2024, §5): from the same centroid
initial pool, DropQuery beats random sampling at iteration 2 by ≥ 2 accuracy points with a
paired t-test p < 0.05 over seeds 1, 10, 100, 1000, 10000.

Measured on CPU (probe defaults, B = C):

* digits — holds: differences +5.6, +14.6, +10.4, +10.6, +0.7 points (mean +8.4),
  t = 3.50, p = 0.025.
* synthetic:N=20000,d=256,C=20,seed=0 — does not hold at p < 0.05: differences +0.03,
  +5.1, +0.03, +11.1, +5.4 points (mean +4.3), t = 2.10, p = 0.10. Random sampling already
  reaches 99.98 % on two seeds (a ceiling effect of the easy synthetic blobs), so the
  paired test lacks power. The full criterion stays as a strict xfail (it will flag if it
  starts to hold); what does hold — DropQuery never below random on any seed, mean gain
  ≥ 2 points — is asserted.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import alkit

SEEDS = (1, 10, 100, 1000, 10000)
SYNTHETIC = "synthetic:N=20000,d=256,C=20,seed=0"
MIN_GAIN = 0.02
ALPHA = 0.05

_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def accuracies_at_iteration_2(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(dropquery, random) accuracies at iteration 2 per seed, from the same centroid pool."""
    if name not in _CACHE:
        emb = alkit.load_embeddings(name)
        dq, rnd = [], []
        for seed in SEEDS:
            a = alkit.run_al(emb, strategy="dropquery", iterations=2, seed=seed, device="cpu")
            b = alkit.run_al(
                emb,
                strategy="random",
                initial_pool="centroids",
                iterations=2,
                seed=seed,
                device="cpu",
            )
            C = emb.n_classes
            # paired: the run streams give both the identical initial pool
            np.testing.assert_array_equal(a.acquired[:C], b.acquired[:C])
            assert a.history["initial_pool"].iloc[0] == "centroids"
            dq.append(a.history["accuracy"].iloc[1])
            rnd.append(b.history["accuracy"].iloc[1])
        _CACHE[name] = (np.array(dq), np.array(rnd))
    return _CACHE[name]


def check_beats_random(dq: np.ndarray, rnd: np.ndarray) -> None:
    gain = dq - rnd
    t, p = stats.ttest_rel(dq, rnd)
    assert gain.mean() >= MIN_GAIN and t > 0 and p < ALPHA, (
        f"gain {np.round(gain * 100, 2)} points (mean {gain.mean() * 100:.2f}), t = {t:.2f}, p = {p:.3f}"
    )


@pytest.mark.slow
def test_dropquery_beats_random_digits():
    check_beats_random(*accuracies_at_iteration_2("digits"))


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "measured: gains +0.03, +5.1, +0.03, +11.1, +5.4 points (mean +4.3), paired t = 2.10, "
        "p = 0.10 ≥ 0.05 — random reaches 99.98 % on two seeds (ceiling effect)"
    ),
)
def test_dropquery_beats_random_synthetic():
    check_beats_random(*accuracies_at_iteration_2(SYNTHETIC))


@pytest.mark.slow
def test_dropquery_never_below_random_synthetic():
    dq, rnd = accuracies_at_iteration_2(SYNTHETIC)
    assert (dq >= rnd).all(), np.round((dq - rnd) * 100, 2)
    assert (dq - rnd).mean() >= MIN_GAIN
