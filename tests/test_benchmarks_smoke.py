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
