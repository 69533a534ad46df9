"""Oracles answer label queries: simulated (ground truth), by CSV export, or by widget."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._utils import atomic_path
from .errors import InvalidInputError

__all__ = ["SimulatedOracle", "ExportOracle", "WidgetOracle"]


class SimulatedOracle:
    """Answers with the ground-truth labels it holds (the simulation of the paper).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Ground-truth labels of the pool. A label of ``-1`` (unknown) cannot be revealed.
    """

    def __init__(self, y: np.ndarray) -> None:
        self._y = np.asarray(y, dtype=np.int64)
        self.n_queries = 0

    def label(self, indices: np.ndarray, **context) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
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
        self.path = Path(path)
        self.classes = [str(c) for c in classes]
        self.ids = None if ids is None else list(ids)

    def export(self, indices: np.ndarray, scores: np.ndarray | None = None) -> Path:
        """Write the CSV of ``indices`` with an empty ``label`` column; returns its path."""
        indices = np.asarray(indices, dtype=np.int64)
        df = pd.DataFrame({"index": indices})
        df["id"] = [self.ids[i] for i in indices] if self.ids is not None else indices
        if scores is not None:
            df["score"] = scores
        df["label"] = ""
        with atomic_path(self.path, ".csv") as tmp:
            df.to_csv(tmp, index=False)
        return self.path

    def read(self, path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Read a filled CSV back: ``(indices, labels)`` for rows whose label is filled."""
        path = Path(path or self.path)
        try:
            df = pd.read_csv(path, dtype={"label": str}, keep_default_na=False)
        except Exception as exc:
            raise InvalidInputError(f"Cannot read the labels CSV {path}: {exc}") from exc
        if "index" not in df.columns or "label" not in df.columns:
            raise InvalidInputError(
                f"{path} needs columns 'index' and 'label'; found {list(df.columns)}."
            )
        df = df[df["label"].astype(str).str.strip() != ""]
        name_to_idx = {c: i for i, c in enumerate(self.classes)}
        labels = []
        for row, raw in zip(df.index, df["label"].astype(str).str.strip()):
            if raw in name_to_idx:
                labels.append(name_to_idx[raw])
            elif raw.lstrip("-").isdigit() and 0 <= int(raw) < len(self.classes):
                labels.append(int(raw))
            else:
                raise InvalidInputError(
                    f"{path}, row {row + 2}: label {raw!r} is neither a class name nor an index in "
                    f"0..{len(self.classes) - 1}; valid names: {self.classes[:10]}{'…' if len(self.classes) > 10 else ''}."
                )
        return df["index"].to_numpy(dtype=np.int64), np.asarray(labels, dtype=np.int64)

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


def WidgetOracle(*args, **kwargs):  # noqa: N802 - a class-like factory, imported lazily
    """The ipywidgets labeling oracle (see :mod:`alkit.widgets`)."""
    from .widgets import WidgetOracle as _W

    return _W(*args, **kwargs)
