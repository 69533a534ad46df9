"""The per-run random streams, and the reference's five seeds."""

from __future__ import annotations

import numpy as np

__all__ = ["run_streams", "PAPER_SEEDS"]

PAPER_SEEDS = [1, 10, 100, 1000, 10000]


def run_streams(seed: int) -> dict[str, np.random.Generator]:
    """The per-run random streams (``docs/protocol.md``, "Randomness").

    One ``SeedSequence(seed)`` is spawned into independent children for the
    initial pool, the probe and the strategy (top-ups draw from the strategy's
    stream), so that runs with the same seed share their initial pool, and the
    probe fitted on it, exactly across strategies.
    """
    children = np.random.SeedSequence(seed).spawn(3)
    names = ("initial_pool", "probe", "strategy")
    return {n: np.random.default_rng(c) for n, c in zip(names, children)}
