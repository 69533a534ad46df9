import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from alkit import EmbeddingSet, load_embeddings, load_results
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


TINY = ["run", "--dataset", "synthetic:N=300,d=8,C=3,seed=0", "--iterations", "2"]


def test_run_names_files_by_configuration_and_never_replaces_one(tmp_path, capsys):
    out = ["--strategy", "entropy", "--out", str(tmp_path)]
    assert main([*TINY, *out, "--seeds", "1"]) == 0
    assert main([*TINY, *out, "--seeds", "2"]) == 0
    files = sorted(tmp_path.glob("*.parquet"))
    assert len(files) == 2  # other seeds, another file: the first run is kept
    assert all(
        f.name.startswith("synthetic_N=300_d=8_C=3_seed=0__entropy__random__") for f in files
    )
    assert {int(load_results(f)["seed"].iloc[0]) for f in files} == {1, 2}
    capsys.readouterr()
    # the same configuration again: not recomputed, said so
    stamp = {f: f.stat().st_mtime_ns for f in files}
    assert main([*TINY, *out, "--seeds", "1", "--param", "cluster=False"]) == 0
    assert "already there; not recomputed" in capsys.readouterr().out
    assert {f: f.stat().st_mtime_ns for f in files} == stamp
    assert len(list(tmp_path.glob("*.parquet"))) == 2
    # --force reruns it into the same file
    assert main([*TINY, *out, "--seeds", "1", "--force"]) == 0
    assert "already there" not in capsys.readouterr().out
    assert len(list(tmp_path.glob("*.parquet"))) == 2
    assert {f.stat().st_mtime_ns != stamp[f] for f in files} == {True, False}
    # iterations, budgets, parameters and propagation each make another file
    assert main([*TINY, *out, "--seeds", "1", "--param", "cluster=yes"]) == 0
    assert main([*TINY, *out, "--seeds", "1", "--budget", "4"]) == 0
    assert len(list(tmp_path.glob("*.parquet"))) == 4


def test_run_into_a_named_file_refuses_another_configuration(tmp_path, capsys):
    path = tmp_path / "mine.parquet"
    assert main([*TINY, "--strategy", "random", "--seeds", "1", "--out", str(path)]) == 0
    before = path.read_bytes()
    assert main([*TINY, "--strategy", "random", "--seeds", "2", "--out", str(path)]) == 2
    err = capsys.readouterr().err
    assert "mine.parquet exists and holds another configuration" in err
    assert "seeds: [1] there, [2] now" in err and "--force" in err
    assert path.read_bytes() == before
    assert main([*TINY, "--strategy", "random", "--seeds", "2", "--out", str(path), "--force"]) == 0
    assert load_results(path)["seed"].unique().tolist() == [2]
    other = tmp_path / "notes.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(other)
    assert main([*TINY, "--strategy", "random", "--out", str(other)]) == 2
    assert "notes.parquet exists and holds" in capsys.readouterr().err


def test_run_params_are_read_as_text_strictly(tmp_path, capsys):
    out = ["--strategy", "entropy", "--out", str(tmp_path)]
    assert main([*TINY, *out, "--param", "cluster=False"]) == 0
    df = load_results(tmp_path)
    assert (
        df["method"].iloc[0] == "entropy" and json.loads(df["params"].iloc[0])["cluster"] is False
    )
    for bad, named in [
        ("cluster=maybe", "parameter cluster must be a boolean"),
        ("clustr=true", "Did you mean 'cluster'?"),
        ("cluster", "--param expects KEY=VALUE"),
        ("device=cpu", "use --device"),
    ]:
        assert main([*TINY, *out, "--param", bad]) == 2, bad
        err = capsys.readouterr().err
        assert named in err, (bad, err)
    assert main([*TINY, *out, "--seeds", "3", "3"]) == 2
    assert "--seeds lists [3] more than once" in capsys.readouterr().err
    assert len(list(tmp_path.glob("*.parquet"))) == 1


def test_every_run_option_has_help():
    from alkit.cli import build_parser

    parser = build_parser()
    run = parser._subparsers._group_actions[0].choices["run"]
    undocumented = [a.dest for a in run._actions if not a.help and a.dest != "help"]
    assert not undocumented
    assert "--force" in run.format_help() and "<hash>" in run.format_help()


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


def test_help_and_version_import_nothing_heavy():
    """`alkit --help` and `--version` build no plug-in parser and import neither torch nor pandas
    (their speed is measured in benchmarks/cli_startup.py, not timed here)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from alkit.cli import main\n"
        "try:\n"
        "    main([sys.argv[1]])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('torch', 'pandas', 'faiss', 'dask', 'sklearn') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    for flag in ("--help", "--version"):
        out = subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "HEAVY []" in out.stdout, out.stdout[-300:]
    version = subprocess.run(
        [sys.executable, "-m", "alkit", "--version"], capture_output=True, text=True
    )
    import alkit

    assert version.stdout.strip() == f"alkit {alkit.__version__}"


def test_every_option_of_every_command_has_help():
    from alkit.cli import build_parser

    parser = build_parser()
    sub = next(
        a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction)
    )
    missing = [
        f"{name} {' / '.join(a.option_strings) or a.dest}"
        for name, p in sub.choices.items()
        for a in p._actions
        if a.help is None and a.dest != "help"
    ]
    assert not missing, missing


def test_unknown_card_embeddings_say_the_command_that_makes_them(capsys):
    from alkit.cli import main

    assert main(["run", "--dataset", "cifar100"]) == 2
    err = capsys.readouterr().err
    assert "alkit embed --dataset cifar100 --backbone dinov2:vitg14" in err
