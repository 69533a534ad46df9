"""Label propagation: graph construction, known answers, both variants, reuse, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_circles, make_moons
from sklearn.linear_model import LogisticRegression

import alkit
from alkit._kernels.norms import l2_normalize
from alkit.errors import InvalidInputError
from alkit.propagation import (
    LabelPropagator,
    _iterate_scipy,
    _iterate_torch,
    _to_torch_csr,
    propagation_weights,
)


def _lift(x2d: np.ndarray, height: float = 3.0) -> np.ndarray:
    # The graph lives on L2-normalised features; lifting the 2-D toy data onto the plane
    # z = height keeps its neighbourhoods after normalisation (a gnomonic-like projection).
    x = x2d - x2d.mean(axis=0)
    return np.hstack([x, np.full((len(x), 1), height)]).astype(np.float32)


TOY = {
    "moons": lambda: make_moons(1000, noise=0.05, random_state=0),
    "circles": lambda: make_circles(1000, noise=0.03, factor=0.5, random_state=0),
}


@pytest.mark.parametrize("variant", ["reference", "zhou"])
@pytest.mark.parametrize("toy", sorted(TOY))
def test_known_answer_one_label_per_class(toy, variant):
    x2d, y = TOY[toy]()
    x = _lift(x2d)
    lab = np.array([np.flatnonzero(y == c)[0] for c in (0, 1)])
    lp = LabelPropagator(device="cpu", k=10, variant=variant)
    targets, weights = lp.propagate(x, lab, y[lab], n_classes=2)
    assert targets.dtype == np.int64 and weights.dtype == np.float32
    assert (targets == y).mean() >= 0.95
    assert np.isfinite(weights).all() and (weights >= 0).all() and (weights <= 1).all()
    assert (weights[lab] == 1).all() and (targets[lab] == y[lab]).all()
    # a linear model on the labeled points alone cannot separate these shapes
    linear = LogisticRegression().fit(x[lab], y[lab])
    assert (linear.predict(x) == y).mean() < 0.95


def test_float32_underflow_is_why_float64_is_default():
    # the reference variant shrinks mass 10× per hop: far nodes underflow in float32
    x2d, y = TOY["moons"]()
    x = _lift(x2d)
    lab = np.array([np.flatnonzero(y == c)[0] for c in (0, 1)])
    t32, w32 = LabelPropagator(device="cpu", k=10, dtype="float32").propagate(x, lab, y[lab], 2)
    assert (w32 == 0).sum() > 0 and (t32[w32 == 0] == -1).all()
    assert np.isfinite(w32).all()


def test_disconnected_component_without_label_gets_zero_weight(rng):
    main = rng.normal(size=(200, 8)) * 0.1 + np.eye(8)[0] * 5
    far = rng.normal(size=(30, 8)) * 0.1 - np.eye(8)[0] * 5  # opposite direction on the sphere
    x = np.vstack([main, far]).astype(np.float32)
    lp = LabelPropagator(device="cpu", k=10)
    s = lp.graph(x)
    assert s[:200, 200:].nnz == 0  # truly disconnected
    for variant in ("reference", "zhou"):
        lp = LabelPropagator(device="cpu", k=10, variant=variant)
        f = lp.scores(x, np.array([0, 1]), np.array([0, 1]), 2)
        assert np.isfinite(f).all() and (f[200:] == 0).all()
        targets, weights = lp.propagate(x, np.array([0, 1]), np.array([0, 1]), 2)
        assert np.isfinite(weights).all()
        assert (weights[200:] == 0).all() and (targets[200:] == -1).all()
        assert (weights[:200] > 0).any()


def _dense_reference(x, k, gamma, degree):
    """Brute-force S on a small set, written independently of the sparse code."""
    xn = l2_normalize(x).astype(np.float64)
    n = len(xn)
    cos = xn @ xn.T
    np.fill_diagonal(cos, -np.inf)
    a = np.zeros((n, n))
    for i in range(n):
        nb = np.argsort(-cos[i], kind="stable")[:k]
        a[i, nb] = np.clip((1 + cos[i, nb]) / 2, 0, 1) ** gamma
    w = a + a.T
    d = (w != 0).sum(1) if degree == "count" else w.sum(1)
    dis = 1 / np.sqrt(d)
    return dis[:, None] * w * dis[None, :]


@pytest.mark.parametrize("variant,gamma", [("reference", 1.0), ("zhou", 3.0)])
def test_graph_and_iteration_match_dense_computation(rng, variant, gamma):
    x = rng.normal(size=(60, 5)).astype(np.float32)
    lp = LabelPropagator(device="cpu", k=7, gamma=gamma, variant=variant, tol=0)
    s = lp.graph(x)
    expected = _dense_reference(x, 7, gamma, "count" if variant == "reference" else "weighted")
    np.testing.assert_allclose(s.toarray(), expected, rtol=1e-5, atol=1e-7)
    assert (s != s.T).nnz == 0
    # the iteration: n_iter dense steps from F = Y0, labeled rows reset at the end
    lab, labels = np.array([3, 10, 20]), np.array([0, 1, 2])
    y0 = np.zeros((60, 3))
    y0[lab, labels] = 1
    alpha = 0.9 if variant == "reference" else 0.99
    f = y0.copy()
    for _ in range(100):
        f = (
            ((1 - alpha) * expected @ f + alpha * y0)
            if variant == "reference"
            else (alpha * expected @ f + (1 - alpha) * y0)
        )
    f[lab] = y0[lab]
    np.testing.assert_allclose(lp.scores(x, lab, labels, 3), f, rtol=1e-4, atol=1e-12)
    assert lp.last_n_iter == 100


def test_torch_sparse_iteration_matches_scipy(rng):
    x = rng.normal(size=(300, 6)).astype(np.float32)
    s = LabelPropagator(device="cpu", k=15).graph(x)
    y0 = np.zeros((300, 4))
    y0[[0, 1, 2, 3], [0, 1, 2, 3]] = 1
    f_sp, n_sp = _iterate_scipy(s, y0, 0.1, 0.9, 100, 1e-7)
    f_t, n_t = _iterate_torch(_to_torch_csr(s, torch.device("cpu")), y0, 0.1, 0.9, 100, 1e-7)
    np.testing.assert_allclose(f_t, f_sp, rtol=1e-10, atol=1e-300)
    assert n_sp == n_t < 100  # the relative stopping rule fires for the reference variant


def test_graph_is_built_once_and_reused(rng):
    x = rng.normal(size=(400, 6)).astype(np.float32)
    lp = LabelPropagator(device="cpu", k=10)
    lp.propagate(x, np.array([0, 1]), np.array([0, 1]), 2)
    lp.propagate(x, np.array([0, 1, 2]), np.array([0, 1, 1]), 2)
    assert lp.n_graph_builds == 1
    lp.propagate(x.copy(), np.array([0]), np.array([1]), 2)  # same contents, other object
    assert lp.n_graph_builds == 1
    x2 = x.copy()
    x2[5] += 1.0
    lp.propagate(x2, np.array([0]), np.array([1]), 2)
    assert lp.n_graph_builds == 2
    x3 = np.vstack([x, x[:3]])
    lp.propagate(x3, np.array([0]), np.array([1]), 2)
    assert lp.n_graph_builds == 3


def test_graph_size_is_linear_in_n_k(rng):
    n, k = 3000, 200
    x = rng.normal(size=(n, 16)).astype(np.float32)
    s = LabelPropagator(device="cpu", k=k).graph(x)
    assert k * n <= s.nnz <= 2 * k * n
    assert s.indices.dtype == np.int32 and s.data.dtype == np.float64
    assert s.diagonal().sum() == 0  # self excluded
    # k is capped at N − 1 on tiny pools
    small = LabelPropagator(device="cpu", k=500).graph(x[:12])
    assert small.nnz == 12 * 11


def test_duplicate_points_exclude_self(rng):
    x = np.repeat(rng.normal(size=(20, 4)), 3, axis=0).astype(np.float32)
    s = LabelPropagator(device="cpu", k=5).graph(x)
    assert s.diagonal().sum() == 0
    assert (np.diff(s.indptr) >= 5).all()


def test_settings_validation_and_variant_defaults():
    with pytest.raises(InvalidInputError, match="valid: variant="):
        LabelPropagator(device="cpu", knn=10)
    with pytest.raises(InvalidInputError, match="variant"):
        LabelPropagator(device="cpu", variant="iscen")
    with pytest.raises(InvalidInputError, match="alpha"):
        LabelPropagator(device="cpu", alpha=1.5)
    with pytest.raises(InvalidInputError, match="k must"):
        LabelPropagator(device="cpu", k=0)
    assert LabelPropagator(device="cpu").settings["alpha"] == 0.9
    assert LabelPropagator(device="cpu", variant="zhou").settings["alpha"] == 0.99
    assert LabelPropagator(device="cpu", variant="zhou", alpha=0.5).settings["alpha"] == 0.5
    lp = LabelPropagator(device="cpu", k=3)
    x = np.eye(6, dtype=np.float32)
    with pytest.raises(InvalidInputError, match="at least one labeled"):
        lp.propagate(x, np.array([], dtype=np.int64), np.array([], dtype=np.int64), 2)
    with pytest.raises(InvalidInputError, match=r"labels must be in \[0, 2\)"):
        lp.propagate(x, np.array([0]), np.array([2]), 2)
    with pytest.raises(InvalidInputError, match="duplicates"):
        lp.propagate(x, np.array([0, 0]), np.array([0, 1]), 2)
    with pytest.raises(InvalidInputError, match="NaN"):
        lp.propagate(np.full((6, 2), np.nan, dtype=np.float32), np.array([0]), np.array([0]), 2)


def test_propagation_weights_entropy():
    f = np.array([[1.0, 0, 0], [1, 1, 1], [0, 0, 0], [2, 1, 1], [0, 5, 0]])
    targets, weights = propagation_weights(f, 3)
    p = np.array([0.5, 0.25, 0.25])
    expected = 1 - (-(p * np.log(p)).sum()) / np.log(3)
    np.testing.assert_allclose(weights, [1, 0, 0, expected, 1], atol=1e-6)
    assert targets.tolist() == [0, 0, -1, 0, 1]


def test_run_al_with_propagation_builds_graph_once(digits, monkeypatch):
    made = []
    original = LabelPropagator.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(LabelPropagator, "__init__", spy)
    run = alkit.run_al(
        digits,
        strategy="entropy",
        propagation={"k": 20},
        iterations=3,
        seed=0,
        device="cpu",
        probe={"max_epochs": 60},
    )
    hist = run.history
    assert len(hist) == 3 and hist["propagate"].all()
    assert hist["accuracy"].notna().all() and (hist["accuracy"] > 0.2).all()  # chance: 0.1
    assert len(made) == 1
    assert made[0].n_graph_builds == 1
    assert made[0].settings["k"] == 20
    assert run.config["propagation"] == {"k": 20}


def test_sparse_matrix_type(rng):
    s = LabelPropagator(device="cpu", k=4).graph(rng.normal(size=(30, 3)).astype(np.float32))
    assert sp.issparse(s) and s.format == "csr"
