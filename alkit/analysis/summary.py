"""The summary table (accuracy ± std at chosen iterations, marked against random) and batch
redundancy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ._common import (
    CONFIG,
    SETTING,
    _aggregate,
    _check,
    _paired_test,
)


def summary_table(
    df: pd.DataFrame,
    iterations: Sequence[int] | None = None,
    metric: str = "accuracy",
    baseline: str = "random",
    alpha: float = 0.05,
    long: bool = False,
    decimals: int = 1,
) -> pd.DataFrame:
    """The paper's style of table: metric ± std (in %) at chosen iterations, marked vs. random.

    A cell is marked ``↑`` (``↓``) when a two-sided paired t-test over seeds against the
    baseline method finds it significantly better (worse) at level ``alpha``. The baseline
    is the ``baseline`` method of the same dataset, backbone, propagate and budget, from the
    same initial pool when that ran, else from any single initial pool it ran from
    (preferring ``random``).

    Parameters
    ----------
    iterations : list of int, optional
        Default: the first, the last and the powers of two in between that are present.
    long : bool
        Return the numbers (one row per configuration and iteration: ``mean``, ``std``,
        ``n_seeds``, ``diff_vs_baseline``, ``p_vs_baseline``, ``flag``) instead of the
        string table.
    decimals : int
        Decimals of the percentages in the string cells.

    Returns
    -------
    DataFrame
        Wide (default): index (dataset, backbone, method, initial_pool, propagate, budget),
        one string column per iteration, e.g. ``"81.2 ± 0.4 ↑"``.
    """
    df = _check(df, metric)
    present = sorted(df["iteration"].unique())
    if iterations is None:
        lo, hi = present[0], present[-1]
        iterations = sorted(
            {lo, hi, *[2**e for e in range(1, 12) if lo < 2**e < hi and 2**e in present]}
        )
    iterations = [int(i) for i in iterations]
    absent = sorted(set(iterations) - set(present))
    if absent:
        raise InvalidInputError(
            f"summary_table: iterations {absent} are not in the results "
            f"(present: {present[0]}..{present[-1]})."
        )
    sub = df[df["iteration"].isin(iterations)]
    curves = _aggregate(sub, SETTING + CONFIG + ["iteration"], metric)
    base_rows = sub[sub["method"] == baseline]
    diffs, pvals = [], []
    for row in curves.itertuples(index=False):
        diff, p = np.nan, np.nan
        if row.method != baseline and len(base_rows):
            cand = base_rows[
                (base_rows["dataset"] == row.dataset)
                & (base_rows["backbone"] == row.backbone)
                & (base_rows["propagate"] == row.propagate)
                & (base_rows["budget"] == row.budget)
                & (base_rows["iteration"] == row.iteration)
            ]
            if (cand["initial_pool"] == row.initial_pool).any():
                cand = cand[cand["initial_pool"] == row.initial_pool]
            elif cand["initial_pool"].nunique() > 1:
                cand = cand[cand["initial_pool"] == "random"]
            mine = sub[
                (sub["dataset"] == row.dataset)
                & (sub["backbone"] == row.backbone)
                & (sub["method"] == row.method)
                & (sub["initial_pool"] == row.initial_pool)
                & (sub["propagate"] == row.propagate)
                & (sub["budget"] == row.budget)
                & (sub["iteration"] == row.iteration)
            ]
            pair = mine[["seed", metric]].merge(
                cand[["seed", metric]], on="seed", suffixes=("", "_base")
            )
            if len(pair):
                d = (pair[metric] - pair[f"{metric}_base"]).to_numpy()
                diff = float(d.mean())
                _, p = _paired_test(d)
        diffs.append(diff)
        pvals.append(p)
    curves["diff_vs_baseline"] = diffs
    curves["p_vs_baseline"] = pvals
    sig = curves["p_vs_baseline"] < alpha
    curves["flag"] = np.where(
        sig & (curves["diff_vs_baseline"] > 0),
        "better",
        np.where(sig & (curves["diff_vs_baseline"] < 0), "worse", ""),
    )
    if long:
        return curves
    mark = {"better": " ↑", "worse": " ↓", "": ""}
    fmt = f"{{:.{decimals}f}}"

    def cell(r) -> str:
        s = fmt.format(100 * r["mean"])
        if np.isfinite(r["std"]):
            s += " ± " + fmt.format(100 * r["std"])
        return s + mark[r["flag"]]

    curves["cell"] = curves.apply(cell, axis=1)
    wide = curves.pivot(index=SETTING + CONFIG, columns="iteration", values="cell")
    wide.columns = [f"iteration {i}" for i in wide.columns]
    return wide.fillna("")


def batch_redundancy(
    x: np.ndarray, indices: np.ndarray, center: str | np.ndarray | None = "mean"
) -> float:
    """Mean pairwise cosine similarity of a queried batch (1 = identical points, 0 = unrelated).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Pool features.
    indices : ndarray of shape (B,)
        The batch (B ≥ 2).
    center : {"mean", None} or ndarray of shape (d,)
        Subtract this vector first (default: the pool mean). With non-negative features (pixels,
        ReLU outputs) every pair is similar to the shared mean direction, which would hide
        redundancy; pass a precomputed mean to avoid recomputing it per batch.

    Returns
    -------
    float
        The mean cosine similarity over the B(B − 1)/2 pairs.
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) < 2:
        raise InvalidInputError("batch_redundancy needs a batch of at least 2 points.")
    z = np.asarray(x[indices], dtype=np.float64)
    if isinstance(center, str):
        if center != "mean":
            raise InvalidInputError(f"center must be 'mean', None or a vector; got {center!r}.")
        z = z - np.asarray(x, dtype=np.float64).mean(axis=0)
    elif center is not None:
        z = z - np.asarray(center, dtype=np.float64)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    sim = z @ z.T
    b = len(z)
    return float((sim.sum() - np.trace(sim)) / (b * (b - 1)))
