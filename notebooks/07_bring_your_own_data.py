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
# You have a folder of photos and no labels, and want to know which to label first, label them,
# and repeat until the model is good enough. This notebook walks that loop with the exact
# commands you would type, on generated photos (small noisy squares of three colours) so that it
# runs anywhere, offline:
#
# 1. `alkit embed` turns the folder into embeddings with a frozen backbone (here
#    `torchvision:resnet18:random`, random weights that need no download; use a real one such as
#    `dinov2:vits14` for your photos);
# 2. the first `alkit next --project my_project …` creates a **labeling project**: a folder
#    that remembers the embeddings, the class names, the strategy and the seed, and writes the
#    first batch to `my_project/rounds/round_001/to_label.csv`;
# 3. you fill in its `label` column (here a simulated person reads the colour from each file
#    name) and run `alkit next --project my_project` again: it appends your labels to
#    `my_project/labels.csv`, retrains the probe, prints the **estimated accuracy** and the
#    **stopping hint**, and writes the next batch. Repeat.
#
# `labels.csv` is the single source of truth: every label with its round, time and source,
# appended atomically (a crash loses nothing). The same project continues in the labeling widget
# (notebook 06, `project_dir`) or in Label Studio (`--format labelstudio`); see
# `docs/labeling.md`.

# %% tags=["parameters"]
dataset = "colours"  # the name the images are embedded under (the generated demo: colours)
backbone = "torchvision:resnet18:random"  # see alkit embed --list-backbones
image_dir = None  # your folder of images (flat, class folders or both); None: generated ones
classes = None  # your class names (a list); None with the generated images: red, green, blue
strategies = ["dropquery"]  # the first one is used
seeds = [0]
budget = 6  # images to label per round
iterations = None  # labeling rounds in the demo; None: 3 when quick, else 6
out_dir = "runs/07_bring_your_own_data"
quick = True
interactive = False

# %%
from pathlib import Path

from IPython.display import display

import alkit.notebooks.prose
from alkit.notebooks.practitioner import colour_images, fill_from_names, rounds_table, shell
from alkit.project import Project

iterations = iterations or (3 if quick else 6)
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
demo = image_dir is None
if demo:  # a flat folder of photos nobody has labeled yet
    image_dir = colour_images(out / "images", layout="flat", per_class=8 if quick else 16)
    classes = ["red", "green", "blue"]
classes_file = out / "classes.txt"
classes_file.write_text("\n".join(classes) + "\n")
project_dir = out / "my_project"
print(f"{len(list(Path(image_dir).rglob('*.png')))} images in {image_dir}; classes {classes}")

# %% [markdown]
# ## 1. Embed the folder
# `--dataset` names the set (any name that is not a data card), `--root` is the folder. Images
# directly in the folder are unlabeled; images in sub-folders would be labeled by the folder
# name (the command says so, and `--unlabeled` ignores the folder names).

# %%
shell(
    f"alkit embed --dataset {dataset} --root {image_dir} --backbone {backbone} --device cpu "
    "--no-progress"
)

# %% [markdown]
# ## 2. The first batch
# The first call creates the project. Nothing is labeled yet, so the first batch is the
# strategy's initial pool (for DropQuery, the images nearest the k-means centroids).

# %%
fresh = not Project.exists(project_dir)
shell(
    f"alkit next --project {project_dir} --embeddings {dataset}__{backbone} "
    f"--classes {classes_file} --budget {budget} --strategy {strategies[0]} --seed {seeds[0]} "
    "--device cpu"
    if fresh
    else f"alkit project status {project_dir}"
)

# %% [markdown]
# ## 3. Label, then ask again
# Fill in the `label` column of the latest `to_label.csv` (a class name per row; leave a row
# empty to skip it), save it, and run `alkit next --project my_project`. Each round prints what
# it read, the estimated accuracy with its uncertainty, the stopping hint and the next file to
# fill. Interactively (or on your own images) the loop stops here: fill the file, then rerun
# this cell.

# %%
project = Project.open(project_dir)
for _ in range(1 if (interactive or not demo) else iterations):
    waiting = project.round_dir(project.latest_round()) / "to_label.csv"
    if interactive or not demo:
        print(
            f"Fill in the label column of {waiting}, then run: alkit next --project {project_dir}"
        )
        break
    fill_from_names(waiting)  # the person, simulated
    shell(f"alkit next --project {project_dir} --device cpu")

# %% [markdown]
# ## 4. What the project holds
# `labels.csv` has one row per label, appended as each round was read; every round's folder
# keeps its batch, the probe's predictions for every image and a `report.json` with the
# estimate and the hint. `alkit project status` summarises it.

# %%
shell(f"alkit project status {project_dir}")
labels = project.labels()
table = rounds_table(project)
table.to_parquet(out / "rounds.parquet")  # one row per round (a labeling session, not a run)
display(table)
finding = alkit.notebooks.prose.bring_your_own_data(project, table)
finding

# %% [markdown]
# **Reading the two numbers.** The *estimated accuracy* is a cross-validation of the probe on
# the images labeled so far (5 folds, fewer while a class has few labels), as mean ± standard
# error. The strategy chose those images, so it is biased: uncertainty strategies pick hard
# images (the estimate reads low), representative ones typical images (it reads high). Watch
# its trend rather than its value. The *stopping hint* compares the predictions of the current
# probe on every image with the previous round's (Cohen's kappa; 1 = identical): when the mean
# over the last three rounds reaches 0.99, more labels are unlikely to change the model
# (Bloodgood & Vijay-Shanker, CoNLL 2009).

# %% tags=["keep_output"]
# NBVAL_CHECK_OUTPUT
# Demo: every label given is in labels.csv, as given, and each round printed its hint.
if demo and not interactive:
    names = [Path(i).name.split("_")[0] for i in labels.ids]
    assert names == [project.classes[y] for y in labels.label], "a label was lost or changed"
    assert len(labels) == iterations * budget and project.latest_round() == iterations + 1
    assert table["estimated_accuracy"].iloc[1:].notna().all()  # estimated after each round
    assert table["kappa"].iloc[2:].notna().all()  # agreement from the second probe on
    print(
        f"{iterations} rounds: all {len(labels)} labels kept in labels.csv; an estimate and a "
        "stopping hint after every round"
    )
else:
    print("your own data: no automatic check")

# %% [markdown]
# ## Try it
# 1. Set `quick = False` (48 images, six rounds) in a fresh `out_dir`: when does the stopping
#    hint first say stop, and what is the estimated accuracy then?
# 2. Put two images of each colour into `red/`, `green/` and `blue/` sub-folders (a *mixed*
#    folder: `colour_images(..., layout="mixed")`) and start a new project: the sorted images are
#    labeled from the start (round 0 of `labels.csv`), and the first batch comes from the
#    strategy, not the initial pool.
# 3. Run `alkit next --project runs/07_bring_your_own_data/my_project --format labelstudio` and
#    open the round's `tasks.json`: the same batch as Label Studio tasks, with the probe's guess
#    pre-selected (see `docs/labeling.md`).
