"""A sweep's output directory: one checksummed results file per cell (``<hash>.parquet``,
:mod:`alkit.results`), a failure record per failed cell (``failures/<hash>.json``), and the
state of a grid's cells there (:func:`plan`, :func:`sweep_status`)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .._files import write_json_atomic
from ..errors import AlkitError
from ..results import read_metadata, read_results, write_results
from .cells import Cell, expand_grid

FAILURES_DIR = "failures"


def _read_result(path: Path, cell: Cell) -> pd.DataFrame | None:
    """The cell's result table, or ``None`` when the file is not a valid result of this cell:
    unreadable or truncated, not an alkit results file, altered after it was written (checksum),
    another cell's, or with another number of iterations (a zero-shot row, iteration 0, is
    extra)."""
    try:
        config = read_metadata(path).get("config") or {}
        if not isinstance(config, dict) or config.get("hash") != cell.hash:
            return None
        df = read_results(path)
    except AlkitError:
        return None
    return df if int((df["iteration"] >= 1).sum()) == cell.iterations else None


def _write_result(out: Path, cell: Cell, df: pd.DataFrame) -> None:
    config = {"hash": cell.hash, "cell": cell.config(), "embedding": cell.embedding}
    write_results(df, out / f"{cell.hash}.parquet", config=config)
    stale = out / FAILURES_DIR / f"{cell.hash}.json"
    if stale.exists():
        stale.unlink()


def _write_failure(out: Path, record: dict) -> None:
    write_json_atomic(out / FAILURES_DIR / f"{record['hash']}.json", record)


def _failure_record(cell: Cell, exc: BaseException, tb: str, diag: dict | None = None) -> dict:
    return {
        "hash": cell.hash,
        "cell": cell.describe(),
        "config": cell.config(),
        "error_type": type(exc).__name__,
        "message": str(exc),
        "traceback": tb,
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        **(diag or {}),
    }


def _failure_summary(failures: list[dict], out: Path, limit: int = 10) -> str:
    lines = [f"{len(failures)} cell(s) failed; tracebacks in {out / FAILURES_DIR}/:"]
    for f in failures[:limit]:
        msg = f["message"].splitlines()[0] if f["message"] else ""
        lines.append(f"  {f['hash']}  {f['cell']}: {f['error_type']}: {msg}")
    if len(failures) > limit:
        lines.append(f"  … and {len(failures) - limit} more")
    lines.append(
        "Fix the cause and rerun the same command: finished cells are kept, failed ones rerun."
    )
    return "\n".join(lines)


def plan(spec: str | os.PathLike | Mapping, out_dir: str | os.PathLike) -> dict[str, list[Cell]]:
    """Sort a grid's cells by the state of their result in ``out_dir``.

    Returns
    -------
    dict
        ``{"done": [...], "failed": [...], "corrupt": [...], "missing": [...]}``: ``done`` has a
        valid result file, ``corrupt`` one that fails :func:`alkit.results.read_results`' checks
        or belongs to another cell, ``failed`` no result but a
        ``failures/<hash>.json`` record, ``missing`` neither.
    """
    out = Path(out_dir)
    cells = expand_grid(spec)
    state: dict[str, list[Cell]] = {"done": [], "failed": [], "corrupt": [], "missing": []}
    for cell in cells:
        path = out / f"{cell.hash}.parquet"
        if path.exists():
            if _read_result(path, cell) is not None:
                state["done"].append(cell)
                continue
            state["corrupt"].append(cell)
        elif (out / FAILURES_DIR / f"{cell.hash}.json").exists():
            state["failed"].append(cell)
        else:
            state["missing"].append(cell)
    return state


def sweep_status(spec: str | os.PathLike | Mapping, out_dir: str | os.PathLike) -> dict:
    """Counts of done / failed / missing cells of a grid in ``out_dir`` (nothing runs).

    Returns
    -------
    dict
        ``cells``, ``done``, ``failed``, ``missing`` (including ``corrupt``: result files that
        are unreadable, truncated, altered after writing (checksum), not alkit results or not
        this cell's, redone by the next sweep), ``corrupt``, and ``failures`` (the records of
        ``failures/<hash>.json``: hash, cell, error_type, message).
    """
    state = plan(spec, out_dir)
    failures = []
    for cell in state["failed"]:
        path = Path(out_dir) / FAILURES_DIR / f"{cell.hash}.json"
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            rec = {"error_type": "?", "message": "unreadable failure record"}
        failures.append(
            {
                "hash": cell.hash,
                "cell": cell.describe(),
                "error_type": rec.get("error_type"),
                "message": rec.get("message"),
                "path": str(path),
            }
        )
    n = sum(len(v) for v in state.values())
    return {
        "cells": n,
        "done": len(state["done"]),
        "failed": len(state["failed"]),
        "missing": len(state["missing"]) + len(state["corrupt"]),
        "corrupt": len(state["corrupt"]),
        "failures": failures,
    }
