"""The tidy results table's schema and its row builder: the columns and their kinds, the method
label, and the rows every simulation and labeling session writes (``docs/analysis.md``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .. import strategies
from ..errors import InvalidInputError
from ..validation import check_str

SCHEMA_VERSION = 1

#: Every column of the tidy table and the kind of its values: ``"int"`` (int64, no missing
#: values), ``"float"`` (float64, NaN allowed), ``"bool"`` and ``"str"`` (missing allowed).
COLUMN_KINDS: dict[str, str] = {
    "schema_version": "int",
    "dataset": "str",
    "backbone": "str",
    "embedding_checksum": "str",
    "method": "str",
    "strategy": "str",
    "params": "str",
    "initial_pool": "str",
    "propagate": "bool",
    "budget": "int",
    "initial_budget": "int",
    "seed": "int",
    "iteration": "int",
    "n_labeled": "int",
    "n_classes_seen": "int",
    "accuracy": "float",
    "balanced_accuracy": "float",
    "macro_f1": "float",
    "n_topped_up": "int",
    "query_seconds": "float",
    "fit_seconds": "float",
    "fit_epochs": "int",
    "info": "str",
}
RESULT_COLUMNS = list(COLUMN_KINDS)
_NO_METRICS = {"accuracy": np.nan, "balanced_accuracy": np.nan, "macro_f1": np.nan}


def method_label(strategy: str, params: dict[str, Any] | None = None) -> str:
    """A readable label unique per configuration: ``entropy``, ``entropy+cluster``, ``dropquery(M=5)``.

    Only parameters that differ from the registered defaults appear; boolean options
    that are on become ``+name``, other values ``(key=value, …)``.
    """
    strategy = check_str(strategy, "strategy")
    if params is not None and not isinstance(params, dict):
        raise InvalidInputError(f"params must be a dict of strategy parameters; got {params!r}.")
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


def jsonable_info(info: dict) -> dict:
    """A selection's ``info`` as JSON-ready values for the ``info`` column.

    numpy scalars become Python numbers and small arrays lists; arrays of more than 64 values
    are left out (large diagnostics stay on the :class:`~alkit.pool.Selection`, not in the table).
    """
    out = {}
    for k, v in info.items():
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        elif isinstance(v, np.ndarray):
            if v.size > 64:
                continue
            v = v.tolist()
        out[k] = v
    return out


def base_columns(learner, *, dataset: str, backbone: str, embedding_checksum: str) -> dict:
    """The columns that are constant over a run: provenance and configuration.

    Parameters
    ----------
    learner : ActiveLearner
        Supplies the strategy, its parameters, the initial pool, budgets, seed, propagation.
    dataset, backbone, embedding_checksum : str
        Provenance of the pool (:attr:`alkit.EmbeddingSet.dataset`, …).

    Returns
    -------
    dict
        ``schema_version`` … ``seed`` of :data:`RESULT_COLUMNS`. A probe warm-started from the
        class texts (``probe={"init": "text"}``) adds ``+text_init`` to the method label.
    """
    params = {k: v for k, v in learner.params.items() if k != "device"}
    method = method_label(learner.strategy, params)
    if getattr(learner.probe_config, "init", "random") == "text":
        method += (
            "+text_init"  # another configuration: the probe starts as the zero-shot classifier
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "dataset": dataset,
        "backbone": backbone,
        "embedding_checksum": embedding_checksum,
        "method": method,
        "strategy": learner.strategy,
        "params": json.dumps(params, sort_keys=True),
        "initial_pool": learner.initial_pool,
        "propagate": learner.propagation is not None,
        "budget": int(learner.budget),
        "initial_budget": int(learner.initial_budget),
        "seed": int(learner.seed),
    }


def result_row(learner, selection, metrics: dict | None, *, iteration: int) -> dict:
    """The per-iteration columns, read from ``learner`` right after it was taught and refitted.

    Parameters
    ----------
    learner : ActiveLearner
        After :meth:`~alkit.ActiveLearner.teach` and :meth:`~alkit.ActiveLearner.fit`.
    selection : Selection or None
        The query just labeled (its ``info`` goes to the ``info`` column).
    metrics : dict or None
        ``accuracy``, ``balanced_accuracy``, ``macro_f1`` on the test split; ``None`` (no test
        split) gives NaN.
    iteration : int
        1 for the initial pool (0 is the zero-shot row, :func:`zeroshot_row`).

    Returns
    -------
    dict
        ``iteration`` … ``info`` of :data:`RESULT_COLUMNS`.
    """
    info = {} if selection is None else selection.info
    known = learner.pool.labels[learner.pool.labeled]
    return {
        "iteration": int(iteration),
        "n_labeled": int(learner.n_labeled),
        "n_classes_seen": int(len(np.unique(known))),
        **(_NO_METRICS if metrics is None else {k: metrics[k] for k in _NO_METRICS}),
        "n_topped_up": int(info.get("n_topped_up", 0)),
        "query_seconds": float(learner.last_query_seconds),
        "fit_seconds": float(learner.last_fit_seconds),
        "fit_epochs": int(learner.probe.n_epochs_),
        "info": json.dumps(jsonable_info(info), sort_keys=True, default=str),
    }


def zeroshot_row(learner, metrics: dict, *, seconds: float = 0.0, info: dict | None = None) -> dict:
    """The iteration-0 row of a run: the zero-shot classifier of the class texts, no labels.

    Parameters
    ----------
    learner : ActiveLearner
        Before its first query (nothing labeled).
    metrics : dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1`` of the zero-shot classifier
        (:func:`alkit.zeroshot.zeroshot_metrics`) on the test split.
    seconds : float
        Time to classify the test split (``fit_seconds``).

    Returns
    -------
    dict
        ``iteration`` = 0, ``n_labeled`` = 0, ``n_classes_seen`` = 0, the metrics, zero
        counts and ``info`` ``{"phase": "zeroshot", …}``: the analyses read it as the "no
        labels" reference (:func:`alkit.analysis.zeroshot`) and leave it out of every curve.
    """
    return {
        "iteration": 0,
        "n_labeled": 0,
        "n_classes_seen": 0,
        **{k: metrics[k] for k in _NO_METRICS},
        "n_topped_up": 0,
        "query_seconds": 0.0,
        "fit_seconds": float(seconds),
        "fit_epochs": 0,
        "info": json.dumps({"phase": "zeroshot", **(info or {})}, sort_keys=True, default=str),
    }


def results_frame(base: dict, rows: list[dict]) -> pd.DataFrame:
    """The tidy table of one run: each of ``rows`` (:func:`result_row`) with ``base``
    (:func:`base_columns`); keys outside :data:`RESULT_COLUMNS` are dropped."""
    return pd.DataFrame([{**base, **r} for r in rows], columns=RESULT_COLUMNS)
