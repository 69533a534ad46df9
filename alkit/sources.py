"""Names of embedding sets: the built-in ones (``digits``, ``synthetic:…``, generated offline),
the cache of embedded data sets (``<dataset>__<backbone>`` keys under ``$ALKIT_HOME/embeddings``)
and paths, all resolved by :func:`load_embeddings`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._files import alkit_home
from .data import EmbeddingSet
from .errors import CorruptCacheError, InvalidInputError, UnknownNameError
from .validation import check_features, check_float, check_int, parse_int

__all__ = [
    "BUILTINS",
    "load_builtin",
    "is_builtin",
    "digits",
    "synthetic",
    "parse_synthetic",
    "load_embeddings",
    "embeddings_dir",
    "cache_key",
    "cached_keys",
    "locate",
    "resolve_path",
]

BUILTINS = {"digits": "sklearn's 8x8 handwritten digits (1 797 images, 10 classes), raw pixels"}

_SYNTH_DEFAULTS = {
    "N": 5000,
    "d": 64,
    "C": 10,
    "seed": 0,
    "noise": 1.0,
    "modes": 3,
    "test": None,
    "imbalance": 0.0,
    "text_noise": None,
}
_CHUNK = 65536


def digits(test_size: float = 0.3, seed: int = 0) -> EmbeddingSet:
    """sklearn's bundled digits as an :class:`EmbeddingSet` (the embedded default).

    Features are the 64 raw pixel intensities (0–16), *not* foundation-model
    embeddings: the set exists so that everything runs offline in seconds.
    The train/test split is stratified with a fixed seed.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = data.data.astype(np.float32)
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    return EmbeddingSet(
        x_tr,
        y_tr,
        x_te,
        y_te,
        classes=[str(c) for c in data.target_names],
        meta={
            "dataset": "digits",
            "backbone": "raw-pixels",
            "features": "raw 8x8 pixels, not foundation embeddings",
            "source": "sklearn.datasets.load_digits",
            "split": f"stratified test_size={test_size} seed={seed}",
        },
    )


def parse_synthetic(spec: str) -> dict:
    """Parse ``"synthetic:N=50000,d=768,C=100,seed=0"`` into a parameter dict.

    Keys: ``N`` (train size), ``d``, ``C``, ``seed``, ``noise`` (difficulty: within-class spread
    relative to the class separation, default 1.0), ``modes`` (sub-clusters per class, default 3),
    ``test`` (test size, default ``min(max(N // 5, 5 C), 50 000)``), ``imbalance`` (0 = balanced;
    ``r`` gives class frequencies decaying as ``exp(-r c / C)``), ``text_noise`` (attach "class
    text" vectors: the known class directions plus noise of norm ≈ ``text_noise``; 0 = exact;
    absent = no text).
    """
    params = dict(_SYNTH_DEFAULTS)
    body = spec.split(":", 1)[1] if ":" in spec else ""
    for item in filter(None, (s.strip() for s in body.split(","))):
        if "=" not in item:
            raise InvalidInputError(
                f"Malformed synthetic spec {spec!r}: {item!r} is not KEY=VALUE."
            )
        key, val = (s.strip() for s in item.split("=", 1))
        if key not in params:
            raise InvalidInputError(
                f"Unknown synthetic parameter {key!r} in {spec!r}; valid: {sorted(params)}."
            )
        where = f"synthetic parameter {key} in {spec!r}"
        if key in ("noise", "imbalance", "text_noise"):
            try:
                params[key] = float(val)
            except ValueError:
                raise InvalidInputError(f"{where} must be a number; got {val!r}.") from None
            params[key] = check_float(params[key], where, min=0.0)
        else:
            params[key] = parse_int(val, where)  # "1.5" is an error, never truncated to 1
    for key in ("N", "d", "C", "modes"):
        check_int(params[key], f"synthetic parameter {key}", min=2 if key == "C" else 1)
    check_int(params["seed"], "synthetic parameter seed", min=0)
    if params["test"] is not None:
        check_int(params["test"], "synthetic parameter test", min=0)
    if params["test"] is None:
        params["test"] = int(min(max(params["N"] // 5, 5 * params["C"]), 50_000))
    return params


def _generate(
    n: int, centres: np.ndarray, class_p: np.ndarray, noise: float, ss: np.random.SeedSequence
):
    """Draw ``n`` points in chunks of fixed size (deterministic whatever the total)."""
    n_classes, modes, d = centres.shape
    x = np.empty((n, d), dtype=np.float32)
    y = np.empty(n, dtype=np.int64)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for i, child in enumerate(ss.spawn(n_chunks)):
        rng = np.random.default_rng(child)
        lo, hi = i * _CHUNK, min(n, (i + 1) * _CHUNK)
        m = hi - lo
        yc = rng.choice(n_classes, size=m, p=class_p)
        mode = rng.integers(0, modes, size=m)
        pts = rng.standard_normal((m, d), dtype=np.float32)
        pts *= np.float32(noise / np.sqrt(d))
        pts += centres[yc, mode]
        pts /= np.linalg.norm(pts, axis=1, keepdims=True)
        x[lo:hi] = pts
        y[lo:hi] = yc
    return x, y


def synthetic(
    N: int = 5000,
    d: int = 64,
    C: int = 10,
    seed: int = 0,
    noise: float = 1.0,
    modes: int = 3,
    test: int | None = None,
    imbalance: float = 0.0,
    text_noise: float | None = None,
) -> EmbeddingSet:
    """A class-structured mixture on the unit sphere, generated on the fly.

    Each class has a random unit direction; each of its ``modes`` sub-clusters sits
    at that direction plus a smaller random offset; points add isotropic noise of
    norm ≈ ``noise`` and are projected onto the sphere. Larger ``noise`` = harder.
    Generated in fixed chunks into one preallocated float32 array, so
    N = 1.28M, d = 1536, C = 1000 needs ≈ 7.9 GB for ``x_train`` plus one chunk.
    Never cached (regenerating is cheaper than reading it back).

    With ``text_noise`` (a number ≥ 0) the set carries ``class_text``: each class's direction
    plus isotropic noise of norm ≈ ``text_noise``, normalised; a stand-in for CLIP's class-name
    embeddings whose quality is known (0 = the true directions). The other arrays are the same
    with or without it.
    """
    ss = np.random.SeedSequence([int(seed), 0xA1])
    s_centres, s_train, s_test, s_text = ss.spawn(4)  # the first three as before text existed
    rng = np.random.default_rng(s_centres)
    class_dir = rng.standard_normal((C, d)).astype(np.float32)
    class_dir /= np.linalg.norm(class_dir, axis=1, keepdims=True)
    offsets = rng.standard_normal((C, modes, d)).astype(np.float32)
    offsets /= np.linalg.norm(offsets, axis=2, keepdims=True)
    centres = class_dir[:, None, :] + np.float32(0.6) * offsets
    centres /= np.linalg.norm(centres, axis=2, keepdims=True)
    weights = np.exp(-imbalance * np.arange(C) / C)
    class_p = weights / weights.sum()
    if test is None:
        test = int(min(max(N // 5, 5 * C), 50_000))
    x_tr, y_tr = _generate(N, centres, class_p, noise, s_train)
    x_te, y_te = _generate(test, centres, class_p, noise, s_test) if test > 0 else (None, None)
    spec = f"synthetic:N={N},d={d},C={C},seed={seed}"
    extra = {
        k: v
        for k, v in dict(
            noise=noise, modes=modes, imbalance=imbalance, text_noise=text_noise
        ).items()
        if v != _SYNTH_DEFAULTS[k]
    }
    if extra:
        spec += "," + ",".join(f"{k}={v}" for k, v in extra.items())
    class_text, text_meta = None, {}
    if text_noise is not None:
        trng = np.random.default_rng(s_text)
        jitter = trng.standard_normal(class_dir.shape).astype(np.float32) / np.float32(np.sqrt(d))
        class_text = class_dir + np.float32(check_float(text_noise, "text_noise", min=0.0)) * jitter
        class_text /= np.linalg.norm(class_text, axis=1, keepdims=True)
        text_meta = {
            "text": {
                "source": "synthetic class directions",
                "noise": float(text_noise),
                "n_templates": 0,
            }
        }
    return EmbeddingSet(
        x_tr,
        y_tr,
        x_te,
        y_te,
        classes=[f"class_{c}" for c in range(C)],
        meta={
            "dataset": spec,
            "backbone": "synthetic",
            "features": "unit-sphere class mixture",
            "params": dict(
                N=N, d=d, C=C, seed=seed, noise=noise, modes=modes, test=test, imbalance=imbalance
            ),
            **text_meta,
        },
        class_text=class_text,
    )


def is_builtin(name: str) -> bool:
    """Whether ``name`` is generated rather than read (``digits``, ``synthetic[:…]``)."""
    return name in BUILTINS or name == "synthetic" or name.startswith("synthetic:")


def load_builtin(name: str) -> EmbeddingSet:
    """Load ``"digits"`` or a ``"synthetic:…"`` spec."""
    if name == "digits":
        return digits()
    if name == "synthetic" or name.startswith("synthetic:"):
        emb = synthetic(**parse_synthetic(name))
        emb.meta["dataset"] = name  # keep the caller's spelling: results are keyed by it
        return emb
    raise InvalidInputError(
        f"{name!r} is not a built-in set; built-ins: {sorted(BUILTINS)} and synthetic:…"
    )


# ------------------------------------------------------------------ names and the cache
def embeddings_dir() -> Path:
    """Where cached embeddings live: ``$ALKIT_HOME/embeddings``."""
    return alkit_home() / "embeddings"


def cache_key(dataset: str, backbone: str) -> str:
    """The cache key of a (data set, backbone) pair: ``<dataset>__<backbone>``."""
    return f"{dataset}__{backbone}"


def locate(key: str) -> Path | None:
    """The cached file or directory of a ``<dataset>__<backbone>`` key, or ``None``."""
    safe = key.replace(":", "-").replace("/", "-")
    for cand in (embeddings_dir() / f"{safe}.npz", embeddings_dir() / safe):
        if cand.exists():
            return cand
    return None


def resolve_path(name: str | os.PathLike) -> Path | None:
    """The file or directory an embedding name reads: ``name`` itself when it is an existing
    path, else the cached file of a ``<dataset>__<backbone>`` key; ``None`` for neither
    (built-in sets, :func:`is_builtin`, are generated and have no file)."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    return locate(str(name))


def cached_keys() -> list[str]:
    """The ``<dataset>__<backbone>`` keys present in the cache."""
    root = embeddings_dir()
    if not root.exists():
        return []
    keys = []
    for p in sorted(root.iterdir()):
        if p.name.startswith("."):
            continue
        if p.suffix == ".npz" or (p.is_dir() and (p / "meta.json").exists()):
            try:
                meta = json.loads((p / "meta.json").read_text()) if p.is_dir() else None
            except Exception:
                meta = None
            if meta is None and p.suffix == ".npz":
                try:
                    with np.load(p, allow_pickle=False) as z:
                        meta = json.loads(bytes(z["__meta__"]).decode())
                except Exception:
                    meta = {}
            ds, bb = (meta or {}).get("dataset"), (meta or {}).get("backbone")
            keys.append(cache_key(ds, bb) if ds and bb else p.stem)
    return keys


def load_embeddings(name_or_path: str | os.PathLike) -> EmbeddingSet:
    """Load an :class:`EmbeddingSet` by name or path.

    Parameters
    ----------
    name_or_path : str or path
        ``"digits"`` (sklearn's bundled digits: raw pixels, offline), ``"synthetic:N=…,d=…,C=…,seed=…"``
        (generated on the fly, never cached), a cached ``"<dataset>__<backbone>"`` key
        (see ``alkit datasets``), or a path to a ``.npz`` / directory written by :meth:`EmbeddingSet.save`.

    Raises
    ------
    UnknownNameError
        Listing the built-in names and the cached keys.
    """
    if isinstance(name_or_path, EmbeddingSet):
        return name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path).strip():
        raise InvalidInputError(
            f"load_embeddings takes a name or a path; got {name_or_path!r}. Try 'digits', "
            "'synthetic:N=2000,d=32,C=8,seed=0' or a file written by EmbeddingSet.save."
        )
    name = str(name_or_path)
    if name in BUILTINS or name.startswith("synthetic"):
        return load_builtin(name)
    path = Path(name).expanduser()
    if path.exists():
        if path.suffix == ".npy":
            try:
                x = np.load(path, allow_pickle=False)
            except (OSError, ValueError, EOFError) as exc:
                raise CorruptCacheError(
                    f"Feature file {path} is truncated or not a numeric .npy array ({exc}); "
                    "save it again with np.save(path, features)."
                ) from exc
            x = check_features(x, f"the features in {path}")
            return EmbeddingSet(
                x,
                -np.ones(len(x), dtype=np.int64),
                meta={"dataset": path.stem, "source": str(path)},
            )
        return EmbeddingSet.load(path)
    cached = locate(name)
    if cached is not None:
        return EmbeddingSet.load(cached)
    keys = cached_keys()
    raise UnknownNameError(
        f"Unknown embeddings {name!r}. {_next_step(name)} Built-in: {sorted(BUILTINS)} and "
        f"'synthetic:N=…,d=…,C=…,seed=…'; cached in {embeddings_dir()}: {keys or 'none'}; "
        "or pass a path to a .npz/.npy file."
    )


def _next_step(name: str) -> str:
    """The command that creates the missing embeddings ``name`` names, when it can be told."""
    from .cards import available_cards, load_card

    dataset, _, backbone = name.partition("__")
    if dataset in available_cards():
        backbone = backbone or load_card(dataset).paper.get("backbone", "BACKBONE")
        return (
            f"Embed it first: `alkit embed --dataset {dataset} --backbone {backbone}` "
            f"(`alkit embed --list-backbones` lists others), then use "
            f"`--dataset {dataset}__{backbone}`."
        )
    return "Create a cache entry with `alkit embed --dataset NAME_OR_FOLDER --backbone BACKBONE`."
