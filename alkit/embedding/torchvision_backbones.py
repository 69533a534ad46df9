"""torchvision classifiers as backbones (``torchvision:<model>[:random]``): penultimate features.

The classification head is replaced by Identity and the weights' own eval transform is used:
small teaching backbones that run on a CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..errors import InvalidInputError, MissingResourceError, UnknownNameError
from .registry import BackboneSpec, _missing, weights_dir

__all__ = ["torchvision_spec", "resolve", "TEACHING_MODELS"]

#: The torchvision models registered by name (others resolve on demand).
TEACHING_MODELS = ("resnet18", "resnet50", "vit_b_16", "convnext_tiny")
#: Penultimate-layer width of the registered models (others: found on the first batch).
FEATURE_DIMS = {"resnet18": 512, "resnet50": 2048, "vit_b_16": 768, "convnext_tiny": 768}


def _strip_head(model: nn.Module) -> nn.Module:
    """Replace the final classification layer by Identity (penultimate features)."""
    for attr in ("fc", "heads", "head", "classifier"):
        sub = getattr(model, attr, None)
        if isinstance(sub, nn.Linear):
            setattr(model, attr, nn.Identity())
            return model
        if isinstance(sub, nn.Sequential):
            for i in range(len(sub) - 1, -1, -1):
                if isinstance(sub[i], nn.Linear):
                    sub[i] = nn.Identity()
                    return model
    raise InvalidInputError(
        f"Could not find the classification head of {type(model).__name__}; "
        "wrap it yourself and pass (module, transform) to embed()."
    )


def _torchvision_loader(spec: BackboneSpec, download: bool) -> tuple[nn.Module, Callable]:
    import torchvision.models as tvm

    name = spec.options["model"]
    model = tvm.get_model(name, weights=None)
    transform = spec.transform()
    if spec.options["pretrained"]:
        weights = tvm.get_model_weights(name).DEFAULT
        fname = os.path.basename(weights.url)
        local = weights_dir() / "torchvision" / fname
        cands = [local, Path(torch.hub.get_dir()) / "checkpoints" / fname]
        path = next((c for c in cands if c.is_file()), None)
        if path is None:
            if not download:
                raise _missing(spec.name, fname, spec.weights_size, local, f"from {weights.url}")
            try:
                sd = torch.hub.load_state_dict_from_url(
                    weights.url, model_dir=str(local.parent), map_location="cpu"
                )
            except Exception as exc:
                raise MissingResourceError(
                    f"Could not download {weights.url} ({type(exc).__name__}: {exc}); put {fname} at {local}."
                ) from exc
            path = local
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(sd)
        spec.options["_weights_file"] = str(path)
    return _strip_head(model), transform


def torchvision_spec(model: str, pretrained: bool = True) -> BackboneSpec:
    """The spec of ``torchvision:<model>`` (ImageNet-1k weights) or ``…:random``."""
    import torchvision.models as tvm

    try:
        weights_enum = tvm.get_model_weights(model)
    except (ValueError, KeyError) as exc:
        raise UnknownNameError(
            f"torchvision has no model {model!r}; see torchvision.models.list_models()."
        ) from exc
    weights = weights_enum.DEFAULT

    def transform_factory() -> Callable:
        return weights.transforms()

    size = weights.meta.get("_file_size")
    return BackboneSpec(
        name=f"torchvision:{model}" + ("" if pretrained else ":random"),
        family="torchvision",
        loader=_torchvision_loader,
        dim=FEATURE_DIMS.get(model),
        license="BSD-3-Clause (torchvision); weights trained on ImageNet-1k (ImageNet terms: non-commercial research)",
        weights=str(weights) if pretrained else "random",
        weights_size=f"{size:.0f} MB" if size else "unknown",
        feature="penultimate layer (classification head replaced by Identity)",
        summary=f"torchvision {model} ({'ImageNet-1k' if pretrained else 'random'})",
        transform_factory=transform_factory,
        options={"model": model, "pretrained": pretrained},
    )


def resolve(parts: list[str]) -> BackboneSpec | None:
    """``["torchvision", model]`` or ``["torchvision", model, "random"]`` → its spec."""
    if len(parts) == 2:
        return torchvision_spec(parts[1])
    if len(parts) == 3 and parts[2] == "random":
        return torchvision_spec(parts[1], pretrained=False)
    return None
