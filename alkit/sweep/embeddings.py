"""The embeddings of a process running cells: a small LRU cache (a worker loads each setting
once, as cells come grouped by setting) and the metadata a grid's expansion needs.

Names are resolved by :mod:`alkit.sources` (built-in sets, cached keys, paths).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import numpy as np

from ..sources import is_builtin, load_embeddings, resolve_path

_EMB_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_EMB_CACHE_SIZE = 2
_EMB_LOADS = 0  # embeddings loaded by this process (a worker loads each setting once)


def _cache_token(name: str) -> tuple:
    if is_builtin(name):
        return (name,)
    path = resolve_path(name)
    if path is None:
        return (name, None)
    return (name, str(path.resolve()), path.stat().st_mtime_ns)


def _cached_embeddings(name: str):
    """Load ``name`` once per process (LRU of the last two sets: cells come grouped by setting)."""
    global _EMB_LOADS
    token = _cache_token(name)
    if token in _EMB_CACHE:
        _EMB_CACHE.move_to_end(token)
        return _EMB_CACHE[token]
    while (
        len(_EMB_CACHE) >= _EMB_CACHE_SIZE
    ):  # evict first: at most two sets in memory, never three
        _EMB_CACHE.popitem(last=False)
    emb = load_embeddings(name)
    _EMB_LOADS += 1
    _EMB_CACHE[token] = emb
    return emb


def _embedding_info(name: str) -> dict | None:
    """dataset, backbone, checksum, n_classes and n_train (pool size) of an embedding set,
    reading only its metadata when it is a file (built-in sets are generated). ``None`` when it
    does not exist."""
    if is_builtin(name):
        return _info_of(_cached_embeddings(name))
    path = resolve_path(name)
    if path is None:
        return None
    meta = None
    try:
        if path.is_dir():
            meta = json.loads((path / "meta.json").read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["__meta__"]).decode())
    except Exception:
        meta = None  # unreadable metadata: load it fully below, which names the problem
    if (
        not meta
        or not meta.get("checksum")
        or not (meta.get("n_classes") or meta.get("classes"))
        or not isinstance(meta.get("n_train"), int)
    ):
        return _info_of(_cached_embeddings(name))
    return {
        "dataset": meta.get("dataset"),
        "backbone": meta.get("backbone"),
        "checksum": meta["checksum"],
        "n_classes": int(meta.get("n_classes") or len(meta["classes"])),
        "n_train": int(meta["n_train"]),
    }


def _info_of(emb) -> dict:
    return {
        "dataset": emb.dataset,
        "backbone": emb.backbone,
        "checksum": emb.checksum,
        "n_classes": emb.n_classes,
        "n_train": len(emb.x_train),
    }
