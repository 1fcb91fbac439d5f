"""Cold-start evaluation setups and the cold-only / mixed-catalogue evaluation.

Taught in notebooks/06_cold_start.ipynb.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config, splits
from translearn_lib.recommenders.base import ranking_over_users


def cold_item_holdout(ratings: pd.DataFrame, item_share: float = 0.2, warm_share: float = 0.1,
                      seed: int = config.DEFAULT_SEED) -> splits.Split:
    """A cold-item split whose test part also holds warm interactions, so both can be ranked together.

    ``item_share`` of the items are removed from training entirely (their interactions are test
    targets, via :func:`translearn_lib.splits.cold_item_split`); of the remaining (warm)
    interactions, ``warm_share`` per user (at least one when the user has two or more) moves to test
    as well. The validation part is empty. ``split.info["cold_items"]`` lists the cold item indices.

    Args:
        ratings: frame with ``user_id`` and ``item_id``.
        item_share: share of cold items, in (0, 1).
        warm_share: share of each user's warm interactions held out, in [0, 1).
        seed: seed of both draws.

    Returns:
        Split: train = warm interactions only; test = cold-item and held-out warm interactions.

    Raises:
        ValueError: a share outside its range or an empty ratings frame.

    Taught in notebooks/06_cold_start.ipynb.
    """
    if not 0 <= warm_share < 1:
        raise ValueError(f"warm_share must be in [0, 1), got {warm_share}")
    base = splits.cold_item_split(ratings, item_share=item_share, valid_share=0.0, seed=seed)
    train = base.train
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(train))
    shuffled = train.iloc[order]
    rank = shuffled.groupby("user", sort=False).cumcount().to_numpy()
    size = shuffled.groupby("user", sort=False)["user"].transform("size").to_numpy()
    n_hold = np.where(size >= 2, np.maximum(1, np.floor(warm_share * size)), 0) if warm_share > 0 else 0 * size
    hold = rank < n_hold
    test = pd.concat([base.test, shuffled[hold]]).sort_values(["user", "item"])
    cold = np.asarray(base.info["cold_test_items"], dtype=np.int64)
    return splits.Split.from_frames(
        shuffled[~hold].sort_values(["user", "item"]), base.valid.iloc[:0], test, base.n_users, base.n_items,
        base.user_ids, base.item_ids,
        info={"protocol": "cold-item + warm hold-out", "seed": seed, "cold_items": cold, "warm_share": warm_share})


def onboarding_split(ratings: pd.DataFrame, k: int, user_share: float = 0.2, max_k: int = 10,
                     seed: int = config.DEFAULT_SEED) -> splits.Split:
    """Cold users who have told us ``k`` items: those ``k`` go to train, the rest (after ``max_k``) to test.

    ``user_share`` of the users are cold (:func:`translearn_lib.splits.cold_user_split`). Each cold
    user's interactions are shuffled once with ``seed``; the first ``k`` are the onboarding items
    (added to train) and positions ``max_k`` onwards are the test targets, so the test items do not
    change with ``k`` and curves over ``k`` compare like with like. Cold users with ``max_k`` or
    fewer interactions are dropped from test. ``split.info["cold_users"]`` lists the cold users.

    Args:
        ratings: frame with ``user_id`` and ``item_id``.
        k: known interactions per cold user, ``0 <= k <= max_k``.
        user_share: share of cold users, in (0, 1).
        max_k: largest ``k`` of the curve.
        seed: seed of the cold users and of the onboarding order.

    Returns:
        Split: train = warm users + ``k`` items per cold user, valid empty, test = cold users' targets.

    Raises:
        ValueError: ``k`` outside ``[0, max_k]``.

    Taught in notebooks/06_cold_start.ipynb.
    """
    if not (isinstance(k, (int, np.integer)) and 0 <= k <= max_k):
        raise ValueError(f"k must be an integer in [0, max_k={max_k}], got {k!r}")
    base = splits.cold_user_split(ratings, user_share=user_share, valid_share=0.0, seed=seed)
    cold = base.test.iloc[np.random.default_rng(seed + 1).permutation(len(base.test))]
    rank = cold.groupby("user", sort=False).cumcount().to_numpy()
    train = pd.concat([base.train, cold[rank < k]]).sort_values(["user", "item"])
    test = cold[rank >= max_k].sort_values(["user", "item"])
    users = np.sort(test["user"].unique())
    return splits.Split.from_frames(train, base.valid.iloc[:0], test, base.n_users, base.n_items,
                                    base.user_ids, base.item_ids,
                                    info={"protocol": f"cold-user, k={k}", "seed": seed, "k": int(k),
                                          "cold_users": users})


def evaluate_items(score: Callable[[np.ndarray], np.ndarray] | Any, split: splits.Split, items: str = "cold",
                   k: int = 10, users=None, targets: str | None = None, batch_size: int = 512) -> dict:
    """Full-ranking Recall/NDCG@k of a scorer on a :func:`cold_item_holdout` split.

    ``items="cold"`` ranks only the cold items (warm items are masked) against the cold test
    interactions; ``"mixed"`` ranks every item not seen in training against every test
    interaction; ``"warm"`` ranks warm items only against the warm hold-out.

    Args:
        score: a fitted ``Recommender`` (its ``score``) or a callable users -> (n, n_items) scores.
        split: a :func:`cold_item_holdout` split.
        items: ``"cold"``, ``"mixed"`` or ``"warm"``.
        k: cut-off.
        users: evaluate only these users (default: every user with a target).
        targets: which test interactions are relevant (default: the ones matching ``items``).
        batch_size: users scored at a time.

    Returns:
        dict: ``recall``, ``precision``, ``ndcg``, ``hit``, ``mrr`` and ``n_users``.

    Raises:
        ValueError: unknown ``items`` or ``targets``, a split without ``info["cold_items"]``, or no user to evaluate.

    Taught in notebooks/06_cold_start.ipynb.
    """
    if items not in ("cold", "mixed", "warm"):
        raise ValueError(f"items must be 'cold', 'mixed' or 'warm', got {items!r}")
    if "cold_items" not in split.info:
        raise ValueError("split has no info['cold_items']: build it with coldstart.cold_item_holdout")
    targets = targets or {"cold": "cold", "warm": "warm", "mixed": "all"}[items]
    if targets not in ("cold", "warm", "all"):
        raise ValueError(f"targets must be 'cold', 'warm' or 'all', got {targets!r}")
    score = score.score if hasattr(score, "score") else score
    is_cold = np.zeros(split.n_items, dtype=bool)
    is_cold[split.info["cold_items"]] = True
    truth = sp.csr_matrix(split.matrix("test"))
    if targets != "all":
        keep = is_cold if targets == "cold" else ~is_cold
        truth = sp.csr_matrix(truth.multiply(keep[None, :].astype(np.float32)))
        truth.eliminate_zeros()
    seen = sp.csr_matrix(split.matrix("train"))
    users = np.flatnonzero(np.diff(truth.indptr) > 0) if users is None else np.asarray(users, dtype=np.int64)
    if users.size == 0:
        raise ValueError(f"no user has a '{items}' test interaction to evaluate")

    def masked(batch):
        s = np.array(score(batch), dtype=np.float32)
        if items == "cold":
            s[:, ~is_cold] = -np.inf
        elif items == "warm":
            s[:, is_cold] = -np.inf
        return s

    out = ranking_over_users(masked, truth, seen, users, k=k, batch_size=batch_size)
    if out is None:
        raise ValueError(f"none of the requested users has a '{items}' test interaction")
    return out
