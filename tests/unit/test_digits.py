"""Tests for translearn_lib.datasets.digits (offline: both datasets ship with installed packages)."""

import numpy as np
import pytest

from translearn_lib.datasets import digits


def test_resize_area_downsample_is_block_mean():
    img = np.arange(16, dtype=float).reshape(1, 4, 4)
    out = digits.resize_images(img, 2)
    expected = img[0].reshape(2, 2, 2, 2).mean(axis=(1, 3))
    assert out.shape == (1, 2, 2)
    np.testing.assert_allclose(out[0], expected)


def test_resize_preserves_constants_and_range():
    const = np.full((2, 8, 8), 0.7)
    for size in (4, 8, 16, 28):
        np.testing.assert_allclose(digits.resize_images(const, size), 0.7)
    rng = np.random.default_rng(0).random((3, 8, 8))
    up = digits.resize_images(rng, 16)
    assert up.min() >= rng.min() - 1e-12 and up.max() <= rng.max() + 1e-12
    # non-integer ratio (20 -> 8): rows of the area matrix still sum to one
    np.testing.assert_allclose(digits.resize_images(np.ones((1, 20, 20)), 8), 1.0)


@pytest.mark.parametrize("bad, size", [(np.zeros((2, 8, 6)), 4), (np.zeros((0, 8, 8)), 4), (np.zeros((8, 8)), 4),
                                       (np.zeros((1, 8, 8)), 0)])
def test_resize_rejects_bad_input(bad, size):
    with pytest.raises(ValueError):
        digits.resize_images(bad, size)


def test_raw_loaders_shapes_and_ranges():
    x, y = digits.load_optdigits_raw()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert x.min() == 0 and x.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    xm, ym = digits.load_mnist_raw()
    assert xm.shape == (5000, 784) and xm.min() == 0 and xm.max() == 255
    assert np.bincount(ym).tolist() == [500] * 10


def test_load_optdigits_split():
    d = digits.load_optdigits()
    assert d.x_train.shape == (1257, 8, 8, 1) and d.x_test.shape == (540, 8, 8, 1)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0 and d.x_train.max() == 1.0
    assert d.image_shape == (8, 8, 1) and d.n_classes == 10
    # stratified: each digit keeps 30 % (+-1) of its images in the test set
    full = np.bincount(digits.load_optdigits_raw()[1])
    assert np.all(np.abs(np.bincount(d.y_test) - 0.3 * full) <= 1)
    # seeded and exact: resizing at the native size keeps the raw values / 16
    again = digits.load_optdigits()
    np.testing.assert_array_equal(d.x_train, again.x_train)
    assert set(np.unique(d.x_train * 16).round(4)) <= set(np.arange(17.0))


def test_load_mnist_split_and_options():
    d = digits.load_mnist()
    assert d.x_train.shape == (4000, 8, 8, 1) and d.x_test.shape == (1000, 8, 8, 1)
    assert np.bincount(d.y_train).tolist() == [400] * 10
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    rgb = digits.load_mnist(size=16, crop=0, channels=3)
    assert rgb.x_train.shape == (4000, 16, 16, 3)
    np.testing.assert_array_equal(rgb.x_train[..., 0], rgb.x_train[..., 2])
    with pytest.raises(ValueError, match="crop"):
        digits.load_mnist(crop=14)
    with pytest.raises(ValueError, match="size"):
        digits.load_mnist(size=2)
    with pytest.raises(ValueError, match="channels"):
        digits.load_optdigits(channels=2)
    with pytest.raises(ValueError, match="test_size"):
        digits.load_optdigits(test_size=1.0)


def test_load_digit_domains_share_a_shape():
    src, tgt = digits.load_digit_domains(size=16)
    assert src.name == "mnist" and tgt.name == "optdigits"
    assert src.image_shape == tgt.image_shape == (16, 16, 1)


def test_stratified_subset_sizes_classes_and_nesting():
    y = np.repeat(np.arange(10), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    small = digits.stratified_subset(y, 0.01, seed=3)
    assert set(y[small]) == set(range(10))          # every digit at least once
    assert 10 <= small.size <= 20
    bigger = digits.stratified_subset(y, 0.1, seed=3)
    assert set(small) <= set(bigger)                # nested for the same seed
    assert abs(bigger.size - 0.1 * y.size) <= 10
    assert np.all(np.diff(bigger) > 0)              # sorted, no duplicates
    np.testing.assert_array_equal(digits.stratified_subset(y, 1.0), np.arange(y.size))
    assert not np.array_equal(small, digits.stratified_subset(y, 0.01, seed=4))


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_stratified_subset_rejects_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        digits.stratified_subset(np.arange(10) % 2, fraction)


def test_stratified_subset_rejects_empty():
    with pytest.raises(ValueError, match="non-empty"):
        digits.stratified_subset(np.array([], dtype=int), 0.5)
