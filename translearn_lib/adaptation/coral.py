"""CORAL: align the second-order statistics (covariances) of source and target features.

Two forms, both from Sun and Saenko:

* **closed-form CORAL** (Sun, Feng and Saenko, AAAI 2016, "Return of Frustratingly Easy Domain
  Adaptation"): whiten the source features with ``C_s^{-1/2}`` and re-colour them with ``C_t^{1/2}``,
  where ``C = cov + eps * I``; a classifier trained on the transformed source is then applied to the
  untouched target. No training, one eigen-decomposition per domain.
* **Deep CORAL** (Sun and Saenko, ECCV-W 2016): the loss ``||C_s - C_t||_F^2 / (4 d^2)`` between the
  covariances of two feature batches, added to the classification loss of a network.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

import numpy as np


def check_feature_batches(source, target, min_rows: int = 1, name: str = "loss") -> tuple[int, int, int]:
    """Check that two feature batches are 2-D, non-empty and have the same number of features.

    Works on NumPy arrays and on tensors with a static shape.

    Args:
        source: ``(n_s, d)`` source features.
        target: ``(n_t, d)`` target features.
        min_rows: rows each batch needs at least (2 for a covariance).
        name: what is being computed, for the error message.

    Returns:
        tuple: ``(n_s, n_t, d)``.

    Raises:
        ValueError: on a batch that is not 2-D, has fewer than ``min_rows`` rows, or a different
            feature size than the other.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    shapes = []
    for label, x in (("source", source), ("target", target)):
        shape = tuple(getattr(x, "shape", np.shape(x)))
        if len(shape) != 2:
            raise ValueError(f"{name}: {label} features must be a 2-D (rows, features) batch, got shape {shape}; "
                             "flatten images or take a feature layer first")
        if shape[0] is not None and int(shape[0]) < min_rows:
            raise ValueError(f"{name}: the {label} batch has {int(shape[0])} rows, needs at least {min_rows} "
                             "(an empty batch has no statistics: check the data split and the batch size)")
        shapes.append(shape)
    (ns, ds), (nt, dt) = shapes
    if ds is not None and dt is not None and int(ds) != int(dt):
        raise ValueError(f"{name}: source and target have different feature sizes ({int(ds)} vs {int(dt)}); "
                         "both must come from the same feature extractor")
    return ns, nt, ds


def _is_numpy(*xs) -> bool:
    return all(isinstance(x, (np.ndarray, list, tuple)) for x in xs)


def covariance(x):
    """Unbiased covariance of the columns of ``x``, ``(x - mean)^T (x - mean) / (n - 1)``.

    Works on NumPy arrays and on Keras tensors (``keras.ops``), so it can sit inside a loss.

    Args:
        x: ``(n, d)`` features, ``n >= 2``.

    Returns:
        ``(d, d)`` covariance (NumPy for NumPy input, a tensor otherwise).

    Raises:
        ValueError: if ``x`` is not 2-D with at least 2 rows.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    shape = tuple(getattr(x, "shape", np.shape(x)))
    if len(shape) != 2 or (shape[0] is not None and int(shape[0]) < 2):
        raise ValueError(f"covariance needs a (n >= 2, d) batch, got shape {shape}")
    if _is_numpy(x):
        x = np.asarray(x, dtype=np.float64)
        xc = x - x.mean(axis=0, keepdims=True)
        return xc.T @ xc / (len(x) - 1)
    from keras import ops

    n = ops.cast(ops.shape(x)[0], x.dtype)
    xc = x - ops.mean(x, axis=0, keepdims=True)
    return ops.matmul(ops.transpose(xc), xc) / (n - 1.0)


def coral_loss(source, target):
    """Deep CORAL loss: squared Frobenius distance of the two covariances, divided by ``4 d^2``.

    ``loss = ||C_s - C_t||_F^2 / (4 d^2)``, zero when both batches have the same covariance,
    whatever their means.

    Args:
        source: ``(n_s, d)`` source features (NumPy array or tensor), ``n_s >= 2``.
        target: ``(n_t, d)`` target features, ``n_t >= 2``.

    Returns:
        float for NumPy inputs, a scalar tensor (differentiable) otherwise.

    Raises:
        ValueError: on mismatched feature sizes, batches that are not 2-D, or fewer than 2 rows.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    _, _, d = check_feature_batches(source, target, min_rows=2, name="coral_loss")
    if _is_numpy(source, target):
        diff = covariance(source) - covariance(target)
        return float(np.sum(diff ** 2) / (4.0 * d * d))
    from keras import ops

    diff = covariance(source) - covariance(target)
    d = ops.cast(ops.shape(source)[1], source.dtype)
    return ops.sum(ops.square(diff)) / (4.0 * d * d)


def symmetric_power(c: np.ndarray, power: float) -> np.ndarray:
    """``c ** power`` for a symmetric positive-definite matrix, via its eigen-decomposition.

    Args:
        c: ``(d, d)`` symmetric positive-definite matrix.
        power: e.g. ``-0.5`` (whitening) or ``0.5`` (colouring).

    Returns:
        np.ndarray: ``V diag(lambda ** power) V^T``.

    Raises:
        ValueError: if ``c`` is not square or not positive definite.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    c = np.asarray(c, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"need a square matrix, got shape {c.shape}")
    vals, vecs = np.linalg.eigh((c + c.T) / 2.0)
    if vals.min() <= 0:
        raise ValueError(f"matrix is not positive definite (smallest eigenvalue {vals.min():.3g}): raise eps")
    return (vecs * vals ** power) @ vecs.T


def coral_align(source, target, eps: float = 1.0) -> np.ndarray:
    """Closed-form CORAL: re-colour the source features with the target covariance.

    ``C_s = cov(X_s) + eps I``, ``C_t = cov(X_t) + eps I``; returns ``X_s C_s^{-1/2} C_t^{1/2}``
    (Sun et al. 2016, Algorithm 1: the features are not centred, only their covariance is changed).
    Train a classifier on the result with the source labels and apply it to the target as it is.
    ``eps`` (the paper's 1, for standardised features) keeps both matrices invertible; for features
    with a small scale, standardise them first or use a smaller ``eps``.

    Args:
        source: ``(n_s, d)`` source features, ``n_s >= 2``.
        target: ``(n_t, d)`` target features, ``n_t >= 2``.
        eps: ridge added to both covariances (> 0).

    Returns:
        np.ndarray: ``(n_s, d)`` float64 aligned source features; their covariance is ``C_t``'s
        (minus ``eps I``) up to the ridge.

    Raises:
        ValueError: on mismatched feature sizes, too few rows, or ``eps <= 0``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    xs, xt = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    check_feature_batches(xs, xt, min_rows=2, name="coral_align")
    if not eps > 0:
        raise ValueError(f"eps must be > 0 (it keeps the covariances invertible), got {eps!r}")
    eye = np.eye(xs.shape[1])
    cs = covariance(xs) + eps * eye
    ct = covariance(xt) + eps * eye
    return xs @ symmetric_power(cs, -0.5) @ symmetric_power(ct, 0.5)


__all__ = ["check_feature_batches", "covariance", "coral_loss", "symmetric_power", "coral_align"]
