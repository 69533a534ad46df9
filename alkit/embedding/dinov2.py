"""DINOv2 backbones (``dinov2:<vits14|vitb14|vitl14|vitg14>``) through timm's model code.

timm's ``vit_*_patch14_dinov2`` with the torch.hub weights, run at 224 px with the hub's rule for
resizing the 518-px position embedding (:func:`hub_interpolate_pos_embed`); the feature is the CLS
token after the final norm. The paper's four are registered in :mod:`alkit.embedding.backbones`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import InvalidInputError, MissingResourceError
from .registry import (
    _REGISTRY,
    IMAGENET_MEAN,
    IMAGENET_STD,
    BackboneSpec,
    _hf_cached,
    _hf_download,
    _missing,
    weights_dir,
)

__all__ = [
    "dinov2_transform",
    "hub_interpolate_pos_embed",
    "convert_dinov2_state_dict",
    "register_dinov2",
    "PAPER_MODELS",
]


def dinov2_transform(resize: int = 256, crop: int = 224) -> Callable:
    """The paper's DINOv2 eval transform: Resize 256 bicubic, CenterCrop 224, ImageNet mean/std."""
    from torchvision import transforms as T

    return T.Compose(
        [
            T.Resize(resize, interpolation=T.InterpolationMode.BICUBIC),
            T.CenterCrop(crop),
            T.ToTensor(),
            T.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD),
        ]
    )


def hub_interpolate_pos_embed(
    pos_embed: torch.Tensor,
    img_size: int,
    patch_size: int = 14,
    interpolate_offset: float = 0.1,
    antialias: bool = False,
) -> torch.Tensor:
    """Resize a DINOv2 position embedding as torch.hub's ``interpolate_pos_encoding`` does.

    The hub model keeps the 37 x 37 grid learnt at 518 px and, for a 224-px input, resizes it
    on every forward with bicubic interpolation given a *scale factor* of ``(16 + 0.1) / 37``
    (the "historical kludge" offset) and no antialiasing. timm instead resamples once to the
    output *size* (16, 16) with antialiasing, which gives different features; alkit follows the
    hub so that the paper's embeddings reproduce.

    Parameters
    ----------
    pos_embed : Tensor of shape (1, 1 + M*M, d)
        Class-token position followed by the M x M patch grid.
    img_size : int
        Square input size in pixels.
    patch_size : int
        Patch size (14 for DINOv2).
    interpolate_offset, antialias
        The hub defaults (0.1, False).

    Returns
    -------
    Tensor of shape (1, 1 + g*g, d), g = img_size // patch_size, in the input dtype.
    """
    n_patch = pos_embed.shape[1] - 1
    m = int(math.sqrt(n_patch))
    if m * m != n_patch:
        raise InvalidInputError(f"pos_embed has {n_patch} patch positions, not a square grid.")
    g = img_size // patch_size
    if g == m:
        return pos_embed
    dim = pos_embed.shape[-1]
    pe = pos_embed.float()
    cls_pe, patch_pe = pe[:, :1], pe[:, 1:]
    kwargs: dict[str, Any]
    if interpolate_offset:
        s = float(g + interpolate_offset) / m
        kwargs = {"scale_factor": (s, s)}
    else:
        kwargs = {"size": (g, g)}
    patch_pe = nn.functional.interpolate(
        patch_pe.reshape(1, m, m, dim).permute(0, 3, 1, 2),
        mode="bicubic",
        antialias=antialias,
        **kwargs,
    )
    if tuple(patch_pe.shape[-2:]) != (g, g):  # pragma: no cover - guards torch behaviour changes
        raise RuntimeError(
            f"hub interpolation gave a {tuple(patch_pe.shape[-2:])} grid, expected {(g, g)}"
        )
    patch_pe = patch_pe.permute(0, 2, 3, 1).reshape(1, g * g, dim)
    return torch.cat([cls_pe, patch_pe], dim=1).to(pos_embed.dtype)


def _read_state_dict(path: str) -> dict[str, torch.Tensor]:
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    sd = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    return sd


def convert_dinov2_state_dict(
    sd: dict[str, torch.Tensor], img_size: int = 224, patch_size: int = 14
) -> dict[str, torch.Tensor]:
    """torch.hub (or timm) DINOv2 weights -> a timm model built for ``img_size``.

    Hub keys are renamed as timm's own converter does (``mlp.w12`` -> ``mlp.fc1``, ``mlp.w3`` ->
    ``mlp.fc2``, ``mask_token`` dropped); the position embedding is resized with the hub rule
    (:func:`hub_interpolate_pos_embed`).
    """
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if k == "mask_token":
            continue
        k = re.sub(r"(blocks\.\d+\.mlp)\.w12\.", r"\1.fc1.", k)
        k = re.sub(r"(blocks\.\d+\.mlp)\.w3\.", r"\1.fc2.", k)
        out[k] = v
    if "pos_embed" in out:
        out["pos_embed"] = hub_interpolate_pos_embed(out["pos_embed"], img_size, patch_size)
    return out


PAPER_MODELS = {
    # size: (timm model, dim, hub checkpoint, approximate size)
    "vits14": ("vit_small_patch14_dinov2", 384, "dinov2_vits14_pretrain.pth", "88 MB"),
    "vitb14": ("vit_base_patch14_dinov2", 768, "dinov2_vitb14_pretrain.pth", "346 MB"),
    "vitl14": ("vit_large_patch14_dinov2", 1024, "dinov2_vitl14_pretrain.pth", "1.2 GB"),
    "vitg14": ("vit_giant_patch14_dinov2", 1536, "dinov2_vitg14_pretrain.pth", "4.5 GB"),
}


def _dinov2_weights(spec: BackboneSpec, download: bool) -> str:
    timm_name, hub_file = spec.options["timm_model"], spec.options["hub_file"]
    local = weights_dir() / "dinov2"
    cands = [
        local / hub_file,
        local / f"{timm_name}.lvd142m.safetensors",
        Path(torch.hub.get_dir()) / "checkpoints" / hub_file,
    ]
    for c in cands:
        if c.is_file():
            return str(c)
    repo = f"timm/{timm_name}.lvd142m"
    got = _hf_cached(repo, "model.safetensors")
    if got:
        return got
    url = f"https://dl.fbaipublicfiles.com/dinov2/{hub_file.split('_pretrain')[0]}/{hub_file}"
    err = _missing(
        spec.name,
        hub_file,
        spec.weights_size,
        local / hub_file,
        f"from {url} (or model.safetensors from https://huggingface.co/{repo})",
    )
    if not download:
        raise err
    try:
        return _hf_download(repo, "model.safetensors")
    except Exception as exc:
        raise MissingResourceError(f"{err} Download failed: {type(exc).__name__}: {exc}") from exc


def _dinov2_loader(spec: BackboneSpec, download: bool) -> tuple[nn.Module, Callable]:
    import timm

    opts = spec.options
    img_size = int(opts.get("img_size", 224))
    path = opts.get("weights_file")
    if path is None and opts.get("pretrained", True):
        path = _dinov2_weights(spec, download)  # before building the model: fail in milliseconds
    elif path is not None and not Path(path).is_file():
        raise MissingResourceError(f"Weights file {path} for {spec.name} does not exist.")
    model = timm.create_model(
        opts["timm_model"],
        pretrained=False,
        img_size=img_size,
        num_classes=0,
        **opts.get("timm_kwargs", {}),
    )
    if path is not None:
        sd = convert_dinov2_state_dict(
            _read_state_dict(str(path)), img_size, model.patch_embed.patch_size[0]
        )
        missing, unexpected = model.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise InvalidInputError(
                f"{path} does not fit {spec.name}: missing keys {missing[:5]}, unexpected {unexpected[:5]}; "
                "is it a DINOv2 checkpoint of this size?"
            )
        opts["_weights_file"] = str(path)
    return model, dinov2_transform(resize=int(opts.get("resize", 256)), crop=img_size)


def register_dinov2(
    name: str,
    timm_model: str,
    *,
    dim: int | None = None,
    pretrained: bool = True,
    weights_file: str | None = None,
    timm_kwargs: dict[str, Any] | None = None,
    hub_file: str = "",
    weights_size: str = "unknown",
    overwrite: bool = False,
) -> BackboneSpec:
    """Register a DINOv2-style timm backbone (the code path of the ``dinov2:*`` entries).

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"dinov2:tiny-test"``.
    timm_model : str
        A timm ``vit_*_patch14_dinov2`` model name.
    dim : int, optional
        Output dimension (``timm_kwargs["embed_dim"]`` when given).
    pretrained : bool
        False builds random weights (tests, benchmarks); True needs the weights on disk.
    weights_file : str, optional
        An explicit hub-format or timm-format checkpoint.
    timm_kwargs : dict, optional
        Extra ``timm.create_model`` arguments (``embed_dim``, ``depth``, ``num_heads`` ...).
    """
    timm_kwargs = dict(timm_kwargs or {})
    spec = BackboneSpec(
        name=name,
        family="dinov2",
        loader=_dinov2_loader,
        dim=dim or timm_kwargs.get("embed_dim"),
        license="Apache-2.0 (DINOv2 weights and code)",
        weights=(
            "random"
            if not pretrained and weights_file is None
            else f"{timm_model}.lvd142m (hub: {hub_file})"
        ),
        weights_size=weights_size,
        feature="CLS token after the final LayerNorm (torch.hub forward), 224 px, hub position-embedding resize",
        summary=f"DINOv2 {timm_model}",
        paper=False,
        transform_factory=dinov2_transform,
        options={
            "timm_model": timm_model,
            "hub_file": hub_file,
            "pretrained": pretrained,
            "weights_file": weights_file,
            "timm_kwargs": timm_kwargs,
            "img_size": 224,
            "resize": 256,
        },
    )
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Backbone {name!r} is already registered; pass overwrite=True to replace it."
        )
    _REGISTRY[name] = spec
    return spec
