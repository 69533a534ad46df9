"""Class text embeddings through the real `embed` path (a tiny random OpenCLIP model and open_clip's
own tokenizer), `alkit embed --add-text`, and the end-to-end run: images → alkit embed → run_al
from the text_prior pool → results with the zero-shot row → alkit report's no-labels line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alkit
from alkit.cli import main
from alkit.embedding import embed, extract, text
from alkit.errors import InvalidInputError
from alkit.zeroshot import zeroshot_metrics

from .conftest import CLASSES, TINY_CLIP


def _no_images(*args, **kwargs):
    raise AssertionError("the images were read again")


def test_embed_stores_class_texts_with_provenance(tiny_backbones, shapes_root):
    emb = embed(shapes_root, TINY_CLIP, device="cpu", progress=False)
    assert emb.has_text and emb.class_text.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(emb.class_text, axis=1), 1, atol=1e-5)
    t = emb.meta["text"]
    assert t["n_templates"] == 80 and t["templates"] == text.default_templates()
    assert t["templates"][0] == "a bad photo of a {}." and t["class_names"] == list(CLASSES)
    assert (
        t["names_from"] == "classes" and t["backbone"] == TINY_CLIP and "encode_text" in t["method"]
    )
    back = alkit.load_embeddings(f"shapes__{TINY_CLIP}")
    np.testing.assert_array_equal(back.class_text, emb.class_text)
    assert back.checksum == emb.checksum
    # the random tag's text tower is the same random model every time
    again, _ = text.class_text(TINY_CLIP, list(CLASSES), device="cpu")
    np.testing.assert_array_equal(again, emb.class_text)


def test_encode_matches_open_clip_zero_shot_classifier(tiny_backbones):
    """Our prompt ensemble equals open_clip's own build_zero_shot_classifier."""
    import open_clip
    from open_clip.zero_shot_classifier import build_zero_shot_classifier

    from alkit.embedding import backbones
    from alkit.embedding.openclip import create_clip

    spec = backbones.get_spec(TINY_CLIP)
    model = create_clip(spec, download=False)
    tok = open_clip.get_tokenizer(spec.options["arch"])
    templates = text.default_templates()[:7]
    ours = text.encode_class_texts(model, tok, ["circle", "red square"], templates)
    ref = build_zero_shot_classifier(model, tok, ["circle", "red square"], templates)
    np.testing.assert_allclose(ours, ref.T.numpy(), atol=1e-5)


def test_templates_file_and_class_names(tiny_backbones, shapes_root, tmp_path):
    f = tmp_path / "prompts.txt"
    f.write_text("# my prompts\na photo of a {}.\n\nan icon of a {}\n")
    assert text.read_templates(f) == ["a photo of a {}.", "an icon of a {}"]
    emb = embed(
        shapes_root,
        TINY_CLIP,
        device="cpu",
        progress=False,
        cache_dir=tmp_path / "c",
        text_templates=f,
        class_names=["round", "boxy", "pointy"],
    )
    assert emb.meta["text"]["n_templates"] == 2 and emb.meta["text"]["names_from"] == "given"
    assert emb.meta["text"]["class_names"] == ["round", "boxy", "pointy"]
    (tmp_path / "bad.txt").write_text("a photo of a cat\n")
    with pytest.raises(InvalidInputError, match="exactly once"):
        text.read_templates(tmp_path / "bad.txt")
    with pytest.raises(InvalidInputError, match="no text tower"):
        text.class_text("dinov2:vits14", ["a", "b"])


def test_prompt_names_use_card_descriptions():
    from alkit.cards import load_card

    card = load_card("blood_smear")
    names, source = text.prompt_names(card.classes, "blood_smear")
    assert source == "class_descriptions" and names[3].startswith("immature granulocytes")
    names, source = text.prompt_names(["aquarium_fish", "bed"], "cifar100")
    assert source == "classes" and names == ["aquarium fish", "bed"]


def test_add_text_without_re_embedding(tiny_backbones, shapes_root, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    plain = embed(shapes_root, TINY_CLIP, device="cpu", progress=False, cache_dir=cache, text=False)
    assert not plain.has_text
    monkeypatch.setattr(extract, "_extract_split", _no_images)
    args = ["embed", "--dataset", str(shapes_root), "--backbone", TINY_CLIP, "--device", "cpu"]
    assert main([*args, "--cache-dir", str(cache), "--add-text"]) == 0
    assert "images not re-embedded" in capsys.readouterr().out
    path = extract.cache_path("shapes", TINY_CLIP, cache)
    back = alkit.EmbeddingSet.load(path)
    np.testing.assert_array_equal(back.x_train, plain.x_train)
    assert back.has_text and back.checksum != plain.checksum
    # a path to the file works too, and embed() itself adds missing texts to a cached set
    assert main(["embed", "--dataset", str(path), "--add-text", "--device", "cpu"]) == 0
    plain.save(path)
    emb = embed(shapes_root, TINY_CLIP, device="cpu", progress=False, cache_dir=cache)
    assert emb.has_text and alkit.EmbeddingSet.load(path).has_text
    assert main(["embed", "--dataset", "nowhere", "--backbone", TINY_CLIP, "--add-text"]) == 2


def test_end_to_end_text_prior_zero_shot_row_and_report(tiny_backbones, shapes_root, tmp_path):
    """generated images → alkit embed (random OpenCLIP) → run_al from the text_prior pool →
    results with the zero-shot row → alkit report draws the no-labels line."""
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
    emb = alkit.load_embeddings(f"shapes__{TINY_CLIP}")
    assert emb.has_text
    runs = [
        alkit.run_al(
            emb, strategy=s, initial_pool="text_prior", iterations=3, seed=seed, device="cpu"
        )
        for s in ("random", "margin")
        for seed in (0, 1)
    ]
    df = pd.concat([r.to_frame() for r in runs], ignore_index=True)
    zs = df[df["iteration"] == 0]
    assert len(zs) == 4 and (zs["n_labeled"] == 0).all()
    expected = zeroshot_metrics(emb.x_test, emb.y_test, emb.class_text)["accuracy"]
    assert np.allclose(zs["accuracy"], expected)
    assert (df.loc[df["iteration"] == 1, "initial_pool"] == "text_prior").all()
    res = tmp_path / "results"
    for i, r in enumerate(runs):
        r.save(res / f"run{i}.parquet")
    # a sweep over the same cache: the text_prior pool with the probe warm-started from the texts
    from alkit.sweep import sweep

    grid = {
        "settings": [{"dataset": "shapes", "backbone": TINY_CLIP}],
        "strategies": ["random"],
        "initial_pools": ["text_prior"],
        "seeds": [0, 1],
        "iterations": 3,
        "probe": {"init": "text"},
        "device": "cpu",
    }
    swept = sweep(grid, res / "sweep", scheduler="serial", progress=False, raise_on_failure=True)
    assert set(swept["method"]) == {"random+text_init"} and (swept["iteration"] == 0).sum() == 2
    stamps = {f: f.stat().st_mtime_ns for f in (res / "sweep").glob("*.parquet")}
    again = sweep(grid, res / "sweep", scheduler="serial", progress=False)
    assert len(again) == len(swept)  # the cells with a zero-shot row count as done, not rerun
    assert stamps == {f: f.stat().st_mtime_ns for f in (res / "sweep").glob("*.parquet")}
    out = tmp_path / "figures"
    assert main(["report", str(res), "--out", str(out), "--correction", "holm"]) == 0
    svg = (out / "al_curves.svg").read_text()
    assert 'id="zeroshot"' in svg and "zero-shot" in svg  # the line and its label
    zs_table = pd.read_csv(out / "zeroshot.csv")
    assert zs_table["zeroshot"].iloc[0] == pytest.approx(expected)
    index = (out / "index.md").read_text()
    assert "**No labels.**" in index and "**Seeds.**" in index  # margin vs random, paired
    assert (out / "bootstrap_auc.csv").exists() and (out / "bootstrap_final.csv").exists()
    # the curve figure itself: a horizontal line at the zero-shot accuracy in every panel
    fig = alkit.plots.al_curves(df)
    lines = [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == "zeroshot"]
    assert len(lines) == 1 and np.allclose(lines[0].get_ydata(), 100 * expected)
