"""Imports the strategy modules that register themselves (and their initial pools) on import."""

import importlib

for _name in ("bayesian", "diversity", "dropquery", "representative"):
    try:
        importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as _exc:  # module not written yet
        if _exc.name != f"{__package__}.{_name}":
            raise
