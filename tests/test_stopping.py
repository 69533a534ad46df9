"""Should I keep labeling: Cohen's kappa, the stabilizing-predictions hint and the
cross-validated accuracy, on known answers."""

from __future__ import annotations

import numpy as np
import pytest

import alkit
from alkit.errors import InvalidInputError
from alkit.stopping import (
    AccuracyEstimate,
    Progress,
    StopHint,
    cohen_kappa,
    cross_validated_accuracy,
    stop_hint,
    stop_set,
)


def test_kappa_known_answers():
    a = np.array([0, 1, 2, 2, 1, 0])
    assert cohen_kappa(a, a) == 1.0  # identical predictions
    # the textbook 2×2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = 0.5·0.6 + 0.5·0.4 = 0.5
    r1 = np.array([0] * 25 + [1] * 25)
    r2 = np.array([0] * 20 + [1] * 5 + [0] * 10 + [1] * 15)
    assert cohen_kappa(r1, r2) == pytest.approx(0.4)
    # complete disagreement between two balanced binary raters: −1
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)
    # one constant class in both: p_e = 1, the labelings are identical, kappa 1
    assert cohen_kappa([2, 2, 2], [2, 2, 2], n_classes=3) == 1.0
    # independent random labelings agree at chance: kappa near 0, and as sklearn computes it
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 5000), rng.integers(0, 4, 5000)
    assert abs(cohen_kappa(x, y)) < 0.03
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))
    with pytest.raises(InvalidInputError):
        cohen_kappa([0, 1], [0])
    with pytest.raises(InvalidInputError):
        cohen_kappa([], [])


def test_stop_hint_window_and_threshold():
    assert stop_hint([]).text().startswith("Stopping hint: not yet")
    h = stop_hint([0.95, 0.999])
    assert h.mean_kappa is None and not h.stop and "1 more round" in h.text()
    h = stop_hint([0.5, 0.99, 0.995, 1.0])
    assert h.mean_kappa == pytest.approx(np.mean([0.99, 0.995, 1.0])) and h.stop
    assert "You may stop" in h.text()
    h = stop_hint([1.0, 1.0, 0.97])  # one unstable round in the window: keep labeling
    assert not h.stop and "keep labeling" in h.text()
    assert stop_hint([1.0, 1.0, 0.97], threshold=0.98).stop  # user-adjustable
    assert stop_hint([0.9, 0.99], window=1).stop
    with pytest.raises(InvalidInputError):
        stop_hint([1.5])
    with pytest.raises(InvalidInputError):
        stop_hint([0.9], window=0)


def test_stop_set_is_fixed_and_does_not_touch_other_streams():
    assert stop_set(50, 0).tolist() == list(range(50))
    a, b = stop_set(100, 3, size=10), stop_set(100, 3, size=10)
    assert (
        np.array_equal(a, b)
        and len(np.unique(a)) == 10
        and not np.array_equal(a, stop_set(100, 4, size=10))
    )


def test_cross_validated_accuracy_known_cases():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    separable = (rng.normal(size=(30, 6)) * 0.1 + 5 * np.eye(3, 6)[y]).astype(np.float32)
    est = cross_validated_accuracy(separable, y, 3)
    assert est.folds == 5 and est.mean == 1.0 and est.stderr == 0.0 and est.n_labeled == 30
    assert "5-fold" in est.text() and "100.0 %" in est.text()
    # labels unrelated to the features: around chance, with an uncertainty
    noise = rng.normal(size=(60, 6)).astype(np.float32)
    est = cross_validated_accuracy(noise, np.repeat(np.arange(3), 20), 3, probe={"max_epochs": 60})
    assert 0.05 < est.mean < 0.65 and est.stderr > 0
    # the same call gives the same estimate (seeded), k = the smallest class count
    again = cross_validated_accuracy(
        noise, np.repeat(np.arange(3), 20), 3, probe={"max_epochs": 60}
    )
    assert again == est
    est = cross_validated_accuracy(separable[:9], np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]), 3)
    assert est.folds == 3
    # a class labeled once is trained on, never tested
    est = cross_validated_accuracy(separable[:7], np.array([0, 0, 0, 1, 1, 1, 2]), 3)
    assert est.folds == 3 and est.n_untested == 1 and "labeled once" in est.text()
    # too few labels: skipped, with the reason
    est = cross_validated_accuracy(separable[:3], np.array([0, 1, 1]), 3)
    assert est.mean is None and "1 class(es) with two labels" in est.reason
    assert "not yet" in est.text()


def test_learner_progress_and_its_history(digits):
    learner = alkit.ActiveLearner(digits, "margin", seed=0, probe={"max_epochs": 40}, device="cpu")
    assert learner.progress().estimate.reason == "nothing is labeled yet"
    ref = alkit.ActiveLearner(digits, "margin", seed=0, probe={"max_epochs": 40}, device="cpu")
    for r in range(4):
        for lr in (learner, ref):
            sel = lr.query()
            lr.teach(sel.indices, digits.y_train[sel.indices])
        p = learner.progress()
        assert p.n_labeled == 10 * (r + 1) and sum(p.class_counts.values()) == p.n_labeled
        assert len(p.hint.kappas) == r  # one agreement per retraining after the first
    assert all(-1 <= k <= 1 for k in learner.kappas) and p.estimate.mean is not None
    # progress() draws nothing from the run's streams: the next query is unchanged
    np.testing.assert_array_equal(learner.query().indices, ref.query().indices)
    text = p.text()
    assert "Estimated accuracy" in text and "Stopping hint" in text
    back = Progress.from_dict(p.to_dict())
    assert back.class_counts == p.class_counts and back.hint == p.hint
    assert back.estimate == p.estimate and isinstance(back.estimate, AccuracyEstimate)
    assert isinstance(back.hint, StopHint)
