"""BADGE: k-means++ seeding on gradient embeddings.

Each unlabeled point u is represented by the gradient of the cross-entropy at its predicted
label with respect to the last layer, g(u) = (p(u) − onehot(argmax p(u))) ⊗ z(u), with z the
probe embedding. Uncertain points have long gradients, and k-means++ seeding (the first seed
uniform, each next one drawn with probability ∝ D², its squared distance to the nearest seed)
spreads the batch: the batch is both uncertain and diverse.

:func:`badge_reference` builds the (n, C·d) gradients and seeds on them plainly;
:func:`badge`, the registered strategy, draws the same seeds with :func:`badge_seeds`, which
never forms a gradient (:func:`gradient_sq_dists`) and screens its passes on large pools.

References
----------
Ash, Zhang, Krishnamurthy, Langford & Agarwal, "Deep Batch Active Learning by Diverse, Uncertain
Gradient Lower Bounds", ICLR 2020.
"""

from __future__ import annotations

import numpy as np
import torch

from .._devices import resolve_device
from .._kernels import screen as _screen
from .._kernels.rows import (
    F64_BLOCK_ROWS,
    F64Rows,
    LazyF64Rows,
    row_source,
    sq_norms64_and_blocks,
    store_z_limit,
)
from ..errors import InvalidInputError
from ..pool import Pool, Selection
from .base import lazy_embeddings, pool_blocks, probe_device

__all__ = ["badge_reference", "badge", "badge_seeds", "gradient_sq_dists", "BADGE_PAPER"]

BADGE_PAPER = (
    "Ash et al., 'Deep Batch Active Learning by Diverse, Uncertain Gradient Lower "
    "Bounds', ICLR 2020"
)


def badge_reference(
    z: np.ndarray, proba: np.ndarray, budget: int, rng: np.random.Generator
) -> np.ndarray:
    """k-means++ seeding on explicit gradient embeddings, with BADGE's draw protocol.

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Probe embeddings of the unlabeled points.
    proba : ndarray of shape (n, C)
        The probe's class probabilities for them.
    budget : int
        Number of seeds, ≤ n.
    rng : numpy Generator
        The first seed is ``rng.integers(n)``; each next one is found by the inverse CDF of D²,
        ``searchsorted(cumsum(D²), rng.random() · ΣD², side="right")``, or, once every D² is 0
        (only duplicates left), ``rng.choice`` among the points not chosen yet.

    Returns
    -------
    ndarray of shape (budget,), int64
        Row indices, in pick order.
    """
    delta = np.array(proba, dtype=np.float32)  # δ = p − onehot(argmax p), float32 as in badge()
    delta[np.arange(len(delta)), delta.argmax(1)] -= 1.0
    g = np.einsum("nc,nd->ncd", delta.astype(np.float64), np.asarray(z, dtype=np.float64))
    g = g.reshape(len(g), -1)  # g = δ ⊗ z, shape (n, C·d)
    n = len(g)
    seeds = [int(rng.integers(n))]
    d2 = ((g - g[seeds[0]]) ** 2).sum(1)  # squared distance to the nearest seed
    d2[seeds[0]] = 0.0
    for _ in range(1, budget):
        cdf = np.cumsum(d2)
        if cdf[-1] > 0:
            idx = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        else:
            idx = int(rng.choice(np.setdiff1d(np.arange(n), seeds)))
        seeds.append(idx)
        d2 = np.minimum(d2, ((g - g[idx]) ** 2).sum(1))
        d2[idx] = 0.0
    return np.array(seeds, dtype=np.int64)


def badge(
    pool: Pool, probe, budget: int, rng: np.random.Generator, *, device: str = "auto"
) -> Selection:
    """BADGE: k-means++ seeding on gradient embeddings (p − onehot(argmax p)) ⊗ z.

    The batch is the seeds of :func:`badge_reference` on the unlabeled points; no
    N × (d·C) array is formed.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe or any object with ``predict_proba(x)`` and ``embed(x)``
    budget : int
    rng : numpy Generator
        Drives the seeding (see :func:`badge_reference` for the exact draw protocol).
    device : str
        Used when the probe has no ``device`` attribute.

    Returns
    -------
    Selection

    References
    ----------
    Ash, Zhang, Krishnamurthy, Langford & Agarwal, "Deep Batch Active Learning by Diverse,
    Uncertain Gradient Lower Bounds", ICLR 2020.
    """
    unl = pool.unlabeled_idx
    dev = probe_device(probe, device)
    # z is a function of x row by row, so above the store limit it is recomputed per pass
    store_z = len(unl) * pool.x.shape[1] * 4 <= store_z_limit()
    if not store_z and _screen.enabled(
        len(unl), dev, nbytes=2 * len(unl) * (pool.x.shape[1] + pool.n_classes)
    ):
        # screened passes recompute only the rows they flag: keep neither z nor δ, only their
        # float16 copies
        delta = LazyF64Rows(
            lambda idx: _gradient_factor(probe.predict_proba(pool.x[unl[idx]])),
            len(unl),
            pool.n_classes,
            dev,
        )
        return Selection(
            unl[badge_seeds(lazy_embeddings(probe, pool, unl, dev), delta, budget, rng, dev)]
        )
    delta = z = None
    for s, e in pool_blocks(len(unl), probe):
        x_b = pool.x[unl[s:e]]
        db = _gradient_factor(probe.predict_proba(x_b))
        if delta is None:
            delta = np.empty((len(unl), db.shape[1]), dtype=np.float32)
        delta[s:e] = db
        if store_z:
            zb = probe.embed(x_b)
            if z is None:
                z = np.empty((len(unl), zb.shape[1]), dtype=zb.dtype)
            z[s:e] = zb
        del x_b, db
    if not store_z:
        z = lazy_embeddings(probe, pool, unl, dev)
    picks = badge_seeds(z, delta, budget, rng, dev)
    return Selection(unl[picks])


def badge_seeds(
    z: np.ndarray,
    delta: np.ndarray,
    k: int,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """k-means++ seeding on gradient embeddings g = δ ⊗ z with implicit distances.

    The seeds of :func:`badge_reference` (same draws from ``rng``); memory is O(n·(d + C)).

    Parameters
    ----------
    z : ndarray of shape (n, d), or :class:`alkit._kernels.rows.F64Rows`
        Probe embeddings (also :class:`~alkit._kernels.rows.LazyF64Rows`: recomputed where read).
    delta : ndarray of shape (n, C), or :class:`alkit._kernels.rows.F64Rows`
        p − onehot(argmax p).
    k : int
        Number of seeds, ≤ n.
    rng : numpy Generator
    device : str or torch.device

    Returns
    -------
    ndarray of shape (k,), int64
        Row indices, in pick order.

    Notes
    -----
    On CPU pools of at least :data:`alkit._kernels.screen.MIN_ROWS` rows the passes are screened
    in float16 (:func:`_badge_seeds_screened`): the same seeds, and no float64 copy of z or δ.
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    n_rows, dz = (z.n, z.d) if isinstance(z, LazyF64Rows) else np.shape(z)
    dd = delta.d if isinstance(delta, LazyF64Rows) else np.shape(delta)[1]
    if _screen.enabled(n_rows, dev, nbytes=2 * n_rows * (dz + dd)):
        return _badge_seeds_screened(z, delta, k, rng, dev)
    zr = z if isinstance(z, F64Rows) else F64Rows(np.asarray(z), dev)
    dr = delta if isinstance(delta, F64Rows) else F64Rows(np.asarray(delta), dev)
    z_sq, d_sq = zr.sq_norms(), dr.sq_norms()
    n = zr.n
    return _d2_sample(
        n,
        k,
        rng,
        lambda c: _gradient_sq_dists_rows(zr, dr, z_sq, d_sq, c),
        lambda m, c: torch.minimum(m, _gradient_sq_dists_rows(zr, dr, z_sq, d_sq, c), out=m),
    )


def gradient_sq_dists(
    z: torch.Tensor, delta: torch.Tensor, z_sq: torch.Tensor, d_sq: torch.Tensor, i: int
) -> torch.Tensor:
    """‖g_j − g_i‖² for every j, shape (n,) float64, without forming any g.

    With g = δ ⊗ z, ⟨g_j, g_i⟩ = (z_j·z_i)(δ_j·δ_i), so
    ‖g_j − g_i‖² = ‖z_j‖²‖δ_j‖² − 2(z_j·z_i)(δ_j·δ_i) + ‖z_i‖²‖δ_i‖².

    Parameters
    ----------
    z : Tensor of shape (n, d), float64
    delta : Tensor of shape (n, C), float64
        δ = p − onehot(argmax p).
    z_sq, d_sq : Tensor of shape (n,), float64
        ‖z_j‖² and ‖δ_j‖².
    i : int
        The centre.
    """
    dots = (z @ z[i]) * (delta @ delta[i])
    return (z_sq * d_sq - 2.0 * dots + z_sq[i] * d_sq[i]).clamp_min_(0.0)


def _gradient_factor(proba: np.ndarray) -> np.ndarray:
    """BADGE's δ = p − onehot(argmax p), float32, shape (n, C)."""
    db = np.array(proba, dtype=np.float32)
    db[np.arange(len(db)), db.argmax(1)] -= 1.0
    return db


def _gradient_sq_dists_rows(
    zr: F64Rows, dr: F64Rows, z_sq: torch.Tensor, d_sq: torch.Tensor, i: int
) -> torch.Tensor:
    """:func:`gradient_sq_dists` on :class:`F64Rows` (the same expression, block by block)."""
    if zr.full is not None and dr.full is not None:
        return gradient_sq_dists(zr.full, dr.full, z_sq, d_sq, i)
    zi, di = zr.row(i), dr.row(i)
    dots = torch.cat(
        [
            zr.slice(s, e) @ zi * (dr.slice(s, e) @ di)
            for s, e in ((s, min(zr.n, s + F64_BLOCK_ROWS)) for s in range(0, zr.n, F64_BLOCK_ROWS))
        ]
    )
    return (z_sq * d_sq - 2.0 * dots + z_sq[i] * d_sq[i]).clamp_min_(0.0)


def _d2_sample(n: int, k: int, rng: np.random.Generator, first, update) -> np.ndarray:
    """BADGE's D² sampling with the draws of :func:`badge_reference`.

    ``first(seed)`` gives the D² of every row to the first seed; ``update(D², seed)`` lowers
    D² in place with a new seed.
    """
    seeds = np.empty(k, dtype=np.int64)
    chosen = np.zeros(n, dtype=bool)
    seeds[0] = int(rng.integers(n))
    chosen[seeds[0]] = True
    min_d2 = first(int(seeds[0]))
    min_d2[seeds[0]] = 0.0
    cdf = np.empty(n, dtype=np.float64)
    for i in range(1, k):
        np.cumsum(min_d2.cpu().numpy(), out=cdf)
        if cdf[-1] > 0:
            # u·total < total, so the index found has a positive weight (never a chosen point)
            idx = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        else:
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        seeds[i] = idx
        chosen[idx] = True
        update(min_d2, idx)
        min_d2[idx] = 0.0
    return seeds


def _badge_seeds_screened(
    z, delta, k: int, rng: np.random.Generator, dev: torch.device
) -> np.ndarray:
    """:func:`badge_seeds` on a large pool: float16 screening of both factors of the gradient
    dot product (:mod:`alkit._kernels.screen`), every distance that can lower a D² recomputed
    in float64.

    With ``cos̃`` within ``τ`` of each cosine, ``(z_j·z_c)(δ_j·δ_c) = S_j·cos_z·cos_δ`` (S_j the
    product of the four norms) is within ``S_j(τ|cos̃_δ| + τ|cos̃_z| + τ²)`` of
    ``S_j·cos̃_z·cos̃_δ``. ``z`` and ``delta`` may be :class:`LazyF64Rows` (recomputed where
    needed): then only their float16 copies are kept.
    """
    take_z, n, dz = row_source(z, dev)
    take_d, n_d, dd = row_source(delta, dev)
    lazy = isinstance(z, LazyF64Rows) or isinstance(delta, LazyF64Rows)
    if n_d != n:
        raise InvalidInputError(f"badge_seeds: z has {n} rows but delta has {n_d}.")
    z_sq = torch.empty(n, dtype=torch.float64, device=dev)
    d_sq = torch.empty(n, dtype=torch.float64, device=dev)
    hz = _screen.UnitHalf(sq_norms64_and_blocks(take_z, n, z_sq), n, dz, dev)
    hd = _screen.UnitHalf(sq_norms64_and_blocks(take_d, n, d_sq), n, dd, dev)
    a = z_sq * d_sq
    tz, td = hz.tol, hd.tol

    def exact(rows: torch.Tensor | slice, c: int) -> torch.Tensor:
        zc, dc = (
            take_z(slice(c, c + 1))[0].to(torch.float64),
            take_d(slice(c, c + 1))[0].to(torch.float64),
        )
        dots = (take_z(rows).to(torch.float64) @ zc) * (take_d(rows).to(torch.float64) @ dc)
        return (z_sq[rows] * d_sq[rows] - 2.0 * dots + z_sq[c] * d_sq[c]).clamp_min_(0.0)

    def full_pass(c: int) -> torch.Tensor:
        return _screen.in_slices(n, lambda rb: exact(rb, c), F64_BLOCK_ROWS)

    def update(min_d2: torch.Tensor, idx: int) -> None:
        cz, cd = hz.cos(idx), hd.cos(idx)
        prod_s = (hz.norm * hz.norm[idx]) * (hd.norm * hd.norm[idx])
        upper_dot = prod_s * (cz * cd + tz * cd.abs() + td * cz.abs() + tz * td)
        lb = a + a[idx] - 2.0 * upper_dot.to(torch.float64) - _screen.SLACK * (a + a[idx])
        # recomputed rows: only the flagged ones, never a full pass
        _screen.lower_min_(
            min_d2, lb, lambda rb: exact(rb, idx), None if lazy else lambda: full_pass(idx)
        )

    return _d2_sample(n, k, rng, full_pass, update)
