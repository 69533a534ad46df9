"""Small 2-D examples that show how a method works before a lesson runs it on real embeddings.

- :func:`clustering_example` (lesson 02): uncertainty sampling with and without the clustering
  step (``cluster=True``) on four 2-D blobs — the candidates, the k-means clusters and the picks.
- :func:`propagation_example` (lesson 04): label propagation on two moons, step by step.
- :func:`picks_map` (lesson 01): where each initial pool's picks fall on a t-SNE map.
- :func:`dropquery_map` (lesson 05): one DropQuery query on a PCA map.

Both call the library (``alkit.strategies.select``, ``alkit.cluster.kmeans_nearest``,
``alkit.propagation.LabelPropagator``); nothing is re-implemented. alkit compares points by
cosine similarity (it L2-normalises them), so the 2-D points are lifted onto a third coordinate
``LIFT`` first: on the plane z = LIFT, cosine neighbours are (nearly) the Euclidean neighbours
the picture shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..plots import style as st

__all__ = [
    "clustering_example",
    "propagation_example",
    "picks_map",
    "dropquery_map",
    "lift",
    "LIFT",
]

LIFT = 8.0
_CLASS_COLORS = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377")


def lift(xy: np.ndarray) -> np.ndarray:
    """2-D points → 3-D features on the plane z = :data:`LIFT` (float32)."""
    return np.column_stack([xy, np.full(len(xy), LIFT)]).astype(np.float32)


def _class_colors(y: np.ndarray) -> list[str]:
    return [_CLASS_COLORS[int(c) % len(_CLASS_COLORS)] for c in y]


def _clean(ax, title: str) -> None:
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")


def clustering_example(
    strategy: str = "margin", n: int = 2000, budget: int = 8, seed: int = 0
) -> tuple[Figure, pd.DataFrame]:
    """Top-B uncertainty picks against the clustering step, on four 2-D blobs.

    A probe is trained on five labeled points per blob; then ``strategy`` picks ``budget`` points
    plainly (the B highest scores) and with ``cluster=True`` (the top 50·B scores are the
    candidates; k-means with k = B on them; the candidate nearest each centroid is picked).

    Returns
    -------
    fig : Figure
        Three panels: the scores; the plain batch; the candidates coloured by cluster and the
        clustered batch.
    table : DataFrame
        Per variant: the batch redundancy (mean pairwise cosine similarity, centred on the pool
        mean), how many blobs the batch touches, and the spread of the batch.
    """
    from sklearn.datasets import make_blobs

    from .. import analysis, strategies
    from ..cluster import kmeans_nearest
    from ..learner import ActiveLearner
    from ..strategies.base import CLUSTER_FACTOR, pool_scores, top_k
    from ..strategies.scores import entropy, least_confidence, margin

    centers = np.array([(-4.0, -4.0), (4.0, -4.0), (-4.0, 4.0), (4.0, 4.0)])
    xy, y = make_blobs(n, centers=centers, cluster_std=1.7, random_state=seed)
    x = lift(xy)
    learner = ActiveLearner(x, strategy, initial_pool="random", n_classes=4, seed=seed)
    rng = np.random.default_rng(seed)
    first = np.concatenate([rng.choice(np.flatnonzero(y == c), 5, replace=False) for c in range(4)])
    learner.teach(first, y[first])
    learner.fit()
    pool, probe = learner.pool, learner.probe
    unl = pool.unlabeled_idx
    score_fn = {"margin": margin, "entropy": entropy, "least_confidence": least_confidence}[
        strategy
    ]
    scores = pool_scores(pool, probe, score_fn)
    plain = strategies.select(strategy, pool, probe, budget, np.random.default_rng(seed))
    clustered = strategies.select(
        strategy, pool, probe, budget, np.random.default_rng(seed), cluster=True
    )
    cand = top_k(scores, min(CLUSTER_FACTOR * budget, len(unl)))
    picks, labels = kmeans_nearest(x[unl[cand]], budget, np.random.default_rng(seed))
    assert np.array_equal(np.sort(unl[cand[picks]]), np.sort(clustered.indices))

    mean = x.mean(axis=0)
    rows = []
    for name, idx in (("plain", plain.indices), ("+cluster", clustered.indices)):
        rows.append(
            {
                "variant": name,
                "redundancy": analysis.batch_redundancy(x, idx, center=mean),
                "spread (mean distance to the batch centre)": float(
                    np.linalg.norm(xy[idx] - xy[idx].mean(axis=0), axis=1).mean()
                ),
            }
        )
    table = pd.DataFrame(rows).set_index("variant")

    color = st.strategy_color(strategy)
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    a, b, c = fig.subplots(1, 3)
    known = learner.acquired
    sc = a.scatter(*xy[unl].T, c=scores, s=5, cmap="viridis")
    fig.colorbar(sc, ax=a, shrink=0.8, label=f"{strategy} score (higher = less sure)")
    _clean(a, f"1. The probe's uncertainty ({strategy})\n★ = the {len(known)} labeled points")

    b.scatter(*xy[unl].T, s=4, c="0.85")
    b.scatter(*xy[plain.indices].T, s=70, c=color, edgecolor="black")
    _clean(
        b,
        f"2. Plain: the {budget} highest scores\n"
        f"batch redundancy {table.loc['plain', 'redundancy']:.2f}",
    )

    c.scatter(*xy[unl].T, s=4, c="0.85")
    c.scatter(*xy[unl[cand]].T, s=7, c=labels, cmap="tab10" if budget <= 10 else "tab20")
    c.scatter(*xy[clustered.indices].T, s=70, c=color, edgecolor="black", marker="s")
    _clean(
        c,
        f"3. +cluster: top {len(cand)} → {budget} k-means clusters\n"
        f"→ the point nearest each centre; redundancy {table.loc['+cluster', 'redundancy']:.2f}",
    )
    for ax in (a, b, c):
        ax.scatter(*xy[known].T, marker="*", s=160, c=_class_colors(y[known]), edgecolor="black")
    return fig, table


def propagation_example(
    n: int = 400, k: int = 10, steps=(1, 3, 10, 30, 100), noise: float = 0.07, seed: int = 0
) -> tuple[Figure, pd.DataFrame]:
    """Label propagation on two moons with one label per moon, after 1, 3, 10 … steps.

    Each step moves label mass one hop along the kNN graph (the reference variant:
    F ← (1 − α) S F + α Y₀). A point's colour is its propagated class (argmax F), its opacity
    the confidence weight the probe would give it (1 − normalised entropy); grey points have
    received no label mass yet.

    Returns
    -------
    fig : Figure
        The graph, then one panel per step.
    table : DataFrame
        Per step: the share of points reached and the accuracy of their propagated labels.
    """
    from sklearn.datasets import make_moons

    from ..propagation import LabelPropagator, propagation_weights

    xy, y = make_moons(n, noise=noise, random_state=seed)
    xy = xy * 3
    x = lift(xy)
    # one label per moon, at its middle (the top of the upper moon, the bottom of the lower)
    labeled = np.array(
        [
            np.argmax(np.where(y == 0, xy[:, 1], -np.inf)),
            np.argmin(np.where(y == 1, xy[:, 1], np.inf)),
        ]
    )
    graph = LabelPropagator(device="cpu", k=k).graph(x)
    rows = []
    fig = Figure(figsize=(2.6 * (len(steps) + 1), 2.9), layout="constrained")
    axes = fig.subplots(1, len(steps) + 1)
    coo = graph.tocoo()
    segs = np.stack([xy[coo.row], xy[coo.col]], axis=1)
    from matplotlib.collections import LineCollection

    axes[0].add_collection(LineCollection(segs, colors="0.75", linewidths=0.3))
    axes[0].scatter(*xy.T, s=4, c="0.35")
    axes[0].scatter(*xy[labeled].T, marker="*", s=200, c=_class_colors(y[labeled]), ec="black")
    _clean(axes[0], f"The kNN graph (k = {k})\n★ = the 2 labeled points")
    for ax, t in zip(axes[1:], steps):
        lp = LabelPropagator(device="cpu", k=k, n_iter=int(t), tol=0.0)
        f = lp.scores(x, labeled, y[labeled], 2)
        target, weight = propagation_weights(f, 2)
        reached = f.sum(axis=1) > 0
        acc = float((target[reached] == y[reached]).mean())
        rows.append({"steps": t, "reached": reached.mean(), "accuracy of reached labels": acc})
        ax.scatter(*xy[~reached].T, s=5, c="0.85")
        rgba = np.array(
            [
                (*_hex(c), 0.15 + 0.85 * w)
                for c, w in zip(_class_colors(target[reached]), weight[reached])
            ]
        )
        ax.scatter(*xy[reached].T, s=6, c=rgba)
        ax.scatter(*xy[labeled].T, marker="*", s=200, c=_class_colors(y[labeled]), ec="black")
        _clean(
            ax,
            f"after {t} step{'s' if t != 1 else ''}\n{reached.mean():.0%} reached, {acc:.0%} correct",
        )
    return fig, pd.DataFrame(rows).set_index("steps")


def _hex(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def picks_map(
    x: np.ndarray, y: np.ndarray, picks: dict[str, np.ndarray], n_shown: int = 400, seed: int = 0
) -> Figure:
    """Lesson 01: a 2-D t-SNE of (a sample of) ``x`` coloured by class, one panel per initial
    pool, with that pool's picks as stars; each title counts the classes the pool covers."""
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    n_shown = min(len(x), n_shown)
    shown = np.union1d(
        rng.choice(len(x), n_shown, replace=False), np.concatenate(list(picks.values()))
    )
    xy = TSNE(2, init="pca", metric="cosine", random_state=seed).fit_transform(x[shown])
    pos = {int(i): k for k, i in enumerate(shown)}
    n_classes = int(y.max()) + 1
    colors = {"cmap": "tab10" if n_classes <= 10 else "tab20", "vmin": 0, "vmax": n_classes - 1}
    fig = Figure(figsize=(3.2 * len(picks), 3.4), layout="constrained")
    for ax, (name, idx) in zip(fig.subplots(1, len(picks), squeeze=False)[0], picks.items()):
        ax.scatter(xy[:, 0], xy[:, 1], c=y[shown], s=4, alpha=0.35, **colors)
        k = [pos[int(i)] for i in idx]
        ax.scatter(xy[k, 0], xy[k, 1], c=y[idx], s=90, edgecolor="black", marker="*", **colors)
        _clean(ax, f"{name} pool: {len(np.unique(y[idx]))}/{n_classes} classes")
    fig.suptitle("The initial pools on a t-SNE map (colour = class, ★ = picked)", fontsize=10)
    return fig


def dropquery_map(
    z: np.ndarray, candidates: np.ndarray, clusters: np.ndarray, picked: np.ndarray
) -> Figure:
    """Lesson 05: one DropQuery query on a PCA map of the L2-normalised probe embeddings (as the
    clustering sees them): every unlabeled point, the candidates coloured by k-means cluster,
    and the picks.

    Parameters
    ----------
    z : ndarray of shape (n_unlabeled, d)
        Probe embeddings of the unlabeled points.
    candidates : ndarray of int
        Positions (rows of ``z``) of the candidates; ``clusters`` their k-means labels.
    picked : ndarray of int
        Positions (rows of ``z``) of the picked points.
    """
    from sklearn.decomposition import PCA

    xy = PCA(2, random_state=0).fit_transform(z / np.linalg.norm(z, axis=1, keepdims=True))
    k = int(clusters.max()) + 1 if len(clusters) else 1
    fig = Figure(figsize=(5.6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(*xy.T, s=3, c="0.85", label="unlabeled")
    ax.scatter(
        *xy[candidates].T,
        s=8,
        c=clusters,
        cmap="tab10" if k <= 10 else "tab20",
        label="candidates (colour = cluster)",
    )
    ax.scatter(
        *xy[picked].T,
        s=120,
        marker="*",
        c=st.strategy_color("dropquery"),
        edgecolor="black",
        label="picked",
    )
    _clean(ax, "DropQuery on the L2-normalised probe embedding (PCA)")
    fig.legend(loc="outside right center", fontsize=7, frameon=False)
    return fig
