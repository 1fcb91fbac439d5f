"""A cross-domain task: a source domain and a thin target domain with shared users.

A :class:`CrossDomainTask` holds the *source* domain (all its interactions, as a user x item matrix,
used whole for training) and the *target* domain (a train/valid/test
:class:`~translearn_lib.splits.Split`), with one user index shared by both and separate item indices.
:func:`shop_task` and :func:`movielens_genre_task` build the chapter's tasks; :func:`subsample_target`
keeps a share of the target data for a learning curve and :func:`tuning_split` gives the validation
view used to choose settings.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config
from translearn_lib.splits import Split, random_split


@dataclass
class CrossDomainTask:
    """A source domain and a target domain with shared users.

    Attributes:
        name: short description, e.g. ``"shop: electronics -> clothing"``.
        source: csr (n_users, n_source_items), 1 where a user interacted with a source item.
        target: the target split; its user index is the shared one (``n_users`` rows).
        user_ids: original user id per shared index.
        source_item_ids: original item id per source item index (``target.item_ids`` for target).
        source_texts, target_texts: item descriptions aligned with the item indices (or None).
        info: extra facts (overlap counts, ...).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name: str
    source: sp.csr_matrix
    target: Split
    user_ids: np.ndarray
    source_item_ids: np.ndarray
    source_texts: list | None = None
    target_texts: list | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return self.target.n_users

    def shared_users(self) -> np.ndarray:
        """Indices of users with at least one source and one target interaction."""
        in_source = np.diff(self.source.indptr) > 0
        in_target = np.zeros(self.n_users, dtype=bool)
        for part in ("train", "valid", "test"):
            in_target[self.target.frame(part)["user"].to_numpy()] = True
        return np.flatnonzero(in_source & in_target)

    def matched_items(self) -> np.ndarray:
        """The target twin of each source item: the target index with the same original item id.

        Two platforms of one shop sell the same products; when both keep the shop's product ids,
        a source item and its target twin can be matched by id (two different categories have no
        twins).

        Returns:
            np.ndarray: int (n_source_items,), the target item index of each source item's twin,
            ``-1`` where no target item has its id. Pass it to
            :class:`~translearn_lib.crossdomain.strategies.SharedItemIds`.

        Taught in notebooks/04_cross_domain_recommendation.ipynb.
        """
        index = {item: j for j, item in enumerate(self.target.item_ids.tolist())}
        return np.array([index.get(item, -1) for item in self.source_item_ids.tolist()], dtype=np.int64)

    def __repr__(self) -> str:
        return (f"CrossDomainTask({self.name!r}: users={self.n_users:,}, source items="
                f"{self.source.shape[1]:,}, source interactions={self.source.nnz:,}, target={self.target})")


def make_task(source: pd.DataFrame, target: pd.DataFrame, name: str = "task", texts=None,
              ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """Build a cross-domain task from two interaction frames.

    The target frame is split per user (RecBole random 8:1:1, :func:`translearn_lib.splits.random_split`);
    the source frame is used whole for training. Users are indexed over the union of both frames.

    Args:
        source: frame with ``user_id``, ``item_id`` (source domain interactions).
        target: frame with ``user_id``, ``item_id`` (target domain interactions).
        name: a label for tables and plots.
        texts: optional ``pd.Series`` item_id -> description covering the items of both frames.
        ratios: target train/valid/test shares.
        seed: split seed.

    Returns:
        CrossDomainTask: the task.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    U, I = config.USER_COL, config.ITEM_COL
    for label, frame in (("source", source), ("target", target)):
        if not {U, I} <= set(frame.columns):
            raise ValueError(f"{label} frame needs columns {U!r} and {I!r}")
        if frame.empty:
            raise ValueError(f"{label} frame is empty")
    source = source.drop_duplicates([U, I])
    target = target.drop_duplicates([U, I])
    user_ids = np.union1d(source[U].unique(), target[U].unique())
    split = random_split(target, ratios=ratios, seed=seed)
    parts = []
    for part in ("train", "valid", "test"):
        frame = split.frame(part).copy()
        frame["user"] = np.searchsorted(user_ids, frame[U].to_numpy())
        parts.append(frame)
    tsplit = Split.from_frames(*parts, len(user_ids), split.n_items, user_ids, split.item_ids,
                               info={**split.info, "task": name})
    source_item_ids = np.sort(source[I].unique())
    rows = np.searchsorted(user_ids, source[U].to_numpy())
    cols = np.searchsorted(source_item_ids, source[I].to_numpy())
    smat = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(user_ids), len(source_item_ids)))
    src_texts = tgt_texts = None
    if texts is not None:
        texts = pd.Series(texts)
        src_texts = texts.reindex(source_item_ids).fillna("").astype(str).tolist()
        tgt_texts = texts.reindex(tsplit.item_ids).fillna("").astype(str).tolist()
    task = CrossDomainTask(name, smat, tsplit, user_ids, source_item_ids, src_texts, tgt_texts)
    task.info.update(n_shared_users=len(task.shared_users()),
                     n_target_users=int(np.unique(target[U]).size),
                     n_source_users=int(np.unique(source[U]).size))
    return task


def shop_task(shop, source: str = "electronics", target: str = "clothing", seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """A task from a :class:`~translearn_lib.datasets.shop.CrossDomainShop`.

    ``source``/``target`` are two domains (``"electronics" -> "clothing"``) or two platforms
    (``"mobile" -> "pc"``: same catalogue, purchases split by the device they were made on).

    Args:
        shop: the generated shop (:func:`translearn_lib.datasets.make_cross_domain_shop`).
        source: source domain or platform.
        target: target domain or platform (of the same kind as ``source``).
        seed: split seed of the target.

    Returns:
        CrossDomainTask: with the item descriptions as texts.

    Raises:
        ValueError: ``source == target``, or they are not both domains or both platforms.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if source == target:
        raise ValueError("source and target must differ")
    texts = shop.items.set_index(config.ITEM_COL)["text"]
    if source in shop.platforms and target in shop.platforms:
        src, tgt = shop.platform(source), shop.platform(target)
    elif source in shop.domains and target in shop.domains:
        src, tgt = shop.domain(source), shop.domain(target)
    else:
        raise ValueError(f"source and target must both be domains {shop.domains} or both platforms "
                         f"{shop.platforms}, got {source!r} -> {target!r}")
    return make_task(src, tgt, name=f"shop: {source} -> {target}", texts=texts, seed=seed)


#: MovieLens genre groups: "talk" films (source) versus "genre" films (target).
ML_SOURCE_GENRES = ("Comedy", "Drama", "Romance", "Musical", "Documentary")


def movielens_genre_task(ml, source_genres: Sequence[str] = ML_SOURCE_GENRES, mixed: str = "drop",
                         seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """MovieLens-100K split into two domains by genre: shared users, disjoint movies.

    With ``mixed="drop"`` (the default) a movie belongs to the source when *all* its genres are in
    ``source_genres`` (comedies, dramas, romances, musicals, documentaries), to the target when
    *none* is (action, adventure, crime, horror, sci-fi, ...); movies whose genres span both groups
    (Forrest Gump: Comedy, Romance, War) or that have no genre are left out with their ratings, so
    no source text names a target genre and no target text a source genre. ``mixed="first"`` uses
    the first listed genre instead (the chapter's first edition): every movie is kept, but 145 of
    its 1,046 source movies carry a target genre and 223 of its 636 target movies a source genre.
    Every rating counts as an implicit interaction.

    Args:
        ml: the :class:`~translearn_lib.datasets.MovieLens` object.
        source_genres: genres whose movies form the source domain.
        mixed: ``"drop"`` or ``"first"`` (see above).
        seed: split seed.

    Returns:
        CrossDomainTask: with movie texts from :func:`translearn_lib.datasets.item_texts`;
        ``info`` records ``n_left_out_items`` and ``n_left_out_ratings``.

    Raises:
        ValueError: ``mixed`` is neither ``"drop"`` nor ``"first"``, or ``source_genres`` is empty.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    from translearn_lib.datasets import item_texts

    if mixed not in ("drop", "first"):
        raise ValueError(f"mixed must be 'drop' (leave out movies of both groups) or 'first', got {mixed!r}")
    groups = set(source_genres)
    if not groups:
        raise ValueError("source_genres is empty: name at least one genre of the source domain")
    genres = ml.items["genres"]
    if mixed == "first":
        is_src = genres.map(lambda g: len(g) > 0 and g[0] in groups).to_numpy()
        is_tgt = ~is_src
    else:
        n_src = genres.map(lambda g: sum(x in groups for x in g)).to_numpy()
        n_all = genres.map(len).to_numpy()
        is_src, is_tgt = (n_all > 0) & (n_src == n_all), (n_all > 0) & (n_src == 0)
    ids = ml.items[config.ITEM_COL].to_numpy()
    item = ml.ratings[config.ITEM_COL]
    in_src, in_tgt = item.isin(ids[is_src]), item.isin(ids[is_tgt])
    texts = pd.Series(item_texts(ml.items), index=ids)
    task = make_task(ml.ratings[in_src], ml.ratings[in_tgt], texts=texts, seed=seed,
                     name="MovieLens: " + "/".join(g.lower() for g in source_genres[:2]) + "... -> other genres")
    task.info.update(genre_rule=mixed, n_left_out_items=int((~is_src & ~is_tgt).sum()),
                     n_left_out_ratings=int((~in_src & ~in_tgt).sum()))
    return task


def subsample_target(split: Split, share: float, seed: int = config.DEFAULT_SEED, by: str = "interaction") -> Split:
    """Keep only a share of the target's training (and validation) data; test stays untouched.

    Args:
        split: the full target split.
        share: in (0, 1]; 1 returns the split unchanged.
        seed: sampling seed (the same seed keeps nested samples: 5 % is inside 10 %).
        by: ``"interaction"`` keeps each train/valid row with probability ``share`` (every user
            keeps a random part of their history); ``"user"`` keeps all rows of a share of users
            (the others become new to the target).

    Returns:
        Split: same index spaces, thinner train/valid; ``info["share"]`` records the share.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if by not in ("interaction", "user"):
        raise ValueError(f"by must be 'interaction' or 'user', got {by!r}")
    if share == 1:
        return split
    rng = np.random.default_rng(seed)
    parts = []
    user_u = rng.random(split.n_users)  # one uniform per user: nested samples across shares
    for part in ("train", "valid"):
        frame = split.frame(part)
        u = rng.random(len(frame)) if by == "interaction" else user_u[frame["user"].to_numpy()]
        parts.append(frame[u < share])
    return Split.from_frames(*parts, split.test, split.n_users, split.n_items, split.user_ids,
                             split.item_ids, info={**split.info, "share": share, "share_by": by})


def tuning_split(full: Split, sub: Split) -> Split:
    """Training data of a sub-sampled target with the *full* validation part, for choosing settings.

    With ``subsample_target(..., by="user")`` only the kept users have validation rows, while the
    test part covers every target user, most of them new to the target. Settings that matter for
    those new users (how strongly to hold on to the source, the mapping, the item offsets) cannot
    be judged on the kept users alone. This view keeps what the model may learn from (``sub.train``)
    and scores it on the validation rows of all users, so
    ``evaluate_strategy(model, view, part="valid")`` measures the same population as the test part
    without touching test. Fit the model on ``sub``.

    Args:
        full: the full target split (``task.target``).
        sub: a :func:`subsample_target` of it.

    Returns:
        Split: ``train`` from ``sub``, ``valid`` and ``test`` from ``full``; ``seen("valid")`` masks
        only ``sub.train``.

    Raises:
        ValueError: the two splits do not share their index spaces.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if (full.n_users, full.n_items) != (sub.n_users, sub.n_items):
        raise ValueError(f"splits differ in shape: {(full.n_users, full.n_items)} vs {(sub.n_users, sub.n_items)}")
    return Split.from_frames(sub.train, full.valid, full.test, full.n_users, full.n_items, full.user_ids,
                             full.item_ids, info={**sub.info, "valid": "full"})
