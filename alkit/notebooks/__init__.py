"""``alkit notebooks``: list the lesson notebooks and run them across data sets with papermill.

``alkit notebooks run --notebook 01_initial_pool --datasets cifar100 food101 --out runs/``
executes the notebook once per data set, injecting ``dataset`` and ``out_dir`` (plus any
``-p key=value``) into its ``parameters`` cell, and writes per data set::

    runs/01_initial_pool/<dataset>/01_initial_pool.ipynb   the executed notebook
    runs/01_initial_pool/<dataset>/*.parquet               the tidy results it wrote
    runs/01_initial_pool/<dataset>/*.png, *.svg            its figures

The notebooks are found in ``--notebooks-dir``, else ``$ALKIT_NOTEBOOKS``, else the
``notebooks/`` folder of the source checkout alkit is imported from, else ``./notebooks``.

The lessons' helpers live here too: :func:`setup` (the shared first cell; it also sets the thread
count, see :mod:`alkit._threads`), :func:`run_grid` (their run loops, with a progress bar),
:mod:`alkit.notebooks.prose` (the computed "This run" sentences) and :mod:`alkit.notebooks.toy`
(the 2-D examples of lessons 02 and 04).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from .._random import PAPER_SEEDS
from ..errors import InvalidInputError, MissingResourceError, UnknownNameError
from .runs import run_grid, use_threads

__all__ = [
    "setup",
    "run_grid",
    "use_threads",
    "PAPER_SEEDS",
    "add_arguments",
    "main",
    "notebooks_dir",
    "available",
    "resolve",
    "run_notebook",
    "parse_parameters",
    "dataset_slug",
    "clip_sets",
]

_NAME = re.compile(r"^\d\d_[A-Za-z0-9_]+$")


def notebooks_dir(path: str | os.PathLike | None = None) -> Path:
    """The directory holding the lesson notebooks (see the module docstring for the search order).

    Raises
    ------
    MissingResourceError
        Naming every place that was searched.
    """
    candidates = []
    if path is not None:
        candidates.append(Path(path))
    elif os.environ.get("ALKIT_NOTEBOOKS"):
        candidates.append(Path(os.environ["ALKIT_NOTEBOOKS"]))
    else:
        candidates += [
            Path(__file__).resolve().parents[2] / "notebooks",
            Path.cwd() / "notebooks",
        ]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.ipynb")):
            return c
    raise MissingResourceError(
        "No notebooks found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "). The notebooks ship with "
        "the source repository, not the wheel: clone it and pass --notebooks-dir REPO/notebooks "
        "(or set ALKIT_NOTEBOOKS)."
    )


def available(directory: str | os.PathLike | None = None) -> dict[str, Path]:
    """``{name: path}`` of the lesson notebooks (``NN_name.ipynb``), sorted by name."""
    root = notebooks_dir(directory)
    return {p.stem: p for p in sorted(root.glob("*.ipynb")) if _NAME.match(p.stem)}


def resolve(name: str, directory: str | os.PathLike | None = None) -> Path:
    """The notebook called ``name``: a full name (``01_initial_pool``), its number (``01``) or a path."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.is_file():
        return p
    books = available(directory)
    stem = p.stem if p.suffix == ".ipynb" else name
    if stem in books:
        return books[stem]
    matches = [n for n in books if n.startswith(stem + "_") or n.split("_", 1)[0] == stem]
    if len(matches) == 1:
        return books[matches[0]]
    raise UnknownNameError(
        f"Unknown notebook {name!r}"
        + (f" (ambiguous: {matches})" if matches else "")
        + f"; available: {', '.join(books)}."
    )


QUICK_SEEDS = [0, 1, 2]


def setup(
    dataset: str,
    backbone: str | None = None,
    seeds: list[int] | None = None,
    iterations: int | None = None,
    out_dir: str | os.PathLike | None = None,
    quick: bool = True,
    quick_iterations: int = 4,
    quick_seeds: list[int] | None = None,
    threads: int | None = None,
):
    """The shared first cell of the lesson notebooks: resolve the parameters, load the data.

    It also sets torch's and the BLAS pools' thread count for the data's size (one thread for
    small sets such as digits: see :mod:`alkit._threads`), so no ``OMP_NUM_THREADS`` is needed.

    Parameters
    ----------
    dataset, backbone : str
        ``load_embeddings(f"{dataset}__{backbone}")`` when a backbone is given, else ``dataset``.
    seeds, iterations : optional
        ``None`` = ``quick_seeds`` (default [0, 1, 2]) and ``quick_iterations`` when ``quick``,
        else the paper's five seeds and 20 iterations.
    out_dir : path, optional
        Created if missing.
    threads : int, optional
        Thread count to use instead of the automatic choice (ignored when ``OMP_NUM_THREADS`` is
        set).

    Returns
    -------
    emb : EmbeddingSet
    seeds : list of int
    iterations : int
    out : Path or None
    """
    from ..sources import load_embeddings

    seeds = (
        list(seeds) if seeds else (list(quick_seeds or QUICK_SEEDS) if quick else list(PAPER_SEEDS))
    )
    iterations = iterations or (quick_iterations if quick else 20)
    emb = load_embeddings(f"{dataset}__{backbone}" if backbone else dataset)
    use_threads(emb, threads)
    out = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
    return emb, seeds, iterations, out


def clip_sets() -> list[str]:
    """The cached ``<dataset>__openclip:…`` keys (embeddings that can carry class texts)."""
    from ..sources import cached_keys

    return [k for k in cached_keys() if "__openclip:" in k]


def parse_parameters(items: list[str] | None) -> dict[str, Any]:
    """``["seeds=[1, 2]", "quick=false", "strategies=random,margin"]`` → parameter dict.

    Values are parsed as JSON (numbers, booleans, null, lists, dicts); ``true``/``false``/``none``
    in any case too; anything else stays a string.
    """
    params: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise InvalidInputError(f"-p expects KEY=VALUE, got {item!r}.")
        key, raw = (s.strip() for s in item.split("=", 1))
        if not key.isidentifier():
            raise InvalidInputError(f"-p {item!r}: {key!r} is not a valid parameter name.")
        low = raw.lower()
        if low in ("true", "false"):
            params[key] = low == "true"
        elif low in ("none", "null"):
            params[key] = None
        else:
            try:
                params[key] = json.loads(raw)
            except json.JSONDecodeError:
                params[key] = raw
    return params


def dataset_slug(dataset: str) -> str:
    """A folder name for a data set name (``synthetic:N=2000,…`` → ``synthetic_N=2000_…``)."""
    slug = re.sub(r"[^A-Za-z0-9._=-]+", "_", str(dataset)).strip("_")
    return slug or "dataset"


def run_notebook(
    notebook: str | os.PathLike,
    out_dir: str | os.PathLike,
    parameters: dict[str, Any] | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
    progress: bool = False,
) -> Path:
    """Execute ``notebook`` with papermill into ``out_dir``; its ``out_dir`` parameter points there too.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` to run.
    out_dir : path
        Receives the executed notebook and everything the notebook writes.
    parameters : dict
        Injected after the ``parameters`` cell (JSON-serialisable values).
    kernel_name : str, optional
        Jupyter kernel (default: the notebook's own, ``python3``).
    timeout : int, optional
        Seconds allowed per cell.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    MissingResourceError
        If papermill is not installed.
    """
    try:
        import papermill
    except ImportError as exc:  # pragma: no cover - papermill is in the notebooks extra
        raise MissingResourceError(
            "alkit notebooks needs papermill: pip install 'alkit[notebooks]'."
        ) from exc
    notebook = Path(notebook).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    params = {**(parameters or {}), "out_dir": str(out)}
    try:
        json.dumps(params)
    except TypeError as exc:
        raise InvalidInputError(f"Notebook parameters must be JSON-serialisable: {exc}") from exc
    target = out / notebook.name
    papermill.execute_notebook(
        str(notebook),
        str(target),
        parameters=params,
        cwd=str(notebook.parent),
        kernel_name=kernel_name,
        execution_timeout=timeout,
        progress_bar=progress,
        report_mode=False,
        **_kernel_config(),
    )
    return target


def _kernel_config() -> dict[str, Any]:
    """Ask jupyter_client for an encrypted kernel connection when both sides support it.

    ipykernel ≥ 7 warns "Kernel is running over TCP without encryption" on every start unless
    the kernel manager provisions CurveZMQ keys; jupyter_client ≥ 8.10 does that with
    ``transport_encryption="auto"`` for kernelspecs that declare support (ipykernel's does).
    Older versions have no such setting, and then nothing is passed.
    """
    try:
        import zmq
        from jupyter_client.manager import KernelManager
        from traitlets.config import Config
    except ImportError:  # pragma: no cover - papermill brings these
        return {}
    if "transport_encryption" not in KernelManager.class_trait_names() or not zmq.has("curve"):
        return {}
    return {"config": Config({"KernelManager": {"transport_encryption": "auto"}})}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit notebooks``: ``list`` and ``run``."""
    parser.description = "List the lesson notebooks, or run one per data set with papermill."
    parser.epilog = (
        "examples:\n"
        "  alkit notebooks list\n"
        "  alkit notebooks run --notebook 01_initial_pool --datasets cifar100 food101 --out runs/\n"
        '  alkit notebooks run --notebook 00 --datasets digits "synthetic:N=2000,d=32,C=5,seed=0" '
        "--out runs/ -p seeds=[1,2]\n"
        "  alkit notebooks run --notebook 03 --datasets cifar100 -p backbone=dinov2:vitg14 --full"
    )
    sub = parser.add_subparsers(
        dest="notebooks_command", required=True, help="list the notebooks, or run them"
    )
    p = sub.add_parser("list", help="list the notebooks and their parameters")
    p.add_argument(
        "--notebooks-dir", default=None, help="where the notebooks are (default: the repository's)"
    )
    p = sub.add_parser(
        "run",
        help="run a notebook once per data set (papermill)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--notebook",
        required=True,
        help="name (01_initial_pool), number (01) or path of a notebook",
    )
    p.add_argument(
        "--datasets", nargs="+", required=True, help="data sets to inject as the dataset parameter"
    )
    p.add_argument(
        "--out", default="runs", help="output root: OUT/<notebook>/<dataset>/ (default runs/)"
    )
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="another parameter (JSON value), repeatable, e.g. -p seeds=[1,10] -p quick=false",
    )
    p.add_argument(
        "--full", action="store_true", help="the paper's protocol: shorthand for -p quick=false"
    )
    p.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's)")
    p.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    p.add_argument(
        "--notebooks-dir", default=None, help="where the notebooks are (default: the repository's)"
    )


def _list(args: argparse.Namespace) -> int:
    import nbformat

    books = available(args.notebooks_dir)
    print(f"Notebooks in {notebooks_dir(args.notebooks_dir)}:")
    for name, path in books.items():
        nb = nbformat.read(path, as_version=4)
        title = next(
            (
                c.source.splitlines()[0].lstrip("# ").strip()
                for c in nb.cells
                if c.cell_type == "markdown" and c.source.strip()
            ),
            "",
        )
        params = next(
            (c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])), ""
        )
        names = [
            line.split("=", 1)[0].strip()
            for line in params.splitlines()
            if "=" in line and not line.lstrip().startswith("#")
        ]
        print(f"  {name:<36} {title}")
        print(f"  {'':<36} parameters: {', '.join(names)}")
    return 0


def _run(args: argparse.Namespace) -> int:
    notebook = resolve(args.notebook, args.notebooks_dir)
    params = parse_parameters(args.parameter)
    if args.full:
        params["quick"] = False
    for reserved in ("dataset", "out_dir"):
        if reserved in params:
            raise InvalidInputError(
                f"-p {reserved}=… is set by alkit notebooks run itself (use --datasets / --out)."
            )
    root = Path(args.out) / notebook.stem
    failed = []
    for ds in args.datasets:
        out = root / dataset_slug(ds)
        t0 = time.perf_counter()
        print(f"[{notebook.stem}] {ds} → {out}", flush=True)
        try:
            executed = run_notebook(
                notebook,
                out,
                {**params, "dataset": ds},
                kernel_name=args.kernel,
                timeout=args.timeout,
            )
        except (
            Exception
        ) as exc:  # papermill raises PapermillExecutionError with the cell's traceback
            failed.append(ds)
            msg = str(exc).strip().splitlines()
            print(
                f"  FAILED after {time.perf_counter() - t0:.0f} s: {msg[-1] if msg else type(exc).__name__}\n"
                f"  the partly executed notebook is {out / notebook.name}",
                file=sys.stderr,
            )
            continue
        tables = sorted(p.name for p in out.glob("*.parquet"))
        print(
            f"  done in {time.perf_counter() - t0:.0f} s: {executed.name}; results: {', '.join(tables) or 'none'}"
        )
    if failed:
        print(
            f"{len(failed)} of {len(args.datasets)} data set(s) failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(args: argparse.Namespace) -> int:
    """Entry point of ``alkit notebooks``."""
    if args.notebooks_command == "list":
        return _list(args)
    return _run(args)
