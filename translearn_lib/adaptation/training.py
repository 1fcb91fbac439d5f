"""One training loop for unsupervised domain adaptation: source labels, unlabelled target inputs.

Every method trains the same classifier (a ``"base"`` feature extractor and a ``"head"``, the layout
of :mod:`translearn_lib.keras_transfer`) on labelled source batches, and adds a term that pulls the
features of a source batch and a target batch together:

==============  ==========================================================================
method          added to the source cross-entropy
==============  ==========================================================================
source-only     nothing (the baseline; target images are never seen)
coral           ``weight * coral_loss(f_s, f_t)`` (Deep CORAL, Sun and Saenko 2016)
mmd             ``weight * mmd_loss(f_s, f_t)`` (multi-kernel MMD, DAN, Long et al. 2015)
dann            ``weight * BCE(domain head(GRL(f)), source = 1 / target = 0)`` with the
                reversal coefficient on the schedule of Ganin et al. 2016 (DANN)
==============  ==========================================================================

Source and target batches go through the base together (one concatenated batch), so BatchNorm
layers see both domains; the source-only baseline sees source batches only. Target *labels* are
never an argument of the loop.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from translearn_lib import config
from translearn_lib.adaptation import coral, dann, mmd
from translearn_lib.keras_transfer import FEATURES_NAME, HEAD_NAME, accuracy, check_xy, get_base, repeat_indices

METHODS = ("source-only", "coral", "mmd", "dann")


@dataclass
class AdaptationRun:
    """A trained classifier and what happened while training it.

    Attributes:
        model: the classifier (``"base"`` + ``"head"``), trained in place.
        method: one of :data:`METHODS`.
        history: one row every ``log_every`` steps: ``step``, ``class_loss``, ``align_loss``
            (the unweighted alignment term; the domain-classifier loss for DANN), ``lambda``.
        seconds: wall time of the loop.
        domain_head: DANN's domain classifier (``None`` for the other methods).
        settings: the arguments the run was trained with.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """

    model: object
    method: str
    history: pd.DataFrame
    seconds: float
    domain_head: object = None
    settings: dict = field(default_factory=dict)


def build_mlp_classifier(input_dim: int, n_classes: int, hidden: int = 128, features: int = 64,
                         seed: int = config.DEFAULT_SEED, name: str = "mlp"):
    """A small classifier on fixed vectors (e.g. text embeddings) with a ``"base"`` and a ``"head"``.

    ``base``: Dense(hidden, ReLU) -> Dense(features, ReLU) called ``"features"``; ``head``:
    Dense(n_classes, softmax).

    Args:
        input_dim: size of the input vectors.
        n_classes: number of classes (>= 2).
        hidden: units of the first layer.
        features: units of the ``"features"`` layer (what the alignment losses see).
        seed: seed of every initialiser.
        name: model name.

    Returns:
        keras.Sequential: ``Input -> base -> head``, not compiled.

    Raises:
        ValueError: on non-positive sizes or fewer than 2 classes.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import keras

    if min(int(input_dim), int(hidden), int(features)) < 1 or int(n_classes) < 2:
        raise ValueError(f"need positive sizes and >= 2 classes, got input_dim={input_dim}, hidden={hidden}, "
                         f"features={features}, n_classes={n_classes}")
    init = [keras.initializers.GlorotUniform(seed=int(seed) * 10 + i) for i in range(3)]
    base = keras.Sequential([
        keras.Input((int(input_dim),)),
        keras.layers.Dense(int(hidden), activation="relu", kernel_initializer=init[0], name="hidden"),
        keras.layers.Dense(int(features), activation="relu", kernel_initializer=init[1], name=FEATURES_NAME),
    ], name="base")
    head = keras.layers.Dense(int(n_classes), activation="softmax", kernel_initializer=init[2], name=HEAD_NAME)
    return keras.Sequential([keras.Input((int(input_dim),)), base, head], name=name)


def check_domains(xs, ys, xt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled source data and unlabelled target inputs, checked.

    Returns:
        tuple: ``(xs, ys, xt)`` as float32 / int64 arrays.

    Raises:
        ValueError: on empty data, labels that do not match the source rows, or source and target
            inputs of different shapes.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    xs, ys = check_xy(xs, ys)
    xt = np.asarray(xt)
    if xt.ndim == 0 or xt.shape[0] == 0:
        raise ValueError("empty target data: xt has no rows (adaptation needs unlabelled target inputs)")
    if xs.shape[1:] != xt.shape[1:]:
        raise ValueError(f"source inputs {xs.shape[1:]} and target inputs {xt.shape[1:]} differ in shape; "
                         "bring both domains to the same input size first")
    return xs.astype(np.float32), ys.astype(np.int64), xt.astype(np.float32)


def fit_adapted(classifier, xs, ys, xt, method: str = "dann", weight: float = 1.0, steps: int = 1000,
                batch_size: int = 64, lr: float = 1e-3, seed: int = config.DEFAULT_SEED, domain_units: int = 64,
                gamma: float = 10.0, log_every: int = 50, mmd_kernels: int = 5, optimizer: str = "adam",
                anneal_lr: bool = False) -> AdaptationRun:
    """Train ``classifier`` on labelled source data with one of the alignment terms of :data:`METHODS`.

    Each step draws a source batch and a target batch of ``batch_size`` rows (seeded passes over
    each domain, :func:`~translearn_lib.keras_transfer.repeat_indices`), computes
    ``cross_entropy(source) + weight * alignment`` and takes one Adam step on every trainable
    weight (for DANN also on the domain head). For DANN the reversal coefficient at step ``i`` is
    ``dann_lambda(i / steps, gamma)``. ``anneal_lr`` applies Ganin et al.'s learning-rate decay
    ``lr / (1 + 10 p) ** 0.75`` (``p = i / steps``) to any method.

    Args:
        classifier: a model with a ``"base"`` and a softmax ``"head"`` (trained in place; build a
            fresh one per run).
        xs: source inputs.
        ys: source labels (int).
        xt: target inputs (unlabelled: no target labels enter the loop).
        method: one of :data:`METHODS`.
        weight: weight of the alignment term (>= 0; ignored for source-only).
        steps: training steps (>= 1).
        batch_size: rows per domain per step (>= 2: covariances need two rows).
        lr: Adam learning rate (> 0).
        seed: seed of the batch order (and of DANN's domain head).
        domain_units: hidden units of DANN's domain head.
        gamma: steepness of DANN's lambda schedule.
        log_every: steps between two rows of the history.
        mmd_kernels: number of Gaussian kernels of the MMD.
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9, as in Ganin et al. 2016).
        anneal_lr: decay the learning rate as Ganin et al. 2016.

    Returns:
        AdaptationRun: the trained model, its history and wall time.

    Raises:
        ValueError: on an unknown method, a negative weight, bad step / batch settings, or data that
            fails :func:`check_domains`.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import keras
    import tensorflow as tf

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    weight = dann.check_lambda(weight) if method != "source-only" else 0.0
    if int(steps) < 1 or int(batch_size) < 2 or int(log_every) < 1:
        raise ValueError(f"steps and log_every must be >= 1 and batch_size >= 2, got {steps}, {log_every}, {batch_size}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    xs, ys, xt = check_domains(xs, ys, xt)
    steps, b = int(steps), int(batch_size)
    base = get_base(classifier)
    head = classifier.get_layer(HEAD_NAME)
    domain_head = None
    variables = list(classifier.trainable_variables)
    if method == "dann":
        domain_head = dann.build_domain_head(int(base.output_shape[-1]), units=domain_units, seed=seed)
        variables += list(domain_head.trainable_variables)
    opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr, momentum=0.9)
    opt.build(variables)
    domain_labels = tf.concat([tf.ones((b, 1)), tf.zeros((b, 1))], axis=0)

    @tf.function
    def train_step(xb, yb, tb, lam, lr_now):
        opt.learning_rate.assign(lr_now)
        with tf.GradientTape() as tape:
            if method == "source-only":
                fs = base(xb, training=True)
            else:
                f = base(tf.concat([xb, tb], axis=0), training=True)
                fs, ft = f[:b], f[b:]
            class_loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(yb, head(fs, training=True)))
            if method == "coral":
                align = coral.coral_loss(fs, ft)
            elif method == "mmd":
                align = mmd.mmd_loss(fs, ft, kernel_num=mmd_kernels)
            elif method == "dann":
                domain_head.get_layer("grl").lambda_.assign(lam)
                logits = domain_head(f, training=True)
                align = tf.reduce_mean(keras.losses.binary_crossentropy(domain_labels, logits, from_logits=True))
            else:
                align = tf.constant(0.0)
            total = class_loss + weight * align
        grads = tape.gradient(total, variables)
        opt.apply_gradients(zip(grads, variables))
        return class_loss, align

    idx_s = repeat_indices(len(xs), steps, b, seed)
    idx_t = repeat_indices(len(xt), steps, b, seed + 1)
    rows = []
    start = time.perf_counter()
    for i in range(steps):
        lam = dann.dann_lambda(i / steps, gamma) if method == "dann" else 0.0
        sl, tl = slice(i * b, (i + 1) * b), slice(i * b, (i + 1) * b)
        lr_now = lr / (1.0 + 10.0 * i / steps) ** 0.75 if anneal_lr else lr
        out = train_step(xs[idx_s[sl]], ys[idx_s[sl]], xt[idx_t[tl]], tf.constant(lam, tf.float32),
                         tf.constant(lr_now, tf.float32))
        if i % log_every == 0 or i == steps - 1:
            rows.append((i, float(out[0]), float(out[1]), lam))
    seconds = time.perf_counter() - start
    history = pd.DataFrame(rows, columns=["step", "class_loss", "align_loss", "lambda"])
    settings = dict(method=method, weight=weight, steps=steps, batch_size=b, lr=lr, seed=seed,
                    domain_units=domain_units, gamma=gamma, mmd_kernels=mmd_kernels, optimizer=optimizer,
                    anneal_lr=anneal_lr)
    return AdaptationRun(classifier, method, history, seconds, domain_head, settings)


def compare_methods(make_classifier: Callable[[int], object], xs, ys, xt, x_test, y_test,
                    methods: Mapping[str, Mapping], seeds: Sequence[int] = (0, 1, 2),
                    x_val=None, y_val=None, cache: bool = True, return_models: bool = False):
    """Train every method for every seed and measure target accuracy (results cached by settings).

    Each (method settings, seed) result is stored in the course cache
    (``config.cache_dir("results")``), keyed by the data, the evaluation sets, the settings, the
    classifier's initial weights (which pin its architecture and initialisation) and the Keras
    version, so the benchmark and the notebook share runs and a changed input never loads a stale
    number. ``seconds`` of a cached row is the time measured when it was computed.

    With ``return_models=True`` the trained classifiers are returned too, and stored under the same
    key (``config.cache_dir("models")``, a ``.keras`` file), so a later look at a run (its features,
    its predictions) reuses the model instead of training it again. A result whose model file is
    missing is trained again (same seed, same number).

    Args:
        make_classifier: ``seed -> classifier`` (a fresh model with ``"base"`` and ``"head"``).
        xs: source inputs.
        ys: source labels.
        xt: unlabelled target inputs used for adaptation.
        x_test: target test inputs.
        y_test: target test labels (only for measuring).
        methods: ``{row name: keyword arguments of fit_adapted}`` (``method`` among them).
        seeds: one run per seed (model initialisation and batch order).
        x_val: optional labelled validation inputs (e.g. a few labelled target images used only to
            choose settings, never to train).
        y_val: their labels.
        cache: read and write the results cache (``False``: always train).
        return_models: also return (and cache) the trained classifiers.

    Returns:
        pd.DataFrame: one row per (method, seed): ``method``, ``seed``, ``accuracy``,
        (``val_accuracy``), ``seconds``. With ``return_models=True`` a pair ``(results, models)``,
        ``models[(method, seed)]`` being the trained classifier (loaded models are not compiled).

    Raises:
        ValueError: on an empty ``methods`` or ``seeds``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    if not methods or not seeds:
        raise ValueError("pass at least one method and one seed")
    import keras

    from translearn_lib import cache as keyed_cache

    xs, ys, xt = check_domains(xs, ys, xt)
    data_key = keyed_cache.content_key(xs, ys, xt, np.asarray(x_test, np.float32), np.asarray(y_test),
                                       None if x_val is None else np.asarray(x_val, np.float32),
                                       None if y_val is None else np.asarray(y_val), keras.__version__)
    rows, models = [], {}
    for name, kwargs in methods.items():
        for seed in seeds:
            config.set_seed(int(seed))
            model = make_classifier(int(seed))
            init = [np.asarray(w) for w in model.get_weights()]
            key = keyed_cache.content_key(data_key, dict(kwargs), int(seed), [w.shape for w in init], *init)
            path = keyed_cache.entry("results", "adaptation", key, ".json")
            model_path = keyed_cache.entry("models", "adaptation", key, ".keras") if return_models else None
            row = keyed_cache.load_json(path) if cache else None
            trained = keyed_cache.load_keras(model_path) if (cache and return_models and row is not None) else None
            if row is None or (return_models and trained is None):
                run = fit_adapted(model, xs, ys, xt, seed=int(seed), **dict(kwargs))
                trained = run.model
                row = {"accuracy": accuracy(trained, x_test, y_test)}
                if x_val is not None:
                    row["val_accuracy"] = accuracy(trained, x_val, y_val)
                row["seconds"] = run.seconds
                if cache:
                    keyed_cache.save_json(path, row)
                    if return_models:
                        keyed_cache.save_keras(model_path, trained)
            rows.append({"method": name, "seed": int(seed), **row})
            models[(name, int(seed))] = trained
    results = pd.DataFrame(rows)
    return (results, models) if return_models else results


def summarize_methods(results: pd.DataFrame, baseline: str = "source-only", metric: str = "accuracy") -> pd.DataFrame:
    """Mean ± std over seeds per method, the gain over ``baseline`` (points) and seconds per run.

    Args:
        results: from :func:`compare_methods`.
        baseline: the row the gains are measured against.
        metric: the column to summarise.

    Returns:
        pd.DataFrame: index = method (in input order), columns ``mean``, ``std``, ``gain`` (mean
        difference to the baseline, in accuracy points x 100), ``seconds`` (median per run).

    Raises:
        ValueError: if ``baseline`` is not among the methods.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    order = list(dict.fromkeys(results["method"]))
    if baseline not in order:
        raise ValueError(f"baseline {baseline!r} is not among the methods {order}")
    g = results.groupby("method", sort=False)
    out = pd.DataFrame({"mean": g[metric].mean(), "std": g[metric].std(ddof=1).fillna(0.0),
                        "seconds": g["seconds"].median()}).loc[order]
    out.insert(2, "gain", 100 * (out["mean"] - out.loc[baseline, "mean"]))
    return out


__all__ = ["METHODS", "AdaptationRun", "build_mlp_classifier", "check_domains", "fit_adapted", "compare_methods",
           "summarize_methods"]
