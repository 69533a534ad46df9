"""Where a project's embeddings are, and the check that they are still the same."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from ..errors import AlkitError, CorruptCacheError, MissingResourceError

__all__ = ["resolve_embeddings", "load_project_embeddings"]


def resolve_embeddings(embeddings: Any, folder: Path) -> tuple[Any, dict]:
    """The EmbeddingSet and how the project finds it again: ``{"name": …, "path": …}``."""
    from ..data import EmbeddingSet
    from ..sources import is_builtin, load_embeddings, locate, resolve_path

    if not isinstance(embeddings, EmbeddingSet):
        name = str(embeddings)
        emb = load_embeddings(embeddings)
        path = None if is_builtin(name) else resolve_path(name)
        if is_builtin(name) or path is not None:
            return emb, {"name": name, "path": None if path is None else str(path.resolve())}
    else:
        emb = embeddings
        for name in (emb.dataset, f"{emb.dataset}__{emb.backbone}"):
            try:
                if is_builtin(name) and load_embeddings(name).checksum == emb.checksum:
                    return emb, {"name": name, "path": None}
            except AlkitError:
                pass
            path = locate(name)
            if path is not None:
                with contextlib.suppress(AlkitError):
                    if EmbeddingSet.load(path).checksum == emb.checksum:
                        return emb, {"name": name, "path": str(path.resolve())}
    folder.mkdir(parents=True, exist_ok=True)
    emb.save(folder / "embeddings.npz")  # not found again by name: the project keeps a copy
    return emb, {"name": None, "path": "embeddings.npz"}


def load_project_embeddings(ref: dict, folder: Path):
    from ..sources import load_embeddings

    candidates = []
    if ref.get("path"):
        p = Path(ref["path"])
        candidates.append(p if p.is_absolute() else folder / p)
    if ref.get("name"):
        candidates.append(ref["name"])
    errors = []
    for cand in candidates:
        try:
            emb = load_embeddings(cand)
        except AlkitError as exc:
            errors.append(f"{cand}: {exc}")
            continue
        if emb.checksum != ref["checksum"]:
            raise CorruptCacheError(
                f"The embeddings {cand} changed since the project in {folder} was created "
                f"(checksum {emb.checksum[:12]}…, recorded {ref['checksum'][:12]}…): the labels "
                "refer to rows of the original. Restore it, or start a new project."
            )
        return emb
    raise MissingResourceError(
        f"The embeddings of the project in {folder} are not found: " + "; ".join(errors)
    )
