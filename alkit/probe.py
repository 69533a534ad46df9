"""The paper's linear probe: input dropout → BatchNorm1d(affine=False) → Linear.

The probe is the hot loop of every run (up to 400 epochs, 20 fits a run), so it
is trained without autograd: BatchNorm has no parameters and the input features
are frozen, so the only gradients are those of the linear layer, which are two
matrix products. The maths is the paper's (a fresh dropout mask every batch,
batch statistics in training, running statistics in eval); only the bookkeeping
is hand-written. ``tests/test_probe.py`` checks one step against the
``nn.Dropout`` + ``nn.BatchNorm1d`` + ``nn.Linear`` autograd reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch

from ._devices import resolve_device
from ._kernels import dropout as _dropout
from ._kernels.adamw import adamw_stepper
from ._kernels.rows import take_rows
from .errors import InvalidInputError
from .validation import (
    check_bool,
    check_choice,
    check_device,
    check_features,
    check_float,
    check_indices,
    check_int,
    check_labels,
    check_sample_weight,
    check_seed,
    check_settings,
)

__all__ = ["LinearProbe", "ProbeConfig", "PROBE_DEFAULTS", "PROBE_FIELDS", "probe_identity"]

PROBE_INITS = ("random", "text")  # nn.Linear's rule (the paper), or the zero-shot classifier


@dataclass
class ProbeConfig:
    """Probe settings (the paper's protocol, ``docs/protocol.md``); every field is a
    ``run_al(probe={...})`` key. The one list of probe fields: :data:`PROBE_FIELDS`."""

    dropout: float = 0.75
    lr: float = 1e-2
    weight_decay: float = 1e-2
    batch_size: int = 4096
    max_epochs: int = 400
    patience: int = 20
    min_delta: float = 1e-3
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1
    init: str = "random"

    def __post_init__(self) -> None:
        # range and type of every field; a string ("0.01") or a bool is an error, not a number
        self.dropout = check_float(self.dropout, "probe dropout", min=0.0, max=1.0, max_open=True)
        self.lr = check_float(self.lr, "probe lr", min=0.0, min_open=True)
        self.weight_decay = check_float(self.weight_decay, "probe weight_decay", min=0.0)
        self.batch_size = check_int(self.batch_size, "probe batch_size", min=1)
        self.max_epochs = check_int(self.max_epochs, "probe max_epochs", min=1)
        self.patience = check_int(self.patience, "probe patience", min=1)
        self.min_delta = check_float(self.min_delta, "probe min_delta", min=0.0)
        self.bn_eps = check_float(self.bn_eps, "probe bn_eps", min=0.0, min_open=True)
        # 0 would never update the running statistics (evaluation would use mean 0, variance 1);
        # above 1 the running average diverges (bn_momentum=2.0 gives chance accuracy)
        self.bn_momentum = check_float(
            self.bn_momentum, "probe bn_momentum", min=0.0, max=1.0, min_open=True
        )
        self.init = check_choice(self.init, "probe init", PROBE_INITS)

    @classmethod
    def from_dict(cls, d: dict | None) -> ProbeConfig:
        """A config from a dict of settings (``None`` = the defaults); unknown keys are errors."""
        return cls(**check_settings(d, "the probe", PROBE_DEFAULTS, what="probe setting"))

    def to_dict(self) -> dict:
        """Every field and its value."""
        return {f: getattr(self, f) for f in PROBE_FIELDS}


#: The probe's settings, in order (derived from :class:`ProbeConfig`).
PROBE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProbeConfig))
#: The paper's probe settings (Gupte et al. 2024, §3; the reference's ``ALFM/conf``).
PROBE_DEFAULTS: dict = {f.name: f.default for f in fields(ProbeConfig)}
#: Settings added after results were first hashed, at the value that reproduces those results.
_LATER_FIELDS = {"init": "random"}


def probe_identity(settings: dict) -> dict:
    """The probe settings a results hash covers: all of ``settings`` except those added later
    (``init``) while at the value every earlier result used, so those results keep their hash."""
    return {k: v for k, v in settings.items() if _LATER_FIELDS.get(k, object()) != v}


class LinearProbe:
    """Dropout(p) on the input → BatchNorm1d(d, affine=False) → Linear(d, C).

    Parameters
    ----------
    n_classes : int
        Number of output classes C (all classes, seen or not).
    dropout, lr, weight_decay, batch_size, max_epochs, patience, min_delta, bn_eps, bn_momentum
        The paper's defaults (docs/protocol.md): p = 0.75, AdamW(1e-2, wd 1e-2), batches of 4096, ≤ 400 epochs,
        early stopping on the epoch-mean training loss (patience 20, min_delta 1e-3).
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` uses CUDA when available.
    seed : int or numpy Generator
        Seeds the probe's ``torch.Generator`` (initial weights, shuffles, dropout masks).
    init : {"random", "text"}, class_text : ndarray of shape (C, d), optional
        ``"text"``: start each fit as the zero-shot classifier of ``class_text``
        (:func:`alkit.zeroshot.text_init`; later random draws match ``"random"``'s).
    chunk_size : int
        Rows per chunk for inference passes over the pool.

    Attributes
    ----------
    weight_ : Tensor of shape (C, d)
    bias_ : Tensor of shape (C,)
    running_mean_, running_var_ : Tensor of shape (d,)
        BatchNorm statistics of the kept (lowest-loss) epoch.
    n_epochs_ : int
        Epochs the last fit ran.
    best_epoch_ : int
        Epoch (from 1) whose weights were kept.
    loss_curve_ : list of float
        Epoch-mean training loss (dropout on).

    References
    ----------
    Gupte et al., "Revisiting Active Learning in the Era of Vision Foundation Models", TMLR 2024.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        dropout: float = 0.75,
        lr: float = 1e-2,
        weight_decay: float = 1e-2,
        batch_size: int = 4096,
        max_epochs: int = 400,
        patience: int = 20,
        min_delta: float = 1e-3,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        init: str = "random",
        device: str = "auto",
        seed: int | np.random.Generator = 0,
        class_text: np.ndarray | None = None,
        chunk_size: int = 8192,
        **unknown,
    ) -> None:
        # a misspelt setting (bn_momentun=0.5) is an alkit error naming the valid ones, as in
        # ActiveLearner(probe={...}), rather than Python's bare TypeError
        check_settings(
            unknown,
            "LinearProbe",
            {**PROBE_DEFAULTS, "device": "auto", "seed": 0, "chunk_size": 8192, "class_text": None},
        )
        self.n_classes = check_int(n_classes, "n_classes", min=2)
        self.config = ProbeConfig(
            dropout,
            lr,
            weight_decay,
            batch_size,
            max_epochs,
            patience,
            min_delta,
            bn_eps,
            bn_momentum,
            init,
        )
        if self.config.init == "text" and class_text is None:
            raise InvalidInputError("probe init='text' needs class_text, the class texts.")
        self.class_text = class_text
        self.device = resolve_device(check_device(device))
        self.chunk_size = check_int(chunk_size, "chunk_size", min=1)
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(0, 2**63 - 1))
        else:
            seed = check_seed(seed)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(seed))
        self.weight_: torch.Tensor | None = None
        self.bias_: torch.Tensor | None = None
        self.n_epochs_ = 0
        self.best_epoch_ = 0
        self.loss_curve_: list[float] = []

    # ------------------------------------------------------------------ helpers
    @property
    def is_fitted(self) -> bool:
        return self.weight_ is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise InvalidInputError("This LinearProbe is not fitted yet; call fit(x, y) first.")

    def _to_tensor(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x.to(self.device, torch.float32)
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)

    def _keep_mask(self, shape: tuple[int, int]) -> torch.Tensor:
        """A fresh Bernoulli(1 − p) keep-mask of 0/1 float32 values, from the probe's generator
        (:mod:`alkit._kernels.dropout`). Callers multiply the mask with features already scaled
        by 1/(1 − p) (inverted dropout)."""
        draws, keep_below = self._keep_draws(shape)
        return draws.lt(keep_below).float()

    def _keep_draws(self, shape: tuple[int, int]) -> tuple[torch.Tensor, int | float]:
        """The draws of :meth:`_keep_mask` and the value they are compared with."""
        return _dropout.keep_draws(shape, self.config.dropout, self.generator, self.device)

    # ------------------------------------------------------------------ training
    def fit(
        self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> LinearProbe:
        """Train from scratch on ``(x, y)``.

        Parameters
        ----------
        x : ndarray of shape (n, d)
            Raw (un-normalised) features of the labeled points.
        y : ndarray of shape (n,)
            Class indices in ``[0, n_classes)``.
        sample_weight : ndarray of shape (n,), optional
            Per-sample weights of the cross-entropy (the loss is ``mean(w · CE)``, as the reference);
            a weight of 0 removes the point from the loss.

        Returns
        -------
        self
        """
        x = check_features(x, "x")
        y = check_labels(y, len(x), self.n_classes, "y", allow_unknown=False)
        sw = None if sample_weight is None else check_sample_weight(sample_weight, len(x))
        cfg = self.config
        n, d = x.shape
        dev, g = self.device, self.generator
        q = 1.0 - cfg.dropout
        xt = self._to_tensor(x) * (1.0 / q)  # a copy: never scale the caller's array in place
        yt = torch.from_numpy(y).to(dev)
        wt = None if sw is None else torch.from_numpy(sw).to(dev)

        # nn.Linear's default initialisation, drawn from our generator
        bound = 1.0 / math.sqrt(d)
        weight = (torch.rand((self.n_classes, d), generator=g, device=dev) * 2 - 1) * bound
        bias = (torch.rand((self.n_classes,), generator=g, device=dev) * 2 - 1) * bound
        weight.requires_grad_(False)
        params = [torch.nn.Parameter(weight), torch.nn.Parameter(bias)]
        step = adamw_stepper(params, cfg.lr, cfg.weight_decay, dev)  # torch's AdamW, bit for bit
        running_mean = torch.zeros(d, device=dev)
        running_var = torch.ones(d, device=dev)
        if cfg.init == "text":  # drawn above all the same: the later draws match init="random"
            from .zeroshot import text_start

            running_mean, running_var = text_start(params, self.class_text, x, y, cfg)

        best_loss, best_state, best_epoch = math.inf, None, 0
        es_best, wait = math.inf, 0
        self.loss_curve_ = []
        bs = int(cfg.batch_size)
        single_batch = n <= bs
        arange_c = None
        epoch = 0
        with torch.no_grad():
            for epoch in range(1, int(cfg.max_epochs) + 1):
                order = None if single_batch else torch.randperm(n, generator=g, device=dev)
                total, count = 0.0, 0
                for start in range(0, n, bs):
                    if single_batch:
                        xb, yb, wb = xt, yt, wt
                    else:
                        idx = order[start : start + bs]
                        xb, yb = xt[idx], yt[idx]
                        wb = None if wt is None else wt[idx]
                    m = len(xb)
                    h = self._keep_mask((m, d)).mul_(xb)  # dropout(x): xb is pre-scaled by 1/q
                    # BatchNorm with batch statistics; column reductions as matrix products
                    # (much faster on CPU than reductions along dim 0)
                    ones = torch.full((1, m), 1.0 / m, device=dev)
                    mean = (ones @ h).squeeze_(0)
                    hc = h.sub_(mean)
                    var = (ones @ (hc * hc)).squeeze_(0)
                    inv_std = torch.rsqrt(var + cfg.bn_eps)
                    # logits = BN(h) Wᵀ + b = hc (W·inv_std)ᵀ + b, so z is never materialised
                    w_scaled = params[0] * inv_std
                    logits = torch.addmm(params[1], hc, w_scaled.T)
                    logp = torch.log_softmax(logits, dim=1)
                    if arange_c is None or len(arange_c) != m:
                        arange_c = torch.arange(m, device=dev)
                    nll = -logp[arange_c, yb]
                    grad_logits = logp.exp_()
                    grad_logits[arange_c, yb] -= 1.0
                    if wb is None:
                        loss = nll.mean()
                        grad_logits.div_(m)
                    else:
                        loss = (nll * wb).mean()
                        grad_logits.mul_((wb / m)[:, None])
                    # dL/dW = gᵀ z = (gᵀ hc) · inv_std
                    params[0].grad = (grad_logits.T @ hc).mul_(inv_std)
                    params[1].grad = grad_logits.sum(0)
                    step()
                    # running statistics, as nn.BatchNorm1d (unbiased variance)
                    unbiased = var * (m / (m - 1)) if m > 1 else var
                    running_mean.mul_(1 - cfg.bn_momentum).add_(mean, alpha=cfg.bn_momentum)
                    running_var.mul_(1 - cfg.bn_momentum).add_(unbiased, alpha=cfg.bn_momentum)
                    total += float(loss) * m
                    count += m
                epoch_loss = total / count
                self.loss_curve_.append(epoch_loss)
                # checkpoint on the lowest epoch loss (strict), as Lightning's ModelCheckpoint
                if epoch_loss < best_loss:
                    best_loss, best_epoch = epoch_loss, epoch
                    best_state = (
                        params[0].detach().clone(),
                        params[1].detach().clone(),
                        running_mean.clone(),
                        running_var.clone(),
                    )
                # early stopping with min_delta, as Lightning's EarlyStopping
                if epoch_loss < es_best - cfg.min_delta:
                    es_best, wait = epoch_loss, 0
                else:
                    wait += 1
                    if wait >= cfg.patience:
                        break
        self.weight_, self.bias_, self.running_mean_, self.running_var_ = best_state
        self.n_epochs_, self.best_epoch_ = epoch, best_epoch
        self.n_features_ = d
        self._fold()
        return self

    def _fold(self) -> None:
        """Fold eval-mode BatchNorm into the linear layer for inference."""
        inv_std = torch.rsqrt(self.running_var_ + self.config.bn_eps)
        self._w_eff = self.weight_ * inv_std  # (C, d)
        self._b_eff = self.bias_ - self._w_eff @ self.running_mean_
        self._inv_std = inv_std
        self._inv_keep = 1.0 / (1.0 - self.config.dropout)

    # ------------------------------------------------------------------ inference
    def _chunks(self, x: np.ndarray, rows: np.ndarray | None = None, reuse: bool = False):
        """``(start, float32 tensor)`` chunks of ``x`` (or of ``x[rows]``, gathered chunk by chunk).

        ``reuse``: gather ``x[rows]`` into one buffer reused by every chunk (no fresh, page-faulting
        50 MB array per chunk); the caller must be done with a chunk before asking for the next.
        """
        if rows is None:
            x = check_features(x, "x") if not isinstance(x, torch.Tensor) else x
        if x.shape[1] != self.n_features_:
            raise InvalidInputError(
                f"x has {x.shape[1]} features but the probe was fitted on {self.n_features_}."
            )
        n = len(x) if rows is None else len(rows)
        gather_into = (
            reuse
            and rows is not None
            and self.device.type == "cpu"
            and isinstance(x, np.ndarray)
            and x.dtype == np.float32
            and x.flags.c_contiguous
        )
        buf = np.empty((min(n, self.chunk_size), x.shape[1]), np.float32) if gather_into else None
        for start in range(0, n, self.chunk_size):
            sl = slice(start, start + self.chunk_size)
            if buf is not None:
                r = rows[sl]
                yield start, torch.from_numpy(take_rows(x, r, out=buf[: len(r)]))
            else:
                yield start, self._to_tensor(x[sl] if rows is None else x[rows[sl]])

    @torch.inference_mode()
    def logits(self, x: np.ndarray, dropout: bool = False) -> np.ndarray:
        """Logits of shape (n, C); ``dropout=True`` draws one fresh input mask."""
        self._check_fitted()
        dropout = check_bool(dropout, "dropout")
        out = np.empty((len(x), self.n_classes), dtype=np.float32)
        for start, xb in self._chunks(x):
            if dropout:
                xb = self._keep_mask(xb.shape).mul_(xb).mul_(self._inv_keep)
            out[start : start + len(xb)] = torch.addmm(self._b_eff, xb, self._w_eff.T).cpu().numpy()
        return out

    def predict_proba(self, x: np.ndarray, dropout: bool = False) -> np.ndarray:
        """Class probabilities of shape (n, C) (eval mode; one stochastic pass if ``dropout``)."""
        logits = torch.from_numpy(self.logits(x, dropout=dropout))
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class indices of shape (n,)."""
        return self.logits(x).argmax(axis=1)

    @torch.inference_mode()
    def embed(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The probe embedding: BatchNorm output in eval mode, no dropout, shape (n, d).

        With ``rows`` (int indices), the embedding of ``x[rows]`` (shape (len(rows), d)),
        gathered chunk by chunk: no copy of ``x[rows]`` is made. ``x`` is then used as given
        (a pool's already validated features).
        """
        self._check_fitted()
        if rows is not None:
            rows = check_indices(rows, len(x), "rows", unique=False)
        out = np.empty((len(x) if rows is None else len(rows), self.n_features_), dtype=np.float32)
        out_t = torch.from_numpy(out)
        for start, xb in self._chunks(x, rows):
            o = out_t[start : start + len(xb)]
            if xb.device.type == "cpu":  # straight into the output: no temporaries
                torch.sub(xb, self.running_mean_, out=o).mul_(self._inv_std)
            else:
                o.copy_((xb - self.running_mean_) * self._inv_std)
        return out

    @torch.inference_mode()
    def mc_argmax(
        self, x: np.ndarray, n_passes: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Clean and stochastic predictions, computed chunk by chunk.

        With ``rows`` (int indices), those of ``x[rows]``, gathered chunk by chunk (the same
        chunks, hence the same dropout masks, as a call on ``x[rows]``).

        Returns
        -------
        clean : ndarray of shape (n,), int64
            Argmax of the deterministic pass.
        passes : ndarray of shape (n_passes, n), int64
            Argmax of each pass with a fresh input-dropout mask (BN in eval mode).
        """
        self._check_fitted()
        n_passes = check_int(n_passes, "n_passes", min=1)
        if rows is not None:
            rows = check_indices(rows, len(x), "rows", unique=False)
        n = len(x) if rows is None else len(rows)
        clean = np.empty(n, dtype=np.int64)
        passes = np.empty((n_passes, n), dtype=np.int64)
        w_drop = self._w_eff.T.contiguous()
        bufs = None
        for start, xb in self._chunks(x, rows, reuse=True):
            sl = slice(start, start + len(xb))
            if bufs is None:
                bufs = _dropout.pass_buffers(xb, self.n_classes)
            logits = bufs[2][: len(xb)]
            clean[sl] = torch.addmm(self._b_eff, xb, w_drop, out=logits).argmax(1).cpu().numpy()
            xs = torch.mul(xb, self._inv_keep, out=bufs[0][: len(xb)])
            for j in range(n_passes):
                self._dropout_logits(xs, w_drop, bufs[1], logits)
                passes[j, sl] = logits.argmax(1).cpu().numpy()
        return clean, passes

    def _dropout_logits(
        self, xs: torch.Tensor, w: torch.Tensor, masked: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """Logits of one pass with a fresh input-dropout mask over the chunk ``xs`` (rows
        already scaled by 1/(1 − p)), into ``out`` (:func:`alkit._kernels.dropout.masked_logits`)."""
        draws, keep_below = self._keep_draws(tuple(xs.shape))
        return _dropout.masked_logits(xs, draws, keep_below, w, self._b_eff, masked, out)

    @torch.inference_mode()
    def mc_stats(self, x: np.ndarray, n_passes: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean probabilities and mean entropy over ``n_passes`` dropout passes.

        Returns
        -------
        mean_proba : ndarray of shape (n, C)
        mean_entropy : ndarray of shape (n,)
            Mean over passes of each pass's entropy (0·log 0 = 0).
        """
        self._check_fitted()
        n_passes = check_int(n_passes, "n_passes", min=1)
        mean_p = np.empty((len(x), self.n_classes), dtype=np.float32)
        mean_h = np.empty(len(x), dtype=np.float32)
        w_drop = self._w_eff.T.contiguous()
        bufs = None
        for start, xb in self._chunks(x):
            acc_p = torch.zeros((len(xb), self.n_classes), device=self.device)
            acc_h = torch.zeros(len(xb), device=self.device)
            if bufs is None:
                bufs = _dropout.pass_buffers(xb, self.n_classes)
            xs = torch.mul(xb, self._inv_keep, out=bufs[0][: len(xb)])
            for _ in range(n_passes):
                logits = self._dropout_logits(xs, w_drop, bufs[1], bufs[2][: len(xb)])
                logp = torch.log_softmax(logits, dim=1)
                p = logp.exp()
                acc_p += p
                acc_h -= torch.nansum(p * logp, dim=1)
            sl = slice(start, start + len(xb))
            mean_p[sl] = (acc_p / n_passes).cpu().numpy()
            mean_h[sl] = (acc_h / n_passes).cpu().numpy()
        return mean_p, mean_h

    # ------------------------------------------------------------------ export
    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights and BatchNorm statistics as numpy arrays."""
        self._check_fitted()
        return {
            "weight": self.weight_.cpu().numpy(),
            "bias": self.bias_.cpu().numpy(),
            "running_mean": self.running_mean_.cpu().numpy(),
            "running_var": self.running_var_.cpu().numpy(),
        }

    def to_torch_module(self) -> torch.nn.Sequential:
        """The equivalent ``nn.Sequential(Dropout, BatchNorm1d, Linear)`` in eval mode."""
        self._check_fitted()
        d = self.n_features_
        mod = torch.nn.Sequential(
            torch.nn.Dropout(self.config.dropout),
            torch.nn.BatchNorm1d(d, affine=False, eps=self.config.bn_eps),
            torch.nn.Linear(d, self.n_classes),
        )
        with torch.no_grad():
            mod[1].running_mean.copy_(self.running_mean_)
            mod[1].running_var.copy_(self.running_var_)
            mod[2].weight.copy_(self.weight_)
            mod[2].bias.copy_(self.bias_)
        return mod.eval()
