"""alkit's benchmark suite (issue 9): per-query cost, the peer, arithmetic limits, probe fit,
scaling with N and label propagation, on synthetic embeddings generated in memory.

Usage::

    python benchmarks/run.py                      # full suite (make bench)
    python benchmarks/run.py --quick              # ~2 minutes (make bench-quick)
    python benchmarks/run.py --out /tmp/b --smoke # seconds, in-process (tests)
    python benchmarks/run.py --only query peer --device cuda
    python benchmarks/run.py --only grid          # the paper's grid, costed (grid_cost.py)

Writes, into ``--out`` (default: ``benchmarks/results/latest``, the committed current figures,
for the full suite; the git-ignored ``benchmarks/results/quick`` for ``--quick`` and ``--smoke``):
``machine<tag>.json``, one CSV per benchmark (``query``, ``query_summary``, ``peer``,
``probe_fit``, ``probe_run``, ``scaling``, ``propagation``), ``summary<tag>.png`` and
``summary<tag>.md`` (the tables of docs/performance.md). ``<tag>`` is empty for the full suite on
CPU, else ``_quick`` / ``_smoke`` and ``_cuda``, followed by ``--tag``. See benchmarks/README.md
for what each benchmark measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_peer  # noqa: E402
import bench_probe  # noqa: E402
import bench_propagation  # noqa: E402
import bench_query  # noqa: E402
import bench_scaling  # noqa: E402
from common import MODES, machine_info, write_csv  # noqa: E402

BENCHMARKS = ["query", "peer", "probe", "scaling", "propagation"]
#: Run only when named: ``grid`` (grid_cost.py, the paper's grid costed) writes its own report.
OPT_IN = ["grid"]
ALIASES = {"limits": "query"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out",
        type=Path,
        help="results directory, created (default: results/latest; --quick, --smoke: results/quick)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="the ~2-minute subset (smaller pool, one rep)"
    )
    size.add_argument(
        "--smoke", action="store_true", help="tiny sizes, in-process: checks the scripts run"
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=BENCHMARKS + OPT_IN + list(ALIASES),
        help=f"run only these benchmarks ({', '.join(BENCHMARKS)}; 'limits' = query; "
        "'grid' = grid_cost.py, only when named)",
    )
    p.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="device of alkit and the limits"
    )
    p.add_argument(
        "--keep-work", action="store_true", help="keep the children's JSON lines in OUT/_work"
    )
    p.add_argument(
        "--strategies",
        nargs="+",
        metavar="NAME",
        help="restrict the per-query benchmark to these strategies",
    )
    p.add_argument(
        "--peers",
        nargs="+",
        metavar="PEER",
        help="restrict the peer benchmark to these peers "
        "(e.g. DropQuery TypiClust ProbCover Badge CoreSet)",
    )
    p.add_argument(
        "--scaling-n",
        nargs="+",
        type=int,
        metavar="N",
        help="the pool sizes of the scaling benchmark",
    )
    p.add_argument(
        "--scaling-strategies",
        nargs="+",
        metavar="NAME",
        help="restrict the scaling benchmark to these strategies",
    )
    p.add_argument(
        "--scaling-timeout",
        type=float,
        metavar="S",
        help="time limit per scaling case in seconds (×1.5 at N ≥ 1M; default 420 full)",
    )
    p.add_argument(
        "--tag", default="", help="suffix of the output files (e.g. _after), to keep earlier runs"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = MODES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print(
                "--device cuda: no CUDA device is visible to torch; run on a GPU machine or use --device cpu.",
                file=sys.stderr,
            )
            return 2
    only = [ALIASES.get(n, n) for n in (args.only or BENCHMARKS)]
    extra = dict(mode.extra)
    if args.strategies:
        extra["strategies"] = list(args.strategies)
    if args.peers:
        extra["peers"] = list(args.peers)
    if args.scaling_strategies:
        extra["scaling_strategies"] = list(args.scaling_strategies)
    mode = dataclasses.replace(
        mode,
        extra=extra,
        scaling_n=list(args.scaling_n or mode.scaling_n),
        scaling_timeout_s=args.scaling_timeout or mode.scaling_timeout_s,
    )
    tag = (
        ("" if mode.name == "full" else f"_{mode.name}")
        + ("" if args.device == "cpu" else f"_{args.device}")
        + args.tag
    )
    # a quick or smoke run never overwrites the committed full set in results/latest
    out: Path = args.out or HERE / "results" / ("latest" if mode.name == "full" else "quick")
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    machine = machine_info(args.device)
    machine.update(
        mode=mode.name,
        command=" ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        benchmarks=only,
    )
    print(
        f"alkit benchmarks ({mode.name}, {args.device}) → {out}  "
        f"[{machine['cpu_model']}, {machine['cpu_cores']} cores, load {machine['load_average_1_5_15'][0]:.2f}]"
    )
    results: dict[str, list[dict[str, Any]]] = {}
    if "query" in only:
        print("per-query cost and arithmetic limits")
        results["query"] = bench_query.run(mode, out, args.device)
    if "peer" in only:
        print("peer: scikit-activeml")
        results["peer"] = bench_peer.run(mode, out, args.device)
    if "probe" in only:
        print("probe fit")
        results["probe_fit"], results["probe_run"] = bench_probe.run(mode, out, args.device)
    if "scaling" in only:
        print("scaling with N")
        # the per-query pools (two noise levels, |L| per class) differ from the scaling
        # problem's, so no per-query row stands in for a scaling point
        results["scaling"] = bench_scaling.run(mode, out, args.device)
    if "propagation" in only:
        print("label propagation")
        results["propagation"] = bench_propagation.run(mode, out, args.device)
    if "grid" in only:
        print("the paper's grid, costed")
        import grid_cost

        grid_cost.run(mode.name, out, args.device, tag=tag, command=machine["command"])
        if set(only) == {"grid"}:
            return 0  # it wrote its own files (machine_grid*.json): keep the suite's as they are
    if "query" in results:
        results["query_summary"] = combine(results["query"], results.get("peer", []))
    written = []
    for name, rows in results.items():
        if rows:
            written.append(write_csv(rows, out / f"{name}{tag}.csv"))
    machine["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    machine["suite_seconds"] = round(time.perf_counter() - t_start, 1)
    import os

    machine["load_average_at_end"] = list(os.getloadavg())
    (out / f"machine{tag}.json").write_text(json.dumps(machine, indent=2, default=str))
    md = markdown_summary(results, machine)
    (out / f"summary{tag}.md").write_text(md)
    try:
        png = plot_summary(results, out / f"summary{tag}.png", machine)
        written.append(png)
    except Exception as exc:  # noqa: BLE001 - a plotting problem must not lose the CSVs
        print(f"summary plot failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    if not args.keep_work:
        shutil.rmtree(out / "_work", ignore_errors=True)
    print(
        f"done in {machine['suite_seconds']:.0f} s; wrote {', '.join(p.name for p in written)}, "
        f"machine{tag}.json, summary{tag}.md"
    )
    return 0


# ---------------------------------------------------------------------------- tables
def combine(query_rows: list[dict], peer_rows: list[dict]) -> list[dict]:
    """Per strategy and pool: alkit first and warm, the limit, and the peer both ways.

    ``peer_over_alkit`` = pre-fitted peer / alkit's first query without its fit (the strategy
    alone); ``peer_fit_over_alkit`` = peer with its classifier fitted inside the call / alkit's
    whole first query (fit included); ``peer_over_alkit_warm`` = pre-fitted peer / alkit's warm
    median (strategy alone). A peer without a classifier (``variant = "none"``) counts both ways.
    """
    nan = float("nan")
    summary = bench_query.summarize(query_rows)
    peers: dict[tuple, dict] = {}
    for r in peer_rows:
        key = (r["strategy"], r.get("regime", ""))
        for v in ("prefit", "fit") if r.get("variant") == "none" else (r.get("variant"),):
            peers[key + (v,)] = r
    for row in summary:
        pre = peers.get((row["strategy"], row["regime"], "prefit"))
        fit = peers.get((row["strategy"], row["regime"], "fit"))
        if pre is None and fit is None:
            continue
        ref = pre or fit
        row["peer"] = ref.get("peer")

        def secs(p):
            return p.get("seconds", nan) if p is not None and p.get("status") == "ok" else nan

        row["peer_status"] = ref.get("status")
        row["peer_seconds"] = secs(pre)
        row["peer_fit_status"] = fit.get("status") if fit else None
        row["peer_fit_seconds"] = secs(fit)
        row["peer_peak_rss_mib"] = ref.get("peak_rss_mib", nan)
        row["peer_note"] = "; ".join(
            str(p.get("note")) for p in (pre, fit) if p is not None and p.get("note")
        )

        def ratio(num, den):
            return num / den if den and den > 0 and num == num else nan

        row["peer_over_alkit"] = ratio(row["peer_seconds"], row["first_seconds"])
        row["peer_over_alkit_warm"] = ratio(row["peer_seconds"], row["warm_seconds"])
        row["peer_fit_over_alkit"] = ratio(row["peer_fit_seconds"], row["first_total_seconds"])
        row["peer_fit_over_alkit_warm"] = ratio(row["peer_fit_seconds"], row["warm_total_seconds"])
    return summary


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def markdown_summary(results: dict[str, list[dict]], machine: dict) -> str:
    """The tables of docs/performance.md, from this run's rows."""
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['cpu_cores']} cores, {machine.get('ram_gib')} GiB RAM, "
        f"GPU: {machine.get('gpu') or 'none'}; torch {machine.get('torch_version')}, faiss "
        f"{machine.get('faiss_version')}, numpy {machine.get('numpy_version')}; device {machine['device']}; "
        f"load average at start {machine['load_average_1_5_15'][0]:.2f}, at end "
        f"{machine.get('load_average_at_end', [float('nan')])[0]:.2f}; mode {machine['mode']}; "
        f"suite {machine.get('suite_seconds')} s.",
        "",
    ]
    if results.get("query_summary"):
        q = next((r for r in results["query"] if "N" in r), {})
        lines += [
            f"Per query (N = {q.get('N')}, d = {q.get('d')}, C = {q.get('C')}, |L| = {q.get('n_labeled')} "
            f"drawn per class, B = {q.get('budget')}). first = the first query of a fresh ActiveLearner "
            "in a fresh process, warm = the median of the later queries (each after teaching the "
            "previous picks); both are the strategy alone, the probe's refit (+ fit s) apart; limit = "
            "the arithmetic limit of the first query; peer = scikit-activeml pre-fitted (vs alkit "
            "first / warm) and with its classifier fitted inside the call (vs alkit's whole first "
            "query, fit included):",
            "",
            "| pool | strategy | candidates | first s | + fit s | warm s | first/warm | limit s | "
            "first/limit | warm/limit | peak RSS MiB | peer | peer s | peer/first | peer/warm | "
            "peer fit-inside s | ratio fit-inside |",
            "|---" * 17 + "|",
        ]
        for r in results["query_summary"]:
            peer = r.get("peer") or ""

            def pst(status, value):
                if status == "ok":
                    return _fmt(value)
                return {"timeout": "did not finish", "oom": "out of memory"}.get(
                    status, status or ""
                )

            alk = _fmt(r["first_seconds"]) if r["status"] == "ok" else r["status"]
            lim = _fmt(r["limit_seconds"]) + (" (extrap.)" if r.get("limit_extrapolated") else "")
            lines.append(
                f"| {r['regime']} | {r['strategy']} | {_fmt(r.get('n_candidates'))} | {alk} | "
                f"{_fmt(r.get('first_fit_seconds'))} | {_fmt(r.get('warm_seconds'))} | "
                f"{_fmt(r.get('first_over_warm'), 2)} | {lim} | {_fmt(r['ratio_to_limit'], 2)} | "
                f"{_fmt(r.get('warm_ratio_to_limit'), 2)} | {_fmt(r['peak_rss_mib'], 4)} | {peer} | "
                f"{pst(r.get('peer_status'), r.get('peer_seconds')) if peer else ''} | "
                f"{_fmt(r.get('peer_over_alkit'), 3)} | {_fmt(r.get('peer_over_alkit_warm'), 3)} | "
                f"{pst(r.get('peer_fit_status'), r.get('peer_fit_seconds')) if peer else ''} | "
                f"{_fmt(r.get('peer_fit_over_alkit'), 3)} |"
            )
        lines.append("")
    if results.get("probe_fit"):
        lines += [
            "Probe fit (one batch per epoch):",
            "",
            "| |L| | implementation | ms/epoch | × linear | epochs | fit s |",
            "|---|---|---|---|---|---|",
        ]
        for r in results["probe_fit"]:
            if "seconds_per_epoch" not in r:
                continue
            lines.append(
                f"| {r['n_labeled']} | {r['impl']} | {_fmt(r['seconds_per_epoch'] * 1e3)} | "
                f"{_fmt(r['ratio_to_linear'], 2)} | {r.get('epochs')} | {_fmt(r.get('fit_seconds'))} |"
            )
        lines.append("")
    if results.get("probe_run"):
        done = [r for r in results["probe_run"] if "cumulative_seconds" in r]
        fail = [r for r in results["probe_run"] if r.get("status") not in (None, "ok")]
        if done:
            last = done[-1]
            lines += [
                f"End-to-end DropQuery run (N = {last['N']}, d = {last['d']}, C = {last['C']}): "
                f"{len(done)} iterations in {last['cumulative_seconds']:.1f} s (query "
                f"{sum(r['query_seconds'] for r in done):.1f} s, fit {sum(r['fit_seconds'] for r in done):.1f} s, "
                f"eval {sum(r['eval_seconds'] for r in done):.1f} s; data generation {last['data_seconds']:.1f} s "
                f"not included); final accuracy {last['accuracy']:.3f}"
                + (f"; {fail[0]['status']}: {fail[0].get('note')}" if fail else "")
                + ".",
                "",
            ]
        elif fail:
            lines += [f"End-to-end DropQuery run: {fail[0]['status']} ({fail[0].get('note')}).", ""]
    if results.get("scaling"):
        ns = sorted({r["N"] for r in results["scaling"] if "N" in r})
        lines += [
            "Scaling (seconds / peak RSS GiB per query; C = 1000 at N ≥ 1M):",
            "",
            "| strategy | " + " | ".join(f"N = {n:,}" for n in ns) + " |",
            "|---" * (len(ns) + 1) + "|",
        ]
        for s in dict.fromkeys(r["strategy"] for r in results["scaling"]):
            cells = []
            for n in ns:
                r = next(
                    (r for r in results["scaling"] if r["strategy"] == s and r["N"] == n), None
                )
                if r is None:
                    cells.append("")
                elif r["status"] == "ok":
                    cells.append(f"{_fmt(r['seconds'])} s / {r['peak_rss_mib'] / 1024:.1f}")
                else:
                    cells.append(r["status"])
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        lines.append("")
    if results.get("propagation"):
        lines += [
            "Label propagation:",
            "",
            "| step | s | iterations | peak RSS MiB |",
            "|---|---|---|---|",
        ]
        for r in results["propagation"]:
            lines.append(
                f"| {r.get('step')} (N = {r.get('N')}, k = {r.get('k')}) | "
                f"{_fmt(r.get('seconds')) if r.get('status') == 'ok' else r.get('status')} | "
                f"{r.get('n_iter', '')} | {_fmt(r.get('peak_rss_mib'), 4)} |"
            )
        lines.append("")
    notes = [
        r
        for rows in results.values()
        for r in rows
        if r.get("status") not in (None, "ok") and r.get("note")
    ]
    if notes:
        lines += ["Not measured:", ""]
        for r in notes:
            what = r.get("strategy") or r.get("peer") or r.get("impl") or r.get("step")
            lines.append(
                f"- {what} ({r.get('kind', '')}{' N=' + str(r['N']) if 'N' in r else ''}): "
                f"{r['status']} — {r['note']}"
            )
        lines.append("")
    return "\n".join(lines)


def plot_summary(results: dict[str, list[dict]], path: Path, machine: dict) -> Path:
    """A 2 × 2 figure: per-query times (alkit / limit / peer), probe epoch cost, scaling time and memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    qs = results.get("query_summary") or []
    if qs:
        names = [f"{r['strategy']} ({r.get('regime', '')})" for r in qs]
        pos = np.arange(len(names))
        w = 0.27
        for i, (key, label) in enumerate(
            [
                ("seconds", "alkit"),
                ("limit_seconds", "arithmetic limit"),
                ("peer_seconds", "scikit-activeml"),
            ]
        ):
            vals = [r.get(key, float("nan")) for r in qs]
            ax.bar(pos + (i - 1) * w, [v if v == v else 0 for v in vals], w, label=label)
        ax.set_xticks(pos, names, rotation=45, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("seconds per query")
        ax.set_title("Per-query cost")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    ax = axes[0, 1]
    pf = [r for r in results.get("probe_fit") or [] if "seconds_per_epoch" in r]
    if pf:
        impls = list(dict.fromkeys(r["impl"] for r in pf))
        sizes = sorted({r["n_labeled"] for r in pf})
        pos = np.arange(len(sizes))
        w = 0.8 / len(impls)
        for i, impl in enumerate(impls):
            vals = [
                next(
                    (
                        r["seconds_per_epoch"] * 1e3
                        for r in pf
                        if r["impl"] == impl and r["n_labeled"] == n
                    ),
                    0,
                )
                for n in sizes
            ]
            ax.bar(pos + (i - (len(impls) - 1) / 2) * w, vals, w, label=impl)
        ax.set_xticks(pos, [f"|L| = {n}" for n in sizes])
        ax.set_ylabel("ms per epoch")
        ax.set_title("Probe: cost of one training epoch")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    sc = [r for r in results.get("scaling") or [] if r.get("status") == "ok"]
    for ax, key, label, scale in (
        (axes[1, 0], "seconds", "seconds per query", 1.0),
        (axes[1, 1], "peak_rss_mib", "peak RSS (GiB)", 1 / 1024),
    ):
        if not sc:
            ax.set_axis_off()
            continue
        for s in dict.fromkeys(r["strategy"] for r in sc):
            pts = sorted((r["N"], r[key] * scale) for r in sc if r["strategy"] == s)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=s)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("pool size N")
        ax.set_ylabel(label)
        ax.set_title(f"Scaling: {label}")
        ax.legend(fontsize=8)
    fig.suptitle(
        f"alkit benchmarks ({machine['mode']}, {machine['device']}) — {machine['cpu_model']}, "
        f"{machine['cpu_cores']} cores, load {machine['load_average_1_5_15'][0]:.1f}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())
