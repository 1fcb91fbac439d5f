"""One list from two scorers: warm items ranked by a collaborative model, cold items by a content model.

Raw scores of two models live on different scales, so a union of them is decided by the scale, not
by the user. :class:`Blend` standardises each model's scores per user over its own items (z-scores)
and adds ``boost`` to the cold items: ``boost`` is then the policy knob "how much room do new items
get", measured in standard deviations.

Taught in notebooks/06_cold_start.ipynb.
"""

from __future__ import annotations

import numpy as np

from translearn_lib.recommenders.base import Recommender


def standardize_rows(scores: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Per-row z-scores of ``scores[:, columns]`` (mean 0, std 1 over those columns).

    Args:
        scores: ``(n, n_items)`` array.
        columns: boolean mask ``(n_items,)`` of the columns to standardise.

    Returns:
        numpy.ndarray: ``(n, columns.sum())`` float32; a constant row becomes all zeros.

    Raises:
        ValueError: the mask does not match the columns or selects nothing.

    Taught in notebooks/06_cold_start.ipynb.
    """
    scores = np.asarray(scores, dtype=np.float64)
    columns = np.asarray(columns, dtype=bool)
    if scores.ndim != 2 or columns.shape != (scores.shape[1],) or not columns.any():
        raise ValueError(f"columns must be a non-empty boolean mask of length {scores.shape[-1]}")
    part = scores[:, columns]
    std = part.std(axis=1, keepdims=True)
    return ((part - part.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)).astype(np.float32)


class Blend(Recommender):
    """Warm items scored by ``warm``, cold items by ``cold``, each standardised per user; cold + ``boost``.

    Cold items are the items without a training interaction. ``boost = 0`` treats a cold item like
    an average-to-good warm one of the same z-score; a large negative ``boost`` hides cold items, a
    large positive one fills the list with them.

    Args:
        warm: an unfitted ``Recommender`` for the warm items (e.g. EASE).
        cold: an unfitted ``Recommender`` for the cold items (e.g. ``TextToFactor``).
        boost: added to the cold items' z-scores.

    Taught in notebooks/06_cold_start.ipynb.
    """

    name = "blend"

    def __init__(self, warm: Recommender, cold: Recommender, boost: float = 0.0) -> None:
        super().__init__()
        if not np.isfinite(boost):
            raise ValueError(f"boost must be a finite number, got {boost}")
        self.warm, self.cold, self.boost = warm, cold, float(boost)

    def _fit(self, X, data) -> None:
        self.warm.fit(data)
        self.cold.fit(data)
        self.is_cold_ = np.asarray(X.sum(axis=0)).ravel() == 0
        if not self.is_cold_.any():
            raise ValueError("the training data has no cold item: every item has interactions")

    def _score(self, users):
        out = np.empty((len(users), self.n_items_), dtype=np.float32)
        out[:, ~self.is_cold_] = standardize_rows(self.warm.score(users), ~self.is_cold_)
        out[:, self.is_cold_] = standardize_rows(self.cold.score(users), self.is_cold_) + self.boost
        return out
