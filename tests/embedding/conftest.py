"""Fixtures for the embedding tests: a generated ImageFolder of coloured shapes and tiny backbones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

CLASSES = ("circle", "square", "triangle")
COLOURS = {"circle": (220, 40, 40), "square": (40, 200, 60), "triangle": (50, 80, 230)}


def make_shapes(
    root: Path, n_train: int = 70, n_test: int = 20, size: int = 32, seed: int = 0
) -> Path:
    """root/{train,test}/<shape>/*.png: one coloured shape per image, jittered position and size."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        for cls in CLASSES:
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                bg = tuple(int(v) for v in rng.integers(0, 60, 3))
                img = Image.new("RGB", (size, size), bg)
                draw = ImageDraw.Draw(img)
                r = int(rng.integers(6, 12))
                cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
                col = tuple(int(np.clip(c + rng.integers(-20, 20), 0, 255)) for c in COLOURS[cls])
                box = (cx - r, cy - r, cx + r, cy + r)
                if cls == "circle":
                    draw.ellipse(box, fill=col)
                elif cls == "square":
                    draw.rectangle(box, fill=col)
                else:
                    draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=col)
                img.save(d / f"{cls}_{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def shapes_root(tmp_path_factory) -> Path:
    """A generated ImageFolder with 3 classes: 210 train and 60 test images (read-only for tests)."""
    return make_shapes(tmp_path_factory.mktemp("shapes") / "shapes")


@pytest.fixture
def shapes_copy(shapes_root, tmp_path) -> Path:
    """A private copy of the shapes folder that a test may damage."""
    import shutil

    dst = tmp_path / "shapes"
    shutil.copytree(shapes_root, dst)
    return dst


TINY_DINO = "dinov2:test-tiny"
TINY_CLIP_ARCH = "alkit-test-tiny-vit"
TINY_CLIP = f"openclip:{TINY_CLIP_ARCH}:random"


@pytest.fixture(scope="session")
def tiny_dino_weights(tmp_path_factory) -> Path:
    """A hub-format checkpoint (518-px grid, mask_token) of a tiny random DINOv2-style ViT."""
    import timm

    torch.manual_seed(0)
    model = timm.create_model(
        "vit_small_patch14_dinov2",
        pretrained=False,
        num_classes=0,
        embed_dim=32,
        depth=2,
        num_heads=2,
    )
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    sd["pos_embed"] = sd["pos_embed"] + 0.5 * torch.randn_like(
        sd["pos_embed"]
    )  # make the grid matter
    sd["mask_token"] = torch.zeros(1, 32)
    path = tmp_path_factory.mktemp("weights") / "dinov2_test_tiny_pretrain.pth"
    torch.save(sd, path)
    return path


@pytest.fixture(scope="session")
def tiny_backbones(tiny_dino_weights):
    """Register the tiny DINOv2 and OpenCLIP test backbones through the real registry code paths."""
    import open_clip

    from alkit.embedding import backbones

    backbones.register_dinov2(
        TINY_DINO,
        "vit_small_patch14_dinov2",
        weights_file=str(tiny_dino_weights),
        timm_kwargs={"embed_dim": 32, "depth": 2, "num_heads": 2},
        overwrite=True,
    )
    open_clip.factory._MODEL_CONFIGS[TINY_CLIP_ARCH] = {
        "embed_dim": 16,
        "vision_cfg": {
            "image_size": 32,
            "layers": 2,
            "width": 32,
            "head_width": 16,
            "patch_size": 8,
        },
        # the real tokenizer's vocabulary (49 408 BPE tokens, shipped with open_clip) so that
        # class texts go through the real `embed` path; 32 tokens hold every default template
        "text_cfg": {
            "context_length": 32,
            "vocab_size": 49408,
            "width": 16,
            "heads": 2,
            "layers": 1,
        },
    }
    return {"dino": TINY_DINO, "clip": TINY_CLIP}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors on a shared 2-core machine run far faster single-threaded; restored afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
