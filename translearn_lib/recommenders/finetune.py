"""Fine-tuning the top BERT layer inside a recommender's item tower, end to end, on a CPU budget.

The trick that makes it affordable: when only the top transformer layer is trainable, everything
below it is a fixed function of the item text, so its output (the hidden states entering the top
layer) is computed ONCE for the whole catalogue and stored. Each training step then runs just the
top layer on the items of the batch, and back-propagates through it.

Experiment (:func:`finetune_experiment`), all on one split, same seed, same number of steps:

1. warm start: a text-only two-tower model (user ID embedding; item tower = projection of the
   frozen mean-pooled BERT vector) trained with BPR on frozen features (cheap);
2. continue ``steps`` BPR steps with the top layer FROZEN (control);
3. continue the same ``steps`` from the same warm start with the top layer TRAINABLE.

Valid NDCG@k of 2 versus 3 answers "does fine-tuning help?" at equal budget.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .base import Recommender, evaluate
from .neural import TwoTower, triplet_epochs


def lower_layer_states(encoder: Any, texts: Sequence[str], max_length: int = 24, batch_size: int = 128):
    """Hidden states entering the top transformer layer, for every text (frozen part of BERT).

    Args:
        encoder: a :class:`translearn_lib.text.TextEncoder` (uses ``backbone`` and ``tokenize``).
        texts: item texts.
        max_length: truncation in tokens (titles + genres of MovieLens: 95 % are <= 22 tokens).
        batch_size: texts per forward pass.

    Returns:
        tuple: ``(states, mask)``: float32 ``(n, length, hidden)`` and bool ``(n, length)``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    import keras

    bb = encoder.backbone
    names = [layer.name for layer in bb.layers if layer.name.startswith("transformer_layer_")]
    lower = keras.Model(bb.inputs, bb.get_layer(names[-2]).output)
    tok = encoder.tokenize(list(texts), max_length=max_length)
    states = []
    for s in range(0, len(texts), batch_size):
        batch = {key: value[s : s + batch_size] for key, value in tok.items()}
        states.append(np.asarray(lower.predict_on_batch(batch), dtype=np.float32))
    return np.concatenate(states), tok["padding_mask"].astype(bool)


def _copy_top_layer(encoder: Any, hidden: int):
    """A fresh copy of the backbone's top transformer layer (the shared encoder stays untouched)."""
    bb = encoder.backbone
    names = [layer.name for layer in bb.layers if layer.name.startswith("transformer_layer_")]
    top = bb.get_layer(names[-1])
    clone = top.__class__.from_config(top.get_config())
    clone(np.zeros((1, 2, hidden), "float32"), padding_mask=np.ones((1, 2), bool))
    clone.set_weights(top.get_weights())
    return clone


class TopLayerTwoTower(Recommender):
    """Two-tower model whose item tower runs the top BERT layer: ``proj(mean_pool(top(h)))``.

    Built by :func:`finetune_experiment` from a warm-started :class:`TwoTower`; ``fit`` continues
    training for ``steps`` BPR steps with the top layer trainable or frozen.

    Args:
        states, mask: output of :func:`lower_layer_states`, aligned with the split's items.
        top_layer: a copy of the top transformer layer.
        warm: a fitted text-only :class:`TwoTower` (``use_item_ids=False``) to start from.
        train_top: fine-tune the top layer (True) or keep it frozen (False, the control).
        steps, batch_size, lr, seed: training budget and settings.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "TopLayerTwoTower"

    def __init__(self, states, mask, top_layer, warm: TwoTower, train_top: bool = True, steps: int = 40,
                 batch_size: int = 256, lr: float = 1e-4, seed: int = 42) -> None:
        super().__init__()
        self.states, self.mask, self.top_layer, self.warm = states, mask, top_layer, warm
        self.train_top, self.steps, self.batch_size, self.lr, self.seed = bool(train_top), int(steps), int(batch_size), float(lr), int(seed)

    def _build(self):
        import keras
        from keras import layers, ops

        from translearn_lib.text import masked_mean_pool

        states, mask, top, warm = self.states, self.mask, self.top_layer, self.warm
        top.trainable = self.train_top
        n_users, dim = warm.user_factors_.shape

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.user_emb = layers.Embedding(n_users, dim, name="user_emb")
                self.user_emb.build((None,))
                self.user_emb.embeddings.assign(warm.net_.user_emb.embeddings)
                self.top = top
                self.proj = layers.Dense(dim, use_bias=False, name="text_projection")
                self.proj.build((None, states.shape[-1]))
                self.proj.kernel.assign(warm.net_.proj.kernel)
                self.states = ops.convert_to_tensor(states)
                self.mask = ops.convert_to_tensor(mask)

            def item_tower(self, items, training=False):
                h, m = ops.take(self.states, items, axis=0), ops.take(self.mask, items, axis=0)
                return self.proj(masked_mean_pool(self.top(h, padding_mask=m, training=training), m))

            def call(self, x, training=False):
                p = self.user_emb(x[:, 0])
                items = ops.concatenate([x[:, 1], x[:, 2]])
                q = self.item_tower(items, training=training)
                qi, qj = q[: ops.shape(x)[0]], q[ops.shape(x)[0]:]
                return ops.sum(p * (qi - qj), axis=-1)

        return Net()

    def _fit(self, X, data) -> None:
        import keras

        keras.utils.set_random_seed(self.seed)
        self.net_ = self._build()
        self.net_.compile(optimizer=keras.optimizers.Adam(self.lr),
                          loss=keras.losses.BinaryCrossentropy(from_logits=True))
        rng = np.random.default_rng(self.seed)
        n = self.steps * self.batch_size
        triples = triplet_epochs(X, int(np.ceil(n / X.nnz)), rng)[:n]
        hist = self.net_.fit(triples, np.ones(len(triples), "float32"), batch_size=self.batch_size,
                             epochs=1, shuffle=False, verbose=0)
        self.loss_ = float(hist.history["loss"][-1])
        from keras import ops

        self.user_factors_ = ops.convert_to_numpy(self.net_.user_emb.embeddings)
        items = np.arange(self.states.shape[0])
        self.item_factors_ = np.concatenate([
            ops.convert_to_numpy(self.net_.item_tower(items[s : s + 256])) for s in range(0, items.size, 256)
        ])

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


def finetune_experiment(encoder: Any, texts: Sequence[str], split: Any, warm_epochs: int = 30, steps: int = 40,
                        batch_size: int = 256, lr: float = 1e-4, k: int = 10, seed: int = 42,
                        max_length: int = 24) -> dict:
    """Does fine-tuning the top BERT layer help a text-only two-tower model? (equal-budget A/B).

    Args:
        encoder: a :class:`translearn_lib.text.TextEncoder`.
        texts: item texts aligned with the split's item index.
        split: a :class:`translearn_lib.splits.Split`.
        warm_epochs: BPR epochs of the frozen-feature warm start.
        steps: training steps after the warm start, for both arms.
        batch_size: triples per step.
        lr: Adam learning rate of the continued training (both arms).
        k: cut-off for NDCG.
        seed: seed of every random choice.
        max_length: token truncation.

    Returns:
        dict: ``valid_ndcg`` of ``warm``, ``frozen`` and ``finetuned``, their ``seconds``, and
        ``top_layer_params`` (weights that fine-tuning changes).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib.text import masked_mean_pool

    start = time.perf_counter()
    states, mask = lower_layer_states(encoder, texts, max_length=max_length)
    hidden = states.shape[-1]
    top = _copy_top_layer(encoder, hidden)
    pooled = np.concatenate([
        np.asarray(masked_mean_pool(np.asarray(top(states[s : s + 256], padding_mask=mask[s : s + 256])), mask[s : s + 256]))
        for s in range(0, len(states), 256)
    ])
    prep = time.perf_counter() - start
    warm = TwoTower(pooled, use_item_ids=False, epochs=warm_epochs, batch_size=2048, lr=5e-3, reg=1e-2, seed=seed)
    warm.fit(split)
    out = {"prep_seconds": prep, "warm_seconds": warm.fit_seconds_,
           "valid_ndcg": {"warm": evaluate(warm, split, k=k, part="valid")["ndcg"]}, "seconds": {}}
    for arm, train_top in (("frozen", False), ("finetuned", True)):
        model = TopLayerTwoTower(states, mask, _copy_top_layer(encoder, hidden), warm, train_top=train_top,
                                 steps=steps, batch_size=batch_size, lr=lr, seed=seed).fit(split)
        out["valid_ndcg"][arm] = evaluate(model, split, k=k, part="valid")["ndcg"]
        out["seconds"][arm] = model.fit_seconds_
    out["top_layer_params"] = int(sum(np.prod(w.shape) for w in top.get_weights()))
    return out
