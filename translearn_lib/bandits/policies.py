"""Linear contextual bandits in NumPy: ε-greedy, LinUCB, linear Thompson sampling, and the loop.

Every policy assumes the expected click of item ``i`` is linear in its feature row, ``x_i . θ``, and
keeps the ridge-regression state of one or many independent bandits (one per simulated user):

    A = λ I + Σ x xᵀ,    b = Σ r x,    θ = A⁻¹ b.

They differ only in how they pick from a page of candidates:

* :class:`EpsilonGreedy` — the best ``x . θ`` , or with probability ε a uniformly random candidate;
* :class:`LinUCB` — ``x . θ + α sqrt(xᵀ A⁻¹ x)`` (Li et al. 2010): optimism in proportion to how
  little the model knows about that direction;
* :class:`LinearThompson` — scores drawn from the posterior ``N(x . θ, v² xᵀ A⁻¹ x)`` jointly over the
  page (Agrawal & Goyal 2013), so a candidate wins as often as it is plausibly the best.

Item features are fixed per item (a catalogue ``F``), so the policies keep ``A⁻¹`` with the
Sherman–Morrison update and the per-item quantities ``F θ`` and ``diag(F A⁻¹ Fᵀ)`` incrementally:
one round costs ``O(d² + n_items · d)`` per bandit. One-hot features (every row a unit
vector) keep ``A`` diagonal, which the policies detect and store as a vector (per-item counts). ``warm_start`` adds logged
(feature, reward) pairs from any source before the first round — with text features those can be
items of *another domain* (the transfer this chapter measures). Ties go to the first candidate (the
lowest item index: pages are sorted).

Bad input raises ``ValueError`` with the fix: α or ε out of range, λ <= 0, an empty page, an item
index outside the catalogue, features or logs of the wrong width.

Taught in notebooks/08_transfer_and_bandits.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from translearn_lib import config


def _check_features(features) -> np.ndarray:
    F = np.asarray(features, dtype=float)
    if F.ndim != 2 or F.shape[0] == 0 or F.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (n_items, d) array, got shape {F.shape}")
    if not np.isfinite(F).all():
        raise ValueError("features contain nan or inf")
    return F


class LinearPolicy:
    """Ridge-regression state shared by the three policies (not a policy by itself).

    Args:
        features: ``(n_items, d)`` feature row of every item in the catalogue.
        n_bandits: independent bandits updated in lock-step (one per simulated user).
        lam: ridge penalty λ > 0 (the prior precision of θ).
        seed: seed of the policy's own randomness (exploration draws).

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    name = "linear"

    def __init__(self, features, n_bandits: int = 1, lam: float = 1.0, seed: int = config.DEFAULT_SEED):
        self.features = _check_features(features)
        if not isinstance(n_bandits, (int, np.integer)) or n_bandits < 1:
            raise ValueError(f"n_bandits must be a positive integer, got {n_bandits!r}")
        if not np.isfinite(lam) or lam <= 0:
            raise ValueError(f"lam (the ridge penalty) must be > 0, got {lam!r}")
        self.n_bandits, self.lam, self.seed = int(n_bandits), float(lam), seed
        self.reset()

    @property
    def dim(self) -> int:
        return self.features.shape[1]

    @property
    def diagonal(self) -> bool:
        """True for one-hot features: ``A`` stays diagonal and ``A_inv`` is stored as ``(n_bandits, d)``."""
        F = self.features
        return bool(np.isin(F, (0.0, 1.0)).all() and (F.sum(axis=1) == 1).all())

    def reset(self) -> "LinearPolicy":
        """Forget everything: ``A = λ I``, ``b = 0`` for every bandit; reseed the policy's draws."""
        U, (n, d) = self.n_bandits, self.features.shape
        self._diag = self.diagonal
        self.A_inv = np.full((U, d), 1.0 / self.lam) if self._diag else np.tile(np.eye(d) / self.lam, (U, 1, 1))
        self.b = np.zeros((U, d))
        self.theta = np.zeros((U, d))
        self.mean_ = np.zeros((U, n))                                    # F θ
        self.width2_ = np.tile((self.features ** 2).sum(axis=1) / self.lam, (U, 1))   # diag(F A⁻¹ Fᵀ)
        self.n_updates = 0
        self.rng = np.random.default_rng(self.seed)
        return self

    # ---------------------------------------------------------------- input checks
    def _pages(self, candidates) -> np.ndarray:
        c = np.asarray(candidates)
        if c.size == 0:
            raise ValueError("the action set is empty: pass at least one candidate item per bandit")
        if c.ndim == 1:
            c = np.tile(c, (self.n_bandits, 1))
        if c.ndim != 2 or c.shape[0] != self.n_bandits:
            raise ValueError(f"candidates must be (m,) or (n_bandits={self.n_bandits}, m) item indices, got shape {c.shape}")
        if not np.issubdtype(c.dtype, np.integer):
            raise ValueError(f"candidates must be integer item indices, got dtype {c.dtype}")
        if c.min() < 0 or c.max() >= len(self.features):
            raise ValueError(f"candidate items must be in [0, {len(self.features)}) (rows of features), "
                             f"got {c.min()}..{c.max()}")
        return c

    # ---------------------------------------------------------------- choosing
    def scores(self, pages: np.ndarray) -> np.ndarray:
        """Score of each candidate, ``(n_bandits, m)``; the policy picks the largest."""
        raise TypeError("LinearPolicy is the shared state; use EpsilonGreedy, LinUCB or LinearThompson")

    def select(self, candidates) -> np.ndarray:
        """Pick one item per bandit from its page.

        Args:
            candidates: ``(m,)`` one page for every bandit, or ``(n_bandits, m)`` item indices.

        Returns:
            np.ndarray: ``(n_bandits,)`` chosen item indices (ties: the first candidate).
        """
        pages = self._pages(candidates)
        s = self.scores(pages)
        return pages[np.arange(len(pages)), np.argmax(s, axis=1)]

    # ---------------------------------------------------------------- learning
    def update(self, items, rewards) -> "LinearPolicy":
        """Add one observation per bandit: ``A += x xᵀ``, ``b += r x`` (Sherman–Morrison on ``A⁻¹``).

        Args:
            items: ``(n_bandits,)`` the items that were shown.
            rewards: ``(n_bandits,)`` the observed rewards (clicks 0/1 or any real number).
        """
        items = np.asarray(items).reshape(-1)
        r = np.asarray(rewards, dtype=float).reshape(-1)
        if len(items) != self.n_bandits or len(r) != self.n_bandits:
            raise ValueError(f"need one item and one reward per bandit ({self.n_bandits}), "
                             f"got {len(items)} and {len(r)}")
        self._pages(items[:, None])                                          # range check
        x = self.features[items]                                             # (U, d)
        z = self._times_A_inv(x)                                             # A⁻¹ x
        denom = 1.0 + (x * z).sum(axis=1)
        if self._diag:                                                       # x one-hot: z z^T is diagonal
            self.A_inv -= z ** 2 / denom[:, None]
            self.width2_ = self.A_inv[:, self.features.argmax(axis=1)]
        else:
            self.A_inv -= z[:, :, None] * z[:, None, :] / denom[:, None, None]
            self.width2_ -= (z @ self.features.T) ** 2 / denom[:, None]
        self.b += r[:, None] * x
        self._refresh_theta()
        self.n_updates += 1
        return self

    def warm_start(self, X, rewards, weight: float = 1.0, bandits=None) -> "LinearPolicy":
        """Add logged observations before the first round (e.g. source-domain logs).

        Args:
            X: a ``(n, d)`` array of logged feature rows (the same for every selected bandit) or a
                list with one ``(n_k, d)`` array per selected bandit. Rows need not be catalogue items.
            rewards: matching ``(n,)`` array or list of ``(n_k,)`` arrays.
            weight: each logged row counts as ``weight`` observations (>= 0; < 1 trusts the source less).
            bandits: which bandits receive the logs (default: all, in order).

        Returns:
            LinearPolicy: ``self``.
        """
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight!r}")
        idx = np.arange(self.n_bandits) if bandits is None else np.asarray(bandits, dtype=int).reshape(-1)
        if isinstance(X, np.ndarray) and X.ndim == 2:
            X, rewards = [X] * len(idx), [rewards] * len(idx)
        if len(X) != len(idx) or len(rewards) != len(idx):
            raise ValueError(f"need one log per bandit: {len(idx)} bandits, {len(X)} feature arrays, {len(rewards)} reward arrays")
        for k, Xk, rk in zip(idx, X, rewards):
            Xk, rk = np.asarray(Xk, dtype=float), np.asarray(rk, dtype=float).reshape(-1)
            if Xk.ndim != 2 or Xk.shape[1] != self.dim:
                raise ValueError(f"logged features must be (n, {self.dim}) like the catalogue, got shape {Xk.shape}")
            if len(Xk) != len(rk):
                raise ValueError(f"{len(Xk)} logged rows but {len(rk)} rewards")
            gram = weight * Xk.T @ Xk
            if self._diag:
                if np.abs(gram - np.diag(np.diag(gram))).max() > 0:
                    raise ValueError("one-hot features keep A diagonal: logged rows must be one-hot too")
                self.A_inv[k] = 1.0 / (1.0 / self.A_inv[k] + np.diag(gram))
                self.width2_[k] = self.A_inv[k][self.features.argmax(axis=1)]
            else:
                self.A_inv[k] = np.linalg.inv(np.linalg.inv(self.A_inv[k]) + gram)
                self.width2_[k] = np.einsum("nd,de,ne->n", self.features, self.A_inv[k], self.features)
            self.b[k] += weight * Xk.T @ rk
        self._refresh_theta()
        return self

    def _times_A_inv(self, x):
        return self.A_inv * x if self._diag else (self.A_inv @ x[:, :, None])[:, :, 0]

    def covariance(self) -> np.ndarray:
        """``A⁻¹`` of every bandit as ``(n_bandits, d, d)`` matrices (the posterior covariance of θ up to v²)."""
        return np.stack([np.diag(a) for a in self.A_inv]) if self._diag else self.A_inv.copy()

    def _refresh_theta(self):
        self.theta = self._times_A_inv(self.b)
        self.mean_ = self.theta @ self.features.T


class EpsilonGreedy(LinearPolicy):
    """Exploit the ridge estimate, explore uniformly with probability ``epsilon``.

    Args:
        features, n_bandits, lam, seed: see :class:`LinearPolicy`.
        epsilon: exploration probability in [0, 1].

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    name = "ε-greedy"

    def __init__(self, features, epsilon: float = 0.1, n_bandits: int = 1, lam: float = 1.0,
                 seed: int = config.DEFAULT_SEED):
        if not np.isfinite(epsilon) or not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.epsilon = float(epsilon)
        super().__init__(features, n_bandits, lam, seed)

    def scores(self, pages):
        s = np.take_along_axis(self.mean_, pages, axis=1)
        explore = self.rng.random(len(pages)) < self.epsilon
        noise = self.rng.random(pages.shape)             # drawn every round: the stream does not depend on θ
        return np.where(explore[:, None], noise, s)


class LinUCB(LinearPolicy):
    """LinUCB with a shared linear model over item features (Li et al. 2010).

    ``score = x . θ + alpha * sqrt(xᵀ A⁻¹ x)``.

    Args:
        features, n_bandits, lam, seed: see :class:`LinearPolicy`.
        alpha: width of the confidence bonus, >= 0 (0 = greedy).

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    name = "LinUCB"

    def __init__(self, features, alpha: float = 1.0, n_bandits: int = 1, lam: float = 1.0,
                 seed: int = config.DEFAULT_SEED):
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be >= 0 (0 = greedy, no exploration bonus), got {alpha!r}")
        self.alpha = float(alpha)
        super().__init__(features, n_bandits, lam, seed)

    def ucb(self, pages) -> np.ndarray:
        """The upper confidence bound of each candidate, ``(n_bandits, m)``."""
        mean = np.take_along_axis(self.mean_, pages, axis=1)
        width = np.sqrt(np.maximum(np.take_along_axis(self.width2_, pages, axis=1), 0.0))
        return mean + self.alpha * width

    def scores(self, pages):
        return self.ucb(pages)


class LinearThompson(LinearPolicy):
    """Linear Thompson sampling: candidate scores drawn from the Gaussian posterior.

    The scores of a page are drawn jointly, ``s ~ N(X θ, v² X A⁻¹ Xᵀ)``, which is exactly what
    drawing ``θ̃ ~ N(θ, v² A⁻¹)`` and scoring ``X θ̃`` gives, at the cost of an ``m x m`` instead of a
    ``d x d`` Cholesky factor.

    Args:
        features, n_bandits, lam, seed: see :class:`LinearPolicy`.
        v: posterior scale, >= 0 (0 = greedy).

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    name = "Thompson"

    def __init__(self, features, v: float = 0.5, n_bandits: int = 1, lam: float = 1.0,
                 seed: int = config.DEFAULT_SEED):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"v (the posterior scale) must be >= 0, got {v!r}")
        self.v = float(v)
        super().__init__(features, n_bandits, lam, seed)

    def scores(self, pages):
        X = self.features[pages]                                         # (U, m, d)
        mean = np.take_along_axis(self.mean_, pages, axis=1)
        XA = X * self.A_inv[:, None, :] if self._diag else X @ self.A_inv     # (U, m, d)
        cov = XA @ X.transpose(0, 2, 1)
        cov = 0.5 * (cov + cov.transpose(0, 2, 1)) + 1e-10 * np.eye(pages.shape[1])
        L = np.linalg.cholesky(cov)
        z = self.rng.standard_normal(pages.shape)
        return mean + self.v * np.einsum("umn,un->um", L, z)


POLICIES = {"ε-greedy": EpsilonGreedy, "LinUCB": LinUCB, "Thompson": LinearThompson}


@dataclass
class BanditRun:
    """What one simulation recorded.

    Attributes:
        regret: ``(T, n_bandits)`` expected regret per round (best candidate's click probability
            minus the chosen one's).
        rewards: ``(T, n_bandits)`` observed clicks.
        items: ``(T, n_bandits)`` chosen items.
        users: ``(n_bandits,)`` the simulated users.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    regret: np.ndarray
    rewards: np.ndarray
    items: np.ndarray
    users: np.ndarray

    def cumulative_regret(self) -> np.ndarray:
        """``(T,)`` cumulative regret averaged over the simulated users."""
        return self.regret.cumsum(axis=0).mean(axis=1)


def simulate(env, policy: LinearPolicy, users, T: int, seed: int = config.DEFAULT_SEED,
             progress: bool | None = None) -> BanditRun:
    """Run ``policy`` for ``T`` rounds, one independent bandit per user, and record the regret.

    The pages and the click draws come from their own generator (``seed``), separate from the
    policy's, so two policies run with the same ``seed`` see the same pages and the same uniform
    draws behind each click (common random numbers: their difference has less noise).

    Args:
        env: a :class:`~translearn_lib.bandits.env.BanditEnv`.
        policy: a policy with ``n_bandits == len(users)`` and one feature row per environment item.
        users: user rows of ``env.mu`` (one bandit each).
        T: rounds (>= 1).
        seed: seed of the environment's draws.
        progress: show a progress bar (default: when ``T * len(users) >= 20,000``).

    Returns:
        BanditRun: regret, rewards, chosen items.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    users = np.asarray(users, dtype=int).reshape(-1)
    if len(users) != policy.n_bandits:
        raise ValueError(f"the policy holds {policy.n_bandits} bandits but {len(users)} users were given")
    if len(policy.features) != env.n_items:
        raise ValueError(f"the policy has features for {len(policy.features)} items, the environment has {env.n_items}")
    if len(users) == 0 or users.min() < 0 or users.max() >= env.n_users:
        raise ValueError(f"users must be row indices of env.mu in [0, {env.n_users})")
    if not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    rng = np.random.default_rng(seed)
    U = len(users)
    regret, rewards, chosen = np.zeros((T, U)), np.zeros((T, U)), np.zeros((T, U), dtype=int)
    rounds = range(T)
    if progress is None:
        progress = T * U >= 20_000 and config.progress_bars_enabled()
    if progress:
        from tqdm.auto import tqdm
        rounds = tqdm(rounds, desc=f"{policy.name} rounds", leave=False)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):           # many tiny matrix products: one BLAS thread is faster (and fair to the machine)
        for t in rounds:
            _round(env, policy, users, rng, t, regret, rewards, chosen)
    return BanditRun(regret, rewards, chosen, users)


def _round(env, policy, users, rng, t, regret, rewards, chosen):
    """One round for every bandit: draw pages and click draws, choose, observe, learn, record."""
    pages = env.candidates(rng, t, len(users))
    draws = rng.random(len(users))
    items = policy.select(pages)
    p = env.mu[users, items]
    r = (draws < p).astype(float)
    policy.update(items, r)
    regret[t] = env.mu[users[:, None], pages].max(axis=1) - p
    rewards[t], chosen[t] = r, items
