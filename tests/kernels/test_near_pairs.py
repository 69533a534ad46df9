"""The screened near-pairs pass: the pairs and nearest-other distances of a plain float32 pass."""

import numpy as np
import pytest
import torch

from alkit._kernels import near_pairs as npk
from alkit._kernels import screen
from alkit._kernels.norms import l2_normalize


def _clustered(n=1500, d=48, k=8, spread=0.9, seed=0):
    r = np.random.default_rng(seed)
    centres = r.standard_normal((k, d))
    lab = r.integers(0, k, n)
    x = l2_normalize((centres[lab] + spread * r.standard_normal((n, d))).astype(np.float32))
    return x, lab


def _float32_sqdist(x):
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    sq = (xt * xt).sum(1)
    return torch.addmm(sq[:, None] + sq[None, :], xt, xt.T, alpha=-2.0).clamp_min_(0).numpy()


def _dense(p, n):
    m = np.zeros((n, n), dtype=bool)
    m[np.repeat(np.arange(n), np.diff(p.indptr)), p.indices] = True
    return m


@pytest.mark.parametrize("screened", [True, False])
@pytest.mark.parametrize("radius_sq", [0.4, 0.9, 1.3])
def test_pairs_and_nearest_other_equal_a_float32_pass(screened, radius_sq):
    x, lab = _clustered()
    n = len(x)
    d2 = _float32_sqdist(x)
    order = np.argsort(lab, kind="stable")
    pairs, r2 = npk.near_pairs(
        x, radius_sq, order=order, labels=lab, device="cpu", screened=screened
    )
    want = d2 < np.float32(radius_sq)
    np.fill_diagonal(want, True)
    got = _dense(pairs, n)
    # a pair whose d² is within the last bits of the radius may fall either way between two
    # float32 products of different shapes
    edge = np.abs(d2 - np.float32(radius_sq)) < 1e-5
    assert edge.sum() < 10
    np.testing.assert_array_equal(got[~edge], want[~edge])
    assert (got == got.T).all()  # each unordered pair computed once: symmetric
    for i in range(0, n, 97):  # ascending per row, distances those of the float32 pass
        cols = pairs.indices[pairs.indptr[i] : pairs.indptr[i + 1]]
        assert (np.diff(cols) > 0).all()
        np.testing.assert_allclose(
            pairs.d2[pairs.indptr[i] : pairs.indptr[i + 1]],
            np.where(cols == i, 0.0, d2[i, cols]),
            rtol=0,
            atol=2e-6,
        )
    other = np.where(lab[:, None] != lab[None, :], d2, np.inf).min(1)
    below = other < np.float32(radius_sq)
    np.testing.assert_allclose(r2[below], other[below], rtol=0, atol=2e-6)
    assert np.isinf(r2[~below]).all()


def test_order_does_not_change_the_result():
    x, lab = _clustered(seed=1)
    a, ra = npk.near_pairs(x, 0.9, labels=lab, device="cpu", screened=True)
    b, rb = npk.near_pairs(
        x, 0.9, order=np.random.default_rng(0).permutation(len(x)), labels=lab, device="cpu"
    )
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.d2, b.d2, rtol=0, atol=2e-6)
    np.testing.assert_allclose(ra, rb, rtol=0, atol=2e-6)


def test_screen_rules_out_most_columns_of_clustered_rows(monkeypatch):
    """The point of the screen: the float32 product sees only the near columns."""
    x, lab = _clustered(n=3000, spread=0.5, seed=2)
    seen = []
    real = torch.addmm

    def counting(*args, **kw):
        seen.append(args[3].shape[1] if len(args) > 3 else args[2].shape[1])
        return real(*args, **kw)

    monkeypatch.setattr(npk.torch, "addmm", counting)
    npk.near_pairs(x, 0.5, order=np.argsort(lab, kind="stable"), device="cpu", screened=True)
    upper = len(x) * (len(x) + 1) / 2 / npk.ROW_BLOCK
    assert sum(seen) < 0.3 * upper


def test_rows_not_unit_are_not_screened_and_stay_exact():
    x, _ = _clustered(n=400, seed=3)
    x[5] = 0.0  # a zero row: no direction for the screen
    x[7] *= 3.0
    pairs, _ = npk.near_pairs(x, 0.9, device="cpu", screened=True)
    want = _float32_sqdist(x) < np.float32(0.9)
    np.fill_diagonal(want, True)
    np.testing.assert_array_equal(_dense(pairs, len(x)), want)


def test_pairs_dropped_beyond_keep_bytes_but_minima_kept():
    x, lab = _clustered(n=600, seed=4)
    full, r_full = npk.near_pairs(x, 1.0, labels=lab, device="cpu", screened=True)
    none, r_none = npk.near_pairs(x, 1.0, labels=lab, device="cpu", keep_bytes=1000)
    assert none is None and full is not None
    np.testing.assert_array_equal(r_full, r_none)


def test_screen_cos_is_a_proven_bound():
    """Below the returned cosine, the screen's lower bound on d² is at least the radius."""
    r = np.random.default_rng(5)
    tol = screen.COS_TOL[torch.bfloat16]
    for radius_sq in (0.3, 0.968, 1.5):
        for eta in (0.0, 1e-4, 1e-3):
            cut = npk.screen_cos(radius_sq, eta, tol)
            norms = torch.from_numpy(1 + eta * (2 * r.random((2, 200)) - 1)).float()
            cos = torch.from_numpy(r.uniform(-1, cut, 200)).float()
            lb = screen.lower_bound_sq(norms[0] ** 2, norms[0], norms[1] ** 2, norms[1], cos, tol)
            assert (lb >= radius_sq * (1 - 1e-6)).all()
    assert npk.screen_cos(2.5, 0.0, tol) == -np.inf  # nothing can be ruled out
