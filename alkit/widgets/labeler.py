"""The labeling widget's oracle: a batch of images, one label control per image, and a submit button."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .images import _ipywidgets, image_widget

__all__ = ["WidgetOracle", "MAX_BUTTONS"]

#: Above this many classes each image gets a dropdown instead of one button per class.
MAX_BUTTONS = 12

_CHOSEN = "success"


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
