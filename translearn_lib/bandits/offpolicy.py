"""Off-policy evaluation: a new policy's click rate from the logs of an old one.

A *policy* here is a function ``probs(users, pages) -> (n, m)`` giving the probability of showing
each candidate of each logged page (rows sum to 1; a deterministic policy puts 1 on one candidate).
The logging policy must be stochastic and its probabilities (propensities) must be logged.

Estimators of the target policy's value ``V(π) = E_x Σ_a π(a|x) μ(x, a)``:

* :func:`replay` (Li et al. 2011): keep the logged events where the target would have shown the
  same item, average their clicks. Unbiased when the logging policy is **uniform**; otherwise the
  kept events over-represent the pages where the target's choice was likely to be logged;
* :func:`ips` — inverse propensity scoring: ``mean(r · π(a|x) / p(a|x))`` over all events,
  unbiased whenever ``p(a|x) > 0`` wherever ``π(a|x) > 0``;
* :func:`snips` — self-normalised IPS: the same weights divided by their sum (a little bias, much
  less variance).

:func:`true_value` gives the simulator's exact value on the same logged pages, which real logs
never have.

Taught in notebooks/08_transfer_and_bandits.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from translearn_lib import config


@dataclass
class Logs:
    """Logged bandit feedback.

    Attributes:
        users: ``(n,)`` user rows of the environment.
        pages: ``(n, m)`` candidate items of each event.
        positions: ``(n,)`` position in the page of the shown item.
        items: ``(n,)`` the shown items.
        propensities: ``(n,)`` logging probability of the shown item.
        rewards: ``(n,)`` observed clicks.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    users: np.ndarray
    pages: np.ndarray
    positions: np.ndarray
    items: np.ndarray
    propensities: np.ndarray
    rewards: np.ndarray

    def __len__(self) -> int:
        return len(self.items)


def _probs(policy, users, pages) -> np.ndarray:
    P = np.asarray(policy(users, pages), dtype=float)
    if P.shape != pages.shape:
        raise ValueError(f"a policy must return one probability per candidate, shape {pages.shape}, got {P.shape}")
    if (P < -1e-12).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("a policy's probabilities must be >= 0 and sum to 1 over each page")
    return np.clip(P, 0.0, 1.0)


def uniform_policy():
    """Show every candidate with the same probability.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    return lambda users, pages: np.full(pages.shape, 1.0 / pages.shape[1])


def softmax_policy(item_scores, temperature: float = 1.0):
    """Show candidates with probability ∝ ``exp(score / temperature)``.

    Args:
        item_scores: ``(n_items,)`` one score per item, or ``(n_users, n_items)``.
        temperature: > 0; small = nearly greedy, large = nearly uniform.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    S = np.asarray(item_scores, dtype=float)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")

    def probs(users, pages):
        s = S[pages] if S.ndim == 1 else S[np.asarray(users)[:, None], pages]
        z = np.exp((s - s.max(axis=1, keepdims=True)) / temperature)
        return z / z.sum(axis=1, keepdims=True)

    return probs


def greedy_policy(scores):
    """Deterministic: show the candidate with the highest ``scores[user, item]`` (ties: the first).

    Args:
        scores: ``(n_users, n_items)``, or ``(n_items,)`` for every user.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    S = np.asarray(scores, dtype=float)

    def probs(users, pages):
        s = S[pages] if S.ndim == 1 else S[np.asarray(users)[:, None], pages]
        P = np.zeros(pages.shape)
        P[np.arange(len(pages)), np.argmax(s, axis=1)] = 1.0
        return P

    return probs


def collect_logs(env, logging_policy, n: int, users=None, seed: int = config.DEFAULT_SEED) -> Logs:
    """Let ``logging_policy`` serve ``n`` random (user, page) contexts and log what happened.

    Args:
        env: a :class:`~translearn_lib.bandits.env.BanditEnv` (its start items form the pages).
        logging_policy: ``probs(users, pages)``.
        n: events (>= 1).
        users: the user rows to draw from (default: every user).
        seed: seed of contexts, actions and clicks.

    Returns:
        Logs: the logged events with their propensities.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    pool = np.arange(env.n_users) if users is None else np.asarray(users, dtype=int)
    u = rng.choice(pool, n)
    pages = env.candidates(rng, 0, n)
    P = _probs(logging_policy, u, pages)
    pos = (rng.random(n)[:, None] > np.cumsum(P, axis=1)).sum(axis=1).clip(max=pages.shape[1] - 1)
    items = pages[np.arange(n), pos]
    return Logs(u, pages, pos, items, P[np.arange(n), pos], env.click(rng, u, items))


def _check_logs(logs: Logs):
    if len(logs) == 0:
        raise ValueError("the logs are empty: nothing to estimate from")
    if (logs.propensities <= 0).any():
        raise ValueError("a logged propensity is 0: the logging policy must give every shown item a positive probability")


def true_value(env, logs: Logs, target_policy) -> float:
    """The simulator's expected click rate of ``target_policy`` on the logged contexts.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    P = _probs(target_policy, logs.users, logs.pages)
    return float((P * env.mu[logs.users[:, None], logs.pages]).sum(axis=1).mean())


def replay(logs: Logs, target_policy, seed: int = config.DEFAULT_SEED) -> tuple[float, int]:
    """Replay estimate: the mean click over events where the target's draw equals the logged item.

    Args:
        logs: from :func:`collect_logs`.
        target_policy: ``probs(users, pages)`` (deterministic or not: one draw per event).
        seed: seed of the target's draws.

    Returns:
        tuple: ``(estimate, matched events)``; the estimate is ``nan`` when nothing matched.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    _check_logs(logs)
    P = _probs(target_policy, logs.users, logs.pages)
    rng = np.random.default_rng(seed)
    draw = (rng.random(len(logs))[:, None] > np.cumsum(P, axis=1)).sum(axis=1).clip(max=P.shape[1] - 1)
    match = draw == logs.positions
    return (float(logs.rewards[match].mean()) if match.any() else float("nan")), int(match.sum())


def importance_weights(logs: Logs, target_policy) -> np.ndarray:
    """``π(a|x) / p(a|x)`` of every logged event.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    _check_logs(logs)
    P = _probs(target_policy, logs.users, logs.pages)
    return P[np.arange(len(logs)), logs.positions] / logs.propensities


def ips(logs: Logs, target_policy) -> float:
    """Inverse propensity scoring: ``mean(r · π(a|x) / p(a|x))``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    return float((logs.rewards * importance_weights(logs, target_policy)).mean())


def snips(logs: Logs, target_policy) -> float:
    """Self-normalised IPS: ``Σ r w / Σ w`` (``nan`` if every weight is 0).

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    w = importance_weights(logs, target_policy)
    return float((logs.rewards * w).sum() / w.sum()) if w.sum() > 0 else float("nan")
