"""From images to cached embeddings: backbones, data sets and resumable extraction.

The subpackage is ``alkit.embedding``; its entry point is also ``alkit.embed`` (a plain function
of the top-level package, imported lazily so that ``import alkit`` does not load torchvision,
open_clip or timm).

``embed(dataset, backbone, root=None, ...) -> EmbeddingSet`` is the entry point; the result is
cached under ``$ALKIT_HOME/embeddings`` and read back by ``alkit.load_embeddings("<dataset>__<backbone>")``.
See ``docs/embedding.md``.
"""

from __future__ import annotations

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
