"""Built-in embedding sets that need no download: ``digits`` and ``synthetic:…``."""

from __future__ import annotations

import numpy as np

from .data import EmbeddingSet
from .errors import InvalidInputError

__all__ = ["BUILTINS", "load_builtin", "digits", "synthetic", "parse_synthetic"]

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
    ``r`` gives class frequencies decaying as ``exp(-r c / C)``).
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
        try:
            params[key] = float(val) if key in ("noise", "imbalance") else int(float(val))
        except ValueError as exc:
            raise InvalidInputError(f"synthetic parameter {key}={val!r} is not a number.") from exc
    for key in ("N", "d", "C"):
        if params[key] < 1:
            raise InvalidInputError(f"synthetic parameter {key} must be ≥ 1, got {params[key]}.")
    if params["C"] < 2:
        raise InvalidInputError("synthetic parameter C must be ≥ 2 classes.")
    if params["modes"] < 1:
        raise InvalidInputError("synthetic parameter modes must be ≥ 1.")
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
) -> EmbeddingSet:
    """A class-structured mixture on the unit sphere, generated on the fly.

    Each class has a random unit direction; each of its ``modes`` sub-clusters sits
    at that direction plus a smaller random offset; points add isotropic noise of
    norm ≈ ``noise`` and are projected onto the sphere. Larger ``noise`` = harder.
    Generated in fixed chunks into one preallocated float32 array, so
    N = 1.28M, d = 1536, C = 1000 needs ≈ 7.9 GB for ``x_train`` plus one chunk.
    Never cached (regenerating is cheaper than reading it back).
    """
    ss = np.random.SeedSequence([int(seed), 0xA1])
    s_centres, s_train, s_test = ss.spawn(3)
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
        for k, v in dict(noise=noise, modes=modes, imbalance=imbalance).items()
        if v != _SYNTH_DEFAULTS[k]
    }
    if extra:
        spec += "," + ",".join(f"{k}={v}" for k, v in extra.items())
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
        },
    )


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
