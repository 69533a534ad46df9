"""Regenerate the golden selections of every registered strategy.

For each strategy in ``alkit.strategies.available()`` (whatever is registered when this
runs), ``run_al`` on ``digits`` with seeds 1 and 10 for 3 iterations (initial pool from the
strategy's paper default, budget C, default probe, CPU) and write the acquired indices, in
acquisition order, to ``tests/golden/<strategy>.json`` as ``{"<seed>": [indices]}``.

``tests/test_golden.py`` asserts that ``run_al`` still reproduces every file exactly, so an
optimisation that changes any pick is caught. Regenerate only on purpose (a deliberate
behaviour change), and say why in the commit:

    .venv/bin/python tests/golden/make_golden.py            # every registered strategy
    .venv/bin/python tests/golden/make_golden.py badge bald # only these
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
DATASET = "digits"
SEEDS = (1, 10)
ITERATIONS = 3
DEVICE = "cpu"


def golden_selection(strategy: str, seed: int, emb=None) -> list[int]:
    """Pool indices acquired by ``run_al`` for the golden setting, in acquisition order."""
    import alkit

    emb = alkit.load_embeddings(DATASET) if emb is None else emb
    run = alkit.run_al(emb, strategy=strategy, iterations=ITERATIONS, seed=seed, device=DEVICE)
    return [int(i) for i in run.acquired]


def golden_path(strategy: str) -> Path:
    return GOLDEN_DIR / f"{strategy}.json"


def write_golden(strategy: str, emb=None) -> Path:
    """Compute and write ``<strategy>.json`` atomically; returns its path."""
    from alkit._files import atomic_path

    picks = {str(seed): golden_selection(strategy, seed, emb) for seed in SEEDS}
    text = "{\n" + ",\n".join(f'  "{k}": {json.dumps(v)}' for k, v in picks.items()) + "\n}\n"
    path = golden_path(strategy)
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    import alkit
    from alkit import strategies

    names = list(argv if argv is not None else sys.argv[1:]) or strategies.available()
    unknown = sorted(set(names) - set(strategies.available()))
    if unknown:
        print(
            f"unknown strategies {unknown}; registered: {strategies.available()}", file=sys.stderr
        )
        return 2
    emb = alkit.load_embeddings(DATASET)
    for name in names:
        path = write_golden(name, emb)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
