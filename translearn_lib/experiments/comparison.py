"""The ML-100K comparison runner shared by benchmarks/ml100k.py and chapter 03 (same code, same numbers).

RecBole protocol: random 8:1:1 split per user, full ranking over all items, items seen in train
(and valid, for test) masked, embedding size 64. Hyper-parameters of the closed-form models are
picked on the VALID part of each split (never on test); the Keras models use settings tuned once on
the valid part of seed 42 (tuning log in benchmarks/ml100k.py's docstring). Each trained candidate
is stored in the course cache (:mod:`translearn_lib.cache`) under a key of everything that
determines it; the bar chart of the results is :func:`translearn_lib.plots.plot_comparison`.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from translearn_lib import cache as _cache
from translearn_lib.config import DEFAULT_SEED
from translearn_lib.metrics import METRICS
from translearn_lib.recommenders import (
    BPR, EASE, ItemKNN, Popularity, Recommender, TextEASE, TextOnly, TwoTower, align_item_features, evaluate,
)

CACHE_VERSION = "v2"  # bump when a model's CODE changes; settings and data are part of every key already


@dataclass
class ModelSpec:
    """How to build one row of the comparison.

    Attributes:
        name: row label.
        build: ``build(params, item_features, seed) -> Recommender``; ``params`` is
            ``{**fixed, **candidate}``, so every setting the model gets passes through it.
        grid: candidate parameter dicts; with more than one, the best on valid NDCG@k is kept.
        uses_text: whether the model reads the BERT item features.
        fixed: settings shared by every candidate (epochs, learning rate, ...). They are part of
            the cache key like the candidate's, so changing one never returns a stale cached row.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name: str
    build: Callable[[dict, np.ndarray | None, int], Recommender]
    grid: list = field(default_factory=lambda: [{}])
    uses_text: bool = False
    fixed: dict = field(default_factory=dict)

    def settings(self, params: dict) -> dict:
        """The parameters ``build`` receives for one candidate: ``{**fixed, **params}``."""
        return {**self.fixed, **params}

    def describe(self) -> str:
        """The spec as sorted JSON (name, grid, fixed settings)."""
        return json.dumps({"name": self.name, "grid": self.grid, "fixed": self.fixed}, sort_keys=True, default=str)


# Keras settings tuned on valid (seed 42); RecBole's BPR uses lr 1e-3, batch 2048, no L2, early stop.
BPR_PARAMS = dict(dim=64, epochs=80, batch_size=4096, lr=5e-3, reg=1e-2)
# Hybrid: full softmax + history-aware user tower, settings chosen on valid (seed 42); see
# benchmarks/ml100k.py's docstring for the tuning log.
HYBRID_PARAMS = dict(dim=64, epochs=10, batch_size=1024, lr=2e-3, reg=0.0, use_item_ids=True, user_history=True,
                     loss="softmax")


def default_specs(fast: bool = False) -> dict[str, ModelSpec]:
    """The rows of the ML-100K table: Pop, ItemKNN, BPR, EASE, TextOnly, TextEASE, Hybrid.

    Args:
        fast: one candidate per grid: the value the valid set picks for seed 42 (so the notebook
            reads the benchmark's cached result instead of re-running the grid).

    Returns:
        dict: name -> :class:`ModelSpec`, in table order.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    def grid(full, quick):
        return [quick] if fast else full

    specs = [
        ModelSpec("Pop", lambda p, F, s: Popularity(**p)),
        ModelSpec("ItemKNN", lambda p, F, s: ItemKNN(**p), grid([{"k": k} for k in (50, 100, 200)], {"k": 200})),
        ModelSpec("BPR", lambda p, F, s: BPR(seed=s, **p), fixed=dict(BPR_PARAMS)),
        ModelSpec("EASE", lambda p, F, s: EASE(**p), grid([{"lam": v} for v in (150, 250, 400, 700)], {"lam": 250})),
        ModelSpec("TextOnly", lambda p, F, s: TextOnly(F, **p),
                  grid([{"lam": v} for v in (1e3, 3e3, 1e4, 3e4)], {"lam": 1e4}), uses_text=True,
                  fixed={"center": False}),
        ModelSpec("TextEASE", lambda p, F, s: TextEASE(F, **p),
                  grid([{"lam": lam, "alpha": a} for lam in (250, 400) for a in (2, 4, 6)], {"lam": 250, "alpha": 4}),
                  uses_text=True),
        ModelSpec("Hybrid", lambda p, F, s: TwoTower(F, seed=s, **p), uses_text=True, fixed=dict(HYBRID_PARAMS)),
    ]
    return {spec.name: spec for spec in specs}


def candidate_key(name: str, params: dict, seed: int, k: int, ratings: pd.DataFrame,
                  features: np.ndarray | None, item_ids: Sequence | None = None) -> str:
    """Cache key of one trained candidate (:func:`translearn_lib.cache.content_key` of its inputs).

    Args:
        name: row name.
        params: the EFFECTIVE settings (``spec.settings(candidate)``: fixed + candidate).
        seed: split and model seed.
        k: metric cut-off.
        ratings: the interactions (their ``user_id`` and ``item_id`` columns enter by value).
        features: item features if the model reads them, else ``None``. They enter by value, in
            item-id order when ``item_ids`` is given, so a different text model, pooling or
            truncation (which change the vectors) gives a different key, and the same vectors
            listed in another row order give the same key.
        item_ids: original item id of each row of ``features``.

    Returns:
        str: the key (``CACHE_VERSION`` is part of it).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    parts: list = [CACHE_VERSION, name, params, int(seed), int(k), ratings[["user_id", "item_id"]]]
    if features is not None:
        features = np.ascontiguousarray(features, dtype=np.float32)
        if item_ids is not None:
            ids = np.asarray(item_ids)
            order = np.argsort(ids, kind="stable")
            parts.append(pd.Series(ids[order], name="item_id"))
            features = np.ascontiguousarray(features[order])
        parts.append(features)
    return _cache.content_key(*parts)


def run_comparison(ratings: pd.DataFrame, item_ids: Sequence, item_features: np.ndarray,
                   seeds: Sequence[int] = (DEFAULT_SEED,), models: Sequence[str] | None = None, k: int = 10,
                   specs: dict[str, ModelSpec] | None = None, cache: bool = True,
                   log: Callable[[str], Any] | None = print, prefit: dict | None = None) -> pd.DataFrame:
    """Train and evaluate every model on ``random_split(ratings, seed)`` for each seed.

    For a model with several candidate settings (``spec.grid``) every candidate is trained on
    train and scored on valid; the one with the best valid NDCG@k is reported on test.

    Args:
        ratings: interactions (``user_id``, ``item_id``, ...), e.g. MovieLens-100K.
        item_ids: original item id of each row of ``item_features``.
        item_features: BERT embeddings, one row per item id.
        seeds: split and model seeds, one run per seed.
        models: subset of row names (default: all of ``specs``).
        k: cut-off for the metrics.
        specs: model definitions (default :func:`default_specs`).
        cache: reuse results stored in the course cache (``results/ml100k-<model>-<key>.json``)
            for an identical candidate (:func:`candidate_key`: model name, effective parameters
            (``spec.fixed`` + the candidate, e.g. epochs and learning rate), seed, k, ratings, the
            feature values, which change with the text model, pooling and truncation, and
            ``CACHE_VERSION``, bumped when a model's code changes). The benchmark fills the cache,
            so the notebook reads seed 42 instead of retraining.
        log: progress printer (``None`` for silence).
        prefit: ``{name: fitted model}`` to use instead of training that row again (only for a
            single seed and a single-candidate spec; the model must have been fitted on
            ``random_split(ratings, seed)`` with the spec's settings, which is checked for the data).

    Raises:
        ValueError: unknown model name, features not matching ``item_ids``, or a ``prefit``
            model trained on other data (or with several seeds / candidates).
        RuntimeError: a ``prefit`` model that was never fitted.

    Returns:
        pandas.DataFrame: one row per (model, seed) with the test metrics of
        :data:`translearn_lib.metrics.METRICS` (``recall, precision, ndcg, hit, mrr``),
        ``valid_ndcg``, ``fit_s`` (training wall time of the kept candidate), ``params`` and
        ``cached``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib.splits import random_split

    specs = specs or default_specs()
    names = list(models) if models is not None else list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(specs)}")
    rows = []
    for seed in seeds:
        split = features = None
        for name in names:
            spec = specs[name]
            candidates = []
            for params in spec.grid:
                settings = spec.settings(params)
                path = None
                if cache:
                    key = candidate_key(name, settings, seed, k, ratings, item_features if spec.uses_text else None,
                                        item_ids if spec.uses_text else None)
                    path = _cache.entry("results", f"ml100k-{name}", key, ".json")
                cand = _cache.load_json(path) if path is not None else None
                if cand is not None:
                    cand["cached"] = True
                else:
                    if split is None:
                        split = random_split(ratings, seed=seed)
                        features = align_item_features(split, item_ids, item_features)
                    if prefit and name in prefit:
                        if len(seeds) != 1 or len(spec.grid) != 1:
                            raise ValueError("prefit works with one seed and a single-candidate spec")
                        model = prefit[name]
                        if model.train_ is None:
                            raise RuntimeError(f"prefit[{name!r}] is not fitted yet: call fit(split) first")
                        if model.train_.shape != split.matrix("train").shape or (model.train_ != split.matrix("train")).nnz:
                            raise ValueError(f"prefit[{name!r}] was not fitted on random_split(ratings, seed={seed})")
                    else:
                        model = spec.build(dict(settings), features, seed).fit(split)
                    valid = evaluate(model, split, k=k, part="valid")
                    test = evaluate(model, split, k=k, part="test")
                    cand = {"model": name, "seed": int(seed), **{m: float(test[m]) for m in METRICS},
                            "valid_ndcg": float(valid["ndcg"]), "fit_s": float(model.fit_seconds_),
                            "params": json.dumps(params, sort_keys=True), "cached": False}
                    if path is not None:
                        _cache.save_json(path, cand)
                candidates.append(cand)
            row = max(candidates, key=lambda c: c["valid_ndcg"])  # chosen on VALID, never on test
            rows.append(row)
            if log:
                how = "cached" if row["cached"] else f"fit {row['fit_s']:5.1f}s"
                log(f"seed {seed} {name:9s} {how:12s} valid NDCG@{k}={row['valid_ndcg']:.4f} "
                    f"test NDCG@{k}={row['ndcg']:.4f}  {row['params']}")
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds, one row per model (table order kept).

    Args:
        results: output of :func:`run_comparison`.

    Returns:
        pandas.DataFrame: columns ``<metric>_mean``, ``<metric>_std`` for recall/ndcg/hit/mrr and
        ``fit_s_mean``, plus ``seeds``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    order = list(dict.fromkeys(results["model"]))
    grouped = results.groupby("model", sort=False)
    out = pd.DataFrame(index=order)
    for m in ("recall", "ndcg", "hit", "mrr", "fit_s"):
        out[f"{m}_mean"] = grouped[m].mean()
        out[f"{m}_std"] = grouped[m].std(ddof=0)
    out["seeds"] = grouped["seed"].nunique()
    return out


def markdown_table(results: pd.DataFrame, k: int = 10, digits: int = 3) -> str:
    """The comparison as a markdown table: metric mean ± std over seeds and training time.

    Args:
        results: output of :func:`run_comparison`.
        k: cut-off, for the column headers.
        digits: decimals of the metrics.

    Returns:
        str: the table (one line per model).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    s = summarize(results)
    head = f"| model | Recall@{k} | NDCG@{k} | Hit@{k} | MRR@{k} | train time (s) |"
    lines = [head, "|---|---|---|---|---|---|"]
    for name, r in s.iterrows():
        cells = [f"{r[f'{m}_mean']:.{digits}f} ± {r[f'{m}_std']:.{digits}f}" for m in ("recall", "ndcg", "hit", "mrr")]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['fit_s_mean']:.1f} |")
    return "\n".join(lines)



#: the evaluation protocols of :func:`evaluation_study` (key -> label)
PROTOCOLS = {
    "full": "full ranking, seen items masked",
    "full_unmasked": "full ranking, seen items NOT masked",
    "sampled": "100 sampled negatives, seen items masked",
    "per_item_full": "per held-out item, all items as negatives, masked",
}


def evaluation_study(ratings: pd.DataFrame, seeds: Sequence[int] = (DEFAULT_SEED,), k: int = 10,
                     n_negatives: int = 100, bpr_params: dict | None = None, ease_lam: float = 250.0,
                     splits: Sequence[str] = ("random", "temporal"), models: dict | None = None) -> pd.DataFrame:
    """How the protocol changes the numbers: Pop, BPR and EASE under four protocols and two splits.

    For each seed and split (``random_split`` or ``temporal_split``), fit the models on train and
    score test with: full ranking with seen (train + valid) items masked (:func:`translearn_lib.metrics.ranking_metrics`,
    the protocol of the ML-100K table), the same without the mask, each held-out item against
    ``n_negatives`` sampled negatives (:func:`translearn_lib.metrics.sampled_ranking_metrics`), and
    that per-item metric with every item as a negative (like for like with the sampled one).

    Args:
        ratings: interactions with ``user_id``, ``item_id`` and ``timestamp``.
        seeds: split, model and sampling seeds.
        k: cut-off.
        n_negatives: sampled negatives per user.
        bpr_params: settings of :class:`translearn_lib.recommenders.BPR` (default :data:`BPR_PARAMS`).
        ease_lam: EASE's L2 weight (the value the valid part picks on the random split, seed 42).
        splits: which splits to run.
        models: optional ``{(seed, split_name, model_name): fitted model}`` to reuse instead of fitting.

    Returns:
        pandas.DataFrame: one row per (seed, split, model, protocol) with ``hit`` and ``ndcg``.

    Raises:
        ValueError: an unknown split name.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib.metrics import ranking_metrics, sampled_ranking_metrics
    from translearn_lib.splits import random_split, temporal_split

    builders = {"random": random_split, "temporal": temporal_split}
    unknown = [s for s in splits if s not in builders]
    if unknown:
        raise ValueError(f"unknown split(s) {unknown}; choose from {list(builders)}")
    bpr_params = dict(BPR_PARAMS if bpr_params is None else bpr_params)
    rows = []
    for seed in seeds:
        for split_name in splits:
            split = builders[split_name](ratings, seed=seed)
            truth, seen = split.matrix("test"), split.seen("test")
            users = np.arange(split.n_users)
            for name, make in (("Pop", lambda: Popularity()), ("BPR", lambda: BPR(seed=seed, **bpr_params)),
                               ("EASE", lambda: EASE(lam=ease_lam))):
                model = (models or {}).get((seed, split_name, name)) or make().fit(split)
                scores = model.score(users)
                results = {
                    "full": ranking_metrics(scores, truth, k=k, exclude=seen),
                    "full_unmasked": ranking_metrics(scores, truth, k=k, exclude=None),
                    "sampled": sampled_ranking_metrics(scores, truth, n_negatives, seed=seed, exclude=seen, k=k),
                    "per_item_full": sampled_ranking_metrics(scores, truth, None, seed=seed, exclude=seen, k=k),
                }
                for protocol, res in results.items():
                    rows.append({"seed": int(seed), "split": split_name, "model": name, "protocol": protocol,
                                 "hit": float(res["hit"]), "ndcg": float(res["ndcg"])})
    return pd.DataFrame(rows)
