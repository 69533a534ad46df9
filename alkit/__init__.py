"""alkit — active learning on frozen vision-foundation-model embeddings.

Reproduces and extends Gupte et al., "Revisiting Active Learning in the Era of
Vision Foundation Models" (TMLR 2024).
"""

from __future__ import annotations

from . import errors, initial_pools, results, strategies, zeroshot
from ._utils import PAPER_SEEDS
from ._version import __version__
from .data import EmbeddingSet
from .learner import ActiveLearner, evaluate
from .loop import Run, run_al
from .oracle import ExportOracle, SimulatedOracle
from .pool import Pool, Selection, top_up
from .probe import LinearProbe
from .results import load_results, method_label
from .sources import load_embeddings


def embed(dataset, backbone, root=None, device="auto", **kwargs):
    """Embed a data set with a frozen backbone and cache it (see :func:`alkit.embedding.embed`).

    Imported lazily: torchvision, open_clip and timm load only when you embed.
    """
    from .embedding import embed as _embed

    return _embed(dataset, backbone, root=root, device=device, **kwargs)


__all__ = [
    "EmbeddingSet",
    "load_embeddings",
    "ActiveLearner",
    "evaluate",
    "Run",
    "run_al",
    "load_results",
    "method_label",
    "SimulatedOracle",
    "ExportOracle",
    "WidgetOracle",
    "Pool",
    "Selection",
    "top_up",
    "LinearProbe",
    "embed",
    "strategies",
    "initial_pools",
    "errors",
    "results",
    "zeroshot",
    "PAPER_SEEDS",
    "__version__",
]


def __getattr__(name):
    # The widget needs ipywidgets and sits in the application layer: imported on first use only.
    if name == "WidgetOracle":
        from .widgets import WidgetOracle

        return WidgetOracle
    raise AttributeError(f"module 'alkit' has no attribute {name!r}")
