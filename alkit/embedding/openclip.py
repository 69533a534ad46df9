"""OpenCLIP image towers (``openclip:<arch>:<pretrained_tag>``): loader, transform and weights.

The image tower is ``model.visual`` (``encode_image`` without normalisation), with the tag's own
eval transform; the tag ``random`` builds the architecture with random weights (tests,
benchmarks), drawn from a fixed seed so that the image tower and the text tower
(:mod:`alkit.embedding.text`) of ``random`` come from one model. The paper's five are registered
in :mod:`alkit.embedding.backbones`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..errors import MissingResourceError, UnknownNameError
from .registry import BackboneSpec, _hf_cached, _hf_download, _missing, weights_dir

__all__ = ["PAPER_MODELS", "openclip_spec", "resolve", "create_clip"]

#: Seed of the random weights of the tag ``random`` (the same model in every process).
RANDOM_SEED = 0

PAPER_MODELS = {
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


def create_clip(spec: BackboneSpec, download: bool) -> nn.Module:
    """The whole OpenCLIP model of ``spec`` (both towers), in eval mode, on the CPU.

    Pretrained tags load their checkpoint (``spec.options["_weights_file"]`` records it); the
    tag ``random`` draws its weights from :data:`RANDOM_SEED` without touching torch's global
    random state.
    """
    import open_clip

    arch, tag = spec.options["arch"], spec.options["tag"]
    if tag == "random":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            model = open_clip.create_model(arch, pretrained=None)
    else:
        path = _openclip_weights(arch, tag, spec.weights_size, download)
        spec.options["_weights_file"] = path
        model = open_clip.create_model(arch, pretrained=path)
    return model.eval()


def _openclip_loader(spec: BackboneSpec, download: bool) -> tuple[nn.Module, Callable]:
    transform = _openclip_transform(spec.options["arch"], spec.options["tag"])
    return _OpenCLIPImage(create_clip(spec, download).visual), transform


def openclip_spec(arch: str, tag: str) -> BackboneSpec:
    """The :class:`~alkit.embedding.registry.BackboneSpec` of ``openclip:<arch>:<tag>``."""
    dim, size = PAPER_MODELS.get((arch, tag), (None, "unknown"))
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
        paper=(arch, tag) in PAPER_MODELS,
        transform_factory=lambda: _openclip_transform(arch, tag),
        options={"arch": arch, "tag": tag},
    )


def resolve(parts: list[str]) -> BackboneSpec | None:
    """``["openclip", arch, tag]`` → its spec (the on-demand name pattern)."""
    return openclip_spec(parts[1], parts[2]) if len(parts) == 3 else None
