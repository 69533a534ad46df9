"""Strategies used only by tests/test_sweep.py; grids import this module on every worker
through their ``imports`` key (``imports: [tests.sweep_plugins]``)."""

from __future__ import annotations

import os
import time

from alkit import strategies
from alkit.strategies.random import random as _random


def always_fails(pool, probe, budget, rng, **params):
    """A strategy that raises (unless ``ALKIT_SWEEP_TEST_FIXED=1``), to check that a failed cell is
    recorded, that the others go on, and that a rerun retries it."""
    if os.environ.get("ALKIT_SWEEP_TEST_FIXED") != "1":
        raise RuntimeError("deliberate failure of the sweep test strategy")
    return _random(pool, probe, budget, rng)


def slow_random(pool, probe, budget, rng, seconds=0.2, **params):
    """Random sampling that sleeps first, so a test can interrupt a sweep between cells."""
    time.sleep(seconds)
    return _random(pool, probe, budget, rng)


def close_worker(pool, probe, budget, rng, wait_for="", **params):
    """Close the Dask worker running this cell, as a worker that dies would leave the cluster
    with none; then fail, so that the worker's thread ends. With ``wait_for`` (a directory), wait
    until a result file is there first, so that the cells before this one are saved."""
    from pathlib import Path

    from distributed import get_worker

    deadline = time.monotonic() + 30
    while wait_for and not list(Path(wait_for).glob("*.parquet")):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no result appeared in {wait_for}")
        time.sleep(0.05)
    worker = get_worker()
    worker.loop.add_callback(worker.close, executor_wait=False, reason="sweep test")
    deadline = time.monotonic() + 30
    while worker.status.name not in ("closed", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    raise RuntimeError("the worker of this cell was closed")


strategies.register(
    "sweep_test_fails",
    always_fails,
    family="test",
    needs_probe=False,
    overwrite=True,
    summary="Raises (sweep tests only).",
)
strategies.register(
    "sweep_test_slow",
    slow_random,
    family="test",
    needs_probe=False,
    params={"seconds": 0.2},
    overwrite=True,
    summary="Random after a sleep (sweep tests only).",
)
strategies.register(
    "sweep_test_close_worker",
    close_worker,
    family="test",
    needs_probe=False,
    params={"wait_for": ""},
    overwrite=True,
    summary="Closes its Dask worker (sweep tests only).",
)
