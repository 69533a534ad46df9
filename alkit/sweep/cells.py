"""Cells: one :func:`alkit.run_al` call of a grid each, and the grid's expansion into them
(after its ``exclude`` rules, checking that every cell's labels fit its pool)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import strategies as _strategies
from .._files import stable_hash
from ..errors import GridError, MissingResourceError
from ..probe import probe_identity
from ..sources import embeddings_dir
from .embeddings import _embedding_info
from .grid import EXCLUDE_KEYS, _check_exclude, load_grid


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
            "probe": probe_identity(self.probe),
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
                f"({embeddings_dir()}):\n{cmds}\nCreate them, or point ALKIT_HOME at the cache that holds them."
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
