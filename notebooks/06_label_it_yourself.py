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
# # 06 · Label it yourself
#
# Be the oracle. The learner shows the images it wants labeled; click one class per image and
# **Submit labels**: the probe retrains from scratch on everything you labeled, the test accuracy
# and the learning curve update, and the next batch appears. The first batch is the initial
# pool; later batches come from the strategy.
#
# The default uses sklearn's handwritten digits (8×8 images, so the "embedding" is just the
# pixels). Any image folder works: set `image_dir` to a folder `root/<class>/*.jpg` and
# `backbone` to a backbone from `alkit.embedding.backbones.available()`; the images are embedded once
# and cached. To label in the browser run this notebook with `interactive = True` (in Jupyter, or
# served by Voilà). Headless (papermill, nbval: `interactive = False`) the simulated oracle
# answers with the true labels by clicking the same buttons.
#
# Every submitted batch is saved to a labeling project (`project_dir`, see `docs/labeling.md`):
# its `labels.csv` holds each label you clicked, and running the notebook again (or reloading the
# Voilà page) resumes where you stopped, with the batch that was waiting. The same project
# continues from the command line with `alkit next --project <project_dir>`.

# %% tags=["parameters"]
dataset = "digits"  # built-in name, synthetic spec or cached data set (see alkit datasets)
backbone = None  # backbone of a cached data set, or the one that embeds image_dir
image_dir = None  # a folder of images, one sub-folder per class
strategies = ["margin"]  # the first one is used
seeds = [0]
iterations = None  # None: 3 when quick, else 10 batches
out_dir = "runs/06_label_it_yourself"
project_dir = None  # None: out_dir/project (the simulated run uses a fresh out_dir/simulated)
quick = True
interactive = False

# %%
import shutil
from pathlib import Path

import numpy as np
from IPython.display import display

import alkit
import alkit.notebooks
import alkit.notebooks.prose
from alkit.results import write_results
from alkit.widgets import LabelingLoop, WidgetOracle, in_voila

iterations = iterations or (3 if quick else 10)
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
if project_dir is None and not interactive:
    project_dir = out / "simulated"  # the simulated labels are redone on every run
    shutil.rmtree(project_dir, ignore_errors=True)
project_dir = Path(project_dir or out / "project")
if image_dir:
    from alkit.embedding import embed

    emb = embed(image_dir, backbone or "dinov2:vits14")
    images = [Path(image_dir) / i for i in emb.meta["ids"]]
else:
    emb = alkit.load_embeddings(f"{dataset}__{backbone}" if backbone else dataset)
    images = (
        emb.x_train.reshape(-1, 8, 8) if emb.dataset == "digits" else None
    )  # digits' features are pixels
alkit.notebooks.use_threads(emb)  # one thread for small sets: the probe retrains faster
emb

# %% [markdown]
# The widget: one row of class buttons under each image, then **Submit labels**. Below it the
# accuracy of the probe after each retraining (on the test split; without one, estimated by
# cross-validation on your labels), the stopping hint and the learning curve.

# %%
learner = alkit.ActiveLearner(emb, strategies[0], seed=seeds[0])
oracle = WidgetOracle(emb.classes, images, invert=emb.dataset == "digits", columns=5)
loop = LabelingLoop(
    learner,
    oracle,
    emb=emb,
    iterations=iterations,
    save=out / "results.parquet",
    project=project_dir,
).start()
display(loop.widget)

# %% [markdown]
# Headless, the simulated oracle clicks the true class of every shown image and submits, batch
# after batch, exactly as a person would in the widget above.

# %%
if not interactive:
    truth = alkit.SimulatedOracle(emb.y_train)
    while not loop.done:
        oracle.fill(truth.label(oracle.indices))
        oracle.submit_button.click()
    print(loop.accuracy_label.value.replace("<b>", "").replace("</b>", ""))

# %% [markdown]
# ## What happened
# Each submitted batch is appended to `project_dir/labels.csv` and the session's table saved to
# `out_dir/results.parquet`. In Jupyter, rerun the cells below after labeling.

# %%
results = loop.to_frame()
if len(results):
    write_results(results, out / "results.parquet")
    display(alkit.notebooks.prose.labeling_session(results, emb, learner))
elif not in_voila():  # a web app has no cells to rerun: say nothing there
    print(
        f"Nothing labeled in this session yet ({loop.resumed} labels in {project_dir}): label a "
        "batch in the widget above, then rerun this cell."
    )

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Headless: clicking through the widget must give exactly the simulated run, and the probe must learn.
if not interactive:
    ref = alkit.run_al(emb, strategies[0], iterations=iterations, seed=seeds[0])
    assert np.array_equal(ref.acquired, learner.acquired), (
        "the widget loop queried other points than run_al"
    )
    assert np.allclose(ref.history.accuracy, results.accuracy, atol=1e-9)
    assert results.accuracy.iloc[-1] > results.accuracy.iloc[0] + 0.02, results.accuracy.round(
        3
    ).tolist()
    print(f"{len(results)} widget batches reproduce run_al exactly; accuracy rises")

# %% [markdown]
# ## Try it
# 1. Set `strategies = ["random"]` and label again: are the random batches easier or harder to
#    label than margin's, and does the accuracy line rise as fast?
# 2. Label one batch *wrongly on purpose* (click a wrong class for two images). How much does the
#    test accuracy after that batch drop, and does the next batch recover it?
# 3. Set `strategies = ["dropquery"]`: its first batch is the k-means centroids. How many of the
#    ten digits does that first batch show you?
