"""The chapter's privacy runs: train the head at a target ε (or without DP), measure NDCG@10 and the attack.

:func:`privacy_run` calibrates σ for the target ε with the RDP accountant
(:func:`~translearn_lib.privacy.accounting.noise_for_epsilon`), trains the head with DP-SGD on the
members' examples (one per user), scores NDCG@10 on the **non-members'** clothing test items, and
runs the loss-threshold attack (members' training examples against non-members' examples built the
same way). Shared by notebooks/09 and ``benchmarks/privacy.py``.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import time



#: target ε values of the benchmark's curve
EPSILONS = (1.0, 2.0, 4.0, 8.0, 16.0)


def privacy_run(data, target_epsilon: float | None, seed: int = 0, epochs: float = 15, batch_size: int = 128,
                l2_norm_clip: float = 1.0, delta: float = 1e-5, hidden: int = 64, learning_rate: float = 3e-3,
                k: int = 10, return_model: bool = False):
    """One training run of the profile head at ``target_epsilon`` (``None``: no DP) and its measurements.

    Args:
        data: :class:`~translearn_lib.privacy.task.ShopData`.
        target_epsilon: ε to calibrate σ for (user-level: one example per user), or ``None``.
        seed: member split, example, initialisation, batch and noise seed.
        epochs: passes over the members (expected, with Poisson sampling).
        batch_size: expected batch size (q = batch_size / n_members).
        l2_norm_clip: C.
        delta: δ.
        hidden, learning_rate: the head.
        k: NDCG cut-off.
        return_model: also return the trained head.

    Returns:
        dict (or ``(dict, model)``): ``target_epsilon``, ``sigma``, ``epsilon_rdp``, ``epsilon_pld``, ``steps``, ``q``, ``ndcg``,
        ``recall`` (non-members' test items), ``attack_auc``, ``attack_advantage``, ``advantage_bound``,
        ``n_members``, ``seed``, ``seconds``.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.recommenders import evaluate_scores

    from .accounting import check_dp_params, epsilon, membership_advantage_bound, noise_for_epsilon, steps_for
    from .attack import loss_threshold_attack
    from .dpsgd import DPConfig, build_head, example_losses, head_scores, train_head
    from .task import member_split, one_example_per_user, user_profiles

    check_dp_params(delta=delta, l2_norm_clip=l2_norm_clip)
    start = time.perf_counter()
    split, E = data.task.target, data.target_emb
    H = split.matrix(["train", "valid"])
    members, nonmembers = member_split(H, seed=seed)
    Pm, ym = one_example_per_user(H, E, members, seed=seed)
    Pn, yn = one_example_per_user(H, E, nonmembers, seed=seed)
    q = batch_size / len(members)
    steps = steps_for(epochs, q)
    row = {"target_epsilon": target_epsilon, "seed": seed, "epochs": epochs, "steps": steps, "q": q,
           "n_members": int(len(members)), "sigma": None, "epsilon_rdp": None, "epsilon_pld": None,
           "advantage_bound": 1.0}
    dp = None
    if target_epsilon is not None:
        sigma = noise_for_epsilon(target_epsilon, q, steps, delta)
        dp = DPConfig(sigma, l2_norm_clip, batch_size)
        row.update(sigma=sigma, epsilon_rdp=epsilon(sigma, q, steps, delta, "rdp"),
                   epsilon_pld=epsilon(sigma, q, steps, delta, "pld"),
                   advantage_bound=membership_advantage_bound(target_epsilon, delta))
    model = build_head(E, hidden=hidden, dp=dp, learning_rate=learning_rate, seed=seed)
    train_head(model, Pm, ym, epochs=epochs, batch_size=batch_size, seed=seed)
    profiles = user_profiles(H, E)
    res = evaluate_scores(lambda u: head_scores(model, profiles[u]), split, k=k, users=nonmembers)
    attack = loss_threshold_attack(example_losses(model, Pm, ym), example_losses(model, Pn, yn))
    row.update(ndcg=res["ndcg"], recall=res["recall"], attack_auc=attack["auc"], attack_advantage=attack["advantage"],
               seconds=round(time.perf_counter() - start, 1))
    return (row, model) if return_model else row


def baselines(data, seed: int = 0, k: int = 10) -> dict:
    """NDCG@10 on the non-members' test items of two models that need no training on private data.

    ``popularity`` counts purchases (private data too, but a simple aggregate); ``text profile`` is the
    untrained head: the user's mean MiniLM embedding against each item's.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.recommenders import Popularity, evaluate_scores

    from .dpsgd import build_head, head_scores
    from .task import member_split, user_profiles

    split, E = data.task.target, data.target_emb
    H = split.matrix(["train", "valid"])
    _, nonmembers = member_split(H, seed=seed)
    pop = Popularity().fit(split)
    head = build_head(E, seed=seed)
    profiles = user_profiles(H, E)
    return {"popularity": evaluate_scores(pop.score, split, k=k, users=nonmembers)["ndcg"],
            "text profile": evaluate_scores(lambda u: head_scores(head, profiles[u]), split, k=k, users=nonmembers)["ndcg"]}
