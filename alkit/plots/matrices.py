"""Win matrices (the paper's Figure 3)."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

from .. import analysis
from ..errors import InvalidInputError
from . import style as st

__all__ = ["win_matrix_heatmap"]


def win_matrix_heatmap(
    result: analysis.WinMatrix,
    ax=None,
    cmap: str = "viridis",
    decimals: int = 2,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """The win matrix as the paper's Figure 3: rows = winner, columns = loser, plus a total column.

    Cells hold the summed wins (at most the number of settings where both ran); the diagonal
    and pairs that never ran together are blank.

    Parameters
    ----------
    result : WinMatrix
        From :func:`alkit.analysis.win_matrix`.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned).
    decimals : int
        Decimals of the annotations.
    """
    if not isinstance(result, analysis.WinMatrix):
        raise InvalidInputError(
            "win_matrix_heatmap expects the WinMatrix returned by analysis.win_matrix()."
        )
    wins = result.wins.to_numpy(dtype=float)
    both = result.n_settings.to_numpy()
    methods = result.methods
    m = len(methods)
    shown = np.where((both > 0) & ~np.eye(m, dtype=bool), wins, np.nan)
    totals = result.totals.to_numpy()
    if ax is None:
        fig = Figure(figsize=(2.2 + 0.7 * (m + 1), 1.6 + 0.5 * m), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    vmax = max(1.0, float(np.nanmax(both)) if both.size else 1.0)
    grid = np.column_stack([shown, np.full(m, np.nan)])
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    ax.axvline(m - 0.5, color="black", lw=1.5)
    fmt = f"{{:.{decimals}f}}"
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            if both[i, j] == 0:
                ax.text(j, i, "–", ha="center", va="center", color="0.5", fontsize=8)
                continue
            val = shown[i, j]
            ax.text(
                j,
                i,
                fmt.format(val),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if val < 0.6 * vmax else "black",
            )
        ax.text(
            m, i, fmt.format(totals[i]), ha="center", va="center", fontsize=8, fontweight="bold"
        )
    ax.set_xticks(range(m + 1), [*methods, "Total"], rotation=45, ha="right")
    ax.set_yticks(range(m), methods)
    ax.set_xlabel("Loser (column strategy)")
    ax.set_ylabel("Winner (row strategy)")
    n_set = len(result.settings)
    ax.set_title(
        title if title is not None else f"Wins over {n_set} setting{'s' if n_set != 1 else ''}"
    )
    fig.colorbar(im, ax=ax, label="Settings won", shrink=0.8)
    return st.finish(fig, path)
