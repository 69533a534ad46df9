"""What every analysis shares: the keys of a run, input checks, t intervals, paired tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InvalidInputError

SETTING = ["dataset", "backbone"]
CONFIG = ["method", "initial_pool", "propagate", "budget"]
RUN_KEY = SETTING + CONFIG + ["seed"]

_EQUAL_ATOL = 1e-12  # differences this close count as equal (accuracies are ratios of counts)


# ---------------------------------------------------------------------------- helpers
def _check(
    df: pd.DataFrame, metric: str = "accuracy", extra: Sequence[str] = (), labeled: bool = True
) -> pd.DataFrame:
    """The tidy table checked; with ``labeled`` (default) only the rows with labels (iteration
    ≥ 1): the zero-shot row (iteration 0) is a reference line, not a point of any curve."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"Expected the tidy results DataFrame, got {type(df).__name__}.")
    needed = list(dict.fromkeys(RUN_KEY + ["iteration", "n_labeled", metric, *extra]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"The results table lacks column(s) {missing}; pass the tidy table from Run.to_frame(), "
            "alkit.sweep or alkit.load_results()."
        )
    if len(df) == 0:
        raise InvalidInputError("The results table is empty; run some simulations first.")
    keyless = df[RUN_KEY + ["iteration"]].isna().all(axis=1)
    if keyless.any():
        # rows of another table concatenated as results: they would repeat the all-missing key
        # and be reported as results loaded twice
        raise InvalidInputError(
            f"{int(keyless.sum())} rows have no value in any of {RUN_KEY + ['iteration']}: they "
            "are not results rows (another parquet table read as results?). Read results with "
            "alkit.load_results, which rejects files that are not alkit results."
        )
    dup = df.duplicated(RUN_KEY + ["iteration"], keep=False)
    if dup.any():
        first = df.loc[dup, RUN_KEY + ["iteration"]].iloc[0].to_dict()
        raise InvalidInputError(
            f"{int(dup.sum())} rows repeat a (run, iteration) key, e.g. {first}; the same results were "
            "loaded twice. Deduplicate with df.drop_duplicates(alkit.analysis.RUN_KEY + ['iteration'])."
        )
    out = df[df["iteration"] >= 1].copy() if labeled else df.copy()
    if len(out) == 0:
        raise InvalidInputError(
            "The results table holds only zero-shot rows (iteration 0), no run with labels."
        )
    out["propagate"] = out["propagate"].astype(bool)
    return out


def _t_interval(mean: np.ndarray, std: np.ndarray, n: np.ndarray, level: float = 0.95):
    """Two-sided t confidence interval; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = (
            stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
            * np.asarray(std)
            / np.sqrt(n)
        )
    return mean - half, mean + half


def _aggregate(df: pd.DataFrame, keys: list[str], value: str, level: float = 0.95) -> pd.DataFrame:
    """mean, std, n_seeds, 95 % CI of ``value`` per ``keys`` (with the mean n_labeled)."""
    g = df.groupby(keys, dropna=False, sort=True)
    out = g[value].agg(mean="mean", std="std", n_seeds="count").reset_index()
    if "n_labeled" in df.columns:
        out["n_labeled"] = g["n_labeled"].mean().to_numpy()
    out.loc[out["n_seeds"] < 2, "std"] = np.nan
    out["ci_low"], out["ci_high"] = _t_interval(
        out["mean"].to_numpy(), out["std"].to_numpy(), out["n_seeds"].to_numpy(), level
    )
    return out


def _paired_test(d: np.ndarray) -> tuple[float, float]:
    """t statistic and two-sided p of a paired test on the differences ``d`` (one per seed).

    All-equal differences (zero variance) give t = ±inf, p = 0 when nonzero and t = 0, p = 1
    when zero; a single difference gives NaN.
    """
    d = np.asarray(d, dtype=float)
    n = len(d)
    if n < 2:
        return np.nan, np.nan
    if np.ptp(d) <= _EQUAL_ATOL:
        m = d.mean()
        if abs(m) <= _EQUAL_ATOL:
            return 0.0, 1.0
        return float(np.sign(m) * np.inf), 0.0
    t = d.mean() / (d.std(ddof=1) / np.sqrt(n))
    return float(t), float(2 * stats.t.sf(abs(t), n - 1))


# ---------------------------------------------------------------------------- curves
