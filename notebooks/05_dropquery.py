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
# # 05 · DropQuery, step by step
#
# **The paper's strategy** (Gupte et al. 2024, §5) combines the three lessons of the pillars:
# start from the k-means **centroids** (pillar 1), find **uncertain** points as those whose
# prediction flips when input features are dropped out (pillar 3), and keep the batch
# **diverse** by clustering those candidates (pillar 2). The paper reports that DropQuery wins
# the win matrix on natural images and is robust to the number of dropout passes M.
# We first take one query apart, then compare DropQuery with the others.

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set; None when dataset is a full name
strategies = ["random", "margin", "bald", "typiclust", "dropquery"]
seeds = None  # None: [0, 1, 2] when quick, else the paper's five seeds
iterations = None  # None: 4 when quick, else 20
M_values = None  # None: [1, 3, 9] when quick, else [3, 5, 7, 9] (the paper's robustness check)
out_dir = "runs/05_dropquery"
quick = True
interactive = False

# %%
# %matplotlib inline

import numpy as np
import pandas as pd
from IPython.display import display

import alkit
import alkit.analysis
import alkit.cluster
import alkit.notebooks
import alkit.notebooks.prose
import alkit.notebooks.toy
import alkit.plots
from alkit.results import write_results
from alkit.strategies.dropquery import relax_threshold
from alkit.strategies.scores import mismatch

M_values = M_values or ([1, 3, 9] if quick else [3, 5, 7, 9])
emb, seeds, iterations, out = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, out_dir, quick, quick_iterations=4
)
emb

# %% [markdown]
# ## One query, taken apart
# A learner labels its initial pool (the centroids) and fits the probe. We save the state of
# the probe's dropout generator so that the library call at the end replays the same masks.

# %%
learner = alkit.ActiveLearner(emb, "dropquery", seed=seeds[0])
truth = alkit.SimulatedOracle(emb.y_train)
first = learner.query()
learner.teach(first.indices, truth.label(first.indices)).fit()
pool, probe, B, M = learner.pool, learner.probe, learner.budget, learner.params["M"]
masks_state = probe.generator.get_state()
unl = pool.unlabeled_idx
print(
    f"initial pool ({learner.initial_pool}): {len(first.indices)} labels; {len(unl)} unlabeled; B = {B}, M = {M}"
)

# %% [markdown]
# **Steps 1–3.** A clean pass gives each unlabeled point its prediction y*; M passes with fresh
# input-dropout masks (p = 0.75, as in training) give M more; *mismatch* counts the passes that
# disagree with y*. The table shows how often the clean prediction is actually wrong at each
# mismatch level (we can look because the simulation knows the labels).

# %%
clean, passes = probe.mc_argmax(pool.x[unl], M)
mis = mismatch(clean, passes)
wrong = clean != emb.y_train[unl]
pd.DataFrame(
    {
        "points": np.bincount(mis, minlength=M + 1),
        "clean prediction wrong": [
            wrong[mis == m].mean() if (mis == m).any() else np.nan for m in range(M + 1)
        ],
    }
).rename_axis("mismatch").round(3)

# %% [markdown]
# **Step 4.** Candidates are the points where a majority of passes flip (mismatch > ⌊M/2⌋); while
# there are fewer than 25·B of them the threshold is lowered by one. **Step 5.** k-means with k = B
# on the candidates' L2-normalised probe embeddings; the candidate nearest each centroid is picked.

# %%
threshold = relax_threshold(mis, M, 25 * B)
cand = np.flatnonzero(mis > threshold)
rng = np.random.default_rng(seeds[0])
z = probe.embed(pool.x[unl[cand]])
nearest, clusters = alkit.cluster.kmeans_nearest(z, B, rng)
picks = alkit.top_up(unl[cand[nearest]], pool, B, rng, {}).indices
probe.generator.set_state(masks_state)  # replay the same dropout masks in the library call
sel = alkit.strategies.select("dropquery", pool, probe, B, np.random.default_rng(seeds[0]))
print(
    f"threshold {threshold}: {len(cand)} candidates (library: {sel.info['n_candidates']}, "
    f"threshold {sel.info['threshold']}); clean prediction wrong on {wrong[cand].mean():.1%} of candidates "
    f"vs {wrong[np.setdiff1d(np.arange(len(unl)), cand)].mean():.1%} of the rest"
)
print(
    "step by step == alkit.strategies.select('dropquery'):",
    np.array_equal(np.sort(picks), np.sort(sel.indices)),
)

# %%
fig = alkit.notebooks.toy.dropquery_map(
    probe.embed(pool.x[unl]), cand, clusters, np.searchsorted(unl, picks)
)
fig.savefig(out / "one_query.png", dpi=120)
display(fig)

# %% [markdown]
# ## DropQuery against the others
# Each strategy from its paper-default initial pool; the win matrix counts, per iteration ≥ 2,
# significant wins in a paired t-test over seeds (one setting here, so cells are at most 1).

# %%
results, runs = alkit.notebooks.run_grid(emb, strategies, seeds, iterations)
write_results(results, out / "results.parquet")
display(alkit.plots.al_curves(results, path=out / "curves"))
wm = alkit.analysis.win_matrix(results)
display(alkit.plots.win_matrix_heatmap(wm, path=out / "win_matrix"))

# %% [markdown]
# ## Sensitivity to M
# The paper reports DropQuery robust to the number of dropout passes M. Each M runs on every seed.

# %%
sens, _ = alkit.notebooks.run_grid(emb, ["dropquery"], seeds, iterations, vary={"M": M_values})
sens.to_csv(out / "sensitivity_M.csv", index=False)
finding = alkit.notebooks.prose.dropquery(results, wm, sens, emb, seeds, iterations)
finding.auc_m.mul(100).round(1)

# %%
finding

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# The walk-through is the library's algorithm; dropout disagreement flags the probe's errors;
# DropQuery is at least as good as random over the budget (1-point tolerance).
assert np.array_equal(np.sort(picks), np.sort(sel.indices))
assert wrong[cand].mean() > wrong.mean(), "candidates should be where the probe errs more often"
auc = finding.auc
assert auc["dropquery"] > auc["random"] - 0.01, auc.round(3).to_dict()
print(
    f"step-by-step picks match the library; {len(strategies)} strategies × {len(seeds)} seeds compared"
)

# %% [markdown]
# ## Try it
# 1. Set `M_values = [1, 2, 20]`. With M = 1 a point is a candidate as soon as one dropout pass
#    flips it: does that cost accuracy, or only change which points are candidates?
# 2. In the walk-through, replace `25 * B` in `relax_threshold(mis, M, 25 * B)` by `5 * B`. How
#    many candidates are left, and does the clustering still spread the picks (the PCA map)?
# 3. Add `"coreset"` and `"badge"` (the diversity family) to `strategies`. Does DropQuery keep
#    the largest total in the win matrix?
