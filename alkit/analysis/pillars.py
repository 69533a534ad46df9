"""The pillar comparisons on the tidy results table (the numbers behind the report's pillar figures).

- :func:`initial_pool_effect` — pillar 1: accuracy at iteration 1 per initial pool, with a
  paired test (over seeds) against the random pool;
- :func:`cluster_effect` — pillar 2: accuracy of ``+cluster`` minus the plain method, paired;
- :func:`family_gap` — pillar 3: best uncertainty-family strategy minus best representative one,
  per iteration (a change of sign is a phase transition).

Like :mod:`alkit.analysis`, accuracies stay fractions in [0, 1]. Each function also returns what
it left out, in ``DataFrame.attrs["left_out"]`` (a list of sentences), so a figure or a report
can say so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .. import strategies
from ..errors import InvalidInputError
from ._common import SETTING, _check, _paired_test, _t_interval
from .curves import learning_curves
from .win_matrix import default_pool_rows

__all__ = ["initial_pool_effect", "cluster_effect", "family_gap", "UNCERTAIN_FAMILIES"]

#: Registry families counted as "uncertainty" in pillar 3 (Bayesian scores are uncertainty too).
UNCERTAIN_FAMILIES = ("uncertainty", "bayesian")


def _without_propagation(df: pd.DataFrame, left_out: list[str]) -> pd.DataFrame:
    if df["propagate"].any() and (~df["propagate"]).any():
        left_out.append("runs with label propagation (compared in the Δ_ssl figure)")
        return df[~df["propagate"]]
    return df


def _stats(d: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, float]:
    n = len(d)
    std = d.std(ddof=1) if n > 1 else np.nan
    lo, hi = _t_interval(np.array([d.mean()]), np.array([std]), np.array([n]), level)
    t, p = _paired_test(d)
    return float(std), float(lo[0]), float(hi[0]), t, p


def initial_pool_effect(
    df: pd.DataFrame,
    iteration: int = 1,
    metric: str = "accuracy",
    baseline: str = "random",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Pillar 1: ``metric`` at ``iteration`` per (setting, initial pool), tested against ``baseline``.

    At iteration 1 a run has only its initial pool, so runs of any strategy from the same pool and
    seed agree; they are averaged per seed first (one value per seed and pool), then compared with
    the baseline pool's value of the same seed (paired t-test).

    Returns
    -------
    DataFrame
        Per (dataset, backbone, initial_pool): ``n_labeled``, ``n_classes_seen``, ``mean``, ``std``,
        ``n_seeds``, ``ci_low``, ``ci_high``, ``diff_vs_baseline``, ``p_vs_baseline``,
        ``significant``. Empty when no setting has two pools at that iteration.
    """
    df = _check(df, metric)
    left_out: list[str] = []
    df = _without_propagation(df, left_out)
    at = df[df["iteration"] == iteration]
    cols = ["n_labeled", metric] + (["n_classes_seen"] if "n_classes_seen" in at.columns else [])
    per_seed = at.groupby(SETTING + ["initial_pool", "seed"], sort=True)[cols].mean().reset_index()
    rows = []
    for (ds, bb), g in per_seed.groupby(SETTING, sort=True):
        if g["initial_pool"].nunique() < 2:
            left_out.append(f"{ds} ({bb}): a single initial pool")
            continue
        base = g[g["initial_pool"] == baseline].set_index("seed")[metric]
        for pool, gp in g.groupby("initial_pool", sort=False):
            vals = gp[metric].to_numpy(dtype=float)
            n = len(vals)
            std = vals.std(ddof=1) if n > 1 else np.nan
            lo, hi = _t_interval(np.array([vals.mean()]), np.array([std]), np.array([n]))
            diff = p = np.nan
            if pool != baseline and len(base):
                paired = (
                    gp.set_index("seed")[metric].to_frame("v").join(base.rename("b"), how="inner")
                )
                if len(paired):
                    d = (paired["v"] - paired["b"]).to_numpy(dtype=float)
                    diff = float(d.mean())
                    p = _paired_test(d)[1]
            rows.append(
                {
                    "dataset": ds,
                    "backbone": bb,
                    "initial_pool": pool,
                    "n_labeled": float(gp["n_labeled"].mean()),
                    "n_classes_seen": float(gp["n_classes_seen"].mean())
                    if "n_classes_seen" in gp
                    else np.nan,
                    "mean": float(vals.mean()),
                    "std": float(std),
                    "n_seeds": n,
                    "ci_low": float(lo[0]),
                    "ci_high": float(hi[0]),
                    "diff_vs_baseline": diff,
                    "p_vs_baseline": p,
                    "significant": bool(np.isfinite(p) and p < alpha),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["left_out"] = left_out
    return out


def _cluster_key(row) -> tuple[bool, str]:
    """(clustered?, the parameters other than ``cluster``) of a run."""
    params = {}
    if isinstance(row.get("params"), str) and row["params"]:
        try:
            params = json.loads(row["params"])
        except json.JSONDecodeError:
            params = {}
    if "cluster" in params:
        clustered = bool(params.get("cluster"))
    else:
        clustered = "+cluster" in str(row["method"])
    rest = {k: v for k, v in params.items() if k not in ("cluster", "device")}
    return clustered, json.dumps(rest, sort_keys=True, default=str)


def cluster_effect(
    df: pd.DataFrame, metric: str = "accuracy", level: float = 0.95, alpha: float = 0.05
) -> pd.DataFrame:
    """Pillar 2: ``metric`` of a strategy with ``cluster=True`` minus without, paired by seed.

    Runs pair on (setting, strategy, other parameters, initial pool, propagate, budget, seed,
    iteration); strategies that ran only one way are left out (and listed in
    ``attrs["left_out"]``).

    Returns
    -------
    DataFrame
        Per (dataset, backbone, method = the plain method's label, strategy, propagate,
        iteration): ``n_labeled``, ``n_pairs``, ``plain``, ``clustered`` (means), ``diff``,
        ``std``, ``ci_low``, ``ci_high``, ``p``, ``significant``.
    """
    df = _check(df, metric, extra=("strategy",))
    keys = df.apply(_cluster_key, axis=1, result_type="expand")
    df = df.assign(_clustered=keys[0].astype(bool), _rest=keys[1])
    pair = SETTING + ["strategy", "_rest", "initial_pool", "propagate", "budget", "seed"]
    plain = df[~df["_clustered"]]
    clus = df[df["_clustered"]]
    m = plain[pair + ["iteration", "n_labeled", "method", metric]].merge(
        clus[pair + ["iteration", "method", metric]],
        on=pair + ["iteration"],
        suffixes=("", "_c"),
    )
    paired = set(m["method"]) | set(m["method_c"])
    unpaired = sorted(set(df["method"]) - paired)
    left_out = (
        [f"methods that ran only with or only without clustering: {', '.join(unpaired)}"]
        if unpaired
        else []
    )
    cols = SETTING + ["method", "strategy", "propagate", "iteration"]
    if m.empty:
        out = pd.DataFrame(
            columns=cols
            + ["n_labeled", "n_pairs", "plain", "clustered", "diff", "std", "ci_low", "ci_high"]
            + ["p", "significant"]
        )
        out.attrs["left_out"] = left_out
        return out
    m["d"] = m[f"{metric}_c"] - m[metric]
    rows = []
    for key, g in m.groupby(cols, sort=True):
        d = g["d"].to_numpy(dtype=float)
        std, lo, hi, _, p = _stats(d, level)
        rows.append(
            (*key, g["n_labeled"].mean(), len(d), g[metric].mean(), g[f"{metric}_c"].mean())
            + (float(d.mean()), std, lo, hi, p, bool(np.isfinite(p) and p < alpha))
        )
    out = pd.DataFrame(
        rows,
        columns=cols
        + ["n_labeled", "n_pairs", "plain", "clustered", "diff", "std", "ci_low", "ci_high"]
        + ["p", "significant"],
    )
    out.attrs["left_out"] = left_out
    return out


def family_of(strategy: str) -> str | None:
    """The registry family of ``strategy`` (None when it is not registered here)."""

    try:
        return strategies.info(strategy).family
    except Exception:
        return None


def family_gap(df: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Pillar 3: per iteration, the best uncertainty-family method minus the best representative one.

    Families come from the strategy registry (``uncertainty`` and ``bayesian`` count as
    uncertainty, see :data:`UNCERTAIN_FAMILIES`); each method at its paper-default initial pool,
    without label propagation. ``leader`` says which family is ahead; ``transition`` marks the
    iterations where the lead changed hands since the previous one.

    Returns
    -------
    DataFrame
        Per (dataset, backbone, iteration): ``n_labeled``, ``best_uncertainty`` (mean over
        seeds), ``uncertainty_method``, ``best_representative``, ``representative_method``,
        ``gap``, ``leader``, ``transition``. ``attrs["left_out"]`` lists methods of other families
        and the rows filtered away; ``attrs["members"]`` maps each family to its methods.
    """

    df = _check(df, metric, extra=("strategy",))
    left_out: list[str] = []
    df = _without_propagation(df, left_out)
    fam = {s: family_of(s) for s in df["strategy"].unique()}
    group = {
        s: (
            "uncertainty"
            if f in UNCERTAIN_FAMILIES
            else "representative"
            if f == "representative"
            else None
        )
        for s, f in fam.items()
    }
    others = sorted(s for s, g in group.items() if g is None)
    if others:
        left_out.append(
            "methods of neither family: "
            + ", ".join(f"{s} ({fam[s] or 'not registered'})" for s in others)
        )
    df = df[df["strategy"].map(group).notna()]
    if df.empty:
        raise InvalidInputError(
            "family_gap: no method of the uncertainty or representative family."
        )
    try:
        keep = default_pool_rows(df)
        if not keep.all():
            left_out.append("runs from other than each strategy's default initial pool")
            df = df[keep]
    except InvalidInputError:
        pass
    curves = learning_curves(df, metric)
    curves["family"] = curves["method"].map(
        df.drop_duplicates("method").set_index("method")["strategy"].map(group)
    )
    members = {
        f: sorted(curves.loc[curves["family"] == f, "method"].unique())
        for f in ("uncertainty", "representative")
    }
    rows = []
    for (ds, bb, it), g in curves.groupby(SETTING + ["iteration"], sort=True):
        best = {}
        for f in ("uncertainty", "representative"):
            gf = g[g["family"] == f]
            if len(gf):
                i = gf["mean"].idxmax()
                best[f] = (float(gf.at[i, "mean"]), str(gf.at[i, "method"]))
        if len(best) < 2:
            continue
        gap = best["uncertainty"][0] - best["representative"][0]
        rows.append(
            {
                "dataset": ds,
                "backbone": bb,
                "iteration": int(it),
                "n_labeled": float(g["n_labeled"].mean()),
                "best_uncertainty": best["uncertainty"][0],
                "uncertainty_method": best["uncertainty"][1],
                "best_representative": best["representative"][0],
                "representative_method": best["representative"][1],
                "gap": gap,
                "leader": "uncertainty" if gap > 0 else "representative" if gap < 0 else "tie",
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        prev = out.groupby(SETTING)["leader"].shift()
        out["transition"] = prev.notna() & (prev != out["leader"]) & (out["leader"] != "tie")
    out.attrs["left_out"] = left_out
    out.attrs["members"] = members
    out.attrs["others"] = {s: fam[s] for s in others}
    return out
