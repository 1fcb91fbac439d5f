"""Tests for translearn_lib.vision.vgg: VGG16 inputs, the classifier, block freezing, the cached pretraining."""

import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from translearn_lib import keras_transfer as kt  # noqa: E402
from translearn_lib.vision import vgg  # noqa: E402


def test_input_checks_say_how_to_fix():
    assert vgg.check_vgg_input_shape((32, 40, 3)) == (32, 40, 3)
    with pytest.raises(ValueError, match="too small for VGG16.*size=32"):
        vgg.check_vgg_input_shape((8, 8, 3))
    with pytest.raises(ValueError, match="3 colour channels.*preprocess_grey"):
        vgg.check_vgg_input_shape((32, 32, 1))
    with pytest.raises(ValueError, match=r"\(height, width, channels\)"):
        vgg.check_vgg_input_shape((32, 32))
    with pytest.raises(ValueError, match="too small"):
        vgg.build_vgg16_classifier(10, (16, 16, 3))
    with pytest.raises(ValueError, match="num_classes"):
        vgg.build_vgg16_classifier(1)
    with pytest.raises(ValueError, match="head"):
        vgg.build_vgg16_classifier(3, head="mlp")


def test_vgg_normalise_matches_keras_preprocess_input():
    rgb = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    ours = vgg.vgg_normalise(rgb)
    theirs = keras.ops.convert_to_numpy(keras.applications.vgg16.preprocess_input(rgb.copy()))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    # a grey pixel of value 1 -> 255 in every channel, minus the BGR means
    np.testing.assert_allclose(vgg.vgg_normalise(np.full((1, 3), 255.0))[0],
                               255.0 - np.array(vgg.VGG_MEAN_BGR), atol=1e-4)


def test_preprocess_grey_resizes_and_normalises():
    x = np.zeros((3, 8, 8))
    x[:, 2:6, 2:6] = 16.0                                # raw optdigits scale
    out = vgg.preprocess_grey(x, size=32, max_value=16)
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.float32
    # black corner: minus the means; white centre: 255 minus the means (BGR order)
    np.testing.assert_allclose(out[0, 0, 0], -np.array(vgg.VGG_MEAN_BGR), atol=1e-4)
    np.testing.assert_allclose(out[0, 16, 16], 255.0 - np.array(vgg.VGG_MEAN_BGR), atol=1e-3)
    # the same images with a channel axis, or as 3 equal channels in [0, 1], give the same result
    np.testing.assert_allclose(vgg.preprocess_grey(x[..., None] / 16.0), out, atol=1e-3)
    np.testing.assert_allclose(vgg.preprocess_grey(np.repeat(x[..., None] / 16.0, 3, axis=-1)), out, atol=1e-3)
    with pytest.raises(ValueError, match="max_value"):
        vgg.preprocess_grey(x)                           # values up to 16 but max_value=1
    with pytest.raises(ValueError, match="size must be"):
        vgg.preprocess_grey(x / 16.0, size=16)
    with pytest.raises(ValueError, match="colour"):
        vgg.preprocess_grey(np.random.default_rng(0).random((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        vgg.preprocess_grey(np.zeros((0, 8, 8)))


def test_classifier_structure_blocks_and_parameter_counts():
    m = vgg.build_vgg16_classifier(4, (32, 32, 3), weights=None, trainable_blocks=0, seed=1)
    base = kt.get_base(m)
    assert m.output_shape == (None, 4) and base.get_layer("features").output.shape[1] == 512
    assert base.count_params() == 14_714_688                       # Simonyan & Zisserman's conv base
    assert kt.batchnorm_layers(m) == []                            # VGG16 has no BatchNorm
    assert kt.count_params(m) == 512 * 4 + 4                       # frozen base: only the head trains
    vgg.set_trainable_blocks(m, 1)
    block5 = 3 * (3 * 3 * 512 * 512 + 512)
    assert kt.count_params(m) == block5 + 512 * 4 + 4
    table = kt.trainable_table(m)
    assert set(table.loc[table.trainable, "layer"].str.split("/").str[-1]) == \
        {"block5_conv1", "block5_conv2", "block5_conv3", "head"}
    vgg.set_trainable_blocks(m, 5)
    assert kt.count_params(m) == 14_714_688 + 512 * 4 + 4
    with pytest.raises(ValueError, match="trainable_blocks"):
        vgg.set_trainable_blocks(m, 6)
    # a hidden head layer, and the per-block table: VGG16 at 32 x 32 costs ~0.31 G multiply-adds
    h = vgg.build_vgg16_classifier(3, weights=None, head=8, trainable_blocks=0)
    assert kt.count_params(h) == 512 * 8 + 8 + 8 * 3 + 3
    blocks = vgg.block_table(m)
    assert blocks["convs"].tolist() == [2, 2, 3, 3, 3] and blocks["params"].sum() == 14_714_688
    assert blocks["output"].tolist()[-1] == (1, 1, 512)
    assert blocks.loc[0, "mult_adds"] == 32 * 32 * 9 * (3 * 64 + 64 * 64)
    assert round(blocks["mult_adds"].sum() / 1e9, 3) == 0.313


def test_seeded_random_weights_and_copy_from_source():
    a = vgg.build_vgg16_classifier(3, weights=None, seed=5)
    b = vgg.build_vgg16_classifier(3, weights=None, seed=5)
    c = vgg.build_vgg16_classifier(3, weights=None, seed=6)
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    # weights=<source model>: base copied (also at a larger input size), source untouched, new head
    t = vgg.build_vgg16_classifier(7, (48, 48, 3), weights=a, trainable_blocks=5, seed=9)
    np.testing.assert_array_equal(t.get_layer("base").get_layer("block3_conv2").get_weights()[0],
                                  a.get_layer("base").get_layer("block3_conv2").get_weights()[0])
    assert t.output_shape == (None, 7)
    with pytest.raises(ValueError, match="does not exist"):
        vgg.build_vgg16_classifier(3, weights="/no/such/file.h5")


def test_imagenet_falls_back_offline_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TRANSLEARN_OFFLINE", "1")
    assert vgg.imagenet_weights_file() is None
    assert "falls back" in vgg.imagenet_status() and "TRANSLEARN_OFFLINE" in vgg.imagenet_status()
    source = vgg.build_vgg16_classifier(10, weights=None, seed=3)
    with pytest.warns(UserWarning, match="not cached"):
        m = vgg.build_vgg16_classifier(10, weights="imagenet", fallback=source)
    np.testing.assert_array_equal(m.get_layer("base").get_weights()[0], source.get_layer("base").get_weights()[0])


def test_per_class_subset_is_balanced_and_nested():
    y = np.repeat(np.arange(3), [7, 9, 8])
    five = vgg.per_class_subset(y, 5, seed=1)
    two = vgg.per_class_subset(y, 2, seed=1)
    assert np.bincount(y[five]).tolist() == [5, 5, 5] and set(two) <= set(five)
    with pytest.raises(ValueError, match="smallest class"):
        vgg.per_class_subset(y, 8)


def test_pretrain_cache_roundtrip_and_strategies(tmp_cache):
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 8, 8)), np.arange(8) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = vgg.pretrain_vgg16((x, y), epochs=1, batch_size=8, name="toy")
    assert len(list((tmp_cache / "models").glob("vgg16-toy-*.keras"))) == 1
    assert len(first.source_history["loss"]) == 1 and first.source_history["loss"][0] > 0
    second = vgg.pretrain_vgg16((x, y), epochs=1, batch_size=8, name="toy")          # loaded, not trained
    np.testing.assert_array_equal(first.get_weights()[-2], second.get_weights()[-2])
    assert second.source_history == first.source_history
    with pytest.raises(ValueError, match="epochs"):
        vgg.pretrain_vgg16((x, y), epochs=0)
    strategies = vgg.transfer_strategies(second, 2, steps=3)
    assert [s.name for s in strategies] == list(vgg.METHODS)
    assert [s.lr for s in strategies] == [vgg.CONV_LR, vgg.HEAD_LR, vgg.CONV_LR, vgg.CONV_LR]
    fe = strategies[1].build(0)
    assert kt.count_params(fe) == 512 * 2 + 2
    np.testing.assert_array_equal(fe.get_layer("base").get_weights()[-1], second.get_layer("base").get_weights()[-1])
    with pytest.raises(ValueError, match="unknown methods"):
        vgg.transfer_strategies(second, 2, methods=["linear probe"])


def test_open_part_on_stored_outputs_equals_the_frozen_full_model():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 50, size=(6, 32, 32, 3)).astype("float32")
    src = vgg.build_vgg16_classifier(3, weights=None, seed=1)
    for first_open, blocks, stored_shape in [(6, 0, (512,)), (5, 1, (2, 2, 512))]:
        full = vgg.build_vgg16_classifier(3, weights=src, trainable_blocks=blocks, seed=7)
        part = vgg.open_part(src, 3, first_open, seed=7)
        stored = vgg.frozen_outputs(src, x, first_open)
        assert stored.shape == (6, *stored_shape)
        # same trainable weights, same starting function: training both on the same batches is the same
        assert kt.count_params(part) == kt.count_params(full)
        np.testing.assert_allclose(kt.predict_proba(part, stored), kt.predict_proba(full, x), atol=1e-5)
    with pytest.raises(ValueError, match="first_open_block"):
        vgg.frozen_outputs(src, x, 1)


def test_compare_recipes_feature_extraction_on_stored_features():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 50, size=(12, 32, 32, 3)).astype("float32")
    y = np.arange(12) % 2
    src = vgg.build_vgg16_classifier(2, weights=None, seed=2)
    runs = vgg.compare_recipes(src, x, y, x[:4], y[:4], per_class=[2, 3], seeds=[0], steps=2,
                               methods=["feature extraction"], progress=False)
    assert runs["per_class"].tolist() == [2, 3] and runs["n_train"].tolist() == [4, 6]
    assert set(runs["input"]) == {"features"} and runs["accuracy"].between(0, 1).all()
