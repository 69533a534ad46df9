"""Plots and ``alkit report``: files are written, axes are labelled, one image comparison."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from alkit import analysis, plots  # noqa: E402
from alkit.cli import main as cli_main  # noqa: E402
from alkit.errors import InvalidInputError  # noqa: E402
from alkit.results import RESULT_COLUMNS, write_results  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for ds, bb in [("d1", "b1"), ("d1", "b2"), ("d2", "b1")]:
        for method, eff in [("random", 0.0), ("entropy", 0.04), ("margin", 0.02)]:
            for prop in (False, True):
                for seed in range(3):
                    for it in range(1, 7):
                        acc = (
                            0.4
                            + 0.05 * it
                            + eff * (it > 1)
                            + 0.02 * prop * (it < 4)
                            + rng.normal(0, 0.005)
                        )
                        rows.append(
                            {
                                "schema_version": 1,
                                "dataset": ds,
                                "backbone": bb,
                                "embedding_checksum": "0",
                                "method": method,
                                "strategy": method,
                                "params": "{}",
                                "initial_pool": "random",
                                "propagate": prop,
                                "budget": 10,
                                "initial_budget": 10,
                                "seed": seed,
                                "iteration": it,
                                "n_labeled": 10 * it,
                                "n_classes_seen": 10,
                                "accuracy": acc,
                                "balanced_accuracy": acc,
                                "macro_f1": acc,
                                "n_topped_up": 0,
                                "query_seconds": 0.0,
                                "fit_seconds": 0.0,
                                "fit_epochs": 1,
                                "info": "{}",
                            }
                        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _labelled(fig: Figure) -> bool:
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    return bool(axes) and all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)


def test_al_curves(results, tmp_path):
    fig = plots.al_curves(results[~results["propagate"]], path=tmp_path / "curves")
    assert isinstance(fig, Figure) and _labelled(fig)
    assert (tmp_path / "curves.png").stat().st_size > 0 and (
        tmp_path / "curves.svg"
    ).stat().st_size > 0
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3  # one panel per setting
    assert (
        visible[0].get_ylabel() == "Top-1 accuracy (%)"
        and visible[0].get_xlabel() == "Labeled examples"
    )
    assert len(visible[0].collections) == 3  # a CI band per method
    fig = plots.al_curves(results, methods=["entropy"])
    assert len(fig.axes[0].lines) == 2  # with and without propagation
    with pytest.raises(InvalidInputError, match="none of"):
        plots.al_curves(results, methods=["badge"])


def test_win_matrix_heatmap(results, tmp_path):
    res = analysis.win_matrix(results)
    fig = plots.win_matrix_heatmap(res, path=tmp_path / "wm.png")
    assert _labelled(fig)
    assert (tmp_path / "wm.png").exists() and (tmp_path / "wm.svg").exists()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{res.totals['entropy']:.2f}" in texts
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == "Total"


def test_delta_plots(results, tmp_path):
    fig = plots.delta_curves(results, path=tmp_path / "delta")
    assert _labelled(fig) and (tmp_path / "delta.svg").exists()
    assert {line.get_label() for line in fig.axes[0].lines} >= {"b1", "b2"}
    fig = plots.delta_ssl_bars(results, path=tmp_path / "ssl")
    assert _labelled(fig) and (tmp_path / "ssl.png").exists()
    assert len(fig.axes[0].patches) == 2 * 6  # a bar per dataset and iteration
    fig = plots.delta_ssl_bars(results, by=None, method="entropy")
    assert len(fig.axes[0].patches) == 6
    with pytest.raises(InvalidInputError, match="partner"):
        plots.delta_ssl_bars(results[~results["propagate"]])


def _reference_win_matrix() -> analysis.WinMatrix:
    methods = ["dropquery", "entropy", "random"]
    wins = pd.DataFrame(
        [[0, 3.5, 4.0], [0.25, 0, 3.0], [0, 0.5, 0]], index=methods, columns=methods
    )
    both = pd.DataFrame(4 * (1 - np.eye(3, dtype=int)), index=methods, columns=methods)
    settings = [("cifar100", "dinov2"), ("food101", "dinov2"), ("cars", "clip"), ("pets", "clip")]
    return analysis.WinMatrix(wins, both, {}, pd.DataFrame(), pd.DataFrame(), settings)


def test_win_matrix_image_matches_reference(tmp_path):
    import matplotlib as mpl

    expected = DATA / "win_matrix_reference.png"
    with mpl.rc_context({"font.family": "DejaVu Sans", "font.size": 10, "savefig.dpi": 60}):
        fig = plots.win_matrix_heatmap(_reference_win_matrix())
        actual = tmp_path / "win_matrix.png"
        fig.savefig(actual, dpi=60)
    if os.environ.get("ALKIT_UPDATE_BASELINES") or not expected.exists():
        if not os.environ.get("ALKIT_UPDATE_BASELINES"):
            pytest.fail(
                f"reference image {expected} is missing; create it with ALKIT_UPDATE_BASELINES=1"
            )
        expected.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, expected)
    diff = compare_images(str(expected), str(actual), tol=6)
    assert diff is None, diff


def test_report_cli_writes_everything(results, tmp_path, capsys):
    src = tmp_path / "results"
    src.mkdir()
    write_results(results, src / "cell.parquet")
    out = tmp_path / "figures"
    assert cli_main(["report", str(src), "--out", str(out), "--iterations", "1", "6"]) == 0
    printed = capsys.readouterr().out
    names = [
        "al_curves.png",
        "al_curves.svg",
        "win_matrix.png",
        "win_matrix.svg",
        "delta_curves.png",
        "delta_ssl.png",
        "learning_curves.csv",
        "auc.csv",
        "auc_summary.md",
        "summary.csv",
        "summary.md",
        "win_matrix.csv",
        "win_matrix_settings.csv",
        "delta_half.csv",
        "delta_ssl.csv",
        "index.md",
    ]
    for name in names:
        assert (out / name).exists(), name
        assert str(out / name) in printed
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns)[-2:] == ["iteration 1", "iteration 6"]
    assert "↑" in (out / "summary.md").read_text(encoding="utf-8")
    # a results set that supports less: one method, no propagation → skips, still exit 0
    small = tmp_path / "small"
    small.mkdir()
    write_results(
        results[(results["method"] == "random") & ~results["propagate"]], small / "cell.parquet"
    )
    assert cli_main(["report", str(small), "--out", str(tmp_path / "f2")]) == 0
    printed = capsys.readouterr().out
    assert "skipped win matrix" in printed and "skipped delta_ssl" in printed
    assert cli_main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "f3")]) == 2


def test_report_refuses_bad_results_files_or_skips_them_with_skip_bad(results, tmp_path, capsys):
    src = tmp_path / "results"
    write_results(results, src / "cell.parquet")
    # a notebook's side table next to the results: never read as (all-NaN) results rows
    pd.DataFrame({"batch": [1, 2], "redundancy": [0.1, 0.2]}).to_parquet(src / "batches.parquet")
    altered = write_results(results.iloc[:10], src / "altered.parquet")
    blob = altered.read_bytes()
    altered.write_bytes(blob[: len(blob) // 2])
    assert cli_main(["report", str(src), "--out", str(tmp_path / "f1")]) == 2
    err = capsys.readouterr().err
    assert "altered.parquet" in err and "loaded twice" not in err
    assert not (tmp_path / "f1").exists()
    assert cli_main(["report", str(src), "--out", str(tmp_path / "f2"), "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "warning: Skipped 2 bad results file(s)" in out
    assert "batches.parquet is not an alkit results file" in out and "altered.parquet" in out
    assert f"{len(results)} rows from" in out
