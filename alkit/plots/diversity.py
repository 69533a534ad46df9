"""Pillar 2 figures: what the clustering step adds, and how redundant a batch is."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import analysis
from ..errors import InvalidInputError
from . import style as st

__all__ = ["diversity_gain", "redundancy_bars"]


def diversity_gain(
    df: pd.DataFrame,
    metric: str = "accuracy",
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.2, 2.6),
    path: str | os.PathLike | None = None,
) -> Figure:
    """Pillar 2: accuracy with the clustering step minus without, per strategy, over the budget.

    One panel per setting (shared y), one line per strategy in its colour with a 95 % CI band;
    filled markers where the paired t-test over seeds gives p < 0.05, hollow ones elsewhere.
    The numbers are :func:`alkit.analysis.cluster_effect`.
    """
    eff = analysis.cluster_effect(df, metric)
    if eff.empty:
        raise InvalidInputError(
            "diversity_gain: no method ran both with and without cluster=True "
            "(same setting, initial pool, budget and seed)."
        )
    strategy = st.strategy_map(df)
    panels = list(eff.groupby(analysis.SETTING + ["propagate"], sort=True).groups)
    several_bb = eff["backbone"].nunique() > 1
    several_lp = eff["propagate"].nunique() > 1
    methods = sorted(eff["method"].unique())
    fig, axes = st.grid(len(panels), ncols, panel_size)
    for ax, (ds, bb, lp) in zip(axes, panels):
        sub = eff[(eff["dataset"] == ds) & (eff["backbone"] == bb) & (eff["propagate"] == lp)]
        for m in methods:
            c = sub[sub["method"] == m].sort_values("n_labeled")
            if c.empty:
                continue
            color = st.strategy_color(strategy.get(m, st.strategy_of(m)))
            ax.plot(c["n_labeled"], 100 * c["diff"], color=color, lw=1.4)
            if c["ci_low"].notna().any():
                ax.fill_between(
                    c["n_labeled"],
                    100 * c["ci_low"],
                    100 * c["ci_high"],
                    color=color,
                    alpha=0.15,
                    lw=0,
                )
            sig = c["significant"].to_numpy(dtype=bool)
            ax.scatter(c["n_labeled"][sig], 100 * c["diff"][sig], color=color, s=14, zorder=3)
            ax.scatter(
                c["n_labeled"][~sig],
                100 * c["diff"][~sig],
                facecolor="white",
                edgecolor=color,
                s=14,
                zorder=3,
            )
        ax.axhline(0, color="0.4", lw=0.8)
        title = st.setting_title(ds, bb if several_bb else None)
        if several_lp:
            title += "\n" + ("with" if lp else "no") + " label propagation"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("Labeled examples")
        ax.set_ylabel("+cluster − plain (% points)")
        st.integer_axis(ax.xaxis, sub["n_labeled"].round().unique())
        ax.grid(alpha=0.3)
    st.share_y(list(axes[: len(panels)]))
    st.figure_legend(
        fig,
        [
            (
                "Strategy (+cluster − plain)",
                [
                    (m, st.line_handle(st.strategy_color(strategy.get(m, st.strategy_of(m)))))
                    for m in methods
                ],
            ),
            (
                "Paired t-test over seeds",
                [
                    ("p < 0.05", st.line_handle("0.3", "none", "o")),
                    (
                        "not significant",
                        st.line_handle("0.3", "none", "o", markerfacecolor="white"),
                    ),
                    ("band: 95 % CI", st.patch_handle("0.3", alpha=0.15)),
                ],
            ),
        ],
    )
    fig.suptitle("Pillar 2 — diversity: what the clustering step adds", fontsize=10)
    return st.finish(fig, path, eff.attrs.get("left_out", []))


def redundancy_bars(
    batches: pd.DataFrame,
    figsize: tuple[float, float] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Pillar 2: batch redundancy (mean pairwise cosine similarity of a queried batch) per method.

    Parameters
    ----------
    batches : DataFrame
        One row per queried batch with ``method``, ``redundancy`` and optionally ``strategy``
        (as notebook 02 builds it with :func:`alkit.analysis.batch_redundancy`).
    """
    need = {"method", "redundancy"}
    if not need <= set(batches.columns):
        raise InvalidInputError(f"redundancy_bars needs columns {sorted(need)}.")
    strategy = st.strategy_map(batches)
    agg = analysis._aggregate(batches.assign(seed=0), ["method"], "redundancy")
    agg["strategy"] = agg["method"].map(lambda m: strategy.get(m, st.strategy_of(m)))
    agg["variant"] = [st.variant_of(m, s) for m, s in zip(agg["method"], agg["strategy"])]
    strategies = list(dict.fromkeys(sorted(agg["strategy"])))
    variants = sorted(agg["variant"].unique(), key=lambda v: (v != "", v))
    width = 0.8 / len(variants)
    fig = Figure(
        figsize=figsize or (1.2 + 0.55 * len(strategies) * len(variants) + st.LEGEND_WIDTH, 3.0),
        layout="constrained",
    )
    ax = fig.add_subplot()
    for i, s in enumerate(strategies):
        for j, v in enumerate(variants):
            r = agg[(agg["strategy"] == s) & (agg["variant"] == v)]
            if r.empty:
                continue
            x = i + (j - (len(variants) - 1) / 2) * width
            ax.bar(
                x,
                r["mean"].iloc[0],
                width=width * 0.95,
                color=st.strategy_color(s),
                hatch=st.variant_hatch(v),
                edgecolor="0.2",
                lw=0.6,
            )
            lo, hi = r["ci_low"].iloc[0], r["ci_high"].iloc[0]
            if np.isfinite(lo):
                ax.errorbar(
                    x,
                    r["mean"].iloc[0],
                    yerr=[[r["mean"].iloc[0] - lo], [hi - r["mean"].iloc[0]]],
                    fmt="none",
                    ecolor="black",
                    elinewidth=0.9,
                    capsize=3,
                )
    ax.set_xticks(range(len(strategies)), strategies)
    ax.set_ylabel("Batch redundancy\n(mean pairwise cosine similarity)")
    ax.set_xlabel("Strategy")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Pillar 2 — how alike are the points of one batch?", fontsize=10)
    st.figure_legend(
        fig,
        [
            (
                "Variant",
                [
                    (st.variant_name(v), st.patch_handle("white", st.variant_hatch(v)))
                    for v in variants
                ],
            ),
            ("", [("error bar: 95 % CI over batches", st.line_handle("black", "-", "|"))]),
        ],
    )
    return st.finish(fig, path)
