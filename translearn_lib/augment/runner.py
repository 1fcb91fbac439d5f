"""The chapter's augmentation line-up on the shop: a sparse clothing domain, each method against none.

Every method trains the same profile head (:func:`translearn_lib.privacy.build_head`, no DP) on
leave-one-out examples from the *kept* share of clothing interactions and is scored by full-ranking
NDCG@10 on the untouched clothing test part of every user:

* ``none`` — the kept interactions only;
* ``masked texts`` / ``reworded texts`` — extra copies of every example whose profile is built from
  augmented item texts (:mod:`.text`), the label unchanged;
* ``pseudo-interactions`` — each user's electronics history lends weighted clothing items
  (:mod:`.borrow`) to the profile, in training and at serving time;
* ``mixup`` — as many extra examples mixed from random pairs (:mod:`.mixup`);
* ``pseudo + mixup`` — both.

Shared by notebooks/09 and ``benchmarks/privacy.py``.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp


METHODS = ("none", "masked texts", "reworded texts", "pseudo-interactions", "mixup", "pseudo + mixup")


def _one_hot(labels, n_items):
    Y = np.zeros((len(labels), n_items), np.float32)
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


def augmentation_run(data, share: float = 0.05, seed: int = 0, methods=METHODS, epochs: float = 10,
                     hidden: int = 64, batch_size: int = 128, learning_rate: float = 3e-3, k: int = 10,
                     n_views: int = 1, rate: float = 0.15, per_user: int = 5, pseudo_weight: float = 0.5,
                     mix_alpha: float = 0.4, views: dict | None = None) -> list[dict]:
    """Train and score the head once per augmentation method on one sub-sample of the clothing data.

    Args:
        data: :class:`~translearn_lib.privacy.task.ShopData`.
        share: share of clothing train/valid interactions kept (``crossdomain.subsample_target``).
        seed: sub-sample, augmentation and training seed.
        methods: names from :data:`METHODS`.
        epochs, hidden, batch_size, learning_rate: the head's training (the same for every method).
        k: NDCG cut-off.
        n_views, rate: augmented text copies per example and their masking / deletion rate.
        per_user, pseudo_weight: pseudo-interactions per user and their weight in the profile.
        mix_alpha: mixup's Beta(α, α).
        views: precomputed ``{"mask": (n_views, n_items, d), "reword": ...}`` text views (else encoded here).

    Returns:
        list[dict]: a ``popularity (reference)`` row, then one row per method: ``method``, ``seed``, ``share``, ``ndcg``, ``recall``,
        ``n_examples``, ``seconds``.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.crossdomain import subsample_target
    from translearn_lib.privacy import build_head, head_scores, train_head
    from translearn_lib.privacy.task import leave_one_out_examples, user_profiles
    from translearn_lib.recommenders import Popularity, evaluate_scores

    from .borrow import pseudo_interactions
    from .mixup import mixup
    from .text import text_views

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown augmentation methods {unknown}; choose from {METHODS}")
    task, E = data.task, data.target_emb
    sub = subsample_target(task.target, share, seed=seed)
    H = sp.csr_matrix(sub.matrix(["train", "valid"]), dtype=np.float64)
    if H.nnz == 0:
        raise ValueError(f"share {share} keeps no clothing interaction; use a larger share")
    pseudo = None
    if any("pseudo" in m for m in methods):
        pseudo = pseudo_interactions(task.source, data.source_emb, E, target_train=H,
                                            per_user=per_user, weight=pseudo_weight)
    views = dict(views or {})
    pop = evaluate_scores(Popularity().fit(sub).score, sub, k=k)
    rows = [{"method": "popularity (reference)", "seed": seed, "share": share, "ndcg": pop["ndcg"], "recall": pop["recall"],
             "n_examples": 0, "seconds": 0.0}]
    for method in methods:
        start = time.perf_counter()
        history = H + pseudo if "pseudo" in method else H
        P, y, _ = leave_one_out_examples(history, E, labels_from=H)
        Y = _one_hot(y, E.shape[0])
        if method in ("masked texts", "reworded texts"):
            kind = "mask" if method.startswith("masked") else "reword"
            if kind not in views:
                views[kind] = text_views(task.target_texts, n_views=n_views, method=kind, rate=rate, seed=seed)
            extra = [leave_one_out_examples(history, V, labels_from=H)[0] for V in views[kind][:n_views]]
            P, Y = np.vstack([P, *extra]), np.vstack([Y] * (1 + len(extra)))
        if "mixup" in method:
            Pm, Ym, _ = mixup(P, Y, alpha=mix_alpha, seed=seed)
            P, Y = np.vstack([P, Pm]), np.vstack([Y, Ym])
        model = build_head(E, hidden=hidden, learning_rate=learning_rate, seed=seed)
        train_head(model, P, Y, epochs=epochs, batch_size=batch_size, seed=seed)
        profiles = user_profiles(history, E)
        res = evaluate_scores(lambda u: head_scores(model, profiles[u]), sub, k=k)
        rows.append({"method": method, "seed": seed, "share": share, "ndcg": res["ndcg"], "recall": res["recall"],
                     "n_examples": int(len(P)), "seconds": round(time.perf_counter() - start, 2)})
    return rows
