"""Label propagation on a kNN graph of the pool (the paper's fourth pillar; docs/analysis.md).

The graph is built once per run on the L2-normalised train features and reused every
iteration; only the labeled set changes between calls. The iteration is a sparse × dense
matrix product: ``scipy.sparse`` on CPU, ``torch`` sparse CSR on CUDA.

References
----------
Zhou, D., Bousquet, O., Lal, T. N., Weston, J. & Schölkopf, B. (2004). Learning with local
and global consistency. NeurIPS.

Iscen, A., Tolias, G., Avrithis, Y. & Chum, O. (2019). Label propagation for deep
semi-supervised learning. CVPR.

Gupte, S. R., Aklilu, J., Nirschl, J. J. & Yeung-Levy, S. (2024). Revisiting active learning
in the era of vision foundation models. TMLR.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from ._devices import resolve_device
from ._kernels.norms import l2_normalize
from .cluster import knn
from .errors import InvalidInputError
from .validation import check_choice, check_features, check_float, check_int, check_settings

__all__ = [
    "LabelPropagator",
    "DEFAULTS",
    "VARIANTS",
    "propagation_weights",
    "check_propagation_settings",
]

#: Settings accepted by :class:`LabelPropagator` and their defaults.
#: ``alpha=None`` means the variant's own default (see :data:`VARIANTS`).
DEFAULTS: dict[str, Any] = {
    "variant": "reference",
    "k": 500,
    "alpha": None,
    "gamma": 1.0,
    "n_iter": 100,
    "tol": 1e-7,
    "dtype": "float64",
}

#: Per variant: the default α and whether the degree counts edges or sums their weights.
VARIANTS: dict[str, dict[str, Any]] = {
    # the reference implementation: F ← (1 − α) S F + α Y₀, D = number of nonzeros per row
    "reference": {"alpha": 0.9, "degree": "count"},
    # Zhou et al. (2004): F ← α S F + (1 − α) Y₀, D = weighted degree
    "zhou": {"alpha": 0.99, "degree": "weighted"},
}

_KNN_CHUNK = 8192  # query rows per kNN call: bounds the (chunk, k) temporaries


@dataclass
class _Graph:
    """The normalised diffusion matrix S = D^-½ W D^-½ of one feature matrix."""

    shape: tuple[int, int]
    fingerprint: str
    full_hash: str
    matrix: sp.csr_matrix  # CPU copy, always kept (small: ≤ 2·N·k entries)
    torch_matrix: Any = None  # torch sparse CSR on the compute device, when CUDA


def _sample_fingerprint(x: np.ndarray) -> str:
    """A cheap fingerprint: shape, dtype and ≤ 1024 evenly spaced rows."""
    step = max(1, len(x) // 1024)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((x.shape, x.dtype.str)).encode())
    h.update(np.ascontiguousarray(x[::step]).tobytes())
    return h.hexdigest()


def _full_hash(x: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((x.shape, x.dtype.str)).encode())
    h.update(np.ascontiguousarray(x).data)
    return h.hexdigest()


def propagation_weights(f: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-labels and confidence weights from propagated scores.

    Parameters
    ----------
    f : ndarray of shape (n, C)
        Non-negative propagated class scores.
    n_classes : int
        C (≥ 2); the entropy is normalised by log C.

    Returns
    -------
    targets : ndarray of shape (n,), int64
        ``argmax f``; ``-1`` for rows with no mass.
    weights : ndarray of shape (n,), float32
        ``1 − H(f̂)/log C`` with ``f̂`` the row-normalised scores (0·log 0 = 0), in [0, 1];
        0 for rows with no mass (they carry no label and must not be trained on).
    """
    f = np.asarray(f, dtype=np.float64)
    mass = f.sum(axis=1)
    has_mass = np.isfinite(mass) & (mass > 0)
    p = np.zeros_like(f)
    p[has_mass] = f[has_mass] / mass[has_mass, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    entropy = -plogp.sum(axis=1)
    weights = np.clip(1.0 - entropy / np.log(n_classes), 0.0, 1.0)
    weights[~has_mass] = 0.0
    targets = np.where(has_mass, f.argmax(axis=1), -1).astype(np.int64)
    return targets, weights.astype(np.float32)


def check_propagation_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Validate label propagation settings; return them resolved (defaults and ``alpha`` filled in).

    The checks of :class:`LabelPropagator`, callable without building one (a sweep checks its
    grid's settings before any cell starts).

    Parameters
    ----------
    settings : dict or None
        Keys of :data:`DEFAULTS`.

    Raises
    ------
    InvalidInputError
        An unknown setting (naming the closest valid one), an unknown variant, or a value out
        of range.
    """
    settings = check_settings(settings, "label propagation settings", DEFAULTS)
    s = {**DEFAULTS, **settings}
    check_choice(s["variant"], "propagation variant", sorted(VARIANTS))
    if s["alpha"] is None:
        s["alpha"] = VARIANTS[s["variant"]]["alpha"]
    s["k"] = check_int(s["k"], "propagation k", min=1)
    s["n_iter"] = check_int(s["n_iter"], "propagation n_iter", min=1)
    s["alpha"] = check_float(
        s["alpha"], "propagation alpha", min=0.0, max=1.0, min_open=True, max_open=True
    )
    s["gamma"] = check_float(s["gamma"], "propagation gamma", min=0.0, min_open=True)
    s["tol"] = check_float(s["tol"], "propagation tol", min=0.0)
    check_choice(s["dtype"], "propagation dtype", ("float64", "float32"))
    return s


class LabelPropagator:
    """Label propagation over an exact kNN graph, built once and reused across calls.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        Where the kNN search and the iteration run (torch sparse on CUDA, scipy on CPU).
    variant : {"reference", "zhou"}
        ``"reference"`` (default) reproduces the paper's code: F ← (1 − α) S F + α Y₀ with the
        degree counting edges; ``"zhou"`` is Zhou et al.: F ← α S F + (1 − α) Y₀, weighted degree.
    k : int
        Neighbours per point (capped at N − 1); 500 in the paper.
    alpha : float, optional
        In (0, 1). ``None`` = the variant's default (0.9 reference, 0.99 zhou).
    gamma : float
        Edge weight ((1 + cos)/2)^γ, clipped to [0, 1].
    n_iter : int
        Maximum number of iterations (100 in the paper).
    tol : float
        Stop early once every entry of F changes by at most ``tol`` relative to its value
        (``tol=0`` always runs ``n_iter`` steps, like the reference). The test is relative so
        that it cannot stop before the labels have reached every node of a component.
    dtype : {"float64", "float32"}
        Precision of S and F. float64 (default) because the reference variant shrinks mass by
        (1 − α) = 0.1 per hop, which underflows float32 after ~40 hops on sparse graphs.

    Attributes
    ----------
    settings : dict
        The resolved settings (``alpha`` filled in).
    n_graph_builds : int
        How many times a graph was built (1 per run when the features do not change).
    last_n_iter : int
        Iterations run by the last :meth:`scores` call.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    >>> lp = LabelPropagator(k=10, device="cpu")
    >>> targets, weights = lp.propagate(x, np.array([0, 1]), np.array([0, 1]), n_classes=2)
    >>> targets.shape, weights.dtype.name, lp.n_graph_builds
    ((200,), 'float32', 1)
    """

    def __init__(self, device: str = "auto", **settings: Any) -> None:
        s = check_propagation_settings(settings)
        self.settings = s
        self.device = resolve_device(device)
        self.n_graph_builds = 0
        self.last_n_iter = 0
        self._graph: _Graph | None = None
        self._x_ref: np.ndarray | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"LabelPropagator({args}, device={str(self.device)!r})"

    # ------------------------------------------------------------------ graph
    def graph(self, x: np.ndarray) -> sp.csr_matrix:
        """The symmetric normalised kNN graph S of ``x``, shape (N, N), built once and cached.

        The cache is kept while ``x`` is the same array (same object and sampled
        fingerprint) or an array with identical contents (full hash).
        """
        return self._get_graph(x).matrix

    def _get_graph(self, x: np.ndarray) -> _Graph:
        x = np.asarray(x)
        g = self._graph
        if g is not None and x.shape == g.shape:
            if x is self._x_ref and _sample_fingerprint(x) == g.fingerprint:
                return g
            if _full_hash(x) == g.full_hash:
                self._x_ref = x
                return g
        x = check_features(x, "x") if x.dtype != np.float32 or not x.flags.c_contiguous else x
        if len(x) < 2:
            raise InvalidInputError(
                "Label propagation needs at least 2 pool points to build a graph."
            )
        if not np.isfinite(x).all():
            check_features(x, "x")  # raises with the offending rows
        matrix = self._build(x)
        torch_matrix = None
        if self.device.type == "cuda":
            torch_matrix = _to_torch_csr(matrix, self.device)
        self._graph = _Graph(
            tuple(x.shape), _sample_fingerprint(x), _full_hash(x), matrix, torch_matrix
        )
        self._x_ref = x
        self.n_graph_builds += 1
        return self._graph

    def _build(self, x: np.ndarray) -> sp.csr_matrix:
        n = len(x)
        k = min(self.settings["k"], n - 1)
        gamma = self.settings["gamma"]
        xn = l2_normalize(x)
        index_dtype = np.int32 if n < 2**31 - 1 else np.int64
        cols = np.empty((n, k), dtype=index_dtype)
        vals = np.empty((n, k), dtype=np.float32)
        for s in range(0, n, _KNN_CHUNK):
            e = min(n, s + _KNN_CHUNK)
            sims, idx = knn(xn, k + 1, query=xn[s:e], exclude_self=False, device=str(self.device))
            # drop the point itself wherever it appears (duplicates may rank before it),
            # else the last, least similar neighbour
            keep = idx != np.arange(s, e)[:, None]
            keep[keep.all(axis=1), -1] = False
            cols[s:e] = idx[keep].reshape(e - s, k)
            vals[s:e] = sims[keep].reshape(e - s, k)
        # ((1 + cos)/2)^γ; the reference computes it from squared L2 distances, same value
        np.clip((1.0 + vals) * 0.5, 0.0, 1.0, out=vals)
        if gamma != 1.0:
            np.power(vals, gamma, out=vals)
        dtype = np.dtype(self.settings["dtype"])
        indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
        a = sp.csr_matrix((vals.ravel().astype(dtype), cols.ravel(), indptr), shape=(n, n))
        del cols, vals
        w = (a + a.T).tocsr()
        del a
        w.eliminate_zeros()  # a clipped weight of 0 is no edge (as the reference's nonzero())
        w.sort_indices()
        if VARIANTS[self.settings["variant"]]["degree"] == "count":
            degree = np.diff(w.indptr).astype(np.float64)
        else:
            degree = np.asarray(w.sum(axis=1), dtype=np.float64).ravel()
        with np.errstate(divide="ignore"):
            d_inv_sqrt = np.where(degree > 0, 1.0 / np.sqrt(degree), 0.0)
        rows = np.repeat(np.arange(n, dtype=index_dtype), np.diff(w.indptr))
        w.data *= (d_inv_sqrt[rows] * d_inv_sqrt[w.indices]).astype(dtype)
        del rows
        return w

    # ------------------------------------------------------------------ propagation
    def scores(
        self, x: np.ndarray, labeled_idx: np.ndarray, labels: np.ndarray, n_classes: int
    ) -> np.ndarray:
        """Propagated class scores F of shape (N, C); labeled rows are one-hot.

        Parameters
        ----------
        x : ndarray of shape (N, d)
            Raw pool features (L2-normalised internally for the graph).
        labeled_idx : ndarray of shape (L,), int
            Pool indices of the labeled points (unique).
        labels : ndarray of shape (L,), int
            Their classes in [0, C).
        n_classes : int
            C ≥ 2.
        """
        graph = self._get_graph(x)
        n = graph.shape[0]
        labeled_idx, labels, n_classes = _check_labels(labeled_idx, labels, n_classes, n)
        dtype = np.dtype(self.settings["dtype"])
        y0 = np.zeros((n, n_classes), dtype=dtype)
        y0[labeled_idx, labels] = 1.0
        alpha = self.settings["alpha"]
        if self.settings["variant"] == "reference":
            a_s, a_y = 1.0 - alpha, alpha
        else:
            a_s, a_y = alpha, 1.0 - alpha
        if graph.torch_matrix is not None:
            f, steps = _iterate_torch(
                graph.torch_matrix, y0, a_s, a_y, self.settings["n_iter"], self.settings["tol"]
            )
        else:
            f, steps = _iterate_scipy(
                graph.matrix, y0, a_s, a_y, self.settings["n_iter"], self.settings["tol"]
            )
        self.last_n_iter = steps
        f[labeled_idx] = y0[labeled_idx]
        return f

    def propagate(
        self, x: np.ndarray, labeled_idx: np.ndarray, labels: np.ndarray, n_classes: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pseudo-labels and per-sample weights for every pool point.

        Parameters
        ----------
        x : ndarray of shape (N, d)
        labeled_idx : ndarray of shape (L,), int
        labels : ndarray of shape (L,), int
        n_classes : int

        Returns
        -------
        targets : ndarray of shape (N,), int64
            ``argmax F``; the given label on labeled rows; ``-1`` where F has no mass.
        weights : ndarray of shape (N,), float32
            ``1 − H(F̂)/log C`` in [0, 1]; 1 on labeled rows; 0 where F has no mass
            (train only on ``weights > 0``).
        """
        f = self.scores(x, labeled_idx, labels, n_classes)
        targets, weights = propagation_weights(f, int(n_classes))
        idx = np.asarray(labeled_idx, dtype=np.int64).ravel()
        targets[idx] = np.asarray(labels, dtype=np.int64).ravel()
        weights[idx] = 1.0
        return targets, weights


def _check_labels(labeled_idx, labels, n_classes, n) -> tuple[np.ndarray, np.ndarray, int]:
    check_int(n_classes, "n_classes", min=2)
    idx = np.asarray(labeled_idx).ravel()
    lab = np.asarray(labels).ravel()
    if idx.size == 0:
        raise InvalidInputError(
            "Label propagation needs at least one labeled point; label some first."
        )
    if idx.dtype.kind not in "iu" or lab.dtype.kind not in "iu":
        raise InvalidInputError("labeled_idx and labels must be integer arrays.")
    if len(idx) != len(lab):
        raise InvalidInputError(
            f"{len(idx)} labeled indices but {len(lab)} labels; pass one label per index."
        )
    if idx.min() < 0 or idx.max() >= n:
        raise InvalidInputError(f"labeled_idx must be in [0, {n}); got {idx.min()}..{idx.max()}.")
    if len(np.unique(idx)) != len(idx):
        raise InvalidInputError("labeled_idx contains duplicates.")
    if lab.min() < 0 or lab.max() >= n_classes:
        raise InvalidInputError(
            f"labels must be in [0, {n_classes}); got {lab.min()}..{lab.max()}."
        )
    return idx.astype(np.int64), lab.astype(np.int64), int(n_classes)


def _converged(f_new, f_old, tol: float) -> bool:
    if tol <= 0:
        return False
    return bool((abs(f_new - f_old) <= tol * abs(f_new)).all())


def _iterate_scipy(
    s: sp.csr_matrix, y0: np.ndarray, a_s: float, a_y: float, n_iter: int, tol: float
) -> tuple[np.ndarray, int]:
    """F ← a_s·S F + a_y·Y₀ from F = Y₀, at most ``n_iter`` steps."""
    f = y0.copy()
    clamp = a_y * y0
    for step in range(1, n_iter + 1):
        f_new = s @ f
        f_new *= a_s
        f_new += clamp
        done = _converged(f_new, f, tol)
        f = f_new
        if done:
            return f, step
    return f, n_iter


def _to_torch_csr(m: sp.csr_matrix, device) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data),
            size=m.shape,
            check_invariants=False,
        ).to(device)


def _iterate_torch(
    s: torch.Tensor, y0: np.ndarray, a_s: float, a_y: float, n_iter: int, tol: float
) -> tuple[np.ndarray, int]:
    """The same iteration as :func:`_iterate_scipy` with a torch sparse CSR ``s`` on its device."""
    y = torch.from_numpy(y0).to(s.device)
    clamp = a_y * y
    f = y.clone()
    steps = n_iter
    for step in range(1, n_iter + 1):
        f_new = a_s * (s @ f) + clamp
        done = tol > 0 and bool(((f_new - f).abs() <= tol * f_new.abs()).all())
        f = f_new
        if done:
            steps = step
            break
    return f.cpu().numpy(), steps
