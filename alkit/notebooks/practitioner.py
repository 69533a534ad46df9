"""Notebook 07's helpers: images to label, command lines run as typed, a simulated person.

:func:`colour_images` writes small generated photos (noisy colour squares) in the layouts a
practitioner's folder comes in; :func:`shell` runs an ``alkit …`` command line exactly as typed in
a terminal (in this process, its output printed under it); :func:`fill_from_names` is the person
who fills a round's ``to_label.csv``; :func:`rounds_table` reads a project's rounds back.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidInputError

__all__ = ["COLOURS", "colour_images", "shell", "fill_from_names", "rounds_table"]

#: The generated classes and their mean RGB colour.
COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 220)}


def colour_images(
    root: str | os.PathLike, layout: str = "flat", per_class: int = 8, seed: int = 0
) -> Path:
    """Write ``per_class`` noisy 24×24 squares of each colour of :data:`COLOURS` under ``root``.

    Parameters
    ----------
    layout : {"flat", "folders", "mixed"}
        ``flat``: ``root/<colour>_<i>.png`` (nothing labeled); ``folders``:
        ``root/<colour>/<colour>_<i>.png`` (class folders); ``mixed``: two of each colour in
        class folders, the others directly in ``root``.

    Returns
    -------
    Path
        ``root``. The colour is in every file name, which is how :func:`fill_from_names` answers.
    """
    from PIL import Image

    if layout not in ("flat", "folders", "mixed"):
        raise InvalidInputError(f"layout must be 'flat', 'folders' or 'mixed'; got {layout!r}.")
    root = Path(root)
    rng = np.random.default_rng(seed)
    for colour, rgb in COLOURS.items():
        for i in range(per_class):
            pixels = np.clip(np.array(rgb) + rng.normal(0, 30, (24, 24, 3)), 0, 255)
            in_folder = layout == "folders" or (layout == "mixed" and i < 2)
            folder = root / colour if in_folder else root
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{colour}_{i}.png")
    return root


def fill_from_names(csv: str | os.PathLike) -> int:
    """The simulated person: fill the ``label`` column of a ``to_label.csv`` with the colour in
    each image's file name; returns how many rows were filled."""
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    df["label"] = [Path(i).name.split("_")[0] for i in df["id"]]
    df.to_csv(csv, index=False)
    return len(df)


def shell(command: str) -> None:
    """Run an ``alkit …`` command line as a terminal would (in this process), printing it first.

    Raises
    ------
    RuntimeError
        When the command exits with a non-zero status (its error was printed).
    """
    from ..cli import main

    argv = shlex.split(command)
    if not argv or argv[0] != "alkit":
        raise InvalidInputError(f"shell runs alkit command lines only; got {command!r}.")
    print(f"$ {command}", flush=True)
    rc = main(argv[1:])
    if rc != 0:
        raise RuntimeError(f"`{command}` exited with status {rc}")


def rounds_table(project) -> pd.DataFrame:
    """One row per round of a :class:`~alkit.project.Project`: its batch size, the labels the
    probe that chose it was trained on, the estimated accuracy (± standard error) and the
    stopping hint's latest kappa, windowed mean and verdict."""
    rows = []
    for k in project.rounds():
        report = project.report(k) or {}
        progress = report.get("progress") or {}
        est, hint = progress.get("estimate") or {}, progress.get("hint") or {}
        kappas = hint.get("kappas") or []
        rows.append(
            {
                "round": k,
                "batch": len(report.get("batch", [])),
                "n_labeled": report.get("n_labeled", 0),
                "estimated_accuracy": est.get("mean"),
                "stderr": est.get("stderr"),
                "kappa": kappas[-1] if kappas else None,
                "mean_kappa": hint.get("mean_kappa"),
                "stop": bool(hint.get("stop", False)),
            }
        )
    columns = [
        "round", "batch", "n_labeled", "estimated_accuracy", "stderr", "kappa", "mean_kappa",
        "stop",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).astype(
        {"estimated_accuracy": float, "stderr": float, "kappa": float, "mean_kappa": float}
    )
