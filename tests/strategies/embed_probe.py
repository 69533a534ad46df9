"""A probe given by hand, and pools whose rows are looked up by id (diversity strategy tests)."""

from __future__ import annotations

import numpy as np
import torch

from alkit.pool import Pool


class EmbedProbe:
    """A probe whose embedding, probabilities and linear layer are given by hand.

    Rows are looked up through the pool's first feature column (the row id).
    """

    is_fitted = True

    def __init__(self, emb, proba=None, weight=None, bias=None):
        self.emb = np.asarray(emb, dtype=np.float32)
        self.proba = None if proba is None else np.asarray(proba, dtype=np.float32)
        if weight is not None:
            self.weight_ = torch.as_tensor(weight, dtype=torch.float32)
            self.bias_ = torch.as_tensor(bias, dtype=torch.float32)

    @staticmethod
    def _ids(x):
        return np.asarray(x)[:, 0].astype(np.int64)

    def embed(self, x):
        return self.emb[self._ids(x)]

    def predict_proba(self, x, dropout=False):
        return self.proba[self._ids(x)]


def id_pool(n, n_classes=3, labeled=(), labels=None):
    x = np.stack([np.arange(n, dtype=np.float32), np.zeros(n, dtype=np.float32)], 1)
    lab = np.zeros(n, dtype=bool)
    lab[list(labeled)] = True
    y = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels)
    return Pool(x, n_classes, lab, np.where(lab, y, -1))
