"""``learner.save(dir)`` / ``ActiveLearner.load(dir)``: the next query after a load is the query
without it, for every kind of strategy state."""

from __future__ import annotations

import numpy as np
import pytest

import alkit
from alkit import ActiveLearner
from alkit.errors import CorruptCacheError, InvalidInputError, MissingResourceError
from alkit.learner_state import STATE_FILE, read_state

FAST = {"max_epochs": 30}
EMB = "synthetic:N=600,d=16,C=5,seed=0"


def _learner(emb, strategy, **params):
    return ActiveLearner(emb, strategy=strategy, seed=3, probe=FAST, device="cpu", **params)


def _rounds(learner, y, n):
    for _ in range(n):
        sel = learner.query()
        learner.teach(sel.indices, y[sel.indices])


@pytest.mark.parametrize(
    "strategy, params",
    [
        ("random", {}),
        ("entropy", {"cluster": True}),
        ("dropquery", {}),
        ("typiclust", {}),
        ("probcover", {}),
        ("coreset", {}),
        ("maxherding", {}),
    ],
)
def test_save_load_continues_exactly(tmp_path, strategy, params):
    emb = alkit.load_embeddings(EMB)
    y = emb.y_train
    plain, saved = _learner(emb, strategy, **params), _learner(emb, strategy, **params)
    for lr in (plain, saved):
        _rounds(lr, y, 2)
        lr.query()  # a pending batch, asked but not answered
    saved.save(tmp_path / "state")
    loaded = ActiveLearner.load(tmp_path / "state", emb, device="cpu")
    assert loaded.acquired == plain.acquired and loaded.pending.info == plain.pending.info
    np.testing.assert_array_equal(loaded.pending.indices, plain.pending.indices)
    np.testing.assert_array_equal(loaded.predict_proba(), plain.predict_proba())
    for lr in (plain, loaded):
        lr.teach(lr.pending.indices, y[lr.pending.indices])
    a, b = plain.query(), loaded.query()
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.info == b.info
    np.testing.assert_array_equal(plain.predict_proba(), loaded.predict_proba())
    assert plain.kappas == loaded.kappas and [s.info for s in plain.selections] == [
        s.info for s in loaded.selections
    ]
    assert set(loaded.pool.cache) == set(plain.pool.cache)


def test_state_is_checked_and_found(tmp_path, digits):
    learner = _learner(digits, "margin")
    _rounds(learner, digits.y_train, 2)
    path = learner.save(tmp_path / "s", embeddings="digits")
    assert path == tmp_path / "s" / STATE_FILE
    state, _ = read_state(tmp_path / "s")
    assert state["config"]["strategy"] == "margin" and state["embeddings"] == "digits"
    # found by the saved reference, and the features' checksum matches
    again = ActiveLearner.load(tmp_path / "s", device="cpu")
    assert again.acquired == learner.acquired
    with pytest.raises(InvalidInputError, match="other features"):
        ActiveLearner.load(tmp_path / "s", digits.x_train + 1, device="cpu")
    with pytest.raises(InvalidInputError, match="differs from this one in its config"):
        from alkit.learner_state import restore_learner

        restore_learner(_learner(digits, "entropy"), tmp_path / "s")
    with pytest.raises(MissingResourceError):
        ActiveLearner.load(tmp_path / "nothing")
    # a damaged file is an error, never a silently different learner
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(CorruptCacheError):
        ActiveLearner.load(tmp_path / "s", digits, device="cpu")


def test_nothing_is_pickled(tmp_path, digits):
    learner = _learner(digits, "typiclust")
    _rounds(learner, digits.y_train, 1)
    learner.save(tmp_path / "s")
    with np.load(tmp_path / "s" / STATE_FILE, allow_pickle=False) as z:
        assert all(z[k].dtype.kind != "O" for k in z.files)
    learner.pool.cache["mine"] = object()
    with pytest.raises(InvalidInputError, match="never pickles"):
        learner.save(tmp_path / "t")
