"""The labeling widget: show queried images, click one label per image, submit.

:class:`WidgetOracle` (``labeler``) is the ipywidgets user interface of an oracle;
:class:`LabelingLoop` (``session``) ties it to an :class:`~alkit.learner.ActiveLearner` so that every
submitted batch is taught (and, with ``project=``, appended to a labeling project's labels file),
the probe retrains, the accuracy (test split, or estimated by cross-validation), the stopping
hint and the learning curve update, and the next batch is shown. Both are fully drivable from
code (``oracle.buttons[i][c].click()``, ``oracle.submit_button.click()``,
:meth:`WidgetOracle.fill`), which is how the headless notebook run and the tests use them.

Rendering helpers (``images``): :func:`to_png` turns an image array or an image file into PNG
bytes, :func:`image_widget` into an ``ipywidgets.Image``; :func:`in_voila` tells whether the
notebook is served by Voilà.
"""

from .images import image_widget, in_voila, to_png
from .labeler import MAX_BUTTONS, WidgetOracle
from .session import LabelingLoop, _curve_figure, _curve_png  # noqa: F401 - docs/gallery.py, tests

__all__ = ["WidgetOracle", "LabelingLoop", "to_png", "image_widget", "in_voila", "MAX_BUTTONS"]
