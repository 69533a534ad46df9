"""Pure, vectorised scoring functions (higher = more informative unless stated).

Scores only compute; ranking, ties and batching live in :mod:`alkit.strategies.base`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["entropy", "least_confidence", "margin", "bald", "mismatch", "power_scores"]


def entropy(p: np.ndarray) -> np.ndarray:
    """Predictive entropy −Σ p log p of shape (n,), with 0·log 0 = 0.

    Parameters
    ----------
    p : ndarray of shape (n, C)
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=1)


def least_confidence(p: np.ndarray) -> np.ndarray:
    """1 − max p, shape (n,) (the lowest max-probability is the most uncertain)."""
    return 1.0 - np.asarray(p).max(axis=1)


def margin(p: np.ndarray) -> np.ndarray:
    """−(p₁ − p₂), shape (n,): a small gap between the top two classes scores high."""
    p = np.asarray(p)
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


def bald(mean_proba: np.ndarray, mean_entropy: np.ndarray) -> np.ndarray:
    """BALD mutual information H(mean p) − mean H(p), shape (n,).

    Parameters
    ----------
    mean_proba : ndarray of shape (n, C)
        Mean of the M stochastic passes' probabilities.
    mean_entropy : ndarray of shape (n,)
        Mean of the M passes' entropies.
    """
    return entropy(mean_proba) - np.asarray(mean_entropy, dtype=np.float64)


def mismatch(clean: np.ndarray, passes: np.ndarray) -> np.ndarray:
    """Number of stochastic passes whose argmax differs from the clean argmax, shape (n,).

    Parameters
    ----------
    clean : ndarray of shape (n,)
    passes : ndarray of shape (M, n)
    """
    return (np.asarray(passes) != np.asarray(clean)[None, :]).sum(axis=0)


def power_scores(
    scores: np.ndarray, rng: np.random.Generator, beta: float = 1.0, floor: float = 1e-12
) -> np.ndarray:
    """Power acquisition (Kirsch et al. 2023): β·log(max(score, floor)) + Gumbel(0, 1) noise.

    The floor replaces the reference's log of non-positive scores (docs/deviations.md).
    """
    s = np.maximum(np.asarray(scores, dtype=np.float64), floor)
    return beta * np.log(s) + rng.gumbel(0.0, 1.0, size=s.shape)
