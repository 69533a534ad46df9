"""Exceptions users catch.

Every error alkit raises for bad input is a :class:`ValueError` subclass, so
``except ValueError`` keeps working, and each message names the problem and
the fix.
"""

from __future__ import annotations

__all__ = [
    "AlkitError",
    "InvalidInputError",
    "BudgetError",
    "EmptyPoolError",
    "UnknownNameError",
    "CorruptCacheError",
    "MissingResourceError",
    "GridError",
    "NoWorkersError",
]


class AlkitError(ValueError):
    """Base class of every alkit input error."""


class InvalidInputError(AlkitError):
    """Features or labels are malformed (NaN/inf, wrong shape, labels out of range)."""


class BudgetError(AlkitError):
    """A budget is not a positive integer or exceeds the unlabeled pool."""


class EmptyPoolError(BudgetError):
    """Nothing is left to query: every point is labeled."""


class UnknownNameError(AlkitError, KeyError):
    """A strategy, initial pool, data set or backbone name is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CorruptCacheError(AlkitError):
    """A cached file is truncated, tampered with or unreadable."""


class MissingResourceError(AlkitError, FileNotFoundError):
    """Model weights, a data set or a results file are not on disk (and cannot be downloaded here)."""


class GridError(AlkitError):
    """A sweep grid is malformed."""


class NoWorkersError(AlkitError):
    """A sweep's Dask cluster has had no worker for longer than its ``worker_timeout``."""
