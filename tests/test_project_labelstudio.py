"""A labeling project labeled in a real Label Studio: ``alkit next --project --format labelstudio``
writes each round as tasks, the annotator labels them in Label Studio, and the next ``alkit next``
reads Label Studio's export back into the project's labels file. Slow: it installs (once, cached)
and starts a real ``label-studio`` server on 127.0.0.1; it skips, with the reason, when the server
cannot be installed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alkit import EmbeddingSet
from alkit.cli import main
from alkit.notebooks.practitioner import COLOURS as COLORS
from alkit.notebooks.practitioner import colour_images as make_images
from alkit.project import Project

pytestmark = pytest.mark.slow


def _embeddings(images: Path, out: Path) -> Path:
    """Features of the images (their mean colour and spread), with the ids and data root an
    ``alkit embed`` run records: what Label Studio tasks need to point at the files."""
    from PIL import Image

    ids = sorted(p.name for p in images.glob("*.png"))
    x = []
    for name in ids:
        a = np.asarray(Image.open(images / name), dtype=np.float32) / 255
        x.append(np.concatenate([a.mean((0, 1)), a.std((0, 1))]))
    meta = {"dataset": "colours", "data_root": str(images), "ids": ids}
    return EmbeddingSet(np.asarray(x), -np.ones(len(ids)), meta=meta).save(out)


def _annotate(ls, pid: int, tasks_file: Path, done: set[int]) -> int:
    """Import a round's tasks into the Label Studio project and label each with its colour."""
    tasks = json.loads(tasks_file.read_text())
    imported = ls.api("POST", f"/api/projects/{pid}/import", tasks)
    assert imported["task_count"] == len(tasks)
    n = 0
    for task in ls.api("GET", f"/api/tasks?project={pid}&page_size=200")["tasks"]:
        if task["id"] in done:
            continue
        colour = Path(task["data"]["alkit_id"]).name.split("_")[0]
        result = [{"from_name": "label", "to_name": "image", "type": "choices",
                   "value": {"choices": [colour]}}]  # fmt: skip
        ls.api("POST", f"/api/tasks/{task['id']}/annotations", {"result": result})
        done.add(task["id"])
        n += 1
    return n


def test_project_rounds_through_label_studio(tmp_path, capsys):
    from tests import labelstudio_server as lss

    exe, reason = lss.ensure_venv()
    if exe is None:
        pytest.skip(f"Label Studio could not be installed: {reason}")
    images = make_images(tmp_path / "documents" / "colours", "flat", per_class=6)
    emb = _embeddings(images, tmp_path / "colours.npz")
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(COLORS))
    project = tmp_path / "proj"
    argv = ["next", "--project", str(project), "--device", "cpu"]
    first = [*argv, "--embeddings", str(emb), "--classes", str(classes), "--budget", "4"]
    assert main([*first, "--format", "labelstudio"]) == 0
    out = capsys.readouterr().out
    assert "Label Studio tasks" in out and "labelstudio_export.json" in out
    round1 = project / "rounds" / "round_001"
    config = (round1 / "labeling_config.xml").read_text()

    (tmp_path / "ls").mkdir()
    with lss.LabelStudio(exe, tmp_path / "ls", tmp_path / "documents") as ls:
        pid = ls.api("POST", "/api/projects", {"title": "colours", "label_config": config})["id"]
        ls.api("POST", "/api/storages/localfiles",
               {"project": pid, "path": str(images), "title": "images"})  # fmt: skip
        done: set[int] = set()
        for r in (1, 2):
            folder = project / "rounds" / f"round_{r:03d}"
            task = json.loads((folder / "tasks.json").read_text())[0]
            served = ls.api("GET", task["data"]["image"], raw=True)  # the image reference works
            assert served == (images / task["data"]["alkit_id"]).read_bytes()
            assert _annotate(ls, pid, folder / "tasks.json", done) == 4
            export = ls.api("GET", f"/api/projects/{pid}/export?exportType=JSON", raw=True)
            (folder / "labelstudio_export.json").write_bytes(export)  # as docs/labeling.md says
            assert main(argv) == 0, capsys.readouterr().err
            out = capsys.readouterr().out
            # the export holds every round so far: only this round's labels are new
            assert "4 new label(s)" in out and "Estimated accuracy" in out, out
    rows = Project.open(project).labels()
    assert len(rows) == 8 and set(rows.source) == {"labelstudio"}
    assert rows.round.tolist() == [1] * 4 + [2] * 4
    assert [Path(i).name.split("_")[0] for i in rows.ids] == [
        list(COLORS)[lab] for lab in rows.label
    ]  # every label as the annotator gave it
    assert (project / "rounds" / "round_003" / "tasks.json").is_file()
