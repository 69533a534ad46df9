"""CoreSet: known answers, the brute-force traversal and the library's reference."""

from __future__ import annotations

import numpy as np
import pytest

from alkit import strategies
from alkit.strategies.coreset import coreset, coreset_reference

from .embed_probe import EmbedProbe, id_pool
from .template import make_state


def test_coreset_farthest_first_on_a_line():
    pos = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    emb = np.stack([pos, np.zeros_like(pos)], 1)
    sel = coreset(id_pool(6, labeled=[0]), EmbedProbe(emb), 5, np.random.default_rng(0))
    # 16 (dist 16 from 0), then 8 (8 from both ends), 4, 2, 1
    np.testing.assert_array_equal(sel.indices, [5, 4, 3, 2, 1])
    assert sel.info["radius"] == 0.0


def test_coreset_partial_batch_and_radius():
    pos = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 3.0])
    emb = pos[:, None]
    sel = coreset(id_pool(7, labeled=[0, 6]), EmbedProbe(emb), 2, np.random.default_rng(0))
    # nearest centre of 1, 2, 4, 8, 16 in {0, 3}: 1, 1, 1, 5, 13 → 16; then 8 (5 from 3)
    np.testing.assert_array_equal(sel.indices, [5, 4])
    assert sel.info["radius"] == pytest.approx(1.0)  # 1, 2 and 4 are all 1 from a centre


def test_coreset_matches_bruteforce_on_digits(digits):
    pool, probe = make_state(digits, 30)
    z = probe.embed(pool.x).astype(np.float64)
    lab, unl = pool.labeled_idx, pool.unlabeled_idx
    dist = np.sqrt(((z[unl, None, :] - z[None, lab, :]) ** 2).sum(-1)).min(1)
    expected = []
    for _ in range(15):
        j = int(np.argmax(dist))
        expected.append(unl[j])
        dist = np.minimum(dist, np.sqrt(((z[unl] - z[unl[j]]) ** 2).sum(1)))
    sel = strategies.select("coreset", pool, probe, 15, np.random.default_rng(0), device="cpu")
    np.testing.assert_array_equal(sel.indices, expected)


@pytest.mark.parametrize("n_labeled", [0, 30])
def test_coreset_equals_reference_on_digits(digits, n_labeled):
    """The strategy's picks and radius are those of the plain traversal on its embeddings."""
    pool, probe = make_state(digits, max(n_labeled, 1))
    if not n_labeled:
        pool = pool.__class__(pool.x, pool.n_classes, np.zeros(len(pool.x), bool), pool.labels)
    lab, unl = pool.labeled_idx, pool.unlabeled_idx
    z = probe.embed(pool.x)
    sel = strategies.select("coreset", pool, probe, 15, np.random.default_rng(5), device="cpu")
    picks, radius = coreset_reference(z[unl], z[lab], 15, np.random.default_rng(5))
    np.testing.assert_array_equal(sel.indices, unl[picks])
    assert sel.info["radius"] == pytest.approx(radius, rel=1e-12)


def test_registry_entries():
    for name in ("coreset", "badge", "alfamix"):
        assert strategies.info(name).family == "diversity"
        assert strategies.default_initial_pool(name) == "random"
    assert strategies.info("alfamix").params == {"epsilon": None}
    assert strategies.info("coreset").params == {} and strategies.info("badge").params == {}
