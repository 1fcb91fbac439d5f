"""Keras 3 recommenders trained on implicit feedback: BPR matrix factorisation and a two-tower hybrid.

Both models are trained with the Bayesian Personalised Ranking loss (Rendle et al., 2009): for a
user ``u``, an item ``i`` they interacted with and a sampled item ``j`` they did not,
``loss = -log sigmoid(s(u, i) - s(u, j))``. One fresh uniform negative per positive and epoch,
as in RecBole. Keras is imported only when a model is fitted, so importing this module is cheap.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import scipy.sparse as sp

from translearn_lib.config import DEFAULT_SEED

from .base import Recommender
from .features import check_features


def sample_negatives(X: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator, max_tries: int = 50) -> np.ndarray:
    """One uniformly sampled item per entry of ``users`` that the user has NOT interacted with.

    Vectorised rejection sampling: candidates that hit a positive are redrawn (at most
    ``max_tries`` rounds; a user who has interacted with every item keeps a positive).

    Args:
        X: binary csr user x item matrix of positives.
        users: user index per training example.
        rng: NumPy random generator.

    Returns:
        numpy.ndarray: int64 item indices, same length as ``users``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    X = sp.csr_matrix(X)
    X.sort_indices()
    n_items = X.shape[1]
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    keys = rows * n_items + X.indices.astype(np.int64)  # sorted because rows and indices are
    users = np.asarray(users, dtype=np.int64)
    neg = rng.integers(0, n_items, size=users.size)
    todo = np.arange(users.size)
    for _ in range(max_tries):
        cand = users[todo] * n_items + neg[todo]
        pos = np.searchsorted(keys, cand)
        hit = (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == cand)
        todo = todo[hit]
        if todo.size == 0:
            break
        neg[todo] = rng.integers(0, n_items, size=todo.size)
    return neg


def triplet_epochs(X: sp.csr_matrix, epochs: int, rng: np.random.Generator) -> np.ndarray:
    """(user, positive, negative) triples for ``epochs`` passes, shuffled, fresh negatives each pass.

    Args:
        X: binary csr user x item training matrix.
        epochs: number of passes over the positives.
        rng: NumPy random generator.

    Returns:
        numpy.ndarray: int32 array ``(epochs * X.nnz, 3)``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    coo = sp.coo_matrix(X)
    users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
    out = []
    for _ in range(epochs):
        order = rng.permutation(users.size)
        out.append(np.stack([users[order], items[order], sample_negatives(X, users[order], rng)], axis=1))
    return np.concatenate(out).astype(np.int32)


class _EpochLoss:
    """Keras callback that turns the running batch-loss mean of one long fit into per-epoch means."""

    @staticmethod
    def make(steps_per_epoch: int, epochs: int):
        import keras

        class EpochLoss(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.cumulative, self.losses = [0.0], []

            def on_train_batch_end(self, batch, logs=None):
                self.cumulative.append(float(logs["loss"]) * (batch + 1))  # running mean -> running sum
                done = len(self.cumulative) - 1
                if done % steps_per_epoch == 0 or done == steps_per_epoch * epochs:
                    start = (len(self.losses)) * steps_per_epoch
                    self.losses.append((self.cumulative[done] - self.cumulative[start]) / (done - start))

        return EpochLoss()


class _KerasRecommender(Recommender):
    """Shared training loop for BPR-trained Keras models (subclasses build ``self.net_``)."""

    def __init__(self, dim: int, epochs: int, batch_size: int, lr: float, reg: float, seed: int, verbose: int) -> None:
        super().__init__()
        for name, value in (("dim", dim), ("epochs", epochs), ("batch_size", batch_size)):
            if int(value) <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if lr <= 0 or reg < 0:
            raise ValueError(f"need lr > 0 and reg >= 0, got lr={lr}, reg={reg}")
        self.dim, self.epochs, self.batch_size = int(dim), int(epochs), int(batch_size)
        self.lr, self.reg, self.seed, self.verbose = float(lr), float(reg), int(seed), int(verbose)

    @abstractmethod
    def _build(self, X: sp.csr_matrix, data: Any):
        """Create ``self.net_`` (the Keras scorer) for the training matrix ``X``."""

    def _loss(self):
        import keras

        return keras.losses.BinaryCrossentropy(from_logits=True)  # y = 1: -log sigmoid(s_ui - s_uj)

    def _targets(self, triples: np.ndarray) -> np.ndarray:
        return np.ones(len(triples), dtype="float32")

    def _fit(self, X: sp.csr_matrix, data: Any) -> None:
        import keras

        keras.utils.set_random_seed(self.seed)
        self.net_ = self._build(X, data)
        self.net_.compile(optimizer=keras.optimizers.Adam(learning_rate=self.lr), loss=self._loss())
        rng = np.random.default_rng(self.seed)
        # Triples for several epochs go to ONE fit call (a Python data generator per batch was 2.5x
        # slower); chunks of ~2M triples keep memory bounded.
        chunk = max(1, min(self.epochs, 2_000_000 // max(X.nnz, 1)))
        self.history_ = {"loss": []}
        done = 0
        while done < self.epochs:
            n = min(chunk, self.epochs - done)
            triples = triplet_epochs(X, n, rng)
            steps = int(np.ceil(X.nnz / self.batch_size))
            recorder = _EpochLoss.make(steps, n)
            self.net_.fit(triples, self._targets(triples), batch_size=self.batch_size,
                          epochs=1, shuffle=False, verbose=self.verbose, callbacks=[recorder])
            self.history_["loss"] += recorder.losses
            done += n
        self._export()

    def _export(self) -> None:
        """Copy the learned user and item vectors out of Keras as NumPy arrays."""
        self.user_factors_ = np.asarray(self.net_.user_vectors(), dtype=np.float32)
        self.item_factors_ = np.asarray(self.net_.item_vectors(), dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


def _bpr_net(n_users: int, n_items: int, dim: int, reg: float):
    import keras
    from keras import layers, ops

    class BPRNet(keras.Model):
        """Matrix factorisation: s(u, i) = <p_u, q_i>."""

        def __init__(self):
            super().__init__()
            self.user_emb = layers.Embedding(n_users, dim, embeddings_initializer="glorot_normal", name="user_emb")
            self.item_emb = layers.Embedding(n_items, dim, embeddings_initializer="glorot_normal", name="item_emb")

        def call(self, x):
            p = self.user_emb(x[:, 0])
            qi, qj = self.item_emb(x[:, 1]), self.item_emb(x[:, 2])
            if reg > 0:  # L2 on the rows used in this batch only (as in RecBole/Rendle)
                self.add_loss(reg * ops.mean(ops.sum(p * p + qi * qi + qj * qj, axis=-1)))
            return ops.sum(p * (qi - qj), axis=-1)

        def user_vectors(self):
            return ops.convert_to_numpy(self.user_emb.embeddings)

        def item_vectors(self):
            return ops.convert_to_numpy(self.item_emb.embeddings)

    return BPRNet()


class BPR(_KerasRecommender):
    """Matrix factorisation trained with the BPR loss, in Keras 3.

    Defaults follow RecBole's BPR on ML-100K (embedding 64, Adam, batch 2048, one uniform
    negative per positive); the settings chosen on the validation part for the ML-100K table are
    ``translearn_lib.experiments.comparison.BPR_PARAMS``.

    Args:
        dim: embedding size.
        epochs: passes over the training interactions (negatives resampled each pass).
        batch_size: triples per gradient step.
        lr: Adam learning rate.
        reg: L2 weight on the embeddings used in each batch.
        seed: seed for initialisation and negative sampling.
        verbose: Keras ``fit`` verbosity.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "BPR"

    def __init__(self, dim: int = 64, epochs: int = 60, batch_size: int = 2048, lr: float = 5e-3,
                 reg: float = 0.0, seed: int = DEFAULT_SEED, verbose: int = 0) -> None:
        super().__init__(dim, epochs, batch_size, lr, reg, seed, verbose)

    def _build(self, X: sp.csr_matrix, data: Any):
        return _bpr_net(X.shape[0], X.shape[1], self.dim, self.reg)


def _two_tower_net(n_users: int, features: np.ndarray, dim: int, reg: float, use_item_ids: bool,
                   history: sp.csr_matrix | None, softmax: bool = False):
    import keras
    from keras import layers, ops

    n_items, d_text = features.shape

    class TwoTowerNet(keras.Model):
        """User tower: ID embedding (+ mean of the history's item vectors).
        Item tower: ID embedding + linear projection of the frozen BERT embedding."""

        def __init__(self):
            super().__init__()
            self.user_emb = layers.Embedding(n_users, dim, embeddings_initializer="glorot_normal", name="user_emb")
            self.item_emb = (
                layers.Embedding(n_items, dim, embeddings_initializer="glorot_normal", name="item_emb")
                if use_item_ids else None
            )
            # frozen BERT features, looked up like an embedding table
            self.text = layers.Embedding(n_items, d_text, trainable=False, name="bert_features")
            self.text.build((None,))
            self.text.embeddings.assign(features.astype("float32"))
            self.proj = layers.Dense(dim, use_bias=False, name="text_projection")
            if history is not None:
                counts = np.asarray(history.sum(axis=1)).ravel().astype("float32")
                self.hist = layers.Embedding(n_users, n_items, trainable=False, name="history_rows")
                self.hist.build((None,))
                self.hist.embeddings.assign(history.toarray().astype("float32"))
                self.hist_count = ops.convert_to_tensor(counts)

        def item_tower(self, items):
            v = self.proj(self.text(items))
            if self.item_emb is not None:
                v = v + self.item_emb(items)
            return v

        def user_tower(self, users, all_items=None, leave_out=None):
            p = self.user_emb(users)
            if history is not None:
                if all_items is None:
                    all_items = self.item_tower(ops.arange(n_items))
                rows = self.hist(users)
                total = ops.matmul(rows, all_items)  # sum of the history's item vectors
                n = ops.take(self.hist_count, users)
                if leave_out is not None:  # drop the target item from its own history (no leakage)
                    total = total - leave_out
                    n = n - 1.0
                p = p + total / ops.expand_dims(ops.maximum(n, 1.0), -1)
            return p

        def call(self, x):
            all_items = self.item_tower(ops.arange(n_items)) if (history is not None or softmax) else None
            qi = self.item_tower(x[:, 1])
            p = self.user_tower(x[:, 0], all_items, leave_out=qi if history is not None else None)
            if softmax:  # full softmax: every other item of the catalogue is a negative
                if reg > 0:
                    self.add_loss(reg * ops.mean(ops.sum(p * p + qi * qi, axis=-1)))
                return ops.matmul(p, ops.transpose(all_items))
            qj = self.item_tower(x[:, 2])
            if reg > 0:
                self.add_loss(reg * ops.mean(ops.sum(p * p + qi * qi + qj * qj, axis=-1)))
            return ops.sum(p * (qi - qj), axis=-1)

        def user_vectors(self):
            return ops.convert_to_numpy(self.user_tower(ops.arange(n_users)))

        def item_vectors(self):
            return ops.convert_to_numpy(self.item_tower(ops.arange(n_items)))

    return TwoTowerNet()


class TwoTower(_KerasRecommender):
    """Two-tower hybrid in Keras 3: item tower = ID embedding + projection of the BERT embedding.

    ``s(u, i) = <user_tower(u), item_tower(i)>`` with
    ``item_tower(i) = e_i + W f_i`` (``f_i`` the frozen BERT embedding of the item's text, ``W`` a
    learned ``d_text -> dim`` projection) and ``user_tower(u) = e_u`` (+ the mean item vector of the
    user's training history when ``user_history=True``). Trained on implicit feedback with BPR
    (one sampled negative per positive) or, with ``loss="softmax"``, a full softmax over the
    catalogue (cheap for a few thousand items; use sampled softmax for millions).
    With ``use_item_ids=False`` the item side is pure text, so unseen items can still be scored.

    Args:
        item_features: ``(n_items, d_text)`` BERT embeddings aligned with the split's item index.
        dim: size of the shared user/item space.
        use_item_ids: add a free ID embedding to the item tower.
        user_history: add the mean of the history's item vectors to the user tower.
        loss: ``"bpr"`` or ``"softmax"``.
        epochs, batch_size, lr, reg, seed, verbose: as in :class:`BPR`.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "TwoTower"

    def __init__(self, item_features: np.ndarray, dim: int = 64, use_item_ids: bool = True,
                 user_history: bool = False, loss: str = "bpr", epochs: int = 60, batch_size: int = 2048,
                 lr: float = 5e-3, reg: float = 0.0, seed: int = DEFAULT_SEED, verbose: int = 0) -> None:
        super().__init__(dim, epochs, batch_size, lr, reg, seed, verbose)
        if loss not in ("bpr", "softmax"):
            raise ValueError(f"loss must be 'bpr' or 'softmax', got {loss!r}")
        self.item_features = np.asarray(item_features, dtype=np.float32)
        self.use_item_ids = bool(use_item_ids)
        self.user_history = bool(user_history)
        self.loss = loss

    def _build(self, X: sp.csr_matrix, data: Any):
        F = check_features(self.item_features, X.shape[1]).astype(np.float32)
        return _two_tower_net(X.shape[0], F, self.dim, self.reg, self.use_item_ids,
                              X if self.user_history else None, softmax=self.loss == "softmax")

    def _loss(self):
        import keras

        if self.loss == "softmax":  # -log softmax_i(<p_u, q_*>): the positive against the whole catalogue
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return super()._loss()

    def _targets(self, triples: np.ndarray) -> np.ndarray:
        return triples[:, 1].astype("int32") if self.loss == "softmax" else super()._targets(triples)

