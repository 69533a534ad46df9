"""The practitioner's loop from the command line, on generated images, as a new user runs it:
``alkit embed`` (a ``:random`` backbone, offline) on a flat folder, a class-folder tree and a
mixed one, then three rounds of ``alkit next --project`` filling each CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alkit.cli import main
from alkit.notebooks.practitioner import colour_images as make_images
from alkit.notebooks.practitioner import fill_from_names as fill
from alkit.project import Project

BACKBONE = "torchvision:resnet18:random"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def three_rounds(capsys, project: Path, first: list[str]) -> list[str]:
    """The first ``alkit next`` (``first``: its options), then three filled rounds; returns the
    printed outputs."""
    rc, out, err = run(capsys, "next", "--project", str(project), *first, "--device", "cpu")
    assert rc == 0, err
    outputs = [out]
    for r in (1, 2, 3):
        n = fill(project / "rounds" / f"round_{r:03d}" / "to_label.csv")
        rc, out, err = run(capsys, "next", "--project", str(project), "--device", "cpu")
        assert rc == 0, err
        assert f"{n} new label(s)" in out and "Estimated accuracy" in out
        assert "Stopping hint" in out  # printed every round
        outputs.append(out)
    return outputs


@pytest.fixture
def classes_file(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("red\ngreen\nblue\n")
    return path


@pytest.mark.slow
def test_flat_folder_three_rounds(tmp_path, capsys, classes_file):
    images = make_images(tmp_path / "images", "flat")
    # the README's spelling: a name for the set, --root the folder
    rc, out, err = run(
        capsys, "embed", "--dataset", "my_images", "--root", str(images), "--backbone", BACKBONE,
        "--device", "cpu", "--no-progress",
    )  # fmt: skip
    assert rc == 0, err
    assert "24 images, all unlabeled" in out and "alkit next --project" in out
    key = f"my_images__{BACKBONE}"
    project = tmp_path / "proj"
    outputs = three_rounds(
        capsys, project, ["--embeddings", key, "--classes", str(classes_file), "--budget", "6"]
    )
    assert "Created the labeling project" in outputs[0] and "initial pool" in outputs[0]
    assert "kappa" not in outputs[1] and "κ =" in outputs[2]  # two models needed for a kappa
    rows = Project.open(project).labels()
    assert len(rows) == 18 and len(set(rows.index.tolist())) == 18
    assert rows.round.tolist() == [1] * 6 + [2] * 6 + [3] * 6 and set(rows.source) == {"csv"}
    ids = [Path(i).name.split("_")[0] for i in rows.ids]
    assert ids == [Project.open(project).classes[lab] for lab in rows.label]  # every label kept
    rc, out, _ = run(capsys, "project", "status", str(project))
    assert rc == 0 and "18 of 24 items" in out and "round_004" in out


@pytest.mark.slow
def test_class_folders_are_labels_and_said_so(tmp_path, capsys, classes_file):
    images = make_images(tmp_path / "images", "folders")
    argv = ["embed", "--dataset", str(images), "--backbone", BACKBONE, "--device", "cpu"]
    rc, out, err = run(capsys, *argv, "--no-progress")
    assert rc == 0, err
    assert "24 images in 3 class folders: the folder names became labels" in out
    assert "--unlabeled" in out
    key = f"images__{BACKBONE}"
    # every image is labeled: the project says why there is nothing to ask, and what to do
    rc, out, err = run(capsys, "next", "--project", str(tmp_path / "p"), "--embeddings", key)
    assert rc == 2 and "--unlabeled" in err and "class folders" in err
    # the stateless `alkit next` says it too instead of a bare "the pool is exhausted"
    rc, out, err = run(capsys, "next", "--embeddings", key, "--budget", "3")
    assert rc == 2 and "exhausted" in err and "--unlabeled" in err
    # ignoring the folder names, the loop runs
    rc, out, err = run(capsys, *argv, "--no-progress", "--unlabeled", "--name", "mine")
    assert rc == 0 and "all unlabeled" in out, err
    project = tmp_path / "proj"
    three_rounds(
        capsys,
        project,
        ["--embeddings", f"mine__{BACKBONE}", "--classes", str(classes_file), "--budget", "6"],
    )
    assert len(Project.open(project).labels()) == 18


@pytest.mark.slow
def test_mixed_folder_sorted_images_are_round_zero(tmp_path, capsys, classes_file):
    images = make_images(tmp_path / "images", "mixed")
    rc, out, err = run(
        capsys, "embed", "--dataset", str(images), "--backbone", BACKBONE, "--device", "cpu",
        "--no-progress",
    )  # fmt: skip
    assert rc == 0 and "18 directly in" in out and "6 in 3" in out, err
    project = tmp_path / "proj"
    outputs = three_rounds(
        capsys,
        project,
        ["--embeddings", f"images__{BACKBONE}", "--classes", str(classes_file), "--budget", "4"],
    )
    assert "6 already labeled, recorded as round 0" in outputs[0]
    assert "initial pool" not in outputs[0]  # labels exist: the strategy asks from round 1
    rows = Project.open(project).labels()
    assert rows.round.tolist() == [0] * 6 + [1] * 4 + [2] * 4 + [3] * 4
    assert rows.source[:6] == ["embeddings"] * 6


def test_csv_list_with_empty_labels(tmp_path):
    from alkit.embedding import load_dataset

    images = make_images(tmp_path / "images", "flat", per_class=2)
    names = sorted(p.name for p in images.glob("*.png"))
    labels = ["red" if n == "red_0.png" else "" for n in names]
    pd.DataFrame({"path": names, "label": labels}).to_csv(images / "list.csv", index=False)
    ds = load_dataset(images / "list.csv")
    assert ds.classes == ["red"] and (ds.splits["train"].labels >= 0).sum() == 1
    ds = load_dataset(images / "list.csv", unlabeled=True)
    assert ds.classes == [] and (ds.splits["train"].labels == -1).all()
    ds = load_dataset("named", root=images / "list.csv")
    assert ds.name == "named" and len(ds.splits["train"]) == 6


def test_next_options_are_checked(tmp_path, capsys, digits):
    from alkit import EmbeddingSet

    path = EmbeddingSet(digits.x_train, -np.ones(len(digits.x_train), dtype=np.int64)).save(
        tmp_path / "pool.npz"
    )
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(digits.classes))
    rc, _, err = run(capsys, "next", "--project", str(tmp_path / "p"))
    assert rc == 2 and "the first call creates it" in err
    rc, _, err = run(capsys, "next", "--budget", "3")
    assert rc == 2 and "--embeddings" in err
    p = str(tmp_path / "p")
    argv = ["next", "--project", p, "--embeddings", str(path), "--classes", str(classes)]
    rc, out, err = run(capsys, *argv, "--budget", "10", "--strategy", "margin", "--device", "cpu")
    assert rc == 0, err
    rc, _, err = run(capsys, "next", "--project", p, "--strategy", "entropy")
    assert rc == 2 and "--strategy differs" in err
    rc, _, err = run(capsys, "next", "--project", p, "--out", "x.csv")
    assert rc == 2 and "--out does not go with --project" in err
    cfg = json.loads((tmp_path / "p" / "project.json").read_text())
    assert cfg["learner"]["strategy"] == "margin" and cfg["learner"]["budget"] == 10


def test_every_next_and_project_option_has_help():
    from alkit.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    parsers = [sub["next"]]
    project = next(a for a in sub["project"]._actions if a.dest == "project_command").choices
    parsers += list(project.values())
    for p in parsers:
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{p.prog} {action.option_strings} has no help"
