"""Input checks shared by every public entry point.

One place decides what alkit accepts (the model is scikit-learn's ``check_scalar`` /
``check_array``). Each check takes the value and the *name of the argument* it came from,
returns the value in its canonical type, and otherwise raises an :mod:`alkit.errors` error
whose message names the argument, shows the value and says what to pass instead.

Nothing is coerced silently: ``1.7`` for an integer, ``"False"`` for a boolean, a
``Generator`` for a seed or a boolean mask for indices are errors, never rounded or cast.
Text from a command line or a grid file goes through :func:`parse_bool` /
:func:`parse_int` first, which accept only the spellings they document.

This module sits at the bottom of the package (it imports only :mod:`alkit.errors` and
numpy), so every layer can use it; see ``docs/architecture.md``.
"""

from ._show import _show, suggest  # noqa: F401 - _show: messages of other modules
from .arrays import (
    FEATURE_ABS_MAX,
    check_class_labels,
    check_class_text,
    check_classes,
    check_features,
    check_ids,
    check_indices,
    check_labels,
    check_proba,
    check_sample_weight,
)
from .scalars import (
    check_bool,
    check_budget,
    check_choice,
    check_device,
    check_float,
    check_int,
    check_known_name,
    check_path,
    check_rng,
    check_seed,
    check_settings,
    check_str,
    parse_bool,
    parse_bool_or_none,
    parse_int,
    parse_value,
)

__all__ = [
    "parse_bool_or_none",
    "check_int",
    "check_float",
    "check_bool",
    "check_str",
    "check_choice",
    "check_seed",
    "check_rng",
    "check_path",
    "check_device",
    "check_budget",
    "check_features",
    "check_labels",
    "check_classes",
    "check_indices",
    "check_ids",
    "check_sample_weight",
    "check_class_text",
    "check_proba",
    "check_settings",
    "parse_bool",
    "parse_int",
    "parse_value",
    "check_known_name",
    "check_class_labels",
    "suggest",
    "FEATURE_ABS_MAX",
]
