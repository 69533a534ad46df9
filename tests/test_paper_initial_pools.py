"""Paper-level behaviour of the representative initial pools (Gupte et al. 2024, §4.1; issue 4).

Claim: starting from the centroid, TypiClust or ProbCover initial pool beats a random start at
iteration 1 (the probe trained on the initial pool alone) by ≥ 2 accuracy points, paired
t-test p < 0.05 over seeds 1, 10, 100, 1000, 10000, on digits and on
``synthetic:N=20000,d=256,C=20,seed=0``.

Where the claim does not hold on these data the case is ``xfail(strict=True)`` with the
measured figures; neither the data nor the test was tuned.
"""

import numpy as np
import pytest
from scipy import stats

import alkit

SEEDS = [1, 10, 100, 1000, 10000]
DIGITS = "digits"
SYNTH = "synthetic:N=20000,d=256,C=20,seed=0"
MIN_GAIN = 0.02

_ACC: dict[tuple[str, str], np.ndarray] = {}
_EMB: dict[str, alkit.EmbeddingSet] = {}


def _accuracy(dataset: str, initial_pool: str) -> np.ndarray:
    """Iteration-1 accuracy of a random-strategy run from ``initial_pool``, one per seed."""
    key = (dataset, initial_pool)
    if key not in _ACC:
        if dataset not in _EMB:
            _EMB[dataset] = alkit.load_embeddings(dataset)
        accs = []
        for seed in SEEDS:
            run = alkit.run_al(
                _EMB[dataset],
                strategy="random",
                initial_pool=initial_pool,
                iterations=1,
                seed=seed,
                device="cpu",
            )
            accs.append(float(run.history["accuracy"].iloc[0]))
        _ACC[key] = np.asarray(accs)
    return _ACC[key]


_PROBCOVER_DIGITS = (
    "measured: ProbCover start 0.394 vs random 0.352 mean accuracy (+4.2 points) but paired "
    "t-test p = 0.46 over the 5 seeds (per seed: 0.424/0.289/0.467/0.413/0.376 vs "
    "0.307/0.367/0.404/0.237/0.446); on raw digit pixels δ = 0.27-0.31, balls of 2.6-5.8 "
    "points on average, so the 10 greedy picks cover 9.5-18 % of the pool and 5-6 of the 10 classes"
)
_PROBCOVER_SYNTH = (
    "measured: ProbCover start 0.647 vs random 0.680 (−3.3 points, p = 0.41); the purity "
    "bisection reaches the top of [0, 1] (δ = 0.984, purity 0.986-0.993 at the seeds inspected) at every seed, so the greedy "
    "cover — deterministic given δ — picks the same 20 points (16 of 20 classes) for every seed"
)

CASES = [
    pytest.param(DIGITS, "centroids", id="digits-centroids"),
    pytest.param(DIGITS, "typiclust", id="digits-typiclust"),
    pytest.param(
        DIGITS,
        "probcover",
        id="digits-probcover",
        marks=pytest.mark.xfail(strict=True, reason=_PROBCOVER_DIGITS),
    ),
    pytest.param(SYNTH, "centroids", id="synthetic-centroids", marks=pytest.mark.slow),
    pytest.param(SYNTH, "typiclust", id="synthetic-typiclust", marks=pytest.mark.slow),
    pytest.param(
        SYNTH,
        "probcover",
        id="synthetic-probcover",
        marks=[pytest.mark.slow, pytest.mark.xfail(strict=True, reason=_PROBCOVER_SYNTH)],
    ),
]


@pytest.mark.parametrize("dataset,initial_pool", CASES)
def test_representative_start_beats_random_at_iteration_1(dataset, initial_pool):
    rep = _accuracy(dataset, initial_pool)
    rand = _accuracy(dataset, "random")
    gain = float(np.mean(rep - rand))
    p = float(stats.ttest_rel(rep, rand).pvalue)
    msg = f"{initial_pool} {np.round(rep, 4)} vs random {np.round(rand, 4)}: gain {gain:+.4f}, p = {p:.3g}"
    assert gain >= MIN_GAIN, msg
    assert p < 0.05, msg
