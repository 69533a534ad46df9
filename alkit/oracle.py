"""Oracles answer label queries: simulated (ground truth), by CSV export, or by widget."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import atomic_path
from .errors import InvalidInputError, MissingResourceError
from .validation import (
    check_classes,
    check_ids,
    check_indices,
    check_int,
    check_labels,
    check_path,
    parse_int,
    suggest,
)

__all__ = [
    "SimulatedOracle",
    "ExportOracle",
    "read_labels_csv",
    "read_class_list",
]


class SimulatedOracle:
    """Answers with the ground-truth labels it holds (the simulation of the paper).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Ground-truth labels of the pool. A label of ``-1`` (unknown) cannot be revealed.
    """

    def __init__(self, y: np.ndarray) -> None:
        # a cast would turn 0.5 into class 0 and NaN into a huge negative number
        if not hasattr(y, "__len__") or isinstance(y, (str, bytes, dict)):
            raise InvalidInputError(
                f"y must be a 1-D array of the pool's ground-truth labels; got {y!r:.60}."
            )
        n = len(y)
        self._y = check_labels(y, n, None, "y")
        self.n_queries = 0

    def label(self, indices: np.ndarray, **context) -> np.ndarray:
        indices = check_indices(indices, len(self._y), "indices", unique=False)
        y = self._y[indices]
        if (y < 0).any():
            raise InvalidInputError(
                f"The simulated oracle has no label for {int((y < 0).sum())} queried point(s) (label -1); "
                "simulation needs a fully labeled pool. Use ExportOracle or WidgetOracle for real labeling."
            )
        self.n_queries += len(indices)
        return y


class ExportOracle:
    """Writes the points to label to a CSV and reads the filled CSV back.

    The CSV has columns ``index, id, label`` (and ``path`` when item paths are known);
    a human fills ``label`` (a class name or index) and saves the file.

    Parameters
    ----------
    path : str or path
        Where the CSV of items to label is written (and read back from).
    classes : list of str
        Class names (labels may be given as names or as indices).
    ids : sequence, optional
        A readable id or image path per pool row.
    """

    def __init__(self, path: str | os.PathLike, classes: list[str], ids=None) -> None:
        self.path = check_path(path, "path")
        self.classes = check_classes(classes)
        self.ids = check_ids(ids, None)

    def export(self, indices: np.ndarray, scores: np.ndarray | None = None) -> Path:
        """Write the CSV of ``indices`` with an empty ``label`` column; returns its path."""
        n = None if self.ids is None else len(self.ids)
        indices = check_indices(indices, n, "indices")
        df = pd.DataFrame({"index": indices})
        df["id"] = [self.ids[i] for i in indices] if self.ids is not None else indices
        if scores is not None:
            scores = np.asarray(scores)
            if scores.dtype.kind not in "fiu" or scores.shape != (len(indices),):
                raise InvalidInputError(
                    f"scores must be numbers of shape ({len(indices)},), one per index; got "
                    f"dtype {scores.dtype} and shape {scores.shape}."
                )
            df["score"] = scores
        df["label"] = ""
        with atomic_path(self.path, ".csv") as tmp:
            df.to_csv(tmp, index=False)
        return self.path

    def read(
        self, path: str | os.PathLike | None = None, n_rows: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read a filled CSV back: ``(indices, labels)`` for rows whose label is filled.

        See :func:`read_labels_csv` for what is checked.
        """
        return read_labels_csv(path or self.path, self.classes, n_rows=n_rows)

    def label(self, indices: np.ndarray, **context) -> np.ndarray:
        """Export, then read back: for scripted round trips where the file is filled in between."""
        self.export(indices)
        got_idx, got_lab = self.read()
        lookup = dict(zip(got_idx.tolist(), got_lab.tolist()))
        missing = [int(i) for i in indices if int(i) not in lookup]
        if missing:
            raise InvalidInputError(
                f"{self.path} has no label for indices {missing[:10]}; fill the 'label' column."
            )
        return np.array([lookup[int(i)] for i in indices], dtype=np.int64)


def read_class_list(path: str | os.PathLike) -> list[str]:
    """Class names from a text file, one per line (blank lines ignored; names distinct)."""
    path = check_path(path, "the class list path")
    if path.is_dir():
        raise InvalidInputError(f"The class list {path} is a directory; name the text file.")
    if not path.is_file():
        raise MissingResourceError(f"No class list at {path}; write one class name per line.")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"Cannot read the class list {path} ({exc}).") from exc
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise InvalidInputError(f"The class list {path} is empty; write one class name per line.")
    return check_classes(names, name=f"the class list {path}")


def _label_index(raw: str, classes: list[str], lookup: dict[str, int], where: str) -> int:
    if raw in lookup:
        return lookup[raw]
    numbered = any(re.fullmatch(r"\d+", c) for c in classes)
    if numbered and re.fullmatch(r"\d+", raw):
        # with classes named by numbers ("1".."10"), "0" or "10" could be a name or an index;
        # reading it as an index would silently label the wrong class
        raise InvalidInputError(
            f"{where}: label {raw!r} is not one of the class names, and since the class names "
            f"are numbers ({', '.join(map(repr, classes[:10]))}"
            f"{', …' if len(classes) > 10 else ''}) a number is read as a name, never as an "
            "index. Write the class name."
        )
    if re.fullmatch(r"\d+", raw) and int(raw) < len(classes):
        return int(raw)  # documented: a label may be a class index
    raise InvalidInputError(
        f"{where}: label {raw!r} is neither one of the {len(classes)} class names nor an index "
        f"in 0..{len(classes) - 1} (names: {', '.join(map(repr, classes[:10]))}"
        f"{', …' if len(classes) > 10 else ''}).{suggest(raw, classes)}"
    )


def read_labels_csv(
    path: str | os.PathLike, classes: list[str], n_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Labels a person filled in: ``(indices, labels)`` of the rows whose ``label`` is not blank.

    The file is a CSV with a header holding ``index`` and ``label`` (other columns, such as
    ``id`` or ``score``, are kept by the writer and ignored here). Every row is checked, and an
    error names the file, the row (as a spreadsheet numbers it: the header is row 1) and the fix:

    - a row with more or fewer fields than the header;
    - an ``index`` that is blank, not an integer (``1.5``, ``abc``) or outside ``[0, n_rows)``;
    - a ``label`` that is neither a class name (exact spelling; a wrong case is an error that
      suggests the right one) nor a class index (when the class names are themselves numbers,
      a label is read as a name only: ``"0"`` is then never an index);
    - a header that names ``index`` or ``label`` twice;
    - one index given two different labels (the same label twice is accepted once).

    Parameters
    ----------
    path : str or path
    classes : list of str
        The class names, index = label.
    n_rows : int, optional
        The pool size, to check indices against.

    Returns
    -------
    indices : ndarray of shape (m,), int64
        Distinct pool rows, in file order.
    labels : ndarray of shape (m,), int64
    """
    import csv

    path = check_path(path, "the labels file path")
    classes = check_classes(classes)
    if n_rows is not None:
        n_rows = check_int(n_rows, "n_rows", min=0)
    if path.is_dir():
        raise InvalidInputError(f"The labels file {path} is a directory; name the CSV file.")
    if not path.is_file():
        raise MissingResourceError(f"No labels file at {path}.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"Cannot read the labels file {path} ({exc}).") from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InvalidInputError(
            f"The labels file {path} is empty; it needs a header row with the columns "
            "index,label (then one row per labeled item)."
        )
    header = [c.strip() for c in rows[0]]
    if "index" not in header or "label" not in header:
        raise InvalidInputError(
            f"{path} needs the columns 'index' and 'label' in its header; found {header}."
        )
    twice = [c for c in ("index", "label") if header.count(c) > 1]
    if twice:
        raise InvalidInputError(
            f"{path}: the header names the column {twice[0]!r} {header.count(twice[0])} times "
            f"({','.join(header)}); keep one, so that each row has one {twice[0]}."
        )
    i_col, l_col = header.index("index"), header.index("label")
    lookup = {c: i for i, c in enumerate(classes)}
    got: dict[int, tuple[int, int]] = {}  # index -> (label, row)
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue  # a blank line
        where = f"{path}, row {line_no}"
        if len(row) != len(header):
            raise InvalidInputError(
                f"{where} has {len(row)} fields but the header has {len(header)} "
                f"({','.join(header)}); quote values that contain commas."
            )
        raw_label = row[l_col].strip()
        if not raw_label:
            continue  # not labeled yet
        index = parse_int(row[i_col], f"{where}: index", min=0)
        if n_rows is not None and index >= n_rows:
            raise InvalidInputError(
                f"{where}: index {index} is outside the pool's rows 0..{n_rows - 1}."
            )
        label = _label_index(raw_label, classes, lookup, where)
        if index in got and got[index][0] != label:
            first_label, first_row = got[index]
            raise InvalidInputError(
                f"{where}: index {index} is labeled {classes[label]!r} but row {first_row} "
                f"labels it {classes[first_label]!r}; keep one label per item."
            )
        got.setdefault(index, (label, line_no))
    indices = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
    labels = np.fromiter((v[0] for v in got.values()), dtype=np.int64, count=len(got))
    return indices, labels
