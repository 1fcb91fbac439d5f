"""Feature extraction and fine-tuning in Keras 3: freezing, BatchNorm, learning curves, negative transfer.

The chapter's running example is a small CNN pretrained on one digit domain (MNIST, the source)
and reused on another (optdigits, the target), see :mod:`translearn_lib.datasets.digits`. The
helpers are generic Keras 3 code: they work for any model whose feature extractor is a sub-model
called ``"base"`` followed by a classifier layer called ``"head"``.

Three facts about Keras 3 that the helpers encode:

* ``layer.trainable = False`` on a model freezes every layer inside it, and a frozen
  ``BatchNormalization`` layer runs in inference mode (it normalises with its moving statistics and
  never updates them), even inside ``model.fit``.
* Calling a base with ``training=False`` is *not* enough once it is trainable again: ``fit`` passes
  ``training=True`` down and the moving statistics drift. To fine-tune with BatchNorm fixed, freeze
  the BatchNorm layers themselves (:func:`unfreeze` does it).
* Every ``compile`` + ``fit`` on a new model traces a new TensorFlow graph (about a second on a
  laptop CPU, far more than 200 small training steps). :func:`learning_curve` therefore compiles
  one model per strategy and resets its weights and optimizer state between runs.

Taught in notebooks/01_transfer_basics.ipynb.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import config
from .datasets.digits import stratified_subset

BASE_NAME = "base"
HEAD_NAME = "head"
FEATURES_NAME = "features"
DEFAULT_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
# Adam learning rate when only a new head learns on a frozen base. The head is one small softmax
# layer on fixed features, so it tolerates (and needs) a larger step than a whole network: measured on
# MNIST -> optdigits with 200 steps, 1e-3 left it at 0.83 test accuracy with all target labels while
# a logistic regression on the same frozen features reached 0.98; 1e-2 gives 0.97.
HEAD_ONLY_LR = 1e-2


def _keras():
    import keras  # imported lazily: importing translearn_lib must not pull in TensorFlow

    return keras


# --------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------

def build_digit_cnn(input_shape: Sequence[int] = (8, 8, 1), n_classes: int = 10,
                    filters: Sequence[int] = (16, 32), units: int = 64, bn_momentum: float = 0.9,
                    seed: int = config.DEFAULT_SEED, name: str = "cnn"):
    """A small CNN with a ``"base"`` feature extractor and a ``"head"`` classifier.

    ``base``: two blocks Conv2D (no bias) -> BatchNormalization -> ReLU (max-pooling after the first
    block, and after the second when the image side is at least 16), then Flatten and a Dense ReLU
    layer called ``"features"``. ``head``: ``Dense(n_classes, softmax)``.

    BatchNorm uses ``momentum=0.9`` instead of Keras' 0.99: with a few hundred training steps the
    moving statistics of 0.99 have not caught up with the data yet and inference-mode accuracy
    collapses (measured: 0.52 instead of 0.985 test accuracy on optdigits after 200 steps).

    Args:
        input_shape: ``(height, width, channels)``.
        n_classes: number of output classes.
        filters: channels of the two convolution blocks.
        units: width of the ``"features"`` layer.
        bn_momentum: BatchNorm moving-average momentum.
        seed: seed of every weight initialiser (the same seed gives the same weights, whatever the
            global random state).
        name: model name.

    Returns:
        keras.Sequential: ``Input -> base -> head``, not compiled.

    Raises:
        ValueError: on an input shape that is not ``(h, w, c)`` with ``h, w >= 4`` or fewer than 2 classes.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or min(input_shape[:2]) < 4 or input_shape[2] < 1:
        raise ValueError(f"input_shape must be (height, width, channels) with sides >= 4, got {input_shape}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if len(filters) != 2:
        raise ValueError(f"filters must hold two channel counts, got {filters}")
    init = [keras.initializers.GlorotUniform(seed=int(seed) * 10 + i) for i in range(4)]
    L = keras.layers
    layers = [keras.Input(input_shape),
              L.Conv2D(filters[0], 3, padding="same", use_bias=False, kernel_initializer=init[0], name="conv1"),
              L.BatchNormalization(momentum=bn_momentum, name="bn1"), L.ReLU(name="relu1"),
              L.MaxPooling2D(name="pool1"),
              L.Conv2D(filters[1], 3, padding="same", use_bias=False, kernel_initializer=init[1], name="conv2"),
              L.BatchNormalization(momentum=bn_momentum, name="bn2"), L.ReLU(name="relu2")]
    if min(input_shape[:2]) >= 16:
        layers.append(L.MaxPooling2D(name="pool2"))
    layers += [L.Flatten(name="flatten"),
               L.Dense(units, activation="relu", kernel_initializer=init[2], name=FEATURES_NAME)]
    base = keras.Sequential(layers, name=BASE_NAME)
    head = L.Dense(n_classes, activation="softmax", kernel_initializer=init[3], name=HEAD_NAME)
    return keras.Sequential([keras.Input(input_shape), base, head], name=name)


def get_base(model):
    """The feature extractor (the sub-model called ``"base"``) of a model.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    try:
        return model.get_layer(BASE_NAME)
    except ValueError as err:
        raise ValueError(f"model {model.name!r} has no sub-model called {BASE_NAME!r}") from err


def copy_model(model):
    """An independent copy of a model: same architecture, same weights (BatchNorm statistics too).

    Transfer must never modify the cached source model, so every recipe starts from a copy.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def with_new_head(source, n_classes: int | None = None, seed: int = config.DEFAULT_SEED):
    """A copy of ``source``'s base topped with a freshly initialised ``"head"``.

    Args:
        source: a model with a ``"base"`` sub-model and a ``"head"`` layer.
        n_classes: classes of the new head (default: as many as the source head).
        seed: seed of the new head's initialiser.

    Returns:
        keras.Sequential: ``Input -> base (copied weights) -> new head``, not compiled.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    base = copy_model(get_base(source))
    if n_classes is None:
        n_classes = int(source.get_layer(HEAD_NAME).units)
    head = keras.layers.Dense(n_classes, activation="softmax", name=HEAD_NAME,
                              kernel_initializer=keras.initializers.GlorotUniform(seed=int(seed) * 10 + 3))
    return keras.Sequential([keras.Input(base.input_shape[1:]), base, head], name="transfer")


# --------------------------------------------------------------------------------------------------
# freezing and BatchNorm
# --------------------------------------------------------------------------------------------------

def _walk(layer, prefix="", root=True):
    """Yield (path, layer) for every leaf layer inside ``layer`` (depth first), paths relative to it."""
    children = getattr(layer, "layers", None)
    if children:
        inner = "" if root else f"{prefix}{layer.name}/"
        for child in children:
            yield from _walk(child, inner, root=False)
    else:
        yield f"{prefix}{layer.name}", layer


def batchnorm_layers(model) -> list:
    """Every ``BatchNormalization`` layer inside ``model``, nested sub-models included.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    return [layer for _, layer in _walk(model) if isinstance(layer, keras.layers.BatchNormalization)]


def freeze(model):
    """Freeze a model or layer: no weight changes, and BatchNorm inside it runs in inference mode.

    Args:
        model: a Keras layer or model (e.g. the base of a pretrained network).

    Returns:
        the same object, for chaining.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    model.trainable = False
    return model


def unfreeze(model, keep_batchnorm_frozen: bool = True, last_n: int | None = None):
    """Make a (frozen) model trainable again for fine-tuning.

    Setting ``model.trainable = True`` switches every layer inside it back on, BatchNorm included;
    a trainable BatchNorm layer in ``fit`` normalises with the statistics of each small target batch
    and overwrites the moving mean and variance learned on the source. ``keep_batchnorm_frozen``
    (the keras.io advice) re-freezes those layers afterwards, which keeps them in inference mode.

    Args:
        model: the model or sub-model to unfreeze (usually the base).
        keep_batchnorm_frozen: leave every BatchNormalization layer frozen.
        last_n: unfreeze only the last ``last_n`` leaf layers that hold weights (``None``: all).

    Returns:
        the same object, for chaining.

    Raises:
        ValueError: if ``last_n`` is negative.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    if last_n is not None and last_n < 0:
        raise ValueError(f"last_n must be >= 0 or None, got {last_n}")
    # Keras 3.15 only recurses into the inner layers when the flag changes: a base that is already
    # trainable would keep a frozen BatchNorm frozen. Switching off first makes the call idempotent.
    model.trainable = False
    model.trainable = True
    if last_n is not None:
        with_weights = [layer for _, layer in _walk(model) if layer.weights]
        for layer in with_weights[:max(0, len(with_weights) - last_n)]:
            layer.trainable = False
    if keep_batchnorm_frozen:
        for layer in batchnorm_layers(model):
            layer.trainable = False
    return model


def count_params(model, trainable: bool = True) -> int:
    """Number of trainable (or non-trainable) scalar parameters: the quickest check of a freeze.

    Args:
        model: a built Keras model or layer.
        trainable: count trainable weights (True) or frozen ones (False; BatchNorm moving
            statistics are always non-trainable).

    Returns:
        int: the number of scalars.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    weights = model.trainable_weights if trainable else model.non_trainable_weights
    return int(sum(int(np.prod(w.shape)) for w in weights))


def trainable_table(model) -> pd.DataFrame:
    """One row per leaf layer holding weights: path, type, trainable flag, trainable and frozen parameters.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    rows = []
    for path, layer in _walk(model):
        if not layer.weights:
            continue
        rows.append({"layer": path, "type": type(layer).__name__, "trainable": bool(layer.trainable),
                     "trainable_params": count_params(layer, True), "frozen_params": count_params(layer, False)})
    return pd.DataFrame(rows, columns=["layer", "type", "trainable", "trainable_params", "frozen_params"])


def bn_moving_stats(model) -> dict[str, np.ndarray]:
    """Copies of the moving mean and variance of every BatchNorm layer, keyed ``"<layer>/moving_mean"``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    stats = {}
    for layer in batchnorm_layers(model):
        stats[f"{layer.name}/moving_mean"] = np.array(keras.ops.convert_to_numpy(layer.moving_mean))
        stats[f"{layer.name}/moving_variance"] = np.array(keras.ops.convert_to_numpy(layer.moving_variance))
    return stats


def max_abs_change(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray]) -> float:
    """Largest absolute difference between two snapshots from :func:`bn_moving_stats` (or any arrays).

    Raises:
        ValueError: if the snapshots do not have the same keys and shapes.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    if set(before) != set(after):
        raise ValueError(f"snapshots differ in keys: {sorted(set(before) ^ set(after))}")
    diffs = [0.0]
    for key in before:
        a, b = np.asarray(before[key]), np.asarray(after[key])
        if a.shape != b.shape:
            raise ValueError(f"{key}: shapes differ, {a.shape} vs {b.shape}")
        diffs.append(float(np.max(np.abs(a - b))) if a.size else 0.0)
    return max(diffs)


# --------------------------------------------------------------------------------------------------
# training and evaluation
# --------------------------------------------------------------------------------------------------

def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.shape[0] == 0:
        raise ValueError("empty data: x has no rows")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"x and y do not match: x has {x.shape[0]} rows, y has shape {y.shape}")
    return x, y


def repeat_indices(n: int, steps: int, batch_size: int = 32, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Row indices for exactly ``steps`` batches: seeded passes over ``range(n)``, concatenated.

    Training for a fixed number of *steps* (not epochs) gives every data size the same optimisation
    budget: 13 images get 200 updates, like 1,257 images do.

    Raises:
        ValueError: if ``n``, ``steps`` or ``batch_size`` is not positive.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    if n <= 0 or steps <= 0 or batch_size <= 0:
        raise ValueError(f"n, steps and batch_size must be positive, got {n}, {steps}, {batch_size}")
    rng = np.random.default_rng(seed)
    need = steps * batch_size
    passes = -(-need // n)
    return np.concatenate([rng.permutation(n) for _ in range(passes)])[:need]


def compile_classifier(model, lr: float = 1e-3, steps_per_execution: int = 20):
    """Compile with Adam(``lr``), sparse categorical cross-entropy and accuracy.

    Compile *after* changing ``trainable`` flags: Keras reads them when it builds the training step.
    ``steps_per_execution`` runs several small steps per graph call (3-4x faster here, same weights).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def fit_steps(model, x, y, steps: int = 200, batch_size: int = 32, seed: int = config.DEFAULT_SEED):
    """Train a compiled model for exactly ``steps`` mini-batches (see :func:`repeat_indices`).

    Returns:
        the model.

    Raises:
        ValueError: on empty or mismatched data, or a model that is not compiled.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    x, y = _check_xy(x, y)
    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first (compile_classifier)")
    idx = repeat_indices(len(x), steps, batch_size, seed)
    model.fit(x[idx], y[idx], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return model


def train(model, x, y, steps: int = 200, lr: float = 1e-3, batch_size: int = 32, seed: int = config.DEFAULT_SEED):
    """Compile (Adam, ``lr``) and train for ``steps`` mini-batches; returns the model.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    compile_classifier(model, lr)
    return fit_steps(model, x, y, steps=steps, batch_size=batch_size, seed=seed)


def predict_proba(model, x, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities in inference mode, computed with direct calls (no ``predict`` graph to trace).

    Args:
        model: a classifier.
        x: inputs.
        batch_size: rows per call.

    Returns:
        np.ndarray: ``(len(x), n_classes)`` probabilities.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    x = np.asarray(x)
    out = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def accuracy(model, x, y) -> float:
    """Share of correctly classified examples (inference mode).

    Raises:
        ValueError: on empty or mismatched data.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    x, y = _check_xy(x, y)
    return float(np.mean(predict_proba(model, x).argmax(axis=1) == y))


def extract_features(model, x, layer: str = FEATURES_NAME) -> np.ndarray:
    """Activations of a layer of the base (default ``"features"``) for ``x``, in inference mode.

    Args:
        model: a model with a ``"base"`` sub-model (or the base itself).
        x: inputs.
        layer: name of a layer inside the base.

    Returns:
        np.ndarray: ``(len(x), ...)`` activations.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    base = model if model.name == BASE_NAME else get_base(model)
    extractor = keras.Model(base.inputs[0], base.get_layer(layer).output)
    x = np.asarray(x)
    if x.shape[0] == 0:
        raise ValueError("empty data: x has no rows")
    return np.concatenate([keras.ops.convert_to_numpy(extractor(x[i:i + 1024], training=False))
                           for i in range(0, len(x), 1024)])


def pretrain_source(x, y, name: str = "source", steps: int = 600, lr: float = 3e-3, batch_size: int = 32,
                    seed: int = config.DEFAULT_SEED, cache: bool = True, **cnn_kwargs):
    """Train :func:`build_digit_cnn` on a source domain, cached under ``config.cache_dir("models")``.

    The cache key hashes the data, the hyper-parameters and the Keras version, so a changed input
    never loads a stale model. Loading takes a fraction of a second; training a few seconds.

    Args:
        x: source images ``(n, h, w, c)``.
        y: source labels ``(n,)``.
        name: readable part of the cache file name.
        steps: training steps.
        lr: Adam learning rate.
        batch_size: mini-batch size.
        seed: seed of the initialisation and of the batch order.
        cache: read/write the cache (``False``: always train).
        **cnn_kwargs: passed to :func:`build_digit_cnn` (``filters``, ``units``, ``bn_momentum``).

    Returns:
        keras.Sequential: the trained source model (not compiled).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    x, y = _check_xy(x, y)
    n_classes = int(cnn_kwargs.pop("n_classes", int(y.max()) + 1))
    params = dict(steps=steps, lr=lr, batch_size=batch_size, seed=seed, n_classes=n_classes, **cnn_kwargs)
    digest = hashlib.sha1()
    digest.update(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    digest.update(repr(sorted(params.items())).encode())
    digest.update(keras.__version__.encode())
    path = config.cache_dir("models") / f"digits-{name}-{digest.hexdigest()[:12]}.keras"
    if cache and path.exists():
        return keras.models.load_model(path, compile=False)
    model = build_digit_cnn(x.shape[1:], n_classes=n_classes, seed=seed, name=name, **cnn_kwargs)
    train(model, x, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed)
    if cache:
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)  # atomic: a notebook and a test may write at the same time
    return model


# --------------------------------------------------------------------------------------------------
# strategies and learning curves
# --------------------------------------------------------------------------------------------------

@dataclass
class Strategy:
    """A transfer recipe: how to build the starting model for a seed, and how to train it.

    Attributes:
        name: label in tables and plots.
        build: ``seed -> keras.Model`` with the starting weights and the ``trainable`` flags set
            (the same flags for every seed).
        lr: Adam learning rate.
        steps: training steps.
        batch_size: mini-batch size.

    Taught in notebooks/01_transfer_basics.ipynb.
    """

    name: str
    build: Callable[[int], object]
    lr: float = 1e-3
    steps: int = 200
    batch_size: int = 32
    meta: dict = field(default_factory=dict)

    def fit(self, x, y, seed: int = config.DEFAULT_SEED):
        """Build the model for ``seed`` and train it on ``(x, y)``; returns the trained model."""
        model = self.build(seed)
        return train(model, x, y, steps=self.steps, lr=self.lr, batch_size=self.batch_size, seed=seed)


def target_only(input_shape: Sequence[int], n_classes: int = 10, lr: float = 1e-3, steps: int = 200,
                name: str = "target-only", **cnn_kwargs) -> Strategy:
    """Baseline: the same CNN trained from random weights on the target data alone.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    return Strategy(name, lambda seed: build_digit_cnn(input_shape, n_classes, seed=seed, **cnn_kwargs),
                    lr=lr, steps=steps)


def feature_extraction(source, n_classes: int | None = None, lr: float = HEAD_ONLY_LR, steps: int = 200,
                       name: str = "feature extraction") -> Strategy:
    """Frozen copy of the source base + a new head; only the head learns.

    The default learning rate (:data:`HEAD_ONLY_LR`, 1e-2) is ten times the one for training a
    whole network: with 1e-3 and a budget of a few hundred steps the head is still undertrained, and
    the learning curve then measures the optimiser, not the quality of the frozen features. Check a
    head against a logistic regression on :func:`extract_features` when in doubt.

    Args:
        source: pretrained model with ``"base"`` and ``"head"``.
        n_classes: classes of the new head (default: as the source).
        lr: Adam learning rate of the head.
        steps: training steps.
        name: label in tables and plots.

    Returns:
        Strategy: the recipe.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    def build(seed):
        model = with_new_head(source, n_classes, seed=seed)
        freeze(get_base(model))
        return model

    return Strategy(name, build, lr=lr, steps=steps)


def fine_tuning(source, lr: float = 3e-4, steps: int = 200, new_head: bool = False, n_classes: int | None = None,
                keep_batchnorm_frozen: bool = True, name: str = "fine-tuning") -> Strategy:
    """Every weight of a copy of the source model keeps learning on the target, with a smaller learning rate.

    With ``new_head=False`` the source classifier is kept (source and target share the label set,
    as MNIST and optdigits do), so training starts from a model that already predicts something
    sensible. BatchNorm stays frozen by default (see :func:`unfreeze`).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    def build(seed):
        model = with_new_head(source, n_classes, seed=seed) if new_head else copy_model(source)
        unfreeze(get_base(model), keep_batchnorm_frozen=keep_batchnorm_frozen)
        return model

    return Strategy(name, build, lr=lr, steps=steps)


def two_stage_fine_tune(source, x, y, n_classes: int | None = None, head_steps: int = 100, steps: int = 100,
                        head_lr: float = HEAD_ONLY_LR, lr: float = 3e-4, keep_batchnorm_frozen: bool = True,
                        seed: int = config.DEFAULT_SEED):
    """The textbook recipe with a new head: train the head on a frozen base, then unfreeze and train all.

    Training the head first matters: a random head sends large, random gradients into the
    pretrained base and destroys what it knew before the head has learned anything.

    Args:
        source: pretrained model with ``"base"`` and ``"head"``.
        x: target images.
        y: target labels.
        n_classes: classes of the new head (default: as the source).
        head_steps: steps of stage 1 (frozen base).
        steps: steps of stage 2 (everything but BatchNorm).
        head_lr: learning rate of stage 1 (only the head learns, see :data:`HEAD_ONLY_LR`).
        lr: (smaller) learning rate of stage 2.
        keep_batchnorm_frozen: keep BatchNorm in inference mode in stage 2.
        seed: seed of the head and of the batch order.

    Returns:
        keras.Sequential: the fine-tuned model.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    model = with_new_head(source, n_classes, seed=seed)
    freeze(get_base(model))
    train(model, x, y, steps=head_steps, lr=head_lr, seed=seed)
    unfreeze(get_base(model), keep_batchnorm_frozen=keep_batchnorm_frozen)
    return train(model, x, y, steps=steps, lr=lr, seed=seed + 1)  # compile again: flags changed


BN_RECIPES = ("training=False at call time", "BN layers frozen")


def fine_tune_bn_recipe(source, x, y, x_test, y_test, recipe: str = "BN layers frozen", steps: int = 200,
                        lr: float = 3e-4, seed: int = 0) -> dict:
    """Fine-tune a copy of ``source`` (its head kept) with one of two BatchNorm recipes and report what moved.

    * ``"training=False at call time"`` — the Keras 2 advice: wrap the base in a functional model
      that calls it with ``training=False`` and make the whole base trainable, BatchNorm included.
      In Keras 3 ``fit`` still updates the BN moving statistics.
    * ``"BN layers frozen"`` — :func:`unfreeze` with ``keep_batchnorm_frozen=True``: the BN layers
      themselves are frozen and run in inference mode.

    The source head is kept, so source and target must share the label set. ``source`` is never modified.

    Args:
        source: pretrained model with ``"base"`` and ``"head"``.
        x: target training images.
        y: target training labels.
        x_test: target test images.
        y_test: target test labels.
        recipe: one of :data:`BN_RECIPES`.
        steps: training steps.
        lr: Adam learning rate (a fine-tuning rate).
        seed: seed of the batch order.

    Returns:
        dict: ``recipe``, ``trainable params``, ``max change of BN moving stats`` (largest absolute
        change of any moving mean or variance, 3 decimals) and ``target test accuracy`` (3 decimals).

    Raises:
        ValueError: on an unknown recipe.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    if recipe not in BN_RECIPES:
        raise ValueError(f"recipe must be one of {BN_RECIPES}, got {recipe!r}")
    model = copy_model(source)
    base = get_base(model)
    if recipe == BN_RECIPES[0]:
        inputs = keras.Input(np.asarray(x).shape[1:])
        model = keras.Model(inputs, model.get_layer(HEAD_NAME)(base(inputs, training=False)))
        unfreeze(base, keep_batchnorm_frozen=False)
    else:
        unfreeze(base, keep_batchnorm_frozen=True)
    before = bn_moving_stats(model)
    train(model, x, y, steps=steps, lr=lr, seed=seed)
    return {"recipe": recipe, "trainable params": count_params(model),
            "max change of BN moving stats": round(max_abs_change(before, bn_moving_stats(model)), 3),
            "target test accuracy": round(accuracy(model, x_test, y_test), 3)}


def _check_fractions(fractions) -> tuple[float, ...]:
    fractions = tuple(float(f) for f in fractions)
    if not fractions:
        raise ValueError("fractions is empty")
    bad = [f for f in fractions if not 0.0 < f <= 1.0]
    if bad:
        raise ValueError(f"every fraction must be in (0, 1], got {bad}")
    return fractions


def learning_curve(strategies: Sequence[Strategy], x_train, y_train, x_test, y_test,
                   fractions: Sequence[float] = DEFAULT_FRACTIONS, seeds: Sequence[int] = (0, 1, 2),
                   min_per_class: int = 1) -> pd.DataFrame:
    """Target test accuracy of each strategy as the labelled target data grows.

    For each seed the target training set is subsampled with :func:`stratified_subset` (nested:
    the 2 % subset contains the 1 % one), each strategy is trained on it from its starting weights,
    and accuracy is measured on the full target test set. Each strategy's model is compiled once;
    between runs its weights and optimizer state are reset, which gives the same result as a fresh
    model at a fraction of the cost.

    Args:
        strategies: recipes to compare (names must be unique).
        x_train: target training images (the pool subsets are drawn from).
        y_train: target training labels.
        x_test: target test images.
        y_test: target test labels.
        fractions: shares of the training pool, each in (0, 1].
        seeds: one run per seed (subset, head initialisation, batch order).
        min_per_class: every class keeps at least this many examples.

    Returns:
        pd.DataFrame: one row per run with columns ``strategy, fraction, n_train, seed, accuracy``.

    Raises:
        ValueError: on a fraction outside (0, 1], no strategies or seeds, duplicate names, or
            empty/mismatched data.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    fractions = _check_fractions(fractions)
    x_train, y_train = _check_xy(x_train, y_train)
    x_test, y_test = _check_xy(x_test, y_test)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"train and test images differ in shape: {x_train.shape[1:]} vs {x_test.shape[1:]}")
    strategies = list(strategies)
    if not strategies:
        raise ValueError("no strategies given")
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names must be unique, got {names}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given")
    subsets = {(seed, f): stratified_subset(y_train, f, seed=seed, min_per_class=min_per_class)
               for seed in seeds for f in fractions}
    rows = []
    for strategy in strategies:
        model = compile_classifier(strategy.build(seeds[0]), strategy.lr)
        model.optimizer.build(model.trainable_variables)
        optimizer_start = [np.array(v.numpy()) for v in model.optimizer.variables]
        for seed in seeds:
            start = strategy.build(seed).get_weights()
            for f in fractions:
                model.set_weights(start)
                for var, value in zip(model.optimizer.variables, optimizer_start):
                    var.assign(value)
                idx = subsets[(seed, f)]
                fit_steps(model, x_train[idx], y_train[idx], steps=strategy.steps,
                          batch_size=strategy.batch_size, seed=seed)
                rows.append({"strategy": strategy.name, "fraction": f, "n_train": int(idx.size), "seed": seed,
                             "accuracy": accuracy(model, x_test, y_test)})
    return pd.DataFrame(rows, columns=["strategy", "fraction", "n_train", "seed", "accuracy"])


def summarize_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds: one row per (strategy, fraction).

    Returns:
        pd.DataFrame: columns ``strategy, fraction, n_train, mean, std`` (``std`` is 0 for one seed).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    if curve.empty:
        raise ValueError("empty learning curve")
    g = curve.groupby(["strategy", "fraction"], sort=False)
    out = g.agg(n_train=("n_train", "mean"), mean=("accuracy", "mean"), std=("accuracy", "std")).reset_index()
    out["std"] = out["std"].fillna(0.0)
    out["n_train"] = out["n_train"].round().astype(int)
    return out


def curve_table(curve: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Wide table of mean accuracy: rows are fractions (with the training size), columns strategies.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    s = summarize_curve(curve)
    order = list(dict.fromkeys(s["strategy"]))
    wide = s.pivot(index=["fraction", "n_train"], columns="strategy", values="mean")[order]
    wide.columns.name = None
    return wide.round(decimals)


def transfer_gain(curve: pd.DataFrame, baseline: str = "target-only", decimals: int = 3) -> pd.DataFrame:
    """Mean accuracy of each strategy minus the baseline's, per fraction; negative means negative transfer.

    Raises:
        ValueError: if the baseline is not in the curve.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    wide = curve_table(curve, decimals=12)
    if baseline not in wide.columns:
        raise ValueError(f"baseline {baseline!r} not in the curve's strategies {list(wide.columns)}")
    gain = wide.drop(columns=baseline).sub(wide[baseline], axis=0)
    return gain.round(decimals)


def negative_transfer(curve: pd.DataFrame, baseline: str = "target-only", margin: float = 0.0) -> dict[str, list[float]]:
    """For each strategy, the fractions at which it is worse than the baseline by more than ``margin``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    gain = transfer_gain(curve, baseline, decimals=12)
    fractions = gain.index.get_level_values("fraction")
    return {name: [float(f) for f, g in zip(fractions, gain[name]) if g < -margin] for name in gain.columns}


def plot_learning_curve(curve: pd.DataFrame, ax=None, title: str | None = None, styles: Mapping[str, str] | None = None):
    """Mean accuracy against the share of target data (log scale), error bars = std over seeds.

    Args:
        curve: output of :func:`learning_curve`.
        ax: matplotlib axes (a new figure if ``None``).
        title: axes title.
        styles: optional matplotlib format string per strategy, e.g. ``{"target-only": "k--o"}``.

    Returns:
        matplotlib.axes.Axes: the axes.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    s = summarize_curve(curve)
    styles = dict(styles or {})
    for name, part in s.groupby("strategy", sort=False):
        ax.errorbar(part["fraction"] * 100, part["mean"], yerr=part["std"], fmt=styles.get(name, "-o"),
                    capsize=3, label=name)
    ax.set_xscale("log")
    ticks = sorted(s["fraction"].unique() * 100)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g} %" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("share of the labelled target training data")
    ax.set_ylabel("target test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------------
# negative transfer
# --------------------------------------------------------------------------------------------------

def permute_pixels(x, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Apply one fixed random permutation of pixel positions to every image.

    The images keep their labels and all their information (a fully connected model could learn
    them as well as before), but the local strokes a CNN's filters learn no longer exist: a source
    domain unrelated to real digits.

    Args:
        x: images ``(n, h, w, c)`` (or any ``(n, ...)`` array).
        seed: seed of the permutation.

    Returns:
        np.ndarray: permuted images, same shape and dtype.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty stack of images, got shape {x.shape}")
    n, h = x.shape[0], x.shape[1]
    rest = x.shape[2:]
    spatial = int(np.prod(x.shape[1:3])) if x.ndim >= 3 else h
    flat = x.reshape(n, spatial, -1)
    perm = np.random.default_rng(seed).permutation(spatial)
    return flat[:, perm].reshape((n, h) + rest)


def shuffle_labels(y, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Labels in random order: the images no longer say anything about their label.

    A network trained on them can only memorise; its features are a stand-in for an unrelated source.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array, got shape {y.shape}")
    return np.random.default_rng(seed).permutation(y)
