"""Cross-domain transfer for recommendation: tasks, strategies and their evaluation.

A :class:`CrossDomainTask` holds a *source* domain (all its interactions, as a user x item matrix)
and a *target* domain (a train/valid/test :class:`~translearn_lib.splits.Split`), with one shared
user index and separate item indices. Strategies implement ``fit(source, target_split)`` and
``score(users)`` over target items:

- :class:`TargetOnly`: matrix factorisation on the target alone (the baseline).
- :class:`JointMF`: CMF-style joint training, user factors shared by both domains.
- :class:`PretrainFinetune`: factorise the source, then fine-tune on the target with user factors
  pulled towards their pretrained values (an L2-SP penalty instead of a small learning rate).
- :class:`EMCDR`: learn a mapping from source user factors to target user factors on users seen in
  both, apply it to users new to the target.
- :class:`TextZeroShot` / :class:`TextBridge`: items of both domains live in one space given by a
  pretrained sentence encoder (:mod:`translearn_lib.encoders.text`), so a user profile built in the source
  scores target items with no target data at all; ``TextBridge`` learns the user factors on both
  domains and an optional collaborative offset per item (CTR-style).

All matrix factorisation here is implicit-feedback ALS (Hu, Koren and Volinsky 2008), written with
NumPy so a strategy fits in about a second on a laptop CPU and every strategy shares the same
learner: differences in the results come from what is transferred, not from the optimiser.

How the fixed defaults were chosen: on *validation* data only, never on test. Shop task
electronics -> clothing (default size), 10 % of the target data kept (by user and by interaction),
seeds 0-2, NDCG@10 on the validation rows of all target users (:func:`tuning_split`);
``benchmarks/cross_domain.py --tune`` reprints the grid. ``finetune_weight`` 1000 (grid 0-1e5),
EMCDR ``target_reg`` 5 and ``min_target`` 3 (grid 2-30 x 1-10), TextBridge ``offset_reg`` 3 (grid
1-100 and None). The ALS settings shared by all (16 factors, ``reg`` 30, ``alpha`` 2) are not tuned
per strategy; target-only tunes ``reg`` itself on every fit.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from translearn_lib import config, metrics
from translearn_lib.splits import Split, random_split

# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


@dataclass
class CrossDomainTask:
    """A source domain and a target domain with shared users.

    Attributes:
        name: short description, e.g. ``"shop: electronics -> clothing"``.
        source: csr (n_users, n_source_items), 1 where a user interacted with a source item.
        target: the target split; its user index is the shared one (``n_users`` rows).
        user_ids: original user id per shared index.
        source_item_ids: original item id per source item index (``target.item_ids`` for target).
        source_texts, target_texts: item descriptions aligned with the item indices (or None).
        info: extra facts (overlap counts, ...).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name: str
    source: sp.csr_matrix
    target: Split
    user_ids: np.ndarray
    source_item_ids: np.ndarray
    source_texts: list | None = None
    target_texts: list | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return self.target.n_users

    def shared_users(self) -> np.ndarray:
        """Indices of users with at least one source and one target interaction."""
        in_source = np.diff(self.source.indptr) > 0
        in_target = np.zeros(self.n_users, dtype=bool)
        for part in ("train", "valid", "test"):
            in_target[self.target.frame(part)["user"].to_numpy()] = True
        return np.flatnonzero(in_source & in_target)

    def __repr__(self) -> str:
        return (f"CrossDomainTask({self.name!r}: users={self.n_users:,}, source items="
                f"{self.source.shape[1]:,}, source interactions={self.source.nnz:,}, target={self.target})")


def make_task(source: pd.DataFrame, target: pd.DataFrame, name: str = "task", texts=None,
              ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """Build a cross-domain task from two interaction frames.

    The target frame is split per user (RecBole random 8:1:1, :func:`translearn_lib.splits.random_split`);
    the source frame is used whole for training. Users are indexed over the union of both frames.

    Args:
        source: frame with ``user_id``, ``item_id`` (source domain interactions).
        target: frame with ``user_id``, ``item_id`` (target domain interactions).
        name: a label for tables and plots.
        texts: optional ``pd.Series`` item_id -> description covering the items of both frames.
        ratios: target train/valid/test shares.
        seed: split seed.

    Returns:
        CrossDomainTask: the task.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    U, I = config.USER_COL, config.ITEM_COL
    for label, frame in (("source", source), ("target", target)):
        if not {U, I} <= set(frame.columns):
            raise ValueError(f"{label} frame needs columns {U!r} and {I!r}")
        if frame.empty:
            raise ValueError(f"{label} frame is empty")
    source = source.drop_duplicates([U, I])
    target = target.drop_duplicates([U, I])
    user_ids = np.union1d(source[U].unique(), target[U].unique())
    split = random_split(target, ratios=ratios, seed=seed)
    parts = []
    for part in ("train", "valid", "test"):
        frame = split.frame(part).copy()
        frame["user"] = np.searchsorted(user_ids, frame[U].to_numpy())
        parts.append(frame)
    tsplit = Split.from_frames(*parts, len(user_ids), split.n_items, user_ids, split.item_ids,
                               info={**split.info, "task": name})
    source_item_ids = np.sort(source[I].unique())
    rows = np.searchsorted(user_ids, source[U].to_numpy())
    cols = np.searchsorted(source_item_ids, source[I].to_numpy())
    smat = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(user_ids), len(source_item_ids)))
    src_texts = tgt_texts = None
    if texts is not None:
        texts = pd.Series(texts)
        src_texts = texts.reindex(source_item_ids).fillna("").astype(str).tolist()
        tgt_texts = texts.reindex(tsplit.item_ids).fillna("").astype(str).tolist()
    task = CrossDomainTask(name, smat, tsplit, user_ids, source_item_ids, src_texts, tgt_texts)
    task.info.update(n_shared_users=len(task.shared_users()),
                     n_target_users=int(np.unique(target[U]).size),
                     n_source_users=int(np.unique(source[U]).size))
    return task


def shop_task(shop, source: str = "electronics", target: str = "clothing", seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """A task from a :class:`~translearn_lib.datasets.shop.CrossDomainShop`.

    ``source``/``target`` are two domains (``"electronics" -> "clothing"``) or two platforms
    (``"mobile" -> "pc"``: same catalogue, purchases split by the device they were made on).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if source == target:
        raise ValueError("source and target must differ")
    texts = shop.items.set_index(config.ITEM_COL)["text"]
    if source in shop.platforms and target in shop.platforms:
        src, tgt = shop.platform(source), shop.platform(target)
    elif source in shop.domains and target in shop.domains:
        src, tgt = shop.domain(source), shop.domain(target)
    else:
        raise ValueError(f"source and target must both be domains {shop.domains} or both platforms "
                         f"{shop.platforms}, got {source!r} -> {target!r}")
    return make_task(src, tgt, name=f"shop: {source} -> {target}", texts=texts, seed=seed)


#: MovieLens genre groups: "talk" films (source) versus "genre" films (target), by first listed genre.
ML_SOURCE_GENRES = ("Comedy", "Drama", "Romance", "Musical", "Documentary")


def movielens_genre_task(ml, source_genres: Sequence[str] = ML_SOURCE_GENRES,
                         seed: int = config.DEFAULT_SEED) -> CrossDomainTask:
    """MovieLens-100K split into two domains by genre: shared users, disjoint movies.

    A movie belongs to the source when its first listed genre is in ``source_genres`` (by default
    comedies, dramas, romances, musicals, documentaries), otherwise to the target (action,
    adventure, crime, horror, sci-fi, ...). Every rating counts as an implicit interaction.

    Args:
        ml: the :class:`~translearn_lib.datasets.MovieLens` object.
        source_genres: genres whose movies form the source domain.
        seed: split seed.

    Returns:
        CrossDomainTask: with movie texts from :func:`translearn_lib.datasets.item_texts`.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    from translearn_lib.datasets import item_texts

    first = ml.items["genres"].map(lambda g: g[0] if len(g) else "")
    src_items = set(ml.items.loc[first.isin(list(source_genres)), config.ITEM_COL])
    in_src = ml.ratings[config.ITEM_COL].isin(src_items)
    texts = pd.Series(item_texts(ml.items), index=ml.items[config.ITEM_COL].to_numpy())
    return make_task(ml.ratings[in_src], ml.ratings[~in_src], texts=texts, seed=seed,
                     name="MovieLens: " + "/".join(g.lower() for g in source_genres[:2]) + "... -> other genres")


def subsample_target(split: Split, share: float, seed: int = config.DEFAULT_SEED, by: str = "interaction") -> Split:
    """Keep only a share of the target's training (and validation) data; test stays untouched.

    Args:
        split: the full target split.
        share: in (0, 1]; 1 returns the split unchanged.
        seed: sampling seed (the same seed keeps nested samples: 5 % is inside 10 %).
        by: ``"interaction"`` keeps each train/valid row with probability ``share`` (every user
            keeps a random part of their history); ``"user"`` keeps all rows of a share of users
            (the others become new to the target).

    Returns:
        Split: same index spaces, thinner train/valid; ``info["share"]`` records the share.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if by not in ("interaction", "user"):
        raise ValueError(f"by must be 'interaction' or 'user', got {by!r}")
    if share == 1:
        return split
    rng = np.random.default_rng(seed)
    parts = []
    user_u = rng.random(split.n_users)  # one uniform per user: nested samples across shares
    for part in ("train", "valid"):
        frame = split.frame(part)
        u = rng.random(len(frame)) if by == "interaction" else user_u[frame["user"].to_numpy()]
        parts.append(frame[u < share])
    return Split.from_frames(*parts, split.test, split.n_users, split.n_items, split.user_ids,
                             split.item_ids, info={**split.info, "share": share, "share_by": by})


def tuning_split(full: Split, sub: Split) -> Split:
    """Training data of a sub-sampled target with the *full* validation part, for choosing settings.

    With ``subsample_target(..., by="user")`` only the kept users have validation rows, while the
    test part covers every target user, most of them new to the target. Settings that matter for
    those new users (how strongly to hold on to the source, the mapping, the item offsets) cannot
    be judged on the kept users alone. This view keeps what the model may learn from (``sub.train``)
    and scores it on the validation rows of all users, so ``evaluate(model, view, part="valid")``
    measures the same population as the test part without touching test. Fit the model on ``sub``.

    Args:
        full: the full target split (``task.target``).
        sub: a :func:`subsample_target` of it.

    Returns:
        Split: ``train`` from ``sub``, ``valid`` and ``test`` from ``full``; ``seen("valid")`` masks
        only ``sub.train``.

    Raises:
        ValueError: the two splits do not share their index spaces.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if (full.n_users, full.n_items) != (sub.n_users, sub.n_items):
        raise ValueError(f"splits differ in shape: {(full.n_users, full.n_items)} vs {(sub.n_users, sub.n_items)}")
    return Split.from_frames(sub.train, full.valid, full.test, full.n_users, full.n_items, full.user_ids,
                             full.item_ids, info={**sub.info, "valid": "full"})


def same_topic_rate(source_emb: np.ndarray, target_emb: np.ndarray, source_labels, target_labels) -> float:
    """Share of target items whose nearest source item (by cosine) carries the same label.

    A quick check that an embedding space links two catalogues: with labels such as the shop's
    main topic, chance level is about one over the number of labels.

    Args:
        source_emb: (n_source, d) source item embeddings.
        target_emb: (n_target, d) target item embeddings.
        source_labels: (n_source,) label per source item.
        target_labels: (n_target,) label per target item.

    Returns:
        float: in [0, 1].

    Raises:
        ValueError: embeddings and labels do not line up, or either side is empty.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    S, Tg = np.asarray(source_emb, dtype=float), np.asarray(target_emb, dtype=float)
    ls, lt = np.asarray(source_labels), np.asarray(target_labels)
    if S.ndim != 2 or Tg.ndim != 2 or S.shape[1] != Tg.shape[1]:
        raise ValueError(f"embeddings must be 2-D with the same width, got {S.shape} and {Tg.shape}")
    if len(S) == 0 or len(Tg) == 0:
        raise ValueError("both sides need at least one item")
    if len(ls) != len(S) or len(lt) != len(Tg):
        raise ValueError(f"labels ({len(ls)}, {len(lt)}) must match embedding rows ({len(S)}, {len(Tg)})")
    S = S / np.maximum(np.linalg.norm(S, axis=1, keepdims=True), 1e-12)
    Tg = Tg / np.maximum(np.linalg.norm(Tg, axis=1, keepdims=True), 1e-12)
    nearest = (Tg @ S.T).argmax(axis=1)
    return float((ls[nearest] == lt).mean())


def evaluate(model, split: Split, k: int = 10, users=None, part: str = "test") -> dict:
    """Full-ranking metrics of a fitted strategy on the target split (train/valid masked).

    Args:
        model: a fitted strategy with ``score(users)``.
        split: the target split the model was fitted on (its train/valid are masked).
        k: cut-off.
        users: evaluate only these user indices (default: every user with a test interaction).
        part: ``"test"`` or ``"valid"``.

    Returns:
        dict: ``recall``, ``precision``, ``ndcg``, ``hit``, ``mrr`` at ``k`` and ``n_users``
        (same protocol as ``recommenders.evaluate``, via ``evaluate_scores``).

    Raises:
        ValueError: ``part`` is not ``"test"`` or ``"valid"`` (scoring the training part would
            measure memorisation: nothing is masked and the model saw every relevant item).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    from translearn_lib.recommenders.base import evaluate_scores

    return evaluate_scores(model.score, split, k=k, part=part, users=users)


# --------------------------------------------------------------------------------------------
# Implicit ALS building blocks (vectorised over users / items)
# --------------------------------------------------------------------------------------------


def _outer(factors: np.ndarray) -> np.ndarray:
    """Row-wise outer products flattened: (n, k) -> (n, k*k)."""
    return np.einsum("ik,il->ikl", factors, factors).reshape(len(factors), -1)


def als_solve(R: sp.csr_matrix, Y: np.ndarray, reg: float, alpha: float, rows_mask=None,
              prior=None, prior_weight=0.0, extra=None, y_mask=None) -> np.ndarray:
    """One implicit-ALS half step: the best factors for every row of ``R`` given fixed ``Y``.

    Minimises, for each row u, ``sum_i c_ui (r_ui - x_u . y_i)^2 + reg |x_u|^2 + prior_weight |x_u - prior_u|^2``
    with confidence ``c_ui = 1 + alpha`` on observed entries and 1 elsewhere. Several blocks
    (domains) can share the rows: pass the others as ``extra = [(R2, Y2, weight2, rows_mask2), ...]``.

    Args:
        R: csr (n_rows, n_cols) binary observations.
        Y: (n_cols, k) fixed factors of the columns.
        reg: L2 regularisation.
        alpha: confidence of an observed entry.
        rows_mask: bool (n_rows,) rows that take part in this block (default: rows with any
            observation); the others ignore it (a missing domain is unknown, not negative).
        prior: optional (n_rows, k) values to pull the solution towards (fine-tuning).
        prior_weight: strength of that pull (scalar or (n_rows,) array).
        extra: further blocks ``(R, Y, weight, rows_mask)`` over the same rows.
        y_mask: bool (n_cols,) columns whose unobserved entries count as negatives (default all;
            in an item step, pass the users active in this domain).

    Returns:
        np.ndarray: (n_rows, k) factors.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    k = Y.shape[1]
    n = R.shape[0]
    A = np.zeros((n, k * k))
    b = np.zeros((n, k))
    for Rb, Yb, w, mask, ym in [(R, Y, 1.0, rows_mask, y_mask)] + [tuple(e) + (None,) * (5 - len(e)) for e in extra or []]:
        if mask is None:
            mask = np.diff(Rb.indptr) > 0
        mask = np.asarray(mask, dtype=float)[:, None]
        Yg = Yb if ym is None else Yb[np.asarray(ym, dtype=bool)]
        A += w * mask * ((Yg.T @ Yg).ravel()[None, :] + alpha * (Rb @ _outer(Yb)))
        b += w * mask * ((1 + alpha) * (Rb @ Yb))
    A = A.reshape(n, k, k) + reg * np.eye(k)[None]
    if prior is not None:
        pw = np.broadcast_to(np.asarray(prior_weight, dtype=float), (n,))
        A = A + pw[:, None, None] * np.eye(k)[None]
        b = b + pw[:, None] * prior
    return np.linalg.solve(A, b[..., None])[..., 0]


def _init(rng, n, k, scale=0.1):
    return rng.normal(0, scale / np.sqrt(k), size=(n, k))


def _fingerprint(R) -> tuple:
    """Cheap identity of a sparse matrix, so cached source factors are reused only for the same source."""
    R = sp.csr_matrix(R)
    return (R.shape, R.nnz, int(R.indices.sum()), int(R.indptr.sum()))


def _popularity(split: Split) -> np.ndarray:
    counts = np.asarray(split.matrix("train").sum(axis=0)).ravel()
    return counts / (counts.max() + 1.0)


class _Strategy:
    """Common parts: hyper-parameters, popularity tie-break, ``score``/``recommend``."""

    name = "strategy"

    def __init__(self, factors: int = 16, reg: float = 30.0, alpha: float = 2.0, iters: int = 8,
                 seed: int = config.DEFAULT_SEED):
        self.factors, self.reg, self.alpha, self.iters, self.seed = factors, reg, alpha, iters, seed
        self.user_factors = self.item_factors = None

    def _finish(self, split: Split):
        # a tiny popularity term only breaks ties (users with no factors get the popular items)
        self._pop = 1e-6 * _popularity(split)
        return self

    def score(self, users=None) -> np.ndarray:
        """Scores of target items, shape (len(users), n_target_items)."""
        if self.user_factors is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(source, target_split) first")
        users = np.arange(len(self.user_factors)) if users is None else np.asarray(users)
        return self.user_factors[users] @ self.item_factors.T + self._pop[None, :]

    def recommend(self, users, split: Split, k: int = 10) -> np.ndarray:
        """Top-k target item indices per user, items seen in train/valid masked."""
        users = np.asarray(users)
        return metrics.topk(self.score(users), k, exclude=split.seen("test")[users])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(factors={self.factors}, reg={self.reg}, alpha={self.alpha})"


def factorize(R: sp.csr_matrix, factors: int = 16, reg: float = 30.0, alpha: float = 2.0, iters: int = 8,
              seed: int = config.DEFAULT_SEED):
    """Implicit ALS on one matrix: returns ``(user_factors, item_factors)``.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    rng = np.random.default_rng(seed)
    R = sp.csr_matrix(R, dtype=np.float64)
    Rt = R.T.tocsr()
    Q = _init(rng, R.shape[1], factors)
    P = np.zeros((R.shape[0], factors))
    for _ in range(iters):
        P = als_solve(R, Q, reg, alpha)
        Q = als_solve(Rt, P, reg, alpha)
    P = als_solve(R, Q, reg, alpha)
    return P, Q


class Popularity(_Strategy):
    """Most-bought target items for everyone (the floor any strategy must beat).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "popularity"

    def fit(self, source, target: Split):
        self.user_factors = np.zeros((target.n_users, 1))
        self.item_factors = np.zeros((target.n_items, 1))
        self._pop = _popularity(target)
        return self


class TargetOnly(_Strategy):
    """Implicit ALS on the target training data alone (the no-transfer baseline).

    The baseline gets the benefit of the doubt: with ``reg_grid`` it refits for each penalty and
    keeps the one with the best validation NDCG@10 on every fit (the transfer strategies use fixed
    settings, chosen once on validation data: see the module docstring).

    Args:
        reg_grid: penalties to try (``None``: use ``reg``).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "target-only"

    def __init__(self, reg_grid: Sequence[float] | None = (3.0, 10.0, 30.0), **kw):
        super().__init__(**kw)
        self.reg_grid = reg_grid

    def fit(self, source, target: Split):
        R = target.matrix("train")
        grid = list(self.reg_grid or []) if len(target.valid) else []
        best = (-1.0, self.reg, None)
        for reg in grid:
            self.user_factors, self.item_factors = factorize(R, self.factors, reg, self.alpha, self.iters, self.seed)
            ndcg = evaluate(self._finish(target), target, part="valid")["ndcg"]
            if ndcg > best[0]:
                best = (ndcg, reg, (self.user_factors, self.item_factors))
        self.chosen_reg = best[1]
        if best[2] is None:
            best = (None, self.reg, factorize(R, self.factors, self.reg, self.alpha, self.iters, self.seed))
        self.user_factors, self.item_factors = best[2]
        return self._finish(target)


class JointMF(_Strategy):
    """CMF-style joint factorisation: one user factor per user for both domains.

    Minimises ``source_weight * L(source) + L(target)`` where both losses use the same user
    factors and each domain has its own item factors. A user missing from a domain is left out of
    that domain's loss (unknown is not negative).

    Args:
        source_weight: weight of the source loss (0 gives :class:`TargetOnly`).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "joint (CMF)"

    def __init__(self, source_weight: float = 1.0, **kw):
        super().__init__(**kw)
        self.source_weight = source_weight

    def fit(self, source: sp.csr_matrix, target: Split):
        rng = np.random.default_rng(self.seed)
        S = sp.csr_matrix(source, dtype=np.float64)
        T = sp.csr_matrix(target.matrix("train"), dtype=np.float64)
        St, Tt = S.T.tocsr(), T.T.tocsr()
        Qs, Qt = _init(rng, S.shape[1], self.factors), _init(rng, T.shape[1], self.factors)
        w, reg, a = self.source_weight, self.reg, self.alpha
        act_s, act_t = np.diff(S.indptr) > 0, np.diff(T.indptr) > 0
        for _ in range(self.iters):
            P = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
            Qs = als_solve(St, P, reg / max(w, 1e-12), a, y_mask=act_s)
            Qt = als_solve(Tt, P, reg, a, y_mask=act_t)
        self.user_factors = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
        self.item_factors, self.source_item_factors = Qt, Qs
        return self._finish(target)


class PretrainFinetune(_Strategy):
    """Pretrain on the source, migrate the user factors, fine-tune on the target.

    1. Factorise the source alone.  2. Migrate: each user's target factor starts at their source
    factor; target item factors are solved from those.  3. Fine-tune: a few ALS rounds on the
    target where a penalty ``finetune_weight * |p_u - p_u^source|^2`` keeps users close to what
    was learnt (the closed-form cousin of fine-tuning with a small learning rate and few epochs).
    Users with no target data keep their source factor: they get zero-shot recommendations.

    Args:
        finetune_weight: pull towards the pretrained factors (0: free fine-tuning). The default
            1000 (almost frozen) had the best validation NDCG@10 with 10 % of the target users on the
            shop (0.097 averaged over seeds 0-2, against 0.093 for 100 and 0.059 for 0; by
            interaction 0.100 against 0.099 and 0.066); with plenty of target data a looser hold is
            better, as the chapter's learning curves show.
        finetune_iters: ALS rounds on the target.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "pretrain + fine-tune"

    def __init__(self, finetune_weight: float = 1000.0, finetune_iters: int = 2, **kw):
        super().__init__(**kw)
        self.finetune_weight, self.finetune_iters = finetune_weight, finetune_iters
        self.source_user_factors = None

    def pretrain(self, source: sp.csr_matrix):
        """Step 1: factorise the source domain (kept in ``source_user_factors``)."""
        self.source_user_factors, self.source_item_factors = factorize(
            source, self.factors, self.reg, self.alpha, self.iters, self.seed)
        self._source_key = _fingerprint(source)
        return self

    def fit(self, source, target: Split):
        if self.source_user_factors is None or getattr(self, "_source_key", None) != _fingerprint(source):
            self.pretrain(source)
        P0 = self.source_user_factors
        T = sp.csr_matrix(target.matrix("train"), dtype=np.float64)
        Tt = T.T.tocsr()
        act_t = np.diff(T.indptr) > 0
        P = P0.copy()  # step 2: migrate
        for _ in range(self.finetune_iters):  # step 3: fine-tune
            Qt = als_solve(Tt, P, self.reg, self.alpha, y_mask=act_t)
            P = als_solve(T, Qt, self.reg, self.alpha, prior=P0, prior_weight=self.finetune_weight)
        self.user_factors, self.item_factors = P, als_solve(Tt, P, self.reg, self.alpha, y_mask=act_t)
        return self._finish(target)


def fit_linear_mapping(X: np.ndarray, Y: np.ndarray, reg: float = 1.0) -> np.ndarray:
    """Ridge regression ``Y ~ [X, 1] W``: the linear EMCDR mapping between embedding spaces.

    Args:
        X: (n, d_in) source embeddings of the anchor users.
        Y: (n, d_out) their target embeddings.
        reg: L2 penalty on the weights (not on the bias).

    Returns:
        np.ndarray: W of shape (d_in + 1, d_out); the last row is the bias.
        Apply with :func:`apply_linear_mapping`.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be 2-D with the same number of rows, got {X.shape} and {Y.shape}")
    Xb = np.hstack([X, np.ones((len(X), 1))])
    penalty = reg * np.eye(Xb.shape[1])
    penalty[-1, -1] = 0.0  # do not shrink the bias
    return np.linalg.solve(Xb.T @ Xb + penalty, Xb.T @ Y)


def apply_linear_mapping(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Apply a mapping from :func:`fit_linear_mapping`: ``[X, 1] @ W``.

    Args:
        X: (n, d_in) source embeddings.
        W: (d_in + 1, d_out) weights with the bias in the last row.

    Returns:
        np.ndarray: (n, d_out) mapped embeddings.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    X = np.asarray(X, dtype=float)
    return np.hstack([X, np.ones((len(X), 1))]) @ W


class EMCDR(_Strategy):
    """Embedding-and-mapping (Man et al. 2017): map source user factors into the target space.

    1. Factorise source and target separately.  2. On *anchor* users (in the source and with at
    least ``min_target`` target training interactions) fit a ridge mapping source factor ->
    target factor.  3. Users with source data but fewer than ``min_target`` target interactions
    get the mapped factor; the target item factors are kept.

    Args:
        min_target: target interactions that make a user an anchor (and keep their own factor).
            3 was best on validation when every user keeps 10 % of their target interactions
            (NDCG@10 0.078 over seeds 0-2, against 0.062 for 1 and 0.061 for 5); when 10 % of users
            keep their whole history, 1, 3 and 5 are within 0.001.
        mapping_reg: ridge penalty of the mapping (source factors are scaled to unit RMS norm).
        target_reg: ALS penalty of the target factorisation (``None``: ``reg``). Lighter than the
            baseline's: the mapping can only carry what the anchors' target factors express. On
            validation 2, 5 and 10 are within 0.003 NDCG@10 under both protocols (10 is best by user,
            2 by interaction; 5 is in between); 30 falls to about 0.06.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "EMCDR mapping"

    def __init__(self, min_target: int = 3, mapping_reg: float = 1.0, target_reg: float | None = 5.0, **kw):
        super().__init__(**kw)
        self.min_target, self.mapping_reg, self.target_reg = min_target, mapping_reg, target_reg
        self.source_user_factors = None

    def fit(self, source, target: Split):
        if self.source_user_factors is None or getattr(self, "_source_key", None) != _fingerprint(source):
            self.source_user_factors, _ = factorize(source, self.factors, self.reg, self.alpha, self.iters, self.seed)
            self._source_key = _fingerprint(source)
        Ps = self.source_user_factors
        T = target.matrix("train")
        Pt, Qt = factorize(T, self.factors, self.reg if self.target_reg is None else self.target_reg,
                           self.alpha, self.iters, self.seed)
        n_t = np.diff(T.indptr)
        in_source = np.diff(sp.csr_matrix(source).indptr) > 0
        anchors = in_source & (n_t >= self.min_target)
        P = Pt.copy()
        cold = in_source & ~anchors
        self.n_anchors = int(anchors.sum())
        if self.n_anchors >= 2:
            # put source factors on unit scale so that mapping_reg means the same on every dataset
            self.input_scale = float(np.sqrt((Ps[anchors] ** 2).sum(axis=1).mean())) or 1.0
            self.mapping = fit_linear_mapping(Ps[anchors] / self.input_scale, Pt[anchors], self.mapping_reg)
            P[cold] = apply_linear_mapping(Ps[cold] / self.input_scale, self.mapping)
        self.user_factors, self.item_factors = P, Qt
        return self._finish(target)


# --------------------------------------------------------------------------------------------
# Text bridge
# --------------------------------------------------------------------------------------------


def center_by_domain(source_emb: np.ndarray, target_emb: np.ndarray):
    """Subtract each domain's mean embedding and re-normalise rows.

    Descriptions of one domain share words ("paperback", "machine washable") that pull all of
    its items together; removing each domain's mean keeps what the items are *about*. This is
    the first-moment version of domain alignment (CORAL matches second moments as well).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    out = []
    for emb in (source_emb, target_emb):
        e = np.asarray(emb, dtype=float) - np.asarray(emb, dtype=float).mean(axis=0, keepdims=True)
        out.append(e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12))
    return out[0], out[1]


def text_profile_scores(history: sp.csr_matrix, history_emb: np.ndarray, candidate_emb: np.ndarray) -> np.ndarray:
    """Zero-shot text scores: cosine between each user's mean history embedding and each candidate.

    Args:
        history: csr (n_users, n_history_items) of the items each user interacted with.
        history_emb: (n_history_items, d) embeddings of those items.
        candidate_emb: (n_candidates, d) embeddings of the items to rank.

    Returns:
        np.ndarray: (n_users, n_candidates); users with no history score 0 everywhere.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    history = sp.csr_matrix(history, dtype=np.float64)
    profile = history @ np.asarray(history_emb, dtype=float)
    norms = np.linalg.norm(profile, axis=1, keepdims=True)
    profile = np.divide(profile, norms, out=np.zeros_like(profile), where=norms > 0)
    cand = np.asarray(candidate_emb, dtype=float)
    cand = cand / np.maximum(np.linalg.norm(cand, axis=1, keepdims=True), 1e-12)
    return profile @ cand.T


class TextZeroShot(_Strategy):
    """Rank target items by similarity to the user's history in a shared text space (no training).

    The user profile is the mean embedding of their source items plus (with weight
    ``target_weight`` per item) their target training items; items are scored by cosine.

    Args:
        source_emb, target_emb: (n_items, d) text embeddings aligned with the task's items.
        center: subtract each domain's mean embedding first (:func:`center_by_domain`).
        target_weight: weight of a target item relative to a source item in the profile.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "text zero-shot"

    def __init__(self, source_emb, target_emb, center: bool = True, target_weight: float = 1.0, **kw):
        super().__init__(**kw)
        self.source_emb, self.target_emb = np.asarray(source_emb), np.asarray(target_emb)
        self.center, self.target_weight = center, target_weight

    def fit(self, source, target: Split):
        Es, Et = (center_by_domain(self.source_emb, self.target_emb) if self.center
                  else (self.source_emb, self.target_emb))
        history = sp.hstack([sp.csr_matrix(source, dtype=np.float64),
                             self.target_weight * target.matrix("train").astype(np.float64)]).tocsr()
        E = np.vstack([Es, Et])
        norms = np.linalg.norm(history @ E, axis=1, keepdims=True)
        self.user_factors = np.divide(history @ E, norms, out=np.zeros((history.shape[0], E.shape[1])),
                                      where=norms > 0)
        self.item_factors = Et
        return self._finish(target)


def _pca(E: np.ndarray, k: int) -> np.ndarray:
    """Project rows of E on their top-k principal directions, scaled to unit average norm."""
    Ec = E - E.mean(axis=0, keepdims=True)
    # eigenvectors of the (d x d) covariance: much cheaper than an SVD of the (n x d) matrix
    vals, vecs = np.linalg.eigh(Ec.T @ Ec)
    top = vecs[:, np.argsort(vals)[::-1][:k]]
    top = top * np.sign(top[np.abs(top).argmax(axis=0), np.arange(top.shape[1])])  # fix the sign
    Z = Ec @ top
    return Z / np.sqrt((Z ** 2).sum(axis=1).mean())


class TextBridge(_Strategy):
    """Item factors from text, user factors learnt on both domains (collaborative topic regression).

    Item vectors are the text embeddings of both domains (centred per domain, reduced to
    ``factors`` dimensions by one shared PCA), so a target item has a vector before anyone buys
    it. User factors are fitted by ALS on source and target together against these fixed item
    vectors. With ``offset_reg`` finite, each target item also learns a collaborative offset
    ``q_i = text_i + d_i`` (penalised by ``offset_reg``), as in CTR (Wang and Blei 2011).

    Args:
        source_emb, target_emb: (n_items, d) text embeddings aligned with the task's items.
        source_weight: weight of the source loss.
        offset_reg: penalty on the target item offsets (``None``: text only). On validation
            (shop, seeds 0-2) 3 scored NDCG@10 0.103 with 10 % of users kept (1: 0.103, 10: 0.095,
            text only: 0.066) and 0.098 with 10 % of interactions kept (1: 0.092, 10: 0.090).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "text bridge (CTR)"

    def __init__(self, source_emb, target_emb, source_weight: float = 1.0, offset_reg: float | None = 3.0,
                 center: bool = True, **kw):
        kw.setdefault("iters", 6)
        super().__init__(**kw)
        self.source_emb, self.target_emb = np.asarray(source_emb), np.asarray(target_emb)
        self.source_weight, self.offset_reg, self.center = source_weight, offset_reg, center

    def fit(self, source, target: Split):
        key = (self.factors, self.center)
        if getattr(self, "_pca_key", None) != key:  # the text side never changes between fits: cache it
            Es, Et = (center_by_domain(self.source_emb, self.target_emb) if self.center
                      else (self.source_emb, self.target_emb))
            self._pca_key, self._Z = key, _pca(np.vstack([Es, Et]), self.factors)
        Es, Z = self.source_emb, self._Z
        Qs, Qt0 = Z[:len(Es)], Z[len(Es):]
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

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    if task.source_texts is None or task.target_texts is None:
        raise ValueError(f"task {task.name!r} has no item texts; build it with texts=...")
    from translearn_lib.encoders.text import load_text_encoder

    encoder = load_text_encoder(model)
    emb = encoder.encode(list(task.source_texts) + list(task.target_texts), pooling=pooling, progress=False)
    return emb[: len(task.source_texts)], emb[len(task.source_texts):]


# --------------------------------------------------------------------------------------------
# Running a comparison
# --------------------------------------------------------------------------------------------


def default_strategies(source_emb=None, target_emb=None, seed: int = config.DEFAULT_SEED, **kw) -> dict:
    """The chapter's line-up, name -> unfitted strategy (text strategies only with embeddings).

    Args:
        source_emb, target_emb: item text embeddings (see :func:`task_embeddings`), or None.
        seed: ALS initialisation seed.
        **kw: ALS settings shared by all (``factors``, ``reg``, ``alpha``, ``iters``).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    kw = dict(kw, seed=seed)
    out = {"popularity": Popularity(**kw), "target-only": TargetOnly(**kw), "joint (CMF)": JointMF(**kw),
           "pretrain + fine-tune": PretrainFinetune(**kw), "EMCDR mapping": EMCDR(**kw)}
    if source_emb is not None and target_emb is not None:
        out["text zero-shot"] = TextZeroShot(source_emb, target_emb, **kw)
        out["text bridge (CTR)"] = TextBridge(source_emb, target_emb, **kw)
    return out


def learning_curve(task: CrossDomainTask, strategies: dict, shares=(0.05, 0.1, 0.25, 0.5, 1.0),
                   seed: int = config.DEFAULT_SEED, by: str = "user", k: int = 10, users=None) -> pd.DataFrame:
    """Fit every strategy on growing shares of the target data and measure NDCG@k on the test part.

    The test interactions are the same for every share, so the points are comparable; pretrained
    source factors are reused across shares (only the target side changes).

    Args:
        task: the cross-domain task.
        strategies: name -> strategy (e.g. :func:`default_strategies`).
        shares: target shares in (0, 1].
        seed: subsampling seed.
        by: ``"user"`` or ``"interaction"`` (see :func:`subsample_target`).
        k: cut-off.
        users: evaluate on these user indices only (default: all users with test interactions).

    Returns:
        pd.DataFrame: one row per (strategy, share) with ``ndcg``, ``recall``, ``hit``, ``seconds``.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    import time

    rows = []
    for share in shares:
        sub = subsample_target(task.target, share, seed=seed, by=by)
        for name, model in strategies.items():
            start = time.perf_counter()
            model.fit(task.source, sub)
            res = evaluate(model, sub, k=k, users=users)
            rows.append({"strategy": name, "share": share, "ndcg": res["ndcg"], "recall": res["recall"],
                         "hit": res["hit"], "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The outline's pipeline with a Keras model: train on source -> migrate -> fine-tune -> recommend
# --------------------------------------------------------------------------------------------

from translearn_lib.recommenders import TwoTower  # noqa: E402  (imports Keras lazily)


class MigratedTwoTower(TwoTower):
    """A :class:`~translearn_lib.recommenders.TwoTower` for the target that starts from a source model.

    Step 2 of "train on source -> migrate -> fine-tune on target -> recommend": the user embedding
    table (users are shared) and the text projection (BERT space -> recommendation space, the same
    for every domain) are copied from the source model; target item ID embeddings, if used, start
    at zero so that a new item is first scored by its text alone. Step 3 is ordinary training on
    the target for few epochs. Layers named in ``freeze`` are not updated (feature extraction
    instead of fine-tuning). The learning rate is worth choosing on validation data: the target
    item ids start at zero and must be learnt within those few epochs, so the gentle default can
    be too slow (on the chapter's shop task 5e-3, the source model's rate, beat 1e-3).

    Args:
        pretrained: a fitted ``TwoTower`` trained on the source domain (``use_item_ids=False``
            or ``True``; only user and projection weights are carried over).
        item_features: (n_target_items, d_text) text embeddings of the target items.
        freeze: layer names to keep fixed, from ``("user_emb", "text_projection")``.
        epochs, lr: fine-tuning budget (defaults: short and gentle; choose ``lr`` on validation).
        **kw: other ``TwoTower`` arguments (``use_item_ids``, ``batch_size``, ``reg``, ``seed``).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "migrated TwoTower"
    COPIED = ("user_emb", "text_projection")

    def __init__(self, pretrained: TwoTower, item_features, freeze: Sequence[str] = (), epochs: int = 10,
                 lr: float = 1e-3, **kw):
        if getattr(pretrained, "net_", None) is None:
            raise ValueError("pretrained must be a fitted TwoTower (call fit on the source first)")
        unknown = set(freeze) - set(self.COPIED)
        if unknown:
            raise ValueError(f"can only freeze {self.COPIED}, got {sorted(unknown)}")
        kw.setdefault("use_item_ids", True)
        dim = kw.pop("dim", pretrained.dim)
        if dim != pretrained.dim:
            raise ValueError(f"dim must match the pretrained model ({pretrained.dim}), got {dim}")
        super().__init__(item_features, dim=dim, epochs=epochs, lr=lr, **kw)
        self.pretrained, self.freeze = pretrained, tuple(freeze)

    def _build(self, X, data):
        import numpy as _np

        net = super()._build(X, data)
        net(_np.zeros((1, 3), dtype="int32"))  # create the weights
        source = {layer.name: layer for layer in self.pretrained.net_.layers}
        if source["user_emb"].get_weights()[0].shape[0] != X.shape[0]:
            raise ValueError("source and target must share the user index (build both from one CrossDomainTask)")
        for layer in net.layers:
            if layer.name in self.COPIED:
                layer.set_weights(source[layer.name].get_weights())
                layer.trainable = layer.name not in self.freeze
            elif layer.name == "item_emb":
                layer.set_weights([_np.zeros_like(w) for w in layer.get_weights()])
        return net


def plot_learning_curves(curve: pd.DataFrame, metric: str = "ndcg", ax=None, title: str | None = None):
    """Plot ``metric`` against the target share, one line per strategy (log-scaled share axis).

    Args:
        curve: output of :func:`learning_curve` (several seeds are averaged).
        metric: column to plot.
        ax: matplotlib axes (default: a new figure).
        title: axes title.

    Returns:
        matplotlib.axes.Axes: the axes.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    mean = curve.groupby(["strategy", "share"], sort=False)[metric].mean().unstack("share")
    styles = {"popularity": ":", "target-only": "--"}
    for name, row in mean.iterrows():
        ax.plot(row.index * 100, row.values, styles.get(name, "-"), marker="o", ms=4, label=name,
                color="black" if name == "target-only" else None, lw=2.2 if name == "target-only" else 1.5)
    ax.set_xscale("log")
    ax.set_xticks(mean.columns * 100)
    ax.set_xticklabels([f"{s:.0%}" for s in mean.columns])
    ax.set_xlabel("share of target data available")
    ax.set_ylabel(f"{metric.upper()}@10 on the target test set")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
