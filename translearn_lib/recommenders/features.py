"""Item side information for the recommenders: BERT embeddings aligned with a split's item index.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def align_item_features(split: Any, item_ids: Sequence, features: np.ndarray) -> np.ndarray:
    """Reorder per-item feature rows so that row ``j`` belongs to item index ``j`` of ``split``.

    Args:
        split: a :class:`translearn_lib.splits.Split` (uses ``split.item_ids``: index -> original id).
        item_ids: original item id of each row of ``features``.
        features: ``(len(item_ids), d)`` array.

    Returns:
        numpy.ndarray: float32 ``(split.n_items, d)``.

    Raises:
        ValueError: lengths disagree or an item of the split has no feature row.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    features = np.asarray(features, dtype=np.float32)
    item_ids = list(item_ids)
    if features.ndim != 2 or features.shape[0] != len(item_ids):
        raise ValueError(f"features has shape {features.shape} but there are {len(item_ids)} item ids")
    row_of = {iid: row for row, iid in enumerate(item_ids)}
    missing = [iid for iid in split.item_ids if iid not in row_of]
    if missing:
        raise ValueError(f"{len(missing)} items of the split have no features, e.g. item_id {missing[0]!r}")
    return features[[row_of[iid] for iid in split.item_ids]]


def movielens_item_features(split: Any, movielens: Any, model: str = "minilm", pooling: str = "mean") -> np.ndarray:
    """BERT embeddings of "Title (year). Genres: ..." for every item of a MovieLens split.

    The embeddings come from :func:`translearn_lib.encoders.text.encode_texts` and are cached on disk, so
    the second call costs a file read.

    Args:
        split: a split built from ``movielens.ratings``.
        movielens: the object returned by ``translearn_lib.datasets.load_movielens_100k()``.
        model: text encoder name (``"minilm"`` offline, ``"bert-base-uncased"`` online).
        pooling: ``"mean"`` or ``"cls"``.

    Returns:
        numpy.ndarray: float32 ``(split.n_items, dim)``, L2-normalised rows.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib.datasets import item_texts
    from translearn_lib.encoders.text import encode_texts

    texts = item_texts(movielens.items)
    features = encode_texts(texts, model=model, pooling=pooling)
    return align_item_features(split, movielens.items["item_id"].to_numpy(), features)
