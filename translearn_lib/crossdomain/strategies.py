"""Cross-domain strategies built on user and item IDs, and how a strategy is scored.

A strategy implements ``fit(source, target_split)`` and ``score(users)`` over the target items
(:class:`CrossDomainStrategy`); :func:`evaluate_strategy` ranks every target item for each user.

- :class:`TargetPopularity`: the most bought target items for everyone (the floor).
- :class:`TargetOnly`: matrix factorisation on the target alone (the baseline).
- :class:`SharedItemIds`: where the domains sell the same products, match them by id and factorise
  the merged interactions (the baseline a practitioner tries first on two platforms of one shop).
- :class:`JointMF`: CMF-style joint training, user factors shared by both domains.
- :class:`PretrainFinetune`: factorise the source, then fine-tune on the target with user factors
  pulled towards their pretrained values (an L2-SP penalty instead of a small learning rate).
- :class:`EMCDR`: learn a mapping from source user factors to target user factors on users seen in
  both (:func:`fit_linear_mapping`), apply it to users new to the target.

All of them learn with the implicit ALS of :mod:`translearn_lib.crossdomain.als` and share its
settings (16 factors, ``reg`` 30, ``alpha`` 2), which are not tuned per strategy; target-only tunes
``reg`` itself on every fit. The transfer strategies' own defaults were chosen on validation data
only, never on test, with ``benchmarks/cross_domain.py --tune`` (shop electronics -> clothing, 10 %
of the target data, :func:`translearn_lib.crossdomain.task.tuning_split`).

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from translearn_lib import config, metrics
from translearn_lib.splits import Split

from .als import als_solve, factorize, init_factors, matrix_fingerprint


def evaluate_strategy(model, split: Split, k: int = 10, users=None, part: str = "test") -> dict:
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


def _popularity(split: Split) -> np.ndarray:
    counts = np.asarray(split.matrix("train").sum(axis=0)).ravel()
    return counts / (counts.max() + 1.0)


class CrossDomainStrategy:
    """Common parts of the strategies: ALS settings, popularity tie-break, ``score``/``recommend``.

    A subclass implements ``fit(source, target_split)``: it sets ``user_factors`` (one row per
    shared user) and ``item_factors`` (one row per target item) and returns ``self._finish(target)``.

    Args:
        factors: number of ALS factors.
        reg: L2 regularisation of the ALS steps.
        alpha: confidence of an observed interaction.
        iters: ALS rounds.
        seed: seed of the random initial factors.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "strategy"

    def __init__(self, factors: int = 16, reg: float = 30.0, alpha: float = 2.0, iters: int = 8,
                 seed: int = config.DEFAULT_SEED):
        self.factors, self.reg, self.alpha, self.iters, self.seed = factors, reg, alpha, iters, seed
        self.user_factors = self.item_factors = None

    def _factorize(self, R, reg: float | None = None):
        """:func:`~translearn_lib.crossdomain.als.factorize` with this strategy's settings."""
        return factorize(R, self.factors, self.reg if reg is None else reg, self.alpha, self.iters, self.seed)

    def _finish(self, split: Split):
        # a tiny popularity term only breaks ties (users with no factors get the popular items)
        self._pop = 1e-6 * _popularity(split)
        return self

    def score(self, users=None) -> np.ndarray:
        """Scores of target items, shape (len(users), n_target_items).

        Args:
            users: user indices (default: every user).

        Returns:
            np.ndarray: ``user_factors[users] @ item_factors.T`` plus the popularity tie-break.

        Raises:
            RuntimeError: the strategy is not fitted.
        """
        if self.user_factors is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(source, target_split) first")
        users = np.arange(len(self.user_factors)) if users is None else np.asarray(users)
        return self.user_factors[users] @ self.item_factors.T + self._pop[None, :]

    def recommend(self, users, split: Split, k: int = 10) -> np.ndarray:
        """Top-k target item indices per user, items seen in train/valid masked.

        Args:
            users: user indices.
            split: the target split (its train and valid items are masked).
            k: number of items per user.

        Returns:
            np.ndarray: (len(users), k) item indices, best first.
        """
        users = np.asarray(users)
        return metrics.topk(self.score(users), k, exclude=split.seen("test")[users])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(factors={self.factors}, reg={self.reg}, alpha={self.alpha})"


class TargetPopularity(CrossDomainStrategy):
    """Most-bought target items for everyone (the floor any strategy must beat).

    Not :class:`translearn_lib.recommenders.Popularity`: this one follows the cross-domain interface
    (``fit(source, target_split)``) and ignores the source.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "popularity"

    def fit(self, source, target: Split):
        self.user_factors = np.zeros((target.n_users, 1))
        self.item_factors = np.zeros((target.n_items, 1))
        self._pop = _popularity(target)
        return self


class TargetOnly(CrossDomainStrategy):
    """Implicit ALS on the target training data alone (the no-transfer baseline).

    The baseline gets the benefit of the doubt: with ``reg_grid`` it refits for each penalty and
    keeps the one with the best validation NDCG@10 on every fit (the transfer strategies use fixed
    settings, chosen once on validation data with ``benchmarks/cross_domain.py --tune``).

    Args:
        reg_grid: penalties to try (``None``: use ``reg``).
        **kw: ALS settings (see :class:`CrossDomainStrategy`).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "target-only"

    def __init__(self, reg_grid: Sequence[float] | None = (3.0, 10.0, 30.0), **kw):
        super().__init__(**kw)
        self.reg_grid = reg_grid

    def _training_matrix(self, source, target: Split):
        """The user x target-item matrix ALS factorises (here: the target's training part)."""
        return target.matrix("train")

    def fit(self, source, target: Split):
        R = self._training_matrix(source, target)
        grid = list(self.reg_grid or []) if len(target.valid) else []
        best = (-1.0, self.reg, None)
        for reg in grid:
            self.user_factors, self.item_factors = self._factorize(R, reg)
            ndcg = evaluate_strategy(self._finish(target), target, part="valid")["ndcg"]
            if ndcg > best[0]:
                best = (ndcg, reg, (self.user_factors, self.item_factors))
        self.chosen_reg = best[1]
        if best[2] is None:
            best = (None, self.reg, self._factorize(R))
        self.user_factors, self.item_factors = best[2]
        return self._finish(target)


class SharedItemIds(TargetOnly):
    """Match items by id across domains and factorise the merged interactions (no transfer model at all).

    When the two domains sell the *same* products (a mobile app and a PC site of one shop) and both
    keep the shop's product ids, the first thing to try is to treat them as one catalogue: map each
    source interaction onto the source item's target twin, add it to the target's training data and
    run the target-only ALS (penalty chosen on validation, as :class:`TargetOnly`) on the union.
    With ``mask_owned`` a user's source items are ranked last on the target: a product bought on
    one platform is not bought again on the other. Only possible where ids match: two different
    categories (electronics and clothing) have no twins, which is where a text bridge is needed.

    Args:
        item_map: int (n_source_items,), the target index of each source item's twin, ``-1`` if
            none (:meth:`~translearn_lib.crossdomain.task.CrossDomainTask.matched_items`).
        mask_owned: rank target items whose source twin the user already has last.
        reg_grid: penalties to try on validation (``None``: use ``reg``).
        **kw: ALS settings (see :class:`CrossDomainStrategy`).

    Raises:
        ValueError: ``item_map`` is not 1-D, matches no item, or points outside the target catalogue
            (at fit time: its length differs from the number of source items).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "shared item ids"

    def __init__(self, item_map, mask_owned: bool = True, reg_grid: Sequence[float] | None = (3.0, 10.0, 30.0), **kw):
        super().__init__(reg_grid=reg_grid, **kw)
        item_map = np.asarray(item_map)
        if item_map.ndim != 1 or not np.issubdtype(item_map.dtype, np.integer):
            raise ValueError(f"item_map must be a 1-D integer array (target index or -1 per source item), "
                             f"got dtype {item_map.dtype} and shape {item_map.shape}")
        if not (item_map >= 0).any():
            raise ValueError("item_map matches no source item to a target item: the domains share no item ids, "
                             "so use a transfer strategy (CMF, EMCDR, text bridge) instead")
        self.item_map, self.mask_owned = item_map.astype(np.int64), bool(mask_owned)

    def owned(self, source, n_target_items: int) -> sp.csr_matrix:
        """Source interactions moved onto the target twins: csr (n_users, n_target_items), 1 where owned.

        Args:
            source: csr (n_users, n_source_items) source interactions.
            n_target_items: size of the target catalogue.

        Returns:
            scipy.sparse.csr_matrix: binary, float64.

        Raises:
            ValueError: ``source`` has another number of items than ``item_map`` or the map points
                outside ``range(n_target_items)``.
        """
        source = sp.csr_matrix(source, dtype=np.float64)
        if source.shape[1] != len(self.item_map):
            raise ValueError(f"item_map has {len(self.item_map)} entries but the source has {source.shape[1]} items")
        if self.item_map.max() >= n_target_items or self.item_map.min() < -1:
            raise ValueError(f"item_map must hold target indices in [0, {n_target_items}) or -1")
        hit = np.flatnonzero(self.item_map >= 0)
        move = sp.csr_matrix((np.ones(len(hit)), (hit, self.item_map[hit])), shape=(len(self.item_map), n_target_items))
        out = (source @ move).tocsr()
        out.data[:] = 1.0
        return out

    def _training_matrix(self, source, target: Split):
        self._owned = self.owned(source, target.n_items)
        merged = (target.matrix("train").astype(np.float64) + self._owned).tocsr()
        merged.data[:] = 1.0  # one interaction, whichever platform it was made on
        return merged

    def score(self, users=None) -> np.ndarray:
        scores = super().score(users)
        if self.mask_owned:
            users = np.arange(len(self.user_factors)) if users is None else np.asarray(users)
            owned = self._owned[users].toarray() > 0
            scores = np.where(owned, scores.min() - 1.0, scores)
        return scores


class JointMF(CrossDomainStrategy):
    """CMF-style joint factorisation: one user factor per user for both domains.

    Minimises ``source_weight * L(source) + L(target)`` where both losses use the same user
    factors and each domain has its own item factors. A user missing from a domain is left out of
    that domain's loss (unknown is not negative).

    Args:
        source_weight: weight of the source loss (0 gives :class:`TargetOnly`).
        **kw: ALS settings (see :class:`CrossDomainStrategy`).

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
        Qs, Qt = init_factors(rng, S.shape[1], self.factors), init_factors(rng, T.shape[1], self.factors)
        w, reg, a = self.source_weight, self.reg, self.alpha
        act_s, act_t = np.diff(S.indptr) > 0, np.diff(T.indptr) > 0
        for _ in range(self.iters):
            P = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
            Qs = als_solve(St, P, reg / max(w, 1e-12), a, y_mask=act_s)
            Qt = als_solve(Tt, P, reg, a, y_mask=act_t)
        self.user_factors = als_solve(T, Qt, reg, a, extra=[(S, Qs, w, None)])
        self.item_factors, self.source_item_factors = Qt, Qs
        return self._finish(target)


class _SourcePretrained(CrossDomainStrategy):
    """A strategy that factorises the source alone and reuses those factors while the source is the same.

    Fitting on growing shares of the target only changes the target side, so the source factors
    are computed once (:meth:`pretrain`) and recomputed only when a different source is passed.
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.source_user_factors = None

    def pretrain(self, source: sp.csr_matrix):
        """Factorise the source domain alone (kept in ``source_user_factors`` and ``source_item_factors``).

        Args:
            source: csr (n_users, n_source_items) source interactions.

        Returns:
            self.
        """
        self.source_user_factors, self.source_item_factors = self._factorize(source)
        self._source_key = matrix_fingerprint(source)
        return self

    def _pretrained_user_factors(self, source) -> np.ndarray:
        if self.source_user_factors is None or getattr(self, "_source_key", None) != matrix_fingerprint(source):
            self.pretrain(source)
        return self.source_user_factors


class PretrainFinetune(_SourcePretrained):
    """Pretrain on the source, migrate the user factors, fine-tune on the target.

    1. Factorise the source alone (:meth:`pretrain`).  2. Migrate: each user's target factor starts
    at their source factor; target item factors are solved from those.  3. Fine-tune: a few ALS
    rounds on the target where a penalty ``finetune_weight * |p_u - p_u^source|^2`` keeps users
    close to what was learnt (the closed-form cousin of fine-tuning with a small learning rate and
    few epochs). Users with no target data keep their source factor: they get zero-shot
    recommendations.

    Args:
        finetune_weight: pull towards the pretrained factors (0: free fine-tuning). The default
            holds the users almost frozen, the best choice on validation data with 10 % of the
            target (``benchmarks/cross_domain.py --tune``); with plenty of target data a looser
            hold is better, as the chapter's learning curves show.
        finetune_iters: ALS rounds on the target.
        **kw: ALS settings (see :class:`CrossDomainStrategy`).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "pretrain + fine-tune"

    def __init__(self, finetune_weight: float = 1000.0, finetune_iters: int = 2, **kw):
        super().__init__(**kw)
        self.finetune_weight, self.finetune_iters = finetune_weight, finetune_iters

    def fit(self, source, target: Split):
        P0 = self._pretrained_user_factors(source)
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

    Raises:
        ValueError: ``X`` and ``Y`` are not 2-D with the same number of rows.

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


class EMCDR(_SourcePretrained):
    """Embedding-and-mapping (Man et al. 2017): map source user factors into the target space.

    1. Factorise source and target separately.  2. On *anchor* users (in the source and with at
    least ``min_target`` target training interactions) fit a ridge mapping source factor ->
    target factor.  3. Users with source data but fewer than ``min_target`` target interactions
    get the mapped factor; the target item factors are kept. The defaults of ``min_target`` and
    ``target_reg`` were chosen on validation data with ``benchmarks/cross_domain.py --tune``.

    Args:
        min_target: target interactions that make a user an anchor (and keep their own factor).
        mapping_reg: ridge penalty of the mapping (source factors are scaled to unit RMS norm).
        target_reg: ALS penalty of the target factorisation (``None``: ``reg``). Lighter than the
            baseline's: the mapping can only carry what the anchors' target factors express.
        **kw: ALS settings (see :class:`CrossDomainStrategy`).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    name = "EMCDR mapping"

    def __init__(self, min_target: int = 3, mapping_reg: float = 1.0, target_reg: float | None = 5.0, **kw):
        super().__init__(**kw)
        self.min_target, self.mapping_reg, self.target_reg = min_target, mapping_reg, target_reg

    def fit(self, source, target: Split):
        Ps = self._pretrained_user_factors(source)
        T = target.matrix("train")
        Pt, Qt = self._factorize(T, self.target_reg)
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
