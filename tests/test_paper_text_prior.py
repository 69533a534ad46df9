"""Paper-level behaviour of the text prior (issue 18): does knowing the class texts help at
iteration 1, before the first query?

Data: ``synthetic:N=3000,d=64,C=20,seed=0,noise=1.5`` with "class text" vectors that are the
known class directions (``text_noise=0``) or the directions plus noise of the same norm
(``text_noise=1``, zero-shot accuracy ≈ 80 %). Strategy ``random``, iteration 1 (the probe
trained on the 20-point initial pool alone), paired over the paper's seeds 1, 10, 100, 1000,
10000 (paired t-test, p < 0.05; the seeds give the same random streams to every arm).

Claims tested:

1. the ``text_prior`` pool beats a random start (≥ 2 points, p < 0.05);
2. the ``text_prior`` pool beats the ``centroids`` start (DropQuery's; ≥ 2 points, p < 0.05);
3. the probe's warm start (``probe={"init": "text"}``) beats the random initialisation from the
   same random pool (≥ 2 points, p < 0.05);
4. the warm-started probe beats the zero-shot classifier it starts from.

Where a claim does not hold on these data the case is ``xfail(strict=True)`` with the measured
figures; neither the data nor the methods were tuned (the set was fixed by the random start's
accuracy, ≈ 37 %, before any text-prior run). ``docs/text_prior.md`` has the full table.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import alkit

pytestmark = pytest.mark.slow

SEEDS = [1, 10, 100, 1000, 10000]
SPEC = "synthetic:N=3000,d=64,C=20,seed=0,noise=1.5,text_noise={}"
MIN_GAIN = 0.02

_ACC: dict[tuple, np.ndarray] = {}
_ZS: dict[float, float] = {}


def _accuracy(text_noise: float, initial_pool: str, init: str = "random") -> np.ndarray:
    """Iteration-1 accuracy of a random-strategy run, one per seed (cached per module)."""
    key = (text_noise, initial_pool, init)
    if key not in _ACC:
        emb = alkit.load_embeddings(SPEC.format(text_noise))
        accs = []
        for seed in SEEDS:
            h = alkit.run_al(
                emb,
                strategy="random",
                initial_pool=initial_pool,
                iterations=1,
                seed=seed,
                device="cpu",
                probe={"init": init},
            ).history
            accs.append(float(h.loc[h["iteration"] == 1, "accuracy"].iloc[0]))
            _ZS[text_noise] = float(h.loc[h["iteration"] == 0, "accuracy"].iloc[0])
        _ACC[key] = np.asarray(accs)
    return _ACC[key]


def _assert_better(a: np.ndarray, b: np.ndarray, what: str) -> None:
    gain = float(np.mean(a - b))
    p = float(stats.ttest_rel(a, b).pvalue)
    print(f"{what}: {a.mean():.3f} vs {b.mean():.3f} ({100 * gain:+.1f} points, p = {p:.3g})")
    assert gain >= MIN_GAIN and p < 0.05, (
        f"{what}: {100 * gain:+.1f} points, p = {p:.3g}; per seed {np.round(a, 3)} vs "
        f"{np.round(b, 3)}"
    )


@pytest.mark.parametrize("text_noise", [0.0, 1.0], ids=["exact-text", "noisy-text"])
def test_text_prior_pool_beats_a_random_start(text_noise):
    _assert_better(
        _accuracy(text_noise, "text_prior"), _accuracy(text_noise, "random"), "text_prior vs random"
    )


_VS_CENTROIDS = {
    0.0: "measured: text_prior 0.681 vs centroids 0.680 (+0.1 points, p = 0.97): with exact "
    "class texts the pseudo-classes are nearly the true classes, yet one typical image per "
    "pseudo-class is no better than one image per k-means cluster",
    1.0: "measured: text_prior 0.669 vs centroids 0.680 (−1.1 points, p = 0.44): with noisy "
    "texts (zero-shot 79 %) the pseudo-class balance adds nothing over k-means",
}


@pytest.mark.parametrize(
    "text_noise",
    [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=_VS_CENTROIDS[t]))
        for t in (0.0, 1.0)
    ],
    ids=["exact-text", "noisy-text"],
)
def test_text_prior_pool_beats_the_centroids_start(text_noise):
    _assert_better(
        _accuracy(text_noise, "text_prior"),
        _accuracy(text_noise, "centroids"),
        "text_prior vs centroids",
    )


@pytest.mark.parametrize("text_noise", [0.0, 1.0], ids=["exact-text", "noisy-text"])
def test_warm_start_beats_random_initialisation(text_noise):
    _assert_better(
        _accuracy(text_noise, "random", "text"),
        _accuracy(text_noise, "random", "random"),
        "probe init=text vs init=random (random pool)",
    )


_VS_ZEROSHOT = (
    "measured: after 20 labels the warm-started probe is just below the zero-shot line it starts "
    "from (exact texts 0.981 vs 0.985; noisy texts 0.775 vs 0.792, −1.7 points): training on 20 "
    "labels trades a little of the prior for the labels; with margin from a random start it "
    "crosses the line from 40 labels on (0.833 vs 0.792; docs/text_prior.md)"
)


@pytest.mark.xfail(strict=True, reason=_VS_ZEROSHOT)
@pytest.mark.parametrize("text_noise", [0.0, 1.0], ids=["exact-text", "noisy-text"])
def test_warm_started_probe_beats_zero_shot(text_noise):
    warm = _accuracy(text_noise, "random", "text")
    zs = _ZS[text_noise]
    print(f"warm start {warm.mean():.3f} vs zero-shot {zs:.3f}")
    assert warm.mean() >= zs + MIN_GAIN, f"warm start {np.round(warm, 3)} vs zero-shot {zs:.3f}"
