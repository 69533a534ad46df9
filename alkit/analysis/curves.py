"""Learning curves and what changes along them: Δ(i) = acc(i) − acc(i/2), Δ_ssl, the AUC; and the
zero-shot "no labels" reference they are drawn against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ._common import (
    CONFIG,
    RUN_KEY,
    SETTING,
    _aggregate,
    _check,
    _paired_test,
    _t_interval,
)


def learning_curves(
    df: pd.DataFrame, metric: str = "accuracy", level: float = 0.95
) -> pd.DataFrame:
    """Mean, std and confidence interval of ``metric`` over seeds, per configuration and iteration.

    Parameters
    ----------
    df : DataFrame
        The tidy results table.
    metric : str
        ``accuracy`` (default), ``balanced_accuracy`` or ``macro_f1``.
    level : float
        Confidence level of the t interval (0.95).

    Returns
    -------
    DataFrame
        One row per (dataset, backbone, method, initial_pool, propagate, budget, iteration) with
        ``n_labeled`` (mean over seeds), ``mean``, ``std``, ``n_seeds``, ``ci_low``, ``ci_high``
        (NaN std and CI when only one seed ran).
    """
    df = _check(df, metric)
    return _aggregate(df, SETTING + CONFIG + ["iteration"], metric, level)


def delta_half(
    df: pd.DataFrame, metric: str = "accuracy", per_run: bool = False, level: float = 0.95
) -> pd.DataFrame:
    """Δ(i) = metric(i) − metric(i/2) for every even iteration i (the paper's Figure 1).

    Computed per run (same seed), then aggregated over seeds.

    Parameters
    ----------
    df : DataFrame
        The tidy results table.
    per_run : bool
        Return the per-run differences instead of the aggregate.

    Returns
    -------
    DataFrame
        Per run (``per_run=True``): run key, ``iteration`` (i), ``half_iteration`` (i/2),
        ``n_labeled``, ``delta``. Aggregated: per configuration and iteration, ``mean``, ``std``,
        ``n_seeds``, ``ci_low``, ``ci_high``, ``n_labeled``.
    """
    df = _check(df, metric)
    cur = df[df["iteration"] % 2 == 0][RUN_KEY + ["iteration", "n_labeled", metric]].copy()
    cur["half_iteration"] = cur["iteration"] // 2
    half = df[RUN_KEY + ["iteration", metric]].rename(
        columns={"iteration": "half_iteration", metric: "_half"}
    )
    m = cur.merge(half, on=RUN_KEY + ["half_iteration"], how="inner")
    m["delta"] = m[metric] - m["_half"]
    per = m[RUN_KEY + ["iteration", "half_iteration", "n_labeled", "delta"]]
    per = per.sort_values(RUN_KEY + ["iteration"]).reset_index(drop=True)
    if per_run:
        return per
    if per.empty:
        return pd.DataFrame(
            columns=SETTING
            + CONFIG
            + ["iteration", "mean", "std", "n_seeds", "n_labeled", "ci_low", "ci_high"]
        )
    return _aggregate(per, SETTING + CONFIG + ["iteration"], "delta", level)


def delta_ssl(
    df: pd.DataFrame,
    metric: str = "accuracy",
    by: Sequence[str] | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Δ_ssl: metric with label propagation minus without, per iteration (the paper's Figure 4).

    Runs are paired on (setting, method, initial_pool, budget, seed, iteration); the
    differences are then tested with a paired t-test over the pairs of each group.

    Parameters
    ----------
    df : DataFrame
        A tidy table holding runs with ``propagate`` True and False.
    by : list of str, optional
        Grouping keys besides ``iteration``. Default: dataset, backbone, method, initial_pool,
        budget (one test per configuration). ``by=[]`` pools every pair of the table per
        iteration (e.g. "averaged over 4 datasets", as Figure 4).
    level, alpha : float
        Confidence level of the interval; significance level of ``significant``.

    Returns
    -------
    DataFrame
        Per group and iteration: ``n_labeled``, ``n_pairs``, ``with_lp``, ``without_lp`` (means),
        ``diff`` (mean paired difference), ``std``, ``ci_low``, ``ci_high``, ``t``, ``p``,
        ``significant``. Empty when no run has a partner.
    """
    df = _check(df, metric)
    pair_keys = SETTING + ["method", "initial_pool", "budget", "seed", "iteration"]
    by = list(SETTING + ["method", "initial_pool", "budget"] if by is None else by)
    bad = [b for b in by if b not in df.columns or b in ("iteration", "propagate")]
    if bad:
        raise InvalidInputError(
            f"delta_ssl: cannot group by {bad}; use columns of the table other "
            "than iteration and propagate."
        )
    on = df[df["propagate"]][pair_keys + ["n_labeled", metric]]
    off = df[~df["propagate"]][pair_keys + [metric]]
    m = on.merge(off, on=pair_keys, suffixes=("_with", "_without"))
    cols = by + [
        "iteration",
        "n_labeled",
        "n_pairs",
        "with_lp",
        "without_lp",
        "diff",
        "std",
        "ci_low",
        "ci_high",
        "t",
        "p",
        "significant",
    ]
    if m.empty:
        return pd.DataFrame(columns=cols)
    m["d"] = m[f"{metric}_with"] - m[f"{metric}_without"]
    rows = []
    for key, g in m.groupby(by + ["iteration"], sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        d = g["d"].to_numpy()
        t, p = _paired_test(d)
        n = len(d)
        std = d.std(ddof=1) if n > 1 else np.nan
        lo, hi = _t_interval(np.array([d.mean()]), np.array([std]), np.array([n]), level)
        rows.append(
            (
                *key,
                g["n_labeled"].mean(),
                n,
                g[f"{metric}_with"].mean(),
                g[f"{metric}_without"].mean(),
                d.mean(),
                std,
                lo[0],
                hi[0],
                t,
                p,
                bool(p < alpha) if np.isfinite(p) else False,
            )
        )
    return pd.DataFrame(rows, columns=cols)


def zeroshot(df: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """The zero-shot accuracy per setting: the line to beat before any label.

    Read from the iteration-0 rows ``run_al`` writes when the embeddings carry class text
    embeddings (``n_labeled = 0``, ``info`` phase ``zeroshot``). It depends on the embeddings
    and the class texts only, so every run of a setting holds the same value; the mean is
    taken (``min``/``max`` show whether runs on different embeddings were mixed).

    Returns
    -------
    DataFrame
        Per (dataset, backbone): ``zeroshot`` (mean), ``min``, ``max``, ``n_runs``. Empty when
        no run has a zero-shot row. Every other analysis leaves these rows out.
    """
    df = _check(df, metric, labeled=False)
    rows = df[df["iteration"] == 0]
    cols = SETTING + ["zeroshot", "min", "max", "n_runs"]
    if rows.empty or rows[metric].isna().all():
        return pd.DataFrame(columns=cols)
    out = (
        rows.groupby(SETTING, sort=True)[metric]
        .agg(zeroshot="mean", min="min", max="max", n_runs="count")
        .reset_index()
    )
    return out[cols]


def auc(df: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Area under the learning curve per run, normalised by the n_labeled range.

    ``auc = trapezoid(metric, n_labeled) / (max n_labeled − min n_labeled)``, i.e. the mean
    of the curve over the budget (the metric itself when a run has one iteration). Over the
    iterations with labels (≥ 1): the zero-shot row is not part of the curve.

    Returns
    -------
    DataFrame
        Run key, ``n_iterations``, ``n_labeled_min``, ``n_labeled_max``, ``auc``.
    """
    df = _check(df, metric)
    rows = []
    for key, g in df.sort_values("n_labeled").groupby(RUN_KEY, sort=True, dropna=False):
        x = g["n_labeled"].to_numpy(dtype=float)
        y = g[metric].to_numpy(dtype=float)
        span = x[-1] - x[0]
        area = float(np.trapezoid(y, x) / span) if span > 0 else float(y.mean())
        rows.append((*key, len(g), int(x[0]), int(x[-1]), area))
    return pd.DataFrame(
        rows, columns=RUN_KEY + ["n_iterations", "n_labeled_min", "n_labeled_max", "auc"]
    )


# ---------------------------------------------------------------------------- win matrix
