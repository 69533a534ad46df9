"""Command line: ``alkit datasets | run | next | project | embed | sweep | report | notebooks``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

EPILOG = """examples:
  alkit datasets
  alkit run --dataset digits --strategy entropy --initial-pool centroids --seeds 1 10 100 --iterations 20 --out results/
  alkit next --embeddings my.npz --labels labeled.csv --budget 50 --out to_label.csv
  alkit next --project my_project --embeddings my.npz --classes classes.txt --budget 6
  alkit embed --dataset cifar100 --backbone dinov2:vitg14 --root ~/data
  alkit sweep grids/quick.yaml --out results/quick
  alkit report results/quick --out figures/
"""

# subcommands implemented in their own modules: name -> (module, help[, add_arguments, main])
_PLUGINS = {
    "next": (
        "alkit.project.cli",
        "which of your items to label next (a labeling project, or one CSV to fill in)",
        "add_next_arguments",
        "next_main",
    ),
    "project": ("alkit.project.cli", "create and inspect labeling projects (alkit next --project)"),
    "embed": ("alkit.embedding.cli", "embed a data set with a frozen backbone and cache it"),
    "sweep": ("alkit.sweep", "run a grid of AL runs (locally or on a Dask cluster), resumable"),
    "report": ("alkit.report", "render the paper's figures and tables from a results directory"),
    "notebooks": ("alkit.notebooks", "run the notebooks with papermill across data sets"),
}


def _cmd_datasets(args) -> int:
    from . import sources
    from .catalog import datasets_status, format_status
    from .sources import cached_keys, embeddings_dir

    print("Built-in (offline):")
    for name, desc in sources.BUILTINS.items():
        print(f"  {name:<12} {desc}")
    print("  synthetic:N=…,d=…,C=…,seed=…   class mixture on the sphere, generated on the fly")
    status = datasets_status()
    print(f"\nData cards ({len(status)}; `alkit datasets --details` for titles and each backbone):")
    if args.details:
        print(status.to_string(index=False))
    else:
        print(format_status(status))
    keys = cached_keys()
    print(f"\nCached embeddings in {embeddings_dir()}: " + (", ".join(keys) if keys else "none"))
    if not keys:
        print("Create them with: alkit embed --dataset NAME --backbone BACKBONE (see --help)")
    return 0


def _cmd_run(args) -> int:
    import pandas as pd

    from . import strategies
    from .errors import AlkitError, InvalidInputError
    from .loop import run_al
    from .project.cli import parse_params
    from .results import read_metadata, read_results, write_results
    from .sources import load_embeddings
    from .validation import check_seed

    seeds = [check_seed(s, "--seeds") for s in args.seeds]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise InvalidInputError(f"--seeds lists {repeated} more than once; give each seed once.")
    strategies.info(args.strategy)  # an unknown name is an error listing the registered ones
    params = parse_params(args.param, args.strategy)
    emb = load_embeddings(args.dataset)
    config = _run_config(emb, args, params, sorted(seeds))
    out = Path(args.out)
    path = out if out.suffix == ".parquet" else out / _run_file_name(config)

    if path.exists() and not args.force:
        try:
            theirs = read_metadata(path).get("config")
        except AlkitError as exc:
            theirs, why = None, str(exc)
        else:
            why = "no alkit run configuration in its metadata"
        if isinstance(theirs, dict) and theirs.get("hash") == config["hash"]:
            try:
                df = read_results(path)
            except AlkitError as exc:  # our own file, damaged: the run is simply redone
                print(f"{path} holds this configuration but fails its checks ({exc}); rerunning.")
            else:
                _print_summary(df)
                print(
                    f"\nresults: {path} (this configuration was already there; not recomputed, "
                    "--force reruns it)"
                )
                return 0
        else:
            if isinstance(theirs, dict):
                why = "another configuration (" + _config_diff(theirs, config) + ")"
            raise InvalidInputError(
                f"{path} exists and holds {why}; pass --force to replace it, or choose another "
                "--out (a directory keeps one file per configuration)."
            )

    frames = []
    for seed in sorted(seeds):
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
    write_results(df, path, config=config)
    _print_summary(df)
    print(f"\nresults: {path}")
    return 0


def _run_config(emb, args, params: dict, seeds: list[int]) -> dict:
    """Everything that determines the results of ``alkit run`` (not the device), and its hash."""
    from . import strategies
    from ._files import stable_hash
    from .probe import PROBE_DEFAULTS, probe_identity
    from .results import method_label

    full = strategies.check_params(args.strategy, params)
    full.pop("device", None)
    config = {
        "writer": "alkit run",
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "embedding_checksum": emb.checksum,
        "strategy": args.strategy,
        "params": full,
        "method": method_label(args.strategy, full),
        "initial_pool": args.initial_pool or strategies.default_initial_pool(args.strategy),
        "budget": emb.n_classes if args.budget is None else args.budget,
        "initial_budget": emb.n_classes if args.initial_budget is None else args.initial_budget,
        "iterations": args.iterations,
        "seeds": seeds,
        "propagation": {} if args.propagate else None,
        "probe": probe_identity(PROBE_DEFAULTS),
    }
    return {**config, "hash": stable_hash(config, length=12)}


def _run_file_name(config: dict) -> str:
    """``<dataset>__<method>__<initial pool>__<config hash>.parquet``: readable, and one file per
    configuration (seeds, iterations, budgets, parameters, propagation all count)."""
    import re

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._+=-]+", "_", str(text)).strip("._") or "_"

    parts = (config["dataset"], config["method"], config["initial_pool"], config["hash"])
    return "__".join(safe(p) for p in parts) + ".parquet"


def _config_diff(theirs: dict, ours: dict, limit: int = 4) -> str:
    keys = [
        k for k in sorted(set(theirs) | set(ours)) if k != "hash" and theirs.get(k) != ours.get(k)
    ]
    shown = [f"{k}: {theirs.get(k)!r} there, {ours.get(k)!r} now" for k in keys[:limit]]
    return "; ".join(shown) + ("; …" if len(keys) > limit else "") or "unknown difference"


def _print_summary(df) -> None:
    summary = df.groupby("iteration")[["n_labeled", "accuracy"]].agg(
        {"n_labeled": "first", "accuracy": ["mean", "std"]}
    )
    summary.columns = ["n_labeled", "accuracy_mean", "accuracy_std"]
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))


class _Parser(argparse.ArgumentParser):
    """argparse with alkit's error format: every input problem reads ``alkit: error: …`` and
    exits with status 2, whichever subcommand or check found it."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.print_usage(sys.stderr)
        self.exit(2, f"alkit: error: {self.prog}: {message}\n")


def build_parser(commands: set[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser.

    Parameters
    ----------
    commands : set of str, optional
        Build the arguments of these plug-in subcommands only (``None``: all of them). The others
        are listed with their help line but their modules (sweeps, reports, embedding: pandas,
        torch, dask…) are not imported, so ``alkit --help`` and ``alkit --version`` start fast.
    """
    from ._version import __version__

    parser = _Parser(
        prog="alkit",
        description="Active learning on frozen foundation-model embeddings.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"alkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("datasets", help="list built-in sets, data cards and cached embeddings")
    p.add_argument(
        "--details", action="store_true", help="the full table: titles and one column per backbone"
    )
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser(
        "run",
        help="run AL simulations (one strategy, several seeds)",
        description="Simulate active learning with ground-truth labels and write one results "
        "file (checksummed parquet, one row per seed and iteration).",
        epilog="example: alkit run --dataset digits --strategy entropy --initial-pool centroids "
        "--seeds 1 10 100 --iterations 20 --out results/\n\n"
        "output: with --out a directory, the file is named by the full configuration,\n"
        "  <dataset>__<method>__<initial pool>__<hash>.parquet, the hash covering seeds,\n"
        "  iterations, budgets, parameters, propagation and the embeddings, so runs of other\n"
        "  configurations never replace each other. If that configuration's file is already\n"
        "  there, it is not recomputed (--force reruns it). With --out FILE.parquet, a file of\n"
        "  another configuration is never replaced without --force.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", required=True, help="digits, synthetic:…, a cached key or a path")
    p.add_argument(
        "--strategy",
        default="dropquery",
        help="a registered query strategy (default: dropquery; see alkit.strategies.available())",
    )
    p.add_argument("--initial-pool", default=None, help="default: the strategy's paper default")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[1],
        help="one run per seed, each a non-negative integer (default: 1)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=20,
        help="train/test rounds per run, the first on the initial pool (default: 20)",
    )
    p.add_argument(
        "--budget", type=int, default=None, help="labels queried per round (default: classes)"
    )
    p.add_argument(
        "--initial-budget",
        type=int,
        default=None,
        help="size of the initial pool (default: number of classes)",
    )
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="strategy parameter, repeatable: --param cluster=true --param M=5 (booleans: "
        "true/false, yes/no, on/off, 1/0)",
    )
    p.add_argument(
        "--propagate",
        action="store_true",
        help="train on label-propagated pseudo-labels (docs/analysis.md)",
    )
    p.add_argument(
        "--device", default="auto", help="auto (GPU when present), cpu or cuda; not in the hash"
    )
    p.add_argument(
        "--out",
        default="results/",
        help="directory (one file per configuration; default: results/) or a .parquet file",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="rerun and overwrite even when the output file exists (same or other configuration)",
    )
    p.set_defaults(func=_cmd_run)

    for name, (module, help_, *entry) in _PLUGINS.items():
        p = sub.add_parser(name, help=help_, formatter_class=argparse.RawDescriptionHelpFormatter)
        if commands is not None and name not in commands:
            continue  # listed only: its module is imported when the command runs
        mod = importlib.import_module(module)
        add, run = entry or ("add_arguments", "main")
        getattr(mod, add)(p)
        p.set_defaults(func=getattr(mod, run))
    return parser


def _command_of(argv: list[str]) -> set[str]:
    """The subcommand named in ``argv`` (the first word that is not an option), as a set."""
    words = [a for a in argv if not a.startswith("-")]
    return {words[0]} if words else set()


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

    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(argv)).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (AlkitError, *_USER_OS_ERRORS) as exc:
        print(f"alkit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `alkit datasets | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
