"""alkit.sweep: grid validation, cell hashing, serial / LocalCluster / external Dask runs,
resume after a kill, corrupt results, recorded failures, CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import alkit
from alkit import strategies
from alkit import sweep as sw
from alkit.errors import GridError, MissingResourceError
from alkit.loop import RESULT_COLUMNS
from alkit.sweep import embeddings as sw_embeddings

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "sweep_tiny.yaml"
TIMING = [c for c in RESULT_COLUMNS if c.endswith("_seconds")]
ORDER = [
    "dataset",
    "backbone",
    "method",
    "initial_pool",
    "propagate",
    "budget",
    "seed",
    "iteration",
]
PLUGIN = "tests.sweep_plugins"

# digits, 2 real strategies + one that always raises, 2 seeds, 3 iterations, short probe
DIST_GRID = {
    "name": "dist",
    "datasets": ["digits"],
    "strategies": ["random", "entropy", "sweep_test_fails"],
    "seeds": [1, 2],
    "iterations": 3,
    "probe": {"max_epochs": 30},
    "device": "cpu",
    "imports": [PLUGIN],
}


@pytest.fixture(scope="module", autouse=True)
def _unregister_test_strategies():
    """The test strategies must not leak into other modules' registry-wide tests."""
    yield
    for name in ("sweep_test_fails", "sweep_test_slow", "sweep_test_close_worker"):
        strategies.unregister(name)
    sys.modules.pop(PLUGIN, None)


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Every column but the timings, in a canonical row order."""
    return df.drop(columns=TIMING).sort_values(ORDER).reset_index(drop=True)


def result_files(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("*.parquet") if not p.name.startswith("."))


def failed_hashes(df: pd.DataFrame) -> set[str]:
    return {f["hash"] for f in df.attrs["failures"]}


@pytest.fixture(scope="module")
def serial_dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial_dist")
    return sw.sweep(DIST_GRID, out, scheduler="serial", progress=False)


# ------------------------------------------------------------------------------------ validation
MALFORMED = [
    ({"colour": "red"}, "colour"),  # unknown axis
    ({"strategies": ["random", "no_such_strategy"]}, "strategies[1]"),  # unknown strategy
    ({"seeds": []}, "seeds"),  # empty axis
    ({"strategies": []}, "strategies"),
    ({"datasets": []}, "settings"),  # no settings at all
    ({"iterations": "3"}, "iterations"),  # wrong type
    ({"seeds": [1, 2.5]}, "seeds[1]"),
    ({"seeds": [True]}, "seeds[0]"),
    ({"budget": 0}, "budget"),
    ({"initial_pools": ["random", "bogus"]}, "initial_pools[1]"),
    ({"strategies": [{"name": "entropy", "params": {"bogus": 1}}]}, "strategies[0].params"),
    ({"strategies": [{"strategy": "entropy"}]}, "strategies[0]"),
    ({"exclude": [{"colour": "red"}]}, "exclude[0]"),
    ({"probe": {"max_epoch": 3}}, "probe"),
    ({"propagation": ["yes"]}, "propagation[0]"),
    ({"datasets": [], "settings": [{"dataset": "cifar100"}]}, "settings[0]"),
    ({"imports": ["no_such_module_xyz"]}, "imports[0]"),
    ({"strategies": [{"name": "entropy", "params": {"cluster": "nope"}}]}, "strategies[0].params"),
    ({"exclude": [{"strategy": "entropyy"}]}, "exclude[0]"),  # a typo would exclude nothing
    ({"exclude": [{"seed": 3}]}, "exclude[0]"),
    ({"name": "../../x"}, "'name'"),  # names .grid-<name>.json inside --out
    ({"name": "a/b"}, "'name'"),
    ({"propagation": [{"kk": 10}]}, "propagation[0]"),
    ({"propagation": [{"k": 0}]}, "propagation[0]"),
    ({"budget": 2000}, "budget 2000"),  # more labels than the pool: found before any cell
    ({"iterations": 500}, "iterations 500"),
]


@pytest.mark.parametrize("change,field", MALFORMED)
def test_malformed_grid_rejected_before_anything_runs(tmp_path, change, field):
    grid = {
        "datasets": ["digits"],
        "strategies": ["random"],
        "seeds": [1],
        "iterations": 2,
        **change,
    }
    out = tmp_path / "out"
    with pytest.raises(GridError) as err:
        sw.sweep(grid, out, scheduler="serial", progress=False)
    assert field in str(err.value)
    assert not out.exists()


def test_grid_text_values_and_checks_name_what_is_wrong(tmp_path):
    grid = {"datasets": ["digits"], "strategies": ["random"], "seeds": [1], "iterations": 2}
    # grid files are text: boolean spellings are read, not coerced by truthiness
    loaded = sw.load_grid(
        {**grid, "strategies": [{"name": "entropy", "params": {"cluster": "no"}}]}
    )
    assert loaded["strategies"][0]["params"]["cluster"] is False
    assert loaded["strategies"][0]["method"] == "entropy"
    with pytest.raises(GridError, match=r"strategies\[0\]\.params.*cluster.*'nope'"):
        sw.load_grid({**grid, "strategies": [{"name": "entropy", "params": {"cluster": "nope"}}]})
    typo = {**grid, "strategies": ["random", "entropy"], "exclude": [{"strategy": "entropyy"}]}
    with pytest.raises(GridError) as err:
        sw.load_grid(typo)
    msg = str(err.value)
    assert "exclude[0]" in msg and "strategy 'entropyy'" in msg and "'entropy', 'random'" in msg
    assert "Did you mean 'entropy'?" in msg
    # the dataset of a `datasets:` entry is known once its embeddings are read
    by_dataset = {**grid, "exclude": [{"dataset": "digitz"}]}
    assert len(sw.expand_grid(by_dataset, resolve=False)) == 1
    with pytest.raises(GridError, match=r"exclude\[0\].*dataset 'digitz'.*valid: 'digits'"):
        sw.expand_grid(by_dataset)
    assert sw.expand_grid({**grid, "exclude": [{"dataset": "digits"}]}) == []
    with pytest.raises(GridError, match=r"propagation\[0\].*\['kk'\].*Did you mean 'k'"):
        sw.load_grid({**grid, "propagation": [{"kk": 10}]})
    with pytest.raises(GridError, match=r"budget 2000.*need 2010 labels > 1257 pool points"):
        sw.expand_grid({**grid, "budget": 2000})
    out = tmp_path / "inner" / "out"
    with pytest.raises(GridError, match="simple name"):
        sw.sweep({**grid, "name": "../../escaped"}, out, scheduler="serial", progress=False)
    assert not list(tmp_path.rglob("*escaped*"))


def test_malformed_yaml_file_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("datasets: [digits]\nstrategies: [random]\nseedz: [1]\n")
    with pytest.raises(GridError, match=r"bad\.yaml.*seedz"):
        sw.load_grid(path)
    with pytest.raises(GridError, match="shipped grids"):
        sw.load_grid("no_such_grid")


def test_missing_embeddings_listed_with_commands(tmp_path):
    grid = {
        "settings": [{"dataset": ["cifar100", "food101"], "backbone": "dinov2:vitg14"}],
        "strategies": ["random"],
        "seeds": [1],
    }
    with pytest.raises(MissingResourceError) as err:
        sw.sweep(grid, tmp_path / "out", scheduler="serial", progress=False)
    assert "alkit embed --dataset cifar100 --backbone dinov2:vitg14" in str(err.value)
    assert "alkit embed --dataset food101 --backbone dinov2:vitg14" in str(err.value)
    assert not (tmp_path / "out").exists()
    # counting cells needs no embeddings
    assert len(sw.expand_grid(grid, resolve=False)) == 2


# ------------------------------------------------------------------------------ expansion, hashes
def test_expansion_exclude_and_dedupe():
    grid = {
        "datasets": ["digits", "synthetic:N=300,d=8,C=3,seed=0"],
        "strategies": [
            "random",
            "entropy",
            {"name": "entropy", "params": {"cluster": False}},
            {"name": "entropy", "params": {"cluster": True}},
        ],
        "initial_pools": ["default", "random", "centroids"],
        "seeds": [1, 2],
        "iterations": 2,
        "exclude": [
            {"dataset": "digits", "method": "entropy+cluster"},
            {"backbone": "synthetic", "initial_pool": "centroids"},
        ],
    }
    cells = sw.expand_grid(grid)
    # "entropy" listed twice is one method; "default" = "random" for these strategies
    assert sorted({c.method for c in cells}) == ["entropy", "entropy+cluster", "random"]
    assert len({c.hash for c in cells}) == len(cells)
    n_digits = 2 * 2 * 2  # random/entropy × pools {random, centroids} × seeds
    n_synth = 3 * 1 * 2  # 3 methods × pool random × seeds
    assert len(cells) == n_digits + n_synth
    assert not any(c.dataset == "digits" and c.method == "entropy+cluster" for c in cells)
    assert all(c.budget == (10 if c.dataset == "digits" else 3) for c in cells)
    assert {c.backbone for c in cells} == {"raw-pixels", "synthetic"}


def test_hash_covers_config_and_checksum_not_version_or_device(monkeypatch):
    base = {"datasets": ["digits"], "strategies": ["entropy"], "seeds": [1], "iterations": 3}
    (cell,) = sw.expand_grid(base)
    assert sw.expand_grid({**base, "device": "cpu"})[0].hash == cell.hash
    monkeypatch.setattr(alkit, "__version__", "99.0")
    assert sw.expand_grid(base)[0].hash == cell.hash
    for change in (
        {"seeds": [2]},
        {"iterations": 4},
        {"probe": {"max_epochs": 10}},
        {"budget": 5},
        {"initial_pools": ["centroids"]},
        {"strategies": [{"name": "entropy", "params": {"cluster": True}}]},
    ):
        assert sw.expand_grid({**base, **change})[0].hash != cell.hash, change
    other = {**cell.config(), "embedding_checksum": "0" * 64}
    assert alkit._files.stable_hash(other, length=20) != cell.hash


def test_cached_embedding_setting_reads_metadata(tmp_path):
    """A (dataset, backbone) setting resolves to the cache file written by EmbeddingSet.save."""
    from alkit.sources import embeddings_dir

    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype(np.float32)
    y = np.repeat(np.arange(3), 40)
    emb = alkit.EmbeddingSet(x, y, x[:30], y[:30], meta={"dataset": "toy", "backbone": "fake:bb-1"})
    emb.save(embeddings_dir() / "toy__fake-bb-1.npz")
    grid = {
        "settings": [{"dataset": "toy", "backbone": "fake:bb-1"}],
        "strategies": ["random"],
        "seeds": [1, 2],
        "iterations": 2,
        "probe": {"max_epochs": 10},
    }
    cells = sw.expand_grid(grid)
    assert {c.embedding_checksum for c in cells} == {emb.checksum}
    assert {c.budget for c in cells} == {3}
    df = sw.sweep(grid, tmp_path, scheduler="serial", progress=False)
    assert len(df) == 4 and set(df["dataset"]) == {"toy"} and set(df["backbone"]) == {"fake:bb-1"}


# --------------------------------------------------------------------------------- serial runner
def test_serial_sweep_writes_one_file_per_cell_and_loads_embeddings_once(tmp_path, monkeypatch):
    # the per-process embedding cache and its load counter live in alkit.sweep.embeddings
    monkeypatch.setattr(sw_embeddings, "_EMB_LOADS", 0)
    monkeypatch.setattr(sw_embeddings, "_EMB_CACHE", type(sw_embeddings._EMB_CACHE)())
    df = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    cells = sw.expand_grid(TINY)
    assert len(cells) == 4 and sw_embeddings._EMB_LOADS == 1
    assert [p.stem for p in result_files(tmp_path)] == sorted(c.hash for c in cells)
    assert list(df.columns) == RESULT_COLUMNS and len(df) == 4 * 3
    assert df.groupby(["method", "seed"]).size().eq(3).all()
    pd.testing.assert_frame_equal(comparable(alkit.load_results(tmp_path)), comparable(df))
    # each file is exactly run_al's table for its cell
    with sw._single_thread():
        ref = alkit.run_al(
            "digits",
            strategy="entropy",
            seed=2,
            iterations=3,
            probe={"max_epochs": 30},
            device="cpu",
        ).to_frame()
    got = df[(df["method"] == "entropy") & (df["seed"] == 2)]
    pd.testing.assert_frame_equal(comparable(got), comparable(ref))
    # a rerun skips everything; force redoes everything
    again = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    assert again.attrs["sweep"]["skipped"] == 4 and again.attrs["sweep"]["ran"] == 0
    forced = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False, force=True)
    assert forced.attrs["sweep"]["ran"] == 4
    pd.testing.assert_frame_equal(comparable(forced), comparable(df))


def test_truncated_parquet_is_detected_and_redone(tmp_path):
    df = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    victim = result_files(tmp_path)[1]
    blob = victim.read_bytes()
    victim.write_bytes(blob[: len(blob) // 2])
    status = sw.sweep_status(TINY, tmp_path)
    assert (status["done"], status["missing"], status["corrupt"]) == (3, 1, 1)
    with pytest.raises(alkit.errors.CorruptCacheError, match=victim.name):
        alkit.load_results(tmp_path)
    again = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    assert again.attrs["sweep"]["ran"] == 1
    pd.testing.assert_frame_equal(comparable(again), comparable(df))
    assert sw.sweep_status(TINY, tmp_path)["done"] == 4


def test_altered_foreign_or_misplaced_results_count_as_corrupt_and_are_redone(tmp_path, capsys):
    """A flipped value in a valid parquet, a file that is not alkit results, and another cell's
    file under this cell's name: each is 'corrupt', not done, and the next sweep redoes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from alkit.cli import main

    df = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    files = result_files(tmp_path)
    altered, foreign, misplaced = files[0], files[1], files[2]
    table = pq.read_table(altered)
    acc = table.column("accuracy").to_pylist()
    acc[1] += 0.125  # what one flipped mantissa bit does
    column = pa.array(acc, type=pa.float64())
    pq.write_table(
        table.set_column(table.schema.get_field_index("accuracy"), "accuracy", column), altered
    )
    pd.read_parquet(foreign).to_parquet(foreign)  # the same rows, without alkit's metadata
    misplaced.write_bytes(files[3].read_bytes())
    status = sw.sweep_status(TINY, tmp_path)
    assert (status["done"], status["missing"], status["corrupt"]) == (1, 3, 3)
    assert main(["sweep", str(TINY), "--out", str(tmp_path), "--status"]) == 0
    assert "done 1, failed 0, missing 3 (corrupt 3" in capsys.readouterr().out
    with pytest.raises(alkit.errors.CorruptCacheError, match=altered.name):
        alkit.load_results(tmp_path)
    again = sw.sweep(TINY, tmp_path, scheduler="serial", progress=False)
    assert again.attrs["sweep"]["ran"] == 3 and again.attrs["sweep"]["skipped"] == 1
    pd.testing.assert_frame_equal(comparable(again), comparable(df))
    pd.testing.assert_frame_equal(comparable(alkit.load_results(tmp_path)), comparable(df))
    assert sw.sweep_status(TINY, tmp_path)["corrupt"] == 0


def test_failed_cells_recorded_others_go_on_and_rerun_retries(tmp_path, monkeypatch, serial_dist):
    df = serial_dist
    assert df.attrs["sweep"]["failed"] == 2 and df.attrs["sweep"]["done"] == 4
    assert set(df["method"]) == {"random", "entropy"}
    out = Path(df.attrs["sweep"]["out_dir"])
    records = sorted((out / "failures").glob("*.json"))
    assert {p.stem for p in records} == failed_hashes(df)
    rec = json.loads(records[0].read_text())
    assert rec["error_type"] == "RuntimeError"
    assert "deliberate failure" in rec["message"] and "always_fails" in rec["traceback"]
    assert rec["config"]["strategy"] == "sweep_test_fails"
    # the tidy table skips failures/
    assert len(alkit.load_results(out)) == 4 * 3
    with pytest.raises(sw.SweepFailedError) as err:
        sw.sweep(
            {**DIST_GRID, "seeds": [1]},
            tmp_path,
            scheduler="serial",
            progress=False,
            raise_on_failure=True,
        )
    assert len(err.value.failures) == 1
    # once the cause is fixed, a rerun retries the failed cells and clears their records
    copy_dir = tmp_path / "retry"
    first = sw.sweep(DIST_GRID, copy_dir, scheduler="serial", progress=False)
    assert len(list((copy_dir / "failures").glob("*.json"))) == 2
    monkeypatch.setenv("ALKIT_SWEEP_TEST_FIXED", "1")
    fixed = sw.sweep(DIST_GRID, copy_dir, scheduler="serial", progress=False)
    assert fixed.attrs["sweep"]["ran"] == 2 and not fixed.attrs["failures"]
    assert not list((copy_dir / "failures").glob("*.json"))
    assert len(fixed) == len(first) + 2 * 3


# ---------------------------------------------------------------------------------- Dask runners
@pytest.mark.timeout(180)
def test_local_cluster_matches_serial(tmp_path, serial_dist):
    pytest.importorskip("dask.distributed")
    df = sw.sweep(DIST_GRID, tmp_path, scheduler="local", n_workers=2, progress=False)
    pd.testing.assert_frame_equal(comparable(df), comparable(serial_dist))
    assert failed_hashes(df) == failed_hashes(serial_dist)
    assert [p.stem for p in result_files(tmp_path)] == sorted(
        p.stem for p in result_files(Path(serial_dist.attrs["sweep"]["out_dir"]))
    )
    workers = df.attrs["sweep"]["workers"]
    assert workers and all(pid != f"{socket.gethostname()}:{os.getpid()}" for pid in workers)
    assert all(n == 1 for n in workers.values())  # one setting → each worker loaded it once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.timeout(180)
def test_external_scheduler_and_worker_match_serial(tmp_path, serial_dist):
    distributed = pytest.importorskip("dask.distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(logs / "scheduler.log", "w"),
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(logs / "worker.log", "w"),
            )
        )
        with distributed.Client(address, timeout="60s") as probe_client:
            probe_client.wait_for_workers(1, timeout=90)
        out = tmp_path / "out"
        df = sw.sweep(DIST_GRID, out, scheduler=address, progress=False)
        pd.testing.assert_frame_equal(comparable(df), comparable(serial_dist))
        assert failed_hashes(df) == failed_hashes(serial_dist)
        (worker,) = df.attrs["sweep"]["workers"].values()
        assert worker == 1
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.mark.timeout(120)
def test_local_cluster_serves_no_dashboard():
    pytest.importorskip("dask.distributed")
    psutil = pytest.importorskip("psutil")

    def listening() -> set[int]:
        conns = psutil.Process().net_connections(kind="tcp")
        return {c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN}

    before = listening()
    client, cluster, owned = sw._open_client("local", 1)
    try:
        assert owned and cluster is not None
        assert cluster.dashboard_link == "" and client.dashboard_link == ""
        assert "dashboard" not in client.scheduler_info()["services"]
        assert "dashboard" not in cluster.scheduler.services
        # only the scheduler's and the nanny's comm ports: no HTTP server on 8787 or elsewhere
        comm_ports = {int(cluster.scheduler_address.rsplit(":", 1)[1])}
        comm_ports |= {int(w.address.rsplit(":", 1)[1]) for w in cluster.workers.values()}
        assert listening() - before == comm_ports
    finally:
        client.close()
        cluster.close()


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_sweep_stops_when_no_worker_is_left(tmp_path):
    """The only worker dies mid-sweep: after worker_timeout the sweep stops with a clear error,
    and the cell finished before stays on disk."""
    distributed = pytest.importorskip("dask.distributed")
    grid = {
        "name": "dying",
        "datasets": ["synthetic:N=300,d=8,C=3,seed=0"],
        "strategies": [
            "random",
            {"name": "sweep_test_close_worker", "params": {"wait_for": str(tmp_path)}},
        ],
        "seeds": [1],
        "iterations": 2,
        "probe": {"max_epochs": 5},
        "device": "cpu",
        "imports": [PLUGIN],
    }
    # in-process worker, so the test strategy can close it (a nanny would restart a killed one)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        t0 = time.monotonic()
        with pytest.raises(alkit.errors.NoWorkersError) as err:
            sw.sweep(grid, tmp_path, scheduler=client, progress=False, worker_timeout=2)
        assert time.monotonic() - t0 < 60
    msg = str(err.value)
    assert "no worker for 2 s" in msg and "1 cell(s) were left" in msg and "rerun" in msg
    assert str(tmp_path) in msg
    (done,) = result_files(tmp_path)
    assert set(alkit.load_results(done)["method"]) == {"random"}
    with pytest.raises(alkit.errors.InvalidInputError, match="worker_timeout"):
        sw.sweep(grid, tmp_path, scheduler="serial", progress=False, worker_timeout=0)


# ------------------------------------------------------------------------------------- resume
@pytest.mark.timeout(180)
def test_resume_after_kill_every_cell_once_and_equal(tmp_path):
    grid = {
        "name": "slow",
        "datasets": ["digits"],
        "strategies": [{"name": "sweep_test_slow", "params": {"seconds": 0.15}}],
        "seeds": list(range(1, 9)),
        "iterations": 3,
        "probe": {"max_epochs": 30},
        "device": "cpu",
        "imports": [PLUGIN],
    }
    import yaml

    grid_file = tmp_path / "slow.yaml"
    grid_file.write_text(yaml.safe_dump(grid))
    out = tmp_path / "interrupted"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alkit",
            "sweep",
            str(grid_file),
            "--out",
            str(out),
            "--scheduler",
            "serial",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while len(result_files(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    n_before = len(result_files(out))
    assert 2 <= n_before < 8, err.decode()[-2000:]

    resumed = sw.sweep(grid_file, out, scheduler="serial", progress=False)
    assert resumed.attrs["sweep"]["skipped"] == n_before
    files = result_files(out)
    assert len(files) == 8 == len({p.stem for p in files})
    table = alkit.load_results(out)
    assert len(table) == 8 * 3 and not table.duplicated(["method", "seed", "iteration"]).any()
    clean = sw.sweep(grid_file, tmp_path / "clean", scheduler="serial", progress=False)
    pd.testing.assert_frame_equal(comparable(table), comparable(clean))


# ----------------------------------------------------------------------------------- CLI, grids
def test_cli_run_status_and_exit_codes(tmp_path, capsys):
    from alkit.cli import main

    out = tmp_path / "cli"
    assert main(["sweep", str(TINY), "--out", str(out), "--status"]) == 0
    assert "done 0, failed 0, missing 4" in capsys.readouterr().out
    assert (
        main(["sweep", str(TINY), "--out", str(out), "--scheduler", "serial", "--no-progress"]) == 0
    )
    assert main(["sweep", str(TINY), "--out", str(out), "--status"]) == 0
    assert "done 4, failed 0, missing 0" in capsys.readouterr().out

    bad = tmp_path / "failing.yaml"
    import yaml

    bad.write_text(yaml.safe_dump({**DIST_GRID, "seeds": [1]}))
    out2 = tmp_path / "cli_fail"
    assert (
        main(["sweep", str(bad), "--out", str(out2), "--scheduler", "serial", "--no-progress"]) == 1
    )
    captured = capsys.readouterr()
    assert "1 cell(s) failed" in captured.err and "RuntimeError" in captured.err
    assert main(["sweep", str(bad), "--out", str(out2), "--status"]) == 0
    assert "done 2, failed 1, missing 0" in capsys.readouterr().out

    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("datasets: [digits]\nstrategies: [nope]\n")
    assert main(["sweep", str(malformed), "--out", str(tmp_path / "x")]) == 2
    assert "strategies[0]" in capsys.readouterr().err
    assert main(["sweep", "quick", "--dry-run"]) == 0
    assert "72" in capsys.readouterr().out
    assert main(["sweep", "--list"]) == 0
    assert "paper_natural" in capsys.readouterr().out


PAPER_STRATEGIES = 12
SHIPPED_COUNTS = {
    "paper_natural": 8 * PAPER_STRATEGIES * 5 - 5,  # no ProbCover on Places365
    "paper_biomedical": 4 * PAPER_STRATEGIES * 5,
    "paper_initial_pool": 4 * PAPER_STRATEGIES * 4 * 5,
    "paper_diversity": 4 * 8 * 5,
    "paper_ssl": 4 * PAPER_STRATEGIES * 2 * 5,
    "paper_backbones": 7 * 9 * PAPER_STRATEGIES * 5,
    "dropquery_m": 4 * 4 * 5,
    "quick": 2 * PAPER_STRATEGIES * 3,
}


def test_shipped_grids_structure_and_cell_counts():
    assert set(sw.shipped_grids()) == set(SHIPPED_COUNTS)
    for name, n in SHIPPED_COUNTS.items():
        cells = sw.expand_grid(name, resolve=False, check_registry=False)
        assert len(cells) == n, name
    natural = sw.expand_grid("paper_natural", resolve=False, check_registry=False)
    assert not any(c.dataset == "places365" and c.strategy == "probcover" for c in natural)
    assert {c.backbone for c in natural} == {
        "dinov2:vitg14",
        "openclip:ViT-bigG-14:laion2b_s39b_b160k",
    }
    methods = {c.method for c in sw.expand_grid("dropquery_m", resolve=False, check_registry=False)}
    assert len(methods) == 4


@pytest.mark.parametrize("name", sorted(SHIPPED_COUNTS))
def test_shipped_grids_validate_against_registries(name):
    grid = sw.load_grid(name, check_registry=False)
    missing = sorted(
        {s["name"] for s in grid["strategies"]} - set(strategies.available())
        | {p for p in grid["initial_pools"] if p != "default"}
        - set(alkit.initial_pools.available())
    )
    if missing:  # strategy modules land from other issues; the full run checks them all
        pytest.skip(f"not registered yet: {missing}")
    sw.load_grid(name)  # names, parameters and initial pools all valid
