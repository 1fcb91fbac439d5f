"""How far apart are two domains, and did adaptation change the predictions? Measured without target labels.

* :func:`proxy_a_distance`: train a domain classifier (source vs target) on half of the features,
  measure its error ``eps`` on the other half; ``PAD = 2 (1 - 2 eps)`` (Ben-David et al. 2007,
  used by Ganin et al. 2016). 0 means "indistinguishable", 2 "perfectly separable".
* :func:`label_distribution`: the share of predictions per class. When adaptation moves the
  predicted class mix of the target far from what the source-only model predicted, suspect a
  label-distribution shift that marginal alignment is forcing into the wrong classes.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

import numpy as np

from translearn_lib import config
from translearn_lib.adaptation.coral import check_feature_batches


def proxy_a_distance(source, target, test_size: float = 0.5, seed: int = config.DEFAULT_SEED,
                     max_rows: int | None = 2000) -> dict:
    """Proxy A-distance between two feature sets, from a held-out domain classifier.

    A logistic regression on standardised features learns to tell the domains apart on a
    stratified half of the rows (both domains subsampled to the same count, so chance is 50 %);
    ``eps`` is its error on the other half, ``PAD = 2 (1 - 2 min(eps, 0.5))``.

    Args:
        source: ``(n_s, d)`` source features.
        target: ``(n_t, d)`` target features.
        test_size: share of the rows held out to measure the error, in (0, 1).
        seed: seed of the subsampling and the split.
        max_rows: at most this many rows per domain (``None``: all, balanced to the smaller domain).

    Returns:
        dict: ``accuracy`` (held-out domain-classifier accuracy), ``error`` and ``pad``, rounded to
        4 decimals, and ``n`` (rows per domain used).

    Raises:
        ValueError: on mismatched feature sizes, fewer than 4 rows in a domain, or a bad ``test_size``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xs = np.asarray(source, dtype=np.float64).reshape(len(source), -1) if np.ndim(source) > 2 else np.asarray(source, np.float64)
    xt = np.asarray(target, dtype=np.float64).reshape(len(target), -1) if np.ndim(target) > 2 else np.asarray(target, np.float64)
    check_feature_batches(xs, xt, min_rows=4, name="proxy_a_distance")
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    rng = np.random.default_rng(seed)
    n = min(len(xs), len(xt)) if max_rows is None else min(len(xs), len(xt), int(max_rows))
    xs = xs[rng.permutation(len(xs))[:n]]
    xt = xt[rng.permutation(len(xt))[:n]]
    x = np.concatenate([xs, xt])
    d = np.concatenate([np.ones(n, dtype=int), np.zeros(n, dtype=int)])
    x_tr, x_te, d_tr, d_te = train_test_split(x, d, test_size=test_size, stratify=d, random_state=seed)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    acc = float(clf.fit(x_tr, d_tr).score(x_te, d_te))
    err = 1.0 - acc
    return {"accuracy": round(acc, 4), "error": round(err, 4), "pad": round(2.0 * (1.0 - 2.0 * min(err, 0.5)), 4),
            "n": int(n)}


def label_distribution(predictions, n_classes: int) -> np.ndarray:
    """Share of each class among predicted labels (or among the argmax of probability rows).

    Args:
        predictions: ``(n,)`` int labels or ``(n, n_classes)`` probabilities.
        n_classes: number of classes.

    Returns:
        np.ndarray: ``(n_classes,)`` shares summing to 1.

    Raises:
        ValueError: on empty predictions or labels outside ``[0, n_classes)``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    p = np.asarray(predictions)
    if p.ndim == 2:
        p = p.argmax(axis=1)
    if p.size == 0:
        raise ValueError("no predictions: pass at least one label")
    if p.min() < 0 or p.max() >= n_classes:
        raise ValueError(f"labels must be in [0, {n_classes}), got range [{p.min()}, {p.max()}]")
    return np.bincount(p.astype(int), minlength=n_classes) / p.size


def total_variation(p, q) -> float:
    """Total-variation distance ``0.5 * sum |p - q|`` between two distributions over the same classes.

    Raises:
        ValueError: if the shapes differ.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.shape != q.shape:
        raise ValueError(f"distributions differ in shape: {p.shape} vs {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


__all__ = ["proxy_a_distance", "label_distribution", "total_variation"]
