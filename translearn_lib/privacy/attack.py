"""Membership inference by loss threshold: was this user's example in the training set?

A model fits its training examples better than unseen ones, so a low loss hints "member" (Yeom et
al. 2018). The attacker scores each candidate by ``-loss`` and the attack's quality is the ROC AUC of
that score for members against non-members (0.5 = guessing) and its best advantage TPR − FPR over all
thresholds; a DP guarantee caps the advantage
(:func:`translearn_lib.privacy.accounting.membership_advantage_bound`).

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import numpy as np


def loss_threshold_attack(member_losses, nonmember_losses) -> dict:
    """AUC and best advantage of the attack "member if loss < t", over every threshold t.

    Args:
        member_losses: per-example losses of training examples.
        nonmember_losses: per-example losses of examples the model never saw (same distribution).

    Returns:
        dict: ``auc`` (ties count one half), ``advantage`` (max TPR − FPR), ``threshold`` (the loss
        at which it is reached), ``n_members``, ``n_nonmembers``.

    Raises:
        ValueError: an empty group or non-finite losses.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from scipy.stats import rankdata

    m, n = np.asarray(member_losses, float).ravel(), np.asarray(nonmember_losses, float).ravel()
    if m.size == 0 or n.size == 0:
        raise ValueError("need at least one member and one non-member loss")
    if not (np.isfinite(m).all() and np.isfinite(n).all()):
        raise ValueError("losses must be finite")
    ranks = rankdata(np.concatenate([-m, -n]))          # higher score = lower loss = "member"
    auc = (ranks[: m.size].sum() - m.size * (m.size + 1) / 2) / (m.size * n.size)
    thresholds = np.unique(np.concatenate([m, n]))
    tpr = np.searchsorted(np.sort(m), thresholds, side="right") / m.size
    fpr = np.searchsorted(np.sort(n), thresholds, side="right") / n.size
    best = int(np.argmax(tpr - fpr))
    return {"auc": float(auc), "advantage": float(max(0.0, tpr[best] - fpr[best])),
            "threshold": float(thresholds[best]), "n_members": int(m.size), "n_nonmembers": int(n.size)}
