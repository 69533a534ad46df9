"""Shared selection helpers: ranking, the ``typical`` block and the ``cluster`` wrap."""

from __future__ import annotations

import numpy as np

from ..cluster import kmeans_nearest
from ..pool import Pool, Selection, top_up

__all__ = ["top_k", "typical_block", "rank_select"]

CLUSTER_FACTOR = 50  # cluster=True: top min(50·B, |U|) by score, then k-means with k = B


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, highest first; ties broken by lower position."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return order[:k]


def typical_block(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` positions of the score ranking centred on its median (``typical=True``)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    start = max(0, min(len(order) // 2 - k // 2, len(order) - k))
    return order[start:start + k]


def rank_select(pool: Pool, scores_u: np.ndarray, budget: int, rng: np.random.Generator, *,
                typical: bool = False, cluster: bool = False, device: str = "auto",
                info: dict | None = None) -> Selection:
    """Pick ``budget`` unlabeled points from their scores (higher = more informative).

    Parameters
    ----------
    scores_u : ndarray of shape (n_unlabeled,)
        Scores of ``pool.unlabeled_idx``, in that order.
    typical : bool
        Take the block centred on the ranking's median instead of the top.
    cluster : bool
        Take the top min(50·B, |U|), then one point per k-means cluster (k = B) of their raw
        features (L2-normalised inside the shared clustering).
    """
    unl = pool.unlabeled_idx
    info = dict(info or {})
    if typical and cluster:
        raise ValueError("typical=True and cluster=True cannot be combined; choose one.")
    if cluster:
        cand = top_k(scores_u, min(CLUSTER_FACTOR * budget, len(unl)))
        picks, _ = kmeans_nearest(pool.x[unl[cand]], budget, rng, device=device)
        info["n_candidates"] = int(len(cand))
        return top_up(unl[cand[picks]], pool, budget, rng, info)
    pos = typical_block(scores_u, budget) if typical else top_k(scores_u, budget)
    return top_up(unl[pos], pool, budget, rng, info)
