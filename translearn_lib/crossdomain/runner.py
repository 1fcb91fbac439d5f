"""The chapter's line-up of strategies and its learning curve (NDCG@k against the share of target data).

:func:`learning_curve` is a thin adapter onto the course's one runner,
:func:`translearn_lib.experiments.curves.learning_curve`: it cuts the target with
:func:`~translearn_lib.crossdomain.task.subsample_target` and scores each fitted strategy with
:func:`~translearn_lib.crossdomain.strategies.evaluate_strategy`. Plot the result with
:func:`translearn_lib.plots.plot_learning_curve`.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from translearn_lib import config
from translearn_lib.experiments import curves

import numpy as np

from .strategies import (EMCDR, JointMF, PretrainFinetune, SharedItemIds, TargetOnly, TargetPopularity,
                         evaluate_strategy)
from .task import CrossDomainTask, subsample_target
from .text_bridge import TextBridge, TextZeroShot

#: Metrics recorded per run, in the order of the curve's columns.
CURVE_METRICS = ("ndcg", "recall", "hit")


def default_strategies(source_emb=None, target_emb=None, seed: int = config.DEFAULT_SEED, item_map=None,
                       **kw) -> dict:
    """The chapter's line-up, name -> unfitted strategy (text strategies only with embeddings).

    Args:
        source_emb, target_emb: item text embeddings (see
            :func:`~translearn_lib.crossdomain.text_bridge.task_embeddings`), or None.
        seed: ALS initialisation seed.
        item_map: the source items' target twins
            (:meth:`~translearn_lib.crossdomain.task.CrossDomainTask.matched_items`), or None; when
            it matches at least one item, ``"shared item ids"`` joins the line-up.
        **kw: ALS settings shared by all (``factors``, ``reg``, ``alpha``, ``iters``).

    Returns:
        dict: ``"popularity"``, ``"target-only"``, (``"shared item ids"``), ``"joint (CMF)"``,
        ``"pretrain + fine-tune"``, ``"EMCDR mapping"`` and, with embeddings, ``"text zero-shot"``
        and ``"text bridge (CTR)"``.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    kw = dict(kw, seed=seed)
    out = {"popularity": TargetPopularity(**kw), "target-only": TargetOnly(**kw)}
    if item_map is not None and (np.asarray(item_map) >= 0).any():
        out["shared item ids"] = SharedItemIds(item_map, **kw)
    out.update({"joint (CMF)": JointMF(**kw), "pretrain + fine-tune": PretrainFinetune(**kw),
                "EMCDR mapping": EMCDR(**kw)})
    if source_emb is not None and target_emb is not None:
        out["text zero-shot"] = TextZeroShot(source_emb, target_emb, **kw)
        out["text bridge (CTR)"] = TextBridge(source_emb, target_emb, **kw)
    return out


def learning_curve(task: CrossDomainTask, strategies: Mapping[str, object],
                   shares: Sequence[float] = (0.05, 0.1, 0.25, 0.5, 1.0), seed: int = config.DEFAULT_SEED,
                   by: str = "user", k: int = 10, users=None, progress: bool | None = None,
                   seeds: Sequence[int] | None = None) -> pd.DataFrame:
    """Fit every strategy on growing shares of the target data and measure it on the test part.

    The test interactions are the same for every share, so the points are comparable; pretrained
    source factors are reused across shares (only the target side changes).

    Args:
        task: the cross-domain task.
        strategies: name -> strategy (e.g. :func:`default_strategies`).
        shares: target shares in (0, 1].
        seed: subsampling seed (the strategies keep their own ALS seed).
        seeds: several subsampling seeds instead of ``seed`` (which part of the target is kept
            changes; the task and the strategies do not): one row per seed, for bands over seeds.
        by: ``"user"`` or ``"interaction"`` (see :func:`~translearn_lib.crossdomain.task.subsample_target`).
        k: cut-off.
        users: evaluate on these user indices only (default: all users with test interactions).
        progress: show a progress bar (``None``: only interactively).

    Returns:
        pd.DataFrame: one row per (strategy, share) with columns ``strategy, share, seed, ndcg,
        recall, hit, seconds`` (metrics at ``k``; ``seconds`` is the wall time of fit and evaluation).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    def subsample(share, cut_seed):
        return subsample_target(task.target, share, seed=cut_seed, by=by)

    def fit_evaluate(name, model, sub, cut_seed):
        res = evaluate_strategy(model.fit(task.source, sub), sub, k=k, users=users)
        return {metric: res[metric] for metric in CURVE_METRICS}

    seeds = [seed] if seeds is None else list(seeds)
    return curves.learning_curve(strategies, shares, seeds, subsample, fit_evaluate, progress=progress)
