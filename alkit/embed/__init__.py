"""From images to cached embeddings: backbones, data sets and resumable extraction.

``embed(dataset, backbone, root=None, ...) -> EmbeddingSet`` is the entry point; the result is
cached under ``$ALKIT_HOME/embeddings`` and read back by ``alkit.load_embeddings("<dataset>__<backbone>")``.
See ``docs/embedding.md``.
"""

from __future__ import annotations

import sys as _sys
import types as _types

from . import backbones, datasets
from .backbones import Backbone, BackboneSpec, load_backbone
from .datasets import ImageDataset, csv_list, image_folder, load_dataset, split_files
from .extract import cache_path, embed

__all__ = [
    "embed",
    "cache_path",
    "backbones",
    "datasets",
    "Backbone",
    "BackboneSpec",
    "load_backbone",
    "ImageDataset",
    "load_dataset",
    "image_folder",
    "split_files",
    "csv_list",
]


class _CallableModule(_types.ModuleType):
    """Importing ``alkit.embed.<submodule>`` rebinds ``alkit.embed`` to this package; calling the
    package keeps ``alkit.embed(dataset, backbone, ...)`` working either way."""

    def __call__(self, *args, **kwargs):
        return embed(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
