"""Linear memory: BADGE, CoreSet and DropQuery at N = 20 000, d = 256, C = 100 under an
address-space limit that an N × N float32 array (1.6 GB) or an N × (d·C) one (2 GB) exceeds.

The child process imports everything and warms every strategy up on a small pool first
(so lazily loaded libraries and thread pools are already mapped), measures its address
space, then sets ``RLIMIT_AS`` to that plus a margin well below 1.6 GB. It checks that the
limit bites (allocating N × N or N × dC float32 raises ``MemoryError``) before and after
running the three strategies at full size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

N, D, C = 20_000, 256, 100
MARGIN_MB = 800  # headroom over the warmed-up baseline; N×N float32 alone is 1 526 MiB

CHILD = r"""
import json, resource, sys
import numpy as np
import alkit
from alkit import strategies
from alkit.pool import Pool
from alkit.probe import LinearProbe

N, D, C, MARGIN_MB = (int(v) for v in sys.argv[1:5])
NAMES = ("badge", "coreset", "dropquery")


def vm_kb(field="VmSize"):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def state(n):
    emb = alkit.load_embeddings(f"synthetic:N={n},d={D},C={C},seed=0")
    y = emb.y_train
    lab = np.random.default_rng(0).choice(n, 2 * C, replace=False)
    labeled = np.zeros(n, dtype=bool)
    labeled[lab] = True
    probe = LinearProbe(C, seed=0, device="cpu", max_epochs=30, patience=10)
    probe.fit(emb.x_train[lab], y[lab])
    return Pool(emb.x_train, C, labeled, y), probe


def limit_bites():
    for shape in ((N, N), (N, D * C)):
        try:
            a = np.empty(shape, dtype=np.float32)
        except MemoryError:
            continue
        del a
        return False
    return True


small_pool, small_probe = state(2000)
for name in NAMES:   # warm-up: faiss, thread pools, allocator arenas
    strategies.select(name, small_pool, small_probe, C, np.random.default_rng(0), device="cpu")
pool, probe = state(N)
baseline = vm_kb()
limit = (baseline + MARGIN_MB * 1024) * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
out = {"baseline_mb": baseline / 1024, "limit_mb": limit / 2**20, "bites_before": limit_bites()}
for name in NAMES:
    sel = strategies.select(name, pool, probe, C, np.random.default_rng(1), device="cpu")
    idx = sel.indices
    out[name] = {"n": int(len(idx)), "unique": int(len(np.unique(idx))),
                 "labeled": int(pool.labeled[idx].sum()), "vm_mb": vm_kb() / 1024}
out["bites_after"] = limit_bites()
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_badge_coreset_dropquery_fit_in_linear_memory():
    env = dict(os.environ, OMP_NUM_THREADS="2", MALLOC_ARENA_MAX="2", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(N), str(D), str(C), str(MARGIN_MB)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT ") :])
    # the limit is real: an N×N or N×dC float32 array cannot be allocated under it
    assert res["bites_before"] and res["bites_after"], res
    assert MARGIN_MB < (N * N * 4) / 2**20
    for name in ("badge", "coreset", "dropquery"):
        assert res[name] == {**res[name], "n": C, "unique": C, "labeled": 0}, res
