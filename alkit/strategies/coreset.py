"""CoreSet: greedy k-center on the probe embedding, starting from the labeled set.

A batch that covers the pool well lets a model trained on it generalise to the rest (Sener &
Savarese bound the loss on the pool by the loss on the batch plus a term in the covering
radius). Choosing B points that minimise the largest distance from any point to its nearest
chosen or labeled point is NP-hard; the greedy farthest-first traversal is a 2-approximation:
each pick is the unlabeled point farthest from every labeled-or-already-picked point.

:func:`coreset_reference` is that traversal written plainly; :func:`coreset`, the registered
strategy, gets the same picks from :func:`alkit._kernels.kcenter.kcenter_greedy`, which skips
most of the distance passes (``docs/strategies_uncertainty_diversity.md``).

References
----------
Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set Approach",
ICLR 2018.
"""

from __future__ import annotations

import numpy as np

from .._kernels.kcenter import kcenter_greedy
from ..pool import Pool, Selection
from .base import embed_rows, lazy_embeddings, probe_device

__all__ = ["coreset_reference", "coreset", "kcenter_greedy", "CORESET_PAPER"]

CORESET_PAPER = (
    "Sener & Savarese, 'Active Learning for Convolutional Neural Networks: "
    "A Core-Set Approach', ICLR 2018"
)


def coreset_reference(
    z: np.ndarray, labeled: np.ndarray, budget: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Farthest-first traversal, one full float64 distance pass per pick.

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Embeddings of the candidate (unlabeled) points.
    labeled : ndarray of shape (m, d)
        Embeddings of the labeled points, the first centres; may be empty (m = 0).
    budget : int
        Number of picks, ≤ n.
    rng : numpy Generator
        Draws the first pick (``rng.integers(n)``) when nothing is labeled.

    Returns
    -------
    picks : ndarray of shape (budget,), int64
        Row indices into ``z``, in pick order; ties go to the lowest index (``np.argmax``).
    radius : float
        Largest distance of an unpicked point to its nearest centre after the batch.
    """
    z = np.asarray(z, dtype=np.float64)
    labeled = np.asarray(labeled, dtype=np.float64).reshape(-1, z.shape[1])
    sq = (z * z).sum(1)
    # squared distance of every point to its nearest centre, ‖z‖² − 2z·c + ‖c‖² clamped at 0
    nearest = np.full(len(z), np.inf)
    if len(labeled):
        to_labeled = sq[:, None] - 2 * z @ labeled.T + (labeled * labeled).sum(1)[None]
        nearest = np.maximum(to_labeled, 0).min(1)
    picks = []
    for i in range(budget):
        j = int(rng.integers(len(z))) if (i == 0 and not len(labeled)) else int(np.argmax(nearest))
        picks.append(j)
        nearest = np.minimum(nearest, np.maximum(sq - 2 * z @ z[j] + sq[j], 0))
        nearest[j] = -1  # a centre is never picked again, even among duplicates
    return np.array(picks, dtype=np.int64), float(np.sqrt(max(nearest.max(), 0)))


def coreset(
    pool: Pool, probe, budget: int, rng: np.random.Generator, *, device: str = "auto"
) -> Selection:
    """CoreSet: greedy k-center on probe embeddings, starting from the labeled set.

    Every pick is the unlabeled point whose Euclidean distance (in the probe embedding,
    ``probe.embed``) to the nearest labeled-or-already-picked point is largest: the picks of
    :func:`coreset_reference`, ties to the lowest index.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``embed(x) -> (n, d)``
    budget : int
    rng : numpy Generator
        Only used when nothing is labeled (first pick uniform).
    device : str
        Used when the probe has no ``device`` attribute.

    Returns
    -------
    Selection
        ``info["radius"]``: the covering radius (largest distance of an unlabeled, unpicked
        point to its nearest centre) after the batch.

    References
    ----------
    Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
    Approach", ICLR 2018.
    """
    unl, lab = pool.unlabeled_idx, pool.labeled_idx
    dev = probe_device(probe, device)
    z_l = embed_rows(probe, pool.x, lab if len(lab) else unl[:1])
    d = z_l.shape[1]
    if not len(lab):
        z_l = np.empty((0, d), np.float32)
    # the unlabeled embeddings are read block by block where the search needs them
    z_u = lazy_embeddings(probe, pool, unl, dev, d)
    picks, radius = kcenter_greedy(z_u, z_l, budget, rng, dev)
    return Selection(unl[picks], {"radius": radius})
