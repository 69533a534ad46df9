import json

import numpy as np
import pandas as pd
import pytest

from alkit import load_results, method_label, run_al
from alkit.errors import CorruptCacheError
from alkit.loop import RESULT_COLUMNS, SCHEMA_VERSION

FAST = {"max_epochs": 60}


def test_run_history_tidy_schema(digits, tmp_path):
    run = run_al(
        digits, strategy="entropy", initial_pool="centroids", iterations=3, seed=1, probe=FAST
    )
    df = run.to_frame()
    assert list(df.columns) == RESULT_COLUMNS
    assert df["iteration"].tolist() == [1, 2, 3]
    assert df["n_labeled"].tolist() == [10, 20, 30]
    assert (df["schema_version"] == SCHEMA_VERSION).all()
    assert df["method"].iloc[0] == "entropy" and df["initial_pool"].iloc[0] == "centroids"
    assert df["dataset"].iloc[0] == "digits" and df["embedding_checksum"].iloc[0] == digits.checksum
    assert df["accuracy"].between(0, 1).all() and (df["fit_epochs"] > 0).all()
    assert (df["n_classes_seen"] <= 10).all() and df["n_classes_seen"].is_monotonic_increasing
    assert json.loads(df["params"].iloc[0]) == {
        "cluster": False,
        "dropout": False,
        "typical": False,
    }
    assert len(run.acquired) == 30 and len(set(run.acquired)) == 30
    path = run.save(tmp_path / "r.parquet")
    back = load_results(tmp_path)
    pd.testing.assert_frame_equal(back, df)
    assert load_results(path).shape == df.shape


def test_deterministic_same_seed(digits):
    a = run_al(digits, strategy="margin", initial_pool="random", iterations=3, seed=7, probe=FAST)
    b = run_al(digits, strategy="margin", initial_pool="random", iterations=3, seed=7, probe=FAST)
    np.testing.assert_array_equal(a.acquired, b.acquired)
    cols = [c for c in RESULT_COLUMNS if not c.endswith("seconds")]
    pd.testing.assert_frame_equal(a.to_frame()[cols], b.to_frame()[cols])


def test_load_results_detects_truncated_file(digits, tmp_path):
    run = run_al(digits, strategy="random", initial_pool="random", iterations=2, seed=1, probe=FAST)
    path = run.save(tmp_path / "a.parquet")
    data = path.read_bytes()
    (tmp_path / "b.parquet").write_bytes(data[: len(data) // 3])
    with pytest.raises(CorruptCacheError, match="b.parquet"):
        load_results(tmp_path)
    with pytest.warns(UserWarning, match="b.parquet"):
        ok = load_results(tmp_path, on_error="skip")
    assert len(ok) == 2


def test_method_labels():
    assert (
        method_label("entropy", {"cluster": False, "dropout": False, "typical": False}) == "entropy"
    )
    assert method_label("entropy", {"cluster": True}) == "entropy+cluster"
    assert method_label("custom_thing", {"M": 5}) == "custom_thing(M=5)"


def test_no_test_split_warns_and_gives_nan(digits):
    from alkit import EmbeddingSet

    emb = EmbeddingSet(
        digits.x_train, digits.y_train, classes=digits.classes, meta={"dataset": "notest"}
    )
    with pytest.warns(UserWarning, match="no test split"):
        run = run_al(emb, strategy="random", initial_pool="random", iterations=2, probe=FAST)
    assert run.history["accuracy"].isna().all()
