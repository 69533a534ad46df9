"""The shared property template every strategy passes (scikit-activeml style).

``check_strategy(name, emb)`` asserts, for a registered strategy on an embedding set:
exact budget; unique, unlabeled indices; determinism under a seed; |U| == budget takes
exactly the rest; budget > |U| and budget ≤ 0 raise; no leakage of hidden labels.
"""

from __future__ import annotations

import numpy as np
import pytest

from alkit import strategies
from alkit.errors import BudgetError
from alkit.pool import Pool
from alkit.probe import LinearProbe

FAST_PROBE = dict(max_epochs=40, patience=10)


def make_state(emb, n_labeled: int, seed: int = 0, labels=None, device="cpu"):
    """A pool with ``n_labeled`` random labeled points (at least one per class when possible)
    and a probe fitted on them."""
    y = emb.y_train if labels is None else labels
    rng = np.random.default_rng(seed)
    first = [
        rng.choice(np.flatnonzero(emb.y_train == c))
        for c in range(emb.n_classes)
        if (emb.y_train == c).any()
    ]
    rest = rng.permutation(np.setdiff1d(np.arange(len(y)), first))
    lab = np.concatenate([first, rest])[:n_labeled]
    labeled = np.zeros(len(y), dtype=bool)
    labeled[lab] = True
    pool = Pool(emb.x_train, emb.n_classes, labeled, y)
    probe = LinearProbe(emb.n_classes, seed=seed, device=device, **FAST_PROBE)
    probe.fit(emb.x_train[lab], emb.y_train[lab])
    return pool, probe


def count_embed_calls(probe, monkeypatch) -> list[int]:
    """Wrap ``probe.embed``: the returned list gets the number of rows of every call."""
    calls: list[int] = []
    real_embed = probe.embed

    def counting_embed(x, rows=None):
        calls.append(len(x) if rows is None else len(rows))
        return real_embed(x, rows=rows)

    monkeypatch.setattr(probe, "embed", counting_embed)
    return calls


def _select(name, pool, probe, budget, seed, params, device="cpu"):
    return strategies.select(
        name, pool, probe, budget, np.random.default_rng(seed), device=device, **params
    )


def check_strategy(name: str, emb, params: dict | None = None, device: str = "cpu") -> None:
    params = dict(params or {})
    C = emb.n_classes
    budget = C
    pool, probe = make_state(emb, 2 * C, device=device)

    # exact budget, unique, unlabeled, valid indices
    sel = _select(name, pool, probe, budget, 1, params, device)
    idx = sel.indices
    assert idx.dtype == np.int64
    assert len(idx) == budget
    assert len(np.unique(idx)) == budget
    assert not pool.labeled[idx].any()
    assert idx.min() >= 0 and idx.max() < pool.n
    assert isinstance(sel.info, dict) and "n_topped_up" in sel.info

    # deterministic under a seed (fresh pool and probe built the same way)
    pool2, probe2 = make_state(emb, 2 * C, device=device)
    sel2 = _select(name, pool2, probe2, budget, 1, params, device)
    np.testing.assert_array_equal(sel2.indices, idx)

    # no leakage: permuting the hidden labels of unlabeled points changes no pick
    perm_y = emb.y_train.copy()
    unl = pool.unlabeled_idx
    perm_y[unl] = np.random.default_rng(99).permutation(perm_y[unl])
    pool3, probe3 = make_state(emb, 2 * C, labels=perm_y, device=device)
    sel3 = _select(name, pool3, probe3, budget, 1, params, device)
    np.testing.assert_array_equal(sel3.indices, idx)

    # nearly exhausted pool: |U| == budget takes exactly the rest
    small = min(pool.n, 6 * C)
    sub_x, sub_y = emb.x_train[:small], emb.y_train[:small]
    labeled = np.ones(small, dtype=bool)
    left = np.random.default_rng(3).choice(small, budget, replace=False)
    labeled[left] = False
    if len(np.unique(sub_y[labeled])) >= 2:
        p_small = Pool(sub_x, C, labeled, sub_y)
        pr_small = LinearProbe(C, seed=0, device=device, **FAST_PROBE).fit(
            sub_x[labeled], sub_y[labeled]
        )
        got = _select(name, p_small, pr_small, budget, 2, params, device)
        assert sorted(got.indices.tolist()) == sorted(left.tolist())
        # budget > |U| raises
        with pytest.raises(BudgetError):
            _select(name, p_small, pr_small, budget + 1, 2, params, device)

    # budget ≤ 0 and non-integers raise clear errors
    for bad in (0, -3, 2.5, "ten"):
        with pytest.raises(BudgetError):
            _select(name, pool, probe, bad, 1, params, device)
