"""How a message shows a value, and the small predicates every check shares."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def _show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` shortened for a message."""
    text = repr(value)
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape} and dtype {value.dtype}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    return type(value).__name__


def _is_integer(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _range_text(low: Any, high: Any, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '≥'} {low}"
    if high is not None:
        return f"{'<' if high_open else '≤'} {high}"
    return ""


# ------------------------------------------------------------------------------------ scalars
def suggest(value: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'X'?`` for the closest of ``choices`` (case-insensitive first), or ``""``."""
    import difflib

    choices = [str(c) for c in choices]
    low = {c.lower(): c for c in choices}
    if isinstance(value, str) and value.lower() in low:
        return f" Did you mean {low[value.lower()]!r}?"
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
