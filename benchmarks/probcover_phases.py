"""Where ProbCover's ``index="ivf"`` query spends its time, phase by phase, on one synthetic pool.

Times, in one process and in order, what one ProbCover query with ``index="ivf"`` does: the
pseudo-class k-means (``alkit.cluster.kmeans_nearest``), the inverted lists nested in the
pseudo-classes, the range pass (nearest other pseudo-class, ball sizes at every reachable δ,
the kept pairs), the cut of the graph at the chosen δ and the greedy cover. The figures in
docs/performance.md ("Scaling to N = 1.28M") come from::

    .venv/bin/python benchmarks/probcover_phases.py --n 1280000 --classes 1000

(about 7 minutes and 14 GiB on 2 cores; ``--n 320000 --classes 250`` takes about a minute).
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=320_000, help="pool size (default 320000)")
    p.add_argument("--d", type=int, default=1536, help="feature dimension (default 1536)")
    p.add_argument("--classes", type=int, default=250, help="classes C (default 250)")
    p.add_argument("--budget", type=int, default=100, help="picks of the greedy cover")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import numpy as np
    from common import synthetic_x

    from alkit._kernels.norms import l2_normalize
    from alkit.cluster import kmeans_nearest
    from alkit.strategies.probcover import ivf
    from alkit.strategies.probcover.graph import (
        bisection_grid,
        greedy_cover,
        keep_pairs_bytes,
        search_delta,
    )

    t = time.perf_counter()
    x, _ = synthetic_x(args.n, args.d, args.classes, args.seed)
    x = l2_normalize(x)
    rows = [("synthetic pool (not part of a query)", time.perf_counter() - t, "")]
    rng = np.random.default_rng(args.seed)

    def timed(name, fn, note=lambda r: ""):
        t0 = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t0, note(out)))
        print(f"{name}: {rows[-1][1]:.1f} s {rows[-1][2]}", flush=True)
        return out

    _, pseudo = timed(
        "pseudo-class k-means (seeding, Lloyd, assignment)",
        lambda: kmeans_nearest(x, args.classes, rng, device="cpu", normalize=False),
    )
    lx = timed(
        "inverted lists nested in the pseudo-classes",
        lambda: ivf._ListIndex(x, int(rng.integers(2**31 - 1)), "cpu", groups=pseudo),
        lambda lx: f"({lx.nlist} lists)",
    )
    grid = bisection_grid(6)
    r2, _ = timed(
        "range pass (screened, each pair of lists once)",
        lambda: lx.range_counts(grid**2, pseudo, keep_bytes=keep_pairs_bytes(), count=False),
        lambda _: (
            f"({lx.n_candidates / args.n:.0f} distances per row, "
            f"{lx.n_screened_out / max(1, lx.n_candidates):.0%} screened out)"
        ),
    )
    search = search_delta(r2)
    g = timed(
        "graph cut at δ",
        lambda: lx.kept_graph(search["delta"]),
        lambda g: f"(δ = {search['delta']}, {g.n_edges} edges)",
    )
    timed("greedy cover", lambda: greedy_cover(g, args.budget))
    print("\n| phase | seconds |\n|---|---|")
    for name, sec, note in rows:
        print(f"| {name} {note} | {sec:.1f} |")
    print(f"| query (all but the pool) | {sum(r[1] for r in rows[1:]):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
