"""``alkit notebooks``: papermill runs with injected parameters, one output folder per data set."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import alkit
from alkit import notebooks
from alkit.cli import main as cli_main
from alkit.errors import InvalidInputError, UnknownNameError

pytest.importorskip("papermill")

SYNTH = "synthetic:N=2000,d=32,C=5,seed=0"


@pytest.fixture
def one_thread(monkeypatch):
    # the kernels inherit the environment: one BLAS/OpenMP thread each (tiny probes only lose time to more)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.slow
def test_run_injects_dataset_and_writes_one_result_per_dataset(tmp_path, one_thread, capsys):
    rc = cli_main(
        [
            "notebooks",
            "run",
            "--notebook",
            "00_quickstart",
            "--datasets",
            "digits",
            SYNTH,
            "--out",
            str(tmp_path),
            "-p",
            "seeds=[0, 1]",
            "-p",
            "iterations=3",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    for dataset in ("digits", SYNTH):
        folder = tmp_path / "00_quickstart" / notebooks.dataset_slug(dataset)
        executed = folder / "00_quickstart.ipynb"
        assert executed.is_file()
        assert "injected-parameters" in executed.read_text()
        df = pd.read_parquet(folder / "results.parquet")
        assert (df["dataset"] == dataset).all()
        n_classes = alkit.load_embeddings(dataset).n_classes
        assert sorted(df["seed"].unique()) == [0, 1] and df["iteration"].max() == 3
        for _, run in df.groupby(["method", "seed"]):
            steps = np.diff(
                np.concatenate([[0], run.sort_values("iteration")["n_labeled"].to_numpy()])
            )
            assert (steps == n_classes).all(), (
                f"{dataset}: n_labeled steps {steps} != C = {n_classes}"
            )
        assert (folder / "curves.png").is_file()
    out = capsys.readouterr().out
    assert "results: results.parquet" in out


@pytest.mark.slow
def test_failing_notebook_reports_and_returns_nonzero(tmp_path, one_thread, capsys):
    rc = cli_main(
        [
            "notebooks",
            "run",
            "--notebook",
            "00",
            "--datasets",
            "no_such_dataset",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "no_such_dataset" in err
    assert (tmp_path / "00_quickstart" / "no_such_dataset" / "00_quickstart.ipynb").is_file()


def test_list_shows_every_notebook_and_its_parameters(capsys):
    assert cli_main(["notebooks", "list"]) == 0
    out = capsys.readouterr().out
    for name in notebooks.available():
        assert name in out
    assert "parameters: dataset, backbone" in out


def test_resolve_by_name_number_and_path():
    assert notebooks.resolve("01_initial_pool").stem == "01_initial_pool"
    assert notebooks.resolve("05").stem == "05_dropquery"
    path = notebooks.resolve("99_paper_figures")
    assert notebooks.resolve(str(path)) == path
    with pytest.raises(UnknownNameError, match="available: 00_quickstart"):
        notebooks.resolve("42_nothing")


def test_notebooks_dir_env_and_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("ALKIT_NOTEBOOKS", str(tmp_path))
    with pytest.raises(alkit.errors.MissingResourceError, match="--notebooks-dir"):
        notebooks.notebooks_dir()
    (tmp_path / "00_x.ipynb").write_text("{}")
    assert notebooks.notebooks_dir() == tmp_path
    assert list(notebooks.available()) == ["00_x"]


def test_parse_parameters_and_reserved_names(tmp_path):
    got = notebooks.parse_parameters(
        [
            "seeds=[1, 10]",
            "quick=False",
            "backbone=dinov2:vitg14",
            "x=none",
            'probe={"max_epochs": 100}',
            "iterations=5",
        ]
    )
    assert got == {
        "seeds": [1, 10],
        "quick": False,
        "backbone": "dinov2:vitg14",
        "x": None,
        "probe": {"max_epochs": 100},
        "iterations": 5,
    }
    with pytest.raises(InvalidInputError, match="KEY=VALUE"):
        notebooks.parse_parameters(["quick"])
    with pytest.raises(InvalidInputError, match="set by alkit notebooks run"):
        cli_main_raw(
            [
                "notebooks",
                "run",
                "--notebook",
                "00",
                "--datasets",
                "digits",
                "--out",
                str(tmp_path),
                "-p",
                "out_dir=/elsewhere",
            ]
        )


def cli_main_raw(argv):
    """Parse and dispatch without the CLI's error-to-exit-code translation."""
    from alkit.cli import build_parser

    args = build_parser().parse_args(argv)
    return args.func(args)


def test_dataset_slug_is_a_safe_folder_name():
    slug = notebooks.dataset_slug(SYNTH)
    assert os.sep not in slug and ":" not in slug and slug.startswith("synthetic")
    assert notebooks.dataset_slug("cifar100") == "cifar100"
