"""Mixup of embeddings (Zhang et al. 2018): convex combinations of two examples and of their labels.

``x̃ = λ x_a + (1 − λ) x_b``, ``ỹ = λ y_a + (1 − λ) y_b`` with ``λ ~ Beta(α, α)``. Here ``x`` is a user
profile (a mean text embedding) and ``y`` the one-hot label over the catalogue; the mixed examples ask
the model to behave linearly between users, a smoothness prior that helps most when data are few.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import numpy as np


def mixup(X, Y, alpha: float = 0.4, n: int | None = None, seed: int = 0):
    """``n`` mixed examples from random pairs of rows of ``(X, Y)``.

    Args:
        X: (m, d) inputs.
        Y: (m, k) soft / one-hot labels.
        alpha: Beta(α, α) concentration (> 0); small α keeps λ near 0 or 1.
        n: number of mixed examples (default m).
        seed: pairing and λ seed.

    Returns:
        tuple: ``(X_mix (n, d), Y_mix (n, k), lam (n,))``.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) < 2:
        raise ValueError(f"X and Y must be 2-D with the same number (>= 2) of rows, got {X.shape} and {Y.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    rng = np.random.default_rng(seed)
    n = len(X) if n is None else int(n)
    a, b = rng.integers(len(X), size=n), rng.integers(len(X), size=n)
    lam = rng.beta(alpha, alpha, size=n)
    return lam[:, None] * X[a] + (1 - lam[:, None]) * X[b], lam[:, None] * Y[a] + (1 - lam[:, None]) * Y[b], lam
