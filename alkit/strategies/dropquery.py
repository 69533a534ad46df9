"""DropQuery: dropout-disagreement candidates, then one representative per k-means cluster.

The paper's contribution (Gupte et al., TMLR 2024, §5): the probe's predictions under
a few input-dropout masks are compared with its clean prediction; points whose
prediction flips in a majority of the passes are *uncertain candidates*, and k-means
with k = B on their L2-normalised probe embeddings picks a *diverse* batch.

References
----------
Gupte, Aklilu, Nirschl & Yeung-Levy, "Revisiting Active Learning in the Era of Vision
Foundation Models", Transactions on Machine Learning Research (TMLR), 2024.
"""

from __future__ import annotations

import numpy as np

from ..cluster import kmeans_nearest
from ..errors import InvalidInputError
from ..pool import Pool, Selection, top_up
from ..probe import LinearProbe
from . import scores
from .base import embed_rows, pool_blocks

__all__ = ["dropquery", "relax_threshold"]

PAPER = (
    "Gupte et al., 'Revisiting Active Learning in the Era of Vision Foundation Models', TMLR 2024"
)


def _check_params(M, candidate_factor) -> None:
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise InvalidInputError(
            f"dropquery: M (number of dropout passes) must be an integer ≥ 1, got {M!r}."
        )
    if (
        isinstance(candidate_factor, bool)
        or not isinstance(candidate_factor, (int, np.integer))
        or candidate_factor < 1
    ):
        raise InvalidInputError(
            f"dropquery: candidate_factor must be an integer ≥ 1, got {candidate_factor!r}."
        )


def relax_threshold(mismatch: np.ndarray, n_passes: int, target: int) -> int:
    """The candidate threshold of DropQuery's step (4).

    Starts at ⌊M/2⌋ (a majority of passes disagree) and is lowered by one while fewer
    than ``target`` points have ``mismatch > threshold`` and the threshold is above 0.

    Parameters
    ----------
    mismatch : ndarray of shape (n,), int
        Number of stochastic passes whose argmax differs from the clean argmax.
    n_passes : int
        M, the number of stochastic passes.
    target : int
        The wanted number of candidates (25·B in the paper).

    Returns
    -------
    int
        The threshold t; the candidates are ``mismatch > t``.
    """
    counts = np.bincount(np.asarray(mismatch, dtype=np.int64), minlength=n_passes + 1)
    above = counts[::-1].cumsum()[::-1]  # above[t] = #(mismatch >= t)
    threshold = n_passes // 2
    while above[threshold + 1] < target and threshold > 0:
        threshold -= 1
    return int(threshold)


def dropquery(
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    M: int = 3,
    candidate_factor: int = 25,
    device: str = "auto",
) -> Selection:
    """Dropout-disagreement candidates clustered into a diverse batch (DropQuery).

    1. Clean pass on the unlabeled points U: y*(u) = argmax p(u).
    2. ``M`` passes with fresh input-dropout masks (``probe.mc_argmax``).
    3. mismatch(u) = number of passes whose argmax ≠ y*(u).
    4. Candidates: mismatch > ⌊M/2⌋; while there are fewer than ``candidate_factor``·B of
       them and the threshold is above 0, the threshold is lowered by one.
    5. Fewer than B candidates: all of them plus a random top-up. Otherwise the shared
       clustering (:func:`alkit.cluster.kmeans_nearest`, k = B) on the candidates'
       L2-normalised probe embeddings e(u) (``probe.embed``), the candidate nearest each
       centroid; an empty cluster is made up by the random top-up.

    Parameters
    ----------
    pool : Pool
        Features of shape (n, d), labeled mask and known labels.
    probe : LinearProbe or any object with ``mc_argmax(x, M)`` and ``embed(x)``
        The fitted probe.
    budget : int
        B, the number of points to pick.
    rng : numpy Generator
        Drives the clustering and the top-up (the dropout masks come from the probe).
    M : int, default 3
        Number of stochastic passes (the paper's robustness check uses 3, 5, 7, 9).
    candidate_factor : int, default 25
        The threshold is relaxed until at least ``candidate_factor``·B candidates exist.
    device : str
        Device of the clustering step.

    Returns
    -------
    Selection
        ``indices`` of shape (budget,); ``info`` holds ``n_candidates``, ``threshold`` (the
        t of ``mismatch > t`` used), ``mismatch_counts`` (points per mismatch value 0..M)
        and ``n_topped_up``.

    References
    ----------
    Gupte, Aklilu, Nirschl & Yeung-Levy, "Revisiting Active Learning in the Era of Vision
    Foundation Models", TMLR 2024.
    """
    _check_params(M, candidate_factor)
    unl = pool.unlabeled_idx
    # block by block over the pool (whole probe chunks: the same masks as one call), so no
    # (|U|, d) copy of the features is made
    if isinstance(probe, LinearProbe):  # gathers chunk by chunk itself: the same chunks and masks
        clean, passes = probe.mc_argmax(pool.x, int(M), rows=unl)
    else:
        clean = np.empty(len(unl), dtype=np.int64)
        passes = np.empty((int(M), len(unl)), dtype=np.int64)
        for s, e in pool_blocks(len(unl), probe):
            clean[s:e], passes[:, s:e] = probe.mc_argmax(pool.x[unl[s:e]], int(M))
    mis = scores.mismatch(clean, passes)
    threshold = relax_threshold(mis, int(M), int(candidate_factor) * budget)
    cand = np.flatnonzero(mis > threshold)
    info = {
        "n_candidates": int(len(cand)),
        "threshold": threshold,
        "mismatch_counts": np.bincount(mis, minlength=int(M) + 1).tolist(),
    }
    if len(cand) < budget:
        return top_up(unl[cand], pool, budget, rng, info)
    emb = embed_rows(probe, pool.x, unl[cand])
    # L2-normalised inside, in place: emb is this call's own array
    picks, _ = kmeans_nearest(emb, budget, rng, device=device, overwrite=True)
    return top_up(unl[cand[picks]], pool, budget, rng, info)


#: Parameters and defaults, as registered.
PARAMS = {"M": 3, "candidate_factor": 25}


def check(params: dict) -> None:
    """The registry's parameter check (ranges; types are checked against :data:`PARAMS`)."""
    _check_params(params["M"], params["candidate_factor"])
