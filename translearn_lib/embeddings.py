"""Vector helpers shared by every chapter: row normalisation, cosine neighbours, label agreement, PCA.

Every function works on plain NumPy arrays, whatever produced them (BERT, an LLM, VGG16, matrix
factorisation), so chapters reuse them instead of re-typing ``x / norm(x)``.

Taught in notebooks/02_llm_text_representations.ipynb.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

def l2_normalize(x: np.ndarray, eps: float = 1e-12, dtype=np.float32) -> np.ndarray:
    """Scale each row to unit length (rows of zeros stay zero).

    Args:
        x: ``(n, dim)`` array (or one vector).
        eps: smallest norm divided by (keeps zero rows at zero).
        dtype: dtype of the computation and the result (float32 by default; pass ``np.float64``
            for exact linear algebra downstream).

    Returns:
        np.ndarray: same shape, rows of norm 1 (or 0).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    x = np.asarray(x, dtype=dtype)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def nearest_neighbors(embeddings: np.ndarray, k: int = 10, queries=None, exclude_self: bool = True):
    """Cosine nearest neighbours.

    Args:
        embeddings: ``(n, dim)`` item vectors (need not be normalised).
        k: neighbours per query (1 <= k <= n, minus one when excluding self).
        queries: row indices into ``embeddings`` (int or list), or a ``(m, dim)`` array of query
            vectors; ``None`` = every row.
        exclude_self: when queries are indices, never return the query item itself.

    Returns:
        ``(indices, similarities)``: two ``(m, k)`` arrays, most similar first.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    emb = l2_normalize(np.asarray(embeddings, dtype=np.float32))
    n = len(emb)
    self_idx = None
    if queries is None:
        self_idx = np.arange(n)
    elif np.ndim(queries) <= 1 and np.asarray(queries).dtype.kind in "iu":
        self_idx = np.atleast_1d(np.asarray(queries))
        if self_idx.size and (self_idx.min() < -n or self_idx.max() >= n):
            raise IndexError(f"query index out of range for {n} items")
    if self_idx is not None:
        q = emb[self_idx]
    else:
        q = l2_normalize(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        if q.shape[1] != emb.shape[1]:
            raise ValueError(f"query dim {q.shape[1]} != embedding dim {emb.shape[1]}")
    limit = n - 1 if (self_idx is not None and exclude_self) else n
    if not 1 <= k <= limit:
        raise ValueError(f"k must be in [1, {limit}], got {k}")
    sims = q @ emb.T
    if self_idx is not None and exclude_self:
        sims[np.arange(len(q)), self_idx] = -np.inf
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(sims, part, 1).argsort(axis=1)[:, ::-1]
    idx = np.take_along_axis(part, order, 1)
    return idx, np.take_along_axis(sims, idx, 1)


def mean_pairwise_cosine(embeddings: np.ndarray) -> float:
    """Average cosine similarity between two different rows (the diagonal left out).

    A quick measure of how bunched-up an embedding space is: near 1 means every vector points the
    same way (as [CLS] vectors of a sentence encoder tend to), near 0 means spread out.

    Args:
        embeddings: ``(n, dim)`` array, n >= 2 (rows need not be normalised).

    Returns:
        float: the mean of ``cos(e_i, e_j)`` over all ``i != j``.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    emb = l2_normalize(np.asarray(embeddings, dtype=np.float64))
    if emb.ndim != 2 or len(emb) < 2:
        raise ValueError(f"need a 2-D array with at least 2 rows, got shape {emb.shape}")
    n = len(emb)
    total = emb.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))  # sum of all pairs minus the n self-pairs


def neighbor_label_agreement(embeddings: np.ndarray, labels: Sequence, k: int = 10,
                             per_item: bool = False) -> float | np.ndarray:
    """Share of each item's k nearest neighbours that carry the same label, averaged over items.

    A cheap, label-based probe of an embedding: used in chapter 02 to compare [CLS] and mean pooling
    by genre. Labels may be single values (same label = agreement) or collections such as genre lists
    (agreement = the neighbour shares at least one element).

    Args:
        embeddings: ``(n, dim)``.
        labels: ``n`` labels, or ``n`` lists/sets of labels.
        k: neighbours per item.
        per_item: return each item's share instead of the average (for paired comparisons of two
            embeddings of the same items, e.g. a bootstrap over items).

    Returns:
        float in [0, 1], or with ``per_item`` an ``(n,)`` float array whose mean is that float.

    Raises:
        ValueError: if the number of labels differs from the number of embeddings.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    labels = list(labels)
    if len(labels) != len(embeddings):
        raise ValueError(f"{len(labels)} labels for {len(embeddings)} embeddings")
    idx, _ = nearest_neighbors(embeddings, k=k)
    if labels and isinstance(labels[0], (list, tuple, set, frozenset, np.ndarray)):
        sets = [frozenset(x) for x in labels]
        hits = np.array([[bool(sets[i] & sets[j]) for j in row] for i, row in enumerate(idx)], dtype=float)
    else:
        arr = np.asarray(labels)
        hits = (arr[idx] == arr[:, None]).astype(float)
    shares = hits.mean(axis=1)
    return shares if per_item else float(hits.mean())


def find_index(names: Sequence[str], query) -> int:
    """Row of ``query`` in ``names``: exact match first, else the first name starting with it
    (case-insensitive); an int is returned as is. Raises ``KeyError`` when nothing matches.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    if isinstance(query, (int, np.integer)):
        return int(query)
    exact = [i for i, n in enumerate(names) if n == query]
    if exact:
        return exact[0]
    q = str(query).lower()
    hits = [i for i, n in enumerate(names) if isinstance(n, str) and n.lower().startswith(q)]
    if not hits:
        raise KeyError(f"no item named {query!r}")
    return hits[0]


def neighbors_table(embeddings: np.ndarray, names: Sequence[str], queries: Sequence, k: int = 5):
    """A readable table of each query's k cosine nearest neighbours.

    Args:
        embeddings: ``(n, dim)`` item vectors.
        names: ``n`` display names (e.g. movie titles).
        queries: row indices or names (exact match first, else the first name starting with it,
            case-insensitive).
        k: neighbours per query.

    Returns:
        pandas.DataFrame with columns query, rank, neighbour, cosine.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    import pandas as pd

    names = list(names)
    if len(names) != len(embeddings):
        raise ValueError(f"{len(names)} names for {len(embeddings)} embeddings")
    rows = [find_index(names, q) for q in queries]
    idx, sims = nearest_neighbors(embeddings, k=k, queries=rows)
    records = [
        (names[r], rank + 1, names[j], round(float(s), 3))
        for r, row_idx, row_sims in zip(rows, idx, sims)
        for rank, (j, s) in enumerate(zip(row_idx, row_sims))
    ]
    return pd.DataFrame(records, columns=["query", "rank", "neighbour", "cosine"])


def same_topic_rate(source_emb: np.ndarray, target_emb: np.ndarray, source_labels, target_labels) -> float:
    """Share of target items whose nearest source item (by cosine) carries the same label.

    A quick check that an embedding space links two catalogues: with labels such as the shop's
    main topic, chance level is about one over the number of labels.

    Args:
        source_emb: (n_source, d) source item embeddings.
        target_emb: (n_target, d) target item embeddings.
        source_labels: (n_source,) label per source item.
        target_labels: (n_target,) label per target item.

    Returns:
        float: in [0, 1].

    Raises:
        ValueError: embeddings and labels do not line up, or either side is empty.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    S, Tg = np.asarray(source_emb, dtype=float), np.asarray(target_emb, dtype=float)
    ls, lt = np.asarray(source_labels), np.asarray(target_labels)
    if S.ndim != 2 or Tg.ndim != 2 or S.shape[1] != Tg.shape[1]:
        raise ValueError(f"embeddings must be 2-D with the same width, got {S.shape} and {Tg.shape}")
    if len(S) == 0 or len(Tg) == 0:
        raise ValueError("both sides need at least one item")
    if len(ls) != len(S) or len(lt) != len(Tg):
        raise ValueError(f"labels ({len(ls)}, {len(lt)}) must match embedding rows ({len(S)}, {len(Tg)})")
    nearest = (l2_normalize(Tg, dtype=np.float64) @ l2_normalize(S, dtype=np.float64).T).argmax(axis=1)
    return float((ls[nearest] == lt).mean())


def pca_project(E: np.ndarray, k: int) -> np.ndarray:
    """Project rows on their top-``k`` principal directions, scaled to unit average squared norm.

    The directions come from the eigenvectors of the ``(d, d)`` covariance (cheaper than an SVD of
    the ``(n, d)`` matrix when ``n >> d``); each direction's sign is fixed so that its largest
    coordinate is positive, which makes the result deterministic.

    Args:
        E: ``(n, d)`` rows.
        k: number of components, ``1 <= k <= d``.

    Returns:
        np.ndarray: ``(n, k)`` float64 scores with ``mean(sum(Z**2, axis=1)) == 1``.

    Raises:
        ValueError: ``E`` is not 2-D with at least two rows, or ``k`` is out of range.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    E = np.asarray(E, dtype=float)
    if E.ndim != 2 or len(E) < 2:
        raise ValueError(f"need a 2-D array with at least 2 rows, got shape {E.shape}")
    if not 1 <= k <= E.shape[1]:
        raise ValueError(f"k must be in [1, {E.shape[1]}], got {k}")
    Ec = E - E.mean(axis=0, keepdims=True)
    vals, vecs = np.linalg.eigh(Ec.T @ Ec)
    top = vecs[:, np.argsort(vals)[::-1][:k]]
    top = top * np.sign(top[np.abs(top).argmax(axis=0), np.arange(top.shape[1])])
    Z = Ec @ top
    return Z / np.sqrt((Z ** 2).sum(axis=1).mean())
