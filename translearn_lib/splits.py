"""Train/validation/test splits for implicit-feedback recommendation, all seeded.

- :func:`random_split`: RecBole's default protocol (``RS`` 8:1:1 per user, random order).
- :func:`temporal_split`: the same 8:1:1 cut per user, in time order (``TO``): each user's oldest
  80 % train, the newest 10 % test.
- :func:`leave_one_out`: the last interaction of each user is the test item, the one before it
  validation.
- :func:`cold_item_split` / :func:`cold_user_split`: a share of items (users) never appears in
  training; their interactions are the validation and test targets.

Every builder returns a :class:`Split` whose frames carry 0-based contiguous ``user`` and ``item``
index columns next to the original ids, so models can use the indices directly.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config

PARTS = ("train", "valid", "test")


@dataclass
class Split:
    """Indexed train/valid/test interaction frames.

    Attributes:
        train, valid, test: DataFrames with index columns ``user``, ``item`` and the original
            columns (``user_id``, ``item_id``, and ``rating``/``timestamp`` when present).
        n_users, n_items: sizes of the index spaces (every user/item of the input, even those
            absent from training).
        user_ids, item_ids: original id of each index.
        info: extra facts about the split (e.g. the cold items), for teaching and evaluation.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    n_users: int
    n_items: int
    user_ids: np.ndarray
    item_ids: np.ndarray
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Split(users={self.n_users:,}, items={self.n_items:,}, train={len(self.train):,}, "
                f"valid={len(self.valid):,}, test={len(self.test):,})")

    def frame(self, part: str) -> pd.DataFrame:
        """The frame of one part (``"train"``, ``"valid"`` or ``"test"``)."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        return getattr(self, part)

    def matrix(self, part: str | Sequence[str] = "train") -> sp.csr_matrix:
        """Binary user × item matrix of one part, or of several parts together.

        Args:
            part: ``"train"``, ``"valid"``, ``"test"`` or a list of them.

        Returns:
            scipy.sparse.csr_matrix: shape (n_users, n_items), 1.0 where an interaction exists.
        """
        parts = [part] if isinstance(part, str) else list(part)
        frames = [self.frame(p) for p in parts]
        users = np.concatenate([f["user"].to_numpy() for f in frames]) if frames else np.array([], int)
        items = np.concatenate([f["item"].to_numpy() for f in frames]) if frames else np.array([], int)
        mat = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)),
                            shape=(self.n_users, self.n_items))
        mat.data[:] = 1.0  # duplicates count once
        return mat

    def seen(self, part: str = "test") -> sp.csr_matrix:
        """Items to mask when ranking for ``part``: train for valid, train + valid for test."""
        if part == "train":
            return sp.csr_matrix((self.n_users, self.n_items), dtype=np.float32)
        if part == "valid":
            return self.matrix("train")
        if part == "test":
            return self.matrix(["train", "valid"])
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")

    @classmethod
    def from_frames(cls, train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame,
                    n_users: int, n_items: int, user_ids=None, item_ids=None,
                    info: dict | None = None) -> "Split":
        """Build a split from frames that already carry ``user`` and ``item`` index columns.

        Args:
            train, valid, test: frames with integer ``user`` in [0, n_users) and ``item`` in
                [0, n_items).
            n_users, n_items: index space sizes.
            user_ids, item_ids: original ids per index (default: the indices themselves).
            info: optional facts about the split.

        Returns:
            Split: the checked split.
        """
        for name, frame in zip(PARTS, (train, valid, test)):
            if not {"user", "item"} <= set(frame.columns):
                raise ValueError(f"{name} frame needs integer 'user' and 'item' index columns")
            if len(frame) and (frame["user"].min() < 0 or frame["user"].max() >= n_users):
                raise ValueError(f"{name} frame has user indices outside [0, {n_users})")
            if len(frame) and (frame["item"].min() < 0 or frame["item"].max() >= n_items):
                raise ValueError(f"{name} frame has item indices outside [0, {n_items})")
        user_ids = np.arange(n_users) if user_ids is None else np.asarray(user_ids)
        item_ids = np.arange(n_items) if item_ids is None else np.asarray(item_ids)
        return cls(train.reset_index(drop=True), valid.reset_index(drop=True),
                   test.reset_index(drop=True), int(n_users), int(n_items), user_ids, item_ids,
                   dict(info or {}))


def _check_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}")
    missing = {config.USER_COL, config.ITEM_COL} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings frame lacks columns {sorted(missing)} "
                         f"(expected {config.USER_COL!r} and {config.ITEM_COL!r})")
    if ratings.empty:
        raise ValueError("ratings frame is empty: nothing to split")
    if ratings[[config.USER_COL, config.ITEM_COL]].isna().any().any():
        raise ValueError("ratings frame has missing user or item ids; drop those rows first")
    return ratings


def _index(ratings: pd.DataFrame):
    """Add 0-based ``user``/``item`` columns (sorted original ids -> 0..n-1)."""
    user_ids = np.sort(ratings[config.USER_COL].unique())
    item_ids = np.sort(ratings[config.ITEM_COL].unique())
    frame = ratings.reset_index(drop=True).copy()
    frame.insert(0, "item", np.searchsorted(item_ids, frame[config.ITEM_COL].to_numpy()))
    frame.insert(0, "user", np.searchsorted(user_ids, frame[config.USER_COL].to_numpy()))
    return frame, user_ids, item_ids


def _split_counts(total: int, ratios: Sequence[float]) -> list[int]:
    """Per-group sizes as RecBole computes them (``Dataset._calcu_split_ids``)."""
    counts = [int(r * total) for r in ratios]
    counts[0] = total - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * total < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts


def _check_ratios(ratios) -> list[float]:
    ratios = [float(r) for r in ratios]
    if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6 or ratios[0] == 0:
        raise ValueError(f"ratios must be three non-negative shares summing to 1 with train > 0, got {ratios}")
    return ratios


def _cut_per_user(frame: pd.DataFrame, ratios: Sequence[float]) -> list[pd.DataFrame]:
    """Cut each user's rows, in their current order, into train/valid/test with RecBole's rounding."""
    order = frame.groupby("user", sort=False).cumcount().to_numpy()
    sizes = frame.groupby("user", sort=False)["user"].transform("size").to_numpy()
    part = np.zeros(len(frame), dtype=np.int8)
    for size in np.unique(sizes):
        n_train, n_valid, _ = _split_counts(int(size), ratios)
        rows = sizes == size
        part[rows & (order >= n_train)] = 1
        part[rows & (order >= n_train + n_valid)] = 2
    return [frame[part == p].sort_values(["user", "item"]).reset_index(drop=True) for p in range(3)]


def random_split(ratings: pd.DataFrame, ratios: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = config.DEFAULT_SEED) -> Split:
    """RecBole-style random split per user (``eval_args: split RS, order RO, group_by user``).

    Each user's interactions are shuffled, then cut into train/valid/test by ``ratios`` with
    RecBole's rounding (small shares round down, but a user with a few interactions still gives
    one to valid and test while keeping at least one for training).

    Args:
        ratings: frame with ``user_id`` and ``item_id`` (any other columns are kept).
        ratios: three non-negative shares summing to 1.
        seed: shuffling seed.

    Returns:
        Split: the indexed split.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    ratings = _check_ratings(ratings)
    ratios = _check_ratios(ratios)
    frame, user_ids, item_ids = _index(ratings)
    rng = np.random.default_rng(seed)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frames = _cut_per_user(frame, ratios)
    return Split.from_frames(*frames, len(user_ids), len(item_ids), user_ids, item_ids,
                             info={"protocol": f"random {ratios} per user", "seed": seed})


def temporal_split(ratings: pd.DataFrame, ratios: Sequence[float] = (0.8, 0.1, 0.1),
                   seed: int = config.DEFAULT_SEED) -> Split:
    """Per-user temporal split (RecBole ``order TO``): train on each user's past, test on their latest.

    Each user's interactions are sorted by ``timestamp`` (equal timestamps in a random order drawn
    with ``seed``; MovieLens users often rate many films in the same second) and cut with the same
    counts as :func:`random_split`, so the two splits differ only in WHICH interactions are held
    out. Other users' later interactions may still be in train: the cut is per user, not global.

    Args:
        ratings: frame with ``user_id``, ``item_id`` and ``timestamp``.
        ratios: three non-negative shares summing to 1.
        seed: tie-break seed.

    Returns:
        Split: the indexed split.

    Raises:
        ValueError: no ``timestamp`` column, or bad ``ratios``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    ratings = _check_ratings(ratings)
    if config.TIME_COL not in ratings.columns:
        raise ValueError(f"temporal_split needs a {config.TIME_COL!r} column; use random_split for data without times")
    ratios = _check_ratios(ratios)
    frame, user_ids, item_ids = _index(ratings)
    frame["_tie"] = np.random.default_rng(seed).random(len(frame))
    frame = frame.sort_values(["user", config.TIME_COL, "_tie"]).drop(columns="_tie").reset_index(drop=True)
    frames = _cut_per_user(frame, ratios)
    return Split.from_frames(*frames, len(user_ids), len(item_ids), user_ids, item_ids,
                             info={"protocol": f"temporal {ratios} per user", "seed": seed})


def leave_one_out(ratings: pd.DataFrame, seed: int = config.DEFAULT_SEED) -> Split:
    """Per user: the latest interaction is test, the one before is valid, the rest train.

    Uses ``timestamp`` when present (ties broken randomly with ``seed``), otherwise a random order.
    Users with fewer than 3 interactions stay entirely in training.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    ratings = _check_ratings(ratings)
    frame, user_ids, item_ids = _index(ratings)
    rng = np.random.default_rng(seed)
    frame["_tie"] = rng.random(len(frame))
    keys = ["user", config.TIME_COL, "_tie"] if config.TIME_COL in frame else ["user", "_tie"]
    frame = frame.sort_values(keys).drop(columns="_tie").reset_index(drop=True)
    from_end = frame.groupby("user").cumcount(ascending=False).to_numpy()
    sizes = frame.groupby("user")["user"].transform("size").to_numpy()
    part = np.where(sizes < 3, 0, np.select([from_end == 0, from_end == 1], [2, 1], 0))
    frames = [frame[part == p].reset_index(drop=True) for p in range(3)]
    return Split.from_frames(*frames, len(user_ids), len(item_ids), user_ids, item_ids,
                             info={"protocol": "leave-one-out", "seed": seed})


def _cold_split(ratings, column: str, share: float, valid_share: float, seed: int, what: str) -> Split:
    ratings = _check_ratings(ratings)
    if not 0 < share < 1:
        raise ValueError(f"{what}_share must be in (0, 1), got {share}")
    if not 0 <= valid_share < 1:
        raise ValueError(f"valid_share must be in [0, 1), got {valid_share}")
    frame, user_ids, item_ids = _index(ratings)
    n = len(user_ids) if column == "user" else len(item_ids)
    rng = np.random.default_rng(seed)
    n_cold = max(1, int(round(share * n)))
    if n_cold >= n:
        raise ValueError(f"{what}_share={share} leaves no {what} for training")
    cold = rng.permutation(n)[:n_cold]
    n_valid = int(round(valid_share * n_cold))
    valid_ids, test_ids = np.sort(cold[:n_valid]), np.sort(cold[n_valid:])
    idx = frame[column].to_numpy()
    in_valid, in_test = np.isin(idx, valid_ids), np.isin(idx, test_ids)
    frames = [frame[~(in_valid | in_test)], frame[in_valid], frame[in_test]]
    return Split.from_frames(*frames, len(user_ids), len(item_ids), user_ids, item_ids,
                             info={"protocol": f"cold-{what}", "seed": seed,
                                   f"cold_valid_{what}s": valid_ids, f"cold_test_{what}s": test_ids})


def cold_item_split(ratings: pd.DataFrame, item_share: float = 0.2, valid_share: float = 0.5,
                    seed: int = config.DEFAULT_SEED) -> Split:
    """Remove a share of items entirely from training: new items, known only by their content.

    The cold items are divided between validation (``valid_share`` of them) and test; every
    interaction with a cold item goes to that part. ``split.info`` lists the cold items.

    Args:
        ratings: frame with ``user_id`` and ``item_id``.
        item_share: share of items that are cold, in (0, 1).
        valid_share: share of the cold items used for validation.
        seed: seed.

    Returns:
        Split: train holds only warm items.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    return _cold_split(ratings, "item", item_share, valid_share, seed, "item")


def cold_user_split(ratings: pd.DataFrame, user_share: float = 0.2, valid_share: float = 0.5,
                    seed: int = config.DEFAULT_SEED) -> Split:
    """Remove a share of users entirely from training: new users with no history.

    Works like :func:`cold_item_split`, over users. ``split.info`` lists the cold users.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    return _cold_split(ratings, "user", user_share, valid_share, seed, "user")
