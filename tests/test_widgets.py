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
