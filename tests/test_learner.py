import numpy as np
import pandas as pd
import pytest

import alkit
from alkit import ActiveLearner, ExportOracle, SimulatedOracle, run_al
from alkit.errors import BudgetError, InvalidInputError, UnknownNameError

FAST = {"max_epochs": 60}


@pytest.mark.parametrize("strategy", ["entropy", "margin", "random"])
def test_ask_tell_loop_equals_run_al(digits, strategy):
    run = run_al(
        digits, strategy=strategy, initial_pool="centroids", iterations=4, seed=10, probe=FAST
    )
    learner = ActiveLearner(
        digits, strategy=strategy, initial_pool="centroids", seed=10, probe=FAST
    )
    oracle = SimulatedOracle(digits.y_train)
    accs = []
    for _ in range(4):
        sel = learner.query()
        learner.teach(sel.indices, oracle.label(sel.indices))
        accs.append(learner.evaluate(digits.x_test, digits.y_test)["accuracy"])
    np.testing.assert_array_equal(np.asarray(learner.acquired), run.acquired)
    np.testing.assert_allclose(accs, run.history["accuracy"].to_numpy())


def test_same_seed_same_initial_pool_across_strategies(digits):
    a = run_al(digits, strategy="entropy", initial_pool="random", iterations=2, seed=5, probe=FAST)
    b = run_al(digits, strategy="margin", initial_pool="random", iterations=2, seed=5, probe=FAST)
    np.testing.assert_array_equal(a.acquired[:10], b.acquired[:10])
    assert a.history["accuracy"].iloc[0] == b.history["accuracy"].iloc[0]


def test_export_oracle_round_trip(tmp_path, digits):
    oracle = ExportOracle(
        tmp_path / "to_label.csv",
        digits.classes,
        ids=[f"img_{i}.png" for i in range(len(digits.x_train))],
    )
    idx = np.array([5, 2, 9])
    path = oracle.export(idx)
    df = pd.read_csv(path)
    assert df["index"].tolist() == [5, 2, 9] and df["id"].tolist() == [
        "img_5.png",
        "img_2.png",
        "img_9.png",
    ]
    df["label"] = [digits.classes[digits.y_train[i]] for i in idx]  # a human fills names
    df.loc[1, "label"] = str(digits.y_train[2])  # or indices
    df.to_csv(path, index=False)
    got_idx, got_lab = oracle.read()
    assert got_idx.tolist() == [5, 2, 9]
    assert got_lab.tolist() == digits.y_train[idx].tolist()
    df.loc[0, "label"] = "not_a_class"
    df.to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match="row 2"):
        oracle.read()


def test_practitioner_export(tmp_path, digits):
    learner = ActiveLearner(digits.x_train, strategy="entropy", n_classes=10, probe=FAST, seed=0)
    first = learner.query()
    assert first.info["phase"] == "initial_pool" and len(first.indices) == 10
    learner.teach(first.indices, digits.y_train[first.indices])
    paths = learner.export(tmp_path / "out", n=7)
    to_label = pd.read_csv(paths["to_label"])
    assert len(to_label) == 7 and not set(to_label["index"]) & set(first.indices)
    preds = pd.read_csv(paths["predictions"])
    assert len(preds) == len(digits.x_train) and preds["labeled"].sum() == 10
    with np.load(paths["probe"]) as z:
        assert z["weight"].shape == (10, 64)


def test_learner_bad_input(digits):
    with pytest.raises(UnknownNameError, match="available"):
        ActiveLearner(digits, strategy="nope")
    with pytest.raises(UnknownNameError, match="initial pool"):
        ActiveLearner(digits, strategy="entropy", initial_pool="nope")
    with pytest.raises(InvalidInputError, match="n_classes"):
        ActiveLearner(np.zeros((5, 2)), strategy="entropy")
    with pytest.raises(BudgetError):
        ActiveLearner(digits, strategy="entropy", budget=0)
    with pytest.raises(BudgetError, match="exceeds"):
        ActiveLearner(digits, strategy="entropy", budget=10**6)
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        ActiveLearner(digits, strategy="entropy", bogus=3)
    with pytest.raises(InvalidInputError, match="probe setting"):
        ActiveLearner(digits, strategy="entropy", probe={"lrate": 1})
    learner = ActiveLearner(digits, strategy="entropy")
    with pytest.raises(BudgetError, match="Nothing is labeled"):
        learner.fit()
    with pytest.raises(InvalidInputError):
        learner.teach([0], [99])


def test_simulated_oracle_refuses_unknown_labels():
    with pytest.raises(InvalidInputError, match="no label"):
        SimulatedOracle(np.array([0, -1])).label([1])


def test_run_al_budget_exhaustion_message(digits):
    with pytest.raises(BudgetError, match="lower iterations"):
        run_al(digits, strategy="random", iterations=200, budget=10)


def test_alkit_public_api():
    for name in (
        "EmbeddingSet",
        "load_embeddings",
        "ActiveLearner",
        "run_al",
        "load_results",
        "LinearProbe",
        "SimulatedOracle",
        "ExportOracle",
        "Selection",
        "Pool",
    ):
        assert hasattr(alkit, name)


def test_own_initial_pool_gets_the_strategys_parameters(small_synthetic):
    """ProbCover's / TypiClust's own initial pool is built with the strategy's parameters, and the
    first query reuses the initial pool's graph (and δ), as the reference does."""
    y = small_synthetic.y_train
    learner = ActiveLearner(
        small_synthetic, "probcover", delta_rule="reference", seed=3, probe={"max_epochs": 5}
    )
    first = learner.query()
    assert first.info["delta_rule"] == "reference"
    learner.teach(first.indices, y[first.indices])
    second = learner.query()
    assert second.info["graph_reused"] is True
    assert second.info["delta"] == first.info["delta"]

    fixed = ActiveLearner(small_synthetic, "probcover", delta=0.7, seed=3)
    assert fixed.query().info["delta"] == 0.7

    tc = ActiveLearner(small_synthetic, "typiclust", max_clusters=3, seed=3)
    assert tc.query().info["n_clusters"] == 3  # min(budget 8, max_clusters 3)
    # another strategy's initial pool gets none of them
    other = ActiveLearner(small_synthetic, "entropy", initial_pool="probcover", cluster=True)
    assert other._initial_pool_params() == {}
