"""Scaling: query time and peak memory against the pool size N.

One child per N: it generates ``synthetic:N=…,d=…,C=…`` in memory (C = ``scaling_c_large`` at
N ≥ 1M, ImageNet-1k's 1000 classes), fits the probe on a random labeled set of the per-query
benchmark's size, and runs each strategy once with a fresh pool, measuring wall time and the
peak RSS of the call. |L| and B are those of the per-query benchmark at every N, so N (and C
at the largest N) is the only thing that changes.

Bounded by prediction: a strategy that did not finish at the previous N is not tried at a
larger one, and one whose time predicted from the previous N (linear in N) would overrun the
child's remaining time is skipped with that prediction as the reason; the child's wall-clock
limit catches the rest. A whole N is skipped when the machine has not enough free memory for
the features plus one copy of them (what every strategy's ``pool.x[unlabeled]`` costs). At
N > 50 000 ProbCover runs with its approximate index (``index="ivf"``) when the registry lists one
(``alkit.strategies.info("probcover").params["index"]``), else it is skipped (the exact δ
search is N²·d).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common import (
    SCALING_STRATEGIES,
    Mode,
    available_memory_gib,
    effective_mem_limit_gib,
    make_problem,
    measure,
    mode_dict,
    mode_from_dict,
    run_case,
)

GIB = 1 << 30
EXACT_PROBCOVER_MAX_N = 50_000


def _params(strategy: str, N: int) -> tuple[dict[str, Any] | None, str]:
    """Strategy parameters at this N, or None and the reason to skip."""
    import alkit

    if strategy == "probcover" and N > EXACT_PROBCOVER_MAX_N:
        params = alkit.strategies.info("probcover").params
        if "index" in params:
            return {
                "index": "ivf"
            }, "approximate index (ivf: inverted lists by matrix products, no pool copy)"
        return None, "probcover has no approximate-index option; the exact δ search is N²·d"
    return {}, ""


def case(
    emit,
    N: int,
    C: int,
    strategies: list[str],
    previous: dict[str, Any],
    mode: dict[str, Any],
    deadline_s: float,
    device: str = "cpu",
) -> None:
    """Child: every strategy once at pool size ``N``; ``previous`` = {strategy: (N, seconds or None)}."""
    import numpy as np

    import alkit

    start = time.perf_counter()
    m = mode_from_dict(mode)
    q = m.query
    d = m.scaling_d
    L, B = min(q["n_labeled"], N // 4), q["budget"]
    prob = make_problem(N, d, C, L, device=device, max_epochs=m.extra.get("max_epochs"))
    registered = set(alkit.strategies.available())
    for name in strategies:
        base = {
            "strategy": name,
            "N": N,
            "d": d,
            "C": C,
            "n_labeled": L,
            "budget": B,
            "device": device,
            "setup_seconds": prob["setup_seconds"],
        }
        if name not in registered:
            emit({**base, "status": "skipped", "note": f"strategy {name!r} not registered yet"})
            continue
        params, pnote = _params(name, N)
        if params is None:
            emit({**base, "status": "skipped", "note": pnote})
            continue
        prev = previous.get(name)
        if prev is not None:
            prev_n, prev_s = prev
            if prev_s is None:
                emit({**base, "status": "skipped", "note": f"did not finish at N={prev_n}"})
                continue
            predicted = prev_s * N / prev_n
            remaining = deadline_s - (time.perf_counter() - start)
            if predicted > remaining:
                emit(
                    {
                        **base,
                        "status": "skipped",
                        "note": f"predicted {predicted:.0f} s (linear from {prev_s:.1f} s at N={prev_n}) "
                        f"> {remaining:.0f} s left in this case",
                    }
                )
                continue
        pool = alkit.Pool(prob["x"], C, prob["labeled"], prob["labels"])
        try:
            secs, peak, before, sel = measure(
                lambda pool=pool, params=params, name=name: alkit.strategies.select(
                    name, pool, prob["probe"], B, np.random.default_rng(0), device=device, **params
                )
            )
        except MemoryError as exc:
            emit({**base, "status": "oom", "note": f"MemoryError: {exc}"[:200]})
            continue
        scalars = {k: v for k, v in sel.info.items() if isinstance(v, (bool, int, float, str))}
        emit(
            {
                **base,
                "status": "ok",
                "seconds": secs,
                "peak_rss_mib": peak,
                "rss_before_mib": before,
                "n_candidates": sel.info.get("n_candidates"),
                "note": pnote,
                "info": json.dumps(scalars, sort_keys=True, default=str),
            }
        )
        del pool, sel


def run(
    mode: Mode, out: Path, device: str = "cpu", query_rows: list[dict] | None = None, log=print
) -> list[dict[str, Any]]:
    """Parent: one child per N (reusing the per-query benchmark's rows when its config matches)."""
    strategies = list(mode.extra.get("scaling_strategies", SCALING_STRATEGIES))
    q = mode.query
    rows: list[dict[str, Any]] = []
    previous: dict[str, Any] = {}
    for N in mode.scaling_n:
        C = mode.scaling_c_large if N >= 1_000_000 else mode.scaling_c
        reused = _reuse(query_rows or [], N, mode.scaling_d, C, q, strategies)
        if reused:
            rows.extend(reused)
            for r in reused:
                previous[r["strategy"]] = (N, r.get("seconds") if r["status"] == "ok" else None)
            log(f"  scaling N={N:>9,d}: reused {len(reused)} rows of the per-query benchmark")
            continue
        need = N * mode.scaling_d * 4 * 2.2 / GIB + 1.5
        avail = available_memory_gib()
        base = {
            "N": N,
            "d": mode.scaling_d,
            "C": C,
            "n_labeled": min(q["n_labeled"], N // 4),
            "budget": q["budget"],
            "device": device,
        }
        if need > avail:
            for s in strategies:
                rows.append(
                    {
                        **base,
                        "strategy": s,
                        "status": "skipped",
                        "note": f"needs ≈ {need:.1f} GiB (features + one copy), {avail:.1f} GiB available",
                    }
                )
            log(
                f"  scaling N={N:>9,d}: skipped (needs ≈ {need:.1f} GiB, {avail:.1f} GiB available)"
            )
            continue
        timeout = mode.scaling_timeout_s * (1.5 if N >= 1_000_000 else 1.0)
        res = run_case(
            "bench_scaling:case",
            {
                "N": N,
                "C": C,
                "strategies": strategies,
                "previous": previous,
                "mode": mode_dict(mode),
                "deadline_s": timeout * 0.9,
                "device": device,
            },
            timeout,
            effective_mem_limit_gib(max(mode.mem_limit_gib, need + 4)),
            out / "_work" / f"scaling_{N}.jsonl",
            in_process=mode.in_process,
        )
        done = {r["strategy"] for r in res.rows}
        rows.extend(res.rows)
        for r in res.rows:
            previous[r["strategy"]] = (N, r.get("seconds") if r["status"] == "ok" else None)
        for s in strategies:
            if s not in done:
                why = {
                    "timeout": f"did not finish in {timeout:.0f} s (case limit)",
                    "oom": f"out of memory: {res.message}",
                }.get(res.status, f"{res.status}: {res.message}")
                rows.append(
                    {
                        **base,
                        "strategy": s,
                        "status": res.status if res.status != "ok" else "missing",
                        "note": why,
                    }
                )
                previous[s] = (N, None)
        ok = [r for r in res.rows if r["status"] == "ok"]
        log(
            f"  scaling N={N:>9,d}: {res.status}, {len(ok)}/{len(strategies)} strategies measured "
            f"({res.seconds:.0f} s)"
        )
    return rows


def _reuse(
    query_rows: list[dict], N: int, d: int, C: int, q: dict, strategies: list[str]
) -> list[dict]:
    """Rows of the per-query benchmark at exactly this configuration, median of its cold reps."""
    if N != q["N"] or d != q["d"] or C != q["C"]:
        return []
    from common import median

    out = []
    for s in strategies:
        mine = [r for r in query_rows if r.get("strategy") == s and r.get("kind") == "alkit"]
        cold = [r for r in mine if r.get("variant") == "cold" and r.get("status") == "ok"]
        base = {
            "strategy": s,
            "N": N,
            "d": d,
            "C": C,
            "n_labeled": q["n_labeled"],
            "budget": q["budget"],
            "source": "per-query benchmark",
        }
        if cold:
            out.append(
                {
                    **base,
                    "status": "ok",
                    "seconds": median([r["seconds"] for r in cold]),
                    "peak_rss_mib": median([r["peak_rss_mib"] for r in cold]),
                }
            )
        elif mine:
            fail = [r for r in mine if r.get("status") != "ok"]
            out.append(
                {
                    **base,
                    "status": fail[0]["status"] if fail else "missing",
                    "note": fail[0].get("note", "") if fail else "",
                }
            )
    return out if out else []
