"""The LLM as a zero-shot ranker: candidate titles scored by their log-likelihood after a prompt.

Protocol (chapter 06's cold-item split, :func:`translearn_lib.coldstart.cold_item_holdout`): for
each evaluated user, a candidate set of ``n_candidates`` items holds the user's held-out test items
of one kind (up to ``max_positives``: cold items never seen in training, or warm hold-out items)
and items of the same kind the user never interacted with, in a seeded random order. Every scorer
ranks the same sets, and NDCG@10 / Recall@10 come from :func:`translearn_lib.metrics.ranking_metrics`
on the candidate matrix. Sampled candidates flatter every model alike (chapter 03), so compare the
rows with each other, not with the full-ranking numbers of chapter 06.

Scoring one candidate at a time is order-free by construction; putting the candidates in the
prompt (``variant="listed"``, the setting of Hou et al., ECIR 2024) makes the scores depend on the
order they are listed in, which :func:`order_sensitivity` measures.

Taught in notebooks/10_generative_llms.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from translearn_lib import metrics
from translearn_lib.llm import prompts


def eligible_users(split: Any, min_history: int = 5, min_rating: float = 4.0) -> np.ndarray:
    """Users with a cold and a warm test item and at least ``min_history`` liked training items.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    cold = np.zeros(split.n_items, bool)
    cold[split.info["cold_items"]] = True
    t = split.test
    has_cold = set(t.loc[cold[t["item"].to_numpy()], "user"])
    has_warm = set(t.loc[~cold[t["item"].to_numpy()], "user"])
    tr = split.train
    liked = tr[tr["rating"] >= min_rating].groupby("user").size()
    rich = set(liked[liked >= min_history].index)
    return np.asarray(sorted(has_cold & has_warm & rich), dtype=np.int64)


def candidate_sets(split: Any, users: Sequence[int], items: str = "cold", n_candidates: int = 20,
                   max_positives: int = 3, seed: int = 0) -> dict:
    """One shuffled candidate set per user: held-out positives of one kind plus unseen negatives of that kind.

    Args:
        split: a :func:`translearn_lib.coldstart.cold_item_holdout` split.
        users: user indices (each needs a test item of the requested kind).
        items: ``"cold"`` (items absent from training) or ``"warm"``.
        n_candidates: set size.
        max_positives: at most this many of the user's test items are included.
        seed: seed of the positives, negatives and order.

    Returns:
        dict: ``users`` (n,), ``candidates`` (n, n_candidates) item indices, ``labels`` (n, n_candidates) bool.

    Raises:
        ValueError: unknown ``items``, too small a set, or a user without a positive.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if items not in ("cold", "warm"):
        raise ValueError(f"items must be 'cold' or 'warm', got {items!r}")
    if n_candidates < max_positives + 1 or max_positives < 1:
        raise ValueError(f"need 1 <= max_positives < n_candidates, got {max_positives} and {n_candidates}")
    users = np.asarray(users, dtype=np.int64)
    if users.size == 0:
        raise ValueError("no users given: candidate sets need at least one user")
    is_cold = np.zeros(split.n_items, bool)
    is_cold[split.info["cold_items"]] = True
    pool = np.flatnonzero(is_cold if items == "cold" else ~is_cold)
    seen = (split.matrix(["train", "test"])).tocsr()
    test = split.matrix("test").tocsr()
    rng = np.random.default_rng(seed)
    cands = np.zeros((users.size, n_candidates), np.int64)
    labels = np.zeros((users.size, n_candidates), bool)
    for r, u in enumerate(users):
        pos = np.intersect1d(test.indices[test.indptr[u]:test.indptr[u + 1]], pool)
        if pos.size == 0:
            raise ValueError(f"user {u} has no {items} test item: pick users with eligible_users")
        pos = rng.choice(pos, size=min(max_positives, pos.size), replace=False)
        neg_pool = np.setdiff1d(pool, seen.indices[seen.indptr[u]:seen.indptr[u + 1]])
        if neg_pool.size < n_candidates - pos.size:
            raise ValueError(f"user {u} has only {neg_pool.size} unseen {items} items: lower n_candidates")
        neg = rng.choice(neg_pool, size=n_candidates - pos.size, replace=False)
        both = np.concatenate([pos, neg])
        lab = np.arange(both.size) < pos.size
        order = rng.permutation(both.size)
        cands[r], labels[r] = both[order], lab[order]
    return {"users": users, "candidates": cands, "labels": labels, "items": items}


def llm_scores(llm: Any, split: Any, sets: dict, titles: Sequence[str], variant: str = "enjoyed",
               normalise: str = "mean", reverse: bool = False, history_n: int = 10, progress: bool = False) -> np.ndarray:
    """LLM log-likelihood of each candidate title (``" " + title``) after the user's prompt.

    Args:
        llm: from :func:`translearn_lib.encoders.llm.load_llm`.
        split: the split (histories come from its training part, liked = rating >= 4).
        sets: from :func:`candidate_sets`.
        titles: title per item index.
        variant: prompt wording (:data:`translearn_lib.llm.prompts.RANKING_PROMPTS` or ``"listed"``).
        normalise: ``"mean"`` (per-token log-likelihood) or ``"sum"`` (whole-title log-likelihood).
        reverse: for ``"listed"``: show the candidates in reverse order.
        history_n: liked titles in the prompt.
        progress: tqdm bar over users.

    Returns:
        np.ndarray: ``(n_users, n_candidates)`` scores (higher = rank first).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    from tqdm.auto import tqdm

    if normalise not in ("mean", "sum"):
        raise ValueError(f"normalise must be 'mean' or 'sum', got {normalise!r}")
    out = np.zeros(sets["candidates"].shape)
    for r, u in enumerate(tqdm(sets["users"], desc=f"LLM ranker ({variant})", disable=not progress)):
        cand_titles = [titles[i] for i in sets["candidates"][r]]
        shown = cand_titles[::-1] if reverse else cand_titles
        prompt = prompts.ranking_prompt(prompts.history(split, int(u), titles, n=history_n), variant,
                                        candidates=shown if variant == "listed" else None)
        out[r] = llm.score(prompt, [" " + t for t in cand_titles])[normalise]
    return out


def baseline_scores(split: Any, sets: dict, years: Sequence, embeddings: dict, seed: int = 0) -> dict:
    """The chapter-06 scorers on the same candidate sets: random, popularity, release-year popularity, text profiles.

    Args:
        split: the split the models are fitted on (training part only).
        sets: from :func:`candidate_sets`.
        years: release year per item index (for :class:`~translearn_lib.coldstart.MetadataPopularity`).
        embeddings: name -> ``(n_items, d)`` item embeddings, each a :class:`~translearn_lib.coldstart.TextProfile`.
        seed: seed of the random scorer.

    Returns:
        dict: name -> ``(n_users, n_candidates)`` scores.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    from translearn_lib.coldstart import MetadataPopularity, RandomScores, TextProfile
    from translearn_lib.recommenders import Popularity

    models = {"random": RandomScores(seed), "popularity (training counts)": Popularity(),
              "popularity of the release year": MetadataPopularity(years)}
    models.update({f"{name} profile": TextProfile(E) for name, E in embeddings.items()})
    rows = np.arange(sets["users"].size)[:, None]
    out = {}
    for name, model in models.items():
        model.fit(split)
        out[name] = np.asarray(model.score(sets["users"]))[rows, sets["candidates"]]
    return out


def candidate_metrics(scores: np.ndarray, labels: np.ndarray, k: int = 10) -> dict:
    """NDCG@k, Recall@k, ... of scores over candidate sets (``metrics.ranking_metrics``; ties -> earlier candidate).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != np.shape(labels):
        raise ValueError(f"scores {scores.shape} and labels {np.shape(labels)} differ in shape")
    return metrics.ranking_metrics(scores, np.asarray(labels, dtype=np.float32), k=min(k, scores.shape[1]))


def order_sensitivity(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, k: int = 10) -> dict:
    """How much a ranking changes when only the order of the listed candidates changes.

    Returns:
        dict: ``kendall_tau`` (mean over users of the rank correlation of the two score rows),
        ``top1_agreement`` (share of users whose first candidate is the same), ``ndcg_a``,
        ``ndcg_b`` and ``ndcg_gap`` (a - b).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    from scipy.stats import kendalltau

    a, b = np.asarray(scores_a, float), np.asarray(scores_b, float)
    if a.shape != b.shape:
        raise ValueError(f"score matrices differ in shape: {a.shape} vs {b.shape}")
    taus = [kendalltau(x, y).statistic for x, y in zip(a, b)]
    na, nb = candidate_metrics(a, labels, k)["ndcg"], candidate_metrics(b, labels, k)["ndcg"]
    return {"kendall_tau": float(np.nanmean(taus)), "top1_agreement": float(np.mean(a.argmax(1) == b.argmax(1))),
            "ndcg_a": na, "ndcg_b": nb, "ndcg_gap": na - nb}


def ranking_table(llm: Any, split: Any, titles: Sequence[str], years: Sequence, embeddings: dict, users: Sequence[int],
                  variants: Sequence[str] = ("enjoyed", "terse", "fan", "listed"), n_candidates: int = 20,
                  seed: int = 0, k: int = 10, progress: bool = False) -> dict:
    """Cold and warm NDCG@k of every LLM prompt variant and every baseline on the same candidate sets.

    Also records the listed variant with the candidates reversed (order sensitivity) and the
    seconds each LLM variant took.

    Returns:
        dict: ``{"cold": {...}, "warm": {...}}``, each with ``ndcg`` (name -> value), ``recall``,
        ``order`` (:func:`order_sensitivity` when ``"listed"`` is among the variants), ``seconds``
        (variant -> wall seconds) and ``n_users``.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    out = {}
    for kind in ("cold", "warm"):
        sets = candidate_sets(split, users, kind, n_candidates=n_candidates, seed=seed)
        scores = baseline_scores(split, sets, years, embeddings, seed=seed)
        seconds = {}
        for v in variants:
            t0 = time.perf_counter()
            scores[f"LLM: {v}"] = llm_scores(llm, split, sets, titles, v, progress=progress)
            seconds[v] = time.perf_counter() - t0
        order = None
        if "listed" in variants:
            rev = llm_scores(llm, split, sets, titles, "listed", reverse=True, progress=progress)
            order = order_sensitivity(scores["LLM: listed"], rev, sets["labels"], k)
        res = {name: candidate_metrics(s, sets["labels"], k) for name, s in scores.items()}
        out[kind] = {"ndcg": {n: r["ndcg"] for n, r in res.items()}, "recall": {n: r["recall"] for n, r in res.items()},
                     "order": order, "seconds": seconds, "n_users": int(sets["users"].size),
                     "positives_per_user": float(sets["labels"].sum(1).mean())}
    return out


__all__ = ["eligible_users", "candidate_sets", "llm_scores", "baseline_scores", "candidate_metrics",
           "order_sensitivity", "ranking_table"]
