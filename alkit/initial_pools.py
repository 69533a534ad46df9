"""Initial (cold-start) pools: their registry, ``random`` and ``centroids``, and every built-in pool
registered in one place (TypiClust's, ProbCover's and MaxHerding's come from their strategy modules).

An initial pool is ``fn(x, budget, rng, n_classes=None, cache=None, **params) -> Selection``
on the raw features ``x`` of shape (n, d); state the query strategy reuses
(TypiClust's clusters, ProbCover's graph) goes into ``cache``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cluster import kmeans_nearest
from .errors import InvalidInputError, UnknownNameError
from .pool import Selection
from .strategies.maxherding import maxherding_initial_pool
from .strategies.probcover import probcover_initial_pool
from .strategies.typiclust import typiclust_initial_pool
from .validation import check_budget, check_features, check_rng, check_settings, suggest

__all__ = ["register", "get", "available", "select", "random", "centroids"]

_REGISTRY: dict[str, Callable[..., Selection]] = {}


def register(name: str, fn: Callable[..., Selection], overwrite: bool = False) -> None:
    """Register an initial-pool method ``fn(x, budget, rng, n_classes=None, cache=None, **params)``."""
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"An initial pool name must be a non-empty string; got {name!r}.")
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Initial pool {name!r} is already registered; pass overwrite=True."
        )
    _REGISTRY[name] = fn


def available() -> list[str]:
    """Names of the registered initial-pool methods."""
    return sorted(_REGISTRY)


def get(name: str) -> Callable[..., Selection]:
    """The initial-pool function registered as ``name``."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"Unknown initial pool {name!r}; available: {', '.join(available())}."
            + (suggest(name, available()) if isinstance(name, str) else "")
        ) from None


def select(
    name: str,
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    **params,
) -> Selection:
    """Validate and run initial pool ``name``; the result has exactly ``budget`` unique indices."""
    fn = get(name)
    x = check_features(x, "x")
    budget = check_budget(budget, len(x), "initial_budget")
    rng = check_rng(rng)
    sel = fn(
        x, budget, rng, n_classes=n_classes, cache=cache if cache is not None else {}, **params
    )
    if len(sel.indices) != budget or len(np.unique(sel.indices)) != budget:
        raise AssertionError(
            f"initial pool {name!r} returned {len(sel.indices)} indices for budget {budget}"
        )
    return sel


def random(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    **params,
) -> Selection:
    """``budget`` points uniformly at random."""
    check_settings(params, "initial pool 'random'", {"device": "auto"}, what="parameter")
    return Selection(rng.choice(len(x), size=budget, replace=False))


def centroids(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    **params,
) -> Selection:
    """One point per k-means cluster (k = budget) of the L2-normalised features: the member
    nearest each centroid (DropQuery's initial pool; Gupte et al. 2024, §4.1)."""
    check_settings(params, "initial pool 'centroids'", {"device": "auto"}, what="parameter")
    picks, _ = kmeans_nearest(x, budget, rng, device=device)
    n_missing = budget - len(picks)
    if n_missing > 0:  # empty clusters or fewer distinct points than budget
        rest = np.setdiff1d(np.arange(len(x)), picks)
        picks = np.concatenate([picks, rng.choice(rest, n_missing, replace=False)])
    return Selection(picks, {"n_topped_up": int(max(n_missing, 0))})


# ---------------------------------------------------------------- the built-ins, in one place
register("random", random)
register("centroids", centroids)
register("typiclust", typiclust_initial_pool)
register("probcover", probcover_initial_pool)
register("maxherding", maxherding_initial_pool)
