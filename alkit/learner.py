"""ActiveLearner: the ask/tell core (query → teach → fit), for simulations and real labeling."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import initial_pools, strategies
from ._devices import resolve_device
from ._files import atomic_path
from ._random import run_streams
from .data import EmbeddingSet
from .errors import BudgetError, InvalidInputError
from .pool import Pool, Selection
from .probe import LinearProbe, ProbeConfig
from .stopping import (
    CV_FOLDS,
    STOP_THRESHOLD,
    STOP_WINDOW,
    AccuracyEstimate,
    Progress,
    cohen_kappa,
    cross_validated_accuracy,
    stop_hint,
    stop_set,
)
from .validation import (
    check_budget,
    check_class_labels,
    check_class_text,
    check_classes,
    check_device,
    check_features,
    check_ids,
    check_indices,
    check_int,
    check_labels,
    check_seed,
)
from .zeroshot import classification_metrics

__all__ = ["ActiveLearner", "evaluate"]


def evaluate(probe: LinearProbe, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy, balanced accuracy and macro-F1 of ``probe`` on ``(x, y)``.

    ``y`` holds class indices in ``[0, C)``; a label outside them (or a length that differs
    from ``x``) is an error, never a silently lower score.
    """
    x = check_features(x, "x")
    y = check_labels(y, len(x), probe.n_classes, "y", allow_unknown=False)
    return classification_metrics(y, probe.predict(x), probe.n_classes)


def _propagation_settings(propagation) -> dict | None:
    if propagation is None or propagation is False:
        return None
    if propagation is True:
        return {}
    if isinstance(propagation, dict):
        return dict(propagation)
    raise InvalidInputError(
        f"propagation must be None, True or a dict of settings; got {propagation!r}."
    )


def _resolve_classes(classes, n_classes, emb_or_x) -> list[str]:
    """The class names of a learner from ``classes`` and/or ``n_classes`` (checked together)."""
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", min=1)
    if classes is not None:
        names = check_classes(classes, n_classes)
    elif n_classes is not None:
        names = [str(i) for i in range(n_classes)]
    else:
        raise InvalidInputError(
            "The pool is a plain array: pass classes=[...] (one name per class) or n_classes=C."
        )
    known = emb_or_x.n_classes if isinstance(emb_or_x, EmbeddingSet) else 0
    if 0 < len(names) < known:
        # the set's labels (and its test split) use class ids up to known - 1
        given = "classes" if classes is not None else "n_classes"
        raise InvalidInputError(
            f"{given} gives {len(names)} class(es) but the embeddings have {known} "
            f"({emb_or_x.classes[:10]}); list every class (or leave {given} out to use the "
            "embeddings' own)."
        )
    if len(names) < 2:
        where = "The embeddings have" if isinstance(emb_or_x, EmbeddingSet) else "You gave"
        raise InvalidInputError(
            f"{where} {len(names)} class{'' if len(names) == 1 else 'es'} ({names}): active "
            "learning needs at least 2, since a probe with one class predicts it everywhere "
            "with certainty and leaves nothing to query by. Pass classes=[...] listing every "
            "class you will label (the pool's labels may all be unknown, -1)."
        )
    return names


class ActiveLearner:
    """Ask/tell active learning on a pool of embeddings.

    ``query()`` first returns the initial pool, then the strategy's picks; ``teach()`` records
    labels; ``fit()`` retrains the probe from scratch (done lazily by ``query`` when needed).

    Parameters
    ----------
    emb_or_x : EmbeddingSet or ndarray of shape (n, d)
        The pool. An ``EmbeddingSet``'s labels stay hidden (only ``teach`` reveals labels).
    strategy : str
        A registered strategy (``alkit.strategies.available()``).
    initial_pool : str, optional
        ``None`` = the strategy's paper default (docs/protocol.md).
    budget, initial_budget : int, optional
        Points per query and in the initial pool; ``None`` = the number of classes C.
    seed : int
        Seeds the run's independent random streams (initial pool, probe, strategy).
    probe : dict, optional
        Probe settings (docs/protocol.md), e.g. ``{"dropout": 0.75, "max_epochs": 400}``.
    propagation : None, True or dict
        Train the probe on label-propagated pseudo-labels (docs/analysis.md).
    device : {"auto", "cpu", "cuda"}
    n_classes : int, optional
        Required when ``emb_or_x`` is an array (or pass ``classes``).
    classes : list of str, optional
        Class names.
    ids : sequence, optional
        A readable id or image path per pool row, used by :meth:`export`.
    class_text : ndarray of shape (C, d), optional
        Class text embeddings (default: the embeddings' own ``class_text`` when it has one row
        per class): used by the ``text_prior`` initial pool and ``probe={"init": "text"}``.
    **params
        Strategy parameters (e.g. ``M=5`` for DropQuery, ``cluster=True`` for entropy).
    """

    def __init__(
        self,
        emb_or_x,
        strategy: str = "dropquery",
        initial_pool: str | None = None,
        budget: int | None = None,
        initial_budget: int | None = None,
        seed: int = 0,
        probe: dict | None = None,
        propagation: Any = None,
        device: str = "auto",
        n_classes: int | None = None,
        classes: list[str] | None = None,
        ids=None,
        class_text=None,
        **params,
    ) -> None:
        if isinstance(emb_or_x, EmbeddingSet):
            x = emb_or_x.x_train
            if classes is None and n_classes is None and emb_or_x.n_classes:
                classes = emb_or_x.classes
        else:
            x = check_features(emb_or_x, "x")
        self.classes = _resolve_classes(classes, n_classes, emb_or_x)
        self.n_classes = len(self.classes)
        self.strategy = strategy
        # the name is looked up and the parameters checked once, here, not at every query
        self._entry = strategies.info(strategy)
        self.params = strategies.check_params(strategy, params)
        if initial_pool is None:
            initial_pool = self._entry.initial_pool
        initial_pools.get(initial_pool)  # validate the name now
        self.initial_pool = initial_pool
        self.budget = self.n_classes if budget is None else check_budget(budget, len(x))
        self.initial_budget = (
            self.n_classes
            if initial_budget is None
            else check_budget(initial_budget, len(x), "initial_budget")
        )
        self.seed = check_seed(seed)
        self.device = str(resolve_device(check_device(device)))
        self.probe_config = ProbeConfig.from_dict(probe)
        self.propagation = _propagation_settings(propagation)
        self.ids = check_ids(ids, len(x))
        own = getattr(emb_or_x, "class_text", None)
        if class_text is None and own is not None and len(own) == self.n_classes:
            class_text = own
        self.class_text = (
            None
            if class_text is None
            else check_class_text(class_text, self.n_classes, x.shape[1], "class_text")
        )
        if initial_pools.uses_text(initial_pool) and self.class_text is None:
            raise InvalidInputError(
                f"initial pool {initial_pool!r} needs class text embeddings: embed with an "
                "openclip: backbone (or `alkit embed --add-text`), or pass class_text=…."
            )
        self._streams = run_streams(self.seed)
        self.pool = Pool(x, self.n_classes)
        self.probe = LinearProbe(
            self.n_classes,
            device=self.device,
            seed=self._streams["probe"],
            class_text=self.class_text,
            **self.probe_config.to_dict(),
        )
        self._propagator = None
        if self.propagation is not None:
            from .propagation import LabelPropagator

            self._propagator = LabelPropagator(device=self.device, **self.propagation)
        self._stale = True
        self.acquired: list[int] = []
        self.selections: list[Selection] = []
        self.pending: Selection | None = None
        self.last_fit_seconds = 0.0
        self.last_query_seconds = 0.0
        # stabilizing predictions (alkit.stopping): the stop set's predictions of the last model
        # fitted on new labels, and the kappa of each such model with the one before it
        self.kappas: list[float] = []
        self._stop_predictions: np.ndarray | None = None
        self._label_version = 0  # bumped by teach/relabel: a fit on new labels is a new round
        self._recorded_version = -1

    # ------------------------------------------------------------------ ask / tell
    @property
    def n_labeled(self) -> int:
        return self.pool.n_labeled

    def query(self, n: int | None = None) -> Selection:
        """The next points to label: the initial pool while nothing is labeled, then the strategy.

        Parameters
        ----------
        n : int, optional
            How many; defaults to ``initial_budget`` for the first query, ``budget`` after.
        """
        t0 = time.perf_counter()
        if self.pool.n_labeled == 0:
            n = self.initial_budget if n is None else n
            sel = initial_pools.select(
                self.initial_pool,
                self.pool.x,
                n,
                self._streams["initial_pool"],
                n_classes=self.n_classes,
                cache=self.pool.cache,
                device=self.device,
                **self._initial_pool_params(),
            )
            sel.info.setdefault("phase", "initial_pool")
        else:
            n = self.budget if n is None else n
            if self._stale:
                self.fit()
            sel = strategies.run_checked(
                self._entry,
                self.pool,
                self.probe,
                n,
                self._streams["strategy"],
                {**self.params, "device": self.device},
            )
            sel.info.setdefault("phase", "query")
        self.last_query_seconds = time.perf_counter() - t0
        self.pending = sel
        return sel

    def _initial_pool_params(self) -> dict[str, Any]:
        """The strategy's parameters when the initial pool is the strategy's own (TypiClust's,
        ProbCover's): the pool is then built with the same δ rule, index, kNN… and the strategy
        reuses its graph or clusters from ``pool.cache``, as the reference does. A pool that uses
        the class texts (``text_prior``) gets them as ``class_text``."""
        params = {}
        if self.initial_pool == self.strategy:
            params = {k: v for k, v in self.params.items() if k != "device"}
        if initial_pools.uses_text(self.initial_pool):
            params["class_text"] = self.class_text
        return params

    def teach(self, indices, labels) -> ActiveLearner:
        """Record labels for rows that have none yet.

        Parameters
        ----------
        indices : array-like of int, shape (m,)
            Distinct, unlabeled pool rows (floats and boolean masks are errors, not truncated).
        labels : array-like, shape (m,)
            Class indices in ``[0, C)`` or class names from ``classes`` (exact spelling).

        Raises
        ------
        InvalidInputError
            For a row that is already labeled: call :meth:`relabel` to change a label on purpose.
        """
        indices = check_indices(indices, self.pool.n, "indices")
        labels = check_class_labels(labels, self.classes, "labels")
        if len(labels) != len(indices):
            raise InvalidInputError(
                f"{len(indices)} indices but {len(labels)} labels; pass one label per index."
            )
        self.pool.add_labels(indices, labels)
        self.acquired.extend(int(i) for i in indices)
        if self.pending is not None:
            self.selections.append(self.pending)
            self.pending = None
        self._stale = True
        self._label_version += 1
        return self

    def relabel(self, indices, labels) -> ActiveLearner:
        """Replace the labels of rows labeled before (a correction, not a new acquisition).

        ``acquired`` is unchanged; the probe is refitted on the next query or prediction.
        """
        indices = check_indices(indices, self.pool.n, "indices")
        labels = check_class_labels(labels, self.classes, "labels")
        if len(labels) != len(indices):
            raise InvalidInputError(
                f"{len(indices)} indices but {len(labels)} labels; pass one label per index."
            )
        self.pool.add_labels(indices, labels, relabel=True)
        self._stale = True
        self._label_version += 1
        return self

    def fit(self) -> ActiveLearner:
        """Retrain the probe from scratch on the labeled points (or propagated labels)."""
        lab = self.pool.labeled_idx
        if len(lab) == 0:
            raise BudgetError("Nothing is labeled yet: call query() and teach() before fit().")
        t0 = time.perf_counter()
        if self._propagator is None:
            self.probe.fit(self.pool.x[lab], self.pool.labels[lab])
        else:
            targets, weights = self._propagator.propagate(
                self.pool.x, lab, self.pool.labels[lab], self.n_classes
            )
            used = weights > 0
            self.probe.fit(self.pool.x[used], targets[used], sample_weight=weights[used])
        self._stale = False
        self._record_stop_predictions()
        # the stop-set predictions follow every refit: timed with it, not with the query
        self.last_fit_seconds = time.perf_counter() - t0
        return self

    def _record_stop_predictions(self) -> None:
        """After a fit on new labels: the kappa of this model's stop-set predictions with the
        previous model's (nothing is drawn from the run's random streams)."""
        if self._recorded_version == self._label_version:
            return
        rows = stop_set(self.pool.n, self.seed)
        pred = self.probe.predict(self.pool.x[rows])
        if self._stop_predictions is not None:
            self.kappas.append(cohen_kappa(self._stop_predictions, pred, self.n_classes))
        self._stop_predictions = pred
        self._recorded_version = self._label_version

    def progress(
        self,
        window: int = STOP_WINDOW,
        threshold: float = STOP_THRESHOLD,
        cv_folds: int = CV_FOLDS,
    ) -> Progress:
        """Should I keep labeling? The cross-validated accuracy and the stopping hint.

        The estimate is a stratified k-fold cross-validation of the probe (its settings, seeded
        from ``seed`` and the number of labels) on the labeled points; the hint compares the
        mean Cohen's kappa between consecutive models' predictions on the fixed stop set over
        the last ``window`` rounds with ``threshold`` (Bloodgood & Vijay-Shanker 2009). See
        :mod:`alkit.stopping` and ``docs/labeling.md``. Nothing is drawn from the run's random
        streams: the next query is the same whether or not this is called.
        """
        lab = self.pool.labeled_idx
        if len(lab) == 0:
            estimate = AccuracyEstimate(reason="nothing is labeled yet")
        else:
            if self._stale:
                self.fit()
            estimate = cross_validated_accuracy(
                self.pool.x[lab],
                self.pool.labels[lab],
                self.n_classes,
                probe=self.probe_config.to_dict(),
                seed=self.seed,
                max_folds=cv_folds,
                device=self.device,
            )
        counts = np.bincount(self.pool.labels[lab], minlength=self.n_classes)
        return Progress(
            len(lab),
            self.pool.n_unlabeled,
            {c: int(n) for c, n in zip(self.classes, counts)},
            estimate,
            stop_hint(self.kappas, window, threshold),
        )

    def predict_proba(self, x: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities of shape (n, C) for ``x`` (default: the pool)."""
        if self._stale:
            self.fit()
        return self.probe.predict_proba(self.pool.x if x is None else x)

    def predict(self, x: np.ndarray | None = None) -> np.ndarray:
        """Predicted class indices (default: for the pool)."""
        return self.predict_proba(x).argmax(axis=1)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Accuracy, balanced accuracy and macro-F1 on a held-out split (``y``: class indices)."""
        x = check_features(x, "x")
        check_labels(y, len(x), self.n_classes, "y", allow_unknown=False)
        if self._stale:
            self.fit()
        return evaluate(self.probe, x, y)

    # ------------------------------------------------------------------ export
    def export(self, out_dir: str | os.PathLike, n: int | None = None) -> dict[str, Path]:
        """Write what a practitioner needs next, atomically, into ``out_dir``.

        Files
        -----
        ``to_label.csv``
            The next points to label (the pending query, or a new one of size ``n``):
            ``index, id, label`` with ``label`` empty, to fill in.
        ``predictions.csv``
            Per pool row: ``index, id, labeled, label, predicted, confidence``.
        ``probe.npz``
            Probe weights and BatchNorm statistics, with the class names.

        With nothing labeled yet only ``to_label.csv`` (the initial pool) is written.
        """
        from .oracle import ExportOracle

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        sel = self.pending if self.pending is not None else self.query(n)
        paths = {
            "to_label": ExportOracle(out / "to_label.csv", self.classes, self.ids).export(
                sel.indices
            )
        }
        if self.pool.n_labeled == 0:
            return paths  # nothing to predict with yet: only the initial pool to label
        proba = self.predict_proba()
        ids = self.ids if self.ids is not None else np.arange(self.pool.n)
        pred = proba.argmax(1)
        df = pd.DataFrame(
            {
                "index": np.arange(self.pool.n),
                "id": ids,
                "labeled": self.pool.labeled,
                "label": [self.classes[v] if v >= 0 else "" for v in self.pool.labels],
                "predicted": [self.classes[v] for v in pred],
                "confidence": proba.max(1),
            }
        )
        with atomic_path(out / "predictions.csv", ".csv") as tmp:
            df.to_csv(tmp, index=False)
        paths["predictions"] = out / "predictions.csv"
        with atomic_path(out / "probe.npz", ".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    **self.probe.state_dict(),
                    classes=np.array(self.classes),
                    config=np.array(json.dumps(self.config())),
                )
        paths["probe"] = out / "probe.npz"
        return paths

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike, *, embeddings: str | os.PathLike | None = None) -> Path:
        """Save the whole state to ``<path>/learner.npz`` (see :mod:`alkit.learner_state`):
        :meth:`load` continues exactly where this learner stands."""
        from .learner_state import save_learner

        return save_learner(self, path, embeddings=embeddings)

    @classmethod
    def load(cls, path: str | os.PathLike, emb_or_x=None, *, device: str = "auto") -> ActiveLearner:
        """The learner saved at ``path`` (``emb_or_x``: its pool, default the saved reference;
        checked against the saved checksum). An exact continuation needs the same kind of
        device."""
        from .learner_state import learner_arguments, read_state, restore_learner, saved_pool

        state, _ = read_state(path)
        x = saved_pool(state, path, emb_or_x)
        return restore_learner(cls(x, device=device, **learner_arguments(state)), path)

    def config(self) -> dict[str, Any]:
        """Everything needed to recreate this learner (JSON-serialisable)."""
        return {
            "strategy": self.strategy,
            "params": self.params,
            "initial_pool": self.initial_pool,
            "budget": self.budget,
            "initial_budget": self.initial_budget,
            "seed": self.seed,
            "probe": self.probe_config.to_dict(),
            "propagation": self.propagation,
        }
