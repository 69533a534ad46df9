"""PowerBALD (Kirsch et al., TMLR 2023): BALD with stochastic batch acquisition.

The top B of β·log BALD + Gumbel(0, 1) noise: a batch drawn with probability proportional to
BALD^β without replacement, which spreads it over more than the few highest-scoring (often
redundant) points.

References
----------
Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal, "Stochastic Batch
Acquisition: A Simple Baseline for Deep Active Learning", TMLR 2023.
"""

from __future__ import annotations

import numpy as np

from ..pool import Pool, Selection
from ..validation import check_float, check_int
from . import scores
from .bald import bald_pool_scores
from .base import top_k

__all__ = ["power_bald", "check_power_bald", "POWER_BALD_PARAMS", "POWER_BALD_PAPER"]

POWER_BALD_PAPER = (
    "Kirsch et al., 'Stochastic Batch Acquisition: A Simple Baseline for Deep "
    "Active Learning', TMLR 2023"
)
#: Parameters and defaults, as registered.
POWER_BALD_PARAMS = {"M": 20, "beta": 1.0}


def _check(M, beta) -> tuple[int, float]:
    return (
        check_int(M, "power_bald: M (number of dropout passes)", min=1),
        check_float(beta, "power_bald: beta", min=0.0),
    )


def check_power_bald(params: dict) -> None:
    """The registry's parameter check of PowerBALD."""
    _check(params["M"], params["beta"])


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
    M, beta = _check(M, beta)
    unl = pool.unlabeled_idx
    s = bald_pool_scores(probe, pool, M)
    power = scores.power_scores(s, rng, float(beta))
    return Selection(unl[top_k(power, budget)])
