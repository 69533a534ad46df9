"""The statistics of alkit.analysis.statistics: known answers (hand-computed, statsmodels, G*Power),
a Monte-Carlo check of the power, and the Holm-corrected win matrix on a hand example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alkit import analysis
from alkit.errors import InvalidInputError

from .test_analysis import base_acc, row, table


# ----------------------------------------------------------------------------------------- Holm
def test_holm_hand_example():
    # sorted p: 0.005, 0.01, 0.03, 0.04 (m = 4): 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06,
    # 1·0.04 = 0.04 → monotone: 0.02, 0.03, 0.06, 0.06; back in the input order
    got = analysis.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_keeps_nan_out_of_the_family_and_checks_range():
    got = analysis.holm([0.5, np.nan, 0.4])
    np.testing.assert_allclose(got[[0, 2]], [0.8, 0.8])  # m = 2: 2·0.4 = 0.8, then max
    assert np.isnan(got[1])
    np.testing.assert_allclose(analysis.holm([0.9, 0.6]), [1.0, 1.0])
    assert np.isnan(analysis.holm([np.nan])).all()
    with pytest.raises(InvalidInputError):
        analysis.holm([1.5])


def test_holm_is_never_below_the_raw_p_nor_above_bonferroni():
    p = np.random.default_rng(0).uniform(size=20)
    adj = analysis.holm(p)
    assert (adj >= p - 1e-15).all() and (adj <= np.minimum(1, 20 * p) + 1e-15).all()


# ---------------------------------------------------------------------------------------- power
# statsmodels 0.15.0 TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8, two-sided):
# the effect size d = δ / σ_d detectable with n pairs
STATSMODELS_MDD = {2: 11.549889754978, 3: 3.264043552820, 5: 1.681997083323, 10: 0.996001910762}
# G*Power / Cohen's tables (paired t, two-sided, α = 0.05, power 0.8): d → pairs needed
GPOWER_N = {0.2: 199, 0.5: 34, 0.8: 15, 1.0: 10}


@pytest.mark.parametrize("n", sorted(STATSMODELS_MDD))
def test_minimum_detectable_difference_matches_statsmodels(n):
    got = analysis.minimum_detectable_difference(n, 1.0)
    assert got == pytest.approx(STATSMODELS_MDD[n], rel=1e-6)
    # it scales with the standard deviation of the paired differences
    assert analysis.minimum_detectable_difference(n, 0.02) == pytest.approx(0.02 * got, rel=1e-6)
    assert analysis.paired_power(n, got, 1.0) == pytest.approx(0.8, abs=1e-9)


@pytest.mark.parametrize("d", sorted(GPOWER_N))
def test_seeds_for_difference_matches_gpower(d):
    n = analysis.seeds_for_difference(d, 1.0)
    assert n == GPOWER_N[d]
    assert analysis.paired_power(n, d, 1.0) >= 0.8 > analysis.paired_power(n - 1, d, 1.0)


def test_power_known_value_and_edges():
    # statsmodels: TTestPower().power(effect_size=0.5, nobs=34, alpha=0.05) = 0.80777750127927
    assert analysis.paired_power(34, 0.5, 1.0) == pytest.approx(0.8077775012792737, rel=1e-9)
    assert analysis.paired_power(5, 0.0, 1.0) == pytest.approx(0.05, abs=1e-12)  # size = α
    assert analysis.paired_power(5, 0.01, 0.0) == 1.0
    assert analysis.minimum_detectable_difference(5, 0.0) == 0.0
    assert analysis.seeds_for_difference(0.0, 1.0) is None
    assert analysis.seeds_for_difference(0.1, 0.0) == 2
    assert analysis.seeds_for_difference(1e-6, 1.0, max_seeds=1000) is None
    with pytest.raises(InvalidInputError):
        analysis.paired_power(1, 0.1, 1.0)
    with pytest.raises(InvalidInputError):
        analysis.minimum_detectable_difference(5, 1.0, power=1.5)


def test_power_by_simulation():
    """Paired differences drawn with the minimum detectable mean are rejected ≈ 80 % of the time."""
    rng = np.random.default_rng(1)
    n, sd = 5, 0.02
    delta = analysis.minimum_detectable_difference(n, sd)
    d = rng.normal(delta, sd, size=(20_000, n))
    t = d.mean(1) / (d.std(1, ddof=1) / np.sqrt(n))
    from scipy import stats

    rejected = np.abs(t) > stats.t.ppf(0.975, n - 1)
    assert rejected.mean() == pytest.approx(0.8, abs=0.015)


# ------------------------------------------------------------------------------------ bootstrap
def test_bootstrap_mean_is_seeded_and_percentile():
    v = [0.61, 0.64, 0.58, 0.66, 0.60]
    m, lo, hi = analysis.bootstrap_mean(v, n_boot=10_000, seed=3)
    assert m == pytest.approx(np.mean(v))
    assert analysis.bootstrap_mean(v, n_boot=10_000, seed=3) == (m, lo, hi)
    # the same resamples by hand
    rng = np.random.default_rng(3)
    means = np.asarray(v)[rng.integers(0, 5, size=(10_000, 5))].mean(1)
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    assert min(v) <= lo < m < hi <= max(v)
    assert np.isnan(analysis.bootstrap_mean([0.5])[1])
    assert analysis.bootstrap_mean([0.5, 0.5, 0.5])[1:] == (0.5, 0.5)


def _two_methods(diff_fn, seeds=range(5), iterations=range(1, 5)):
    return table(
        lambda m, s, seed, it: base_acc(s, seed, it) + (diff_fn(seed, it) if m == "entropy" else 0),
        methods=("random", "entropy"),
        settings=(("d1", "b1"),),
        seeds=seeds,
        iterations=iterations,
    )


def test_bootstrap_ci_of_auc_and_final_with_paired_difference():
    df = _two_methods(lambda seed, it: 0.02 + 0.001 * seed)
    for value in ("auc", "final", 4):
        ci = analysis.bootstrap_ci(df, value=value, n_boot=2000)
        ent = ci[ci["method"] == "entropy"].iloc[0]
        runs = analysis.run_values(df, value)
        ent_runs = runs[runs["method"] == "entropy"]["value"]
        assert ent["n_seeds"] == 5 and ent["mean"] == pytest.approx(ent_runs.mean())
        assert ent["ci_low"] < ent["mean"] < ent["ci_high"]
        # the paired differences are 0.020..0.024 at every iteration: the interval is inside
        assert ent["diff"] == pytest.approx(0.022)
        assert 0.02 - 1e-12 <= ent["diff_low"] < ent["diff_high"] <= 0.024 + 1e-12
        assert bool(ent["excludes_zero"])
        assert np.isnan(ci[ci["method"] == "random"]["diff"]).all()
    no_base = analysis.bootstrap_ci(df, baseline=None, n_boot=100)
    assert "diff" not in no_base.columns and len(no_base) == 2
    with pytest.raises(InvalidInputError):
        analysis.run_values(df, "best")
    with pytest.raises(InvalidInputError):
        analysis.run_values(df, 99)


def test_final_is_each_runs_last_iteration():
    df = _two_methods(lambda seed, it: 0.0)
    df = df[~((df["seed"] == 0) & (df["iteration"] == 4))]  # seed 0 stopped at iteration 3
    runs = analysis.run_values(df, "final").set_index(["method", "seed"])
    assert runs.loc[("random", 0), "n_labeled"] == 30 and runs.loc[("random", 1), "n_labeled"] == 40


def test_seeds_needed_from_the_paired_differences():
    diffs = np.array([0.010, 0.030, 0.015, 0.025, 0.020])
    df = _two_methods(lambda seed, it: diffs[seed])
    need = analysis.seeds_needed(df, value="auc", difference=0.005)
    assert len(need) == 1
    r = need.iloc[0]
    sd = diffs.std(ddof=1)
    assert r["n_seeds"] == 5 and r["diff"] == pytest.approx(0.02)
    assert r["sd_diff"] == pytest.approx(sd)
    assert r["detectable"] == pytest.approx(STATSMODELS_MDD[5] * sd, rel=1e-6)
    assert r["seeds_for_observed"] == analysis.seeds_for_difference(0.02, sd)
    assert r["seeds_for_target"] == analysis.seeds_for_difference(0.005, sd)
    assert r["p"] < 0.01


def test_seeds_needed_pairs_each_pool_with_the_baselines_pool():
    df = _two_methods(lambda seed, it: 0.01 * (seed + 1))
    other = df.assign(initial_pool="centroids")  # both methods also ran from centroids
    need = analysis.seeds_needed(pd.concat([df, other]), value=1)
    assert sorted(need["initial_pool"]) == ["centroids", "random"]
    only_random_base = pd.concat([df, other[other["method"] != "random"]])
    need = analysis.seeds_needed(only_random_base, value=1)
    assert len(need) == 2 and need["n_seeds"].tolist() == [5, 5]  # centroids vs random's pool


# ------------------------------------------------------------------------- win matrix with Holm
def test_win_matrix_holm_hand_example():
    """Three methods, one setting, one iteration: a is 1 point above b and c with seed noise.

    Uncorrected, a beats b and c (p ≈ 0.025 each) and b vs c is null. Holm over the 3 pairs:
    sorted p·(3, 2, 1) lifts both a-pairs above 0.05, so a wins nothing."""
    noise = 1.3 * np.array([0.004, -0.006, 0.002, -0.003, 0.008])
    accs = {"a": 0.51 + noise, "b": np.full(5, 0.50), "c": np.full(5, 0.50) + 1e-4 * noise}
    rows = [
        row(method=m, strategy="random", seed=s, iteration=it, accuracy=accs[m][s])
        for m in accs
        for s in range(5)
        for it in (1, 2)
    ]
    df = pd.DataFrame(rows)
    plain = analysis.win_matrix(df, initial_pool="random")
    holm = analysis.win_matrix(df, initial_pool="random", correction="holm")
    assert plain.wins.loc["a", "b"] == 1 and plain.wins.loc["a", "c"] == 1
    det = holm.details.set_index(["winner", "loser"])
    p_ab, p_ac = det.loc[("a", "b"), "p"], det.loc[("a", "c"), "p"]
    p_bc = det.loc[("b", "c"), "p"]
    assert 0.05 / 3 < p_ab < 0.05 and 0.05 / 3 < p_ac < 0.05  # significant alone, not × 3
    expected = analysis.holm([p_ab, p_ac, p_bc])
    assert det.loc[("a", "b"), "p_adjusted"] == pytest.approx(expected[0])
    assert det.loc[("b", "a"), "p_adjusted"] == pytest.approx(expected[0])
    assert (expected[:2] > 0.05).all()
    assert holm.wins.loc["a"].sum() == 0 and holm.correction == "holm"
    assert (plain.details["p"] == plain.details["p_adjusted"]).all()
    with pytest.raises(InvalidInputError):
        analysis.win_matrix(df, initial_pool="random", correction="bonferroni")


def test_win_matrix_holm_keeps_clear_wins_and_default_is_unchanged():
    df = table(
        lambda m, s, seed, it: base_acc(s, seed, it) + {"random": 0, "entropy": 0.05}.get(m, 0.1)
    )
    plain = analysis.win_matrix(df, initial_pool="random")
    holm = analysis.win_matrix(df, initial_pool="random", correction="holm")
    # constant differences: zero variance, p = 0, which no correction changes
    pd.testing.assert_frame_equal(plain.wins, holm.wins)
    assert plain.wins.loc["margin", "random"] == 3 and plain.correction is None
