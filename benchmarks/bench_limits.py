"""The arithmetic limit of each strategy: the work it cannot avoid, as plain matrix products.

For a strategy run on the unlabeled pool U (n points, d features, C classes), the limit is
timed on the same arrays in the same child process, right after the strategy itself:

* every pass over U the strategy needs, as one ``addmm`` per chunk (float32, torch), with the
  cheapest dropout masks for stochastic passes (two random 64-bit words AND-ed give a
  Bernoulli(1/4) bit per element; ``numpy.unpackbits`` expands them: about 1 byte of work per
  element instead of one random float), plus the O(n·C) reductions each pass needs (softmax,
  argmax);
* one faiss k-means (at most 100 iterations, as the shared clustering; faiss stops once
  converged) on exactly the points the strategy clustered (the arrays its
  ``alkit.cluster.kmeans`` calls received, captured in the child; else as many rows as
  ``Selection.info["n_candidates"]``), plus one assignment;
* CoreSet and BADGE: their B sequential distance passes (one float32 matrix-vector product and
  a running minimum each), CoreSet's first pass to the labeled set as one GEMM;
* TypiClust: its k-means on the pool and the within-cluster neighbour search; ProbCover: its
  pseudo-class k-means and one all-pairs distance pass over the pool (the exact δ-graph needs at
  least that);
* MaxHerding: one all-pairs pass over the pool (the exact neighbour lists need at least that),
  the labeled set's coverage (one GEMM of the pool against L) and the B sequential coverage
  updates (one matrix-vector product of the pool each); UHerding: the same, plus one softmax
  pass over U and the fit of its temperature probe (``LinearProbe`` on 70 % of L, timed: the
  method trains that second probe, see docs/strategies_herding.md).

A large all-pairs pass is timed on a row block and scaled linearly by N / rows; such rows say
``extrapolated``. Every component is listed in ``components``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

KMEANS_ITER = 100
FULL_ALLPAIRS_FLOP = 1e11  # above this, time a row block of the all-pairs pass and scale


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def cheap_mask(shape: tuple[int, int], keep: float, rng: np.random.Generator):
    """A 0/1 uint8 keep-mask of ``shape`` drawn with the least random work (torch tensor).

    keep = 1/4 (the paper's p = 0.75): AND of two raw 64-bit words per 64 elements, bits
    unpacked; keep a multiple of 1/256: one random byte per element compared; else uniform floats.
    """
    import torch

    n = shape[0] * shape[1]
    bg = rng.bit_generator
    if abs(keep - 0.25) < 1e-12:
        nw = (n + 63) // 64
        words = bg.random_raw(nw) & bg.random_raw(nw)
        bits = np.unpackbits(words.view(np.uint8))[:n].reshape(shape)
        return torch.from_numpy(bits)
    k = keep * 256
    if abs(k - round(k)) < 1e-9:
        b = np.frombuffer(rng.bytes(n), dtype=np.uint8).reshape(shape)
        return torch.from_numpy(b < round(k)).to(torch.uint8)
    return torch.from_numpy((rng.random(shape, dtype=np.float32) < keep).astype(np.uint8))


class Arith:
    """Primitive passes on fixed arrays (the unlabeled pool ``xu``, the probe's folded layer)."""

    def __init__(
        self, xu: np.ndarray, w_eff, b_eff, device: str = "cpu", chunk: int = 8192
    ) -> None:
        import torch

        self.torch = torch
        self.dev = torch.device(device)
        self.xu = torch.from_numpy(np.ascontiguousarray(xu, dtype=np.float32)).to(self.dev)
        self.w = w_eff.detach().to(self.dev, torch.float32).T.contiguous()  # (d, C)
        self.b = b_eff.detach().to(self.dev, torch.float32)
        self.chunk = chunk
        self.n, self.d = self.xu.shape
        self.C = self.w.shape[1]

    def sync(self) -> None:
        if self.dev.type == "cuda":
            self.torch.cuda.synchronize()

    def logits_pass(
        self,
        reduce: str = "argmax",
        mask_keep: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> float:
        """One pass over U: logits by addmm per chunk, then ``argmax`` / ``softmax`` / ``none``."""
        torch = self.torch

        def run() -> None:
            with torch.inference_mode():
                for s in range(0, self.n, self.chunk):
                    xb = self.xu[s : s + self.chunk]
                    if mask_keep is not None:
                        xb = xb * cheap_mask(tuple(xb.shape), mask_keep, rng).to(self.dev)
                    lo = torch.addmm(self.b, xb, self.w)
                    if reduce == "argmax":
                        lo.argmax(1)
                    elif reduce == "softmax":
                        torch.log_softmax(lo, 1)
            self.sync()

        return _timed(run)

    def elementwise_pass(self) -> float:
        """One O(n·d) elementwise pass (the probe embedding: (x − μ)·σ⁻¹)."""
        torch = self.torch
        mu = torch.zeros(self.d, device=self.dev)
        inv = torch.ones(self.d, device=self.dev)

        def run() -> None:
            with torch.inference_mode():
                for s in range(0, self.n, self.chunk):
                    (self.xu[s : s + self.chunk] - mu) * inv
            self.sync()

        return _timed(run)

    def gemm_pass(self, k: int) -> float:
        """One pass of U against k vectors (an (n, d) × (d, k) product, chunked)."""
        torch = self.torch
        other = torch.randn(self.d, k, device=self.dev)

        def run() -> None:
            with torch.inference_mode():
                for s in range(0, self.n, self.chunk):
                    self.xu[s : s + self.chunk] @ other
            self.sync()

        return _timed(run)

    def sequential_passes(self, n_passes: int, extra_cols: int = 0) -> float:
        """``n_passes`` dependent passes: one matrix-vector product of U (plus an (n, extra_cols)
        product, BADGE's δ) and a running minimum each."""
        torch = self.torch
        sq = (self.xu * self.xu).sum(1)
        delta = torch.randn(self.n, extra_cols, device=self.dev) if extra_cols else None

        def run() -> None:
            with torch.inference_mode():
                best = torch.full((self.n,), float("inf"), device=self.dev)
                j = 0
                for _ in range(n_passes):
                    dots = self.xu @ self.xu[j]
                    if delta is not None:
                        dots = dots * (delta @ delta[j])
                    best = torch.minimum(best, sq - 2 * dots + sq[j])
                    j = int(torch.argmax(best))
            self.sync()

        return _timed(run)

    def allpairs_pass(self) -> tuple[float, bool]:
        """One all-pairs distance pass over U (row blocks × all, a min-reduction each)."""
        torch = self.torch
        x = self.xu
        sq = (x * x).sum(1)
        rows = max(1, min(self.n, (1 << 24) // max(1, self.n)))
        flop = 2.0 * self.n * self.n * self.d
        n_rows = (
            self.n
            if flop <= FULL_ALLPAIRS_FLOP
            else max(rows, int(self.n * FULL_ALLPAIRS_FLOP / flop))
        )

        def run() -> None:
            with torch.inference_mode():
                for s in range(0, n_rows, rows):
                    xb = x[s : min(n_rows, s + rows)]
                    (sq[s : s + len(xb), None] - 2 * xb @ x.T + sq).min(1)
            self.sync()

        t = _timed(run)
        return t * self.n / n_rows, n_rows < self.n


def folded_layer(probe):
    """The probe's eval-mode BatchNorm folded into its linear layer: ``(W_eff (C, d), b_eff (C,))``."""
    import torch

    inv_std = torch.rsqrt(probe.running_var_ + probe.config.bn_eps)
    w_eff = probe.weight_ * inv_std
    return w_eff, probe.bias_ - w_eff @ probe.running_mean_


def kmeans_limit(
    n_points: int,
    k: int,
    d: int,
    x_source: np.ndarray,
    seed: int = 0,
    exact_points: np.ndarray | None = None,
) -> tuple[float, bool]:
    """faiss k-means (``KMEANS_ITER`` iterations at most; faiss stops early once converged) + one
    assignment.

    On ``exact_points`` when given (the very array the strategy's k-means received, captured in
    the child), else on the first ``n_points`` L2-normalised rows of ``x_source`` (as many as the
    strategy clustered, same dimension). Trains on at most 512·k rows, as the shared clustering.
    Returns ``(seconds, False)`` (never extrapolated: convergence decides the iterations).
    """
    import faiss

    if exact_points is not None:
        xs = np.ascontiguousarray(exact_points, dtype=np.float32)
        n_points, d = xs.shape
    else:
        xs = np.ascontiguousarray(x_source[:n_points], dtype=np.float32)
        xs = xs / np.maximum(np.linalg.norm(xs, axis=1, keepdims=True), 1e-12)
    if n_points <= k or k < 1:
        return 0.0, False
    n_train = min(n_points, 512 * k)  # the shared clustering's subsample rule
    km = faiss.Kmeans(
        d,
        k,
        niter=KMEANS_ITER,
        seed=seed,
        min_points_per_centroid=1,
        max_points_per_centroid=512,
        verbose=False,
    )
    t0 = time.perf_counter()
    km.train(xs[:n_train])
    km.index.search(xs, 1)
    return time.perf_counter() - t0, False


def _temperature_fit_seconds(problem: dict[str, Any], device: str) -> float:
    """Seconds of UHerding's second probe: the same probe settings, fitted on 70 % of L."""
    import alkit

    x, y, labeled, probe = problem["x"], problem["y"], problem["labeled"], problem["probe"]
    lab = np.flatnonzero(labeled)
    train = lab[int(len(lab) * 0.3) :]
    clone = alkit.LinearProbe(
        probe.n_classes,
        **probe.config.to_dict(),
        device=device,
        seed=1,
        chunk_size=probe.chunk_size,
    )
    return _timed(lambda: clone.fit(x[train], y[train]))


def strategy_limit(
    name: str,
    params: dict[str, Any],
    problem: dict[str, Any],
    budget: int,
    info: dict[str, Any],
    device: str = "cpu",
    captured: list[tuple[np.ndarray, int]] | None = None,
) -> dict[str, Any]:
    """The arithmetic limit of strategy ``name`` on ``problem`` (see the module docstring).

    Parameters
    ----------
    name : str
        A registered strategy.
    params : dict
        Its parameters (``M`` for the dropout strategies).
    problem : dict
        From :func:`common.make_problem`.
    budget : int
        B.
    info : dict
        ``Selection.info`` of the strategy's last run (``n_candidates`` when it clustered).
    captured : list of (array, k), optional
        The inputs of every ``alkit.cluster.kmeans`` call of the strategy's last run; the limit's
        k-means then runs on exactly those points.

    Returns
    -------
    dict
        ``limit_seconds`` (NaN when no limit is defined), ``components`` (seconds per part),
        ``limit_extrapolated`` and ``limit_note``.
    """
    x, labeled, probe = problem["x"], problem["labeled"], problem["probe"]
    xu = x[~labeled]
    n_lab = int(labeled.sum())
    rng = np.random.default_rng(1234)
    captured = list(captured or [])

    def km(n_pts: int, k: int, src: np.ndarray, which: int = -1) -> tuple[float, bool]:
        if captured:
            pts, k_cap = captured[which]
            return kmeans_limit(len(pts), k_cap, pts.shape[1], pts, exact_points=pts)
        return kmeans_limit(n_pts, k, d, src)

    w_eff, b_eff = folded_layer(probe)
    a = Arith(xu, w_eff, b_eff, device=device)
    keep = 1.0 - probe.config.dropout
    comp: dict[str, float] = {}
    extrap = False
    note = ""
    d, n, C = a.d, a.n, a.C
    if name == "random":
        comp["draw"] = _timed(lambda: rng.choice(n, budget, replace=False))
    elif name in ("entropy", "margin", "least_confidence"):
        for key in ("dropout", "typical", "cluster"):
            if params.get(key):
                note += f"{key}=True; "
        comp["pass"] = a.logits_pass("softmax", keep if params.get("dropout") else None, rng)
        if params.get("cluster"):
            t, e = km(min(50 * budget, n), budget, xu)
            comp["kmeans"], extrap = t, e
    elif name in ("bald", "power_bald"):
        M = int(params.get("M", 20))
        comp["masked_passes"] = sum(a.logits_pass("softmax", keep, rng) for _ in range(M))
    elif name == "dropquery":
        M = int(params.get("M", 3))
        comp["clean_pass"] = a.logits_pass("argmax")
        comp["masked_passes"] = sum(a.logits_pass("argmax", keep, rng) for _ in range(M))
        n_cand = int(info.get("n_candidates", 0))
        comp["embed_candidates"] = a.elementwise_pass() * n_cand / max(n, 1)
        t, e = km(n_cand, budget, xu)
        comp["kmeans"], extrap = t, e
        note = f"k-means on {n_cand} candidates"
    elif name == "coreset":
        comp["embed"] = a.elementwise_pass()
        comp["to_labeled_gemm"] = a.gemm_pass(n_lab)
        comp["sequential_passes"] = a.sequential_passes(budget)
    elif name == "badge":
        comp["proba_pass"] = a.logits_pass("softmax")
        comp["embed"] = a.elementwise_pass()
        comp["sequential_passes"] = a.sequential_passes(budget, extra_cols=C)
    elif name == "alfamix":
        n_anchor = int(info.get("n_anchors", C))
        comp["embed"] = a.elementwise_pass()
        comp["logits_pass"] = a.logits_pass("softmax")
        comp["gradient_gemm"] = a.gemm_pass(C)  # g = (p − onehot) W
        comp["g_hat_W_gemm"] = a.gemm_pass(C)  # W ĝ
        comp["anchor_distance_gemm"] = a.gemm_pass(n_anchor)
        n_cand = int(info.get("n_candidates", 0))
        t, e = km(n_cand, budget, xu)
        comp["kmeans"], extrap = t, e
        note = f"{n_anchor} anchors; k-means on {n_cand} candidates"
    elif name == "typiclust":
        k = min(n_lab + budget, int(params.get("max_clusters", 500)))
        t, e = km(len(x), k, x)
        comp["kmeans"], extrap = t, e
        # typicality: within-cluster neighbour search of the ≤ B clusters visited, mean size N/k
        size = max(2, len(x) // k)
        sub = a.xu[:size]
        comp["within_cluster_knn"] = min(budget, k) * _timed(
            lambda: (sub @ sub.T).topk(min(20, size), 1)
        )
        note = f"k={k} clusters on all {len(x)} points"
    elif name == "probcover":
        t, e = km(len(x), problem["probe"].n_classes, x, which=0)
        comp["pseudo_class_kmeans"] = t
        full = Arith(x, w_eff, b_eff, device=device)
        t2, e2 = full.allpairs_pass()
        comp["allpairs_pass"] = t2
        extrap = e or e2
        note = "one exact all-pairs pass over the pool"
    elif name in ("maxherding", "uherding"):
        full = Arith(x, w_eff, b_eff, device=device)
        t, extrap = full.allpairs_pass()
        comp["allpairs_pass"] = t
        comp["labeled_coverage_gemm"] = full.gemm_pass(n_lab) if n_lab else 0.0
        comp["coverage_updates"] = full.sequential_passes(budget)
        note = "one exact all-pairs pass over the pool (neighbour lists)"
        if name == "uherding":
            comp["softmax_pass"] = a.logits_pass("softmax")
            comp["temperature_probe_fit"] = _temperature_fit_seconds(problem, device)
            note += "; temperature probe fit timed with alkit's LinearProbe"
    else:
        return {
            "limit_seconds": float("nan"),
            "components": {},
            "limit_extrapolated": False,
            "limit_note": f"no arithmetic limit defined for {name!r}",
        }
    return {
        "limit_seconds": float(sum(comp.values())),
        "components": {k: round(v, 4) for k, v in comp.items()},
        "limit_extrapolated": bool(extrap),
        "limit_note": note.strip(),
    }
