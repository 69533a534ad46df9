"""Grids of AL runs: validation, expansion into cells, and a resumable runner (serial or Dask).

A *grid* (YAML file, shipped grid name or dict) crosses (dataset, backbone) settings with
strategies, initial pools, seeds, propagation settings, iterations and budgets; ``exclude``
rules drop combinations. Each combination is a *cell* = one :func:`alkit.run_al` call, whose
tidy table is written atomically to ``<out_dir>/<hash>.parquet`` (a checksummed results file,
:mod:`alkit.results`), the hash covering the run key, every parameter and the embedding
checksum (not the alkit version). Rerunning a sweep skips finished cells, redoes truncated,
altered or foreign ones and retries failed ones; a failed cell writes ``failures/<hash>.json``
(error and traceback) and the others go on. Everything in a grid is checked before any cell
starts.

Grid keys (see ``docs/sweeps.md``)::

    name: quick
    settings:                       # (dataset, backbone) pairs; lists inside one entry are crossed
      - {dataset: [cifar100, food101], backbone: "dinov2:vitg14"}
    datasets: [digits, "synthetic:N=2000,d=32,C=8,seed=0"]   # sets with one embedding each
    strategies: [random, {name: entropy, params: {cluster: true}}, dropquery]
    initial_pools: [default, centroids]   # default = the strategy's paper default
    seeds: [1, 10, 100]
    propagation: [false, true]            # or settings dicts
    iterations: 20                        # int or list
    budget: null                          # null = C; int or list
    initial_budget: null
    probe: {max_epochs: 400}
    exclude: [{dataset: places365, strategy: probcover}]
    device: auto
    imports: [my_package.my_strategies]   # modules imported (on every worker) before running

Modules: :mod:`~alkit.sweep.grid` (the grid spec and its checks), :mod:`~alkit.sweep.cells`
(cells and the grid's expansion), :mod:`~alkit.sweep.embeddings` (each process's embeddings),
:mod:`~alkit.sweep.outputs` (result files, failure records, the state of a grid's cells),
:mod:`~alkit.sweep.execute` (one cell in one process), :mod:`~alkit.sweep.distributed` (Dask),
:mod:`~alkit.sweep.run` (:func:`sweep`), :mod:`~alkit.sweep.cli` (``alkit sweep``).
"""

from __future__ import annotations

from .._random import PAPER_SEEDS
from .cells import Cell, expand_grid
from .cli import add_arguments, main

# private helpers reached as alkit.sweep.<name> (tests); they live in the submodules
from .distributed import _open_client as _open_client
from .execute import _execute as _execute
from .execute import _single_thread as _single_thread
from .grid import GRID_KEYS, load_grid, shipped_grids
from .outputs import plan, sweep_status
from .run import DEFAULT_WORKER_TIMEOUT, SweepFailedError, sweep

__all__ = [
    "Cell",
    "load_grid",
    "expand_grid",
    "plan",
    "sweep",
    "sweep_status",
    "shipped_grids",
    "SweepFailedError",
    "PAPER_SEEDS",
    "GRID_KEYS",
    "DEFAULT_WORKER_TIMEOUT",
    "add_arguments",
    "main",
]
