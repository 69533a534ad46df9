"""Bayesian strategies on MC-dropout passes of the probe: BALD and PowerBALD.

Both score the unlabeled points with the BALD mutual information
H(mean p) − mean H(p) over M stochastic passes (fresh input-dropout masks, BatchNorm in
eval mode), computed chunk by chunk by ``probe.mc_stats`` so no (M, N, C) array is built.

References
----------
Houlsby, Huszár, Ghahramani & Lengyel, "Bayesian Active Learning for Classification and
Preference Learning", arXiv:1112.5745, 2011.
Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017.
Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal, "Stochastic Batch
Acquisition: A Simple Baseline for Deep Active Learning", TMLR 2023.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ..pool import Pool, Selection
from . import scores
from .base import rank_select, rows_blockwise, top_k

__all__ = ["bald", "power_bald", "bald_scores"]

BALD_PAPER = (
    "Houlsby et al., arXiv:1112.5745, 2011; Gal et al., 'Deep Bayesian Active "
    "Learning with Image Data', ICML 2017"
)
POWER_BALD_PAPER = (
    "Kirsch et al., 'Stochastic Batch Acquisition: A Simple Baseline for Deep "
    "Active Learning', TMLR 2023"
)


def _check_passes(M, name: str) -> int:
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise InvalidInputError(
            f"{name}: M (number of dropout passes) must be an integer ≥ 1, got {M!r}."
        )
    return int(M)


def _check_beta(beta) -> None:
    if (
        isinstance(beta, bool)
        or not isinstance(beta, (int, float, np.integer, np.floating))
        or not np.isfinite(beta)
        or beta < 0
    ):
        raise InvalidInputError(f"power_bald: beta must be a finite number ≥ 0, got {beta!r}.")


def check_bald(p: dict) -> None:
    _check_passes(p["M"], "bald")


def check_power_bald(p: dict) -> None:
    _check_passes(p["M"], "power_bald")
    _check_beta(p["beta"])


def bald_scores(probe, x: np.ndarray, M: int) -> np.ndarray:
    """BALD mutual information of every row of ``x``, shape (n,).

    Parameters
    ----------
    probe : LinearProbe or any object with ``mc_stats(x, M) -> (mean_proba, mean_entropy)``
    x : ndarray of shape (n, d)
    M : int
        Number of stochastic passes.
    """
    mean_p, mean_h = probe.mc_stats(x, M)
    return scores.bald(mean_p, mean_h)


def _bald_pool_scores(probe, pool: Pool, M: int) -> np.ndarray:
    """:func:`bald_scores` of the unlabeled points, read from ``pool.x`` block by block."""
    return rows_blockwise(lambda xb: bald_scores(probe, xb, M), pool.x, pool.unlabeled_idx, probe)


def bald(
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    M: int = 20,
    typical: bool = False,
    cluster: bool = False,
    device: str = "auto",
) -> Selection:
    """The B unlabeled points of highest BALD mutual information.

    score(u) = H(mean_m p_m(u)) − mean_m H(p_m(u)) over ``M`` MC-dropout passes of the probe
    (:func:`alkit.strategies.scores.bald`); the top B are taken.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``mc_stats``
    budget : int
    rng : numpy Generator
        Only used by ``cluster=True`` (k-means) and the top-up.
    M : int, default 20
        Number of stochastic passes.
    typical : bool, default False
        Take the B-block centred on the ranking's median instead of the top B.
    cluster : bool, default False
        Take the top min(50·B, |U|), then one point per k-means cluster (k = B) of their
        L2-normalised raw features.
    device : str

    Returns
    -------
    Selection
        ``indices`` of shape (budget,); with ``cluster=True`` ``info["n_candidates"]``.

    References
    ----------
    Houlsby et al., "Bayesian Active Learning for Classification and Preference Learning", 2011.
    Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017.
    """
    M = _check_passes(M, "bald")
    s = _bald_pool_scores(probe, pool, M)
    return rank_select(
        pool, s, budget, rng, typical=bool(typical), cluster=bool(cluster), device=device
    )


def power_bald(
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    M: int = 20,
    beta: float = 1.0,
    device: str = "auto",
) -> Selection:
    """PowerBALD: the top B of β·log BALD + Gumbel(0, 1) noise (stochastic batch acquisition).

    Sampling the top B of perturbed log-scores draws a batch with probability proportional
    to score^β without replacement, which spreads the batch over more than the few
    highest-scoring (often redundant) points. Scores are floored at 1e-12 before the log
    (the reference takes the log of non-positive scores; docs/deviations.md).

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``mc_stats``
    budget : int
    rng : numpy Generator
        Draws the Gumbel noise (one value per unlabeled point).
    M : int, default 20
        Number of stochastic passes.
    beta : float, default 1.0
        Coldness β; β → ∞ recovers top-B BALD, β = 0 uniform sampling.
    device : str
        Unused (the scores come from the probe); kept for the common signature.

    Returns
    -------
    Selection

    References
    ----------
    Kirsch et al., "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
    Learning", TMLR 2023.
    """
    M = _check_passes(M, "power_bald")
    _check_beta(beta)
    unl = pool.unlabeled_idx
    s = _bald_pool_scores(probe, pool, M)
    power = scores.power_scores(s, rng, float(beta))
    return Selection(unl[top_k(power, budget)])


#: Parameters and defaults, as registered.
BALD_PARAMS = {"M": 20, "typical": False, "cluster": False}
POWER_BALD_PARAMS = {"M": 20, "beta": 1.0}
