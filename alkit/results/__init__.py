"""The tidy results table: its columns, how a row is built, and its files on disk.

Every simulation (:func:`alkit.run_al`, ``alkit run``, ``alkit sweep``) and every labeling
session (:class:`alkit.widgets.LabelingLoop`) produces the same table: one row per iteration,
columns :data:`RESULT_COLUMNS`. This package is its one home: :mod:`~alkit.results.schema`
(the columns, the method label and the row builder used by all of them),
:mod:`~alkit.results.checksum` (the checksum of the rows) and :mod:`~alkit.results.files` (the
writer and the reader).

A results file is a parquet file with alkit's metadata (schema version, row count, a checksum
of every value, the writer's ``config``) in its footer; :mod:`alkit.results.files` describes it.
"""

from __future__ import annotations

from .checksum import rows_checksum
from .files import (
    METADATA_KEY,
    SkippedResultsWarning,
    load_results,
    read_metadata,
    read_results,
    write_results,
)
from .schema import (
    COLUMN_KINDS,
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    base_columns,
    jsonable_info,
    method_label,
    result_row,
    results_frame,
    zeroshot_row,
)

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
    "zeroshot_row",
    "rows_checksum",
    "write_results",
    "read_results",
    "read_metadata",
    "load_results",
    "SkippedResultsWarning",
]
