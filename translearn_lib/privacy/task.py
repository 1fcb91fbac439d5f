"""The chapter's private data: shoppers' clothing histories in the generated shop, as profile examples.

* :func:`shop_data` — the shop (chapter 04's generator), its electronics → clothing task, and
  frozen MiniLM embeddings of both catalogues (the public part: item texts and a public model);
* :func:`user_profiles` — a user's profile: the mean embedding of the items in their history;
* :func:`member_split` — users with at least two clothing items, split into *members* (their data
  trains the model) and *non-members* (held out: test NDCG and the attack's negatives);
* :func:`one_example_per_user` — each user contributes exactly **one** example (profile of all but one
  of their items, that item as the label), so the accountant's example-level ε is a user-level ε.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from translearn_lib import config


@dataclass
class ShopData:
    """The generated shop, its electronics → clothing task and the items' frozen text embeddings.

    Attributes:
        shop: the :class:`~translearn_lib.datasets.shop.CrossDomainShop`.
        task: :func:`~translearn_lib.crossdomain.shop_task` electronics → clothing (shared user index).
        source_emb, target_emb: (n_items, 384) MiniLM embeddings of electronics / clothing texts,
            rows of unit length.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """

    shop: object
    task: object
    source_emb: np.ndarray
    target_emb: np.ndarray


def shop_data(n_users: int = 6000, domain_shift: float = 0.3, shop_seed: int = 42, split_seed: int = 0,
              model: str = "minilm") -> ShopData:
    """Generate the shop (electronics and clothing, 300 products each) and embed its item texts.

    Args:
        n_users: shoppers (the privacy experiment needs thousands: DP noise is averaged over them).
        domain_shift: how much a shopper's taste differs between the domains (1 = unrelated).
        shop_seed: generator seed.
        split_seed: seed of the clothing 8:1:1 split.
        model: text encoder (embeddings are cached on disk by text and model).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.crossdomain import shop_task, task_embeddings
    from translearn_lib.datasets import make_cross_domain_shop
    from translearn_lib.embeddings import l2_normalize

    shop = make_cross_domain_shop(n_users=n_users, items_per_domain=300, domains=("electronics", "clothing"),
                                  domain_shift=domain_shift, seed=shop_seed)
    task = shop_task(shop, "electronics", "clothing", seed=split_seed)
    src, tgt = task_embeddings(task, model=model)
    return ShopData(shop, task, l2_normalize(src, dtype=np.float32), l2_normalize(tgt, dtype=np.float32))


def user_profiles(history: sp.spmatrix, item_emb: np.ndarray, users=None) -> np.ndarray:
    """Mean embedding of each user's items (zeros for a user with none).

    Args:
        history: (n_users, n_items) 0/1 (or weighted) interactions.
        item_emb: (n_items, d).
        users: rows to compute (default all); a weighted matrix gives a weighted mean.

    Returns:
        np.ndarray: float32 (len(users), d).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    X = sp.csr_matrix(history, dtype=np.float64)
    E = np.asarray(item_emb, dtype=np.float64)
    if X.shape[1] != E.shape[0]:
        raise ValueError(f"history has {X.shape[1]} items but item_emb has {E.shape[0]} rows")
    if users is not None:
        X = X[np.asarray(users, dtype=np.int64)]
    counts = np.asarray(X.sum(axis=1)).ravel()
    return ((X @ E) / np.maximum(counts, 1e-12)[:, None] * (counts > 0)[:, None]).astype(np.float32)


def member_split(history: sp.spmatrix, share: float = 0.5, min_items: int = 2,
                 seed: int = config.DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Split the users with at least ``min_items`` items into members and non-members.

    Returns:
        tuple: ``(members, nonmembers)`` sorted user indices.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share!r}")
    counts = np.diff(sp.csr_matrix(history).indptr)
    eligible = np.flatnonzero(counts >= min_items)
    if eligible.size < 2:
        raise ValueError(f"need at least two users with >= {min_items} items, found {eligible.size}")
    chosen = np.random.default_rng(seed).random(eligible.size) < share
    return eligible[chosen], eligible[~chosen]


def one_example_per_user(history: sp.spmatrix, item_emb: np.ndarray, users, seed: int = config.DEFAULT_SEED):
    """One (profile, label) example per user: a random item of theirs is the label, the rest the profile.

    Args:
        history: (n_users, n_items) interactions.
        item_emb: (n_items, d) item embeddings.
        users: user indices (each needs >= 2 items).
        seed: which item becomes the label.

    Returns:
        tuple: ``(profiles (n, d) float32, labels (n,) int64)``.

    Raises:
        ValueError: a user with fewer than two items.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    X = sp.csr_matrix(history)
    users = np.asarray(users, dtype=np.int64)
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for u in users:
        items = X.indices[X.indptr[u] : X.indptr[u + 1]]
        if items.size < 2:
            raise ValueError(f"user {u} has {items.size} item(s); one_example_per_user needs >= 2")
        t = int(items[rng.integers(items.size)])
        labels.append(t)
        rows.append(items[items != t])
    lengths = [len(r) for r in rows]
    rest = sp.csr_matrix((np.ones(sum(lengths)), np.concatenate(rows), np.concatenate([[0], np.cumsum(lengths)])),
                         shape=(len(users), X.shape[1]))
    return user_profiles(rest, item_emb), np.asarray(labels, dtype=np.int64)


def leave_one_out_examples(history: sp.spmatrix, item_emb: np.ndarray, labels_from: sp.spmatrix | None = None):
    """One example per interaction: the profile of the user's *other* items, that item as the label.

    Args:
        history: (n_users, n_items) interactions the profiles are built from (may hold weighted
            pseudo-interactions).
        item_emb: (n_items, d).
        labels_from: the interactions that become labels (default: the non-zeros of ``history``); each
            must also be in ``history``.

    Returns:
        tuple: ``(profiles (n, d) float32, labels (n,) int64, users (n,) int64)``; a user whose only
        item is the label gets a zero profile.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    X = sp.csr_matrix(history, dtype=np.float64)
    E = np.asarray(item_emb, dtype=np.float64)
    if X.shape[1] != E.shape[0]:
        raise ValueError(f"history has {X.shape[1]} items but item_emb has {E.shape[0]} rows")
    L = sp.coo_matrix(X if labels_from is None else labels_from)
    if L.shape != X.shape:
        raise ValueError(f"labels_from must have shape {X.shape}, got {L.shape}")
    users, items = L.row.astype(np.int64), L.col.astype(np.int64)
    w = np.asarray(X[users, items]).ravel()
    if (w <= 0).any():
        raise ValueError("every label interaction must also be in history")
    total, mass = X @ E, np.asarray(X.sum(axis=1)).ravel()
    rest = mass[users] - w
    prof = (total[users] - w[:, None] * E[items]) / np.maximum(rest, 1e-12)[:, None]
    prof[rest <= 1e-9] = 0.0
    return prof.astype(np.float32), items, users
