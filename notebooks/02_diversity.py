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
# # 02 · Pillar 2: diversity in the batch
#
# Uncertainty sampling scores every unlabeled point and takes the B highest scores. But points
# that score high together are often *near-duplicates* — the same confusing region of the
# embedding space — and labeling ten copies of one question teaches the probe little more than
# labeling one. The usual remedy is a **diversity step**; alkit's is `cluster=True`:
#
# 1. rank the unlabeled points by the strategy's score and keep the top 50·B as **candidates**;
# 2. run **k-means with k = B** on the candidates (L2-normalised features);
# 3. pick, in each cluster, the candidate **nearest its centroid**.
#
# The batch then still consists of uncertain points, but of B *different kinds* of uncertain
# points. **The paper** (Gupte et al. 2024, §4.2) asks whether good embeddings still need this,
# and finds that the clustering step helps uncertainty sampling in most settings — which is why
# DropQuery clusters its candidates. We first watch the step on a 2-D toy, then measure it on
# real embeddings: accuracy, and the **batch redundancy** (mean pairwise cosine similarity of a
# queried batch: 1 = identical points, 0 = as unrelated as two random points).

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set; None when dataset is a full name
strategies = ["entropy", "margin"]  # uncertainty strategies, each run plain and with clustering
seeds = None  # None: [0, 1, 2] when quick, else the paper's five seeds
iterations = None  # None: 4 when quick, else 20
out_dir = "runs/02_diversity"
quick = True
interactive = False

# %%
# %matplotlib inline
from IPython.display import display

import alkit
import alkit.analysis
import alkit.notebooks
import alkit.notebooks.prose
import alkit.notebooks.toy
import alkit.plots
from alkit.results import write_results

emb, seeds, iterations, out = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, out_dir, quick, quick_iterations=4
)
emb

# %% [markdown]
# ## The clustering step on a 2-D example
# Four blobs of 2 000 points, a probe trained on five labels per blob. Panel 1 shows the probe's
# uncertainty; panel 2 the plain batch (the B highest scores); panel 3 the candidates (the top
# 50·B), coloured by their k-means cluster, and the batch `cluster=True` picks from them. The
# functions called are the library's own (`alkit.strategies.select`,
# `alkit.cluster.kmeans_nearest`).

# %%
fig, toy_table = alkit.notebooks.toy.clustering_example(strategies[0], budget=8, seed=0)
display(fig)
toy_table.round(3)

# %% [markdown]
# The plain batch piles up where the probe is least sure — a few points that are nearly the same
# question, hence a redundancy near 1. The clustered batch still comes from the uncertain region
# but covers it: one point per cluster, redundancy near 0.
#
# ## On real embeddings
# Each strategy runs twice per seed from the same random initial pool: plain top-B and
# `cluster=True`. For every queried batch we record its redundancy (features centred on the pool
# mean, see `alkit.analysis.batch_redundancy`).

# %%
results, runs = alkit.notebooks.run_grid(
    emb, strategies, seeds, iterations, vary={"cluster": [False, True]}
)
write_results(results, out / "results.parquet")
batches = alkit.notebooks.runs.redundancy_table(runs, emb.x_train)
batches.to_csv(out / "batch_redundancy.csv", index=False)
table = alkit.analysis.auc(results).groupby("method")["auc"].agg(["mean", "std"])
table = table.join(batches.groupby("method")["redundancy"].agg(redundancy="mean"))
table.round(3)

# %% [markdown]
# The redundancy of each variant's batches (bars: mean over batches and seeds; hatched =
# `+cluster`), then what the clustering step changes in accuracy at every budget (filled markers:
# significant in a paired t-test over seeds).

# %%
display(alkit.plots.redundancy_bars(batches, path=out / "redundancy"))
display(alkit.plots.diversity_gain(results, path=out / "diversity_gain"))
display(alkit.plots.al_curves(results, path=out / "curves"))

# %%
finding = alkit.notebooks.prose.diversity(table, strategies, emb, seeds, iterations)
finding

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Clustering must make the batches less redundant (what the step is for), without costing much accuracy.
by = table["redundancy"]
for s in strategies:
    clustered = alkit.method_label(s, {"cluster": True})
    assert by[clustered] < by[s] - 0.01, (
        f"{s}: clustering did not reduce redundancy ({by[s]:.3f} → {by[clustered]:.3f})"
    )
    assert table.loc[clustered, "mean"] > table.loc[s, "mean"] - 0.03, (
        f"{s}: clustering cost accuracy"
    )
assert toy_table.loc["+cluster", "redundancy"] < toy_table.loc["plain", "redundancy"]
print(
    f"{len(strategies)} strategies × 2 variants × {len(seeds)} seeds; clustering reduces batch redundancy"
)

# %% [markdown]
# ## Try it
# 1. In the 2-D example, call `clustering_example(strategies[0], budget=3)` and `budget=20`. Is
#    the plain batch's redundancy worse with a bigger budget, and why?
# 2. Set `strategies = ["least_confidence", "bald"]`. Does the clustering step help the Bayesian
#    score (BALD) as much as the plain uncertainty one?
# 3. Set `iterations = 12`. Does the accuracy gain of `+cluster` (the middle figure) last, or is
#    it largest in the first iterations, when the batches are most redundant?
