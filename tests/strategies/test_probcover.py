"""ProbCover: the δ-ball graph, the purity search for δ, greedy coverage, the strategy and its init."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alkit import initial_pools, strategies
from alkit._kernels.norms import l2_normalize
from alkit.errors import InvalidInputError
from alkit.pool import Pool
from alkit.strategies.probcover import graph, ivf, knn, probcover


def _graph_from_balls(balls: list[list[int]], delta: float = 1.0) -> graph.BallGraph:
    counts = [len(b) for b in balls]
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.concatenate([np.asarray(b, dtype=np.int32) for b in balls])
    return graph.BallGraph(indptr, indices, delta)


def _reference_greedy(edges: np.ndarray, n: int, budget: int, labeled=()) -> list[int]:
    """The reference's edge-list algorithm, literally (ALFM probcover.py), stopping at full cover."""
    edges = edges.copy()

    def remove(idx):
        nonlocal edges
        covered = edges[edges[:, 0] == idx][:, 1]
        edges = edges[~np.isin(edges[:, 1], covered)]

    for i in labeled:
        remove(i)
    picks = []
    for _ in range(budget):
        counts = np.bincount(edges[:, 0], minlength=n)
        if counts.max() == 0:
            break
        idx = int(counts.argmax())
        remove(idx)
        picks.append(idx)
    return picks


def _brute_sqdist(x):
    x = np.asarray(x, dtype=np.float64)
    return np.maximum((x * x).sum(1)[:, None] + (x * x).sum(1)[None] - 2 * x @ x.T, 0)


# ----------------------------------------------------------------------------- greedy cover
def test_greedy_cover_hand_made_graph():
    # ball(3) = {3,4,5,6} is largest; then ball(0) = {0,1,2} (3 new); then 7 covers {7, 8};
    # after that every point is covered, so the cover stops at 3 picks for a budget of 5.
    balls = [[0, 1, 2], [0, 1], [1, 2], [3, 4, 5, 6], [3, 4], [4, 5, 6, 2], [6], [7, 8], [8, 6]]
    g = _graph_from_balls(balls)
    picks, covered = graph.greedy_cover(g, 5)
    assert picks.tolist() == [3, 0, 7]
    assert covered.all()
    # ball(5) = {2,4,5,6} holds 4 points like ball(3): a tie, broken by the lowest index
    assert graph.greedy_cover(g, 1)[0].tolist() == [3]
    # with 3 labeled: its ball is covered first, so 5 (only 2 new) loses to 0 (3 new)
    covered0 = graph.covered_by(g, np.array([3]))
    assert graph.greedy_cover(g, 2, covered0)[0].tolist() == [0, 7]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 25),
    p=st.floats(0.02, 0.5),
    seed=st.integers(0, 10**6),
    budget=st.integers(1, 8),
    n_lab=st.integers(0, 3),
)
def test_greedy_cover_matches_reference_edge_list(n, p, seed, budget, n_lab):
    r = np.random.default_rng(seed)
    adj = r.random((n, n)) < p
    np.fill_diagonal(adj, True)
    balls = [np.flatnonzero(row).tolist() for row in adj]
    g = _graph_from_balls(balls)
    labeled = r.choice(n, min(n_lab, n), replace=False)
    ours, _ = graph.greedy_cover(g, budget, graph.covered_by(g, labeled))
    assert ours.tolist() == _reference_greedy(g.to_edges(), n, budget, labeled)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    size=st.integers(1, 6),
    seed=st.integers(0, 10**6),
    budget=st.integers(1, 12),
    n_lab=st.integers(0, 3),
    block=st.sampled_from([3, 1 << 24]),
)
def test_lazy_greedy_matches_reference_under_many_ties(n, size, seed, budget, n_lab, block):
    """Balls of (nearly) one size tie everywhere: the lazy gains must still give the eager picks,
    also when the gains are counted in tiny chunks."""
    import unittest.mock

    r = np.random.default_rng(seed)
    balls = [sorted({i, *r.choice(n, min(size, n), replace=False).tolist()}) for i in range(n)]
    g = _graph_from_balls(balls)
    labeled = r.choice(n, min(n_lab, n), replace=False)
    with unittest.mock.patch.object(graph, "BLOCK_ELEMENTS", block):
        ours, cov = graph.greedy_cover(g, budget, graph.covered_by(g, labeled))
    assert ours.tolist() == _reference_greedy(g.to_edges(), n, budget, labeled)
    assert (
        cov.tolist() == (graph.covered_by(g, np.concatenate([labeled, ours]).astype(int))).tolist()
    )


def test_transpose_is_reverse_graph():
    g = _graph_from_balls([[0, 2], [1], [2, 0, 1]])
    t = g.transpose()
    assert sorted(map(tuple, t.to_edges()[:, ::-1].tolist())) == sorted(
        map(tuple, g.to_edges().tolist())
    )


# ----------------------------------------------------------------------------- graph and purity
def test_exact_graph_matches_brute_force_blockwise(monkeypatch):
    monkeypatch.setattr(graph, "BLOCK_ELEMENTS", 37 * 5)  # force many blocks, one partial
    x = l2_normalize(np.random.default_rng(0).standard_normal((37, 6)))
    d2 = _brute_sqdist(x)
    for delta in (0.3, 0.9, 1.3):
        assert np.abs(np.sqrt(d2) - delta).min() > 1e-4  # no pair on the boundary
        g = graph.ball_graph_exact(x, delta, device="cpu")
        want = d2 < delta**2
        np.fill_diagonal(want, True)
        got = np.zeros_like(want)
        got[np.repeat(np.arange(37), g.degrees()), g.indices] = True
        np.testing.assert_array_equal(got, want)
        assert g.n_edges == want.sum()


def test_purity_and_bisection_match_reference_procedure():
    r = np.random.default_rng(1)
    x = l2_normalize(r.standard_normal((120, 5)))
    labels = r.integers(0, 3, 120)
    r2 = graph.nearest_other_sqdist(x, labels, device="cpu")
    d2 = _brute_sqdist(x)

    def ref_purity(delta):  # per point: do all points within delta share its label?
        within = d2 < delta**2
        np.fill_diagonal(within, True)
        return np.mean([(labels[row] == labels[i]).all() for i, row in enumerate(within)])

    # the reference's bisection, evaluating purity from the graph at every step
    delta, lo, hi, evaluated = 0.5, 0.0, 1.0, []
    for _ in range(6):
        a = ref_purity(delta)
        evaluated.append((delta, a))
        if a < 0.95:
            hi, delta = delta, 0.5 * (lo + delta)
        else:
            lo, delta = delta, 0.5 * (hi + delta)
    got = graph.search_delta(r2, 6, 0.95, "reference")
    assert [e[0] for e in got["evaluated"]] == [e[0] for e in evaluated]
    np.testing.assert_allclose([e[1] for e in got["evaluated"]], [e[1] for e in evaluated])
    assert got["delta"] == evaluated[-1][0]
    assert got["reference_reported_delta"] == delta
    largest = graph.search_delta(r2, 6, 0.95, "largest")
    pure = [e for e in evaluated if e[1] >= 0.95]
    assert largest["delta"] == (max(pure)[0] if pure else min(evaluated)[0])


def _three_clusters(gap=0.7, per=30, d=16, spread=3e-4, seed=0):
    """Three tight clusters whose centres are pairwise exactly ``gap`` apart on the sphere."""
    b = gap / np.sqrt(2)
    a = np.sqrt(1 - b * b)
    centres = np.zeros((3, d))
    centres[:, 0] = a
    centres[np.arange(3), np.arange(1, 4)] = b
    r = np.random.default_rng(seed)
    x = np.repeat(centres, per, axis=0) + spread / np.sqrt(d) * r.standard_normal((3 * per, d))
    return l2_normalize(x).astype(np.float32), np.repeat(np.arange(3), per)


def test_delta_on_data_with_known_pure_radius():
    x, y = _three_clusters()
    r = np.sqrt(graph.nearest_other_sqdist(x, y, device="cpu"))
    assert 0.698 < r.min() and r.max() < 0.702  # every ball is pure up to ≈ 0.7, none beyond
    sel = initial_pools.select("probcover", x, 3, np.random.default_rng(0), n_classes=3)
    # bisection with a pure radius of 0.7: 0.5 pure, 0.75 impure, 0.625 pure, 0.6875 pure,
    # 0.71875 impure, 0.703125 impure → the largest pure evaluated δ is 0.6875
    assert sel.info["delta"] == 0.6875 and sel.info["purity"] == 1.0 and sel.info["purity_met"]
    assert [round(d, 6) for d, _ in sel.info["delta_evaluated"]] == [
        0.5,
        0.75,
        0.625,
        0.6875,
        0.71875,
        0.703125,
    ]
    # each ball at δ = 0.6875 is its own cluster: one pick per cluster, full cover
    assert sorted(y[sel.indices].tolist()) == [0, 1, 2] and sel.info["coverage"] == 1.0
    assert sel.info["n_edges"] == 3 * 30 * 30
    ref = initial_pools.select(
        "probcover", x, 3, np.random.default_rng(0), n_classes=3, delta_rule="reference"
    )
    # the reference builds its graph at the last evaluated δ (impure) and stores the next midpoint
    assert ref.info["delta"] == 0.703125 and ref.info["purity"] == 0.0
    assert ref.info["reference_reported_delta"] == 0.6953125


def test_search_delta_falls_back_to_smallest_when_never_pure():
    got = graph.search_delta(np.zeros(10, dtype=np.float32), 6, 0.95, "largest")
    assert got["delta"] == 0.5**6 and not got["purity_met"]


# ----------------------------------------------------------------------------- strategy
def test_strategy_removes_labeled_balls_and_reuses_init_graph(small_synthetic):
    x, C = small_synthetic.x_train, small_synthetic.n_classes
    cache: dict = {}
    init = initial_pools.select(
        "probcover", x, C, np.random.default_rng(0), n_classes=C, cache=cache
    )
    pool = Pool(x, C, cache=cache)
    pool.add_labels(init.indices, small_synthetic.y_train[init.indices])
    sel = strategies.select("probcover", pool, None, C, np.random.default_rng(1))
    assert sel.info["graph_reused"] and sel.info["delta"] == init.info["delta"]
    g = cache["probcover"]["graph"]
    covered = graph.covered_by(g, pool.labeled_idx)
    assert sel.info["n_covered_before"] == covered.sum()
    want, _ = graph.greedy_cover(g, C, covered)
    np.testing.assert_array_equal(sel.indices[: len(want)], want)
    assert sel.info["n_edges"] == g.n_edges
    # other graph parameters build (and cache) a new graph
    other = strategies.select("probcover", pool, None, C, np.random.default_rng(1), delta=0.2)
    assert not other.info["graph_reused"] and other.info["delta"] == 0.2


def test_everything_covered_tops_up_at_random(small_synthetic):
    x, C = small_synthetic.x_train, small_synthetic.n_classes
    pool = Pool(x, C)
    pool.add_labels(np.array([0, 1]), small_synthetic.y_train[:2])
    # δ = 2 on the unit sphere: every ball is the whole pool, the labeled points cover it all
    sel = probcover(pool, None, 5, np.random.default_rng(0), delta=2.0, device="cpu")
    assert sel.info["n_topped_up"] == 5 and sel.info["coverage"] == 1.0
    assert len(np.unique(sel.indices)) == 5 and not pool.labeled[sel.indices].any()
    init = initial_pools.select("probcover", x, 4, np.random.default_rng(0), n_classes=C, delta=2.0)
    assert (
        init.info["n_topped_up"] == 3 and init.indices[0] == 0
    )  # one ball covers all; tie → index 0


@pytest.mark.parametrize("index", ["hnsw", "ivf"])
def test_approximate_index_agrees_with_exact(index, small_synthetic):
    x = l2_normalize(small_synthetic.x_train)
    delta = 0.45
    exact = graph.ball_graph_exact(x, delta, device="cpu")
    assert exact.degrees().max() < 256  # the cap does not bind here
    d2, idx = knn.knn_lists(x, 257, index)
    approx = knn.ball_graph_from_knn(d2, idx, delta)
    e_set = set(map(tuple, exact.to_edges().tolist()))
    a_set = set(map(tuple, approx.to_edges().tolist()))
    recall = len(e_set & a_set) / len(e_set)
    precision = len(e_set & a_set) / len(a_set)
    assert recall >= 0.97, recall
    assert precision >= 0.999, precision
    # the whole strategy through the approximate index: same δ, near-identical coverage picks
    pool_e, pool_a = Pool(small_synthetic.x_train, 8), Pool(small_synthetic.x_train, 8)
    se = probcover(pool_e, None, 8, np.random.default_rng(0), device="cpu")
    sa = probcover(pool_a, None, 8, np.random.default_rng(0), index=index, device="cpu")
    assert sa.info["delta"] == se.info["delta"]
    assert len(set(sa.indices.tolist()) & set(se.indices.tolist())) >= 6


def test_bad_parameters_raise_clear_errors(small_synthetic):
    pool = Pool(small_synthetic.x_train, 8)
    rng = np.random.default_rng(0)
    for bad in (
        {"delta": -0.1},
        {"delta": 3.0},
        {"delta": "big"},
        {"delta_rule": "smallest"},
        {"index": "annoy"},
        {"max_neighbors": 0},
        {"delta_iter": 0},
        {"purity_threshold": 1.5},
    ):
        with pytest.raises(InvalidInputError):
            strategies.select("probcover", pool, None, 3, rng, **bad)
    with pytest.raises(InvalidInputError, match="n_classes"):
        initial_pools.select("probcover", small_synthetic.x_train, 3, rng)
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        initial_pools.select("probcover", small_synthetic.x_train, 3, rng, n_classes=8, radius=0.3)


@pytest.mark.parametrize("index", ["hnsw"])
def test_adaptive_lists_grow_past_a_small_cap(index, small_synthetic):
    """With max_neighbors far below the ball sizes, the adaptive re-query still gives the exact
    picks (the fixed-cap lists would not)."""
    x = small_synthetic.x_train
    exact = probcover(Pool(x, 8), None, 8, np.random.default_rng(0), device="cpu")
    approx = probcover(
        Pool(x, 8), None, 8, np.random.default_rng(0), index=index, max_neighbors=8, device="cpu"
    )
    assert approx.info["delta"] == exact.info["delta"]
    assert approx.info["n_requeried"] > 0 and approx.info["max_list"] > 8
    assert approx.indices.tolist() == exact.indices.tolist()


def _exact_knn(x, k):
    x64 = x.astype(np.float64)
    sq = (x64 * x64).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x64 @ x64.T, 0)
    np.fill_diagonal(d2, 0.0)
    return np.sort(d2, axis=1)[:, :k], np.argsort(d2, axis=1, kind="stable")[:, :k]


def test_ivf_lists_with_every_list_probed_are_the_exact_knn(monkeypatch, small_synthetic):
    x = l2_normalize(small_synthetic.x_train)
    monkeypatch.setattr(ivf, "IVF_NPROBE", 10**6)  # every list: exact search by matrix products
    d2, idx = knn.knn_lists(x, 20, "ivf", device="cpu")
    e_d2, _ = _exact_knn(x, 20)
    np.testing.assert_allclose(d2, e_d2, atol=2e-5)
    assert (idx[:, 0] == np.arange(len(x))).all() and (
        d2[:, 0] == 0
    ).all()  # the centre first, at 0
    assert (np.diff(d2, axis=1) >= 0).all()


def test_ivf_lists_widen_the_probe_to_hold_k_and_are_deterministic(monkeypatch, small_synthetic):
    x = l2_normalize(small_synthetic.x_train)
    monkeypatch.setattr(
        ivf, "IVF_NPROBE", 1
    )  # one list holds fewer than k rows: the probe must widen
    ix = knn.KnnIndex(x, "ivf", seed=3, device="cpu")
    k = 4 * int(np.diff(ix.lists.starts).max())
    d2, idx = ix.search(np.arange(0, len(x), 7), k)
    assert (idx >= 0).all() and np.isfinite(d2).all()  # k real neighbours, none missing
    assert all(len(set(r)) == k for r in idx.tolist())
    d2b, idxb = knn.KnnIndex(x, "ivf", seed=3, device="cpu").search(np.arange(0, len(x), 7), k)
    np.testing.assert_array_equal(idx, idxb)
    np.testing.assert_array_equal(d2, d2b)


# ----------------------------------------------------------------------------- ivf range passes
def test_bisection_grid_holds_every_evaluated_delta():
    r = np.random.default_rng(0)
    for n_iter in (1, 3, 6):
        grid = graph.bisection_grid(n_iter)
        assert len(grid) == 2**n_iter - 1 and (np.diff(grid) > 0).all()
        for _ in range(30):
            r2 = r.random(200) ** r.uniform(0.2, 5)
            for thr in (0.5, 0.95, 1.0):
                ev = graph.search_delta(r2, n_iter, thr)["evaluated"]
                assert all(d in set(grid.tolist()) for d, _ in ev)
    assert graph.bisection_grid(7) is None  # 127 radii: counted in a pass of their own


def test_ivf_range_passes_with_every_list_probed_are_exact(monkeypatch, small_synthetic):
    x = l2_normalize(small_synthetic.x_train)
    monkeypatch.setattr(ivf, "IVF_NPROBE", 10**6)  # every list: exact distances over all pairs
    labels = np.random.default_rng(1).integers(0, 8, len(x))
    lx = ivf._ListIndex(x, seed=2, device="cpu")
    grid = graph.bisection_grid(6)
    r2, counts = lx.range_counts(grid**2, labels)
    full = graph.nearest_other_sqdist(x, labels, device="cpu")
    below = full < grid[-1] ** 2  # exact there; beyond the largest radius only "pure at every δ"
    np.testing.assert_allclose(r2[below], full[below], atol=2e-5)
    assert (r2[~below] >= np.float32(grid[-1] ** 2) * (1 - 1e-6)).all()
    for delta in grid:
        assert abs(graph.purity(r2, delta) - graph.purity(full, delta)) <= 2 / len(x)
    d2 = _brute_sqdist(x)
    np.fill_diagonal(d2, 0)
    for j in (20, 30, 40, 63):
        exact = (d2 < grid[j - 1] ** 2).sum(1)
        near_boundary = np.abs(d2 - grid[j - 1] ** 2).min(1) < 1e-5
        assert (counts[:, j - 1] == exact)[~near_boundary].all()
    delta = grid[39]
    g = lx.range_graph(delta)
    assert (g.degrees() == counts[:, 39]).all()
    ours = set(map(tuple, g.to_edges().tolist()))
    assert all((j, i) in ours for i, j in ours)  # each pair computed once: symmetric
    ref = set(map(tuple, graph.ball_graph_exact(x, delta, device="cpu").to_edges().tolist()))
    assert all(abs(d2[i, j] - delta**2) < 1e-5 for i, j in ours ^ ref)  # only float32 boundary ties
    assert all((i, i) in ours for i in range(len(x)))  # every ball holds its centre


@pytest.mark.parametrize("nprobe", [32, 2])
def test_ivf_pairs_are_those_of_lists_searching_one_another(monkeypatch, small_synthetic, nprobe):
    """A pair is evaluated when either row's list searches the other's, once, for both rows: the
    graph is symmetric, a row's ball is exactly its pairs inside δ, and the sizes are the
    counting pass's. With 2 lists searched the lists that many others search are paired in
    several chunks of candidates."""
    monkeypatch.setattr(ivf, "IVF_NPROBE", nprobe)
    x = l2_normalize(small_synthetic.x_train)
    lx = ivf._ListIndex(x, seed=0, device="cpu")
    pairs = lx.list_pairs()
    assert lx.nlist > 8
    if nprobe == 2:  # some list's paired rows exceed a search's worth: taken in several chunks
        assert max(lx.sizes[js].sum() for js in pairs) > 2 * nprobe * len(x) / lx.nlist
    _, counts = lx.range_counts(np.array([0.8**2]))
    g = lx.range_graph(0.8)
    assert (g.degrees() == counts[:, 0]).all()
    edges = set(map(tuple, g.to_edges().tolist()))
    assert all((j, i) in edges for i, j in edges)
    d2 = _brute_sqdist(x)
    paired = np.zeros((lx.nlist, lx.nlist), dtype=bool)
    for i, js in enumerate(pairs):
        paired[i, js] = paired[js, i] = True
    for i in range(0, len(x), 7):
        members = set(g.indices[g.indptr[i] : g.indptr[i + 1]].tolist())
        want = set(np.flatnonzero(paired[lx.labels[i], lx.labels] & (d2[i] < 0.8**2)).tolist())
        want.add(i)
        assert all(abs(d2[i, j] - 0.8**2) < 1e-5 for j in members ^ want)
        # the one-sided search's candidates are all paired
        assert paired[lx.labels[i], lx.labels[lx._candidates(lx.labels[i], 1)]].all()


def test_ivf_lists_nested_in_the_pseudo_classes_give_the_exact_graph(monkeypatch, small_synthetic):
    """Lists made inside each pseudo-class (``GROUP_LISTS``), every list probed: the same δ search
    as the coarse quantiser's lists and the exact graph up to float32 ties at δ²."""
    x = l2_normalize(small_synthetic.x_train)
    labels = np.random.default_rng(1).integers(0, 8, len(x))
    monkeypatch.setattr(ivf, "IVF_NPROBE", 10**6)
    monkeypatch.setattr(ivf, "GROUP_LISTS", False)
    _, plain_search, _ = ivf.ivf_ball_graph(x, labels, seed=2, device="cpu")
    monkeypatch.setattr(ivf, "GROUP_LISTS", True)
    ours, search, _ = ivf.ivf_ball_graph(x, labels, seed=2, device="cpu")
    assert search["delta"] == plain_search["delta"]
    assert search["evaluated"] == plain_search["evaluated"]
    delta = search["delta"]
    d2 = _brute_sqdist(x)
    got = set(map(tuple, ours.to_edges().tolist()))
    ref = set(map(tuple, graph.ball_graph_exact(x, delta, device="cpu").to_edges().tolist()))
    assert all(abs(d2[i, j] - delta**2) < 1e-5 for i, j in got ^ ref if i != j)


@pytest.mark.parametrize("delta", [None, 0.6])
def test_ivf_one_pass_graph_equals_the_two_pass_graph(monkeypatch, small_synthetic, delta):
    """The pairs kept by the counting pass give the graph of the second pass, edge for edge;
    with no memory to keep them the second pass runs."""
    x = l2_normalize(small_synthetic.x_train)
    labels = np.random.default_rng(1).integers(0, 8, len(x))
    one, s1, st1 = ivf.ivf_ball_graph(x, labels, delta=delta, seed=2, device="cpu")
    monkeypatch.setattr(graph, "KEEP_PAIRS_FRACTION", 0.0)
    two, s2, st2 = ivf.ivf_ball_graph(x, labels, delta=delta, seed=2, device="cpu")
    assert (st1["passes"], st2["passes"]) == (1, 2)
    assert s1 == s2
    np.testing.assert_array_equal(one.indptr, two.indptr)
    for i in range(0, len(x), 37):  # rows hold the same members (order within a row may differ)
        a = one.indices[one.indptr[i] : one.indptr[i + 1]]
        b = two.indices[two.indptr[i] : two.indptr[i + 1]]
        assert sorted(a.tolist()) == sorted(b.tolist())
    assert sorted(map(tuple, one.to_edges().tolist())) == sorted(
        map(tuple, two.to_edges().tolist())
    )


@pytest.mark.parametrize("fraction", [0.25, 0.0])
def test_exact_search_keeps_its_pairs_and_gives_the_same_graph(
    monkeypatch, small_synthetic, fraction
):
    """The exact δ search keeps the pairs inside the largest reachable δ and the graph is cut from
    them: the same r2 and, edge for edge in the same order, ball_graph_exact's graph; with no
    memory to keep them (fraction 0) the pairs are dropped and the graph takes its own pass."""
    x = l2_normalize(small_synthetic.x_train)
    labels = np.random.default_rng(1).integers(0, 8, len(x))
    monkeypatch.setattr(graph, "KEEP_PAIRS_FRACTION", fraction)
    top = float(graph.bisection_grid(6)[-1])
    r2, pairs = graph.nearest_other_keeping_pairs(x, labels, top, device="cpu")
    full = graph.nearest_other_sqdist(x, labels, device="cpu")
    below = full < np.float32(top**2)  # exact there; beyond the largest δ only "pure at every δ"
    np.testing.assert_allclose(r2[below], full[below], rtol=0, atol=2e-6)
    assert np.isinf(r2[~below]).all()
    for delta in graph.bisection_grid(6):
        assert graph.purity(r2, delta) == graph.purity(full, delta)
    if fraction == 0.0:
        assert pairs is None
        return
    for delta in (0.3, graph.bisection_grid(6)[40], top):
        want = graph.ball_graph_exact(x, delta, device="cpu")
        got = graph.ball_graph_from_pairs(pairs, delta)
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
    # and through the strategy: the same picks as with the second pass
    monkeypatch.setattr(graph, "KEEP_PAIRS_FRACTION", 0.0)
    two = probcover(Pool(x, 8), None, 8, np.random.default_rng(0), device="cpu")
    monkeypatch.setattr(graph, "KEEP_PAIRS_FRACTION", 0.25)
    one = probcover(Pool(x, 8), None, 8, np.random.default_rng(0), device="cpu")
    assert one.indices.tolist() == two.indices.tolist()
    assert one.info["n_edges"] == two.info["n_edges"]


def test_ivf_lists_nested_in_the_groups(small_synthetic):
    x = l2_normalize(small_synthetic.x_train)
    groups = np.random.default_rng(3).integers(0, 5, len(x))
    lx = ivf._ListIndex(x, seed=0, device="cpu", groups=groups)
    for lst in range(lx.nlist):
        members = lx.order[lx.starts[lst] : lx.starts[lst + 1]]
        assert len(np.unique(groups[members])) <= 1  # a list never spans two groups
    assert lx.starts[-1] == len(x)


def test_probcover_ivf_matches_exact_search_and_picks(small_synthetic):
    x = small_synthetic.x_train
    exact = probcover(Pool(x, 8), None, 8, np.random.default_rng(0), device="cpu")
    approx = probcover(Pool(x, 8), None, 8, np.random.default_rng(0), index="ivf", device="cpu")
    assert approx.info["delta"] == exact.info["delta"]
    assert approx.info["ivf_nlist"] >= 1 and approx.info["ivf_mean_candidates"] > 0
    assert len(set(approx.indices.tolist()) & set(exact.indices.tolist())) >= 6
    # 7 bisection steps (127 radii) take the extra counting pass: same δ as the exact search
    e7 = probcover(Pool(x, 8), None, 4, np.random.default_rng(0), delta_iter=7, device="cpu")
    a7 = probcover(
        Pool(x, 8), None, 4, np.random.default_rng(0), delta_iter=7, index="ivf", device="cpu"
    )
    assert a7.info["delta"] == e7.info["delta"]
    # a fixed δ: one counting pass, no search
    fixed = probcover(
        Pool(x, 8), None, 4, np.random.default_rng(0), delta=0.6, index="ivf", device="cpu"
    )
    assert fixed.info["delta"] == 0.6 and "delta_evaluated" not in fixed.info


def test_probcover_ivf_is_deterministic(small_synthetic):
    x = small_synthetic.x_train
    a = probcover(Pool(x, 8), None, 8, np.random.default_rng(5), index="ivf", device="cpu")
    b = probcover(Pool(x, 8), None, 8, np.random.default_rng(5), index="ivf", device="cpu")
    assert a.indices.tolist() == b.indices.tolist() and a.info["n_edges"] == b.info["n_edges"]


def test_fast_probcover_equals_the_readable_reference():
    """δ search, exact graph and lazy greedy cover give the plain version's δ and picks."""
    from alkit.strategies.probcover import probcover_reference

    r = np.random.default_rng(4)
    centres = r.standard_normal((5, 8))
    x = l2_normalize(
        (centres[r.integers(0, 5, 240)] + 0.5 * r.standard_normal((240, 8))).astype(np.float32)
    )
    pseudo = r.integers(0, 5, 240)
    pseudo = ((x @ centres.T).argmax(1) + (r.random(240) < 0.02)) % 5  # mostly pure classes
    for labeled_n, budget in ((0, 10), (12, 15)):
        labeled = np.zeros(240, dtype=bool)
        labeled[r.choice(240, labeled_n, replace=False)] = True
        ref_picks, ref_delta = probcover_reference(x, pseudo, budget, labeled)
        search = graph.search_delta(graph.nearest_other_sqdist(x, pseudo, "cpu"), 6, 0.95)
        assert search["delta"] == ref_delta
        g = graph.ball_graph_exact(x, search["delta"], "cpu")
        picks, _ = graph.greedy_cover(g, budget, graph.covered_by(g, np.flatnonzero(labeled)))
        assert picks.tolist() == ref_picks


@pytest.mark.parametrize("index", ["exact", "ivf"])
def test_screened_passes_give_the_unscreened_graph_and_picks(monkeypatch, small_synthetic, index):
    """The bfloat16 screen (on CPU from 8 192 rows; forced here) only leaves out columns that
    hold no pair inside the largest radius: the same δ search, graph and picks as without it."""
    from alkit._kernels import screen

    x = small_synthetic.x_train
    runs = {}
    for on in (False, True):
        monkeypatch.setattr(screen, "MIN_ROWS", 0 if on else 10**9)
        monkeypatch.setattr(ivf, "SCREEN", on)
        pool = Pool(x, 8)
        sel = probcover(pool, None, 8, np.random.default_rng(0), index=index, device="cpu")
        g = pool.cache["probcover"]["graph"]
        runs[on] = (sel, sorted(map(tuple, g.to_edges().tolist())))
    (plain, e_plain), (scr, e_scr) = runs[False], runs[True]
    assert scr.info["delta_evaluated"] == plain.info["delta_evaluated"]
    assert scr.indices.tolist() == plain.indices.tolist()
    assert e_scr == e_plain


def test_ivf_screen_rules_out_candidates(monkeypatch, small_synthetic):
    from alkit._kernels import screen

    monkeypatch.setattr(screen, "MIN_ROWS", 0)
    x = l2_normalize(small_synthetic.x_train)
    lx = ivf._ListIndex(x, seed=0, device="cpu")
    lx.range_counts(np.array([0.6**2]))
    assert 0 < lx.n_screened_out < lx.n_candidates
    assert lx.h is None  # the bfloat16 copy is freed after the pass
