"""The chapter's two adaptation tasks: MNIST -> optdigits images, and item texts of two shop domains.

Each task holds labelled source data, the unlabelled target inputs the methods may adapt to, a small
labelled **target validation** subset (used only to choose settings, never to train) and a labelled
target test set (used only to report).

Taught in notebooks/05_domain_adaptation.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from translearn_lib import config
from translearn_lib.datasets.digits import load_digit_domains


@dataclass
class AdaptationTask:
    """Source, target and the two labelled target views of one adaptation problem.

    Attributes:
        name: label for tables.
        xs: source inputs.
        ys: source labels.
        xt: target training inputs (their labels are never used in training).
        x_val: labelled target validation inputs (a subset of ``xt``, for choosing settings only).
        y_val: their labels.
        x_test: target test inputs.
        y_test: target test labels (for reporting only).
        class_names: one name per class.
        yt: the labels of ``xt``, kept only to build controlled experiments (e.g. a target with a
            different label mix); never passed to a training loop.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """

    name: str
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    yt: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def __repr__(self) -> str:
        return (f"AdaptationTask({self.name!r}, source={self.xs.shape}, target={self.xt.shape}, "
                f"val={self.x_val.shape}, test={self.x_test.shape}, classes={self.n_classes})")


def validation_subset(y: np.ndarray, per_class: int, seed: int = config.DEFAULT_SEED) -> np.ndarray:
    """Sorted indices of ``per_class`` seeded examples of each class (fewer if a class is smaller).

    Raises:
        ValueError: on empty labels or ``per_class < 1``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    y = np.asarray(y)
    if y.size == 0 or int(per_class) < 1:
        raise ValueError(f"need labels and per_class >= 1, got {y.size} labels and per_class={per_class!r}")
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(y == c))[:int(per_class)] for c in np.unique(y)]
    return np.sort(np.concatenate(picks)).astype(np.int64)


def digit_task(size: int = 8, val_per_class: int = 10, seed: int = config.DEFAULT_SEED) -> AdaptationTask:
    """MNIST (5,000 images, labelled source) -> scikit-learn's optdigits (target), both ``size x size``.

    Args:
        size: image side (8 = optdigits' native resolution).
        val_per_class: labelled target validation images per digit, taken from the target training part.
        seed: seed of the splits (the defaults give chapter 01's 4,000 / 1,000 MNIST and 1,257 / 540
            optdigits split).

    Returns:
        AdaptationTask: source = MNIST training part (4,000), target = optdigits training part (1,257,
        unlabelled), validation = ``10 * val_per_class`` of those with labels, test = optdigits test (540).

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    source, target = load_digit_domains(size=size, seed=seed)
    val = validation_subset(target.y_train, val_per_class, seed=seed)
    return AdaptationTask("MNIST -> optdigits", source.x_train, source.y_train, target.x_train,
                          target.x_train[val], target.y_train[val], target.x_test, target.y_test,
                          tuple(str(d) for d in range(10)), yt=target.y_train)


def shop_text_task(shop, source: str = "electronics", target: str = "books", test_size: float = 0.5,
                   val_per_class: int = 5, model: str = "minilm", seed: int = config.DEFAULT_SEED) -> AdaptationTask:
    """Item descriptions of two shop domains as sentence embeddings; the label is the item's main topic.

    The same eight topics (sport, music, ...) appear in every domain, but each domain names them
    with its own products ("GPS running watch" vs "marathon training guide"): the embeddings of a
    topic sit in different places per domain, a covariate shift with a shared label set.

    Args:
        shop: a :class:`~translearn_lib.datasets.shop.CrossDomainShop`.
        source: labelled source domain.
        target: target domain (its items are split into an unlabelled training part and a test part).
        test_size: share of target items held out for testing, stratified by topic.
        val_per_class: labelled target validation items per topic, from the target training part.
        model: text encoder name (:func:`translearn_lib.encoders.text.encode_texts`; cached).
        seed: seed of the split.

    Returns:
        AdaptationTask with float32 embeddings (L2-normalised mean pooling) as inputs.

    Raises:
        ValueError: on an unknown domain, the same domain twice, or a bad ``test_size``.

    Taught in notebooks/05_domain_adaptation.ipynb.
    """
    from sklearn.model_selection import train_test_split

    from translearn_lib.encoders.text import encode_texts

    for d in (source, target):
        if d not in shop.domains:
            raise ValueError(f"unknown domain {d!r}; choose from {tuple(shop.domains)}")
    if source == target:
        raise ValueError("source and target must be different domains")
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    topics = tuple(shop.topics)
    items = shop.items
    emb = np.asarray(encode_texts(items["text"].tolist(), model=model), dtype=np.float32)
    label = items["topic"].map({t: i for i, t in enumerate(topics)}).to_numpy().astype(np.int64)
    s = (items["domain"] == source).to_numpy()
    t_idx = np.flatnonzero((items["domain"] == target).to_numpy())
    tr, te = train_test_split(t_idx, test_size=test_size, stratify=label[t_idx], random_state=seed)
    tr, te = np.sort(tr), np.sort(te)
    val = tr[validation_subset(label[tr], val_per_class, seed=seed)]
    return AdaptationTask(f"{source} -> {target} (item texts)", emb[s], label[s], emb[tr], emb[val], label[val],
                          emb[te], label[te], topics, yt=label[tr])


__all__ = ["AdaptationTask", "validation_subset", "digit_task", "shop_text_task"]
