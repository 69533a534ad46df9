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
# Taking the B most uncertain points at once risks a *redundant* batch: near-duplicates that
# teach the probe the same thing. The usual remedy is a diversity step: here, `cluster=True`
# keeps the top 50·B uncertain points and picks the one nearest each of B k-means centroids.
# **The paper** (Gupte et al. 2024, §4.2) asks whether good embeddings still need it, and finds
# that the simple clustering step helps uncertainty sampling in most settings, which is why
# DropQuery clusters its candidates. We measure the batch redundancy (mean pairwise cosine
# similarity of the queried batch) next to accuracy.

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

import pandas as pd
from IPython.display import Markdown, display

import alkit
import alkit.analysis
import alkit.notebooks
import alkit.plots

emb, seeds, iterations, out = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, out_dir, quick, quick_iterations=4
)
# redundancy is measured after centring on the pool mean (see alkit.analysis.batch_redundancy)
pool_mean = emb.x_train.mean(axis=0)
emb

# %% [markdown]
# Each strategy runs twice per seed from the same random initial pool: plain top-B and
# `cluster=True`. For every queried batch we record its redundancy: the mean cosine
# similarity over the B(B−1)/2 pairs of the batch (1 = identical points, 0 = as unrelated as
# two random points; features centred on the pool mean).

# %%
frames, batches = [], []
for strategy in strategies:
    for cluster in (False, True):
        for seed in seeds:
            run = alkit.run_al(emb, strategy, iterations=iterations, seed=seed, cluster=cluster)
            frames.append(run.to_frame())
            batches += [
                {
                    "method": frames[-1]["method"].iloc[0],
                    "strategy": strategy,
                    "cluster": cluster,
                    "seed": seed,
                    "iteration": it + 1,
                    "redundancy": alkit.analysis.batch_redundancy(
                        emb.x_train, sel.indices, center=pool_mean
                    ),
                }
                for it, sel in enumerate(run.selections)
                if it > 0
            ]  # iteration 1 = initial pool
results = pd.concat(frames, ignore_index=True)
results.to_parquet(out / "results.parquet")
batches = pd.DataFrame(batches)
batches.to_parquet(out / "batch_redundancy.parquet")
auc = alkit.analysis.auc(results).groupby("method")["auc"].agg(["mean", "std"])
table = auc.join(batches.groupby("method")["redundancy"].agg(redundancy="mean"))
table.round(3)

# %%
fig = alkit.plots.al_curves(results, path=out / "curves")
display(fig)

# %%
by = table["redundancy"]
lines = []
for s in strategies:
    plain, clustered = s, alkit.method_label(s, {"cluster": True})
    lines.append(
        f"- **{s}**: batch redundancy {by[plain]:.3f} → {by[clustered]:.3f} with clustering; "
        f"accuracy over the budget (AUC) {table.loc[plain, 'mean']:.3f} → {table.loc[clustered, 'mean']:.3f} "
        f"({100 * (table.loc[clustered, 'mean'] - table.loc[plain, 'mean']):+.1f} points)."
    )
helped = sum(
    table.loc[alkit.method_label(s, {"cluster": True}), "mean"] > table.loc[s, "mean"]
    for s in strategies
)
display(
    Markdown(
        f"**This run** ({emb.dataset}, {emb.backbone}, {len(seeds)} seeds, {iterations} iterations):\n\n"
        + "\n".join(lines)
        + f"\n\nClustering lowered the redundancy of every strategy's batches and raised the AUC for {helped} of "
        f"{len(strategies)} strategies"
        + (
            " — as in the paper."
            if helped == len(strategies)
            else "; on this data set the diversity step is not uniformly helpful."
        )
    )
)

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Clustering must make the batches less redundant (what the step is for), without costing much accuracy.
for s in strategies:
    clustered = alkit.method_label(s, {"cluster": True})
    assert by[clustered] < by[s] - 0.01, (
        f"{s}: clustering did not reduce redundancy ({by[s]:.3f} → {by[clustered]:.3f})"
    )
    assert table.loc[clustered, "mean"] > table.loc[s, "mean"] - 0.03, (
        f"{s}: clustering cost accuracy"
    )
print(
    f"{len(strategies)} strategies × 2 variants × {len(seeds)} seeds; clustering reduces batch redundancy"
)
