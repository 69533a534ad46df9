"""alkit — active learning on frozen vision-foundation-model embeddings.

Reproduces and extends Gupte et al., "Revisiting Active Learning in the Era of
Vision Foundation Models" (TMLR 2024).

The package facade imports nothing heavy: each public name (and each submodule, e.g.
``alkit.strategies``) is imported on first use, so ``import alkit`` and ``alkit --help`` do not
pay for torch, pandas or faiss (see ``docs/architecture.md``).
"""

from __future__ import annotations

import importlib

from ._version import __version__

#: Public name -> the module that defines it (imported on first access).
_PUBLIC = {
    "EmbeddingSet": "data",
    "load_embeddings": "sources",
    "ActiveLearner": "learner",
    "evaluate": "learner",
    "Run": "loop",
    "run_al": "loop",
    "load_results": "results",
    "method_label": "results",
    "SimulatedOracle": "oracle",
    "ExportOracle": "oracle",
    "WidgetOracle": "widgets",
    "Pool": "pool",
    "Selection": "pool",
    "top_up": "pool",
    "LinearProbe": "probe",
    "PAPER_SEEDS": "_random",
    "Project": "project",
}


def embed(dataset, backbone, root=None, device="auto", **kwargs):
    """Embed a data set with a frozen backbone and cache it (see :func:`alkit.embedding.embed`).

    Imported lazily: torchvision, open_clip and timm load only when you embed.
    """
    from .embedding import embed as _embed

    return _embed(dataset, backbone, root=root, device=device, **kwargs)


__all__ = [
    *_PUBLIC,
    "embed",
    "strategies",
    "initial_pools",
    "errors",
    "results",
    "zeroshot",
    "__version__",
]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    try:  # a submodule: alkit.strategies, alkit.analysis, ...
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule exists but one of its own imports is missing
    raise AttributeError(f"module 'alkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
