"""The labeling loop: query → show → click → teach → retrain → repeat, saved to a project."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..results import base_columns, result_row, results_frame, write_results
from .images import _ipywidgets
from .labeler import WidgetOracle

__all__ = ["LabelingLoop"]


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
        Without one, the widget shows the accuracy estimated by cross-validation on the labels.
    iterations : int, optional
        Stop after this many retrainings in this session (default: until the pool is exhausted).
    save : str or path, optional
        Write :meth:`to_frame` to this parquet file (atomically) after every retraining.
    project : str, path or Project, optional
        A labeling project folder (:class:`alkit.project.Project`): every submitted batch is
        appended to its ``labels.csv`` and each new batch written as a round, so a closed tab or
        a rerun notebook loses nothing. An existing project resumes: the learner is restored to
        where the project stands (it must have the project's settings) and the batch waiting for
        labels is shown again; a missing one is created with the learner's settings.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Oracle, accuracy line, progress line and learning curve; display it.
    accuracy_label : ipywidgets.HTML
        "Iteration i: n labels, test accuracy a %" (or the estimated accuracy) after each
        retraining.
    progress_label : ipywidgets.HTML
        The estimated accuracy and the stopping hint (:meth:`ActiveLearner.progress`).
    curve : ipywidgets.Image
        Accuracy against the number of labels; shown once there is a point to draw.
    rows : list of dict
        One record per iteration of this session (see :meth:`to_frame`).
    project : Project or None
    resumed : int
        Labels the project held when the loop was created.
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
        project: Any = None,
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
        self.history: list[dict[str, float]] = []  # the curve's points, earlier sessions too
        self.accuracy_label = w.HTML("Label the first batch to train the probe.")
        self.accuracy_label.add_class("alkit-accuracy")
        self.progress_label = w.HTML("")
        self.progress_label.add_class("alkit-progress")
        self.curve = w.Image(format="png", layout=w.Layout(width="420px"))
        self.curve.add_class("alkit-curve")
        # the image joins the page with its first curve: an empty one is a broken-image icon
        self.curve_box = w.Box([])
        self.widget = w.VBox(
            [oracle.widget, self.accuracy_label, self.progress_label, self.curve_box]
        )
        self.widget.add_class("alkit-labeling-loop")
        self._selection = None
        self.project = None
        self.resumed = 0
        if project is not None:
            self._open_project(project)

    # ------------------------------------------------------------------ the project
    def _open_project(self, project) -> None:
        from ..project import Project

        if not isinstance(project, Project):
            if Project.exists(project):
                project = Project.open(project)
            else:
                images = None if self.emb is None else self.emb.meta.get("data_root")
                self.project = Project.from_learner(project, self.learner, self.emb, images=images)
                return
        self.project = project
        project.check_learner(self.learner)
        project.restore(self.learner)
        self.resumed = self.learner.n_labeled
        report = None
        for k in project.rounds():
            report = project.report(k)
            if report and report.get("progress"):
                self._add_point(report["n_labeled"], report["progress"], report.get("metrics"))
        if report and report.get("progress"):
            from ..stopping import Progress

            self.progress_label.value = _progress_html(Progress.from_dict(report["progress"]))
        if self.resumed:
            self.accuracy_label.value = (
                f"Resumed: {self.resumed} labels from <code>{project.labels_path}</code> "
                f"({project.latest_round()} rounds). Label this batch to continue."
            )
            if self.history:
                self._draw()

    @property
    def done(self) -> bool:
        """True when the iteration limit is reached or nothing is left to label."""
        limit = self.iterations is not None and len(self.rows) >= self.iterations
        return limit or self.learner.pool.n_unlabeled == 0

    def start(self) -> LabelingLoop:
        """Show the first batch: the initial pool, or, in a project, the batch waiting for labels."""
        if self.project is not None:
            if self.learner.pending is None and not self.done:
                result = self.project.next_round(learner=self.learner, source="widget")
                if result.progress is not None:
                    self.progress_label.value = _progress_html(result.progress)
            if self.learner.pending is not None:
                self._selection = self.learner.pending
                self.oracle.ask(self._selection.indices, self._on_submit)
        elif not self.rows and self.learner.pool.n_labeled == 0:
            self._ask_next()
        return self

    def _ask_next(self) -> None:
        n_left = self.learner.pool.n_unlabeled
        n = self.learner.initial_budget if self.learner.pool.n_labeled == 0 else self.learner.budget
        self._selection = self.learner.query(min(n, n_left))
        self.oracle.ask(self._selection.indices, self._on_submit)

    def _metrics(self, learner) -> dict | None:
        return None if self.x_test is None else learner.evaluate(self.x_test, self.y_test)

    def _on_submit(self, indices: np.ndarray, labels: np.ndarray) -> None:
        learner = self.learner
        sel = self._selection
        self.accuracy_label.value = "Retraining the probe…"
        if self.project is not None:
            last = self.iterations is not None and len(self.rows) + 1 >= self.iterations
            result = self.project.next_round(
                answers=(indices, labels),
                source="widget",
                learner=learner,
                evaluate=self._metrics,
                ask=not last,
            )
            metrics, progress = result.metrics, result.progress
        else:
            learner.teach(indices, labels)
            learner.fit()
            metrics = self._metrics(learner)
            progress = learner.progress()
        self.rows.append(
            {
                **result_row(learner, sel, metrics, iteration=len(self.rows) + 1),
                "submitted_at": time.time(),
            }
        )
        self._add_point(learner.n_labeled, progress.to_dict(), metrics)
        self._render(progress)
        if self.save is not None:
            config = {"writer": "LabelingLoop", **self.learner.config()}
            write_results(self.to_frame(), self.save, config=config)
        if self.done:
            self.oracle.title.value = "<b>Done.</b> Every planned iteration is labeled."
        elif self.project is not None:
            self._selection = learner.pending
            self.oracle.ask(self._selection.indices, self._on_submit)
        else:
            self._ask_next()

    # ------------------------------------------------------------------ rendering
    def _add_point(self, n_labeled: int, progress: dict, metrics: dict | None) -> None:
        est = progress["estimate"]
        self.history.append(
            {
                "n_labeled": int(n_labeled),
                "accuracy": np.nan if metrics is None else float(metrics["accuracy"]),
                "estimate": np.nan if est["mean"] is None else float(est["mean"]),
                "stderr": np.nan if est["stderr"] is None else float(est["stderr"]),
            }
        )

    def _render(self, progress) -> None:
        last = self.rows[-1]
        acc = last["accuracy"]
        est = progress.estimate
        if not np.isnan(acc):
            acc_txt = f"test accuracy <b>{100 * acc:.1f} %</b>"
        elif est.mean is not None:
            acc_txt = (
                f"estimated accuracy <b>{100 * est.mean:.1f} % ± {100 * est.stderr:.1f} %</b> "
                "(cross-validation on the labels)"
            )
        else:
            acc_txt = "no test split, and too few labels per class to estimate the accuracy yet"
        self.accuracy_label.value = (
            f"Iteration {last['iteration']}: probe retrained on "
            f"{last['n_labeled']} labels, {acc_txt}"
        )
        self.progress_label.value = _progress_html(progress)
        self._draw()

    def _draw(self) -> None:
        h = pd.DataFrame(self.history)
        test = h["accuracy"].notna().any()
        h = h[h["accuracy" if test else "estimate"].notna()]
        if h.empty:
            return  # nothing to draw: no image (an empty one shows as a broken icon)
        self.curve.value = _curve_png(
            h["n_labeled"].tolist(),
            h["accuracy" if test else "estimate"].tolist(),
            strategy=self.learner.strategy,
            stderr=None if test else h["stderr"].tolist(),
        )
        if self.curve not in self.curve_box.children:
            self.curve_box.children = (self.curve,)

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


def _progress_html(progress) -> str:
    from html import escape

    lines = [progress.hint.text()]
    if progress.estimate.mean is not None:
        lines.insert(0, progress.estimate.text())
    return "<br>".join(f"<small>{escape(line)}</small>" for line in lines)


def _curve_png(
    n_labeled: list[int],
    accuracy: list[float],
    strategy: str | None = None,
    stderr: list[float] | None = None,
) -> bytes:
    """The learning curve as PNG bytes (see :func:`_curve_figure`)."""
    buf = io.BytesIO()
    _curve_figure(n_labeled, accuracy, strategy, stderr).savefig(buf, format="png")
    return buf.getvalue()


def _curve_figure(
    n_labeled: list[int],
    accuracy: list[float],
    strategy: str | None = None,
    stderr: list[float] | None = None,
):
    """The learning curve in the kit's visual language: % axis, integer label counts, the
    strategy's colour. With ``stderr`` the values are cross-validated estimates, drawn with a
    ± one standard error band."""
    from matplotlib.figure import Figure  # no pyplot: leaves the notebook's backend alone

    from ..plots import style as st

    fig = Figure(figsize=(4.2, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    color = st.strategy_color(strategy) if strategy else st.strategy_color("random")
    y = np.array([100 * a for a in accuracy])
    ax.plot(n_labeled, y, marker="o", color=color, label=strategy)
    if stderr is not None:
        se = 100 * np.asarray(stderr, dtype=float)
        ax.fill_between(n_labeled, y - se, y + se, color=color, alpha=0.2, linewidth=0)
    ax.set_xlabel("Labeled images")
    ax.set_ylabel(st.metric_label("accuracy"))
    ax.set_ylim(0, 100)
    st.integer_axis(ax.xaxis, n_labeled)
    what = "test accuracy" if stderr is None else "estimated accuracy (cross-validation)"
    if strategy:
        ax.set_title(f"{strategy}: {what} after each batch", fontsize=9)
    ax.grid(alpha=0.3)
    return fig
