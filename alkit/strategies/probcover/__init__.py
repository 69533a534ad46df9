"""ProbCover (Yehuda et al., NeurIPS 2022), a small package.

- :mod:`.strategy`: the strategy and its initial pool (and the plain reference version);
- :mod:`.graph`: the δ-ball graph, the purity search for δ and the greedy cover;
- :mod:`.ivf`, :mod:`.knn`: approximate graphs for large pools (``index="ivf"`` / ``"hnsw"``),
  which import the graph one way.
"""

from .graph import BallGraph, covered_by, greedy_cover, search_delta
from .strategy import (
    PROBCOVER_PAPER,
    PROBCOVER_PARAMS,
    check_probcover,
    probcover,
    probcover_initial_pool,
    probcover_reference,
)

__all__ = [
    "probcover",
    "probcover_initial_pool",
    "probcover_reference",
    "check_probcover",
    "PROBCOVER_PARAMS",
    "PROBCOVER_PAPER",
    "BallGraph",
    "greedy_cover",
    "covered_by",
    "search_delta",
]
