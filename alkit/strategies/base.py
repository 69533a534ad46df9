"""Shared selection helpers: ranking, the ``typical`` block and the ``cluster`` wrap."""

from __future__ import annotations

import numpy as np
import torch

from .._devices import resolve_device
from .._kernels.rows import LazyF64Rows
from ..cluster import kmeans_nearest
from ..pool import Pool, Selection, top_up
from ..probe import LinearProbe

__all__ = [
    "complete_initial",
    "top_k",
    "typical_block",
    "rank_select",
    "pool_blocks",
    "rows_blockwise",
    "embed_rows",
    "pool_scores",
    "probe_device",
    "lazy_embeddings",
]

CLUSTER_FACTOR = 50  # cluster=True: top min(50·B, |U|) by score, then k-means with k = B
POOL_BLOCK_ROWS = (
    32768  # rows of the pool read at a time (rounded to a multiple of the probe's chunk)
)


def pool_blocks(n: int, probe=None, block_rows: int = POOL_BLOCK_ROWS):
    """``(start, stop)`` row blocks over ``n`` rows, each a whole number of probe chunks.

    The probe draws its dropout masks chunk by chunk (``probe.chunk_size`` rows); blocks
    that are multiples of that size therefore see exactly the masks one call on all rows
    would, so block-wise passes give bit-identical results while reading only one block of
    the pool at a time (never an (n, d) copy of ``pool.x[unlabeled]``).
    """
    step = int(block_rows)
    cs = getattr(probe, "chunk_size", None)
    if isinstance(cs, (int, np.integer)) and cs > 0:
        step = max(int(cs), (step // int(cs)) * int(cs))
    for s in range(0, n, step):
        yield s, min(n, s + step)


def rows_blockwise(fn, x: np.ndarray, rows: np.ndarray, probe=None) -> np.ndarray:
    """``fn(x[rows])`` computed on :func:`pool_blocks` of ``rows`` (whole probe chunks, so a
    stochastic ``fn`` sees the masks of one call) and concatenated along the first axis: only
    one block of ``x[rows]`` is ever copied."""
    rows = np.asarray(rows, dtype=np.int64)
    out = None
    for s, e in pool_blocks(len(rows), probe):
        fb = fn(x[rows[s:e]])
        if out is None:
            out = np.empty((len(rows),) + fb.shape[1:], dtype=fb.dtype)
        out[s:e] = fb
    return out if out is not None else fn(x[rows])


def embed_rows(probe, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``probe.embed(x[rows])`` of shape (len(rows), d), read block by block from ``x``."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(probe, LinearProbe):  # gathers chunk by chunk straight into its output
        return probe.embed(x, rows=rows)
    return rows_blockwise(probe.embed, x, rows, probe)


def probe_device(probe, device: str) -> torch.device:
    """The probe's device when it has one (a real probe), else ``device`` resolved."""
    dev = getattr(probe, "device", None)
    if isinstance(dev, torch.device):
        return dev
    return resolve_device(device)


def lazy_embeddings(
    probe, pool: Pool, rows: np.ndarray, dev: torch.device, d: int | None = None
) -> LazyF64Rows:
    """The probe embeddings of ``pool.x[rows]``, never stored: recomputed from the pool where read.

    ``d``: their width, by default the feature width (as for a linear probe).
    """
    return LazyF64Rows(
        lambda idx: embed_rows(probe, pool.x, rows[idx]),
        len(rows),
        pool.x.shape[1] if d is None else d,
        dev,
    )


def pool_scores(pool: Pool, probe, score_fn, *, dropout: bool = False) -> np.ndarray:
    """``score_fn(probe.predict_proba(x_u))`` over the unlabeled points, read block by block.

    Never copies ``pool.x[unlabeled]`` nor holds an (|U|, C) array for more than one block.
    Returns an ndarray of shape (n_unlabeled,).
    """
    return rows_blockwise(
        lambda xb: score_fn(probe.predict_proba(xb, dropout=dropout)),
        pool.x,
        pool.unlabeled_idx,
        probe,
    )


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, highest first; ties broken by lower position."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return order[:k]


def typical_block(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` positions of the score ranking centred on its median (``typical=True``)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    start = max(0, min(len(order) // 2 - k // 2, len(order) - k))
    return order[start : start + k]


def rank_select(
    pool: Pool,
    scores_u: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    *,
    typical: bool = False,
    cluster: bool = False,
    device: str = "auto",
    info: dict | None = None,
) -> Selection:
    """Pick ``budget`` unlabeled points from their scores (higher = more informative).

    Parameters
    ----------
    scores_u : ndarray of shape (n_unlabeled,)
        Scores of ``pool.unlabeled_idx``, in that order.
    typical : bool
        Take the block centred on the ranking's median instead of the top.
    cluster : bool
        Take the top min(50·B, |U|), then one point per k-means cluster (k = B) of their raw
        features (L2-normalised inside the shared clustering). With ``typical`` too, the
        min(50·B, |U|) candidates are the block centred on the median, as in the reference
        (``ALFM/src/query_strategies/entropy.py``: the oversampled block, then clustering).
    """
    unl = pool.unlabeled_idx
    info = dict(info or {})
    if cluster:
        n_cand = min(CLUSTER_FACTOR * budget, len(unl))
        cand = typical_block(scores_u, n_cand) if typical else top_k(scores_u, n_cand)
        picks, _ = kmeans_nearest(pool.x[unl[cand]], budget, rng, device=device)
        info["n_candidates"] = int(len(cand))
        return top_up(unl[cand[picks]], pool, budget, rng, info)
    pos = typical_block(scores_u, budget) if typical else top_k(scores_u, budget)
    return top_up(unl[pos], pool, budget, rng, info)


def complete_initial(
    picks: np.ndarray, n: int, budget: int, rng: np.random.Generator, info: dict
) -> Selection:
    """Random completion of an initial pool to ``budget`` (the initial-pool twin of ``top_up``)."""
    picks = np.asarray(picks, dtype=np.int64)[:budget]
    missing = budget - len(picks)
    if missing > 0:
        avail = np.ones(n, dtype=bool)
        avail[picks] = False
        picks = np.concatenate([picks, rng.choice(np.flatnonzero(avail), missing, replace=False)])
    info["n_topped_up"] = int(max(missing, 0))
    return Selection(picks, info)
