"""Grids of AL runs: validation, expansion into cells, and a resumable runner (serial or Dask).

A *grid* (YAML file, shipped grid name or dict) crosses (dataset, backbone) settings with
strategies, initial pools, seeds, propagation settings, iterations and budgets; ``exclude``
rules drop combinations. Each combination is a *cell* = one :func:`alkit.run_al` call, whose
tidy table is written atomically to ``<out_dir>/<hash>.parquet`` (a checksummed results file,
:mod:`alkit.results`), the hash covering the run key, every parameter and the embedding
checksum (not the alkit version). Rerunning a sweep skips finished cells, redoes truncated,
altered or foreign ones and retries failed ones; a failed cell writes ``failures/<hash>.json``
(error and traceback) and the others go on. Everything in a grid is checked before any cell
starts.

Grid keys (see ``docs/sweeps.md``)::

    name: quick
    settings:                       # (dataset, backbone) pairs; lists inside one entry are crossed
      - {dataset: [cifar100, food101], backbone: "dinov2:vitg14"}
    datasets: [digits, "synthetic:N=2000,d=32,C=8,seed=0"]   # sets with one embedding each
    strategies: [random, {name: entropy, params: {cluster: true}}, dropquery]
    initial_pools: [default, centroids]   # default = the strategy's paper default
    seeds: [1, 10, 100]
    propagation: [false, true]            # or settings dicts
    iterations: 20                        # int or list
    budget: null                          # null = C; int or list
    initial_budget: null
    probe: {max_epochs: 400}
    exclude: [{dataset: places365, strategy: probcover}]
    device: auto
    imports: [my_package.my_strategies]   # modules imported (on every worker) before running
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as _dt
import importlib
import itertools
import json
import os
import re
import socket
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import initial_pools as _initial_pools
from . import strategies as _strategies
from ._utils import stable_hash, write_json_atomic
from .errors import (
    AlkitError,
    CorruptCacheError,
    GridError,
    MissingResourceError,
    NoWorkersError,
)
from .validation import check_float

__all__ = [
    "Cell",
    "load_grid",
    "expand_grid",
    "plan",
    "sweep",
    "sweep_status",
    "shipped_grids",
    "SweepFailedError",
    "PAPER_SEEDS",
    "GRID_KEYS",
    "DEFAULT_WORKER_TIMEOUT",
    "add_arguments",
    "main",
]

#: The reference implementation's five seeds (``ALFM/conf/al_train.yaml``).
PAPER_SEEDS = [1, 10, 100, 1000, 10000]

#: Every top-level key a grid may hold, with its default (``None`` = required or derived).
GRID_KEYS: dict[str, Any] = {
    "name": None,
    "description": "",
    "settings": [],
    "datasets": [],
    "strategies": None,
    "initial_pools": ["default"],
    "seeds": PAPER_SEEDS,
    "propagation": [False],
    "iterations": 20,
    "budget": None,
    "initial_budget": None,
    "probe": {},
    "exclude": [],
    "device": "auto",
    "imports": [],
}
#: Seconds a Dask sweep waits with no live worker before it stops (``worker_timeout``).
DEFAULT_WORKER_TIMEOUT = 120.0
EXCLUDE_KEYS = ("dataset", "backbone", "strategy", "method", "initial_pool", "seed", "propagate")
FAILURES_DIR = "failures"
# environment of every Dask worker process, so BLAS/OpenMP start with one thread (the task
# also pins torch, faiss and BLAS at run time, for workers started by someone else)
_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


class SweepFailedError(RuntimeError):
    """Raised by :func:`sweep` with ``raise_on_failure=True`` when some cells failed."""

    def __init__(self, message: str, failures: list[dict]) -> None:
        super().__init__(message)
        self.failures = failures


# ---------------------------------------------------------------------------------------- grids
def shipped_grids() -> dict[str, Path]:
    """The grids shipped in ``alkit/grids/``: ``{name: path}``."""
    root = Path(__file__).with_name("grids")
    return {p.stem: p for p in sorted(root.glob("*.yaml"))}


def _read_spec(spec: str | os.PathLike | Mapping) -> tuple[dict, str]:
    """Return (raw dict, origin for messages) from a dict, a YAML path or a shipped grid name."""
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec)), "grid"
    if not isinstance(spec, (str, os.PathLike)):
        raise GridError(
            f"A grid is a dict, a YAML path or a shipped grid name; got {type(spec).__name__}."
        )
    path = Path(spec).expanduser()
    if not path.exists():
        shipped = shipped_grids()
        name = str(spec).removesuffix(".yaml")
        if name not in shipped and Path(name).parent.name == "grids":
            name = Path(
                name
            ).name  # "grids/quick.yaml" in the docs = the shipped alkit/grids/quick.yaml
        if name not in shipped:
            raise GridError(
                f"No grid file {str(spec)!r} and no shipped grid of that name; shipped grids: "
                f"{', '.join(shipped)}."
            )
        path = shipped[name]
    import yaml

    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise GridError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(raw, dict):
        raise GridError(
            f"{path}: a grid must be a YAML mapping of keys to values; got {type(raw).__name__}."
        )
    raw.setdefault("name", path.stem)
    return raw, str(path)


def _as_list(value: Any, key: str, origin: str, allow_scalar: bool = True) -> list:
    if isinstance(value, (list, tuple)):
        out = list(value)
    elif allow_scalar:
        out = [value]
    else:
        raise GridError(f"{origin}: field {key!r} must be a list; got {value!r}.")
    if not out:
        raise GridError(f"{origin}: field {key!r} is an empty axis; give it at least one value.")
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_str(v: Any, key: str, origin: str) -> str:
    if not isinstance(v, str) or not v:
        raise GridError(f"{origin}: field {key!r} must be a non-empty string; got {v!r}.")
    return v


_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _check_name(v: Any, origin: str) -> str:
    """A grid name is part of file names in the output directory (``.grid-<name>.json``) and the
    default ``results/<name>``: no path separators, no ``..``."""
    name = _check_str(v, "name", origin)
    if not _SIMPLE_NAME.fullmatch(name) or not name.strip("."):
        raise GridError(
            f"{origin}: field 'name' must be a simple name (letters, digits, '_', '-', '.'; no "
            f"path separators, not '.' or '..'), as it names files in the output directory; "
            f"got {name!r}."
        )
    return name


def load_grid(spec: str | os.PathLike | Mapping, check_registry: bool = True) -> dict:
    """Read and validate a grid; return it normalised (every key present, axes as lists).

    Parameters
    ----------
    spec : dict, path or str
        A grid dict, a YAML file, or the name of a shipped grid (``"quick"``, ``"paper_natural"``…).
    check_registry : bool
        Check strategy names, their parameters and initial-pool names against the registries
        (after importing the grid's ``imports``). ``False`` checks structure and types only.

    Returns
    -------
    dict
        Keys of :data:`GRID_KEYS`; ``settings`` as a list of ``{"embedding", "dataset", "backbone"}``
        (``dataset``/``backbone`` are ``None`` for ``datasets`` shorthand entries until the
        embeddings are read), ``strategies`` as ``{"name", "params"}`` dicts (parameters with their
        registered defaults), ``propagation`` as ``None`` or settings dicts.

    Raises
    ------
    GridError
        Naming the field at fault: unknown key, unknown strategy or initial pool, empty axis,
        wrong type.
    """
    raw, origin = _read_spec(spec)
    unknown = sorted(set(raw) - set(GRID_KEYS))
    if unknown:
        raise GridError(
            f"{origin}: unknown field(s) {unknown}; valid fields: {', '.join(GRID_KEYS)}."
        )
    grid: dict[str, Any] = {k: copy.deepcopy(v) for k, v in GRID_KEYS.items()}
    grid.update(raw)
    grid["name"] = _check_name(grid["name"] or "grid", origin)
    if not isinstance(grid["description"], str):
        raise GridError(f"{origin}: field 'description' must be a string.")
    grid["device"] = _check_str(grid["device"], "device", origin)

    # imports first: they may register the strategies named below
    imports = (
        _as_list(grid["imports"], "imports", origin) if grid["imports"] not in ([], None) else []
    )
    for i, mod in enumerate(imports):
        _check_str(mod, f"imports[{i}]", origin)
        if check_registry:
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                raise GridError(
                    f"{origin}: field 'imports[{i}]': cannot import {mod!r} ({exc})."
                ) from exc
    grid["imports"] = imports

    grid["settings"] = _parse_settings(grid, origin)
    grid["strategies"] = _parse_strategies(grid["strategies"], origin, check_registry)

    pools = _as_list(grid["initial_pools"], "initial_pools", origin)
    for i, p in enumerate(pools):
        _check_str(p, f"initial_pools[{i}]", origin)
        if check_registry and p != "default" and p not in _initial_pools.available():
            raise GridError(
                f"{origin}: field 'initial_pools[{i}]': unknown initial pool {p!r}; available: "
                f"default, {', '.join(_initial_pools.available())}."
            )
    grid["initial_pools"] = list(dict.fromkeys(pools))

    seeds = _as_list(grid["seeds"], "seeds", origin)
    for i, s in enumerate(seeds):
        if not _is_int(s) or s < 0:
            raise GridError(
                f"{origin}: field 'seeds[{i}]' must be a non-negative integer; got {s!r}."
            )
    grid["seeds"] = [int(s) for s in dict.fromkeys(seeds)]

    props = []
    for i, p in enumerate(_as_list(grid["propagation"], "propagation", origin)):
        if p is None or p is False:
            props.append(None)
        elif p is True:
            props.append({})
        elif isinstance(p, dict):
            from .propagation import check_propagation_settings

            try:  # the settings as given form the cell hash; only checked here
                check_propagation_settings(p)
            except AlkitError as exc:
                raise GridError(f"{origin}: field 'propagation[{i}]': {exc}") from exc
            props.append(dict(p))
        else:
            raise GridError(
                f"{origin}: field 'propagation[{i}]' must be false, true or a dict of settings; got {p!r}."
            )
    grid["propagation"] = props

    for key, allow_none in (("iterations", False), ("budget", True), ("initial_budget", True)):
        vals = _as_list(grid[key], key, origin)
        for i, v in enumerate(vals):
            if v is None and allow_none:
                continue
            if not _is_int(v) or v < 1:
                what = "a positive integer" + (
                    " or null (= number of classes)" if allow_none else ""
                )
                raise GridError(
                    f"{origin}: field {key!r}{f'[{i}]' if len(vals) > 1 else ''} must be {what}; got {v!r}."
                )
        grid[key] = [None if v is None else int(v) for v in dict.fromkeys(vals)]

    if grid["probe"] is None:
        grid["probe"] = {}
    if not isinstance(grid["probe"], dict):
        raise GridError(
            f"{origin}: field 'probe' must be a dict of probe settings; got {grid['probe']!r}."
        )
    grid["probe"] = _full_probe(grid["probe"], origin)

    excl = grid["exclude"] or []
    if not isinstance(excl, list):
        raise GridError(f"{origin}: field 'exclude' must be a list of rules (dicts); got {excl!r}.")
    rules = []
    for i, rule in enumerate(excl):
        if not isinstance(rule, dict) or not rule:
            raise GridError(
                f"{origin}: field 'exclude[{i}]' must be a non-empty dict; got {rule!r}."
            )
        bad = sorted(set(rule) - set(EXCLUDE_KEYS))
        if bad:
            raise GridError(
                f"{origin}: field 'exclude[{i}]' has unknown key(s) {bad}; valid: {', '.join(EXCLUDE_KEYS)}."
            )
        rules.append({k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in rule.items()})
    grid["exclude"] = rules
    _check_exclude(rules, _grid_axes(grid), origin)
    return grid


def _grid_axes(grid: dict) -> dict[str, set | None]:
    """The values each ``exclude`` key can match, as far as the grid alone tells (``None``:
    known only once the embeddings are read, or a strategy's default pool is unknown)."""
    names = [s["name"] for s in grid["strategies"]]
    pools: set | None = set(grid["initial_pools"])
    if "default" in pools:
        if all(n in _strategies.available() for n in names):
            pools |= {_strategies.default_initial_pool(n) for n in names}
        else:
            pools = None
    explicit = all(s["dataset"] is not None for s in grid["settings"])
    return {
        "dataset": {s["dataset"] for s in grid["settings"]} if explicit else None,
        "backbone": {s["backbone"] for s in grid["settings"]} if explicit else None,
        "strategy": set(names),
        "method": {s["method"] for s in grid["strategies"]},
        "initial_pool": pools,
        "seed": set(grid["seeds"]),
        "propagate": {p is not None for p in grid["propagation"]},
    }


def _same(a: Any, b: Any) -> bool:
    """Equal, and both booleans or neither (``1 == True`` in Python, not in a grid)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _check_exclude(rules: list[dict], axes: dict[str, set | None], origin: str) -> None:
    """Every value of every ``exclude`` rule must match some value of its axis: a rule with a
    typo (``strategy: entropyy``) would otherwise exclude nothing, silently."""
    from .validation import suggest

    for i, rule in enumerate(rules):
        for key, values in rule.items():
            valid = axes.get(key)
            if valid is None:
                continue
            for v in values:
                if not any(_same(v, w) for w in valid):
                    shown = ", ".join(repr(w) for w in sorted(valid, key=str))
                    hint = suggest(v, [str(w) for w in valid]) if isinstance(v, str) else ""
                    raise GridError(
                        f"{origin}: field 'exclude[{i}]': {key} {v!r} matches no {key} of the "
                        f"grid, so the rule would exclude nothing; valid: {shown}.{hint}"
                    )


def _parse_settings(grid: dict, origin: str) -> list[dict]:
    from .sources import cache_key

    settings_raw = grid["settings"] if grid["settings"] is not None else []
    datasets_raw = grid["datasets"] if grid["datasets"] is not None else []
    if not isinstance(settings_raw, list):
        raise GridError(
            f"{origin}: field 'settings' must be a list of {{dataset, backbone}} entries."
        )
    if not isinstance(datasets_raw, list):
        raise GridError(f"{origin}: field 'datasets' must be a list of embedding names or paths.")
    if not settings_raw and not datasets_raw:
        raise GridError(
            f"{origin}: the grid has no settings: give 'settings' (dataset, backbone pairs) "
            "or 'datasets' (e.g. [digits]); an empty axis runs nothing."
        )
    out: list[dict] = []
    for i, entry in enumerate(settings_raw):
        where = f"settings[{i}]"
        if isinstance(entry, str):  # a cached "<dataset>__<backbone>" key or a path
            out.append({"embedding": entry, "dataset": None, "backbone": None})
            continue
        if (
            not isinstance(entry, dict)
            or set(entry) - {"dataset", "backbone"}
            or not {"dataset", "backbone"} <= set(entry)
        ):
            raise GridError(
                f"{origin}: field {where!r} must be a dict with keys 'dataset' and 'backbone' "
                f"(each a string or a list); got {entry!r}."
            )
        ds = _as_list(entry["dataset"], f"{where}.dataset", origin)
        bb = _as_list(entry["backbone"], f"{where}.backbone", origin)
        for j, d in enumerate(ds):
            _check_str(d, f"{where}.dataset[{j}]", origin)
        for j, b in enumerate(bb):
            _check_str(b, f"{where}.backbone[{j}]", origin)
        for d, b in itertools.product(ds, bb):
            out.append({"embedding": cache_key(d, b), "dataset": d, "backbone": b})
    for i, name in enumerate(datasets_raw):
        out.append(
            {
                "embedding": _check_str(
                    str(name) if isinstance(name, os.PathLike) else name, f"datasets[{i}]", origin
                ),
                "dataset": None,
                "backbone": None,
            }
        )
    seen, unique = set(), []
    for s in out:
        if s["embedding"] not in seen:
            seen.add(s["embedding"])
            unique.append(s)
    return unique


def _parse_strategies(raw: Any, origin: str, check_registry: bool) -> list[dict]:
    if raw is None:
        raise GridError(
            f"{origin}: field 'strategies' is required (e.g. [random, entropy, dropquery])."
        )
    items = _as_list(raw, "strategies", origin)
    out, labels = [], {}
    for i, item in enumerate(items):
        where = f"strategies[{i}]"
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and "name" in item and not set(item) - {"name", "params"}:
            name, params = item["name"], item.get("params") or {}
            if not isinstance(params, dict):
                raise GridError(f"{origin}: field '{where}.params' must be a dict; got {params!r}.")
        else:
            raise GridError(
                f"{origin}: field {where!r} must be a strategy name or "
                f"{{name: ..., params: {{...}}}}; got {item!r}."
            )
        _check_str(name, f"{where}.name", origin)
        if check_registry:
            if name not in _strategies.available():
                raise GridError(
                    f"{origin}: field {where!r}: unknown strategy {name!r}; available: "
                    f"{', '.join(_strategies.available())} (or list a module registering it "
                    "under 'imports')."
                )
            try:
                # grid files are text: `cluster: "no"` is read as False, "nope" is an error
                params = _strategies.check_params(name, params, from_text=True)
            except AlkitError as exc:
                raise GridError(f"{origin}: field '{where}.params': {exc}") from exc
        label = _method_label(name, params)
        if label in labels:
            continue  # the same configuration listed twice
        labels[label] = i
        out.append({"name": name, "params": dict(params), "method": label})
    return out


def _method_label(name: str, params: dict) -> str:
    from .results import method_label

    return method_label(name, params)


def _full_probe(probe: dict, origin: str) -> dict:
    from .probe import ProbeConfig

    try:
        cfg = ProbeConfig.from_dict(probe)
    except AlkitError as exc:
        raise GridError(f"{origin}: field 'probe': {exc}") from exc
    except TypeError as exc:
        raise GridError(f"{origin}: field 'probe': {exc}") from exc
    return {
        k: getattr(cfg, k)
        for k in (
            "dropout",
            "lr",
            "weight_decay",
            "batch_size",
            "max_epochs",
            "patience",
            "min_delta",
            "bn_eps",
            "bn_momentum",
        )
    }


# ---------------------------------------------------------------------------------------- cells
@dataclass
class Cell:
    """One AL run of a grid (a :func:`alkit.run_al` call) and its result file's identity.

    ``initial_pool``, ``budget`` and ``initial_budget`` are resolved (paper default pool, C)
    once the embeddings' metadata is known; ``embedding_checksum`` too. Before that
    (``expand_grid(..., resolve=False)``) they may be ``None``.

    Attributes
    ----------
    embedding : str
        The name given to :func:`alkit.load_embeddings` (``"<dataset>__<backbone>"``, built-in or path).
    dataset, backbone : str
        The setting, as written to the results table.
    strategy, params, method : str, dict, str
        Registered strategy, its parameters (defaults filled in) and the readable label.
    initial_pool, pool_requested : str
        The initial pool that runs, and what the grid asked for (``"default"`` or a name).
    seed, iterations, budget, initial_budget : int
    propagation : dict or None
        Label-propagation settings (``{}`` = defaults), ``None`` = off.
    probe : dict
        Every probe setting (defaults filled in).
    device : str
        Not part of the hash.
    imports : tuple of str
        Modules imported before the run (custom strategies).
    embedding_checksum : str or None
        sha256 of the embedding arrays.
    """

    embedding: str
    dataset: str | None
    backbone: str | None
    strategy: str
    params: dict
    method: str
    initial_pool: str | None
    pool_requested: str
    seed: int
    propagation: dict | None
    iterations: int
    budget: int | None
    initial_budget: int | None
    probe: dict
    device: str = "auto"
    imports: tuple = ()
    embedding_checksum: str | None = None
    n_classes: int | None = field(default=None, repr=False)

    def config(self) -> dict:
        """What the result hash covers: run key, every parameter, the embedding checksum."""
        return {
            "dataset": self.dataset,
            "backbone": self.backbone,
            "method": self.method,
            "initial_pool": self.initial_pool,
            "propagate": self.propagation is not None,
            "budget": self.budget,
            "seed": self.seed,
            "strategy": self.strategy,
            "params": self.params,
            "propagation": self.propagation,
            "iterations": self.iterations,
            "initial_budget": self.initial_budget,
            "probe": self.probe,
            "embedding_checksum": self.embedding_checksum,
        }

    @property
    def hash(self) -> str:
        """Hex hash of :meth:`config` (20 characters): the result file is ``<hash>.parquet``."""
        return stable_hash(self.config(), length=20)

    def describe(self) -> str:
        prop = " +propagation" if self.propagation is not None else ""
        return (
            f"{self.dataset} / {self.backbone} / {self.method} / init={self.initial_pool or self.pool_requested}"
            f"{prop} / seed={self.seed}"
        )

    def run_kwargs(self) -> dict:
        """Keyword arguments of :func:`alkit.run_al` (without the embeddings)."""
        return dict(
            strategy=self.strategy,
            initial_pool=None if self.pool_requested == "default" else self.initial_pool,
            budget=self.budget,
            initial_budget=self.initial_budget,
            iterations=self.iterations,
            seed=self.seed,
            probe=self.probe,
            propagation=self.propagation,
            device=self.device,
            **self.params,
        )


def _cell_values(cell: Cell) -> dict[str, list]:
    """The values of a cell that ``exclude`` rules match, per key of :data:`EXCLUDE_KEYS`."""
    return {
        "dataset": [cell.dataset],
        "backbone": [cell.backbone],
        "strategy": [cell.strategy],
        "method": [cell.method],
        "initial_pool": [cell.initial_pool, cell.pool_requested],
        "seed": [cell.seed],
        "propagate": [cell.propagation is not None],
    }


def _matches(rule: dict, cell: Cell) -> bool:
    values = _cell_values(cell)
    return all(any(v in values[k] for v in allowed) for k, allowed in rule.items())


def expand_grid(
    spec: str | os.PathLike | Mapping, resolve: bool = True, check_registry: bool = True
) -> list[Cell]:
    """Expand a grid into its cells (after validation and ``exclude`` rules), duplicates merged.

    Parameters
    ----------
    spec : dict, path or str
        See :func:`load_grid`.
    resolve : bool
        Read every setting's embedding metadata (not the arrays, except for the built-in sets):
        fills ``dataset``/``backbone`` of ``datasets`` entries, the embedding checksum, and
        resolves ``budget``/``initial_budget`` (``None`` = C) and the default initial pool.
        ``False`` needs no embeddings on disk (used to count cells).
    check_registry : bool
        See :func:`load_grid`.

    Returns
    -------
    list of Cell
        Grouped by setting, so a worker reuses the embeddings it has loaded.

    Raises
    ------
    GridError
        For a malformed grid.
    MissingResourceError
        With ``resolve=True``, listing every setting whose embeddings are not cached and the
        ``alkit embed`` commands that create them.
    """
    return _expand(load_grid(spec, check_registry=check_registry), resolve)


def _expand(grid: dict, resolve: bool) -> list[Cell]:
    """:func:`expand_grid` on a grid already normalised by :func:`load_grid`."""
    infos: dict[str, dict | None] = {}
    if resolve:
        missing = []
        for s in grid["settings"]:
            info = _embedding_info(s["embedding"])
            if info is None:
                missing.append(s)
            infos[s["embedding"]] = info
        if missing:
            cmds = "\n".join(
                f"  alkit embed --dataset {s['dataset']} --backbone {s['backbone']}"
                if s["dataset"]
                else f"  {s['embedding']} (not a built-in set, a cached key or a file)"
                for s in missing
            )
            raise MissingResourceError(
                f"Grid {grid['name']!r} needs {len(missing)} embedding set(s) that are not in the cache "
                f"({_embeddings_dir()}):\n{cmds}\nCreate them, or point ALKIT_HOME at the cache that holds them."
            )
    cells: dict[str, Cell] = {}
    candidates: list[Cell] = []  # every cell before the exclude rules, to check their values
    for s in grid["settings"]:
        info = infos.get(s["embedding"])
        dataset = s["dataset"] or (info or {}).get("dataset") or s["embedding"]
        backbone = s["backbone"] or (info or {}).get("backbone")
        n_classes = (info or {}).get("n_classes")
        for strat, pool, prop, iters, budget, ibudget, seed in itertools.product(
            grid["strategies"],
            grid["initial_pools"],
            grid["propagation"],
            grid["iterations"],
            grid["budget"],
            grid["initial_budget"],
            grid["seeds"],
        ):
            name = strat["name"]
            if pool == "default":
                resolved_pool = (
                    _strategies.default_initial_pool(name)
                    if name in _strategies.available()
                    else None
                )
            else:
                resolved_pool = pool
            cell = Cell(
                embedding=s["embedding"],
                dataset=dataset,
                backbone=backbone,
                strategy=name,
                params=strat["params"],
                method=strat["method"],
                initial_pool=resolved_pool,
                pool_requested=pool,
                seed=seed,
                propagation=prop,
                iterations=iters,
                budget=budget if budget is not None or n_classes is None else n_classes,
                initial_budget=ibudget if ibudget is not None or n_classes is None else n_classes,
                probe=grid["probe"],
                device=grid["device"],
                imports=tuple(grid["imports"]),
                embedding_checksum=(info or {}).get("checksum"),
                n_classes=n_classes,
            )
            candidates.append(cell)
            if any(_matches(rule, cell) for rule in grid["exclude"]):
                continue
            # "default" and the explicit pool it resolves to are the same run
            cells.setdefault(
                cell.hash if resolved_pool is not None else f"{cell.hash}:{pool}", cell
            )
    if resolve:
        # the datasets and backbones of `datasets:` entries are known only now
        where = f"grid {grid['name']!r}"
        axes = {k: {v for c in candidates for v in _cell_values(c)[k]} for k in EXCLUDE_KEYS}
        _check_exclude(
            grid["exclude"], {k: v if None not in v else None for k, v in axes.items()}, where
        )
        _check_pool_sizes(list(cells.values()), infos, where)
    return list(cells.values())


def _check_pool_sizes(cells: list[Cell], infos: dict, where: str, limit: int = 5) -> None:
    """Every cell's labels must fit its pool (``initial_budget + (iterations − 1) · budget ≤
    n_train``), checked before any cell starts rather than failing cell by cell."""
    too_big: dict[tuple, str] = {}
    for c in cells:
        n_train = (infos.get(c.embedding) or {}).get("n_train")
        if n_train is None or c.budget is None or c.initial_budget is None:
            continue
        need = c.initial_budget + (c.iterations - 1) * c.budget
        if need > n_train:
            key = (c.dataset, c.backbone, c.iterations, c.budget, c.initial_budget)
            too_big.setdefault(
                key,
                f"  {c.dataset} / {c.backbone}: iterations {c.iterations}, budget {c.budget}, "
                f"initial_budget {c.initial_budget} need {need} labels > {n_train} pool points",
            )
    if too_big:
        lines = list(too_big.values())
        more = f"\n  … and {len(lines) - limit} more" if len(lines) > limit else ""
        raise GridError(
            f"{where}: fields 'iterations', 'budget', 'initial_budget' ask for more labels than "
            "the pool holds (initial_budget + (iterations − 1) × budget > pool size):\n"
            + "\n".join(lines[:limit])
            + more
            + "\nLower them, or exclude those settings."
        )


def plan(spec: str | os.PathLike | Mapping, out_dir: str | os.PathLike) -> dict[str, list[Cell]]:
    """Sort a grid's cells by the state of their result in ``out_dir``.

    Returns
    -------
    dict
        ``{"done": [...], "failed": [...], "corrupt": [...], "missing": [...]}``: ``done`` has a
        valid result file, ``corrupt`` one that fails :func:`alkit.results.read_results`' checks
        or belongs to another cell, ``failed`` no result but a
        ``failures/<hash>.json`` record, ``missing`` neither.
    """
    out = Path(out_dir)
    cells = expand_grid(spec)
    state: dict[str, list[Cell]] = {"done": [], "failed": [], "corrupt": [], "missing": []}
    for cell in cells:
        path = out / f"{cell.hash}.parquet"
        if path.exists():
            if _read_result(path, cell) is not None:
                state["done"].append(cell)
                continue
            state["corrupt"].append(cell)
        elif (out / FAILURES_DIR / f"{cell.hash}.json").exists():
            state["failed"].append(cell)
        else:
            state["missing"].append(cell)
    return state


# ---------------------------------------------------------------------------------- embeddings
def _embeddings_dir() -> Path:
    from .sources import embeddings_dir

    return embeddings_dir()


def _is_builtin(name: str) -> bool:
    from . import sources

    return name in sources.BUILTINS or name == "synthetic" or name.startswith("synthetic:")


def _locate(name: str) -> Path | None:
    from .sources import locate

    path = Path(name).expanduser()
    if path.exists():
        return path
    return locate(name)


_EMB_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_EMB_CACHE_SIZE = 2
_EMB_LOADS = 0  # embeddings loaded by this process (a worker loads each setting once)


def _cache_token(name: str) -> tuple:
    if _is_builtin(name):
        return (name,)
    path = _locate(name)
    if path is None:
        return (name, None)
    return (name, str(path.resolve()), path.stat().st_mtime_ns)


def _cached_embeddings(name: str):
    """Load ``name`` once per process (LRU of the last two sets: cells come grouped by setting)."""
    global _EMB_LOADS
    from .sources import load_embeddings

    token = _cache_token(name)
    if token in _EMB_CACHE:
        _EMB_CACHE.move_to_end(token)
        return _EMB_CACHE[token]
    while (
        len(_EMB_CACHE) >= _EMB_CACHE_SIZE
    ):  # evict first: at most two sets in memory, never three
        _EMB_CACHE.popitem(last=False)
    emb = load_embeddings(name)
    _EMB_LOADS += 1
    _EMB_CACHE[token] = emb
    return emb


def _embedding_info(name: str) -> dict | None:
    """dataset, backbone, checksum, n_classes and n_train (pool size) of an embedding set,
    reading only its metadata when it is a file (built-in sets are generated). ``None`` when it
    does not exist."""
    if _is_builtin(name):
        return _info_of(_cached_embeddings(name))
    path = _locate(name)
    if path is None:
        return None
    meta = None
    try:
        if path.is_dir():
            meta = json.loads((path / "meta.json").read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["__meta__"]).decode())
    except Exception:
        meta = None  # unreadable metadata: load it fully below, which names the problem
    if (
        not meta
        or not meta.get("checksum")
        or not (meta.get("n_classes") or meta.get("classes"))
        or not isinstance(meta.get("n_train"), int)
    ):
        return _info_of(_cached_embeddings(name))
    return {
        "dataset": meta.get("dataset"),
        "backbone": meta.get("backbone"),
        "checksum": meta["checksum"],
        "n_classes": int(meta.get("n_classes") or len(meta["classes"])),
        "n_train": int(meta["n_train"]),
    }


def _info_of(emb) -> dict:
    return {
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "checksum": emb.checksum,
        "n_classes": emb.n_classes,
        "n_train": len(emb.x_train),
    }


# ----------------------------------------------------------------------------------- execution
@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Pin torch, faiss (OpenMP) and BLAS to one thread, restoring the previous counts after.

    Results then do not depend on how many cores a worker has (float reductions are split
    by thread), so the serial path and every worker give identical tables."""
    import torch
    from threadpoolctl import threadpool_limits

    old_torch = torch.get_num_threads()
    try:
        import faiss

        old_faiss = faiss.omp_get_max_threads()
    except ImportError:  # pragma: no cover - faiss is a dependency
        faiss, old_faiss = None, None
    torch.set_num_threads(1)
    if faiss is not None:
        faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(old_torch)
        if faiss is not None:
            faiss.omp_set_num_threads(old_faiss)


def _execute(cell: Cell) -> tuple[str, Any, dict]:
    """Run one cell (in this process or on a Dask worker).

    Returns ``("ok", DataFrame, diag)`` or ``("failed", failure record, diag)``; never raises
    for an error of the cell itself."""
    for key, val in _THREAD_ENV.items():
        os.environ.setdefault(key, val)
    diag = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        for mod in cell.imports:
            importlib.import_module(mod)
        with _single_thread():
            emb = _cached_embeddings(cell.embedding)
            if cell.embedding_checksum is not None and emb.checksum != cell.embedding_checksum:
                raise CorruptCacheError(
                    f"The embeddings {cell.embedding!r} seen by this worker have checksum {emb.checksum[:12]}…, "
                    f"not the planned {cell.embedding_checksum[:12]}…: they changed during the sweep or the "
                    "worker reads another cache (set ALKIT_HOME on the workers); rerun the sweep."
                )
            from .loop import run_al

            run = run_al(emb, **cell.run_kwargs())
            df = run.to_frame()
        diag["loads"] = _EMB_LOADS
        return "ok", df, diag
    except Exception as exc:
        diag["loads"] = _EMB_LOADS
        return "failed", _failure_record(cell, exc, traceback.format_exc(), diag), diag


def _failure_record(cell: Cell, exc: BaseException, tb: str, diag: dict | None = None) -> dict:
    return {
        "hash": cell.hash,
        "cell": cell.describe(),
        "config": cell.config(),
        "error_type": type(exc).__name__,
        "message": str(exc),
        "traceback": tb,
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        **(diag or {}),
    }


def _read_result(path: Path, cell: Cell) -> pd.DataFrame | None:
    """The cell's result table, or ``None`` when the file is not a valid result of this cell:
    unreadable or truncated, not an alkit results file, altered after it was written (checksum),
    another cell's, or with another number of rows."""
    from .results import read_metadata, read_results

    try:
        config = read_metadata(path).get("config") or {}
        if not isinstance(config, dict) or config.get("hash") != cell.hash:
            return None
        df = read_results(path)
    except AlkitError:
        return None
    return df if len(df) == cell.iterations else None


def _write_result(out: Path, cell: Cell, df: pd.DataFrame) -> None:
    from .results import write_results

    config = {"hash": cell.hash, "cell": cell.config(), "embedding": cell.embedding}
    write_results(df, out / f"{cell.hash}.parquet", config=config)
    stale = out / FAILURES_DIR / f"{cell.hash}.json"
    if stale.exists():
        stale.unlink()


def _write_failure(out: Path, record: dict) -> None:
    write_json_atomic(out / FAILURES_DIR / f"{record['hash']}.json", record)


def _n_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


def _dask_available() -> bool:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _open_client(scheduler: Any, n_workers: int | None):
    """(client, cluster_or_None, owned): a LocalCluster, an address, or a given Client."""
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, None, False
    if scheduler in (None, "local"):
        # dashboard_address=None only leaves the bokeh dashboard out: the scheduler still serves
        # HTTP on port 8787 (dask/distributed#7207). So bind it to a free local port, with no
        # routes, and stop it once the cluster is up.
        with dask.config.set({"distributed.scheduler.http.routes": []}):
            cluster = LocalCluster(
                n_workers=n_workers or _n_cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
                env=dict(_THREAD_ENV),
            )
        try:
            cluster.sync(_stop_http_server, cluster.scheduler)
        except BaseException:
            cluster.close()
            raise
        cluster.scheduler_info.get("services", {}).pop("dashboard", None)
        return Client(cluster), cluster, True
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise MissingResourceError(
            f"Cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`, or use "
            "--scheduler local."
        ) from exc
    return client, None, True


async def _stop_http_server(scheduler) -> None:
    """Stop the scheduler's HTTP server (on its event loop, as tornado requires)."""
    server = scheduler.services.pop("dashboard", None)
    if server is not None:
        server.stop()


def _n_live_workers(client) -> int:
    """Workers the scheduler counts as running (``ncores_running``: closing ones excluded)."""
    return len(client.nthreads())


def sweep(
    spec: str | os.PathLike | Mapping,
    out_dir: str | os.PathLike,
    scheduler: Any = None,
    force: bool = False,
    progress: bool = True,
    n_workers: int | None = None,
    device: str | None = None,
    raise_on_failure: bool = False,
    worker_timeout: float | None = DEFAULT_WORKER_TIMEOUT,
) -> pd.DataFrame:
    """Run every cell of a grid that has no valid result in ``out_dir`` yet.

    Parameters
    ----------
    spec : dict, path or str
        A grid (see :func:`load_grid`); validated, and its embeddings located, before anything runs.
    out_dir : path
        One ``<hash>.parquet`` per cell; failures in ``out_dir/failures/<hash>.json``.
    scheduler : None, "serial", "local", address or ``dask.distributed.Client``
        ``None``: a Dask ``LocalCluster`` (processes, one thread each, ``n_workers`` = cores)
        when dask is installed, else serial. ``"serial"``: this process. ``"local"``: a
        LocalCluster. ``"tcp://host:8786"``: an existing scheduler (its workers must import
        alkit and see the embeddings cache; results come back to this process, which writes them).
    force : bool
        Rerun cells that already have a result.
    progress : bool
        Show a progress bar over cells (with ETA).
    n_workers : int, optional
        LocalCluster size (default: the cores available).
    device : str, optional
        Overrides the grid's ``device`` (not part of the cell hash).
    raise_on_failure : bool
        Raise :class:`SweepFailedError` after the sweep when cells failed.
    worker_timeout : float or None
        Dask only: seconds the cluster may have no live worker while cells remain before the
        sweep stops with :class:`~alkit.errors.NoWorkersError` (finished cells stay on disk; a
        rerun goes on from them). Dask itself would wait forever, e.g. after the only worker
        died. ``None`` waits forever.

    Returns
    -------
    DataFrame
        The tidy table (``alkit.results.RESULT_COLUMNS``) of every finished cell of this grid.
        ``attrs["failures"]`` lists the failed cells (hash, cell, error_type, message, path),
        ``attrs["sweep"]`` the counts (cells, done, ran, skipped, failed) and ``workers``
        (``"host:pid"`` → embedding sets that process loaded: one per setting it served).

    Raises
    ------
    GridError, MissingResourceError
        Before anything runs: a malformed grid (names, parameters, ``exclude`` rules that match
        nothing, more labels than a pool holds, …) or embeddings that are not cached.
    NoWorkersError
        No Dask worker for ``worker_timeout`` seconds.
    """
    if worker_timeout is not None:
        worker_timeout = check_float(
            worker_timeout,
            "worker_timeout",
            min=0,
            min_open=True,
            hint="Pass seconds, or None to wait for workers forever.",
        )
    grid = load_grid(spec)
    cells = _expand(grid, resolve=True)
    if device is not None:
        for c in cells:
            c.device = device
    out = Path(out_dir)
    todo, results = [], {}
    for cell in cells:
        path = out / f"{cell.hash}.parquet"
        df = None if force or not path.exists() else _read_result(path, cell)
        if df is None:
            todo.append(cell)
        else:
            results[cell.hash] = df
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        out / f".grid-{grid['name']}.json",
        {
            "grid": grid,
            "n_cells": len(cells),
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        },
    )

    failures: list[dict] = []
    workers: dict[str, int] = {}  # "host:pid" -> embedding sets that process has loaded
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(cells),
            initial=len(cells) - len(todo),
            unit="cell",
            desc=f"sweep {grid['name']}",
            dynamic_ncols=True,
        )

    def record(cell: Cell, status: str, payload: Any, diag: dict | None) -> None:
        if diag:
            workers[f"{diag['host']}:{diag['pid']}"] = int(diag.get("loads", 0))
        if status == "ok":
            _write_result(out, cell, payload)
            results[cell.hash] = payload
        else:
            payload["path"] = str(out / FAILURES_DIR / f"{cell.hash}.json")
            _write_failure(out, payload)
            failures.append(payload)
        if bar is not None:
            bar.update(1)
            if failures:
                bar.set_postfix(failed=len(failures))

    try:
        if todo:
            if scheduler == "serial" or (scheduler is None and not _dask_available()):
                for cell in todo:
                    record(cell, *_execute(cell))
            else:
                _run_dask(todo, scheduler, n_workers, record, worker_timeout, out)
    finally:
        if bar is not None:
            bar.close()

    frames = [results[c.hash] for c in cells if c.hash in results]
    from .results import RESULT_COLUMNS

    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    table.attrs = {
        "failures": [
            {k: f[k] for k in ("hash", "cell", "error_type", "message", "path")} for f in failures
        ],
        "sweep": {
            "cells": len(cells),
            "done": len(results),
            "ran": len(todo) - len(failures),
            "skipped": len(cells) - len(todo),
            "failed": len(failures),
            "out_dir": str(out),
            "workers": workers,
        },
    }
    if failures and raise_on_failure:
        raise SweepFailedError(_failure_summary(failures, out), failures)
    return table


def _run_dask(
    todo: list[Cell],
    scheduler: Any,
    n_workers: int | None,
    record,
    worker_timeout: float | None,
    out: Path,
) -> None:
    from dask.distributed import as_completed

    client, cluster, owned = _open_client(scheduler, n_workers)
    futures = {}
    try:
        for cell in todo:
            fut = client.submit(
                _execute, cell, key=f"alkit-cell-{cell.hash}", pure=False, retries=0
            )
            futures[fut.key] = (fut, cell)
        pending = as_completed([f for f, _ in futures.values()])
        watch = _WorkerWatch(client, worker_timeout)
        n_done = 0

        def check_workers() -> None:
            # Dask waits for workers forever: a cluster whose workers all died would hang the
            # sweep without a word
            if watch.expired():
                raise NoWorkersError(
                    f"The Dask cluster ({_describe_scheduler(scheduler, client)}) has had no "
                    f"worker for {worker_timeout:g} s while {len(todo) - n_done} cell(s) were "
                    f"left; {n_done} cell(s) finished in this run are saved in {out}. Start "
                    "workers (`dask worker ADDRESS --nthreads 1`) or find what stopped them "
                    "(memory? a crash in a cell?), then rerun the same command: finished cells "
                    "are kept. Wait longer with --worker-timeout."
                )

        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            if not batch:
                check_workers()
                time.sleep(0.05)
                continue
            for fut in batch:
                cell = futures[fut.key][1]
                try:
                    status, payload, diag = _fetch(fut, check_workers)
                except NoWorkersError:
                    raise
                except Exception as exc:  # the worker died (KilledWorker), or the cell was not sent
                    status, payload, diag = (
                        "failed",
                        _failure_record(cell, exc, traceback.format_exc()),
                        None,
                    )
                record(cell, status, payload, diag)
                n_done += 1
                fut.release()
    finally:
        for fut, _ in futures.values():
            if not fut.done():
                fut.cancel()
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()


def _fetch(fut, check_workers, poll: float = 1.0):
    """``fut.result()``, checking for workers meanwhile: a finished cell whose worker died
    before its result was fetched is recomputed, which needs a worker."""
    while True:
        try:
            return fut.result(timeout=poll)
        except TimeoutError:
            check_workers()


class _WorkerWatch:
    """How long the scheduler has had no live worker; asks it at most once a second."""

    def __init__(self, client, timeout: float | None, interval: float = 1.0) -> None:
        self.client = client
        self.timeout = timeout
        self.interval = min(interval, timeout / 4) if timeout else interval
        self.last_check = -float("inf")
        self.alone_since: float | None = None

    def expired(self) -> bool:
        if self.timeout is None:
            return False
        now = time.monotonic()
        if now - self.last_check >= self.interval:
            self.last_check = now
            if _n_live_workers(self.client) > 0:
                self.alone_since = None
            elif self.alone_since is None:
                self.alone_since = now
        return self.alone_since is not None and now - self.alone_since > self.timeout


def _describe_scheduler(scheduler: Any, client) -> str:
    if scheduler in (None, "local"):
        return "LocalCluster"
    return str(getattr(client, "scheduler", None) and client.scheduler.address or scheduler)


def _failure_summary(failures: list[dict], out: Path, limit: int = 10) -> str:
    lines = [f"{len(failures)} cell(s) failed; tracebacks in {out / FAILURES_DIR}/:"]
    for f in failures[:limit]:
        msg = f["message"].splitlines()[0] if f["message"] else ""
        lines.append(f"  {f['hash']}  {f['cell']}: {f['error_type']}: {msg}")
    if len(failures) > limit:
        lines.append(f"  … and {len(failures) - limit} more")
    lines.append(
        "Fix the cause and rerun the same command: finished cells are kept, failed ones rerun."
    )
    return "\n".join(lines)


def sweep_status(spec: str | os.PathLike | Mapping, out_dir: str | os.PathLike) -> dict:
    """Counts of done / failed / missing cells of a grid in ``out_dir`` (nothing runs).

    Returns
    -------
    dict
        ``cells``, ``done``, ``failed``, ``missing`` (including ``corrupt``: result files that
        are unreadable, truncated, altered after writing (checksum), not alkit results or not
        this cell's, redone by the next sweep), ``corrupt``, and ``failures`` (the records of
        ``failures/<hash>.json``: hash, cell, error_type, message).
    """
    state = plan(spec, out_dir)
    failures = []
    for cell in state["failed"]:
        path = Path(out_dir) / FAILURES_DIR / f"{cell.hash}.json"
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            rec = {"error_type": "?", "message": "unreadable failure record"}
        failures.append(
            {
                "hash": cell.hash,
                "cell": cell.describe(),
                "error_type": rec.get("error_type"),
                "message": rec.get("message"),
                "path": str(path),
            }
        )
    n = sum(len(v) for v in state.values())
    return {
        "cells": n,
        "done": len(state["done"]),
        "failed": len(state["failed"]),
        "missing": len(state["missing"]) + len(state["corrupt"]),
        "corrupt": len(state["corrupt"]),
        "failures": failures,
    }


# ----------------------------------------------------------------------------------------- CLI
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
