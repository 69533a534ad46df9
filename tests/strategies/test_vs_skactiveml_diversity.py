"""Differential tests against scikit-activeml 1.0.1 (``skactiveml.pool``), test-only dependency.

CoreSet — the algorithms coincide once the inputs are fixed (greedy k-center, Euclidean,
from the labeled set), so the picks must be identical on the same probe embeddings and
labeled set (continuous data: no ties, where skactiveml breaks ties at random and alkit
takes the lowest index).

DropQuery — differences (so only shared properties are compared):
  * skactiveml draws masks with ``p = dropout_rate`` on the raw input *without* the
    inverted 1/(1 − p) scaling, through the classifier's ``predict``; alkit uses the
    probe's own input dropout (inverted scaling, BatchNorm in eval mode);
  * skactiveml keeps ``max(#(disagreement rate > 0.5), B)`` points ranked by disagreement
    (no threshold relaxation towards 25·B, no random top-up); alkit relaxes ⌊M/2⌋ down
    while fewer than 25·B candidates exist and tops up at random when fewer than B remain;
  * skactiveml clusters the raw embeddings with scikit-learn's KMeans (k-means++ with
    several restarts) and its default is 5 passes; alkit clusters L2-normalised probe
    embeddings with the shared faiss k-means (one k-means++ seeding) and uses M = 3.
  Shared: on a classifier whose clean and dropout predictions are fixed by hand (a set of
  "unstable" points flip under every mask, the rest never flip), both pick only unstable
  points, B distinct ones, one per well-separated cluster of them.

BADGE — differences: skactiveml's first centre is the point of largest gradient norm
(``argmax ‖g‖²``), alkit's is uniform (as the paper's reference and Ash et al.); skactiveml
draws with ``RandomState.choice(p=D²/ΣD²)`` on an explicit N × (d·C) gradient array, alkit
by the inverse CDF on implicit distances; skactiveml's D² after the first centre also
keeps ‖g‖² (the distance to g = 0, its starting value) in the minimum, as if the origin
were a centre, while alkit's D² is the distance to the chosen centres only (Ash et al.,
the reference). Shared: the gradient embedding (p − onehot(argmax p)) ⊗ z and the D² law —
given the same first centre, skactiveml's sampling probabilities equal alkit's implicit
D² with the origin added, min(‖g‖², ‖g − g_c‖²)/Σ — and unique picks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

skpool = pytest.importorskip("skactiveml.pool")
skbase = pytest.importorskip("skactiveml.base")

from alkit import strategies  # noqa: E402
from alkit.strategies.badge import gradient_sq_dists  # noqa: E402
from alkit.strategies.dropquery import dropquery  # noqa: E402

from .template import make_state  # noqa: E402
from .test_dropquery import FakeProbe, blob_embeddings, id_pool  # noqa: E402


@pytest.mark.parametrize("n_labeled,budget", [(20, 10), (45, 30)])
def test_coreset_identical_picks(digits, n_labeled, budget):
    pool, probe = make_state(digits, n_labeled)
    z = probe.embed(pool.x).astype(np.float64)
    y = np.where(pool.labeled, pool.labels, np.nan).astype(float)
    sk = skpool.CoreSet(random_state=0).query(X=z, y=y, batch_size=budget)
    ours = strategies.select("coreset", pool, probe, budget, np.random.default_rng(0), device="cpu")
    np.testing.assert_array_equal(ours.indices, sk)


def test_coreset_identical_picks_synthetic(small_synthetic):
    pool, probe = make_state(small_synthetic, 16)
    z = probe.embed(pool.x).astype(np.float64)
    y = np.where(pool.labeled, pool.labels, np.nan).astype(float)
    sk = skpool.CoreSet(random_state=0).query(X=z, y=y, batch_size=24)
    ours = strategies.select("coreset", pool, probe, 24, np.random.default_rng(0), device="cpu")
    np.testing.assert_array_equal(ours.indices, sk)


class HandSetClassifier(skbase.SkactivemlClassifier):
    """A skactiveml classifier with hand-set predictions, by row position.

    ``predict`` on the full candidate array returns ``clean`` when no entry was zeroed, and
    ``clean + 1`` on the ``unstable`` rows once dropout has zeroed entries (the data has no
    exact zeros, so a zero marks a dropout mask).
    """

    def __init__(
        self, clean=None, unstable=None, classes=None, missing_label=np.nan, random_state=None
    ):
        super().__init__(classes=classes, missing_label=missing_label, random_state=random_state)
        self.clean = clean
        self.unstable = unstable

    def fit(self, X, y, sample_weight=None):
        return self

    def predict(self, X, **kwargs):
        out = self.clean.copy()
        dropped = (np.asarray(X) == 0).any(1)
        flip = self.unstable & dropped
        out[flip] = (out[flip] + 1) % 3
        return out

    def predict_proba(self, X, **kwargs):
        raise NotImplementedError


def test_dropquery_shared_properties():
    rng = np.random.default_rng(0)
    n, B, M = 400, 4, 3
    blobs = [np.arange(10 + 40 * g, 10 + 40 * g + 30) for g in range(B)]  # 120 unstable points
    stable = np.setdiff1d(np.arange(n), np.concatenate(blobs))
    emb = blob_embeddings(n, blobs + [stable], rng, d=8) + 0.5  # no exact zeros
    unstable = np.zeros(n, dtype=bool)
    unstable[np.concatenate(blobs)] = True
    clean = np.zeros(n, dtype=np.int64)
    blob_of = {int(i): g for g, rows in enumerate(blobs) for i in rows}

    # scikit-activeml: embeddings are the inputs themselves; every candidate is unlabeled
    clf = HandSetClassifier(clean=clean, unstable=unstable, classes=[0, 1, 2])
    sk = skpool.DropQuery(n_dropout_samples=M, random_state=0).query(
        X=emb, y=np.full(n, np.nan), clf=clf, fit_clf=False, batch_size=B
    )

    # alkit: the same hand-set disagreement through a fake probe
    passes = np.where(unstable[None, :], 1, 0).repeat(M, 0)
    ours = dropquery(id_pool(n), FakeProbe(clean, passes, emb), B, np.random.default_rng(0), M=M)

    for picks in (np.asarray(sk), ours.indices):
        assert len(np.unique(picks)) == B
        assert unstable[picks].all()  # only disagreeing points
        assert sorted(blob_of[int(i)] for i in picks) == list(range(B))  # one per cluster


def test_badge_d2_law_matches_skactiveml(digits):
    pool, probe = make_state(digits, 20)
    unl = pool.unlabeled_idx
    p = probe.predict_proba(pool.x[unl]).astype(np.float64)
    z = probe.embed(pool.x[unl]).astype(np.float64)

    class Fixed(skbase.SkactivemlClassifier):
        def fit(self, X, y, sample_weight=None):
            return self

        def predict_proba(self, X, **kwargs):
            return p  # by position: X is the unlabeled pool, in order

    budget = 5
    sk_idx, util = skpool.Badge(random_state=0).query(
        X=z,
        y=np.full(len(z), np.nan),
        clf=Fixed(classes=list(range(10))),
        fit_clf=False,
        batch_size=budget,
        return_utilities=True,
    )
    # skactiveml's first centre: the largest gradient norm
    delta = p.copy()
    delta[np.arange(len(p)), p.argmax(1)] -= 1.0
    g_sq = (z**2).sum(1) * (delta**2).sum(1)
    assert sk_idx[0] == int(np.argmax(g_sq))
    # the D² law after that centre, from alkit's implicit distances, equals skactiveml's once
    # its extra centre at the origin (g = 0) is added: D² = min(‖g‖², ‖g − g_c‖²)
    zt, dt = torch.from_numpy(z), torch.from_numpy(delta)
    d2 = gradient_sq_dists(zt, dt, (zt**2).sum(1), (dt**2).sum(1), int(sk_idx[0])).numpy()
    with_origin = np.minimum(d2, g_sq)
    np.testing.assert_allclose(
        with_origin / with_origin.sum(), np.nan_to_num(util[1]), rtol=1e-6, atol=1e-12
    )
    # and the origin matters: without it the law differs (alkit follows Ash et al.)
    assert not np.allclose(d2 / d2.sum(), np.nan_to_num(util[1]), rtol=1e-3)
    assert len(np.unique(sk_idx)) == budget
    ours = strategies.select("badge", pool, probe, budget, np.random.default_rng(0), device="cpu")
    assert len(np.unique(ours.indices)) == budget and not pool.labeled[ours.indices].any()
