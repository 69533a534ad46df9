"""Uncertainty Herding (UHerding): herding of the uncertainty-weighted kernel coverage.

Bae, Sutherland & Oliveira (ICLR 2025) weight MaxHerding's coverage by the model's uncertainty
u(x): the *uncertainty coverage* of a labeled set L is

    UC(L) = (1/N) Σ_j u_j c_j,        c_j = max_{l ∈ L} k(x_j, x_l),

and UHerding adds, B times, the unlabeled point with the largest gain

    gain(i) = (1/N) Σ_j u_j max(0, k(x_i, x_j) − c_j),    then c_j ← max(c_j, k(x_i, x_j)).

With u ≡ 1 this is MaxHerding (:mod:`alkit.strategies.maxherding`); with a kernel so narrow that
k(x_i, x_j) ≈ 1[i = j] it ranks points by u_i (1 − c_i), i.e. uncertainty sampling. Following the
authors' code (``wkgong/uncertainty_herding``, ``deep-al/pycls/al/uherding.py`` and
``deep-al/tools/train_al.py``, run as the README's ``run_budget.sh -a uherding_margin -s true -p
true``), the defaults are:

* **uncertainty**: margin, u = 1 − (p₁ − p₂) of the probe's softmax (``"entropy"`` and
  ``"least_confidence"`` = 1 − p₁ are the code's other options); u = 0 on labeled points;
* **temperature scaling** (``-s true``): a second probe is trained on 70 % of the labeled set and
  the temperature T ∈ {1.0, 1.1, …, 19.9} with the smallest expected calibration error (C
  equal-width confidence bins) on the other 30 % is kept
  (``deep-al/pycls/calibration/temperature_scaling.py``); u is computed from softmax(z / T) of
  the probe trained on all labels;
* **adaptive radius** (``-p true``): σ = the smallest distance between two labeled points
  (``ADAPTIVE_DELTA``), so the kernel narrows as labels accumulate and UHerding moves from
  coverage (low budgets) towards uncertainty (high budgets); σ = 1 otherwise;
* the Gaussian kernel exp(−‖x − x'‖² / σ²) on L2-normalised features, as MaxHerding.

With nothing labeled the authors' UHerding sets u ≡ 1 and σ = 1, i.e. MaxHerding: UHerding's
initial pool is ``maxherding``.

The module opens with :func:`uherding_reference` (dense, O(N²)); the strategy runs the shared
fast greedy of :func:`alkit.strategies.maxherding.herding_greedy` with the weights u.

References
----------
W. Bae, D. J. Sutherland, G. L. Oliveira. Uncertainty Herding: One Active Learning Method for
All Label Budgets. ICLR 2025. arXiv:2412.20644.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..cluster import knn
from ..errors import InvalidInputError
from ..pool import Pool, Selection
from ..probe import LinearProbe
from ..validation import check_bool, check_choice
from . import scores
from ._herding import (
    _herding_info,
    cached_rows,
    check_herding_params,
    herding_greedy,
    labeled_coverage,
)
from .base import rows_blockwise
from .maxherding import maxherding_reference

__all__ = [
    "UHERDING_PARAMS",
    "UNCERTAINTIES",
    "TEMPERATURES",
    "uherding_reference",
    "uncertainty_weights",
    "expected_calibration_error",
    "temperature_by_ece",
    "fit_temperature",
    "min_labeled_distance",
    "uherding",
    "check_uherding",
]

PAPER = (
    "W. Bae, D. J. Sutherland, G. L. Oliveira. Uncertainty Herding: One Active Learning Method "
    "for All Label Budgets. ICLR 2025"
)
UHERDING_PARAMS: dict[str, Any] = {
    "uncertainty": "margin",
    "temperature_scaling": True,
    "adaptive_sigma": True,
    "sigma": 1.0,
    "k": 100,
    "index": "exact",
}
UNCERTAINTIES = ("margin", "entropy", "least_confidence")
#: The authors' temperature grid, ``np.arange(1.0, 20, 0.1)``.
TEMPERATURES = np.round(np.arange(1.0, 20.0, 0.1), 1)
#: Share of the labeled set held out to choose the temperature (the authors' ``0.3``).
VAL_FRACTION = 0.3


# --------------------------------------------------------------------------- reference
def uherding_reference(
    x: np.ndarray,
    labeled: np.ndarray,
    budget: int,
    uncertainty: np.ndarray,
    *,
    sigma: float = 1.0,
) -> np.ndarray:
    """Uncertainty Herding as written: a dense N × N kernel, B greedy steps (O(N²) memory).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Features (L2-normalised here).
    labeled : ndarray of shape (n,), bool
    budget : int
    uncertainty : ndarray of shape (n,)
        u of every point (set to 0 on the labeled ones here, as the authors do).
    sigma : float
        Gaussian bandwidth.

    Returns
    -------
    ndarray of shape (budget,), int64
        The picks in order (ties: lowest index).
    """
    # MaxHerding's greedy with each target point weighted by its uncertainty (labeled: 0)
    taken = np.asarray(labeled, dtype=bool)
    u = np.where(taken, 0.0, np.asarray(uncertainty, dtype=np.float64))
    return maxherding_reference(x, taken, budget, sigma=sigma, weights=u)


# --------------------------------------------------------------------------- the weights
def uncertainty_weights(p: np.ndarray, kind: str = "margin") -> np.ndarray:
    """Non-negative uncertainty of shape (n,) from probabilities of shape (n, C).

    ``"margin"``: 1 − (p₁ − p₂); ``"entropy"``: −Σ p log p; ``"least_confidence"``: 1 − p₁
    (the authors' ``margin``, ``entropy`` and ``conf``).
    """
    if kind == "margin":
        return 1.0 + scores.margin(p)
    if kind == "entropy":
        return scores.entropy(p)
    if kind == "least_confidence":
        return np.asarray(scores.least_confidence(p), dtype=np.float64)
    raise InvalidInputError(f"uncertainty must be one of {UNCERTAINTIES}, got {kind!r}.")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(probe: Any, x: np.ndarray) -> np.ndarray:
    """The probe's logits, or log-probabilities for a probe without ``logits`` (the same
    softmax at every temperature: softmax(log p / T) ∝ p^{1/T})."""
    if callable(getattr(probe, "logits", None)):
        return np.asarray(probe.logits(x), dtype=np.float64)
    p = np.asarray(probe.predict_proba(x), dtype=np.float64)
    return np.log(np.maximum(p, np.finfo(np.float64).tiny))


def expected_calibration_error(logits: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """ECE of softmax(logits): Σ_b (|B_b| / n) · |mean confidence − accuracy| over ``n_bins``
    equal-width confidence bins (lower, upper], as the authors' ``ECELoss``.

    Parameters
    ----------
    logits : ndarray of shape (n, C)
    labels : ndarray of shape (n,)
    n_bins : int
    """
    p = _softmax(logits)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    b = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    gap = np.bincount(b, weights=conf, minlength=n_bins) - np.bincount(
        b, weights=correct, minlength=n_bins
    )
    return float(np.abs(gap).sum() / max(len(conf), 1))  # Σ_b |Σ conf − Σ acc| / n


def temperature_by_ece(
    logits: np.ndarray, labels: np.ndarray, n_bins: int, temperatures: np.ndarray = TEMPERATURES
) -> tuple[float, np.ndarray]:
    """The temperature of ``temperatures`` with the smallest ECE of softmax(logits / T) (the first
    on ties) and the ECE of every temperature, shape (len(temperatures),)."""
    eces = np.array([expected_calibration_error(logits / t, labels, n_bins) for t in temperatures])
    return float(temperatures[int(np.argmin(eces))]), eces


def _fresh_probe(probe: Any, rng: np.random.Generator) -> Any:
    if isinstance(probe, LinearProbe):
        return LinearProbe(
            probe.n_classes,
            **probe.config.to_dict(),
            device=str(probe.device),
            seed=int(rng.integers(2**63 - 1)),
            chunk_size=probe.chunk_size,
            class_text=probe.class_text,  # a warm-started probe's twin starts from the texts too
        )
    if callable(getattr(probe, "fit", None)):
        return copy.deepcopy(probe)
    raise InvalidInputError(
        "uherding: temperature_scaling=True trains a second probe, but this probe has no fit(); "
        "pass temperature_scaling=False."
    )


def fit_temperature(probe: Any, pool: Pool, rng: np.random.Generator) -> tuple[float, dict]:
    """The authors' temperature: a probe like ``probe`` trained on a random 70 % of the labeled
    set, the temperature of :data:`TEMPERATURES` with the smallest ECE (C bins) on the rest.

    Returns ``(T, info)``; T = 1 when fewer than 4 points are labeled (no held-out point).
    """
    lab = pool.labeled_idx
    n_val = int(len(lab) * VAL_FRACTION)
    if n_val < 1:
        return 1.0, {"temperature_rule": "too few labels (T = 1)"}
    perm = rng.permutation(lab)
    val, train = perm[:n_val], perm[n_val:]
    clone = _fresh_probe(probe, rng)
    clone.fit(pool.x[train], pool.labels[train])
    z = _logits(clone, pool.x[val])
    t, eces = temperature_by_ece(z, pool.labels[val], pool.n_classes)
    return t, {
        "temperature_rule": "ece",
        "n_temperature_val": int(n_val),
        "ece_at_1": float(eces[0]),
        "ece": float(eces.min()),
    }


def min_labeled_distance(x_l2: np.ndarray, labeled_idx: np.ndarray, device: str = "auto"):
    """The smallest positive distance between two labeled points (the adaptive σ), or ``None``.

    Each labeled point's nearest labeled points (up to 16) are found by inner product, then
    their distances recomputed exactly in float64; exact duplicates (distance 0) are skipped,
    as the authors' ``dist[dist > 0].min()``.
    """
    lab = np.asarray(labeled_idx, dtype=np.int64)
    if len(lab) < 2:
        return None
    xl = np.ascontiguousarray(x_l2[lab], dtype=np.float32)
    _, nb = knn(xl, int(min(16, len(lab) - 1)), exclude_self=True, device=device)
    best = np.inf
    step = max(1, (1 << 22) // (nb.shape[1] * xl.shape[1]))  # ≤ 4M float64 differences a block
    for s in range(0, len(lab), step):
        a = xl[s : s + step].astype(np.float64)
        d = np.linalg.norm(a[:, None, :] - xl[nb[s : s + step]].astype(np.float64), axis=2)
        d = d[d > 0]
        if len(d):
            best = min(best, float(d.min()))
    return best if np.isfinite(best) else None


# --------------------------------------------------------------------------- the strategy
def uherding(
    pool: Pool,
    probe: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    uncertainty: str = "margin",
    temperature_scaling: bool = True,
    adaptive_sigma: bool = True,
    sigma: float = 1.0,
    k: int = 100,
    index: str = "exact",
    device: str = "auto",
) -> Selection:
    """Uncertainty Herding: B greedy picks that most raise the uncertainty-weighted coverage.

    1. u = ``uncertainty`` of the probe's softmax(z / T) on every unlabeled point (u = 0 on the
       labeled ones); T chosen by ECE on held-out labels (:func:`fit_temperature`) when
       ``temperature_scaling``, else 1.
    2. σ = the smallest distance between two labeled points when ``adaptive_sigma`` (and at
       least two distinct points are labeled), else ``sigma``.
    3. The herding greedy of MaxHerding with target weights u
       (:func:`alkit.strategies.maxherding.herding_greedy`: the coverage exact, each gain
       summed over the candidate's ``k`` nearest points, lazily re-evaluated).

    Parameters
    ----------
    pool : Pool
        Features of shape (n, d) (``pool.x_l2`` for the kernel, ``pool.x`` for the probe).
    probe : LinearProbe or any object with ``predict_proba(x)`` (and ``fit`` for the
        temperature; ``logits(x)`` is used when present)
    budget : int
    rng : numpy Generator
        Draws the temperature's 70/30 split and the second probe's seed.
    uncertainty : {"margin", "entropy", "least_confidence"}, default "margin"
    temperature_scaling : bool, default True
    adaptive_sigma : bool, default True
    sigma : float, default 1.0
        σ when not adaptive (and with fewer than two distinct labeled points).
    k : int, default 100
        Neighbours kept per point (k ≥ N − 1: the exact dense algorithm).
    index : {"exact", "hnsw", "ivf"}, default "exact"
    device : str

    Returns
    -------
    Selection
        ``info``: ``temperature`` (and ``temperature_rule``, ``ece_at_1``, ``ece``),
        ``sigma`` and ``sigma_rule`` (``"adaptive"`` / ``"fixed"``), ``mean_uncertainty``,
        ``coverage`` / ``weighted_coverage`` (before and after), ``k``, ``index``,
        ``knn_reused``, ``knn_bytes``, ``n_gain_evaluations``, ``n_topped_up`` (always 0).

    References
    ----------
    .. [1] W. Bae, D. J. Sutherland, G. L. Oliveira. Uncertainty Herding: One Active Learning
       Method for All Label Budgets. ICLR 2025.
    """
    uncertainty = check_choice(uncertainty, "uherding: uncertainty", UNCERTAINTIES)
    temperature_scaling = check_bool(temperature_scaling, "uherding: temperature_scaling")
    adaptive_sigma = check_bool(adaptive_sigma, "uherding: adaptive_sigma")
    sigma, k, index = check_herding_params(sigma, k, index, "uherding")
    info: dict[str, Any] = {}
    temperature = 1.0
    if temperature_scaling:
        temperature, t_info = fit_temperature(probe, pool, rng)
        info.update(t_info)
    unl = pool.unlabeled_idx
    u_unl = rows_blockwise(
        lambda xb: uncertainty_weights(_softmax(_logits(probe, xb) / temperature), uncertainty),
        pool.x,
        unl,
        probe,
    )
    weights = np.zeros(pool.n)
    weights[unl] = u_unl
    x_l2 = pool.x_l2
    info["sigma_rule"] = "fixed"
    if adaptive_sigma:
        dmin = min_labeled_distance(x_l2, pool.labeled_idx, device)
        if dmin is not None:
            sigma, info["sigma_rule"] = dmin, "adaptive"
    rows, reused = cached_rows(pool.cache, x_l2, k, index, rng, device)
    c0 = labeled_coverage(x_l2, pool.labeled_idx, sigma, device)
    picks, stats = herding_greedy(
        x_l2,
        rows,
        budget,
        sigma=sigma,
        coverage=c0,
        candidates=~pool.labeled,
        weights=weights,
        device=device,
    )
    info.update(_herding_info(rows, reused, sigma, c0, stats, weights))
    info["temperature"] = float(temperature)
    info["mean_uncertainty"] = float(u_unl.mean()) if len(u_unl) else 0.0
    return Selection(picks, info)


def check_uherding(params: dict) -> None:
    """The registry's parameter check of Uncertainty Herding."""
    check_herding_params(params["sigma"], params["k"], params["index"], "uherding")
    check_choice(params["uncertainty"], "uherding: uncertainty", UNCERTAINTIES)
