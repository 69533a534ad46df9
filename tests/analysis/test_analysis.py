"""Analyses on crafted tidy tables, checked against hand-computed values."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alkit import analysis
from alkit.errors import InvalidInputError
from alkit.loop import RESULT_COLUMNS


def row(
    dataset="d1",
    backbone="b1",
    method="random",
    strategy=None,
    initial_pool="random",
    propagate=False,
    seed=0,
    iteration=1,
    n_labeled=None,
    accuracy=0.5,
    budget=10,
):
    return {
        "schema_version": 1,
        "dataset": dataset,
        "backbone": backbone,
        "embedding_checksum": "0",
        "method": method,
        "strategy": strategy or method.split("+")[0].split("(")[0],
        "params": json.dumps({}),
        "initial_pool": initial_pool,
        "propagate": propagate,
        "budget": budget,
        "initial_budget": budget,
        "seed": seed,
        "iteration": iteration,
        "n_labeled": n_labeled if n_labeled is not None else budget * iteration,
        "n_classes_seen": 10,
        "accuracy": accuracy,
        "balanced_accuracy": accuracy,
        "macro_f1": accuracy,
        "n_topped_up": 0,
        "query_seconds": 0.0,
        "fit_seconds": 0.0,
        "fit_epochs": 1,
        "info": "{}",
    }


def table(
    acc_fn,
    methods=("random", "entropy", "margin"),
    settings=(("d1", "b1"), ("d2", "b1"), ("d3", "b2")),
    seeds=range(5),
    iterations=range(1, 11),
    **kw,
) -> pd.DataFrame:
    """acc_fn(method, setting, seed, iteration) -> accuracy."""
    rows = [
        row(
            dataset=ds,
            backbone=bb,
            method=m,
            seed=s,
            iteration=i,
            accuracy=acc_fn(m, (ds, bb), s, i),
            **kw,
        )
        for ds, bb in settings
        for m in methods
        for s in seeds
        for i in iterations
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def base_acc(setting, seed, it):
    # a shared per-(setting, seed, iteration) level: what every strategy sees from the same seed
    h = zlib.crc32(repr((setting, seed, it)).encode()) % 1000 / 1000
    return 0.3 + 0.04 * it + 0.05 * h


# ---------------------------------------------------------------------------- win matrix
def test_clear_winner_wins_every_setting_and_loser_nothing():
    rng = np.random.default_rng(0)
    noise = {}

    def acc(m, st, s, i):
        eff = {"entropy": 0.10, "margin": 0.0, "random": -0.10}[m]
        noise[(m, st, s, i)] = rng.normal(0, 0.005)
        return base_acc(st, s, i) + (eff if i > 1 else 0) + noise[(m, st, s, i)]

    res = analysis.win_matrix(table(acc))
    w = res.wins
    assert res.methods == ["entropy", "margin", "random"]
    assert w.loc["entropy", "margin"] == pytest.approx(3) and w.loc[
        "entropy", "random"
    ] == pytest.approx(3)
    assert w.loc["margin", "random"] == pytest.approx(3)
    assert w.loc["random"].sum() == 0 and w.loc["margin", "entropy"] == 0
    assert (res.n_settings.to_numpy() == 3 * (1 - np.eye(3))).all()
    assert res.contributors[("entropy", "random")] == [("d1", "b1"), ("d2", "b1"), ("d3", "b2")]
    assert ("random", "entropy") not in res.contributors
    assert res.totals["entropy"] == pytest.approx(6)
    assert res.missing.empty
    # iterations ≥ 2 only: 9 per pair and setting, each weighing 1/9
    d = res.details
    assert d["iteration"].min() == 2 and np.allclose(d["weight"], 1 / 9)


def test_identical_strategies_give_zero_everywhere():
    res = analysis.win_matrix(table(lambda m, st, s, i: base_acc(st, s, i)))
    assert (res.wins.to_numpy() == 0).all()
    assert res.contributors == {}
    assert (res.details["t"] == 0).all()


def test_constant_difference_uses_zero_variance_rule():
    # d = 0.01 in every seed up to float rounding: zero variance, so r beats c because d > 0
    res = analysis.win_matrix(
        table(
            lambda m, st, s, i: base_acc(st, s, i) + (0.01 if m == "entropy" else 0.0),
            methods=("random", "entropy"),
        )
    )
    assert res.wins.loc["entropy", "random"] == pytest.approx(3)
    assert res.wins.loc["random", "entropy"] == 0
    assert np.isinf(res.details.query("winner == 'entropy'")["t"]).all()


def test_noise_only_differences_give_no_significant_wins():
    rng = np.random.default_rng(12345)
    res = analysis.win_matrix(
        table(
            lambda m, st, s, i: base_acc(st, s, i) + rng.normal(0, 0.01),
            methods=("random", "entropy", "margin", "least_confidence"),
        )
    )
    per_setting = res.details.groupby(["dataset", "backbone", "winner", "loser"])["win"].mean()
    # no pair wins a setting (a few stray iterations: the test's false-positive rate is 2.5 %)
    assert per_setting.max() < 0.5
    assert res.details["win"].mean() < 0.06
    assert res.wins.to_numpy().max() < 0.5


def test_t_statistic_and_critical_value_by_hand():
    # one setting, iteration 2 only: d = acc(entropy) − acc(random)
    rows = []
    for s, (a, b) in enumerate([(0.60, 0.50), (0.62, 0.50), (0.61, 0.50)]):
        rows += [
            row(method="entropy", seed=s, iteration=2, accuracy=a),
            row(method="random", seed=s, iteration=2, accuracy=b),
        ]
    res = analysis.win_matrix(pd.DataFrame(rows))
    det = res.details.set_index(["winner", "loser"])
    d = np.array([0.10, 0.12, 0.11])
    t = d.mean() / (d.std(ddof=1) / np.sqrt(3))
    assert det.loc[("entropy", "random"), "t"] == pytest.approx(t)
    assert det.loc[("entropy", "random"), "t_critical"] == pytest.approx(stats.t.ppf(0.975, 2))
    assert bool(det.loc[("entropy", "random"), "win"]) and res.wins.loc["entropy", "random"] == 1
    # a spread-out difference with the same mean is not significant at n = 2
    rows = []
    for s, (a, b) in enumerate([(0.55, 0.50), (0.70, 0.50)]):
        rows += [
            row(method="entropy", seed=s, iteration=2, accuracy=a),
            row(method="random", seed=s, iteration=2, accuracy=b),
        ]
    res = analysis.win_matrix(pd.DataFrame(rows))
    assert res.details.set_index(["winner", "loser"]).loc[
        ("entropy", "random"), "t"
    ] == pytest.approx(
        0.125 / (np.std([0.05, 0.20], ddof=1) / np.sqrt(2))
    )  # 1.67 < t_{0.975,1} = 12.7
    assert res.wins.to_numpy().sum() == 0


def test_partial_wins_add_fractions_of_a_setting():
    # entropy is better only at iterations 2..5 of 2..10: the cell gets 4/9 per setting
    def acc(m, st, s, i):
        # seed noise with zero mean across seeds: no iteration outside 2..5 is a win either way
        return base_acc(st, s, i) + ((0.05 if 2 <= i <= 5 else 0.0) + 0.001 * (s - 2)) * (
            m == "entropy"
        )

    res = analysis.win_matrix(table(acc, methods=("random", "entropy")))
    assert res.wins.loc["entropy", "random"] == pytest.approx(3 * 4 / 9)
    assert res.wins.loc["random", "entropy"] == 0


def test_missing_strategy_is_handled_and_flagged():
    rng = np.random.default_rng(1)
    df = table(
        lambda m, st, s, i: (
            base_acc(st, s, i)
            + {"entropy": 0.1, "margin": 0.05, "random": 0}[m] * (i > 1)
            + rng.normal(0, 0.003)
        )
    )
    df = df[~((df["method"] == "margin") & (df["dataset"] == "d3"))]
    with pytest.warns(UserWarning, match="margin missing on d3/b2"):
        res = analysis.win_matrix(df)
    assert res.missing.to_dict("records") == [
        {"dataset": "d3", "backbone": "b2", "method": "margin"}
    ]
    assert (
        res.n_settings.loc["margin", "random"] == 2 and res.n_settings.loc["entropy", "random"] == 3
    )
    assert res.wins.loc["margin", "random"] == pytest.approx(2)
    assert res.wins.loc["entropy", "random"] == pytest.approx(3)
    assert res.wins.loc["entropy", "margin"] == pytest.approx(2)


def test_default_initial_pool_filters_rows():
    df = pd.concat(
        [
            table(
                lambda m, st, s, i: base_acc(st, s, i) + 0.1 * (m == "entropy") * (i > 1),
                methods=("random", "entropy"),
                settings=(("d1", "b1"),),
            ),
            table(
                lambda m, st, s, i: base_acc(st, s, i) - 0.2 * (m == "entropy") * (i > 1),
                methods=("entropy",),
                settings=(("d1", "b1"),),
                initial_pool="centroids",
            ),
        ],
        ignore_index=True,
    )
    res = analysis.win_matrix(df)  # entropy's paper default is the random pool
    assert res.wins.loc["entropy", "random"] == pytest.approx(1)
    with pytest.raises(InvalidInputError, match="at least two methods"):
        analysis.win_matrix(df, initial_pool="centroids")


def test_unregistered_strategy_uses_its_only_pool():
    df = table(
        lambda m, st, s, i: base_acc(st, s, i) + 0.1 * (m == "dropquery") * (i > 1),
        methods=("random", "dropquery"),
        settings=(("d1", "b1"),),
    )
    df.loc[df["method"] == "dropquery", "initial_pool"] = "centroids"
    res = analysis.win_matrix(df)
    assert res.wins.loc["dropquery", "random"] == pytest.approx(1)


# ---------------------------------------------------------------------------- curves, deltas, auc
def test_learning_curves_mean_std_ci():
    accs = {0: [0.5, 0.6], 1: [0.6, 0.7], 2: [0.7, 0.9]}
    df = pd.DataFrame(
        [row(seed=s, iteration=i + 1, accuracy=a[i]) for s, a in accs.items() for i in range(2)]
    )
    lc = analysis.learning_curves(df).set_index("iteration")
    a2 = np.array([0.6, 0.7, 0.9])
    assert lc.loc[2, "mean"] == pytest.approx(a2.mean())
    assert lc.loc[2, "std"] == pytest.approx(a2.std(ddof=1))
    half = stats.t.ppf(0.975, 2) * a2.std(ddof=1) / np.sqrt(3)
    assert lc.loc[2, "ci_low"] == pytest.approx(a2.mean() - half)
    assert lc.loc[2, "ci_high"] == pytest.approx(a2.mean() + half)
    assert lc.loc[2, "n_seeds"] == 3 and lc.loc[2, "n_labeled"] == 20


def test_delta_half_by_hand():
    curve = {0: [0.10, 0.20, 0.30, 0.50, 0.55, 0.60], 1: [0.20, 0.20, 0.40, 0.60, 0.60, 0.70]}
    df = pd.DataFrame(
        [row(seed=s, iteration=i + 1, accuracy=a[i]) for s, a in curve.items() for i in range(6)]
    )
    per = analysis.delta_half(df, per_run=True)
    got = {(r.seed, r.iteration): r.delta for r in per.itertuples()}
    assert got == pytest.approx(
        {(0, 2): 0.10, (0, 4): 0.30, (0, 6): 0.30, (1, 2): 0.00, (1, 4): 0.40, (1, 6): 0.30}
    )
    agg = analysis.delta_half(df).set_index("iteration")
    assert list(agg.index) == [2, 4, 6]
    assert agg.loc[4, "mean"] == pytest.approx(0.35) and agg.loc[2, "std"] == pytest.approx(
        np.std([0.1, 0.0], ddof=1)
    )
    assert agg.loc[6, "n_labeled"] == 60


def test_delta_ssl_by_hand():
    with_lp = [0.60, 0.70, 0.80]
    without = [0.50, 0.50, 0.60]
    rows = [row(seed=s, iteration=1, propagate=True, accuracy=a) for s, a in enumerate(with_lp)]
    rows += [row(seed=s, iteration=1, propagate=False, accuracy=a) for s, a in enumerate(without)]
    rows += [row(seed=9, iteration=1, propagate=True, accuracy=0.99)]  # no partner: ignored
    res = analysis.delta_ssl(pd.DataFrame(rows))
    assert len(res) == 1
    r = res.iloc[0]
    d = np.array(with_lp) - np.array(without)
    ref = stats.ttest_rel(with_lp, without)
    assert r["n_pairs"] == 3 and r["diff"] == pytest.approx(d.mean())
    assert r["t"] == pytest.approx(ref.statistic) and r["p"] == pytest.approx(ref.pvalue)
    assert r["with_lp"] == pytest.approx(0.7) and r["without_lp"] == pytest.approx(np.mean(without))
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert r["ci_low"] == pytest.approx(d.mean() - half)
    assert bool(r["significant"]) == (ref.pvalue < 0.05)
    # pooling over settings: by=[]
    rows2 = [dict(x, dataset="d2") for x in rows]
    pooled = analysis.delta_ssl(pd.DataFrame(rows + rows2), by=[])
    assert len(pooled) == 1 and pooled.iloc[0]["n_pairs"] == 6


def test_delta_ssl_without_pairs_is_empty():
    df = pd.DataFrame([row(seed=s, iteration=1) for s in range(3)])
    assert analysis.delta_ssl(df).empty


def test_auc_by_hand():
    df = pd.DataFrame(
        [
            row(seed=0, iteration=i + 1, n_labeled=n, accuracy=a)
            for i, (n, a) in enumerate([(10, 0.5), (20, 0.6), (40, 0.9)])
        ]
    )
    res = analysis.auc(df)
    assert res["auc"].iloc[0] == pytest.approx((0.55 * 10 + 0.75 * 20) / 30)
    assert res["n_iterations"].iloc[0] == 3
    one = analysis.auc(df[df["iteration"] == 1])
    assert one["auc"].iloc[0] == pytest.approx(0.5)


def test_summary_table_marks_better_and_worse_than_random():
    rng = np.random.default_rng(3)
    df = table(
        lambda m, st, s, i: (
            base_acc(st, s, i)
            + {"entropy": 0.05, "margin": -0.05, "random": 0}[m] * (i > 1)
            + rng.normal(0, 0.002)
        ),
        settings=(("d1", "b1"),),
    )
    wide = analysis.summary_table(df, iterations=[1, 10])
    assert list(wide.columns) == ["iteration 1", "iteration 10"]
    cell = wide.xs("entropy", level="method")["iteration 10"].iloc[0]
    assert cell.endswith("↑") and " ± " in cell
    assert wide.xs("margin", level="method")["iteration 10"].iloc[0].endswith("↓")
    assert not wide.xs("random", level="method")["iteration 10"].iloc[0].endswith(("↑", "↓"))
    long = analysis.summary_table(df, iterations=[10], long=True).set_index("method")
    sub = df[(df["iteration"] == 10)]
    e = sub[sub["method"] == "entropy"].sort_values("seed")["accuracy"].to_numpy()
    r = sub[sub["method"] == "random"].sort_values("seed")["accuracy"].to_numpy()
    assert long.loc["entropy", "p_vs_baseline"] == pytest.approx(stats.ttest_rel(e, r).pvalue)
    assert (
        wide.xs("entropy", level="method")["iteration 10"]
        .iloc[0]
        .startswith(f"{100 * e.mean():.1f} ± {100 * e.std(ddof=1):.1f}")
    )
    with pytest.raises(InvalidInputError, match="not in the results"):
        analysis.summary_table(df, iterations=[50])
    default = analysis.summary_table(df)
    assert list(default.columns) == [
        "iteration 1",
        "iteration 2",
        "iteration 4",
        "iteration 8",
        "iteration 10",
    ]


def test_bad_tables_raise_clear_errors():
    df = pd.DataFrame([row(seed=0, iteration=1)])
    with pytest.raises(InvalidInputError, match="lacks column"):
        analysis.learning_curves(df.drop(columns=["seed"]))
    with pytest.raises(InvalidInputError, match="loaded twice"):
        analysis.auc(pd.concat([df, df]))
    with pytest.raises(InvalidInputError, match="empty"):
        analysis.learning_curves(df.iloc[:0])
    # rows of another table read as results (all key columns missing) are named as such,
    # not reported as results loaded twice
    foreign = pd.concat([df, pd.DataFrame({"batch": [1, 2]})], ignore_index=True)
    with pytest.raises(InvalidInputError, match="2 rows have no value.*not results rows"):
        analysis.learning_curves(foreign)


def test_batch_redundancy_known_values():
    from alkit.analysis import batch_redundancy

    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    assert batch_redundancy(x, [0, 1], center=None) == pytest.approx(1.0)
    assert batch_redundancy(x, [0, 2], center=None) == pytest.approx(0.0)
    assert batch_redundancy(x, [0, 3], center=None) == pytest.approx(-1.0)
    # three pairs: (0,1)=1, (0,2)=0, (1,2)=0
    assert batch_redundancy(x, [0, 1, 2], center=None) == pytest.approx(1 / 3)
    # centring on the mean removes a shared offset
    shifted = x[:3] + 100.0
    assert batch_redundancy(shifted, [0, 2], center=np.array([100.0, 100.0])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least 2"):
        batch_redundancy(x, [0])
