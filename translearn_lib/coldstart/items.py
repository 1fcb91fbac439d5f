"""Cold-item scorers: what a recommender can say about an item nobody has interacted with yet.

All of them are :class:`translearn_lib.recommenders.Recommender` subclasses (``fit(split)``,
``score(users)``, ``recommend(users, k)``) and score every item, warm or cold, from the training
matrix plus per-item side information (metadata, genres, text embeddings):

* :class:`RandomScores` — the floor;
* :class:`MetadataPopularity` — an item scores the mean popularity of the warm items that share
  its metadata value (e.g. release year): popularity's best guess for an item with no history;
* :class:`GenreProfile` / :class:`TextProfile` — content profiles: a user's mean feature vector over
  their training items, dotted with every item's features (genre one-hot; BERT text embedding);
* :class:`TextToFactor` — implicit ALS on the warm items, then a ridge map from the text embedding
  to the item factors (:func:`ridge_map`), so a cold item gets a collaborative vector from its text
  (DeepMusic, van den Oord et al. 2013; CB2CF, Barkan et al. 2019);
* :class:`DropoutNet` — a small MLP from ``[item factors, text]`` to item factors trained with the
  factor input dropped at random, so the same model scores warm items (factors present) and cold
  items (factors = 0) on one scale (Volkovs et al. 2017). NumPy, full batch, Adam, deterministic.

Taught in notebooks/06_cold_start.ipynb.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config
from translearn_lib.crossdomain.als import factorize
from translearn_lib.recommenders.base import Recommender
from translearn_lib.recommenders.features import check_features


def _l2(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _warm(X: sp.csr_matrix) -> np.ndarray:
    return np.asarray(X.sum(axis=0)).ravel() > 0


def genre_matrix(split: Any, items: pd.DataFrame, column: str = "genres") -> tuple[np.ndarray, list[str]]:
    """Genre one-hot rows aligned with a split's item index.

    Args:
        split: a :class:`translearn_lib.splits.Split` (uses ``split.item_ids``).
        items: frame with ``item_id`` and a list-valued ``column`` (MovieLens ``items``).
        column: the list column.

    Returns:
        tuple: ``(matrix, names)``: float32 ``(split.n_items, n_genres)`` 0/1 array and the genre names.

    Raises:
        ValueError: the frame lacks the columns or an item of the split is missing.

    Taught in notebooks/06_cold_start.ipynb.
    """
    if not {"item_id", column} <= set(items.columns):
        raise ValueError(f"items frame needs 'item_id' and {column!r} columns")
    names = sorted({g for gs in items[column] for g in (gs if isinstance(gs, (list, tuple)) else [])})
    row_of = dict(zip(items["item_id"], items[column]))
    missing = [i for i in split.item_ids if i not in row_of]
    if missing:
        raise ValueError(f"{len(missing)} items of the split are not in the items frame, e.g. {missing[0]!r}")
    col = {g: j for j, g in enumerate(names)}
    out = np.zeros((split.n_items, len(names)), dtype=np.float32)
    for i, iid in enumerate(split.item_ids):
        gs = row_of[iid]
        for g in gs if isinstance(gs, (list, tuple)) else []:
            out[i, col[g]] = 1.0
    return out, names


def ridge_map(features: np.ndarray, targets: np.ndarray, lam: float = 10.0) -> np.ndarray:
    """Closed-form ridge regression with an intercept: ``[features, 1] @ W ≈ targets``.

    ``W = ([F, 1]^T [F, 1] + lam I)^{-1} [F, 1]^T T`` (the intercept is not penalised).

    Args:
        features: ``(n, d)`` inputs (e.g. text embeddings of warm items).
        targets: ``(n, f)`` outputs (e.g. their collaborative item factors).
        lam: L2 penalty, ``>= 0``.

    Returns:
        numpy.ndarray: ``(d + 1, f)`` weights; the last row is the intercept. Predict with
        ``features @ W[:-1] + W[-1]``.

    Raises:
        ValueError: shapes disagree, empty input, or ``lam < 0``.

    Taught in notebooks/06_cold_start.ipynb.
    """
    F = np.asarray(features, dtype=np.float64)
    T = np.asarray(targets, dtype=np.float64)
    if F.ndim != 2 or T.ndim != 2 or F.shape[0] != T.shape[0] or F.shape[0] == 0:
        raise ValueError(f"features {F.shape} and targets {T.shape} must be 2-D with the same, non-zero number of rows")
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    A = np.hstack([F, np.ones((len(F), 1))])
    penalty = lam * np.eye(A.shape[1])
    penalty[-1, -1] = 0.0
    return np.linalg.solve(A.T @ A + penalty, A.T @ T)


class RandomScores(Recommender):
    """Uniform random scores, fixed per (user, item) by ``seed``: the floor of every comparison.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "random"

    def __init__(self, seed: int = config.DEFAULT_SEED) -> None:
        super().__init__()
        self.seed = seed

    def _fit(self, X, data) -> None:
        self._table = np.random.default_rng(self.seed).random(X.shape, dtype=np.float32)

    def _score(self, users):
        return self._table[users]


class MetadataPopularity(Recommender):
    """Popularity by metadata: an item scores the mean training count of the warm items sharing its value.

    Cold items have no count of their own, so popularity can only guess from what is known at
    launch (e.g. the release year: recent films are watched more). Values with no warm item get the
    mean over all warm items. The same scores for every user.

    Args:
        values: one metadata value per item (length ``n_items``, e.g. the year; ``NaN`` allowed).

    Raises:
        ValueError: (in ``fit``) ``values`` does not have one entry per item.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "metadata popularity"

    def __init__(self, values: Sequence) -> None:
        super().__init__()
        self.values = np.asarray(pd.Series(list(values)).fillna(-1).to_numpy())

    def _fit(self, X, data) -> None:
        if len(self.values) != X.shape[1]:
            raise ValueError(f"values has {len(self.values)} entries but there are {X.shape[1]} items")
        counts = np.asarray(X.sum(axis=0)).ravel()
        warm = counts > 0
        frame = pd.DataFrame({"v": self.values[warm], "c": counts[warm]})
        means = frame.groupby("v")["c"].mean()
        fallback = float(counts[warm].mean())
        self.item_scores_ = pd.Series(self.values).map(means).fillna(fallback).to_numpy(np.float32)

    def _score(self, users):
        return np.tile(self.item_scores_, (len(users), 1))


class _Profile(Recommender):
    """User profile = mean of the L2-normalised features of the training items; score = profile · item.

    A user with no training item gets the popularity of the training matrix (the documented
    fallback), so the ranking is defined for everyone.
    """

    name = "profile"

    def __init__(self, item_features: np.ndarray, idf: bool = False) -> None:
        super().__init__()
        self.item_features = item_features
        self.idf = idf

    def _fit(self, X, data) -> None:
        F = check_features(self.item_features, X.shape[1])
        if self.idf:  # down-weight features every item has (e.g. "Drama")
            F = F * np.log((1 + len(F)) / (1 + (F > 0).sum(axis=0)))[None, :]
        self._F = _l2(F)
        self._pop = np.asarray(X.sum(axis=0)).ravel().astype(np.float32)

    def _score(self, users):
        H = self.train_[users]
        n = np.asarray(H.sum(axis=1)).ravel()
        profile = (H @ self._F) / np.maximum(n, 1)[:, None]
        out = profile @ self._F.T
        out[n == 0] = self._pop
        return out


class GenreProfile(_Profile):
    """Content baseline without a language model: the user's mean genre one-hot (IDF-weighted) · item genres.

    Args:
        genres: ``(n_items, n_genres)`` one-hot rows (see :func:`genre_matrix`).
        idf: weight genres by inverse item frequency.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "genre profile"

    def __init__(self, genres: np.ndarray, idf: bool = True) -> None:
        super().__init__(genres, idf=idf)


class TextProfile(_Profile):
    """Naive text profile: the mean BERT embedding of the user's items · each item's embedding.

    Serves as the onboarding profile of a new user too (the ``k`` items they picked); with no item
    at all it falls back to popularity.

    Args:
        embeddings: ``(n_items, d)`` text embeddings.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "text profile"

    def __init__(self, embeddings: np.ndarray) -> None:
        super().__init__(embeddings, idf=False)


class _Factors(Recommender):
    """Implicit ALS user/item factors of the warm matrix; subclasses give cold items a vector."""

    def __init__(self, embeddings, factors, als_reg, alpha, iters, seed) -> None:
        super().__init__()
        self.embeddings = embeddings
        self.factors, self.als_reg, self.alpha, self.iters, self.seed = factors, als_reg, alpha, iters, seed

    def _als(self, X):
        E = check_features(self.embeddings, X.shape[1])
        P, Q = factorize(X, factors=self.factors, reg=self.als_reg, alpha=self.alpha, iters=self.iters, seed=self.seed)
        return E, P, Q, _warm(X)

    def _score(self, users):
        return self.user_factors_[users] @ self.item_factors_.T


class TextToFactor(_Factors):
    """Content → collaborative map: ridge from text embeddings to warm ALS item factors.

    ``fit``: implicit ALS (:func:`translearn_lib.crossdomain.als.factorize`) on the training matrix,
    then :func:`ridge_map` from the embeddings of the warm items to their factors. Cold items get
    ``E_cold @ W``; warm items keep their ALS factors unless ``map_warm=True``.

    Args:
        embeddings: ``(n_items, d)`` item text embeddings.
        factors, als_reg, alpha, iters, seed: implicit-ALS settings.
        lam: ridge penalty of the map.
        map_warm: also replace the warm items' factors by their mapped ones.

    Attributes:
        user_factors_, item_factors_, als_item_factors_, weights_ (the ``(d + 1, factors)`` map),
        warm_ (bool per item).

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "text → factor map"

    def __init__(self, embeddings: np.ndarray, factors: int = 32, lam: float = 10.0, als_reg: float = 10.0,
                 alpha: float = 2.0, iters: int = 8, map_warm: bool = False, seed: int = config.DEFAULT_SEED) -> None:
        super().__init__(embeddings, factors, als_reg, alpha, iters, seed)
        if not lam >= 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        self.lam, self.map_warm = lam, map_warm

    def _fit(self, X, data) -> None:
        E, P, Q, warm = self._als(X)
        self.weights_ = ridge_map(E[warm], Q[warm], self.lam)
        mapped = E @ self.weights_[:-1] + self.weights_[-1]
        self.warm_, self.user_factors_, self.als_item_factors_ = warm, P, Q
        self.item_factors_ = mapped if self.map_warm else np.where(warm[:, None], Q, mapped)


class DropoutNet(_Factors):
    """Item-ID dropout (Volkovs et al. 2017), small and closed-loop in NumPy.

    The item tower ``f([q, e]) = relu([q/s, e] W1 + b1) W2 + b2`` maps an item's ALS factors ``q``
    (scaled by their RMS ``s``) and text embedding ``e`` to an item vector. It is trained on the warm
    items to reproduce the warm model's preferences, ``mean_{u,j} (p_u·f_j − p_u·q_j)^2``, which equals
    ``mean_j (f_j − q_j) M (f_j − q_j)^T`` with ``M = P^T P / n_users`` (no user sampling needed). At each
    step the factor input of a random share ``dropout`` of the items is set to zero, so the model
    learns to score from text alone; at serving time a cold item simply has ``q = 0``. The user tower
    is the identity on the ALS user factors. Full batch, Adam, weight decay; deterministic per seed.

    Args:
        embeddings: ``(n_items, d)`` item text embeddings.
        factors, als_reg, alpha, iters: implicit-ALS settings.
        hidden: hidden units; dropout: share of items whose factors are dropped per step, in [0, 1].
        steps, lr, weight_decay: training settings.
        seed: seed of ALS, the initial weights and the dropout masks.

    Attributes:
        user_factors_, item_factors_ (``f`` for every item: warm with factors, cold without),
        losses_ (training loss per step).

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "DropoutNet"

    def __init__(self, embeddings: np.ndarray, factors: int = 32, hidden: int = 64, dropout: float = 0.5,
                 steps: int = 200, lr: float = 3e-3, weight_decay: float = 1e-4, als_reg: float = 10.0,
                 alpha: float = 2.0, iters: int = 8, seed: int = config.DEFAULT_SEED) -> None:
        super().__init__(embeddings, factors, als_reg, alpha, iters, seed)
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        if hidden < 1 or steps < 1 or not lr > 0 or weight_decay < 0:
            raise ValueError("hidden and steps must be >= 1, lr > 0 and weight_decay >= 0")
        self.hidden, self.dropout, self.steps, self.lr, self.weight_decay = hidden, dropout, steps, lr, weight_decay

    def _forward(self, Xin):
        Z = Xin @ self._W1 + self._b1
        H = np.maximum(Z, 0.0)
        return Z, H, H @ self._W2 + self._b2

    def _inputs(self, Q, E, keep):
        return np.hstack([Q / self._scale * keep[:, None], E])

    def _fit(self, X, data) -> None:
        E, P, Q, warm = self._als(X)
        rng = np.random.default_rng(self.seed)
        self._scale = float(np.sqrt(np.mean(Q[warm] ** 2))) or 1.0
        d_in, f = Q.shape[1] + E.shape[1], Q.shape[1]
        self._W1 = rng.normal(0, np.sqrt(2.0 / d_in), (d_in, self.hidden))
        self._b1 = np.zeros(self.hidden)
        self._W2 = rng.normal(0, np.sqrt(1.0 / self.hidden), (self.hidden, f)) * 0.1
        self._b2 = Q[warm].mean(axis=0)
        M = P.T @ P / len(P)
        Qw, Ew = Q[warm], E[warm]
        params = ["_W1", "_b1", "_W2", "_b2"]
        m = {p: np.zeros_like(getattr(self, p)) for p in params}
        v = {p: np.zeros_like(getattr(self, p)) for p in params}
        self.losses_ = []
        for t in range(1, self.steps + 1):
            keep = (rng.random(len(Qw)) >= self.dropout).astype(float)
            Xin = self._inputs(Qw, Ew, keep)
            Z, H, F = self._forward(Xin)
            R = F - Qw
            self.losses_.append(float(np.einsum("ij,jk,ik->", R, M, R) / len(R)))
            G = 2.0 * (R @ M) / len(R)
            dZ = (G @ self._W2.T) * (Z > 0)
            grads = {"_W2": H.T @ G + self.weight_decay * self._W2, "_b2": G.sum(0),
                     "_W1": Xin.T @ dZ + self.weight_decay * self._W1, "_b1": dZ.sum(0)}
            for p in params:
                m[p] = 0.9 * m[p] + 0.1 * grads[p]
                v[p] = 0.999 * v[p] + 0.001 * grads[p] ** 2
                step = self.lr * (m[p] / (1 - 0.9 ** t)) / (np.sqrt(v[p] / (1 - 0.999 ** t)) + 1e-8)
                setattr(self, p, getattr(self, p) - step)
        self.warm_, self.user_factors_, self.als_item_factors_ = warm, P, Q
        self.item_factors_ = self._forward(self._inputs(Q, E, warm.astype(float)))[2]
