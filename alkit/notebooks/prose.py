"""What each lesson's run shows, in words: the computed sentences under "This run".

Each function takes the lesson's results, computes the numbers the prose needs and returns a
:class:`Finding`: Jupyter shows it as Markdown, and its attributes hold the numbers (for the
lesson's check cell). Every number in a lesson's prose comes from here, never typed in.
Accuracies are written in % and differences in percentage points.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import analysis

__all__ = [
    "Finding",
    "quickstart",
    "initial_pool",
    "diversity",
    "phase_transition",
    "label_propagation",
    "dropquery",
    "labeling_session",
    "bring_your_own_data",
    "paper_figures",
    "text_prior",
    "herding",
    "statistics",
]


class Finding:
    """Markdown prose plus the numbers behind it (as attributes)."""

    def __init__(self, text: str, **numbers) -> None:
        self.text = text
        self.__dict__.update(numbers)

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def _pp(v: float) -> str:
    return f"{100 * v:+.1f}"


def _run(emb, seeds, iterations=None) -> str:
    it = f", {iterations} iterations" if iterations else ""
    return f"**This run** ({emb.dataset}, {emb.backbone}, {len(seeds)} seeds{it})"


def quickstart(results: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """00: which strategy learns best over the budget, and whether uncertainty beat random."""
    auc = analysis.auc(results).groupby("method")["auc"].mean().sort_values(ascending=False)
    first = results[results.iteration == 1].groupby("method")["accuracy"].mean()
    last = results[results.iteration == iterations].groupby("method")["accuracy"].mean()
    better = [m for m in auc.index if m != "random" and "random" in auc and auc[m] > auc["random"]]
    text = (
        "**The paper:** on foundation-model embeddings a linear probe learns from very few "
        "labels, and uncertainty-based strategies are competitive with or better than random "
        "from the first iterations.\n\n"
        f"{_run(emb, seeds)}: with {int(results.n_labeled.max())} labels the best strategy by "
        f"mean accuracy over the budget (AUC) is **{auc.index[0]}** ({_pct(auc.iloc[0])}), the "
        f"worst {auc.index[-1]} ({_pct(auc.iloc[-1])}); accuracy went from "
        + ", ".join(f"{m} {_pct(first[m])} → {_pct(last[m])}" for m in auc.index)
        + ". "
        + (
            f"Uncertainty sampling ({', '.join(better)}) beat random over the budget here, as in "
            "the paper."
            if better
            else "Here no uncertainty strategy beat random over the budget: on these features "
            "the paper's finding does not carry over (digits are raw pixels, not "
            "foundation-model embeddings)."
        )
    )
    return Finding(text, auc=auc, first=first, last=last)


def initial_pool(results: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """01: the best start's lead over random at iteration 1 and how it fades."""
    trend = pd.concat(
        [
            analysis.initial_pool_effect(results, it).assign(iteration=it)
            for it in range(1, iterations + 1)
        ],
        ignore_index=True,
    )
    lead = trend.pivot_table(index="iteration", columns="initial_pool", values="diff_vs_baseline")
    first = trend[trend.iteration == 1].set_index("initial_pool")
    gain = first["diff_vs_baseline"].fillna(0.0)
    best = gain.drop("random").idxmax()
    path = lead[best]
    faded = next((int(i) for i, v in path.items() if i > 1 and v < 0.5 * path.iloc[0]), None)
    fade = (
        f"it falls below half its size at iteration {faded}: the advantage fades as labels "
        "accumulate, as in the paper."
        if faded is not None
        else f"it is still {_pp(path.iloc[-1])} points at iteration {iterations}"
        + (
            ": too few iterations to see it fade — rerun with more (`iterations = 12`)."
            if iterations < 8
            else ": on this data set it does not fade within the budget."
        )
    )
    text = (
        f"{_run(emb, seeds)}, {emb.n_classes} labels in the initial pool: at iteration 1 the best "
        f"start is **{best}**, {_pp(gain[best])} points over random ({_pct(first.at[best, 'mean'])} "
        f"vs {_pct(first.at['random', 'mean'])}, p = {first.at[best, 'p_vs_baseline']:.2g}); it "
        f"covers {first.at[best, 'n_classes_seen']:.1f} classes on average against "
        f"{first.at['random', 'n_classes_seen']:.1f} for random. Its lead over random goes "
        + ", ".join(_pp(v) for v in path)
        + f" points over iterations 1–{iterations}; "
        + fade
    )
    return Finding(text, gain=gain, best=best, lead=lead, faded=faded)


def diversity(table: pd.DataFrame, strategies, emb, seeds, iterations: int) -> Finding:
    """02: redundancy and AUC of each strategy plain and with clustering.

    ``table``: per method, ``mean`` (AUC) and ``redundancy`` (mean batch redundancy).
    """
    from ..loop import method_label

    lines, helped = [], 0
    for s in strategies:
        c = method_label(s, {"cluster": True})
        d = table.loc[c, "mean"] - table.loc[s, "mean"]
        helped += int(d > 0)
        lines.append(
            f"- **{s}**: batch redundancy {table.loc[s, 'redundancy']:.3f} → "
            f"{table.loc[c, 'redundancy']:.3f} with clustering; accuracy over the budget (AUC) "
            f"{_pct(table.loc[s, 'mean'])} → {_pct(table.loc[c, 'mean'])} ({_pp(d)} points)."
        )
    text = (
        f"{_run(emb, seeds, iterations)}:\n\n"
        + "\n".join(lines)
        + f"\n\nClustering raised the AUC for {helped} of {len(strategies)} strategies"
        + (
            " — as in the paper."
            if helped == len(strategies)
            else "; on this data set the diversity step is not uniformly helpful."
        )
    )
    return Finding(text, helped=helped)


def phase_transition(gap: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """03: the best uncertainty minus the best representative method, per iteration."""
    flips = gap.loc[gap["transition"], "iteration"].astype(int).tolist()
    text = (
        f"{_run(emb, seeds)}: uncertainty minus representative (best of each family) goes "
        + ", ".join(_pp(g) for g in gap["gap"])
        + f" points over iterations 1–{iterations}. "
        + (
            f"The lead changes hands at iteration(s) {flips}: a phase transition on this data set."
            if flips
            else "The lead never changes hands: no phase transition here."
        )
    )
    return Finding(text, flips=flips)


def label_propagation(pooled: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """04: Δ_ssl per iteration, where it is significant, and whether it fades."""
    sig_pos = pooled.index[(pooled["diff"] > 0) & pooled["significant"]].tolist()
    sig_neg = pooled.index[(pooled["diff"] < 0) & pooled["significant"]].tolist()
    change = pooled["diff"].iloc[-1] - pooled["diff"].iloc[0]
    text = (
        f"{_run(emb, seeds)}, strategies pooled: Δ_ssl goes "
        + ", ".join(_pp(d) for d in pooled["diff"])
        + f" points over iterations 1–{iterations}; significantly positive at iteration(s) "
        f"{sig_pos or 'none'}, significantly negative at {sig_neg or 'none'}. From iteration 1 to "
        f"{iterations} it changes by {_pp(change)} "
        + (
            "points: the gain fades as labels accumulate, as in the paper."
            if change < -0.01
            else "points: within a point of where it started, so over these iterations the gain "
            "has not faded yet (more iterations would tell)."
            if change <= 0.01
            else "points: over these iterations the gain grows on this data set."
        )
    )
    return Finding(text, sig_pos=sig_pos, sig_neg=sig_neg)


def dropquery(results: pd.DataFrame, wm, sens: pd.DataFrame, emb, seeds, iterations) -> Finding:
    """05: DropQuery's rank by AUC, the win-matrix totals and the spread over M."""
    from .. import strategies

    auc = analysis.auc(results).groupby("method")["auc"].mean().sort_values(ascending=False)
    rank = list(auc.index).index("dropquery") + 1 if "dropquery" in auc else None
    default_m = strategies.info("dropquery").params["M"]
    runs = analysis.auc(sens)
    runs["M"] = runs["method"].map(
        lambda m: int(re.search(r"M=(\d+)", m).group(1)) if "M=" in m else default_m
    )
    auc_m = runs.groupby("M")["auc"].agg(["mean", "std"])
    text = (
        f"{_run(emb, seeds, iterations)}: DropQuery ranks {rank} of {len(auc)} by AUC "
        f"({_pct(auc.get('dropquery', np.nan))}; best {auc.index[0]} {_pct(auc.iloc[0])}); "
        "win-matrix totals: "
        + ", ".join(f"{m} {v:.2f}" for m, v in wm.totals.sort_values(ascending=False).items())
        + f". Across M ∈ {sorted(auc_m.index)} its AUC spans {_pct(auc_m['mean'].min())}–"
        f"{_pct(auc_m['mean'].max())} ({100 * (auc_m['mean'].max() - auc_m['mean'].min()):.1f} "
        "points)."
    )
    return Finding(text, auc=auc, auc_m=auc_m, rank=rank)


def labeling_session(results: pd.DataFrame, emb, learner) -> Finding:
    """06: what the labeling session reached."""
    text = (
        f"**This session** ({emb.dataset}, {emb.backbone}, strategy {learner.strategy}, initial "
        f"pool {learner.initial_pool}): {len(results)} batch(es), {results.n_labeled.iloc[-1]} "
        "labels; test accuracy "
        + " → ".join(_pct(a) for a in results.accuracy)
        + ". The paper's protocol reaches the same numbers without clicking: `run_al` with the "
        "same seed gives identical queries and accuracies when the answers are the true labels "
        "(checked below)."
    )
    return Finding(text)


def bring_your_own_data(project, table: pd.DataFrame) -> Finding:
    """07: what the project holds after its rounds, the last estimate and the stopping hint."""
    idx, lab = project.labels().effective()
    counts = np.bincount(lab, minlength=len(project.classes))
    per_class = ", ".join(f"{c} {n}" for c, n in zip(project.classes, counts))
    text = (
        f"**This run**: {len(table)} round(s) written in `{project.folder}`; `labels.csv` holds "
        f"{len(idx)} labels of the {project.n} images ({per_class})"
    )
    last = table.dropna(subset=["estimated_accuracy"]).tail(1)
    if len(last):
        row = last.iloc[0]
        text += (
            f". The probe that chose round {int(row['round'])}'s batch, trained on "
            f"{int(row['n_labeled'])} labels, has an estimated accuracy of "
            f"{_pct(row['estimated_accuracy'])} ± {_pct(row['stderr'])}"
        )
    kappas = table["kappa"].dropna()
    if len(kappas):
        stop = bool(table["stop"].iloc[-1])
        text += (
            f"; the agreement between its predictions and the previous round's is κ = "
            f"{kappas.iloc[-1]:.3f}, and the stopping hint says "
            + ("**stop**" if stop else "**keep labeling**")
        )
    return Finding(text + ".", n_labels=len(idx))


def paper_figures(df: pd.DataFrame, base: pd.DataFrame, wm, dh: pd.DataFrame, dssl) -> Finding:
    """99: the win-matrix totals, DropQuery's Δ(i) and Δ_ssl of the rendered results."""
    totals = wm.totals.sort_values(ascending=False)
    text = (
        "**The paper:** DropQuery tops the win matrix on natural images and is competitive on "
        "biomedical ones; Δ(i) is largest early and for larger backbones; Δ_ssl is positive "
        "early and fades or turns negative later.\n\n"
        f"**These results** ({df['dataset'].nunique()} data sets, {df['backbone'].nunique()} "
        f"backbone(s), {base['method'].nunique()} methods): win-matrix totals "
        + ", ".join(f"{m} {v:.2f}" for m, v in totals.items())
    )
    if len(dh):
        per_it = dh.groupby("iteration")["mean"].mean()
        text += (
            "; DropQuery's Δ(i) "
            + ", ".join(f"i={int(i)}: {_pp(v)}" for i, v in per_it.items())
            + " points (mean over settings)"
        )
    if len(dssl):
        text += "; Δ_ssl " + ", ".join(_pp(d) for d in dssl["diff"]) + " points over iterations"
    return Finding(text + ".", totals=totals)


def text_prior(results: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """08, part 1: the zero-shot line, the initial pools at iteration 1, the warm start."""
    zs = float(analysis.zeroshot(results)["zeroshot"].iloc[0])
    first = results[results.iteration == 1]
    at1 = first.groupby(["method", "initial_pool"])["accuracy"].mean()
    cold = {p: at1[m, p] for m, p in at1.index if not m.endswith("+text_init")}
    warm = {p: at1[m, p] for m, p in at1.index if m.endswith("+text_init")}
    best = max(cold, key=cold.get)
    curves = analysis.learning_curves(results)
    above = curves[curves["mean"] > zs]
    cross = (
        f"the first curve above it is {above.sort_values('n_labeled').iloc[0]['method']} from "
        f"{int(above['n_labeled'].min())} labels"
        if len(above)
        else f"no curve gets above it within {int(curves['n_labeled'].max())} labels"
    )
    text = (
        "**Beyond the paper:** with CLIP-like features the class names give a classifier before "
        "any label, and can choose the first labels and the probe's starting point.\n\n"
        f"{_run(emb, seeds, iterations)}: the zero-shot accuracy of the class texts is "
        f"**{_pct(zs)}**, the line every curve has to beat; {cross}. At iteration 1 "
        f"({emb.n_classes} labels) the starts reach "
        + ", ".join(f"{p} {_pct(v)}" for p, v in sorted(cold.items(), key=lambda kv: -kv[1]))
        + f": the best is **{best}**. "
        + (
            f"The text prior is {_pp(cold['text_prior'] - cold['random'])} points against random"
            + (
                f" and {_pp(cold['text_prior'] - cold['centroids'])} against the centroids. "
                if "centroids" in cold
                else ". "
            )
            if "text_prior" in cold and "random" in cold
            else ""
        )
        + (
            "With the probe warm-started from the class texts: "
            + ", ".join(f"{p} {_pct(v)}" for p, v in warm.items())
            + f" ({_pp(np.mean(list(warm.values())) - zs)} points from the zero-shot line)."
            if warm
            else ""
        )
    )
    return Finding(text, zeroshot=zs, cold=cold, warm=warm, best=best)


def herding(results: pd.DataFrame, emb, seeds, iterations: int) -> Finding:
    """08, part 2: herding against TypiClust and ProbCover at low budgets."""
    auc = analysis.auc(results).groupby("method")["auc"].mean().sort_values(ascending=False)
    first = results[results.iteration == 1].groupby("method")["accuracy"].mean()
    herd = [m for m in auc.index if m in ("maxherding", "uherding")]
    reps = [m for m in auc.index if m in ("typiclust", "probcover")]
    lead = (
        float(auc[herd].max() - auc[reps].max()) if herd and reps else np.nan
    )  # best herding minus best of the two
    text = (
        "**Beyond the paper:** MaxHerding (Bae, Noh & Sutherland, ECCV 2024) replaces "
        "ProbCover's δ-balls by a smooth kernel, and Uncertainty Herding (Bae, Sutherland & "
        "Oliveira, ICLR 2025) weights that coverage by the model's uncertainty; both are "
        "reported to match or beat TypiClust and ProbCover at low budgets.\n\n"
        f"{_run(emb, seeds, iterations)}: by AUC "
        + ", ".join(f"{m} {_pct(v)}" for m, v in auc.items())
        + "; at iteration 1 "
        + ", ".join(f"{m} {_pct(first[m])}" for m in auc.index)
        + ". "
        + (
            f"The best herding method is {_pp(lead)} points "
            + ("above" if lead > 0 else "below")
            + " the best of TypiClust and ProbCover over the budget."
            if np.isfinite(lead)
            else ""
        )
    )
    return Finding(text, auc=auc, first=first, lead=lead)


def statistics(ci: pd.DataFrame, wm, wm_holm, need: pd.DataFrame, seeds) -> Finding:
    """08, part 3: how wide the intervals are, what Holm removes, and the seeds needed."""
    width = float((ci["ci_high"] - ci["ci_low"]).mean())
    wins, kept = float(wm.wins.to_numpy().sum()), float(wm_holm.wins.to_numpy().sum())
    det = need["detectable"].dropna()
    target = need["seeds_for_target"].dropna() if "seeds_for_target" in need else pd.Series()
    text = (
        f"**With {len(seeds)} seeds:** the 95 % bootstrap intervals of the AUC are "
        f"{100 * width:.1f} points wide on average (percentile intervals over so few seeds are "
        "too narrow, if anything); the win matrix counts "
        f"{wins:.2f} wins, {kept:.2f} of which survive Holm's correction over the pairs of each "
        "iteration; against random, differences in AUC below "
        + (f"{100 * det.median():.1f} points (median)" if len(det) else "—")
        + " are out of reach of a paired t-test with 80 % power"
        + (
            f", and detecting 1 point would take {int(target.median())} seeds (median)."
            if len(target)
            else "."
        )
    )
    return Finding(text, width=width, wins=wins, kept=kept)
