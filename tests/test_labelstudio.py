"""alkit.labelstudio: the tasks and config it writes, the exports it reads, and a real server.

The format tests always run. The round trip against a real Label Studio server (installed from
PyPI into its own cached virtual environment, started on 127.0.0.1, stopped by its PID) is
marked slow and skips, with the reason, when the server cannot be installed.
"""

import json
import struct
import time
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from alkit import ActiveLearner
from alkit.errors import InvalidInputError, MissingResourceError
from alkit.labelstudio import (
    CONFIG_FILENAME,
    export_tasks,
    labeling_config,
    read_export,
)

CLASSES = ["cat", "dog", "bird"]
FAST = {"max_epochs": 60}


def _png(path, pixels):
    """A grayscale PNG of ``pixels`` (uint8, 2-D), written with the standard library only."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def _annotation(choice, ann_id=1, **extra):
    result = [{"from_name": "label", "to_name": "image", "type": "choices",
               "value": {"choices": [choice] if isinstance(choice, str) else choice}}]  # fmt: skip
    return {"id": ann_id, "result": result, "was_cancelled": False, "ground_truth": False, **extra}


def _task(index, *annotations, task_id=None):
    data = {"image": f"/data/local-files/?d=b/{index}.png", "alkit_index": index}
    return {"id": task_id if task_id is not None else 100 + index, "data": data,
            "annotations": list(annotations)}  # fmt: skip


def _pairs(result):
    indices, labels = result
    assert indices.dtype == np.int64 and labels.dtype == np.int64
    return dict(zip(indices.tolist(), labels.tolist()))


# ------------------------------------------------------------------------------ the config
def test_labeling_config_parses_and_lists_the_classes():
    classes = ["cat", 'say "hi"', "a<b&c", "Straße"]
    root = ET.fromstring(labeling_config(classes))
    assert root.tag == "View"
    image = root.find("Image")
    assert image.attrib == {"name": "image", "value": "$image"}
    choices = root.find("Choices")
    assert choices.attrib["name"] == "label" and choices.attrib["toName"] == "image"
    assert choices.attrib["choice"] == "single" and choices.attrib["required"] == "true"
    assert [c.attrib["value"] for c in choices.findall("Choice")] == classes


def test_labeling_config_checks_the_classes():
    with pytest.raises(InvalidInputError, match="twice"):
        labeling_config(["cat", "cat"])
    with pytest.raises(InvalidInputError, match="single string"):
        labeling_config("cat")


# ------------------------------------------------------------------------------- the tasks
def test_export_tasks_writes_the_probes_predictions(tmp_path, digits):
    learner = ActiveLearner(digits, strategy="entropy", probe=FAST, seed=0, device="cpu")
    first = learner.query()
    learner.teach(first.indices, digits.y_train[first.indices])
    batch = learner.query(7).indices
    proba = learner.predict_proba()[batch]
    root = tmp_path / "root"
    images = [root / "digits" / f"{i:04d}.png" for i in range(len(digits.x_train))]
    out = export_tasks(
        tmp_path / "out" / "tasks.json", batch, images, digits.classes, proba=proba,
        document_root=root, model_version="alkit-test",
    )  # fmt: skip
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"]["alkit_index"] for t in tasks] == batch.tolist()
    for task, i, p in zip(tasks, batch, proba):
        assert set(task) == {"data", "predictions"}
        assert task["data"] == {
            "image": f"/data/local-files/?d=digits/{i:04d}.png",
            "alkit_index": int(i),
            "alkit_id": str(images[i]),
        }
        (pred,) = task["predictions"]
        assert pred["model_version"] == "alkit-test"
        assert pred["score"] == float(p.max())
        (result,) = pred["result"]
        assert result == {
            "from_name": "label",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": [digits.classes[int(p.argmax())]]},
        }
    assert (out.parent / CONFIG_FILENAME).read_text() == labeling_config(digits.classes)


def test_exported_indices_come_back(tmp_path):
    images = [f"https://example.org/img/{i}.jpg" for i in range(10)]
    batch = np.array([7, 2, 9])
    ids = list("abcdefghij")
    out = export_tasks(tmp_path / "tasks.json", batch, np.array(images), CLASSES, ids=ids)
    tasks = json.loads(out.read_text())
    assert [t["data"]["image"] for t in tasks] == [images[i] for i in batch]
    assert [t["data"]["alkit_id"] for t in tasks] == ["h", "c", "j"]
    assert all("predictions" not in t for t in tasks)
    for k, t in enumerate(tasks):  # what Label Studio adds when someone labels them
        t["id"] = 40 + k
        t["annotations"] = [_annotation(CLASSES[k])]
    assert _pairs(read_export(tasks, CLASSES, n_rows=10)) == {7: 0, 2: 1, 9: 2}


def test_image_url_options(tmp_path, monkeypatch):
    root = tmp_path / "root"
    images = [str(root / "my pics" / "a#1.png"), "http://host/x.png", str(tmp_path / "out.png")]
    path = tmp_path / "t.json"

    def urls(indices, **kw):
        return [t["data"]["image"] for t in json.loads(export_tasks(path, indices, images, CLASSES, **kw).read_text())]  # fmt: skip

    assert urls([0, 1], document_root=root) == [
        "/data/local-files/?d=my%20pics/a%231.png",
        "http://host/x.png",
    ]
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", str(root))
    assert urls([0]) == ["/data/local-files/?d=my%20pics/a%231.png"]
    assert urls([0], image_url="http://127.0.0.1:8081/{relpath}?i={index}") == [
        "http://127.0.0.1:8081/my%20pics/a%231.png?i=0"
    ]
    assert urls([2], image_url="file://{path}") == [f"file://{(tmp_path / 'out.png').as_posix()}"]
    assert urls([1, 2], image_url=lambda image, i: f"u{i}:{image[-5:]}") == ["u1:x.png", "u2:t.png"]
    with pytest.raises(InvalidInputError, match=r"not below document_root"):
        urls([2])
    with pytest.raises(InvalidInputError, match=r"\{nope\}.*\{relpath\}"):
        urls([0], image_url="http://h/{nope}")
    with pytest.raises(InvalidInputError, match="must return a URL"):
        urls([0], image_url=lambda image, i: None)
    monkeypatch.delenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT")
    with pytest.raises(InvalidInputError, match="pass document_root"):
        urls([0])
    assert urls([0], image_url="http://h/{name}") == ["http://h/a%231.png"]  # no root needed


def test_export_tasks_checks_its_arguments(tmp_path):
    images = [f"http://h/{i}.png" for i in range(4)]
    path = tmp_path / "t.json"
    good = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    with pytest.raises(InvalidInputError, match=r"shape \(2, 3\)"):
        export_tasks(path, [0, 1], images, CLASSES, proba=good[:, :2])
    with pytest.raises(InvalidInputError, match="sums to"):
        export_tasks(path, [0, 1], images, CLASSES, proba=good * 2 / 3)
    with pytest.raises(InvalidInputError, match=r"outside \[0, 1\]"):
        export_tasks(path, [0, 1], images, CLASSES, proba=[[1.5, -0.5, 0.0], [1, 0, 0]])
    with pytest.raises(InvalidInputError, match="NaN"):
        export_tasks(path, [0, 1], images, CLASSES, proba=[[np.nan, 0.5, 0.5], [1, 0, 0]])
    with pytest.raises(InvalidInputError, match="outside the pool's rows 0..3"):
        export_tasks(path, [0, 4], images, CLASSES)
    with pytest.raises(InvalidInputError, match="duplicates"):
        export_tasks(path, [1, 1], images, CLASSES)
    with pytest.raises(InvalidInputError, match="one image path or URL per pool row"):
        export_tasks(path, [0], "http://h/0.png", CLASSES)
    with pytest.raises(InvalidInputError, match="model_version"):
        export_tasks(path, [0], images, CLASSES, model_version="")
    with pytest.raises(InvalidInputError, match="image_url"):
        export_tasks(path, [0], images, CLASSES, image_url=3)
    with pytest.raises(InvalidInputError, match=r"images\[2\]"):
        export_tasks(path, [2], images[:2] + [None, "x"], CLASSES)
    assert not path.exists() and not (tmp_path / CONFIG_FILENAME).exists()


# ------------------------------------------------------------------------------ the export
def test_read_export_reads_exactly_the_labels(tmp_path):
    export = [
        _task(5, _annotation("dog")),
        _task(2, _annotation("cat", 1), _annotation("cat", 2)),  # two annotators agree
        _task(8),  # not labeled yet
        _task(1, _annotation("bird", was_cancelled=True)),  # skipped in Label Studio
        _task(3, _annotation("bird", was_cancelled=True), _annotation("bird", 2)),
        _task(4, {"id": 9, "result": [], "was_cancelled": False}),  # submitted without a choice
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    indices, labels = read_export(path, CLASSES, n_rows=10)
    assert indices.tolist() == [5, 2, 3] and labels.tolist() == [1, 0, 2]
    assert _pairs(read_export(export, CLASSES)) == {5: 1, 2: 0, 3: 2}
    empty = read_export([], CLASSES)
    assert empty[0].shape == (0,) and empty[1].shape == (0,)


def test_read_export_unknown_and_wrong_case_names():
    with pytest.raises(InvalidInputError) as err:
        read_export([_task(3, _annotation("horse"), task_id=17)], CLASSES)
    msg = str(err.value)
    assert "task 17" in msg and "'horse'" in msg and "'cat', 'dog', 'bird'" in msg
    with pytest.raises(InvalidInputError, match=r"'Dog'.*Did you mean 'dog'\?"):
        read_export([_task(3, _annotation("Dog"))], CLASSES)
    with pytest.raises(InvalidInputError, match=r"Did you mean 'bird'\?"):
        read_export([_task(3, _annotation("brid"))], CLASSES)


def test_read_export_conflicts_are_errors_unless_ground_truth_settles_them():
    conflict = _task(6, _annotation("cat", 11), _annotation("dog", 12), task_id=60)
    with pytest.raises(InvalidInputError) as err:
        read_export([conflict], CLASSES)
    msg = str(err.value)
    assert "task 60" in msg and "disagree" in msg and "annotation 11 'cat'" in msg
    assert "annotation 12 'dog'" in msg
    settled = _task(6, _annotation("cat", 11), _annotation("dog", 12, ground_truth=True))
    assert _pairs(read_export([settled], CLASSES)) == {6: 1}
    both = _task(6, _annotation("cat", 11, ground_truth=True), _annotation("dog", 12, ground_truth=True))  # fmt: skip
    with pytest.raises(InvalidInputError, match="disagree"):
        read_export([both], CLASSES)
    # One pool row on two tasks: fine when they agree, an error naming both when not.
    assert _pairs(read_export([_task(4, _annotation("cat")), _task(4, _annotation("cat"), task_id=9)], CLASSES)) == {4: 0}  # fmt: skip
    with pytest.raises(InvalidInputError, match=r"task 9 .*pool row 4 'dog'.*task 104"):
        read_export([_task(4, _annotation("cat")), _task(4, _annotation("dog"), task_id=9)], CLASSES)  # fmt: skip


def test_read_export_needs_alkit_index():
    task = _task(3, _annotation("cat"), task_id=21)
    del task["data"]["alkit_index"]
    with pytest.raises(InvalidInputError, match=r"task 21 .*no 'alkit_index'"):
        read_export([task], CLASSES)
    with pytest.raises(InvalidInputError, match="alkit_index"):
        read_export([_task(3, _annotation("cat")) | {"data": {"alkit_index": "3"}}], CLASSES)
    with pytest.raises(InvalidInputError, match=r"alkit_index must be an integer in \[0, 4\]"):
        read_export([_task(7, _annotation("cat"))], CLASSES, n_rows=5)


def test_read_export_bad_files(tmp_path):
    bad = tmp_path / "labels.json"
    bad.write_text("index,label\n3,cat\n")
    with pytest.raises(InvalidInputError, match=r"labels\.json is not a Label Studio JSON export"):
        read_export(bad, CLASSES)
    bad.write_text('{"tasks": []}')
    with pytest.raises(InvalidInputError, match="JSON dict, not the list of tasks"):
        read_export(bad, CLASSES)
    bad.write_text("[3]")
    with pytest.raises(InvalidInputError, match="item 0"):
        read_export(bad, CLASSES)
    with pytest.raises(MissingResourceError, match="nothere.json"):
        read_export(tmp_path / "nothere.json", CLASSES)
    with pytest.raises(InvalidInputError, match="source"):
        read_export({"a": 1}, CLASSES)


def test_read_export_other_choices():
    other = _task(3, _annotation("cat"))
    other["annotations"][0]["result"][0]["from_name"] = "species"
    with pytest.raises(InvalidInputError, match=r"\['species'\], not 'label'.*from_name"):
        read_export([other], CLASSES)
    assert _pairs(read_export([other], CLASSES, from_name="species")) == {3: 0}
    with pytest.raises(InvalidInputError, match="exactly one class"):
        read_export([_task(3, _annotation(["cat", "dog"]))], CLASSES)


def test_read_export_json_min():
    """Label Studio's JSON_MIN: one flat record per (non-cancelled) annotation."""

    def rec(task_id, index, label=None, ann=None):
        r = {"image": f"/data/local-files/?d=b/{index}.png", "alkit_index": index, "id": task_id}
        if label is not None:
            r.update(label=label, annotator=1, annotation_id=ann)
        return r

    export = [rec(1, 4, "dog", 1), rec(2, 0, "bird", 2), rec(2, 0, "bird", 3), rec(3, 7)]
    assert _pairs(read_export(export, CLASSES)) == {4: 1, 0: 2}
    with pytest.raises(InvalidInputError, match=r"task 2 .*disagree"):
        read_export([rec(2, 0, "bird", 2), rec(2, 0, "cat", 3)], CLASSES)
    with pytest.raises(InvalidInputError, match="Did you mean 'cat'"):
        read_export([rec(2, 0, "CAT", 2)], CLASSES)


# ----------------------------------------------------------------------- a real server
@pytest.mark.slow
def test_label_studio_round_trip(tmp_path, digits):
    """Export a batch, label it through a real Label Studio's API, export, read it back."""
    from tests import labelstudio_server as lss

    t0 = time.perf_counter()
    exe, reason = lss.ensure_venv()
    if exe is None:
        pytest.skip(f"Label Studio could not be installed: {reason}")
    t_install = time.perf_counter() - t0

    # The practitioner's side: a probe trained on a first batch proposes the next one.
    learner = ActiveLearner(digits, strategy="entropy", probe=FAST, seed=0, device="cpu")
    first = learner.query()
    learner.teach(first.indices, digits.y_train[first.indices])
    batch = learner.query(8).indices
    proba = learner.predict_proba()[batch]
    root = tmp_path / "images"
    images = [root / "digits" / f"{i:04d}.png" for i in range(len(digits.x_train))]
    for i in batch:  # the digits' own 8×8 pixels, enlarged
        _png(images[i], np.kron(digits.x_train[i].reshape(8, 8) * 15, np.ones((4, 4))))
    tasks_path = export_tasks(
        tmp_path / "out" / "tasks.json", batch, images, digits.classes, proba=proba,
        document_root=root,
    )  # fmt: skip
    config = (tasks_path.parent / CONFIG_FILENAME).read_text()

    t1 = time.perf_counter()
    workdir = tmp_path / "ls"
    workdir.mkdir()
    with lss.LabelStudio(exe, workdir, root) as ls:
        t_start = time.perf_counter() - t1
        project = ls.api("POST", "/api/projects", {"title": "alkit round trip", "label_config": config})  # fmt: skip
        pid = project["id"]
        # Local files are served only below a Local files storage of the project.
        ls.api("POST", "/api/storages/localfiles",
               {"project": pid, "path": str(root / "digits"), "title": "alkit images"})  # fmt: skip
        imported = ls.api("POST", f"/api/projects/{pid}/import", json.loads(tasks_path.read_text()))  # fmt: skip
        assert imported["task_count"] == len(batch) and imported["prediction_count"] == len(batch)

        tasks = ls.api("GET", f"/api/tasks?project={pid}&page_size=100")["tasks"]
        by_index = {t["data"]["alkit_index"]: t for t in tasks}
        assert sorted(by_index) == sorted(batch.tolist())
        served = ls.api("GET", by_index[int(batch[0])]["data"]["image"], raw=True)
        assert served == images[batch[0]].read_bytes()  # the image reference works
        predictions = ls.api("GET", f"/api/predictions?project={pid}")
        scores = {p["task"]: p["score"] for p in predictions}
        for k, i in enumerate(batch):
            assert scores[by_index[int(i)]["id"]] == pytest.approx(float(proba[k].max()))

        # The annotator: the true digit for most, a different one for one, one task skipped
        # (cancelled) and one never opened.
        y = digits.y_train
        chosen = {int(i): int(y[i]) for i in batch[:6]}
        chosen[int(batch[5])] = (int(y[batch[5]]) + 1) % 10
        for i, label in chosen.items():
            result = [{"from_name": "label", "to_name": "image", "type": "choices",
                       "value": {"choices": [digits.classes[label]]}}]  # fmt: skip
            ls.api("POST", f"/api/tasks/{by_index[i]['id']}/annotations", {"result": result})
        skipped = [{"from_name": "label", "to_name": "image", "type": "choices",
                    "value": {"choices": [digits.classes[0]]}}]  # fmt: skip
        ls.api("POST", f"/api/tasks/{by_index[int(batch[6])]['id']}/annotations",
               {"result": skipped, "was_cancelled": True})  # fmt: skip

        exported = {}
        for kind in ("JSON", "JSON_MIN"):
            exported[kind] = tmp_path / f"export_{kind}.json"
            exported[kind].write_bytes(ls.api("GET", f"/api/projects/{pid}/export?exportType={kind}", raw=True))  # fmt: skip
    t_server = time.perf_counter() - t1

    n = len(digits.x_train)
    for kind, path in exported.items():
        assert _pairs(read_export(path, digits.classes, n_rows=n)) == chosen, kind
    learner.teach(*read_export(exported["JSON"], digits.classes, n_rows=n))
    assert learner.pool.labeled[list(chosen)].all()
    assert learner.pool.labels[list(chosen)].tolist() == list(chosen.values())
    print(
        f"\n[labelstudio] install/check {t_install:.1f} s, server start {t_start:.1f} s, "
        f"server session {t_server:.1f} s, total {time.perf_counter() - t0:.1f} s"
    )


def test_labelstudio_imports_only_the_layers_below():
    """An application module: no learner, widgets or cli (those import it, if anything)."""
    import ast
    from pathlib import Path

    import alkit.labelstudio as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
    assert imported <= {"_files", "errors", "validation", "oracle"}, imported
