"""The strategy registry: entries, parameter checks and the validated call.

A strategy is a function ``fn(pool, probe, budget, rng, **params) -> Selection`` returning
exactly ``budget`` unique unlabeled indices. The built-in strategies are registered in one place,
:mod:`alkit.strategies`; :func:`register` adds yours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError, UnknownNameError
from ..pool import Pool, Selection, check_budget
from ..validation import (
    check_bool,
    check_device,
    check_float,
    check_int,
    check_rng,
    check_settings,
    check_str,
    parse_bool,
    suggest,
)

__all__ = [
    "StrategyInfo",
    "register",
    "unregister",
    "get",
    "info",
    "available",
    "select",
    "default_initial_pool",
    "table",
    "check_params",
    "run_checked",
]


@dataclass
class StrategyInfo:
    """Registry entry: the function, its parameter check and what the README table says."""

    name: str
    fn: Callable[..., Selection]
    family: str = "custom"
    params: dict[str, Any] = field(default_factory=dict)
    initial_pool: str = "random"
    needs_probe: bool = True
    paper: str = ""
    summary: str = ""
    check: Callable[[dict[str, Any]], Any] | None = None


_REGISTRY: dict[str, StrategyInfo] = {}


def register(
    name: str,
    fn: Callable[..., Selection],
    *,
    family: str = "custom",
    params: dict[str, Any] | None = None,
    initial_pool: str = "random",
    needs_probe: bool = True,
    paper: str = "",
    summary: str = "",
    overwrite: bool = False,
    check: Callable[[dict[str, Any]], Any] | None = None,
) -> StrategyInfo:
    """Register a strategy under ``name``.

    Parameters
    ----------
    fn : callable
        ``fn(pool, probe, budget, rng, **params) -> Selection``.
    params : dict
        Accepted keyword parameters and their defaults (others are rejected by :func:`select`).
    initial_pool : str
        The initial pool ``run_al(initial_pool=None)`` uses with this strategy.
    check : callable, optional
        ``check(params)`` raises :class:`~alkit.errors.InvalidInputError` for values of the
        right type but outside what the strategy accepts (``M=0``, ``delta_rule="Reference"``,
        ``typical`` with ``cluster``); :func:`check_params` calls it with every parameter
        filled in, so such values fail when the learner is built, not at the first query.
    """
    if not name or not isinstance(name, str):
        raise InvalidInputError("A strategy name must be a non-empty string.")
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Strategy {name!r} is already registered; pass overwrite=True to replace it."
        )
    entry = StrategyInfo(
        name,
        fn,
        family,
        dict(params or {}),
        initial_pool,
        needs_probe,
        paper,
        summary or (fn.__doc__ or "").strip().split("\n")[0],
        check,
    )
    _REGISTRY[name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove strategy ``name`` from the registry (a custom one, e.g. at the end of a test);
    removing a name that is not registered does nothing."""
    _REGISTRY.pop(name, None)


def available() -> list[str]:
    """Names of every registered strategy, sorted."""
    return sorted(_REGISTRY)


def info(name: str) -> StrategyInfo:
    """The registry entry of ``name`` (raises :class:`UnknownNameError` listing valid names)."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"Unknown strategy {name!r}; available: {', '.join(available())}."
            + (suggest(name, available()) if isinstance(name, str) else "")
        ) from None


def get(name: str) -> Callable[..., Selection]:
    """The selection function registered as ``name``."""
    return info(name).fn


def default_initial_pool(name: str) -> str:
    """The paper's initial pool for strategy ``name`` (docs/protocol.md)."""
    return info(name).initial_pool


def table():
    """Every registered strategy as a DataFrame: name, family, parameters (defaults), initial pool, paper."""
    import pandas as pd

    rows = [
        {
            "strategy": e.name,
            "family": e.family,
            "parameters": ", ".join(f"{k}={v!r}" for k, v in e.params.items()) or "—",
            "initial_pool": e.initial_pool,
            "paper": e.paper,
            "summary": e.summary,
        }
        for e in (_REGISTRY[n] for n in available())
    ]
    return pd.DataFrame(rows)


def check_params(name: str, params: dict[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """Validate strategy ``name``'s parameters; returns them with the registered defaults filled in.

    Unknown names are rejected (naming the valid ones). A parameter whose registered default is
    a boolean, an integer, a float or a string must be exactly that (``cluster="False"`` or
    ``M=2.5`` are errors, never coerced). With ``from_text=True`` (values read from a command
    line or a grid file) booleans may be spelt ``true/false/yes/no/on/off/1/0``.

    Parameters
    ----------
    name : str
        A registered strategy.
    params : dict
        The parameters given (``device`` is always accepted).
    from_text : bool
        Parse boolean spellings with :func:`alkit.validation.parse_bool` first.
    """
    entry = info(name)
    params = check_settings(
        params, f"strategy {name!r}", {**entry.params, "device": "auto"}, what="parameter"
    )
    out = dict(params)
    for key, value in params.items():
        if key == "device":
            out[key] = check_device(value)
            continue
        default = entry.params[key]
        where = f"strategy {name!r} parameter {key}"
        if isinstance(default, bool):
            out[key] = parse_bool(value, where) if from_text else check_bool(value, where)
        elif isinstance(default, int):
            out[key] = check_int(value, where)
        elif isinstance(default, float):
            out[key] = check_float(value, where)
        elif isinstance(default, str):
            out[key] = check_str(value, where)
    full = {**entry.params, **out}
    if entry.check is not None:
        entry.check(full)  # ranges and combinations (typed checks above only see types)
    return full


def select(
    name: str, pool: Pool, probe, budget: int, rng: np.random.Generator, **params
) -> Selection:
    """Run strategy ``name`` with validation of its inputs (name, parameters, budget, probe)
    and of its result."""
    entry = info(name)
    if not isinstance(pool, Pool):
        raise InvalidInputError(
            f"pool must be an alkit.Pool; got {type(pool).__name__}. Build one with "
            "Pool(x, n_classes, labeled, labels)."
        )
    rng = check_rng(rng)
    return run_checked(entry, pool, probe, budget, rng, check_params(name, params))


def run_checked(
    entry: StrategyInfo,
    pool: Pool,
    probe,
    budget: int,
    rng: np.random.Generator,
    params: dict[str, Any],
) -> Selection:
    """Run a registry entry whose parameters :func:`check_params` has already checked (an
    :class:`~alkit.ActiveLearner` checks them once, when it is built, not at every query).

    The budget and the probe are checked here, and the result: exactly ``budget`` unique,
    unlabeled indices (a strategy that breaks that is a bug, reported as ``AssertionError``).
    """
    name = entry.name
    budget = check_budget(budget, pool.n_unlabeled)
    if entry.needs_probe and (probe is None or not getattr(probe, "is_fitted", True)):
        raise InvalidInputError(
            f"Strategy {name!r} needs a fitted probe; fit it on the labeled points first."
        )
    sel = entry.fn(pool, probe, budget, rng, **params)
    idx = sel.indices
    if len(idx) != budget or len(np.unique(idx)) != budget or pool.labeled[idx].any():
        raise AssertionError(
            f"strategy {name!r} returned {len(idx)} indices ({len(np.unique(idx))} unique, "
            f"{int(pool.labeled[idx].sum())} labeled) for budget {budget}"
        )
    return sel
