"""EmbeddingSet: cached features, labels and provenance, saved atomically with a checksum."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_path
from .errors import CorruptCacheError, InvalidInputError, MissingResourceError
from .validation import (
    _show,
    check_bool,
    check_class_text,
    check_classes,
    check_features,
    check_labels,
    check_path,
)

__all__ = ["EmbeddingSet"]

FORMAT_VERSION = 1
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
#: Arrays a set may carry; each enters the checksum only when present, so the checksums of files
#: written before it existed do not change.
_OPTIONAL = ("class_text",)


def _checksum(arrays: dict[str, np.ndarray | None]) -> str:
    h = hashlib.sha256()
    present = [k for k in _OPTIONAL if arrays.get(k) is not None]
    for key in (*_ARRAYS, *present):
        arr = arrays.get(key)
        h.update(key.encode())
        if arr is None:
            h.update(b"<none>")
            continue
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).data)
    return h.hexdigest()


def _id_ranges(ids: np.ndarray) -> str:
    """``"10..98, 120"``: sorted ids written as runs."""
    runs, start = [], None
    for i, v in enumerate(ids):
        if start is None:
            start = v
        if i + 1 == len(ids) or ids[i + 1] != v + 1:
            runs.append(f"{start}" if start == v else f"{start}..{v}")
            start = None
    return ", ".join(runs[:6]) + (", …" if len(runs) > 6 else "")


def _infer_classes(y_train: np.ndarray, y_test: np.ndarray | None) -> list[str]:
    """Class names ``"0".."C-1"`` from labels that use every id 0..C−1.

    A gap (ids with no example in either split) is an error rather than an empty class: one
    typo'd label (``y[0] = 99`` in a 10-class set) would otherwise create a 100-class problem
    whose budgets, metrics and probe silently change.
    """
    seen = np.unique(
        np.concatenate([y_train[y_train >= 0]] + ([y_test] if y_test is not None else []))
    )
    if len(seen) == 0:
        return []  # an unlabeled pool: the classes come from the caller (``classes=``)
    top = int(seen[-1])
    missing = np.setdiff1d(np.arange(top + 1), seen)
    if len(missing):
        raise InvalidInputError(
            f"The labels use class ids up to {top} but ids {_id_ranges(missing)} ({len(missing)} "
            "of them) have no example in y_train or y_test. A typo'd label would make them empty "
            "classes. Fix the labels, or pass classes=[...] (one name per class, all of them) if "
            "those classes exist."
        )
    return [str(i) for i in range(top + 1)]


@dataclass
class EmbeddingSet:
    """Frozen-backbone embeddings of a data set, with labels and provenance.

    Parameters
    ----------
    x_train : ndarray of shape (n_train, d), float32
        The pool features (raw backbone output, not normalised).
    y_train : ndarray of shape (n_train,), int64
        Class indices; ``-1`` marks an unknown label (a practitioner's unlabeled pool).
    x_test, y_test : ndarray of shape (n_test, d) and (n_test,), optional
        Held-out split; without it runs have no accuracy columns.
    classes : list of str
        Class names, index = label. Defaults to ``"0".."C-1"``.
    meta : dict
        Provenance: dataset, backbone, preprocessing hash, counts, created, checksum.
    class_text : ndarray of shape (n_classes, d), float32, optional
        Text embeddings of the class names in the features' space (an OpenCLIP model's text
        tower, L2-normalised; ``meta["text"]`` says how they were made): the zero-shot
        classifier, the ``text_prior`` initial pool and the probe's ``init="text"`` use them.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    class_text: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.x_train = check_features(self.x_train, "x_train")
        # labels are checked before anything reads them: a NaN, a string or None must never
        # reach the class inference below
        self.y_train = check_labels(self.y_train, len(self.x_train), None, "y_train")
        if (self.x_test is None) != (self.y_test is None):
            raise InvalidInputError("Pass both x_test and y_test, or neither.")
        if self.x_test is not None:
            self.x_test = check_features(self.x_test, "x_test")
            if self.x_test.shape[1] != self.x_train.shape[1]:
                raise InvalidInputError(
                    f"x_test has {self.x_test.shape[1]} features but x_train has "
                    f"{self.x_train.shape[1]}; embed both splits with the same backbone."
                )
            self.y_test = check_labels(
                self.y_test, len(self.x_test), None, "y_test", allow_unknown=False
            )
        # only None or an empty list means "infer"; anything else (3, "cat") is checked
        no_names = self.classes is None or (
            isinstance(self.classes, (list, tuple, np.ndarray)) and len(self.classes) == 0
        )
        if no_names:
            self.classes = _infer_classes(self.y_train, self.y_test)
        else:
            self.classes = check_classes(self.classes)
        n_known = len(self.classes)
        check_labels(self.y_train, len(self.y_train), n_known, "y_train")
        if self.y_test is not None:
            check_labels(self.y_test, len(self.y_test), n_known, "y_test", allow_unknown=False)
        if not isinstance(self.meta, dict):
            raise InvalidInputError(
                f"meta must be a dict of provenance fields; got {_show(self.meta)} of type "
                f"{type(self.meta).__name__}."
            )
        if self.class_text is not None:
            self.class_text = check_class_text(
                self.class_text, n_known or None, self.x_train.shape[1], "class_text"
            )
        self.meta = dict(self.meta)
        self.meta.setdefault("dataset", "custom")
        self.meta.setdefault("backbone", "unknown")
        self.meta.update(
            n_train=int(len(self.x_train)),
            n_test=int(0 if self.x_test is None else len(self.x_test)),
            dim=int(self.x_train.shape[1]),
            n_classes=int(n_known),
        )
        self.meta["checksum"] = self.checksum

    # ------------------------------------------------------------------ properties
    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def dataset(self) -> str:
        return str(self.meta.get("dataset", "custom"))

    @property
    def backbone(self) -> str:
        return str(self.meta.get("backbone", "unknown"))

    @property
    def has_test(self) -> bool:
        return self.x_test is not None

    @property
    def has_text(self) -> bool:
        """Whether the set carries class text embeddings (:attr:`class_text`)."""
        return self.class_text is not None

    def with_class_text(
        self, class_text: np.ndarray, text_meta: dict | None = None
    ) -> EmbeddingSet:
        """A copy carrying ``class_text`` (shape (n_classes, d)) and ``meta["text"] = text_meta``.

        The arrays are shared, not copied; the checksum then covers the text embeddings too.
        """
        meta = {k: v for k, v in self.meta.items() if k != "checksum"}
        if text_meta is not None:
            meta["text"] = dict(text_meta)
        return EmbeddingSet(
            self.x_train,
            self.y_train,
            self.x_test,
            self.y_test,
            classes=list(self.classes),
            meta=meta,
            class_text=class_text,
        )

    @property
    def checksum(self) -> str:
        """sha256 of the arrays (dtype, shape and bytes)."""
        if getattr(self, "_checksum", None) is None:
            self._checksum = _checksum(self._arrays())
        return self._checksum

    def _arrays(self) -> dict[str, np.ndarray | None]:
        return {k: getattr(self, k) for k in (*_ARRAYS, *_OPTIONAL)}

    def __repr__(self) -> str:
        test = f", n_test={len(self.x_test)}" if self.x_test is not None else ""
        text = ", class_text" if self.class_text is not None else ""
        return (
            f"EmbeddingSet(dataset={self.dataset!r}, backbone={self.backbone!r}, "
            f"n_train={len(self.x_train)}, dim={self.x_train.shape[1]}, n_classes={self.n_classes}"
            f"{test}{text})"
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save atomically as ``.npz`` (one file) or a directory (``.safetensors`` + ``meta.json``).

        A path ending in ``.npz`` writes one file through a temporary name and a rename;
        any other path writes a directory, built under a temporary name and renamed as one.
        """
        path = check_path(path, "path")
        meta = dict(
            self.meta, classes=self.classes, format_version=FORMAT_VERSION, checksum=self.checksum
        )
        meta.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat())
        arrays = {k: v for k, v in self._arrays().items() if v is not None}
        if path.suffix == ".npz":
            with atomic_path(path, ".npz") as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(
                        fh,
                        **arrays,
                        __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                    )
            return path
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        from ._files import apply_umask

        apply_umask(tmp_dir, 0o777)  # mkdtemp makes it 0700 whatever the umask
        try:
            save_file(arrays, str(tmp_dir / "arrays.safetensors"))
            apply_umask(tmp_dir / "arrays.safetensors")  # safetensors writes it 0600
            (tmp_dir / "meta.json").write_text(json.dumps(meta, indent=2))
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                if old.exists():
                    shutil.rmtree(old)
                os.replace(path, old)
                os.replace(tmp_dir, path)
                shutil.rmtree(old)
            else:
                os.replace(tmp_dir, path)
        finally:
            if tmp_dir.exists():
                shutil.rmtree(tmp_dir)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, verify: bool = True) -> EmbeddingSet:
        """Load a set written by :meth:`save`, verifying its checksum.

        Parameters
        ----------
        path : str or path
            A ``.npz`` file or a directory written by :meth:`save`.
        verify : bool, default True
            Check the arrays against the checksum stored with them. A file without a checksum
            is then an error (it could have been altered unnoticed); ``verify=False`` loads it
            anyway, for a file you trust.

        Raises
        ------
        CorruptCacheError
            If the file is truncated, unreadable or its arrays do not match the checksum.
        FileNotFoundError
            If ``path`` does not exist.
        """
        verify = check_bool(verify, "verify")
        path = check_path(path, "path")
        if not path.exists():
            raise MissingResourceError(f"No embedding file at {path}.")
        fix = f"delete {path} and re-create it (e.g. `alkit embed ...`)."
        try:
            if path.is_dir():
                from safetensors.numpy import load_file

                arrays = load_file(str(path / "arrays.safetensors"))
                meta = json.loads((path / "meta.json").read_text())
            else:
                with np.load(path, allow_pickle=False) as z:
                    arrays = {k: z[k] for k in z.files if k != "__meta__"}
                    meta = json.loads(bytes(z["__meta__"]).decode())
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            KeyError,
            EOFError,
            json.JSONDecodeError,
        ) as exc:
            raise CorruptCacheError(
                f"Embedding file {path} is truncated or unreadable ({exc}); {fix}"
            ) from exc
        except Exception as exc:  # safetensors raises its own error types
            raise CorruptCacheError(
                f"Embedding file {path} is unreadable ({type(exc).__name__}: {exc}); {fix}"
            ) from exc
        if not isinstance(meta, dict):
            raise CorruptCacheError(
                f"Embedding file {path}: its metadata is a {type(meta).__name__}, not an object "
                f"(a JSON dict); {fix}"
            )
        expected = meta.get("checksum")
        if expected is not None and not isinstance(expected, str):
            raise CorruptCacheError(
                f"Embedding file {path}: its checksum entry is {expected!r}, not a sha256 text; "
                f"{fix}"
            )
        if verify and not expected:
            raise CorruptCacheError(
                f"Embedding file {path} has no checksum entry, so its arrays cannot be verified. "
                f"Re-create it, or load it with verify=False if you trust it ({fix})"
            )
        if verify:
            got = _checksum({k: arrays.get(k) for k in (*_ARRAYS, *_OPTIONAL)})
            if got != expected:
                raise CorruptCacheError(
                    f"Checksum mismatch for {path}: the arrays were modified or damaged "
                    f"(expected {expected[:12]}…, got {got[:12]}…); {fix}"
                )
        classes = meta.pop("classes", [])
        if not isinstance(classes, list):
            raise CorruptCacheError(f"Embedding file {path}: 'classes' is not a list; {fix}")
        meta.pop("format_version", None)
        missing = [k for k in ("x_train", "y_train") if k not in arrays]
        if missing:
            raise CorruptCacheError(f"Embedding file {path} lacks {missing}; {fix}")
        return cls(
            arrays["x_train"],
            arrays["y_train"],
            arrays.get("x_test"),
            arrays.get("y_test"),
            classes=classes,
            meta=meta,
            class_text=arrays.get("class_text"),
        )
