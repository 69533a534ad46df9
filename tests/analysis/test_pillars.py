"""The pillar comparisons behind the report's pillar figures (alkit.analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from alkit import analysis
from alkit.errors import InvalidInputError

from ..test_plots import make_results


def test_initial_pool_effect_pairs_seeds_against_random():
    df = make_results(settings=(("d1", "b1"),), pools=("random", "centroids"), propagate=(False,))
    eff = analysis.initial_pool_effect(df, iteration=1).set_index("initial_pool")
    assert list(eff.index) == ["centroids", "random"]
    # +3 points built in at iteration 1; noise 0.5 points per run, averaged over 3 methods
    assert eff.at["centroids", "diff_vs_baseline"] == pytest.approx(0.03, abs=0.01)
    assert eff.at["centroids", "significant"] and np.isnan(eff.at["random", "p_vs_baseline"])
    assert eff.at["centroids", "n_seeds"] == 3
    assert (
        eff.at["centroids", "ci_low"] < eff.at["centroids", "mean"] < eff.at["centroids", "ci_high"]
    )
    # later the built-in advantage is gone
    late = analysis.initial_pool_effect(df, iteration=5).set_index("initial_pool")
    assert abs(late.at["centroids", "diff_vs_baseline"]) < 0.01


def test_initial_pool_effect_says_what_it_left_out():
    df = make_results(settings=(("d1", "b1"), ("d2", "b1")), pools=("random", "centroids"))
    single = df[~((df["dataset"] == "d2") & (df["initial_pool"] == "centroids"))]
    eff = analysis.initial_pool_effect(single)
    assert set(eff["dataset"]) == {"d1"}
    left = eff.attrs["left_out"]
    assert any("label propagation" in n for n in left)
    assert any("d2 (b1): a single initial pool" in n for n in left)


def test_cluster_effect_pairs_plain_and_clustered_runs():
    df = make_results(settings=(("d1", "b1"),), cluster=True, propagate=(False,))
    eff = analysis.cluster_effect(df)
    assert set(eff["method"]) == {"entropy", "margin"}  # the plain labels name the pairs
    late = eff[eff["iteration"] > 1]
    assert late["diff"].mean() == pytest.approx(0.01, abs=0.004)
    assert (eff[eff["iteration"] > 1]["n_pairs"] == 3).all()
    assert eff.attrs["left_out"] == [
        "methods that ran only with or only without clustering: random"
    ]
    # no clustered runs at all: empty, with the reason
    none = analysis.cluster_effect(df[~df["method"].str.contains("cluster")])
    assert none.empty and "entropy, margin, random" in none.attrs["left_out"][0]


def test_family_gap_and_phase_transition():
    df = make_results(
        settings=(("d1", "b1"),),
        methods=(("random", 0.0), ("margin", 0.03), ("typiclust", 0.0)),
        propagate=(False,),
    )
    typ = df["method"] == "typiclust"
    df.loc[typ, "initial_pool"] = "typiclust"
    df.loc[typ & (df["iteration"] <= 2), "accuracy"] += 0.08  # representative ahead early
    gap = analysis.family_gap(df)
    assert list(gap["leader"][:2]) == ["representative"] * 2
    assert (gap["leader"][2:] == "uncertainty").all()
    assert list(gap.loc[gap["transition"], "iteration"]) == [3]
    assert gap.attrs["members"] == {"uncertainty": ["margin"], "representative": ["typiclust"]}
    assert gap.attrs["others"] == {"random": "baseline"}
    with pytest.raises(InvalidInputError, match="family"):
        analysis.family_gap(df[df["method"] == "random"])


def test_comparisons_are_reachable_from_analysis():
    assert analysis.family_gap is analysis.family_gap
    assert analysis.initial_pool_effect is analysis.initial_pool_effect
