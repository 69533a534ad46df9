"""run_al: the simulation loop of the paper over :class:`ActiveLearner`.

The tidy results table it returns lives in :mod:`alkit.results` (its columns, rows and files);
``RESULT_COLUMNS``, ``SCHEMA_VERSION``, ``method_label`` and ``load_results`` are re-exported
here for code written before that module existed.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import EmbeddingSet
from .errors import BudgetError, InvalidInputError
from .learner import ActiveLearner
from .oracle import SimulatedOracle
from .results import (
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    base_columns,
    load_results,
    method_label,
    result_row,
    results_frame,
    write_results,
    zeroshot_row,
)
from .sources import load_embeddings
from .validation import check_bool, check_int
from .zeroshot import zeroshot_metrics

__all__ = ["run_al", "Run", "method_label", "load_results", "SCHEMA_VERSION", "RESULT_COLUMNS"]


@dataclass
class Run:
    """One AL run: per-iteration history, acquisition order and config.

    Attributes
    ----------
    history : DataFrame
        One row per iteration (from 1), after the zero-shot row (iteration 0) when the
        embeddings carry class text embeddings.
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
        """The tidy results table (docs/analysis.md, 'Results files'): one row per iteration."""
        return self.history[RESULT_COLUMNS].copy()

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_frame` as a results file (parquet, atomic, checksummed; see
        :func:`alkit.results.write_results`), with :attr:`config` in its metadata."""
        return write_results(self.to_frame(), path, config=self.config)


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
    zeroshot: bool | None = None,
    **params,
) -> Run:
    """Simulate active learning with ground-truth labels (the paper's protocol, docs/protocol.md).

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
        Probe settings (docs/protocol.md).
    propagation : None, True or dict
        Label propagation settings (docs/analysis.md), off by default.
    oracle : optional
        Defaults to a :class:`SimulatedOracle` on ``emb.y_train``.
    zeroshot : bool, optional
        Write the iteration-0 row: the zero-shot accuracy of the class text embeddings on the
        test split, before any label (``n_labeled = 0``). ``None`` (default): when the
        embeddings carry ``class_text`` and a test split.
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
    elif not callable(getattr(oracle, "label", None)):
        raise InvalidInputError(
            f"oracle must have a label(indices) method (SimulatedOracle, ExportOracle, "
            f"WidgetOracle or your own); got {oracle!r}."
        )
    if not emb.has_test:
        warnings.warn(
            f"{emb.dataset!r} has no test split: the results have no accuracy columns.",
            stacklevel=2,
        )
    base = base_columns(
        learner, dataset=emb.dataset, backbone=emb.backbone, embedding_checksum=emb.checksum
    )
    rows = []
    if zeroshot is None:
        zeroshot = learner.class_text is not None and emb.has_test
    elif check_bool(zeroshot, "zeroshot") and (learner.class_text is None or not emb.has_test):
        raise InvalidInputError(
            "zeroshot=True needs class text embeddings (EmbeddingSet.class_text: alkit embed "
            "with an openclip: backbone, or --add-text) and a test split."
        )
    if zeroshot:
        t0 = time.perf_counter()
        metrics = zeroshot_metrics(emb.x_test, emb.y_test, learner.class_text)
        info = {"n_templates": emb.meta.get("text", {}).get("n_templates")}
        rows.append(zeroshot_row(learner, metrics, seconds=time.perf_counter() - t0, info=info))
    iterator = range(1, iterations + 1)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"{base['method']} seed={seed}", leave=False)
    for it in iterator:
        sel = learner.query()
        labels = oracle.label(sel.indices)
        learner.teach(sel.indices, labels)
        learner.fit()
        metrics = learner.evaluate(emb.x_test, emb.y_test) if emb.has_test else None
        rows.append(result_row(learner, sel, metrics, iteration=it))
    config = {
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "iterations": iterations,
        **learner.config(),
        **{"device": learner.device},
    }
    history = results_frame(base, rows)
    return Run(history, np.asarray(learner.acquired, dtype=np.int64), config, learner.selections)
