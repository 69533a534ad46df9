"""Imports the strategy modules that register themselves (and their initial pools) on import."""

from . import bayesian, diversity, dropquery, maxherding, representative, uherding  # noqa: F401
