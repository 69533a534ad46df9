import numpy as np
import pytest

import alkit
from alkit import EmbeddingSet, load_embeddings
from alkit.errors import CorruptCacheError, InvalidInputError, UnknownNameError


def small_set(with_test=True):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 5)).astype(np.float32)
    y = rng.integers(-1, 3, 30)
    kw = {}
    if with_test:
        kw = dict(x_test=rng.standard_normal((7, 5)), y_test=rng.integers(0, 3, 7))
    return EmbeddingSet(
        x, y, classes=["a", "b", "c"], meta={"dataset": "toy", "backbone": "none"}, **kw
    )


@pytest.mark.parametrize("suffix", [".npz", ""])
@pytest.mark.parametrize("with_test", [True, False])
def test_save_load_bit_exact(tmp_path, suffix, with_test):
    emb = small_set(with_test)
    path = emb.save(tmp_path / f"toy{suffix}")
    back = EmbeddingSet.load(path)
    np.testing.assert_array_equal(back.x_train, emb.x_train)
    assert back.x_train.dtype == np.float32 and back.y_train.dtype == np.int64
    np.testing.assert_array_equal(back.y_train, emb.y_train)
    if with_test:
        np.testing.assert_array_equal(back.x_test, emb.x_test)
    else:
        assert back.x_test is None and not back.has_test
    assert back.classes == ["a", "b", "c"] and back.checksum == emb.checksum
    assert back.meta["dataset"] == "toy"
    # overwriting an existing save is atomic and leaves no temporary files behind
    emb.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_truncated_and_tampered_files(tmp_path):
    emb = small_set()
    path = emb.save(tmp_path / "toy.npz")
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptCacheError, match="truncated"):
        EmbeddingSet.load(tmp_path / "trunc.npz")
    # tamper with an array but keep the stored checksum
    import json

    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x_train"] = arrays["x_train"].copy()
    arrays["x_train"][0, 0] += 1
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(CorruptCacheError, match="Checksum mismatch"):
        EmbeddingSet.load(tmp_path / "tampered.npz")
    d = emb.save(tmp_path / "dirform")
    meta = json.loads((d / "meta.json").read_text())
    meta["checksum"] = "0" * 64
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptCacheError, match="Checksum"):
        EmbeddingSet.load(d)


def test_bad_inputs_name_the_problem():
    x = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        EmbeddingSet(np.array([[np.inf, 0.0], [0.0, 1.0]]), [0, 1])
    with pytest.raises(InvalidInputError, match="4 rows"):
        EmbeddingSet(x, [0, 1])
    with pytest.raises(InvalidInputError, match="only 2 classes"):
        EmbeddingSet(x, [0, 1, 2, 0], classes=["a", "b"])
    with pytest.raises(InvalidInputError, match="integer"):
        EmbeddingSet(x, [0.5, 1, 0, 1])
    with pytest.raises(InvalidInputError, match="2-D"):
        EmbeddingSet(np.zeros(4), [0, 1, 0, 1])
    with pytest.raises(InvalidInputError, match="below -1"):
        EmbeddingSet(x, [0, -2, 0, 1])
    with pytest.raises(InvalidInputError, match="x_test has 2 features"):
        EmbeddingSet(x, [0, 1, 0, 1], np.zeros((2, 2)), [0, 1])


def test_unknown_name_lists_what_exists():
    with pytest.raises(UnknownNameError, match="digits"):
        load_embeddings("no_such_set")


def test_digits_builtin():
    emb = load_embeddings("digits")
    assert emb.n_classes == 10 and emb.x_train.shape[1] == 64
    assert len(emb.x_train) + len(emb.x_test) == 1797
    assert "raw" in emb.meta["features"]
    # stratified: every class in both splits, proportions close
    assert set(np.unique(emb.y_test)) == set(range(10))


def test_synthetic_deterministic_structured_and_named():
    name = "synthetic:N=3000,d=16,C=4,seed=1"
    a, b = load_embeddings(name), load_embeddings(name)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.dataset == name and a.x_train.shape == (3000, 16) and a.n_classes == 4
    np.testing.assert_allclose(np.linalg.norm(a.x_train, axis=1), 1.0, atol=1e-5)
    # classes are separable: nearest class mean classifies most test points correctly
    means = np.stack([a.x_train[a.y_train == c].mean(0) for c in range(4)])
    acc = ((a.x_test @ means.T).argmax(1) == a.y_test).mean()
    assert acc > 0.8
    hard = load_embeddings("synthetic:N=3000,d=16,C=4,seed=1,noise=4")
    means_h = np.stack([hard.x_train[hard.y_train == c].mean(0) for c in range(4)])
    assert ((hard.x_test @ means_h.T).argmax(1) == hard.y_test).mean() < acc


def test_synthetic_bad_spec():
    with pytest.raises(InvalidInputError, match="Unknown synthetic parameter"):
        load_embeddings("synthetic:N=10,foo=3")
    with pytest.raises(InvalidInputError, match="KEY=VALUE"):
        load_embeddings("synthetic:N")


def test_cached_key_and_path(tmp_path, monkeypatch):
    emb = small_set()
    emb.meta.update(dataset="toy", backbone="dinov2:vits14")
    root = alkit.sources.embeddings_dir()
    emb.save(root / "toy__dinov2-vits14.npz")
    got = load_embeddings("toy__dinov2:vits14")
    assert got.checksum == emb.checksum
    assert "toy__dinov2:vits14" in alkit.sources.cached_keys()
    np.save(tmp_path / "feats.npy", emb.x_train)
    unl = load_embeddings(tmp_path / "feats.npy")
    assert (unl.y_train == -1).all()
