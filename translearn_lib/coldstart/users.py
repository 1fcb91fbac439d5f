"""User cold start: ranking for a user who has given us ``k`` interactions, or none.

The fallback chain, documented once: a user with **no interaction** is served
:func:`popularity_fallback` (the training popularity), or — when age, gender or occupation are
known — :class:`DemographicPopularity`. A user with ``k >= 1`` items gets a profile
(:class:`translearn_lib.coldstart.TextProfile` on the text embeddings of those items) or the warm
model folded in (:class:`ALSFoldIn`: one ``f x f`` solve given the fitted item factors; EASE needs no
fold-in at all, its score is ``x B``). No scorer raises for an empty user.

Taught in notebooks/06_cold_start.ipynb.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config
from translearn_lib.crossdomain.als import factorize
from translearn_lib.recommenders.base import Recommender

#: age buckets (years) used by :class:`DemographicPopularity`
AGE_BINS = (0, 18, 25, 35, 45, 56, 200)


def popularity_fallback(X: Any) -> np.ndarray:
    """Training popularity of every item: what a user with nothing is shown.

    Args:
        X: user x item matrix (sparse or dense) of training interactions.

    Returns:
        numpy.ndarray: float32 ``(n_items,)`` interaction counts.

    Raises:
        ValueError: the matrix is not 2-D.

    Taught in notebooks/06_cold_start.ipynb.
    """
    X = sp.csr_matrix(X)
    if X.ndim != 2:
        raise ValueError("X must be a 2-D user x item matrix")
    return np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float32)


class DemographicPopularity(Recommender):
    """Popularity among users like this one: sum over age bucket, gender and occupation of the item
    share within that group.

    For a user, ``score_j = sum_a share_j(group_a(u))`` where ``share_j(g)`` is the fraction of users in
    group ``g`` who interacted with item ``j`` (groups with fewer than ``min_group`` users, or a
    missing attribute, are skipped). With no usable attribute the user gets the global share
    (popularity): the documented fallback.

    Args:
        users: frame with ``user_id`` and any of ``age``, ``gender``, ``occupation`` (MovieLens ``users``).
        min_group: smallest group trusted.

    Raises:
        ValueError: (in ``fit``) the frame lacks ``user_id`` or a user of the split is missing
        (use ``NaN`` for unknown attributes instead).

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "demographic popularity"

    def __init__(self, users: pd.DataFrame, min_group: int = 10) -> None:
        super().__init__()
        self.users, self.min_group = users, min_group

    def _fit(self, X, data) -> None:
        if "user_id" not in self.users.columns:
            raise ValueError("users frame needs a 'user_id' column")
        ids = getattr(data, "user_ids", np.arange(X.shape[0]))
        frame = self.users.set_index("user_id").reindex(ids)
        if len(frame) != X.shape[0] or frame.index.isna().any():
            raise ValueError("users frame does not cover the split's users")
        if "age" in frame:
            frame["age"] = pd.cut(frame["age"], AGE_BINS, right=False).astype(str).where(frame["age"].notna())
        attrs = [a for a in ("age", "gender", "occupation") if a in frame]
        active = np.asarray(X.sum(axis=1)).ravel() > 0
        self._global = popularity_fallback(X) / max(active.sum(), 1)
        self._groups, self._share = [], []
        for a in attrs:
            codes, values = pd.factorize(frame[a])  # NaN -> -1
            shares = np.zeros((len(values), X.shape[1]), dtype=np.float32)
            for g in range(len(values)):
                members = (codes == g) & active
                if members.sum() >= self.min_group:
                    shares[g] = popularity_fallback(X[members]) / members.sum()
            usable = np.array([(((codes == g) & active).sum() >= self.min_group) for g in range(len(values))], bool)
            self._groups.append(np.where((codes >= 0) & usable[np.maximum(codes, 0)], codes, -1))
            self._share.append(shares)

    def _score(self, users):
        out = np.zeros((len(users), self.n_items_), dtype=np.float32)
        used = np.zeros(len(users), dtype=int)
        for codes, shares in zip(self._groups, self._share):
            c = codes[users]
            out[c >= 0] += shares[c[c >= 0]]
            used += c >= 0
        out[used == 0] = self._global
        return out


class ALSFoldIn(Recommender):
    """Implicit ALS whose new users are folded in: one regularised least-squares solve per user.

    ``fit`` factorises the training matrix (:func:`translearn_lib.crossdomain.als.factorize`); its
    final user half step *is* the fold-in, ``p_u = (Q^T Q + alpha Q_k^T Q_k + reg I)^{-1} (1 + alpha) Q_k^T 1``
    over the user's ``k`` items ``Q_k``, which is what serving runs for a new user without retraining.
    A user with no item has ``p_u = 0`` and gets popularity instead (the documented fallback).

    Args:
        factors, reg, alpha, iters, seed: implicit-ALS settings.

    Attributes:
        user_factors_, item_factors_.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "ALS fold-in"

    def __init__(self, factors: int = 32, reg: float = 10.0, alpha: float = 2.0, iters: int = 8,
                 seed: int = config.DEFAULT_SEED) -> None:
        super().__init__()
        if factors < 1 or not reg > 0 or alpha < 0:
            raise ValueError("factors must be >= 1, reg > 0 and alpha >= 0")
        self.factors, self.reg, self.alpha, self.iters, self.seed = factors, reg, alpha, iters, seed

    def _fit(self, X, data) -> None:
        self.user_factors_, self.item_factors_ = factorize(X, self.factors, self.reg, self.alpha, self.iters, self.seed)
        self._pop = popularity_fallback(X)
        self._empty = np.diff(X.indptr) == 0

    def fold_in(self, items: Any) -> np.ndarray:
        """Factors of a new user from the indices of their items (no refit).

        Args:
            items: item indices the user interacted with (may be empty).

        Returns:
            numpy.ndarray: ``(factors,)`` user vector (zeros for no item).

        Raises:
            ValueError: an item index out of range; RuntimeError: not fitted.

        Taught in notebooks/06_cold_start.ipynb.
        """
        if self.train_ is None:
            raise RuntimeError("ALSFoldIn is not fitted yet: call fit(split) first")
        items = np.asarray(items, dtype=np.int64).ravel()
        if items.size and (items.min() < 0 or items.max() >= self.n_items_):
            raise ValueError(f"item indices must be in [0, {self.n_items_}), got {items.tolist()}")
        Q = self.item_factors_
        Qk = Q[np.unique(items)]
        A = Q.T @ Q + self.alpha * Qk.T @ Qk + self.reg * np.eye(Q.shape[1])
        return np.linalg.solve(A, (1 + self.alpha) * Qk.sum(axis=0)) if items.size else np.zeros(Q.shape[1])

    def _score(self, users):
        out = self.user_factors_[users] @ self.item_factors_.T
        out[self._empty[users]] = self._pop
        return out


class MappedFoldIn(ALSFoldIn):
    """New target users helped by another domain: EMCDR mapping, optionally as the fold-in's prior.

    ``fit`` factorises the target training matrix (as :class:`ALSFoldIn`) and the ``source`` matrix
    separately, then fits a ridge mapping source user factor -> target user factor
    (:func:`translearn_lib.crossdomain.strategies.fit_linear_mapping`, Man et al. 2017) on *anchor*
    users: source history, at least ``min_target`` target training items, and not in
    ``split.info["cold_users"]`` (the new users never teach the mapping). A new user with source
    history then gets

    * ``prior_weight=None``: the mapped factor ``p0`` alone (the ``k`` target items are ignored);
    * ``prior_weight=w >= 0``: the fold-in pulled towards it,
      ``p_u = (Q^T Q + alpha Q_k^T Q_k + (reg + w) I)^{-1} ((1 + alpha) Q_k^T 1 + w p0)``;
      ``w = 0`` is the plain :meth:`ALSFoldIn.fold_in`.

    A new user with neither source history nor target items gets popularity (the documented fallback).

    Args:
        source: csr (n_users, n_source_items) source interactions, rows aligned with ``source_rows``.
        source_rows: for each user index of the split, its row in ``source`` (``-1``: not in the source).
        prior_weight: ``None`` (mapping only) or the ridge pull ``w >= 0`` towards the mapped factor.
        min_target: target training items that make a (non-new) user an anchor.
        mapping_reg: ridge penalty of the mapping (source factors scaled to unit RMS norm).
        factors, reg, alpha, iters, seed: implicit-ALS settings of both factorisations.

    Raises:
        ValueError: ``prior_weight < 0``, ``source_rows`` of the wrong length or out of range (in
        ``fit``), or fewer than two anchor users.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "EMCDR mapping"

    def __init__(self, source: Any, source_rows: Any, prior_weight: float | None = None, min_target: int = 5,
                 mapping_reg: float = 1.0, factors: int = 32, reg: float = 10.0, alpha: float = 2.0,
                 iters: int = 8, seed: int = config.DEFAULT_SEED) -> None:
        super().__init__(factors, reg, alpha, iters, seed)
        if prior_weight is not None and prior_weight < 0:
            raise ValueError(f"prior_weight must be None (mapping only) or >= 0, got {prior_weight!r}")
        self.source, self.source_rows = sp.csr_matrix(source, dtype=np.float32), np.asarray(source_rows, dtype=np.int64)
        self.prior_weight, self.min_target, self.mapping_reg = prior_weight, min_target, mapping_reg
        if prior_weight is not None:
            self.name = f"fold-in, mapped prior (w={prior_weight:g})"

    def _fit(self, X, data) -> None:
        from translearn_lib.crossdomain.strategies import apply_linear_mapping, fit_linear_mapping

        rows = self.source_rows
        if rows.shape != (X.shape[0],) or rows.max(initial=-1) >= self.source.shape[0] or rows.min(initial=0) < -1:
            raise ValueError(f"source_rows must hold one row of source (or -1) per user: {X.shape[0]} entries "
                             f"in [-1, {self.source.shape[0]})")
        super()._fit(X, data)
        Ps, _ = factorize(self.source, self.factors, self.reg, self.alpha, self.iters, self.seed)
        has_src = rows >= 0
        has_src[has_src] = np.diff(self.source.indptr)[rows[has_src]] > 0
        Ps_u = np.where(has_src[:, None], Ps[np.maximum(rows, 0)], 0.0)
        new = np.zeros(X.shape[0], dtype=bool)
        new[np.asarray((getattr(data, "info", None) or {}).get("cold_users", []), dtype=np.int64)] = True
        anchors = has_src & ~new & (np.diff(X.indptr) >= self.min_target)
        if anchors.sum() < 2:
            raise ValueError(f"only {int(anchors.sum())} anchor users (source history, >= {self.min_target} target "
                             "items, not new): lower min_target or use more data")
        self.n_anchors_ = int(anchors.sum())
        self.input_scale_ = float(np.sqrt((Ps_u[anchors] ** 2).sum(axis=1).mean())) or 1.0
        self.mapping_ = fit_linear_mapping(Ps_u[anchors] / self.input_scale_, self.user_factors_[anchors],
                                           self.mapping_reg)
        mapped = apply_linear_mapping(Ps_u / self.input_scale_, self.mapping_)
        Q, w = self.item_factors_, self.prior_weight
        P = self.user_factors_.copy()
        for u in np.flatnonzero(new & has_src):
            if w is None:
                P[u] = mapped[u]
            else:
                Qk = Q[X.indices[X.indptr[u]:X.indptr[u + 1]]]
                A = Q.T @ Q + self.alpha * Qk.T @ Qk + (self.reg + w) * np.eye(Q.shape[1])
                P[u] = np.linalg.solve(A, (1 + self.alpha) * Qk.sum(axis=0) + w * mapped[u])
        self.user_factors_ = P
        self._empty = self._empty & ~(new & has_src)
