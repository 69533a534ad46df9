"""Uniform random sampling, the baseline every strategy is compared to."""

from __future__ import annotations

import numpy as np

from ..pool import Pool, Selection


def random(pool: Pool, probe, budget: int, rng: np.random.Generator, **params) -> Selection:
    """``budget`` unlabeled points uniformly at random, without replacement."""
    return Selection(rng.choice(pool.unlabeled_idx, size=budget, replace=False))
