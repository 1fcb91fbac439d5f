"""Tests for translearn_lib.finetune on small synthetic images (a few seconds of Keras training)."""

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from translearn_lib import finetune as ft  # noqa: E402


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
    return ft.pretrain_source(x, y, name="toy", steps=40, cache=False, filters=(4, 8), units=16)


def test_build_digit_cnn_structure_and_seeding():
    m = ft.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=1)
    assert m.output_shape == (None, 10)
    assert ft.get_base(m).get_layer("features").units == 16
    assert len(ft.batchnorm_layers(m)) == 2
    same = ft.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=1)
    other = ft.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=2)
    for a, b in zip(m.get_weights(), same.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(m.get_weights()[0], other.get_weights()[0])
    with pytest.raises(ValueError, match="input_shape"):
        ft.build_digit_cnn((2, 2, 1))
    with pytest.raises(ValueError, match="n_classes"):
        ft.build_digit_cnn(n_classes=1)


def test_freeze_leaves_only_the_head_trainable(source):
    model = ft.with_new_head(source, n_classes=3, seed=0)
    ft.freeze(ft.get_base(model))
    assert ft.count_params(model) == 16 * 3 + 3               # head kernel + bias
    assert len(model.trainable_weights) == 2
    assert all(not layer.trainable for layer in ft.batchnorm_layers(model))
    table = ft.trainable_table(model)
    assert table.loc[table.trainable, "layer"].tolist() == ["head"]
    assert table["trainable_params"].sum() == 51


def test_unfreeze_keeps_batchnorm_frozen(source):
    model = ft.copy_model(source)
    base = ft.freeze(ft.get_base(model))
    ft.unfreeze(base)
    bn_params = sum(ft.count_params(layer, trainable=False) for layer in ft.batchnorm_layers(model))
    assert all(not layer.trainable for layer in ft.batchnorm_layers(model))
    assert base.get_layer("conv1").trainable and base.get_layer("features").trainable
    # everything trains except BN: gamma/beta join the moving statistics as frozen weights
    assert ft.count_params(model) + ft.count_params(model, trainable=False) == model.count_params()
    assert ft.count_params(model, trainable=False) == bn_params == 2 * 2 * (4 + 8)
    ft.unfreeze(base, keep_batchnorm_frozen=False)
    assert all(layer.trainable for layer in ft.batchnorm_layers(model))
    ft.unfreeze(base, last_n=1)                               # only "features" (the last layer with weights)
    assert [p for p, t in zip(ft.trainable_table(model).layer, ft.trainable_table(model).trainable) if t] == \
        ["base/features", "head"]
    with pytest.raises(ValueError):
        ft.unfreeze(base, last_n=-1)


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
    model = ft.copy_model(source)
    ft.unfreeze(ft.get_base(model))                           # BN stays frozen
    before = ft.bn_moving_stats(model)
    conv_before = ft.get_base(model).get_layer("conv1").get_weights()[0].copy()
    ft.train(model, xt, yt, steps=10, lr=1e-3, seed=0)
    assert ft.max_abs_change(before, ft.bn_moving_stats(model)) == 0.0
    assert not np.array_equal(conv_before, ft.get_base(model).get_layer("conv1").get_weights()[0])

    free = ft.copy_model(source)
    ft.unfreeze(ft.get_base(free), keep_batchnorm_frozen=False)
    before = ft.bn_moving_stats(free)
    ft.train(free, xt, yt, steps=10, lr=1e-3, seed=0)
    assert ft.max_abs_change(before, ft.bn_moving_stats(free)) > 1e-3
    # the source model itself was never touched
    for a, b in zip(source.get_weights(), ft.copy_model(source).get_weights()):
        np.testing.assert_array_equal(a, b)


def test_feature_extraction_trains_only_the_head(source, data):
    _, (xt, yt) = data
    strategy = ft.feature_extraction(source, steps=20)
    # the head alone gets a 10x larger step than whole-network recipes (undertrained at 1e-3)
    assert strategy.lr == ft.HEAD_ONLY_LR == 1e-2 and strategy.steps == 20
    assert ft.fine_tuning(source).lr == 3e-4 and ft.target_only((8, 8, 1)).lr == 1e-3
    model = strategy.fit(xt, yt, seed=0)
    for a, b in zip(ft.get_base(source).get_weights(), ft.get_base(model).get_weights()):
        np.testing.assert_array_equal(a, b)
    start_head = strategy.build(0).get_layer("head").get_weights()[0]
    assert not np.array_equal(start_head, model.get_layer("head").get_weights()[0])
    feats = ft.extract_features(model, xt[:5])
    assert feats.shape == (5, 16) and (feats >= 0).all()
    assert ft.extract_features(model, xt[:5], layer="conv2").shape == (5, 4, 4, 8)


def test_fine_tune_bn_recipe_counts_and_bn_drift(source, data):
    _, (xt, yt) = data
    before = [w.copy() for w in source.get_weights()]
    # toy CNN: conv1 36 + bn1 4*4 + conv2 288 + bn2 4*8 + features 128*16+16 + head 16*4+4 = 2504 scalars
    assert source.count_params() == 2504
    frozen = ft.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="BN layers frozen", steps=10)
    call = ft.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="training=False at call time", steps=10)
    assert list(frozen) == ["recipe", "trainable params", "max change of BN moving stats", "target test accuracy"]
    assert frozen["recipe"] == "BN layers frozen"
    assert frozen["trainable params"] == 2504 - 2 * 2 * (4 + 8)     # BN gamma/beta and moving stats frozen
    assert call["trainable params"] == 2504 - 2 * (4 + 8)            # only the moving stats are not weights
    assert frozen["max change of BN moving stats"] == 0.0
    assert call["max change of BN moving stats"] > 0.0              # training=False did not protect them
    assert 0.0 <= call["target test accuracy"] <= 1.0
    assert frozen == ft.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="BN layers frozen", steps=10)
    for a, b in zip(before, source.get_weights()):                  # the source is never touched
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="recipe"):
        ft.fine_tune_bn_recipe(source, xt, yt, xt, yt, recipe="nope")


def test_learning_curve_fractions_and_reset_equivalence(source, data):
    (xs, ys), (xt, yt) = data
    strategies = [ft.target_only((8, 8, 1), n_classes=4, steps=15, filters=(4, 8), units=16),
                  ft.fine_tuning(source, steps=15)]
    fractions = (0.1, 0.5, 1.0)
    curve = ft.learning_curve(strategies, xt, yt, xs[:60], ys[:60], fractions=fractions, seeds=(0, 1))
    assert list(curve.columns) == ["strategy", "fraction", "n_train", "seed", "accuracy"]
    assert len(curve) == 2 * 3 * 2
    assert sorted(curve.fraction.unique()) == list(fractions)
    assert curve[curve.fraction == 1.0].n_train.unique().tolist() == [80]
    assert curve.accuracy.between(0, 1).all()
    # resetting one compiled model gives exactly what a fresh model gives
    idx = ft.stratified_subset(yt, 0.5, seed=1)
    fresh = strategies[1].fit(xt[idx], yt[idx], seed=1)
    row = curve[(curve.strategy == "fine-tuning") & (curve.fraction == 0.5) & (curve.seed == 1)]
    assert row.accuracy.item() == pytest.approx(ft.accuracy(fresh, xs[:60], ys[:60]), abs=1e-9)
    summary = ft.summarize_curve(curve)
    assert len(summary) == 6 and (summary["std"] >= 0).all()
    assert list(ft.curve_table(curve).columns) == ["target-only", "fine-tuning"]


@pytest.mark.parametrize("fractions", [(0.0, 0.5), (0.5, 1.5), ()])
def test_learning_curve_rejects_bad_fractions(fractions, data):
    _, (xt, yt) = data
    with pytest.raises(ValueError, match="fraction"):
        ft.learning_curve([ft.target_only((8, 8, 1))], xt, yt, xt, yt, fractions=fractions)


def test_learning_curve_rejects_bad_data(data):
    _, (xt, yt) = data
    s = [ft.target_only((8, 8, 1))]
    with pytest.raises(ValueError, match="do not match"):
        ft.learning_curve(s, xt, yt[:-1], xt, yt)
    with pytest.raises(ValueError, match="empty"):
        ft.learning_curve(s, xt[:0], yt[:0], xt, yt)
    with pytest.raises(ValueError, match="shape"):
        ft.learning_curve(s, xt, yt, xt[:, :4, :4], yt)
    with pytest.raises(ValueError, match="strategies"):
        ft.learning_curve([], xt, yt, xt, yt)
    with pytest.raises(ValueError, match="unique"):
        ft.learning_curve(s + s, xt, yt, xt, yt)


def test_gain_and_negative_transfer_tables():
    curve = pd.DataFrame({
        "strategy": ["target-only"] * 4 + ["transfer"] * 4,
        "fraction": [0.1, 0.1, 1.0, 1.0] * 2,
        "n_train": [10, 10, 100, 100] * 2,
        "seed": [0, 1] * 4,
        "accuracy": [0.5, 0.7, 0.90, 0.90, 0.8, 0.8, 0.85, 0.87],
    })
    gain = ft.transfer_gain(curve)
    assert gain["transfer"].tolist() == [0.2, -0.04]
    assert ft.negative_transfer(curve) == {"transfer": [1.0]}
    assert ft.negative_transfer(curve, margin=0.05) == {"transfer": []}
    s = ft.summarize_curve(curve)
    assert s.loc[(s.strategy == "target-only") & (s.fraction == 0.1), "std"].item() == pytest.approx(np.std([0.5, 0.7], ddof=1))
    with pytest.raises(ValueError, match="baseline"):
        ft.transfer_gain(curve, baseline="nope")


def test_permute_pixels_and_shuffle_labels():
    x = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3, 1)
    p = ft.permute_pixels(x, seed=0)
    assert p.shape == x.shape
    # one permutation for all images: image 1 = image 0 + 9 everywhere
    np.testing.assert_array_equal(p[1], p[0] + 9)
    assert sorted(p[0].ravel()) == sorted(x[0].ravel()) and not np.array_equal(p, x)
    y = np.repeat(np.arange(5), 20)
    s = ft.shuffle_labels(y, seed=0)
    assert np.bincount(s).tolist() == [20] * 5 and (s != y).mean() > 0.5
    with pytest.raises(ValueError):
        ft.shuffle_labels(np.array([]))


def test_repeat_indices_covers_each_pass():
    idx = ft.repeat_indices(7, steps=5, batch_size=3, seed=0)
    assert idx.shape == (15,)
    assert sorted(idx[:7]) == list(range(7)) and sorted(idx[7:14]) == list(range(7))
    with pytest.raises(ValueError):
        ft.repeat_indices(0, 5)


def test_fit_steps_validates(data):
    _, (xt, yt) = data
    with pytest.raises(ValueError, match="compile"):
        ft.fit_steps(ft.build_digit_cnn(), xt, yt)
    with pytest.raises(ValueError, match="lr"):
        ft.compile_classifier(ft.build_digit_cnn(), lr=0)


def test_pretrain_source_cache_roundtrip(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSLEARN_CACHE", str(tmp_path))
    (x, y), _ = data
    first = ft.pretrain_source(x, y, name="toy", steps=5, filters=(4, 8), units=16)
    files = list((tmp_path / "models").glob("digits-toy-*.keras"))
    assert len(files) == 1
    second = ft.pretrain_source(x, y, name="toy", steps=5, filters=(4, 8), units=16)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    ft.pretrain_source(x, y, name="toy", steps=6, filters=(4, 8), units=16)     # new settings, new file
    assert len(list((tmp_path / "models").glob("digits-toy-*.keras"))) == 2
