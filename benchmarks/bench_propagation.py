"""Label propagation: graph build and the iterations at N = 50 000, k = 500 (the paper's setting).

One child: ``alkit.propagation.LabelPropagator(k=…)`` on a synthetic pool; times the graph
build (exact kNN on the L2-normalised features, weights, symmetrisation, normalisation:
``LabelPropagator.graph``) and then ``scores`` with C labeled points (one per class, as at the
first AL iteration) and with 20·C, reporting the iterations run and the graph's size. Skipped
with a reason when ``alkit.propagation`` has no ``LabelPropagator``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import (
    Mode,
    effective_mem_limit_gib,
    measure,
    mode_dict,
    mode_from_dict,
    run_case,
    status_row,
    synthetic_x,
)


def case(emit, mode: dict[str, Any], device: str = "cpu") -> None:
    """Child: build the graph once, then propagate at two labeled-set sizes."""
    import numpy as np

    m = mode_from_dict(mode)
    p = m.propagation
    C = m.query["C"] if m.name != "smoke" else 5
    base = {"N": p["N"], "d": p["d"], "k": p["k"], "C": C, "device": device}
    try:
        from alkit.propagation import LabelPropagator
    except ImportError as exc:
        emit(
            {
                **base,
                "step": "all",
                "status": "skipped",
                "note": f"alkit.propagation unavailable: {exc}",
            }
        )
        return
    x, y = synthetic_x(p["N"], p["d"], C, seed=0)
    lp = LabelPropagator(device=device, k=p["k"])
    secs, peak, before, graph = measure(lambda: lp.graph(x))
    emit(
        {
            **base,
            "step": "graph build",
            "status": "ok",
            "seconds": secs,
            "peak_rss_mib": peak,
            "rss_before_mib": before,
            "n_edges": int(graph.nnz),
            "graph_mib": (graph.data.nbytes + graph.indices.nbytes + graph.indptr.nbytes) / 2**20,
        }
    )
    rng = np.random.default_rng(0)
    for per_class in (1, 20):
        lab = np.concatenate(
            [
                rng.choice(
                    np.flatnonzero(y == c), min(per_class, int((y == c).sum())), replace=False
                )
                for c in range(C)
                if (y == c).any()
            ]
        )
        secs, peak, before, _ = measure(lambda lab=lab: lp.propagate(x, lab, y[lab], C))
        emit(
            {
                **base,
                "step": f"propagate |L|={len(lab)}",
                "status": "ok",
                "seconds": secs,
                "peak_rss_mib": peak,
                "rss_before_mib": before,
                "n_iter": int(lp.last_n_iter),
                "seconds_per_iter": secs / max(lp.last_n_iter, 1),
                "n_graph_builds": int(lp.n_graph_builds),
            }
        )


def run(mode: Mode, out: Path, device: str = "cpu", log=print) -> list[dict[str, Any]]:
    """Parent: the propagation child with its limits."""
    res = run_case(
        "bench_propagation:case",
        {"mode": mode_dict(mode), "device": device},
        mode.propagation_timeout_s,
        effective_mem_limit_gib(mode.mem_limit_gib),
        out / "_work" / "propagation.jsonl",
        in_process=mode.in_process,
    )
    rows = list(res.rows)
    if res.status != "ok":
        rows.append(status_row({"step": "all", **mode.propagation}, res))
    for r in res.rows:
        log(
            f"  propagation {r['step']:22s} {r['status']:7s} {r.get('seconds', float('nan')):8.2f} s"
            + (f"  ({r['n_iter']} iterations)" if "n_iter" in r else "")
        )
    if res.status != "ok":
        log(f"  propagation: {res.status} {res.message}")
    return rows
