"""Every README command runs as written (the quickstart code and the command-line block)."""

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alkit import EmbeddingSet, load_embeddings
from alkit.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


LOOP = "## Your own images: the labeling loop"


def blocks(lang, text=None):
    return re.findall(rf"```{lang}\n(.*?)```", text or README.read_text(), flags=re.S)


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end > 0 else None]


def test_quickstart_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = blocks("python")
    assert code, "README has no python block"
    namespace: dict = {}
    exec(compile(code[0], "README quickstart", "exec"), namespace)  # noqa: S102
    assert len(namespace["run"].history) == 10
    assert Path("results/dropquery_seed1.parquet").exists()


def test_custom_strategy_block_runs(digits):
    from alkit import run_al, strategies

    code = [b for b in blocks("python") if "strategies.register" in b]
    assert code, "README lost its custom-strategy example"
    try:
        exec(compile(code[0], "README custom strategy", "exec"), {})  # noqa: S102
        run = run_al(digits, strategy="farthest", iterations=2, probe={"max_epochs": 20})
        assert run.history["n_labeled"].tolist() == [10, 20]
    finally:
        strategies.unregister("farthest")


def test_strategy_table_lists_every_strategy():
    from alkit import strategies

    text = README.read_text()
    for name in strategies.available():
        assert f"| `{name}` |" in text, f"README strategy table lacks {name}"


def test_command_line_block_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    digits = load_embeddings("digits")
    EmbeddingSet(
        digits.x_train,
        -np.ones(len(digits.x_train), dtype=np.int64),
        classes=digits.classes,
        meta={"dataset": "mine"},
    ).save("my.npz")
    pd.DataFrame(
        {"index": np.arange(12), "label": [digits.classes[v] for v in digits.y_train[:12]]}
    ).to_csv("labeled.csv", index=False)
    loop = set(blocks("bash", section(LOOP)))  # run by test_labeling_loop_commands_run
    cmds = [
        line.split("#")[0].strip()
        for b in blocks("bash")
        if b not in loop
        for line in b.splitlines()
        if line.startswith("alkit ")
        and line.split()[1] not in {"embed", "sweep", "report", "notebooks"}
    ]
    assert any(c.startswith("alkit run") for c in cmds) and any(
        c.startswith("alkit next") for c in cmds
    )
    for cmd in cmds:
        assert main(shlex.split(cmd)[1:]) == 0, cmd
    assert Path("to_label.csv").exists() and list(Path("results").glob("*.parquet"))


@pytest.mark.slow
def test_labeling_loop_commands_run(tmp_path, monkeypatch, capsys):
    """The labeling-loop section as a new user follows it: a folder of photos, the commands as
    written, the batch filled in between two `alkit next`, three rounds."""
    from alkit.notebooks.practitioner import colour_images, fill_from_names
    from alkit.project import Project

    monkeypatch.chdir(tmp_path)
    colour_images("images", "flat")
    Path("classes.txt").write_text("red\ngreen\nblue\n")
    cmds = [line for b in blocks("bash", section(LOOP)) for line in b.splitlines()]
    assert [c.split()[1] for c in cmds] == ["embed", "next", "next"]
    for cmd in cmds[:2]:
        assert main(shlex.split(cmd)[1:]) == 0, cmd
    for r in (1, 2, 3):
        fill_from_names(f"my_project/rounds/round_{r:03d}/to_label.csv")
        assert main(shlex.split(cmds[2])[1:]) == 0, cmds[2]
        out = capsys.readouterr().out
        assert "Estimated accuracy" in out and "Stopping hint" in out
    assert len(Project.open("my_project").labels()) == 18
    assert main(["project", "status", "my_project"]) == 0


@pytest.mark.parametrize(
    "section", ["Two commands", "Quickstart", "Where results go", "Command line", LOOP[3:]]
)
def test_sections_present(section):
    assert f"## {section}" in README.read_text()
