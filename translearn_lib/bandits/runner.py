"""The chapter-08 line-ups, shared by the notebook and ``benchmarks/bandits.py``.

* :func:`shop_setting` — the generated shop (electronics = source, clothing = target), its two
  environments, MiniLM embeddings of every item text, and users active in both domains;
* :func:`source_logs` — what a source-domain system logged: random impressions in electronics and
  their clicks, as feature rows in the *shared* text space;
* :func:`feature_sets` — one-hot, PCA-``k`` text features (fitted on both domains' texts) and the
  same text features with a warm start from the source logs;
* :func:`regret_runs` — every (policy, feature set, seed) for ``T`` rounds, one row per run.

Taught in notebooks/08_transfer_and_bandits.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from translearn_lib import config

from .env import BanditEnv, one_hot_features, shop_env, text_features
from .policies import POLICIES, simulate

#: exploration settings used unless a caller overrides them (round values that worked on a first
#: look at seed 100; ``benchmarks/bandits.py`` picks its own per feature set on validation seeds)
DEFAULTS = {"ε-greedy": {"epsilon": 0.05}, "LinUCB": {"alpha": 0.5}, "Thompson": {"v": 0.3}}


@dataclass
class ShopSetting:
    """Source and target environments of the shop, item embeddings, and the simulated users.

    Attributes:
        shop: the ``CrossDomainShop``.
        target, source: :class:`BanditEnv` of the clothing and electronics items.
        embeddings: ``(n_items, 384)`` MiniLM embeddings of every item text, in ``shop.items`` order.
        target_rows, source_rows: boolean masks of ``shop.items`` rows in each domain.
        users: user indices active in both domains (the ones a warm start can serve).

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """

    shop: object
    target: BanditEnv
    source: BanditEnv
    embeddings: np.ndarray
    target_rows: np.ndarray
    source_rows: np.ndarray
    users: np.ndarray


def shop_setting(items_per_domain: int = 200, n_candidates: int = 20, seed: int = 42,
                 model: str = "minilm") -> ShopSetting:
    """Build the chapter's shop: electronics (source) and clothing (target), texts encoded once (cached).

    Args:
        items_per_domain: items in each domain.
        n_candidates: items per page.
        seed: the shop generator's seed.
        model: text encoder (``encoders.text``; cached on disk by text and model).

    Returns:
        ShopSetting: environments, embeddings, users.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    from translearn_lib.datasets import make_cross_domain_shop
    from translearn_lib.encoders.text import encode_texts

    shop = make_cross_domain_shop(items_per_domain=items_per_domain, domains=("electronics", "clothing"), seed=seed)
    E = encode_texts(shop.items["text"].tolist(), model=model)
    both = np.flatnonzero(shop.users["domains"].map(len).to_numpy() == 2)
    return ShopSetting(shop, shop_env(shop, "clothing", n_candidates), shop_env(shop, "electronics", n_candidates), E,
                       (shop.items["domain"] == "clothing").to_numpy(), (shop.items["domain"] == "electronics").to_numpy(),
                       both)


def pick_users(setting_users, n: int, seed: int) -> np.ndarray:
    """``n`` users drawn without replacement (sorted), seeded.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    users = np.asarray(setting_users)
    if not 1 <= n <= len(users):
        raise ValueError(f"n must be in [1, {len(users)}], got {n}")
    return np.sort(np.random.default_rng(seed).choice(users, n, replace=False))


def source_logs(env: BanditEnv, features: np.ndarray, users, n: int = 200, seed: int = config.DEFAULT_SEED):
    """Random impressions a source-domain system showed each user, with the clicks it saw.

    Args:
        env: the source environment.
        features: ``(env.n_items, d)`` source item features in the same space as the target's.
        users: user rows of ``env.mu``.
        n: logged impressions per user.
        seed: seed of the impressions and clicks.

    Returns:
        tuple: ``(X, rewards)`` lists with one ``(n, d)`` / ``(n,)`` array per user.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    if len(features) != env.n_items:
        raise ValueError(f"features has {len(features)} rows, the source environment {env.n_items} items")
    rng = np.random.default_rng(seed)
    X, R = [], []
    for u in np.asarray(users, dtype=int):
        items = rng.integers(env.n_items, size=n)
        X.append(features[items])
        R.append(env.click(rng, np.full(n, u), items))
    return X, R


def feature_sets(setting: ShopSetting, users, dims=(32,), warm_n: int = 200, warm_weight: float = 0.3,
                 seed: int = config.DEFAULT_SEED) -> dict:
    """The compared item representations for the clothing bandit.

    Text features are PCA-``dim`` of the MiniLM embeddings, each domain centred on its own mean
    (``text_features(..., groups=domain)``), so electronics logs can warm-start a clothing bandit.

    Args:
        setting: from :func:`shop_setting`.
        users: the simulated users (their source logs are drawn for the warm start).
        dims: PCA dimensions of the text features; the warm start uses the first one.
        warm_n: logged electronics impressions per user.
        warm_weight: weight of each logged impression.
        seed: seed of the source logs.

    Returns:
        dict: name -> ``(target features, warm-start logs or None)``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    out = {"one-hot": (one_hot_features(setting.target.n_items), None)}
    domain = setting.shop.items["domain"].to_numpy()
    for k, dim in enumerate(dims):
        F = text_features(setting.embeddings, dim, groups=domain)
        out[f"text PCA-{dim}"] = (F[setting.target_rows], None)
        if k == 0:
            logs = source_logs(setting.source, F[setting.source_rows], users, warm_n, seed)
            out[f"text PCA-{dim} + warm start"] = (F[setting.target_rows], (logs, warm_weight))
    return out


def profile_scores(setting: ShopSetting) -> np.ndarray:
    """A transfer policy's scores without any target feedback: electronics history → clothing items.

    Each user's profile is the mean (domain-centred) MiniLM embedding of the electronics items they
    bought; a clothing item scores its dot product with it (zero for users without electronics).

    Returns:
        np.ndarray: ``(n_users, n_target_items)``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    from translearn_lib.config import ITEM_COL, USER_COL

    E = np.asarray(setting.embeddings, dtype=float).copy()
    for rows in (setting.target_rows, setting.source_rows):
        E[rows] -= E[rows].mean(axis=0)
    bought = setting.shop.domain("electronics")
    n_users = setting.target.n_users
    X = np.zeros((n_users, len(E)))
    X[bought[USER_COL].to_numpy(), bought[ITEM_COL].to_numpy()] = 1.0
    profile = X @ E / np.maximum(X.sum(axis=1, keepdims=True), 1.0)
    return profile @ E[setting.target_rows].T


def make_policy(name: str, features, n_bandits: int, seed: int, warm=None, **settings):
    """A fresh policy ``name`` (``POLICIES``) with ``DEFAULTS`` overridden by ``settings``, warm-started if asked.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; choose from {sorted(POLICIES)}")
    policy = POLICIES[name](features, n_bandits=n_bandits, seed=seed, **{**DEFAULTS[name], **settings})
    if warm is not None:
        (X, R), weight = warm
        policy.warm_start(X, R, weight=weight)
    return policy


def regret_runs(env: BanditEnv, features: dict, users, T: int, seeds, policies=tuple(POLICIES),
                settings: dict | None = None, checkpoints=None) -> list[dict]:
    """Cumulative regret of every (policy, feature set, seed), averaged over ``users``.

    Args:
        env: the target environment.
        features: from :func:`feature_sets` (name -> (features, warm or None)).
        users: simulated users (one bandit each).
        T: rounds.
        seeds: environment / policy seeds (the same pages and click draws for every policy of a seed).
        policies: policy names.
        settings: policy name -> overrides of ``DEFAULTS``.
        checkpoints: rounds at which the cumulative regret is recorded (default: 20 evenly spaced).

    Returns:
        list[dict]: rows ``policy, features, seed, T, regret, seconds, curve_t, curve``.

    Taught in notebooks/08_transfer_and_bandits.ipynb.
    """
    settings = settings or {}
    checkpoints = np.unique(np.linspace(T / 20, T, 20).astype(int)) if checkpoints is None else np.asarray(checkpoints)
    rows = []
    for seed in seeds:
        for fname, (F, warm) in features.items():
            for pname in policies:
                start = time.perf_counter()
                policy = make_policy(pname, F, len(users), seed, warm, **settings.get(pname, {}))
                curve = simulate(env, policy, users, T, seed=seed).cumulative_regret()
                rows.append({"policy": pname, "features": fname, "seed": int(seed), "T": int(T),
                             "regret": float(curve[-1]), "seconds": time.perf_counter() - start,
                             "curve_t": checkpoints.tolist(), "curve": curve[checkpoints - 1].tolist()})
    return rows
