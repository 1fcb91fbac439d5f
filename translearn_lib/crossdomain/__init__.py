"""Cross-domain recommendation: carry what is known about a user from a source domain to a thin target.

- :mod:`~translearn_lib.crossdomain.task`: :class:`CrossDomainTask` (shared users, separate
  catalogues), the chapter's tasks (:func:`shop_task`, :func:`movielens_genre_task`), the
  learning-curve cut (:func:`subsample_target`) and the validation view (:func:`tuning_split`).
- :mod:`~translearn_lib.crossdomain.als`: the implicit-ALS learner every strategy shares
  (:func:`als_solve`, :func:`factorize`).
- :mod:`~translearn_lib.crossdomain.strategies`: the interface (:class:`CrossDomainStrategy`,
  :func:`evaluate_strategy`) and the ID-based strategies :class:`TargetPopularity`,
  :class:`TargetOnly`, :class:`SharedItemIds`, :class:`JointMF`, :class:`PretrainFinetune`, :class:`EMCDR`.
- :mod:`~translearn_lib.crossdomain.text_bridge`: a shared text space (:func:`center_by_domain`,
  :func:`text_profile_scores`, :class:`TextZeroShot`, :class:`TextBridge`, :func:`task_embeddings`).
- :mod:`~translearn_lib.crossdomain.runner`: the line-up (:func:`default_strategies`) and the
  learning curve (:func:`learning_curve`).
- :mod:`~translearn_lib.crossdomain.migrate`: :class:`MigratedTwoTower`, the Keras pipeline "train on
  source -> migrate -> fine-tune on target". It is loaded on first use of
  ``crossdomain.MigratedTwoTower``, so importing this package stays NumPy-only.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from .als import als_solve, factorize, init_factors, matrix_fingerprint
from .runner import default_strategies, learning_curve
from .strategies import (
    EMCDR,
    CrossDomainStrategy,
    JointMF,
    PretrainFinetune,
    SharedItemIds,
    TargetOnly,
    TargetPopularity,
    apply_linear_mapping,
    evaluate_strategy,
    fit_linear_mapping,
)
from .task import ML_SOURCE_GENRES, CrossDomainTask, make_task, movielens_genre_task, shop_task, subsample_target, tuning_split
from .text_bridge import TextBridge, TextZeroShot, center_by_domain, task_embeddings, text_profile, text_profile_scores

__all__ = [
    "CrossDomainTask", "make_task", "shop_task", "ML_SOURCE_GENRES", "movielens_genre_task", "subsample_target",
    "tuning_split", "als_solve", "factorize", "init_factors", "matrix_fingerprint", "CrossDomainStrategy",
    "evaluate_strategy", "TargetPopularity", "TargetOnly", "SharedItemIds", "JointMF", "PretrainFinetune", "EMCDR",
    "fit_linear_mapping", "apply_linear_mapping", "center_by_domain", "text_profile", "text_profile_scores",
    "TextZeroShot", "TextBridge", "task_embeddings", "default_strategies", "learning_curve", "MigratedTwoTower",
]

_LAZY = {"MigratedTwoTower": "migrate"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
