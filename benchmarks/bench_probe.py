"""Probe fit: seconds and epochs per fit, per-epoch cost against torch baselines, and a full run.

``fit`` child: for each labeled-set size n (one batch: n ≤ 4096), on the synthetic pool
(d, C of the mode):

* ``alkit``: ``LinearProbe(C).fit(x[:n], y[:n])`` — seconds, epochs run, seconds per epoch;
* ``linear``: the bare linear layer, ``nn.Linear`` forward + cross-entropy backward + ``AdamW``
  step on the same batch (the floor an epoch cannot go below);
* ``modules``: ``nn.Dropout(p) → nn.BatchNorm1d(d, affine=False) → nn.Linear`` in train mode,
  same loss and optimiser (what a straightforward torch probe costs).

Each implementation is warmed up once before it is timed; the torch baselines time a fixed
number of epochs. ``run`` child: a full DropQuery run (``ActiveLearner``: the centroid initial
pool, then DropQuery) with per-iteration query, fit and evaluation times.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from common import (
    Mode,
    effective_mem_limit_gib,
    mode_dict,
    mode_from_dict,
    run_case,
    status_row,
    synthetic_x,
)

BASELINE_EPOCHS = 30


def _torch_epochs(x, y, C: int, kind: str, epochs: int, dropout: float) -> float:
    """Seconds per epoch of a plain torch probe (one batch = one epoch) after one warm-up epoch."""
    import torch

    d = x.shape[1]
    torch.manual_seed(0)
    lin = torch.nn.Linear(d, C)
    model = (
        lin
        if kind == "linear"
        else torch.nn.Sequential(
            torch.nn.Dropout(dropout), torch.nn.BatchNorm1d(d, affine=False), lin
        )
    )
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch() -> None:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        float(loss.detach())

    epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return (time.perf_counter() - t0) / epochs


def fit_case(emit, mode: dict[str, Any], device: str = "cpu") -> None:
    """Child: probe fits at every size of ``mode.probe_sizes`` and the two torch baselines."""
    import torch

    import alkit

    m = mode_from_dict(mode)
    C, d = m.probe_c, m.probe_d
    n_max = max(m.probe_sizes)
    x, y = synthetic_x(max(n_max, 2 * C), d, C, seed=0)
    kw = {} if "max_epochs" not in m.extra else {"max_epochs": int(m.extra["max_epochs"])}
    alkit.LinearProbe(C, seed=0, device=device, **kw).fit(
        x[: min(n_max, 50)], y[: min(n_max, 50)]
    )  # warm-up
    epochs = 2 if m.name == "smoke" else BASELINE_EPOCHS
    for n in m.probe_sizes:
        xs, ys = x[:n], y[:n]
        probe = alkit.LinearProbe(C, seed=0, device=device, **kw)
        t0 = time.perf_counter()
        probe.fit(xs, ys)
        secs = time.perf_counter() - t0
        per_alkit = secs / max(probe.n_epochs_, 1)
        base = {
            "n_labeled": n,
            "d": d,
            "C": C,
            "device": device,
            "torch_threads": torch.get_num_threads(),
        }
        lin = _torch_epochs(xs, ys, C, "linear", epochs, probe.config.dropout)
        mod = _torch_epochs(xs, ys, C, "modules", epochs, probe.config.dropout)
        emit(
            {
                **base,
                "impl": "alkit LinearProbe",
                "fit_seconds": secs,
                "epochs": probe.n_epochs_,
                "seconds_per_epoch": per_alkit,
                "ratio_to_linear": per_alkit / lin,
            }
        )
        emit(
            {
                **base,
                "impl": "nn.Linear + AdamW",
                "epochs": epochs,
                "seconds_per_epoch": lin,
                "ratio_to_linear": 1.0,
            }
        )
        emit(
            {
                **base,
                "impl": "nn.Dropout+BatchNorm1d+Linear + AdamW",
                "epochs": epochs,
                "seconds_per_epoch": mod,
                "ratio_to_linear": mod / lin,
            }
        )


def run_case_e2e(emit, mode: dict[str, Any], device: str = "cpu") -> None:
    """Child: the end-to-end DropQuery run, one row per iteration (written as it finishes)."""
    import numpy as np

    import alkit

    m = mode_from_dict(mode)
    r = m.probe_run
    t0 = time.perf_counter()
    emb = alkit.load_embeddings(f"synthetic:N={r['N']},d={r['d']},C={r['C']},seed=0")
    gen = time.perf_counter() - t0
    probe = {} if "max_epochs" not in m.extra else {"max_epochs": int(m.extra["max_epochs"])}
    al = alkit.ActiveLearner(emb, "dropquery", seed=0, device=device, probe=probe)
    total = 0.0
    for it in range(1, r["iterations"] + 1):
        t = time.perf_counter()
        sel = al.query()
        tq = time.perf_counter() - t
        al.teach(sel.indices, emb.y_train[sel.indices])
        t = time.perf_counter()
        al.fit()
        tf = time.perf_counter() - t
        t = time.perf_counter()
        acc = al.evaluate(emb.x_test, emb.y_test)["accuracy"]
        te = time.perf_counter() - t
        total += tq + tf + te
        emit(
            {
                "iteration": it,
                "n_labeled": al.n_labeled,
                "phase": sel.info.get("phase"),
                "query_seconds": tq,
                "fit_seconds": tf,
                "fit_epochs": int(al.probe.n_epochs_),
                "eval_seconds": te,
                "cumulative_seconds": total,
                "accuracy": float(acc),
                "n_candidates": sel.info.get("n_candidates"),
                "N": r["N"],
                "d": r["d"],
                "C": r["C"],
                "data_seconds": gen,
                "device": device,
                "n_test": int(len(emb.y_test)),
                "threshold": sel.info.get("threshold", np.nan),
            }
        )


def run(mode: Mode, out: Path, device: str = "cpu", log=print) -> tuple[list[dict], list[dict]]:
    """Parent: the fit child, then the end-to-end child. Returns (fit rows, run rows)."""
    mem = effective_mem_limit_gib(mode.mem_limit_gib)
    res = run_case(
        "bench_probe:fit_case",
        {"mode": mode_dict(mode), "device": device},
        mode.probe_timeout_s,
        mem,
        out / "_work" / "probe_fit.jsonl",
        in_process=mode.in_process,
    )
    fit_rows = list(res.rows)
    if res.status != "ok":
        fit_rows.append(status_row({"impl": "alkit LinearProbe"}, res))
    for r in res.rows:
        log(
            f"  probe n={r['n_labeled']:5d} {r['impl']:38s} {r['seconds_per_epoch'] * 1e3:8.2f} ms/epoch"
            + (f"  {r['epochs']} epochs, {r['fit_seconds']:.2f} s" if "fit_seconds" in r else "")
        )
    run_rows: list[dict] = []
    if mode.probe_run:
        res = run_case(
            "bench_probe:run_case_e2e",
            {"mode": mode_dict(mode), "device": device},
            mode.probe_timeout_s,
            mem,
            out / "_work" / "probe_run.jsonl",
            in_process=mode.in_process,
        )
        run_rows = list(res.rows)
        if res.status != "ok":
            run_rows.append(status_row({"iteration": None}, res))
        done = [r for r in res.rows if "cumulative_seconds" in r]
        if done:
            log(
                f"  dropquery run: {len(done)} iterations in {done[-1]['cumulative_seconds']:.1f} s "
                f"(status {res.status})"
            )
        else:
            log(f"  dropquery run: {res.status} {res.message}")
    return fit_rows, run_rows
