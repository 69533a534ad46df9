"""Float64 row buffers (alkit._kernels.rows): every path reads the same float64 values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alkit import strategies
from alkit._kernels import rows
from alkit._kernels.rows import F64Rows, LazyF64Rows, row_source, sq_norms64_and_blocks

from ..strategies.template import count_embed_calls, make_state

CPU = torch.device("cpu")


def test_copy_block_and_recomputed_rows_agree(monkeypatch):
    """One float64 copy, float32 blocks converted per pass and recomputed rows: same values."""
    x = np.random.default_rng(0).standard_normal((300, 5)).astype(np.float32)
    copied = F64Rows(x, CPU)
    monkeypatch.setattr(rows, "F64_COPY_MAX_BYTES", 0)
    blocked = F64Rows(x, CPU)
    lazy = LazyF64Rows(lambda idx: x[idx], len(x), x.shape[1], CPU)
    assert copied.full is not None and blocked.full is None
    for r in (blocked, lazy):
        got = torch.cat([xb.clone() for _, _, xb in r.blocks(64)])
        np.testing.assert_array_equal(got.numpy(), x.astype(np.float64))
        np.testing.assert_array_equal(r.row(17).numpy(), x[17].astype(np.float64))
    np.testing.assert_array_equal(copied.sq_norms().numpy(), blocked.sq_norms().numpy())
    for src in (x, copied, blocked, lazy):
        take, n, d = row_source(src, CPU)
        assert (n, d) == x.shape
        np.testing.assert_array_equal(take(slice(3, 9)).numpy(), x[3:9])
        sq = torch.empty(n, dtype=torch.float64)
        starts = [s for s, _ in sq_norms64_and_blocks(take, n, sq, rows=128)]
        assert starts == [0, 128, 256]
        np.testing.assert_allclose(sq.numpy(), (x.astype(np.float64) ** 2).sum(1), rtol=1e-15)


@pytest.mark.parametrize("name", ["coreset", "badge"])
def test_float64_block_path_gives_identical_picks(name, digits, monkeypatch):
    """Above the copy limit, float32 rows converted per block give the same picks as one copy."""
    pool, probe = make_state(digits, 30)
    copy = strategies.select(name, pool, probe, 10, np.random.default_rng(4))
    monkeypatch.setattr(rows, "F64_COPY_MAX_BYTES", 0)
    blocks = strategies.select(name, pool, probe, 10, np.random.default_rng(4))
    np.testing.assert_array_equal(copy.indices, blocks.indices)


def test_badge_recomputed_embeddings_give_identical_picks(digits, monkeypatch):
    """Above the store limit BADGE recomputes z from the pool per pass: same picks."""
    pool, probe = make_state(digits, 30)
    monkeypatch.setattr(rows, "F64_COPY_MAX_BYTES", 0)  # the stored path in blocks too
    stored = strategies.select("badge", pool, probe, 10, np.random.default_rng(7))
    calls = count_embed_calls(probe, monkeypatch)
    monkeypatch.setattr(rows, "STORE_Z_MAX_BYTES", 0)
    lazy = strategies.select("badge", pool, probe, 10, np.random.default_rng(7))
    np.testing.assert_array_equal(stored.indices, lazy.indices)
    assert len(calls) > 10  # z was recomputed pass after pass, never stored


def test_take_rows_equals_fancy_indexing():
    from alkit._kernels.rows import take_rows

    r = np.random.default_rng(0)
    idx = np.sort(r.choice(500, 123, replace=False))
    for x in (
        r.standard_normal((500, 7)).astype(np.float32),
        r.standard_normal((500, 7)),
        r.integers(0, 9, (500, 7)),
        np.asfortranarray(r.standard_normal((500, 7))),
    ):
        np.testing.assert_array_equal(take_rows(x, idx), x[idx])
    ro = r.standard_normal((500, 7)).astype(np.float32)
    ro.flags.writeable = False
    np.testing.assert_array_equal(take_rows(ro, idx), ro[idx])
    # into a buffer: torch's gather for a writable array, numpy's for a read-only one
    for x in (ro, ro.copy()):
        buf = np.empty((len(idx), 7), np.float32)
        got = take_rows(x, idx, out=buf)
        assert got is buf
        np.testing.assert_array_equal(buf, x[idx])
