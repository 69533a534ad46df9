"""``alkit report RESULTS_DIR --out FIGDIR``: every figure and table the results allow.

Reads a directory of tidy results (:func:`alkit.results.load_results`: every file's checksum is
verified; a bad file is an error, or with ``--skip-bad`` left out with a printed warning), then
writes into ``FIGDIR``:

- ``learning_curves.csv``, ``al_curves.{png,svg}`` — always (runs with label propagation and
  grids of several initial pools in panels of their own; the zero-shot accuracy as a dashed
  "no labels" line when the runs hold it);
- ``zeroshot.{csv,md}`` — when the runs hold a zero-shot row (embeddings with class texts);
- ``auc.csv`` (per run), ``auc_summary.{csv,md}`` — always;
- ``bootstrap_auc.{csv,md}``, ``bootstrap_final.{csv,md}`` — always: percentile-bootstrap
  intervals over seeds of AUC and final accuracy, and of the paired difference to random;
  ``seeds_needed.{csv,md}`` — when random ran with ≥ 2 seeds: the smallest AUC difference to
  random the seeds detect (paired t-test, 80 % power), the seeds 1 point needs, a sentence;
- ``summary.{csv,md}`` — accuracy ± std at chosen iterations, marked vs. ``random`` when it ran;
- pillar 1, ``pillar1_initial_pool.{png,svg,csv}`` — when a setting ran from ≥ 2 initial pools:
  accuracy at iteration 1 per pool, paired test against the random pool;
- pillar 2, ``pillar2_diversity.{png,svg,csv}`` — when a method ran with and without
  ``cluster=True``: the clustering step's gain per iteration (batch redundancy needs the queried
  indices, which results tables do not hold: see notebook 02);
- pillar 3, ``pillar3_uncertainty_vs_representative.{png,svg,csv}`` — when methods of both
  families ran: each against random, and the best of one family minus the best of the other;
- pillar 4, ``delta_ssl.csv``, ``delta_ssl.{png,svg}`` — when runs with and without label
  propagation pair up;
- DropQuery and Figure 1, ``delta_half.csv``, ``delta_curves.{png,svg}`` — with ≥ 2 iterations;
  ``win_matrix.csv``, ``win_matrix_settings.csv``, ``win_matrix.{png,svg}`` — with ≥ 2 methods
  (``--correction holm``: Holm's correction over the pairs of each setting and iteration);
- ``index.md`` — the tables, the figures and what each figure left out.

An analysis the results cannot support is skipped with a printed reason; what a figure leaves
out is printed as a note.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import analysis
from ._files import atomic_path
from .errors import AlkitError, InvalidInputError

__all__ = ["add_arguments", "main", "report", "to_markdown"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit report``."""
    parser.description = "Render the paper's figures and summary tables from a results directory."
    parser.epilog = (
        "example: alkit report results/quick --out figures/\n"
        "         alkit report results/ --out figures/ --iterations 1 5 10 20 --metric accuracy"
    )
    parser.add_argument("results", help="directory (or parquet file) of tidy results")
    parser.add_argument("--out", required=True, help="directory for figures and tables (created)")
    parser.add_argument(
        "--iterations",
        type=int,
        nargs="+",
        default=None,
        help="iterations of the summary table (default: first, powers of two, last)",
    )
    parser.add_argument(
        "--metric",
        default="accuracy",
        choices=["accuracy", "balanced_accuracy", "macro_f1"],
        help="the metric of every figure and table (default: accuracy)",
    )
    parser.add_argument(
        "--initial-pool",
        default="default",
        help="win matrix: 'default' (each strategy's paper default) or a pool name",
    )
    parser.add_argument(
        "--method",
        default=None,
        help="method for the delta curves (default: dropquery if present, else all pooled)",
    )
    parser.add_argument(
        "--correction",
        default="none",
        choices=["none", "holm"],
        help="win matrix: multiple-comparison correction over the pairs of each setting and "
        "iteration (default none, the paper's)",
    )
    parser.add_argument(
        "--target-difference",
        type=float,
        default=0.01,
        help="seeds needed: the AUC difference to random to size the seeds for (default 0.01 = "
        "1 point)",
    )
    parser.add_argument("--formats", nargs="+", default=["png", "svg"], help="figure formats")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out results files that fail their checks (unreadable, not alkit results, "
        "altered after writing) with a warning listing them; by default such a file is an "
        "error (exit 2) naming it",
    )


def to_markdown(df: pd.DataFrame, index: bool = True, floatfmt: str = "{:.4g}") -> str:
    """A GitHub-flavoured Markdown table of ``df`` (no extra dependency)."""
    d = df.reset_index() if index and not isinstance(df.index, pd.RangeIndex) else df

    def fmt(v) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else floatfmt.format(v)
        return str(v).replace("|", "\\|")

    header = "| " + " | ".join(str(c) for c in d.columns) + " |"
    sep = "|" + "|".join("---" for _ in d.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in d.itertuples(index=False)]
    return "\n".join([header, sep, *body]) + "\n"


class _Writer:
    def __init__(self, out: Path, formats) -> None:
        self.out = out
        self.formats = formats
        self.paths: list[Path] = []
        self.index: list[str] = []

    def csv(self, df: pd.DataFrame, name: str, index: bool = False) -> Path:
        path = self.out / f"{name}.csv"
        with atomic_path(path, ".csv") as tmp:
            df.to_csv(tmp, index=index)
        self._done(path)
        return path

    def md(self, df: pd.DataFrame, name: str, title: str) -> Path:
        path = self.out / f"{name}.md"
        text = f"# {title}\n\n" + to_markdown(df)
        with atomic_path(path, ".md") as tmp:
            tmp.write_text(text, encoding="utf-8")
        self._done(path)
        self.index.append(f"## {title}\n\n" + to_markdown(df))
        return path

    def fig(self, fig, name: str, title: str, notes=()) -> None:
        from .plots import notes_of, save_figure

        for p in save_figure(fig, self.out / name, formats=self.formats):
            self._done(p)
        notes = list(dict.fromkeys([*notes_of(fig), *notes]))
        for n in notes:
            print(f"  note: {name} leaves out {n}")
        shown = "png" if "png" in self.formats else self.formats[0]
        left = "".join(f"\n- Not shown: {n}" for n in notes)
        self.index.append(f"## {title}\n\n![{title}]({name}.{shown})\n{left}\n")

    def _done(self, path: Path) -> None:
        self.paths.append(path)
        print(f"  {path}")


def _skip(what: str, why: str) -> None:
    print(f"  skipped {what}: {why}")


def report(
    df: pd.DataFrame,
    out: str | Path,
    iterations=None,
    metric: str = "accuracy",
    initial_pool: str = "default",
    method: str | None = None,
    formats=("png", "svg"),
    correction: str | None = None,
    target_difference: float = 0.01,
) -> list[Path]:
    """Render every figure and table that ``df`` supports into ``out``; returns the written paths.

    ``correction="holm"`` applies Holm's correction in the win matrix; ``target_difference`` is
    the AUC difference the seeds-needed table sizes the seeds for (0.01 = 1 point).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(out, list(formats))
    from . import plots

    df = df.copy()
    df["propagate"] = df["propagate"].astype(bool)
    if df[metric].isna().all():
        raise InvalidInputError(
            f"The results have no {metric} values (embeddings without a test split?); "
            "nothing to report."
        )
    base = df[~df["propagate"]] if (~df["propagate"]).any() else df

    w.csv(analysis.learning_curves(df, metric), "learning_curves")
    zeroshot = analysis.zeroshot(df, metric)
    w.fig(
        plots.al_curves(df, metric),
        "al_curves",
        "Active learning curves (mean ± 95 % CI over seeds)"
        + ("; dashed: zero-shot accuracy, no labels" if len(zeroshot) else ""),
    )
    if len(zeroshot):
        w.csv(zeroshot, "zeroshot")
        w.md(zeroshot, "zeroshot", "Zero-shot accuracy (no labels: the class texts' classifier)")
        _zeroshot_sentence(w, df, zeroshot, metric)

    runs = analysis.auc(df, metric)
    w.csv(runs, "auc")
    agg = analysis._aggregate(
        runs.assign(n_labeled=runs["n_labeled_max"]), analysis.SETTING + analysis.CONFIG, "auc"
    )
    w.csv(agg, "auc_summary")
    w.md(
        agg.drop(columns=["n_labeled"]),
        "auc_summary",
        "Area under the learning curve (mean accuracy over the budget)",
    )

    try:
        table = analysis.summary_table(df, iterations=iterations, metric=metric)
        w.csv(table, "summary", index=True)
        marked = (
            "; ↑/↓ = significantly better/worse than random (paired t-test, p < 0.05)"
            if (df["method"] == "random").any()
            else ""
        )
        w.md(
            table,
            "summary",
            f"{metric.replace('_', ' ').capitalize()} (%) ± std over seeds{marked}",
        )
    except AlkitError as exc:
        _skip("summary table", str(exc))

    _statistics(w, df, metric, target_difference)
    _pillars(w, df, metric)

    if df["iteration"].max() >= 2:
        if method is None and (base["method"] == "dropquery").any():
            method = "dropquery"
        w.csv(analysis.delta_half(df, metric), "delta_half")
        try:
            w.fig(
                plots.delta_curves(
                    df, method=method, metric=metric, propagate=bool(not (~df["propagate"]).any())
                ),
                "delta_curves",
                "Figure 1: accuracy(i) − accuracy(i/2)" + (f" — {method}" if method else ""),
            )
        except AlkitError as exc:
            _skip("delta curves", str(exc))
    else:
        _skip("delta curves", "needs runs with at least 2 iterations")

    n_methods = base["method"].nunique()
    if n_methods >= 2:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                wm = analysis.win_matrix(
                    df, initial_pool=initial_pool, metric=metric, correction=correction
                )
            for c in caught:
                print(f"  note: {c.message}")
            w.csv(wm.to_frame(), "win_matrix", index=True)
            w.csv(wm.n_settings, "win_matrix_settings", index=True)
            w.fig(
                plots.win_matrix_heatmap(wm),
                "win_matrix",
                "Win matrix (rows beat columns)"
                + ("; Holm-corrected per setting and iteration" if correction else ""),
                _win_matrix_notes(df, initial_pool),
            )
        except AlkitError as exc:
            _skip("win matrix", str(exc))
    else:
        _skip("win matrix", "needs at least two methods")

    index = out / "index.md"
    with atomic_path(index, ".md") as tmp:
        tmp.write_text("# alkit report\n\n" + "\n".join(w.index), encoding="utf-8")
    w._done(index)
    return w.paths


def _pillars(w: _Writer, df: pd.DataFrame, metric: str) -> None:
    """The pillar figures, each with the table behind it, when the results hold the comparison."""
    from . import analysis, plots

    pools = df[df["iteration"] == 1].groupby(analysis.SETTING)["initial_pool"].nunique()
    if len(pools) and pools.max() >= 2:
        eff = analysis.initial_pool_effect(df, 1, metric)
        w.csv(eff, "pillar1_initial_pool")
        w.fig(
            plots.initial_pool_bars(df, 1, metric),
            "pillar1_initial_pool",
            "Pillar 1: accuracy of each initial pool at iteration 1 (95 % CI, paired test vs random)",
        )
    else:
        _skip("pillar 1 (initial pool)", "every setting ran from a single initial pool")

    gain = analysis.cluster_effect(df, metric)
    if len(gain):
        w.csv(gain, "pillar2_diversity")
        w.fig(
            plots.diversity_gain(df, metric),
            "pillar2_diversity",
            "Pillar 2: accuracy with the clustering step minus without (95 % CI)",
        )
    else:
        _skip(
            "pillar 2 (diversity)",
            "no method ran both with and without cluster=True (e.g. grids/paper_diversity.yaml)",
        )
    _skip(
        "pillar 2 (batch redundancy)",
        "needs the embeddings and each run's queried indices, which results tables do not hold; "
        "compute it with alkit.analysis.batch_redundancy(x, run.selections[i].indices) "
        "as notebook 02 does",
    )

    try:
        fam = analysis.family_gap(df, metric)
    except AlkitError as exc:
        fam = pd.DataFrame()
        reason = str(exc)
    else:
        reason = "no setting ran methods of both the uncertainty and the representative family"
    if len(fam):
        w.csv(fam, "pillar3_uncertainty_vs_representative")
        w.fig(
            plots.uncertainty_vs_representative(df, metric),
            "pillar3_uncertainty_vs_representative",
            "Pillar 3: uncertainty vs representative sampling (best of each family)",
        )
    else:
        _skip("pillar 3 (uncertainty vs representative)", reason)

    ssl = analysis.delta_ssl(df, metric)
    if len(ssl):
        w.csv(ssl, "delta_ssl")
        w.fig(
            plots.delta_ssl_bars(df, metric=metric, by="dataset"),
            "delta_ssl",
            "Pillar 4: Δ_ssl, with minus without label propagation (mean ± 95 % CI)",
        )
    else:
        _skip(
            "delta_ssl (pillar 4)",
            "no runs with and without label propagation share a configuration and seed",
        )


def _zeroshot_sentence(w: _Writer, df: pd.DataFrame, zeroshot: pd.DataFrame, metric: str) -> None:
    """Where the curves cross the zero-shot line: the labels a setting needs to beat it."""
    curves = analysis.learning_curves(
        df[~df["propagate"]] if (~df["propagate"]).any() else df, metric
    )
    parts = []
    for row in zeroshot.itertuples(index=False):
        c = curves[(curves["dataset"] == row.dataset) & (curves["backbone"] == row.backbone)]
        above = c[c["mean"] > row.zeroshot]
        n = above["n_labeled"].min() if len(above) else None
        first = (
            f"first beaten with {int(round(n))} labels ("
            + ", ".join(sorted(above.loc[above["n_labeled"] == n, "method"]))
            + ")"
            if n is not None
            else "never beaten within these runs' budget"
        )
        parts.append(f"{row.dataset} / {row.backbone}: {100 * row.zeroshot:.1f} %, {first}")
    text = (
        f"**No labels.** The zero-shot {metric.replace('_', ' ')} of the class texts, the line "
        "every curve has to beat: " + "; ".join(parts) + "."
    )
    print(f"  {text}")
    w.index.append(text + "\n")


def _pct_ci(mean, low, high) -> str:
    if not np.isfinite(mean):
        return ""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def _span(values: pd.Series, fmt: str) -> str:
    lo, hi = values.min(), values.max()
    if fmt == "d":
        lo, hi = int(lo), int(hi)
    return format(lo, fmt) if lo == hi else f"{lo:{fmt}}–{hi:{fmt}}"


def _statistics(w: _Writer, df: pd.DataFrame, metric: str, target: float) -> None:
    """Bootstrap intervals of AUC and final accuracy, and the seeds a comparison needs."""
    has_random = (df.loc[df["iteration"] >= 1, "method"] == "random").any()
    keys = analysis.SETTING + analysis.CONFIG
    for value, what in (("auc", "AUC"), ("final", "Final")):
        ci = analysis.bootstrap_ci(df, value, metric, baseline="random" if has_random else None)
        name = f"bootstrap_{value}"
        w.csv(ci, name)
        shown = ci[keys + ["n_seeds"]].copy()
        shown[f"{what} % [95 % CI]"] = [
            _pct_ci(*r) for r in ci[["mean", "ci_low", "ci_high"]].itertuples(index=False)
        ]
        if has_random:
            shown["vs random, points [95 % CI]"] = [
                _pct_ci(*r) for r in ci[["diff", "diff_low", "diff_high"]].itertuples(index=False)
            ]
        w.md(
            shown,
            name,
            f"{what} {metric.replace('_', ' ')}: mean and 95 % percentile-bootstrap interval over "
            "seeds" + ("; difference to random paired by seed" if has_random else ""),
        )
    if not has_random:
        _skip("seeds needed", "needs runs of the random baseline")
        return
    need = analysis.seeds_needed(df, "auc", metric, "random", difference=target)
    need = need[need["n_seeds"] >= 2]
    if need.empty:
        _skip("seeds needed", "no configuration pairs with random on 2 or more seeds")
        return
    w.csv(need, "seeds_needed")
    shown = need[keys + ["n_seeds"]].copy()
    for col, title in (("diff", "diff"), ("sd_diff", "sd of diffs"), ("detectable", "detectable")):
        shown[f"{title} (points)"] = (100 * need[col]).round(2)
    shown["seeds for the observed diff"] = need["seeds_for_observed"]
    shown[f"seeds for {100 * target:g} point(s)"] = need["seeds_for_target"]
    w.md(
        shown,
        "seeds_needed",
        "Seeds needed: AUC difference to random, paired t-test, α = 0.05, 80 % power",
    )
    det = 100 * need["detectable"].dropna()
    for_target = need["seeds_for_target"].dropna()
    seeds = sorted(need["n_seeds"].unique())
    text = (
        f"**Seeds.** With {', '.join(map(str, seeds))} seed(s) per configuration, the smallest "
        "AUC difference to random these runs detect with 80 % power (paired t-test, α = 0.05) "
        f"is {_span(det, '.2f')} points"
        + (f" (median {det.median():.2f})" if len(det) > 2 else "")
        + (
            f"; a {100 * target:g}-point difference would need {_span(for_target, 'd')} seeds"
            if len(for_target)
            else ""
        )
        + ". Differences below the detectable one are not evidence either way (Werner et al. "
        "2024 saw three seeds flip a method from better to worse than random)."
    )
    print(f"  {text}")
    w.index.append(text + "\n")


def _win_matrix_notes(df: pd.DataFrame, initial_pool: str) -> list[str]:
    notes = []
    if df["propagate"].any():
        notes.append("runs with label propagation (the win matrix compares runs without)")
    if initial_pool == "default":
        try:
            if not analysis.default_pool_rows(df).all():
                notes.append(
                    "runs from other than each strategy's default initial pool "
                    "(choose one with --initial-pool NAME)"
                )
        except AlkitError:
            pass
    elif (df["initial_pool"] != initial_pool).any():
        notes.append(f"runs from initial pools other than {initial_pool}")
    return notes


def main(args: argparse.Namespace) -> int:
    """Entry point of ``alkit report``."""
    from .results import SkippedResultsWarning, load_results

    src = Path(args.results)
    if not src.exists():
        raise InvalidInputError(
            f"Results path {src} does not exist; pass the --out directory of a sweep or run."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedResultsWarning)
        df = load_results(src, on_error="skip" if args.skip_bad else "raise")
    for w in caught:
        if issubclass(w.category, SkippedResultsWarning):
            print(f"warning: {w.message}")
        else:  # pragma: no cover - other warnings keep their usual route
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if df.empty:
        raise InvalidInputError(f"No results (*.parquet) found under {src}.")
    print(f"{len(df)} rows from {src}; writing to {args.out}:")
    paths = report(
        df,
        args.out,
        iterations=args.iterations,
        metric=args.metric,
        initial_pool=args.initial_pool,
        method=args.method,
        formats=args.formats,
        correction=None if args.correction == "none" else args.correction,
        target_difference=args.target_difference,
    )
    print(f"{len(paths)} files written to {args.out}")
    return 0
