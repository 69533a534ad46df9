"""Initial (cold-start) pools: their registry, ``random``, ``centroids`` and ``text_prior``, and
every built-in pool registered in one place (TypiClust's, ProbCover's and MaxHerding's come from
their strategy modules).

An initial pool is ``fn(x, budget, rng, n_classes=None, cache=None, **params) -> Selection``
on the raw features ``x`` of shape (n, d); state the query strategy reuses
(TypiClust's clusters, ProbCover's graph) goes into ``cache``. A pool registered with
``uses_text=True`` (``text_prior``) also gets the class text embeddings as ``class_text``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ._kernels.norms import l2_normalize
from .cluster import kmeans_nearest
from .errors import InvalidInputError, UnknownNameError
from .pool import Selection
from .strategies.base import complete_initial
from .strategies.maxherding import maxherding_initial_pool
from .strategies.probcover import probcover_initial_pool
from .strategies.typiclust import typicality, typiclust_initial_pool
from .validation import (
    check_budget,
    check_choice,
    check_class_text,
    check_features,
    check_int,
    check_rng,
    check_settings,
    suggest,
)
from .zeroshot import zeroshot_logits, zeroshot_proba

__all__ = [
    "register",
    "get",
    "available",
    "select",
    "uses_text",
    "random",
    "centroids",
    "text_prior",
]

_REGISTRY: dict[str, Callable[..., Selection]] = {}
_USES_TEXT: set[str] = set()


def register(
    name: str, fn: Callable[..., Selection], overwrite: bool = False, uses_text: bool = False
) -> None:
    """Register an initial-pool method ``fn(x, budget, rng, n_classes=None, cache=None, **params)``.

    ``uses_text=True``: the method needs the class text embeddings, which an
    :class:`~alkit.ActiveLearner` passes as ``class_text=`` (and refuses to start without).
    """
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"An initial pool name must be a non-empty string; got {name!r}.")
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Initial pool {name!r} is already registered; pass overwrite=True."
        )
    _REGISTRY[name] = fn
    (_USES_TEXT.add if uses_text else _USES_TEXT.discard)(name)


def uses_text(name: str) -> bool:
    """Whether initial pool ``name`` needs the class text embeddings (``class_text=``)."""
    return name in _USES_TEXT


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


TEXT_PRIOR_RULES = ("typical", "class_guided")
TEXT_PRIOR_PAPERS = (
    "H. Kim, S. Jin, C. Sung, J. Kim, J. Ok. Active Prompt Learning with Vision-Language Model "
    "Priors. arXiv:2411.16722 (TMLR; class-guided clustering)",
    "J. Bang, S. Ahn, J.-G. Lee. Active Prompt Learning in Vision Language Models. CVPR 2024, "
    "arXiv:2311.11178 (pseudo-class balance from the zero-shot classifier)",
    "B. Safaei, V. M. Patel. Active Learning for Vision-Language Models. "
    "arXiv:2410.22187 (zero-shot predictions to select the first labels)",
    "G. Hacohen, A. Dekel, D. Weinshall. Active Learning on a Budget: Opposite Strategies Suit "
    "High and Low Budgets. ICML 2022 (typicality)",
)


def text_prior(
    x: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    n_classes: int | None = None,
    cache: dict | None = None,
    device: str = "auto",
    class_text: np.ndarray | None = None,
    rule: str = "typical",
    knn: int = 20,
    **params,
) -> Selection:
    """The first labels chosen with the class names' text embeddings, before any label.

    ``rule="typical"`` (default), *zero-shot class-balanced typicality*: the zero-shot
    classifier (highest cosine similarity to a class text) splits the pool into pseudo-classes;
    the ``budget`` slots are dealt round-robin over the classes, largest pseudo-class first;
    a class with one slot gives its most typical member (TypiClust's typicality: smallest mean
    squared distance to its min(``knn``, m // 2) nearest members, on L2-normalised features),
    a class with q > 1 slots its q k-means sub-clusters' most typical members. Slots of classes
    the zero-shot classifier gives no (or too few) images are filled by the member nearest each
    centroid of a k-means of the points not yet picked (the ``centroids`` rule), then at random.
    It balances the first labels over the classes as the zero-shot classifier sees them
    (Bang et al. 2024), and takes typical images as TypiClust's low-budget rule (Hacohen et al.).

    ``rule="class_guided"`` (registered as the pool ``class_guided``): Kim et al. (2024)'s
    class-guided clustering for the first round:
    k-means (k = budget) on the class-guided features ``(x̂ + Σ_c p(c | x) t_c) / 2``
    (x̂ the L2-normalised image feature, t_c the unit class texts, p the zero-shot softmax with
    CLIP's logit scale), the member nearest each centroid. Their selective querying and
    later-round acquisition are not part of this pool.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Raw image features.
    budget : int
    rng : numpy Generator
    class_text : ndarray of shape (C, d)
        Class text embeddings (an :class:`~alkit.ActiveLearner` passes its own).
    rule : {"typical", "class_guided"}
    knn : int
        Typicality neighbours (TypiClust's 20).

    Returns
    -------
    Selection
        ``info``: ``rule``, ``n_pseudo_classes`` (classes the zero-shot classifier gives at least
        one image), ``n_fallback`` (slots filled by the k-means fallback), ``n_topped_up``.

    References
    ----------
    See :data:`TEXT_PRIOR_PAPERS`; ``docs/text_prior.md``.
    """
    check_settings(params, "initial pool 'text_prior'", {}, what="parameter")
    if class_text is None:
        raise InvalidInputError(
            "initial pool 'text_prior' needs class_text, the class names' text embeddings "
            "(EmbeddingSet.class_text: alkit embed with an openclip: backbone, or --add-text)."
        )
    text = check_class_text(class_text, n_classes, x.shape[1])
    rule = check_choice(rule, "text_prior rule", TEXT_PRIOR_RULES)
    knn = check_int(knn, "text_prior knn", min=1)
    x_l2 = l2_normalize(x)
    pseudo = zeroshot_logits(x, text).argmax(axis=1)
    sizes = np.bincount(pseudo, minlength=len(text))
    info = {"rule": rule, "n_pseudo_classes": int((sizes > 0).sum())}
    if rule == "class_guided":
        guided = 0.5 * (x_l2 + zeroshot_proba(x, text) @ l2_normalize(text))
        picks, _ = kmeans_nearest(guided, budget, rng, device=device, normalize=False)
        return complete_initial(picks, len(x), budget, rng, info)
    order = np.lexsort((np.arange(len(text)), -sizes))  # largest pseudo-class first
    slots = np.bincount(order[np.arange(budget) % len(text)], minlength=len(text))
    picks: list[int] = []
    for c in order:
        members = np.flatnonzero(pseudo == c)
        q = int(min(slots[c], len(members)))
        if q == 0:
            continue
        groups = [members]
        if q > 1:
            _, sub = kmeans_nearest(x_l2[members], q, rng, device=device, normalize=False)
            groups = [g for g in (members[sub == k] for k in range(q)) if len(g)]
        for g in groups:
            scores = typicality(x_l2[g], min(knn, len(g) // 2), device)
            picks.append(int(g[int(np.argmin(scores))]))  # ties: lowest index
    n_fallback = budget - len(picks)
    if n_fallback > 0:
        rest = np.setdiff1d(np.arange(len(x)), picks)
        more, _ = kmeans_nearest(x_l2[rest], min(n_fallback, len(rest)), rng, device=device)
        picks += rest[more].tolist()
    info["n_fallback"] = int(n_fallback)
    return complete_initial(np.asarray(picks, dtype=np.int64), len(x), budget, rng, info)


# ---------------------------------------------------------------- the built-ins, in one place
register("random", random)
register("centroids", centroids)
register("typiclust", typiclust_initial_pool)
register("probcover", probcover_initial_pool)
register("maxherding", maxherding_initial_pool)
register("text_prior", text_prior, uses_text=True)
register("class_guided", partial(text_prior, rule="class_guided"), uses_text=True)
