"""Checks of single values: integers, floats, booleans, text, choices, seeds, devices, budgets,
paths and named settings (and the strict parsers for command-line and grid text)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AlkitError, BudgetError, EmptyPoolError, InvalidInputError, UnknownNameError
from ._show import _FALSE, _TRUE, _is_integer, _is_real, _range_text, _show, _type_name, suggest


def check_int(
    value: Any,
    name: str,
    *,
    min: int | None = None,
    max: int | None = None,
    error: type[AlkitError] = InvalidInputError,
    hint: str = "",
) -> int:
    """``value`` as a Python int, if it is an integer (not a bool) within ``[min, max]``.

    Floats are rejected even when integral-valued (``3.0``): pass ``int(v)`` yourself when
    that is what you mean. Text is rejected: use :func:`parse_int` for command-line text.

    Raises
    ------
    InvalidInputError (or ``error``)
        Naming ``name``, the value and the accepted range.
    """
    bounds = _range_text(min, max, False, False)
    want = "an integer" + (f" {bounds}" if bounds else "")
    if not _is_integer(value):
        extra = ""
        if isinstance(value, (float, np.floating)) and math.isfinite(value):
            extra = " (a float is not truncated: pass an integer)"
        elif isinstance(value, str):
            extra = " (a string is not parsed here: pass a number)"
        raise error(
            f"{name} must be {want}; got {_show(value)} of type {_type_name(value)}{extra}. {hint}".rstrip()
        )
    v = int(value)
    if (min is not None and v < min) or (max is not None and v > max):
        raise error(f"{name} must be {want}; got {v}. {hint}".rstrip())
    return v


def check_float(
    value: Any,
    name: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    error: type[AlkitError] = InvalidInputError,
    hint: str = "",
) -> float:
    """``value`` as a finite Python float within the given bounds (ints are accepted).

    Parameters
    ----------
    min_open, max_open : bool
        Exclude the bound itself (``(0, 1)`` rather than ``[0, 1]``).
    """
    bounds = _range_text(min, max, min_open, max_open)
    want = "a finite number" + (f" {bounds}" if bounds else "")
    if not _is_real(value):
        extra = " (a string is not parsed here: pass a number)" if isinstance(value, str) else ""
        raise error(
            f"{name} must be {want}; got {_show(value)} of type {_type_name(value)}{extra}. {hint}".rstrip()
        )
    v = float(value)
    bad = not math.isfinite(v)
    if min is not None:
        bad = bad or (v <= min if min_open else v < min)
    if max is not None:
        bad = bad or (v >= max if max_open else v > max)
    if bad:
        raise error(f"{name} must be {want}; got {v!r}. {hint}".rstrip())
    return v


def check_bool(value: Any, name: str, *, error: type[AlkitError] = InvalidInputError) -> bool:
    """``value`` if it is a real boolean (``True``/``False``, numpy's included).

    A string such as ``"False"`` is truthy in Python, so accepting it would turn an option *on*;
    it is an error here (text from a command line or grid goes through :func:`parse_bool`).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise error(
        f"{name} must be True or False; got {_show(value)} of type {_type_name(value)}. "
        + (
            f"Pass {parse_bool_or_none(value)} (a boolean, not a string)."
            if parse_bool_or_none(value) is not None
            else "Pass a boolean."
        )
    )


def parse_bool_or_none(value: Any) -> bool | None:
    """:func:`parse_bool`'s reading of ``value``, or ``None`` when it is not a boolean spelling."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_integer(value) and int(value) in (0, 1):
        return bool(int(value))
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return None


def parse_bool(value: Any, name: str, *, error: type[AlkitError] = InvalidInputError) -> bool:
    """A boolean from command-line or grid text: ``true/false/yes/no/on/off/1/0``
    (any case), real booleans and the integers 0 and 1. Anything else is an error."""
    got = parse_bool_or_none(value)
    if got is None:
        raise error(
            f"{name} must be a boolean (true/false, yes/no, on/off or 1/0); got {_show(value)}."
        )
    return got


def parse_int(
    value: Any, name: str, *, min: int | None = None, error: type[AlkitError] = InvalidInputError
) -> int:
    """An integer from text (``"12"``, ``" -3 "``) or an int; ``"1.5"``, ``"abc"`` and ``""`` are errors."""
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            what = "empty" if not text else f"{value!r}"
            raise error(f"{name} must be an integer; got {what}.")
        value = int(text)
    return check_int(value, name, min=min, error=error)


def parse_value(text: str) -> Any:
    """A ``KEY=VALUE`` value from the command line: JSON when it parses (``3``, ``0.5``,
    ``true``, ``null``, ``[1, 2]``), else the text itself. Booleans spelt ``False`` or ``yes``
    stay strings here and are read by the parameter's own check (:func:`parse_bool`)."""
    import json

    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text


def check_str(
    value: Any, name: str, *, allow_empty: bool = False, error: type[AlkitError] = InvalidInputError
) -> str:
    """``value`` if it is a string (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str):
        raise error(f"{name} must be a string; got {_show(value)} of type {_type_name(value)}.")
    if not allow_empty and not value.strip():
        raise error(f"{name} must be a non-empty string; got {value!r}.")
    return value


def check_choice(
    value: Any,
    name: str,
    choices: Sequence[Any],
    *,
    error: type[AlkitError] = InvalidInputError,
) -> Any:
    """``value`` if it is one of ``choices`` (exactly: case matters)."""
    try:
        ok = value in choices and not isinstance(value, (bool, np.bool_))
    except TypeError:  # unhashable / incomparable
        ok = False
    if not ok:
        shown = ", ".join(repr(c) for c in choices)
        raise error(
            f"{name} must be one of {shown}; got {_show(value)}."
            + (suggest(value, [str(c) for c in choices]) if isinstance(value, str) else "")
        )
    return value


def check_seed(seed: Any, name: str = "seed") -> int:
    """A run seed: a non-negative integer (``numpy.random.SeedSequence`` takes no negatives).

    A ``Generator`` is rejected: results record the seed, and a generator cannot be recorded.
    """
    if isinstance(seed, np.random.Generator):
        raise InvalidInputError(
            f"{name} must be a non-negative integer; got a numpy Generator. Results record the seed "
            "so a run can be repeated: pass the integer you seeded the generator with."
        )
    return check_int(seed, name, min=0, hint="Seeds are recorded in the results and must be exact.")


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator`` (what strategies and initial pools draw from).

    An integer seed is not turned into a generator here: the caller owns the random streams
    (``alkit._random.run_streams``), so a seed in this place is a mistake, not a shortcut.
    """
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(
            f"{name} must be a numpy Generator; got {_show(rng)} of type {_type_name(rng)}. "
            "Pass np.random.default_rng(seed)."
        )
    return rng


def check_path(path: Any, name: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path`, if it is a non-empty ``str`` or ``os.PathLike``."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise InvalidInputError(
            f"{name} must be a file path (a str or pathlib.Path); got {_show(path)} of type "
            f"{_type_name(path)}."
        )
    return Path(path)


_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def check_device(device: Any, name: str = "device") -> str:
    """``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (or a ``torch.device``) as a string.

    Only the spelling is checked here; whether the device exists is checked when it is used
    (:func:`alkit._devices.resolve_device`).
    """
    if device is None:
        return "auto"
    if type(device).__name__ == "device" and type(device).__module__.startswith("torch"):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE.match(device):
        fix = " (PyTorch calls the GPU 'cuda')" if str(device).lower() in ("gpu", "nvidia") else ""
        raise InvalidInputError(
            f"{name} must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {_show(device)}{fix}."
        )
    return device


def check_budget(budget: Any, n_unlabeled: int, name: str = "budget") -> int:
    """A query budget: a positive integer no larger than the ``n_unlabeled`` points left.

    Raises
    ------
    BudgetError
        Not a positive integer, or more than the unlabeled points.
    EmptyPoolError
        Nothing is left to query.
    """
    budget = check_int(budget, name, min=1, error=BudgetError)
    if n_unlabeled == 0:
        raise EmptyPoolError(
            f"The pool is exhausted: every point is labeled, nothing is left for {name}={budget}."
        )
    if budget > n_unlabeled:
        raise BudgetError(
            f"{name}={budget} exceeds the {n_unlabeled} unlabeled points left; "
            f"lower it to at most {n_unlabeled} or reduce the number of iterations."
        )
    return budget


def check_settings(
    settings: Any, name: str, valid: dict[str, Any], *, what: str = "setting"
) -> dict[str, Any]:
    """A dict of named settings whose keys are all in ``valid`` (``None`` = empty).

    Unknown keys are an error naming the valid ones and the closest match.
    """
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise InvalidInputError(f"{name} {what}s must be a dict; got {_show(settings)}.")
    for key in settings:
        if not isinstance(key, str):
            raise InvalidInputError(f"{name} {what} names must be strings; got {key!r}.")
    unknown = sorted(set(settings) - set(valid))
    if unknown:
        shown = ", ".join(f"{k}={v!r}" for k, v in valid.items()) or "none"
        raise InvalidInputError(
            f"{name} got unknown {what}(s) {unknown}; valid: {shown}.{suggest(unknown[0], valid)}"
        )
    return dict(settings)


# ------------------------------------------------------------------------------------- arrays
def check_known_name(value: Any, name: str, known: Iterable[str], what: str) -> str:
    """``value`` if it is one of the registered ``known`` names, else :class:`UnknownNameError`
    listing them (``what`` = "strategy", "initial pool", …)."""
    known = sorted(known)
    if not isinstance(value, str) or value not in known:
        raise UnknownNameError(
            f"Unknown {what} {_show(value)} for {name}; available: {', '.join(known)}."
            + (suggest(value, known) if isinstance(value, str) else "")
        )
    return value
