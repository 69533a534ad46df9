"""Paper-level behaviour of MaxHerding and Uncertainty Herding at low budgets (issue 18).

Claim (Bae et al., ECCV 2024, §5; Bae et al., ICLR 2025, §6): at low budgets MaxHerding and
UHerding beat TypiClust and ProbCover. Checked here as: the mean test accuracy over iterations
1–3 (C labels per iteration, every method from its own initial pool — ``maxherding`` for both
herding methods — and the default probe) is higher than TypiClust's and ProbCover's, paired
t-test p < 0.05 over seeds 1, 10, 100, 1000, 10000, on digits and on
``synthetic:N=20000,d=256,C=20,seed=0``.

Where the claim does not hold on these data the case is ``xfail(strict=True)`` with the
measured figures; neither the data nor the test was tuned.

Measured (CPU, mean accuracy of iterations 1–3 over the 5 seeds; per iteration in brackets):

=========  ==========================  ==========================  ==========================
data       MaxHerding = UHerding (it1)  TypiClust                   ProbCover
=========  ==========================  ==========================  ==========================
digits     0.6985 [0.641 0.720 0.734]  0.6553 [0.572 0.665 0.729]  0.5262 [0.394 0.533 0.652]
synthetic  0.9998 [0.999 1.000 1.000]  0.9716 [0.916 0.999 1.000]  0.8668 [0.647 0.954 1.000]
=========  ==========================  ==========================  ==========================

(UHerding: digits 0.6985, synthetic 0.9998 — its initial pool is MaxHerding's, and its picks
at iterations 2–3 differ little at these budgets.) Every case holds: gains +4.3 (TypiClust,
p = 0.013 / 0.018 for MaxHerding / UHerding) and +17.2 points (ProbCover, p = 0.002) on digits,
+2.8 (p = 0.004) and +13.3 points (p < 1e-11) on the synthetic set. The advantage is carried by
iterations 1–2: at iteration 3 the gain over TypiClust is +0.6 points on digits (p = 0.33 /
0.61) and 0 on the synthetic set, which every method has learnt by then.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import alkit

SEEDS = [1, 10, 100, 1000, 10000]
ITERATIONS = 3
DIGITS = "digits"
SYNTH = "synthetic:N=20000,d=256,C=20,seed=0"

_ACC: dict[tuple[str, str], np.ndarray] = {}
_EMB: dict[str, alkit.EmbeddingSet] = {}


def accuracy(dataset: str, strategy: str) -> np.ndarray:
    """Test accuracy of iterations 1–3, shape (seeds, 3), one run per seed (cached)."""
    key = (dataset, strategy)
    if key not in _ACC:
        if dataset not in _EMB:
            _EMB[dataset] = alkit.load_embeddings(dataset)
        rows = []
        for seed in SEEDS:
            run = alkit.run_al(
                _EMB[dataset], strategy=strategy, iterations=ITERATIONS, seed=seed, device="cpu"
            )
            rows.append(run.history["accuracy"].to_numpy(dtype=np.float64))
        _ACC[key] = np.asarray(rows)
    return _ACC[key]


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a − b and the paired t-test p (0 when every difference is the same positive
    number, 1 when they are all 0: scipy returns NaN without variance)."""
    diff = a - b
    gain = float(diff.mean())
    if np.ptp(diff) == 0:
        return gain, 0.0 if gain > 0 else 1.0
    return gain, float(stats.ttest_rel(a, b).pvalue)


def _case(dataset, method, baseline, reason=None, slow=False):
    marks = [pytest.mark.slow] if slow else []
    if reason:
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    name = "synthetic" if dataset == SYNTH else dataset
    return pytest.param(dataset, method, baseline, id=f"{name}-{method}-vs-{baseline}", marks=marks)


CASES = [
    _case(DIGITS, "maxherding", "typiclust"),
    _case(DIGITS, "maxherding", "probcover"),
    _case(DIGITS, "uherding", "typiclust"),
    _case(DIGITS, "uherding", "probcover"),
    _case(SYNTH, "maxherding", "typiclust", slow=True),
    _case(SYNTH, "maxherding", "probcover", slow=True),
    _case(SYNTH, "uherding", "typiclust", slow=True),
    _case(SYNTH, "uherding", "probcover", slow=True),
]


@pytest.mark.slow
@pytest.mark.parametrize("dataset,method,baseline", CASES)
def test_herding_beats_representative_baselines_at_iterations_1_to_3(dataset, method, baseline):
    ours = accuracy(dataset, method)
    theirs = accuracy(dataset, baseline)
    gain, p = paired(ours.mean(axis=1), theirs.mean(axis=1))
    msg = (
        f"{method} {np.round(ours.mean(axis=1), 4)} (per iteration "
        f"{np.round(ours.mean(axis=0), 4)}) vs {baseline} {np.round(theirs.mean(axis=1), 4)} "
        f"(per iteration {np.round(theirs.mean(axis=0), 4)}): gain {gain:+.4f}, p = {p:.3g}"
    )
    assert gain > 0, msg
    assert p < 0.05, msg
