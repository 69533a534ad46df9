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
# # 03 · Pillar 3: uncertainty vs. representative sampling across budgets
#
# With a weak model, *representative* strategies (TypiClust, ProbCover) win at tiny budgets and
# *uncertainty* strategies only later: a "phase transition" (Hacohen et al. 2022).
# **The paper** (Gupte et al. 2024, §4.3) finds no such transition on foundation-model
# embeddings: uncertainty-based strategies are competitive or better from the first queries.
# Here every family runs from its paper-default initial pool; we track, iteration by
# iteration, which family leads and whether the lead changes hands.

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set; None when dataset is a full name
strategies = ["random", "margin", "bald", "coreset", "typiclust", "probcover"]
seeds = None  # None: [0, 1, 2] when quick, else the paper's five seeds
iterations = None  # None: 4 when quick, else 20
out_dir = "runs/03_uncertainty_vs_representative"
quick = True
interactive = False

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import display

import alkit
import alkit.analysis
import alkit.notebooks
import alkit.notebooks.prose
import alkit.plots
from alkit.results import write_results

emb, seeds, iterations, out = alkit.notebooks.setup(
    dataset, backbone, seeds, iterations, out_dir, quick, quick_iterations=4
)
family = {s: alkit.strategies.info(s).family for s in strategies}
pd.Series(family, name="family").to_frame().assign(
    initial_pool={s: alkit.strategies.default_initial_pool(s) for s in strategies}
)

# %% [markdown]
# Every strategy runs from its paper-default initial pool (TypiClust and ProbCover from their own
# representative picks, the others from a random pool).

# %%
results, runs = alkit.notebooks.run_grid(emb, strategies, seeds, iterations)
write_results(results, out / "results.parquet")
display(alkit.plots.al_curves(results, path=out / "curves"))

# %% [markdown]
# The paper's style of table: accuracy ± std (%) at a few budgets, ↑/↓ where a paired t-test
# over seeds finds the method significantly better/worse than random.

# %%
alkit.analysis.summary_table(results)

# %% [markdown]
# ## Which family leads at each budget?
# Per iteration, the best method of each family (mean over seeds): uncertainty (with the Bayesian
# scores) against representative. A phase transition would show the representative family ahead
# at small budgets and the uncertainty family later. Top: each method against random; bottom: the
# gap between the two families' best, with a dotted line where the lead changes hands.

# %%
gap = alkit.analysis.family_gap(results)
display(alkit.plots.uncertainty_vs_representative(results, path=out / "families"))
gap[
    ["iteration", "n_labeled", "uncertainty_method", "representative_method", "gap", "leader"]
].round(3)

# %%
finding = alkit.notebooks.prose.phase_transition(gap, emb, seeds, iterations)
finding

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Sanity of the comparison itself: every strategy learns, and each family's paper-default start is used.
first = results[results.iteration == 1].groupby("method")["accuracy"].mean()
last = results[results.iteration == iterations].groupby("method")["accuracy"].mean()
assert ((last - first) > 0.02).all(), (
    f"some strategy did not learn: {(last - first).round(3).to_dict()}"
)
assert all(
    results[results.strategy == s].initial_pool.eq(alkit.strategies.default_initial_pool(s)).all()
    for s in strategies
)
if {"typiclust", "random"} <= set(
    first.index
):  # a representative start beats random at iteration 1
    assert first["typiclust"] > first["random"] + 0.03, first.round(3).to_dict()
print(
    f"{len(strategies)} strategies × {len(seeds)} seeds × {iterations} iterations; every strategy learns"
)

# %% [markdown]
# ## Try it
# 1. Add `"badge"` and `"dropquery"` to `strategies`. Which family does the figure count them
#    in — and what does its footnote say it leaves out, and why?
# 2. Set `iterations = 12`. Does the representative family's early lead (from its better
#    initial pool) survive past the first few iterations?
# 3. Set `quick = False` on a foundation-model embedding (`dataset = "cifar100"`,
#    `backbone = "dinov2:vitg14"`, after `alkit embed`): does the lead ever change hands there?
