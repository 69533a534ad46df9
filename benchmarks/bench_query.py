"""Per-query cost of every registered strategy, first and warm, and its arithmetic limit.

One child process per strategy and pool (``mode.regimes``: few DropQuery candidates, and most
of the pool). The child builds the shared problem (``common.make_problem``: the synthetic pool,
|L| drawn per class), then does what a user's run does: a fresh :class:`alkit.ActiveLearner`
is taught the labeled set and queried (``variant = "first"``: the first query of a fresh
learner in a fresh process, its probe fit included and reported apart as ``fit_seconds``);
the strategy's arithmetic limit (:mod:`bench_limits`) is timed on that query's state (its
probe, labeled set and k-means inputs); then ``reps`` more rounds of teach (the picks, with
their true labels) and query (``variant = "warm"``, each with its refit). ``strategy_seconds``
= ``seconds`` − ``fit_seconds`` is the strategy alone (what the limit and the pre-fitted peer
are compared with). Peak RSS is measured per call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import (
    CaseResult,
    Mode,
    effective_mem_limit_gib,
    measure,
    median,
    mode_from_dict,
    query_problem,
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


def _base(strategy: str, q: dict, regime: str, noise: float, device: str) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "regime": regime,
        "noise": noise,
        "N": q["N"],
        "d": q["d"],
        "C": q["C"],
        "n_labeled": q["n_labeled"],
        "budget": q["budget"],
        "device": device,
    }


def case(
    emit, strategy: str, mode: dict[str, Any], device: str = "cpu", regime: str = "few"
) -> None:
    """Child: the first query of a fresh learner, the limit on its state, then warm queries."""
    import numpy as np
    from bench_limits import strategy_limit

    import alkit

    m = mode_from_dict(mode)
    q = m.query
    noise = float(m.regimes[regime])
    base = _base(strategy, q, regime, noise, device)
    ok, why = strategy_registered(strategy)
    if not ok:
        emit({**base, "kind": "alkit", "status": "skipped", "note": why})
        return
    prob = query_problem(m, regime, device)
    y = prob["y"]
    lab = np.flatnonzero(prob["labeled"])
    learner = alkit.ActiveLearner(
        prob["x"],
        strategy,
        budget=q["budget"],
        n_classes=q["C"],
        seed=0,
        device=device,
        probe=prob["probe_settings"] or None,
    )
    learner.teach(lab, y[lab])
    captured = _capture_kmeans()

    def timed(variant: str, rep: int):
        captured.clear()
        secs, peak, before, sel = measure(learner.query)
        fit = float(learner.last_fit_seconds)
        emit(
            {
                **base,
                "kind": "alkit",
                "variant": variant,
                "rep": rep,
                "status": "ok",
                "seconds": secs,
                "fit_seconds": fit,
                "strategy_seconds": max(0.0, secs - fit),
                "peak_rss_mib": peak,
                "rss_before_mib": before,
                "n_labeled_now": int(learner.n_labeled),
                "n_candidates": sel.info.get("n_candidates"),
                "n_topped_up": sel.info.get("n_topped_up"),
                "setup_seconds": prob["setup_seconds"],
                "probe_epochs": int(learner.probe.n_epochs_),
            }
        )
        return secs, sel

    secs, sel = timed("first", 0)
    kmeans_inputs = list(captured)
    _restore_kmeans()
    params = alkit.strategies.check_params(strategy, {})
    state = {**prob, "labeled": learner.pool.labeled.copy(), "probe": learner.probe}
    lim = strategy_limit(
        strategy, params, state, q["budget"], sel.info, device=device, captured=kmeans_inputs
    )
    del kmeans_inputs
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
    reps = 1 if secs > m.single_rep_above_s else m.reps
    for rep in range(reps):
        learner.teach(sel.indices, y[sel.indices])
        _, sel = timed("warm", rep)


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


def run(mode: Mode, out: Path, device: str = "cpu", log=print) -> list[dict[str, Any]]:
    """Parent: one child per strategy and pool; returns every row (measurements and failures)."""
    import alkit

    rows: list[dict[str, Any]] = []
    registered = set(alkit.strategies.available())
    names = mode.extra.get("strategies") or STRATEGIES + sorted(registered - set(STRATEGIES))
    q = mode.query
    for regime, noise in mode.regimes.items():
        for name in names:
            base = {**_base(name, q, regime, noise, device), "kind": "alkit"}
            if name not in registered:
                rows.append(
                    {**base, "status": "skipped", "note": f"strategy {name!r} not registered yet"}
                )
                log(f"  query {regime:4s} {name:18s} skipped (not registered)")
                continue
            res: CaseResult = run_case(
                "bench_query:case",
                {"strategy": name, "mode": _mode_arg(mode), "device": device, "regime": regime},
                mode.query_timeout_s,
                effective_mem_limit_gib(mode.mem_limit_gib),
                out / "_work" / f"query_{regime}_{name}.jsonl",
                in_process=mode.in_process,
            )
            rows.extend(res.rows)
            if res.status != "ok":
                rows.append(status_row(base, res))
            got = {r.get("variant"): r for r in res.rows if r.get("kind") == "alkit"}
            warm = median([r["strategy_seconds"] for r in res.rows if r.get("variant") == "warm"])
            lim = [r["seconds"] for r in res.rows if r.get("kind") == "limit"]
            first = got.get("first", {})
            log(
                f"  query {regime:4s} {name:18s} {res.status:8s} first "
                f"{first.get('strategy_seconds', float('nan')):8.3f} s (+ fit "
                f"{first.get('fit_seconds', float('nan')):.3f})  warm {warm:8.3f} s  limit "
                f"{(lim[0] if lim else float('nan')):8.3f} s  cands {first.get('n_candidates')}  "
                f"({res.seconds:.0f} s in child)"
            )
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per strategy and pool: first and warm (medians), the limit and the ratios."""
    out = []
    keys = dict.fromkeys((r["strategy"], r.get("regime", "")) for r in rows)
    for name, regime in keys:
        mine = [r for r in rows if r["strategy"] == name and r.get("regime", "") == regime]
        ok = [r for r in mine if r.get("kind") == "alkit" and r.get("status") == "ok"]
        first = next((r for r in ok if r.get("variant") == "first"), None)
        warm = [r for r in ok if r.get("variant") == "warm"]
        lim = [r for r in mine if r.get("kind") == "limit" and r.get("status") == "ok"]
        fail = [r for r in mine if r.get("status") not in ("ok", None)]
        limit = lim[0]["seconds"] if lim else float("nan")
        nan = float("nan")
        f_s = first["strategy_seconds"] if first else nan
        w_s = median([r["strategy_seconds"] for r in warm])
        row = {
            "strategy": name,
            "regime": regime,
            "noise": mine[0].get("noise"),
            "n_candidates": first.get("n_candidates") if first else None,
            "seconds": f_s,
            "first_seconds": f_s,
            "first_fit_seconds": first["fit_seconds"] if first else nan,
            "first_total_seconds": first["seconds"] if first else nan,
            "warm_seconds": w_s,
            "warm_fit_seconds": median([r["fit_seconds"] for r in warm]),
            "warm_total_seconds": median([r["seconds"] for r in warm]),
            "warm_reps": len(warm),
            "first_over_warm": f_s / w_s if w_s and w_s > 0 else nan,
            "peak_rss_mib": first["peak_rss_mib"] if first else nan,
            "added_rss_mib": first["peak_rss_mib"] - first["rss_before_mib"] if first else nan,
            "limit_seconds": limit,
            "ratio_to_limit": f_s / limit if limit and limit > 0 else nan,
            "warm_ratio_to_limit": w_s / limit if limit and limit > 0 else nan,
            "limit_extrapolated": lim[0].get("extrapolated") if lim else None,
            "limit_components": lim[0].get("components") if lim else None,
            "status": "ok" if first else (fail[0]["status"] if fail else "missing"),
            "note": "; ".join(str(r.get("note")) for r in fail if r.get("note")),
        }
        out.append(row)
    return out


def _mode_arg(mode: Mode) -> dict[str, Any]:
    from common import mode_dict

    return mode_dict(mode)
