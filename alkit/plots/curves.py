"""Curves over the labeling budget: AL curves (Figures 2 and 5) and delta curves (Figure 1)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import analysis
from ..errors import InvalidInputError
from . import style as st

__all__ = ["al_curves", "delta_curves"]

_PROPAGATE = {False: "no label propagation", True: "with label propagation"}


def _configs(curves: pd.DataFrame, strategy: dict[str, str]) -> pd.DataFrame:
    cfg = curves.drop_duplicates(analysis.SETTING + analysis.CONFIG)[
        analysis.SETTING + analysis.CONFIG
    ].copy()
    cfg["strategy"] = cfg["method"].astype(str).map(lambda m: strategy.get(m, st.strategy_of(m)))
    cfg["variant"] = [
        st.variant_of(m, s) for m, s in zip(cfg["method"].astype(str), cfg["strategy"])
    ]
    return cfg


def _facets(cfg: pd.DataFrame) -> list[str]:
    """Which columns split the panels: propagation whenever it varies; the initial pool when
    several strategies each ran from several pools (a pools × strategies grid)."""
    facets = []
    if cfg["propagate"].nunique() > 1:
        facets.append("propagate")
    per = cfg.groupby(analysis.SETTING + ["method", "propagate"])["initial_pool"].nunique()
    if (per > 1).any() and cfg["method"].nunique() > 1:
        facets.append("initial_pool")
    return facets


def _facet_label(col: str, value) -> str:
    return _PROPAGATE[bool(value)] if col == "propagate" else f"{value} pool"


def al_curves(
    df: pd.DataFrame,
    metric: str = "accuracy",
    methods: Sequence[str] | None = None,
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.4, 2.7),
    band: bool = True,
    path: str | os.PathLike | None = None,
) -> Figure:
    """AL curves: mean over seeds ± 95 % CI band per configuration, one panel per setting.

    Colour = strategy, line style = option variant (``+cluster`` …), marker = initial pool
    (see :mod:`alkit.plots.style`). Runs with and without label propagation are drawn in
    separate panels, and a grid of several strategies × several initial pools gets a panel per
    pool; panels of one setting share their y axis. When the runs hold a zero-shot row
    (iteration 0: embeddings with class text), its accuracy is drawn as a horizontal dashed
    black "no labels" line (gid ``"zeroshot"``), the line every curve has to beat.

    Parameters
    ----------
    df : DataFrame
        The tidy results table.
    metric : str
        ``accuracy`` (default), ``balanced_accuracy`` or ``macro_f1``; shown in %.
    methods : list of str, optional
        Methods to draw, in legend order (default: all); the others are named in the footnote.
    ncols : int
        Panels per row when settings are not split into facets.
    band : bool
        Draw the 95 % t confidence band over seeds (absent for single-seed curves).
    path : path, optional
        Also save ``<path>.png`` and ``<path>.svg``.
    """
    curves = analysis.learning_curves(df, metric)
    zeroshot = analysis.zeroshot(df, metric).set_index(analysis.SETTING)["zeroshot"]
    notes = []
    if methods is not None:
        missing = sorted(set(methods) - set(curves["method"]))
        dropped = sorted(set(curves["method"]) - set(methods))
        curves = curves[curves["method"].isin(methods)]
        if curves.empty:
            raise InvalidInputError(f"al_curves: none of {list(methods)} is in the results.")
        if dropped:
            notes.append(f"methods {', '.join(dropped)} (not in methods=)")
        if missing:
            notes.append(f"methods {', '.join(missing)} (no runs)")
    strategy = st.strategy_map(df)
    cfg = _configs(curves, strategy)
    order = list(methods) if methods is not None else sorted(cfg["method"].unique())
    strategies = list(dict.fromkeys(strategy.get(m, st.strategy_of(m)) for m in order))
    facets = _facets(cfg)
    facet_values = [()]
    if facets:
        levels = [sorted(cfg[f].unique(), key=lambda v: (v != "random", str(v))) for f in facets]
        facet_values = [tuple(v) for v in itertools.product(*levels)]
        present = {tuple(v) for v in cfg[facets].drop_duplicates().to_numpy()}
        facet_values = [v for v in facet_values if v in present]
    settings = list(curves.groupby(analysis.SETTING, sort=True).groups)
    several_bb = curves["backbone"].nunique() > 1
    panels: list = [(s, f) for s in settings for f in facet_values]
    if facets:
        nf = len(facet_values)
        last = cfg[facets[-1]].nunique()
        ncols = last if len(facets) > 1 else (nf if nf <= 4 else int(np.ceil(nf / np.ceil(nf / 4))))
        # each setting starts a row, with only the facets it ran (no empty panels)
        slots: list = []
        for s in settings:
            c_s = cfg[(cfg["dataset"] == s[0]) & (cfg["backbone"] == s[1])]
            have = {tuple(v) for v in c_s[facets].drop_duplicates().to_numpy()}
            mine = [(s, f) for f in facet_values if f in have]
            slots += mine + [None] * (-len(mine) % ncols)
        panels = slots
    fig, axes = st.grid(len(panels), ncols, panel_size)
    for ax, panel in zip(axes, panels):
        ax.set_visible(panel is not None)
    axes = [ax for ax, panel in zip(axes, panels) if panel is not None]
    panels = [panel for panel in panels if panel is not None]
    pools = sorted(cfg["initial_pool"].unique(), key=lambda p: (p != "random", p))
    variants = sorted(cfg["variant"].unique(), key=lambda v: (v != "", v))
    budgets_vary = (cfg.groupby(analysis.SETTING + ["method"])["budget"].nunique() > 1).any()
    # when one strategy ran from several pools in a panel, its markers wear the pool's colour
    # (as in the pillar-1 bars) so that same-coloured lines stay apart
    pool_faces = bool(
        (
            cfg.groupby(analysis.SETTING + ["method", "propagate"])["initial_pool"].nunique() > 1
        ).any()
    )
    rank = {m: i for i, m in enumerate(order)}
    for ax, ((ds, bb), fvals) in zip(axes, panels):
        sub = curves[(curves["dataset"] == ds) & (curves["backbone"] == bb)]
        for col, val in zip(facets, fvals):
            sub = sub[sub[col] == val]
        c_sub = cfg[(cfg["dataset"] == ds) & (cfg["backbone"] == bb)]
        for col, val in zip(facets, fvals):
            c_sub = c_sub[c_sub[col] == val]
        c_sub = c_sub.assign(_o=c_sub["method"].map(rank))
        for _, c in c_sub.sort_values(["_o", "initial_pool", "propagate", "budget"]).iterrows():
            line = sub[(sub[analysis.CONFIG] == c[analysis.CONFIG]).all(axis=1)].sort_values(
                "n_labeled"
            )
            color = st.strategy_color(c["strategy"])
            linestyle = st.variant_linestyle(c["variant"])
            if c["propagate"] and "propagate" not in facets:
                linestyle = st.variant_linestyle("+LP")
            ax.plot(
                line["n_labeled"],
                100 * line["mean"],
                color=color,
                ls=linestyle,
                marker=st.pool_marker(c["initial_pool"]),
                markersize=5 if pool_faces else 3.5 if len(pools) > 1 else 2.5,
                markerfacecolor=st.pool_color(c["initial_pool"]) if pool_faces else color,
                markeredgecolor=color,
                markevery=max(1, len(line) // 10),
                lw=1.4,
                label=f"{c['method']} · {c['initial_pool']} pool"
                + (f" · B={c['budget']}" if budgets_vary else ""),
            )
            if band and line["ci_low"].notna().any():
                ax.fill_between(
                    line["n_labeled"],
                    100 * line["ci_low"],
                    100 * line["ci_high"],
                    color=color,
                    alpha=0.15 if len(c_sub) <= 6 and not pool_faces else 0.07,
                    lw=0,
                )
        if (ds, bb) in zeroshot.index:
            _no_labels_line(ax, float(zeroshot.loc[(ds, bb)]))
        title = st.setting_title(ds, bb if several_bb else None)
        if facets:
            title += "\n" + " · ".join(_facet_label(c, v) for c, v in zip(facets, fvals))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("Labeled examples")
        ax.set_ylabel(st.metric_label(metric))
        st.integer_axis(ax.xaxis, sub["n_labeled"].round().unique())
        ax.grid(alpha=0.3)
    for s in settings:
        st.share_y([ax for ax, (ps, _) in zip(axes, panels) if ps == s])
    one = strategies[0] if len(strategies) == 1 else None
    neutral = st.strategy_color(one) if one else "0.3"
    sections = [
        ("Strategy", [(s, st.line_handle(st.strategy_color(s))) for s in strategies]),
        (
            "Variant",
            [
                (st.variant_name(v), st.line_handle(neutral, st.variant_linestyle(v)))
                for v in variants
            ]
            if len(variants) > 1
            else [],
        ),
        (
            "Initial pool",
            [
                (
                    f"{p} pool",
                    st.line_handle(
                        neutral,
                        "none",
                        st.pool_marker(p),
                        markerfacecolor=st.pool_color(p) if pool_faces else neutral,
                    ),
                )
                for p in pools
            ]
            if len(pools) > 1
            else [],
        ),
    ]
    if len(zeroshot):
        sections.append(("Reference", [(_NO_LABELS, st.line_handle(*_ZS_STYLE))]))
    if "propagate" not in facets and cfg["propagate"].all():
        sections.append(
            ("Label propagation", [("+LP", st.line_handle(neutral, st.variant_linestyle("+LP")))])
        )
    st.figure_legend(fig, sections)
    return st.finish(fig, path, notes)


_NO_LABELS = "no labels (zero-shot)"
_ZS_STYLE = (st.strategy_color("zeroshot"), (0, (5, 2)))


def _no_labels_line(ax, value: float) -> None:
    """The zero-shot accuracy as a horizontal reference line with its value at the right end."""
    ax.axhline(100 * value, color=_ZS_STYLE[0], ls=_ZS_STYLE[1], lw=1.1, zorder=1.8, gid="zeroshot")
    ax.annotate(
        f"zero-shot {100 * value:.1f} %",
        xy=(1.0, 100 * value),
        xycoords=("axes fraction", "data"),
        xytext=(-2, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=7,
        color=_ZS_STYLE[0],
        gid="zeroshot_label",
    )


def delta_curves(
    df: pd.DataFrame,
    method: str | None = None,
    metric: str = "accuracy",
    propagate: bool | None = False,
    lines: str = "auto",
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.2, 2.6),
    path: str | os.PathLike | None = None,
) -> Figure:
    """Δ(i) = metric(i) − metric(i/2) (the paper's Figure 1), one panel per dataset, shared y.

    Parameters
    ----------
    method : str, optional
        Only this method's runs (``"dropquery"`` for Figure 1). Its backbones are drawn in shades
        of the strategy's colour, light (small) to full (the largest), ordered by model size.
    propagate : bool or None
        Only runs without (False, default) or with (True) label propagation; None = both.
    lines : {"auto", "backbone", "method"}
        One line per backbone (pooled over the methods left), or one per method (strategy
        colours; every backbone pooled). ``"auto"``: per backbone when there are several.
    """
    notes = []
    if propagate is not None and "propagate" in df.columns:
        other = df[df["propagate"].astype(bool) != propagate]
        if len(other):
            notes.append(
                f"runs {'without' if propagate else 'with'} label propagation (propagate={propagate})"
            )
        df = df[df["propagate"].astype(bool) == propagate]
    if method is not None:
        others = sorted(set(df["method"]) - {method})
        df = df[df["method"] == method]
        if df.empty:
            raise InvalidInputError(f"delta_curves: method {method!r} is not in the results.")
        if others:
            notes.append(f"methods other than {method} ({len(others)})")
    per = analysis.delta_half(df, metric, per_run=True)
    if per.empty:
        raise InvalidInputError(
            "delta_curves: needs runs with at least 2 iterations (Δ(i) uses i and i/2)."
        )
    if lines not in ("auto", "backbone", "method"):
        raise InvalidInputError(f"lines must be 'auto', 'backbone' or 'method'; got {lines!r}.")
    by_backbone = lines == "backbone" or (lines == "auto" and per["backbone"].nunique() > 1)
    key = "backbone" if by_backbone else "method"
    agg = analysis._aggregate(per, ["dataset", key, "iteration"], "delta")
    datasets = sorted(agg["dataset"].unique())
    strategy = st.strategy_map(df)
    if by_backbone:
        names = st.backbone_order(agg["backbone"].unique())
        base = st.strategy_color(strategy.get(method, method)) if method else st.POOLED
        if method is None and per["method"].nunique() > 1:
            notes.append(f"per-method lines (pooled over {per['method'].nunique()} methods)")
        families = list(dict.fromkeys(st._family(n) for n in names))
        colors = {}
        for fam in families:
            members = [n for n in names if st._family(n) == fam]
            colors.update(zip(members, st.shades(base if method else "#333333", len(members))))
        styles = {n: ["-", "--", ":", "-."][families.index(st._family(n)) % 4] for n in names}
        labels = {n: st.short_backbone(n) for n in names}
    else:
        names = sorted(agg["method"].unique())
        colors = {m: st.strategy_color(strategy.get(m, st.strategy_of(m))) for m in names}
        styles = {
            m: st.variant_linestyle(st.variant_of(m, strategy.get(m, st.strategy_of(m))))
            for m in names
        }
        labels = {m: m for m in names}
        if per["backbone"].nunique() > 1:
            notes.append("per-backbone lines (pooled over backbones)")
    fig, axes = st.grid(len(datasets), ncols, panel_size)
    for ax, ds in zip(axes, datasets):
        for n in names:
            c = agg[(agg["dataset"] == ds) & (agg[key] == n)].sort_values("iteration")
            if c.empty:
                continue
            ax.plot(
                c["iteration"],
                100 * c["mean"],
                marker="o",
                markersize=3,
                color=colors[n],
                ls=styles[n],
                label=labels[n],
            )
            if c["ci_low"].notna().any():
                ax.fill_between(
                    c["iteration"],
                    100 * c["ci_low"],
                    100 * c["ci_high"],
                    color=colors[n],
                    alpha=0.15,
                    lw=0,
                )
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(st.short_title(ds), fontsize=9)
        ax.set_xlabel("Iteration $i$")
        ax.set_ylabel(r"$\Delta(i)$ = acc($i$) − acc($i/2$) (% points)")
        st.integer_axis(ax.xaxis, agg["iteration"].unique())
        ax.grid(alpha=0.3)
    st.share_y(list(axes[: len(datasets)]))
    what = metric.replace("_", " ")
    fig.suptitle(
        f"Gain from doubling the labels: {what}(i) − {what}(i/2)"
        + (f", {method}" if method else ""),
        fontsize=10,
    )
    st.figure_legend(
        fig,
        [
            (
                "Backbone" if by_backbone else "Method",
                [(labels[n], st.line_handle(colors[n], styles[n], "o")) for n in names],
            )
        ],
    )
    return st.finish(fig, path, notes)
