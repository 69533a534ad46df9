"""The labeling widget, driven headless through its buttons as a user would click them."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import alkit
from alkit.errors import InvalidInputError

pytest.importorskip("ipywidgets")

from alkit.widgets import LabelingLoop, WidgetOracle, image_widget, to_png  # noqa: E402


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(data)).size


def test_to_png_arrays_vectors_and_files(tmp_path):
    digit = np.arange(64, dtype=np.float32) / 4  # a flat 8×8 digit vector, values 0..16
    assert _png_size(to_png(digit, size=64)) == (64, 64)
    rgb = np.zeros((10, 20, 3), dtype=np.uint8)
    assert _png_size(to_png(rgb, size=40)) == (40, 20)
    path = tmp_path / "x.png"
    path.write_bytes(to_png(rgb, size=20))
    assert _png_size(to_png(path, size=10)) == (10, 5)
    assert image_widget(digit, size=32).format == "png"
    with pytest.raises(InvalidInputError, match="square length"):
        to_png(np.zeros(10))
    with pytest.raises(InvalidInputError, match="does not exist"):
        to_png(tmp_path / "missing.png")


def test_buttons_choose_and_submit():
    images = np.random.default_rng(0).random((30, 8, 8))
    oracle = WidgetOracle(["a", "b", "c"], images)
    got = []
    oracle.ask([4, 9, 17], on_submit=lambda i, lab: got.append((i, lab)))
    title, grid, footer = oracle.widget.children
    assert len(grid.children) == 3 and len(oracle.buttons) == 3 and len(oracle.buttons[0]) == 3
    assert oracle.submit_button.disabled
    oracle.buttons[0][2].click()
    oracle.buttons[1][0].click()
    oracle.buttons[1][1].click()  # a change of mind: the last click wins
    assert (
        oracle.buttons[1][1].button_style == "success" and oracle.buttons[1][0].button_style == ""
    )
    assert oracle.submit_button.disabled and "2 of 3" in oracle.status.value
    with pytest.raises(InvalidInputError, match="no label yet"):
        oracle.submit()
    oracle.buttons[2][0].click()
    assert not oracle.submit_button.disabled
    oracle.submit_button.click()
    assert len(got) == 1
    np.testing.assert_array_equal(got[0][0], [4, 9, 17])
    np.testing.assert_array_equal(got[0][1], [2, 1, 0])
    assert oracle.submit_button.disabled and all(b.disabled for row in oracle.buttons for b in row)
    with pytest.raises(InvalidInputError, match="No batch is open"):
        oracle.choose(0, 0)
    assert len(oracle.submitted) == 1


def test_dropdown_control_for_many_classes():
    classes = [f"class_{c}" for c in range(20)]
    oracle = WidgetOracle(classes)  # no images: captions only
    assert oracle.control == "dropdown"
    oracle.ask([1, 2])
    oracle.dropdowns[0].value = 5
    oracle.fill(["class_5", "class_19"])
    idx, lab = oracle.submit()
    np.testing.assert_array_equal(lab, [5, 19])


def test_label_is_asynchronous():
    with pytest.raises(InvalidInputError, match="asynchronously"):
        WidgetOracle(["a", "b"]).label(np.array([0]))


def test_loop_clicked_labels_reproduce_run_al(digits, tmp_path):
    """Labels clicked through the widget give exactly the simulated run of the same seed."""
    iterations = 3
    learner = alkit.ActiveLearner(digits, strategy="margin", seed=3)
    oracle = WidgetOracle(digits.classes, digits.x_train.reshape(-1, 8, 8), invert=True)
    saved = tmp_path / "labels.parquet"
    loop = LabelingLoop(learner, oracle, emb=digits, iterations=iterations, save=saved).start()
    truth = alkit.SimulatedOracle(digits.y_train)
    shown = []
    while not loop.done:
        shown.append(oracle.indices.copy())
        labels = truth.label(oracle.indices)
        for pos, lab in enumerate(labels):
            oracle.buttons[pos][lab].click()
        oracle.submit_button.click()
        assert f"Iteration {len(loop.rows)}" in loop.accuracy_label.value
        assert loop.curve.value  # the learning curve was redrawn
    df = loop.to_frame()
    ref = alkit.run_al(digits, "margin", iterations=iterations, seed=3).to_frame()
    assert list(df.columns) == list(ref.columns)
    np.testing.assert_array_equal(
        np.concatenate(shown),
        alkit.run_al(digits, "margin", iterations=iterations, seed=3).acquired,
    )
    np.testing.assert_array_equal(df["n_labeled"], ref["n_labeled"])
    np.testing.assert_allclose(df["accuracy"], ref["accuracy"])
    assert (df["dataset"] == "digits").all() and (df["method"] == "margin").all()
    # one row builder (alkit.results) for both: the same table but for the timings
    timing = ["query_seconds", "fit_seconds"]
    pd.testing.assert_frame_equal(df.drop(columns=timing), ref.drop(columns=timing))
    pd.testing.assert_frame_equal(alkit.results.read_results(saved), df)  # a checked results file
    assert "Done" in oracle.title.value


def _click_through(loop, oracle, truth, batches: int) -> list[np.ndarray]:
    shown = []
    for _ in range(batches):
        shown.append(oracle.indices.copy())
        oracle.fill(truth.label(oracle.indices))
        oracle.submit_button.click()
    return shown


def test_loop_saves_every_batch_to_a_project_and_resumes(digits, tmp_path):
    """Each submitted batch is in the project's labels file; a new loop on the same project (the
    notebook rerun, the page reloaded) shows the batch that was waiting and continues exactly
    as an uninterrupted session."""
    from alkit.project import Project

    truth = alkit.SimulatedOracle(digits.y_train)
    probe = {"max_epochs": 60}
    project = tmp_path / "project"

    def session():
        learner = alkit.ActiveLearner(digits, "margin", seed=2, probe=probe, device="cpu")
        oracle = WidgetOracle(digits.classes, digits.x_train.reshape(-1, 8, 8), invert=True)
        return learner, oracle, LabelingLoop(learner, oracle, emb=digits, project=project)

    learner, oracle, loop = session()
    loop.start()
    first = _click_through(loop, oracle, truth, 2)
    waiting = oracle.indices.copy()
    rows = Project.open(project).labels()
    assert len(rows) == 20 and set(rows.source) == {"widget"}
    np.testing.assert_array_equal(rows.index, np.concatenate(first))
    assert "Stopping hint" in loop.progress_label.value

    learner2, oracle2, loop2 = session()  # the reload
    assert loop2.resumed == 20 and learner2.n_labeled == 20
    assert "Resumed: 20 labels" in loop2.accuracy_label.value
    loop2.start()
    np.testing.assert_array_equal(oracle2.indices, waiting)  # the same batch, not a new one
    rest = _click_through(loop2, oracle2, truth, 2)

    reference = alkit.run_al(digits, "margin", iterations=5, seed=2, probe=probe, device="cpu")
    np.testing.assert_array_equal(np.concatenate(first + rest), reference.acquired[:40])
    np.testing.assert_array_equal(oracle2.indices, reference.acquired[40:])
    assert len(Project.open(project).labels()) == 40
    # the curve, earlier session included
    assert [h["n_labeled"] for h in loop2.history] == [10, 20, 30, 40]
    # another learner's settings are refused rather than mixed into the project
    other = alkit.ActiveLearner(digits, "entropy", seed=2, probe=probe, device="cpu")
    with pytest.raises(InvalidInputError, match="was created with"):
        LabelingLoop(other, WidgetOracle(digits.classes), project=project)


def test_without_a_test_split_the_estimate_and_no_broken_image(digits):
    x, y = digits.x_train, digits.y_train
    learner = alkit.ActiveLearner(
        x, "random", classes=digits.classes, initial_budget=3, seed=0, probe={"max_epochs": 60},
        device="cpu",
    )  # fmt: skip
    oracle = WidgetOracle(digits.classes)
    loop = LabelingLoop(learner, oracle).start()
    assert loop.curve_box.children == ()  # no image element before there is a curve
    truth = alkit.SimulatedOracle(y)
    _click_through(loop, oracle, truth, 1)  # 3 labels: too few to cross-validate
    assert "too few labels" in loop.accuracy_label.value and loop.curve_box.children == ()
    _click_through(loop, oracle, truth, 3)
    assert "estimated accuracy" in loop.accuracy_label.value
    assert "cross-validation" in loop.accuracy_label.value and "Stopping hint" in (
        loop.progress_label.value
    )
    assert loop.curve_box.children == (loop.curve,) and loop.curve.value


def test_in_voila(monkeypatch):
    from alkit.widgets import in_voila

    for name in [v for v in __import__("os").environ if v.startswith("VOILA_")]:
        monkeypatch.delenv(name)
    assert not in_voila()
    monkeypatch.setenv("VOILA_KERNEL_ID", "abc")
    assert in_voila()
