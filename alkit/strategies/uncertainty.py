"""Uncertainty sampling: least confidence, entropy and margin.

Each takes the options of the diversity pillar: ``dropout`` (score one stochastic
pass instead of the deterministic one), ``typical`` (the B-block centred on the
ranking's median) and ``cluster`` (top 50·B, then k-means with k = B).

References
----------
Lewis & Gale, "A sequential algorithm for training text classifiers", SIGIR 1994.
Scheffer et al., "Active hidden Markov models for information extraction", IDA 2001 (margin).
Shannon, "A mathematical theory of communication", 1948 (entropy).
Gupte et al., TMLR 2024, §4.2 (diversity pillar).
"""

from __future__ import annotations

import numpy as np

from ..pool import Pool, Selection
from . import scores
from .base import pool_scores, rank_select

#: The diversity-pillar options every uncertainty strategy takes, and their defaults.
OPTIONS = {"dropout": False, "typical": False, "cluster": False}

_SCORES = {
    "least_confidence": scores.least_confidence,
    "entropy": scores.entropy,
    "margin": scores.margin,
}


def _uncertainty(
    kind: str,
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    dropout: bool = False,
    typical: bool = False,
    cluster: bool = False,
    device: str = "auto",
) -> Selection:
    scores_u = pool_scores(pool, probe, _SCORES[kind], dropout=dropout)
    return rank_select(pool, scores_u, budget, rng, typical=typical, cluster=cluster, device=device)


def least_confidence(
    pool: Pool, probe, budget: int, rng: np.random.Generator, **params
) -> Selection:
    """The points whose highest class probability is lowest."""
    return _uncertainty("least_confidence", pool, probe, budget, rng, **params)


def entropy(pool: Pool, probe, budget: int, rng: np.random.Generator, **params) -> Selection:
    """The points of highest predictive entropy (0·log 0 = 0)."""
    return _uncertainty("entropy", pool, probe, budget, rng, **params)


def margin(pool: Pool, probe, budget: int, rng: np.random.Generator, **params) -> Selection:
    """The points with the smallest gap between the two most probable classes."""
    return _uncertainty("margin", pool, probe, budget, rng, **params)
