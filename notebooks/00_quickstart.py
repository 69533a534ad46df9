# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Quickstart: active learning on frozen embeddings in ten cells
#
# Load a set of embeddings, let three strategies choose which images to label, and compare
# their learning curves. Every number below is computed by this run; rerun it on your own
# data set with `papermill 00_quickstart.ipynb out.ipynb -p dataset cifar100 -p backbone dinov2:vitg14`
# or `alkit notebooks run --notebook 00_quickstart --datasets cifar100`.

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set; None when dataset is a full name
strategies = ["random", "entropy", "margin"]
seeds = None  # None: [0, 1, 2] when quick, else the paper's five seeds
iterations = None  # None: 6 when quick, else the paper's 20
out_dir = "runs/00_quickstart"
quick = True  # small grid for CI and a first look
interactive = False

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

import alkit
import alkit.analysis
import alkit.notebooks
import alkit.plots

emb, seeds, iterations, _ = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, quick=quick, quick_iterations=6
)
emb

# %% [markdown]
# `run_al` follows the paper's protocol: an initial pool of C labels (one per class on
# average), then C labels per iteration, a linear probe retrained from scratch each time
# and scored on the test split. Runs with the same seed share their initial pool, so
# iteration 1 is identical across strategies that start the same way.

# %%
runs = [
    alkit.run_al(emb, strategy, iterations=iterations, seed=seed)
    for strategy in strategies
    for seed in seeds
]
results = pd.concat([run.to_frame() for run in runs], ignore_index=True)
Path(out_dir).mkdir(parents=True, exist_ok=True)
results.to_parquet(Path(out_dir) / "results.parquet")
results[["method", "seed", "iteration", "n_labeled", "accuracy"]].head()

# %% [markdown]
# Mean accuracy over seeds with a 95 % confidence band, against the number of labels
# (`alkit.plots.al_curves`; the PNG and SVG are saved next to the results).

# %%
fig = alkit.plots.al_curves(results, path=Path(out_dir) / "curves")
display(fig)

# %%
auc = alkit.analysis.auc(results).groupby("method")["auc"].mean().sort_values(ascending=False)
first = results[results.iteration == 1].groupby("method")["accuracy"].mean()
last = results[results.iteration == iterations].groupby("method")["accuracy"].mean()
better = [m for m in auc.index if m != "random" and "random" in auc and auc[m] > auc["random"]]
display(
    Markdown(
        f"**The paper:** on foundation-model embeddings a linear probe learns from very few labels, and "
        f"uncertainty-based strategies are competitive with or better than random from the first iterations.\n\n"
        f"**This run** ({emb.dataset}, {emb.backbone}, {len(seeds)} seeds): with {int(results.n_labeled.max())} labels "
        f"the best strategy by mean accuracy over the budget (AUC) is **{auc.index[0]}** ({auc.iloc[0]:.3f}), "
        f"the worst {auc.index[-1]} ({auc.iloc[-1]:.3f}); accuracy went from "
        + ", ".join(f"{m} {first[m]:.3f} → {last[m]:.3f}" for m in auc.index)
        + ". "
        + (
            f"Uncertainty sampling ({', '.join(better)}) beat random over the budget here, as in the paper."
            if better
            else "Here no uncertainty strategy beat random over the budget: on these features the "
            "paper's finding does not carry over (digits are raw pixels, not foundation-model embeddings)."
        )
    )
)

# %% [markdown]
# The check below fails the notebook (and CI) if the science breaks, not only if code raises.
# Next: `01_initial_pool` (cold start), `02_diversity`, `03_uncertainty_vs_representative`,
# `04_label_propagation`, `05_dropquery`; label images yourself in `06_label_it_yourself`.

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Every strategy learns, and strategies starting from the same initial pool agree exactly at iteration 1.
gain = last - first
assert (gain > 0.05).all(), f"some strategy did not learn: {gain.to_dict()}"
same_start = results[results.iteration == 1].groupby(["initial_pool", "seed"])["accuracy"].nunique()
assert (same_start == 1).all(), "runs with the same seed and initial pool must share iteration 1"
print(
    f"{results.method.nunique()} methods × {len(seeds)} seeds × {iterations} iterations = {len(results)} rows;"
    f" every strategy learns; paired starts agree"
)
