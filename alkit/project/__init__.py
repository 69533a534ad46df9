"""Labeling projects: the practitioner's loop, remembered in one folder between rounds.

:class:`Project` (``core``) holds the settings, the append-only labels file (``labels``) and one
folder per round; ``alkit project`` and ``alkit next --project`` (``cli``) drive it from the
command line, :class:`alkit.widgets.LabelingLoop` (``project=``) from a notebook. See
``docs/labeling.md``.
"""

from .core import FORMATS, LABELS_FILE, PROJECT_FILE, Project, RoundResult
from .labels import HEADER, SOURCES, LabelRows, append_labels, read_labels

__all__ = [
    "Project",
    "RoundResult",
    "LabelRows",
    "read_labels",
    "append_labels",
    "PROJECT_FILE",
    "LABELS_FILE",
    "FORMATS",
    "HEADER",
    "SOURCES",
]
