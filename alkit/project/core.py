"""A labeling project: one folder that remembers the practitioner's loop between rounds.

Layout of a project folder::

    project.json                 embeddings (reference + checksum), classes, strategy and its
                                 parameters, budgets, seed, probe, stopping rule, image root
    labels.csv                   every label given, append-only (alkit.project.labels)
    rounds/round_001/            one folder per batch asked, written whole or not at all:
        to_label.csv             the batch: index,id,label (fill in label)
        tasks.json, labeling_config.xml      the batch as Label Studio tasks (format labelstudio)
        predictions.csv, probe.npz           the probe that chose it (from round 2 on)
        report.json              labels so far, the estimated accuracy, the stopping hint
        learner.npz              the learner after this query (latest round only)

A round is built in a hidden temporary folder and renamed to ``rounds/round_NNN`` as its last
step, so a round exists whole or not at all; the labels of the previous round are appended to
``labels.csv`` (atomically) before it. A process killed anywhere leaves a project the next call
continues, and that call asks exactly the batch the interrupted one would have: the learner
saved with the previous round is restored and taught what ``labels.csv`` holds beyond it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._files import write_json_atomic
from .._version import __version__
from ..errors import AlkitError, CorruptCacheError, InvalidInputError, MissingResourceError
from ..stopping import CV_FOLDS, STOP_THRESHOLD, STOP_WINDOW
from ..validation import check_float, check_int, check_path
from .labels import LabelRows, append_labels, project_lock, read_labels, sync_learner
from .rounds import FORMATS, LABELSTUDIO_EXPORT, RoundResult, check_formats, run_round, status_text
from .store import load_project_embeddings, resolve_embeddings

__all__ = ["Project", "RoundResult", "PROJECT_FILE", "LABELS_FILE", "FORMATS", "LABELSTUDIO_EXPORT"]

PROJECT_FILE = "project.json"
LABELS_FILE = "labels.csv"
FORMAT = "alkit-project"
FORMAT_VERSION = 1


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Project:
    """A labeling project in a folder (see the module docstring for its files).

    Create one with :meth:`create` (or ``alkit project init`` / the first ``alkit next
    --project``), open it with :meth:`open`; :meth:`next_round` reads the filled batch, appends
    it to ``labels.csv``, retrains and writes the next batch.
    """

    def __init__(self, folder: Path, config: dict) -> None:
        self.folder = folder
        self.config = config
        self._emb = None
        self._checked = None  # the pool array check_learner last accepted

    # ------------------------------------------------------------------ creating and opening
    @classmethod
    def create(
        cls,
        folder: str | os.PathLike,
        embeddings: Any,
        *,
        classes: Any = None,
        strategy: str = "dropquery",
        params: dict | None = None,
        initial_pool: str | None = None,
        budget: int | None = None,
        initial_budget: int | None = None,
        seed: int = 0,
        probe: dict | None = None,
        labels: str | os.PathLike | None = None,
        images: str | os.PathLike | None = None,
        formats: tuple[str, ...] = ("csv",),
        stop_window: int = STOP_WINDOW,
        stop_threshold: float = STOP_THRESHOLD,
        propagation: Any = None,
        embedding_labels: bool = True,
    ) -> Project:
        """Start a project in ``folder`` (which must not hold one yet).

        Parameters
        ----------
        folder : str or path
        embeddings : str, path or EmbeddingSet
            A name or path for :func:`alkit.load_embeddings`; an ``EmbeddingSet`` that cannot be
            found again by name is copied into the project (``embeddings.npz``).
        classes : list of str or path, optional
            Class names, or a text file with one per line; default: the embeddings' classes.
        strategy, params, initial_pool, seed, probe
            As for :class:`~alkit.ActiveLearner`; fixed for the project's life.
        budget : int, optional
            Items per round (default: the number of classes); ``alkit next --budget`` changes it
            for one round.
        initial_budget : int, optional
            Size of the first batch (default: ``budget``).
        labels : path, optional
            A CSV (``index,label``) of labels you already have: recorded as round 0.
        images : path, optional
            The folder the image ids are relative to (default: the embeddings' ``data_root``),
            for the widget and Label Studio.
        formats : tuple of {"csv", "labelstudio"}
            What each round writes besides ``to_label.csv``.
        stop_window, stop_threshold : int, float
            The stopping rule (:func:`alkit.stopping.stop_hint`).
        propagation : None, True or dict
            As for :class:`~alkit.ActiveLearner`.
        embedding_labels : bool
            Record the labels the embeddings carry (class folders) as round 0; False keeps them
            hidden, as an ``ActiveLearner`` does (a simulation's ground truth).
        """
        from ..learner import ActiveLearner
        from ..oracle import read_class_list, read_labels_csv

        folder = check_path(folder, "the project folder")
        if (folder / PROJECT_FILE).exists():
            raise InvalidInputError(
                f"{folder} already holds a labeling project; open it (alkit next --project "
                f"{folder}) or choose another folder."
            )
        formats = check_formats(formats)
        emb, ref = resolve_embeddings(embeddings, folder)
        if isinstance(classes, (str, os.PathLike)):
            classes = read_class_list(classes)
        known = np.flatnonzero(emb.y_train >= 0) if embedding_labels else np.zeros(0, np.int64)
        given = emb.y_train.copy()
        if classes is None:
            classes = emb.classes
        elif len(known):
            # labels from class folders: the same classes, found by name in the class list
            classes = list(classes)
            missing = [c for c in emb.classes if c not in classes]
            if missing:
                raise InvalidInputError(
                    f"The embeddings carry labels of the classes {emb.classes[:10]}, and "
                    f"{missing[:10]} are not in the class list {classes[:10]}; list every class."
                )
            lookup = np.array([classes.index(c) for c in emb.classes], dtype=np.int64)
            given[known] = lookup[emb.y_train[known]]
        if len(classes) < 2:
            raise InvalidInputError(
                f"The embeddings name {len(classes)} class(es) ({list(classes)}); a project needs "
                "at least 2. Pass the class names (--classes FILE, one per line)."
            )
        if len(known) == len(emb.y_train) and embedding_labels:
            raise InvalidInputError(
                f"Every one of the {len(known)} items of the embeddings already has a label "
                "(images in class folders are labeled by their folder name when embedded), so "
                "there is nothing to ask. To label them yourself, embed them again with "
                "--unlabeled (embed(..., unlabeled=True)) and pass --classes."
            )
        learner = ActiveLearner(
            emb.x_train,
            strategy=strategy,
            initial_pool=initial_pool,
            budget=budget,
            initial_budget=initial_budget if initial_budget is not None else budget,
            seed=seed,
            probe=probe,
            propagation=propagation,
            classes=list(classes),
            device="cpu",
            **(params or {}),
        )
        image_root = images if images is not None else emb.meta.get("data_root")
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "alkit_version": __version__,
            "created": _now(),
            "embeddings": {
                **ref,
                "checksum": emb.checksum,
                "n": int(len(emb.x_train)),
                "dim": int(emb.x_train.shape[1]),
                "dataset": emb.dataset,
                "backbone": emb.backbone,
            },
            "classes": list(learner.classes),
            "learner": learner.config(),
            "images": None if image_root is None else str(Path(image_root).expanduser().resolve()),
            "formats": list(formats),
            "stopping": {
                "window": check_int(stop_window, "stop_window", min=1),
                "threshold": check_float(stop_threshold, "stop_threshold", min=-1.0, max=1.0),
                "cv_folds": CV_FOLDS,
            },
        }
        folder.mkdir(parents=True, exist_ok=True)
        project = cls(folder, config)
        project._emb = emb
        with project_lock(folder):
            if len(known):
                project._append(known, given[known], 0, "embeddings")
            if labels is not None:
                idx, lab = read_labels_csv(labels, project.classes, n_rows=len(emb.x_train))
                project._append(idx, lab, 0, "import")
            write_json_atomic(folder / PROJECT_FILE, config)
        return project

    @classmethod
    def from_learner(
        cls, folder: str | os.PathLike, learner, embeddings: Any = None, *, images=None
    ) -> Project:
        """A project with ``learner``'s settings (the widget's), its labels as round 0.

        ``embeddings``: the learner's EmbeddingSet (or its name or path); default: the pool's
        features, copied into the project. Their labels stay hidden.
        """
        from ..data import EmbeddingSet

        if embeddings is None:
            x = learner.pool.x
            embeddings = EmbeddingSet(x, -np.ones(len(x), dtype=np.int64))
        cfg = learner.config()
        params = {k: v for k, v in cfg["params"].items() if k != "device"}
        project = cls.create(
            folder,
            embeddings,
            classes=learner.classes,
            strategy=cfg["strategy"],
            params=params,
            initial_pool=cfg["initial_pool"],
            budget=cfg["budget"],
            initial_budget=cfg["initial_budget"],
            seed=cfg["seed"],
            probe=cfg["probe"],
            propagation=cfg["propagation"],
            images=images,
            embedding_labels=False,
        )
        if learner.n_labeled:
            idx = np.asarray(learner.acquired, dtype=np.int64)
            project.append_labels(idx, learner.pool.labels[idx], round=0, source="python")
        return project

    @classmethod
    def open(cls, folder: str | os.PathLike) -> Project:
        """The project in ``folder``."""
        folder = check_path(folder, "the project folder")
        path = folder / PROJECT_FILE
        if not path.is_file():
            raise MissingResourceError(
                f"{folder} holds no labeling project (no {PROJECT_FILE}); create one with "
                f"alkit project init {folder} --embeddings … (or alkit next --project {folder} "
                "--embeddings … --classes …)."
            )
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptCacheError(f"{path} is unreadable ({exc}).") from exc
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise CorruptCacheError(f"{path} is not an alkit project file.")
        if config.get("format_version") != FORMAT_VERSION:
            raise CorruptCacheError(
                f"{path} has format version {config.get('format_version')}; this alkit reads "
                f"version {FORMAT_VERSION}."
            )
        return cls(folder, config)

    @staticmethod
    def exists(folder: str | os.PathLike) -> bool:
        return (Path(folder) / PROJECT_FILE).is_file()

    # ------------------------------------------------------------------ what it holds
    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    @property
    def labels_path(self) -> Path:
        return self.folder / LABELS_FILE

    @property
    def n(self) -> int:
        return int(self.config["embeddings"]["n"])

    def embeddings(self):
        """The project's embeddings, checked against the checksum recorded at creation."""
        if self._emb is None:
            self._emb = load_project_embeddings(self.config["embeddings"], self.folder)
        return self._emb

    def ids(self) -> list | None:
        ids = self.embeddings().meta.get("ids")
        return None if ids is None or len(ids) != self.n else list(ids)

    def images(self) -> list[Path] | None:
        """The image file of every pool row (``images`` root + the ids), or None if unknown."""
        root, ids = self.config.get("images"), self.ids()
        if root is None or ids is None:
            return None
        return [Path(root) / str(i) for i in ids]

    def labels(self) -> LabelRows:
        """Every row of ``labels.csv`` (checked)."""
        return read_labels(self.labels_path, self.classes, self.n)

    def rounds(self) -> list[int]:
        """The numbers of the rounds written, ascending."""
        base = self.folder / "rounds"
        names = [p.name for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
        return sorted(int(n[6:]) for n in names if n.startswith("round_") and n[6:].isdigit())

    def latest_round(self) -> int:
        rounds = self.rounds()
        return rounds[-1] if rounds else 0

    def round_dir(self, k: int) -> Path:
        return self.folder / "rounds" / f"round_{k:03d}"

    def report(self, k: int | None = None) -> dict | None:
        """The ``report.json`` of round ``k`` (default: the latest), or None."""
        k = self.latest_round() if k is None else k
        path = self.round_dir(k) / "report.json"
        return json.loads(path.read_text()) if k and path.is_file() else None

    # ------------------------------------------------------------------ labels
    def _append(self, indices, labels, round: int, source: str) -> int:
        return append_labels(
            self.labels_path, self.classes, self.n, indices, labels, round, source, self.ids()
        )

    def append_labels(self, indices, labels, *, round: int | None = None, source="python") -> int:
        """Append labels (class indices or names) to ``labels.csv``; returns how many were new.

        ``round`` defaults to the latest round (the batch they answer). A label for an item that
        already has another one is an error: change a label on purpose with :meth:`relabel`.
        """
        from ..validation import check_class_labels, check_indices

        indices = check_indices(indices, self.n, "indices")
        labels = check_class_labels(labels, self.classes, "labels")
        if len(labels) != len(indices):
            raise InvalidInputError(f"{len(indices)} indices but {len(labels)} labels.")
        with project_lock(self.folder):
            k = self.latest_round() if round is None else check_int(round, "round", min=0)
            return self._append(indices, labels, k, source)

    def relabel(self, indices, labels) -> int:
        """Correct labels given before (appended as ``relabel`` rows); returns how many changed."""
        return self.append_labels(indices, labels, source="relabel")

    # ------------------------------------------------------------------ the learner
    def new_learner(self, device: str = "auto"):
        """A fresh :class:`~alkit.ActiveLearner` with the project's configuration."""
        from ..learner import ActiveLearner

        cfg = self.config["learner"]
        return ActiveLearner(
            self.embeddings().x_train,
            strategy=cfg["strategy"],
            initial_pool=cfg["initial_pool"],
            budget=cfg["budget"],
            initial_budget=cfg["initial_budget"],
            seed=cfg["seed"],
            probe=cfg["probe"],
            propagation=cfg["propagation"],
            device=device,
            classes=self.classes,
            ids=self.ids(),
            **cfg["params"],
        )

    def check_learner(self, learner) -> None:
        """An error unless ``learner`` has this project's configuration, classes and pool."""
        from ..learner_state import features_checksum

        mine = json.dumps(self.config["learner"], sort_keys=True)
        if json.dumps(learner.config(), sort_keys=True) != mine or learner.classes != self.classes:
            raise InvalidInputError(
                f"The project {self.folder} was created with {self.config['learner']} and the "
                f"classes {self.classes[:10]}; this learner has {learner.config()} and "
                f"{learner.classes[:10]}. Use another project folder, or the same settings."
            )
        x = learner.pool.x
        if x is self.embeddings().x_train or self._checked is x:
            return  # the project's own array, or one checked before (features never change)
        if learner.pool.n != self.n or features_checksum(x) != features_checksum(
            self.embeddings().x_train
        ):
            raise InvalidInputError(
                f"The project {self.folder} was created on other embeddings; use another folder."
            )
        self._checked = x

    def restore(self, learner) -> int:
        """Bring ``learner`` (built with this project's settings) to where the project stands:
        the learner saved with the latest round, then taught what ``labels.csv`` holds beyond
        it. Returns how many labels were taught or changed."""
        from ..learner_state import STATE_FILE, restore_learner

        k = self.latest_round()
        state = self.round_dir(k) / STATE_FILE if k else None
        if state is not None and state.is_file():
            try:
                restore_learner(learner, state.parent)
            except AlkitError as exc:
                warnings.warn(
                    f"{state} could not be restored ({exc}); the learner is rebuilt from "
                    f"{self.labels_path} (its next batch may differ from an uninterrupted run).",
                    RuntimeWarning,
                    stacklevel=2,
                )
                _reset(learner, self)
        taught = sync_learner(learner, self.labels())
        if taught is None:  # the learner knows labels the file does not: rebuild from the file
            _reset(learner, self)
            taught = sync_learner(learner, self.labels())
        return int(taught)

    def learner(self, device: str = "auto"):
        """The project's :class:`~alkit.ActiveLearner`, restored (see :meth:`restore`)."""
        learner = self.new_learner(device)
        self.restore(learner)
        return learner

    # ------------------------------------------------------------------ a round
    def next_round(
        self,
        labels: str | os.PathLike | None = None,
        *,
        answers: tuple[Any, Any] | None = None,
        source: str = "python",
        learner=None,
        budget: int | None = None,
        formats: tuple[str, ...] | None = None,
        device: str = "auto",
        evaluate: Callable[[Any], dict] | None = None,
        ask: bool = True,
    ) -> RoundResult:
        """Read the answers to the latest batch, append them, retrain, write the next batch.

        Parameters
        ----------
        labels : path, optional
            Where the answers are: a filled CSV (``index,label``) or a Label Studio export
            (``.json``). Default: the latest round's ``to_label.csv``, and its
            ``labelstudio_export.json`` when there is one.
        answers : (indices, labels), optional
            The answers themselves (the widget's), recorded with ``source``.
        learner : ActiveLearner, optional
            Continue this learner (the widget's) instead of loading the saved one; it must
            stand where the project stands (:meth:`restore`).
        budget : int, optional
            Size of this batch (default: the project's budget; capped at what is left).
        formats : tuple of str, optional
            Default: the project's.
        evaluate : callable, optional
            ``evaluate(learner) -> dict`` after retraining (e.g. a test split's accuracy),
            stored in ``report.json``.
        ask : bool
            False: record the answers and retrain, but write no new round (the last batch of a
            session).

        Raises
        ------
        InvalidInputError
            When the latest batch has no label filled in (nothing to learn from).
        """
        return run_round(
            self,
            labels,
            answers=answers,
            source=source,
            learner=learner,
            budget=budget,
            formats=formats,
            device=device,
            evaluate=evaluate,
            ask=ask,
        )

    # ------------------------------------------------------------------ status
    def status(self) -> str:
        """A summary: settings, labels per class, rounds, the latest estimate and hint."""
        return status_text(self)


# ---------------------------------------------------------------------------- helpers
def _reset(learner, project: Project) -> None:
    """Make ``learner`` a fresh one of the project's settings, in place."""
    fresh = project.new_learner(learner.device)
    learner.__dict__.update(fresh.__dict__)
