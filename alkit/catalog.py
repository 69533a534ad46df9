"""What is on disk: the data cards' image folders and the cached embeddings (``alkit datasets``).

This sits in the command-line layer: it reads the data cards, the image loaders and the
embeddings cache together, which no lower module may do (see ``docs/architecture.md``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .cards import available_cards, load_card
from .embedding.backbones import PAPER_BACKBONES
from .embedding.datasets import data_present, data_root
from .sources import cached_keys

__all__ = ["datasets_status", "format_status"]


def datasets_status(root: str | os.PathLike | None = None) -> Any:
    """One row per data card: classes, whether the data and each cached embedding are present.

    Parameters
    ----------
    root : path, optional
        A directory holding ``<card name>/`` data folders (default ``$ALKIT_HOME/data``).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, title, classes, data, paper_backbone`` and one boolean column per backbone
        (the paper's nine, plus any other backbone found in the cache).
    """
    import pandas as pd

    cached: dict[str, set[str]] = {}
    for key in cached_keys():
        if "__" in key:
            ds, bbn = key.split("__", 1)
            cached.setdefault(ds, set()).add(bbn)
    backbones = list(PAPER_BACKBONES) + sorted(
        {b for s in cached.values() for b in s} - set(PAPER_BACKBONES)
    )
    rows = []
    for name in available_cards():
        card = load_card(name)
        base = Path(root).expanduser() / name if root is not None else data_root(name)
        row = {
            "name": name,
            "title": card.title,
            "classes": card.n_classes,
            "data": bool(data_present(card, base)),
            "paper_backbone": card.paper.get("backbone", ""),
        }
        for b in backbones:
            row[b] = b in cached.get(name, set())
        rows.append(row)
    return pd.DataFrame(rows)


def format_status(status, width: int = 100) -> str:
    """The table of :func:`datasets_status` in at most ``width`` columns: name, classes, whether
    the images are on disk, the paper's backbone and how many backbones are cached."""
    backbone_cols = [c for c in status.columns if ":" in c]
    lines = [f"  {'name':<21} {'classes':>7}  {'images':<6}  {'cached':>6}  paper backbone"]
    for _, row in status.iterrows():
        n_cached = int(sum(bool(row[c]) for c in backbone_cols))
        line = (
            f"  {row['name']:<21} {row['classes']:>7}  {'yes' if row['data'] else 'no':<6}  "
            f"{n_cached:>2}/{len(backbone_cols):<3}  {row['paper_backbone']}"
        )
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return "\n".join(lines)
