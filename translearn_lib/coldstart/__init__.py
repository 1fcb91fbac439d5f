"""Cold start: scoring items nobody has rated yet, and users who have rated (almost) nothing.

* :mod:`.protocols` — the evaluation setups: a cold-item split with a warm hold-out (so cold and
  warm items can be ranked together), an onboarding split (cold users with ``k`` known
  interactions, the same test items for every ``k``), and the cold-only / mixed evaluation;
* :mod:`.items` — cold-item scorers behind the ``Recommender`` interface: random, metadata
  popularity, genre profile, naive text profile, the text → warm-factor ridge map (CB2CF /
  DeepMusic style) and a NumPy DropoutNet (item-ID dropout, Volkovs et al. 2017);
* :mod:`.blend` — one list from warm and cold scores (per-user standardisation and a cold boost);
* :mod:`.users` — user cold start: demographic popularity, an onboarding text profile, implicit-ALS
  fold-in, and a mapping of the user's factors from another domain (EMCDR, chapter 04) used alone
  or as the fold-in's prior (``MappedFoldIn``); every one falls back to popularity for a user with
  nothing (documented per class);
* :mod:`.runner` — the chapter-06 line-ups (cold-item table, user cold-start curve) behind the
  notebook and ``benchmarks/cold_start.py``.

Every ranking uses :func:`translearn_lib.metrics.topk` (ties → lower item index).

Taught in notebooks/06_cold_start.ipynb.
"""

from .blend import Blend, standardize_rows
from .items import (DropoutNet, GenreProfile, MetadataPopularity, RandomScores, TextProfile, TextToFactor,
                    genre_matrix, ridge_map)
from .protocols import cold_item_holdout, evaluate_items, onboarding_split
from .runner import KS, item_models, item_table, user_curve
from .users import ALSFoldIn, DemographicPopularity, MappedFoldIn, popularity_fallback

__all__ = [
    "Blend", "standardize_rows", "DropoutNet", "GenreProfile", "MetadataPopularity", "RandomScores",
    "TextProfile", "TextToFactor", "genre_matrix", "ridge_map", "cold_item_holdout", "evaluate_items",
    "onboarding_split", "KS", "item_models", "item_table", "user_curve", "ALSFoldIn", "DemographicPopularity", "MappedFoldIn", "popularity_fallback",
]
