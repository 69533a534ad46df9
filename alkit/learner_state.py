"""An :class:`~alkit.ActiveLearner` saved and loaded exactly: ``learner.save(dir)`` and
``ActiveLearner.load(dir)``.

The state is one file, ``<dir>/learner.npz``, written through a temporary file and a rename (a
crash leaves the previous state or none, never half of one). It holds, with a sha256 over all of
it that the loader checks:

- the configuration (strategy and parameters, initial pool, budgets, seed, probe settings,
  propagation), the class names and the ids;
- the features' checksum (dtype, shape, bytes) and, when given, where the embeddings come from
  (a name or a path): the loader refuses other features;
- the labels in acquisition order (``acquired``), the labeled mask and labels (relabels
  included), every past selection and the pending one, with their ``info``;
- the state of every random stream: the numpy bit generators of the initial pool, the probe and
  the strategy, and the probe's torch generator;
- the fitted probe (weights, BatchNorm statistics, epochs, loss curve) and whether it is stale;
- ``pool.cache`` (TypiClust's clusters, ProbCover's graph, the herding neighbour lists);
- the stopping hint's history (:mod:`alkit.stopping`).

No pickle: values are JSON, arrays are npz entries (``allow_pickle=False``), and the only objects
rebuilt are dataclasses defined in alkit itself (``BallGraph``, ``NeighbourRows``…), by name. So
``query → save → load → query`` gives exactly the indices, the ``info`` and the probe of
``query → query`` (``tests/test_learner_state.py``), on the same kind of device: a torch
generator's state does not carry over between CPU and CUDA (the loader warns and reseeds it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import math
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._files import atomic_path
from ._version import __version__
from .errors import CorruptCacheError, InvalidInputError, MissingResourceError
from .pool import Selection
from .validation import check_path

__all__ = [
    "save_learner",
    "read_state",
    "restore_learner",
    "learner_arguments",
    "saved_pool",
    "features_checksum",
    "STATE_FILE",
]

FORMAT = "alkit-learner"
FORMAT_VERSION = 1
#: The file a saved learner lives in, inside the folder given to ``save``.
STATE_FILE = "learner.npz"


def features_checksum(x: np.ndarray) -> str:
    """sha256 of a feature array's dtype, shape and bytes."""
    h = hashlib.sha256(f"{x.dtype}|{x.shape}|".encode())
    h.update(np.ascontiguousarray(x).data)
    return h.hexdigest()


# ----------------------------------------------------------------------------- values <-> JSON
class _Encoder:
    """Turns nested values into JSON, arrays into named npz entries."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value: np.ndarray, where: str) -> str:
        if value.dtype.kind in "OV":
            raise InvalidInputError(
                f"Cannot save {where}: an array of {value.dtype} objects (only numeric, boolean "
                "and text arrays are stored, never pickled)."
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def __call__(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.generic):
            if value.dtype.kind in "OV":
                raise InvalidInputError(f"Cannot save {where}: a {value.dtype} scalar.")
            return {"__scalar__": self.array(np.asarray(value).reshape(1), where)}
        if isinstance(value, np.ndarray):
            return {"__array__": self.array(value, where)}
        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.array(value.detach().cpu().numpy(), where)}
        if isinstance(value, (list, tuple)):
            items = [self(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: self(v, f"{where}[{k!r}]") for k, v in value.items()}}
            return {
                "__items__": [
                    [self(k, f"{where} key"), self(v, f"{where}[{k!r}]")] for k, v in value.items()
                ]
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = type(value)
            if not cls.__module__.startswith("alkit."):
                raise InvalidInputError(
                    f"Cannot save {where}: {cls.__module__}.{cls.__qualname__} is not an alkit "
                    "dataclass (only alkit's own are rebuilt on load)."
                )
            attrs = vars(value) if hasattr(value, "__dict__") else {
                f.name: getattr(value, f.name) for f in dataclasses.fields(value)
            }  # fmt: skip
            return {
                "__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "attrs": {k: self(v, f"{where}.{k}") for k, v in attrs.items()},
            }
        raise InvalidInputError(
            f"Cannot save {where}: a {type(value).__module__}.{type(value).__qualname__} "
            "(alkit stores numbers, text, arrays, lists, dicts and alkit dataclasses, never "
            "pickles). Remove it from pool.cache before saving."
        )


def _decode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict) or len(obj) not in (1, 2):
        raise CorruptCacheError(f"unexpected entry {str(obj)[:80]} in a saved learner")
    (tag,) = [k for k in obj if k.startswith("__")]
    body = obj[tag]
    if tag == "__float__":
        return float(body)
    if tag == "__scalar__":
        return arrays[body][0]
    if tag == "__array__":
        return arrays[body]
    if tag == "__tensor__":
        return torch.from_numpy(arrays[body].copy())
    if tag == "__tuple__":
        return tuple(_decode(v, arrays) for v in body)
    if tag == "__dict__":
        return {k: _decode(v, arrays) for k, v in body.items()}
    if tag == "__items__":
        return {_freeze(_decode(k, arrays)): _decode(v, arrays) for k, v in body}
    if tag == "__dataclass__":
        module, _, qualname = body.partition(":")
        if not module.startswith("alkit."):
            raise CorruptCacheError(f"a saved learner names the class {body!r}, not alkit's")
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise CorruptCacheError(f"a saved learner names {body!r}, which is not a dataclass")
        out = cls.__new__(cls)
        for k, v in obj["attrs"].items():
            object.__setattr__(out, k, _decode(v, arrays))
        return out
    raise CorruptCacheError(f"unknown tag {tag!r} in a saved learner")


def _plain(value: Any) -> Any:
    """An id as JSON: numpy scalars as their Python value, anything else but numbers as text."""
    value = value.item() if isinstance(value, np.generic) else value
    return value if isinstance(value, (int, float, str)) else str(value)


def _freeze(key: Any) -> Any:
    return tuple(_freeze(k) for k in key) if isinstance(key, list) else key


def _digest(state_text: str, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(state_text.encode())
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"|{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.data)
    return h.hexdigest()


# ----------------------------------------------------------------------------- save
def _selection(sel: Selection | None, enc: _Encoder, where: str) -> Any:
    if sel is None:
        return None
    return {
        "indices": enc.array(np.asarray(sel.indices, dtype=np.int64), where),
        "info": enc(sel.info, f"{where}.info"),
    }


def save_learner(
    learner, path: str | os.PathLike, *, embeddings: str | os.PathLike | None = None
) -> Path:
    """Write ``learner``'s whole state to ``<path>/learner.npz`` (atomically); returns the file.

    Parameters
    ----------
    learner : ActiveLearner
    path : str or path
        A folder (created when missing).
    embeddings : str or path, optional
        Where the pool's embeddings come from (a name for :func:`alkit.load_embeddings` or a
        path), so that ``ActiveLearner.load`` can find them without being given the features.
    """
    folder = check_path(path, "path")
    enc = _Encoder()
    probe = learner.probe
    fitted = probe.is_fitted
    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "alkit_version": __version__,
        "config": learner.config(),
        "classes": list(learner.classes),
        "ids": None if learner.ids is None else [_plain(i) for i in learner.ids],
        "n": int(learner.pool.n),
        "dim": int(learner.pool.x.shape[1]),
        "features_checksum": features_checksum(learner.pool.x),
        "embeddings": None if embeddings is None else str(embeddings),
        "acquired": [int(i) for i in learner.acquired],
        "labeled": enc.array(learner.pool.labeled, "labeled"),
        "labels": enc.array(learner.pool.labels, "labels"),
        "selections": [_selection(s, enc, f"selections[{i}]") for i, s in enumerate(learner.selections)],
        "pending": _selection(learner.pending, enc, "pending"),
        "stale": bool(learner._stale),
        "streams": {k: enc(g.bit_generator.state, f"stream {k}") for k, g in learner._streams.items()},
        "probe_generator": {
            "device": probe.generator.device.type,
            "state": enc.array(probe.generator.get_state().numpy(), "probe generator"),
        },
        "probe": None if not fitted else {
            **{k: enc.array(v, f"probe {k}") for k, v in probe.state_dict().items()},
            "n_epochs": int(probe.n_epochs_),
            "best_epoch": int(probe.best_epoch_),
            "loss_curve": [float(v) for v in probe.loss_curve_],
        },
        "cache": enc(learner.pool.cache, "pool.cache"),
        "stopping": {
            "kappas": [float(k) for k in learner.kappas],
            "predictions": None if learner._stop_predictions is None
            else enc.array(learner._stop_predictions, "stop-set predictions"),
            "label_version": int(learner._label_version),
            "recorded_version": int(learner._recorded_version),
        },
        "timings": {"fit": learner.last_fit_seconds, "query": learner.last_query_seconds},
    }  # fmt: skip
    text = json.dumps(state, sort_keys=True)
    arrays = dict(enc.arrays)
    arrays["__state__"] = np.frombuffer(text.encode(), dtype=np.uint8)
    arrays["__sha256__"] = np.frombuffer(_digest(text, enc.arrays).encode(), dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / STATE_FILE
    with atomic_path(out, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
    return out


# ----------------------------------------------------------------------------- load
def read_state(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The saved state of ``<path>/learner.npz`` (checked): ``(state, arrays)``."""
    folder = check_path(path, "path")
    file = folder / STATE_FILE if folder.is_dir() or not folder.suffix else folder
    if not file.is_file():
        raise MissingResourceError(f"No saved learner at {file} (learner.save(dir) writes it).")
    fix = f"save the learner again (learner.save({str(folder)!r}))"
    try:
        with np.load(file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        text = bytes(arrays.pop("__state__")).decode()
        expected = bytes(arrays.pop("__sha256__")).decode()
        state = json.loads(text)
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        io.UnsupportedOperation,
    ) as exc:
        raise CorruptCacheError(f"The saved learner {file} is unreadable ({exc}); {fix}.") from exc
    if _digest(text, arrays) != expected:
        raise CorruptCacheError(f"The saved learner {file} fails its checksum; {fix}.")
    if state.get("format") != FORMAT or state.get("format_version") != FORMAT_VERSION:
        raise CorruptCacheError(
            f"{file} is not an alkit learner of format version {FORMAT_VERSION} "
            f"(format {state.get('format')!r}, version {state.get('format_version')!r})."
        )
    return state, arrays


def _selection_back(entry: Any, arrays: dict[str, np.ndarray]) -> Selection | None:
    if entry is None:
        return None
    sel = Selection(arrays[entry["indices"]].copy())
    sel.info = _decode(entry["info"], arrays)
    return sel


def restore_learner(learner, path: str | os.PathLike):
    """Put the state saved at ``path`` into ``learner``, built with the same configuration and
    features (both are checked); returns ``learner``."""
    state, arrays = read_state(path)
    _check_same(learner, state, path)
    pool = learner.pool
    pool.labeled[:] = arrays[state["labeled"]]
    pool.labels[:] = arrays[state["labels"]]
    pool.cache.clear()
    pool.cache.update(_decode(state["cache"], arrays))
    learner.acquired = list(state["acquired"])
    learner.selections = [_selection_back(s, arrays) for s in state["selections"]]
    learner.pending = _selection_back(state["pending"], arrays)
    learner._stale = bool(state["stale"])
    for name, saved in state["streams"].items():
        learner._streams[name].bit_generator.state = _decode(saved, arrays)
    probe = learner.probe
    saved_gen = state["probe_generator"]
    if saved_gen["device"] == probe.generator.device.type:
        probe.generator.set_state(torch.from_numpy(arrays[saved_gen["state"]].copy()))
    else:
        warnings.warn(
            f"The probe's random stream was saved on {saved_gen['device']} and cannot be "
            f"restored on {probe.generator.device.type}: later refits differ from the saved "
            "run's (load on the same kind of device for an exact continuation).",
            RuntimeWarning,
            stacklevel=2,
        )
    fitted = state["probe"]
    if fitted is not None:
        _set_probe(probe, {k: arrays[fitted[k]] for k in PROBE_KEYS})
        probe.n_epochs_, probe.best_epoch_ = fitted["n_epochs"], fitted["best_epoch"]
        probe.loss_curve_ = list(fitted["loss_curve"])
    stop = state["stopping"]
    learner.kappas = list(stop["kappas"])
    preds = stop["predictions"]
    learner._stop_predictions = None if preds is None else arrays[preds].copy()
    learner._label_version = stop["label_version"]
    learner._recorded_version = stop["recorded_version"]
    learner.last_fit_seconds = state["timings"]["fit"]
    learner.last_query_seconds = state["timings"]["query"]
    return learner


#: The arrays of ``LinearProbe.state_dict``.
PROBE_KEYS = ("weight", "bias", "running_mean", "running_var")


def _set_probe(probe, state: dict[str, np.ndarray]) -> None:
    """Give ``probe`` the weights and BatchNorm statistics of ``state_dict()`` (it then predicts
    exactly as the probe they came from)."""
    t = {
        k: torch.from_numpy(np.array(state[k], dtype=np.float32)).to(probe.device)
        for k in PROBE_KEYS
    }
    c, d = t["weight"].shape
    if c != probe.n_classes or t["bias"].shape != (c,) or t["running_mean"].shape != (d,):
        raise CorruptCacheError(f"a saved probe of shape {tuple(t['weight'].shape)} does not fit")
    probe.weight_, probe.bias_ = t["weight"], t["bias"]
    probe.running_mean_, probe.running_var_ = t["running_mean"], t["running_var"]
    probe.n_features_ = int(d)
    probe._fold()


def _check_same(learner, state: dict, path) -> None:
    mine = {
        "config": learner.config(),
        "classes": list(learner.classes),
        "n": learner.pool.n,
        "dim": int(learner.pool.x.shape[1]),
    }
    theirs = {k: state[k] for k in mine}
    same = [
        json.dumps(mine[k], sort_keys=True) == json.dumps(theirs[k], sort_keys=True) for k in mine
    ]
    diff = [k for k, equal in zip(mine, same) if not equal]
    if diff:
        k = diff[0]
        raise InvalidInputError(
            f"The learner saved at {path} differs from this one in its {k}: saved "
            f"{str(theirs[k])[:200]}, here {str(mine[k])[:200]}."
        )
    if features_checksum(learner.pool.x) != state["features_checksum"]:
        raise InvalidInputError(
            f"The learner saved at {path} was built on other features (their checksum differs): "
            "pass the same embeddings it was saved with."
        )


def learner_arguments(state: dict) -> dict:
    """The ``ActiveLearner`` keyword arguments of a saved state (all but the pool and device)."""
    cfg = state["config"]
    return {
        "strategy": cfg["strategy"],
        "initial_pool": cfg["initial_pool"],
        "budget": cfg["budget"],
        "initial_budget": cfg["initial_budget"],
        "seed": cfg["seed"],
        "probe": cfg["probe"],
        "propagation": cfg["propagation"],
        "classes": state["classes"],
        "ids": state["ids"],
        **cfg["params"],
    }


def saved_pool(state: dict, path, emb_or_x: Any = None) -> np.ndarray:
    """The pool features for a saved state: ``emb_or_x``, or those its ``embeddings`` names."""
    from .data import EmbeddingSet

    if emb_or_x is None:
        if not state.get("embeddings"):
            raise InvalidInputError(
                f"The learner saved at {path} does not say where its embeddings are: pass them, "
                "ActiveLearner.load(dir, emb_or_x), or save with embeddings='name or path'."
            )
        from .sources import load_embeddings

        emb_or_x = load_embeddings(state["embeddings"])
    return emb_or_x.x_train if isinstance(emb_or_x, EmbeddingSet) else emb_or_x
