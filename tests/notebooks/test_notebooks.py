"""The lesson notebooks: paired with their scripts, parameterised, stripped, and executable.

Each notebook is executed (``quick=True``, its defaults) by ``pytest --nbval-lax`` in a
subprocess, on a copy of ``notebooks/`` so the run writes nothing into the repository. The
cells marked ``# NBVAL_CHECK_OUTPUT`` hold each notebook's science assertion and a stored
deterministic summary line, which nbval compares.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(p.stem for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))
REQUIRED = {
    "dataset",
    "backbone",
    "strategies",
    "seeds",
    "iterations",
    "out_dir",
    "quick",
    "interactive",
}

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")


def test_every_lesson_is_there():
    expected = {
        "00_quickstart",
        "01_initial_pool",
        "02_diversity",
        "03_uncertainty_vs_representative",
        "04_label_propagation",
        "05_dropquery",
        "06_label_it_yourself",
        "07_bring_your_own_data",
        "08_beyond_the_paper",
        "99_paper_figures",
    }
    assert expected <= set(NOTEBOOKS)
    for name in NOTEBOOKS:
        assert (NB_DIR / f"{name}.py").is_file(), f"{name}.ipynb has no paired py:percent script"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_pairing_parameters_and_stripped_outputs(name):
    nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    paired = jupytext.read(NB_DIR / f"{name}.py")
    # the .ipynb and the .py hold the same cells (run `jupytext --sync notebooks/*.py` after editing)
    assert [(c.cell_type, c.source.strip()) for c in nb.cells] == [
        (c.cell_type, c.source.strip()) for c in paired.cells
    ], f"{name}: .ipynb and .py are out of sync"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "py:percent" in nb.metadata["jupytext"]["formats"]
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: exactly one cell must be tagged 'parameters'"
    values: dict = {}
    exec(tagged[0].source, {}, values)  # the parameters cell is plain assignments
    assert REQUIRED <= set(values), f"{name}: parameters lack {REQUIRED - set(values)}"
    json.dumps(values)  # papermill needs JSON-serialisable values
    assert values["quick"] is True and values["interactive"] is False
    for cell in nb.cells:  # outputs are stripped except the stored nbval check lines
        if cell.cell_type == "code" and cell.outputs:
            assert "keep_output" in cell.metadata.get("tags", []), (
                f"{name}: committed output in a cell"
            )
            assert "NBVAL_CHECK_OUTPUT" in cell.source
    checks = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]
    assert checks and all(c.outputs for c in checks), (
        f"{name}: needs a check cell with its stored output"
    )
    assert any("assert " in c.source for c in checks), (
        f"{name}: the check cell must assert on the results"
    )


def _nbval_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # one BLAS/OpenMP thread per kernel: the tiny quick-mode probes only lose time to more
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MPLBACKEND="Agg",
        PYTHONHASHSEED="0",
        ALKIT_HOME=str(tmp_path / "alkit_home"),
        HF_HUB_OFFLINE="1",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_under_nbval(name, tmp_path):
    pytest.importorskip("nbval")
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(NB_DIR / f"{name}.ipynb", work)
    shutil.copy(NB_DIR / "nbval_sanitize.cfg", work)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(work / "nbval_sanitize.cfg"),
        "--rootdir",
        str(work),
        "--nbval-cell-timeout",
        "300",
        str(work / f"{name}.ipynb"),
    ]
    proc = subprocess.run(
        cmd, cwd=work, env=_nbval_env(tmp_path), capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, (
        f"{name} failed under nbval:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    )
    assert " passed" in proc.stdout and " failed" not in proc.stdout
    assert list(work.glob("runs/*/*.parquet")), f"{name} wrote no results table to out_dir"
