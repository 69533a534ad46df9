"""The labeling widget: show queried images, click one label per image, submit.

:class:`WidgetOracle` is the ipywidgets user interface of an oracle; :class:`LabelingLoop`
ties it to an :class:`~alkit.learner.ActiveLearner` so that every submitted batch is taught,
the probe retrains, the test accuracy and the learning curve update, and the next batch
is shown. Both are fully drivable from code (``oracle.buttons[i][c].click()``,
``oracle.submit_button.click()``, :meth:`WidgetOracle.fill`), which is how the headless
notebook run and the tests use them.

Rendering helpers: :func:`to_png` turns an image array or an image file into PNG bytes,
:func:`image_widget` into an ``ipywidgets.Image``.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidInputError, MissingResourceError
from .results import base_columns, result_row, results_frame, write_results

__all__ = ["WidgetOracle", "LabelingLoop", "to_png", "image_widget"]

#: Above this many classes each image gets a dropdown instead of one button per class.
MAX_BUTTONS = 12

_CHOSEN = "success"


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - ipywidgets is in the notebooks extra
        raise MissingResourceError(
            "The labeling widget needs ipywidgets: pip install 'alkit[notebooks]' (or pip install ipywidgets)."
        ) from exc
    return ipywidgets


def to_png(image: Any, size: int = 64, invert: bool = False) -> bytes:
    """Render an image array or an image file as PNG bytes, resized to ``size`` pixels.

    Parameters
    ----------
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4), or str / path / bytes
        An array (any numeric range: floats are min-max scaled per image, ``uint8`` is
        used as is; a flat vector of a square length such as digits' 64 pixels is
        reshaped to a square), the path of an image file, or encoded image bytes.
    size : int
        Length of the longer side of the output, in pixels. Small images are enlarged
        with nearest-neighbour sampling so pixels stay crisp (an 8×8 digit stays readable).
    invert : bool
        Render dark-on-light (as sklearn's digits are usually shown).

    Returns
    -------
    bytes
        A PNG file.
    """
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise InvalidInputError(
                f"Image file {path} does not exist; pass an existing image path or an array."
            )
        img = Image.open(path)
        img.load()
    elif isinstance(image, (bytes, bytearray)):
        img = Image.open(io.BytesIO(image))
        img.load()
    else:
        arr = np.asarray(image)
        if arr.ndim == 1:
            side = int(round(np.sqrt(arr.size)))
            if side * side != arr.size:
                raise InvalidInputError(
                    f"A flat image vector must have a square length (e.g. 64 = 8×8); got {arr.size}. "
                    "Pass an (h, w) or (h, w, 3) array."
                )
            arr = arr.reshape(side, side)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
            raise InvalidInputError(
                f"An image must have shape (h, w), (h, w, 3) or (h, w, 4); got {arr.shape}."
            )
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if arr.dtype != np.uint8:
            arr = arr.astype(np.float64)
            if not np.isfinite(arr).all():
                raise InvalidInputError("The image holds NaN or inf values.")
            lo, hi = float(arr.min()), float(arr.max())
            arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo)
            arr = np.round(arr * 255).astype(np.uint8)
        img = Image.fromarray(arr)
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGB")
    if invert:
        from PIL import ImageOps

        img = ImageOps.invert(img.convert("L") if img.mode == "L" else img.convert("RGB"))
    scale = size / max(img.size)
    new_size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    resample = Image.NEAREST if scale >= 1 else Image.BILINEAR
    img = img.resize(new_size, resample)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_widget(image: Any, size: int = 64, invert: bool = False):
    """An ``ipywidgets.Image`` showing ``image`` (see :func:`to_png` for what it accepts)."""
    w = _ipywidgets()
    return w.Image(
        value=to_png(image, size=size, invert=invert),
        format="png",
        layout=w.Layout(width=f"{size}px", height="auto"),
    )


class WidgetOracle:
    """An ipywidgets oracle: shows a batch of images, one label control per image, and a submit button.

    Labeling in a notebook is asynchronous (the kernel must stay free to receive clicks),
    so instead of the blocking ``label(indices)`` of the other oracles this one has
    :meth:`ask`: it shows the batch and calls ``on_submit(indices, labels)`` when the user
    presses "Submit labels". :class:`LabelingLoop` uses it to drive an
    :class:`~alkit.learner.ActiveLearner`.

    Parameters
    ----------
    classes : list of str
        Class names, in label-index order.
    images : ndarray of shape (n, …) or sequence of paths/arrays, or callable, optional
        What to show for pool row ``i``: ``images[i]`` (an array or an image path) or
        ``images(i)``. Without images each item shows only its id.
    ids : sequence, optional
        A readable id per pool row, shown under each image (default: the pool index).
    size : int
        Displayed image size in pixels.
    columns : int
        Images per row.
    control : {"auto", "buttons", "dropdown"}
        One button per class per image, or a dropdown per image; ``"auto"`` uses buttons
        up to :data:`MAX_BUTTONS` classes.
    invert : bool
        Render images dark-on-light (for digits).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole user interface: ``children = (title, grid of items, footer)``; display it.
    buttons : list of list of ipywidgets.Button
        ``buttons[i][c]`` labels the ``i``-th shown image as class ``c`` (button control).
    dropdowns : list of ipywidgets.Dropdown
        The per-image dropdowns (dropdown control).
    submit_button : ipywidgets.Button
    status : ipywidgets.HTML
        What happened last ("3 of 10 labeled", "Submitted 10 labels").
    indices : ndarray of shape (b,)
        The pool indices currently shown.
    answers : ndarray of shape (b,)
        The label chosen per shown image, ``-1`` where none yet.
    submitted : list of (ndarray, ndarray)
        Every submitted ``(indices, labels)`` batch, in order.
    """

    def __init__(
        self,
        classes: Sequence[str],
        images: Any = None,
        *,
        ids: Sequence | None = None,
        size: int = 72,
        columns: int = 5,
        control: str = "auto",
        invert: bool = False,
    ) -> None:
        w = _ipywidgets()
        self.classes = [str(c) for c in classes]
        if len(self.classes) < 2:
            raise InvalidInputError("WidgetOracle needs at least 2 class names.")
        if control not in ("auto", "buttons", "dropdown"):
            raise InvalidInputError(
                f"control must be 'auto', 'buttons' or 'dropdown'; got {control!r}."
            )
        if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
            raise InvalidInputError(f"columns must be a positive integer; got {columns!r}.")
        self.control = (
            control
            if control != "auto"
            else ("buttons" if len(self.classes) <= MAX_BUTTONS else "dropdown")
        )
        self.images = images
        self.ids = None if ids is None else list(ids)
        self.size = int(size)
        self.columns = columns
        self.invert = bool(invert)
        self.indices = np.empty(0, dtype=np.int64)
        self.answers = np.empty(0, dtype=np.int64)
        self.buttons: list[list[Any]] = []
        self.dropdowns: list[Any] = []
        self.submitted: list[tuple[np.ndarray, np.ndarray]] = []
        self._on_submit: Callable[[np.ndarray, np.ndarray], Any] | None = None
        self._open = False

        self.title = w.HTML("<b>Nothing to label yet.</b>")
        self.grid = w.GridBox(
            [], layout=w.Layout(grid_template_columns=f"repeat({columns}, auto)", grid_gap="8px")
        )
        self.submit_button = w.Button(
            description="Submit labels",
            button_style="primary",
            disabled=True,
            icon="check",
            tooltip="Send the chosen labels to the learner",
        )
        self.submit_button.add_class("alkit-submit")
        self.submit_button.on_click(lambda _b: self.submit())
        self.status = w.HTML("")
        self.status.add_class("alkit-oracle-status")
        self.widget = w.VBox([self.title, self.grid, w.HBox([self.submit_button, self.status])])
        self.widget.add_class("alkit-oracle")

    # ------------------------------------------------------------------ showing a batch
    def _image_for(self, index: int):
        if self.images is None:
            return None
        image = self.images(index) if callable(self.images) else self.images[index]
        return image_widget(image, size=self.size, invert=self.invert)

    def _item(self, pos: int, index: int):
        w = _ipywidgets()
        name = self.ids[index] if self.ids is not None else f"#{index}"
        caption = w.HTML(f"<code>{name}</code>")
        parts = [p for p in (self._image_for(index), caption) if p is not None]
        if self.control == "buttons":
            row = []
            for c, cname in enumerate(self.classes):
                b = w.Button(
                    description=cname,
                    tooltip=f"label {name} as {cname}",
                    layout=w.Layout(width="auto", min_width="32px", padding="0 4px"),
                )
                b.on_click(lambda _b, pos=pos, c=c: self.choose(pos, c))
                row.append(b)
            self.buttons.append(row)
            parts.append(
                w.HBox(
                    row, layout=w.Layout(flex_flow="row wrap", max_width=f"{max(self.size, 160)}px")
                )
            )
        else:
            d = w.Dropdown(
                options=[("—", -1)] + [(cname, c) for c, cname in enumerate(self.classes)],
                value=-1,
                layout=w.Layout(width=f"{max(self.size, 120)}px"),
            )
            d.observe(lambda ch, pos=pos: self._dropdown_changed(pos, ch["new"]), names="value")
            self.dropdowns.append(d)
            parts.append(d)
        box = w.VBox(
            parts, layout=w.Layout(border="1px solid #ddd", padding="4px", align_items="center")
        )
        box.add_class(f"alkit-item-{pos}")
        box.add_class("alkit-item")
        return box

    def ask(
        self,
        indices: Sequence[int],
        on_submit: Callable[[np.ndarray, np.ndarray], Any] | None = None,
    ):
        """Show the images of ``indices`` for labeling; ``on_submit(indices, labels)`` runs on submit.

        Returns
        -------
        ipywidgets.VBox
            :attr:`widget` (display it once; later batches replace its contents).
        """
        indices = np.asarray(indices, dtype=np.int64).ravel()
        if len(indices) == 0:
            raise InvalidInputError("Nothing to ask: indices is empty.")
        self.indices = indices
        self.answers = np.full(len(indices), -1, dtype=np.int64)
        self.buttons, self.dropdowns = [], []
        self._on_submit = on_submit
        self.grid.children = [self._item(pos, int(i)) for pos, i in enumerate(indices)]
        self.title.value = (
            f"<b>Label these {len(indices)} images</b> (one class each), then submit."
        )
        self._open = True
        self._refresh()
        return self.widget

    show = ask

    # ------------------------------------------------------------------ choosing labels
    def choose(self, pos: int, label: int) -> None:
        """Label the ``pos``-th shown image as class ``label`` (what clicking its button does)."""
        if not self._open:
            raise InvalidInputError("No batch is open for labeling; call ask(indices) first.")
        if not 0 <= pos < len(self.indices):
            raise InvalidInputError(f"pos must be in 0..{len(self.indices) - 1}; got {pos}.")
        if not -1 <= label < len(self.classes):
            raise InvalidInputError(
                f"label must be a class index in 0..{len(self.classes) - 1}; got {label}."
            )
        self.answers[pos] = label
        if self.buttons:
            for c, b in enumerate(self.buttons[pos]):
                b.button_style = _CHOSEN if c == label else ""
        if self.dropdowns and self.dropdowns[pos].value != label:
            self.dropdowns[pos].value = int(label)
        self._refresh()

    def _dropdown_changed(self, pos: int, value: int) -> None:
        if self._open and self.answers[pos] != value:
            self.choose(pos, int(value))

    def fill(self, labels: Sequence[int] | Sequence[str]) -> None:
        """Choose a label for every shown image, as a user would by clicking (names or indices)."""
        labels = list(labels)
        if len(labels) != len(self.indices):
            raise InvalidInputError(
                f"fill needs {len(self.indices)} labels (one per shown image); got {len(labels)}."
            )
        lookup = {c: i for i, c in enumerate(self.classes)}
        for pos, lab in enumerate(labels):
            c = lookup[lab] if isinstance(lab, str) and lab in lookup else int(lab)
            if self.buttons:
                self.buttons[pos][c].click()
            elif self.dropdowns:
                self.dropdowns[pos].value = c
            else:  # pragma: no cover - one of the two controls always exists
                self.choose(pos, c)

    def _refresh(self) -> None:
        done = int((self.answers >= 0).sum())
        total = len(self.answers)
        self.submit_button.disabled = not self._open or done < total
        if self._open:
            self.status.value = f"{done} of {total} labeled"

    # ------------------------------------------------------------------ submitting
    def submit(self) -> tuple[np.ndarray, np.ndarray]:
        """Hand the chosen labels to ``on_submit`` (what the "Submit labels" button does).

        Raises
        ------
        InvalidInputError
            If no batch is open or some shown image has no label yet.
        """
        if not self._open:
            raise InvalidInputError("No batch is open for labeling; call ask(indices) first.")
        missing = np.flatnonzero(self.answers < 0)
        if len(missing):
            self.status.value = (
                f"<span style='color:#b00'>Label all images first ({len(missing)} missing).</span>"
            )
            raise InvalidInputError(
                f"{len(missing)} shown image(s) have no label yet (positions {missing[:10].tolist()}); "
                "click a class for each before submitting."
            )
        indices, labels = self.indices.copy(), self.answers.copy()
        self._open = False
        for row in self.buttons:
            for b in row:
                b.disabled = True
        for d in self.dropdowns:
            d.disabled = True
        self.submit_button.disabled = True
        self.status.value = f"Submitted {len(labels)} labels."
        self.submitted.append((indices, labels))
        if self._on_submit is not None:
            self._on_submit(indices, labels)
        return indices, labels

    def label(self, indices, **context):
        """Not available: the widget answers asynchronously.

        Raises
        ------
        InvalidInputError
            Always, pointing to :meth:`ask` and :class:`LabelingLoop`.
        """
        raise InvalidInputError(
            "WidgetOracle answers asynchronously (the kernel must stay free to receive clicks), so it "
            "cannot be used as run_al's blocking oracle. Use alkit.widgets.LabelingLoop(learner, oracle) "
            "or oracle.ask(indices, on_submit); for scripted runs use SimulatedOracle or ExportOracle."
        )


class LabelingLoop:
    """Active learning with a person in the loop: query → show → click → teach → retrain → repeat.

    Parameters
    ----------
    learner : ActiveLearner
        The learner whose queries are shown (its first query is the initial pool).
    oracle : WidgetOracle
    emb : EmbeddingSet, optional
        Supplies the test split and the provenance columns of :meth:`to_frame`.
    x_test : ndarray of shape (m, d), optional
    y_test : ndarray of shape (m,), optional
        Held-out split for the accuracy shown after each retraining (default: ``emb``'s).
    iterations : int, optional
        Stop after this many retrainings (default: until the pool is exhausted).
    save : str or path, optional
        Write :meth:`to_frame` to this parquet file (atomically) after every retraining, so
        the labels of an interactive session survive a closed browser tab.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Oracle, accuracy line and learning curve; display it.
    accuracy_label : ipywidgets.HTML
        "Iteration i: n labels, test accuracy a %" after each retraining.
    curve : ipywidgets.Image
        Accuracy against the number of labels, redrawn after each retraining.
    rows : list of dict
        One record per iteration (see :meth:`to_frame`).
    """

    def __init__(
        self,
        learner,
        oracle: WidgetOracle,
        emb=None,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        iterations: int | None = None,
        save: str | os.PathLike | None = None,
    ) -> None:
        w = _ipywidgets()
        self.learner = learner
        self.oracle = oracle
        self.emb = emb
        if x_test is None and emb is not None and emb.has_test:
            x_test, y_test = emb.x_test, emb.y_test
        if (x_test is None) != (y_test is None):
            raise InvalidInputError("Pass both x_test and y_test, or neither.")
        self.x_test, self.y_test = x_test, y_test
        if iterations is not None and (isinstance(iterations, bool) or int(iterations) < 1):
            raise InvalidInputError(
                f"iterations must be a positive integer or None; got {iterations!r}."
            )
        self.iterations = iterations
        self.save = None if save is None else Path(save)
        self.rows: list[dict[str, Any]] = []
        self.accuracy_label = w.HTML("Label the first batch to train the probe.")
        self.accuracy_label.add_class("alkit-accuracy")
        self.curve = w.Image(format="png", layout=w.Layout(width="420px"))
        self.widget = w.VBox([oracle.widget, self.accuracy_label, self.curve])
        self.widget.add_class("alkit-labeling-loop")
        self._selection = None

    @property
    def done(self) -> bool:
        """True when the iteration limit is reached or nothing is left to label."""
        limit = self.iterations is not None and len(self.rows) >= self.iterations
        return limit or self.learner.pool.n_unlabeled == 0

    def start(self) -> LabelingLoop:
        """Query the first batch (the initial pool) and show it."""
        if not self.rows and self.learner.pool.n_labeled == 0:
            self._ask_next()
        return self

    def _ask_next(self) -> None:
        n_left = self.learner.pool.n_unlabeled
        n = self.learner.initial_budget if self.learner.pool.n_labeled == 0 else self.learner.budget
        self._selection = self.learner.query(min(n, n_left))
        self.oracle.ask(self._selection.indices, self._on_submit)

    def _on_submit(self, indices: np.ndarray, labels: np.ndarray) -> None:
        learner = self.learner
        sel = self._selection
        learner.teach(indices, labels)
        self.accuracy_label.value = "Retraining the probe…"
        learner.fit()
        metrics = None if self.x_test is None else learner.evaluate(self.x_test, self.y_test)
        self.rows.append(
            {
                **result_row(learner, sel, metrics, iteration=len(self.rows) + 1),
                "submitted_at": time.time(),
            }
        )
        self._render()
        if self.save is not None:
            config = {"writer": "LabelingLoop", **self.learner.config()}
            write_results(self.to_frame(), self.save, config=config)
        if not self.done:
            self._ask_next()
        else:
            self.oracle.title.value = "<b>Done.</b> Every planned iteration is labeled."

    def _render(self) -> None:
        last = self.rows[-1]
        acc = last["accuracy"]
        acc_txt = "no test split" if np.isnan(acc) else f"test accuracy <b>{100 * acc:.1f} %</b>"
        self.accuracy_label.value = (
            f"Iteration {last['iteration']}: probe retrained on "
            f"{last['n_labeled']} labels, {acc_txt}"
        )
        if not np.isnan(acc):
            self.curve.value = _curve_png(
                [r["n_labeled"] for r in self.rows],
                [r["accuracy"] for r in self.rows],
                strategy=self.learner.strategy,
            )

    def to_frame(self) -> pd.DataFrame:
        """The tidy results table (:data:`alkit.results.RESULT_COLUMNS`), one row per labeled
        iteration; without ``emb`` the provenance columns read ``custom`` / ``unknown`` / ``""``."""
        emb = self.emb
        base = base_columns(
            self.learner,
            dataset="custom" if emb is None else emb.dataset,
            backbone="unknown" if emb is None else emb.backbone,
            embedding_checksum="" if emb is None else emb.checksum,
        )
        return results_frame(base, self.rows)


def _curve_png(n_labeled: list[int], accuracy: list[float], strategy: str | None = None) -> bytes:
    """The learning curve as PNG bytes (see :func:`_curve_figure`)."""
    buf = io.BytesIO()
    _curve_figure(n_labeled, accuracy, strategy).savefig(buf, format="png")
    return buf.getvalue()


def _curve_figure(n_labeled: list[int], accuracy: list[float], strategy: str | None = None):
    """The learning curve in the kit's visual language: % axis, integer label counts, the
    strategy's colour."""
    from matplotlib.figure import Figure  # no pyplot: leaves the notebook's backend alone

    from .plots import style as st

    fig = Figure(figsize=(4.2, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    color = st.strategy_color(strategy) if strategy else st.strategy_color("random")
    ax.plot(n_labeled, [100 * a for a in accuracy], marker="o", color=color, label=strategy)
    ax.set_xlabel("Labeled images")
    ax.set_ylabel(st.metric_label("accuracy"))
    ax.set_ylim(0, 100)
    st.integer_axis(ax.xaxis, n_labeled)
    if strategy:
        ax.set_title(f"{strategy}: test accuracy after each batch", fontsize=9)
    ax.grid(alpha=0.3)
    return fig
