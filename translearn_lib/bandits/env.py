"""Simulated recommendation environments whose click probabilities are known.

A bandit is judged by its **regret**: what the best item would have earned minus what the chosen
item earns, summed over rounds. Regret needs the true expected reward of every item for every user,
which logged data never has; a simulator does. Two of them:

* :func:`shop_env` — the generated shop of chapter 04: the click probability of user ``u`` on item
  ``i`` is ``sigmoid(taste_strength * n_topics * true_score(u, i) + popularity(i) - offset)``, the
  shop's own utility (``CrossDomainShop.true_scores``) without its Gumbel noise;
* :func:`movielens_env` — MovieLens-100K with a reward model fitted on **all** ratings (a biased
  matrix factorisation, :func:`fit_rating_model`): the click probability is
  ``sigmoid(slope * (predicted rating - threshold))``. The simulator is the ground truth by
  definition; no metric here is computed on the data a policy learns from.

Each round of :class:`BanditEnv` a page of ``n_candidates`` items is drawn at random from the items
available at that round (the context), the policy shows one, and a click is drawn from the true
probability. Items can arrive mid-run (``arrivals``) to study new items.

Taught in notebooks/08_transfer_and_bandits.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from translearn_lib.config import DEFAULT_SEED, ITEM_COL, USER_COL


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    x = np.asarray(x, dtype=float)
    return np.exp(-np.logaddexp(0.0, -x))


@dataclass
class BanditEnv:
    """Known click probabilities, a page of random candidates per round, optional item arrivals.

    Attributes:
        mu: ``(n_users, n_items)`` true click probability of every user on every item, in [0, 1].
        n_candidates: items on one page (the action set of a round); ``None`` = every available item.
        start_items: items available from round 0 (``None`` = all items).
        arrivals: ``{round: item indices}`` items that become available at that round.
        item_ids: original item ids, aligned with the columns of ``mu``.
        user_ids: original user ids, aligned with the rows of ``mu``.
        info: how the environment was built.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    mu: np.ndarray
    n_candidates: int | None = 20
    start_items: np.ndarray | None = None
    arrivals: dict = field(default_factory=dict)
    item_ids: np.ndarray | None = None
    user_ids: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.mu = np.asarray(self.mu, dtype=float)
        if self.mu.ndim != 2 or self.mu.size == 0:
            raise ValueError(f"mu must be a non-empty (n_users, n_items) array, got shape {self.mu.shape}")
        if not np.isfinite(self.mu).all() or self.mu.min() < 0 or self.mu.max() > 1:
            raise ValueError("mu holds click probabilities: every entry must be finite and in [0, 1]")
        n_items = self.mu.shape[1]
        start = np.arange(n_items) if self.start_items is None else np.unique(np.asarray(self.start_items, dtype=int))
        if len(start) == 0:
            raise ValueError("the action set is empty: start_items must name at least one item")
        arrivals = {int(t): np.unique(np.asarray(v, dtype=int)) for t, v in self.arrivals.items()}
        for items in [start, *arrivals.values()]:
            if len(items) and (items.min() < 0 or items.max() >= n_items):
                raise ValueError(f"item indices must be in [0, {n_items}), got {items.min()}..{items.max()}")
        if any(t < 0 for t in arrivals):
            raise ValueError("arrival rounds must be >= 0")
        if self.n_candidates is not None and (not isinstance(self.n_candidates, (int, np.integer)) or self.n_candidates < 1):
            raise ValueError(f"n_candidates must be a positive integer or None, got {self.n_candidates!r}")
        self.start_items, self.arrivals = start, arrivals

    @property
    def n_users(self) -> int:
        return self.mu.shape[0]

    @property
    def n_items(self) -> int:
        return self.mu.shape[1]

    def available(self, t: int) -> np.ndarray:
        """Sorted item indices available at round ``t`` (start items plus arrivals up to ``t``)."""
        parts = [self.start_items] + [v for s, v in self.arrivals.items() if s <= t]
        return np.unique(np.concatenate(parts))

    def candidates(self, rng: np.random.Generator, t: int, n_bandits: int = 1) -> np.ndarray:
        """One page per bandit: ``(n_bandits, m)`` sorted item indices drawn without replacement.

        Args:
            rng: the random generator of the run.
            t: the round (decides which items are available).
            n_bandits: how many independent pages to draw (one per simulated user).

        Returns:
            np.ndarray: int array ``(n_bandits, m)``, ``m = min(n_candidates, available items)``.
        """
        pool = self.available(t)
        m = len(pool) if self.n_candidates is None else min(self.n_candidates, len(pool))
        if m == len(pool):
            return np.tile(pool, (n_bandits, 1))
        keys = rng.random((n_bandits, len(pool)))
        picks = np.argpartition(keys, m - 1, axis=1)[:, :m]
        return np.sort(pool[picks], axis=1)

    def click(self, rng: np.random.Generator, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Bernoulli clicks, ``(n,)`` floats 0/1, with probability ``mu[users, items]``."""
        return (rng.random(len(items)) < self.mu[users, items]).astype(float)

    def __repr__(self) -> str:
        return (f"BanditEnv(users={self.n_users}, items={self.n_items}, page={self.n_candidates}, "
                f"start={len(self.start_items)}, arrivals={ {t: len(v) for t, v in self.arrivals.items()} }, "
                f"mean click rate={self.mu.mean():.3f})")


def shop_env(shop, domain: str = "clothing", n_candidates: int | None = 20, offset: float = 4.0,
             start_items=None, arrivals=None) -> BanditEnv:
    """A bandit environment from the generated shop's known tastes (``true_scores``).

    ``mu[u, i] = sigmoid(taste_strength * n_topics * true_score(u, i) + popularity(i) - offset)`` —
    the shop's purchase utility without its noise, squashed to a click probability. ``offset``
    moves the whole click rate (4 gives a median near 0.05 and best items near 0.7).

    Args:
        shop: a ``CrossDomainShop`` (``datasets.make_cross_domain_shop``).
        domain: the domain whose items are the arms.
        n_candidates: items per page (``None`` = all).
        offset: subtracted from the utility before the sigmoid.
        start_items, arrivals: see :class:`BanditEnv` (indices into the domain's items).

    Returns:
        BanditEnv: rows = every shop user, columns = the domain's items in catalogue order.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    scores = shop.true_scores(domain)
    items = shop.items[shop.items["domain"] == domain]
    p = shop.params
    utility = p["taste_strength"] * len(shop.topics) * scores + items["popularity"].to_numpy()[None, :]
    return BanditEnv(sigmoid(utility - offset), n_candidates=n_candidates, start_items=start_items,
                     arrivals=arrivals or {}, item_ids=items[ITEM_COL].to_numpy(),
                     user_ids=shop.users[USER_COL].to_numpy(),
                     info={"source": "shop", "domain": domain, "offset": offset})


def fit_rating_model(ratings: pd.DataFrame, factors: int = 16, reg: float = 5.0, iters: int = 10,
                     seed: int = DEFAULT_SEED):
    """Biased matrix factorisation of explicit ratings by alternating least squares (NumPy).

    ``r_hat(u, i) = m + b_u + c_i + p_u . q_i``, fitted on every row of ``ratings`` (the simulator's
    ground truth, not a model to be evaluated).

    Args:
        ratings: columns ``user_id``, ``item_id``, ``rating``.
        factors: latent dimensions.
        reg: L2 penalty of factors and biases.
        iters: ALS rounds.
        seed: seed of the initial item factors.

    Returns:
        tuple: ``(predictions (n_users, n_items), user_ids, item_ids, train_rmse)``.

    Raises:
        ValueError: empty ratings or missing columns.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    need = {USER_COL, ITEM_COL, "rating"}
    if not need <= set(ratings.columns) or len(ratings) == 0:
        raise ValueError(f"ratings must be a non-empty frame with columns {sorted(need)}")
    users, u = np.unique(ratings[USER_COL].to_numpy(), return_inverse=True)
    items, i = np.unique(ratings[ITEM_COL].to_numpy(), return_inverse=True)
    r = ratings["rating"].to_numpy(dtype=float)
    m = r.mean()
    rng = np.random.default_rng(seed)
    # biases enter as a factor column fixed to 1 on the other side: [p_u, b_u, 1] . [q_i, 1, c_i]
    P = np.zeros((len(users), factors + 2)); P[:, -1] = 1.0
    Q = np.hstack([rng.normal(0, 0.1, (len(items), factors)), np.ones((len(items), 1)), np.zeros((len(items), 1))])
    by_user = [np.flatnonzero(u == k) for k in range(len(users))]
    by_item = [np.flatnonzero(i == k) for k in range(len(items))]

    def half(free, fixed, groups, other, fixed_col):
        cols = [c for c in range(factors + 2) if c != fixed_col]
        eye = reg * np.eye(len(cols))
        for k, rows in enumerate(groups):
            F = fixed[other[rows]][:, cols]
            target = r[rows] - m - fixed[other[rows], fixed_col] * free[k, fixed_col]
            free[k, cols] = np.linalg.solve(F.T @ F + eye, F.T @ target)

    for _ in range(iters):
        half(P, Q, by_user, i, factors + 1)   # user rows: the last column stays 1 (pairs with c_i)
        half(Q, P, by_item, u, factors)       # item rows: column `factors` stays 1 (pairs with b_u)
    pred = m + P @ Q.T
    rmse = float(np.sqrt(np.mean((pred[u, i] - r) ** 2)))
    return pred, users, items, rmse


def movielens_env(movielens, n_items: int = 300, n_candidates: int | None = 20, threshold: float = 4.0,
                  slope: float = 2.0, factors: int = 16, seed: int = DEFAULT_SEED) -> BanditEnv:
    """A bandit environment on MovieLens-100K: the reward model is a rating MF fitted on all ratings.

    The arms are the ``n_items`` most-rated films (so that the fitted reward of every arm rests on
    many ratings); ``mu = sigmoid(slope * (r_hat - threshold))``: a film predicted at 4 stars is
    clicked half the time.

    Args:
        movielens: from ``datasets.load_movielens_100k()``.
        n_items: number of most-rated films used as arms (>= 2).
        n_candidates: films per page (``None`` = all).
        threshold, slope: the rating → click-probability link.
        factors: latent dimensions of the reward model.
        seed: seed of the reward model.

    Returns:
        BanditEnv: ``item_ids`` are MovieLens item ids (look up their titles in ``movielens.items``);
        ``info["rmse"]`` is the reward model's fit on all ratings.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    if not isinstance(n_items, (int, np.integer)) or n_items < 2:
        raise ValueError(f"n_items must be an integer >= 2, got {n_items!r}")
    pred, users, items, rmse = fit_rating_model(movielens.ratings, factors=factors, seed=seed)
    counts = movielens.ratings[ITEM_COL].value_counts()
    keep = counts.sort_values(ascending=False, kind="stable").index[:n_items]
    cols = np.sort(np.searchsorted(items, keep.to_numpy()))
    mu = sigmoid(slope * (pred[:, cols] - threshold))
    return BanditEnv(mu, n_candidates=n_candidates, item_ids=items[cols], user_ids=users,
                     info={"source": "movielens-100k", "rmse": rmse, "threshold": threshold, "slope": slope})


def one_hot_features(n_items: int) -> np.ndarray:
    """The identity: every item its own dimension, nothing shared between items.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    return np.eye(n_items)


def text_features(embeddings: np.ndarray, dim: int | None = 32, fit_rows=None, groups=None) -> np.ndarray:
    """Transferred item features: PCA of text embeddings to ``dim`` dimensions plus a constant 1.

    The projection is fitted on ``fit_rows`` (default: every row), so items of another domain can
    be projected into the same space (warm start from source-domain logs needs exactly that).
    With ``groups`` (e.g. each item's domain), every group's mean embedding is subtracted first:
    the direction that only says "this is a clothing text" is removed, so what a source domain
    teaches about the remaining (topic) directions carries over (chapter 05's alignment, in its
    simplest form).

    Args:
        embeddings: ``(n, d)`` text embeddings (e.g. MiniLM, ``encoders.text.encode_texts``).
        dim: principal components kept, ``1 <= dim <= d``; ``None`` keeps the raw embedding.
        fit_rows: boolean mask or indices of the rows that define the projection.
        groups: optional ``(n,)`` labels; each label's rows are centred on their own mean.

    Returns:
        np.ndarray: ``(n, dim + 1)`` features, scaled to unit average squared norm on ``fit_rows``
        before the constant column is appended.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    E = np.asarray(embeddings, dtype=float)
    if E.ndim != 2 or len(E) < 2:
        raise ValueError(f"embeddings must be 2-D with at least 2 rows, got shape {E.shape}")
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(E):
            raise ValueError(f"groups has {len(groups)} labels for {len(E)} rows")
        E = E.copy()
        for g in np.unique(groups):
            E[groups == g] -= E[groups == g].mean(axis=0)
    fit = E if fit_rows is None else E[fit_rows]
    mean = fit.mean(axis=0, keepdims=True)
    if dim is None:
        Z = E - mean
    else:
        if not 1 <= dim <= E.shape[1]:
            raise ValueError(f"dim must be in [1, {E.shape[1]}], got {dim}")
        vals, vecs = np.linalg.eigh((fit - mean).T @ (fit - mean))
        top = vecs[:, np.argsort(vals)[::-1][:dim]]
        top *= np.where(top[np.abs(top).argmax(axis=0), np.arange(dim)] < 0, -1.0, 1.0)  # deterministic signs
        Z = (E - mean) @ top
    scale = np.sqrt((((fit - mean) @ top if dim is not None else fit - mean) ** 2).sum(axis=1).mean())
    return np.hstack([Z / max(scale, 1e-12), np.ones((len(E), 1))])
