"""Recommenders behind one small interface: ``fit(split)``, ``score(users)``, ``recommend(users, k)``.

* :class:`Popularity`, :class:`ItemKNN`, :class:`EASE` — classic baselines (NumPy/SciPy);
* :class:`BPR` — matrix factorisation with the BPR loss (Keras 3);
* :class:`TextOnly` — BERT item embeddings only, no item IDs (closed form);
* :class:`TwoTower` — Keras 3 two-tower model, item tower = ID embedding + projection of the BERT
  embedding; :class:`TextEASE` — EASE with BERT side information;
* :func:`evaluate` — full-ranking Recall/Precision/NDCG/Hit/MRR@K with seen items masked;
* :mod:`.bert_tower` — BERT's top layer inside a recommender's item tower (fine-tuning A/B).

``recommend`` and :func:`evaluate` rank with the same function, :func:`translearn_lib.metrics.topk`,
so the list a user is shown is the list that was evaluated. The ML-100K comparison runner lives in
:mod:`translearn_lib.experiments.comparison`.

Bad input, documented once here: an empty training part, an unknown user index, ``k <= 0`` or
``k > n_items``, item features whose rows do not match the split's items, or non-positive
regularisation raise ``ValueError`` with what to do; using a model before ``fit`` raises
``RuntimeError``. Users with no training history are allowed: Popularity scores them as everyone
else, the history-based models (ItemKNN, EASE, TextEASE, TextOnly) give them all-zero scores (ties are
broken by item index), so serve them with :class:`Popularity` (or a cold-start model);
ID-based models (BPR, TwoTower) use their barely trained embedding.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from .base import Recommender, as_train_matrix, check_k, evaluate, evaluate_scores, mask_scores
from .content import TextOnly
from .explain import recommend_titles, user_history
from .features import align_item_features, check_features, movielens_item_features
from .linear import EASE, ItemKNN, Popularity, TextEASE, ease_weights
from .neural import BPR, TwoTower, sample_negatives, triplet_epochs

__all__ = [
    "Recommender", "Popularity", "ItemKNN", "EASE", "TextEASE", "BPR", "TextOnly", "TwoTower",
    "evaluate", "ease_weights", "sample_negatives", "triplet_epochs", "align_item_features", "check_features",
    "movielens_item_features", "recommend_titles", "user_history", "as_train_matrix", "check_k", "evaluate_scores",
    "mask_scores",
]
