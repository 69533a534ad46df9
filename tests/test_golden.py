"""Golden selections: ``run_al`` must reproduce the committed picks of every strategy exactly.

The files under ``tests/golden/`` are written by ``tests/golden/make_golden.py`` (digits,
seeds 1 and 10, 3 iterations, CPU). A failure here means a change altered which points a
strategy picks: either a bug, or a deliberate change — then regenerate the file and say why.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from alkit import strategies

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("_alkit_make_golden", GOLDEN_DIR / "make_golden.py")
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)

GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))


def test_every_registered_strategy_has_a_golden_file():
    have = {p.stem for p in GOLDEN_FILES}
    missing = sorted(set(strategies.available()) - have)
    assert not missing, (
        f"no golden selections for {missing}; generate them with "
        f"`.venv/bin/python tests/golden/make_golden.py {' '.join(missing)}`"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_run_al_reproduces_golden_selection(path, digits):
    expected = json.loads(path.read_text())
    assert sorted(expected, key=int) == [str(s) for s in make_golden.SEEDS], "regenerate the file"
    for seed, picks in expected.items():
        got = make_golden.golden_selection(path.stem, int(seed), digits)
        if got != picks:
            diff = [i for i, (a, b) in enumerate(zip(got, picks)) if a != b]
            pytest.fail(
                f"{path.stem}, seed {seed}: the picks changed ({len(got)} vs {len(picks)} "
                f"indices, first difference at position {diff[0] if diff else len(picks)})."
            )
