"""A project's labels file: append-only, every append atomic, the single source of truth.

``labels.csv`` has the header ``index,id,label,round,time,source`` and one row per label given:
the pool row, its readable id (an image path), the class *name*, the round whose batch it
answered (0 for labels the project started with), the UTC time it was recorded and where it came
from (``embeddings``, ``import``, ``csv``, ``labelstudio``, ``widget``, ``python``; ``relabel``
for an explicit correction, which replaces the label before it).

An append never writes into the file in place: the whole new content (the old rows, byte for
byte, then the new ones) is written to a temporary file in the same folder, flushed to disk
(``fsync``) and renamed over ``labels.csv``, and the folder is synced. A process killed at any
moment therefore leaves the old file or the new one, whole; ``tests/test_project.py`` kills
``alkit next`` with SIGKILL at random moments to check it. The reader still refuses a file that
does not end in a newline or holds a malformed row (edited by hand, or damaged otherwise),
naming the row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..errors import CorruptCacheError, InvalidInputError

__all__ = [
    "LabelRows",
    "read_labels",
    "append_labels",
    "sync_learner",
    "project_lock",
    "HEADER",
    "SOURCES",
]

HEADER = ("index", "id", "label", "round", "time", "source")
#: Where a label can come from; ``relabel`` replaces an earlier label of the same row.
SOURCES = ("embeddings", "import", "csv", "labelstudio", "widget", "python", "relabel")


@dataclass
class LabelRows:
    """The rows of a labels file, in file order, and the labels they amount to.

    Attributes
    ----------
    index, label, round : ndarray of shape (m,), int64
        One entry per row (``label`` as a class index).
    ids, time, source : list of str
    """

    index: np.ndarray
    label: np.ndarray
    round: np.ndarray
    ids: list[str]
    time: list[str]
    source: list[str]

    def __len__(self) -> int:
        return len(self.index)

    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, labels)``: each labeled row once, in the order it was first labeled, with
        its latest label (a ``relabel`` row replaces the label before it)."""
        latest: dict[int, int] = {}
        for i, lab in zip(self.index.tolist(), self.label.tolist()):
            latest[i] = lab  # dict order: first appearance
        idx = np.fromiter(latest.keys(), dtype=np.int64, count=len(latest))
        lab = np.fromiter(latest.values(), dtype=np.int64, count=len(latest))
        return idx, lab


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def read_labels(path: str | os.PathLike, classes: list[str], n_rows: int) -> LabelRows:
    """Read and check a labels file (a missing file is an empty one).

    Raises
    ------
    CorruptCacheError
        A wrong header, a row that is not whole (a field count other than 6, no final newline),
        an index outside the pool, an unknown class name, round or source, or a second label for
        a row that is not a ``relabel``.
    """
    path = Path(path)
    empty = LabelRows(*(np.zeros(0, dtype=np.int64),) * 3, [], [], [])
    if not path.exists():
        return empty
    text = path.read_text(encoding="utf-8")
    fix = (
        f"restore it from a backup, or repair the row by hand (the header is "
        f"{','.join(HEADER)}; one row per label)"
    )
    if text and not text.endswith("\n"):
        raise CorruptCacheError(
            f"The labels file {path} does not end with a newline: its last row is not whole; {fix}."
        )
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return empty
    if tuple(rows[0]) != HEADER:
        raise CorruptCacheError(f"The labels file {path} has the header {rows[0]}; {fix}.")
    lookup = {c: i for i, c in enumerate(classes)}
    out: dict[str, list] = {k: [] for k in HEADER}
    latest: dict[int, int] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        where = f"The labels file {path}, row {line_no}"
        if len(row) != len(HEADER):
            raise CorruptCacheError(f"{where} has {len(row)} fields, not {len(HEADER)}; {fix}.")
        index, ident, label, rnd, time, source = row
        if not re.fullmatch(r"\d+", index) or int(index) >= n_rows:
            raise CorruptCacheError(f"{where}: index {index!r} is not a pool row 0..{n_rows - 1}.")
        if label not in lookup:
            raise CorruptCacheError(f"{where}: {label!r} is not one of the project's classes.")
        if not re.fullmatch(r"\d+", rnd):
            raise CorruptCacheError(f"{where}: round {rnd!r} is not a round number.")
        if source not in SOURCES or not time:
            raise CorruptCacheError(f"{where}: source {source!r} / time {time!r} are not valid.")
        i, lab = int(index), lookup[label]
        if i in latest and latest[i] != lab and source != "relabel":
            raise CorruptCacheError(
                f"{where}: index {i} is labeled {label!r} but an earlier row labels it "
                f"{classes[latest[i]]!r}, and the row is not a relabel; {fix}."
            )
        latest[i] = lab
        for k, v in zip(HEADER, (i, ident, lab, int(rnd), time, source)):
            out[k].append(v)
    return LabelRows(
        np.asarray(out["index"], dtype=np.int64),
        np.asarray(out["label"], dtype=np.int64),
        np.asarray(out["round"], dtype=np.int64),
        out["id"],
        out["time"],
        out["source"],
    )


def append_labels(
    path: str | os.PathLike,
    classes: list[str],
    n_rows: int,
    indices: np.ndarray,
    labels: np.ndarray,
    round: int,
    source: str,
    ids: list | None = None,
) -> int:
    """Append labels atomically; returns how many rows were added.

    A row already labeled with the same label is skipped (reading the same filled CSV twice adds
    nothing); with a different label it is an error, unless ``source == "relabel"``. Call it
    under :func:`project_lock`.

    Raises
    ------
    InvalidInputError
        A conflicting label, an unknown source.
    """
    if source not in SOURCES:
        raise InvalidInputError(f"source must be one of {SOURCES}; got {source!r}.")
    path = Path(path)
    current = read_labels(path, classes, n_rows)
    idx, lab = current.effective()
    known = dict(zip(idx.tolist(), lab.tolist()))
    new = []
    for i, y in zip(np.asarray(indices).tolist(), np.asarray(labels).tolist()):
        if source == "relabel":
            if i not in known:
                raise InvalidInputError(f"relabel: index {i} has no label yet; label it first.")
            if known[i] != y:
                new.append((i, y))
            continue
        if i in known:
            if known[i] != y:
                raise InvalidInputError(
                    f"index {i} is already labeled {classes[known[i]]!r} (in {path}); it is now "
                    f"given {classes[y]!r}. Keep one label, or change it on purpose with "
                    "`alkit project relabel` (Project.relabel)."
                )
            continue
        known[i] = y
        new.append((i, y))
    if not new:
        return 0
    old = path.read_bytes() if path.exists() else b""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if not old:
        writer.writerow(HEADER)
    time = _now()
    for i, y in new:
        ident = "" if ids is None else str(ids[i])
        writer.writerow((i, ident, classes[y], int(round), time, source))
    _replace(path, old + buf.getvalue().encode("utf-8"))
    return len(new)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and a rename, then sync the
    folder so the rename itself is on disk."""
    with atomic_path(path, ".csv") as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def project_lock(folder: str | os.PathLike) -> Iterator[None]:
    """An exclusive lock on a project folder (``<folder>/.lock``): one writer at a time, be it
    ``alkit next`` or the widget. Where ``fcntl`` is missing (Windows) nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(Path(folder) / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sync_learner(learner, rows: LabelRows) -> int | None:
    """Teach ``learner`` the labels of ``rows`` it lacks, relabel those that changed; returns how
    many, or None when the learner holds a label the file does not (rebuild it from the file)."""
    idx, lab = rows.effective()
    pool = learner.pool
    if len(np.setdiff1d(pool.labeled_idx, idx)):
        return None
    known = pool.labeled[idx]
    changed = known & (pool.labels[idx] != lab)
    if changed.any():
        learner.relabel(idx[changed], lab[changed])
    if (~known).any():
        learner.teach(idx[~known], lab[~known])
    return int((~known).sum() + changed.sum())
