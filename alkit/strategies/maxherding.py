"""MaxHerding: greedy maximisation of kernel ("generalised") coverage.

Bae, Noh & Sutherland (ECCV 2024) replace ProbCover's δ-balls by a kernel k. The coverage of a
labeled set L over the pool X of N points is

    C_k(L) = (1/N) Σ_j c_j,        c_j = max_{l ∈ L} k(x_j, x_l),

which is ProbCover's objective for the top-hat kernel k = 1[‖x − x'‖ < δ]. MaxHerding adds, B
times, the unlabeled point whose addition raises the coverage most:

    gain(i) = (1/N) Σ_j max(0, k(x_i, x_j) − c_j),    then c_j ← max(c_j, k(x_i, x_j)).

Kernel and bandwidth are those of the authors' code (``wkgong/uncertainty_herding``,
``deep-al/pycls/al/herding.py``: ``RBFKernel``, features L2-normalised; the bandwidth is the
``--delta 1.0`` of ``deep-al/tools/scripts/run_budget.sh``): the Gaussian kernel

    k(x, x') = exp(−‖x − x'‖² / σ²),   σ = 1,   on L2-normalised features,

so that on the unit sphere k = exp(−(2 − 2 cos θ) / σ²) ∈ [e^{−4/σ²}, 1].

The module opens with :func:`maxherding_reference`, the algorithm as written (a dense N × N
kernel, O(N²) memory), and :func:`coverage_reference`. The strategy runs the fast version:

* each point keeps the kernel values of its ``k`` nearest points by cosine similarity, itself
  first (:func:`neighbour_rows`: exact search with :func:`alkit.cluster.knn`, or an HNSW / IVF
  index from :mod:`alkit.strategies.probcover.knn`), O(N·k) memory, cached in ``pool.cache`` across iterations;
* the coverage vector c is kept **exactly** (after each pick one matrix-vector product of the
  pool with the pick), so only the gains are truncated: gain(i) sums over i's list only;
* the gains can only fall as c grows, so the greedy is *lazy* (Minoux): stale gains are upper
  bounds, and only the candidates whose bound could still win are re-evaluated, in vectorised
  batches (:func:`herding_greedy`).

With k = N − 1 the lists hold every point and the fast version equals the reference
(``tests/strategies/test_maxherding.py``); the agreement at the default k is measured in
``benchmarks/herding_agreement.py`` and reported in ``docs/strategies_herding.md``.

Registered at import: strategy ``maxherding`` (family ``representative``) and initial pool
``maxherding`` (the strategy with nothing labeled).

References
----------
W. Bae, J. Noh, D. J. Sutherland. Generalized Coverage for More Robust Low-Budget Active
Learning. ECCV 2024. arXiv:2407.12212.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..pool import Pool, Selection
from ._herding import (
    _herding_info,
    _unit_rows,
    cached_rows,
    check_herding_params,
    herding_greedy,
    labeled_coverage,
)

__all__ = [
    "MAXHERDING_PARAMS",
    "gaussian_kernel",
    "maxherding_reference",
    "coverage_reference",
    "check_maxherding",
    "maxherding",
    "maxherding_initial_pool",
]

PAPER = (
    "W. Bae, J. Noh, D. J. Sutherland. Generalized Coverage for More Robust Low-Budget Active "
    "Learning. ECCV 2024"
)
#: Defaults: σ of the authors' scripts, 100 neighbours per point, exact neighbour search.
MAXHERDING_PARAMS: dict[str, Any] = {"sigma": 1.0, "k": 100, "index": "exact"}


# --------------------------------------------------------------------------- reference
def gaussian_kernel(sq_dist: np.ndarray, sigma: float) -> np.ndarray:
    """exp(−d² / σ²), the authors' ``RBFKernel`` (note: σ², not 2σ²).

    Parameters
    ----------
    sq_dist : ndarray
        Squared Euclidean distances.
    sigma : float
        Bandwidth σ > 0.
    """
    return np.exp(-np.maximum(sq_dist, 0.0) / (float(sigma) ** 2))


def maxherding_reference(
    x: np.ndarray,
    labeled: np.ndarray,
    budget: int,
    *,
    sigma: float = 1.0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """MaxHerding as written: a dense N × N kernel and B greedy steps (O(N²) memory).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Features (L2-normalised here).
    labeled : ndarray of shape (n,), bool
        The labeled set L.
    budget : int
        B, the number of points to pick.
    sigma : float
        Gaussian bandwidth σ.
    weights : ndarray of shape (n,), optional
        Weight of each target point in the coverage (all 1 for MaxHerding; Uncertainty
        Herding passes its uncertainties, see :func:`alkit.strategies.uherding.uherding_reference`).

    Returns
    -------
    ndarray of shape (budget,), int64
        The picks in order (ties: lowest index).
    """
    x = np.asarray(x, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    sq = 2.0 - 2.0 * (x @ x.T)  # ‖a − b‖² on the unit sphere
    np.fill_diagonal(sq, 0.0)
    kernel = gaussian_kernel(sq, sigma)  # (n, n)
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    taken = np.asarray(labeled, dtype=bool).copy()
    # coverage of every point by the labeled set (0 when nothing is labeled)
    coverage = kernel[taken].max(axis=0) if taken.any() else np.zeros(n)
    picks = []
    for _ in range(budget):
        gains = (w * np.maximum(kernel - coverage, 0.0)).sum(axis=1) / n
        gains[taken] = -np.inf
        i = int(np.argmax(gains))
        picks.append(i)
        taken[i] = True
        coverage = np.maximum(coverage, kernel[i])
    return np.asarray(picks, dtype=np.int64)


def coverage_reference(
    x: np.ndarray, selected: np.ndarray, *, sigma: float = 1.0, weights: np.ndarray | None = None
) -> float:
    """The (weighted) generalised coverage (1/N) Σ_j w_j max_{s ∈ S} k(x_j, x_s), computed densely
    in row blocks (O(N·|S|) memory): the objective both versions maximise.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    selected : ndarray of shape (m,), int
    sigma : float
    weights : ndarray of shape (n,), optional
    """
    x = np.asarray(x, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = x[np.asarray(selected, dtype=np.int64)]
    best = (x @ s.T).max(axis=1) if len(s) else np.full(len(x), -np.inf)
    c = gaussian_kernel(2.0 - 2.0 * np.minimum(best, 1.0), sigma) if len(s) else np.zeros(len(x))
    c[np.asarray(selected, dtype=np.int64)] = 1.0
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float((w * c).mean())


def maxherding(
    pool: Pool,
    probe: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    sigma: float = 1.0,
    k: int = 100,
    index: str = "exact",
    device: str = "auto",
) -> Selection:
    """MaxHerding: B greedy picks that most raise the Gaussian-kernel coverage of the pool.

    The coverage of every point by the labeled set is computed exactly; each unlabeled point's
    gain is summed over its ``k`` nearest points (its list, itself included), and after each
    pick the coverage of all points is updated exactly (see the module docstring).

    Parameters
    ----------
    pool : Pool
        Features of shape (n, d) (used L2-normalised, ``pool.x_l2``) and the labeled mask.
    probe : ignored
    budget : int
        B.
    rng : numpy Generator
        Only seeds an ``"ivf"`` index (the greedy is deterministic).
    sigma : float, default 1.0
        Gaussian bandwidth σ in k = exp(−‖x − x'‖² / σ²) (the authors' scripts: 1.0).
    k : int, default 100
        Neighbours kept per point (k ≥ N − 1: the exact dense algorithm).
    index : {"exact", "hnsw", "ivf"}, default "exact"
        Neighbour search (see :func:`neighbour_rows`).
    device : str
        Device of the neighbour search and the coverage updates.

    Returns
    -------
    Selection
        ``indices`` of shape (budget,) in pick order; ``info``: ``sigma``, ``k``, ``index``,
        ``knn_reused``, ``knn_bytes`` (memory of the lists), ``coverage_before`` /
        ``coverage`` (C_k of L and of L ∪ picks, exact), ``n_gain_evaluations``,
        ``n_topped_up`` (always 0).

    Notes
    -----
    Memory: the lists, N·(k + 1)·8 bytes, and O(N) vectors; time: one neighbour search (O(N² d)
    exact, once per run: cached in ``pool.cache``), then per pick one O(N d) product and the
    re-evaluated gains, O(k) each.

    References
    ----------
    .. [1] W. Bae, J. Noh, D. J. Sutherland. Generalized Coverage for More Robust Low-Budget
       Active Learning. ECCV 2024.
    """
    sigma, k, index = check_herding_params(sigma, k, index, "maxherding")
    x_l2 = pool.x_l2
    rows, reused = cached_rows(pool.cache, x_l2, k, index, rng, device)
    c0 = labeled_coverage(x_l2, pool.labeled_idx, sigma, device)
    picks, stats = herding_greedy(
        x_l2, rows, budget, sigma=sigma, coverage=c0, candidates=~pool.labeled, device=device
    )
    return Selection(picks, _herding_info(rows, reused, sigma, c0, stats))


def maxherding_initial_pool(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    **params: Any,
) -> Selection:
    """MaxHerding's initial pool: the strategy with nothing labeled (c = 0).

    The first pick is the point of largest kernel density within its list, then each pick
    covers what the previous ones left. The neighbour lists go into ``cache`` for the strategy.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Raw features (L2-normalised here).
    budget : int
    rng : numpy Generator
    n_classes : ignored
    cache : dict, optional
    **params
        ``sigma``, ``k``, ``index`` (see :func:`maxherding`).

    References
    ----------
    .. [1] W. Bae, J. Noh, D. J. Sutherland. Generalized Coverage for More Robust Low-Budget
       Active Learning. ECCV 2024.
    """
    unknown = set(params) - set(MAXHERDING_PARAMS)
    if unknown:
        raise InvalidInputError(
            f"maxherding initial pool got unknown parameter(s) {sorted(unknown)}; "
            f"valid: {sorted(MAXHERDING_PARAMS)}."
        )
    p = {**MAXHERDING_PARAMS, **params}
    sigma, k, index = check_herding_params(p["sigma"], p["k"], p["index"], "maxherding")
    x_l2 = _unit_rows(x)
    rows, reused = cached_rows(cache, x_l2, k, index, rng, device)
    c0 = np.zeros(len(x_l2))
    picks, stats = herding_greedy(
        x_l2,
        rows,
        budget,
        sigma=sigma,
        coverage=c0,
        candidates=np.ones(len(x_l2), dtype=bool),
        device=device,
    )
    return Selection(picks, _herding_info(rows, reused, sigma, c0, stats))


def check_maxherding(params: dict) -> None:
    """The registry's parameter check of MaxHerding."""
    check_herding_params(params["sigma"], params["k"], params["index"], "maxherding")
