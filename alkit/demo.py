"""``python -m alkit.demo``: the whole story in a few minutes on 2 CPU cores.

1. random vs. entropy and margin from a centroid start, 3 seeds, on digits
   (the paper's protocol: C labels per iteration) → ``results.parquet``, ``al_curves.png``;
2. the shipped quick grid (DropQuery and the main strategies on digits and a small
   synthetic set, each from its default initial pool) and a small pillar grid (margin and
   entropy with and without clustering and label propagation, on digits) through the
   resumable sweep → ``sweep/``;
3. ``alkit report`` on it → AL curves, the four pillars' figures, delta curves and the win
   matrix under ``figures/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

SEEDS = (1, 10, 100)

#: The comparisons the quick grid lacks: pillar 2 (clustering) and pillar 4 (label propagation;
#: k = 25 neighbours, since the paper's 500 would join digits' 1 257 points into one blob).
PILLAR_GRID = {
    "name": "demo_pillars",
    "description": "digits: margin/entropy x cluster x label propagation, 3 seeds (the demo).",
    "datasets": ["digits"],
    "strategies": [
        "margin",
        {"name": "margin", "params": {"cluster": True}},
        "entropy",
        {"name": "entropy", "params": {"cluster": True}},
    ],
    "initial_pools": ["default"],
    "propagation": [False, {"k": 25}],
    "seeds": list(SEEDS),
    "iterations": 20,
    "device": "cpu",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alkit.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="outputs/demo")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--skip-sweep", action="store_true", help="only step 1")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from tqdm.auto import tqdm

    from . import plots
    from ._threads import set_threads
    from .loop import run_al
    from .results import write_results
    from .sources import load_embeddings

    t0 = time.perf_counter()
    emb = load_embeddings("digits")
    set_threads(n_rows=emb.x_train.shape[0], n_features=emb.x_train.shape[1])
    frames = []
    todo = [(s, seed) for s in ("random", "entropy", "margin") for seed in SEEDS]
    for strategy, seed in tqdm(todo, desc="step 1", unit="run", leave=False):
        run = run_al(
            emb, strategy=strategy, initial_pool="centroids", iterations=args.iterations, seed=seed
        )
        frames.append(run.to_frame())
    df = pd.concat(frames, ignore_index=True)
    results = out / "results.parquet"
    write_results(df, results, config={"writer": "alkit.demo", "seeds": list(SEEDS)})
    fig_path = out / "al_curves.png"
    plots.al_curves(df, path=fig_path)
    last = (
        df[df["iteration"] == df["iteration"].max()]
        .groupby("method")["accuracy"]
        .agg(["mean", "std"])
    )
    print(
        f"Step 1 done in {time.perf_counter() - t0:.0f} s. Accuracy at {int(df['n_labeled'].max())} labels "
        f"(mean ± std over seeds {list(SEEDS)}):"
    )
    for method, row in last.iterrows():
        print(f"  {method:<10} {100 * row['mean']:.1f} ± {100 * row['std']:.1f} %")
    print(f"results: {results}\nfigure:  {fig_path}")

    if not args.skip_sweep:
        from importlib.resources import files

        from . import report, sweep

        grid = files("alkit") / "grids" / "quick.yaml"
        sweep_dir = out / "sweep"
        t1 = time.perf_counter()
        table = sweep.sweep(str(grid), sweep_dir)
        pillars = sweep.sweep(dict(PILLAR_GRID), sweep_dir)
        # the plain margin/entropy runs on digits are cells of both grids (one file each)
        from .analysis import RUN_KEY

        table = pd.concat([table, pillars], ignore_index=True).drop_duplicates(
            RUN_KEY + ["iteration"]
        )
        print(
            f"Step 2 done in {time.perf_counter() - t1:.0f} s: {table['method'].nunique()} methods, "
            f"{len(table)} rows → {sweep_dir}"
        )
        paths = report.report(table, out / "figures")
        print(
            f"Step 3: {len(paths)} report files (AL curves, pillar figures, delta curves, win "
            f"matrix, tables) → {out / 'figures'}"
        )
    print(f"Total {time.perf_counter() - t0:.0f} s. Everything is under {out}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
