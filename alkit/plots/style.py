"""The visual language shared by every figure of the kit.

- **Colour = strategy.** Every built-in strategy has a fixed, hand-picked colour (Okabe–Ito and
  Paul Tol's colour-blind-safe sets); a custom strategy gets a deterministic colour from a SHA-256
  of its name, kept away from the built-ins. The colour never depends on which other strategies
  are in a figure, on their order, or on the Python process (``hash()`` is salted; SHA-256 is not).
- **Line style (hatch for bars) = option variant** (``+cluster``, ``+typical``, ``+dropout``, other
  parameters); **marker = initial pool**. Variants never get a colour of their own.
- Accuracy in %, differences in percentage points ("% points"); integer ticks for iterations and
  label counts; backbones ordered by model size; one legend per figure, beside the panels.
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import math
import os
import re
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator

from .._files import atomic_path

__all__ = [
    "PALETTE",
    "POOL_MARKERS",
    "VARIANT_STYLES",
    "strategy_color",
    "set_strategy_color",
    "pool_color",
    "pool_marker",
    "variant_of",
    "variant_linestyle",
    "variant_hatch",
    "backbone_size",
    "backbone_order",
    "short_backbone",
    "short_title",
    "save_figure",
]

#: Fixed colours of the built-in strategies (and of those reserved for strategies being added).
#: Okabe & Ito (2008) and Paul Tol's "muted"/"bright" schemes; distinct in lightness as well as
#: hue where hues are close (entropy light / margin dark blue; coreset / alfamix greens).
PALETTE: dict[str, str] = {
    "random": "#5f5f5f",  # grey: the baseline
    "least_confidence": "#332288",  # indigo
    "entropy": "#56b4e9",  # sky blue
    "margin": "#0072b2",  # blue
    "bald": "#aa4499",  # purple
    "power_bald": "#e78ac3",  # light pink
    "coreset": "#009e73",  # bluish green
    "badge": "#999933",  # olive
    "alfamix": "#117733",  # dark green
    "typiclust": "#e69f00",  # orange
    "probcover": "#882255",  # wine
    "dropquery": "#d55e00",  # vermillion: the paper's strategy
    "maxherding": "#8c510a",  # brown (reserved)
    "uherding": "#cc6677",  # rose (reserved)
    "zeroshot": "#000000",  # black (reserved)
}
#: Initial pools without a strategy of the same name (``typiclust``/``probcover`` pools share
#: their strategy's colour, ``random`` the baseline grey).
POOL_COLORS: dict[str, str] = {"centroids": "#ddcc77"}  # sand
POOLED = "#bbbbbb"  # bars pooled over several strategies

#: Marker of each initial pool; other pools get one from :data:`_EXTRA_MARKERS` by name.
POOL_MARKERS: dict[str, str] = {"random": "o", "centroids": "s", "typiclust": "^", "probcover": "D"}
_EXTRA_MARKERS = ("v", "P", "X", "h", "<", ">", "p", "*")

#: Line style and bar hatch of each option variant ("" = plain).
VARIANT_STYLES: dict[str, tuple[object, str]] = {
    "": ("-", ""),
    "+cluster": ("--", "//"),
    "+typical": ("-.", ".."),
    "+dropout": (":", "xx"),
    "+LP": ((0, (1, 1.5)), "\\\\"),
}
_EXTRA_DASHES = ((0, (5, 1, 1, 1, 1, 1)), (0, (3, 1, 3, 3)), (0, (8, 2)), (0, (1, 3)))
_EXTRA_HATCHES = ("++", "oo", "--", "||")

_CUSTOM: dict[str, str] = {}  # colours set with set_strategy_color


# ---------------------------------------------------------------------------- colours
def _stable_int(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def _srgb_to_lab(rgb: Sequence[float]) -> np.ndarray:
    c = np.asarray(rgb, dtype=float)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=float
    )
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _hex_to_rgb(color: str) -> tuple[float, float, float]:
    h = color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def color_distance(a: str, b: str) -> float:
    """CIE76 ΔE between two hex colours (≈ 2.3 is a just-noticeable difference)."""
    return float(np.linalg.norm(_srgb_to_lab(_hex_to_rgb(a)) - _srgb_to_lab(_hex_to_rgb(b))))


#: A custom colour keeps at least this ΔE from every reserved colour.
MIN_DISTANCE = 18.0


def _hashed_color(name: str) -> str:
    """A deterministic colour for a name: hue, lightness and saturation from its SHA-256,
    stepped round the hue circle (golden angle) until it is far from every reserved colour."""
    h = _stable_int(name)
    hue = (h % 3600) / 3600
    light = 0.38 + 0.22 * ((h >> 12) % 100) / 100
    sat = 0.55 + 0.35 * ((h >> 20) % 100) / 100
    reserved = [*PALETTE.values(), *POOL_COLORS.values(), POOLED]
    best, best_d = None, -1.0
    for step in range(64):
        r, g, b = colorsys.hls_to_rgb((hue + step * 0.381966) % 1.0, light, sat)
        cand = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
        d = min(color_distance(cand, c) for c in reserved)
        if d >= MIN_DISTANCE:
            return cand
        if d > best_d:
            best, best_d = cand, d
    return best  # pragma: no cover - 64 hues all near a reserved colour does not happen


def strategy_color(name: str) -> str:
    """The colour of strategy ``name`` (a strategy, not a method label: ``entropy``, not
    ``entropy+cluster``), as a lower-case hex string. Fixed for built-ins, hashed for others."""
    name = str(name)
    if name in _CUSTOM:
        return _CUSTOM[name]
    if name in PALETTE:
        return PALETTE[name]
    return _hashed_color(name)


def set_strategy_color(name: str, color: str) -> None:
    """Pin the colour of a (custom) strategy for this session, e.g. to match a paper's figure."""
    from matplotlib.colors import to_hex

    _CUSTOM[str(name)] = to_hex(color)


def pool_color(pool: str) -> str:
    """Colour of an initial pool's bar: its namesake strategy's colour, or a reserved one."""
    return POOL_COLORS.get(pool) or strategy_color(pool)


def pool_marker(pool: str) -> str:
    """The marker of initial pool ``pool`` (fixed for the four built-ins, hashed otherwise)."""
    return POOL_MARKERS.get(pool) or _EXTRA_MARKERS[_stable_int(pool) % len(_EXTRA_MARKERS)]


def shades(color: str, n: int) -> list[str]:
    """``n`` shades of ``color`` from light to the colour itself (the last one)."""
    from matplotlib.colors import to_rgb

    rgb = np.array(to_rgb(color))
    out = []
    for k in range(n):
        t = 0.0 if n == 1 else 0.65 * (n - 1 - k) / (n - 1)
        mixed = rgb + (1 - rgb) * t
        out.append("#" + "".join(f"{round(v * 255):02x}" for v in mixed))
    return out


# ---------------------------------------------------------------------------- variants
def strategy_of(method: str) -> str:
    """The strategy part of a method label: ``entropy+cluster`` → ``entropy``."""
    return re.split(r"[+(]", str(method), maxsplit=1)[0]


def variant_of(method: str, strategy: str | None = None, params: str | None = None) -> str:
    """The option variant of a method label: ``""`` (plain), ``"+cluster"``, ``"(M=5)"`` …

    ``strategy`` defaults to the label's prefix (:func:`strategy_of`).
    """
    method = str(method)
    strategy = strategy or strategy_of(method)
    return method[len(strategy) :] if method.startswith(strategy) else method


def _indexed(variant: str, table: Sequence) -> object:
    return table[_stable_int(variant) % len(table)]


def variant_linestyle(variant: str) -> object:
    """Line style of a variant: fixed for the known options, hashed for other parameters."""
    if variant in VARIANT_STYLES:
        return VARIANT_STYLES[variant][0]
    return _indexed(variant, _EXTRA_DASHES)


def variant_hatch(variant: str) -> str:
    """Bar hatch of a variant (the bar analogue of its line style)."""
    if variant in VARIANT_STYLES:
        return VARIANT_STYLES[variant][1]
    return str(_indexed(variant, _EXTRA_HATCHES))


def variant_name(variant: str) -> str:
    return variant or "plain"


# ---------------------------------------------------------------------------- backbones
# (pattern, parameters in millions): specific names before the generic ViT sizes, bigG before B
_SIZES = [
    (r"resnet18\b", 11.7),
    (r"resnet34\b", 21.8),
    (r"resnet50\b", 25.6),
    (r"resnet101\b", 44.5),
    (r"resnet152\b", 60.2),
    (r"convnext_tiny", 28.6),
    (r"convnext_small", 50.2),
    (r"convnext_base", 88.6),
    (r"convnext_large", 197.8),
    (r"bigg", 1845.0),
    (r"vit[-_]?g|giant", 1011.0),
    (r"vit[-_]?h|huge", 632.0),
    (r"vit[-_]?l|large", 304.0),
    (r"vit[-_]?b|base", 86.0),
    (r"vit[-_]?s|small", 22.0),
    (r"vit[-_]?t|tiny", 5.7),
]


def backbone_size(name: str) -> float:
    """Approximate parameters (millions) of a backbone's image tower, ``inf`` when unknown."""
    low = str(name).lower()
    for pattern, size in _SIZES:
        if re.search(pattern, low):
            return size
    return math.inf


def _family(name: str) -> str:
    return re.split(r"[:_]", str(name), maxsplit=1)[0].lower()


def backbone_order(names: Iterable[str]) -> list[str]:
    """Backbones grouped by family (families in order of their smallest model), each family from
    small to large (DINOv2 S < B < L < g, OpenCLIP B < L < H < g < bigG); unknown sizes last."""
    names = sorted(set(map(str, names)))
    smallest: dict[str, float] = {}
    for n in names:
        smallest[_family(n)] = min(smallest.get(_family(n), math.inf), backbone_size(n))
    return sorted(names, key=lambda n: (smallest[_family(n)], _family(n), backbone_size(n), n))


def short_backbone(name: str) -> str:
    """``openclip:ViT-bigG-14:laion2b_s39b_b160k`` → ``openclip ViT-bigG-14``."""
    parts = str(name).split(":")
    return " ".join(parts[:2]) if len(parts) > 2 else str(name)


# ---------------------------------------------------------------------------- text
def short_title(text: str, width: int = 26, max_lines: int = 3) -> str:
    """Wrap a long name (a synthetic data set spec, a long backbone) onto a few short lines.

    ``synthetic:N=2000,d=32,C=8,seed=0,noise=2.0`` → ``synthetic N=2000, d=32, C=8,`` /
    ``seed=0, noise=2.0``.
    """
    text = str(text)
    if len(text) <= width:
        return text
    spaced = re.sub(r"([,;])(?=\S)", r"\1 ", text).replace(":", " ", 1)
    lines = textwrap.wrap(spaced, width, break_long_words=True, break_on_hyphens=False)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def setting_title(dataset: str, backbone: str | None = None) -> str:
    """Panel title of a (dataset, backbone) setting: one line when short, wrapped otherwise."""
    if backbone is None:
        return short_title(dataset)
    one = f"{dataset} · {short_backbone(backbone)}"
    return one if len(one) <= 26 else f"{short_title(dataset)}\n{short_backbone(backbone)}"


# ---------------------------------------------------------------------------- axes
ACCURACY_LABELS = {
    "accuracy": "Top-1 accuracy (%)",
    "balanced_accuracy": "Balanced accuracy (%)",
    "macro_f1": "Macro F1 (%)",
}


def metric_label(metric: str) -> str:
    return ACCURACY_LABELS.get(metric, f"{metric.replace('_', ' ').capitalize()} (%)")


def metric_name(metric: str) -> str:
    return metric.replace("_", " ")


def integer_axis(axis, values: Sequence[float] | None = None, max_fixed: int = 8) -> None:
    """Integer ticks: at ``values`` themselves when there are few, else a MaxNLocator(integer)."""
    vals = sorted({int(v) for v in values}) if values is not None else []
    if vals and len(vals) <= max_fixed:
        axis.set_major_locator(FixedLocator(vals))
    else:
        axis.set_major_locator(MaxNLocator(integer=True, nbins=6))


#: Inches added to a figure's width for the legend beside its panels.
LEGEND_WIDTH = 2.1


def grid(
    n: int, ncols: int, size: tuple[float, float], legend: bool = True
) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure with ``n`` visible panels, ``ncols`` per row (and room on the
    right for the legend)."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(
        figsize=(size[0] * ncols + (LEGEND_WIDTH if legend else 0), size[1] * nrows + 0.35),
        layout="constrained",
    )
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def share_y(axes: Sequence, hide_inner: bool = True) -> None:
    """One y range over ``axes``; y labels and tick labels only on each row's first panel."""
    axes = [ax for ax in axes if ax.get_visible()]
    if not axes:
        return
    lo = min(ax.get_ylim()[0] for ax in axes)
    hi = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(lo, hi)
    if hide_inner:
        rows: dict[int, list] = {}
        for ax in axes:
            rows.setdefault(ax.get_subplotspec().rowspan.start, []).append(ax)
        for row in rows.values():
            row.sort(key=lambda a: a.get_subplotspec().colspan.start)
            for ax in row[1:]:
                ax.set_ylabel("")
                ax.tick_params(labelleft=False)


# ---------------------------------------------------------------------------- legend
def line_handle(color="0.25", linestyle="-", marker=None, **kw) -> Line2D:
    return Line2D([], [], color=color, linestyle=linestyle, marker=marker, lw=1.6, ms=5, **kw)


def patch_handle(color="0.6", hatch="", alpha=1.0, **kw) -> Patch:
    return Patch(facecolor=color, edgecolor="0.2", hatch=hatch, alpha=alpha, lw=0.6, **kw)


def figure_legend(fig: Figure, sections: Sequence[tuple[str | None, list[tuple[str, object]]]]):
    """One legend for the figure, outside the panels on the right, in titled sections.

    ``sections``: ``[(title or None, [(label, handle), ...]), ...]``; empty sections are dropped,
    and a title is shown only when there are several sections. Returns the legend (or None).
    """
    sections = [(t, entries) for t, entries in sections if entries]
    if not sections:
        return None
    blocks = []  # one list of (label, handle, bold) per section
    for title, entries in sections:
        block = []
        if title and len(sections) > 1:
            block.append((title, Line2D([], [], color="none"), True))
        block += [(label, handle, False) for label, handle in entries]
        blocks.append(block)
    rows = [row for block in blocks for row in block]
    ncols = 1 if len(rows) <= 16 else 2
    if ncols == 2:
        # break the columns between sections (matplotlib fills column by column): the section
        # boundary nearest the middle, blank spacer rows to even up the columns
        sizes = np.cumsum([len(b) for b in blocks])
        cut = int(sizes[np.argmin(np.abs(sizes[:-1] - len(rows) / 2))]) if len(sizes) > 1 else 0
        if cut:
            first, second = rows[:cut], rows[cut:]
            height = max(len(first), len(second))
            spacer = ("", Line2D([], [], color="none"), False)
            rows = (
                first
                + [spacer] * (height - len(first))
                + second
                + [spacer] * (height - len(second))
            )
    leg = fig.legend(
        [r[1] for r in rows],
        [r[0] for r in rows],
        loc="outside right center",
        ncols=ncols,
        frameon=False,
        fontsize=8,
        handlelength=2.6,
    )
    bold = [i for i, r in enumerate(rows) if r[2]]
    for i in bold:
        leg.get_texts()[i].set_fontweight("bold")
    return leg


# ---------------------------------------------------------------------------- notes
def add_notes(fig: Figure, notes: Sequence[str]) -> Figure:
    """Say what a figure left out and why: a footnote under the panels, and ``fig.alkit_notes``."""
    notes = [n for n in dict.fromkeys(notes) if n]
    fig.alkit_notes = list(notes)  # type: ignore[attr-defined]
    if notes:
        lines = [textwrap.fill("Not shown: " + n, 120) for n in notes]
        text = "\n".join(lines)
        height = fig.get_figheight()
        bottom = min(0.4, (0.13 * text.count("\n") + 0.2) / height)
        engine = fig.get_layout_engine()
        if engine is not None and hasattr(engine, "set"):
            engine.set(rect=(0, bottom, 1, 1 - bottom))
        fig.text(0.005, 0.005, text, ha="left", va="bottom", fontsize=7, color="0.35")
    return fig


def notes_of(fig: Figure) -> list[str]:
    """What ``fig`` left out (see :func:`add_notes`)."""
    return list(getattr(fig, "alkit_notes", []))


# ---------------------------------------------------------------------------- saving
_FORMATS = ("png", "svg")


def save_figure(
    fig: Figure, path: str | os.PathLike, formats: Sequence[str] = _FORMATS, dpi: int = 150
) -> list[Path]:
    """Write ``fig`` as ``<path>.<fmt>`` for every format (default PNG and SVG); returns the paths.

    A suffix on ``path`` is replaced. SVGs carry no date, so reruns give identical files.
    """
    base = Path(path)
    if base.suffix.lower().lstrip(".") in ("png", "svg", "pdf"):
        base = base.with_suffix("")
    out = []
    for fmt in formats:
        target = base.parent / f"{base.name}.{fmt}"
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        with atomic_path(target, f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
        out.append(target)
    return out


def finish(fig: Figure, path, notes: Sequence[str] = ()) -> Figure:
    add_notes(fig, notes)
    if path is not None:
        save_figure(fig, path)
    return fig


def strategy_map(df) -> dict[str, str]:
    """``{method: strategy}`` from a results table (its ``strategy`` column, else the label)."""
    if "strategy" in df.columns:
        pairs = df[["method", "strategy"]].drop_duplicates()
        return dict(zip(pairs["method"].astype(str), pairs["strategy"].astype(str)))
    return {str(m): strategy_of(m) for m in df["method"].unique()}


def params_of(value) -> dict:
    try:
        return json.loads(value) if isinstance(value, str) and value else {}
    except json.JSONDecodeError:
        return {}
