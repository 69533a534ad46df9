"""Figures of the paper from the tidy results table (docs/analysis.md), in one visual language.

AL curves with confidence bands (Figures 2 and 5), win-matrix heatmaps (Figure 3), delta curves
(Figure 1), Δ_ssl bars (Figure 4) and the pillar figures: initial pools at iteration 1 (pillar 1),
the clustering step's gain and batch redundancy (pillar 2), uncertainty vs representative
families (pillar 3).

Every figure follows :mod:`alkit.plots.style`: a fixed colour per strategy (the same in every
figure and every run), a line style (bar hatch) per option variant, a marker per initial pool,
accuracy in %, integer ticks, backbones by size, one legend beside the panels, and a footnote
(also ``fig.alkit_notes``) naming what a figure left out.

Every function returns the matplotlib ``Figure``; with ``path=`` it also writes
``<path>.png`` and ``<path>.svg`` (atomically). No ``pyplot`` state is used, so the functions
work under any backend, headless included.
"""

from __future__ import annotations

from .curves import al_curves, delta_curves
from .diversity import diversity_gain, redundancy_bars
from .matrices import win_matrix_heatmap
from .pillars import delta_ssl_bars, initial_pool_bars, uncertainty_vs_representative
from .style import (
    PALETTE,
    backbone_order,
    notes_of,
    pool_color,
    pool_marker,
    save_figure,
    set_strategy_color,
    strategy_color,
)

__all__ = [
    "al_curves",
    "win_matrix_heatmap",
    "delta_curves",
    "delta_ssl_bars",
    "initial_pool_bars",
    "diversity_gain",
    "redundancy_bars",
    "uncertainty_vs_representative",
    "save_figure",
    "strategy_color",
    "set_strategy_color",
    "pool_color",
    "pool_marker",
    "backbone_order",
    "notes_of",
    "PALETTE",
]
