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

from IPython.display import display

import alkit
import alkit.notebooks
import alkit.notebooks.prose
import alkit.plots
from alkit.results import write_results

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
results, runs = alkit.notebooks.run_grid(emb, strategies, seeds, iterations)
Path(out_dir).mkdir(parents=True, exist_ok=True)
write_results(results, Path(out_dir) / "results.parquet")
results[["method", "seed", "iteration", "n_labeled", "accuracy"]].head()

# %% [markdown]
# Mean accuracy over seeds with a 95 % confidence band, against the number of labels
# (`alkit.plots.al_curves`; the PNG and SVG are saved next to the results). Every figure of the
# kit gives a strategy the same colour (`random` is always grey), so curves can be compared
# across lessons.

# %%
fig = alkit.plots.al_curves(results, path=Path(out_dir) / "curves")
display(fig)

# %%
finding = alkit.notebooks.prose.quickstart(results, emb, seeds, iterations)
finding

# %% [markdown]
# The check below fails the notebook (and CI) if the science breaks, not only if code raises.
# Next: `01_initial_pool` (cold start), `02_diversity`, `03_uncertainty_vs_representative`,
# `04_label_propagation`, `05_dropquery`; label images yourself in `06_label_it_yourself`.

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Every strategy learns, and strategies starting from the same initial pool agree exactly at iteration 1.
gain = finding.last - finding.first
assert (gain > 0.05).all(), f"some strategy did not learn: {gain.to_dict()}"
same_start = results[results.iteration == 1].groupby(["initial_pool", "seed"])["accuracy"].nunique()
assert (same_start == 1).all(), "runs with the same seed and initial pool must share iteration 1"
print(
    f"{results.method.nunique()} methods × {len(seeds)} seeds × {iterations} iterations = {len(results)} rows;"
    f" every strategy learns; paired starts agree"
)

# %% [markdown]
# ## Try it
# 1. Add `"dropquery"` and `"typiclust"` to `strategies`. Do the strategies that start from a
#    representative initial pool (DropQuery: k-means centroids, TypiClust: its own) lead at
#    iteration 1, and does their lead last?
# 2. Set `dataset = "synthetic:N=2000,d=32,C=8,seed=0,noise=2.0"` (overlapping classes). Does
#    uncertainty sampling beat random there, unlike on digits?
# 3. Set `seeds = [0]`. What happens to the confidence bands, and why can a single seed mislead?
