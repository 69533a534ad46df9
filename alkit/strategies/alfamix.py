"""ALFA-Mix: unlabeled points whose prediction flips when mixed with a class anchor.

The anchors are the mean probe embeddings of the labeled points of each class. Each unlabeled
embedding z is moved a small step towards each anchor z*, with a per-feature weight α chosen
along the gradient of the loss at its predicted label (α = ε·‖z* − z‖·g / (‖g‖·(z* − z))); if the
probe's prediction on the mixed embedding αz* + (1 − α)z changes for some anchor, the point lies
near a decision boundary the labeled data does not yet support, and it is a candidate. One
candidate per k-means cluster of the candidates (k = B) makes the batch diverse.

:func:`alfamix_reference` is the candidate test written as the formula; :func:`alfamix`, the
registered strategy, uses :func:`alfamix_candidates`, the same test at linear cost.

References
----------
Parvaneh, Abbasnejad, Teney, Haffari, van den Hengel & Shi, "Active Learning by Feature Mixing",
CVPR 2022.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._devices import resolve_device
from .._kernels.rows import as_tensor
from ..cluster import kmeans_nearest
from ..errors import InvalidInputError
from ..pool import Pool, Selection, top_up
from ..validation import check_float
from .base import embed_rows, probe_device

__all__ = [
    "alfamix_reference",
    "alfamix",
    "alfamix_candidates",
    "class_anchors",
    "check_alfamix",
    "ALFAMIX_PAPER",
]

ALFAMIX_PAPER = "Parvaneh et al., 'Active Learning by Feature Mixing', CVPR 2022"

CHUNK_ROWS = 16384  # rows per chunk of the candidate test


def alfamix_reference(
    z: np.ndarray, anchors: np.ndarray, weight, bias, epsilon: float
) -> np.ndarray:
    """ALFA-Mix's candidate test as the paper writes it, in float64, anchor by anchor.

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Probe embeddings of the unlabeled points.
    anchors : ndarray of shape (A, d)
        The class anchors (:func:`class_anchors`).
    weight : array-like of shape (C, d)
    bias : array-like of shape (C,)
        The probe's linear layer on the embedding space.
    epsilon : float
        The mixing step.

    Returns
    -------
    ndarray of shape (n,), bool
        Whether the prediction on some mixed embedding differs from the prediction on z.
    """
    z, anchors, W, b = (np.asarray(a, dtype=np.float64) for a in (z, anchors, weight, bias))
    logits = z @ W.T + b
    y = logits.argmax(1)
    # g = ∂CE(Wz + b, ŷ)/∂z = Wᵀ(softmax(Wz + b) − onehot(ŷ))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(z)), y] -= 1
    g = p @ W
    g_norm = np.linalg.norm(g, axis=1, keepdims=True)
    flagged = np.zeros(len(z), dtype=bool)
    for a in anchors:
        diff = a - z
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = epsilon * np.linalg.norm(diff, axis=1, keepdims=True) * g / (g_norm * diff)
        # 0/0 in the paper's formula where z* − z = 0 or g = 0: no step there (docs/deviations.md)
        alpha[(diff == 0) | (g_norm == 0)] = 0.0
        mixed = alpha * a + (1 - alpha) * z
        flagged |= (mixed @ W.T + b).argmax(1) != y
    return flagged


def alfamix(
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    *,
    epsilon: float | None = None,
    device: str = "auto",
) -> Selection:
    """ALFA-Mix: points whose prediction flips when their embedding is mixed with a class anchor.

    The candidates are those of :func:`alfamix_reference` with the anchors of
    :func:`class_anchors` (the classes present in L). With ≥ B candidates the shared clustering
    (k = B) on their L2-normalised embeddings picks the batch, the candidate nearest each
    centroid; with fewer, all of them plus a random top-up.

    Parameters
    ----------
    pool : Pool
    probe : LinearProbe
        Needs ``embed``, ``weight_`` (C, d) and ``bias_`` (C,) (the linear layer on the
        BN-output space).
    budget : int
    rng : numpy Generator
        Drives the clustering and the top-up.
    epsilon : float or None, default None
        Mixing step; None = 0.2/√d.
    device : str

    Returns
    -------
    Selection
        ``info``: ``n_candidates``, ``n_anchors``, ``epsilon``.

    References
    ----------
    Parvaneh, Abbasnejad, Teney, Haffari, van den Hengel & Shi, "Active Learning by Feature
    Mixing", CVPR 2022.
    """
    unl, lab = pool.unlabeled_idx, pool.labeled_idx
    if len(lab) == 0:
        raise InvalidInputError(
            "alfamix needs labeled points for its class anchors; label an initial pool first."
        )
    _check_epsilon(epsilon)
    z_u = embed_rows(probe, pool.x, unl)
    d = z_u.shape[1]
    if epsilon is None:
        epsilon = 0.2 / math.sqrt(d)
    anchors, _ = class_anchors(embed_rows(probe, pool.x, lab), pool.labels[lab])
    dev = probe_device(probe, device)
    cand = np.flatnonzero(
        alfamix_candidates(z_u, anchors, probe.weight_, probe.bias_, float(epsilon), dev)
    )
    info = {
        "n_candidates": int(len(cand)),
        "n_anchors": int(len(anchors)),
        "epsilon": float(epsilon),
    }
    if len(cand) < budget:
        return top_up(unl[cand], pool, budget, rng, info)
    picks, _ = kmeans_nearest(z_u[cand], budget, rng, device=device)  # L2-normalised inside
    return top_up(unl[cand[picks]], pool, budget, rng, info)


def check_alfamix(params: dict) -> None:
    """The registry's parameter check of ALFA-Mix."""
    _check_epsilon(params["epsilon"])


def _check_epsilon(epsilon) -> None:
    if epsilon is not None:
        check_float(epsilon, "alfamix: epsilon", min=0.0, min_open=True, hint="None means 0.2/√d.")


def class_anchors(z_labeled: np.ndarray, y_labeled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding of each class present among the labeled points.

    Parameters
    ----------
    z_labeled : ndarray of shape (m, d)
    y_labeled : ndarray of shape (m,), int

    Returns
    -------
    anchors : ndarray of shape (A, d), float32
    classes : ndarray of shape (A,), int64
        The present classes, ascending (the authors' code assumed classes 0..A−1;
        ``docs/deviations.md``).
    """
    classes, inv = np.unique(np.asarray(y_labeled, dtype=np.int64), return_inverse=True)
    sums = np.zeros((len(classes), z_labeled.shape[1]), dtype=np.float64)
    np.add.at(sums, inv.ravel(), z_labeled)
    counts = np.bincount(inv.ravel(), minlength=len(classes))
    return (sums / counts[:, None]).astype(np.float32), classes


def alfamix_candidates(
    z: np.ndarray,
    anchors: np.ndarray,
    weight: torch.Tensor,
    bias: torch.Tensor,
    epsilon: float,
    device: str | torch.device = "cpu",
    chunk: int = CHUNK_ROWS,
) -> np.ndarray:
    """Which points change prediction when mixed with some anchor: :func:`alfamix_reference`.

    How it is computed (same answer, linear cost): z̃ = z + α⊙(z* − z) = z + ε‖z* − z‖·ĝ⊙m
    with ĝ = g/‖g‖ and m = [z* ≠ z], so W z̃ + b = logits(z) + s·W(ĝ⊙m) with s = ε‖z* − z‖
    (this also avoids the cancellation of the formula's huge α where z* − z is tiny).
    When no coordinate of z equals the anchor's (m = 1 outside dimensions constant across
    all points and anchors), the direction W ĝ is the same for every anchor, the prediction
    leaves ŷ exactly when s exceeds a per-point step s*(z), and the test is
    ε·maxₐ‖z*ₐ − z‖ > s*(z): one (n, A) distance product and an (n, C) pass. Rows with an
    exact coordinate match (discrete features such as digits' pixels) are evaluated anchor
    by anchor with their own mask. A point with g = 0 (a saturated prediction) is never a
    candidate.

    Parameters
    ----------
    z : ndarray of shape (n, d)
        Probe embeddings of the unlabeled points.
    anchors : ndarray of shape (A, d)
    weight : Tensor of shape (C, d)
    bias : Tensor of shape (C,)
        The probe's linear layer on the embedding (BN-output) space.
    epsilon : float
    device : str or torch.device
    chunk : int
        Rows per chunk; memory is O(chunk·(d + C + A)) beyond z.

    Returns
    -------
    ndarray of shape (n,), bool
    """
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    f64 = torch.float64
    W = weight.detach().to(dev, f64)
    b = bias.detach().to(dev, f64)
    anc32 = as_tensor(anchors, dev)
    anc = anc32.to(f64)
    anc_sq = (anc * anc).sum(1)
    zt = as_tensor(z, dev)
    n = len(zt)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    # dimensions where every point and every anchor share one value: z* − z = 0 there always
    z_np = np.asarray(z, dtype=np.float32)
    # column extremes in numpy (torch's reductions along dim 0 are slow on CPU); exact either way
    col_min = torch.from_numpy(np.ascontiguousarray(z_np.min(0))).to(dev)
    col_max = torch.from_numpy(np.ascontiguousarray(z_np.max(0))).to(dev)
    const = (col_min == col_max) & (anc32 == col_min).all(0)
    keep = (~const).to(f64)
    finder = _CoordinateMatcher(anc32, const)
    # g = Wᵀ(p − e) is never formed: ‖g‖² = (p − e)ᵀ(W Wᵀ)(p − e) and the direction
    # W(ĝ ⊙ keep) = (W diag(keep) Wᵀ)(p − e)/‖g‖ only need two C × C matrices
    gram = W @ W.T
    gram_keep = (W * keep) @ W.T
    anc_sq32 = (anc32 * anc32).sum(1)
    anc_norm_max = float(anc_sq.max().sqrt()) if len(anc) else 0.0
    # bound on the float32 ‖z‖² − 2z·z* + ‖z*‖² error, relative to (‖z‖ + ‖z*‖)²: 16 × γ_(d+4)
    tol32 = 16.0 * (zt.shape[1] + 4) * 2.0**-24
    for s in range(0, n, chunk):
        zb32 = zt[s : s + chunk]
        zb = zb32.to(f64)
        rows = torch.arange(len(zb), device=dev)
        logits = torch.addmm(b, zb, W.T)
        y_hat = logits.argmax(1)
        p = torch.softmax(logits, 1)
        p[rows, y_hat] -= 1.0  # p − onehot(ŷ), (n_c, C)
        g_norm = ((p @ gram) * p).sum(1, keepdim=True).clamp_min_(0.0).sqrt_()  # ‖∂CE/∂z‖
        zero_g = g_norm[:, 0] == 0  # a saturated prediction: ĝ = 0
        inv_norm = torch.where(zero_g[:, None], 0.0, 1.0 / g_norm.clamp_min(1e-300))
        v = (p @ gram_keep).mul_(inv_norm)  # W ĝ, (n_c, C)
        # rows with some coordinate equal to some anchor's (outside the constant dimensions)
        exact, m_rows, m_dims = finder.rows_with_match(zb32)
        # ε·maxₐ‖z*ₐ − z‖ against the flip step: from float32 distances where their error bound
        # decides, from the float64 ones of _anchor_sq_dists for the rest
        s_star = _flip_step(logits, y_hat, v)
        m32 = _anchor_sq_dists(zb32, anc32, anc_sq32).max(1).values.to(f64)
        err = tol32 * (zb.norm(dim=1) + anc_norm_max) ** 2
        lo = (m32 - err).clamp_min_(0.0).sqrt_().mul_(epsilon)
        hi = (m32 + err).clamp_min_(0.0).sqrt_().mul_(epsilon)
        flagged = lo > s_star
        unsure = torch.nonzero(~flagged & (hi > s_star)).flatten()
        if len(unsure):
            reach = _anchor_sq_dists(zb[unsure], anc, anc_sq).max(1).values.sqrt_().mul_(epsilon)
            flagged[unsure] = reach > s_star[unsure]
        if bool(exact.any()):
            idx = torch.nonzero(exact).flatten()
            local = np.full(len(zb), -1, dtype=np.int64)
            local[idx.cpu().numpy()] = np.arange(len(idx))
            mr, md = torch.from_numpy(m_rows).to(dev), torch.from_numpy(m_dims).to(dev)
            pair_match = (anc32[:, md].T == zb32[mr, md][:, None]).cpu().numpy()  # (matches, A)
            pm = np.zeros((len(idx), len(anc)), dtype=np.int64)  # matching coordinates per pair
            np.add.at(pm, local[m_rows], pair_match)
            last = np.full((len(idx), len(anc)), -1, dtype=np.int64)  # one matching coordinate
            pr, pa = np.nonzero(pair_match)
            last[local[m_rows[pr]], pa] = m_dims[pr]
            g_hat = (p[idx] @ W).mul_(inv_norm[idx]).mul_(keep)  # ĝ ⊙ keep of these rows only
            flagged[idx] = _alfamix_exact_rows(
                zb32[idx],
                g_hat,
                logits[idx],
                y_hat[idx],
                v[idx],
                anc32,
                anc,
                W,
                const,
                epsilon,
                _anchor_sq_dists(zb[idx], anc, anc_sq),
                anc_sq,
                torch.from_numpy(pm).to(dev),
                torch.from_numpy(last).to(dev),
            )
        out[s : s + len(zb)] = flagged.cpu().numpy()
    return out


def _flip_step(logits: torch.Tensor, y_hat: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Smallest s ≥ 0 at which argmax(logits + s·v) leaves ŷ, shape (n,) (inf if never).

    Class c overtakes ŷ once s > (ℓ_ŷ − ℓ_c)/(v_c − v_ŷ), which needs v_c > v_ŷ.
    """
    rows = torch.arange(len(logits), device=logits.device)
    gap = logits[rows, y_hat, None] - logits  # ≥ 0
    rate = v - v[rows, y_hat, None]
    step = torch.where(rate > 0, gap / rate.clamp_min(1e-300), torch.full_like(gap, math.inf))
    return step.min(1).values


def _anchor_sq_dists(zb: torch.Tensor, anc: torch.Tensor, anc_sq: torch.Tensor) -> torch.Tensor:
    """‖z‖² − 2 z·z*ₐ + ‖z*ₐ‖², shape (m, A), in the inputs' dtype and in that order, clamped at 0."""
    return (
        torch.mm(zb, anc.T)
        .mul_(-2.0)
        .add_((zb * zb).sum(1, keepdim=True))
        .add_(anc_sq)
        .clamp_min_(0.0)
    )


class _CoordinateMatcher:
    """Which rows of z have a coordinate exactly equal to some anchor's in that dimension.

    A per-dimension table of the anchors' low :data:`LOW_BITS` mantissa bits rules out almost
    every (row, dimension) pair with one lookup, a second table on the next :data:`LOW_BITS`
    bits most of the rest; the few that pass are compared exactly (as
    ``==`` does: ``-0.0`` equals ``0.0``) by a binary search of their (dimension, bits) key
    among the anchors' keys. Dimensions in ``const`` never count.

    Parameters
    ----------
    anchors : Tensor of shape (A, d), float32
    const : Tensor of shape (d,), bool
    """

    LOW_BITS = 12

    def __init__(self, anchors: torch.Tensor, const: torch.Tensor):
        a, d = anchors.shape
        mask = (1 << self.LOW_BITS) - 1
        bits = (anchors.cpu() + 0.0).view(torch.int32).numpy()  # + 0.0 maps −0.0 to 0.0
        dims = np.arange(d, dtype=np.int64)
        self.offset = (dims << self.LOW_BITS).astype(np.int64)
        self.offset32 = self.offset.astype(np.int32)  # d · 2^LOW_BITS < 2³¹ for d < 2¹⁹
        table = np.zeros(d << self.LOW_BITS, dtype=bool)
        table[((bits & mask) + self.offset).ravel()] = True
        table.reshape(d, -1)[const.cpu().numpy()] = False
        self.table = table
        # a second table on the next LOW_BITS bits thins the first one's hits before the search
        table2 = np.zeros(d << self.LOW_BITS, dtype=bool)
        table2[(((bits >> self.LOW_BITS) & mask) + self.offset).ravel()] = True
        self.table2 = table2
        keys = (dims[None, :] << 32) | (bits.astype(np.int64) & 0xFFFFFFFF)
        keep = ~np.broadcast_to(const.cpu().numpy(), keys.shape)
        self.keys = np.unique(keys[keep])
        self.mask = mask

    def rows_with_match(self, z: torch.Tensor) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """Rows of ``z`` with some exact coordinate match.

        Returns
        -------
        exact : Tensor of shape (n,), bool, on ``z``'s device
        rows, dims : ndarray of shape (m,), int64
            The matching (row, dimension) pairs.
        """
        bits = (z.cpu() + 0.0).view(torch.int32).numpy()
        rs, cs = [], []
        for s in range(0, len(bits), 2048):  # cache-sized blocks, int32 table slots
            slot = np.bitwise_and(bits[s : s + 2048], self.mask)
            slot += self.offset32
            rb, cb = np.nonzero(self.table[slot])  # (rows, d) bool lookup
            rs.append(rb + s)
            cs.append(cb)
        r, c = (np.concatenate(rs), np.concatenate(cs)) if rs else (np.zeros(0, np.int64),) * 2
        if len(r):
            second = self.table2[((bits[r, c] >> self.LOW_BITS) & self.mask) + self.offset[c]]
            r, c = r[second], c[second]
        out = np.zeros(len(bits), dtype=bool)
        if len(r) and len(self.keys):
            keys = (c.astype(np.int64) << 32) | (bits[r, c].astype(np.int64) & 0xFFFFFFFF)
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[pos] == keys
            r, c = r[hit], c[hit]
            out[r] = True
        else:
            r = c = np.zeros(0, dtype=np.int64)
        return torch.from_numpy(out).to(z.device), r.astype(np.int64), c.astype(np.int64)


def _alfamix_exact_rows(
    ze: torch.Tensor,
    ge: torch.Tensor,
    le: torch.Tensor,
    ye: torch.Tensor,
    ve: torch.Tensor,
    anc32: torch.Tensor,
    anc: torch.Tensor,
    W: torch.Tensor,
    const: torch.Tensor,
    epsilon: float,
    d2e: torch.Tensor,
    anc_sq: torch.Tensor,
    n_match: torch.Tensor,
    match_dim: torch.Tensor,
) -> torch.Tensor:
    """ALFA-Mix's test for the rows with an exact coordinate match, anchor by anchor.

    For an anchor that matches no coordinate of a row, the row's mask is all ones, so its
    direction is the shared ``ve`` and the test is ε‖z* − z‖ > s*(z) with one s* per row,
    ‖z* − z‖ evaluated directly (``(z* − z).norm()``, as the per-anchor formula does). Most of
    those pairs are decided from the (row, anchor) distances already computed by the matrix
    product, ``d2e``: its error bound (a few (d + 4)·2⁻⁵³ relative to (‖z‖ + ‖z*‖)²) is far
    from the threshold for all but ties, and only the undecided pairs are evaluated directly.
    A (row, anchor) pair with exactly one equal coordinate k has the direction
    ``ve − ĝ_k·W[:, k]``: its masked product ``(ĝ⊙m) Wᵀ`` has a single non-zero term, which any
    summation order gives exactly, so those pairs are evaluated together too. Only anchors
    with a pair of several equal coordinates (discrete features) run the per-anchor formula
    with their own mask ``z* = z``, on all the rows, as before.

    Parameters
    ----------
    ze : Tensor of shape (m, d), float32
    ge : Tensor of shape (m, d), float64
        ĝ of the rows (constant dimensions zeroed).
    le : Tensor of shape (m, C), float64
    ye : Tensor of shape (m,), int64
    ve : Tensor of shape (m, C), float64
    anc32, anc : Tensor of shape (A, d), float32 and float64
    W : Tensor of shape (C, d), float64
    const : Tensor of shape (d,), bool
    epsilon : float
    d2e : Tensor of shape (m, A), float64
        ‖z‖² − 2z·z* + ‖z*‖² (clamped at 0) of the rows.
    anc_sq : Tensor of shape (A,), float64
    n_match : Tensor of shape (m, A), int64
        How many coordinates of row i equal anchor a's (outside ``const``).
    match_dim : Tensor of shape (m, A), int64
        The equal coordinate where ``n_match`` is 1.

    Returns
    -------
    Tensor of shape (m,), bool
    """
    m, d = ze.shape
    pair_match = n_match > 0
    ze64 = ze.to(torch.float64)
    s_star = _flip_step(le, ye, ve)[:, None]  # mask of ones: direction ve
    # bounds on the direct ‖z* − z‖ from the product's d², generous by a factor 16
    tol = 16.0 * (d + 4) * 2.0**-53
    scale = ((ze64 * ze64).sum(1, keepdim=True).sqrt() + anc_sq.sqrt()[None, :]) ** 2
    lo = (d2e - tol * scale).clamp_min(0.0).sqrt() * (1.0 - tol)
    hi = (d2e + tol * scale).sqrt() * (1.0 + tol)
    sure_hit = (epsilon * lo * (1.0 - tol) > s_star) & ~pair_match
    maybe = ~(epsilon * hi * (1.0 + tol) <= s_star) & ~pair_match & ~sure_hit
    hit = sure_hit.any(1)
    r, a_i = torch.nonzero(maybe & ~hit[:, None], as_tuple=True)
    if len(r):
        step = epsilon * (anc[a_i] - ze64[r]).norm(dim=1)
        hit[r[step > s_star[r, 0]]] = True
    # pairs with one equal coordinate k: direction ve − ĝ_k W[:, k]
    r1, a1 = torch.nonzero(n_match == 1, as_tuple=True)
    if len(r1):
        k1 = match_dim[r1, a1]
        v1 = ve[r1] - ge[r1, k1][:, None] * W[:, k1].T
        step = epsilon * (anc[a1] - ze64[r1]).norm(dim=1)
        hit[r1[step > _flip_step(le[r1], ye[r1], v1)]] = True
    for a_j in torch.nonzero((n_match > 1).any(0)).flatten().tolist():
        a32, a = anc32[a_j], anc[a_j]
        zero = (ze == a32) & ~const  # α = 0 where z* − z = 0
        v_a = ve - (ge * zero) @ W.T
        step = epsilon * (a - ze64).norm(dim=1)
        hit |= step > _flip_step(le, ye, v_a)
    return hit
