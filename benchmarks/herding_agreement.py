"""MaxHerding / UHerding with truncated kernel rows against the exact greedy: picks and coverage.

The fast strategies sum each candidate's gain over its ``k`` nearest points only (the coverage
itself is kept exactly). This script runs them at several k and compares with the exact greedy
on the full kernel, computed here without an N × N array: a lazy greedy whose gains are exact
row sums over all N points, evaluated in blocks of rows (one all-pairs pass at the start, then
only the rows whose stale gain could still win). On a pool small enough for the dense
reference (``alkit.strategies.maxherding.maxherding_reference``) the exact greedy is checked
equal to it first.

Reported per (method, |L|, k): ``overlap`` = |fast ∩ exact| / B, ``coverage_ratio`` =
UC(L ∪ fast) / UC(L ∪ exact) and ``gain_ratio`` = (UC(L ∪ fast) − UC(L)) / (UC(L ∪ exact) −
UC(L)), UC the (uncertainty-weighted) kernel coverage both maximise, and the seconds of each.
The figures in docs/strategies_herding.md come from::

    .venv/bin/python benchmarks/herding_agreement.py --data digits --labeled 0 10 20 --ks 25 50 100 200
    .venv/bin/python benchmarks/herding_agreement.py --data "synthetic:N=20000,d=256,C=20,seed=0" \\
        --labeled 0 20 40 --ks 25 50 100 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

BLOCK_ROWS = 512


def exact_gains(xt, rows, c, w, inv_s2):
    """Σ_j w_j max(0, k(x_i, x_j) − c_j) for ``rows`` over all N points (float64), in blocks."""
    import torch

    out = np.empty(len(rows))
    ct = torch.from_numpy(c)
    wt = torch.from_numpy(w)
    for s in range(0, len(rows), BLOCK_ROWS):
        r = torch.from_numpy(rows[s : s + BLOCK_ROWS])
        sims = (xt[r] @ xt.T).double()
        k = torch.exp(-torch.clamp(2.0 - 2.0 * sims, min=0.0) * inv_s2)
        k[torch.arange(len(r)), r] = 1.0
        out[s : s + len(r)] = (torch.clamp(k - ct, min=0.0) * wt).sum(1).numpy()
    return out


def exact_greedy(x_l2, labeled, budget, sigma, weights=None, c0=None):
    """The exact herding greedy (full kernel rows), lazily, with O(N · BLOCK_ROWS) memory."""
    import torch

    n = len(x_l2)
    xt = torch.from_numpy(np.ascontiguousarray(x_l2, dtype=np.float32))
    inv_s2 = 1.0 / sigma**2
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    c = np.zeros(n) if c0 is None else np.array(c0, dtype=np.float64)
    cand = np.flatnonzero(~labeled)
    bound = np.full(n, -np.inf)
    bound[cand] = exact_gains(xt, cand, c, w, inv_s2)
    fresh = np.zeros(n, dtype=bool)
    fresh[cand] = True
    picks = []
    for _ in range(budget):
        batch = 256
        while True:
            i = int(np.argmax(bound))
            if fresh[i]:
                break
            stale = np.flatnonzero(~fresh & (bound > -np.inf))
            if len(stale) > batch:
                stale = stale[np.argpartition(-bound[stale], batch - 1)[:batch]]
            bound[stale] = exact_gains(xt, stale, c, w, inv_s2)
            fresh[stale] = True
            batch *= 2
        picks.append(i)
        bound[i] = -np.inf
        sim = (xt @ xt[i]).double().numpy()
        ki = np.exp(-np.maximum(2.0 - 2.0 * sim, 0.0) * inv_s2)
        ki[i] = 1.0
        np.maximum(c, ki, out=c)
        fresh[:] = False
    return np.asarray(picks, dtype=np.int64)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="an alkit.load_embeddings name")
    p.add_argument("--budget", type=int, default=None, help="B (default: C)")
    p.add_argument("--labeled", type=int, nargs="+", default=[0], help="|L| values (random L)")
    p.add_argument("--ks", type=int, nargs="+", default=[25, 50, 100, 200])
    p.add_argument("--methods", nargs="+", default=["maxherding", "uherding"])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import alkit
    from alkit.pool import Pool
    from alkit.probe import LinearProbe
    from alkit.strategies import uherding as U
    from alkit.strategies._herding import labeled_coverage
    from alkit.strategies.maxherding import maxherding, maxherding_reference

    emb = alkit.load_embeddings(args.data)
    x, y, C = emb.x_train, emb.y_train, emb.n_classes
    n = len(x)
    budget = args.budget or C
    x_l2 = Pool(x, C).x_l2
    if n <= 3000:  # the exact greedy equals the dense reference
        lab = np.zeros(n, dtype=bool)
        lab[:: n // 7] = True
        ref = maxherding_reference(x, lab, budget)
        got = exact_greedy(
            x_l2, lab, budget, 1.0, c0=labeled_coverage(x_l2, np.flatnonzero(lab), 1.0)
        )
        assert np.array_equal(ref, got), (ref, got)
        print("exact lazy greedy == dense reference on this pool")
    print(
        f"{'method':10s} {'|L|':>5s} {'k':>5s} {'overlap':>8s} {'cov_ratio':>10s} "
        f"{'gain_ratio':>10s} {'fast_s':>7s} {'exact_s':>7s}  (N={n}, B={budget})"
    )
    for n_lab in args.labeled:
        rng = np.random.default_rng([args.seed, n_lab])
        labeled = np.zeros(n, dtype=bool)
        labeled[rng.choice(n, n_lab, replace=False)] = True
        probe = None
        if n_lab:
            probe = LinearProbe(C, seed=args.seed, device="cpu").fit(x[labeled], y[labeled])
        for method in args.methods:
            if method == "uherding" and not n_lab:
                continue  # with nothing labeled UHerding is MaxHerding (its initial pool)
            exact = None
            for k in args.ks:
                pool = Pool(x, C, labeled, np.where(labeled, y, -1))
                t0 = time.perf_counter()
                if method == "maxherding":
                    sel = maxherding(
                        pool, None, budget, np.random.default_rng(0), k=k, device="cpu"
                    )
                    w = np.ones(n)
                else:
                    sel = U.uherding(
                        pool, probe, budget, np.random.default_rng(0), k=k, device="cpu"
                    )
                    z = U._logits(probe, x) / sel.info["temperature"]
                    w = np.where(labeled, 0.0, U.uncertainty_weights(U._softmax(z), "margin"))
                t_fast = time.perf_counter() - t0
                sigma = sel.info["sigma"]
                c0 = labeled_coverage(x_l2, np.flatnonzero(labeled), sigma)
                if exact is None:
                    t0 = time.perf_counter()
                    exact = exact_greedy(x_l2, labeled, budget, sigma, w, c0)
                    t_exact = time.perf_counter() - t0

                def uc(picks, w=w, c0=c0, sigma=sigma):
                    c = c0.copy()
                    for i in picks:
                        sim = x_l2 @ x_l2[i]
                        ki = np.exp(-np.maximum(2.0 - 2.0 * sim.astype(np.float64), 0) / sigma**2)
                        ki[i] = 1.0
                        np.maximum(c, ki, out=c)
                    return float((w * c).mean())

                base = float((w * c0).mean())
                f_fast, f_exact = uc(sel.indices), uc(exact)
                overlap = len(set(sel.indices.tolist()) & set(exact.tolist())) / budget
                print(
                    f"{method:10s} {n_lab:5d} {sel.info['k']:5d} {overlap:8.2f} "
                    f"{f_fast / f_exact:10.5f} {(f_fast - base) / (f_exact - base):10.4f} "
                    f"{t_fast:7.2f} {t_exact:7.2f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
