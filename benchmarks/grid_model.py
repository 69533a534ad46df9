"""The cost model of ``grid_cost.py``: the paper's grid, the work of each phase, the fit.

A cell's time is the sum of its phases, each modelled as ``a + Σ b·W`` with W the phase's
arithmetic in 10⁹ multiply-adds (:func:`work`): the initial pool per pool kind, the query per
strategy, the probe fit (d·C·epochs for the optimiser's steps and |L|·d·C·epochs for the
batch's products) and the evaluation (N_test·d·C). ``a`` and ``b`` are
fitted by non-negative least squares on relative errors to measured iterations
(:func:`fit_model`), then summed over a cell's 20 iterations for every (data set, backbone,
strategy) of the grid (:func:`extrapolate`). Imports alkit only inside functions.
"""

from __future__ import annotations

import math
from typing import Any

GRID = "paper_backbones"
#: The arithmetic W of each query, in units of 10⁹ multiply-adds (L = labeled points before the
#: query, B = C). Why each: docs/performance.md's per-strategy work table. The probe fit has two
#: terms: the optimiser's step over the d·C weights (independent of |L|) and the batch's products.
QUERY_WORK = {
    "random": "N (one draw)",
    "least_confidence": "N·d·C (one probe pass)",
    "entropy": "N·d·C (one probe pass)",
    "margin": "N·d·C (one probe pass)",
    "bald": "N·d·C (M = 20 masked passes: the coefficient)",
    "power_bald": "N·d·C (M = 20 masked passes)",
    "dropquery": "N·d·C (1 + M passes; the candidates' k-means is small)",
    "alfamix": "N·d·C (probe pass, anchor distances)",
    "coreset": "N·d·(C + L) (probe embedding, bounds against the labeled set)",
    "badge": "N·C·(2d + C) (probability pass, B = C implicit gradient-distance passes)",
    "typiclust": "N·d·min(L + C, 500) while L < 500, else 0 (k-means with k = |L| + B capped at "
    "500; once k stops growing the cached clusters are reused)",
    "probcover": "N (greedy cover on the graph cached by the initial pool)",
}
INIT_WORK = {
    "random": "N (one draw)",
    "centroids": "N·d·C (k-means, k = C)",
    "typiclust": "N·d·C (k-means, k = C)",
    "probcover": "N²·d (δ search and δ-ball graph, all pairs)",
}


# ---------------------------------------------------------------------------- the grid
def grid_cells(grid: str = GRID) -> dict[str, Any]:
    """The grid's settings with their shapes, strategies, seeds and iterations.

    N and N_test are the data cards' split counts, C their class count, d the backbone
    registry's output width (``alkit.embedding.registry.get_spec(name).dim``).
    """
    import alkit.embedding.backbones  # noqa: F401 - fills the backbone registry
    from alkit.cards import load_card
    from alkit.embedding.registry import get_spec
    from alkit.sweep.grid import load_grid

    g = load_grid(grid, check_registry=False)
    settings = []
    for s in g["settings"]:
        card = load_card(s["dataset"])
        settings.append(
            dict(
                dataset=s["dataset"],
                backbone=s["backbone"],
                N=int(card.splits["train"]["count"]),
                N_test=int(card.splits["test"]["count"]),
                C=int(card.n_classes),
                d=int(get_spec(s["backbone"]).dim),
            )
        )
    return dict(
        name=g["name"],
        settings=settings,
        strategies=[s["name"] for s in g["strategies"]],
        seeds=list(g["seeds"]),
        iterations=int(g["iterations"][0]),
    )


# ---------------------------------------------------------------------------- the model
FIT_WORK = ("d·C·epochs (optimiser steps)", "|L|·d·C·epochs (the batch's products)")


def work(
    phase: str, kind: str, N: int, d: int, C: int, L: int = 0, n_test: int = 0, epochs=0
) -> tuple[float, ...]:
    """The arithmetic of one phase, in 10⁹ multiply-adds: one term, or two for the fit.

    (See QUERY_WORK, INIT_WORK, FIT_WORK.)

    Parameters
    ----------
    phase : {"init", "query", "fit", "eval"}
    kind : str
        The initial-pool kind (``init``) or the strategy (``query``); ignored otherwise.
    L : int
        Labeled points: before the query (``query``), trained on (``fit``).
    """
    if phase == "init":
        w = {"random": N, "probcover": N * N * d}.get(kind, N * d * C)
    elif phase == "query":
        w = {
            "random": N,
            "probcover": N,
            "coreset": N * d * (C + L),
            "badge": N * C * (2 * d + C),
            # k = min(L + B, 500) against the previous query's min(L, 500): re-clustered only
            # while k grows, else the clusters cached in pool.cache are reused
            "typiclust": N * d * min(L + C, 500) if L < 500 else 0,
        }.get(kind, N * d * C)
    elif phase == "fit":
        return (d * C * epochs / 1e9, L * d * C * epochs / 1e9)
    elif phase == "eval":
        w = n_test * d * C
    else:
        raise ValueError(f"unknown phase {phase!r}")
    return (w / 1e9,)


def _measured(row: dict) -> bool:
    """An iteration's row (not a child's status row); CSV rows carry every column, maybe empty."""
    return row.get("iteration") is not None and (row.get("status") or "ok") == "ok"


def _init_kind(strategy: str) -> str:
    from alkit.strategies import default_initial_pool

    return default_initial_pool(strategy)


def model_points(rows: list[dict], metric: str) -> dict[tuple, list[tuple[tuple, float]]]:
    """(work terms, seconds) pairs per model key from the fitted shapes' per-iteration rows.

    Keys: ``("init", pool kind)``, ``("query", strategy)``, ``("fit",)``, ``("eval",)``.
    """
    pts: dict[tuple, list[tuple[tuple, float]]] = {}
    for r in rows:
        if not _measured(r) or not r.get("fit", True):
            continue
        shape = dict(N=r["N"], d=r["d"], C=r["C"])
        if r["iteration"] == 1:
            kind = _init_kind(r["strategy"])
            key = ("init", kind)
        else:
            kind, key = r["strategy"], ("query", r["strategy"])
        pts.setdefault(key, []).append(
            (work(key[0], kind, L=r["labeled_before"], **shape), r[f"query_{metric}"])
        )
        fw = work("fit", "", L=r["labeled_after"], epochs=r["fit_epochs"], **shape)
        pts.setdefault(("fit",), []).append((fw, r[f"fit_{metric}"]))
        ew = work("eval", "", n_test=r["N_test"], **shape)
        pts.setdefault(("eval",), []).append((ew, r[f"eval_{metric}"]))
    return pts


def fit_affine(points: list[tuple[tuple, float]]) -> tuple[float, list[float]]:
    """``(a, [b…])`` ≥ 0 of ``t ≈ a + Σ b_k·W_k`` minimising the squared *relative* error.

    Relative, because W spans orders of magnitude and a cell's cost is the sum of its phases;
    non-negative, because no phase gets cheaper with more work. Work that never varies (one
    shape, one point) cannot be told from the constant: its ``b`` is 0 and ``a`` the mean."""
    import numpy as np
    from scipy.optimize import nnls

    w = np.array([p[0] for p in points], dtype=float).reshape(len(points), -1)
    t = np.array([p[1] for p in points], dtype=float)
    scale = 1.0 / np.maximum(t, 1e-6)
    varies = [k for k in range(w.shape[1]) if len(np.unique(w[:, k])) > 1]
    if not varies:
        return float(np.mean(t)), [0.0] * w.shape[1]
    coef, _ = nnls(np.column_stack([scale] + [w[:, k] * scale for k in varies]), np.ones_like(t))
    b = [0.0] * w.shape[1]
    for k, c in zip(varies, coef[1:]):
        b[k] = float(c)
    return float(coef[0]), b


def fit_model(rows: list[dict], metric: str) -> dict[str, Any]:
    """The fitted model: ``{"terms": {key_str: {"a", "b", "n"}}, "epochs", "metric"}``.

    ``epochs`` is the mean probe epochs per fit over the measured rows (early stopping), used
    to extrapolate the fit."""
    terms = {}
    for key, pts in model_points(rows, metric).items():
        a, b = fit_affine(pts)
        terms[":".join(key)] = {"a": a, "b": b, "n": len(pts)}
    ep = [r["fit_epochs"] for r in rows if _measured(r) and r.get("fit", True)]
    return {
        "terms": terms,
        "epochs": float(sum(ep) / len(ep)) if ep else math.nan,
        "metric": metric,
    }


def _t(model: dict, key: str, w: tuple) -> float:
    term = model["terms"].get(key)
    return math.nan if term is None else term["a"] + sum(b * x for b, x in zip(term["b"], w))


def predict_cell(model, strategy, N, d, C, N_test, iterations, epochs=None, first=1) -> dict:
    """Modelled seconds of iterations ``first…iterations`` of one cell, by phase.

    At iteration i the query sees |L| = C·(i − 1) labels (B = initial budget = C) and the probe
    is fitted on C·i; iteration 1's query is the initial pool."""
    ep = model["epochs"] if epochs is None else epochs
    shape = dict(N=N, d=d, C=C)
    out = dict(init_s=0.0, query_s=0.0, fit_s=0.0, eval_s=0.0, query_work=0.0, fit_work=0.0)
    kind = _init_kind(strategy)
    for i in range(first, iterations + 1):
        if i == 1:
            w = work("init", kind, **shape)
            out["init_work"] = sum(w)
            out["init_s"] = _t(model, f"init:{kind}", w)
        else:
            w = work("query", strategy, L=C * (i - 1), **shape)
            out["query_work"] += sum(w)
            out["query_s"] += _t(model, f"query:{strategy}", w)
        fw = work("fit", "", L=C * i, epochs=ep, **shape)
        out["fit_work"] += sum(fw)
        out["fit_s"] += _t(model, "fit", fw)
        ew = work("eval", "", n_test=N_test, **shape)
        out["eval_work"] = sum(ew)
        out["eval_s"] += _t(model, "eval", ew)
    out["cell_s"] = out["init_s"] + out["query_s"] + out["fit_s"] + out["eval_s"]
    return out


def extrapolate(model: dict, grid: dict, epochs: float | None = None) -> list[dict]:
    """One row per (data set, backbone, strategy): the modelled seconds of one cell (one seed)
    by phase, its work terms, and ``seeds_s`` = the cell times the grid's seeds."""
    rows = []
    for s in grid["settings"]:
        for strat in grid["strategies"]:
            p = predict_cell(
                model, strat, s["N"], s["d"], s["C"], s["N_test"], grid["iterations"], epochs
            )
            rows.append(
                {
                    **s,
                    "strategy": strat,
                    "initial_pool": _init_kind(strat),
                    "iterations": grid["iterations"],
                    "seeds": len(grid["seeds"]),
                    **{k: p[k] for k in ("init_s", "query_s", "fit_s", "eval_s", "cell_s")},
                    "seeds_s": p["cell_s"] * len(grid["seeds"]),
                    **{k: p[k] for k in ("init_work", "query_work", "fit_work", "eval_work")},
                    "epochs": model["epochs"] if epochs is None else epochs,
                }
            )
    return rows


def measured_vs_model(model: dict, rows: list[dict]) -> list[dict]:
    """Per measured cell (shape × strategy): measured and modelled seconds over its iterations."""
    metric = model["metric"]
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        if _measured(r):
            cells.setdefault((r["shape"], r["strategy"]), []).append(r)
    out = []
    for (shape, strat), rs in cells.items():
        r0 = rs[0]
        measured = sum(r[f"{ph}_{metric}"] for r in rs for ph in ("query", "fit", "eval"))
        modelled = 0.0
        for r in rs:  # each iteration at its own measured epochs
            p = predict_cell(
                model,
                strat,
                r0["N"],
                r0["d"],
                r0["C"],
                r0["N_test"],
                r["iteration"],
                epochs=r["fit_epochs"],
                first=r["iteration"],
            )
            modelled += p["cell_s"]
        out.append(
            {
                "shape": shape,
                "fitted": r0.get("fit", True),
                "strategy": strat,
                "N": r0["N"],
                "d": r0["d"],
                "C": r0["C"],
                "iterations": len(rs),
                "measured_s": measured,
                "modelled_s": modelled,
                "error": modelled / measured - 1 if measured > 0 else math.nan,
                "wall_s": sum(r[f"{ph}_wall_s"] for r in rs for ph in ("query", "fit", "eval")),
            }
        )
    return out


def totals(predicted: list[dict], key: str) -> dict[str, float]:
    """Seconds of all seeds summed by ``key`` (``strategy``, ``dataset``, ``backbone``)."""
    out: dict[str, float] = {}
    for r in predicted:  # a strategy never measured (a deadline) stays NaN, not 0
        old, v = out.get(r[key], math.nan), r["seeds_s"]
        out[r[key]] = v if math.isnan(old) else old if math.isnan(v) else old + v
    return out


def read_cells(path) -> list[dict]:
    """The rows of a ``grid_cells*.csv`` with their numbers and flags parsed back."""
    import csv

    def parse(v: str) -> Any:
        if v in ("", "None"):
            return None
        if v in ("True", "False"):
            return v == "True"
        for kind in (int, float):
            try:
                return kind(v)
            except ValueError:
                pass
        return v

    with open(path, newline="") as fh:
        return [{k: parse(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def grid_total(predicted: list[dict], key: str = "seeds_s") -> float:
    """The sum of ``key`` over the rows that could be modelled (NaN: a strategy not measured)."""
    return sum(
        r[key] * (1 if key == "seeds_s" else r["seeds"]) for r in predicted if r[key] == r[key]
    )
