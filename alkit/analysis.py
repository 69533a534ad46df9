"""The paper's analyses on the tidy results table (DESIGN §4, §6 "Analysis").

Every function takes the table written by ``Run.to_frame()`` / ``sweep`` / ``load_results``
(columns :data:`alkit.results.RESULT_COLUMNS`) and returns a plain DataFrame (or, for the win
matrix, a :class:`WinMatrix`). Accuracies stay fractions in [0, 1]; only the string cells of
:func:`summary_table` are in percent.

A *setting* is a (dataset, backbone) pair; a *configuration* is (method, initial_pool,
propagate, budget) within a setting; a *run* is a configuration with a seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InvalidInputError, UnknownNameError

__all__ = [
    "SETTING",
    "CONFIG",
    "RUN_KEY",
    "learning_curves",
    "delta_half",
    "delta_ssl",
    "win_matrix",
    "WinMatrix",
    "auc",
    "summary_table",
    "default_pool_rows",
    "batch_redundancy",
]

# the pillar comparisons live in alkit.comparisons; alkit.analysis.family_gap etc. load it on use
_PILLARS = ("initial_pool_effect", "cluster_effect", "family_gap")


def __getattr__(name: str):
    # lazily, because alkit.comparisons imports this module's helpers
    if name in _PILLARS:
        from . import comparisons

        return getattr(comparisons, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SETTING = ["dataset", "backbone"]
CONFIG = ["method", "initial_pool", "propagate", "budget"]
RUN_KEY = SETTING + CONFIG + ["seed"]

_EQUAL_ATOL = 1e-12  # differences this close count as equal (accuracies are ratios of counts)


# ---------------------------------------------------------------------------- helpers
def _check(df: pd.DataFrame, metric: str = "accuracy", extra: Sequence[str] = ()) -> pd.DataFrame:
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
    out = df.copy()
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


def auc(df: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Area under the learning curve per run, normalised by the n_labeled range.

    ``auc = trapezoid(metric, n_labeled) / (max n_labeled − min n_labeled)``, i.e. the mean
    of the curve over the budget (the metric itself when a run has one iteration).

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
        ``t``, ``t_critical``, ``win``, ``weight`` (1/L).
    missing : DataFrame
        (dataset, backbone, method) for methods absent from a setting where others ran:
        their row and column count fewer settings.
    settings : list of (dataset, backbone)
    initial_pool : str
        ``"default"`` or the initial pool used.
    """

    wins: pd.DataFrame
    n_settings: pd.DataFrame
    contributors: dict[tuple[str, str], list[tuple[str, str]]]
    details: pd.DataFrame
    missing: pd.DataFrame
    settings: list[tuple[str, str]] = field(default_factory=list)
    initial_pool: str = "default"

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
    from . import strategies

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
) -> WinMatrix:
    """Pairwise win matrix over settings, exactly as DESIGN §6 (after Ash et al., 2020).

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
        for a, r in enumerate(present):
            for b, c in enumerate(present):
                if a == b:
                    continue
                i, j = m_idx[r], m_idx[c]
                both[i, j] += 1
                d = acc[a] - acc[b]  # (seeds, iterations)
                valid = ~np.isnan(d)
                n = valid.sum(axis=0)  # paired seeds per iteration
                counted = n > 0
                n_iter = int(counted.sum())
                if n_iter == 0:
                    continue
                win, t, crit, mean = _one_sided_wins(d, valid, n, level)
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
    return win & (n > 0), t, crit, mean


# ---------------------------------------------------------------------------- summary table
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
