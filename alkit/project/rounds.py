"""One round of a labeling project: read the answers, append them, retrain, write the batch.

The round is built in a hidden folder (``rounds/.round_NNN.*``) and renamed to
``rounds/round_NNN`` as its last step: it exists whole or not at all. See
:mod:`alkit.project.core` for the files and ``docs/labeling.md`` for the loop.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import apply_umask, write_json_atomic
from ..errors import InvalidInputError
from ..stopping import Progress
from ..validation import check_int
from .labels import project_lock, sync_learner

__all__ = [
    "RoundResult",
    "run_round",
    "status_text",
    "check_formats",
    "FORMATS",
    "LABELSTUDIO_EXPORT",
]

#: What a round writes for the person labeling: the CSV always, Label Studio tasks on request.
FORMATS = ("csv", "labelstudio")
#: Where a round looks for a Label Studio export when no labels file is named.
LABELSTUDIO_EXPORT = "labelstudio_export.json"


@dataclass
class RoundResult:
    """What one call of :meth:`Project.next_round` did.

    Attributes
    ----------
    round : int or None
        The round written (its batch to label); None when nothing is left to label.
    folder : Path or None
    batch : ndarray of shape (b,)
        Pool rows to label next.
    files : dict of str to Path
    n_new : int
        Labels added to ``labels.csv`` by this call.
    read_from : list of Path
        The files those labels were read from.
    n_labeled : int
    progress : Progress or None
        Estimated accuracy and stopping hint of the probe that chose the batch.
    notes : list of str
    metrics : dict or None
        What ``evaluate`` returned.
    """

    round: int | None
    folder: Path | None
    batch: np.ndarray
    files: dict[str, Path]
    n_new: int
    read_from: list[Path]
    n_labeled: int
    progress: Progress | None
    notes: list[str] = field(default_factory=list)
    metrics: dict | None = None

    def text(self, project_dir: str | os.PathLike | None = None) -> str:
        """What ``alkit next --project`` prints."""
        lines = []
        if self.read_from:
            files = ", ".join(map(str, self.read_from))
            lines.append(f"Read {files}: {self.n_new} new label(s), {self.n_labeled} in all.")
        lines += self.notes
        if self.progress is not None:
            lines.append(self.progress.text())
        if self.round is None:
            done = self.progress is not None and self.progress.n_unlabeled == 0
            lines.append(
                "Every item is labeled: nothing is left to ask."
                if done
                else "No new batch was asked for."
            )
            return "\n".join(lines)
        phase = "the initial pool, nothing labeled yet" if not self.n_labeled else "the strategy"
        lines.append(
            f"Round {self.round}: {len(self.batch)} item(s) to label ({phase}): "
            f"{self.files['to_label']}"
        )
        if "tasks" in self.files:
            lines.append(
                f"Label Studio tasks: {self.files['tasks']} (config {self.files['config']}); "
                f"save the export as {self.folder / LABELSTUDIO_EXPORT} or pass --labels."
            )
        where = f" --project {project_dir}" if project_dir is not None else ""
        lines.append(f"Fill in the label column, then run: alkit next{where}")
        return "\n".join(lines)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def run_round(
    project,
    labels: str | os.PathLike | None = None,
    *,
    answers: tuple[Any, Any] | None = None,
    source: str = "python",
    learner=None,
    budget: int | None = None,
    formats: tuple[str, ...] | None = None,
    device: str = "auto",
    evaluate: Callable[[Any], dict] | None = None,
    ask: bool = True,
) -> RoundResult:
    """:meth:`Project.next_round <alkit.project.Project.next_round>` (documented there)."""
    formats = check_formats(formats if formats is not None else project.config["formats"])
    with project_lock(project.folder):
        _clean_partial(project.folder)
        latest = project.latest_round()
        n_new, read_from = 0, []
        if answers is not None:
            idx, lab = answers
            n_new += project._append(np.asarray(idx), np.asarray(lab), latest, source)
        elif latest:
            for path, src in _answer_files(project, labels, latest):
                idx, lab = _read_answers(path, src, project.classes, project.n)
                n_new += project._append(idx, lab, latest, src)
                read_from.append(path)
        if learner is None:
            learner = project.new_learner(device)
            project.restore(learner)
        else:
            _sync_or_fail(learner, project)
        if latest and learner.pending is not None:
            where = ", ".join(map(str, read_from)) or "the widget"
            raise InvalidInputError(
                f"No label for round {latest}'s batch yet ({where}): fill in the label "
                f"column of {project.round_dir(latest) / 'to_label.csv'} ({len(learner.pending)} "
                f"items; class names {', '.join(project.classes[:10])}), then run this again."
            )
        stop = project.config["stopping"]
        progress = (
            learner.progress(stop["window"], stop["threshold"], stop["cv_folds"])
            if learner.n_labeled
            else None
        )
        metrics = evaluate(learner) if evaluate is not None and learner.n_labeled else None
        left = learner.pool.n_unlabeled
        notes = []
        if left == 0 or not ask:
            return RoundResult(
                None, None, np.zeros(0, np.int64), {}, n_new, read_from, learner.n_labeled,
                progress, notes, metrics,
            )  # fmt: skip
        size = budget
        if size is None:
            size = learner.initial_budget if learner.n_labeled == 0 else learner.budget
        size = check_int(size, "budget", min=1)
        if size > left:
            notes.append(f"Only {left} unlabeled item(s) left: the batch holds them all.")
            size = left
        selection = learner.query(size)
        k = latest + 1
        folder, files = _commit(project, learner, selection, k, progress, metrics, formats, n_new)
        return RoundResult(
            k, folder, selection.indices, files, n_new, read_from, learner.n_labeled,
            progress, notes, metrics,
        )  # fmt: skip


def _answer_files(project, labels, latest: int) -> list[tuple[Path, str]]:
    if labels is not None:
        path = Path(labels)
        return [(path, "labelstudio" if path.suffix.lower() == ".json" else "csv")]
    folder = project.round_dir(latest)
    out = [(folder / "to_label.csv", "csv")]
    if (folder / LABELSTUDIO_EXPORT).is_file():
        out.append((folder / LABELSTUDIO_EXPORT, "labelstudio"))
    return out


def _commit(project, learner, selection, k, progress, metrics, formats, n_new):
    """Write round ``k`` into a hidden folder and rename it into place (the commit)."""
    rounds = project.folder / "rounds"
    rounds.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".round_{k:03d}.", dir=rounds))
    apply_umask(tmp, 0o777)
    try:
        files = {name: Path(p).name for name, p in learner.export(tmp).items()}
        if "labelstudio" in formats:
            files.update(_labelstudio(project, learner, selection, tmp))
        learner.save(tmp)
        files["learner"] = "learner.npz"
        report = {
            "round": k,
            "time": _now(),
            "batch": [int(i) for i in selection.indices],
            "n_labeled": int(learner.n_labeled),
            "n_new_labels": int(n_new),
            "strategy": learner.strategy if learner.n_labeled else learner.initial_pool,
            "phase": selection.info.get("phase"),
            "progress": None if progress is None else progress.to_dict(),
            "metrics": metrics,
            "files": files,
        }
        write_json_atomic(tmp / "report.json", report)
        files["report"] = "report.json"
        final = project.round_dir(k)
        try:
            _rename(tmp, final)
        except OSError as exc:
            raise InvalidInputError(
                f"Round {k} of {project.folder} was written meanwhile ({exc}); rerun the command."
            ) from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for j in project.rounds():  # the learner of the latest round is enough to continue
        if j < k:
            with contextlib.suppress(OSError):
                (project.round_dir(j) / "learner.npz").unlink()
    return final, {name: final / f for name, f in files.items()}


def _labelstudio(project, learner, selection, folder: Path) -> dict[str, str]:
    from ..labelstudio import CONFIG_FILENAME, export_tasks

    images = project.images()
    if images is None:
        raise InvalidInputError(
            "Label Studio tasks need the image files: this project does not know where they "
            "are (the embeddings have no data_root or ids). Create it with --images DIR."
        )
    proba = learner.predict_proba()[selection.indices] if learner.n_labeled else None
    root = os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT") or str(
        Path(project.config["images"]).parent
    )
    export_tasks(
        folder / "tasks.json",
        selection.indices,
        images,
        project.classes,
        proba=proba,
        ids=project.ids(),
        document_root=root,
    )
    return {"tasks": "tasks.json", "config": CONFIG_FILENAME}


def _rename(tmp: Path, final: Path) -> None:
    """The commit of a round: its hidden folder renamed into place (one atomic step)."""
    os.replace(tmp, final)


def check_formats(formats) -> tuple[str, ...]:
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InvalidInputError(f"format must be one of {FORMATS}; got {bad[0]!r}.")
    return tuple(dict.fromkeys(("csv",) + formats))


def _read_answers(path: Path, source: str, classes, n) -> tuple[np.ndarray, np.ndarray]:
    if source == "labelstudio":
        from ..labelstudio import read_export

        return read_export(path, classes, n_rows=n)
    from ..oracle import read_labels_csv

    return read_labels_csv(path, classes, n_rows=n)


def _sync_or_fail(learner, project) -> None:
    project.check_learner(learner)
    if sync_learner(learner, project.labels()) is None:
        raise InvalidInputError(
            f"This learner holds labels that {project.labels_path} does not; restore it with "
            "project.restore(learner) (or use project.learner())."
        )


def _clean_partial(folder: Path) -> None:
    """Remove the hidden folders of rounds a killed process left half written."""
    rounds = folder / "rounds"
    if rounds.is_dir():
        for p in rounds.iterdir():
            if p.name.startswith(".round_"):
                shutil.rmtree(p, ignore_errors=True)


def status_text(project) -> str:
    """``alkit project status``: a summary: settings, labels per class, rounds, the latest estimate and hint."""
    cfg, emb = project.config["learner"], project.config["embeddings"]
    rows = project.labels()
    idx, lab = rows.effective()
    counts = np.bincount(lab, minlength=len(project.classes))
    k = project.latest_round()
    lines = [
        f"Project {project.folder} (alkit {project.config['alkit_version']}, created "
        f"{project.config['created']})",
        f"  embeddings: {emb.get('name') or emb.get('path')} ({emb['n']} items, "
        f"{emb['dim']}-d, {emb['dataset']} × {emb['backbone']})",
        f"  strategy {cfg['strategy']} {cfg['params'] or ''}, initial pool "
        f"{cfg['initial_pool']}, budget {cfg['budget']} per round, seed {cfg['seed']}",
        f"  labels: {len(idx)} of {project.n} items in {project.labels_path} "
        f"({len(rows)} rows); per class: "
        + ", ".join(f"{c} {n}" for c, n in zip(project.classes, counts)),
        f"  rounds: {k}",
    ]
    report = project.report()
    if report and report.get("progress"):
        lines.append(f"  after round {k - 1}:")
        lines += ["    " + s for s in Progress.from_dict(report["progress"]).text().splitlines()]
    if k:
        pending = project.round_dir(k) / "to_label.csv"
        lines.append(f"  next: fill in {pending}, then run alkit next --project {project.folder}")
    else:
        lines.append(f"  next: alkit next --project {project.folder}")
    return "\n".join(lines)
