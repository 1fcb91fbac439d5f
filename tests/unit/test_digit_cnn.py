"""Tests for translearn_lib.vision.digit_cnn: the chapter-01 CNN, its cached pretraining, unrelated sources."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from translearn_lib import keras_transfer as kt  # noqa: E402
from translearn_lib.vision import digit_cnn  # noqa: E402


def test_build_digit_cnn_structure_and_seeding():
    m = digit_cnn.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=1)
    assert m.output_shape == (None, 10)
    assert kt.get_base(m).get_layer("features").units == 16
    assert len(kt.batchnorm_layers(m)) == 2
    same = digit_cnn.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=1)
    other = digit_cnn.build_digit_cnn((8, 8, 1), 10, filters=(4, 8), units=16, seed=2)
    for a, b in zip(m.get_weights(), same.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(m.get_weights()[0], other.get_weights()[0])
    with pytest.raises(ValueError, match="input_shape"):
        digit_cnn.build_digit_cnn((2, 2, 1))
    with pytest.raises(ValueError, match="n_classes"):
        digit_cnn.build_digit_cnn(n_classes=1)


def test_target_only_trains_the_cnn_from_scratch():
    strategy = digit_cnn.target_only((8, 8, 1), n_classes=4, filters=(4, 8), units=16)
    assert strategy.name == "target-only" and strategy.lr == 1e-3 and strategy.steps == 200
    model = strategy.build(3)
    assert model.output_shape == (None, 4)
    assert kt.count_params(model) == model.count_params() - 2 * (4 + 8)      # everything but the BN moving stats
    for a, b in zip(model.get_weights(), digit_cnn.build_digit_cnn((8, 8, 1), 4, filters=(4, 8), units=16,
                                                                   seed=3).get_weights()):
        np.testing.assert_array_equal(a, b)


def test_permute_pixels_and_shuffle_labels():
    x = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3, 1)
    p = digit_cnn.permute_pixels(x, seed=0)
    assert p.shape == x.shape
    # one permutation for all images: image 1 = image 0 + 9 everywhere
    np.testing.assert_array_equal(p[1], p[0] + 9)
    assert sorted(p[0].ravel()) == sorted(x[0].ravel()) and not np.array_equal(p, x)
    y = np.repeat(np.arange(5), 20)
    s = digit_cnn.shuffle_labels(y, seed=0)
    assert np.bincount(s).tolist() == [20] * 5 and (s != y).mean() > 0.5
    with pytest.raises(ValueError):
        digit_cnn.shuffle_labels(np.array([]))


def test_pretrain_source_cache_roundtrip(tmp_cache):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 8, 8, 1)).astype("float32"), np.arange(40) % 4
    first = digit_cnn.pretrain_source(x, y, name="toy", steps=5, filters=(4, 8), units=16)
    files = list((tmp_cache / "models").glob("digits-toy-*.keras"))
    assert len(files) == 1
    second = digit_cnn.pretrain_source(x, y, name="toy", steps=5, filters=(4, 8), units=16)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    digit_cnn.pretrain_source(x, y, name="toy", steps=6, filters=(4, 8), units=16)     # new settings, new file
    assert len(list((tmp_cache / "models").glob("digits-toy-*.keras"))) == 2
    digit_cnn.pretrain_source(x[::-1], y, name="toy", steps=5, filters=(4, 8), units=16)  # new data, new file
    assert len(list((tmp_cache / "models").glob("digits-toy-*.keras"))) == 3
    assert not list((tmp_cache / "models").glob(".tmp-*"))                               # writes are atomic
