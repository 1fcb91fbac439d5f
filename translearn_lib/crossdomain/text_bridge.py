"""The text bridge: items of both domains in one space given by a pretrained sentence encoder.

A user profile built from source items can score target items with no target data at all
(:func:`text_profile`, :func:`text_profile_scores`, :class:`TextZeroShot`); :class:`TextBridge`
instead uses the text as item factors, learns the user factors on both domains and an optional
collaborative offset per target item (collaborative topic regression). :func:`center_by_domain`
removes what all descriptions of one domain share; :func:`task_embeddings` encodes a task's items
with :mod:`translearn_lib.encoders.text`.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from translearn_lib.embeddings import l2_normalize, pca_project
from translearn_lib.splits import Split

from .als import als_solve
from .strategies import CrossDomainStrategy
from .task import CrossDomainTask


def center_by_domain(source_emb: np.ndarray, target_emb: np.ndarray):
    """Subtract each domain's mean embedding and re-normalise rows.

    Descriptions of one domain share words ("paperback", "machine washable") that pull all of
    its items together; removing each domain's mean keeps what the items are *about*. This is
    the first-moment version of domain alignment (CORAL matches second moments as well).

    Args:
        source_emb: (n_source, d) source item embeddings.
        target_emb: (n_target, d) target item embeddings.

    Returns:
        tuple: ``(source, target)`` float64 arrays, each domain centred, rows of unit length.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    out = []
    for emb in (source_emb, target_emb):
        e = np.asarray(emb, dtype=float) - np.asarray(emb, dtype=float).mean(axis=0, keepdims=True)
        out.append(l2_normalize(e, dtype=np.float64))
    return out[0], out[1]


def text_profile(history: sp.csr_matrix, history_emb: np.ndarray) -> np.ndarray:
    """Each user's text profile: the mean embedding of the items in their history, at unit length.

    Args:
        history: csr (n_users, n_history_items), the weight of each item a user interacted with
            (1 for a plain interaction).
        history_emb: (n_history_items, d) embeddings of those items.

    Returns:
        np.ndarray: (n_users, d) float64 rows of norm 1; users with no history get a row of zeros.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    history = sp.csr_matrix(history, dtype=np.float64)
    return l2_normalize(history @ np.asarray(history_emb, dtype=float), dtype=np.float64)


def text_profile_scores(history: sp.csr_matrix, history_emb: np.ndarray, candidate_emb: np.ndarray) -> np.ndarray:
    """Zero-shot text scores: cosine between each user's :func:`text_profile` and each candidate.

    Args:
        history: csr (n_users, n_history_items) of the items each user interacted with.
        history_emb: (n_history_items, d) embeddings of those items.
        candidate_emb: (n_candidates, d) embeddings of the items to rank.

    Returns:
        np.ndarray: (n_users, n_candidates); users with no history score 0 everywhere.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    return text_profile(history, history_emb) @ l2_normalize(candidate_emb, dtype=np.float64).T


class _TextStrategy(CrossDomainStrategy):
    """A strategy that holds text embeddings of the source and target items."""

    def __init__(self, source_emb, target_emb, center: bool = True, **kw):
        super().__init__(**kw)
        self.source_emb, self.target_emb = np.asarray(source_emb), np.asarray(target_emb)
        self.center = center

    def _domain_embeddings(self):
        """``(source, target)`` embeddings, centred per domain when ``center`` is set."""
        if self.center:
            return center_by_domain(self.source_emb, self.target_emb)
        return self.source_emb, self.target_emb


class TextZeroShot(_TextStrategy):
    """Rank target items by similarity to the user's history in a shared text space (no training).

    The user profile is the :func:`text_profile` of their source items plus (with weight
    ``target_weight`` per item) their target training items; items are scored by cosine.

    Args:
        source_emb, target_emb: (n_items, d) text embeddings aligned with the task's items.
        center: subtract each domain's mean embedding first (:func:`center_by_domain`).
        target_weight: weight of a target item relative to a source item in the profile.
        **kw: settings of :class:`~translearn_lib.crossdomain.strategies.CrossDomainStrategy`
            (only ``seed`` and the like: nothing is trained).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "text zero-shot"

    def __init__(self, source_emb, target_emb, center: bool = True, target_weight: float = 1.0, **kw):
        super().__init__(source_emb, target_emb, center=center, **kw)
        self.target_weight = target_weight

    def fit(self, source, target: Split):
        Es, Et = self._domain_embeddings()
        history = sp.hstack([sp.csr_matrix(source, dtype=np.float64),
                             self.target_weight * target.matrix("train").astype(np.float64)]).tocsr()
        self.user_factors = text_profile(history, np.vstack([Es, Et]))
        self.item_factors = Et
        return self._finish(target)


class TextBridge(_TextStrategy):
    """Item factors from text, user factors learnt on both domains (collaborative topic regression).

    Item vectors are the text embeddings of both domains (centred per domain, reduced to
    ``factors`` dimensions by one shared PCA, :func:`translearn_lib.embeddings.pca_project`), so a
    target item has a vector before anyone buys it. User factors are fitted by ALS on source and
    target together against these fixed item vectors. With ``offset_reg`` finite, each target item
    also learns a collaborative offset ``q_i = text_i + d_i`` (penalised by ``offset_reg``), as in
    CTR (Wang and Blei 2011).

    Args:
        source_emb, target_emb: (n_items, d) text embeddings aligned with the task's items.
        source_weight: weight of the source loss.
        offset_reg: penalty on the target item offsets (``None``: text only). The default was
            chosen on validation data with ``benchmarks/cross_domain.py --tune``.
        center: subtract each domain's mean embedding first (:func:`center_by_domain`).
        **kw: ALS settings (see :class:`~translearn_lib.crossdomain.strategies.CrossDomainStrategy`;
            ``iters`` defaults to 6 here).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "text bridge (CTR)"

    def __init__(self, source_emb, target_emb, source_weight: float = 1.0, offset_reg: float | None = 3.0,
                 center: bool = True, **kw):
        kw.setdefault("iters", 6)
        super().__init__(source_emb, target_emb, center=center, **kw)
        self.source_weight, self.offset_reg = source_weight, offset_reg

    def fit(self, source, target: Split):
        key = (self.factors, self.center)
        if getattr(self, "_pca_key", None) != key:  # the text side never changes between fits: cache it
            self._pca_key, self._Z = key, pca_project(np.vstack(self._domain_embeddings()), self.factors)
        Z = self._Z
        Qs, Qt0 = Z[:len(self.source_emb)], Z[len(self.source_emb):]
        S = sp.csr_matrix(source, dtype=np.float64)
        T = sp.csr_matrix(target.matrix("train"), dtype=np.float64)
        Tt = T.T.tocsr()
        act_t = np.diff(T.indptr) > 0
        Qt = Qt0.copy()
        reg, a, w = self.reg, self.alpha, self.source_weight
        iters = self.iters if self.offset_reg is not None else 1
        for _ in range(iters):
            P = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
            if self.offset_reg is not None:
                # item step with the text vector as prior: q_i = text_i + offset_i
                Qt = als_solve(Tt, P, 0.0, a, rows_mask=np.ones(Tt.shape[0], bool), y_mask=act_t,
                               prior=Qt0, prior_weight=self.offset_reg)
        self.user_factors = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
        self.item_factors = Qt
        return self._finish(target)


def task_embeddings(task: CrossDomainTask, model: str = "minilm", pooling: str = "mean"):
    """Sentence embeddings of the task's source and target items (cached on disk by the encoder).

    Args:
        task: a task with ``source_texts`` and ``target_texts``.
        model: encoder name for :func:`translearn_lib.encoders.text.load_text_encoder`.
        pooling: ``"mean"`` or ``"cls"``.

    Returns:
        tuple: ``(source_emb, target_emb)`` float32 arrays aligned with the item indices.

    Raises:
        ValueError: the task has no item texts.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if task.source_texts is None or task.target_texts is None:
        raise ValueError(f"task {task.name!r} has no item texts; build it with texts=...")
    from translearn_lib.encoders.text import load_text_encoder

    encoder = load_text_encoder(model)
    emb = encoder.encode(list(task.source_texts) + list(task.target_texts), pooling=pooling, progress=False)
    return emb[: len(task.source_texts)], emb[len(task.source_texts):]
