"""End-to-end extraction: tiny random backbones on a generated ImageFolder, cache, resume, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import alkit
from alkit.embedding import embed, extract
from alkit.errors import InvalidInputError, MissingResourceError

from .conftest import CLASSES, TINY_CLIP, TINY_DINO


def _folder_labels(ids):
    return np.array([CLASSES.index(i.split("/")[1]) for i in ids])


def test_dinov2_end_to_end_and_load_embeddings(tiny_backbones, shapes_root):
    emb = embed(shapes_root, TINY_DINO, device="cpu", batch_size=32, chunk_size=64, progress=False)
    assert emb.x_train.shape == (210, 32) and emb.x_train.dtype == np.float32
    assert emb.x_test.shape == (60, 32) and emb.y_train.dtype == np.int64
    assert emb.classes == list(CLASSES)
    assert np.array_equal(emb.y_train, _folder_labels(emb.meta["ids"]))
    assert np.array_equal(emb.y_test, _folder_labels(emb.meta["test_ids"]))
    assert np.bincount(emb.y_train).tolist() == [70, 70, 70]
    for key in (
        "dataset",
        "backbone",
        "preprocessing_hash",
        "model",
        "created",
        "n_images",
        "license",
    ):
        assert key in emb.meta
    assert emb.meta["n_images"] == {"train": 210, "test": 60} and emb.meta["dataset"] == "shapes"
    back = alkit.load_embeddings(f"shapes__{TINY_DINO}")
    np.testing.assert_array_equal(back.x_train, emb.x_train)
    assert back.meta["ids"] == emb.meta["ids"] and back.backbone == TINY_DINO
    assert extract.cache_path("shapes", TINY_DINO).name == "shapes__dinov2-test-tiny.npz"
    # features carry class information: nearest class mean on train means beats chance on test
    means = np.stack([emb.x_train[emb.y_train == k].mean(0) for k in range(3)])
    pred = np.argmin(((emb.x_test[:, None] - means[None]) ** 2).sum(-1), 1)
    assert (pred == emb.y_test).mean() > 0.5


def test_openclip_end_to_end(tiny_backbones, shapes_root):
    emb = embed(shapes_root, TINY_CLIP, device="cpu", batch_size=64, progress=False)
    assert emb.x_train.shape == (210, 16) and emb.x_test.shape == (60, 16)
    assert emb.meta["backbone"] == TINY_CLIP and np.isfinite(emb.x_train).all()


class CountingNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 8))
        self.calls = 0
        self.images = 0

    def forward(self, x):
        self.calls += 1
        self.images += len(x)
        return self.net(x)


def _small_transform():
    from torchvision import transforms as T

    return T.Compose([T.Resize(16), T.ToTensor()])


def test_cache_hit_skips_the_model(shapes_root):
    net = CountingNet()
    first = embed(shapes_root, (net, _small_transform()), backbone_name="counting", progress=False)
    assert net.images == 270
    net.calls = 0
    second = embed(shapes_root, (net, _small_transform()), backbone_name="counting", progress=False)
    assert net.calls == 0 and second.checksum == first.checksum
    embed(
        shapes_root, (net, _small_transform()), backbone_name="counting", progress=False, force=True
    )
    assert net.calls > 0


def test_resume_after_interruption_matches_uninterrupted(shapes_root, tmp_path, monkeypatch):
    net = CountingNet()
    full = embed(
        shapes_root,
        (net, _small_transform()),
        backbone_name="c",
        cache_dir=tmp_path / "a",
        chunk_size=50,
        batch_size=20,
        progress=False,
    )
    real_save, saved = extract._save_chunk, []

    def crash_after_two(path, *a):
        if len(saved) == 2:
            raise KeyboardInterrupt("simulated kill")
        real_save(path, *a)
        saved.append(path)

    monkeypatch.setattr(extract, "_save_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        embed(
            shapes_root,
            (net, _small_transform()),
            backbone_name="c",
            cache_dir=tmp_path / "b",
            chunk_size=50,
            batch_size=20,
            progress=False,
        )
    assert len(list((tmp_path / "b" / ".partial").rglob("chunk_*.npz"))) == 2
    assert not list((tmp_path / "b").glob("*.npz"))
    monkeypatch.setattr(extract, "_save_chunk", real_save)
    net.images = 0
    resumed = embed(
        shapes_root,
        (net, _small_transform()),
        backbone_name="c",
        cache_dir=tmp_path / "b",
        chunk_size=50,
        batch_size=20,
        progress=False,
    )
    assert net.images == 270 - 100  # the two finished chunks were not recomputed
    np.testing.assert_array_equal(resumed.x_train, full.x_train)
    np.testing.assert_array_equal(resumed.y_train, full.y_train)
    np.testing.assert_array_equal(resumed.x_test, full.x_test)
    assert resumed.meta["ids"] == full.meta["ids"]
    assert not (tmp_path / "b" / ".partial").exists()


def test_corrupt_image_fail_or_skip(shapes_copy, tmp_path):
    bad = shapes_copy / "train" / "square" / "square_005.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    net = CountingNet()
    with pytest.raises(InvalidInputError, match="square_005.png"):
        embed(shapes_copy, (net, _small_transform()), backbone_name="c", progress=False)
    with pytest.warns(UserWarning, match="square_005.png"):
        emb = embed(
            shapes_copy,
            (net, _small_transform()),
            backbone_name="c",
            progress=False,
            on_corrupt="skip",
            cache_dir=tmp_path / "c",
        )
    assert emb.x_train.shape[0] == 209 and "train/square/square_005.png" not in emb.meta["ids"]
    assert np.array_equal(emb.y_train, _folder_labels(emb.meta["ids"]))  # never mislabels
    assert emb.meta["n_skipped"] == 1 and emb.meta["skipped"][0]["id"].endswith("square_005.png")


def test_missing_data_and_bad_arguments(tiny_backbones, shapes_root):
    with pytest.raises(MissingResourceError, match="cifar100"):
        embed("cifar100", TINY_DINO, progress=False)
    with pytest.raises(InvalidInputError, match="on_corrupt"):
        embed(shapes_root, TINY_DINO, on_corrupt="ignore")
    with pytest.raises(InvalidInputError, match="backbone must be"):
        embed(shapes_root, 42)


def test_cli_embed_and_datasets(tiny_backbones, shapes_root, capsys):
    from alkit.cli import main

    assert (
        main(
            [
                "embed",
                "--dataset",
                str(shapes_root),
                "--backbone",
                TINY_CLIP,
                "--device",
                "cpu",
                "--no-progress",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "shapes__openclip-alkit-test-tiny-vit-random.npz" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "cifar100" in out and "places365" in out and f"shapes__{TINY_CLIP}" in out
    assert main(["embed", "--dataset", "cifar100", "--backbone", TINY_DINO, "--no-progress"]) == 2
    assert "not at" in capsys.readouterr().err
