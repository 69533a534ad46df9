"""The checksum of a results table: its values in a canonical serialisation (``alkit-rows/1``),
which depends only on the values, not on how pandas or pyarrow hold them."""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from .schema import COLUMN_KINDS, RESULT_COLUMNS

#: Name of the canonical serialisation the checksum covers (stored with it in the metadata).
_CANONICAL = "alkit-rows/1"
_MISSING = 2**64 - 1  # length prefix of a missing string in the canonical serialisation
_NAN = struct.pack("<d", float("nan"))


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
