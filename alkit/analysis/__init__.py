"""The paper's analyses on the tidy results table (see ``docs/analysis.md``).

Every function takes the table written by ``Run.to_frame()`` / ``sweep`` / ``load_results``
(columns :data:`alkit.results.RESULT_COLUMNS`) and returns a plain DataFrame (or, for the win
matrix, a :class:`WinMatrix`). Accuracies stay fractions in [0, 1]; only the string cells of
:func:`summary_table` are in percent.

A *setting* is a (dataset, backbone) pair; a *configuration* is (method, initial_pool,
propagate, budget) within a setting; a *run* is a configuration with a seed.

The analyses live in small modules re-exported here: :mod:`.curves` (learning curves, Δ, Δ_ssl,
AUC, the zero-shot reference), :mod:`.win_matrix`, :mod:`.summary` (summary table, batch
redundancy), :mod:`.pillars` (the pillar comparisons behind the report's pillar figures) and
:mod:`.statistics` (bootstrap intervals, Holm's correction, seeds needed).

Rows of iteration 0 (the zero-shot classifier, no labels) are the "no labels" reference:
:func:`zeroshot` reads them and every other analysis leaves them out.
"""

from ._common import CONFIG, RUN_KEY, SETTING, _aggregate, _check, _paired_test, _t_interval  # noqa: F401 - used by report, plots
from .curves import auc, delta_half, delta_ssl, learning_curves, zeroshot
from .pillars import UNCERTAIN_FAMILIES, cluster_effect, family_gap, initial_pool_effect
from .statistics import (
    bootstrap_ci,
    bootstrap_mean,
    holm,
    minimum_detectable_difference,
    paired_power,
    run_values,
    seeds_for_difference,
    seeds_needed,
)
from .summary import batch_redundancy, summary_table
from .win_matrix import WinMatrix, default_pool_rows, win_matrix

__all__ = [
    "SETTING",
    "CONFIG",
    "RUN_KEY",
    "learning_curves",
    "delta_half",
    "delta_ssl",
    "win_matrix",
    "WinMatrix",
    "auc",
    "zeroshot",
    "summary_table",
    "default_pool_rows",
    "batch_redundancy",
    "initial_pool_effect",
    "cluster_effect",
    "family_gap",
    "UNCERTAIN_FAMILIES",
    "run_values",
    "bootstrap_mean",
    "bootstrap_ci",
    "holm",
    "paired_power",
    "minimum_detectable_difference",
    "seeds_for_difference",
    "seeds_needed",
]
