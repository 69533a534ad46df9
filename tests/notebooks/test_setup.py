from alkit.notebooks import PAPER_SEEDS, setup


def test_setup_resolves_quick_and_paper_defaults(tmp_path):
    emb, seeds, iterations, out = setup(
        "digits", None, None, None, tmp_path / "o", quick=True, quick_iterations=3
    )
    assert emb.dataset == "digits" and seeds == [0, 1, 2] and iterations == 3 and out.is_dir()
    _, seeds, iterations, out = setup("digits", quick=False)
    assert seeds == PAPER_SEEDS == [1, 10, 100, 1000, 10000] and iterations == 20 and out is None
    _, seeds, iterations, _ = setup("digits", seeds=[5], iterations=7, quick=True)
    assert seeds == [5] and iterations == 7
