"""Non-neural baselines: popularity, item-kNN and EASE (closed form).

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .features import check_features


class Popularity(Recommender):
    """Recommend the items with the most training interactions, the same list for everybody.

    The weakest sensible baseline: any personalised model must beat it.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "Pop"

    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        self.item_counts_ = np.asarray(X.sum(axis=0)).ravel().astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_counts_, (users.size, self.n_items_)).copy()


class ItemKNN(Recommender):
    """Item-based k-nearest neighbours with cosine similarity and shrinkage.

    ``sim(i, j) = <x_i, x_j> / (||x_i|| ||x_j|| + shrink)`` over the item columns of the training
    matrix; only the ``k`` most similar items are kept as neighbours of each item, and a user's
    score for item ``j`` is the sum of the similarities between ``j`` and the items in the history.
    Dense ``n_items x n_items`` memory, so meant for catalogues of thousands of items.

    Args:
        k: neighbours kept per item (RecBole default 100).
        shrink: shrinkage added to the cosine denominator; damps similarities built on few users.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "ItemKNN"

    def __init__(self, k: int = 100, shrink: float = 0.0) -> None:
        super().__init__()
        if k <= 0:
            raise ValueError(f"k (neighbours) must be positive, got {k}")
        if shrink < 0:
            raise ValueError(f"shrink must be >= 0, got {shrink}")
        self.k = int(k)
        self.shrink = float(shrink)

    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        co = (X.T @ X).toarray().astype(np.float64)
        norms = np.sqrt(np.diag(co))
        sim = co / (np.outer(norms, norms) + self.shrink + 1e-12)
        np.fill_diagonal(sim, 0.0)
        k = min(self.k, sim.shape[0] - 1)
        if k < sim.shape[0] - 1:
            # keep, for every target item (column), its k most similar items (rows)
            drop = np.argpartition(-sim, k, axis=0)[k:, :]
            np.put_along_axis(sim, drop, 0.0, axis=0)
        self.similarity_ = sim.astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train_[users] @ self.similarity_)


def ease_weights(X: Any, lam: float, gram_extra: np.ndarray | None = None) -> np.ndarray:
    """EASE item-item weights in closed form (Steck 2019).

    Solves ``min_B ||X - X B||^2 + lam ||B||^2`` subject to ``diag(B) = 0``:
    ``P = (X^T X + lam I)^-1`` and ``B = I - P diag(1 / diag(P))``, i.e. ``B_ij = -P_ij / P_jj``
    off the diagonal and 0 on it.

    Args:
        X: user x item matrix (sparse or dense).
        lam: L2 weight (> 0); larger = smoother, more popularity-like.
        gram_extra: optional ``(n_items, n_items)`` matrix added to the Gram ``X^T X`` (side
            information, as in collective EASE).

    Returns:
        numpy.ndarray: ``B`` of shape ``(n_items, n_items)``, float64, zero diagonal.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    if lam <= 0:
        raise ValueError(f"lambda must be positive, got {lam}")
    G = X.T @ X
    G = G.toarray() if sp.issparse(G) else np.asarray(G)
    G = G.astype(np.float64)
    if gram_extra is not None:
        G = G + gram_extra
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, WWW 2019): a closed-form item-item linear model.

    One matrix inversion of size ``n_items``; no epochs, no negative sampling, and on MovieLens it
    beats most neural models. Tune ``lam`` on the validation part.

    Args:
        lam: L2 regularisation (RecBole default 250).

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "EASE"

    def __init__(self, lam: float = 250.0) -> None:
        super().__init__()
        if lam <= 0:
            raise ValueError(f"lam must be positive, got {lam}")
        self.lam = float(lam)

    def _gram_extra(self, X: sp.csr_matrix, data: Any) -> np.ndarray | None:
        return None

    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        self.weights_ = ease_weights(X, self.lam, self._gram_extra(X, data)).astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train_[users] @ self.weights_)


class TextEASE(EASE):
    """EASE with BERT text side information added to the item Gram matrix (collective EASE).

    Side information enters as extra "pseudo-users": stacking ``alpha * F^T`` under ``X`` (``F`` =
    centred, L2-normalised item text embeddings) adds ``alpha^2 F F^T`` to ``X^T X``, so items with
    similar descriptions are pulled towards each other, most strongly for items with few
    interactions (Jeunen et al., 2020, "Closed-form models for collaborative filtering with
    side-information").

    Args:
        item_features: ``(n_items, d)`` text embeddings aligned with the split's item index.
        lam: L2 regularisation of EASE.
        alpha: weight of the text Gram (``alpha = 0`` gives plain EASE).

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "TextEASE"

    def __init__(self, item_features: np.ndarray, lam: float = 250.0, alpha: float = 10.0) -> None:
        super().__init__(lam=lam)
        self.item_features = np.asarray(item_features, dtype=np.float64)
        if self.item_features.ndim != 2:
            raise ValueError("item_features must be a 2-D array (n_items, dim)")
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)

    def _gram_extra(self, X: sp.csr_matrix, data: Any) -> np.ndarray | None:
        F = check_features(self.item_features, X.shape[1])
        F = F - F.mean(axis=0, keepdims=True)
        F = F / (np.linalg.norm(F, axis=1, keepdims=True) + 1e-12)
        return (self.alpha**2) * (F @ F.T)

