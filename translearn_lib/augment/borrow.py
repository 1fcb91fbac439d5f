"""Pseudo-interactions borrowed from a source domain through text similarity.

A shopper with a few clothing purchases may have a long electronics history. Each source item they
bought is matched to its nearest target items by the cosine of the (domain-centred) text embeddings
(chapter 04's :func:`~translearn_lib.crossdomain.center_by_domain`), and the best matches become
*pseudo-interactions* in the target domain with a weight below 1. They fill empty histories, but
they are guesses: when the domains are unrelated or the target data is plentiful, they add noise.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def nearest_targets(source_emb, target_emb, top: int = 1, center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """For each source item, its ``top`` most similar target items and their cosine similarities.

    Returns:
        tuple: ``(index (n_source, top) int64, similarity (n_source, top) float)``, best first.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.crossdomain import center_by_domain
    from translearn_lib.embeddings import l2_normalize

    S, T = np.asarray(source_emb, float), np.asarray(target_emb, float)
    if S.ndim != 2 or T.ndim != 2 or S.shape[1] != T.shape[1]:
        raise ValueError(f"source_emb and target_emb must be 2-D with the same width, got {S.shape} and {T.shape}")
    if not 1 <= top <= T.shape[0]:
        raise ValueError(f"top must be in [1, {T.shape[0]}], got {top!r}")
    S, T = center_by_domain(S, T) if center else (l2_normalize(S, dtype=np.float64), l2_normalize(T, dtype=np.float64))
    sim = S @ T.T
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :top]
    return idx, np.take_along_axis(sim, idx, axis=1)


def pseudo_interactions(source: sp.spmatrix, source_emb, target_emb, target_train: sp.spmatrix | None = None,
                        per_user: int = 5, top: int = 1, weight: float = 0.5, center: bool = True) -> sp.csr_matrix:
    """Target-domain pseudo-interactions from each user's source history.

    Every source item of a user votes for its ``top`` nearest target items with its similarity;
    the user's ``per_user`` highest-voted target items they have not already got become pseudo
    interactions of value ``weight``.

    Args:
        source: (n_users, n_source_items) source interactions.
        source_emb, target_emb: item embeddings of both catalogues.
        target_train: (n_users, n_target_items) real target interactions (never duplicated), or None.
        per_user: pseudo-interactions per user at most (>= 1).
        top: target neighbours per source item.
        weight: value of a pseudo-interaction in (0, 1].
        center: centre each domain's embeddings first (removes the "clothing-ness" of every text).

    Returns:
        sp.csr_matrix: (n_users, n_target_items), values ``weight``.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    X = sp.csr_matrix(source, dtype=np.float64)
    if X.shape[1] != np.shape(source_emb)[0]:
        raise ValueError(f"source has {X.shape[1]} items but source_emb has {np.shape(source_emb)[0]} rows")
    if not 0 < weight <= 1 or per_user < 1:
        raise ValueError(f"need 0 < weight <= 1 and per_user >= 1, got weight={weight!r}, per_user={per_user!r}")
    n_target = np.shape(target_emb)[0]
    idx, sim = nearest_targets(source_emb, target_emb, top=top, center=center)
    votes_map = sp.csr_matrix((np.clip(sim, 0, None).ravel(), (np.repeat(np.arange(len(idx)), top), idx.ravel())),
                              shape=(len(idx), n_target))
    votes = (X @ votes_map).toarray()
    if target_train is not None:
        if target_train.shape != (X.shape[0], n_target):
            raise ValueError(f"target_train must be {(X.shape[0], n_target)}, got {target_train.shape}")
        votes[sp.csr_matrix(target_train).toarray() > 0] = 0.0
    best = np.argsort(-votes, axis=1, kind="stable")[:, :per_user]
    keep = np.take_along_axis(votes, best, axis=1) > 0
    rows = np.repeat(np.arange(X.shape[0]), best.shape[1])[keep.ravel()]
    return sp.csr_matrix((np.full(rows.size, float(weight)), (rows, best.ravel()[keep.ravel()])), shape=(X.shape[0], n_target))
