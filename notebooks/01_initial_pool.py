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
# # 01 · Pillar 1: the initial pool (cold start)
#
# Before the first query there is no model, so the first C labels must be chosen without one.
# **The paper** (Gupte et al. 2024, §4.1) finds that on foundation-model embeddings a
# *representative* initial pool (k-means centroids, TypiClust, ProbCover) beats a random one in
# the first iterations, and that the advantage fades as labels accumulate; DropQuery therefore
# starts from the k-means centroids. This notebook measures that on the chosen data set and
# shows *which* points each method picks.

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set; None when dataset is a full name
strategies = ["margin"]  # query strategies run after each initial pool
initial_pools = ["random", "centroids", "typiclust", "probcover"]
seeds = None  # None: [0, 1, 2] when quick, else the paper's five seeds
iterations = None  # None: 8 when quick (enough to watch the lead fade), else 20
out_dir = "runs/01_initial_pool"
quick = True
interactive = False

# %%
# %matplotlib inline
from IPython.display import display

import alkit
import alkit.notebooks
import alkit.notebooks.prose
import alkit.notebooks.toy
import alkit.plots
from alkit.results import write_results

emb, seeds, iterations, out = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, out_dir, quick, quick_iterations=8
)
emb

# %% [markdown]
# Every (strategy, initial pool, seed) runs the paper's protocol. Iteration 1 is the initial
# pool alone, so its accuracy measures the cold start directly; the later iterations show how
# long a good start keeps its lead.

# %%
results, runs = alkit.notebooks.run_grid(
    emb, strategies, seeds, iterations, vary={"initial_pool": initial_pools}
)
write_results(results, out / "results.parquet")
results[results.iteration <= 3].pivot_table(
    index=["method", "initial_pool"], columns="n_labeled", values="accuracy", aggfunc="mean"
).mul(100).round(1)

# %% [markdown]
# **The cold start, measured.** Each bar is the accuracy after the initial pool alone (mean over
# seeds, 95 % confidence interval); the tick label gives its difference to the random pool, and a
# faded bar means a paired t-test over seeds cannot tell it from random.

# %%
display(alkit.plots.initial_pool_bars(results, path=out / "initial_pool"))

# %% [markdown]
# **And after it.** The same runs over the budget: colour = strategy, marker = initial pool.

# %%
display(alkit.plots.al_curves(results, path=out / "curves"))

# %% [markdown]
# ## Which points does each method pick?
# A 2-D t-SNE of (a sample of) the training embeddings, coloured by class, with the initial
# pool of seed `seeds[0]` of each method on top. Representative methods spread their picks over
# the dense regions of every class; a random pool can miss classes entirely.

# %%
picks = {ip: runs[(strategies[0], ip, seeds[0])].selections[0].indices for ip in initial_pools}
fig = alkit.notebooks.toy.picks_map(emb.x_train, emb.y_train, picks, 400 if quick else 3000)
fig.savefig(out / "tsne_picks.png", dpi=120)
display(fig)

# %%
finding = alkit.notebooks.prose.initial_pool(results, emb, seeds, iterations)
finding

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# The paper's pillar-1 finding, with a tolerance: a representative start beats random at iteration 1.
gain = finding.gain
assert gain.drop("random").max() > 0.03, (
    f"no representative start beat random at iteration 1: {gain.to_dict()}"
)
if "centroids" in gain:
    assert gain["centroids"] > 0.0, (
        f"centroids did not beat random at iteration 1: {gain['centroids']:.3f}"
    )
print(
    f"{len(initial_pools)} initial pools × {len(strategies)} strategies × {len(seeds)} seeds; "
    "a representative start beats random at iteration 1"
)

# %% [markdown]
# ## Try it
# 1. Set `strategies = ["margin", "random"]`. At iteration 1 both curves of one pool coincide
#    (the pool is all they have); from which iteration on does the strategy matter more than the
#    start?
# 2. Set `iterations = 20` (or `quick = False`). At which iteration does the best start's lead
#    fall below one point, and does any start end ahead?
# 3. Try `dataset = "synthetic:N=2000,d=32,C=8,seed=0,noise=2.0"`: do the representative pools
#    still cover more classes than random when the classes overlap?
