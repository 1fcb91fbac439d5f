"""Readable recommendations: item indices back to titles, with the held-out truth marked.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _item_frame(split: Any, items: pd.DataFrame) -> pd.DataFrame:
    frame = items.set_index("item_id")
    return frame.reindex(split.item_ids)


def user_history(split: Any, items: pd.DataFrame, user_id: Any, part: str = "train", n: int = 10) -> pd.DataFrame:
    """The items a user interacted with in one part of a split, highest rating first.

    Args:
        split: a :class:`translearn_lib.splits.Split`.
        items: the item table (``item_id``, ``title``, ``genres``, ...).
        user_id: ORIGINAL user id (as in the ratings file).
        part: ``"train"``, ``"valid"`` or ``"test"``.
        n: rows to show.

    Returns:
        pandas.DataFrame: ``title``, ``genres``, ``rating``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    frame = split.frame(part)
    rows = frame[frame["user_id"] == user_id]
    if rows.empty and user_id not in set(split.user_ids):
        raise ValueError(f"unknown user_id {user_id!r}")
    info = _item_frame(split, items)
    out = pd.DataFrame({"title": info["title"].to_numpy()[rows["item"]],
                        "genres": [", ".join(g) for g in info["genres"].to_numpy()[rows["item"]]]})
    if "rating" in rows:
        out["rating"] = rows["rating"].to_numpy()
        out = out.sort_values(["rating", "title"], ascending=[False, True])
    return out.head(n).reset_index(drop=True)


def recommend_titles(model: Any, split: Any, items: pd.DataFrame, user_id: Any, k: int = 10,
                     part: str = "test") -> pd.DataFrame:
    """Top-``k`` recommendations for one user as titles, marking the ones in the held-out ``part``.

    Items seen in train (and valid, for ``part="test"``) are excluded, as in the evaluation.

    Args:
        model: a fitted recommender.
        split: the split it was fitted on.
        items: the item table.
        user_id: ORIGINAL user id.
        k: list length.
        part: held-out part used to mark hits.

    Returns:
        pandas.DataFrame: ``rank``, ``title``, ``genres``, ``score``, ``held_out`` (True = the user
        really interacted with it in ``part``).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    where = np.flatnonzero(np.asarray(split.user_ids) == user_id)
    if where.size == 0:
        raise ValueError(f"unknown user_id {user_id!r}: not in this split")
    u = int(where[0])
    top = model.recommend([u], k=k, exclude_seen=split.seen(part))[0]
    scores = model.score([u])[0]
    truth = set(split.frame(part).query("user == @u")["item"])
    info = _item_frame(split, items)
    return pd.DataFrame({
        "rank": np.arange(1, k + 1),
        "title": info["title"].to_numpy()[top],
        "genres": [", ".join(g) for g in info["genres"].to_numpy()[top]],
        "score": np.round(scores[top].astype(float), 3),
        "held_out": [int(i) in truth for i in top],
    })
