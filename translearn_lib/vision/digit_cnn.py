"""Chapter 01's digit CNN: the model, its cached pretraining on a source domain, and unrelated sources.

A small Keras CNN is pretrained on one digit domain (MNIST, the source) and reused on another
(optdigits, the target), see :mod:`translearn_lib.datasets.digits`. The model follows the layout
the generic tools of :mod:`translearn_lib.keras_transfer` expect: a sub-model called ``"base"``
(ending in a ``"features"`` layer) followed by a ``"head"`` classifier. :func:`permute_pixels` and
:func:`shuffle_labels` turn the source data into deliberately unrelated sources for the
negative-transfer experiments.

Taught in notebooks/01_transfer_basics.ipynb.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from translearn_lib import cache as keyed_cache
from translearn_lib import config
from translearn_lib.keras_transfer import BASE_NAME, FEATURES_NAME, HEAD_NAME, Strategy, check_xy, train


def _keras():
    import keras  # imported lazily: importing translearn_lib must not pull in TensorFlow

    return keras


# --------------------------------------------------------------------------------------------------
# the model and its source pretraining
# --------------------------------------------------------------------------------------------------

def build_digit_cnn(input_shape: Sequence[int] = (8, 8, 1), n_classes: int = 10,
                    filters: Sequence[int] = (16, 32), units: int = 64, bn_momentum: float = 0.9,
                    seed: int = config.DEFAULT_SEED, name: str = "cnn"):
    """A small CNN with a ``"base"`` feature extractor and a ``"head"`` classifier.

    ``base``: two blocks Conv2D (no bias) -> BatchNormalization -> ReLU (max-pooling after the first
    block, and after the second when the image side is at least 16), then Flatten and a Dense ReLU
    layer called ``"features"``. ``head``: ``Dense(n_classes, softmax)``.

    BatchNorm uses ``momentum=0.9`` instead of Keras' 0.99: with a few hundred training steps the
    moving statistics of 0.99 have not caught up with the data yet, and a model that is accurate in
    training mode collapses in inference mode.

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


def pretrain_source(x, y, name: str = "source", steps: int = 600, lr: float = 3e-3, batch_size: int = 32,
                    seed: int = config.DEFAULT_SEED, cache: bool = True, **cnn_kwargs):
    """Train :func:`build_digit_cnn` on a source domain, cached under ``config.cache_dir("models")``.

    The entry lives in the course cache (:mod:`translearn_lib.cache`), keyed by the data, the
    settings and the Keras version, so a changed input never loads a stale model; loading is far
    quicker than training, and the write is atomic.

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

    Raises:
        ValueError: on empty or mismatched data.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    keras = _keras()
    x, y = check_xy(x, y)
    n_classes = int(cnn_kwargs.pop("n_classes", int(y.max()) + 1))
    settings = dict(steps=steps, lr=lr, batch_size=batch_size, seed=seed, n_classes=n_classes, **cnn_kwargs)
    key = keyed_cache.content_key(np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64),
                                  settings, keras.__version__)
    path = keyed_cache.entry("models", f"digits-{name}", key, ".keras")
    if cache:
        model = keyed_cache.load_keras(path)
        if model is not None:
            return model
    model = build_digit_cnn(x.shape[1:], n_classes=n_classes, seed=seed, name=name, **cnn_kwargs)
    train(model, x, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed)
    if cache:
        keyed_cache.save_keras(path, model)
    return model


# --------------------------------------------------------------------------------------------------
# the target-only baseline
# --------------------------------------------------------------------------------------------------

def target_only(input_shape: Sequence[int], n_classes: int = 10, lr: float = 1e-3, steps: int = 200,
                name: str = "target-only", **cnn_kwargs) -> Strategy:
    """Baseline: the same CNN trained from random weights on the target data alone.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    return Strategy(name, lambda seed: build_digit_cnn(input_shape, n_classes, seed=seed, **cnn_kwargs),
                    lr=lr, steps=steps)


# --------------------------------------------------------------------------------------------------
# unrelated sources for negative transfer
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
