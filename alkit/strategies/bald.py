"""BALD (Houlsby et al. 2011; Gal et al. 2017): the points whose prediction and dropout mask share
the most information.

The score of an unlabeled point is the mutual information H(mean p) − mean H(p) over M stochastic
passes of the probe (fresh input-dropout masks, BatchNorm in eval mode), computed chunk by chunk
by ``probe.mc_stats`` so no (M, N, C) array is built; the top B are taken (or, with the
diversity options, the median block / one per k-means cluster of the top 50·B).

References
----------
Houlsby, Huszár, Ghahramani & Lengyel, "Bayesian Active Learning for Classification and
Preference Learning", arXiv:1112.5745, 2011.
Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017.
"""

from __future__ import annotations

import numpy as np

from ..pool import Pool, Selection
from ..validation import check_int
from . import scores
from .base import rank_select, rows_blockwise

__all__ = ["bald", "bald_scores", "bald_pool_scores", "check_bald", "BALD_PARAMS", "BALD_PAPER"]

BALD_PAPER = (
    "Houlsby et al., arXiv:1112.5745, 2011; Gal et al., 'Deep Bayesian Active "
    "Learning with Image Data', ICML 2017"
)
#: Parameters and defaults, as registered.
BALD_PARAMS = {"M": 20, "typical": False, "cluster": False}


def check_bald(params: dict) -> None:
    """The registry's parameter check of BALD."""
    check_int(params["M"], "bald: M (number of dropout passes)", min=1)


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


def bald_pool_scores(probe, pool: Pool, M: int) -> np.ndarray:
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
    M = check_int(M, "bald: M (number of dropout passes)", min=1)
    s = bald_pool_scores(probe, pool, M)
    return rank_select(
        pool, s, budget, rng, typical=bool(typical), cluster=bool(cluster), device=device
    )
