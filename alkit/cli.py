"""Command line: ``alkit datasets | run | next | embed | sweep | report | notebooks``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

EPILOG = """examples:
  alkit datasets
  alkit run --dataset digits --strategy entropy --initial-pool centroids --seeds 1 10 100 --iterations 20 --out results/
  alkit next --embeddings my.npz --labels labeled.csv --budget 50 --out to_label.csv
  alkit embed --dataset cifar100 --backbone dinov2:vitg14 --root ~/data
  alkit sweep grids/quick.yaml --out results/quick
  alkit report results/quick --out figures/
"""

# subcommands implemented in their own modules: name -> (module, help)
_PLUGINS = {
    "embed": ("alkit.embed.cli", "embed a data set with a frozen backbone and cache it"),
    "sweep": ("alkit.sweep", "run a grid of AL runs (locally or on a Dask cluster), resumable"),
    "report": ("alkit.report", "render the paper's figures and tables from a results directory"),
    "notebooks": ("alkit.notebooks", "run the notebooks with papermill across data sets"),
}


def _cmd_datasets(args) -> int:
    from . import sources
    from .data import cached_keys, embeddings_dir

    print("Built-in (offline):")
    for name, desc in sources.BUILTINS.items():
        print(f"  {name:<12} {desc}")
    print("  synthetic:N=…,d=…,C=…,seed=…   class mixture on the sphere, generated on the fly")
    try:
        from .cards import datasets_status

        print("\nData cards:")
        print(datasets_status().to_string(index=False))
    except ImportError:
        pass
    keys = cached_keys()
    print(f"\nCached embeddings in {embeddings_dir()}: " + (", ".join(keys) if keys else "none"))
    return 0


def _cmd_run(args) -> int:
    import pandas as pd

    from ._utils import write_parquet_atomic
    from .data import load_embeddings
    from .loop import run_al

    emb = load_embeddings(args.dataset)
    params = _parse_params(args.param)
    frames = []
    for seed in args.seeds:
        run = run_al(
            emb,
            strategy=args.strategy,
            initial_pool=args.initial_pool,
            budget=args.budget,
            initial_budget=args.initial_budget,
            iterations=args.iterations,
            seed=seed,
            propagation=True if args.propagate else None,
            device=args.device,
            progress=True,
            **params,
        )
        frames.append(run.to_frame())
    df = pd.concat(frames, ignore_index=True)
    out = Path(args.out)
    path = (
        out
        / f"{emb.dataset.replace(':', '_').replace('/', '_')}__{df['method'].iloc[0]}__{df['initial_pool'].iloc[0]}.parquet"
        if out.suffix != ".parquet"
        else out
    )
    write_parquet_atomic(df, path)
    summary = df.groupby("iteration")[["n_labeled", "accuracy"]].agg(
        {"n_labeled": "first", "accuracy": ["mean", "std"]}
    )
    summary.columns = ["n_labeled", "accuracy_mean", "accuracy_std"]
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"\nresults: {path}")
    return 0


def _parse_params(items) -> dict:
    import json

    params = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--param expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            params[k] = json.loads(v)
        except json.JSONDecodeError:
            params[k] = v
    return params


def _cmd_next(args) -> int:
    import numpy as np

    from .data import load_embeddings
    from .errors import InvalidInputError
    from .learner import ActiveLearner
    from .oracle import read_class_list, read_labels_csv

    emb = load_embeddings(args.embeddings)
    known = np.flatnonzero(emb.y_train >= 0)
    classes = emb.classes
    if args.classes:
        classes = read_class_list(args.classes)
        if len(known) and emb.classes != classes:
            raise InvalidInputError(
                f"{args.embeddings} carries labels of the classes {emb.classes[:10]} but "
                f"{args.classes} lists {classes[:10]}; use one class list for both."
            )
    if len(classes) < 2:
        where = args.classes if args.classes else args.embeddings
        raise InvalidInputError(
            f"{where} names {len(classes)} class(es) ({classes}); active learning needs at least "
            "2. Pass --classes FILE (one class name per line) listing every class you will label."
        )
    idx, lab = known, emb.y_train[known]
    if args.labels:
        idx_csv, lab_csv = read_labels_csv(args.labels, classes, n_rows=len(emb.x_train))
        clash = np.flatnonzero(np.isin(idx_csv, known))
        for j in clash:
            if emb.y_train[idx_csv[j]] != lab_csv[j]:
                raise InvalidInputError(
                    f"{args.labels}: index {idx_csv[j]} is labeled {classes[lab_csv[j]]!r} but "
                    f"{args.embeddings} already labels it {classes[emb.y_train[idx_csv[j]]]!r}."
                )
        new = ~np.isin(idx_csv, known)
        idx = np.concatenate([idx, idx_csv[new]])
        lab = np.concatenate([lab, lab_csv[new]])
    learner = ActiveLearner(
        emb.x_train,
        classes=classes,
        strategy=args.strategy,
        budget=args.budget,
        seed=args.seed,
        initial_pool=args.initial_pool,
        device=args.device,
        ids=emb.meta.get("ids"),
    )
    if len(idx):
        learner.teach(idx, lab)
    sel = learner.query(args.budget)
    out = Path(args.out)
    paths = learner.export(out.parent if out.suffix == ".csv" else out)
    if out.suffix == ".csv" and paths["to_label"] != out:
        Path(paths["to_label"]).replace(out)
        paths["to_label"] = out
    phase = "initial pool (nothing labeled yet)" if not len(idx) else f"strategy {args.strategy!r}"
    print(f"{len(sel.indices)} items to label next ({phase}): {paths['to_label']}")
    for key in ("predictions", "probe"):
        if key in paths:
            print(f"{key}: {paths[key]}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with alkit's error format: every input problem reads ``alkit: error: …`` and
    exits with status 2, whichever subcommand or check found it."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.print_usage(sys.stderr)
        self.exit(2, f"alkit: error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alkit",
        description="Active learning on frozen foundation-model embeddings.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("datasets", help="list built-in sets, data cards and cached embeddings")
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser(
        "run",
        help="run AL simulations (one strategy, several seeds)",
        epilog="example: alkit run --dataset digits --strategy entropy --initial-pool centroids "
        "--seeds 1 10 100 --iterations 20 --out results/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", required=True, help="digits, synthetic:…, a cached key or a path")
    p.add_argument("--strategy", default="dropquery")
    p.add_argument("--initial-pool", default=None, help="default: the strategy's paper default")
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--budget", type=int, default=None, help="default: number of classes")
    p.add_argument("--initial-budget", type=int, default=None, help="default: number of classes")
    p.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="strategy parameter (repeatable)"
    )
    p.add_argument("--propagate", action="store_true", help="label propagation (DESIGN §6)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="results/")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "next",
        help="which of your items to label next (writes a CSV to fill in)",
        epilog="example: alkit next --embeddings my.npz --labels labeled.csv --budget 50 --out to_label.csv\n"
        "labeled.csv has columns index,label (label = class name or index).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--embeddings", required=True, help=".npz/.npy/cached key; y_train = -1 where unknown"
    )
    p.add_argument(
        "--labels", default=None, help="CSV with columns index,label of the items labeled so far"
    )
    p.add_argument("--classes", default=None, help="text file, one class name per line")
    p.add_argument("--budget", type=int, required=True)
    p.add_argument("--strategy", default="dropquery")
    p.add_argument("--initial-pool", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="to_label.csv")
    p.set_defaults(func=_cmd_next)

    for name, (module, help_) in _PLUGINS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if exc.name and exc.name.startswith("alkit"):
                continue  # not built in this installation
            raise
        p = sub.add_parser(name, help=help_, formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(func=mod.main)
    return parser


#: Errors about files the user named (a missing input, an unwritable --out): input problems,
#: reported like alkit's own; any other exception is a bug and keeps its traceback.
_USER_OS_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for any input problem)."""
    from .errors import AlkitError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (AlkitError, *_USER_OS_ERRORS) as exc:
        print(f"alkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
