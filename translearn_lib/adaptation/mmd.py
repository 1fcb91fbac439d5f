"""Maximum mean discrepancy (MMD) with a family of Gaussian kernels, as in DAN (Long et al. 2015).

``MMD^2(P, Q) = E k(s, s') + E k(t, t') - 2 E k(s, t)`` is the squared distance between the mean
embeddings of two distributions in the kernel's feature space; with a characteristic kernel it is 0
only when ``P = Q``. DAN uses a convex combination of several Gaussian kernels
``k_i(a, b) = exp(-||a - b||^2 / sigma_i)`` with bandwidths spread around the average squared distance
of the batch, so that no single bandwidth has to be tuned; here every kernel gets the same weight
``1 / kernel_num`` (DAN learns the weights, TLlib's DAN fixes them too). This module computes the biased (V-statistic) batch estimate, the one
DAN-style training minimises; it is slightly positive even for two samples of one distribution and
shrinks as the batches grow.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

import numpy as np

from translearn_lib.adaptation.coral import check_feature_batches


def _check_kernel_args(kernel_mul: float, kernel_num: int) -> None:
    if not kernel_mul > 1.0:
        raise ValueError(f"kernel_mul must be > 1 (the ratio between neighbouring bandwidths), got {kernel_mul!r}")
    if not isinstance(kernel_num, (int, np.integer)) or kernel_num < 1:
        raise ValueError(f"kernel_num must be a positive integer, got {kernel_num!r}")


def bandwidth_multipliers(kernel_mul: float = 2.0, kernel_num: int = 5) -> np.ndarray:
    """Factors applied to the base bandwidth: ``kernel_mul ** (i - kernel_num // 2)``.

    With the defaults: 1/4, 1/2, 1, 2, 4 times the mean squared distance.

    Args:
        kernel_mul: ratio between neighbouring bandwidths (> 1).
        kernel_num: number of kernels (>= 1).

    Returns:
        np.ndarray: ``(kernel_num,)`` factors.

    Raises:
        ValueError: on ``kernel_mul <= 1`` or ``kernel_num < 1``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    _check_kernel_args(kernel_mul, kernel_num)
    return float(kernel_mul) ** (np.arange(kernel_num) - kernel_num // 2)


def mmd_loss(source, target, kernel_mul: float = 2.0, kernel_num: int = 5, bandwidth: float | None = None):
    """Multi-kernel Gaussian MMD^2 between two feature batches (biased estimate).

    ``(1 / m) sum_i [mean K_i(S, S) + mean K_i(T, T) - 2 mean K_i(S, T)]`` over ``m = kernel_num`` kernels
    ``K_i(a, b) = exp(-||a - b||^2 / (base * m_i))`` with
    the factors ``m_i`` of :func:`bandwidth_multipliers`; the result lies in [0, 2].
    ``base`` is ``bandwidth`` if given, else the mean squared distance between distinct rows of the
    joint batch (treated as a constant: no gradient flows through it).

    Args:
        source: ``(n_s, d)`` source features (NumPy array or tensor).
        target: ``(n_t, d)`` target features.
        kernel_mul: ratio between neighbouring bandwidths (> 1).
        kernel_num: number of Gaussian kernels (>= 1).
        bandwidth: fixed base bandwidth (> 0), or ``None`` for the batch's mean squared distance.

    Returns:
        float for NumPy inputs, a scalar tensor (differentiable) otherwise.

    Raises:
        ValueError: on mismatched feature sizes, empty batches, or bad kernel settings.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    check_feature_batches(source, target, min_rows=1, name="mmd_loss")
    _check_kernel_args(kernel_mul, kernel_num)
    if bandwidth is not None and not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0 or None, got {bandwidth!r}")
    from keras import ops

    numpy_in = isinstance(source, (np.ndarray, list, tuple)) and isinstance(target, (np.ndarray, list, tuple))
    if numpy_in:
        source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    ns = ops.shape(source)[0]
    joint = ops.concatenate([source, target], axis=0)
    sq = ops.sum(ops.square(joint), axis=1)
    dist = ops.maximum(sq[:, None] + sq[None, :] - 2.0 * ops.matmul(joint, ops.transpose(joint)), 0.0)
    if bandwidth is None:
        n = ops.cast(ops.shape(joint)[0], dist.dtype)
        base = ops.stop_gradient(ops.sum(dist) / ops.maximum(n * n - n, 1.0))
        base = ops.maximum(base, 1e-12)  # identical rows everywhere: any bandwidth gives MMD 0
    else:
        base = ops.cast(bandwidth, dist.dtype)
    factors = bandwidth_multipliers(kernel_mul, kernel_num)
    kernels = sum(ops.exp(-dist / (base * float(m))) for m in factors) / float(len(factors))
    k_ss = ops.mean(kernels[:ns, :ns])
    k_tt = ops.mean(kernels[ns:, ns:])
    k_st = ops.mean(kernels[:ns, ns:])
    loss = k_ss + k_tt - 2.0 * k_st
    return float(ops.convert_to_numpy(loss)) if numpy_in else loss


__all__ = ["bandwidth_multipliers", "mmd_loss"]
