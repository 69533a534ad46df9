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
# # 07 · Bring your own data
#
# You have images (or their embeddings) and few or no labels. This notebook runs the
# practitioner's loop of the paper's recipe, with files as the interface:
#
# 1. embeddings: a `.npy` of shape (N, d), or a folder of images embedded with a frozen backbone;
# 2. `ActiveLearner` picks what to label next and `learner.export` writes `to_label.csv`;
# 3. you fill its `label` column (a class name or index) and the filled CSV is read back;
# 4. the probe retrains; its per-item predictions go to `predictions.csv`, its weights to `probe.npz`.
#
# With the defaults it demonstrates the loop on a stand-in: the digits' features saved as a bare
# `.npy` without labels, and a simulated person who fills each CSV with the true classes.

# %% tags=["parameters"]
dataset = "digits"  # demo stand-in used when neither embeddings_path nor image_dir is set
backbone = None  # backbone that embeds image_dir (see alkit.embedding.backbones.available())
embeddings_path = None  # your .npy of shape (N, d), or an EmbeddingSet .npz
image_dir = None  # or a folder of images (root/<class>/*.jpg or root/*.jpg)
classes = None  # class names (needed with a .npy, which has none)
labels_csv = None  # labels you already have: CSV with columns index,label
strategies = ["dropquery"]  # the first one is used
seeds = [0]
iterations = None  # labeling rounds in the demo; None: 3 when quick, else 10
out_dir = "runs/07_bring_your_own_data"
quick = True
interactive = False

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display

import alkit
import alkit.notebooks
import alkit.notebooks.prose

iterations = iterations or (3 if quick else 10)
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
truth, ids, demo = None, None, not (embeddings_path or image_dir)
if demo:  # a bare .npy, as your own pipeline would write it; the labels stay with the "person"
    stand_in = alkit.load_embeddings(dataset)
    embeddings_path = out / "my_embeddings.npy"
    np.save(embeddings_path, stand_in.x_train)
    classes, truth = stand_in.classes, stand_in.y_train
if image_dir:
    from alkit.embedding import embed

    emb = embed(image_dir, backbone or "dinov2:vits14")
    x, classes, ids = emb.x_train, emb.classes, emb.meta.get("ids")
    truth = emb.y_train if (emb.y_train >= 0).all() else None
else:
    emb = alkit.load_embeddings(embeddings_path)
    x, classes = emb.x_train, classes or emb.classes
alkit.notebooks.use_threads(x)  # one thread for small sets, all cores for large ones
print(
    f"{len(x)} items, {x.shape[1]}-dimensional embeddings, {len(classes)} classes: {classes[:10]}"
)

# %% [markdown]
# The learner knows only the features and the class names. Labels you already have go in
# through `teach`; with none, the first query is the initial pool (the strategy's default:
# k-means centroids for DropQuery), which needs no model.

# %%
learner = alkit.ActiveLearner(x, strategies[0], classes=classes, ids=ids, seed=seeds[0])
if labels_csv:
    known_idx, known_labels = alkit.ExportOracle(labels_csv, classes).read()
    learner.teach(known_idx, known_labels)
print(
    f"{learner.n_labeled} labeled; strategy {learner.strategy}, initial pool {learner.initial_pool}, "
    f"budget {learner.budget} per round"
)

# %% [markdown]
# Each round: export the CSV to fill, fill it (here: the simulated person), read it back, teach.
# Interactively the loop stops after the first export: fill `to_label.csv`, then rerun the
# cells from here on with `labels_csv` pointing at it (or call `learner.teach` yourself).

# %%
rounds = []
for r in range(1 if (interactive or truth is None) else iterations):
    paths = learner.export(out / f"round_{r + 1}")
    sheet = pd.read_csv(paths["to_label"])
    if interactive or truth is None:
        print(
            f"Fill the 'label' column of {paths['to_label']} ({len(sheet)} items), then continue."
        )
        break
    sheet["label"] = [classes[truth[i]] for i in sheet["index"]]  # the person, simulated
    sheet.to_csv(paths["to_label"], index=False)
    got_idx, got_labels = alkit.ExportOracle(paths["to_label"], classes, ids).read()
    learner.teach(got_idx, got_labels)
    rounds.append(
        {
            "round": r + 1,
            "exported": len(sheet),
            "read_back": len(got_idx),
            "n_labeled": learner.n_labeled,
            "same_items": bool(np.array_equal(got_idx, sheet["index"])),
            "test_accuracy": learner.evaluate(stand_in.x_test, stand_in.y_test)["accuracy"]
            if demo and stand_in.has_test
            else np.nan,
        }
    )
rounds_table = pd.DataFrame(
    rounds, columns=["round", "exported", "read_back", "n_labeled", "same_items", "test_accuracy"]
)
rounds_table.to_parquet(
    out / "rounds.parquet"
)  # one row per labeling round (not a simulation: no tidy run table)
rounds_table

# %% [markdown]
# The final export: the next items to label plus the probe's predictions for every item.

# %%
final = learner.export(out / "final")
predictions = pd.read_csv(
    final["predictions"], dtype={"label": str, "predicted": str}, keep_default_na=False
)
display(predictions.sort_values("confidence").head())
finding = alkit.notebooks.prose.bring_your_own_data(
    learner,
    final,
    out,
    rounds,
    predictions,
    classes,
    truth=truth,
    test=(stand_in.x_test, stand_in.y_test) if demo and stand_in.has_test else None,
)
finding

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Demo: every exported item comes back labeled, and the predictions beat chance by far.
if demo and not interactive:
    assert all(r["same_items"] and r["read_back"] == r["exported"] for r in rounds)
    assert len(predictions) == len(x) and predictions["labeled"].sum() == learner.n_labeled
    pool_acc = finding.pool_acc
    assert pool_acc > 3 / len(classes), f"predictions near chance: {pool_acc:.3f}"
    print(
        f"{len(rounds)} CSV round trips; predictions for all {len(predictions)} items beat chance"
    )
else:
    print("your own data: no automatic check")

# %% [markdown]
# ## Try it
# 1. Set `labels_csv` to the `to_label.csv` of `round_1` (filled by the simulated person) and
#    `iterations = 1`: the learner starts from those labels instead of an initial pool. Which
#    items does it ask for next?
# 2. Set `strategies = ["margin"]` and compare the accuracy on the unlabeled items after three
#    rounds with DropQuery's.
# 3. Open `final/predictions.csv` and sort by `confidence`: are the least confident predictions
#    the items the next `to_label.csv` asks for?
