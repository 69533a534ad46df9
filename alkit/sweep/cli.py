"""``alkit sweep``: run a grid, show its state (``--status``), its cells (``--dry-run``) or the
shipped grids (``--list``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import AlkitError
from .cells import Cell, expand_grid
from .grid import load_grid, shipped_grids
from .outputs import _failure_summary, sweep_status
from .run import DEFAULT_WORKER_TIMEOUT, sweep


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit sweep``."""
    parser.description = "Run a grid of AL runs, resumable; one parquet per cell in --out."
    parser.epilog = (
        "examples:\n"
        "  alkit sweep quick --out results/quick                       # a shipped grid, LocalCluster\n"
        "  alkit sweep grids/my.yaml --out results/my --scheduler serial\n"
        "  alkit sweep paper_natural --out results/nat --scheduler tcp://head:8786\n"
        "  alkit sweep paper_natural --out results/nat --status\n"
        "  alkit sweep --list\n"
    )
    parser.add_argument(
        "grid", nargs="?", help="a grid YAML file or a shipped grid name (see --list)"
    )
    parser.add_argument(
        "--out", default=None, help="results directory (default: results/<grid name>)"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="'local' (default when dask is installed: LocalCluster), 'serial', or a Dask "
        "scheduler address such as tcp://host:8786",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (default: cores)"
    )
    parser.add_argument(
        "--device", default=None, help="override the grid's device (auto, cpu, cuda)"
    )
    parser.add_argument(
        "--force", action="store_true", help="rerun cells that already have results"
    )
    parser.add_argument(
        "--status", action="store_true", help="print done / failed / missing counts and exit"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the grid and print its cells per setting (needs no embeddings)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the shipped grids with their cell counts"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--worker-timeout",
        type=float,
        default=DEFAULT_WORKER_TIMEOUT,
        metavar="SECONDS",
        help="Dask: stop when the cluster has had no live worker for this long while cells "
        f"remain (default: {DEFAULT_WORKER_TIMEOUT:g}); finished cells are kept, rerun to go on",
    )


def _print_counts(cells: list[Cell]) -> None:
    counts: dict[tuple, int] = {}
    for c in cells:
        key = (c.dataset or c.embedding, c.backbone or "")
        counts[key] = counts.get(key, 0) + 1
    for (ds, bb), n in counts.items():
        print(f"  {ds:<36} {bb:<44} {n:>6}")
    print(f"  {'total':<81} {len(cells):>6}")


def main(args: argparse.Namespace) -> int:
    """``alkit sweep``: 0 when every cell is done, 1 when some failed (summary on stderr)."""
    if args.list:
        for name, path in shipped_grids().items():
            try:
                n = len(expand_grid(path, resolve=False, check_registry=False))
            except AlkitError as exc:  # pragma: no cover - shipped grids are tested
                n = f"invalid: {exc}"
            print(f"{name:<22} {n:>6} cells  {path}")
        return 0
    if not args.grid:
        print(
            "alkit sweep: give a grid file or shipped grid name (see `alkit sweep --list`).",
            file=sys.stderr,
        )
        return 2
    grid = load_grid(args.grid, check_registry=not args.dry_run)
    out = Path(args.out) if args.out else Path("results") / grid["name"]
    if args.dry_run:
        cells = expand_grid(args.grid, resolve=False, check_registry=False)
        print(f"grid {grid['name']!r}: {len(cells)} cells")
        _print_counts(cells)
        return 0
    if args.status:
        st = sweep_status(args.grid, out)
        redo = ", redone by the next run" if st["corrupt"] else ""
        print(
            f"grid {grid['name']!r} in {out}: {st['cells']} cells — done {st['done']}, "
            f"failed {st['failed']}, missing {st['missing']} (corrupt {st['corrupt']}{redo})"
        )
        for f in st["failures"][:20]:
            print(
                f"  failed {f['hash']}  {f['cell']}: {f['error_type']}: {(f['message'] or '').splitlines()[:1]}"
            )
        return 0
    table = sweep(
        args.grid,
        out,
        scheduler=args.scheduler,
        force=args.force,
        progress=not args.no_progress,
        n_workers=args.workers,
        device=args.device,
        worker_timeout=args.worker_timeout,
    )
    info = table.attrs["sweep"]
    print(
        f"grid {grid['name']!r}: {info['cells']} cells — ran {info['ran']}, skipped {info['skipped']} "
        f"(already done), failed {info['failed']}; results in {out}"
    )
    if table.attrs["failures"]:
        print(_failure_summary(table.attrs["failures"], out), file=sys.stderr)
        return 1
    return 0
