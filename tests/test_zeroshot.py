"""Class text embeddings on an EmbeddingSet, the zero-shot classifier, the probe's text warm start,
the text_prior initial pools and run_al's iteration-0 zero-shot row."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import alkit
from alkit import analysis, initial_pools
from alkit.data import EmbeddingSet
from alkit.errors import CorruptCacheError, InvalidInputError
from alkit.probe import PROBE_DEFAULTS, LinearProbe, ProbeConfig, probe_identity
from alkit.zeroshot import text_init, zeroshot_logits, zeroshot_metrics, zeroshot_predict

SPEC = "synthetic:N=600,d=16,C=4,seed=0,noise=1.5"


@pytest.fixture(scope="module")
def text_emb():
    return alkit.load_embeddings(SPEC + ",text_noise=0.5")


def _old_checksum(emb) -> str:
    """The checksum as written before class_text existed (x/y train and test only)."""
    h = hashlib.sha256()
    for key in ("x_train", "y_train", "x_test", "y_test"):
        arr = getattr(emb, key)
        h.update(key.encode())
        if arr is None:
            h.update(b"<none>")
            continue
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).data)
    return h.hexdigest()


# ------------------------------------------------------------------------------ EmbeddingSet
def test_checksum_of_sets_without_text_is_unchanged_and_text_enters_it(text_emb):
    plain = alkit.load_embeddings(SPEC)
    assert not plain.has_text and plain.checksum == _old_checksum(plain)
    np.testing.assert_array_equal(
        plain.x_train, text_emb.x_train
    )  # text_noise adds, changes nothing
    assert text_emb.has_text and text_emb.checksum != plain.checksum
    assert text_emb.class_text.shape == (4, 16) and text_emb.class_text.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(text_emb.class_text, axis=1), 1, atol=1e-6)
    again = plain.with_class_text(text_emb.class_text, {"source": "test"})
    assert again.checksum == text_emb.checksum and again.meta["text"] == {"source": "test"}
    assert "class_text" in repr(again)


@pytest.mark.parametrize("suffix", [".npz", ""])
def test_class_text_saved_loaded_and_verified(tmp_path, text_emb, suffix):
    path = text_emb.save(tmp_path / f"e{suffix}")
    back = EmbeddingSet.load(path)
    np.testing.assert_array_equal(back.class_text, text_emb.class_text)
    assert back.checksum == text_emb.checksum and back.meta["text"]["noise"] == 0.5
    if suffix == ".npz":  # one flipped value of the text embeddings is detected
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["class_text"] = arrays["class_text"].copy()
        arrays["class_text"][0, 0] += 1e-3
        np.savez(path, **arrays)
        with pytest.raises(CorruptCacheError, match="Checksum mismatch"):
            EmbeddingSet.load(path)


def test_old_files_without_text_still_load(tmp_path):
    plain = alkit.load_embeddings(SPEC)
    back = EmbeddingSet.load(plain.save(tmp_path / "old.npz"))
    assert back.class_text is None and back.checksum == _old_checksum(plain)


def test_bad_class_text_names_the_problem(text_emb):
    x, y = text_emb.x_train, text_emb.y_train
    with pytest.raises(InvalidInputError, match="3 rows but there are 4 classes"):
        EmbeddingSet(x, y, class_text=text_emb.class_text[:3])
    with pytest.raises(InvalidInputError, match="8 dimensions but the image features have 16"):
        EmbeddingSet(x, y, class_text=np.ones((4, 8)))
    with pytest.raises(InvalidInputError, match="zero vectors"):
        EmbeddingSet(x, y, class_text=np.zeros((4, 16)))
    with pytest.raises(InvalidInputError, match="NaN"):
        EmbeddingSet(x, y, class_text=np.full((4, 16), np.nan))


def test_synthetic_text_is_the_class_directions_plus_noise():
    exact = alkit.load_embeddings(SPEC + ",text_noise=0")
    noisy = alkit.load_embeddings(SPEC + ",text_noise=2")
    acc = {
        e.meta["text"]["noise"]: zeroshot_metrics(e.x_test, e.y_test, e.class_text)["accuracy"]
        for e in (exact, noisy)
    }
    assert acc[0.0] > 0.8 and acc[0.0] > acc[2.0]
    # the class means of the pool point along the exact text vectors
    means = np.stack([exact.x_train[exact.y_train == c].mean(0) for c in range(4)])
    cos = (means / np.linalg.norm(means, axis=1, keepdims=True)) @ exact.class_text.T
    assert (cos.argmax(1) == np.arange(4)).all()
    with pytest.raises(InvalidInputError):
        alkit.load_embeddings(SPEC + ",text_noise=-1")


# ---------------------------------------------------------------------------- zero-shot classifier
def test_zeroshot_logits_are_scaled_cosines(text_emb):
    x, t = text_emb.x_test * 3.0, text_emb.class_text  # the norm of x does not matter
    z = zeroshot_logits(x, t)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(z, 100 * xn @ t.T, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(zeroshot_predict(x, t), z.argmax(1))
    m = zeroshot_metrics(text_emb.x_test, text_emb.y_test, t)
    assert m["accuracy"] == pytest.approx((z.argmax(1) == text_emb.y_test).mean())
    assert set(m) == {"accuracy", "balanced_accuracy", "macro_f1"}
    with pytest.raises(InvalidInputError):
        zeroshot_logits(x, t[:, :8])


# ---------------------------------------------------------------------------- probe warm start
def test_text_init_makes_the_probe_the_zero_shot_classifier():
    """For features of one norm the mapped layer reproduces the zero-shot logits exactly."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 12)).astype(np.float32)
    x = 2.5 * x / np.linalg.norm(x, axis=1, keepdims=True)
    t = rng.standard_normal((5, 12)).astype(np.float32)
    w, b, mean, var = text_init(t, x, dropout=0.75, bn_eps=1e-5)
    q = 0.25
    xd = x.astype(np.float64)
    np.testing.assert_allclose(mean, xd.mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(var, xd.var(0) + (1 - q) / q * (xd**2).mean(0), rtol=1e-5)
    probe_logits = ((x - mean) / np.sqrt(var + 1e-5)) @ w.T + b  # eval-mode BN, those statistics
    np.testing.assert_allclose(probe_logits, zeroshot_logits(x, t), rtol=1e-4, atol=1e-3)


def test_probe_init_field_default_and_checks(text_emb):
    assert PROBE_DEFAULTS["init"] == "random" and ProbeConfig().init == "random"
    with pytest.raises(InvalidInputError, match="probe init"):
        ProbeConfig(init="zeros")
    with pytest.raises(InvalidInputError, match="class text"):
        LinearProbe(4, init="text", device="cpu")
    # hashes of results written before the field existed do not change
    assert "init" not in probe_identity(PROBE_DEFAULTS)
    assert probe_identity({**PROBE_DEFAULTS, "init": "text"})["init"] == "text"


def test_warm_started_probe_is_the_zero_shot_classifier_before_training(text_emb):
    """One epoch at lr ≈ 0: the evaluation-mode probe predicts as the zero-shot classifier."""
    x, y = text_emb.x_train[:40], text_emb.y_train[:40]
    t = text_emb.class_text
    kw = dict(lr=1e-12, max_epochs=1, bn_momentum=1e-9, device="cpu")
    probe = LinearProbe(4, init="text", class_text=t, **kw).fit(x, y)
    agree = probe.predict(text_emb.x_test) == zeroshot_predict(text_emb.x_test, text_emb.class_text)
    assert agree.mean() > 0.97  # the norm approximation: features of slightly different norms


def test_warm_start_changes_only_the_start(text_emb):
    x, y = text_emb.x_train[:8], text_emb.y_train[:8]
    kw = dict(device="cpu", seed=3, max_epochs=1, class_text=text_emb.class_text)
    default = LinearProbe(4, device="cpu", seed=3, max_epochs=1).fit(x, y)
    with_text_unused = LinearProbe(4, **kw).fit(x, y)  # init="random": class_text is ignored
    np.testing.assert_array_equal(default.weight_.numpy(), with_text_unused.weight_.numpy())
    warm = LinearProbe(4, init="text", **kw).fit(x, y)
    assert not np.allclose(warm.weight_.numpy(), default.weight_.numpy())
    # the same random stream afterwards: the next draws agree
    assert default.generator.initial_seed() == warm.generator.initial_seed()
    np.testing.assert_array_equal(
        default.generator.get_state().numpy(), warm.generator.get_state().numpy()
    )


def test_every_strategy_runs_with_a_warm_started_probe(text_emb):
    # uherding trains a second probe like the first: it must get the class texts too
    for strategy in ("uherding", "dropquery", "badge"):
        run = alkit.run_al(
            text_emb, strategy, iterations=2, seed=0, device="cpu", probe={"init": "text"}
        )
        assert run.history["method"].iloc[0].endswith("+text_init")


def test_warm_start_through_run_al_starts_near_zero_shot(text_emb):
    zs = zeroshot_metrics(text_emb.x_test, text_emb.y_test, text_emb.class_text)["accuracy"]
    cold = alkit.run_al(text_emb, "random", iterations=1, seed=0, device="cpu")
    warm = alkit.run_al(
        text_emb, "random", iterations=1, seed=0, device="cpu", probe={"init": "text"}
    )
    acc = lambda r: float(r.history.loc[r.history.iteration == 1, "accuracy"].iloc[0])  # noqa: E731
    assert acc(warm) > acc(cold) and acc(warm) > zs - 0.1
    assert warm.config["probe"]["init"] == "text"


# ------------------------------------------------------------------------------- text_prior pools
@pytest.mark.parametrize("pool", ["text_prior", "class_guided"])
@pytest.mark.parametrize("budget", [2, 4, 9])
def test_text_prior_pools_exact_budget_unique_deterministic(text_emb, pool, budget):
    x, t = text_emb.x_train, text_emb.class_text
    a = initial_pools.select(pool, x, budget, np.random.default_rng(1), 4, class_text=t)
    b = initial_pools.select(pool, x, budget, np.random.default_rng(1), 4, class_text=t)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert len(np.unique(a.indices)) == budget
    assert a.info["rule"] == ("typical" if pool == "text_prior" else "class_guided")


def test_text_prior_picks_the_most_typical_of_each_pseudo_class(text_emb):
    from alkit._kernels.norms import l2_normalize
    from alkit.strategies.typiclust import typicality

    x, t = text_emb.x_train, text_emb.class_text
    sel = initial_pools.select("text_prior", x, 4, np.random.default_rng(0), 4, class_text=t)
    pseudo = zeroshot_predict(x, t)
    xl = l2_normalize(x)
    expected = []
    for c in range(4):
        m = np.flatnonzero(pseudo == c)
        expected.append(int(m[np.argmin(typicality(xl[m], min(20, len(m) // 2), "cpu"))]))
    assert sorted(sel.indices.tolist()) == sorted(expected)
    assert sel.info["n_fallback"] == 0 and sel.info["n_pseudo_classes"] == 4
    assert sorted(pseudo[sel.indices].tolist()) == [0, 1, 2, 3]  # one per pseudo-class


def test_text_prior_falls_back_to_kmeans_for_classes_without_images(text_emb):
    x = text_emb.x_train
    t = text_emb.class_text.copy()
    t[3] = t[0]  # a copy: ties go to class 0, so the zero-shot classifier gives class 3 nothing
    pseudo = zeroshot_predict(x, t)
    assert (pseudo == 3).sum() == 0
    sel = initial_pools.select("text_prior", x, 4, np.random.default_rng(0), 4, class_text=t)
    assert sel.info["n_fallback"] == 1 and sel.info["n_pseudo_classes"] == 3
    assert len(np.unique(sel.indices)) == 4 and sel.info["n_topped_up"] == 0


def test_text_prior_needs_text(text_emb):
    plain = alkit.load_embeddings(SPEC)
    assert initial_pools.uses_text("text_prior") and not initial_pools.uses_text("centroids")
    with pytest.raises(InvalidInputError, match="class_text"):
        initial_pools.select("text_prior", plain.x_train, 4, np.random.default_rng(0), 4)
    with pytest.raises(InvalidInputError, match="needs class text embeddings"):
        alkit.ActiveLearner(plain, "random", initial_pool="text_prior", device="cpu")
    with pytest.raises(InvalidInputError, match="unknown"):
        initial_pools.select(
            "text_prior",
            plain.x_train,
            4,
            np.random.default_rng(0),
            4,
            class_text=text_emb.class_text,
            typo=1,
        )
    # an array pool with class_text given explicitly
    learner = alkit.ActiveLearner(
        plain.x_train,
        "random",
        initial_pool="text_prior",
        n_classes=4,
        device="cpu",
        class_text=text_emb.class_text,
    )
    assert len(learner.query().indices) == 4


# ----------------------------------------------------------------------- the zero-shot row
def test_run_al_writes_the_zero_shot_row(text_emb, tmp_path):
    run = alkit.run_al(
        text_emb, "margin", initial_pool="text_prior", iterations=3, seed=0, device="cpu"
    )
    h = run.history
    assert h["iteration"].tolist() == [0, 1, 2, 3] and h["n_labeled"].tolist() == [0, 4, 8, 12]
    zs = h.iloc[0]
    expected = zeroshot_metrics(text_emb.x_test, text_emb.y_test, text_emb.class_text)
    assert zs["accuracy"] == pytest.approx(expected["accuracy"])
    assert zs["method"] == "margin" and zs["n_classes_seen"] == 0 and zs["fit_epochs"] == 0
    assert '"phase": "zeroshot"' in zs["info"]
    # a results file holds it and reads back checked
    path = run.save(tmp_path / "r.parquet")
    back = alkit.load_results(path)
    assert (back["iteration"] == 0).sum() == 1
    # without text, or when asked not to: no row
    none = alkit.run_al(text_emb, "margin", iterations=1, seed=0, device="cpu", zeroshot=False)
    assert none.history["iteration"].tolist() == [1]
    plain = alkit.load_embeddings(SPEC)
    assert alkit.run_al(plain, "random", iterations=1, device="cpu").history["iteration"].min() == 1
    with pytest.raises(InvalidInputError, match="zeroshot=True"):
        alkit.run_al(plain, "random", iterations=1, device="cpu", zeroshot=True)


def test_analyses_leave_the_zero_shot_row_out(text_emb):
    runs = [
        alkit.run_al(text_emb, m, iterations=3, seed=s, device="cpu").to_frame()
        for m in ("random", "margin")
        for s in (0, 1)
    ]
    df = pd.concat(runs, ignore_index=True)
    labeled = df[df["iteration"] >= 1]
    pd.testing.assert_frame_equal(analysis.auc(df), analysis.auc(labeled))
    pd.testing.assert_frame_equal(analysis.learning_curves(df), analysis.learning_curves(labeled))
    pd.testing.assert_frame_equal(analysis.delta_half(df), analysis.delta_half(labeled))
    pd.testing.assert_frame_equal(analysis.summary_table(df), analysis.summary_table(labeled))
    wm, wl = analysis.win_matrix(df), analysis.win_matrix(labeled)
    pd.testing.assert_frame_equal(wm.wins, wl.wins)
    zs = analysis.zeroshot(df)
    assert len(zs) == 1 and zs["n_runs"].iloc[0] == 4 and zs["min"].iloc[0] == zs["max"].iloc[0]
    assert analysis.zeroshot(labeled).empty
    with pytest.raises(InvalidInputError, match="only zero-shot rows"):
        analysis.auc(df[df["iteration"] == 0])


def test_sweep_counts_iterations_not_rows(text_emb, tmp_path):
    from alkit.sweep import outputs
    from alkit.sweep.cells import expand_grid

    grid = {
        "datasets": [SPEC + ",text_noise=0.5"],
        "strategies": ["random"],
        "seeds": [0],
        "iterations": 2,
        "device": "cpu",
    }
    (cell,) = expand_grid(grid)
    run = alkit.run_al(text_emb, **{**cell.run_kwargs(), "device": "cpu"})
    outputs._write_result(tmp_path, cell, run.to_frame())
    got = outputs._read_result(tmp_path / f"{cell.hash}.parquet", cell)
    assert got is not None and len(got) == 3
