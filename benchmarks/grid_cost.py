"""The paper's grid, costed (issue 19, item 5): measured cells, a cost model, the full grid.

A *cell* is one active-learning run of the paper's protocol (``alkit.ActiveLearner`` driven as
``alkit.run_al`` drives it: the strategy's default initial pool of C points, then B = C per
iteration, the paper's probe retrained from scratch and evaluated on the test split after every
iteration). The full natural-image grid is ``alkit/grids/paper_backbones.yaml`` (Fig. 1 of
Gupte et al.): 7 data sets × 9 backbones × 12 strategies × 5 seeds × 20 iterations = 3 780 cells.

Its cells (up to 126 689 × 1536 points) cannot all be run here, so this script

1. measures every paper strategy on two synthetic pools shaped like small and mid-sized paper
   settings, timing each iteration's query, probe fit and evaluation separately (single-threaded
   on CPU, as ``alkit sweep`` runs a cell; process CPU seconds, robust to other jobs' load);
2. fits, by non-negative least squares on relative errors, one affine model ``a + b·W`` per
   phase, where W is the phase's arithmetic (:func:`work`): the initial pool per pool kind, the
   query per strategy, the probe fit (|L|·d·C·epochs) and the evaluation (N_test·d·C);
3. extrapolates to every (data set, backbone) of the grid with N, N_test and C from the data
   cards (``data_cards/*.yaml``) and d from the backbone registry (``alkit.embedding``).

Usage::

    python benchmarks/grid_cost.py                    # → results/latest/grid_cost{.csv,.md}, machine_grid.json
    python benchmarks/grid_cost.py --quick            # ~2 minutes → results/quick/
    python benchmarks/grid_cost.py --smoke --out /tmp/g   # seconds, in-process (the test)
    python benchmarks/grid_cost.py --device cuda      # the same cells on a GPU (see gpu_cells.py)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import effective_mem_limit_gib, machine_info, run_case, write_csv  # noqa: E402

GRID = "paper_backbones"
#: Within-class spread of the synthetic pools: the suite's "few" regime (a real-data-like probe
#: that still errs, so DropQuery and ALFA-Mix have candidates to cluster; noise 1 has none).
NOISE = 2.0
#: The measured pools, by mode. ``small``: Oxford-Pets-like (C = 37) at DINOv2-S width;
#: ``mid``: CIFAR-100-like C at ViT-L width. Two shapes with different N·d·C fix both terms of
#: each affine model; the mid shape runs fewer iterations (|L| still spans C to 8·C).
SHAPES: dict[str, list[dict[str, int | str]]] = {
    "full": [
        dict(name="small", N=6000, d=384, C=37, test=3000, iterations=20),
        dict(name="mid", N=24000, d=1024, C=100, test=5000, iterations=8),
        # held out: not fitted, only compared with the model (CIFAR-100 × ViT-g-like, 2.7× mid's N·d)
        dict(name="held-out", N=40000, d=1536, C=100, test=5000, iterations=3, fit=False),
    ],
    "quick": [
        dict(name="small", N=6000, d=384, C=37, test=3000, iterations=6),
        dict(name="mid", N=12000, d=768, C=100, test=3000, iterations=3),
    ],
    "smoke": [
        dict(name="tiny", N=400, d=16, C=5, test=100, iterations=3),
        dict(name="tiny2", N=800, d=24, C=8, test=100, iterations=3),
    ],
}
#: Soft wall-clock budget of one measured cell: no new iteration starts after it (≥ 2 run).
CELL_BUDGET_S = {"full": 120.0, "quick": 20.0, "smoke": 30.0}
#: The arithmetic W of each query, in units of 10⁹ multiply-adds (L = labeled points before the
#: query, B = C). Why each: docs/performance.md's per-strategy work table.
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
    "typiclust": "N·d·min(L + C, 500) (k-means, k = |L| + B capped at 500)",
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
def work(phase: str, kind: str, N: int, d: int, C: int, L: int = 0, n_test: int = 0, epochs=0):
    """The arithmetic W of one phase, in 10⁹ multiply-adds (see QUERY_WORK, INIT_WORK).

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
            "typiclust": N * d * min(L + C, 500),
        }.get(kind, N * d * C)
    elif phase == "fit":
        w = L * d * C * epochs
    elif phase == "eval":
        w = n_test * d * C
    else:
        raise ValueError(f"unknown phase {phase!r}")
    return w / 1e9


def _init_kind(strategy: str) -> str:
    from alkit.strategies import default_initial_pool

    return default_initial_pool(strategy)


def model_points(rows: list[dict], metric: str) -> dict[tuple, list[tuple[float, float]]]:
    """(work, seconds) pairs per model key from per-iteration rows.

    Keys: ``("init", pool kind)``, ``("query", strategy)``, ``("fit",)``, ``("eval",)``.
    """
    pts: dict[tuple, list[tuple[float, float]]] = {}
    for r in rows:
        if r.get("status", "ok") != "ok" or "iteration" not in r or not r.get("fit", True):
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


def fit_affine(points: list[tuple[float, float]]) -> tuple[float, float]:
    """``(a, b)`` ≥ 0 of ``t ≈ a + b·W`` minimising the squared *relative* error.

    Relative, because W spans orders of magnitude and a cell's cost is the sum of its phases;
    non-negative, because no phase gets cheaper with more work. One distinct W (or one point)
    gives the mean time as ``a`` with ``b = 0`` fitted through it."""
    import numpy as np
    from scipy.optimize import nnls

    w = np.array([p[0] for p in points], dtype=float)
    t = np.array([p[1] for p in points], dtype=float)
    scale = 1.0 / np.maximum(t, 1e-6)
    if len(np.unique(w)) < 2:
        return float(np.mean(t)), 0.0
    (a, b), _ = nnls(np.column_stack([scale, w * scale]), np.ones_like(t))
    return float(a), float(b)


def fit_model(rows: list[dict], metric: str) -> dict[str, Any]:
    """The fitted model: ``{"terms": {key_str: {"a", "b", "n"}}, "epochs", "metric"}``.

    ``epochs`` is the mean probe epochs per fit over the measured rows (early stopping), used
    to extrapolate the fit."""
    terms = {}
    for key, pts in model_points(rows, metric).items():
        a, b = fit_affine(pts)
        terms[":".join(key)] = {"a": a, "b": b, "n": len(pts)}
    ep = [r["fit_epochs"] for r in rows if "fit_epochs" in r and r.get("fit", True)]
    return {
        "terms": terms,
        "epochs": float(sum(ep) / len(ep)) if ep else math.nan,
        "metric": metric,
    }


def _t(model: dict, key: str, w: float) -> float:
    term = model["terms"].get(key)
    return math.nan if term is None else term["a"] + term["b"] * w


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
            out["init_work"] = w
            out["init_s"] = _t(model, f"init:{kind}", w)
        else:
            w = work("query", strategy, L=C * (i - 1), **shape)
            out["query_work"] += w
            out["query_s"] += _t(model, f"query:{strategy}", w)
        fw = work("fit", "", L=C * i, epochs=ep, **shape)
        out["fit_work"] += fw
        out["fit_s"] += _t(model, "fit", fw)
        ew = work("eval", "", n_test=N_test, **shape)
        out["eval_work"] = ew
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
        if r.get("status", "ok") == "ok" and "iteration" in r:
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


# ---------------------------------------------------------------------------- measurement (child)
def _clock(device: str):
    """A (wall, CPU) timer pair; on CUDA it synchronises first so that wall time is the GPU's."""
    import torch

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def now() -> tuple[float, float]:
        sync()
        return time.perf_counter(), time.process_time()

    return now


def measure_cells(
    emit, shape: dict, strategies: list[str], device: str, budget_s: float, deadline: float
) -> None:
    """Child: one AL run per strategy on ``shape``'s synthetic pool, a row per iteration.

    On CPU the run is pinned to one thread (torch, faiss, BLAS), as ``alkit sweep`` runs each
    cell, so that CPU seconds are one core's and the grid's cells can be summed. No iteration
    starts after the cell's ``budget_s`` (two always run) or the absolute ``deadline``
    (``time.time()``), so a deadline still leaves rows."""
    import contextlib

    import alkit
    from alkit.sweep.execute import _single_thread

    spec = "synthetic:N={N},d={d},C={C},seed=0,test={test},noise={noise}"
    emb = alkit.load_embeddings(spec.format(noise=NOISE, **shape))
    now = _clock(device)
    pin = _single_thread() if device == "cpu" else contextlib.nullcontext()
    with pin:
        for strategy in strategies:
            if time.time() > deadline:
                return
            learner = alkit.ActiveLearner(emb, strategy, seed=1, device=device)
            start = time.perf_counter()
            for it in range(1, int(shape["iterations"]) + 1):
                late = time.perf_counter() - start > budget_s
                if it > 2 and late or time.time() > deadline:
                    break
                row = dict(shape=shape["name"], strategy=strategy, iteration=it, device=device)
                row["fit"] = bool(shape.get("fit", True))
                row.update(N=shape["N"], d=shape["d"], C=shape["C"], N_test=shape["test"])
                row["labeled_before"] = learner.n_labeled
                t0 = now()
                sel = learner.query()
                t1 = now()
                learner.teach(sel.indices, emb.y_train[sel.indices])
                t2 = now()
                learner.fit()
                t3 = now()
                acc = learner.evaluate(emb.x_test, emb.y_test)["accuracy"]
                t4 = now()
                for ph, a, b in (("query", t0, t1), ("fit", t2, t3), ("eval", t3, t4)):
                    row[f"{ph}_wall_s"], row[f"{ph}_cpu_s"] = b[0] - a[0], b[1] - a[1]
                row.update(
                    labeled_after=learner.n_labeled,
                    fit_epochs=int(learner.probe.n_epochs_),
                    accuracy=float(acc),
                    n_candidates=sel.info.get("n_candidates"),
                )
                emit(row)


# ---------------------------------------------------------------------------- parent
def _fmt_s(s: float) -> str:
    if s != s:
        return "—"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.3g} s"


def run(
    mode: str = "full",
    out: Path | None = None,
    device: str = "cpu",
    deadline_s: float = math.inf,
    tag: str = "",
    epochs: float | None = None,
    command: str = "",
    log=print,
) -> dict[str, Any]:
    """Measure the cells, fit the model, extrapolate, write ``grid_cost{tag}.csv/.md``,
    ``grid_cells{tag}.csv`` and ``machine_grid{tag}.json``. Returns the results as a dict."""
    t_start = time.time()
    deadline = t_start + deadline_s
    out = Path(out or HERE / "results" / ("latest" if mode == "full" else "quick"))
    out.mkdir(parents=True, exist_ok=True)
    grid = grid_cells()
    machine = machine_info(device)
    machine.update(mode=mode, command=command, grid=grid["name"], noise=NOISE)
    metric = "cpu_s" if device == "cpu" else "wall_s"
    rows: list[dict] = []
    for shape in SHAPES[mode]:
        left = deadline - time.time()
        if left < 5:
            log(f"  {shape['name']}: not measured (deadline)")
            break
        log(f"  measuring {shape['name']} N={shape['N']} d={shape['d']} C={shape['C']} …")
        res = run_case(
            "grid_cost:measure_cells",
            dict(
                shape=shape,
                strategies=grid["strategies"],
                device=device,
                budget_s=CELL_BUDGET_S[mode],
                deadline=deadline - 2,
            ),
            min(left, 1800.0),
            # CUDA maps far more address space than it uses: no RLIMIT_AS there
            None if mode == "smoke" or device != "cpu" else effective_mem_limit_gib(16.0),
            out / "_work" / f"grid_{shape['name']}{tag}.jsonl",
            in_process=mode == "smoke",
        )
        rows += res.rows
        if res.status != "ok":
            rows.append(dict(shape=shape["name"], status=res.status, note=res.message))
            log(f"  {shape['name']}: {res.status} {res.message}")
    model = fit_model(rows, metric)
    predicted = extrapolate(model, grid, epochs)
    checks = measured_vs_model(model, rows)
    machine["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    machine["load_average_at_end"] = list(__import__("os").getloadavg())
    machine["seconds"] = round(time.time() - t_start, 1)
    machine["model"] = model
    res = dict(grid=grid, rows=rows, model=model, predicted=predicted, checks=checks)
    write_csv(predicted, out / f"grid_cost{tag}.csv")
    write_csv(rows, out / f"grid_cells{tag}.csv")
    (out / f"machine_grid{tag}.json").write_text(json.dumps(machine, indent=2, default=str))
    (out / f"grid_cost{tag}.md").write_text(markdown(res, machine, device))
    log(f"  grid total {_fmt_s(sum(r['seeds_s'] for r in predicted))} ({metric}) → {out}")
    return res


def totals(predicted: list[dict], key: str) -> dict[str, float]:
    """Seconds of all seeds summed by ``key`` (``strategy``, ``dataset``, ``backbone``)."""
    out: dict[str, float] = {}
    for r in predicted:
        out[r[key]] = out.get(r[key], 0.0) + r["seeds_s"]
    return out


def markdown(res: dict, machine: dict, device: str) -> str:
    """The report: the grid's total, the breakdowns, the model and its error on the measured cells."""
    grid, model, pred = res["grid"], res["model"], res["predicted"]
    total = sum(r["seeds_s"] for r in pred)
    n_cells = len(pred) * len(grid["seeds"])
    what = "single-thread CPU" if device == "cpu" else f"{device} wall-clock"
    hw = f"{machine['cpu_model']}, {machine['cpu_cores']} cores" + (
        f", GPU {machine.get('gpu')}" if device != "cpu" else ""
    )
    fit_s = sum(r["fit_s"] * r["seeds"] for r in pred)
    lines = [
        f"# The paper's grid, costed ({device})",
        "",
        f"Grid `{grid['name']}`: {len({r['dataset'] for r in pred})} data sets × "
        f"{len({r['backbone'] for r in pred})} backbones × {len(grid['strategies'])} strategies × "
        f"{len(grid['seeds'])} seeds = {n_cells} cells of {grid['iterations']} iterations. "
        f"Machine: {hw}; load average {machine['load_average_1_5_15'][0]:.2f} at the start, "
        f"{machine.get('load_average_at_end', [math.nan])[0]:.2f} at the end; "
        f"command `{machine.get('command')}`.",
        "",
        f"**Total: {total / 3600:.1f} h of {what} time** ({total:.3g} s)"
        + (
            f", i.e. {total / 2 / 3600:.1f} h = {total / 2 / 86400:.1f} days of wall time on 2 cores "
            "(two one-thread cells at a time, as `alkit sweep` runs them)."
            if device == "cpu"
            else ", one cell at a time on one GPU."
        ),
        f"The probe fit is {fit_s / total:.0%} of it at {model['epochs']:.0f} epochs per fit (the "
        "mean on the synthetic pools, early stopping); at the cap of 400 epochs it would be "
        f"{fit_s * 400 / model['epochs'] / 3600:.0f} h.",
        "",
        "| strategy | seconds per cell, CIFAR-100 × DINOv2 ViT-g/14 | share of grid | grid total |",
        "|---|---|---|---|",
    ]
    by_s = totals(pred, "strategy")
    for s in grid["strategies"]:
        ref = next((r for r in pred if r["strategy"] == s and r["dataset"] == "cifar100"), pred[0])
        lines.append(
            f"| {s} | {_fmt_s(ref['cell_s'])} | {by_s[s] / total:.1%} | {_fmt_s(by_s[s])} |"
        )
    lines += ["", "| data set | N | N_test | C | grid total |", "|---|---|---|---|---|"]
    for ds, t in totals(pred, "dataset").items():
        r = next(r for r in pred if r["dataset"] == ds)
        lines.append(f"| {ds} | {r['N']} | {r['N_test']} | {r['C']} | {_fmt_s(t)} |")
    lines += ["", "| backbone | d | grid total |", "|---|---|---|"]
    for bb, t in totals(pred, "backbone").items():
        r = next(r for r in pred if r["backbone"] == bb)
        lines.append(f"| {bb} | {r['d']} | {_fmt_s(t)} |")
    lines += [
        "",
        f"Model (`{model['metric']}` per phase = a + b·W, W in 10⁹ multiply-adds; non-negative "
        "least squares on relative errors over the measured iterations):",
        "",
        "| term | W | a (s) | b (s per 10⁹) | points |",
        "|---|---|---|---|---|",
    ]
    desc = {f"init:{k}": v for k, v in INIT_WORK.items()}
    desc.update({f"query:{k}": v for k, v in QUERY_WORK.items()})
    desc.update({"fit": "|L|·d·C·epochs", "eval": "N_test·d·C"})
    for key, t in sorted(model["terms"].items()):
        lines.append(f"| {key} | {desc.get(key, '')} | {t['a']:.3g} | {t['b']:.3g} | {t['n']} |")
    lines += [
        "",
        "Measured cells (synthetic pools, noise "
        f"{NOISE}; seed 1) against the model over the same iterations:",
        "",
        "| shape | fitted | strategy | N | d | C | iterations | measured s | modelled s | error | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in res["checks"]:
        lines.append(
            f"| {c['shape']} | {'yes' if c['fitted'] else 'held out'} | {c['strategy']} | {c['N']} "
            f"| {c['d']} | {c['C']} | {c['iterations']} "
            f"| {c['measured_s']:.3g} | {c['modelled_s']:.3g} | {c['error']:+.0%} | {c['wall_s']:.3g} |"
        )
    for fitted in (True, False):
        errs = sorted(abs(c["error"]) for c in res["checks"] if c["fitted"] == fitted)
        if errs:
            lines.append(
                f"\n{'Fitted' if fitted else 'Held-out'} cells: median |error| "
                f"{errs[len(errs) // 2]:.0%}, largest {errs[-1]:.0%} ({len(errs)} cells)."
            )
    failed = [r for r in res["rows"] if r.get("status", "ok") != "ok"]
    missing = [s for s in grid["strategies"] if not any(c["strategy"] == s for c in res["checks"])]
    if failed or missing:
        lines += ["", "Not measured: " + "; ".join(f"{r['shape']}: {r['note']}" for r in failed)]
        if missing:
            lines[-1] += f" (no rows for {', '.join(missing)}: their cells are blank)"
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--out",
        type=Path,
        help="results folder (default results/latest; quick/smoke: results/quick)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="smaller pools, fewer iterations (~2 min)"
    )
    size.add_argument(
        "--smoke", action="store_true", help="tiny pools, in-process: checks the code runs"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument(
        "--deadline", type=float, default=math.inf, help="stop measuring after S seconds"
    )
    p.add_argument(
        "--epochs",
        type=float,
        help="probe epochs per fit to extrapolate with (default: measured mean)",
    )
    p.add_argument("--tag", default=None, help="output suffix (default: _quick/_smoke, _cuda)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print("--device cuda: no CUDA device is visible to torch.", file=sys.stderr)
            return 2
    tag = args.tag
    if tag is None:
        tag = ("" if mode == "full" else f"_{mode}") + ("" if args.device == "cpu" else "_cuda")
    cmd = " ".join(["python", "benchmarks/grid_cost.py", *(sys.argv[1:] if argv is None else argv)])
    run(mode, args.out, args.device, args.deadline, tag, args.epochs, cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
