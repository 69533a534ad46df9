"""DropQuery known answers: a fake probe with hand-set clean and dropout predictions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alkit import strategies
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies.dropquery import dropquery, relax_threshold

from .template import make_state


class FakeProbe:
    """A probe whose clean/dropout argmax and embedding are set per pool row by hand.

    The pool's first feature column holds the row id, so the probe can look rows up
    whatever subset of the pool a strategy passes it.

    Parameters
    ----------
    clean : ndarray of shape (n,)
    passes : ndarray of shape (M, n)
    emb : ndarray of shape (n, d)
    """

    is_fitted = True

    def __init__(self, clean, passes, emb, n_classes=3):
        self.clean = np.asarray(clean, dtype=np.int64)
        self.passes = np.asarray(passes, dtype=np.int64)
        self.emb = np.asarray(emb, dtype=np.float32)
        self.n_classes = n_classes
        self.calls = []

    @staticmethod
    def _ids(x):
        return np.asarray(x)[:, 0].astype(np.int64)

    def mc_argmax(self, x, M):
        self.calls.append(("mc_argmax", M))
        ids = self._ids(x)
        assert M == len(self.passes), "the strategy asked for a different number of passes"
        return self.clean[ids], self.passes[:, ids]

    def embed(self, x):
        self.calls.append(("embed", len(x)))
        return self.emb[self._ids(x)]

    def predict_proba(self, x, dropout=False):
        ids = self._ids(x)
        p = np.full((len(ids), self.n_classes), 0.1 / (self.n_classes - 1), dtype=np.float32)
        p[np.arange(len(ids)), self.clean[ids]] = 0.9
        return p


def id_pool(n, labeled=None):
    x = np.stack([np.arange(n, dtype=np.float32), np.ones(n, dtype=np.float32)], 1)
    lab = np.zeros(n, dtype=bool)
    if labeled is not None:
        lab[labeled] = True
    return Pool(x, 3, lab, np.where(lab, 0, -1))


def blob_embeddings(n, groups, rng, d=8, spread=0.01):
    """Embeddings: rows of group g around the direction e_g (distinct after L2 normalisation)."""
    emb = rng.normal(0, spread, (n, d)).astype(np.float32)
    for g, rows in enumerate(groups):
        emb[rows, g] += 1.0
    return emb


def test_picks_only_disagreeing_points_one_per_cluster():
    rng = np.random.default_rng(0)
    n, M, B = 400, 3, 4
    disagree_blobs = [np.arange(10 + 40 * g, 10 + 40 * g + 30) for g in range(B)]  # 120 points
    agree_blob = np.setdiff1d(np.arange(n), np.concatenate(disagree_blobs))
    emb = blob_embeddings(n, disagree_blobs + [agree_blob], rng)
    clean = np.zeros(n, dtype=np.int64)
    passes = np.zeros((M, n), dtype=np.int64)
    for rows in disagree_blobs:
        passes[:, rows] = 1  # all 3 passes flip: mismatch 3 > ⌊3/2⌋
    sel = dropquery(
        id_pool(n, labeled=[0, 1]), FakeProbe(clean, passes, emb), B, np.random.default_rng(1)
    )
    assert sel.info["threshold"] == 1  # 120 ≥ 25·4 = 100 candidates: no relaxation
    assert sel.info["n_candidates"] == 120
    assert sel.info["n_topped_up"] == 0
    assert sel.info["mismatch_counts"] == [n - 2 - 120, 0, 0, 120]
    blob_of = {int(i): g for g, rows in enumerate(disagree_blobs) for i in rows}
    assert all(int(i) in blob_of for i in sel.indices)
    assert sorted(blob_of[int(i)] for i in sel.indices) == list(range(B))


def test_majority_threshold_excludes_minority_flips():
    """Points flipping in 1 of 3 passes are not candidates while ≥ 25·B majority points exist."""
    rng = np.random.default_rng(2)
    n, M, B = 300, 3, 2
    majority = np.arange(0, 60)  # mismatch 2
    minority = np.arange(60, 200)  # mismatch 1, far more numerous
    passes = np.zeros((M, n), dtype=np.int64)
    passes[:2, majority] = 1
    passes[0, minority] = 2
    emb = rng.normal(size=(n, 5)).astype(np.float32)
    sel = dropquery(id_pool(n), FakeProbe(np.zeros(n), passes, emb), B, np.random.default_rng(0))
    assert sel.info["threshold"] == 1 and sel.info["n_candidates"] == 60
    assert np.isin(sel.indices, majority).all()


@pytest.mark.parametrize(
    "M,counts,B,expected_threshold,expected_candidates",
    [
        # M = 3: 10 points with 3 flips < 25·2, lowered to 0 → 10 + 45 = 55 ≥ 50
        (3, {3: 10, 1: 45}, 2, 0, 55),
        # M = 5: >2 holds 5 points, >1 holds 5 + 60 ≥ 50 → stops at 1, never includes mismatch-1 points
        (5, {4: 5, 2: 60, 1: 100}, 2, 1, 65),
        # M = 5: enough majority points → stays at ⌊5/2⌋ = 2
        (5, {5: 30, 3: 30, 1: 100}, 2, 2, 60),
    ],
)
def test_threshold_relaxation(M, counts, B, expected_threshold, expected_candidates):
    n = 400
    passes = np.zeros((M, n), dtype=np.int64)
    start = 0
    groups = {}
    for m, k in counts.items():
        rows = np.arange(start, start + k)
        passes[:m, rows] = 1
        groups[m] = rows
        start += k
    emb = np.random.default_rng(3).normal(size=(n, 6)).astype(np.float32)
    sel = dropquery(
        id_pool(n), FakeProbe(np.zeros(n), passes, emb), B, np.random.default_rng(0), M=M
    )
    assert sel.info["threshold"] == expected_threshold
    assert sel.info["n_candidates"] == expected_candidates
    allowed = np.concatenate([rows for m, rows in groups.items() if m > expected_threshold])
    assert np.isin(sel.indices, allowed).all()


def test_fewer_than_budget_candidates_all_taken_plus_top_up():
    n, M, B = 200, 3, 5
    passes = np.zeros((M, n), dtype=np.int64)
    flips = np.array([17, 42, 99])
    passes[0, flips] = 2  # mismatch 1: found only after relaxing to 0
    emb = np.random.default_rng(4).normal(size=(n, 4)).astype(np.float32)
    probe = FakeProbe(np.zeros(n), passes, emb)
    sel = dropquery(id_pool(n, labeled=[0, 1, 2]), probe, B, np.random.default_rng(0))
    assert sel.info["threshold"] == 0 and sel.info["n_candidates"] == 3
    assert sel.info["n_topped_up"] == 2
    np.testing.assert_array_equal(sel.indices[:3], flips)
    assert len(np.unique(sel.indices)) == B and not np.isin(sel.indices, [0, 1, 2]).any()
    assert not any(c[0] == "embed" for c in probe.calls)  # no clustering: no embedding needed


def test_empty_cluster_is_topped_up():
    """Candidates with only two distinct embeddings and B = 3: two picks, one random top-up."""
    n, M, B = 300, 3, 3
    passes = np.zeros((M, n), dtype=np.int64)
    cand = np.arange(100, 180)
    passes[:, cand] = 1
    emb = np.random.default_rng(5).normal(size=(n, 4)).astype(np.float32)
    emb[cand[:40]] = [1, 0, 0, 0]
    emb[cand[40:]] = [0, 1, 0, 0]
    sel = dropquery(id_pool(n), FakeProbe(np.zeros(n), passes, emb), B, np.random.default_rng(0))
    assert sel.info["n_topped_up"] == 1
    first_two = sel.indices[:2]
    assert np.isin(first_two, cand).all()
    assert {int(i) < 140 for i in first_two} == {True, False}  # one from each distinct group


def test_real_probe_picks_satisfy_threshold(digits):
    """With the real probe: replaying its dropout generator reproduces the mismatch counts,
    and every non-topped-up pick is a candidate (mismatch > threshold)."""
    pool, probe = make_state(digits, 20)
    state = probe.generator.get_state()
    sel = strategies.select("dropquery", pool, probe, 10, np.random.default_rng(0), device="cpu")
    probe.generator.set_state(state)
    clean, passes = probe.mc_argmax(pool.x[pool.unlabeled_idx], 3)
    mis = (passes != clean[None]).sum(0)
    assert sel.info["n_candidates"] == int((mis > sel.info["threshold"]).sum())
    assert sel.info["mismatch_counts"] == np.bincount(mis, minlength=4).tolist()
    pos = np.searchsorted(pool.unlabeled_idx, sel.indices)
    picked = sel.indices[: len(sel.indices) - sel.info["n_topped_up"]]
    assert (mis[pos[: len(picked)]] > sel.info["threshold"]).all()


def test_m_changes_passes(digits):
    pool, probe = make_state(digits, 20)
    sel = strategies.select(
        "dropquery", pool, probe, 10, np.random.default_rng(0), device="cpu", M=7
    )
    assert len(sel.info["mismatch_counts"]) == 8


@pytest.mark.parametrize("bad", [{"M": 0}, {"M": 2.5}, {"candidate_factor": 0}, {"M": True}])
def test_bad_parameters(bad, digits):
    pool, probe = make_state(digits, 20)
    with pytest.raises(InvalidInputError, match="dropquery"):
        strategies.select(
            "dropquery", pool, probe, 5, np.random.default_rng(0), device="cpu", **bad
        )


def test_unknown_parameter_named():
    with pytest.raises(InvalidInputError, match="candidate_factor"):
        strategies.check_params("dropquery", {"passes": 3})


def test_registry_entry():
    entry = strategies.info("dropquery")
    assert entry.family == "hybrid" and entry.initial_pool == "centroids"
    assert entry.params == {"M": 3, "candidate_factor": 25}
    assert "Gupte" in entry.paper


@settings(max_examples=60, deadline=None)
@given(
    M=st.integers(1, 9),
    target=st.integers(0, 80),
    mis=st.lists(st.integers(0, 9), min_size=1, max_size=120),
)
def test_relax_threshold_properties(M, target, mis):
    mis = np.minimum(np.array(mis), M)
    t = relax_threshold(mis, M, target)
    assert 0 <= t <= M // 2
    if t > 0:  # stopped early: enough candidates
        assert (mis > t).sum() >= target
    if t < M // 2:  # lowered: one step higher had too few
        assert (mis > t + 1).sum() < target
