"""The lessons' run loops: a grid of ``run_al`` calls with a progress bar, and the thread count."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["run_grid", "use_threads", "redundancy_table"]


def use_threads(emb, n: int | None = None) -> int | None:
    """Set torch/BLAS threads for working on ``emb`` (one thread for small sets; see
    :mod:`alkit._threads`). Returns the count, or None when ``OMP_NUM_THREADS`` decides."""
    from .._threads import set_threads

    x = emb.x_train if hasattr(emb, "x_train") else emb
    return set_threads(n, n_rows=x.shape[0], n_features=x.shape[1])


def run_grid(
    emb,
    strategies: Sequence[str],
    seeds: Sequence[int],
    iterations: int,
    vary: dict[str, Sequence[Any]] | None = None,
    progress: bool = True,
    desc: str = "runs",
    **options,
) -> tuple[pd.DataFrame, dict[tuple, Any]]:
    """``run_al`` for every strategy × combination of ``vary`` × seed, with a progress bar.

    Parameters
    ----------
    emb : EmbeddingSet
    strategies, seeds : list
    iterations : int
    vary : dict of str to list, optional
        ``run_al`` keyword arguments to cross, e.g. ``{"initial_pool": ["random", "centroids"]}``
        or ``{"cluster": [False, True]}``.
    progress : bool
        Show a progress bar counting the runs (a widget in Jupyter, text elsewhere).
    **options
        Passed to every ``run_al`` call (``propagation=…``, ``M=…``).

    Returns
    -------
    results : DataFrame
        The tidy results table of every run.
    runs : dict
        ``{(strategy, *vary values, seed): Run}``, in the order run (a value that cannot be a
        dict key, such as a propagation settings dict, appears as its JSON text).
    """
    from tqdm.auto import tqdm

    from ..loop import run_al

    vary = dict(vary or {})
    combos = list(itertools.product(*vary.values()))
    todo = [(s, c, seed) for s in strategies for c in combos for seed in seeds]
    runs: dict[tuple, Any] = {}
    for strategy, values, seed in tqdm(
        todo, desc=desc, unit="run", disable=not progress, leave=False
    ):
        kwargs = {**options, **dict(zip(vary, values))}
        key = (strategy, *(_hashable(v) for v in values), seed)
        runs[key] = run_al(emb, strategy, iterations=iterations, seed=seed, **kwargs)
    results = pd.concat([r.to_frame() for r in runs.values()], ignore_index=True)
    return results, runs


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return json.dumps(value, sort_keys=True, default=str)


def redundancy_table(runs: dict[tuple, Any], x) -> pd.DataFrame:
    """Batch redundancy of every queried batch of ``runs`` (the initial pool excluded).

    One row per (method, strategy, seed, iteration ≥ 2) with ``redundancy``: the mean pairwise
    cosine similarity of the batch, features centred on the pool mean
    (:func:`alkit.analysis.batch_redundancy`).
    """
    from ..analysis import batch_redundancy

    center = x.mean(axis=0)
    rows = []
    for run in runs.values():
        head = run.to_frame().iloc[0]
        for it, sel in enumerate(run.selections[1:], start=2):
            rows.append(
                {
                    "method": head["method"],
                    "strategy": head["strategy"],
                    "seed": int(head["seed"]),
                    "iteration": it,
                    "redundancy": batch_redundancy(x, sel.indices, center=center),
                }
            )
    return pd.DataFrame(rows)
