"""Query strategies: the registry, and every built-in strategy registered in this one place.

A strategy is a function ``fn(pool, probe, budget, rng, **params) -> Selection`` returning
exactly ``budget`` unique unlabeled indices (see :mod:`alkit.strategies._registry`). Each
built-in lives in a module named after it and opens with a plain, readable version of its
algorithm; its registration below says what the README's strategy table shows: family,
parameters with their defaults, the paper's initial pool and the reference.

Register your own with :func:`register`; :func:`select` validates the call and the result.
"""

from __future__ import annotations

from . import (
    alfamix,
    badge,
    bald,
    coreset,
    dropquery,
    maxherding,
    power_bald,
    probcover,
    typiclust,
    uherding,
    uncertainty,
)
from . import random as random_
from ._registry import (
    StrategyInfo,
    available,
    check_params,
    default_initial_pool,
    get,
    info,
    register,
    run_checked,
    select,
    table,
    unregister,
)

__all__ = [
    "StrategyInfo",
    "register",
    "unregister",
    "get",
    "info",
    "available",
    "select",
    "run_checked",
    "check_params",
    "default_initial_pool",
    "table",
]

# ---------------------------------------------------------------------------- the built-ins
register(
    "random",
    random_.random,
    family="baseline",
    needs_probe=False,
    paper="—",
    summary="Uniform random sampling.",
)
for _name, _paper in (
    ("least_confidence", "Lewis & Gale, SIGIR 1994"),
    ("entropy", "Shannon 1948; Settles, 'Active Learning Literature Survey', 2009"),
    ("margin", "Scheffer et al., IDA 2001"),
):
    register(
        _name,
        getattr(uncertainty, _name),
        family="uncertainty",
        params=dict(uncertainty.OPTIONS),
        paper=_paper,
    )
register(
    "bald",
    bald.bald,
    family="bayesian",
    params=dict(bald.BALD_PARAMS),
    check=bald.check_bald,
    paper=bald.BALD_PAPER,
    summary="Top-B mutual information between prediction and dropout mask over M passes.",
)
register(
    "power_bald",
    power_bald.power_bald,
    family="bayesian",
    params=dict(power_bald.POWER_BALD_PARAMS),
    check=power_bald.check_power_bald,
    paper=power_bald.POWER_BALD_PAPER,
    summary="Top B of β·log BALD + Gumbel noise (sampling ∝ BALD^β without replacement).",
)
register(
    "coreset",
    coreset.coreset,
    family="diversity",
    paper=coreset.CORESET_PAPER,
    summary="Greedy k-center on probe embeddings from the labeled set (farthest-first).",
)
register(
    "badge",
    badge.badge,
    family="diversity",
    paper=badge.BADGE_PAPER,
    summary="k-means++ seeding on gradient embeddings (p − onehot) ⊗ z, implicit distances.",
)
register(
    "alfamix",
    alfamix.alfamix,
    family="diversity",
    params={"epsilon": None},
    check=alfamix.check_alfamix,
    paper=alfamix.ALFAMIX_PAPER,
    summary="Candidates whose prediction flips when mixed towards a class anchor, one per "
    "k-means cluster.",
)
register(
    "typiclust",
    typiclust.typiclust,
    family="representative",
    params=dict(typiclust.TYPICLUST_PARAMS),
    check=typiclust.check_typiclust,
    initial_pool="typiclust",
    needs_probe=False,
    paper=typiclust.TYPICLUST_PAPER,
    summary="Most typical unlabeled point of the least-covered large k-means clusters.",
)
register(
    "probcover",
    probcover.probcover,
    family="representative",
    params=dict(probcover.PROBCOVER_PARAMS),
    check=probcover.check_probcover,
    initial_pool="probcover",
    needs_probe=False,
    paper=probcover.PROBCOVER_PAPER,
    summary="Greedy maximum coverage of δ-balls chosen by pseudo-class purity.",
)
register(
    "dropquery",
    dropquery.dropquery,
    family="hybrid",
    params=dict(dropquery.PARAMS),
    check=dropquery.check,
    initial_pool="centroids",
    paper=dropquery.PAPER,
    summary="Dropout-disagreement candidates (majority of M passes flip), one per k-means "
    "cluster of their probe embeddings.",
)
register(
    "maxherding",
    maxherding.maxherding,
    family="representative",
    params=dict(maxherding.MAXHERDING_PARAMS),
    check=maxherding.check_maxherding,
    initial_pool="maxherding",
    needs_probe=False,
    paper=maxherding.PAPER,
    summary="Greedy maximum of Gaussian-kernel coverage (kernel herding with a max).",
)
register(
    "uherding",
    uherding.uherding,
    family="hybrid",
    params=dict(uherding.UHERDING_PARAMS),
    check=uherding.check_uherding,
    initial_pool="maxherding",
    paper=uherding.PAPER,
    summary="Herding of the uncertainty-weighted Gaussian-kernel coverage (temperature-"
    "scaled margin, σ = smallest labeled distance).",
)
