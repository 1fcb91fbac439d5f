"""Serving a text two-tower model: the user tower per request, the item index built offline.

The model (trained once, :func:`fit_text_two_tower`) has two linear towers on frozen text
embeddings ``f`` (MiniLM, 384-d):

    item tower  q_i = normalise(W_item^T f_i)
    user tower  p_u = normalise(W_user^T mean_{j in history(u)} f_j)
    score       s(u, i) = <p_u, q_i> / temperature

trained with an in-batch softmax (every other item of the batch is a negative; Yi et al. 2019).
Neither tower has an ID embedding, so a new item needs only its text embedding and a new user only
a history: nothing is retrained when the catalogue changes. Offline, every item goes through the
item tower into an index (:mod:`translearn_lib.scale.index`); online, a request carries the user's
recent items, the server runs the user tower (a mean and a small matrix product), searches the
index and drops items the user already has. :class:`TwoTowerServer` times each of these stages.

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from translearn_lib import cache as _cache
from translearn_lib import config
from translearn_lib.config import ITEM_COL, TIME_COL, USER_COL
from translearn_lib.embeddings import l2_normalize
from translearn_lib.scale.index import as_vectors, build_index


@dataclass
class TextTwoTower:
    """Trained weights of the text two-tower: ``(d_text, dim)`` matrices and the temperature.

    Taught in notebooks/12_at_scale.ipynb.
    """

    w_user: np.ndarray
    w_item: np.ndarray
    temperature: float = 0.05

    @property
    def d_text(self) -> int:
        return int(self.w_item.shape[0])

    def items(self, features) -> np.ndarray:
        """Item tower on ``(n, d_text)`` text embeddings -> ``(n, dim)`` unit vectors."""
        f = as_vectors(features, "item features", dim=self.d_text)
        return l2_normalize(f @ self.w_item)

    def user(self, history_features) -> np.ndarray:
        """User tower on the ``(h, d_text)`` embeddings of one user's history -> ``(dim,)`` unit vector."""
        f = as_vectors(history_features, "history features", dim=self.d_text)
        return l2_normalize((f.mean(axis=0) @ self.w_user)[None, :])[0]


def leave_last_out(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, the latest interaction goes to the test part (users with one interaction stay in
    training only).

    Returns:
        tuple: ``(train, test)`` DataFrames.

    Taught in notebooks/12_at_scale.ipynb.
    """
    df = interactions.sort_values([USER_COL, TIME_COL, ITEM_COL], kind="stable")
    last = df.groupby(USER_COL).tail(1)
    counts = df.groupby(USER_COL)[ITEM_COL].transform("size")
    test = last[counts.loc[last.index] > 1]
    return df.drop(index=test.index).reset_index(drop=True), test.reset_index(drop=True)


def _training_pairs(train: pd.DataFrame, features: np.ndarray, rows: dict) -> tuple[np.ndarray, np.ndarray]:
    """(mean history features without the target, target row) for every training interaction."""
    users = train[USER_COL].to_numpy()
    items = np.array([rows[i] for i in train[ITEM_COL].to_numpy()])
    sums = np.zeros((users.max() + 1, features.shape[1]), dtype=np.float64)
    np.add.at(sums, users, features[items])
    counts = np.bincount(users, minlength=len(sums)).astype(np.float64)
    keep = counts[users] > 1  # a user with one item has no history left once it is the target
    hist = (sums[users] - features[items]) / np.maximum(counts[users] - 1, 1)[:, None]
    return hist[keep].astype(np.float32), items[keep]


def fit_text_two_tower(train: pd.DataFrame, item_ids, features, dim: int = 64, epochs: int = 8,
                       batch_size: int = 256, lr: float = 3e-3, temperature: float = 0.05,
                       seed: int = config.DEFAULT_SEED, cache: bool = True) -> TextTwoTower:
    """Train the two linear towers with an in-batch softmax (Keras 3), cached by settings and data.

    Each training interaction ``(u, i)`` is one example: the user tower sees the mean embedding of
    ``u``'s other training items (the target is left out, so the model cannot copy it), the item
    tower sees ``f_i``.

    Args:
        train: interactions with ``user_id``, ``item_id`` (the training part only).
        item_ids: ids aligned with the rows of ``features``.
        features: ``(n_items, d_text)`` text embeddings.
        dim: output dimension of both towers.
        epochs, batch_size, lr: Adam training settings.
        temperature: softmax temperature on cosine scores.
        seed: seed for initialisation and shuffling.
        cache: read / write the trained weights in the course cache.

    Returns:
        TextTwoTower: the weights (NumPy; serving needs no TensorFlow).

    Taught in notebooks/12_at_scale.ipynb.
    """
    features = as_vectors(features, "item features")
    item_ids = np.asarray(item_ids)
    rows = {int(i): r for r, i in enumerate(item_ids)}
    unknown = set(train[ITEM_COL].unique().tolist()) - set(rows)
    if unknown:
        raise KeyError(f"{len(unknown)} training item ids have no features (e.g. {sorted(unknown)[:3]})")
    key = _cache.content_key("text-two-tower", dim, epochs, batch_size, lr, temperature, seed,
                             train[[USER_COL, ITEM_COL]].to_numpy(), item_ids, features)
    path = _cache.entry("scale", "text_two_tower", key, ".npy") if cache else None
    d = features.shape[1]
    saved = _cache.load_array(path, shape=(2, d, dim), dtype=np.float32) if path is not None else None
    if saved is not None:
        return TextTwoTower(saved[0], saved[1], temperature)
    x_hist, y_item = _training_pairs(train, features, rows)
    import keras
    from keras import layers, ops

    config.set_seed(seed)

    class InBatchTwoTower(keras.Model):
        def __init__(self):
            super().__init__()
            self.user_tower = layers.Dense(dim, use_bias=False, name="user_tower")
            self.item_tower = layers.Dense(dim, use_bias=False, name="item_tower")

        def call(self, x):
            p = self.user_tower(x[0])
            q = self.item_tower(x[1])
            p = p / ops.maximum(ops.norm(p, axis=-1, keepdims=True), 1e-12)
            q = q / ops.maximum(ops.norm(q, axis=-1, keepdims=True), 1e-12)
            return ops.matmul(p, ops.transpose(q)) / temperature  # row b: user b against every item of the batch

    def in_batch_loss(_, logits):  # the positive of row b is column b
        labels = ops.arange(ops.shape(logits)[0])
        return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    net = InBatchTwoTower()
    net.compile(optimizer=keras.optimizers.Adam(lr), loss=in_batch_loss)
    order = np.random.default_rng(seed).permutation(len(y_item))
    x_hist, y_item = x_hist[order], y_item[order]
    net.fit([x_hist, features[y_item]], np.zeros(len(y_item), dtype="float32"), batch_size=batch_size,
            epochs=epochs, shuffle=True, verbose=0)
    w = np.stack([np.asarray(net.user_tower.kernel), np.asarray(net.item_tower.kernel)]).astype(np.float32)
    if path is not None:
        _cache.save_array(path, w)
    return TextTwoTower(w[0], w[1], temperature)


class TwoTowerServer:
    """Online recommendations from a text two-tower: user tower per request + an offline item index.

    Args:
        tower: the trained :class:`TextTwoTower`.
        item_ids: ids of the catalogue, aligned with ``features``.
        features: ``(n, d_text)`` text embeddings of the catalogue (the embedding job's output).
        kind: index kind (see :func:`~translearn_lib.scale.index.build_index`).
        **index_params: passed to ``build_index`` (``M``, ``ef_search``, ``nlist``, ``nprobe`` ...).

    Taught in notebooks/12_at_scale.ipynb.
    """

    def __init__(self, tower: TextTwoTower, item_ids, features, kind: str = "hnsw", **index_params) -> None:
        self.tower = tower
        self.features = as_vectors(features, "item features", dim=tower.d_text)
        self.item_ids = np.asarray(item_ids)
        if len(self.item_ids) != len(self.features):
            raise ValueError(f"{len(self.item_ids)} ids but {len(self.features)} feature rows")
        self.rows = {int(i): r for r, i in enumerate(self.item_ids)}
        if len(self.rows) != len(self.item_ids):
            raise ValueError("item_ids has duplicates")
        t0 = time.perf_counter()
        self.index = build_index(tower.items(self.features), kind=kind, **index_params)
        self.offline_seconds = time.perf_counter() - t0

    def _history_rows(self, history) -> np.ndarray:
        hist = [int(h) for h in np.atleast_1d(history)]
        if not hist:
            raise ValueError("empty history: the user tower needs at least one item (serve popular items to "
                             "users with none, chapter 06's fallback)")
        missing = [h for h in hist if h not in self.rows]
        if missing:
            raise KeyError(f"history items {missing[:5]} are not in the catalogue: embed them first "
                           "(embed_catalogue on the new items, then add_items)")
        return np.array([self.rows[h] for h in hist])

    def recommend(self, history, k: int = 10) -> tuple[np.ndarray, dict]:
        """Top-k item ids for one request, with the time spent in each stage.

        Args:
            history: item ids the user interacted with (recent first or any order).
            k: recommendations.

        Returns:
            tuple: ``(item_ids (k,), timings)`` with ``tower_ms``, ``search_ms``, ``filter_ms``,
            ``total_ms``.

        Taught in notebooks/12_at_scale.ipynb.
        """
        t0 = time.perf_counter()
        rows = self._history_rows(history)
        p = self.tower.user(self.features[rows])
        t1 = time.perf_counter()
        want = min(k + len(rows), self.index.ntotal)  # room for the seen items we drop
        _, found = self.index.search(p[None, :], want)
        t2 = time.perf_counter()
        seen = set(rows.tolist())
        picked = [r for r in found[0].tolist() if r >= 0 and r not in seen][:k]
        out = self.item_ids[np.array(picked, dtype=np.int64)]
        t3 = time.perf_counter()
        ms = 1000.0
        return out, {"tower_ms": (t1 - t0) * ms, "search_ms": (t2 - t1) * ms, "filter_ms": (t3 - t2) * ms,
                     "total_ms": (t3 - t0) * ms}

    def add_items(self, item_ids, features) -> float:
        """Add new items: their text embeddings through the item tower into the index (no retraining).

        Returns:
            float: seconds spent (item tower + index add).

        Taught in notebooks/12_at_scale.ipynb.
        """
        ids = np.asarray(item_ids)
        f = as_vectors(features, "new item features", dim=self.tower.d_text)
        if len(ids) != len(f):
            raise ValueError(f"{len(ids)} ids but {len(f)} feature rows")
        clash = [int(i) for i in ids if int(i) in self.rows]
        if clash:
            raise ValueError(f"items {clash[:5]} are already served; only new ids can be added")
        t0 = time.perf_counter()
        self.index.add(self.tower.items(f))
        for i in ids:
            self.rows[int(i)] = len(self.rows)
        self.item_ids = np.concatenate([self.item_ids, ids])
        self.features = np.concatenate([self.features, f])
        return time.perf_counter() - t0

    def serve(self, histories: list, k: int = 10) -> tuple[list[np.ndarray], dict]:
        """Answer requests one by one and summarise their latency.

        Args:
            histories: one item-id list per request.
            k: recommendations per request.

        Returns:
            tuple: the recommendations and ``{stage: {"p50_ms", "p99_ms", "mean_ms"}}`` for
            ``tower``, ``search``, ``filter``, ``total``, plus ``requests``.

        Taught in notebooks/12_at_scale.ipynb.
        """
        recs, times = [], []
        for h in histories:
            r, t = self.recommend(h, k)
            recs.append(r)
            times.append(t)
        summary = {"requests": len(times)}
        for stage in ("tower", "search", "filter", "total"):
            v = np.array([t[f"{stage}_ms"] for t in times])
            summary[stage] = {"p50_ms": float(np.percentile(v, 50)), "p99_ms": float(np.percentile(v, 99)),
                              "mean_ms": float(v.mean())}
        return recs, summary


def hit_rate(recommendations: list, held_out) -> float:
    """Share of requests whose held-out item is among the recommendations (HitRate@k).

    Taught in notebooks/12_at_scale.ipynb.
    """
    held_out = list(held_out)
    if len(recommendations) != len(held_out) or not held_out:
        raise ValueError("need one held-out item per request, and at least one request")
    return float(np.mean([int(t) in set(np.asarray(r).tolist()) for r, t in zip(recommendations, held_out)]))
