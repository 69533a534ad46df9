"""Figures of the paper from the tidy results table (DESIGN §6): AL curves with confidence
bands, win-matrix heatmaps (Figure 3), delta curves (Figure 1) and Δ_ssl bars (Figure 4).

Every function returns the matplotlib ``Figure``; with ``path=`` it also writes
``<path>.png`` and ``<path>.svg`` (atomically). No ``pyplot`` state is used, so the functions
work under any backend, headless included.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import analysis
from ._utils import atomic_path
from .errors import InvalidInputError

__all__ = ["al_curves", "win_matrix_heatmap", "delta_curves", "delta_ssl_bars", "save_figure"]

_FORMATS = ("png", "svg")


def save_figure(
    fig: Figure, path: str | os.PathLike, formats: Sequence[str] = _FORMATS, dpi: int = 150
) -> list[Path]:
    """Write ``fig`` as ``<path>.<fmt>`` for every format (default PNG and SVG); returns the paths.

    A suffix on ``path`` is replaced. SVGs carry no date, so reruns give identical files.
    """
    base = Path(path)
    if base.suffix.lower().lstrip(".") in ("png", "svg", "pdf"):
        base = base.with_suffix("")
    out = []
    for fmt in formats:
        target = base.parent / f"{base.name}.{fmt}"
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        with atomic_path(target, f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
        out.append(target)
    return out


def _finish(fig: Figure, path) -> Figure:
    if path is not None:
        save_figure(fig, path)
    return fig


def _grid(n: int, ncols: int, size: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def _setting_title(dataset: str, backbone: str, several_backbones: bool) -> str:
    return f"{dataset} ({backbone})" if several_backbones else str(dataset)


def _config_label(row, vary: dict[str, bool]) -> str:
    label = str(row["method"])
    extra = []
    if vary["initial_pool"]:
        extra.append(f"init={row['initial_pool']}")
    if vary["propagate"] and row["propagate"]:
        extra.append("+LP")
    if vary["budget"]:
        extra.append(f"B={row['budget']}")
    return label + (f" [{', '.join(extra)}]" if extra else "")


def al_curves(
    df: pd.DataFrame,
    metric: str = "accuracy",
    methods: Sequence[str] | None = None,
    ncols: int = 4,
    panel_size: tuple[float, float] = (4.0, 3.2),
    band: bool = True,
    path: str | os.PathLike | None = None,
) -> Figure:
    """AL curves: one panel per setting, mean over seeds ± 95 % CI band per method.

    Parameters
    ----------
    df : DataFrame
        The tidy results table.
    metric : str
        Column to plot (``accuracy``; shown in %).
    methods : list of str, optional
        Methods to draw, in legend order (default: all).
    ncols : int
        Panels per row.
    band : bool
        Draw the 95 % t confidence band over seeds (absent for single-seed curves).
    path : path, optional
        Also save ``<path>.png`` and ``<path>.svg``.
    """
    curves = analysis.learning_curves(df, metric)
    if methods is not None:
        curves = curves[curves["method"].isin(methods)]
        if curves.empty:
            raise InvalidInputError(f"al_curves: none of {list(methods)} is in the results.")
    order = list(methods) if methods is not None else sorted(curves["method"].unique())
    vary = {
        c: curves.groupby("method")[c].nunique().max() > 1
        for c in ("initial_pool", "propagate", "budget")
    }
    settings = list(curves.groupby(analysis.SETTING, sort=True).groups)
    several_bb = curves["backbone"].nunique() > 1
    fig, axes = _grid(len(settings), ncols, panel_size)
    colors = _colors(order)
    for ax, (ds, bb) in zip(axes, settings):
        sub = curves[(curves["dataset"] == ds) & (curves["backbone"] == bb)]
        configs = sub.drop_duplicates(analysis.CONFIG)
        configs = configs.assign(_o=configs["method"].map({m: i for i, m in enumerate(order)}))
        for _, cfg in configs.sort_values(["_o", "initial_pool", "propagate", "budget"]).iterrows():
            c = sub[(sub[analysis.CONFIG] == cfg[analysis.CONFIG]).all(axis=1)].sort_values(
                "n_labeled"
            )
            line = ax.plot(
                c["n_labeled"],
                100 * c["mean"],
                marker="o",
                markersize=2.5,
                lw=1.4,
                color=colors[cfg["method"]],
                ls="--" if cfg["propagate"] and vary["propagate"] else "-",
                label=_config_label(cfg, vary),
            )[0]
            if band and c["ci_low"].notna().any():
                ax.fill_between(
                    c["n_labeled"],
                    100 * c["ci_low"],
                    100 * c["ci_high"],
                    color=line.get_color(),
                    alpha=0.18,
                    lw=0,
                )
        ax.set_title(_setting_title(ds, bb, several_bb))
        ax.set_xlabel("Labeled examples")
        ax.set_ylabel(
            f"Top-1 {metric.replace('_', ' ')} (%)"
            if metric == "accuracy"
            else f"{metric.replace('_', ' ').capitalize()} (%)"
        )
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1 : len(settings)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles, labels, loc="outside lower center", ncols=min(len(labels), 6), frameon=False
    )
    return _finish(fig, path)


def _colors(methods: Sequence[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(methods) <= 10 else "tab20"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(methods)}


def win_matrix_heatmap(
    result: analysis.WinMatrix,
    ax=None,
    cmap: str = "viridis",
    decimals: int = 2,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """The win matrix as the paper's Figure 3: rows = winner, columns = loser, plus a total column.

    Cells hold the summed wins (at most the number of settings where both ran); the diagonal
    and pairs that never ran together are blank.

    Parameters
    ----------
    result : WinMatrix
        From :func:`alkit.analysis.win_matrix`.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned).
    decimals : int
        Decimals of the annotations.
    """
    if not isinstance(result, analysis.WinMatrix):
        raise InvalidInputError(
            "win_matrix_heatmap expects the WinMatrix returned by analysis.win_matrix()."
        )
    wins = result.wins.to_numpy(dtype=float)
    both = result.n_settings.to_numpy()
    methods = result.methods
    m = len(methods)
    shown = np.where((both > 0) & ~np.eye(m, dtype=bool), wins, np.nan)
    totals = result.totals.to_numpy()
    if ax is None:
        fig = Figure(figsize=(2.2 + 0.7 * (m + 1), 1.6 + 0.5 * m), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    vmax = max(1.0, float(np.nanmax(both)) if both.size else 1.0)
    grid = np.column_stack([shown, np.full(m, np.nan)])
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    ax.axvline(m - 0.5, color="black", lw=1.5)
    fmt = f"{{:.{decimals}f}}"
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            if both[i, j] == 0:
                ax.text(j, i, "–", ha="center", va="center", color="0.5", fontsize=8)
                continue
            val = shown[i, j]
            ax.text(
                j,
                i,
                fmt.format(val),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if val < 0.6 * vmax else "black",
            )
        ax.text(
            m, i, fmt.format(totals[i]), ha="center", va="center", fontsize=8, fontweight="bold"
        )
    ax.set_xticks(range(m + 1), [*methods, "Total"], rotation=45, ha="right")
    ax.set_yticks(range(m), methods)
    ax.set_xlabel("Loser (column strategy)")
    ax.set_ylabel("Winner (row strategy)")
    n_set = len(result.settings)
    ax.set_title(
        title if title is not None else f"Wins over {n_set} setting{'s' if n_set != 1 else ''}"
    )
    fig.colorbar(im, ax=ax, label="Settings won", shrink=0.8)
    return _finish(fig, path)


def delta_curves(
    df: pd.DataFrame,
    method: str | None = None,
    metric: str = "accuracy",
    propagate: bool | None = False,
    ncols: int = 4,
    panel_size: tuple[float, float] = (4.0, 3.2),
    path: str | os.PathLike | None = None,
) -> Figure:
    """Δ(i) = metric(i) − metric(i/2) per backbone (the paper's Figure 1), one panel per dataset.

    Parameters
    ----------
    method : str, optional
        Only this method's runs (``"dropquery"`` for Figure 1); default: every run, pooled.
    propagate : bool or None
        Only runs without (False, default) or with (True) label propagation; None = both.
    """
    if propagate is not None and "propagate" in df.columns:
        df = df[df["propagate"].astype(bool) == propagate]
    if method is not None:
        df = df[df["method"] == method]
        if df.empty:
            raise InvalidInputError(f"delta_curves: method {method!r} is not in the results.")
    per = analysis.delta_half(df, metric, per_run=True)
    if per.empty:
        raise InvalidInputError(
            "delta_curves: needs runs with at least 2 iterations (Δ(i) uses i and i/2)."
        )
    agg = analysis._aggregate(per, ["dataset", "backbone", "iteration"], "delta")
    datasets = sorted(agg["dataset"].unique())
    backbones = sorted(agg["backbone"].unique())
    colors = _colors(backbones)
    fig, axes = _grid(len(datasets), ncols, panel_size)
    for ax, ds in zip(axes, datasets):
        for bb in backbones:
            c = agg[(agg["dataset"] == ds) & (agg["backbone"] == bb)].sort_values("iteration")
            if c.empty:
                continue
            ax.plot(
                c["iteration"],
                100 * c["mean"],
                marker="o",
                markersize=3,
                color=colors[bb],
                label=str(bb),
            )
            if c["ci_low"].notna().any():
                ax.fill_between(
                    c["iteration"],
                    100 * c["ci_low"],
                    100 * c["ci_high"],
                    color=colors[bb],
                    alpha=0.18,
                    lw=0,
                )
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(str(ds) + (f" — {method}" if method else ""))
        ax.set_xlabel("Iteration i (even)")
        ax.set_ylabel("Accuracy(i) − accuracy(i/2) (pp)")
        ax.grid(alpha=0.3)
    axes[0].legend(title="Backbone", fontsize=8)
    return _finish(fig, path)


def delta_ssl_bars(
    df: pd.DataFrame,
    method: str | None = None,
    by: str | None = "dataset",
    metric: str = "accuracy",
    figsize: tuple[float, float] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Δ_ssl (with minus without label propagation) per iteration as bars with 95 % CI error bars.

    Parameters
    ----------
    method : str, optional
        Only this method's runs (default: all runs, pooled).
    by : str or None
        One bar per value of this column at each iteration (``"dataset"``), or ``None`` to pool
        all paired runs per iteration (the paper's Figure 4 averages 4 data sets).
        Significant bars (paired t-test, p < 0.05) are marked with ``*``.
    """
    if method is not None:
        df = df[df["method"] == method]
        if df.empty:
            raise InvalidInputError(f"delta_ssl_bars: method {method!r} is not in the results.")
    res = analysis.delta_ssl(df, metric, by=[] if by is None else [by])
    if res.empty:
        raise InvalidInputError(
            "delta_ssl_bars: no run has a partner with the other propagate value "
            "(same setting, method, initial pool, budget and seed)."
        )
    groups = [None] if by is None else sorted(res[by].unique())
    iters = sorted(res["iteration"].unique())
    width = 0.8 / len(groups)
    fig = Figure(
        figsize=figsize or (max(5.0, 0.45 * len(iters) * max(1, len(groups)) + 1.5), 3.4),
        layout="constrained",
    )
    ax = fig.add_subplot()
    colors = _colors([str(g) for g in groups])
    pos = {it: k for k, it in enumerate(iters)}
    for gi, grp in enumerate(groups):
        r = res if grp is None else res[res[by] == grp]
        x = np.array([pos[i] for i in r["iteration"]]) + (gi - (len(groups) - 1) / 2) * width
        y = 100 * r["diff"].to_numpy()
        err = 100 * np.vstack([r["diff"] - r["ci_low"], r["ci_high"] - r["diff"]])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.bar(
            x,
            y,
            width=width * 0.95,
            color=colors[str(grp)],
            label=None if grp is None else str(grp),
        )
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        for xi, yi, e_hi, e_lo, s in zip(x, y, err[1], err[0], r["significant"]):
            if s:
                ax.text(
                    xi,
                    yi + (e_hi if yi >= 0 else -e_lo),
                    "*",
                    ha="center",
                    va="bottom" if yi >= 0 else "top",
                    fontsize=9,
                )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(range(len(iters)), [str(i) for i in iters])
    ax.set_xlabel("AL iteration")
    ax.set_ylabel("Δ_ssl: accuracy with − without LP (pp)")
    title = "Label propagation gain" + (f" — {method}" if method else "")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if by is not None:
        ax.legend(title=by, fontsize=8)
    return _finish(fig, path)
