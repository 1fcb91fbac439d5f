"""DANN: domain-adversarial training through a gradient reversal layer (Ganin et al., JMLR 2016).

A feature extractor ``G_f`` feeds two heads: the label head ``G_y`` (trained on labelled source
data) and a domain head ``G_d`` that tells source from target. Between the features and the domain
head sits a **gradient reversal layer**: the identity going forward, ``-lambda`` times the gradient
going backward. One optimiser step on ``L_y + L_d`` then trains the domain head to *separate* the
domains while it trains the extractor to make them *inseparable*: the min-max game of
``min_{G_f, G_y} max_{G_d} L_y - lambda L_d`` in a single backward pass.

``lambda`` grows from 0 to 1 with the schedule ``2 / (1 + exp(-gamma p)) - 1`` (``p``: share of
training done, ``gamma = 10``), so the noisy domain signal of the first steps does not destroy the
features before the label head has learned anything.

DANN aligns *features*; it never produces images. Methods that generate target-like samples
(CoGAN, PixelDA, CyCADA) adapt at the pixel level with a generator.

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

import math

from translearn_lib import config

DOMAIN_HEAD_NAME = "domain_head"


def check_lambda(value) -> float:
    """A gradient-reversal coefficient, checked: a finite number >= 0.

    Raises:
        ValueError: on a negative, infinite or non-numeric value.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    try:
        lam = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"lambda must be a number >= 0, got {value!r}") from None
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lambda must be a finite number >= 0, got {value!r}: a negative lambda would turn "
                         "the reversal into ordinary back-propagation (the extractor would help the domain head)")
    return lam


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """The reversal coefficient of Ganin et al. 2016: ``2 / (1 + exp(-gamma * p)) - 1``.

    Args:
        progress: share of training done, ``p`` in [0, 1].
        gamma: steepness (the paper's 10).

    Returns:
        float: 0 at ``p = 0``, ``tanh(gamma p / 2)`` in general, ≈ 0.9866 at ``p = 0.5`` and
        ≈ 0.99991 at ``p = 1`` with ``gamma = 10``.

    Raises:
        ValueError: if ``progress`` is outside [0, 1] or ``gamma`` is negative.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    p = float(progress)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"progress must be in [0, 1] (step / total steps), got {progress!r}")
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def reverse_gradient(x, lam):
    """Identity forward, ``-lam * gradient`` backward (``tf.custom_gradient``).

    Args:
        x: a tensor.
        lam: the reversal coefficient (a float >= 0 or a scalar tensor / variable).

    Returns:
        a tensor equal to ``x``.

    Raises:
        ValueError: if ``lam`` is a negative number.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import tensorflow as tf

    if isinstance(lam, (int, float)):
        lam = check_lambda(lam)

    @tf.custom_gradient
    def _reverse(t):
        def grad(dy):
            return -tf.cast(lam, dy.dtype) * dy

        return tf.identity(t), grad

    return _reverse(x)


def _gradient_reversal_class():
    import keras

    @keras.saving.register_keras_serializable(package="translearn")
    class GradientReversal(keras.layers.Layer):
        """Gradient reversal layer: identity forward, ``-lambda`` times the gradient backward.

        ``lambda`` is a non-trainable weight, so a schedule can change it between steps without
        retracing the training graph: ``layer.set_lambda(dann_lambda(step / steps))``.

        Args:
            lambda_: initial coefficient (>= 0).

        Raises:
            ValueError: on a negative ``lambda_`` (at construction or in ``set_lambda``).

        Taught in notebooks/05_domain_adaptation.ipynb.
        """

        def __init__(self, lambda_: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self._initial = check_lambda(lambda_)
            self.lambda_ = self.add_weight(shape=(), initializer=keras.initializers.Constant(self._initial),
                                           trainable=False, name="lambda")

        def set_lambda(self, value: float) -> None:
            """Set the reversal coefficient (>= 0)."""
            self.lambda_.assign(check_lambda(value))

        def call(self, inputs):
            return reverse_gradient(inputs, self.lambda_)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "lambda_": float(keras.ops.convert_to_numpy(self.lambda_))}

    return GradientReversal


def __getattr__(name: str):
    # GradientReversal is created on first access so that importing this module never imports Keras.
    if name == "GradientReversal":
        cls = _gradient_reversal_class()
        globals()["GradientReversal"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_domain_head(feature_dim: int, units: int = 64, lambda_: float = 0.0, seed: int = config.DEFAULT_SEED):
    """The domain classifier behind a gradient reversal layer: GRL -> Dense(units, ReLU) -> Dense(1) logit.

    Args:
        feature_dim: size of the features it reads.
        units: hidden units (>= 1).
        lambda_: initial reversal coefficient (the schedule starts at 0).
        seed: seed of the initialisers.

    Returns:
        keras.Sequential called ``"domain_head"``; its first layer is the :class:`GradientReversal`.
        The output is a logit: > 0 means "source".

    Raises:
        ValueError: on a non-positive ``feature_dim`` or ``units`` or a negative ``lambda_``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import keras

    if int(feature_dim) < 1 or int(units) < 1:
        raise ValueError(f"feature_dim and units must be >= 1, got {feature_dim}, {units}")
    init = [keras.initializers.GlorotUniform(seed=int(seed) * 10 + 7 + i) for i in range(2)]
    grl_class = globals().get("GradientReversal") or __getattr__("GradientReversal")
    return keras.Sequential([
        keras.Input((int(feature_dim),)),
        grl_class(lambda_, name="grl"),
        keras.layers.Dense(int(units), activation="relu", kernel_initializer=init[0], name="domain_hidden"),
        keras.layers.Dense(1, kernel_initializer=init[1], name="domain_logit"),
    ], name=DOMAIN_HEAD_NAME)


def build_dann(classifier, domain_units: int = 64, seed: int = config.DEFAULT_SEED):
    """A DANN from a classifier with a ``"base"`` feature extractor and a ``"head"`` label classifier.

    Args:
        classifier: e.g. :func:`translearn_lib.vision.digit_cnn.build_digit_cnn` or
            :func:`translearn_lib.adaptation.training.build_mlp_classifier` (layout of
            :mod:`translearn_lib.keras_transfer`).
        domain_units: hidden units of the domain head.
        seed: seed of the domain head.

    Returns:
        keras.Model: ``x -> [class probabilities, domain logit]``; the domain branch reads the
        base's features through the gradient reversal layer (``model.get_layer("domain_head")``).

    Raises:
        ValueError: if the classifier has no ``"base"`` or ``"head"``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    import keras

    from translearn_lib.keras_transfer import HEAD_NAME, get_base

    base = get_base(classifier)
    try:
        head = classifier.get_layer(HEAD_NAME)
    except ValueError as err:
        raise ValueError(f"model {classifier.name!r} has no layer called {HEAD_NAME!r}") from err
    domain_head = build_domain_head(int(base.output_shape[-1]), units=domain_units, seed=seed)
    inputs = keras.Input(tuple(base.input_shape[1:]))
    features = base(inputs)
    return keras.Model(inputs, [head(features), domain_head(features)], name="dann")


__all__ = ["DOMAIN_HEAD_NAME", "check_lambda", "dann_lambda", "reverse_gradient", "GradientReversal",
           "build_domain_head", "build_dann"]
