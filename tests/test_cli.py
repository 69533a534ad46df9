import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from alkit import EmbeddingSet, load_embeddings
from alkit.cli import main


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "alkit run --dataset digits" in out and "alkit next" in out


def test_datasets_lists_builtins(capsys):
    assert main(["datasets"]) == 0
    assert "digits" in capsys.readouterr().out


def test_run_writes_tidy_parquet_and_summary(tmp_path, capsys):
    rc = main(
        [
            "run",
            "--dataset",
            "digits",
            "--strategy",
            "entropy",
            "--initial-pool",
            "centroids",
            "--seeds",
            "1",
            "10",
            "--iterations",
            "3",
            "--out",
            str(tmp_path),
            "--param",
            "cluster=true",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    files = list(tmp_path.glob("*.parquet"))
    assert len(files) == 1 and "results:" in out and "accuracy_mean" in out
    df = pd.read_parquet(files[0])
    assert sorted(df["seed"].unique()) == [1, 10] and df["method"].iloc[0] == "entropy+cluster"
    assert df["n_labeled"].max() == 30


def test_unknown_strategy_is_a_clear_error(capsys):
    assert (
        main(
            ["run", "--dataset", "digits", "--strategy", "nope", "--iterations", "2", "--out", "x"]
        )
        == 2
    )
    assert "available" in capsys.readouterr().err


def test_next_practitioner_flow(tmp_path, capsys):
    digits = load_embeddings("digits")
    unl = EmbeddingSet(
        digits.x_train,
        -np.ones(len(digits.x_train), dtype=np.int64),
        classes=digits.classes,
        meta={"dataset": "mine"},
    )
    emb_path = unl.save(tmp_path / "my.npz")
    # nothing labeled yet: the initial pool
    assert (
        main(
            [
                "next",
                "--embeddings",
                str(emb_path),
                "--budget",
                "10",
                "--strategy",
                "entropy",
                "--out",
                str(tmp_path / "to_label.csv"),
            ]
        )
        == 0
    )
    first = pd.read_csv(tmp_path / "to_label.csv")
    assert len(first) == 10 and "initial pool" in capsys.readouterr().out
    # label them (class names), ask again: the strategy's picks, disjoint from the labeled ones
    first["label"] = [digits.classes[digits.y_train[i]] for i in first["index"]]
    first[["index", "label"]].to_csv(tmp_path / "labeled.csv", index=False)
    assert (
        main(
            [
                "next",
                "--embeddings",
                str(emb_path),
                "--labels",
                str(tmp_path / "labeled.csv"),
                "--budget",
                "5",
                "--strategy",
                "entropy",
                "--out",
                str(tmp_path / "to_label.csv"),
            ]
        )
        == 0
    )
    second = pd.read_csv(tmp_path / "to_label.csv")
    assert len(second) == 5 and not set(second["index"]) & set(first["index"])
    preds = pd.read_csv(tmp_path / "predictions.csv")
    assert preds["labeled"].sum() == 10


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "alkit", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and "datasets" in out.stdout


def test_datasets_fits_100_columns_and_details_flag(capsys):
    from alkit.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "cifar100" in out and "--details" in out
    assert main(["datasets", "--details"]) == 0
    assert "dinov2:vitg14" in capsys.readouterr().out
