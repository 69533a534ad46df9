"""The tidy results table: its columns, how a row is built, and its files on disk.

Every simulation (:func:`alkit.run_al`, ``alkit run``, ``alkit sweep``) and every labeling
session (:class:`alkit.widgets.LabelingLoop`) produces the same table: one row per iteration,
columns :data:`RESULT_COLUMNS`. This module is its one home: the row builder used by all of
them, the writer and the reader.

A results file is a parquet file whose schema metadata holds, under the key ``b"alkit"``, a
JSON object::

    {"format": "alkit-results", "schema_version": 1, "n_rows": 20,
     "checksum": {"algorithm": "sha256", "canonical": "alkit-rows/1", "value": "<hex>"},
     "config": {...} or null, "alkit_version": "0.1.0"}

The checksum covers every value of every column of :data:`RESULT_COLUMNS` in file order (see
:func:`rows_checksum`), so a file changed after it was written, one flipped bit included, is
detected by :func:`read_results`, and a parquet file that is not a results file is never read
as one. ``config`` is what the writer wants to be recognised by (a sweep cell's hash, the
configuration of an ``alkit run``, :attr:`alkit.Run.config`).

References
----------
Apache Parquet file format, "Metadata" (key/value metadata of the file footer),
https://parquet.apache.org/docs/file-format/metadata/
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import strategies
from ._utils import atomic_path
from .errors import CorruptCacheError, InvalidInputError, MissingResourceError
from .validation import check_choice

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = [
    "SCHEMA_VERSION",
    "RESULT_COLUMNS",
    "COLUMN_KINDS",
    "METADATA_KEY",
    "method_label",
    "jsonable_info",
    "base_columns",
    "result_row",
    "results_frame",
    "rows_checksum",
    "write_results",
    "read_results",
    "read_metadata",
    "load_results",
    "SkippedResultsWarning",
]

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

#: Key of alkit's entry in the parquet schema metadata.
METADATA_KEY = b"alkit"
_FORMAT = "alkit-results"
_CANONICAL = "alkit-rows/1"
_NO_METRICS = {"accuracy": np.nan, "balanced_accuracy": np.nan, "macro_f1": np.nan}
_MISSING = 2**64 - 1  # length prefix of a missing string in the canonical serialisation
_NAN = struct.pack("<d", float("nan"))


# ------------------------------------------------------------------------------------ rows
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
        ``schema_version`` … ``seed`` of :data:`RESULT_COLUMNS`.
    """
    params = {k: v for k, v in learner.params.items() if k != "device"}
    return {
        "schema_version": SCHEMA_VERSION,
        "dataset": dataset,
        "backbone": backbone,
        "embedding_checksum": embedding_checksum,
        "method": method_label(learner.strategy, params),
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
        1 for the initial pool.

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


def results_frame(base: dict, rows: list[dict]) -> pd.DataFrame:
    """The tidy table of one run: each of ``rows`` (:func:`result_row`) with ``base``
    (:func:`base_columns`); keys outside :data:`RESULT_COLUMNS` are dropped."""
    return pd.DataFrame([{**base, **r} for r in rows], columns=RESULT_COLUMNS)


# -------------------------------------------------------------------------------- checksum
def _canonical(df: pd.DataFrame, where: str) -> dict[str, Any]:
    """Each column of :data:`RESULT_COLUMNS` as the values the checksum and the file hold:
    int64 / float64 / bool arrays, or a list of ``str | None``. Raises on anything else."""
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"{where} lacks the results column(s) {missing}; build the table with "
            "Run.to_frame() (or alkit.results.results_frame)."
        )
    out: dict[str, Any] = {}
    for col, kind in COLUMN_KINDS.items():
        s = df[col]
        if len(s) == 0:  # an empty frame's columns are object: nothing to check
            out[col] = _empty(kind)
            continue
        bad = _kind_error(s, kind)
        if bad:
            raise InvalidInputError(f"{where}: column {col!r} {bad}.")
        if kind == "int":
            out[col] = s.to_numpy(dtype=np.int64)
        elif kind == "float":
            out[col] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        elif kind == "bool":
            out[col] = s.to_numpy(dtype=bool)
        else:
            out[col] = [None if _is_missing(v) else v for v in s.tolist()]
    return out


def _empty(kind: str):
    return (
        [] if kind == "str" else np.zeros(0, {"int": np.int64, "float": np.float64}.get(kind, bool))
    )


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _kind_error(s: pd.Series, kind: str) -> str:
    """Why ``s`` cannot hold ``kind`` values exactly, or ``""``."""
    dtype = s.dtype
    if kind == "int":
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_integer_dtype(dtype):
            return f"must hold integers; it has dtype {dtype}"
        if s.isna().any():
            return f"has a missing value at row {int(np.flatnonzero(s.isna().to_numpy())[0])}"
    elif kind == "float":
        if pd.api.types.is_bool_dtype(dtype) or not (
            pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
        ):
            return f"must hold numbers; it has dtype {dtype}"
    elif kind == "bool":
        if pd.api.types.is_bool_dtype(dtype):
            if s.isna().any():
                return "has a missing value"
        elif not pd.api.types.is_object_dtype(dtype) or not all(
            isinstance(v, (bool, np.bool_)) for v in s
        ):
            return f"must hold True/False; it has dtype {dtype}"
    else:
        for i, v in enumerate(s.tolist()):
            if not _is_missing(v) and not isinstance(v, str):
                return f"must hold strings; row {i} holds {v!r} ({type(v).__name__})"
    return ""


def rows_checksum(columns: dict[str, Any], n_rows: int) -> str:
    """sha256 of a results table's values in a canonical serialisation (``alkit-rows/1``).

    The bytes hashed are, in order: ``b"alkit-rows/1\\n"``, the row count as 8-byte little-endian
    unsigned, then for each column of :data:`RESULT_COLUMNS` its name in UTF-8, ``b"\\n"``, and
    its values in file order:

    - ``int``: 8-byte little-endian signed per value;
    - ``float``: IEEE-754 binary64 little-endian per value, every NaN as ``0x7FF8000000000000``;
    - ``bool``: one byte, 0 or 1;
    - ``str``: the UTF-8 length as 8-byte little-endian unsigned, then the bytes; a missing value
      is the length ``2**64 - 1`` and no bytes.

    It depends only on the values, not on how pandas or pyarrow hold them (``object`` or
    ``str`` dtype, chunking, compression, dictionary encoding), so files stay verifiable across
    library versions.

    Parameters
    ----------
    columns : dict
        ``{column: values}`` as int64 / float64 / bool arrays and lists of ``str | None``.
    n_rows : int

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256(_CANONICAL.encode() + b"\n")
    h.update(struct.pack("<Q", n_rows))
    for col, kind in COLUMN_KINDS.items():
        h.update(col.encode() + b"\n")
        values = columns[col]
        if kind == "int":
            h.update(np.ascontiguousarray(values, dtype="<i8").tobytes())
        elif kind == "float":
            arr = np.array(values, dtype="<f8")
            nan = np.isnan(arr)
            if nan.any():  # NaN payloads differ between writers; all NaN hash alike
                arr[nan] = np.frombuffer(_NAN, dtype="<f8")[0]
            h.update(arr.tobytes())
        elif kind == "bool":
            h.update(np.asarray(values, dtype=bool).astype(np.uint8).tobytes())
        else:
            for v in values:
                if v is None:
                    h.update(struct.pack("<Q", _MISSING))
                else:
                    b = v.encode("utf-8")
                    h.update(struct.pack("<Q", len(b)) + b)
    return h.hexdigest()


# ---------------------------------------------------------------------------------- writer
def _arrow_schema() -> pa.Schema:
    import pyarrow as pa

    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
    return pa.schema([pa.field(c, types[k]) for c, k in COLUMN_KINDS.items()])


def write_results(df: pd.DataFrame, path: str | os.PathLike, *, config: dict | None = None) -> Path:
    """Write a tidy results table to ``path`` as parquet, atomically, with its checksum.

    The file appears complete or not at all (a temporary name, then a rename) with the
    permissions a plain write gives under the current umask.

    Parameters
    ----------
    df : DataFrame
        Exactly the columns of :data:`RESULT_COLUMNS` (any order; written in that order), of
        the kinds of :data:`COLUMN_KINDS`. ``schema_version`` must be :data:`SCHEMA_VERSION`.
    path : path
        The file to write (its directory is created).
    config : dict, optional
        JSON-serialisable description stored in the metadata (``read_metadata(path)["config"]``).

    Returns
    -------
    Path

    Raises
    ------
    InvalidInputError
        Missing or extra columns, values of the wrong kind, another schema version.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(
            f"write_results expects the tidy results DataFrame; got {type(df).__name__}."
        )
    path = Path(path)
    where = f"The results table for {path}"
    extra = [c for c in df.columns if c not in COLUMN_KINDS]
    if extra:
        raise InvalidInputError(
            f"{where} has column(s) {extra} that are not results columns; drop them (the "
            "checksum covers alkit.results.RESULT_COLUMNS only), or save that table with "
            "DataFrame.to_parquet outside the results directory."
        )
    columns = _canonical(df, where)
    versions = set(columns["schema_version"].tolist())
    if versions - {SCHEMA_VERSION}:
        raise InvalidInputError(
            f"{where} has schema_version {sorted(versions)}; this alkit writes version "
            f"{SCHEMA_VERSION} only (rebuild the rows with this version)."
        )
    n_rows = len(df)
    from . import __version__

    meta = {
        "format": _FORMAT,
        "schema_version": SCHEMA_VERSION,
        "n_rows": n_rows,
        "checksum": {
            "algorithm": "sha256",
            "canonical": _CANONICAL,
            "value": rows_checksum(columns, n_rows),
        },
        "config": config,
        "alkit_version": __version__,
    }
    schema = _arrow_schema().with_metadata(
        {METADATA_KEY: json.dumps(meta, sort_keys=True, default=str).encode()}
    )
    table = pa.Table.from_arrays(
        [pa.array(columns[c], type=schema.field(c).type) for c in RESULT_COLUMNS], schema=schema
    )
    with atomic_path(path, ".parquet") as tmp:
        pq.write_table(table, tmp)
    return path


# ---------------------------------------------------------------------------------- reader
def _fix(path: Path) -> str:
    return f"delete {path} and rerun what wrote it (a sweep redoes its cell by itself)"


def _metadata_from_schema(schema: pa.Schema, path: Path) -> dict:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        legacy = all(c in schema.names for c in RESULT_COLUMNS)
        raise CorruptCacheError(
            f"{path} is not an alkit results file (its parquet metadata has no 'alkit' entry)"
            + (
                "; it has the results columns, so it may come from an alkit without checksums: "
                "if you trust it, re-save it with "
                "alkit.results.write_results(pandas.read_parquet(path), path)."
                if legacy
                else "; move it out of the results directory (results files are written by "
                "Run.save, alkit run and alkit sweep)."
            )
        )
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptCacheError(
            f"{path}: its alkit metadata is not valid JSON ({exc}); {_fix(path)}."
        ) from exc
    if not isinstance(meta, dict):
        raise CorruptCacheError(f"{path}: its alkit metadata is not a JSON object; {_fix(path)}.")
    version = meta.get("schema_version")
    if type(version) is not int:  # bool is an int subclass, and "1" is not a version
        raise CorruptCacheError(
            f"{path}: schema_version {version!r} in its alkit metadata is not an integer; "
            f"{_fix(path)}."
        )
    if version > SCHEMA_VERSION:
        raise CorruptCacheError(
            f"{path} has schema_version {version}, newer than this alkit's {SCHEMA_VERSION}; "
            "upgrade alkit to read it."
        )
    if version < 1:
        raise CorruptCacheError(f"{path}: schema_version {version} is not valid; {_fix(path)}.")
    return meta


def _open(path: str | os.PathLike):
    """(ParquetFile, Path); raises for a missing or unreadable file."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise MissingResourceError(f"No results file at {path}.")
    if path.is_dir():
        raise InvalidInputError(
            f"{path} is a directory; read a directory of results with alkit.load_results."
        )
    try:
        return pq.ParquetFile(path), path
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, … for damaged footers
        raise CorruptCacheError(
            f"Results file {path} is not a readable parquet file ({type(exc).__name__}: {exc}); "
            f"{_fix(path)}."
        ) from exc


def read_metadata(path: str | os.PathLike) -> dict:
    """The alkit metadata of a results file (its footer only; the rows are not read or verified).

    Returns
    -------
    dict
        ``schema_version``, ``n_rows``, ``checksum``, ``config``, ``alkit_version``.

    Raises
    ------
    CorruptCacheError
        Not a parquet file, not an alkit results file, or unusable metadata (each naming the file).
    MissingResourceError
        No file at ``path``.
    """
    pf, path = _open(path)
    with pf:
        return _metadata_from_schema(pf.schema_arrow, path)


def _read_checked_table(pf, path: Path):
    """(metadata, arrow table of RESULT_COLUMNS) of an open results file; checks the metadata and
    the set of columns."""
    meta = _metadata_from_schema(pf.schema_arrow, path)
    names = pf.schema_arrow.names
    missing = [c for c in RESULT_COLUMNS if c not in names]
    if missing:
        raise CorruptCacheError(f"{path} lacks the results column(s) {missing}; {_fix(path)}.")
    extra = [c for c in names if c not in COLUMN_KINDS]
    if extra:
        raise CorruptCacheError(
            f"{path} has column(s) {extra} that no alkit writer adds (the file was changed "
            f"after it was written); {_fix(path)}."
        )
    try:
        table = pf.read(columns=RESULT_COLUMNS)
    except Exception as exc:
        raise CorruptCacheError(
            f"Results file {path} is truncated or damaged ({type(exc).__name__}: {exc}); "
            f"{_fix(path)}."
        ) from exc
    return meta, table


def read_results(path: str | os.PathLike, *, verify: bool = True) -> pd.DataFrame:
    """Read one results file, checking that it is complete, an alkit file and unaltered.

    Parameters
    ----------
    path : path
        A file written by :func:`write_results` (``Run.save``, ``alkit run``, ``alkit sweep``).
    verify : bool
        Compare the rows with the checksum in the metadata. ``False`` skips only that
        comparison (and accepts a file that carries no checksum); every other check stays.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`.

    Raises
    ------
    CorruptCacheError
        Naming the file: not a readable parquet file; no alkit metadata (not a results file);
        a ``schema_version`` that is not an integer or is newer than this alkit; missing or
        extra columns, or columns of the wrong type; a row count or checksum that does not
        match (the file was altered or damaged after it was written); no checksum while
        ``verify``.
    MissingResourceError
        No file at ``path``.
    """
    import pyarrow as pa

    pf, path = _open(path)
    with pf:  # closes the file even when a check below raises
        meta, table = _read_checked_table(pf, path)
    columns = {}
    for col, kind in COLUMN_KINDS.items():
        arr = table.column(col)
        typ = arr.type
        ok = {
            "int": pa.types.is_integer(typ),
            "float": pa.types.is_floating(typ),
            "bool": pa.types.is_boolean(typ),
            "str": pa.types.is_string(typ) or pa.types.is_large_string(typ),
        }[kind]
        if not ok or (kind in ("int", "bool") and arr.null_count):
            raise CorruptCacheError(
                f"{path}: column {col!r} has type {typ}"
                + (f" with {arr.null_count} missing value(s)" if ok else "")
                + f", not the {kind} values alkit writes; {_fix(path)}."
            )
        if kind == "str":
            columns[col] = arr.to_pylist()
        else:
            columns[col] = arr.to_numpy(zero_copy_only=False)
    n_rows = table.num_rows
    if meta.get("n_rows") != n_rows:
        raise CorruptCacheError(
            f"{path} has {n_rows} rows but its metadata says {meta.get('n_rows')!r}; {_fix(path)}."
        )
    if n_rows and set(columns["schema_version"].tolist()) != {meta["schema_version"]}:
        raise CorruptCacheError(
            f"{path}: the schema_version column does not match the metadata's "
            f"{meta['schema_version']}; {_fix(path)}."
        )
    checksum = meta.get("checksum")
    expected = checksum.get("value") if isinstance(checksum, dict) else None
    if verify:
        if not isinstance(expected, str) or checksum.get("canonical") != _CANONICAL:
            raise CorruptCacheError(
                f"{path} carries no checksum alkit can verify (metadata: {checksum!r}); "
                "pass verify=False to read it unchecked if you trust it."
            )
        got = rows_checksum(columns, n_rows)
        if got != expected:
            raise CorruptCacheError(
                f"Results file {path} does not match its checksum (expected {expected[:12]}…, "
                f"got {got[:12]}…): its values were changed or damaged after it was written; "
                f"{_fix(path)}."
            )
    return table.to_pandas()


# ------------------------------------------------------------------------------ many files
class SkippedResultsWarning(UserWarning):
    """:func:`load_results` left out bad files (``on_error="skip"``).

    Attributes
    ----------
    skipped : list of (Path, str)
        Each file and why it was skipped.
    """

    def __init__(self, message: str, skipped: list[tuple[Path, str]]) -> None:
        super().__init__(message)
        self.skipped = skipped


def _result_files(root: Path) -> list[Path]:
    """``*.parquet`` files under ``root``, except hidden entries and ``failures/`` (sweep records)."""
    return sorted(
        p
        for p in root.rglob("*.parquet")
        if p.is_file()
        and not any(
            part.startswith(".") or part == "failures" for part in p.relative_to(root).parts
        )
    )


def load_results(
    path: str | os.PathLike, on_error: str = "raise", *, verify: bool = True
) -> pd.DataFrame:
    """Read a results file, or every results file under a directory, into one table.

    Files are read with :func:`read_results` (``*.parquet``, recursively; hidden files and
    directories and sweeps' ``failures/`` are left out) and concatenated in path order.

    Parameters
    ----------
    path : path
        A results file or a directory (e.g. the ``--out`` of ``alkit sweep`` or ``alkit run``).
    on_error : {"raise", "skip"}
        A bad file (unreadable, not an alkit results file, a newer schema, missing columns, a
        checksum mismatch): raise :class:`~alkit.errors.CorruptCacheError` naming it, or leave
        every bad file out with one :class:`SkippedResultsWarning` listing them all.
    verify : bool
        Check each file's rows against its checksum (see :func:`read_results`).

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS`; empty when a directory holds no parquet file.

    Raises
    ------
    MissingResourceError
        ``path`` does not exist.
    CorruptCacheError
        A bad file, with ``on_error="raise"``.
    """
    on_error = check_choice(on_error, "on_error", ("raise", "skip"))
    root = Path(path)
    if not root.exists():
        raise MissingResourceError(
            f"No results at {root}; pass a results file or the --out directory of a sweep or run."
        )
    files = [root] if root.is_file() else _result_files(root)
    frames, skipped = [], []
    for f in files:
        try:
            frames.append(read_results(f, verify=verify))
        except CorruptCacheError as exc:
            if on_error == "raise":
                raise
            skipped.append((f, str(exc)))
    if skipped:
        lines = "\n".join(f"  {f}: {why}" for f, why in skipped)
        warnings.warn(
            SkippedResultsWarning(
                f"Skipped {len(skipped)} bad results file(s) under {root}:\n{lines}", skipped
            ),
            stacklevel=2,
        )
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return pd.concat(frames, ignore_index=True)
