"""Plots and ``alkit report``: files are written, axes are labelled, one image comparison, and
the visual language (issue 16) checked on the artists: a strategy's colour is the same
in every figure, one legend per figure without duplicate labels, accuracy in %, integer ticks,
mixed grids faceted with what is left out said."""

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


def make_results(
    settings=(("d1", "b1"), ("d1", "b2"), ("d2", "b1")),
    methods=(("random", 0.0), ("entropy", 0.04), ("margin", 0.02)),
    pools=("random",),
    cluster=False,
    propagate=(False, True),
    iterations=6,
    seeds=3,
) -> pd.DataFrame:
    """A synthetic tidy results table: every setting × method (× +cluster) × pool × propagate ×
    seed × iteration, with known effects (a method's ``eff`` after iteration 1, +2 points from
    propagation early, +3 points from a non-random pool at iterations 1–2, +1 from clustering)."""
    rng = np.random.default_rng(0)
    rows = []
    for ds, bb in settings:
        for method, eff in methods:
            for cl in (False, True) if cluster and method != "random" else (False,):
                for pool in pools:
                    for prop in propagate:
                        for seed in range(seeds):
                            for it in range(1, iterations + 1):
                                acc = (
                                    0.4
                                    + 0.05 * it
                                    + eff * (it > 1)
                                    + 0.02 * prop * (it < 4)
                                    + 0.01 * cl * (it > 1)
                                    + 0.03 * (pool != "random") * (it < 3)
                                    + rng.normal(0, 0.005)
                                )
                                rows.append(
                                    {
                                        "schema_version": 1,
                                        "dataset": ds,
                                        "backbone": bb,
                                        "embedding_checksum": "0",
                                        "method": method + ("+cluster" if cl else ""),
                                        "strategy": method,
                                        "params": '{"cluster": true}' if cl else "{}",
                                        "initial_pool": pool,
                                        "propagate": prop,
                                        "budget": 10,
                                        "initial_budget": 10,
                                        "seed": seed,
                                        "iteration": it,
                                        "n_labeled": 10 * it,
                                        "n_classes_seen": 10 - 2 * (pool == "random"),
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


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return make_results()


def _labelled(fig: Figure) -> bool:
    """Every panel has an x label; every row of panels a y label (panels sharing a y axis show it
    on the row's first panel only)."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    rows: dict[int, list] = {}
    for ax in axes:
        rows.setdefault(ax.get_subplotspec().rowspan.start, []).append(ax)
    return (
        bool(axes)
        and all(ax.get_xlabel() for ax in axes)
        and all(any(ax.get_ylabel() for ax in row) for row in rows.values())
    )


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
    # with and without propagation: a panel each, side by side for every setting
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6 and [len(ax.lines) for ax in visible[:2]] == [1, 1]
    assert "no label propagation" in visible[0].get_title()
    assert "with label propagation" in visible[1].get_title()
    assert any("not in methods=" in n for n in plots.notes_of(fig))
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
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and all(len(ax.patches) == 6 for ax in visible)  # a panel per dataset
    assert visible[0].get_ylim() == visible[1].get_ylim()  # panels share the y axis
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


# ---------------------------------------------------------------------------- the visual language
@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """A pools × clustering × propagation grid on one setting with a long synthetic name."""
    return make_results(
        settings=(("synthetic:N=2000,d=32,C=8,seed=0,noise=2.0", "synthetic"),),
        pools=("random", "centroids"),
        cluster=True,
    )


@pytest.fixture(scope="module")
def families() -> pd.DataFrame:
    """Uncertainty (margin, bald), representative (typiclust from its own pool) and random."""
    df = make_results(
        methods=(("random", 0.0), ("margin", 0.03), ("bald", 0.01), ("typiclust", 0.02)),
        settings=(("d1", "b1"),),
        propagate=(False,),
    )
    typ = df["method"] == "typiclust"
    df.loc[typ, "initial_pool"] = "typiclust"
    df.loc[typ & (df["iteration"] <= 2), "accuracy"] += 0.05
    return df


def _legend_labels(fig: Figure) -> list[str]:
    """The legends' labels, without the blank rows that keep a legend's sections together."""
    return [t.get_text() for leg in fig.legends for t in leg.get_texts() if t.get_text()]


def _line_colors(fig: Figure, label_start: str) -> set[str]:
    from matplotlib.colors import to_hex

    return {
        to_hex(line.get_color())
        for ax in fig.axes
        for line in ax.lines
        if line.get_label().split(" ·")[0] == label_start
    }


def _every_figure(results, mixed, families):
    wm = analysis.win_matrix(results)
    return {
        "al_curves": plots.al_curves(results),
        "al_curves_mixed": plots.al_curves(mixed),
        "delta_curves": plots.delta_curves(results),
        "delta_curves_dropquery_style": plots.delta_curves(results, method="random"),
        "delta_ssl_bars": plots.delta_ssl_bars(results),
        "delta_ssl_by_method": plots.delta_ssl_bars(results, by="method"),
        "initial_pool_bars": plots.initial_pool_bars(mixed),
        "diversity_gain": plots.diversity_gain(mixed),
        "uncertainty_vs_representative": plots.uncertainty_vs_representative(families),
        "redundancy_bars": plots.redundancy_bars(
            pd.DataFrame(
                {
                    "method": ["margin", "margin", "margin+cluster", "margin+cluster"],
                    "strategy": ["margin"] * 4,
                    "redundancy": [0.4, 0.5, 0.1, 0.15],
                }
            )
        ),
        "win_matrix": plots.win_matrix_heatmap(wm),
    }


def test_a_strategy_has_one_colour_in_every_figure(results, mixed, families):
    from matplotlib.colors import to_hex

    grey = plots.strategy_color("random")
    assert _line_colors(plots.al_curves(results), "random") == {grey}
    # one backbone per dataset: one line per method, in the strategy's colour
    one_bb = results[results["backbone"] == "b1"]
    assert _line_colors(plots.delta_curves(one_bb, lines="method"), "random") == {grey}
    # a method's backbones: the largest in the strategy's own colour, smaller ones lighter
    fig = plots.delta_curves(one_bb, method="random")
    assert {to_hex(line.get_color()) for line in fig.axes[0].lines[:1]} == {grey}
    # the random initial pool's bar is the random strategy's grey
    fig = plots.initial_pool_bars(mixed)
    assert to_hex(fig.axes[0].patches[0].get_facecolor()) == grey
    # Δ_ssl per method: the bars of a method wear its colour
    fig = plots.delta_ssl_bars(results, by="method")
    panel = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert {to_hex(p.get_facecolor()) for p in panel["random"].patches} == {grey}
    assert {to_hex(p.get_facecolor()) for p in panel["margin"].patches} == {
        plots.strategy_color("margin")
    }
    # variants keep the strategy's colour: margin and margin+cluster are both margin's blue
    assert _line_colors(plots.al_curves(mixed), "margin+cluster") == {
        plots.strategy_color("margin")
    }
    # the widget's learning curve too
    from alkit.widgets import _curve_figure

    fig = _curve_figure([10, 20, 30], [0.5, 0.6, 0.7], "margin")
    assert to_hex(fig.axes[0].lines[0].get_color()) == plots.strategy_color("margin")
    assert "%" in fig.axes[0].get_ylabel() and fig.axes[0].lines[0].get_ydata()[0] == 50


def test_colours_do_not_depend_on_which_strategies_are_drawn(results):
    alone = _line_colors(plots.al_curves(results, methods=["margin"]), "margin")
    together = _line_colors(plots.al_curves(results, methods=["random", "margin"]), "margin")
    assert alone == together == {plots.strategy_color("margin")}


def test_builtin_colours_are_distinct_and_reserved_ones_exist():
    from alkit import strategies
    from alkit.plots import style

    for name in [*strategies.available(), "maxherding", "uherding", "zeroshot"]:
        assert name in plots.PALETTE, f"{name} has no fixed colour"
    colors = list(plots.PALETTE.values())
    assert len(set(colors)) == len(colors)
    worst = min(style.color_distance(a, b) for i, a in enumerate(colors) for b in colors[i + 1 :])
    assert worst > 15  # CIE76 ΔE: clearly distinguishable side by side


def test_custom_strategy_gets_a_stable_distinct_colour():
    import subprocess
    import sys

    from alkit import strategies
    from alkit.plots import style

    strategies.register("my_custom_strategy", strategies.get("random"), overwrite=True)
    try:
        color = plots.strategy_color("my_custom_strategy")
        assert color not in plots.PALETTE.values()
        assert all(
            style.color_distance(color, c) >= style.MIN_DISTANCE for c in plots.PALETTE.values()
        )
        code = "from alkit.plots import strategy_color; print(strategy_color('my_custom_strategy'))"
        for seed in ("1", "2"):  # Python's hash() is salted per process; the colour must not be
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
                check=True,
            )
            assert out.stdout.strip() == color
        plots.set_strategy_color("my_custom_strategy", "red")
        assert plots.strategy_color("my_custom_strategy") == "#ff0000"
    finally:
        strategies.unregister("my_custom_strategy")
        style._CUSTOM.pop("my_custom_strategy", None)


def test_one_legend_per_figure_without_duplicate_labels(results, mixed, families):
    for name, fig in _every_figure(results, mixed, families).items():
        assert not any(ax.get_legend() for ax in fig.axes), f"{name}: a legend inside a panel"
        if name == "win_matrix":
            assert not fig.legends
            continue
        assert len(fig.legends) == 1, f"{name}: {len(fig.legends)} figure legends"
        labels = _legend_labels(fig)
        assert len(labels) == len(set(labels)), f"{name}: duplicate legend labels {labels}"


def test_accuracy_in_percent_and_integer_ticks(results, mixed, families):
    figures = _every_figure(results, mixed, families)
    for name, fig in figures.items():
        if name in ("redundancy_bars", "win_matrix"):
            continue  # a cosine similarity; counts of settings won
        for ax in fig.axes:
            if ax.get_visible() and ax.get_ylabel():
                assert "%" in ax.get_ylabel(), f"{name}: y label {ax.get_ylabel()!r}"
    for name in ("al_curves", "al_curves_mixed", "delta_curves", "diversity_gain"):
        for ax in figures[name].axes:
            if ax.get_visible():
                ticks = ax.xaxis.get_majorticklocs()
                assert np.allclose(ticks, np.round(ticks)), f"{name}: x ticks {ticks}"
    fig = figures["delta_curves"]
    assert "2.5" not in [t.get_text() for t in fig.axes[0].get_xticklabels()]


def test_delta_ssl_is_math_text_and_significance_is_explained(results):
    fig = plots.delta_ssl_bars(results)
    assert r"$\Delta_\mathrm{ssl}$" in fig.axes[0].get_ylabel()
    labels = _legend_labels(fig)
    assert "p < 0.05" in labels and "not significant" in labels
    assert not any(t.get_text() == "*" for ax in fig.axes for t in ax.texts)


def test_panels_that_compare_share_y_and_titles_fit(results, mixed):
    fig = plots.delta_curves(results)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len({ax.get_ylim() for ax in visible}) == 1
    fig = plots.al_curves(mixed)
    for ax in fig.axes:
        assert all(len(line) <= 40 for line in ax.get_title().splitlines()), ax.get_title()


def test_mixed_grid_is_faceted_and_says_what_it_left_out(mixed, tmp_path, capsys):
    fig = plots.al_curves(mixed)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4  # pools × propagation
    titles = [ax.get_title() for ax in visible]
    assert sum("with label propagation" in t for t in titles) == 2
    assert sum("centroids pool" in t for t in titles) == 2
    for ax in visible:  # entropy, margin, each plain and +cluster, and random: 5 curves a panel
        assert len(ax.lines) == 5
    labels = _legend_labels(fig)
    assert {
        "entropy",
        "margin",
        "random",
        "plain",
        "+cluster",
        "random pool",
        "centroids pool",
    } <= (set(labels))
    fig = plots.initial_pool_bars(mixed)
    assert any("label propagation" in n for n in plots.notes_of(fig))
    assert any("Not shown" in t.get_text() for t in fig.texts)
    # the report says what each figure leaves out
    src = tmp_path / "results"
    src.mkdir()
    write_results(mixed, src / "cells.parquet")
    out = tmp_path / "figures"
    assert cli_main(["report", str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "note: win_matrix leaves out runs with label propagation" in printed
    assert "note: pillar1_initial_pool leaves out runs with label propagation" in printed
    assert "Not shown:" in (out / "index.md").read_text(encoding="utf-8")


def test_report_writes_the_pillar_figures(mixed, families, tmp_path, capsys):
    from alkit.report import report

    paths = {p.name for p in report(mixed, tmp_path / "mixed")}
    for name in ("pillar1_initial_pool", "pillar2_diversity"):
        assert {f"{name}.png", f"{name}.svg", f"{name}.csv"} <= paths, name
    assert {"delta_ssl.png", "delta_ssl.csv"} <= paths
    printed = capsys.readouterr().out
    assert "skipped pillar 2 (batch redundancy)" in printed and "notebook 02" in printed
    paths = {p.name for p in report(families, tmp_path / "families")}
    assert {
        "pillar3_uncertainty_vs_representative.png",
        "pillar3_uncertainty_vs_representative.svg",
        "pillar3_uncertainty_vs_representative.csv",
        "pillar1_initial_pool.png",  # typiclust's own pool against the random pool
    } <= paths
    table = pd.read_csv(tmp_path / "families" / "pillar3_uncertainty_vs_representative.csv")
    assert table.loc[0, "leader"] == "representative"
    printed = capsys.readouterr().out
    assert "skipped pillar 2 (diversity)" in printed


def test_backbones_ordered_by_size():
    names = [
        "openclip:ViT-bigG-14:laion2b_s39b_b160k",
        "dinov2:vitg14",
        "mystery-net",
        "dinov2:vits14",
        "openclip:ViT-B-16:laion2b_s34b_b88k",
        "dinov2:vitl14",
        "openclip:ViT-H-14:laion2b_s32b_b79k",
        "dinov2:vitb14",
    ]
    assert plots.backbone_order(names) == [
        "dinov2:vits14",
        "dinov2:vitb14",
        "dinov2:vitl14",
        "dinov2:vitg14",
        "openclip:ViT-B-16:laion2b_s34b_b88k",
        "openclip:ViT-H-14:laion2b_s32b_b79k",
        "openclip:ViT-bigG-14:laion2b_s39b_b160k",
        "mystery-net",
    ]
    rows = make_results(
        settings=[("d1", b) for b in ("dinov2:vitg14", "dinov2:vits14", "dinov2:vitb14")],
        methods=(("dropquery", 0.02),),
        propagate=(False,),
    )
    fig = plots.delta_curves(rows, method="dropquery")
    assert _legend_labels(fig) == ["dinov2:vits14", "dinov2:vitb14", "dinov2:vitg14"]
