"""The grid spec: its keys, the shipped grids, reading and validating a grid, ``exclude`` rules.

A grid (YAML file, shipped grid name or dict) is checked field by field before anything runs;
every error names the field at fault (``docs/sweeps.md`` lists the keys).
"""

from __future__ import annotations

import copy
import importlib
import itertools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import initial_pools as _initial_pools
from .. import strategies as _strategies
from .._random import PAPER_SEEDS
from ..errors import AlkitError, GridError
from ..probe import ProbeConfig
from ..results import method_label
from ..sources import cache_key
from ..validation import suggest
from ..validation._show import _is_integer

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
#: The keys an ``exclude`` rule may match on.
EXCLUDE_KEYS = ("dataset", "backbone", "strategy", "method", "initial_pool", "seed", "propagate")


def shipped_grids() -> dict[str, Path]:
    """The grids shipped in ``alkit/grids/``: ``{name: path}``."""
    root = Path(__file__).parent.parent / "grids"
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
    return _is_integer(v)


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
            from ..propagation import check_propagation_settings

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
        label = method_label(name, params)
        if label in labels:
            continue  # the same configuration listed twice
        labels[label] = i
        out.append({"name": name, "params": dict(params), "method": label})
    return out


def _full_probe(probe: dict, origin: str) -> dict:
    """Every probe setting (:data:`alkit.probe.PROBE_FIELDS`), the grid's or the default."""
    try:
        cfg = ProbeConfig.from_dict(probe)
    except AlkitError as exc:
        raise GridError(f"{origin}: field 'probe': {exc}") from exc
    except TypeError as exc:
        raise GridError(f"{origin}: field 'probe': {exc}") from exc
    return cfg.to_dict()
