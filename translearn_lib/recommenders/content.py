"""Text-only recommendation: users and items described by BERT item embeddings, no item IDs.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .features import check_features


class TextOnly(Recommender):
    """Closed-form bilinear model over text features: ``score(u, j) = (x_u F) W f_j``.

    The user is the sum of the BERT embeddings of the items in their history (``a_u = x_u F``),
    the item is its own BERT embedding ``f_j``, and the ``d x d`` matrix ``W`` says which text
    directions in a history predict which directions in the next item. ``W`` solves the ridge
    problem ``min ||X - A W F^T||^2 + lam ||W||^2`` exactly through two eigendecompositions
    (``A^T A`` and ``F^T F``), so fitting needs no iterations. Because nothing depends on item IDs the
    model also scores items that never appeared in training (cold items).

    Args:
        item_features: ``(n_items, d)`` text embeddings aligned with the split's item index.
        lam: ridge weight; tune on the validation part.
        center: subtract the mean embedding first (removes the direction every title shares).

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "TextOnly"

    def __init__(self, item_features: np.ndarray, lam: float = 100.0, center: bool = True) -> None:
        super().__init__()
        if lam <= 0:
            raise ValueError(f"lam must be positive, got {lam}")
        self.item_features = np.asarray(item_features, dtype=np.float64)
        self.lam = float(lam)
        self.center = bool(center)

    def _features(self) -> np.ndarray:
        F = check_features(self.item_features, self.n_items_)
        if self.center:
            F = F - F.mean(axis=0, keepdims=True)
        return F

    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        F = self._features()
        A = np.asarray(X @ F)  # user profiles (n_users, d)
        s, U = np.linalg.eigh(A.T @ A)
        t, V = np.linalg.eigh(F.T @ F)
        C = U.T @ (np.asarray((X.T @ A)).T @ F) @ V  # U^T A^T X F V
        W = U @ (C / (np.outer(np.maximum(s, 0), np.maximum(t, 0)) + self.lam)) @ V.T
        self.F_ = F.astype(np.float32)
        self.W_ = W.astype(np.float32)
        self.item_side_ = (self.F_ @ self.W_.T).astype(np.float32)  # (n_items, d): W f_j for every item

    def _score(self, users: np.ndarray) -> np.ndarray:
        profiles = np.asarray(self.train_[users] @ self.F_)
        return profiles @ self.item_side_.T
