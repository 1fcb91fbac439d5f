"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) in NumPy: the one learner of every strategy.

:func:`als_solve` is one half step (all user factors given the item factors, or the reverse),
vectorised over rows, with the options the strategies need: several domains sharing the rows, a prior
to pull the solution towards (fine-tuning) and a mask of the columns that count as negatives.
:func:`factorize` alternates half steps on one matrix. Every strategy fits in about a second on a
laptop CPU and shares this learner, so differences in the results come from what is transferred, not
from the optimiser.

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from translearn_lib import config


def _outer(factors: np.ndarray) -> np.ndarray:
    """Row-wise outer products flattened: (n, k) -> (n, k*k)."""
    return np.einsum("ik,il->ikl", factors, factors).reshape(len(factors), -1)


def als_solve(R: sp.csr_matrix, Y: np.ndarray, reg: float, alpha: float, rows_mask=None,
              prior=None, prior_weight=0.0, extra=None, y_mask=None) -> np.ndarray:
    """One implicit-ALS half step: the best factors for every row of ``R`` given fixed ``Y``.

    Minimises, for each row u, ``sum_i c_ui (r_ui - x_u . y_i)^2 + reg |x_u|^2 + prior_weight |x_u - prior_u|^2``
    with confidence ``c_ui = 1 + alpha`` on observed entries and 1 elsewhere. Several blocks
    (domains) can share the rows: pass the others as ``extra = [(R2, Y2, weight2, rows_mask2), ...]``.

    Args:
        R: csr (n_rows, n_cols) binary observations.
        Y: (n_cols, k) fixed factors of the columns.
        reg: L2 regularisation.
        alpha: confidence of an observed entry.
        rows_mask: bool (n_rows,) rows that take part in this block (default: rows with any
            observation); the others ignore it (a missing domain is unknown, not negative).
        prior: optional (n_rows, k) values to pull the solution towards (fine-tuning).
        prior_weight: strength of that pull (scalar or (n_rows,) array).
        extra: further blocks ``(R, Y, weight, rows_mask)`` over the same rows.
        y_mask: bool (n_cols,) columns whose unobserved entries count as negatives (default all;
            in an item step, pass the users active in this domain).

    Returns:
        np.ndarray: (n_rows, k) factors.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    k = Y.shape[1]
    n = R.shape[0]
    A = np.zeros((n, k * k))
    b = np.zeros((n, k))
    for Rb, Yb, w, mask, ym in [(R, Y, 1.0, rows_mask, y_mask)] + [tuple(e) + (None,) * (5 - len(e)) for e in extra or []]:
        if mask is None:
            mask = np.diff(Rb.indptr) > 0
        mask = np.asarray(mask, dtype=float)[:, None]
        Yg = Yb if ym is None else Yb[np.asarray(ym, dtype=bool)]
        A += w * mask * ((Yg.T @ Yg).ravel()[None, :] + alpha * (Rb @ _outer(Yb)))
        b += w * mask * ((1 + alpha) * (Rb @ Yb))
    A = A.reshape(n, k, k) + reg * np.eye(k)[None]
    if prior is not None:
        pw = np.broadcast_to(np.asarray(prior_weight, dtype=float), (n,))
        A = A + pw[:, None, None] * np.eye(k)[None]
        b = b + pw[:, None] * prior
    return np.linalg.solve(A, b[..., None])[..., 0]


def init_factors(rng: np.random.Generator, n: int, k: int, scale: float = 0.1) -> np.ndarray:
    """Random starting factors: normal with standard deviation ``scale / sqrt(k)``.

    Args:
        rng: the generator to draw from (its state advances).
        n: number of rows (items).
        k: number of factors.
        scale: expected norm of a row.

    Returns:
        np.ndarray: (n, k) float64.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    return rng.normal(0, scale / np.sqrt(k), size=(n, k))


def matrix_fingerprint(R) -> tuple:
    """Cheap identity of a sparse matrix, so cached source factors are reused only for the same source.

    Args:
        R: a sparse (or dense) matrix.

    Returns:
        tuple: shape, number of stored entries and checksums of the column indices and row pointers.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    R = sp.csr_matrix(R)
    return (R.shape, R.nnz, int(R.indices.sum()), int(R.indptr.sum()))


def factorize(R: sp.csr_matrix, factors: int = 16, reg: float = 30.0, alpha: float = 2.0, iters: int = 8,
              seed: int = config.DEFAULT_SEED):
    """Implicit ALS on one matrix: alternate user and item half steps from random item factors.

    Args:
        R: csr (n_users, n_items) binary observations.
        factors: number of factors.
        reg: L2 regularisation of both sides.
        alpha: confidence of an observed entry.
        iters: rounds of (user step, item step); a last user step follows.
        seed: seed of the initial item factors.

    Returns:
        tuple: ``(user_factors, item_factors)`` of shapes (n_users, factors) and (n_items, factors).

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    rng = np.random.default_rng(seed)
    R = sp.csr_matrix(R, dtype=np.float64)
    Rt = R.T.tocsr()
    Q = init_factors(rng, R.shape[1], factors)
    P = np.zeros((R.shape[0], factors))
    for _ in range(iters):
        P = als_solve(R, Q, reg, alpha)
        Q = als_solve(Rt, P, reg, alpha)
    P = als_solve(R, Q, reg, alpha)
    return P, Q
