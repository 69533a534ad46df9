"""Label Studio round trip: a batch out as Label Studio tasks, the finished labels back in.

:func:`export_tasks` writes the batch to label as a Label Studio task list (JSON) with the probe's
guess as a pre-annotation (a *prediction*: the top class and its probability as ``score``) and,
next to it, the labeling config (:func:`labeling_config`: one image, one single-choice question
with one choice per class). :func:`read_export` reads Label Studio's own JSON (or ``JSON_MIN``)
export back as ``(indices, labels)`` for ``ActiveLearner.teach``. Only Label Studio's formats are
used; the server is not a dependency of alkit. ``docs/labeling.md`` walks through the loop.

Each task carries the pool row it came from as ``data.alkit_index`` (and a readable
``data.alkit_id``), so labels find their row whatever order Label Studio returns them in.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import numpy as np

from ._files import atomic_path
from .errors import InvalidInputError, MissingResourceError
from .validation import (
    check_classes,
    check_ids,
    check_indices,
    check_int,
    check_proba,
    check_str,
    suggest,
)

__all__ = [
    "labeling_config",
    "export_tasks",
    "read_export",
    "CONFIG_FILENAME",
    "FROM_NAME",
    "TO_NAME",
    "INDEX_KEY",
    "ID_KEY",
    "LOCAL_FILES_PREFIX",
]

#: The file :func:`export_tasks` writes the labeling config to, next to the tasks.
CONFIG_FILENAME = "labeling_config.xml"
#: ``name`` of the ``<Choices>`` tag (an annotation's ``from_name``).
FROM_NAME = "label"
#: ``name`` of the ``<Image>`` tag (``to_name``); also the task data key holding the image.
TO_NAME = "image"
#: Task data key holding the pool row; :func:`read_export` needs it on every task.
INDEX_KEY = "alkit_index"
#: Task data key holding the readable id (``ids[i]``, else the image as given).
ID_KEY = "alkit_id"
#: How Label Studio serves a file below ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``.
LOCAL_FILES_PREFIX = "/data/local-files/?d="

_URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "azure-blob://", "data:")
_FIELDS = "{path}, {relpath}, {name}, {index}, {id}"


def labeling_config(classes: Sequence[str]) -> str:
    """The Label Studio labeling config for ``classes``: an image and one required single choice.

    Parameters
    ----------
    classes : list of str
        Class names, in class-index order; each becomes a ``<Choice value=…>`` (XML-escaped).

    Returns
    -------
    str
        ``<View>`` XML whose ``<Image name="image" value="$image"/>`` shows ``data.image`` and
        whose ``<Choices name="label" toName="image" choice="single" required="true">`` lists the
        classes: the names :func:`export_tasks` and :func:`read_export` use.
    """
    classes = check_classes(classes)
    choices = "\n".join(f'    <Choice value="{_attr(c)}"/>' for c in classes)
    return (
        "<View>\n"
        f'  <Image name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true" '
        'required="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def export_tasks(
    path: str | os.PathLike,
    indices: Any,
    images: Sequence[str | os.PathLike],
    classes: Sequence[str],
    *,
    proba: Any = None,
    ids: Sequence[Any] | None = None,
    model_version: str = "alkit",
    image_url: str | Callable[[str, int], str] | None = None,
    document_root: str | os.PathLike | None = None,
) -> Path:
    """Write the pool rows ``indices`` as a Label Studio task list, and the config beside it.

    Each task is ``{"data": {"image": URL, "alkit_index": i, "alkit_id": id}, "predictions":
    [{"model_version": …, "score": p, "result": [{"from_name": "label", "to_name": "image",
    "type": "choices", "value": {"choices": [top class]}}]}]}``, in the order of ``indices``;
    ``predictions`` only when ``proba`` is given. Both files are written atomically:
    ``path`` (JSON, UTF-8) and :data:`CONFIG_FILENAME` in the same folder.

    Parameters
    ----------
    path : str or path
        The task file to write (import it in Label Studio: Import → Upload Files, or
        ``POST /api/projects/{id}/import``).
    indices : array-like of int, shape (m,)
        Distinct pool rows to label (the batch ``learner.query`` returned).
    images : sequence (list, array) of str or path, shape (n_pool,)
        One image per **pool row** (not per batch item): ``images[i]`` is row ``i``'s file or URL.
    classes : list of str
        Class names in class-index order.
    proba : array-like of shape (m, n_classes), optional
        The probe's class probabilities for the batch rows, in the order of ``indices``
        (``learner.predict_proba()[indices]``); the top class becomes the pre-annotation and its
        probability the prediction's ``score``.
    ids : sequence, optional
        A readable id per pool row, written as ``data.alkit_id`` (default: the image as given).
    model_version : str
        The predictions' ``model_version`` (Label Studio groups predictions by it).
    image_url : None, str or callable
        How an image becomes the URL Label Studio loads:

        - ``None`` (default): URLs (``http(s)://``, ``s3://``, ``gs://``, ``azure-blob://``,
          ``data:``) are kept; a file becomes ``/data/local-files/?d=<path relative to
          document_root>``, which Label Studio serves when started with
          ``LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true`` and
          ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=<document_root>`` and the project has a
          Local files storage on a folder holding the images.
        - a format string with the fields ``{path}`` (absolute path), ``{relpath}`` (relative
          to ``document_root``), ``{name}`` (file name) — each URL-quoted — and ``{index}``
          (pool row), ``{id}``: e.g. ``"http://127.0.0.1:8081/{relpath}"`` for images served
          by a web server of yours.
        - a callable ``image_url(image, index) -> str``.
    document_root : str or path, optional
        The folder that relative URLs start from; default: the environment variable
        ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``. Needed for local-files URLs and ``{relpath}``.
        Paths may start with ``~``; relative ones are taken from the working directory.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    try:
        if isinstance(images, (str, bytes, os.PathLike)):
            raise TypeError
        images = list(images)  # a list, an array or a Series of paths
    except TypeError:
        raise InvalidInputError(
            f"images must be a sequence with one image path or URL per pool row; got {images!r:.60}."
        ) from None
    classes = check_classes(classes)
    indices = check_indices(indices, len(images), "indices")
    ids = check_ids(ids, len(images), "ids")
    model_version = check_str(model_version, "model_version")
    if proba is not None:
        proba = check_proba(proba, len(indices), len(classes), "proba")
    if image_url is not None and not (isinstance(image_url, str) or callable(image_url)):
        raise InvalidInputError(
            f"image_url must be None, a format string or a callable; got {image_url!r:.60}."
        )
    if document_root is None:
        document_root = os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT") or None
    root = (
        None if document_root is None else Path(os.path.abspath(os.path.expanduser(document_root)))
    )

    tasks = []
    for k, i in enumerate(indices.tolist()):
        image = images[i]
        if not isinstance(image, (str, os.PathLike)) or not str(image).strip():
            raise InvalidInputError(
                f"images[{i}] must be a non-empty image path or URL; got {image!r:.60}."
            )
        ident = _jsonable(ids[i]) if ids is not None else str(image)
        data = {TO_NAME: _url(image, i, ident, image_url, root), INDEX_KEY: i, ID_KEY: ident}
        task: dict[str, Any] = {"data": data}
        if proba is not None:
            top = int(np.argmax(proba[k]))
            choice = {"choices": [classes[top]]}
            result = {
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "choices",
                "value": choice,
            }
            task["predictions"] = [
                {"model_version": model_version, "score": float(proba[k, top]), "result": [result]}
            ]
        tasks.append(task)

    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(tasks, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_path(path.parent / CONFIG_FILENAME, ".xml") as tmp:
        tmp.write_text(labeling_config(classes), encoding="utf-8")
    return path


def read_export(
    source: str | os.PathLike | list,
    classes: Sequence[str],
    *,
    n_rows: int | None = None,
    from_name: str = FROM_NAME,
) -> tuple[np.ndarray, np.ndarray]:
    """The labels of a Label Studio export: ``(indices, labels)`` for ``learner.teach``.

    Reads Label Studio's ``JSON`` export (a list of tasks, each with ``data`` and
    ``annotations[*].result[*].value.choices``) or its ``JSON_MIN`` export (one flat record per
    annotation). Choices are mapped to classes by exact name. What happens to each task:

    - no annotation, or only cancelled (skipped) ones, or annotations without a choice: the
      task is still unlabeled and is left out;
    - several annotations that agree: one label;
    - several annotations that disagree: the one marked *ground truth* in Label Studio decides
      when exactly one label is so marked; otherwise an error names the task, its annotations and
      their labels (conflicts are never resolved silently, not by the latest either);
    - a choice that is not a class name: an error naming the task, the value and the valid
      names (with a suggestion for a wrong case or a typo);
    - a task without ``data.alkit_index`` (not written by :func:`export_tasks`): an error;
    - the same pool row on two tasks: accepted once if the labels agree, else an error.

    Parameters
    ----------
    source : str, path or list
        The export file, or its already parsed list.
    classes : list of str
        Class names in class-index order.
    n_rows : int, optional
        The pool size, to check ``alkit_index`` against.
    from_name : str
        The ``<Choices name=…>`` to read (``"label"`` in :func:`labeling_config`).

    Returns
    -------
    indices : ndarray of shape (m,), int64
        Distinct pool rows with a label, in export order.
    labels : ndarray of shape (m,), int64
        Class indices.

    Raises
    ------
    MissingResourceError
        No file at ``source``.
    InvalidInputError
        For a file that is not JSON, or any problem listed above.
    """
    classes = check_classes(classes)
    from_name = check_str(from_name, "from_name")
    if n_rows is not None:
        n_rows = check_int(n_rows, "n_rows", min=1)
    records, where = _load(source)
    lookup = {c: i for i, c in enumerate(classes)}
    got: dict[int, tuple[int, str]] = {}  # pool row -> (label, the task it came from)
    for index, task, votes in _tasks(records, where, from_name, n_rows):
        for ann, name, _ in votes:
            if name not in lookup:
                raise InvalidInputError(
                    f"{task}, {ann}: the choice {name!r} is not one of the {len(classes)} class "
                    f"names ({', '.join(map(repr, classes[:10]))}"
                    f"{', …' if len(classes) > 10 else ''}).{suggest(name, classes)} "
                    "The labeling config and the class list must name the same classes."
                )
        label = _decide(task, votes)
        if label is None:
            continue
        if index in got and got[index][0] != lookup[label]:
            first, other = got[index]
            raise InvalidInputError(
                f"{task} labels pool row {index} {label!r}, but {other} labels it "
                f"{classes[first]!r}; keep one task per row (or one label) and export again."
            )
        got.setdefault(index, (lookup[label], task))
    indices = np.fromiter(got, dtype=np.int64, count=len(got))
    labels = np.fromiter((v[0] for v in got.values()), dtype=np.int64, count=len(got))
    return indices, labels


# ------------------------------------------------------------------------------------ helpers
def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float) and np.isfinite(value):
        return value
    return str(value)


class _Fields(dict):
    """Format fields; ``relpath`` is computed only when the format string asks for it."""

    def __init__(self, fields: dict, relpath: Callable[[], str]) -> None:
        super().__init__(fields)
        self._relpath = relpath

    def __missing__(self, key: str) -> str:
        if key == "relpath":
            return self._relpath()
        raise InvalidInputError(
            f"image_url uses the field {{{key}}}, which does not exist; use {_FIELDS}."
        )


def _url(image, index: int, ident, image_url, root: Path | None) -> str:
    text = os.fspath(image)
    if callable(image_url):
        url = image_url(text, index)
        if not isinstance(url, str) or not url.strip():
            raise InvalidInputError(
                f"image_url({text!r}, {index}) returned {url!r:.60}; it must return a URL string."
            )
        return url
    if image_url is None and text.startswith(_URL_SCHEMES):
        return text
    absolute = Path(os.path.abspath(os.path.expanduser(text)))

    def relpath() -> str:
        if root is None:
            raise InvalidInputError(
                f"The image {text!r} is a file: pass document_root (the folder Label Studio runs "
                "with as LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT) or an image_url."
            )
        try:
            rel = absolute.relative_to(root)
        except ValueError:
            raise InvalidInputError(
                f"The image {text!r} is not below document_root {str(root)!r}; Label Studio "
                "serves local files only from there. Pick a document_root above every image."
            ) from None
        return quote(rel.as_posix())

    if image_url is None:
        return LOCAL_FILES_PREFIX + relpath()
    fields = {
        "path": quote(absolute.as_posix()),
        "name": quote(absolute.name),
        "index": index,
        "id": quote(str(ident)),
    }
    try:
        return string.Formatter().vformat(image_url, (), _Fields(fields, relpath))
    except (IndexError, ValueError) as exc:
        raise InvalidInputError(
            f"image_url {image_url!r} is not a valid format string ({exc}); use the fields "
            f"{_FIELDS}."
        ) from None


def _load(source) -> tuple[list, str]:
    """The export's records and how to name it in messages."""
    if isinstance(source, list):
        return source, "the export"
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidInputError(
            f"source must be the path of a Label Studio export or its parsed list; got "
            f"{source!r:.60}."
        )
    path = Path(source)
    if not path.is_file():
        raise MissingResourceError(f"No Label Studio export at {path}.")
    try:
        records = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            f"{path} is not a Label Studio JSON export ({exc}); export the project as JSON or "
            "JSON_MIN."
        ) from None
    if not isinstance(records, list):
        raise InvalidInputError(
            f"{path} holds a JSON {type(records).__name__}, not the list of tasks Label Studio "
            "exports; export the project as JSON or JSON_MIN."
        )
    return records, str(path)


def _tasks(records: list, where: str, from_name: str, n_rows: int | None):
    """``(pool row, task description, votes)`` per task; votes are ``(annotation, choice, gt)``.

    JSON_MIN records (one per annotation) of one task are gathered into one entry.
    """
    minimal: dict[Any, tuple[int, str, list]] = {}
    for k, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInputError(
                f"{where}, item {k}: expected a task (a JSON object); got {record!r:.60}."
            )
        is_full = "data" in record or "annotations" in record
        data = record.get("data") if is_full else record
        task = f"{where}, task {record.get('id', '?')} (item {k})"
        if not isinstance(data, dict) or INDEX_KEY not in data:
            raise InvalidInputError(
                f"{task} has no '{INDEX_KEY}' in its data: it was not written by "
                "alkit.labelstudio.export_tasks, so its pool row is unknown. Import the tasks "
                "export_tasks wrote."
            )
        index = check_int(
            data[INDEX_KEY],
            f"{task}: {INDEX_KEY}",
            min=0,
            max=None if n_rows is None else n_rows - 1,
        )
        if is_full:
            yield index, task, _full_votes(record, task, from_name)
            continue
        key = record.get("id", ("item", k))
        entry = minimal.setdefault(key, (index, task, []))
        if entry[0] != index:
            raise InvalidInputError(f"{task} has {INDEX_KEY} {index}, {entry[1]} has {entry[0]}.")
        if from_name in record:
            ann = f"annotation {record.get('annotation_id', '?')}"
            entry[2].append((ann, _choice(record[from_name], f"{task}, {ann}"), False))
    yield from minimal.values()


def _full_votes(record: dict, task: str, from_name: str) -> list:
    annotations = record.get("annotations") or []
    if not isinstance(annotations, list):
        raise InvalidInputError(f"{task}: 'annotations' must be a list; got {annotations!r:.60}.")
    votes = []
    for a in annotations:
        if not isinstance(a, dict):
            raise InvalidInputError(f"{task}: an annotation must be an object; got {a!r:.60}.")
        if a.get("was_cancelled") or a.get("skipped"):
            continue  # skipped in Label Studio: no label
        ann = f"annotation {a.get('id', '?')}"
        choices = [r for r in a.get("result") or [] if r.get("type") == "choices"]
        mine = [r for r in choices if r.get("from_name") == from_name]
        if choices and not mine:
            others = sorted({str(r.get("from_name")) for r in choices})
            raise InvalidInputError(
                f"{task}, {ann} answers the choices {others}, not {from_name!r}; pass "
                f"from_name= the <Choices name=…> of your labeling config."
            )
        if len(mine) > 1:
            raise InvalidInputError(f"{task}, {ann} has {len(mine)} {from_name!r} results.")
        if mine:
            value = (mine[0].get("value") or {}).get("choices")
            votes.append((ann, _choice(value, f"{task}, {ann}"), bool(a.get("ground_truth"))))
    return votes


def _choice(value: Any, where: str) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict) and isinstance(value.get("choices"), list):
        return _choice(value["choices"], where)
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{where} chose {value!r:.80}; alkit needs exactly one class per image "
            '(choice="single" in the labeling config).'
        )
    return value


def _decide(task: str, votes: list) -> str | None:
    names = {name for _, name, _ in votes}
    if len(names) <= 1:
        return next(iter(names), None)
    truth = {name for _, name, gt in votes if gt}
    if len(truth) == 1:
        return truth.pop()  # documented: Label Studio's ground-truth mark settles a conflict
    shown = ", ".join(
        f"{ann} {name!r}" + (" (ground truth)" if gt else "") for ann, name, gt in votes
    )
    raise InvalidInputError(
        f"{task} has annotations that disagree: {shown}. Fix or delete one in Label Studio "
        "(or mark one as ground truth) and export again."
    )
