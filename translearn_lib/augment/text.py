"""Text augmentation for item descriptions: masked and reworded views of the same product.

* :func:`mask_words` replaces a share of the words with ``[MASK]`` (the token BERT/MiniLM were
  pretrained to fill in), so the encoder sees the same item with parts hidden;
* :func:`reword` applies EDA-style edits (Wei & Zou 2019): delete a share of the words, and swap
  a few random pairs;
* :func:`text_views` encodes ``n_views`` augmented copies of a catalogue with the frozen encoder (cached).

A view must keep the item's meaning: too much masking and every view looks like "a product".

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import numpy as np

MASK = "[MASK]"


def _check_rate(rate: float) -> float:
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate!r}")
    return float(rate)


def mask_words(text: str, rate: float = 0.15, rng=None, token: str = MASK) -> str:
    """Replace each word with ``token`` with probability ``rate`` (at least one word stays).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    rate, rng = _check_rate(rate), np.random.default_rng(rng)
    words = str(text).split()
    if len(words) < 2:
        return str(text)
    hit = rng.random(len(words)) < rate
    if hit.all():
        hit[rng.integers(len(words))] = False
    return " ".join(token if h else w for w, h in zip(words, hit))


def reword(text: str, rate: float = 0.1, n_swaps: int = 1, rng=None) -> str:
    """Delete each word with probability ``rate`` (keep at least two), then swap ``n_swaps`` random word pairs.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    rate, rng = _check_rate(rate), np.random.default_rng(rng)
    if n_swaps < 0:
        raise ValueError(f"n_swaps must be >= 0, got {n_swaps!r}")
    words = str(text).split()
    if len(words) < 3:
        return str(text)
    keep = rng.random(len(words)) >= rate
    if keep.sum() < 2:
        keep[rng.choice(len(words), 2, replace=False)] = True
    words = [w for w, k in zip(words, keep) if k]
    for _ in range(n_swaps):
        i, j = rng.choice(len(words), 2, replace=False)
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


def text_views(texts, n_views: int = 2, method: str = "mask", rate: float = 0.15, seed: int = 0,
               model: str = "minilm") -> np.ndarray:
    """Embeddings of ``n_views`` augmented copies of every text: ``(n_views, n_texts, d)``, rows unit length.

    Args:
        texts: item descriptions.
        n_views: augmented copies per text (>= 1).
        method: ``"mask"`` (:func:`mask_words`) or ``"reword"`` (:func:`reword`).
        rate: masking / deletion rate.
        seed: augmentation seed (view v of text i uses seed ``(seed, v, i)``).
        model: text encoder name (embeddings cached on disk by text and model).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from translearn_lib.embeddings import l2_normalize
    from translearn_lib.encoders.text import encode_texts

    texts = [str(t) for t in texts]
    if not texts:
        raise ValueError("texts is empty")
    if n_views < 1:
        raise ValueError(f"n_views must be >= 1, got {n_views!r}")
    edit = {"mask": lambda t, r: mask_words(t, rate, r), "reword": lambda t, r: reword(t, rate, 1, r)}
    if method not in edit:
        raise ValueError(f"method must be 'mask' or 'reword', got {method!r}")
    views = [edit[method](t, np.random.default_rng([seed, v, i])) for v in range(n_views) for i, t in enumerate(texts)]
    emb = l2_normalize(encode_texts(views, model=model), dtype=np.float32)
    return emb.reshape(n_views, len(texts), -1)
