"""The common recommender interface, input checks and the full-ranking evaluation loop.

Every model in :mod:`translearn_lib.recommenders` follows the same three-method contract:

* ``fit(split)`` learns from ``split.matrix("train")`` (a :class:`translearn_lib.splits.Split`, or a
  user x item ``scipy.sparse`` matrix of implicit feedback) and returns ``self``;
* ``score(users)`` returns a dense ``(len(users), n_items)`` float32 array (higher = better);
* ``recommend(users, k=10, exclude_seen=True)`` returns the top-``k`` item indices per user.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import scipy.sparse as sp

from translearn_lib import metrics
from translearn_lib.metrics import check_k


def as_train_matrix(data: Any) -> sp.csr_matrix:
    """Return the binary user x item training matrix of a ``Split`` or a sparse/dense matrix.

    Args:
        data: a :class:`translearn_lib.splits.Split` (its ``matrix("train")`` is used), or a
            ``scipy.sparse`` / NumPy 2-D array of implicit feedback (non-zero = interaction).

    Returns:
        scipy.sparse.csr_matrix: float32 matrix of 0/1, shape ``(n_users, n_items)``.

    Raises:
        ValueError: the data has no users, no items or no interactions.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    if hasattr(data, "matrix") and callable(data.matrix):
        X = data.matrix("train")
    elif sp.issparse(data) or isinstance(data, np.ndarray):
        X = data
    else:
        raise TypeError(f"fit() expects a translearn_lib.splits.Split or a user x item matrix, got {type(data).__name__}")
    X = sp.csr_matrix(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"empty training data: matrix shape {X.shape}; the split needs users and items")
    X.data[:] = 1.0
    X.eliminate_zeros()
    if X.nnz == 0:
        raise ValueError("empty training data: the training part has no interactions")
    return X


class Recommender(ABC):
    """Base class: subclasses implement ``_fit(X, data)`` and ``_score(users)``.

    Attributes:
        n_users_ (int): number of users seen in ``fit``.
        n_items_ (int): number of items.
        train_ (scipy.sparse.csr_matrix): the training matrix (used to mask seen items).
        fit_seconds_ (float): wall time of the last ``fit``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "base"

    def __init__(self) -> None:
        self.train_: sp.csr_matrix | None = None
        self.n_users_ = 0
        self.n_items_ = 0
        self.fit_seconds_ = float("nan")

    # -- public API ---------------------------------------------------------------------------
    def fit(self, data: Any) -> "Recommender":
        """Learn from the training part of ``data`` (a ``Split`` or a user x item matrix).

        Args:
            data: a :class:`translearn_lib.splits.Split` or a sparse user x item matrix.

        Returns:
            Recommender: ``self``.

        Raises:
            ValueError: the training data is empty.
        """
        X = as_train_matrix(data)
        self.train_ = X
        self.n_users_, self.n_items_ = X.shape
        start = time.perf_counter()
        self._fit(X, data)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def score(self, users: Any) -> np.ndarray:
        """Scores of every item for the given users.

        Args:
            users: user indices (0-based, as in ``split.train["user"]``).

        Returns:
            numpy.ndarray: float32 array ``(len(users), n_items)``; higher means more recommended.

        Raises:
            ValueError: a user index is outside ``[0, n_users)``.
            RuntimeError: the model was not fitted.
        """
        users = self._check_users(users)
        return np.asarray(self._score(users), dtype=np.float32)

    def recommend(self, users: Any, k: int = 10, exclude_seen: Any = True) -> np.ndarray:
        """Top-``k`` item indices per user, best first.

        Args:
            users: user indices.
            k: list length, ``1 <= k <= n_items``.
            exclude_seen: ``True`` masks the items each user has in the training matrix, ``False``
                masks nothing, or a sparse matrix ``(n_users, n_items)`` of items to mask (e.g.
                ``split.seen("test")``).

        Returns:
            numpy.ndarray: int64 array ``(len(users), k)``, computed by
            :func:`translearn_lib.metrics.topk` (the ranking :func:`evaluate` scores): ties are
            broken by the lower item index, so a user whose scores are all equal gets 0, 1, 2, ...

        Raises:
            ValueError: an unknown user index or a bad ``k``.
            RuntimeError: the model was not fitted.
        """
        users = self._check_users(users)
        k = check_k(k, self.n_items_)
        if exclude_seen is True:
            exclude = self.train_[users]
        elif exclude_seen is False or exclude_seen is None:
            exclude = None
        else:
            exclude = sp.csr_matrix(exclude_seen)[users]
        return metrics.topk(self.score(users), k, exclude=exclude)

    # -- helpers ------------------------------------------------------------------------------
    def _check_users(self, users: Any) -> np.ndarray:
        if self.train_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(split) first")
        users = np.atleast_1d(np.asarray(users))
        if users.ndim != 1:
            raise ValueError(f"users must be a 1-D list of user indices, got shape {users.shape}")
        if users.size and not np.issubdtype(users.dtype, np.integer):
            raise ValueError(f"user indices must be integers, got dtype {users.dtype}")
        users = users.astype(np.int64)
        bad = users[(users < 0) | (users >= self.n_users_)]
        if bad.size:
            raise ValueError(
                f"unknown user index {int(bad[0])}: valid indices are 0..{self.n_users_ - 1} "
                "(use split.train['user'], not the original user_id)"
            )
        return users

    @abstractmethod
    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        """Learn from the binary training matrix ``X`` (``data`` is what ``fit`` received)."""

    @abstractmethod
    def _score(self, users: np.ndarray) -> np.ndarray:
        """Return a ``(len(users), n_items)`` score array for validated user indices."""

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items() if np.isscalar(v) or v is None)
        return f"{type(self).__name__}({inner})"


def mask_scores(scores: np.ndarray, exclude: sp.spmatrix) -> np.ndarray:
    """Return a copy of ``scores`` with the non-zero entries of ``exclude`` set to ``-inf``.

    Args:
        scores: (n_users, n_items) scores.
        exclude: sparse (n_users, n_items) matrix of the items to remove (e.g. ``split.seen("test")``).

    Returns:
        numpy.ndarray: float32 copy; masked items can never enter a top-k.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    scores = np.array(scores, dtype=np.float32, copy=True)
    exclude = sp.coo_matrix(exclude)
    scores[exclude.row, exclude.col] = -np.inf
    return scores


def evaluate(model: Recommender, split: Any, k: int = 10, part: str = "test", batch_size: int = 512) -> dict:
    """Full-ranking evaluation of a fitted model on one part of a split (RecBole protocol).

    Every item is ranked for every user that has at least one interaction in ``part``; the items in
    ``split.seen(part)`` (train for "valid", train + valid for "test") are masked. Users are scored
    in batches so memory stays at ``batch_size x n_items`` floats.

    Args:
        model: a fitted :class:`Recommender`.
        split: the :class:`translearn_lib.splits.Split` the model was fitted on.
        k: cut-off, ``1 <= k <= n_items``.
        part: ``"valid"`` or ``"test"``.
        batch_size: users scored at a time.

    Returns:
        dict: ``recall``, ``precision``, ``ndcg``, ``hit``, ``mrr`` (means over evaluated users) and
        ``n_users`` (how many users were evaluated).

    Raises:
        ValueError: bad ``k`` or ``part``, or no user has interactions in ``part``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    k = check_k(k, split.n_items)
    if model.train_ is None:
        raise RuntimeError(f"{type(model).__name__} is not fitted yet: call fit(split) first")
    if model.train_.shape != (split.n_users, split.n_items):
        raise ValueError(
            f"model was fitted on a {model.train_.shape} matrix but the split is "
            f"({split.n_users}, {split.n_items}): fit the model on this split"
        )
    return evaluate_scores(model.score, split, k=k, part=part, batch_size=batch_size)


def evaluate_scores(score, split: Any, k: int = 10, part: str = "test", users=None,
                    batch_size: int = 512) -> dict:
    """Full-ranking metrics for any scorer: the protocol behind :func:`evaluate`.

    Every item is ranked for the evaluated users; ``split.seen(part)`` is masked (train for
    "valid", train + valid for "test"). Users are scored in batches so memory stays at
    ``batch_size x n_items`` floats. Chapter 04's cross-domain strategies use it too.

    Args:
        score: callable mapping an array of user indices to a ``(len(users), n_items)`` array.
        split: the :class:`translearn_lib.splits.Split` to evaluate on.
        k: cut-off, ``1 <= k <= n_items``.
        part: ``"valid"`` or ``"test"`` (scoring the training part would measure memorisation).
        users: evaluate only these user indices (default: every user with an interaction in
            ``part``).
        batch_size: users scored at a time.

    Returns:
        dict: ``recall``, ``precision``, ``ndcg``, ``hit``, ``mrr`` (means over evaluated users) and
        ``n_users`` (how many users were evaluated).

    Raises:
        ValueError: bad ``k`` or ``part``, or no user to evaluate.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    if part not in ("valid", "test"):
        raise ValueError(f"part must be 'valid' or 'test', got {part!r}")
    k = check_k(k, split.n_items)
    truth = sp.csr_matrix(split.matrix(part))
    seen = sp.csr_matrix(split.seen(part))
    users = np.flatnonzero(np.diff(truth.indptr) > 0) if users is None else np.asarray(users, dtype=np.int64)
    if users.size == 0:
        raise ValueError(f"the '{part}' part of the split has no interactions to evaluate")
    out = ranking_over_users(score, truth, seen, users, k=k, batch_size=batch_size)
    if out is None:
        raise ValueError(f"none of the requested users has an interaction in the '{part}' part")
    return out


def ranking_over_users(score, truth: sp.csr_matrix, seen: sp.csr_matrix, users: np.ndarray, k: int = 10,
                       batch_size: int = 512) -> dict | None:
    """The batched loop behind every full-ranking evaluation: score users in batches, average the metrics.

    Args:
        score: callable mapping an array of user indices to a ``(len(users), n_items)`` array.
        truth: csr ``(n_users, n_items)`` relevant items.
        seen: csr ``(n_users, n_items)`` items to mask before ranking.
        users: user indices to evaluate (users without a relevant item are skipped).
        k: cut-off.
        batch_size: users scored at a time.

    Returns:
        dict | None: ``recall``, ``precision``, ``ndcg``, ``hit``, ``mrr`` (means over evaluated users)
        and ``n_users``; ``None`` when no user has a relevant item.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib import metrics

    totals: dict[str, float] = {}
    evaluated = 0
    for start in range(0, users.size, batch_size):
        batch = users[start : start + batch_size]
        if truth[batch].nnz == 0:  # explicit users without relevant items are skipped
            continue
        result = metrics.ranking_metrics(score(batch), truth[batch], k=k, exclude=seen[batch])
        evaluated += result["users"]
        for name in metrics.METRICS:
            totals[name] = totals.get(name, 0.0) + result[name] * result["users"]
    if evaluated == 0:
        return None
    out = {name: value / evaluated for name, value in totals.items()}
    out["n_users"] = int(evaluated)
    return out
