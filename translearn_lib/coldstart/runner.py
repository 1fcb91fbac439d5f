"""The chapter-06 line-ups on MovieLens-100K, shared by the notebook and ``benchmarks/cold_start.py``.

Taught in notebooks/06_cold_start.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from translearn_lib.recommenders import EASE, Popularity, evaluate_scores, movielens_item_features

from .blend import Blend
from .items import DropoutNet, GenreProfile, MetadataPopularity, RandomScores, TextProfile, TextToFactor, genre_matrix
from .protocols import cold_item_holdout, evaluate_items, onboarding_split
from .users import ALSFoldIn, DemographicPopularity

#: the user cold-start curve's k values
KS = (0, 1, 3, 5, 10)


def item_models(split: Any, movielens: Any, seed: int) -> dict:
    """The cold-item line-up (unfitted), with side information aligned to ``split``.

    Args:
        split: a :func:`cold_item_holdout` split of ``movielens.ratings``.
        movielens: ``load_movielens_100k()``.
        seed: seed of the random scorer, ALS and DropoutNet.

    Returns:
        dict: name -> unfitted ``Recommender``.

    Taught in notebooks/06_cold_start.ipynb.
    """
    E = movielens_item_features(split, movielens)
    G, _ = genre_matrix(split, movielens.items)
    years = movielens.items.set_index("item_id").reindex(split.item_ids)["year"].to_numpy()
    return {
        "random": RandomScores(seed),
        "popularity (ID; cold items tie)": Popularity(),
        "popularity of the release year": MetadataPopularity(years),
        "genre profile (no LM)": GenreProfile(G),
        "text profile (mean MiniLM)": TextProfile(E),
        "text → ALS factors (ridge)": TextToFactor(E, seed=seed),
        "DropoutNet (ID dropout)": DropoutNet(E, seed=seed),
        "EASE (warm only)": EASE(),
    }


def item_table(movielens: Any, seed: int, k: int = 10, boosts: Sequence[float] = (-1.0, 0.0, 1.0)) -> dict:
    """Cold-only, warm-only and mixed Recall/NDCG@k of every cold-item model, and of the EASE + text blend.

    Args:
        movielens: ``load_movielens_100k()``.
        seed: split and model seed.
        k: cut-off.
        boosts: cold boosts of :class:`Blend` (EASE for warm items, the text → factor map for cold ones).

    Returns:
        dict: ``{"rows": [{"method", "cold_ndcg", "cold_recall", "warm_ndcg", "mixed_ndcg", "mixed_recall",
        "warm_in_mixed_ndcg" (warm targets only, in the mixed list), "seconds"}, ...], "n_cold_items": int}``.

    Taught in notebooks/06_cold_start.ipynb.
    """
    split = cold_item_holdout(movielens.ratings, seed=seed)
    models = item_models(split, movielens, seed)
    E = models["text → ALS factors (ridge)"].embeddings
    for b in boosts:
        models[f"blend EASE + text map, boost {b:+g}"] = Blend(EASE(), TextToFactor(E, seed=seed), boost=b)
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(split)
        seconds = time.perf_counter() - start
        cold, warm, mixed = (evaluate_items(model, split, w, k=k) for w in ("cold", "warm", "mixed"))
        warm_in_mixed = evaluate_items(model, split, "mixed", k=k, targets="warm")
        rows.append({"method": name, "cold_ndcg": cold["ndcg"], "cold_recall": cold["recall"],
                     "warm_ndcg": warm["ndcg"], "mixed_ndcg": mixed["ndcg"], "mixed_recall": mixed["recall"],
                     "warm_in_mixed_ndcg": warm_in_mixed["ndcg"], "seconds": seconds})
    return {"rows": rows, "n_cold_items": int(len(split.info["cold_items"]))}


def user_curve(movielens: Any, seed: int, ks: Sequence[int] = KS, k: int = 10) -> list[dict]:
    """NDCG/Recall@k of the user cold-start scorers for cold users with each number of known items.

    Args:
        movielens: ``load_movielens_100k()``.
        seed: split seed (cold users and their onboarding order) and ALS seed.
        ks: known interactions per cold user.
        k: cut-off.

    Returns:
        list[dict]: one row per (method, k): ``method``, ``k``, ``ndcg``, ``recall``, ``n_users``, ``seed``.

    Taught in notebooks/06_cold_start.ipynb.
    """
    rows = []
    for n_known in ks:
        split = onboarding_split(movielens.ratings, int(n_known), max_k=max(ks), seed=seed)
        E = movielens_item_features(split, movielens)
        models = {"popularity": Popularity(), "demographics": DemographicPopularity(movielens.users),
                  "onboarding text profile": TextProfile(E), "ALS fold-in": ALSFoldIn(seed=seed)}
        for name, model in models.items():
            model.fit(split)
            res = evaluate_scores(model.score, split, k=k, users=split.info["cold_users"])
            rows.append({"method": name, "k": int(n_known), "ndcg": res["ndcg"], "recall": res["recall"],
                         "n_users": res["n_users"], "seed": seed})
    return rows
