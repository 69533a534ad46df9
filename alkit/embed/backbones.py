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
A user's own ``(torch.nn.Module, transform)`` pair is accepted by :func:`alkit.embed.embed`
directly, or registered under a name with :func:`register`.

Weights are looked for on disk first (``$ALKIT_HOME/weights/...``, then the torch.hub and
Hugging Face caches). When they are absent and downloads are off (``download=False``,
``HF_HUB_OFFLINE=1`` or ``ALKIT_OFFLINE=1``) a :class:`~alkit.errors.MissingResourceError`
names the file, its size and where to put it, without touching the network.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._utils import alkit_home, stable_hash
from ..errors import InvalidInputError, MissingResourceError, UnknownNameError

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
    "PAPER_BACKBONES",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Loader = Callable[["BackboneSpec", bool], tuple[nn.Module, Callable]]


@dataclass
class BackboneSpec:
    """What the registry knows about a backbone before its weights are loaded.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"dinov2:vitg14"``.
    family : str
        ``openclip``, ``dinov2``, ``torchvision`` or ``custom``.
    dim : int or None
        Output feature dimension (None: found on the first batch).
    license : str
        Licence of the weights.
    weights : str
        Weights tag or file that identifies the parameters (provenance).
    weights_size : str
        Approximate download size, for messages.
    feature : str
        How the feature vector is defined.
    summary : str
        One line for tables.
    paper : bool
        Used in Gupte et al. (2024).
    loader : callable
        ``loader(spec, download) -> (module, transform)``.
    transform_factory : callable, optional
        Builds the eval transform without loading weights (cache keys); defaults to the loader's.
    options : dict
        Family-specific settings (timm kwargs, open_clip arch/tag, ...).
    """

    name: str
    family: str
    loader: Loader
    dim: int | None = None
    license: str = "unknown"
    weights: str = ""
    weights_size: str = "unknown"
    feature: str = ""
    summary: str = ""
    paper: bool = False
    transform_factory: Callable[[], Callable] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def transform(self) -> Callable:
        """The eval transform (PIL image -> (3, H, W) float tensor), without loading weights."""
        if self.transform_factory is not None:
            return self.transform_factory()
        return self.loader(self, False)[1]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "dim": self.dim,
            "license": self.license,
            "weights": self.weights,
            "weights_size": self.weights_size,
            "feature": self.feature,
            "summary": self.summary,
            "paper": self.paper,
        }


@dataclass
class Backbone:
    """A loaded backbone: ``model(x)`` maps a (B, 3, H, W) batch to (B, d) features.

    Attributes
    ----------
    name : str
        Registry name (or the name given to a user module).
    model : torch.nn.Module
        In eval mode; its output is the feature vector.
    transform : callable
        PIL image -> (3, H, W) float tensor.
    spec : BackboneSpec
        Registry entry (licence, weights tag, ...).
    weights_file : str or None
        The file the weights came from (provenance).
    """

    name: str
    model: nn.Module
    transform: Callable
    spec: BackboneSpec
    weights_file: str | None = None

    @property
    def dim(self) -> int | None:
        return self.spec.dim


_REGISTRY: dict[str, BackboneSpec] = {}


def weights_dir() -> Path:
    """Where alkit looks for model weights first: ``$ALKIT_HOME/weights``."""
    return alkit_home() / "weights"


def _offline() -> bool:
    truthy = {"1", "true", "yes", "on"}
    return any(
        os.environ.get(v, "").strip().lower() in truthy for v in ("HF_HUB_OFFLINE", "ALKIT_OFFLINE")
    )


def transform_repr(transform: Callable) -> str:
    """A stable text form of a transform (memory addresses stripped), for hashing."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(transform))


def preprocessing_description(
    spec: BackboneSpec, transform: Callable | None = None
) -> dict[str, Any]:
    """What determines the features besides the images: backbone, weights, transform, feature."""
    transform = spec.transform() if transform is None else transform
    return {
        "backbone": spec.name,
        "weights": spec.weights,
        "feature": spec.feature,
        "transform": transform_repr(transform),
        "options": {k: str(v) for k, v in sorted(spec.options.items()) if not k.startswith("_")},
    }


def preprocessing_hash(spec: BackboneSpec, transform: Callable | None = None) -> str:
    """Short hash of :func:`preprocessing_description`."""
    return stable_hash(preprocessing_description(spec, transform))


# --------------------------------------------------------------------------- registry API
def register(
    name: str,
    loader: Callable[..., tuple[nn.Module, Callable]] | BackboneSpec,
    *,
    dim: int | None = None,
    license: str = "unknown",
    weights: str = "",
    weights_size: str = "unknown",
    feature: str = "model output",
    summary: str = "",
    transform: Callable[[], Callable] | None = None,
    overwrite: bool = False,
) -> BackboneSpec:
    """Register a backbone under ``name``.

    Parameters
    ----------
    name : str
        Registry name; use your own prefix (``"mylab:resnet"``).
    loader : callable or BackboneSpec
        ``loader(download: bool) -> (module, transform)``; the module maps (B, 3, H, W) to (B, d).
    dim, license, weights, weights_size, feature, summary
        Metadata shown by :func:`info` and written into the cache's provenance.
    transform : callable, optional
        Zero-argument factory of the eval transform (lets a cache hit skip loading weights).
    overwrite : bool
        Replace an existing entry.

    Returns
    -------
    BackboneSpec
    """
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Backbone {name!r} is already registered; pass overwrite=True to replace it."
        )
    if isinstance(loader, BackboneSpec):
        spec = loader
        spec.name = name
    else:
        user_loader = loader
        spec = BackboneSpec(
            name=name,
            family="custom",
            loader=lambda _spec, download: user_loader(download),
            dim=dim,
            license=license,
            weights=weights or name,
            weights_size=weights_size,
            feature=feature,
            summary=summary,
            transform_factory=transform,
        )
    _REGISTRY[name] = spec
    return spec


def available() -> list[str]:
    """Registered backbone names (``openclip:…``, ``dinov2:…``, ``torchvision:…`` and yours).

    Other ``openclip:<arch>:<tag>`` pairs and any ``torchvision:<model>`` resolve on demand.
    """
    return sorted(_REGISTRY)


def get_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` of ``name`` (registered, or an on-demand openclip/torchvision name).

    Raises
    ------
    UnknownNameError
        Listing the registered names and the name patterns.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    parts = name.split(":")
    if parts[0] == "openclip" and len(parts) == 3:
        return _openclip_spec(parts[1], parts[2])
    if (
        parts[0] == "torchvision"
        and len(parts) in (2, 3)
        and (len(parts) == 2 or parts[2] == "random")
    ):
        return _torchvision_spec(parts[1], pretrained=len(parts) == 2)
    raise UnknownNameError(
        f"Unknown backbone {name!r}. Registered: {available()}. Patterns: 'openclip:<arch>:<tag>' "
        "(see open_clip.list_pretrained()), 'torchvision:<model>[:random]', or pass your own "
        "(torch.nn.Module, transform) pair / register it with alkit.embed.backbones.register()."
    )


def info(name: str) -> dict[str, Any]:
    """Dimension, licence, weights and feature definition of a backbone (no weights loaded)."""
    return get_spec(name).describe()


def load_backbone(name: str, device: str | torch.device = "cpu", download: bool = True) -> Backbone:
    """Load a backbone's weights and return it in eval mode on ``device``.

    Parameters
    ----------
    name : str
        Registry name.
    device : str or torch.device
        Where to put the model.
    download : bool
        Allow fetching missing weights (ignored when ``HF_HUB_OFFLINE``/``ALKIT_OFFLINE`` is set).

    Raises
    ------
    MissingResourceError
        When the weights are not on disk and cannot be fetched; the message says what to get and where.
    """
    spec = get_spec(name)
    model, transform = spec.loader(spec, download and not _offline())
    model = model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return Backbone(
        name=name,
        model=model,
        transform=transform,
        spec=spec,
        weights_file=spec.options.get("_weights_file"),
    )


# --------------------------------------------------------------------------- weights files
def _missing(what: str, filename: str, size: str, dest: Path, how: str) -> MissingResourceError:
    offline = (
        " (offline mode: HF_HUB_OFFLINE/ALKIT_OFFLINE is set, so nothing was downloaded)"
        if _offline()
        else ""
    )
    return MissingResourceError(
        f"Weights for {what} are not on disk{offline}. Fetch {filename} (~{size}) {how} and put it at {dest} "
        f"(ALKIT_HOME={alkit_home()}; set ALKIT_HOME to move it), or rerun with downloads allowed."
    )


def _hf_cached(repo_id: str, filename: str) -> str | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with timm/open_clip
        return None
    try:
        got = try_to_load_from_cache(repo_id, filename)
    except Exception:
        return None
    return got if isinstance(got, str) and os.path.isfile(got) else None


def _hf_download(repo_id: str, filename: str) -> str:
    """One download attempt through huggingface_hub (its own timeouts; no retry loop here)."""
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo_id=repo_id, filename=filename)


# --------------------------------------------------------------------------- OpenCLIP
_OPENCLIP_PAPER = {
    # arch, tag, dim, approximate checkpoint size (full CLIP, fp32)
    ("ViT-B-16", "laion2b_s34b_b88k"): (512, "0.6 GB"),
    ("ViT-L-14", "laion2b_s32b_b82k"): (768, "1.7 GB"),
    ("ViT-H-14", "laion2b_s32b_b79k"): (1024, "3.9 GB"),
    ("ViT-g-14", "laion2b_s34b_b88k"): (1024, "5.5 GB"),
    ("ViT-bigG-14", "laion2b_s39b_b160k"): (1280, "10.2 GB"),
}


class _OpenCLIPImage(nn.Module):
    """The image tower of an OpenCLIP model: ``forward(x) == clip.encode_image(x)`` (unnormalised)."""

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x)


def _openclip_transform(arch: str, tag: str) -> Callable:
    import open_clip

    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise UnknownNameError(
            f"open_clip has no model config {arch!r}; see open_clip.list_models()."
        )
    size = cfg["vision_cfg"].get("image_size", 224)
    pcfg = open_clip.get_pretrained_cfg(arch, tag) if tag != "random" else {}
    return open_clip.image_transform(
        size,
        is_train=False,
        mean=pcfg.get("mean"),
        std=pcfg.get("std"),
        resize_mode=pcfg.get("resize_mode"),
        interpolation=pcfg.get("interpolation"),
    )


def _openclip_weights(arch: str, tag: str, size: str, download: bool) -> str:
    import open_clip

    pcfg = open_clip.get_pretrained_cfg(arch, tag)
    if not pcfg:
        raise UnknownNameError(
            f"open_clip has no pretrained tag {tag!r} for {arch!r}; known: "
            f"{open_clip.list_pretrained_tags_by_model(arch)}. Use the tag 'random' for random weights."
        )
    local_dir = weights_dir() / "openclip" / arch / tag
    names = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
    for fname in names:
        if (local_dir / fname).is_file():
            return str(local_dir / fname)
    repo = (pcfg.get("hf_hub") or "").strip("/")
    if repo:
        for fname in names:
            got = _hf_cached(repo, fname)
            if got:
                return got
    how = f"from https://huggingface.co/{repo}" if repo else f"from {pcfg.get('url')}"
    err = _missing(f"openclip:{arch}:{tag}", names[0], size, local_dir / names[0], how)
    if not download or not repo:
        raise err
    for fname in names:
        try:
            return _hf_download(repo, fname)
        except Exception as exc:  # network down, file absent, ...
            last = exc
    raise MissingResourceError(f"{err} Download failed: {type(last).__name__}: {last}") from last


def _openclip_loader(spec: BackboneSpec, download: bool) -> tuple[nn.Module, Callable]:
    import open_clip

    arch, tag = spec.options["arch"], spec.options["tag"]
    transform = _openclip_transform(arch, tag)
    if tag == "random":
        model = open_clip.create_model(arch, pretrained=None)
    else:
        path = _openclip_weights(arch, tag, spec.weights_size, download)
        spec.options["_weights_file"] = path
        model = open_clip.create_model(arch, pretrained=path)
    return _OpenCLIPImage(model.visual), transform


def _openclip_spec(arch: str, tag: str) -> BackboneSpec:
    dim, size = _OPENCLIP_PAPER.get((arch, tag), (None, "unknown"))
    if dim is None:
        try:
            import open_clip

            cfg = open_clip.get_model_config(arch)
            dim = int(cfg["embed_dim"]) if cfg else None
        except ImportError:  # pragma: no cover
            dim = None
    return BackboneSpec(
        name=f"openclip:{arch}:{tag}",
        family="openclip",
        loader=_openclip_loader,
        dim=dim,
        license="MIT (OpenCLIP code and LAION-2B checkpoints)"
        if tag.startswith("laion")
        else "see open_clip",
        weights=f"open_clip {arch} pretrained={tag}",
        weights_size=size,
        feature="encode_image output (image tower incl. projection, not L2-normalised)",
        summary=f"OpenCLIP {arch} ({tag})",
        paper=(arch, tag) in _OPENCLIP_PAPER,
        transform_factory=lambda: _openclip_transform(arch, tag),
        options={"arch": arch, "tag": tag},
    )


for _arch, _tag in _OPENCLIP_PAPER:
    _REGISTRY[f"openclip:{_arch}:{_tag}"] = _openclip_spec(_arch, _tag)


# --------------------------------------------------------------------------- DINOv2
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


_DINOV2 = {
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


for _size, (_timm, _dim, _hub, _mb) in _DINOV2.items():
    register_dinov2(f"dinov2:{_size}", _timm, dim=_dim, hub_file=_hub, weights_size=_mb)
    _REGISTRY[f"dinov2:{_size}"].paper = True
    _REGISTRY[f"dinov2:{_size}"].summary = f"DINOv2 ViT-{_size[3].upper()}/14 (LVD-142M)"


# --------------------------------------------------------------------------- torchvision
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


def _torchvision_spec(model: str, pretrained: bool = True) -> BackboneSpec:
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
        dim=None,
        license="BSD-3-Clause (torchvision); weights trained on ImageNet-1k (ImageNet terms: non-commercial research)",
        weights=str(weights) if pretrained else "random",
        weights_size=f"{size:.0f} MB" if size else "unknown",
        feature="penultimate layer (classification head replaced by Identity)",
        summary=f"torchvision {model} ({'ImageNet-1k' if pretrained else 'random'})",
        transform_factory=transform_factory,
        options={"model": model, "pretrained": pretrained},
    )


for _tv in ("resnet18", "resnet50", "vit_b_16", "convnext_tiny"):
    try:
        _REGISTRY[f"torchvision:{_tv}"] = _torchvision_spec(_tv)
    except Exception:  # pragma: no cover - torchvision without that model
        pass

PAPER_BACKBONES: tuple[str, ...] = tuple(
    [f"dinov2:{s}" for s in _DINOV2] + [f"openclip:{a}:{t}" for a, t in _OPENCLIP_PAPER]
)
"""The nine backbones of the paper's Figure 1, smallest first within each family."""


def custom_spec(model: nn.Module, transform: Callable, name: str | None = None) -> BackboneSpec:
    """A :class:`BackboneSpec` for a user's own module; its weights hash names it when ``name`` is None."""
    import hashlib

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
