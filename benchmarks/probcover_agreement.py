"""ProbCover's approximate δ-ball graph against the exact one: edge recall, precision, picks.

Builds ProbCover's graph on one pool with ``index="exact"`` and with each approximate index
(``"hnsw"``: ``alkit.strategies.probcover.knn.AdaptiveKnn``, lists of ``max_neighbors`` + 1 that grow where a ball
or the δ search needs more; ``"ivf"``: ``alkit.strategies.probcover.ivf.ivf_ball_graph``, one screened range pass
over the pairs of inverted lists that search one another, ``max_neighbors`` unused), then compares the edge sets and the B picks from
an empty pool. The
figures in docs/strategies_representative.md come from this script, e.g.::

    .venv/bin/python benchmarks/probcover_agreement.py --data "synthetic:N=20000,d=256,C=20,seed=0" \\
        --budget 20 --runs hnsw:256 ivf hnsw:64
    .venv/bin/python benchmarks/probcover_agreement.py --data "synthetic:N=50000,d=1536,C=100,seed=0,test=0" \\
        --budget 100 --runs ivf hnsw:256
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", required=True, help="an alkit.load_embeddings name (e.g. synthetic:N=…,d=…,C=…)"
    )
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--delta", type=float, default=None, help="a fixed δ (default: searched)")
    p.add_argument(
        "--runs", nargs="+", default=["hnsw:256"], help="INDEX[:MAX_NEIGHBORS] (ivf ignores it)"
    )
    args = p.parse_args(argv)

    import scipy.sparse as sp

    import alkit
    from alkit.strategies.probcover import probcover

    emb = alkit.load_embeddings(args.data)
    x, C = emb.x_train, emb.n_classes
    n = len(x)

    def one(index: str, mn: int):
        pool = alkit.Pool(x, C)
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sel = probcover(
                pool,
                None,
                args.budget,
                np.random.default_rng(0),
                device="cpu",
                index=index,
                max_neighbors=mn,
                delta=args.delta,
            )
        return sel, pool.cache["probcover"]["graph"], time.perf_counter() - t, caught

    def adj(g):
        return sp.csr_matrix((np.ones(g.n_edges, np.int8), g.indices, g.indptr), shape=(n, n))

    se, ge, te, _ = one("exact", 256)
    print(
        f"exact: {te:.1f} s, δ = {se.info['delta']}, {ge.n_edges} edges, largest ball {ge.degrees().max()}, "
        f"coverage {se.info['coverage']:.4f}"
    )
    a = adj(ge)
    print(
        "| index | max_neighbors | largest ball | balls capped | rows re-searched | candidates per row | "
        "edge recall | edge precision | picks shared (same order) | time s (exact) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        index, _, mn = run.partition(":")
        mn = mn or "256"
        sa, ga, ta, caught = one(index, int(mn))
        b = adj(ga)
        inter = a.multiply(b).nnz
        shared = len(set(se.indices.tolist()) & set(sa.indices.tolist()))
        same = bool(len(se.indices) == len(sa.indices) and (se.indices == sa.indices).all())
        cand = sa.info.get("ivf_mean_candidates")
        print(
            f"| {index} | {'—' if index == 'ivf' else mn} | {ga.degrees().max()} | "
            f"{sa.info.get('n_balls_capped', '—')} | {sa.info.get('n_requeried', '—')} | "
            f"{'—' if cand is None else f'{cand:.0f} of {n}'} | {inter / a.nnz:.6f} | {inter / b.nnz:.6f} | "
            f"{shared} / {len(se.indices)} ({'yes' if same else 'no'}) | {ta:.1f} ({te:.1f}) |"
            + (f" warnings: {[str(w.message)[:60] for w in caught]}" if caught else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
