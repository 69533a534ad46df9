"""Keeps the benchmark scripts from rotting: the runner's limits and a tiny in-process suite.

No timing assertions: only that every benchmark runs, writes its files and records a reason
for whatever it could not measure.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def common():
    sys.path.insert(0, str(BENCH))
    try:
        import common as mod

        yield mod
    finally:
        sys.path.remove(str(BENCH))


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    "action, kwargs, timeout, mem, status, n_rows",
    [
        ("ok", {}, 30, 2.0, "ok", 1),
        ("sleep", {"seconds": 60}, 2, 2.0, "timeout", 1),  # the row emitted before the kill is kept
        ("alloc", {"gib": 4.0}, 30, 1.0, "oom", 1),  # RLIMIT_AS turns it into a MemoryError
        ("raise", {}, 30, 2.0, "error", 1),
    ],
)
def test_runner_limits(common, tmp_path, action, kwargs, timeout, mem, status, n_rows):
    res = common.run_case(
        "common:selftest", {"action": action, **kwargs}, timeout, mem, tmp_path / "r.jsonl"
    )
    assert res.status == status, res.message
    assert len(res.rows) == n_rows
    if status != "ok":
        assert res.message


def test_peak_rss_is_reset_between_measurements(common):
    import numpy as np

    _, peak_big, before, _ = common.measure(lambda: np.ones(50_000_000).sum())  # ≈ 380 MiB
    _, peak_small, _, _ = common.measure(lambda: np.ones(10).sum())
    assert peak_big - before > 200
    assert peak_small < peak_big - 200


def test_smoke_suite(tmp_path):
    out = tmp_path / "res"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for name in (
        "query",
        "query_summary",
        "peer",
        "probe_fit",
        "probe_run",
        "scaling",
        "propagation",
    ):
        assert (out / f"{name}_smoke.csv").exists(), name
    assert (out / "summary_smoke.png").stat().st_size > 0
    machine = json.loads((out / "machine_smoke.json").read_text())
    assert machine["cpu_cores"] >= 1 and machine["torch_version"]
    summary = _read(out / "query_summary_smoke.csv")
    import alkit

    for row in summary:
        if row["strategy"] in alkit.strategies.available():
            assert row["status"] == "ok", row  # every registered strategy was measured
            assert float(row["seconds"]) >= 0
            if row["strategy"] != "random":
                assert float(row["limit_seconds"]) > 0, row  # and its arithmetic limit
        else:
            assert row["status"] == "skipped" and row["note"]  # graceful when not written yet
    peers = _read(out / "peer_smoke.csv")
    assert peers and all(r["status"] in ("ok", "timeout", "oom") for r in peers)
    ok_peers = [r for r in peers if r["status"] == "ok"]
    assert all(int(r["n_unique_unlabeled"]) == int(r["budget"]) for r in ok_peers)
    fit = _read(out / "probe_fit_smoke.csv")
    assert {r["impl"] for r in fit} >= {"alkit LinearProbe", "nn.Linear + AdamW"}
    run = _read(out / "probe_run_smoke.csv")
    assert [int(r["iteration"]) for r in run] == [1, 2, 3]
    assert all(r["status"] in ("ok", "skipped") for r in _read(out / "scaling_smoke.csv"))
    assert "Per query" in (out / "summary_smoke.md").read_text()


# ---------------------------------------------------------------------------- the paper's grid, costed
@pytest.fixture(scope="module")
def grid_model():
    sys.path.insert(0, str(BENCH))
    try:
        import grid_model as mod

        yield mod
    finally:
        sys.path.remove(str(BENCH))


def _exact_rows(gc, coef: dict[str, tuple[float, list[float]]]) -> list[dict]:
    """Per-iteration rows whose times follow ``coef`` exactly (two shapes, every paper strategy)."""

    def secs(key, w):
        a, b = coef[key]
        return a + sum(bk * wk for bk, wk in zip(b, w))

    rows = []
    strategies = gc.grid_cells()["strategies"]
    for name, N, d, C, n_test in (("a", 600, 16, 5, 100), ("b", 3000, 48, 12, 400)):
        shape = dict(N=N, d=d, C=C)
        for s in strategies:
            kind = gc._init_kind(s)
            for it in range(1, 5):
                before, after, epochs = C * (it - 1), C * it, 30 + 7 * it * (name == "a")
                key, k = (f"init:{kind}", kind) if it == 1 else (f"query:{s}", s)
                t = {
                    "query": secs(key, gc.work(key.split(":")[0], k, L=before, **shape)),
                    "fit": secs("fit", gc.work("fit", "", L=after, epochs=epochs, **shape)),
                    "eval": secs("eval", gc.work("eval", "", n_test=n_test, **shape)),
                }
                rows.append(
                    dict(shape=name, strategy=s, iteration=it, N_test=n_test, fit_epochs=epochs)
                )
                rows[-1].update(labeled_before=before, labeled_after=after, **shape)
                rows[-1].update(
                    {f"{ph}_{m}": v for ph, v in t.items() for m in ("cpu_s", "wall_s")}
                )
    return rows


def test_grid_cost_model_reproduces_its_cells_and_sums_the_grid(grid_model):
    gc = grid_model
    keys = [f"init:{k}" for k in gc.INIT_WORK] + [f"query:{s}" for s in gc.QUERY_WORK]
    coef = {k: (0.01 * (i + 1), [0.5 * (i + 1)]) for i, k in enumerate(keys + ["eval"])}
    coef["fit"] = (0.02, [3.0, 0.7])  # the optimiser's steps and the batch's products
    coef["query:typiclust"] = (0.01, [0.2])
    rows = _exact_rows(gc, coef)
    model = gc.fit_model(rows, "cpu_s")
    for key, (a, b) in coef.items():
        t = model["terms"][key]
        assert t["a"] == pytest.approx(a, rel=1e-6, abs=1e-9), key
        assert t["b"] == pytest.approx(b, rel=1e-6), key
    checks = gc.measured_vs_model(model, rows)
    assert len(checks) == 2 * 12 and all(abs(c["error"]) < 1e-6 for c in checks)
    grid = gc.grid_cells()
    assert len({s["dataset"] for s in grid["settings"]}) == 7 and len(grid["settings"]) == 7 * 9
    assert len(grid["strategies"]) == 12 and len(grid["seeds"]) == 5 and grid["iterations"] == 20
    pred = gc.extrapolate(model, grid)
    assert len(pred) == 7 * 9 * 12 and sum(r["seeds"] for r in pred) == 3780
    for r in pred:
        assert r["cell_s"] == pytest.approx(r["init_s"] + r["query_s"] + r["fit_s"] + r["eval_s"])
        assert r["seeds_s"] == pytest.approx(5 * r["cell_s"]) and r["cell_s"] > 0
    total = sum(r["seeds_s"] for r in pred)
    assert sum(gc.totals(pred, "strategy").values()) == pytest.approx(total)
    assert sum(gc.totals(pred, "dataset").values()) == pytest.approx(total)
    cifar = next(s for s in grid["settings"] if s["dataset"] == "cifar100")
    assert (cifar["N"], cifar["N_test"], cifar["C"]) == (50000, 10000, 100)


def test_gpu_cells_runs_the_grid_cost_path_on_cpu(tmp_path):
    out = tmp_path / "g"
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_cells

        assert gpu_cells.main(["--device", "cpu", "--smoke", "--out", str(out)]) == 0
    finally:
        sys.path.remove(str(BENCH))
    pred = _read(out / "grid_cost_smoke_gpu_cells.csv")
    assert len(pred) == 7 * 9 * 12 and {r["strategy"] for r in pred} >= {"dropquery", "probcover"}
    cells = _read(out / "grid_cells_smoke_gpu_cells.csv")
    assert {r["strategy"] for r in cells if r.get("iteration")} == {r["strategy"] for r in pred}
    md = (out / "grid_cost_smoke_gpu_cells.md").read_text()
    assert "Total:" in md and "Measured cells" in md
    assert json.loads((out / "machine_grid_smoke_gpu_cells.json").read_text())["model"]["terms"]


def test_gpu_cells_without_cuda_exits_2(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_cells

        assert gpu_cells.main(["--out", "/nonexistent/never-written"]) == 2
    finally:
        sys.path.remove(str(BENCH))
    assert "no CUDA device" in capsys.readouterr().err


def test_run_py_dispatches_grid():
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "grid" in proc.stdout


def test_probcover_phases_times_every_phase(capsys):
    sys.path.insert(0, str(BENCH))
    try:
        import probcover_phases

        assert probcover_phases.main(["--n", "3000", "--d", "32", "--classes", "10"]) == 0
    finally:
        sys.path.remove(str(BENCH))
    out = capsys.readouterr().out
    for phase in ("pseudo-class k-means", "inverted lists", "range pass", "graph cut", "greedy"):
        assert phase in out
    assert "| query (all but the pool) |" in out
