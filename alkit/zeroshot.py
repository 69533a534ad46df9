"""The zero-shot classifier of a CLIP-like backbone, and the probe's warm start from it.

With OpenCLIP features a classifier exists before a single label: the text embeddings of the
class names (``EmbeddingSet.class_text``, one unit row per class; see :mod:`alkit.embedding.text`).
An image is assigned to the class whose text embedding has the highest cosine similarity with
its image embedding, and ``softmax(s · cos)`` with CLIP's logit scale s = 100 gives
probabilities (Radford et al. 2021, §3.1.4; open_clip's ``zero_shot_classifier``).

:func:`text_init` maps that classifier onto the probe's Dropout → BatchNorm1d(affine=False) →
Linear architecture (``ProbeConfig(init="text")``); ``docs/text_prior.md`` derives it.

References
----------
A. Radford et al. Learning Transferable Visual Models From Natural Language Supervision.
ICML 2021.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidInputError
from .validation import check_class_text, check_features, check_float, check_labels

__all__ = [
    "CLIP_LOGIT_SCALE",
    "zeroshot_logits",
    "zeroshot_proba",
    "zeroshot_predict",
    "zeroshot_metrics",
    "classification_metrics",
    "fit_logit_scale",
    "text_init",
    "text_start",
]

#: CLIP's learned logit scale (its temperature, clamped at 100 in training; 100 in every released
#: OpenCLIP checkpoint): zero-shot logits are 100 · cos(image, class text).
CLIP_LOGIT_SCALE = 100.0
_CHUNK = 65536


def _unit(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), np.float32(1e-12))


def zeroshot_logits(
    x: np.ndarray, class_text: np.ndarray, scale: float = CLIP_LOGIT_SCALE
) -> np.ndarray:
    """Zero-shot logits ``scale · cos(x_i, class_text_c)`` of shape (n, C), float32.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Image features (raw; normalised here).
    class_text : ndarray of shape (C, d)
        Class text embeddings.
    scale : float
        The logit scale (CLIP's 100).
    """
    x = check_features(x, "x")
    text = _unit(check_class_text(class_text, None, x.shape[1]))
    scale = check_float(scale, "scale", min=0.0, min_open=True)
    out = np.empty((len(x), len(text)), dtype=np.float32)
    for s in range(0, len(x), _CHUNK):
        out[s : s + _CHUNK] = _unit(x[s : s + _CHUNK]) @ text.T
    out *= np.float32(scale)
    return out


def zeroshot_proba(
    x: np.ndarray, class_text: np.ndarray, scale: float = CLIP_LOGIT_SCALE
) -> np.ndarray:
    """Zero-shot class probabilities ``softmax(scale · cos)`` of shape (n, C)."""
    z = zeroshot_logits(x, class_text, scale)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def zeroshot_predict(x: np.ndarray, class_text: np.ndarray) -> np.ndarray:
    """The zero-shot class of every row of ``x``: the most similar class text (shape (n,))."""
    return zeroshot_logits(x, class_text).argmax(axis=1)


def classification_metrics(y: np.ndarray, pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """Top-1 accuracy, balanced accuracy and macro-F1 (over all ``n_classes``) of ``pred``."""
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(accuracy_score(y, pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
            "macro_f1": float(
                f1_score(y, pred, average="macro", labels=np.arange(n_classes), zero_division=0)
            ),
        }


def zeroshot_metrics(x: np.ndarray, y: np.ndarray, class_text: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro-F1 of the zero-shot classifier on ``(x, y)``:
    the same metrics as :func:`alkit.learner.evaluate` gives the probe."""
    x = check_features(x, "x")
    text = check_class_text(class_text, None, x.shape[1])
    y = check_labels(y, len(x), len(text), "y", allow_unknown=False)
    return classification_metrics(y, zeroshot_predict(x, text), len(text))


def fit_logit_scale(
    x: np.ndarray, y: np.ndarray, class_text: np.ndarray, high: float = CLIP_LOGIT_SCALE
) -> float:
    """The logit scale s in [1, ``high``] that maximises the likelihood of the labels ``y`` under
    ``softmax(s · cos(x, class_text))``: temperature scaling of the zero-shot classifier on the
    labeled points (one parameter; the negative log-likelihood is convex in s)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    x = check_features(x, "x")
    text = check_class_text(class_text, None, x.shape[1])
    y = check_labels(y, len(x), len(text), "y", allow_unknown=False)
    cos = (_unit(x) @ _unit(text).T).astype(np.float64)
    target = cos[np.arange(len(y)), y]

    def nll(log_s: float) -> float:
        s = np.exp(log_s)
        return float(np.mean(logsumexp(s * cos, axis=1) - s * target))

    res = minimize_scalar(nll, bounds=(0.0, np.log(high)), method="bounded")
    return float(np.exp(res.x))


def text_init(
    class_text: np.ndarray,
    x: np.ndarray,
    dropout: float,
    bn_eps: float = 1e-5,
    scale: float | None = CLIP_LOGIT_SCALE,
    y: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear-layer weights and BatchNorm statistics that make the probe start as the zero-shot
    classifier.

    The probe computes ``W (h − μ) / σ + b`` on ``h = mask ⊙ x / q`` (input dropout with keep
    probability q = 1 − p, then BatchNorm without affine parameters). The zero-shot classifier
    computes ``s · ⟨x, t_c⟩ / ‖x‖`` (unit class texts t_c). Replacing the per-image norm by the
    mean norm r̄ of the training points, ``W_c = (s / r̄) σ ⊙ t_c`` and ``b_c = (s / r̄) ⟨μ, t_c⟩``
    make the two equal for BatchNorm statistics (μ, σ²); μ is the training points' mean and σ²
    the variance a batch of them has under dropout, ``Var(x) + (1 − q)/q · E[x²]``, the value
    BatchNorm's running variance settles at during training. The probe starts its running
    statistics there too (instead of 0 and 1), so that in evaluation mode it *is* the zero-shot
    classifier (up to the norm approximation) from the first epoch on: early stopping may keep
    an early epoch, whose running statistics would otherwise still be mostly 0 and 1.

    Parameters
    ----------
    class_text : ndarray of shape (C, d)
    x : ndarray of shape (n, d)
        The raw features the probe is about to be fitted on.
    dropout : float
        The probe's input dropout p.
    bn_eps : float
    scale : float or None
        The zero-shot logit scale: CLIP's 100, or ``None`` to fit it to the labels ``y`` of the
        training points (:func:`fit_logit_scale`; what the probe's warm start does).
    y : ndarray of shape (n,), optional
        The labels of ``x``; needed when ``scale`` is ``None``.

    Returns
    -------
    weight : ndarray of shape (C, d), float32
    bias : ndarray of shape (C,), float32
    running_mean, running_var : ndarray of shape (d,), float32
        μ and σ² − eps, the BatchNorm statistics the mapping assumes.
    """
    x = check_features(x, "x")
    if scale is None:
        if y is None:
            raise InvalidInputError("text_init: scale=None fits the scale to the labels y; pass y.")
        scale = fit_logit_scale(x, y, class_text)
    text = _unit(check_class_text(class_text, None, x.shape[1])).astype(np.float64)
    q = 1.0 - check_float(dropout, "dropout", min=0.0, max=1.0, max_open=True)
    xd = x.astype(np.float64)
    mean = xd.mean(axis=0)
    var = xd.var(axis=0) + (1.0 - q) / q * (xd**2).mean(axis=0)
    alpha = scale / max(float(np.linalg.norm(xd, axis=1).mean()), 1e-12)
    weight = alpha * text * np.sqrt(var + bn_eps)[None, :]
    bias = alpha * text @ mean
    f32 = np.float32
    return weight.astype(f32), bias.astype(f32), mean.astype(f32), var.astype(f32)


def text_start(params, class_text: np.ndarray, x: np.ndarray, y: np.ndarray, cfg):
    """Set the probe's linear layer (``params = [weight, bias]``, torch parameters) to
    :func:`text_init` for the fit data ``(x, y)`` (the logit scale fitted to ``y``) and probe
    settings ``cfg``; return the BatchNorm running mean and variance it assumes, as tensors on
    the parameters' device."""
    import torch

    dev = params[0].device
    init = text_init(class_text, x, cfg.dropout, cfg.bn_eps, scale=None, y=y)
    w, b, mean, var = (torch.from_numpy(a).to(dev) for a in init)
    with torch.no_grad():
        params[0].copy_(w)
        params[1].copy_(b)
    return mean, var
