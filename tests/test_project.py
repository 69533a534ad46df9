"""Labeling projects: creation, the append-only labels file, rounds, and crashes at any moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alkit import ActiveLearner, EmbeddingSet
from alkit.errors import CorruptCacheError, InvalidInputError, MissingResourceError
from alkit.project import Project, read_labels
from alkit.project import rounds as rounds_module

CLASSES = ["cat", "dog", "bird"]
FAST = {"max_epochs": 40}
REPO = Path(__file__).resolve().parents[1]


def _pool(tmp_path: Path, n: int = 90, labels: np.ndarray | None = None) -> tuple[Path, np.ndarray]:
    """An unlabeled pool of three blobs (saved) and its hidden truth."""
    rng = np.random.default_rng(0)
    truth = np.arange(n) % 3
    x = (rng.normal(size=(n, 8)) + 4 * np.eye(3, 8)[truth]).astype(np.float32)
    y = -np.ones(n, dtype=np.int64) if labels is None else labels
    path = EmbeddingSet(x, y, classes=CLASSES if labels is not None else []).save(
        tmp_path / "pool.npz"
    )
    return path, truth


def _fill(path: Path, truth: np.ndarray) -> None:
    """The person: fills the label column of a round's to_label.csv with the true classes."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["label"] = [CLASSES[truth[int(i)]] for i in df["index"]]
    df.to_csv(path, index=False)


def _create(tmp_path, folder="proj", **kw) -> tuple[Project, np.ndarray]:
    path, truth = _pool(tmp_path)
    kw = {"strategy": "entropy", "budget": 6, "seed": 1, "probe": FAST, **kw}
    return Project.create(tmp_path / folder, str(path), classes=CLASSES, **kw), truth


def test_create_open_and_its_files(tmp_path):
    project, _ = _create(tmp_path)
    cfg = json.loads((tmp_path / "proj" / "project.json").read_text())
    assert cfg["classes"] == CLASSES and cfg["learner"]["strategy"] == "entropy"
    assert cfg["learner"]["budget"] == 6 and cfg["learner"]["initial_budget"] == 6
    assert cfg["learner"]["seed"] == 1 and cfg["embeddings"]["n"] == 90
    assert (
        Path(cfg["embeddings"]["path"]).is_absolute() and len(cfg["embeddings"]["checksum"]) == 64
    )
    assert cfg["stopping"] == {"window": 3, "threshold": 0.99, "cv_folds": 5}
    again = Project.open(tmp_path / "proj")
    assert again.config == project.config and len(again.labels()) == 0
    with pytest.raises(InvalidInputError, match="already holds"):
        _create(tmp_path)
    with pytest.raises(MissingResourceError, match="alkit project init"):
        Project.open(tmp_path / "nothing")


def test_embeddings_that_changed_are_refused(tmp_path):
    project, _ = _create(tmp_path)
    emb = EmbeddingSet.load(tmp_path / "pool.npz")
    emb.x_train[0, 0] += 1
    EmbeddingSet(emb.x_train, emb.y_train).save(tmp_path / "pool.npz")
    with pytest.raises(CorruptCacheError, match="changed since the project"):
        Project.open(project.folder).embeddings()


def test_labels_carried_by_the_embeddings_are_round_zero(tmp_path):
    y = -np.ones(90, dtype=np.int64)
    y[:4] = [0, 1, 2, 0]
    path, _ = _pool(tmp_path, labels=y)
    project = Project.create(tmp_path / "p", str(path), classes=["bird", "cat", "dog"])
    rows = project.labels()
    # found by name in the class list: cat (0 in the embeddings) is 1 in the project
    assert rows.index.tolist() == [0, 1, 2, 3] and rows.label.tolist() == [1, 2, 0, 1]
    assert set(rows.source) == {"embeddings"} and set(rows.round.tolist()) == {0}
    full, _ = _pool(tmp_path / "full", labels=np.arange(90) % 3)
    with pytest.raises(InvalidInputError, match="--unlabeled"):
        Project.create(tmp_path / "q", str(full))


def test_appends_are_whole_conflicts_are_errors_relabel_is_explicit(tmp_path):
    project, _ = _create(tmp_path)
    assert project.append_labels([3, 4], ["cat", "dog"], round=1, source="csv") == 2
    assert project.append_labels([3], ["cat"], source="csv") == 0  # the same answer twice
    with pytest.raises(InvalidInputError, match="already labeled 'cat'.*relabel"):
        project.append_labels([3], ["bird"], source="csv")
    assert project.relabel([3], ["bird"]) == 1
    idx, lab = project.labels().effective()
    assert idx.tolist() == [3, 4] and lab.tolist() == [2, 1]
    text = project.labels_path.read_text()
    assert text.splitlines()[0] == "index,id,label,round,time,source" and text.endswith("\n")
    assert text.count("\n") == 4 and ",relabel\n" in text
    # the reader refuses what an append can never leave behind: a torn or malformed row
    for bad in (text + "5,,cat,1,", text + "5,,horse,1,t,csv\n", text + "5,,cat,1,t,csv,x\n"):
        project.labels_path.write_text(bad)
        with pytest.raises(CorruptCacheError, match="labels file"):
            read_labels(project.labels_path, CLASSES, 90)


def test_three_rounds_remember_everything_and_equal_a_plain_learner(tmp_path):
    project, truth = _create(tmp_path)
    first = project.next_round(device="cpu")
    assert first.round == 1 and len(first.batch) == 6 and first.progress is None
    with pytest.raises(InvalidInputError, match="No label for round 1"):
        project.next_round(device="cpu")
    reference = ActiveLearner(
        EmbeddingSet.load(tmp_path / "pool.npz").x_train, "entropy", budget=6, initial_budget=6,
        seed=1, probe=FAST, classes=CLASSES, device="cpu",
    )  # fmt: skip
    batches = [reference.query().indices]
    result = first
    for r in (1, 2, 3):
        _fill(project.round_dir(r) / "to_label.csv", truth)
        result = Project.open(project.folder).next_round(device="cpu")
        reference.teach(batches[-1], truth[batches[-1]])
        batches.append(reference.query().indices)
        assert result.round == r + 1 and result.n_new == 6 and result.n_labeled == 6 * r
        np.testing.assert_array_equal(result.batch, batches[-1])  # exactly the learner's picks
    assert project.labels().round.tolist() == [1] * 6 + [2] * 6 + [3] * 6
    report = project.report()
    assert report["n_labeled"] == 18 and report["progress"]["estimate"]["folds"] >= 2
    assert len(report["progress"]["hint"]["kappas"]) == 2  # three models, two agreements
    assert "Stopping hint" in result.text(project.folder)
    # only the latest round keeps the learner; every round keeps its batch and report
    assert [(project.round_dir(r) / "learner.npz").exists() for r in (1, 2, 3, 4)] == [
        False, False, False, True,
    ]  # fmt: skip
    assert "18 of 90 items" in project.status()


def test_the_last_rounds_take_what_is_left(tmp_path):
    path, truth = _pool(tmp_path, n=15)
    project = Project.create(tmp_path / "p", str(path), classes=CLASSES, budget=6, probe=FAST)
    sizes = []
    result = project.next_round(device="cpu")
    while result.round is not None:
        sizes.append(len(result.batch))
        _fill(project.round_dir(result.round) / "to_label.csv", truth)
        result = project.next_round(device="cpu")
    assert sizes == [6, 6, 3] and "Every item is labeled" in result.text()
    assert len(project.labels()) == 15


def test_a_crash_at_any_step_leaves_a_project_the_rerun_completes(tmp_path, monkeypatch):
    """In-process crashes at each step of a round: the rerun asks exactly the batch the
    uninterrupted round asks."""
    ref, truth = _create(tmp_path, "ref")
    ref.next_round(device="cpu")
    _fill(ref.round_dir(1) / "to_label.csv", truth)
    expected = ref.next_round(device="cpu").batch

    class Crash(Exception):
        pass

    def crash(*_a, **_k):
        raise Crash

    steps = {
        "after the append": (ActiveLearner, "progress"),
        "while writing the round": (ActiveLearner, "save"),
        "at the commit": (rounds_module, "_rename"),
    }
    for step, (owner, name) in steps.items():
        project, _ = _create(tmp_path, f"crash_{name}")
        project.next_round(device="cpu")
        _fill(project.round_dir(1) / "to_label.csv", truth)
        with monkeypatch.context() as m:
            m.setattr(owner, name, crash)
            with pytest.raises(Crash):
                project.next_round(device="cpu")
        assert len(project.labels()) == 6, step  # the answers were appended, whole
        assert project.rounds() == [1], step  # no half round
        again = project.next_round(device="cpu")
        np.testing.assert_array_equal(again.batch, expected, err_msg=step)
        assert not [p for p in (project.folder / "rounds").iterdir() if p.name.startswith(".")]


KILL_SCRIPT = (
    "import sys; import alkit.cli as c; print('ready', flush=True); sys.exit(c.main(sys.argv[1:]))"
)


def _run_next(folder: Path, kill_after: float | None = None) -> tuple[int, float]:
    """``alkit next --project folder`` in a subprocess, killed with SIGKILL ``kill_after``
    seconds after its imports are done; returns (return code, seconds of work)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", KILL_SCRIPT, "next", "--project", str(folder), "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode, time.perf_counter() - t0


@pytest.mark.slow
def test_sigkill_at_random_moments_keeps_the_labels_file_whole(tmp_path):
    """``alkit next --project`` killed with SIGKILL at random moments of its work: the labels
    file always parses and holds the previous rows or the previous rows and the whole batch;
    a rerun completes the round with exactly the batch of an uninterrupted run."""
    ref, truth = _create(tmp_path, "ref")
    ref.next_round(device="cpu")
    _fill(ref.round_dir(1) / "to_label.csv", truth)
    ref.next_round(device="cpu")
    _fill(ref.round_dir(2) / "to_label.csv", truth)
    rc, work = _run_next(ref.folder)  # round 3, uninterrupted: how long the work takes
    assert rc == 0
    expected = pd.read_csv(ref.round_dir(3) / "to_label.csv")["index"].tolist()

    rng = np.random.default_rng(0)
    outcomes = []
    for trial in range(6):
        project = Project.create(
            tmp_path / f"kill{trial}", str(tmp_path / "pool.npz"), classes=CLASSES,
            strategy="entropy", budget=6, seed=1, probe=FAST,
        )  # fmt: skip
        project.next_round(device="cpu")
        _fill(project.round_dir(1) / "to_label.csv", truth)
        project.next_round(device="cpu")
        _fill(project.round_dir(2) / "to_label.csv", truth)
        batch2 = set(pd.read_csv(project.round_dir(2) / "to_label.csv")["index"])
        rc, _ = _run_next(project.folder, kill_after=float(rng.uniform(0, 1.1 * work)))
        rows = project.labels()  # parses: whole rows only
        assert len(rows) in (6, 12), (trial, len(rows))  # round 1, or round 1 and all of 2
        if len(rows) == 12:
            assert set(rows.index[6:].tolist()) == batch2 and set(rows.round[6:]) == {2}
        outcomes.append((rc, len(rows), project.rounds()[-1]))
        if project.rounds()[-1] == 2:
            rc, _ = _run_next(project.folder)  # the rerun completes the round
            assert rc == 0
        got = pd.read_csv(project.round_dir(3) / "to_label.csv")["index"].tolist()
        assert got == expected, (trial, outcomes[-1])
        assert len(project.labels()) == 12
    print("\n[kill] (return code, label rows after the kill, latest round):", outcomes)
