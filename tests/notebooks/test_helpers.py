"""The lessons' helpers: run loops, thread counts, prose, the 2-D examples, the kernel setting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import alkit
from alkit import _threads
from alkit.notebooks import prose, run_grid, toy, use_threads


@pytest.fixture
def restore_threads():
    """Put torch's, faiss's and the BLAS/OpenMP pools' thread counts back after the test."""
    import faiss
    from threadpoolctl import threadpool_info, threadpool_limits

    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    pools = {}
    for p in threadpool_info():
        pools[p["user_api"]] = max(pools.get(p["user_api"], 1), p["num_threads"])
    yield
    torch.set_num_threads(before[0])
    faiss.omp_set_num_threads(before[1])
    for api, n in pools.items():
        threadpool_limits(limits=n, user_api=api)


def test_run_grid_crosses_options_and_keys_runs():
    emb = alkit.load_embeddings("synthetic:N=300,d=8,C=3,seed=0")
    results, runs = run_grid(
        emb, ["random"], [0, 1], 2, vary={"propagation": [None, {"k": 5}]}, progress=False
    )
    assert len(runs) == 4 and len(results) == 4 * 2
    assert ("random", None, 0) in runs and ("random", '{"k": 5}', 1) in runs
    assert results["propagate"].sum() == 4


def test_thread_count_follows_the_data_size(monkeypatch, restore_threads):
    assert _threads.auto_threads(1257, 64) == 1
    assert _threads.auto_threads(50_000, 1536) == _threads._available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert use_threads(np.zeros((10, 4))) is None  # the user's environment variable wins
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert use_threads(np.zeros((1257, 64))) == 1 and torch.get_num_threads() == 1
    from threadpoolctl import threadpool_info

    assert all(p["num_threads"] == 1 for p in threadpool_info())


def test_setup_sets_one_thread_for_digits(monkeypatch, restore_threads):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    alkit.notebooks.setup("digits")
    assert torch.get_num_threads() == 1


def test_clustering_example_spreads_the_batch():
    fig, table = toy.clustering_example("margin", n=800, budget=6, seed=0)
    assert table.loc["+cluster", "redundancy"] < table.loc["plain", "redundancy"]
    assert len(fig.axes) >= 3 and all(ax.get_title() for ax in fig.axes[:3])


def test_propagation_example_reaches_every_point_step_by_step():
    fig, table = toy.propagation_example(n=200, k=8, steps=(1, 5, 50))
    assert table["reached"].is_monotonic_increasing and table["reached"].iloc[-1] == 1.0
    assert table["reached"].iloc[0] < 0.2
    assert table["accuracy of reached labels"].iloc[-1] > 0.7
    assert len(fig.axes) == 4


def test_prose_is_markdown_with_the_numbers_attached():
    emb = alkit.load_embeddings("synthetic:N=300,d=8,C=3,seed=0")
    results, _ = run_grid(emb, ["random", "margin"], [0, 1], 3, progress=False)
    finding = prose.quickstart(results, emb, [0, 1], 3)
    text = finding._repr_markdown_()
    assert text.startswith("**The paper:**") and "%" in text
    assert set(finding.auc.index) == {"random", "margin"}


def test_papermill_kernel_is_asked_for_encryption():
    from jupyter_client.manager import KernelManager

    from alkit.notebooks import _kernel_config

    cfg = _kernel_config()
    if "transport_encryption" in KernelManager.class_trait_names():
        assert cfg["config"]["KernelManager"]["transport_encryption"] == "auto"
    else:  # an older jupyter_client: nothing to ask for
        assert cfg == {}
