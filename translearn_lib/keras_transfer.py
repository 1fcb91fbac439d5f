"""Transfer learning with Keras 3: freezing, BatchNorm, feature extraction, fine-tuning, learning curves.

The tools work for any classifier whose feature extractor is a sub-model called ``"base"`` followed
by a classifier layer called ``"head"`` (chapter 01's digit CNN, :mod:`translearn_lib.vision.digit_cnn`,
is one; a pretrained ImageNet network topped with a new head is another).

Three facts about Keras 3 that the tools encode:

* ``layer.trainable = False`` on a model freezes every layer inside it, and a frozen
  ``BatchNormalization`` layer runs in inference mode (it normalises with its moving statistics and
  never updates them), even inside ``model.fit``.
* Calling a base with ``training=False`` is *not* enough once it is trainable again: ``fit`` passes
  ``training=True`` down and the moving statistics drift. To fine-tune with BatchNorm fixed, freeze
  the BatchNorm layers themselves (:func:`unfreeze` does it).
* Every ``compile`` + ``fit`` on a new model traces a new TensorFlow graph, which costs more than a
  few hundred small training steps. :func:`classifier_learning_curve` therefore compiles one model
  per strategy and resets its weights and optimizer state between runs.

Taught in notebooks/01_transfer_basics.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from translearn_lib import config
from translearn_lib.datasets.digits import stratified_subset
from translearn_lib.experiments import curves

BASE_NAME = "base"
HEAD_NAME = "head"
FEATURES_NAME = "features"
# Adam learning rate when only a new head learns on a frozen base. The head is one small softmax
# layer on inputs that never change, so it tolerates (and needs) a larger step than a whole network:
# with the whole-network rate and a budget of a few hundred steps it is still undertrained, and a
# learning curve would then measure the optimiser rather than the frozen features.
HEAD_ONLY_LR = 1e-2


def _keras():
    import keras  # imported lazily: importing translearn_lib must not pull in TensorFlow

    return keras


# --------------------------------------------------------------------------------------------------
# the model: base and head
# --------------------------------------------------------------------------------------------------

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
    The flag is switched off and on again, so the call also reaches the inner layers of a model
    that is already trainable (with the TensorFlow backend, assigning ``True`` to a flag that is
    already ``True`` is skipped by Keras' attribute tracking and does not recurse).

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
    # With the TensorFlow backend (Keras 3.15 here), `model.trainable = True` on a model that is
    # already trainable never reaches the `trainable` setter that recurses into the inner layers:
    # Keras' TF attribute tracker (KerasAutoTrackable.__setattr__) skips an assignment of the very
    # object already stored (`True is True`). A frozen BatchNorm inside would stay frozen; switching
    # the flag off first makes this call do what it says. notebooks/01 prints the reproduction.
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

def check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and labels as arrays, checked: ``x`` has rows and ``y`` is 1-D with one label per row.

    Returns:
        tuple: ``(x, y)`` as NumPy arrays.

    Raises:
        ValueError: on empty data or a label vector that does not match ``x``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.shape[0] == 0:
        raise ValueError("empty data: x has no rows")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"x and y do not match: x has {x.shape[0]} rows, y has shape {y.shape}")
    return x, y


def repeat_indices(n: int, steps: int, batch_size: int = 32, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Row indices for exactly ``steps`` batches: seeded passes over ``range(n)``, concatenated.

    Training for a fixed number of *steps* (not epochs) gives every data size the same optimisation
    budget: a dozen examples get as many updates as a thousand do.

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
    ``steps_per_execution`` runs several small steps per graph call (fewer round trips between Python
    and the graph for tiny batches; the same weights as one step per call).

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
    x, y = check_xy(x, y)
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
    x, y = check_xy(x, y)
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



# --------------------------------------------------------------------------------------------------
# transfer recipes and learning curves
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

    def fit(self, x, y, seed: int = config.DEFAULT_SEED):
        """Build the model for ``seed`` and train it on ``(x, y)``; returns the trained model."""
        model = self.build(seed)
        return train(model, x, y, steps=self.steps, lr=self.lr, batch_size=self.batch_size, seed=seed)


def feature_extraction(source, n_classes: int | None = None, lr: float = HEAD_ONLY_LR, steps: int = 200,
                       name: str = "feature extraction") -> Strategy:
    """Frozen copy of the source base + a new head; only the head learns.

    The default learning rate (:data:`HEAD_ONLY_LR`) is ten times the one for training a whole
    network: with 1e-3 and a budget of a few hundred steps the head is still undertrained, and
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

    With ``new_head=False`` the source classifier is kept (for a source and a target that share
    the label set), so training starts from a model that already predicts something sensible.
    BatchNorm stays frozen by default (see :func:`unfreeze`).

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    def build(seed):
        model = with_new_head(source, n_classes, seed=seed) if new_head else copy_model(source)
        unfreeze(get_base(model), keep_batchnorm_frozen=keep_batchnorm_frozen)
        return model

    return Strategy(name, build, lr=lr, steps=steps)


BN_RECIPES = ("training=False at call time", "BN layers frozen")


def fine_tune_bn_recipe(source, x, y, x_test, y_test, recipe: str = "BN layers frozen", steps: int = 200,
                        lr: float = 3e-4, seed: int = config.DEFAULT_SEED) -> dict:
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


def classifier_learning_curve(strategies: Sequence[Strategy], x_train, y_train, x_test, y_test,
                              shares: Sequence[float], seeds: Sequence[int] = (config.DEFAULT_SEED,),
                              min_per_class: int = 1, progress: bool | None = None,
                              subsample: Callable[[float, int], np.ndarray] | None = None) -> pd.DataFrame:
    """Target test accuracy of each strategy as the labelled target data grows.

    A thin adapter onto :func:`translearn_lib.experiments.curves.learning_curve`, the course's one
    runner: for each seed and share the target training set is cut with
    :func:`~translearn_lib.datasets.digits.stratified_subset` (nested: the 2 % subset contains the
    1 % one), each strategy is trained on that cut from its starting weights for ``seed``, and
    accuracy is measured on the full target test set.

    Each strategy's model is compiled once, before the first run: every ``compile`` + ``fit`` on a
    new model traces a new TensorFlow graph, which costs more than the training itself. Before each
    run the model gets the starting weights of the run's seed and the optimizer state it had before
    its first step (Adam's moments and step counter), which gives the same result as a fresh model
    at a fraction of the cost.

    Args:
        strategies: recipes to compare (names must be unique).
        x_train: target training inputs (the pool the cuts are drawn from).
        y_train: target training labels.
        x_test: target test inputs.
        y_test: target test labels.
        shares: shares of the training pool, each in (0, 1].
        seeds: one run per seed (subset, head initialisation, batch order).
        min_per_class: every class keeps at least this many examples.
        progress: show a progress bar (``None``: only interactively).
        subsample: ``(share, seed) -> indices`` of the training cut, replacing the stratified share
            (e.g. a fixed number of labels per class, chapter 07).

    Returns:
        pd.DataFrame: one row per run with columns ``strategy, share, seed, n_train, accuracy, seconds``;
        analyse it with :mod:`translearn_lib.experiments.curves` (metric ``"accuracy"``) and plot it
        with :func:`translearn_lib.plots.plot_learning_curve`.

    Raises:
        ValueError: on a share outside (0, 1], no strategies or seeds, duplicate names, or
            empty/mismatched data.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    shares = curves.check_shares(shares)
    x_train, y_train = check_xy(x_train, y_train)
    x_test, y_test = check_xy(x_test, y_test)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"train and test inputs differ in shape: {x_train.shape[1:]} vs {x_test.shape[1:]}")
    strategies = list(strategies)
    if not strategies:
        raise ValueError("no strategies given")
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names must be unique, got {names}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given")

    prepared = {}  # name -> (compiled model, optimizer state before the first step, {seed: start weights})
    for strategy in strategies:
        model = compile_classifier(strategy.build(seeds[0]), strategy.lr)
        model.optimizer.build(model.trainable_variables)
        optimizer_start = [np.array(v.numpy()) for v in model.optimizer.variables]
        prepared[strategy.name] = (model, optimizer_start, {seed: strategy.build(seed).get_weights() for seed in seeds})

    if subsample is None:
        def subsample(share, seed):
            return stratified_subset(y_train, share, seed=seed, min_per_class=min_per_class)

    def fit_evaluate(name, strategy, idx, seed):
        model, optimizer_start, start = prepared[name]
        model.set_weights(start[seed])
        for var, value in zip(model.optimizer.variables, optimizer_start):
            var.assign(value)
        fit_steps(model, x_train[idx], y_train[idx], steps=strategy.steps, batch_size=strategy.batch_size, seed=seed)
        return {"n_train": int(idx.size), "accuracy": accuracy(model, x_test, y_test)}

    return curves.learning_curve({s.name: s for s in strategies}, shares, seeds, subsample, fit_evaluate,
                                 progress=progress)
