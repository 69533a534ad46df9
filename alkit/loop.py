"""run_al: the simulation loop of the paper over :class:`ActiveLearner`, and the tidy results table."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import strategies
from ._utils import write_parquet_atomic
from .data import EmbeddingSet
from .errors import BudgetError, CorruptCacheError
from .learner import ActiveLearner
from .oracle import SimulatedOracle
from .sources import load_embeddings
from .validation import check_bool, check_int

__all__ = ["run_al", "Run", "method_label", "load_results", "SCHEMA_VERSION", "RESULT_COLUMNS"]

SCHEMA_VERSION = 1
RESULT_COLUMNS = [
    "schema_version",
    "dataset",
    "backbone",
    "embedding_checksum",
    "method",
    "strategy",
    "params",
    "initial_pool",
    "propagate",
    "budget",
    "initial_budget",
    "seed",
    "iteration",
    "n_labeled",
    "n_classes_seen",
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "n_topped_up",
    "query_seconds",
    "fit_seconds",
    "fit_epochs",
    "info",
]


def method_label(strategy: str, params: dict[str, Any] | None = None) -> str:
    """A readable label unique per configuration: ``entropy``, ``entropy+cluster``, ``dropquery(M=5)``.

    Only parameters that differ from the registered defaults appear; boolean options
    that are on become ``+name``, other values ``(key=value, …)``.
    """
    defaults = strategies.info(strategy).params if strategy in strategies.available() else {}
    params = {
        k: v for k, v in (params or {}).items() if k != "device" and defaults.get(k, object()) != v
    }
    flags = [k for k, v in sorted(params.items()) if v is True]
    others = {k: v for k, v in sorted(params.items()) if v is not True}
    label = strategy + "".join(f"+{k}" for k in flags)
    if others:
        label += "(" + ",".join(f"{k}={v}" for k, v in others.items()) + ")"
    return label


def _jsonable(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, np.ndarray):
            if v.size > 64:
                continue  # large diagnostics stay on the Selection, not in the table
            v = v.tolist()
        out[k] = v
    return out


@dataclass
class Run:
    """One AL run: per-iteration history, acquisition order and config.

    Attributes
    ----------
    history : DataFrame
        One row per iteration (from 1).
    acquired : ndarray of shape (n_labeled,)
        Pool indices in acquisition order.
    config : dict
        Everything needed to rerun it (``run_al(**config)``).
    selections : list of Selection
        The raw selections, with their full ``info``.
    """

    history: pd.DataFrame
    acquired: np.ndarray
    config: dict[str, Any]
    selections: list = field(default_factory=list, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy results table (DESIGN §4): one row per iteration."""
        return self.history[RESULT_COLUMNS].copy()

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_frame` as parquet, atomically."""
        write_parquet_atomic(self.to_frame(), path)
        return Path(path)


def run_al(
    emb,
    strategy: str = "dropquery",
    initial_pool: str | None = None,
    budget: int | None = None,
    initial_budget: int | None = None,
    iterations: int = 20,
    seed: int = 0,
    probe: dict | None = None,
    propagation: Any = None,
    oracle=None,
    device: str = "auto",
    progress: bool = False,
    **params,
) -> Run:
    """Simulate active learning with ground-truth labels (the paper's protocol, DESIGN §5).

    At iteration 1 the initial pool is labeled; at each later iteration the strategy
    queries ``budget`` points. The probe is retrained from scratch and evaluated on the
    test split after every iteration, so at iteration i there are
    ``initial_budget + (i − 1)·budget`` labels.

    Parameters
    ----------
    emb : EmbeddingSet or str
        Embeddings or a name for :func:`alkit.load_embeddings`.
    strategy : str
        A registered strategy.
    initial_pool : str, optional
        ``None`` = the strategy's paper default.
    budget, initial_budget : int, optional
        ``None`` = C, the number of classes.
    iterations : int
        Number of train/test rounds (the paper: 20).
    seed : int
    probe : dict, optional
        Probe settings (DESIGN §5).
    propagation : None, True or dict
        Label propagation settings (DESIGN §6), off by default.
    oracle : optional
        Defaults to a :class:`SimulatedOracle` on ``emb.y_train``.
    **params
        Strategy parameters.

    Returns
    -------
    Run
    """
    if not isinstance(emb, EmbeddingSet):
        emb = load_embeddings(emb)
    iterations = check_int(iterations, "iterations", min=1, error=BudgetError)
    progress = check_bool(progress, "progress")
    learner = ActiveLearner(
        emb,
        strategy=strategy,
        initial_pool=initial_pool,
        budget=budget,
        initial_budget=initial_budget,
        seed=seed,
        probe=probe,
        propagation=propagation,
        device=device,
        **params,
    )
    total = learner.initial_budget + (iterations - 1) * learner.budget
    if total > len(emb.x_train):
        raise BudgetError(
            f"{iterations} iterations need {total} labels (initial {learner.initial_budget} + "
            f"{iterations - 1} × {learner.budget}) but the pool has {len(emb.x_train)} points; "
            "lower iterations or budget."
        )
    if oracle is None:
        oracle = SimulatedOracle(emb.y_train)
    if not emb.has_test:
        warnings.warn(
            f"{emb.dataset!r} has no test split: the results have no accuracy columns.",
            stacklevel=2,
        )
    method = method_label(strategy, learner.params)
    base = {
        "schema_version": SCHEMA_VERSION,
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "embedding_checksum": emb.checksum,
        "method": method,
        "strategy": strategy,
        "params": json.dumps(
            {k: v for k, v in learner.params.items() if k != "device"}, sort_keys=True
        ),
        "initial_pool": learner.initial_pool,
        "propagate": learner.propagation is not None,
        "budget": learner.budget,
        "initial_budget": learner.initial_budget,
        "seed": int(seed),
    }
    rows = []
    iterator = range(1, iterations + 1)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"{method} seed={seed}", leave=False)
    for it in iterator:
        sel = learner.query()
        labels = oracle.label(sel.indices)
        learner.teach(sel.indices, labels)
        learner.fit()
        metrics = (
            learner.evaluate(emb.x_test, emb.y_test)
            if emb.has_test
            else {"accuracy": np.nan, "balanced_accuracy": np.nan, "macro_f1": np.nan}
        )
        known = learner.pool.labels[learner.pool.labeled]
        rows.append(
            {
                **base,
                "iteration": it,
                "n_labeled": learner.n_labeled,
                "n_classes_seen": int(len(np.unique(known))),
                **metrics,
                "n_topped_up": int(sel.info.get("n_topped_up", 0)),
                "query_seconds": learner.last_query_seconds,
                "fit_seconds": learner.last_fit_seconds,
                "fit_epochs": int(learner.probe.n_epochs_),
                "info": json.dumps(_jsonable(sel.info), sort_keys=True, default=str),
            }
        )
    config = {
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "iterations": iterations,
        **learner.config(),
        **{"device": learner.device},
    }
    history = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return Run(history, np.asarray(learner.acquired, dtype=np.int64), config, learner.selections)


def load_results(path: str | os.PathLike, on_error: str = "raise") -> pd.DataFrame:
    """Read a directory (recursively) or a file of tidy results parquet into one table.

    Parameters
    ----------
    on_error : {"raise", "skip"}
        What to do with an unreadable (e.g. truncated) file: raise :class:`CorruptCacheError`
        naming it, or skip it with a warning.
    """
    path = Path(path)
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            p
            for p in path.rglob("*.parquet")
            if not any(
                part.startswith(".") or part == "failures" for part in p.relative_to(path).parts
            )
        )
    frames = []
    for f in files:
        try:
            df = pd.read_parquet(f)
        except Exception as exc:
            msg = f"Results file {f} is unreadable ({type(exc).__name__}: {exc}); delete it and rerun its cell."
            if on_error == "skip":
                warnings.warn(msg, stacklevel=2)
                continue
            raise CorruptCacheError(msg) from exc
        if (
            "schema_version" in df.columns
            and len(df)
            and int(df["schema_version"].max()) > SCHEMA_VERSION
        ):
            raise CorruptCacheError(
                f"{f} has schema_version {df['schema_version'].max()} > {SCHEMA_VERSION}; upgrade alkit."
            )
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return pd.concat(frames, ignore_index=True)
