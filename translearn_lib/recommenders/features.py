"""Item side information for the recommenders: BERT embeddings aligned with a split's item index.

:func:`check_features` validates such an array, :func:`align_item_features` builds it from rows
keyed by item id, :func:`movielens_item_features` encodes the MovieLens texts.

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


def check_features(features: np.ndarray, n_items: int) -> np.ndarray:
    """Check that item features are a finite ``(n_items, d)`` array and return them as float64.

    Args:
        features: item feature rows aligned with the split's item index.
        n_items: number of items of the split.

    Returns:
        numpy.ndarray: the features as float64.

    Raises:
        ValueError: wrong shape, or NaN/inf values.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or F.shape[0] != n_items:
        raise ValueError(
            f"item_features has shape {F.shape} but the split has {n_items} items: align the features "
            "with split.item_ids (see align_item_features)"
        )
    if not np.all(np.isfinite(F)):
        raise ValueError("item_features contains NaN or inf")
    return F
