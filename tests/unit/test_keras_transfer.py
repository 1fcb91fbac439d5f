"""Tests for translearn_lib.keras_transfer on small synthetic images (a few seconds of Keras training)."""

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from translearn_lib import keras_transfer as kt  # noqa: E402
from translearn_lib.datasets.digits import stratified_subset  # noqa: E402
from translearn_lib.experiments import curves  # noqa: E402
from translearn_lib.vision import digit_cnn  # noqa: E402


def _toy(n=120, seed=0, size=8):
    """Images whose label is the quadrant holding a bright square: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, size, size, 1)).astype("float32") * 0.2
    y = rng.integers(0, 4, n)
    h = size // 2
    for i, q in enumerate(y):
        r, c = divmod(int(q), 2)
        x[i, r * h:(r + 1) * h, c * h:(c + 1) * h, 0] += 0.8
    return x, y.astype(np.int64)


@pytest.fixture(scope="module")
def data():
    return _toy(120, 0), _toy(80, 1)


@pytest.fixture(scope="module")
def source(data):
    (x, y), _ = data
    return digit_cnn.pretrain_source(x, y, name="toy", steps=40, cache=False, filters=(4, 8), units=16)


def test_freeze_leaves_only_the_head_trainable(source):
    model = kt.with_new_head(source, n_classes=3, seed=0)
    kt.freeze(kt.get_base(model))
    assert kt.count_params(model) == 16 * 3 + 3               # head kernel + bias
    assert len(model.trainable_weights) == 2
    assert all(not layer.trainable for layer in kt.batchnorm_layers(model))
    table = kt.trainable_table(model)
    assert table.loc[table.trainable, "layer"].tolist() == ["head"]
    assert table["trainable_params"].sum() == 51


def test_unfreeze_keeps_batchnorm_frozen(source):
    model = kt.copy_model(source)
    base = kt.freeze(kt.get_base(model))
    kt.unfreeze(base)
    bn_params = sum(kt.count_params(layer, trainable=False) for layer in kt.batchnorm_layers(model))
    assert all(not layer.trainable for layer in kt.batchnorm_layers(model))
    assert base.get_layer("conv1").trainable and base.get_layer("features").trainable
    # everything trains except BN: gamma/beta join the moving statistics as frozen weights
    assert kt.count_params(model) + kt.count_params(model, trainable=False) == model.count_params()
    assert kt.count_params(model, trainable=False) == bn_params == 2 * 2 * (4 + 8)
    kt.unfreeze(base, keep_batchnorm_frozen=False)
    assert all(layer.trainable for layer in kt.batchnorm_layers(model))
    kt.unfreeze(base, last_n=1)                               # only "features" (the last layer with weights)
    assert [p for p, t in zip(kt.trainable_table(model).layer, kt.trainable_table(model).trainable) if t] == \
        ["base/features", "head"]
    with pytest.raises(ValueError):
        kt.unfreeze(base, last_n=-1)


def test_unfreeze_reaches_inner_layers_of_an_already_trainable_model(source):
    model = kt.copy_model(source)
    base = kt.get_base(model)
    assert base.trainable                                     # a fresh copy: already trainable
    for layer in [base.get_layer("conv1"), *kt.batchnorm_layers(base)]:
        layer.trainable = False                               # frozen inner layers
    kt.unfreeze(base, keep_batchnorm_frozen=False)
    assert base.get_layer("conv1").trainable
    assert all(layer.trainable for layer in kt.batchnorm_layers(base))
    assert kt.count_params(model) == model.count_params() - 2 * (4 + 8)   # only moving statistics frozen


def test_frozen_batchnorm_ignores_training_flag():
    bn = keras.layers.BatchNormalization(momentum=0.9)
    x = np.random.default_rng(0).normal(5.0, 2.0, size=(64, 3)).astype("float32")
    bn(x, training=True)                                      # trainable: moving mean moves 10 % towards 5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), 0.5, atol=0.05)
    bn.trainable = False
    before = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    out_train = keras.ops.convert_to_numpy(bn(x, training=True))
    out_infer = keras.ops.convert_to_numpy(bn(x, training=False))
    np.testing.assert_allclose(out_train, out_infer)
    np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(bn.moving_mean))


def test_bn_stats_unchanged_after_finetuning_frozen_base(source, data):
    _, (xt, yt) = data
    model = kt.copy_model(source)
    kt.unfreeze(kt.get_base(model))                           # BN stays frozen
    before = kt.bn_moving_stats(model)
    conv_before = kt.get_base(model).get_layer("conv1").get_weights()[0].copy()
    kt.train(model, xt, yt, steps=10, lr=1e-3, seed=0)
    assert kt.max_abs_change(before, kt.bn_moving_stats(model)) == 0.0
    assert not np.array_equal(conv_before, kt.get_base(model).get_layer("conv1").get_weights()[0])

    free = kt.copy_model(source)
    kt.unfreeze(kt.get_base(free), keep_batchnorm_frozen=False)
    before = kt.bn_moving_stats(free)
    kt.train(free, xt, yt, steps=10, lr=1e-3, seed=0)
    assert kt.max_abs_change(before, kt.bn_moving_stats(free)) > 1e-3
    # the source model itself was never touched
    for a, b in zip(source.get_weights(), kt.copy_model(source).get_weights()):
        np.testing.assert_array_equal(a, b)


def test_feature_extraction_trains_only_the_head(source, data):
    _, (xt, yt) = data
    strategy = kt.feature_extraction(source, steps=20)
    # the head alone gets a 10x larger step than whole-network recipes (undertrained at 1e-3)
    assert strategy.lr == kt.HEAD_ONLY_LR == 1e-2 and strategy.steps == 20
    assert kt.fine_tuning(source).lr == 3e-4 and digit_cnn.target_only((8, 8, 1)).lr == 1e-3
    model = strategy.fit(xt, yt, seed=0)
    for a, b in zip(kt.get_base(source).get_weights(), kt.get_base(model).get_weights()):
        np.testing.assert_array_equal(a, b)
    start_head = strategy.build(0).get_layer("head").get_weights()[0]
    assert not np.array_equal(start_head, model.get_layer("head").get_weights()[0])
    feats = kt.extract_features(model, xt[:5])
    assert feats.shape == (5, 16) and (feats >= 0).all()
    assert kt.extract_features(model, xt[:5], layer="conv2").shape == (5, 4, 4, 8)


def test_fine_tune_bn_recipe_counts_and_bn_drift(source, data):
    _, (xt, yt) = data
    before = [w.copy() for w in source.get_weights()]
    # toy CNN: conv1 36 + bn1 4*4 + conv2 288 + bn2 4*8 + features 128*16+16 + head 16*4+4 = 2504 scalars
    assert source.count_params() == 2504
    frozen = kt.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="BN layers frozen", steps=10)
    call = kt.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="training=False at call time", steps=10)
    assert list(frozen) == ["recipe", "trainable params", "max change of BN moving stats", "target test accuracy"]
    assert frozen["recipe"] == "BN layers frozen"
    assert frozen["trainable params"] == 2504 - 2 * 2 * (4 + 8)     # BN gamma/beta and moving stats frozen
    assert call["trainable params"] == 2504 - 2 * (4 + 8)            # only the moving stats are not weights
    assert frozen["max change of BN moving stats"] == 0.0
    assert call["max change of BN moving stats"] > 0.0              # training=False did not protect them
    assert 0.0 <= call["target test accuracy"] <= 1.0
    assert frozen == kt.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="BN layers frozen", steps=10)
    for a, b in zip(before, source.get_weights()):                  # the source is never touched
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="recipe"):
        kt.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="nope")


def test_classifier_learning_curve_shares_and_reset_equivalence(source, data):
    (xs, ys), (xt, yt) = data
    strategies = [digit_cnn.target_only((8, 8, 1), n_classes=4, steps=15, filters=(4, 8), units=16),
                  kt.fine_tuning(source, steps=15)]
    shares = (0.1, 0.5, 1.0)
    curve = kt.classifier_learning_curve(strategies, xt, yt, xs[:60], ys[:60], shares=shares, seeds=(0, 1))
    assert list(curve.columns) == ["strategy", "share", "seed", "n_train", "accuracy", "seconds"]
    assert len(curve) == 2 * 3 * 2
    assert sorted(curve.share.unique()) == list(shares)
    assert curve[curve.share == 1.0].n_train.unique().tolist() == [80]
    assert curve.accuracy.between(0, 1).all()
    # resetting one compiled model gives exactly what a fresh model gives
    idx = stratified_subset(yt, 0.5, seed=1)
    fresh = strategies[1].fit(xt[idx], yt[idx], seed=1)
    row = curve[(curve.strategy == "fine-tuning") & (curve.share == 0.5) & (curve.seed == 1)]
    assert row.accuracy.item() == pytest.approx(kt.accuracy(fresh, xs[:60], ys[:60]), abs=1e-9)
    summary = curves.summarize_curve(curve, "accuracy")
    assert len(summary) == 6 and (summary["std"] >= 0).all()
    assert list(curves.curve_table(curve, "accuracy").columns) == ["target-only", "fine-tuning"]


@pytest.mark.parametrize("shares", [(0.0, 0.5), (0.5, 1.5), ()])
def test_classifier_learning_curve_rejects_bad_shares(shares, data):
    _, (xt, yt) = data
    with pytest.raises(ValueError, match="share"):
        kt.classifier_learning_curve([digit_cnn.target_only((8, 8, 1))], xt, yt, xt, yt, shares=shares)


def test_classifier_learning_curve_rejects_bad_data(data):
    _, (xt, yt) = data
    s = [digit_cnn.target_only((8, 8, 1))]
    with pytest.raises(ValueError, match="do not match"):
        kt.classifier_learning_curve(s, xt, yt[:-1], xt, yt, shares=(1.0,))
    with pytest.raises(ValueError, match="empty"):
        kt.classifier_learning_curve(s, xt[:0], yt[:0], xt, yt, shares=(1.0,))
    with pytest.raises(ValueError, match="shape"):
        kt.classifier_learning_curve(s, xt, yt, xt[:, :4, :4], yt, shares=(1.0,))
    with pytest.raises(ValueError, match="strategies"):
        kt.classifier_learning_curve([], xt, yt, xt, yt, shares=(1.0,))
    with pytest.raises(ValueError, match="unique"):
        kt.classifier_learning_curve(s + s, xt, yt, xt, yt, shares=(1.0,))
    with pytest.raises(ValueError, match="seeds"):
        kt.classifier_learning_curve(s, xt, yt, xt, yt, shares=(1.0,), seeds=())


def test_gain_and_negative_transfer_tables_on_an_accuracy_curve():
    curve = pd.DataFrame({
        "strategy": ["target-only"] * 4 + ["transfer"] * 4,
        "share": [0.1, 0.1, 1.0, 1.0] * 2,
        "seed": [0, 1] * 4,
        "n_train": [10, 10, 100, 100] * 2,
        "accuracy": [0.5, 0.7, 0.90, 0.90, 0.8, 0.8, 0.85, 0.87],
    })
    gain = curves.transfer_gain(curve, "accuracy")
    assert gain["transfer"].tolist() == [0.2, -0.04]
    assert curves.negative_transfer(curve, "accuracy") == {"transfer": [1.0]}
    assert curves.negative_transfer(curve, "accuracy", margin=0.05) == {"transfer": []}
    s = curves.summarize_curve(curve, "accuracy")
    assert s.loc[(s.strategy == "target-only") & (s.share == 0.1), "std"].item() == pytest.approx(np.std([0.5, 0.7], ddof=1))
    with pytest.raises(ValueError, match="baseline"):
        curves.transfer_gain(curve, "accuracy", baseline="nope")


def test_tools_work_for_any_base_and_head_model(data):
    """Nothing is specific to the digit CNN: a dense base with a "features" layer is enough."""
    _, (xt, yt) = data
    L = keras.layers
    base = keras.Sequential([keras.Input((8, 8, 1)), L.Flatten(), L.BatchNormalization(),
                             L.Dense(6, activation="relu", name="features")], name="base")
    model = keras.Sequential([keras.Input((8, 8, 1)), base, L.Dense(4, activation="softmax", name="head")])
    strategy = kt.feature_extraction(model, n_classes=3, steps=5)
    transferred = strategy.fit(xt, yt % 3, seed=0)
    assert transferred.output_shape == (None, 3) and kt.count_params(transferred) == 6 * 3 + 3
    assert kt.extract_features(transferred, xt[:4]).shape == (4, 6)
    assert kt.trainable_table(kt.unfreeze(kt.get_base(transferred))).trainable.tolist() == [False, True]


def test_repeat_indices_covers_each_pass():
    idx = kt.repeat_indices(7, steps=5, batch_size=3, seed=0)
    assert idx.shape == (15,)
    assert sorted(idx[:7]) == list(range(7)) and sorted(idx[7:14]) == list(range(7))
    with pytest.raises(ValueError):
        kt.repeat_indices(0, 5)


def test_fit_steps_validates(data):
    _, (xt, yt) = data
    with pytest.raises(ValueError, match="compile"):
        kt.fit_steps(digit_cnn.build_digit_cnn(), xt, yt)
    with pytest.raises(ValueError, match="lr"):
        kt.compile_classifier(digit_cnn.build_digit_cnn(), lr=0)
