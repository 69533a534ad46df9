"""The state a strategy sees: :class:`Pool`, and what it returns: :class:`Selection`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BudgetError, InvalidInputError
from .validation import (
    check_bool,
    check_budget,
    check_features,
    check_indices,
    check_int,
    check_labels,
    check_rng,
)

#: Rows whose L2 norm is within this of 1 count as normalised (:attr:`Pool.x_l2` is then ``x``).
UNIT_NORM_TOL = 1e-6

__all__ = ["Pool", "Selection", "top_up", "check_budget"]  # check_budget: alkit.validation


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
        self.n_classes = check_int(n_classes, "n_classes", min=1)
        n = len(self.x)
        if labeled is None:
            self.labeled = np.zeros(n, dtype=bool)
        else:
            self.labeled = np.asarray(labeled).copy()
            if self.labeled.dtype != bool or self.labeled.shape != (n,):
                raise InvalidInputError(
                    f"labeled must be a boolean mask of shape ({n},); got dtype "
                    f"{self.labeled.dtype} and shape {self.labeled.shape}."
                )
        if labels is None:
            self.labels = np.full(n, -1, dtype=np.int64)
        else:
            self.labels = check_labels(labels, n, self.n_classes, "labels").copy()
        self.labels[~self.labeled] = -1
        if cache is not None and not isinstance(cache, dict):
            raise InvalidInputError(
                f"cache must be a dict (or None); got {type(cache).__name__}. Pass the .cache of "
                "an earlier Pool on the same features to reuse its clusters or graph."
            )
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
            from ._kernels.norms import l2_normalize, row_norms

            norms = row_norms(self.x)
            unit = len(self.x) and bool(np.all(np.abs(norms - 1.0) <= UNIT_NORM_TOL))
            self._x_l2 = self.x if unit else l2_normalize(self.x, norms=norms)
        return self._x_l2

    def add_labels(self, indices: np.ndarray, labels: np.ndarray, *, relabel: bool = False) -> None:
        """Mark ``indices`` labeled with ``labels`` (class indices in ``[0, n_classes)``).

        Parameters
        ----------
        indices : array-like of int, shape (m,)
            Distinct pool rows; floats and boolean masks are rejected, never truncated.
        labels : array-like of int, shape (m,)
        relabel : bool, default False
            Allow rows that already have a label, replacing it. Without it an already labeled
            row is an error: a second label for the same image is a conflict to resolve, not
            something to overwrite silently.
        """
        relabel = check_bool(relabel, "relabel")
        indices = check_indices(indices, self.n, "indices")
        n_labels = len(np.atleast_1d(np.asarray(labels, dtype=object)))
        if n_labels != len(indices):
            raise InvalidInputError(
                f"{len(indices)} indices but {n_labels} labels; pass one label per index."
            )
        labels = check_labels(labels, len(indices), self.n_classes, "labels", allow_unknown=False)
        if relabel:
            fresh = ~self.labeled[indices]
            if fresh.any():
                raise InvalidInputError(
                    f"relabel: index {int(indices[fresh][0])} has no label yet; teach it first."
                )
        elif len(indices) and self.labeled[indices].any():
            i = int(indices[self.labeled[indices]][0])
            same = self.labels[i] == labels[np.flatnonzero(indices == i)[0]]
            raise InvalidInputError(
                f"index {i} is already labeled ({int(self.labels[i])}"
                + (", the same label" if same else ", a different label")
                + "); teach only new rows, or call relabel() to change a label on purpose."
            )
        self.labeled[indices] = True
        self.labels[indices] = labels


def top_up(
    picked: np.ndarray, pool: Pool, budget: int, rng: np.random.Generator, info: dict | None = None
) -> Selection:
    """Complete ``picked`` to exactly ``budget`` unique unlabeled indices at random.

    A method that yields fewer than ``budget`` points (TypiClust's skipped clusters,
    ProbCover once everything is covered, DropQuery with too few candidates) is topped
    up uniformly from the remaining unlabeled points; ``info["n_topped_up"]`` says how many.
    """
    picked = check_indices(picked, pool.n, "picked", unique=False)
    budget = check_int(budget, "budget", min=0, error=BudgetError)
    if budget > pool.n_unlabeled:
        raise BudgetError(
            f"budget={budget} exceeds the {pool.n_unlabeled} unlabeled points left; "
            f"lower it to at most {pool.n_unlabeled}."
        )
    rng = check_rng(rng)
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
