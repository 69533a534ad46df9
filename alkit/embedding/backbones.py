"""Frozen image backbones: a registry of ``name -> (model, transform)``.

Names
-----
``openclip:<arch>:<pretrained_tag>``
    An OpenCLIP image tower (``model.visual``, i.e. ``encode_image`` without normalisation),
    with the tag's own eval transform. The paper's five are registered; any other pair that
    ``open_clip.list_pretrained()`` knows works too. The tag ``random`` builds the architecture
    with random weights (tests, benchmarks).
``dinov2:<vits14|vitb14|vitl14|vitg14>``
    DINOv2 through timm's ``vit_*_patch14_dinov2`` model code (the same weights as torch.hub),
    run at 224 px with the torch.hub rule for resizing the 518-px position embedding
    (:func:`hub_interpolate_pos_embed`). Features = CLS token after the final norm.
``torchvision:<model>[:random]``
    A torchvision classification model with its classification head removed (penultimate
    features) and the weights' own eval transform: small teaching backbones.
A user's own ``(torch.nn.Module, transform)`` pair is accepted by :func:`alkit.embedding.embed`
directly, or registered under a name with :func:`register`.

Weights are looked for on disk first (``$ALKIT_HOME/weights/...``, then the torch.hub and
Hugging Face caches). When they are absent and downloads are off (``download=False``,
``HF_HUB_OFFLINE=1`` or ``ALKIT_OFFLINE=1``) a :class:`~alkit.errors.MissingResourceError`
names the file, its size and where to put it, without touching the network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from torch import nn

from . import dinov2, openclip, torchvision_backbones
from .dinov2 import dinov2_transform, hub_interpolate_pos_embed, register_dinov2
from .registry import (
    _REGISTRY,
    Backbone,
    BackboneSpec,
    available,
    get_spec,
    info,
    load_backbone,
    preprocessing_description,
    preprocessing_hash,
    register,
    register_pattern,
    transform_repr,
    weights_dir,
)

__all__ = [
    "Backbone",
    "BackboneSpec",
    "register",
    "register_dinov2",
    "available",
    "info",
    "get_spec",
    "load_backbone",
    "dinov2_transform",
    "hub_interpolate_pos_embed",
    "weights_dir",
    "custom_spec",
    "preprocessing_description",
    "preprocessing_hash",
    "transform_repr",
    "PAPER_BACKBONES",
]

# ----------------------------------------------------------------- the built-in backbones
# The one place the registry is filled: the paper's nine backbones, four torchvision teaching
# models, and the name patterns resolved on demand.
for _arch, _tag in openclip.PAPER_MODELS:
    _REGISTRY[f"openclip:{_arch}:{_tag}"] = openclip.openclip_spec(_arch, _tag)
register_pattern(
    "openclip", openclip.resolve, "'openclip:<arch>:<tag>' (see open_clip.list_pretrained())"
)

for _size, (_timm, _dim, _hub, _mb) in dinov2.PAPER_MODELS.items():
    register_dinov2(f"dinov2:{_size}", _timm, dim=_dim, hub_file=_hub, weights_size=_mb)
    _REGISTRY[f"dinov2:{_size}"].paper = True
    _REGISTRY[f"dinov2:{_size}"].summary = f"DINOv2 ViT-{_size[3].upper()}/14 (LVD-142M)"

for _tv in torchvision_backbones.TEACHING_MODELS:
    try:
        _REGISTRY[f"torchvision:{_tv}"] = torchvision_backbones.torchvision_spec(_tv)
    except Exception:  # pragma: no cover - torchvision without that model
        pass
register_pattern("torchvision", torchvision_backbones.resolve, "'torchvision:<model>[:random]'")

PAPER_BACKBONES: tuple[str, ...] = tuple(
    [f"dinov2:{s}" for s in dinov2.PAPER_MODELS]
    + [f"openclip:{a}:{t}" for a, t in openclip.PAPER_MODELS]
)
"""The nine backbones of the paper's Figure 1, smallest first within each family."""


def custom_spec(model: nn.Module, transform: Callable, name: str | None = None) -> BackboneSpec:
    """A :class:`BackboneSpec` for a user's own module; its weights hash names it when ``name`` is None."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes() if v.numel() else b"")
    digest = h.hexdigest()[:12]
    return BackboneSpec(
        name=name or f"custom-{digest}",
        family="custom",
        loader=lambda _s, _d: (model, transform),
        license="user-supplied",
        weights=f"{type(model).__name__} sha256:{digest}",
        feature="module output",
        summary=f"user module {type(model).__name__}",
        transform_factory=lambda: transform,
    )
