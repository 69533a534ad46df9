"""The pillar figures: initial pools (1), uncertainty vs representative (3), label propagation
Δ_ssl (4, the paper's Figure 4); diversity (2) is in :mod:`alkit.plots.diversity`.

Bars and markers follow :mod:`alkit.plots.style`; where a test decides, a solid bar (or filled
marker) is significant at p < 0.05 and a faded one (hollow marker) is not, as the legend says.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import analysis
from ..errors import InvalidInputError
from . import style as st

__all__ = ["initial_pool_bars", "uncertainty_vs_representative", "delta_ssl_bars"]

_FADED = 0.35
DSSL = r"$\Delta_\mathrm{ssl}$"


def _sig_legend(color: str = "0.45") -> list[tuple[str, object]]:
    return [
        ("p < 0.05", st.patch_handle(color)),
        ("not significant", st.patch_handle(color, alpha=_FADED)),
        ("error bar: 95 % CI over seeds", st.line_handle("black", "-", "|")),
    ]


def _errors(mean, lo, hi) -> np.ndarray:
    err = 100 * np.vstack([np.asarray(mean) - np.asarray(lo), np.asarray(hi) - np.asarray(mean)])
    return np.where(np.isfinite(err), err, 0.0)


def _pool_order(pools) -> list[str]:
    known = ["random", "centroids", "typiclust", "probcover"]
    return sorted(set(pools), key=lambda p: (known.index(p) if p in known else len(known), p))


def initial_pool_bars(
    df: pd.DataFrame,
    iteration: int = 1,
    metric: str = "accuracy",
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.0, 2.8),
    path: str | os.PathLike | None = None,
) -> Figure:
    """Pillar 1: accuracy at ``iteration`` per initial pool (bars, 95 % CI), one panel per setting.

    A bar is solid when a paired t-test over seeds finds it different from the random pool
    (p < 0.05), faded otherwise; the tick label gives its difference to random in % points.
    The numbers are :func:`alkit.analysis.initial_pool_effect`.
    """
    eff = analysis.initial_pool_effect(df, iteration, metric)
    if eff.empty:
        raise InvalidInputError(
            f"initial_pool_bars: no setting has runs from two initial pools at iteration {iteration}."
        )
    settings = list(eff.groupby(analysis.SETTING, sort=True).groups)
    several_bb = eff["backbone"].nunique() > 1
    n_pools = eff.groupby(analysis.SETTING)["initial_pool"].nunique().max()
    size = (max(panel_size[0], 0.85 * n_pools + 0.6), panel_size[1])
    fig, axes = st.grid(len(settings), ncols, size)
    for ax, (ds, bb) in zip(axes, settings):
        e = eff[(eff["dataset"] == ds) & (eff["backbone"] == bb)].set_index("initial_pool")
        pools = _pool_order(e.index)
        e = e.loc[pools]
        x = np.arange(len(pools))
        baseline = np.array([p == "random" for p in pools])
        solid = e["significant"].to_numpy(dtype=bool) | baseline
        for xi, pool, s in zip(x, pools, solid):
            ax.bar(
                xi,
                100 * e.at[pool, "mean"],
                width=0.7,
                color=st.pool_color(pool),
                alpha=1.0 if s else _FADED,
                edgecolor="0.2",
                lw=0.6,
            )
        ax.errorbar(
            x,
            100 * e["mean"],
            yerr=_errors(e["mean"], e["ci_low"], e["ci_high"]),
            fmt="none",
            ecolor="black",
            elinewidth=0.9,
            capsize=3,
        )
        ticks = [
            "random\n(baseline)"
            if p == "random"
            else f"{p}\n{100 * e.at[p, 'diff_vs_baseline']:+.1f}"
            for p in pools
        ]
        ax.set_xticks(x, ticks, fontsize=8)
        ax.set_title(st.setting_title(ds, bb if several_bb else None), fontsize=9)
        ax.set_ylabel(f"{st.metric_label(metric)}, iteration {iteration}")
        ax.grid(axis="y", alpha=0.3)
        n_lab = e["n_labeled"].mean()
        ax.text(0.02, 0.98, f"{n_lab:.0f} labels", transform=ax.transAxes, va="top", fontsize=7)
    st.share_y(list(axes[: len(settings)]))
    pools = _pool_order(eff["initial_pool"])
    st.figure_legend(
        fig,
        [
            (
                "Initial pool",
                [(f"{p} pool", st.patch_handle(st.pool_color(p))) for p in pools],
            ),
            ("Paired t-test vs the random pool", _sig_legend()),
        ],
    )
    fig.supxlabel("Initial pool (difference to the random pool, % points)", fontsize=9)
    fig.suptitle("Pillar 1 — the cold start: accuracy of the initial pool alone", fontsize=10)
    return st.finish(fig, path, eff.attrs.get("left_out", []))


def uncertainty_vs_representative(
    df: pd.DataFrame,
    metric: str = "accuracy",
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.2, 2.5),
    path: str | os.PathLike | None = None,
) -> Figure:
    """Pillar 3: do representative strategies lead at small budgets (a phase transition)?

    Per setting (a column), the top panel shows every uncertainty- and representative-family
    method against random (% points; accuracy in % when random did not run), the bottom panel
    the best uncertainty method minus the best representative one; a dotted vertical line marks
    where the lead changes hands. The numbers are :func:`alkit.analysis.family_gap`.
    """
    gap = analysis.family_gap(df, metric)
    if gap.empty:
        raise InvalidInputError(
            "uncertainty_vs_representative: needs methods of both the uncertainty (or Bayesian) "
            "and the representative family in one setting."
        )
    members = gap.attrs["members"]
    base = df[~df["propagate"].astype(bool)] if (~df["propagate"].astype(bool)).any() else df
    curves = analysis.learning_curves(base, metric)
    rand = curves[curves["method"] == "random"]
    relative = len(rand) > 0
    others = {
        s: f for s, f in gap.attrs.get("others", {}).items() if not (relative and s == "random")
    }
    notes = [n for n in gap.attrs.get("left_out", []) if not n.startswith("methods of neither")]
    if others:
        notes.append(
            "methods of neither family: "
            + ", ".join(f"{s} ({f or 'not registered'})" for s, f in others.items())
        )
    if relative and rand.groupby(analysis.SETTING)["initial_pool"].nunique().max() > 1:
        rand = rand[rand["initial_pool"] == "random"]
    strategy = st.strategy_map(df)
    settings = list(gap.groupby(analysis.SETTING, sort=True).groups)
    several_bb = gap["backbone"].nunique() > 1
    n = len(settings)
    cols = max(1, min(ncols, n))
    rows = int(np.ceil(n / cols))
    fig = Figure(
        figsize=(panel_size[0] * cols + st.LEGEND_WIDTH, 2 * panel_size[1] * rows + 0.35),
        layout="constrained",
    )
    axes = fig.subplots(2 * rows, cols, squeeze=False)
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        top, bottom = axes[2 * r, c], axes[2 * r + 1, c]
        if k >= n:
            top.set_visible(False)
            bottom.set_visible(False)
            continue
        ds, bb = settings[k]
        bottom.sharex(top)
        cur = curves[(curves["dataset"] == ds) & (curves["backbone"] == bb)]
        ref = rand[(rand["dataset"] == ds) & (rand["backbone"] == bb)].set_index("iteration")[
            "mean"
        ]
        g = gap[(gap["dataset"] == ds) & (gap["backbone"] == bb)].sort_values("n_labeled")
        for fam in ("uncertainty", "representative"):
            for m in members[fam]:
                cm = cur[cur["method"] == m].sort_values("n_labeled")
                if cm.empty:
                    continue
                y = cm["mean"] - cm["iteration"].map(ref) if relative else cm["mean"]
                s = strategy.get(m, st.strategy_of(m))
                top.plot(
                    cm["n_labeled"],
                    100 * y,
                    color=st.strategy_color(s),
                    ls=st.variant_linestyle(st.variant_of(m, s)),
                    marker=st.pool_marker(cm["initial_pool"].iloc[0]),
                    markersize=2.5,
                    lw=1.3,
                )
        if relative:
            top.axhline(0, color=st.strategy_color("random"), lw=1.0)
        top.set_title(st.setting_title(ds, bb if several_bb else None), fontsize=9)
        top.set_ylabel("vs random (% points)" if relative else st.metric_label(metric))
        top.tick_params(labelbottom=False)
        bottom.plot(g["n_labeled"], 100 * g["gap"], color="black", marker="o", markersize=3, lw=1.4)
        bottom.fill_between(g["n_labeled"], 0, 100 * g["gap"], color="0.6", alpha=0.3, lw=0)
        bottom.axhline(0, color="0.4", lw=0.8)
        for x in g.loc[g["transition"], "n_labeled"]:
            bottom.axvline(x, color="black", ls=":", lw=1)
            top.axvline(x, color="black", ls=":", lw=1)
        box = {"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1}
        bottom.text(
            0.98,
            0.97,
            "↑ uncertainty ahead",
            transform=bottom.transAxes,
            va="top",
            ha="right",
            fontsize=7,
            bbox=box,
        )
        bottom.text(
            0.98,
            0.03,
            "↓ representative ahead",
            transform=bottom.transAxes,
            va="bottom",
            ha="right",
            fontsize=7,
            bbox=box,
        )
        bottom.set_ylabel("Best uncertainty −\nbest representative (% points)", fontsize=8)
        bottom.set_xlabel("Labeled examples")
        st.integer_axis(bottom.xaxis, g["n_labeled"].round().unique())
        top.grid(alpha=0.3)
        bottom.grid(alpha=0.3)
    st.share_y([axes[2 * r, c] for r in range(rows) for c in range(cols)])
    st.share_y([axes[2 * r + 1, c] for r in range(rows) for c in range(cols)])
    sections = []
    for fam, title in (
        ("uncertainty", "Uncertainty family"),
        ("representative", "Representative family"),
    ):
        seen = list(dict.fromkeys(strategy.get(m, st.strategy_of(m)) for m in members[fam]))
        sections.append((title, [(s, st.line_handle(st.strategy_color(s))) for s in seen]))
    shown = curves[curves["method"].isin(members["uncertainty"] + members["representative"])]
    variants = sorted(
        {st.variant_of(m, strategy.get(m, st.strategy_of(m))) for m in shown["method"]},
        key=lambda v: (v != "", v),
    )
    if len(variants) > 1:
        sections.append(
            (
                "Variant",
                [
                    (st.variant_name(v), st.line_handle("0.3", st.variant_linestyle(v)))
                    for v in variants
                ],
            )
        )
    pools = sorted(shown["initial_pool"].unique(), key=lambda p: (p != "random", p))
    if len(pools) > 1:
        sections.append(
            (
                "Initial pool",
                [(f"{p} pool", st.line_handle("0.3", "none", st.pool_marker(p))) for p in pools],
            )
        )
    sections.append(
        (
            "Reference",
            (
                [("random (zero line)", st.line_handle(st.strategy_color("random")))]
                if relative
                else []
            )
            + [("lead changes hands", st.line_handle("black", ":"))],
        )
    )
    st.figure_legend(fig, sections)
    fig.suptitle("Pillar 3 — uncertainty vs representative sampling across budgets", fontsize=10)
    return st.finish(fig, path, notes)


def delta_ssl_bars(
    df: pd.DataFrame,
    method: str | None = None,
    by: str | None = "dataset",
    metric: str = "accuracy",
    ncols: int = 4,
    panel_size: tuple[float, float] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Δ_ssl (with minus without label propagation) per iteration: bars with 95 % CI error bars.

    Parameters
    ----------
    method : str, optional
        Only this method's runs (default: all runs, pooled).
    by : str or None
        One panel per value of this column (``"dataset"``, ``"method"`` …; panels share their y
        axis), or ``None`` to pool every pair per iteration in one panel (the paper's Figure 4
        averages 4 data sets). Bars are solid where the paired t-test gives p < 0.05, faded
        elsewhere (the legend says so).
    """
    notes = []
    if method is not None:
        others = sorted(set(df["method"]) - {method})
        df = df[df["method"] == method]
        if df.empty:
            raise InvalidInputError(f"delta_ssl_bars: method {method!r} is not in the results.")
        if others:
            notes.append(f"methods other than {method} ({len(others)})")
    res = analysis.delta_ssl(df, metric, by=[] if by is None else [by])
    if res.empty:
        raise InvalidInputError(
            "delta_ssl_bars: no run has a partner with the other propagate value "
            "(same setting, method, initial pool, budget and seed)."
        )
    strategy = st.strategy_map(df)
    groups = [None] if by is None else sorted(res[by].unique())
    iters = sorted(res["iteration"].unique())
    size = panel_size or (max(3.0, 0.22 * len(iters) + 1.2), 2.6)
    ncols = max(1, min(ncols, int(12.5 // size[0])))  # at most ~12 inches of panels a row
    fig, axes = st.grid(len(groups), ncols, size)
    pooled = df["method"].nunique() > 1

    def hatch_of(grp) -> str:
        if by == "method":
            return st.variant_hatch(st.variant_of(grp, strategy.get(grp, st.strategy_of(grp))))
        return ""

    def color_of(grp) -> str:
        if by == "method":
            return st.strategy_color(strategy.get(grp, st.strategy_of(grp)))
        if not pooled:
            m = df["method"].iloc[0]
            return st.strategy_color(strategy.get(m, st.strategy_of(m)))
        return st.POOLED

    pos = {it: k for k, it in enumerate(iters)}
    for ax, grp in zip(axes, groups):
        r = res if grp is None else res[res[by] == grp]
        x = np.array([pos[i] for i in r["iteration"]])
        y = 100 * r["diff"].to_numpy(dtype=float)
        sig = r["significant"].to_numpy(dtype=bool)
        color = color_of(grp)
        for alpha, mask in ((1.0, sig), (_FADED, ~sig)):
            ax.bar(
                x[mask],
                y[mask],
                width=0.75,
                color=color,
                alpha=alpha,
                hatch=hatch_of(grp),
                edgecolor="0.2",
                lw=0.5,
            )
        ax.errorbar(
            x,
            y,
            yerr=_errors(r["diff"], r["ci_low"], r["ci_high"]),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
        )
        ax.axhline(0, color="0.3", lw=0.8)
        step = max(1, int(np.ceil(len(iters) / 10)))
        ax.set_xticks(range(0, len(iters), step), [str(i) for i in iters[::step]])
        ax.set_xlabel("AL iteration")
        ax.set_ylabel(f"{DSSL}: with − without LP (% points)")
        ax.set_title("all runs pooled" if grp is None else st.short_title(grp), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    st.share_y(list(axes[: len(groups)]))
    fig.suptitle(
        f"Pillar 4 — label propagation gain {DSSL}" + (f", {method}" if method else ""),
        fontsize=10,
    )
    colors = (
        [(m, st.patch_handle(color_of(m), hatch_of(m))) for m in groups]
        if by == "method"
        else [
            (
                "pooled over methods" if pooled else str(df["method"].iloc[0]),
                st.patch_handle(color_of(None)),
            )
        ]
    )
    st.figure_legend(
        fig,
        [
            ("Bars", colors),
            (
                "Paired t-test over seeds",
                _sig_legend(color_of(groups[0]) if by != "method" else "0.45"),
            ),
        ],
    )
    return st.finish(fig, path, notes)
