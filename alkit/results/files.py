"""Results files: the tidy table written atomically with its checksum, read back verified, and
every file of a directory read into one table.

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

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._files import atomic_path
from ..errors import CorruptCacheError, InvalidInputError, MissingResourceError
from ..validation import check_choice
from .checksum import _CANONICAL, _canonical, rows_checksum
from .schema import COLUMN_KINDS, RESULT_COLUMNS, SCHEMA_VERSION

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Key of alkit's entry in the parquet schema metadata.
METADATA_KEY = b"alkit"
_FORMAT = "alkit-results"


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
    from .._version import __version__

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
