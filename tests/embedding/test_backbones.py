"""Backbone registry: names, dims, the torch.hub position-embedding rule, offline errors."""

from __future__ import annotations

import time

import pytest
import torch

from alkit.embedding import backbones
from alkit.errors import MissingResourceError, UnknownNameError

from .conftest import TINY_CLIP, TINY_DINO


def test_registry_lists_the_paper_backbones_with_dims():
    dims = {
        "dinov2:vits14": 384,
        "dinov2:vitb14": 768,
        "dinov2:vitl14": 1024,
        "dinov2:vitg14": 1536,
        "openclip:ViT-B-16:laion2b_s34b_b88k": 512,
        "openclip:ViT-L-14:laion2b_s32b_b82k": 768,
        "openclip:ViT-H-14:laion2b_s32b_b79k": 1024,
        "openclip:ViT-g-14:laion2b_s34b_b88k": 1024,
        "openclip:ViT-bigG-14:laion2b_s39b_b160k": 1280,
    }
    assert set(backbones.PAPER_BACKBONES) == set(dims)
    for name, dim in dims.items():
        info = backbones.info(name)
        assert info["dim"] == dim and info["paper"] and info["license"] != "unknown"
    assert "torchvision:resnet18" in backbones.available()


def test_unknown_backbone_lists_choices():
    with pytest.raises(UnknownNameError, match="dinov2:vitg14"):
        backbones.get_spec("dinov3:huge")
    with pytest.raises(UnknownNameError, match="open_clip"):
        backbones.load_backbone("openclip:ViT-B-16:no_such_tag")


def _hub_reference_features(model_518: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The torch.hub DINOv2 forward at a non-native size, written out from
    facebookresearch/dinov2 (dinov2/models/vision_transformer.py: prepare_tokens_with_masks +
    interpolate_pos_encoding with interpolate_offset=0.1, antialias=False; CLS after norm)."""
    m = model_518
    b, _, w, h = x.shape
    tokens = m.patch_embed.proj(x).flatten(2).transpose(1, 2)
    tokens = torch.cat([m.cls_token.expand(b, -1, -1), tokens], dim=1)
    pos = m.pos_embed.float()
    n = pos.shape[1] - 1
    big = int(n**0.5)
    w0, h0 = w // 14, h // 14
    patch = torch.nn.functional.interpolate(
        pos[:, 1:].reshape(1, big, big, -1).permute(0, 3, 1, 2),
        scale_factor=(float(w0 + 0.1) / big, float(h0 + 0.1) / big),
        mode="bicubic",
        antialias=False,
    )
    patch = patch.permute(0, 2, 3, 1).reshape(1, -1, pos.shape[-1])
    tokens = tokens + torch.cat([pos[:, :1], patch], dim=1)
    for blk in m.blocks:
        tokens = blk(tokens)
    return m.norm(tokens)[:, 0]


def test_dinov2_timm_path_matches_the_hub_rule(tiny_backbones, tiny_dino_weights):
    import timm
    from timm.layers import resample_abs_pos_embed

    ref = timm.create_model(
        "vit_small_patch14_dinov2",
        pretrained=False,
        num_classes=0,
        embed_dim=32,
        depth=2,
        num_heads=2,
    )  # 518 px, 37 x 37 grid
    sd = torch.load(tiny_dino_weights, weights_only=True)
    sd.pop("mask_token")
    ref.load_state_dict(sd)
    ref.eval()
    ours = backbones.load_backbone(TINY_DINO)
    assert ours.model.pos_embed.shape == (1, 1 + 16 * 16, 32)
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = _hub_reference_features(ref, x)
        got = ours.model(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    # timm's own resize (size=(16,16), antialias) is a different rule: the test can tell them apart
    timm_pe = resample_abs_pos_embed(sd["pos_embed"], (16, 16), num_prefix_tokens=1)
    assert (timm_pe - ours.model.pos_embed).abs().max() > 1e-3


def test_hub_interpolation_is_identity_at_native_size():
    pe = torch.randn(1, 1 + 37 * 37, 8)
    assert backbones.hub_interpolate_pos_embed(pe, 518) is pe
    assert backbones.hub_interpolate_pos_embed(pe, 224).shape == (1, 257, 8)


def test_openclip_tiny_is_the_image_tower(tiny_backbones):
    b = backbones.load_backbone(TINY_CLIP)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = b.model(x)
    assert out.shape == (2, 16)
    assert "Normalize" in repr(b.transform)


@pytest.mark.parametrize(
    "name,fname,size",
    [
        ("dinov2:vitg14", "dinov2_vitg14_pretrain.pth", "4.5 GB"),
        ("openclip:ViT-bigG-14:laion2b_s39b_b160k", "open_clip_model.safetensors", "10.2 GB"),
        ("torchvision:resnet18", "resnet18-", "MB"),
    ],
)
def test_missing_weights_fail_fast_with_instructions(name, fname, size, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    t0 = time.perf_counter()
    with pytest.raises(MissingResourceError) as err:
        backbones.load_backbone(name, download=True)
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert fname in msg and size in msg and "ALKIT_HOME" in msg and "weights" in msg


def test_torchvision_random_strips_the_head():
    b = backbones.load_backbone("torchvision:resnet18:random")
    with torch.no_grad():
        out = b.model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 512)


def test_register_custom_backbone():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(4))
    spec = backbones.register(
        "test:custom",
        lambda download: (model, lambda img: img),
        dim=4,
        license="MIT",
        overwrite=True,
    )
    assert backbones.info("test:custom")["license"] == "MIT" and spec.family == "custom"
    with pytest.raises(ValueError, match="already registered"):
        backbones.register("test:custom", lambda download: (model, None))


def test_alkit_embed_is_a_function_and_embedding_the_subpackage():
    import types

    import alkit
    import alkit.embedding.extract  # noqa: F401 - importing the subpackage rebinds nothing
    from alkit.errors import UnknownNameError

    assert isinstance(alkit.embed, types.FunctionType)
    assert isinstance(alkit.embedding, types.ModuleType)
    with pytest.raises(UnknownNameError):
        alkit.embed("cifar100", "no_such_backbone:x")


def test_list_backbones_is_complete_and_fits_100_columns(capsys):
    from alkit.cli import main

    assert main(["embed", "--list-backbones"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "torchvision:resnet18:random" in out and "openclip:<arch>:random" in out
    assert "None" not in out  # every registered backbone has its dimension
    assert "dinov2:vitg14" in out and " 1536 " in out


def test_offline_openclip_download_fails_at_once(monkeypatch):
    """No minute of huggingface_hub retries: when the Hub does not answer one quick connection,
    huggingface_hub is never called and the error names the file to fetch."""
    import huggingface_hub

    from alkit.embedding import openclip, registry
    from alkit.errors import MissingResourceError

    def no_call(**kwargs):
        raise AssertionError("hf_hub_download must not be called when the Hub is unreachable")

    monkeypatch.setattr(registry, "_hub_reachable", lambda timeout=3.0: False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_call)
    monkeypatch.setattr(openclip, "_hf_cached", lambda repo, fname: None)
    with pytest.raises(MissingResourceError, match="unreachable"):
        openclip._openclip_weights("ViT-B-16", "laion2b_s34b_b88k", "0.6 GB", download=True)
