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
# # 99 · The paper's figures and tables
#
# Renders Figures 1–5 and the summary tables of Gupte et al. (TMLR 2024) from a directory of
# sweep results (`alkit sweep grids/paper_natural.yaml --out results/paper_natural`, etc.):
#
# | Figure | What | From |
# |---|---|---|
# | 1 | Δ(i) = acc(i) − acc(i/2) of DropQuery per backbone size | `paper_backbones` |
# | 2, 5 | AL curves on natural and biomedical data sets | `paper_natural`, `paper_biomedical` |
# | 3 | win matrices, natural (a) and biomedical (b) | same |
# | 4 | Δ_ssl, accuracy with minus without label propagation | `paper_ssl` |
#
# The figures read result tables (parquet), never executed notebooks. With `quick = True` and no
# `results_dir` this notebook first runs a small sweep itself (the shipped `quick` grid, cut to a
# few strategies and iterations, with and without label propagation) and renders the same figures
# on digits and a synthetic set: the pipeline is the paper's, the numbers are not.

# %% tags=["parameters"]
dataset = "digits"  # quick mode: the first data set of the small sweep
backbone = None  # unused: each result row carries its own backbone
strategies = ["random", "margin", "typiclust", "dropquery"]  # quick mode sweep
seeds = [1, 10, 100]  # quick mode sweep
iterations = 4  # quick mode sweep; even, so Figure 1 has i of 2 and 4
results_dir = None  # a directory of sweep results; None with quick: run the small sweep first
out_dir = "runs/99_paper_figures"
quick = True
interactive = False

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
import yaml
from IPython.display import Markdown, display

import alkit
import alkit.analysis
import alkit.cards
import alkit.notebooks
import alkit.notebooks.prose
import alkit.plots
import alkit.sweep
from alkit.errors import AlkitError

out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
if results_dir is None:
    if not quick:
        raise AlkitError(
            "Set results_dir to a directory of sweep results (or quick = True for the demo sweep)."
        )
    grid = yaml.safe_load(alkit.sweep.shipped_grids()["quick"].read_text())
    grid.update(
        name="quick_figures",
        strategies=strategies,
        seeds=seeds,
        iterations=iterations,
        propagation=[False, True],
        datasets=[dataset] + [d for d in grid["datasets"] if d != dataset],
    )
    results_dir = out / "sweep"
    alkit.notebooks.use_threads(alkit.load_embeddings(dataset))
    alkit.sweep.sweep(grid, results_dir, scheduler="serial", progress=True, raise_on_failure=True)
df = alkit.load_results(results_dir)
df.to_parquet(out / "results.parquet")


def domain(name):
    try:
        return alkit.cards.load_card(name).domain
    except AlkitError:
        return "built-in"  # digits and synthetic sets have no data card


df["domain"] = df["dataset"].map(domain)
df.groupby(["domain", "dataset", "backbone"]).agg(
    methods=("method", "nunique"),
    seeds=("seed", "nunique"),
    iterations=("iteration", "max"),
    propagate=("propagate", "nunique"),
)

# %% [markdown]
# ## Figure 1 — Δ(i) = accuracy(i) − accuracy(i/2) of DropQuery, per backbone

# %%
base = df[~df["propagate"]]
if "dropquery" in set(base["method"]):
    display(alkit.plots.delta_curves(base, method="dropquery", path=out / "figure1_delta"))

# %% [markdown]
# ## Figures 2 and 5 — AL curves; Figure 3 — win matrices (per domain)

# %%
for dom, part in base.groupby("domain"):
    display(Markdown(f"### {dom}"))
    display(alkit.plots.al_curves(part, path=out / f"figure2_curves_{dom}"))
    wm = alkit.analysis.win_matrix(part)
    display(
        alkit.plots.win_matrix_heatmap(
            wm,
            title=f"Win matrix, {dom} ({len(wm.settings)} settings)",
            path=out / f"figure3_win_matrix_{dom}",
        )
    )

# %% [markdown]
# ## Figure 4 — Δ_ssl: label propagation minus none (pooled over data sets)

# %%
if df["propagate"].nunique() == 2:
    display(alkit.plots.delta_ssl_bars(df, by=None, path=out / "figure4_delta_ssl"))

# %% [markdown]
# ## Tables — accuracy ± std (%) at chosen iterations, ↑/↓ = significantly better/worse than random

# %%
table = alkit.analysis.summary_table(base)
table.to_csv(out / "summary_table.csv")
table

# %%
wm_all = alkit.analysis.win_matrix(base)
dh = alkit.analysis.delta_half(base[base["method"] == "dropquery"])
dssl = alkit.analysis.delta_ssl(df, by=[]) if df["propagate"].nunique() == 2 else pd.DataFrame()
alkit.notebooks.prose.paper_figures(df, base, wm_all, dh, dssl)

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Consistency of what was rendered: each win-matrix cell is bounded by the settings both methods ran
# in, and DropQuery still gains from doubling its labels (Δ(i) > 0 on average at every even i).
assert (wm_all.wins.to_numpy() <= wm_all.n_settings.to_numpy() + 1e-9).all()
if len(dh):
    assert (dh.groupby("iteration")["mean"].mean() > 0).all(), dh.round(3).to_dict()
figures = sorted(p.name for p in out.glob("figure*.png"))
print(f"{len(figures)} figures rendered: {', '.join(figures)}")

# %% [markdown]
# ## Try it
# 1. Point `results_dir` at the demo's sweep (`outputs/demo/sweep` after `make demo`): which
#    figures appear that the quick sweep here cannot draw, and which are skipped?
# 2. Run `alkit.report.report(df, out / "report")`: it writes every figure these results allow
#    and prints why it skips the others. Which pillar figures does this small sweep support?
# 3. Set `iterations = 8`: Figure 1 then has i = 2, 4, 6, 8. Does DropQuery's Δ(i) shrink as the
#    labels double?
