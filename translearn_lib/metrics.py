"""Full-ranking evaluation: Recall, Precision, NDCG, Hit and MRR @K, and AUC.

Definitions follow RecBole (Zhao et al., 2021), averaged over the users that have at least one
relevant item:

- Recall@K = |top-K ∩ relevant| / |relevant|
- Precision@K = |top-K ∩ relevant| / K
- Hit@K = 1 if top-K ∩ relevant is not empty
- MRR@K = 1 / rank of the first relevant item in the top-K (0 if none)
- NDCG@K = DCG@K / IDCG@K with binary gains, DCG = Σ 1/log2(rank + 1), IDCG over min(|relevant|, K)
- AUC = probability that a relevant item is scored above a non-relevant one (ties count 1/2),
  per user, then averaged.

Items the user already interacted with (``exclude``) are removed from the ranking before the
top-K is taken: the "training items masked" protocol.

:func:`sampled_ranking_metrics` is the shortcut many papers used instead (rank each held-out item
against 100 sampled negatives), kept here to measure how it flatters a model (Krichene & Rendle,
KDD 2020).

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

METRICS = ("recall", "precision", "ndcg", "hit", "mrr")


def _as_csr(matrix, shape, name: str) -> sp.csr_matrix:
    if matrix is None:
        return sp.csr_matrix(shape, dtype=np.float32)
    if isinstance(matrix, np.ndarray):
        matrix = sp.csr_matrix(matrix)
    if not sp.issparse(matrix):
        raise TypeError(f"{name} must be a scipy sparse matrix or a NumPy array, got {type(matrix).__name__}")
    matrix = sp.csr_matrix(matrix)
    if matrix.shape != shape:
        raise ValueError(f"{name} has shape {matrix.shape} but scores have shape {shape}: "
                         f"rows must be the same users, columns the same items")
    return matrix


def _check_scores(scores) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (users × items), got shape {scores.shape}")
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"scores is empty (shape {scores.shape}): nothing to rank")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; check the model output")
    return scores


def check_k(k, n_items: int) -> int:
    """Validate a cut-off ``k`` and return it as ``int``.

    Args:
        k: the list length.
        n_items: catalogue size.

    Returns:
        int: ``k``.

    Raises:
        TypeError: ``k`` is not an integer.
        ValueError: ``k <= 0`` or ``k > n_items``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if k > n_items:
        raise ValueError(f"k={k} is larger than the catalogue ({n_items} items); use k <= {n_items}")
    return int(k)


def topk(scores, k: int, exclude=None) -> np.ndarray:
    """Indices of the K best-scored items per row, best first, with ``exclude`` masked.

    Ties are broken by the lower item index, so results are deterministic.

    Args:
        scores: (n_users, n_items) array.
        k: list length, 1 <= k <= n_items.
        exclude: optional (n_users, n_items) sparse/dense matrix; non-zero entries are never
            recommended.

    Returns:
        np.ndarray: (n_users, k) int64 item indices.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    scores = _check_scores(scores).copy()
    k = check_k(k, scores.shape[1])
    exclude = _as_csr(exclude, scores.shape, "exclude")
    rows, cols = exclude.nonzero()
    scores[rows, cols] = -np.inf
    # stable descending order on (-score, index): argpartition first for speed, then sort the K
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    result = np.take_along_axis(part, order, axis=1)
    # argpartition may cut a tie at the boundary arbitrarily: fix rows where the K-th score is tied
    kth = np.take_along_axis(scores, result[:, -1:], axis=1)
    tied = (scores == kth).sum(axis=1) > (np.take_along_axis(scores, result, axis=1) == kth).sum(axis=1)
    for row in np.flatnonzero(tied):
        result[row] = np.lexsort((np.arange(scores.shape[1]), -scores[row]))[:k]
    return result.astype(np.int64)


def ranking_metrics(scores, truth, k: int = 10, exclude=None) -> dict[str, float]:
    """Recall, Precision, NDCG, Hit and MRR @K of a full ranking (RecBole definitions).

    Args:
        scores: (n_users, n_items) array, one row per evaluated user.
        truth: (n_users, n_items) sparse/dense matrix of relevant (held-out) items.
        k: cut-off, 1 <= k <= n_items.
        exclude: items to mask before ranking (the user's training items).

    Returns:
        dict: ``{"recall", "precision", "ndcg", "hit", "mrr"}`` averaged over users with at least
        one relevant item, plus ``"users"``: how many users were evaluated.

    Raises:
        ValueError: no user has a relevant item, shapes disagree, or k is out of range.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    scores = _check_scores(scores)
    truth = _as_csr(truth, scores.shape, "truth")
    top = topk(scores, k, exclude)
    n_rel = np.diff(truth.indptr)
    users = np.flatnonzero(n_rel > 0)
    if len(users) == 0:
        raise ValueError("no user has a relevant item in truth: nothing to evaluate")
    hits = np.asarray(truth[users[:, None], top[users]].todense()) > 0  # (u, k) booleans
    n_hit = hits.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts).sum(axis=1)
    idcg = np.cumsum(discounts)[np.minimum(n_rel[users], k) - 1]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)
    return {
        "recall": float(np.mean(n_hit / n_rel[users])),
        "precision": float(np.mean(n_hit / k)),
        "ndcg": float(np.mean(dcg / idcg)),
        "hit": float(np.mean(n_hit > 0)),
        "mrr": float(np.mean(1.0 / first)),
        "users": int(len(users)),
    }


def auc(scores, truth, exclude=None) -> float:
    """Mean per-user AUC: relevant items against the other non-excluded items.

    Users with no relevant item or no negative item are skipped.

    Args:
        scores: (n_users, n_items) array.
        truth: (n_users, n_items) matrix of relevant items.
        exclude: items left out of the comparison (e.g. training items).

    Returns:
        float: AUC in [0, 1]; 0.5 is random ranking.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    scores = _check_scores(scores)
    truth = _as_csr(truth, scores.shape, "truth")
    exclude = _as_csr(exclude, scores.shape, "exclude")
    values = []
    for u in range(scores.shape[0]):
        pos = truth.indices[truth.indptr[u]:truth.indptr[u + 1]]
        if len(pos) == 0:
            continue
        keep = np.ones(scores.shape[1], dtype=bool)
        keep[exclude.indices[exclude.indptr[u]:exclude.indptr[u + 1]]] = False
        keep[pos] = True
        is_pos = np.zeros(scores.shape[1], dtype=bool)
        is_pos[pos] = True
        row, lab = scores[u, keep], is_pos[keep]
        n_pos, n_neg = lab.sum(), (~lab).sum()
        if n_neg == 0:
            continue
        ranks = rankdata(row)  # average ranks handle ties as 1/2
        values.append((ranks[lab].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    if not values:
        raise ValueError("no user has both relevant and non-relevant items: AUC undefined")
    return float(np.mean(values))


def sampled_ranking_metrics(scores, truth, n_negatives: int | None = 100, seed: int = 0, exclude=None,
                            k: int = 10) -> dict[str, float]:
    """HR@K and NDCG@K of each held-out item ranked against sampled negatives (the "sampled" protocol).

    For every user, ``n_negatives`` items are drawn uniformly without replacement from the items that
    are neither relevant nor excluded (one draw per user, shared by that user's held-out items).
    Each held-out item ``i`` is ranked among itself and those negatives; its rank counts the
    negatives scored above it (a tie goes to the lower item index, as in :func:`topk`).
    ``HR@K = [rank < K]``, ``NDCG@K = [rank < K] / log2(rank + 2)`` (0-based rank, one relevant
    item per list). Values are averaged over a user's held-out items, then over users.
    With ``n_negatives=None`` every non-relevant, non-excluded item is a negative: the same
    per-item metric under full ranking, for a like-for-like comparison.

    Args:
        scores: (n_users, n_items) array.
        truth: (n_users, n_items) sparse/dense matrix of held-out items.
        n_negatives: negatives per user (``None``: all candidates).
        seed: seed of the negative sampling.
        exclude: items never used as negatives (the user's training items); ``None`` = unmasked.
        k: cut-off, ``1 <= k <= n_negatives + 1``.

    Returns:
        dict: ``{"hit", "ndcg"}`` averaged over users with a held-out item, ``"users"`` and
        ``"pairs"`` (held-out items ranked).

    Raises:
        ValueError: ``n_negatives < 1``, ``k`` out of range, shapes disagree, or no user has a
            held-out item.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    scores = _check_scores(scores)
    truth = _as_csr(truth, scores.shape, "truth")
    exclude = _as_csr(exclude, scores.shape, "exclude")
    n_items = scores.shape[1]
    if n_negatives is not None:
        if not isinstance(n_negatives, (int, np.integer)) or isinstance(n_negatives, bool) or n_negatives < 1:
            raise ValueError(f"n_negatives must be a positive integer or None, got {n_negatives!r}")
        check_k(k, int(n_negatives) + 1)
    else:
        check_k(k, n_items)
    rng = np.random.default_rng(seed)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hits, ndcgs, pairs = [], [], 0
    for u in range(scores.shape[0]):
        pos = truth.indices[truth.indptr[u]:truth.indptr[u + 1]]
        if len(pos) == 0:
            continue
        allowed = np.ones(n_items, dtype=bool)
        allowed[exclude.indices[exclude.indptr[u]:exclude.indptr[u + 1]]] = False
        allowed[pos] = False
        candidates = np.flatnonzero(allowed)
        if n_negatives is not None and candidates.size > n_negatives:
            candidates = np.sort(rng.choice(candidates, size=int(n_negatives), replace=False))
        row = scores[u]
        neg_scores = row[candidates]
        s_pos = row[pos][:, None]
        above = (neg_scores[None, :] > s_pos) | ((neg_scores[None, :] == s_pos) & (candidates[None, :] < pos[:, None]))
        rank = above.sum(axis=1)
        inside = rank < k
        hits.append(inside.mean())
        ndcgs.append(np.where(inside, discounts[np.minimum(rank, k - 1)], 0.0).mean())
        pairs += len(pos)
    if not hits:
        raise ValueError("no user has a held-out item in truth: nothing to evaluate")
    return {"hit": float(np.mean(hits)), "ndcg": float(np.mean(ndcgs)), "users": len(hits), "pairs": int(pairs)}
