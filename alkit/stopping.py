"""Should I keep labeling? The estimated accuracy of the current probe and a stopping hint.

Two numbers a practitioner reads after every round, without a test split:

- :func:`cross_validated_accuracy`: stratified k-fold cross-validation of the probe on the labels
  collected so far (k = min(5, the smallest class count)), as mean ± standard error over folds.
  The labeled set was chosen by the strategy, not drawn at random, so the estimate is biased (an
  uncertainty strategy picks hard items, which makes it pessimistic; a representative one picks
  typical items, which makes it optimistic); it is a trend to watch, not a test accuracy.
- :func:`stop_hint`: *stabilizing predictions* (Bloodgood & Vijay-Shanker 2009). The probe of each
  round predicts a fixed *stop set* (the pool, or a fixed random subset of a large one); Cohen's
  kappa between the predictions of consecutive rounds measures how much the model still changes.
  Stop when the mean kappa over the last ``window`` = 3 rounds reaches ``threshold`` = 0.99.

:class:`Progress` bundles both for :meth:`alkit.ActiveLearner.progress`, ``alkit next --project``
and the labeling widget; ``docs/labeling.md`` explains how to read them.

References
----------
M. Bloodgood and K. Vijay-Shanker. A Method for Stopping Active Learning Based on Stabilizing
Predictions and the Need for User-Adjustable Stopping. CoNLL 2009.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidInputError
from .validation import check_features, check_float, check_int, check_labels, check_seed

__all__ = [
    "cohen_kappa",
    "stop_hint",
    "cross_validated_accuracy",
    "stop_set",
    "AccuracyEstimate",
    "StopHint",
    "Progress",
    "STOP_WINDOW",
    "STOP_THRESHOLD",
    "STOP_SET_SIZE",
    "CV_FOLDS",
]

#: Bloodgood & Vijay-Shanker's defaults: the mean kappa of the last 3 rounds reaches 0.99.
STOP_WINDOW = 3
STOP_THRESHOLD = 0.99
#: The stop set is the whole pool up to this many rows, else a fixed random subset of this size.
STOP_SET_SIZE = 20_000
#: At most this many cross-validation folds (fewer when a class has fewer labels).
CV_FOLDS = 5


def cohen_kappa(a: Any, b: Any, n_classes: int | None = None) -> float:
    """Cohen's kappa between two labelings of the same items: (p_o − p_e) / (1 − p_e).

    Parameters
    ----------
    a, b : array-like of int, shape (n,)
        Class indices (two models' predictions on the stop set).
    n_classes : int, optional
        Number of classes (default: the largest index + 1).

    Returns
    -------
    float
        1 for identical labelings, 0 for agreement at chance level, negative below it. When both
        labelings put every item in the same single class (p_e = 1) the formula is 0/0; they then
        agree perfectly and the kappa is 1.
    """
    a = check_labels(a, len(np.atleast_1d(np.asarray(a, dtype=object))), n_classes, "a", False)
    b = check_labels(b, len(a), n_classes, "b", allow_unknown=False)
    if len(a) == 0:
        raise InvalidInputError("cohen_kappa needs at least one item; got empty labelings.")
    c = int(max(a.max(), b.max()) + 1) if n_classes is None else int(n_classes)
    observed = float(np.mean(a == b))
    pa = np.bincount(a, minlength=c) / len(a)
    pb = np.bincount(b, minlength=c) / len(b)
    expected = float(pa @ pb)
    if expected >= 1.0 - 1e-12:
        return 1.0 if observed >= 1.0 - 1e-12 else 0.0
    return (observed - expected) / (1.0 - expected)


def stop_set(n: int, seed: int, size: int = STOP_SET_SIZE) -> np.ndarray:
    """The fixed stop set of a pool of ``n`` rows: all of them up to ``size``, else ``size`` rows
    drawn once from ``seed`` (its own stream: the run's random streams are not touched)."""
    n = check_int(n, "n", min=1)
    size = check_int(size, "size", min=1)
    if n <= size:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([check_seed(seed), 0x5709])
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


@dataclass
class StopHint:
    """Agreement of consecutive rounds' predictions on the stop set (stabilizing predictions).

    Attributes
    ----------
    kappas : list of float
        Cohen's kappa between the predictions of round r and round r − 1, one per retraining
        after the first.
    window : int
    threshold : float
    mean_kappa : float or None
        Mean of the last ``window`` kappas (None until there are ``window`` of them).
    stop : bool
        ``mean_kappa >= threshold``.
    """

    kappas: list[float] = field(default_factory=list)
    window: int = STOP_WINDOW
    threshold: float = STOP_THRESHOLD
    mean_kappa: float | None = None
    stop: bool = False

    def text(self) -> str:
        """One line: the last agreement, the windowed mean and what it suggests."""
        if not self.kappas:
            return (
                "Stopping hint: not yet (the agreement between consecutive models needs two "
                "retrained models; label another batch)."
            )
        last = f"agreement with the previous model κ = {self.kappas[-1]:.3f}"
        if self.mean_kappa is None:
            need = self.window - len(self.kappas)
            return (
                f"Stopping hint: {last}; {need} more round(s) before the mean over "
                f"{self.window} rounds can be compared with {self.threshold:g}. Keep labeling."
            )
        mean = f"mean over the last {self.window} rounds {self.mean_kappa:.3f}"
        if self.stop:
            return (
                f"Stopping hint: {last}, {mean} ≥ {self.threshold:g}: the predictions have "
                "stabilized; more labels are unlikely to change the model much. You may stop."
            )
        return f"Stopping hint: {last}, {mean} < {self.threshold:g}: keep labeling."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stop_hint(
    kappas: Any, window: int = STOP_WINDOW, threshold: float = STOP_THRESHOLD
) -> StopHint:
    """The stabilizing-predictions rule on a list of consecutive-round kappas.

    Parameters
    ----------
    kappas : sequence of float
        Kappa between each round's predictions and the previous round's, in round order.
    window : int
        How many of the last kappas are averaged (Bloodgood & Vijay-Shanker: 3).
    threshold : float
        Stop when that mean reaches it (their default 0.99; lower it to stop earlier).
    """
    window = check_int(window, "window", min=1)
    threshold = check_float(threshold, "threshold", min=-1.0, max=1.0)
    values = [float(k) for k in kappas]
    if any(not math.isfinite(k) or not -1.0 <= k <= 1.0 for k in values):
        raise InvalidInputError(f"kappas must be numbers in [-1, 1]; got {values[:10]}.")
    mean = float(np.mean(values[-window:])) if len(values) >= window else None
    return StopHint(values, window, threshold, mean, mean is not None and mean >= threshold)


@dataclass
class AccuracyEstimate:
    """Cross-validated accuracy of the probe on the labeled set.

    Attributes
    ----------
    mean, stderr : float or None
        Mean fold accuracy and its standard error (std over folds / √k); None when skipped.
    folds : int
        k (0 when skipped).
    fold_accuracies : list of float
    n_labeled : int
    reason : str
        Why there is no estimate (empty when there is one).
    n_untested : int
        Labels of classes labeled once: trained on in every fold, never tested.
    """

    mean: float | None = None
    stderr: float | None = None
    folds: int = 0
    fold_accuracies: list[float] = field(default_factory=list)
    n_labeled: int = 0
    reason: str = ""
    n_untested: int = 0

    def text(self) -> str:
        """One line, e.g. ``Estimated accuracy: 81.2 % ± 3.1 % (5-fold CV on 40 labels)``."""
        if self.mean is None:
            return f"Estimated accuracy: not yet ({self.reason})."
        once = (
            f", {self.n_untested} of them of classes labeled once, never tested"
            if self.n_untested
            else ""
        )
        return (
            f"Estimated accuracy: {100 * self.mean:.1f} % ± {100 * self.stderr:.1f} % "
            f"({self.folds}-fold cross-validation on the {self.n_labeled} labels{once}; the "
            "labels were chosen by the strategy, so read it as a trend, not a test accuracy)."
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cross_validated_accuracy(
    x: Any,
    y: Any,
    n_classes: int,
    *,
    probe: dict | None = None,
    seed: int = 0,
    max_folds: int = CV_FOLDS,
    device: str = "cpu",
) -> AccuracyEstimate:
    """Stratified k-fold cross-validation of a fresh probe on the labeled points.

    k = min(``max_folds``, the smallest number of labels of a class labeled twice or more). A class
    labeled only once is in every training fold and in no test fold. Skipped, with the reason,
    when fewer than two classes have two labels.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Features of the labeled points.
    y : ndarray of shape (n,)
        Their class indices in ``[0, n_classes)``.
    n_classes : int
        C (classes without a label still get an output).
    probe : dict, optional
        Probe settings (:class:`alkit.probe.ProbeConfig`), e.g. the learner's.
    seed : int
        Seeds the fold split and the fold probes (nothing else is drawn from it).
    max_folds : int
    device : str
    """
    from sklearn.model_selection import StratifiedKFold

    from .probe import LinearProbe

    x = check_features(x, "x")
    n_classes = check_int(n_classes, "n_classes", min=2)
    y = check_labels(y, len(x), n_classes, "y", allow_unknown=False)
    max_folds = check_int(max_folds, "max_folds", min=2)
    seed = check_seed(seed)
    counts = np.bincount(y, minlength=n_classes)
    tested = counts >= 2
    if tested.sum() < 2:
        return AccuracyEstimate(
            n_labeled=len(y),
            reason=f"{int(tested.sum())} class(es) with two labels or more; cross-validation "
            "needs two",
        )
    # a class with a single label is trained on in every fold but never tested (it cannot be in
    # both halves of a split)
    k = int(min(max_folds, counts[tested].min()))
    rows = np.flatnonzero(tested[y])
    always = np.flatnonzero(~tested[y])
    seeds = np.random.SeedSequence([seed, len(y)]).generate_state(k + 1)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seeds[0]))
    accuracies = []
    for f, (train, test) in enumerate(folds.split(rows, y[rows])):
        train = np.concatenate([rows[train], always])
        test = rows[test]
        p = LinearProbe(n_classes, seed=int(seeds[f + 1]), device=device, **(probe or {}))
        p.fit(x[train], y[train])
        accuracies.append(float(np.mean(p.predict(x[test]) == y[test])))
    acc = np.asarray(accuracies)
    return AccuracyEstimate(
        float(acc.mean()),
        float(acc.std(ddof=1) / math.sqrt(k)),
        k,
        accuracies,
        len(y),
        n_untested=len(always),
    )


@dataclass
class Progress:
    """Where a labeling session stands: labels, the estimated accuracy and the stopping hint."""

    n_labeled: int
    n_unlabeled: int
    class_counts: dict[str, int]
    estimate: AccuracyEstimate
    hint: StopHint

    def text(self) -> str:
        counts = ", ".join(f"{c}: {n}" for c, n in self.class_counts.items())
        return "\n".join(
            [
                f"{self.n_labeled} labeled ({counts}); {self.n_unlabeled} unlabeled.",
                self.estimate.text(),
                self.hint.text(),
            ]
        )

    __str__ = text

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_labeled": self.n_labeled,
            "n_unlabeled": self.n_unlabeled,
            "class_counts": [[c, n] for c, n in self.class_counts.items()],  # ordered
            "estimate": self.estimate.to_dict(),
            "hint": self.hint.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Progress:
        return cls(
            int(d["n_labeled"]),
            int(d["n_unlabeled"]),
            {
                c: int(n)
                for c, n in (
                    d["class_counts"].items()
                    if isinstance(d["class_counts"], dict)
                    else d["class_counts"]
                )
            },
            AccuracyEstimate(**d["estimate"]),
            StopHint(**d["hint"]),
        )
