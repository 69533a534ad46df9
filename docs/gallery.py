"""Regenerate the figures of docs/gallery.md from the demo's results.

    make demo                      # writes outputs/demo (or: python -m alkit.demo --out outputs/demo)
    python docs/gallery.py --demo outputs/demo --out docs/img/gallery   # or: make gallery

Every figure is drawn by the library function named in the gallery, on the demo's data: step 1's
runs (``results.parquet``), the demo sweep (``sweep/``: the quick grid and the pillar grid), and,
for batch redundancy and the widget's curve, a few runs on digits made here (the results tables do
not hold the queried indices). PNGs at 80 dpi keep the page light.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

DPI = 80


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="outputs/demo", help="the demo's --out directory")
    parser.add_argument("--out", default="docs/img/gallery")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import alkit
    from alkit import analysis, plots
    from alkit.analysis import RUN_KEY
    from alkit.notebooks import run_grid, toy, use_threads
    from alkit.notebooks.runs import redundancy_table
    from alkit.widgets import _curve_figure

    demo, out = Path(args.demo), Path(args.out)
    if not (demo / "sweep").is_dir():
        print(f"No demo results under {demo}: run `make demo` first.", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    step1 = pd.read_parquet(demo / "results.parquet")
    sweep = alkit.load_results(demo / "sweep").drop_duplicates(RUN_KEY + ["iteration"])
    emb = alkit.load_embeddings("digits")
    use_threads(emb)

    def save(fig, name: str) -> None:
        from PIL import Image

        path = out / f"{name}.png"
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        # 256 colours are plenty for a figure and halve the file
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
        print(f"  {path}")

    save(plots.al_curves(step1), "al_curves_step1")
    save(plots.al_curves(sweep), "al_curves_sweep")
    save(plots.initial_pool_bars(sweep), "pillar1_initial_pool")
    save(plots.diversity_gain(sweep), "pillar2_diversity")
    save(plots.uncertainty_vs_representative(sweep), "pillar3_uncertainty_vs_representative")
    save(plots.delta_ssl_bars(sweep, by="method"), "pillar4_delta_ssl")
    save(plots.delta_curves(sweep, method="dropquery"), "delta_curves")
    quick = sweep[~sweep["method"].str.contains("+cluster", regex=False)]  # the quick grid's 12
    save(plots.win_matrix_heatmap(analysis.win_matrix(quick)), "win_matrix")

    # batch redundancy needs each run's queried indices: the demo's pillar runs, redone here
    # (margin and entropy, plain and +cluster, seeds 1, 10, 100; 10 iterations)
    _, runs = run_grid(
        emb, ["margin", "entropy"], [1, 10, 100], 10, vary={"cluster": [False, True]}
    )
    save(plots.redundancy_bars(redundancy_table(runs, emb.x_train)), "pillar2_redundancy")
    margin = step1[(step1["method"] == "margin") & (step1["seed"] == 1)]
    save(
        _curve_figure(list(margin["n_labeled"]), list(margin["accuracy"]), "margin"), "widget_curve"
    )
    save(toy.clustering_example("margin", budget=8)[0], "toy_clustering")
    save(toy.propagation_example()[0], "toy_propagation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
