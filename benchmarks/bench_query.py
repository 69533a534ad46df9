"""Per-query cost of every registered strategy, and its arithmetic limit on the same arrays.

One child process per strategy: it builds the shared problem (``common.make_problem``: the
synthetic pool, a random labeled set of ``n_labeled`` points, the probe fitted on it), then
times ``alkit.strategies.select`` ``reps`` times on a fresh :class:`alkit.Pool` each (an empty
per-run cache: the cost of a first query), each with its own peak-RSS measurement. A strategy
that leaves state in ``pool.cache`` (TypiClust's clusters, ProbCover's graph) gets one more
timed call that reuses it (``variant = "warm cache"``: the cost of a later query of the same
run). Then the child times the strategy's arithmetic limit (:mod:`bench_limits`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import (
    CaseResult,
    Mode,
    effective_mem_limit_gib,
    make_problem,
    measure,
    median,
    mode_from_dict,
    run_case,
    status_row,
    strategy_registered,
)

#: The strategy list; names not registered in the running alkit are skipped with a reason.
STRATEGIES = [
    "random",
    "least_confidence",
    "entropy",
    "margin",
    "bald",
    "power_bald",
    "dropquery",
    "coreset",
    "badge",
    "alfamix",
    "typiclust",
    "probcover",
    "maxherding",
    "uherding",
]


def case(emit, strategy: str, mode: dict[str, Any], device: str = "cpu") -> None:
    """Child: time one strategy (``reps`` cold calls, one warm call if it caches) and its limit."""
    import numpy as np
    from bench_limits import strategy_limit

    import alkit

    m = mode_from_dict(mode)
    q = m.query
    ok, why = strategy_registered(strategy)
    base = {
        "strategy": strategy,
        "N": q["N"],
        "d": q["d"],
        "C": q["C"],
        "n_labeled": q["n_labeled"],
        "budget": q["budget"],
        "device": device,
    }
    if not ok:
        emit({**base, "kind": "alkit", "status": "skipped", "note": why})
        return
    prob = make_problem(
        q["N"], q["d"], q["C"], q["n_labeled"], device=device, max_epochs=m.extra.get("max_epochs")
    )
    params = alkit.strategies.check_params(strategy, {})
    captured = _capture_kmeans()
    pool = None
    info: dict[str, Any] = {}
    for rep in range(m.reps):
        captured.clear()
        pool = alkit.Pool(prob["x"], q["C"], prob["labeled"], prob["labels"])
        rng = np.random.default_rng(rep)
        secs, peak, before, sel = measure(
            lambda pool=pool, rng=rng: alkit.strategies.select(
                strategy, pool, prob["probe"], q["budget"], rng, device=device
            )
        )
        info = sel.info
        emit(
            {
                **base,
                "kind": "alkit",
                "variant": "cold",
                "rep": rep,
                "status": "ok",
                "seconds": secs,
                "peak_rss_mib": peak,
                "rss_before_mib": before,
                "n_candidates": info.get("n_candidates"),
                "n_topped_up": info.get("n_topped_up"),
                "setup_seconds": prob["setup_seconds"],
                "probe_epochs": prob["fit_epochs"],
            }
        )
        if secs > m.single_rep_above_s:
            break
    kmeans_inputs = list(captured)
    _restore_kmeans()
    if pool is not None and pool.cache:
        warm = alkit.Pool(prob["x"], q["C"], prob["labeled"], prob["labels"], cache=pool.cache)
        rng = np.random.default_rng(99)
        secs, peak, before, _ = measure(
            lambda: alkit.strategies.select(
                strategy, warm, prob["probe"], q["budget"], rng, device=device
            )
        )
        emit(
            {
                **base,
                "kind": "alkit",
                "variant": "warm cache",
                "rep": 0,
                "status": "ok",
                "seconds": secs,
                "peak_rss_mib": peak,
                "rss_before_mib": before,
                "note": "pool.cache from the previous call reused: "
                + ", ".join(sorted(map(str, pool.cache))),
            }
        )
    captured.clear()
    lim = strategy_limit(
        strategy, params, prob, q["budget"], info, device=device, captured=kmeans_inputs
    )
    emit(
        {
            **base,
            "kind": "limit",
            "status": "ok" if lim["limit_seconds"] == lim["limit_seconds"] else "skipped",
            "seconds": lim["limit_seconds"],
            "components": lim["components"],
            "extrapolated": lim["limit_extrapolated"],
            "note": lim["limit_note"],
        }
    )


def _capture_kmeans() -> list:
    """Record the points and k of every ``alkit.cluster.kmeans`` call (the limit re-clusters them)."""
    import alkit.cluster as cluster

    captured: list = []
    original = cluster.kmeans

    def recording(x, init, *args, **kwargs):
        captured.append((x, len(init)))
        return original(x, init, *args, **kwargs)

    recording.original = original
    cluster.kmeans = recording
    return captured


def _restore_kmeans() -> None:
    import alkit.cluster as cluster

    cluster.kmeans = getattr(cluster.kmeans, "original", cluster.kmeans)


def limit_case(emit, strategy: str, mode: dict[str, Any], device: str = "cpu") -> None:
    """Child: the arithmetic limit alone (when the strategy's own child did not get to it).

    Without the strategy's ``Selection.info`` the candidate count is unknown: strategies whose
    limit depends on it (DropQuery, ALFA-Mix) count 0 candidates and say so.
    """
    from bench_limits import strategy_limit

    import alkit

    m = mode_from_dict(mode)
    q = m.query
    prob = make_problem(
        q["N"], q["d"], q["C"], q["n_labeled"], device=device, max_epochs=m.extra.get("max_epochs")
    )
    params = alkit.strategies.check_params(strategy, {})
    lim = strategy_limit(strategy, params, prob, q["budget"], {}, device=device)
    note = (
        lim["limit_note"] + "; measured in a separate child (the strategy did not finish)"
    ).strip("; ")
    emit(
        {
            "strategy": strategy,
            "N": q["N"],
            "d": q["d"],
            "C": q["C"],
            "n_labeled": q["n_labeled"],
            "budget": q["budget"],
            "device": device,
            "kind": "limit",
            "status": "ok" if lim["limit_seconds"] == lim["limit_seconds"] else "skipped",
            "seconds": lim["limit_seconds"],
            "components": lim["components"],
            "extrapolated": lim["limit_extrapolated"],
            "note": note,
        }
    )


def run(mode: Mode, out: Path, device: str = "cpu", log=print) -> list[dict[str, Any]]:
    """Parent: one child per strategy; returns every row (measurements and failures)."""
    import alkit

    rows: list[dict[str, Any]] = []
    registered = set(alkit.strategies.available())
    names = mode.extra.get("strategies") or STRATEGIES + sorted(registered - set(STRATEGIES))
    q = mode.query
    for name in names:
        base = {
            "strategy": name,
            "N": q["N"],
            "d": q["d"],
            "C": q["C"],
            "n_labeled": q["n_labeled"],
            "budget": q["budget"],
            "device": device,
            "kind": "alkit",
        }
        if name not in registered:
            rows.append(
                {**base, "status": "skipped", "note": f"strategy {name!r} not registered yet"}
            )
            log(f"  query {name:18s} skipped (not registered)")
            continue
        res: CaseResult = run_case(
            "bench_query:case",
            {"strategy": name, "mode": _mode_arg(mode), "device": device},
            mode.query_timeout_s,
            effective_mem_limit_gib(mode.mem_limit_gib),
            out / "_work" / f"query_{name}.jsonl",
            in_process=mode.in_process,
        )
        rows.extend(res.rows)
        if res.status != "ok":
            rows.append(status_row(base, res))
        if not any(r.get("kind") == "limit" for r in res.rows):
            lres = run_case(
                "bench_query:limit_case",
                {"strategy": name, "mode": _mode_arg(mode), "device": device},
                mode.query_timeout_s,
                effective_mem_limit_gib(mode.mem_limit_gib),
                out / "_work" / f"limit_{name}.jsonl",
                in_process=mode.in_process,
            )
            rows.extend(lres.rows)
            if lres.status != "ok":
                rows.append(status_row({**base, "kind": "limit"}, lres))
        cold = [
            r["seconds"]
            for r in res.rows
            if r.get("kind") == "alkit" and r.get("variant") == "cold"
        ]
        lim = [r["seconds"] for r in res.rows if r.get("kind") == "limit"]
        log(
            f"  query {name:18s} {res.status:8s} median {median(cold):8.3f} s  limit "
            f"{(lim[0] if lim else float('nan')):8.3f} s  ({res.seconds:.0f} s in child)"
        )
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per strategy: median time and peak RSS, the limit and the ratio."""
    out = []
    for name in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == name]
        cold = [
            r
            for r in mine
            if r.get("kind") == "alkit" and r.get("variant") == "cold" and r.get("status") == "ok"
        ]
        warm = [r for r in mine if r.get("variant") == "warm cache"]
        lim = [r for r in mine if r.get("kind") == "limit" and r.get("status") == "ok"]
        fail = [r for r in mine if r.get("status") not in ("ok", None)]
        secs = median([r["seconds"] for r in cold])
        limit = lim[0]["seconds"] if lim else float("nan")
        row = {
            "strategy": name,
            "reps": len(cold),
            "seconds": secs,
            "peak_rss_mib": median([r["peak_rss_mib"] for r in cold]),
            "added_rss_mib": median([r["peak_rss_mib"] - r["rss_before_mib"] for r in cold]),
            "warm_seconds": warm[0]["seconds"] if warm else float("nan"),
            "limit_seconds": limit,
            "ratio_to_limit": secs / limit if limit and limit > 0 else float("nan"),
            "limit_extrapolated": lim[0].get("extrapolated") if lim else None,
            "limit_components": lim[0].get("components") if lim else None,
            "n_candidates": cold[0].get("n_candidates") if cold else None,
            "status": "ok" if cold else (fail[0]["status"] if fail else "missing"),
            "note": "; ".join(str(r.get("note")) for r in fail if r.get("note")),
        }
        out.append(row)
    return out


def _mode_arg(mode: Mode) -> dict[str, Any]:
    from common import mode_dict

    return mode_dict(mode)
