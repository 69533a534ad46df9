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
2. fits, by non-negative least squares on relative errors, one linear model ``a + Σ b·W`` per
   phase, where W is the phase's arithmetic (``grid_model.work``): the initial pool per pool
   kind, the query per strategy, the probe fit (d·C·epochs for the optimiser, |L|·d·C·epochs
   for the batch) and the evaluation (N_test·d·C);
3. extrapolates to every (data set, backbone) of the grid with N, N_test and C from the data
   cards (``data_cards/*.yaml``) and d from the backbone registry (``alkit.embedding``).

Usage::

    python benchmarks/grid_cost.py                    # → results/latest/grid_cost{.csv,.md}, machine_grid.json
    python benchmarks/grid_cost.py --quick            # ~2 minutes → results/quick/
    python benchmarks/grid_cost.py --smoke --out /tmp/g   # seconds, in-process (the test)
    python benchmarks/grid_cost.py --device cuda      # the same cells on a GPU (see gpu_cells.py)
    python benchmarks/grid_cost.py --from-cells results/latest/grid_cells.csv   # refit, no measuring
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
from grid_model import (  # noqa: E402
    FIT_WORK,
    INIT_WORK,
    QUERY_WORK,
    extrapolate,
    fit_model,
    grid_cells,
    grid_total,
    measured_vs_model,
    read_cells,
    totals,
)

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
        dict(name="tiny", N=400, d=16, C=5, test=100, iterations=2),
        dict(name="tiny2", N=800, d=24, C=8, test=100, iterations=2),
    ],
}
#: The setting whose per-cell times the report lists (the shape of the suite's per-query problem).
REFERENCE = ("cifar100", "dinov2:vitg14")
#: Soft wall-clock budget of one measured cell: no new iteration starts after it (≥ 2 run).
CELL_BUDGET_S = {"full": 120.0, "quick": 20.0, "smoke": 30.0}


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
        # one unmeasured run first: torch's, faiss's and the probe's one-off start-up (≈ 1–2 s)
        # would otherwise be charged to the first strategy measured
        warm = alkit.ActiveLearner(emb, "random", seed=0, device=device)
        for _ in range(2):
            sel = warm.query()
            warm.teach(sel.indices, emb.y_train[sel.indices])
            warm.fit()
            warm.evaluate(emb.x_test, emb.y_test)
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
    cells: Path | None = None,
) -> dict[str, Any]:
    """Measure the cells, fit the model, extrapolate, write ``grid_cost{tag}.csv/.md``,
    ``grid_cells{tag}.csv`` and ``machine_grid{tag}.json``. Returns the results as a dict.

    With ``cells`` (a ``grid_cells*.csv``) nothing is measured: its rows are refitted and the
    report rewritten, keeping the measurement's ``machine_grid*.json`` from beside it."""
    t_start = time.time()
    deadline = t_start + deadline_s
    out = Path(out or HERE / "results" / ("latest" if mode == "full" else "quick"))
    out.mkdir(parents=True, exist_ok=True)
    grid = grid_cells()
    rows: list[dict] = []
    if cells is not None:
        rows = read_cells(cells)
        device = next((r["device"] for r in rows if r.get("device")), device)
        saved = Path(cells).parent / Path(cells).name.replace("grid_cells", "machine_grid")
        saved = saved.with_suffix(".json")
        machine = json.loads(saved.read_text()) if saved.exists() else machine_info(device)
        machine["refit_command"] = command
    else:
        machine = machine_info(device)
        machine.update(mode=mode, command=command, grid=grid["name"], noise=NOISE)
    metric = "cpu_s" if device == "cpu" else "wall_s"
    for shape in [] if cells is not None else SHAPES[mode]:
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
    if cells is None:
        machine["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
        machine["load_average_at_end"] = list(__import__("os").getloadavg())
        machine["seconds"] = round(time.time() - t_start, 1)
    machine["model"] = model
    res = dict(grid=grid, rows=rows, model=model, predicted=predicted, checks=checks)
    write_csv(predicted, out / f"grid_cost{tag}.csv")
    write_csv(rows, out / f"grid_cells{tag}.csv")
    (out / f"machine_grid{tag}.json").write_text(json.dumps(machine, indent=2, default=str))
    (out / f"grid_cost{tag}.md").write_text(markdown(res, machine, device))
    log(f"  grid total {_fmt_s(grid_total(predicted))} ({metric}) → {out}")
    return res


def markdown(res: dict, machine: dict, device: str) -> str:
    """The report: the grid's total, the breakdowns, the model and its error on the measured cells."""
    grid, model, pred = res["grid"], res["model"], res["predicted"]
    total = grid_total(pred)
    if not res["checks"] or total <= 0:
        notes = "; ".join(f"{r['shape']}: {r.get('note')}" for r in res["rows"] if "note" in r)
        return (
            f"# The paper's grid, costed ({device})\n\nNothing was measured (a deadline or a "
            f"failure{': ' + notes if notes else ''}); command `{machine.get('command')}`.\n"
        )
    n_cells = len(pred) * len(grid["seeds"])
    what = "single-thread CPU" if device == "cpu" else f"{device} wall-clock"
    hw = f"{machine['cpu_model']}, {machine['cpu_cores']} cores" + (
        f", GPU {machine.get('gpu')}" if device != "cpu" else ""
    )
    fit_s = grid_total(pred, "fit_s")
    capped = grid_total(extrapolate(model, grid, epochs=400))
    lines = [
        f"# The paper's grid, costed ({device})",
        "",
        f"Grid `{grid['name']}`: {len({r['dataset'] for r in pred})} data sets × "
        f"{len({r['backbone'] for r in pred})} backbones × {len(grid['strategies'])} strategies × "
        f"{len(grid['seeds'])} seeds = {n_cells} cells of {grid['iterations']} iterations. "
        f"Machine: {hw}; load average {machine['load_average_1_5_15'][0]:.2f} at the start, "
        f"{machine.get('load_average_at_end', [math.nan])[0]:.2f} at the end; "
        f"command `{machine.get('command')}`"
        + (f", refitted by `{machine['refit_command']}`." if machine.get("refit_command") else "."),
        "",
        f"**Total: {total / 3600:.1f} h of {what} time** ({total:.3g} s)"
        + (
            f", i.e. {total / 2 / 3600:.1f} h = {total / 2 / 86400:.1f} days of wall time on 2 cores "
            "(two one-thread cells at a time, as `alkit sweep` runs them)."
            if device == "cpu"
            else ", one cell at a time on one GPU."
        ),
        f"The probe fit is {fit_s / total:.0%} of it at {model['epochs']:.0f} epochs per fit (the "
        "mean on the synthetic pools, early stopping); were every fit to run the cap of 400 "
        f"epochs, the grid would take {capped / 3600:.0f} h.",
        "",
        f"| strategy | seconds per cell, {REFERENCE[0]} × {REFERENCE[1]} | mean cell of the grid "
        "| share of grid | grid total |",
        "|---|---|---|---|---|",
    ]
    by_s = totals(pred, "strategy")
    for s in grid["strategies"]:
        ref = next(
            (r for r in pred if r["strategy"] == s and (r["dataset"], r["backbone"]) == REFERENCE),
            None,
        )
        n = sum(r["seeds"] for r in pred if r["strategy"] == s)
        lines.append(
            f"| {s} | {_fmt_s(ref['cell_s']) if ref else '—'} | {_fmt_s(by_s[s] / n)} "
            f"| {by_s[s] / total:.1%} | {_fmt_s(by_s[s])} |"
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
        f"Model (`{model['metric']}` per phase = a + Σ b·W, W in 10⁹ multiply-adds; non-negative "
        "least squares on relative errors over the measured iterations):",
        "",
        "| term | W | a (s) | b (s per 10⁹) | points |",
        "|---|---|---|---|---|",
    ]
    desc = {f"init:{k}": v for k, v in INIT_WORK.items()}
    desc.update({f"query:{k}": v for k, v in QUERY_WORK.items()})
    desc.update({"fit": ", ".join(FIT_WORK), "eval": "N_test·d·C"})
    for key, t in sorted(model["terms"].items()):
        bs = ", ".join(f"{b:.3g}" for b in t["b"])
        lines.append(f"| {key} | {desc.get(key, '')} | {t['a']:.3g} | {bs} | {t['n']} |")
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
    failed = [r for r in res["rows"] if (r.get("status") or "ok") != "ok"]
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
    p.add_argument(
        "--from-cells",
        type=Path,
        metavar="CSV",
        help="measure nothing: refit a grid_cells*.csv and rewrite the report (into --out)",
    )
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
    run(mode, args.out, args.device, args.deadline, tag, args.epochs, cmd, cells=args.from_cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
