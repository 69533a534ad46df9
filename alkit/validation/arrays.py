"""Checks of arrays: features, labels, class names and class labels, row indices, ids, sample
weights and class probabilities."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ._show import _is_integer, _show, _type_name, suggest

#: Largest feature magnitude accepted. A squared distance between rows of this size, summed over
#: 16 384 dimensions (4 · 16 384 · 1e32 ≈ 6.6e36), still fits in float32 (3.4e38); larger values
#: overflow to inf in the first norm or distance computed and break every strategy silently.
FEATURE_ABS_MAX = 1e16


def check_features(x: Any, name: str = "x") -> np.ndarray:
    """A feature matrix as C-contiguous float32 of shape (n_samples, n_features).

    Raises
    ------
    InvalidInputError
        If ``x`` is not a 2-D array of real numbers, is empty, holds NaN/inf, or holds values
        so large (> :data:`FEATURE_ABS_MAX`) that squared distances overflow float32.
    """
    if x is None or isinstance(x, (str, bytes, dict)):
        raise InvalidInputError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {_show(x)}."
        )
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and other exotic inputs
        raise InvalidInputError(
            f"{name} could not be converted to an array ({exc}); pass a 2-D numeric array."
        ) from exc
    if arr.ndim != 2:
        raise InvalidInputError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got shape {arr.shape}. "
            "Reshape it, e.g. x.reshape(len(x), -1)."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"{name} is empty (shape {arr.shape}); pass at least one sample and one feature."
        )
    if arr.dtype.kind not in "fiu":
        raise InvalidInputError(
            f"{name} must hold real numbers; got dtype {arr.dtype}"
            + (" (booleans are not features)" if arr.dtype.kind == "b" else "")
            + "."
        )
    # two reductions, no (n, d) temporaries: NaN propagates into max, ±inf lands in max or min,
    # and the largest magnitude is one of them (the detail is computed only for the message)
    lo, hi = (float(arr.min()), float(arr.max())) if arr.dtype.kind != "u" else (0.0, 0.0)
    if arr.dtype.kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
        finite = np.isfinite(arr)
        if not finite.all():
            bad_rows = np.flatnonzero(~finite.all(axis=1))
            raise InvalidInputError(
                f"{name} holds NaN or inf in {len(bad_rows)} row(s) (first: {bad_rows[:5].tolist()}); "
                "drop or re-embed those samples before active learning."
            )
    top = max(abs(lo), abs(hi)) if arr.dtype.kind != "u" else float(arr.max())
    if top > FEATURE_ABS_MAX:
        row = int(np.argmax(np.abs(arr).max(axis=1)))
        raise InvalidInputError(
            f"{name} holds a value of magnitude {top:.3g} (row {row}); above {FEATURE_ABS_MAX:.0e} "
            "squared distances overflow float32. Rescale the features (e.g. divide by their "
            "largest norm) or L2-normalise them."
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def _label_values(arr: np.ndarray, name: str) -> np.ndarray:
    """Integer labels from an array of ints, integral floats or bools; errors name the first bad entry."""
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        i = int(np.argmax(arr))
        raise InvalidInputError(
            f"{name} holds the label {int(arr[i])} at position {i}, far beyond any class index."
        )
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"{name} holds {arr[i]!r} at position {i} ({int(bad.sum())} such); labels must be "
                "integer class indices (-1 for unknown), never NaN."
            )
        frac = arr != np.round(arr)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise InvalidInputError(
                f"{name} holds the non-integer label {arr[i]!r} at position {i}; labels are "
                "integer class indices (-1 for unknown) and are not rounded."
            )
        huge = np.abs(arr.astype(np.float64)) >= 2.0**62  # would wrap in the cast to int64
        if huge.any():
            i = int(np.flatnonzero(huge)[0])
            raise InvalidInputError(
                f"{name} holds the label {arr[i]!r} at position {i}, far beyond any class index."
            )
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        raise InvalidInputError(
            f"{name} holds booleans; labels are integer class indices (pass y.astype(int) if a "
            "boolean really is the class)."
        )
    if arr.dtype.kind == "O":
        for i, v in enumerate(arr):
            if v is None or not _is_integer(v):
                raise InvalidInputError(
                    f"{name} holds {_show(v)} at position {i}; labels must be integer class indices "
                    "(-1 for unknown). Map class names to indices with classes.index(name)."
                )
            if not -(2**62) < int(v) < 2**62:
                raise InvalidInputError(
                    f"{name} holds the label {int(v)} at position {i}, far beyond any class index."
                )
        return arr.astype(np.int64)
    raise InvalidInputError(
        f"{name} must hold integer class indices (-1 for unknown); got dtype {arr.dtype}"
        + (f" (first value {arr.flat[0]!r})" if arr.size else "")
        + ". Map class names to indices first."
    )


def check_labels(
    y: Any,
    n: int,
    n_classes: int | None = None,
    name: str = "y",
    allow_unknown: bool = True,
) -> np.ndarray:
    """Integer labels of shape (n,) as int64, ``-1`` meaning unknown when ``allow_unknown``.

    Raises
    ------
    InvalidInputError
        On a length mismatch, NaN, non-integer, string or ``None`` values, or labels outside
        ``[-1, n_classes)``.
    """
    if y is None or isinstance(y, (str, bytes)):
        raise InvalidInputError(f"{name} must be a 1-D array of class indices; got {_show(y)}.")
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D of shape ({n},); got shape {arr.shape}.")
    if len(arr) != n:
        raise InvalidInputError(
            f"{name} has {len(arr)} labels but the features have {n} rows; pass one label per "
            "sample (-1 for unknown)."
        )
    out = _label_values(arr, name) if len(arr) else arr.astype(np.int64)
    low = -1 if allow_unknown else 0
    if len(out) and out.min() < low:
        i = int(np.argmin(out))
        raise InvalidInputError(
            f"{name} holds the label {out[i]} at position {i}, below {low}; "
            + (
                "-1 is the only negative label (unknown)."
                if allow_unknown
                else "every label must be a known class index (≥ 0) here."
            )
        )
    if n_classes is not None and len(out) and out.max() >= n_classes:
        i = int(np.argmax(out))
        raise InvalidInputError(
            f"{name} holds the label {out[i]} at position {i}, outside [0, {n_classes}): there "
            f"are only {n_classes} classes (0..{n_classes - 1}); check the class list."
        )
    return out


def check_classes(classes: Any, n_classes: int | None = None, name: str = "classes") -> list[str]:
    """Class names as a list of distinct, non-empty strings (``len == n_classes`` when given).

    Numbers are accepted and turned into their text (``0`` → ``"0"``), as data sets with numeric
    class ids have them; duplicates (``["cat", "cat", "dog"]``), blanks, and unordered
    containers (a set or dict: the position of a name is its label) are errors.
    """
    if isinstance(classes, (str, bytes)) or classes is None:
        raise InvalidInputError(
            f"{name} must be a list of class names; got {_show(classes)}"
            + (" (a single string: wrap it in a list)" if isinstance(classes, str) else "")
            + "."
        )
    if isinstance(classes, (set, frozenset, dict)):
        # the position of a name is its label: an unordered container would shuffle them
        raise InvalidInputError(
            f"{name} must be a list of class names in label order; got a {_type_name(classes)} "
            f"({_show(classes)}), whose order is not the labels'. Pass a list, e.g. "
            "sorted(d, key=d.get) for a {name: index} dict."
        )
    try:
        items = list(classes)
    except TypeError:
        raise InvalidInputError(
            f"{name} must be a list of class names; got {_show(classes)}."
        ) from None
    names = []
    for i, c in enumerate(items):
        if isinstance(c, (bool, np.bool_)) or not isinstance(
            c, (str, numbers.Integral, np.integer)
        ):
            raise InvalidInputError(f"{name}[{i}] must be a class name (a string); got {_show(c)}.")
        text = str(c).strip()
        if not text:
            raise InvalidInputError(f"{name}[{i}] is blank; every class needs a name.")
        names.append(text)
    seen: dict[str, int] = {}
    for i, c in enumerate(names):
        if c in seen:
            raise InvalidInputError(
                f"{name} lists {c!r} twice (positions {seen[c]} and {i}); class names must be "
                "distinct, since labels are looked up by name."
            )
        seen[c] = i
    if n_classes is not None and len(names) != n_classes:
        raise InvalidInputError(
            f"{name} has {len(names)} names but n_classes is {n_classes}; give one name per class."
        )
    return names


def check_indices(
    indices: Any,
    n: int | None,
    name: str = "indices",
    *,
    unique: bool = True,
) -> np.ndarray:
    """Pool row indices as a 1-D int64 array, each in ``[0, n)`` (``n=None``: any row ≥ 0).

    Integer-valued floats are *not* accepted (``2.7`` would otherwise become 2); a boolean
    mask is rejected with the call that turns it into indices; so are unordered or one-shot
    containers (a set, a generator), whose order would pair indices with the wrong labels.
    """
    if isinstance(indices, (str, bytes, set, frozenset, dict)) or indices is None:
        raise InvalidInputError(
            f"{name} must be a sequence of integer row indices (a list or array); got "
            f"{_show(indices)}."
        )
    if _is_integer(indices):
        indices = [indices]
    arr = np.asarray(indices)
    if arr.ndim == 0:  # a generator or another object numpy cannot read as a sequence
        raise InvalidInputError(
            f"{name} must be a sequence of integer row indices (a list or array); got "
            f"{_show(indices)} of type {_type_name(indices)}."
        )
    if arr.dtype.kind == "b":
        raise InvalidInputError(
            f"{name} is a boolean mask; pass the row indices it selects: np.flatnonzero(mask)."
        )
    if arr.ndim > 1:
        raise InvalidInputError(f"{name} must be 1-D; got shape {arr.shape}.")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "O" and all(_is_integer(v) for v in arr):
            big = next((int(v) for v in arr if not -(2**63) <= int(v) < 2**63), None)
            if big is not None:
                raise InvalidInputError(f"{name} holds {big}, outside the pool's rows.")
            arr = arr.astype(np.int64)
        else:
            bad = next((v for v in arr.ravel() if not _is_integer(v)), arr.ravel()[0])
            raise InvalidInputError(
                f"{name} must be integer row indices; got {_show(bad)} ({arr.dtype}). "
                "Indices are never rounded or truncated."
            )
    if arr.dtype.kind == "u" and arr.max() > np.iinfo(np.int64).max:
        raise InvalidInputError(f"{name} holds {int(arr.max())}, outside the pool's rows.")
    arr = arr.astype(np.int64).ravel()
    if arr.min() < 0 or (n is not None and arr.max() >= n):
        bad = int(arr[(arr < 0) | (arr >= (n if n is not None else np.inf))][0])
        rows = f"0..{n - 1}" if n is not None else "(they start at 0)"
        raise InvalidInputError(f"{name} holds {bad}, outside the pool's rows {rows}.")
    if unique:
        vals, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            raise InvalidInputError(
                f"{name} contains duplicates (index {int(vals[counts > 1][0])}); give each row once."
            )
    return arr


def check_ids(ids: Any, n: int | None, name: str = "ids") -> list | None:
    """One readable id (or image path) per pool row, or ``None`` (``n=None``: any length)."""
    if ids is None:
        return None
    if isinstance(ids, (str, bytes, set, frozenset, dict)):
        raise InvalidInputError(
            f"{name} must be a sequence with one id per pool row, in row order; got "
            f"{_show(ids)} of type {_type_name(ids)}."
        )
    try:
        out = list(ids)
    except TypeError:
        raise InvalidInputError(
            f"{name} must be a sequence with one id per pool row; got {_show(ids)} of type "
            f"{_type_name(ids)}."
        ) from None
    if n is not None and len(out) != n:
        raise InvalidInputError(
            f"{name} has {len(out)} entries but the pool has {n} rows; give one id per row."
        )
    return out


def check_sample_weight(weight: Any, n: int, name: str = "sample_weight") -> np.ndarray:
    """Per-sample weights of shape (n,): finite and non-negative, as float32."""
    arr = np.asarray(weight)
    if arr.dtype.kind not in "fiu" or arr.shape != (n,):
        raise InvalidInputError(
            f"{name} must be a numeric array of shape ({n},); got {_show(arr)}."
        )
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidInputError(f"{name} must be finite and non-negative.")
    return arr


def check_class_text(
    text: Any, n_classes: int | None, dim: int | None, name: str = "class_text"
) -> np.ndarray:
    """Class text embeddings of shape (n_classes, dim) as float32: finite, no zero row.

    One row per class (row ``k`` embeds ``classes[k]``), in the image features' space (an
    OpenCLIP model's ``embed_dim``), so ``dim`` must equal the features' dimension.
    """
    arr = check_features(text, name)
    if n_classes is not None and len(arr) != n_classes:
        raise InvalidInputError(
            f"{name} has {len(arr)} rows but there are {n_classes} classes; give one text "
            "embedding per class, in the order of the class names."
        )
    if dim is not None and arr.shape[1] != dim:
        raise InvalidInputError(
            f"{name} has {arr.shape[1]} dimensions but the image features have {dim}; the text "
            "embeddings must come from the same model as the images (CLIP's joint space)."
        )
    zero = np.flatnonzero(np.linalg.norm(arr, axis=1) == 0)
    if len(zero):
        raise InvalidInputError(
            f"{name} rows {zero[:5].tolist()} are zero vectors: they point to no class."
        )
    return arr


def check_proba(proba: Any, n: int, n_classes: int, name: str = "proba") -> np.ndarray:
    """Class probabilities of shape (n, n_classes) as float64: finite, in [0, 1], rows summing to 1.

    A row may sum to 1 within 1e-3 (float32 softmax outputs do); scores, logits or one-hot labels
    of the wrong shape are errors, never renormalised.
    """
    if proba is None or isinstance(proba, (str, bytes, dict)):
        raise InvalidInputError(
            f"{name} must be an array of class probabilities of shape ({n}, {n_classes}); "
            f"got {_show(proba)}."
        )
    arr = np.asarray(proba)
    if arr.dtype.kind not in "fiu" or arr.shape != (n, n_classes):
        raise InvalidInputError(
            f"{name} must be a numeric array of shape ({n}, {n_classes}) (one row of class "
            f"probabilities per item, one column per class); got {_show(arr)}."
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise InvalidInputError(f"{name} holds NaN or inf (row {row}); pass probabilities.")
    if n and (arr.min() < 0 or arr.max() > 1):
        row = int(np.flatnonzero(((arr < 0) | (arr > 1)).any(axis=1))[0])
        raise InvalidInputError(
            f"{name} holds values outside [0, 1] (row {row}); pass probabilities (a softmax), "
            "not scores or logits."
        )
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > 1e-3
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InvalidInputError(
            f"{name} row {row} sums to {sums[row]:.6g}, not 1; pass each item's class "
            "probabilities (e.g. learner.predict_proba), not unnormalised scores."
        )
    return arr


def check_class_labels(labels: Any, classes: Sequence[str], name: str = "labels") -> np.ndarray:
    """Labels given as class indices *or* class names, as int64 indices into ``classes``.

    Names must match a class exactly (a wrong case is an error that suggests the right
    spelling); integers must lie in ``[0, len(classes))``. Strings are never read as numbers:
    ``"3"`` is the class *named* ``"3"``, which is index 3 only when the classes are numbered.
    """
    if isinstance(labels, (str, bytes)) or _is_integer(labels):
        labels = [labels]
    if labels is None or isinstance(labels, (set, frozenset, dict)):
        raise InvalidInputError(
            f"{name} must be a sequence of class names or indices, one per index; got "
            f"{_show(labels)}."
        )
    arr = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be a 1-D sequence of class names or indices, one per index; got "
            + (f"shape {arr.shape}." if arr.ndim else f"{_show(labels)}.")
        )
    if arr.dtype.kind in "US" or (
        arr.dtype.kind == "O" and len(arr) and all(isinstance(v, str) for v in arr)
    ):
        lookup = {c: i for i, c in enumerate(classes)}
        out = np.empty(len(arr), dtype=np.int64)
        for i, v in enumerate(arr):
            v = str(v)
            if v not in lookup:
                raise InvalidInputError(
                    f"{name}[{i}] is {v!r}, not one of the {len(classes)} class names "
                    f"({', '.join(map(repr, list(classes)[:10]))}"
                    f"{', …' if len(classes) > 10 else ''}).{suggest(v, classes)}"
                )
            out[i] = lookup[v]
        return out
    if arr.dtype.kind == "O" and len(arr) and any(isinstance(v, str) for v in arr):
        raise InvalidInputError(
            f"{name} mixes class names and numbers; give all labels the same way."
        )
    return check_labels(arr, len(arr), len(classes), name, allow_unknown=False)
