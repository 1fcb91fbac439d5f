"""Contextual bandits with transferred item features (chapter 08).

* :mod:`.env` — simulated environments with known click probabilities: the generated shop's
  ``true_scores`` and MovieLens-100K with a rating model fitted on all ratings; one-hot and
  PCA-of-text item features;
* :mod:`.policies` — ε-greedy, LinUCB and linear Thompson sampling in NumPy (many independent
  bandits in lock-step), warm start from logged data, and the simulation loop with regret;
* :mod:`.offpolicy` — logging a stochastic policy, and estimating a new policy's click rate from
  those logs: replay, inverse propensity scoring (IPS) and self-normalised IPS;
* :mod:`.runner` — the chapter's line-ups (features, source-domain logs, regret tables), shared
  with ``benchmarks/bandits.py``.

Taught in notebooks/08_transfer_and_bandits.ipynb.
"""

from .env import BanditEnv, fit_rating_model, movielens_env, one_hot_features, shop_env, sigmoid, text_features
from .policies import POLICIES, BanditRun, EpsilonGreedy, LinearPolicy, LinearThompson, LinUCB, simulate
from .offpolicy import (Logs, collect_logs, greedy_policy, importance_weights, ips, replay, snips, softmax_policy,
                        true_value, uniform_policy)
from .runner import DEFAULTS, ShopSetting, feature_sets, make_policy, pick_users, profile_scores, regret_runs, shop_setting, source_logs

__all__ = ["BanditEnv", "fit_rating_model", "movielens_env", "one_hot_features", "shop_env", "sigmoid",
           "text_features", "POLICIES", "BanditRun", "EpsilonGreedy", "LinearPolicy", "LinearThompson", "LinUCB",
           "simulate", "Logs", "collect_logs", "greedy_policy", "importance_weights", "ips", "replay", "snips",
           "softmax_policy", "true_value", "uniform_policy", "DEFAULTS", "ShopSetting", "feature_sets", "make_policy",
           "pick_users", "profile_scores", "regret_runs", "shop_setting", "source_logs"]
