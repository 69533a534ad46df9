"""The win matrix (Ash et al. 2020, as BADGE): which method beats which, setting by setting."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .. import strategies
from ..errors import InvalidInputError, UnknownNameError
from ._common import (
    _EQUAL_ATOL,
    SETTING,
    _check,
)


@dataclass
class WinMatrix:
    """Pairwise win counts (Ash et al. 2020, as the paper's Figure 3).

    Attributes
    ----------
    wins : DataFrame of shape (M, M)
        ``wins.loc[r, c]``: over settings, the fraction of counted iterations in which r
        significantly beat c (each setting adds at most 1). Rows = winner.
    n_settings : DataFrame of shape (M, M)
        Settings where both r and c ran (the cell's maximum).
    contributors : dict of (str, str) -> list of (dataset, backbone)
        For each cell, the settings that added to it.
    details : DataFrame
        One row per (dataset, backbone, winner, loser, iteration): ``n_seeds``, ``mean_diff``,
        ``t``, ``t_critical``, ``p`` (two-sided), ``p_adjusted`` (Holm's, or ``p`` without a
        correction), ``win``, ``weight`` (1/L).
    missing : DataFrame
        (dataset, backbone, method) for methods absent from a setting where others ran:
        their row and column count fewer settings.
    settings : list of (dataset, backbone)
    initial_pool : str
        ``"default"`` or the initial pool used.
    correction : str or None
        ``"holm"`` or ``None`` (no multiple-comparison correction, the paper's).
    """

    wins: pd.DataFrame
    n_settings: pd.DataFrame
    contributors: dict[tuple[str, str], list[tuple[str, str]]]
    details: pd.DataFrame
    missing: pd.DataFrame
    settings: list[tuple[str, str]] = field(default_factory=list)
    initial_pool: str = "default"
    correction: str | None = None

    @property
    def methods(self) -> list[str]:
        return list(self.wins.index)

    @property
    def totals(self) -> pd.Series:
        """Row sums: how much each method won against all others."""
        return self.wins.sum(axis=1).rename("total")

    def to_frame(self) -> pd.DataFrame:
        """The win matrix with a ``total`` column (as plotted)."""
        out = self.wins.copy()
        out["total"] = self.totals
        return out


def default_pool_rows(df: pd.DataFrame) -> pd.Series:
    """Boolean mask: rows whose initial pool is their strategy's paper default.

    A strategy that is not registered in this installation counts as at its default when it
    ran from a single initial pool in the table; otherwise :class:`InvalidInputError`.
    """

    defaults = {}
    for name, g in df.groupby("strategy" if "strategy" in df.columns else "method"):
        try:
            defaults[name] = strategies.default_initial_pool(name)
        except UnknownNameError:
            pools = g["initial_pool"].unique()
            if len(pools) != 1:
                raise InvalidInputError(
                    f"Strategy {name!r} is not registered here and ran from several initial pools "
                    f"{sorted(pools)}; pass win_matrix(..., initial_pool=NAME)."
                ) from None
            defaults[name] = pools[0]
    col = df["strategy"] if "strategy" in df.columns else df["method"]
    return df["initial_pool"] == col.map(defaults)


def win_matrix(
    df: pd.DataFrame,
    initial_pool: str = "default",
    min_iteration: int = 2,
    metric: str = "accuracy",
    propagate: bool = False,
    methods: Sequence[str] | None = None,
    level: float = 0.95,
    correction: str | None = None,
) -> WinMatrix:
    """Pairwise win matrix over settings, as the paper computes it (after Ash et al., 2020; docs/analysis.md).

    For every setting (dataset, backbone), every pair of methods (r, c) that both ran there
    and every iteration i ≥ ``min_iteration``: a paired t-test across seeds on
    d = metric_r − metric_c; r beats c when t > t_{0.975, n−1} (one-sided). If all d are
    equal (zero variance, within 1e-12), r beats c when d > 0. The cell (r, c) adds 1/L per
    winning iteration, L = the iterations counted for that pair, so a setting adds at most 1.

    Parameters
    ----------
    df : DataFrame
        The tidy results table.
    initial_pool : str
        ``"default"``: each method from its strategy's paper default initial pool
        (:func:`alkit.strategies.default_initial_pool`); or a pool name used for every method.
    min_iteration : int
        First iteration counted (2: iteration 1 is the initial pool).
    propagate : bool
        Use the runs with (True) or without (False, default) label propagation.
    methods : list of str, optional
        Methods to include and their order (default: all, sorted).
    level : float
        0.95: the critical value is t_{(1 + level)/2, n−1} = t_{0.975, n−1}, as Ash et al.
        (a win needs t above the two-sided 95 % critical value; only the sign r > c counts).
    correction : {None, "holm"}
        ``None`` (default, the paper's): each pair tested alone. ``"holm"``: the two-sided
        p-values of the M(M − 1)/2 pairs of methods compared in one setting at one iteration
        form a family, adjusted by Holm–Bonferroni (:func:`alkit.analysis.holm`); r beats c
        when the adjusted p < 1 − level and r's mean is higher. The family-wise error rate of
        each (setting, iteration) is then at most 1 − level.

    Returns
    -------
    WinMatrix

    Raises
    ------
    InvalidInputError
        If a method has several configurations (initial pool, budget) in one setting after the
        filtering, or nothing is left to compare.

    References
    ----------
    Ash, J. T., Zhang, C., Krishnamurthy, A., Langford, J. & Agarwal, A. (2020). Deep batch
    active learning by diverse, uncertain gradient lower bounds. ICLR.
    """
    if correction not in (None, "holm"):
        raise InvalidInputError(f"correction must be None or 'holm'; got {correction!r}.")
    df = _check(df, metric, extra=("strategy",))
    df = df[df["propagate"] == bool(propagate)]
    if initial_pool == "default":
        df = df[default_pool_rows(df)] if len(df) else df
    else:
        df = df[df["initial_pool"] == initial_pool]
    if methods is not None:
        unknown = sorted(set(methods) - set(df["method"]))
        if unknown:
            raise InvalidInputError(
                f"win_matrix: methods {unknown} have no runs after filtering "
                f"(initial_pool={initial_pool!r}, propagate={propagate})."
            )
        df = df[df["method"].isin(methods)]
        order = list(methods)
    else:
        order = sorted(df["method"].unique())
    if len(order) < 2:
        raise InvalidInputError(
            f"win_matrix needs at least two methods after filtering (initial_pool={initial_pool!r}, "
            f"propagate={propagate}); found {order}."
        )
    multi = df.groupby(SETTING + ["method"])[["initial_pool", "budget"]].nunique()
    multi = multi[(multi > 1).any(axis=1)]
    if len(multi):
        (ds, bb, meth) = multi.index[0]
        raise InvalidInputError(
            f"Method {meth!r} has several configurations (initial pool / budget) on ({ds}, {bb}); "
            "filter the table first or pass initial_pool=NAME."
        )
    m_idx = {m: i for i, m in enumerate(order)}
    n_m = len(order)
    wins = np.zeros((n_m, n_m))
    both = np.zeros((n_m, n_m), dtype=int)
    contributors: dict[tuple[str, str], list[tuple[str, str]]] = {}
    details = []
    missing = []
    settings = []
    for setting, g in df.groupby(SETTING, sort=True):
        setting = tuple(setting)
        settings.append(setting)
        present = [m for m in order if m in set(g["method"])]
        missing += [(*setting, m) for m in order if m not in present]
        g = g[g["iteration"] >= min_iteration]
        # acc[method, seed, iteration], NaN where a run or an iteration is absent
        cube = g.pivot_table(
            index=["method", "seed"], columns="iteration", values=metric, aggfunc="first"
        )
        seeds = sorted(cube.index.get_level_values("seed").unique())
        iters = list(cube.columns)
        full = pd.MultiIndex.from_product([present, seeds], names=["method", "seed"])
        acc = cube.reindex(full).to_numpy(dtype=float).reshape(len(present), len(seeds), len(iters))
        tests = {}
        for a in range(len(present)):
            for b in range(len(present)):
                if a != b:
                    d = acc[a] - acc[b]  # (seeds, iterations)
                    valid = ~np.isnan(d)
                    n = valid.sum(axis=0)  # paired seeds per iteration
                    tests[a, b] = (n, *_one_sided_wins(d, valid, n, level))
        if correction == "holm":
            _holm_wins(tests, len(present), len(iters), 1 - level)
        for (a, b), (n, win, t, crit, mean, p, p_adj) in tests.items():
            r, c = present[a], present[b]
            i, j = m_idx[r], m_idx[c]
            both[i, j] += 1
            counted = n > 0
            n_iter = int(counted.sum())
            if n_iter == 0:
                continue
            share = win[counted].sum() / n_iter
            wins[i, j] += share
            if share > 0:
                contributors.setdefault((r, c), []).append(setting)
            for col in np.flatnonzero(counted):
                details.append(
                    (
                        *setting,
                        r,
                        c,
                        iters[col],
                        int(n[col]),
                        mean[col],
                        t[col],
                        crit[col],
                        p[col],
                        p_adj[col],
                        bool(win[col]),
                        1.0 / n_iter,
                    )
                )
    details_df = pd.DataFrame(
        details,
        columns=SETTING
        + [
            "winner",
            "loser",
            "iteration",
            "n_seeds",
            "mean_diff",
            "t",
            "t_critical",
            "p",
            "p_adjusted",
            "win",
            "weight",
        ],
    )
    if len(details_df) and (details_df["n_seeds"] < 2).any():
        warnings.warn(
            "win_matrix: some comparisons have a single paired seed; a t-test is impossible there "
            "and the zero-variance rule (win when d > 0) decides. Run more seeds.",
            stacklevel=2,
        )
    missing_df = pd.DataFrame(missing, columns=SETTING + ["method"])
    if len(missing_df):
        warnings.warn(
            "win_matrix: some methods did not run in every setting ("
            + "; ".join(f"{m} missing on {d}/{b}" for d, b, m in missing_df.itertuples(index=False))
            + "); their cells count fewer settings (see .n_settings and .missing).",
            stacklevel=2,
        )
    return WinMatrix(
        wins=pd.DataFrame(
            wins, index=pd.Index(order, name="winner"), columns=pd.Index(order, name="loser")
        ),
        n_settings=pd.DataFrame(
            both, index=pd.Index(order, name="winner"), columns=pd.Index(order, name="loser")
        ),
        contributors=contributors,
        details=details_df,
        missing=missing_df,
        settings=settings,
        initial_pool=initial_pool,
        correction=correction,
    )


def _one_sided_wins(d: np.ndarray, valid: np.ndarray, n: np.ndarray, level: float):
    """Per iteration (column of ``d``): whether the mean of d is significantly > 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        dz = np.where(valid, d, 0.0)
        mean = dz.sum(axis=0) / n
        dev = np.where(valid, d - mean, 0.0)
        var = (dev**2).sum(axis=0) / (n - 1)
        spread = np.nanmax(np.where(valid, d, np.nan), axis=0) - np.nanmin(
            np.where(valid, d, np.nan), axis=0
        )
        equal = spread <= _EQUAL_ATOL
        t = mean / np.sqrt(var / n)
        crit = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        win = np.where(equal, mean > _EQUAL_ATOL, t > crit)
        t = np.where(
            equal,
            np.where(mean > _EQUAL_ATOL, np.inf, np.where(mean < -_EQUAL_ATOL, -np.inf, 0.0)),
            t,
        )
        p = np.where(
            np.isinf(t), 0.0, np.where(equal, 1.0, 2 * stats.t.sf(np.abs(t), np.maximum(n - 1, 1)))
        )
    win = win & (n > 0)
    return win, t, crit, mean, p, p.copy()


def _holm_wins(tests: dict, n_methods: int, n_iters: int, alpha: float) -> None:
    """Holm's correction over the unordered pairs of one setting, per iteration, in place:
    ``p_adjusted`` and ``win`` of every ordered pair (its two directions share the test)."""
    from .statistics import holm

    pairs = [(a, b) for a in range(n_methods) for b in range(a + 1, n_methods)]
    for col in range(n_iters):
        p = np.array([tests[a, b][5][col] if tests[a, b][0][col] > 0 else np.nan for a, b in pairs])
        adj = holm(p)
        for (a, b), q in zip(pairs, adj):
            for x, y in ((a, b), (b, a)):
                n, win, t, crit, mean, _, p_adj = tests[x, y]
                p_adj[col] = q
                win[col] = bool(n[col] > 0 and q < alpha and mean[col] > _EQUAL_ATOL)


# ---------------------------------------------------------------------------- summary table
