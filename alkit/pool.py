"""The state a strategy sees: :class:`Pool`, and what it returns: :class:`Selection`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import check_features
from .errors import BudgetError, EmptyPoolError, InvalidInputError

#: Rows whose L2 norm is within this of 1 count as normalised (:attr:`Pool.x_l2` is then ``x``).
UNIT_NORM_TOL = 1e-6

__all__ = ["Pool", "Selection", "top_up", "check_budget"]


@dataclass
class Selection:
    """Indices chosen by a strategy or an initial pool.

    Attributes
    ----------
    indices : ndarray of shape (budget,), int64
        Unique, previously unlabeled pool indices, in pick order.
    info : dict
        Diagnostics (candidate counts, δ, edges, ``n_topped_up``…), recorded by the loop.
    """

    indices: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64).ravel()
        self.info.setdefault("n_topped_up", 0)

    def __len__(self) -> int:
        return len(self.indices)


class Pool:
    """Features, the labeled mask and the known labels of one run.

    Strategies only read ``labels`` where ``labeled`` is True: the hidden labels of
    unlabeled points never enter a pool (the oracle holds them).

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Raw pool features.
    n_classes : int
        Number of classes C.
    labeled : ndarray of shape (n,), bool, optional
    labels : ndarray of shape (n,), int64, optional
        Known labels; ``-1`` where unknown.

    Attributes
    ----------
    cache : dict
        Per-run state handed from the initial pool to the strategy (TypiClust's clusters,
        ProbCover's graph) and reused across iterations.
    """

    def __init__(
        self,
        x: np.ndarray,
        n_classes: int,
        labeled: np.ndarray | None = None,
        labels: np.ndarray | None = None,
        cache: dict | None = None,
    ) -> None:
        self.x = check_features(x, "x")
        self.n_classes = int(n_classes)
        n = len(self.x)
        self.labeled = (
            np.zeros(n, dtype=bool) if labeled is None else np.asarray(labeled, dtype=bool).copy()
        )
        self.labels = (
            np.full(n, -1, dtype=np.int64)
            if labels is None
            else np.asarray(labels, dtype=np.int64).copy()
        )
        if self.labeled.shape != (n,) or self.labels.shape != (n,):
            raise InvalidInputError("labeled and labels must have one entry per pool row.")
        self.labels[~self.labeled] = -1
        self.cache: dict[str, Any] = {} if cache is None else cache
        self._x_l2: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def labeled_idx(self) -> np.ndarray:
        return np.flatnonzero(self.labeled)

    @property
    def unlabeled_idx(self) -> np.ndarray:
        return np.flatnonzero(~self.labeled)

    @property
    def n_labeled(self) -> int:
        return int(self.labeled.sum())

    @property
    def n_unlabeled(self) -> int:
        return self.n - self.n_labeled

    @property
    def x_l2(self) -> np.ndarray:
        """L2-normalised features (computed once per run, used by clustering and graphs).

        Features whose rows already have unit norm (within :data:`UNIT_NORM_TOL`, as cached
        CLIP-style embeddings and the synthetic sets do) are used as they are: no second
        (n, d) copy, which at 1.28M × 1536 is 7.9 GB.
        """
        if self._x_l2 is None:
            from ._utils import l2_normalize, row_norms

            norms = row_norms(self.x)
            unit = len(self.x) and bool(np.all(np.abs(norms - 1.0) <= UNIT_NORM_TOL))
            self._x_l2 = self.x if unit else l2_normalize(self.x, norms=norms)
        return self._x_l2

    def add_labels(self, indices: np.ndarray, labels: np.ndarray) -> None:
        """Mark ``indices`` labeled with ``labels`` (validated)."""
        indices = np.asarray(indices, dtype=np.int64).ravel()
        labels = np.asarray(labels).ravel()
        if len(indices) != len(labels):
            raise InvalidInputError(
                f"{len(indices)} indices but {len(labels)} labels; pass one label per index."
            )
        if len(indices) and (indices.min() < 0 or indices.max() >= self.n):
            raise InvalidInputError(
                f"indices must be in [0, {self.n}); got {indices.min()}..{indices.max()}."
            )
        if len(np.unique(indices)) != len(indices):
            raise InvalidInputError("indices passed to teach() contain duplicates.")
        if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
            raise InvalidInputError("labels must be integer class indices.")
        labels = labels.astype(np.int64)
        if len(labels) and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise InvalidInputError(
                f"labels must be in [0, {self.n_classes}); got {labels.min()}..{labels.max()}. "
                "Map class names to indices first."
            )
        self.labeled[indices] = True
        self.labels[indices] = labels


def check_budget(budget: Any, n_unlabeled: int, name: str = "budget") -> int:
    """Validate a query budget against the number of unlabeled points."""
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        if isinstance(budget, float) and budget.is_integer():
            budget = int(budget)
        else:
            raise BudgetError(f"{name} must be a positive integer, got {budget!r}.")
    budget = int(budget)
    if budget <= 0:
        raise BudgetError(f"{name} must be a positive integer, got {budget}.")
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


def top_up(
    picked: np.ndarray, pool: Pool, budget: int, rng: np.random.Generator, info: dict | None = None
) -> Selection:
    """Complete ``picked`` to exactly ``budget`` unique unlabeled indices at random.

    A method that yields fewer than ``budget`` points (TypiClust's skipped clusters,
    ProbCover once everything is covered, DropQuery with too few candidates) is topped
    up uniformly from the remaining unlabeled points; ``info["n_topped_up"]`` says how many.
    """
    picked = np.asarray(picked, dtype=np.int64).ravel()
    info = dict(info or {})
    if len(picked):
        if len(np.unique(picked)) != len(picked):
            raise AssertionError("strategy returned duplicate indices")  # a bug, not user input
        if pool.labeled[picked].any():
            raise AssertionError("strategy returned labeled indices")
    picked = picked[:budget]
    missing = budget - len(picked)
    if missing > 0:
        avail = np.ones(pool.n, dtype=bool)
        avail[pool.labeled] = False
        avail[picked] = False
        rest = np.flatnonzero(avail)
        extra = rng.choice(rest, size=missing, replace=False)
        picked = np.concatenate([picked, extra])
    info["n_topped_up"] = int(max(missing, 0))
    return Selection(picked, info)
