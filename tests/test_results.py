"""alkit.results: the row builder's table, checksummed writes, verified reads, load_results,
file permissions under the umask, and the module's place in the import layers."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import alkit
from alkit import results
from alkit._files import current_umask, write_json_atomic
from alkit.errors import CorruptCacheError, InvalidInputError, MissingResourceError
from alkit.results import (
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    SkippedResultsWarning,
    load_results,
    read_metadata,
    read_results,
    write_results,
)

PACKAGE = Path(alkit.__file__).parent
TINY = "synthetic:N=300,d=8,C=3,seed=0"


@pytest.fixture(scope="module")
def run():
    emb = alkit.load_embeddings(TINY)
    return alkit.run_al(emb, strategy="entropy", iterations=2, seed=1, probe={"max_epochs": 5})


@pytest.fixture
def table(run) -> pd.DataFrame:
    df = run.to_frame()
    df.loc[0, "accuracy"] = 0.5111  # the value the bit-flip test changes
    return df


def _rewrite(path: Path, table: pa.Table | None = None, meta: dict | None = None) -> None:
    """Rewrite a results file with another table and/or alkit metadata (an edit after writing)."""
    old = pq.read_table(path)
    table = old if table is None else table
    if meta is not None:
        table = table.replace_schema_metadata({b"alkit": json.dumps(meta).encode()})
    elif table is not old:
        table = table.replace_schema_metadata(old.schema.metadata)
    pq.write_table(table, path)


# ------------------------------------------------------------------------------ write / read
def test_roundtrip_metadata_and_exact_values(run, tmp_path):
    path = run.save(tmp_path / "run.parquet")
    back = read_results(path)
    pd.testing.assert_frame_equal(back, run.to_frame())
    meta = read_metadata(path)
    assert meta["schema_version"] == SCHEMA_VERSION and meta["n_rows"] == 2
    assert meta["checksum"]["algorithm"] == "sha256" and len(meta["checksum"]["value"]) == 64
    assert meta["config"]["strategy"] == "entropy" and meta["config"]["seed"] == 1
    # the legacy names still resolve to the one home of the table
    assert alkit.loop.RESULT_COLUMNS is RESULT_COLUMNS and alkit.loop.load_results is load_results
    assert alkit.method_label is results.method_label
    assert alkit.loop.SCHEMA_VERSION == SCHEMA_VERSION


def _canonical_bytes(df: pd.DataFrame) -> bytes:
    """The serialisation documented in rows_checksum, written out independently."""
    out = [b"alkit-rows/1\n", struct.pack("<Q", len(df))]
    for col, kind in results.COLUMN_KINDS.items():
        out.append(col.encode() + b"\n")
        for v in df[col].tolist():
            if kind == "int":
                out.append(struct.pack("<q", v))
            elif kind == "float":
                out.append(struct.pack("<d", float("nan") if np.isnan(v) else v))
            elif kind == "bool":
                out.append(bytes([int(v)]))
            elif v is None:
                out.append(struct.pack("<Q", 2**64 - 1))
            else:
                out.append(struct.pack("<Q", len(v.encode())) + v.encode())
    return b"".join(out)


def test_checksum_follows_the_documented_serialisation(table, tmp_path):
    table = table.copy()
    table.loc[1, "macro_f1"] = np.nan
    path = write_results(table, tmp_path / "r.parquet")
    expected = hashlib.sha256(_canonical_bytes(table)).hexdigest()
    assert read_metadata(path)["checksum"]["value"] == expected
    # how pandas holds the strings does not matter
    as_object = table.astype({c: object for c, k in results.COLUMN_KINDS.items() if k == "str"})
    write_results(as_object, tmp_path / "o.parquet")
    assert read_metadata(tmp_path / "o.parquet")["checksum"]["value"] == expected


def test_flipped_bit_changing_an_accuracy_is_detected(table, tmp_path):
    path = write_results(table, tmp_path / "r.parquet")
    blob = path.read_bytes()
    original = struct.pack("<d", 0.5111)
    (value,) = struct.unpack("<Q", original)
    flipped = struct.pack("<Q", value ^ (1 << 50))  # one mantissa bit: 0.5111 → 0.6361
    assert struct.unpack("<d", flipped)[0] == pytest.approx(0.6361)
    positions = [i for i in range(len(blob) - 7) if blob[i : i + 8] == original]
    assert positions
    detected = 0
    for pos in positions:  # the data page, and the column statistics in the footer
        victim = tmp_path / f"flip{pos}.parquet"
        victim.write_bytes(blob[:pos] + flipped + blob[pos + 8 :])
        try:
            got = read_results(victim)
        except CorruptCacheError as exc:
            assert victim.name in str(exc)
            detected += 1
        else:  # a flip outside the values (min/max statistics) must leave the values intact
            pd.testing.assert_frame_equal(got, read_results(path))
    assert detected >= 1
    # the same change made through pyarrow (a valid file with a rewritten value)
    tab = pq.read_table(path)
    acc = tab.column("accuracy").to_pylist()
    acc[0] = 0.6361
    _rewrite(
        path, tab.set_column(tab.schema.get_field_index("accuracy"), "accuracy", pa.array(acc))
    )
    with pytest.raises(CorruptCacheError, match=r"r\.parquet does not match its checksum"):
        read_results(path)
    assert read_results(path, verify=False)["accuracy"].iloc[0] == 0.6361


BAD_FILES = {
    "not_parquet": (lambda p: p.write_text("seed,accuracy\n1,0.5\n"), "not a readable parquet"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:200]), "not a readable parquet"),
    "foreign": (
        lambda p: pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(p),
        "not an alkit results file",
    ),
    "schema_one": (
        lambda p: _rewrite(p, meta={**read_metadata(p), "schema_version": "one"}),
        "schema_version 'one' in its alkit metadata is not an integer",
    ),
    "schema_future": (
        lambda p: _rewrite(p, meta={**read_metadata(p), "schema_version": SCHEMA_VERSION + 1}),
        "upgrade alkit",
    ),
    "no_accuracy": (
        lambda p: _rewrite(p, pq.read_table(p).drop_columns(["accuracy", "macro_f1"])),
        r"lacks the results column\(s\) \['accuracy', 'macro_f1'\]",
    ),
    "extra_column": (
        lambda p: _rewrite(
            p, pq.read_table(p).append_column("note", pa.array(["x"] * pq.read_table(p).num_rows))
        ),
        r"column\(s\) \['note'\]",
    ),
    "retyped": (
        lambda p: _rewrite(
            p,
            pq.read_table(p).set_column(
                RESULT_COLUMNS.index("seed"), "seed", pa.array(["1"] * pq.read_table(p).num_rows)
            ),
        ),
        "column 'seed' has type string",
    ),
    "no_checksum": (
        lambda p: _rewrite(p, meta={k: v for k, v in read_metadata(p).items() if k != "checksum"}),
        "no checksum",
    ),
    "rows_dropped": (lambda p: _rewrite(p, pq.read_table(p).slice(0, 1)), "has 1 rows but"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_errors_naming_the_file(table, tmp_path, case):
    damage, message = BAD_FILES[case]
    path = write_results(table, tmp_path / f"{case}.parquet")
    damage(path)
    with pytest.raises(CorruptCacheError, match=message) as err:
        read_results(path)
    assert str(path) in str(err.value)


def test_verify_false_skips_only_the_checksum(table, tmp_path):
    path = write_results(table, tmp_path / "r.parquet")
    _rewrite(path, meta={k: v for k, v in read_metadata(path).items() if k != "checksum"})
    assert len(read_results(path, verify=False)) == len(table)
    foreign = tmp_path / "foreign.parquet"
    table.to_parquet(foreign)  # the results columns, but not written by alkit
    with pytest.raises(CorruptCacheError, match="not an alkit results file.*write_results"):
        read_results(foreign, verify=False)


def test_writer_refuses_tables_it_cannot_vouch_for(table, tmp_path):
    with pytest.raises(InvalidInputError, match=r"\['note'\].*not results columns"):
        write_results(table.assign(note="x"), tmp_path / "a.parquet")
    with pytest.raises(InvalidInputError, match=r"lacks the results column\(s\) \['info'\]"):
        write_results(table.drop(columns="info"), tmp_path / "a.parquet")
    with pytest.raises(InvalidInputError, match="column 'accuracy' must hold numbers"):
        write_results(table.assign(accuracy="high"), tmp_path / "a.parquet")
    with pytest.raises(InvalidInputError, match="column 'seed' must hold integers"):
        write_results(table.assign(seed=1.5), tmp_path / "a.parquet")
    with pytest.raises(InvalidInputError, match="schema_version"):
        write_results(table.assign(schema_version=SCHEMA_VERSION + 1), tmp_path / "a.parquet")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------ load_results
def test_load_results_raises_or_skips_every_bad_file_with_one_warning(table, tmp_path):
    good = write_results(table, tmp_path / "a_good.parquet")
    write_results(table.assign(seed=2), tmp_path / "sub" / "b_good.parquet")
    foreign = tmp_path / "c_batches.parquet"
    pd.DataFrame({"batch": [1, 2, 3], "redundancy": [0.1, 0.2, 0.3]}).to_parquet(foreign)
    altered = write_results(table.assign(seed=3), tmp_path / "d_altered.parquet")
    _rewrite(altered, pq.read_table(altered).slice(0, 1))
    truncated = tmp_path / "e_truncated.parquet"
    truncated.write_bytes(good.read_bytes()[:300])
    write_results(table, tmp_path / ".hidden" / "x.parquet")  # hidden: never read
    with pytest.raises(CorruptCacheError, match="c_batches.parquet is not an alkit results file"):
        load_results(tmp_path)
    with pytest.warns(SkippedResultsWarning) as caught:
        df = load_results(tmp_path, on_error="skip")
    assert len(caught) == 1
    text = str(caught[0].message)
    assert all(p.name in text for p in (foreign, altered, truncated)) and "3 bad" in text
    assert [p.name for p, _ in caught[0].message.skipped] == [
        "c_batches.parquet",
        "d_altered.parquet",
        "e_truncated.parquet",
    ]
    assert list(df.columns) == RESULT_COLUMNS and sorted(df["seed"].unique()) == [1, 2]
    assert not df[RESULT_COLUMNS].isna().all(axis=1).any()  # no all-NaN rows from foreign files


def test_load_results_arguments_and_missing_paths(tmp_path):
    with pytest.raises(MissingResourceError, match="nowhere"):
        load_results(tmp_path / "nowhere")
    with pytest.raises(
        InvalidInputError, match="on_error must be one of 'raise', 'skip'; got 'ignore'"
    ):
        load_results(tmp_path, on_error="ignore")
    empty = load_results(tmp_path)
    assert empty.empty and list(empty.columns) == RESULT_COLUMNS


# ------------------------------------------------------------------------------ permissions
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask,file_mode,dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_written_files_and_directories_follow_the_umask(
    table, tmp_path, umask, file_mode, dir_mode
):
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        res = write_results(table, tmp_path / "r.parquet")
        write_json_atomic(tmp_path / "x.json", {"a": 1})
        emb = alkit.EmbeddingSet(
            np.eye(4, dtype=np.float32), np.array([0, 1, 0, 1]), meta={"dataset": "toy"}
        )
        npz = emb.save(tmp_path / "emb.npz")
        folder = emb.save(tmp_path / "emb_dir")
    finally:
        os.umask(old)
    assert _mode(res) == _mode(tmp_path / "x.json") == _mode(npz) == file_mode
    assert _mode(folder) == dir_mode
    assert all(_mode(f) == file_mode for f in folder.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


# ------------------------------------------------------------------------------ layering
def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add((node.module or "").split(".")[0] or next(a.name for a in node.names))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alkit"):
            names.add(node.module.split(".")[1] if "." in node.module else "")
    return names


def _module_files(name: str) -> list[Path]:
    """``alkit/<name>.py``, or every module of the package ``alkit/<name>/``."""
    module = PACKAGE / f"{name}.py"
    return [module] if module.exists() else sorted((PACKAGE / name).glob("*.py"))


def _module_source(name: str) -> str:
    """The source of a module or package (a package's ``from ..x`` read as ``from .x``)."""
    sources = []
    for path in _module_files(name):
        text = path.read_text()
        sources.append(text.replace("from ..", "from .") if path.parent != PACKAGE else text)
    return "\n".join(sources)


def test_results_sits_below_loop_sweep_report_widgets_cli():
    below = set().union(*(_imported_modules(path) for path in _module_files("results")))
    assert not below & {"loop", "sweep", "report", "widgets", "cli"}, below
    # the labeling widget builds its rows with results, not loop (no loop → oracle → widgets cycle)
    widgets = set().union(*(_imported_modules(path) for path in _module_files("widgets")))
    assert "loop" not in widgets, widgets
    for name in ("report", "sweep", "cli"):
        source = _module_source(name)
        assert "from .loop import load_results" not in source
