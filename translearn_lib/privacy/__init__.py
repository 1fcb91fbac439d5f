"""Differential privacy for a recommender trained on private interaction logs.

* :mod:`.accounting` — ε of a DP-SGD run with ``dp-accounting``'s RDP and PLD accountants
  (Poisson-sampled Gaussian steps), the noise multiplier for a target ε, the RDP formula and both
  RDP → (ε, δ) conversions written out, the membership-advantage bound of an ε;
* :mod:`.dpsgd` — DP-SGD in a Keras 3 ``train_step`` (vectorised per-example clipping, Gaussian
  noise, the expected batch size as divisor) for a profile → catalogue head on frozen MiniLM features;
* :mod:`.attack` — membership inference by loss threshold (AUC, best advantage);
* :mod:`.task` — the private data: the generated shop's clothing histories, members and
  non-members, one example per user (so example-level DP is user-level DP);
* :mod:`.runner` — the chapter's ε → (NDCG@10, attack AUC) runs, shared with ``benchmarks/privacy.py``.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from .accounting import (check_dp_params, dpsgd_event, epsilon, membership_advantage_bound, noise_for_epsilon,
                         rdp_to_epsilon, sampled_gaussian_rdp, steps_for)
from .attack import loss_threshold_attack
from .dpsgd import DPConfig, batches, build_head, clip_gradients, example_losses, head_scores, train_head
from .runner import EPSILONS, baselines, privacy_run
from .task import ShopData, leave_one_out_examples, member_split, one_example_per_user, shop_data, user_profiles

__all__ = [
    "check_dp_params", "dpsgd_event", "epsilon", "membership_advantage_bound", "noise_for_epsilon", "rdp_to_epsilon",
    "sampled_gaussian_rdp", "steps_for", "loss_threshold_attack", "DPConfig", "batches", "build_head",
    "clip_gradients", "example_losses", "head_scores", "train_head", "ShopData", "leave_one_out_examples", "member_split",
    "one_example_per_user", "shop_data", "user_profiles", "EPSILONS", "baselines", "privacy_run",
]
