"""BERT's top layer inside a recommender's item tower, trained end to end on a CPU budget.

What makes it affordable on two CPU cores:

* everything below the trainable part is a fixed function of the item text, so its output is
  computed ONCE for the whole catalogue and stored;
* the trainable part is the top transformer layer's feed-forward block (``W1``, ``W2`` and the
  final LayerNorm, most of the layer's weights). The layer's self-attention sub-block stays frozen,
  which is what lets its output be cached; the feed-forward block works token by token, so a step
  only runs it on the tokens of the items in the batch.

The KerasHub internals this needs (the layer's sub-blocks) are read in
:mod:`translearn_lib.encoders._kerashub` only.

Experiment (:func:`finetune_experiment`), one split, same seed, same number of steps per arm:

1. warm start: a text-only two-tower model (user ID embedding; item tower = projection of the
   mean-pooled BERT output, no item IDs) trained with BPR on frozen features;
2. continue ``steps`` BPR steps with the feed-forward block FROZEN (control);
3. continue the same ``steps`` from the same warm start with it TRAINABLE.

Valid NDCG@k of 2 versus 3 answers "does fine-tuning help?" at an equal budget.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from translearn_lib import cache as _cache
from translearn_lib.config import DEFAULT_SEED
from translearn_lib.encoders import _kerashub

from .base import Recommender, evaluate
from .neural import TwoTower, triplet_epochs


#: settings of the chapter-03 experiment (the notebook's parameters and the benchmark use them)
DEFAULTS = dict(warm_epochs=20, steps=40, batch_size=128, lr=1e-3, bert_lr_scale=0.05, max_length=24)
#: bump when the experiment's CODE changes; inputs and settings are part of every cache key already
CACHE_VERSION = "v1"


def cached_top_inputs(encoder: Any, texts: Sequence[str], max_length: int = 24, batch_size: int = 128):
    """Frozen part of BERT, run once: hidden states after the top layer's attention sub-block.

    For a post-norm BERT layer, ``out = LN2(r + FFN(r))`` with ``r = LN1(h + Attention(h))``; this
    returns ``r`` (and ``h``'s padding mask) for every text, so that only ``FFN`` and ``LN2`` need to
    run during training. On the first batch it checks its split of the layer against a full call
    (:func:`translearn_lib.encoders._kerashub.check_layer_split`).

    Args:
        encoder: a :class:`translearn_lib.encoders.text.TextEncoder` (uses ``backbone`` and ``tokenize``).
        texts: item texts.
        max_length: truncation in tokens, [CLS] and [SEP] included.
        batch_size: texts per forward pass.

    Returns:
        tuple: ``(r, mask)``: float32 ``(n, length, hidden)`` and bool ``(n, length)``.

    Raises:
        ValueError: the top layer is not a post-norm (BERT) layer.
        translearn_lib.encoders._kerashub.KerasHubInternalsError: the installed KerasHub's layer
            internals differ from what the split relies on (the message names the version).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    import keras
    from keras import ops

    bb = encoder.backbone
    layers = _kerashub.transformer_layers(bb)
    top = _kerashub.check_post_norm(layers[-1])
    lower = keras.Model(bb.inputs, layers[-2].output)
    tok = encoder.tokenize(list(texts), max_length=max_length)
    lengths = tok["padding_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")  # similar lengths share a batch: less padding to compute
    out = np.zeros(tok["token_ids"].shape + (encoder.dim,), dtype=np.float32)
    for s in range(0, len(texts), batch_size):
        idx = order[s : s + batch_size]
        width = int(lengths[idx].max())
        batch = {key: value[idx, :width] for key, value in tok.items()}
        h = lower.predict_on_batch(batch)
        m = batch["padding_mask"].astype(bool)
        r = _kerashub.attention_sub_block(top, h, m)
        if s == 0:  # self-check: the feed-forward block on r must reproduce the full layer
            _kerashub.check_layer_split(top, h, m, r)
        out[idx, :width] = ops.convert_to_numpy(r)
    return out, tok["padding_mask"].astype(bool)


def _ffn_copy(top, hidden: int, lr_scale: float = 1.0):
    """A Keras copy of the top layer's feed-forward block, ``r -> LN(r + W2 act(W1 r + b1) + b2)``.

    Every pretrained weight ``w0`` is used as ``w0 + lr_scale * delta`` with ``delta`` trainable
    (initialised to 0) and ``w0`` frozen. Adam moves each trainable number by about ``lr`` per step
    whatever the gradient's size, so this gives the BERT weights an effective learning rate of
    ``lr_scale * lr`` while the rest of the recommender trains at ``lr`` (Keras 3 optimizers have
    one learning rate; this is the usual "smaller learning rate for the pretrained part").

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    import keras
    from keras import ops

    d1, d2, ln = _kerashub.feedforward_parts(top)
    act = keras.activations.get(d1.get_config()["activation"])
    eps = float(ln.get_config()["epsilon"])

    class FeedForward(keras.layers.Layer):
        def __init__(self):
            super().__init__(name="bert_top_feedforward")
            self.base, self.delta = [], []
            for i, w in enumerate([*d1.get_weights(), *d2.get_weights(), *ln.get_weights()]):
                self.base.append(self.add_weight(shape=w.shape, initializer="zeros", trainable=False, name=f"w0_{i}"))
                self.base[-1].assign(w)
                self.delta.append(self.add_weight(shape=w.shape, initializer="zeros", trainable=True, name=f"delta_{i}"))

        def call(self, r):
            w1, b1, w2, b2, gamma, beta = [b + lr_scale * d for b, d in zip(self.base, self.delta)]
            x = r + ops.matmul(act(ops.matmul(r, w1) + b1), w2) + b2
            mean = ops.mean(x, axis=-1, keepdims=True)
            var = ops.mean(ops.square(x - mean), axis=-1, keepdims=True)
            return (x - mean) / ops.sqrt(var + eps) * gamma + beta

    layer = FeedForward()
    layer.build((None, None, hidden))
    return layer


class TopLayerTwoTower(Recommender):
    """Two-tower model whose item tower ends in the top BERT layer's feed-forward block.

    ``item(i) = P · mean_t FFN(r_it)`` where ``r_it`` are the cached hidden states of item ``i``'s
    tokens (:func:`cached_top_inputs`), ``FFN`` the top layer's feed-forward block (trainable or
    frozen) and ``P`` the projection of a warm-started :class:`TwoTower`; ``user(u)`` = its user ID
    embedding. ``fit`` continues BPR training for ``steps`` steps.

    Args:
        r, mask: output of :func:`cached_top_inputs`, aligned with the split's items.
        ffn: a copy of the feed-forward block (see :func:`_ffn_copy`).
        warm: a fitted text-only :class:`TwoTower` (``use_item_ids=False``) to start from.
        train_bert: fine-tune the feed-forward block (True) or keep it frozen (False, the control).
        steps, batch_size, lr, seed: training budget and settings.

    Raises:
        RuntimeError: ``warm`` was not fitted.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    name = "TopLayerTwoTower"

    def __init__(self, r, mask, ffn, warm: TwoTower, train_bert: bool = True, steps: int = 40,
                 batch_size: int = 128, lr: float = 1e-3, seed: int = DEFAULT_SEED) -> None:
        super().__init__()
        if getattr(warm, "train_", None) is None or getattr(warm, "net_", None) is None:
            raise RuntimeError(f"warm {type(warm).__name__} is not fitted yet: call fit(split) first")
        self.r, self.mask, self.ffn, self.warm = r, mask, ffn, warm
        self.train_bert, self.steps, self.batch_size = bool(train_bert), int(steps), int(batch_size)
        self.lr, self.seed = float(lr), int(seed)

    def _build(self):
        import keras
        from keras import layers, ops

        from translearn_lib.encoders.text import masked_mean_pool

        r, mask, ffn, warm = self.r, self.mask, self.ffn, self.warm
        ffn.trainable = self.train_bert
        n_users, dim = warm.user_factors_.shape

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.user_emb = layers.Embedding(n_users, dim, name="user_emb")
                self.user_emb.build((None,))
                self.user_emb.embeddings.assign(warm.net_.user_emb.embeddings)
                self.ffn = ffn
                self.proj = layers.Dense(dim, use_bias=False, name="text_projection")
                self.proj.build((None, r.shape[-1]))
                self.proj.kernel.assign(warm.net_.proj.kernel)
                self.r = ops.convert_to_tensor(r)
                self.mask = ops.convert_to_tensor(mask)

            def item_tower(self, items):
                h, m = ops.take(self.r, items, axis=0), ops.take(self.mask, items, axis=0)
                return self.proj(masked_mean_pool(self.ffn(h), m))

            def call(self, x):
                p = self.user_emb(x[:, 0])
                n = ops.shape(x)[0]
                q = self.item_tower(ops.concatenate([x[:, 1], x[:, 2]]))
                return ops.sum(p * (q[:n] - q[n:]), axis=-1)

        return Net()

    def _fit(self, X, data) -> None:
        import keras
        from keras import ops

        keras.utils.set_random_seed(self.seed)
        self.net_ = self._build()
        self.net_.compile(optimizer=keras.optimizers.Adam(self.lr), loss=keras.losses.BinaryCrossentropy(from_logits=True))
        n = self.steps * self.batch_size
        triples = triplet_epochs(X, int(np.ceil(n / X.nnz)), np.random.default_rng(self.seed))[:n]
        hist = self.net_.fit(triples, np.ones(len(triples), "float32"), batch_size=self.batch_size,
                             epochs=1, shuffle=False, verbose=0)
        self.loss_ = float(hist.history["loss"][-1])
        self.user_factors_ = ops.convert_to_numpy(self.net_.user_emb.embeddings)
        items = np.arange(self.r.shape[0])
        self.item_factors_ = np.concatenate(
            [ops.convert_to_numpy(self.net_.item_tower(items[s : s + 256])) for s in range(0, items.size, 256)])

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


def finetune_experiment(encoder: Any, texts: Sequence[str], split: Any, warm_epochs: int = 20, steps: int = 40,
                        batch_size: int = 128, lr: float = 1e-3, bert_lr_scale: float = 0.05, k: int = 10,
                        seed: int = DEFAULT_SEED, max_length: int = 24, cache: bool = True,
                        memo: dict | None = None) -> dict:
    """Does fine-tuning the top BERT layer help a text-only two-tower model? (equal-budget A/B).

    Args:
        encoder: a :class:`translearn_lib.encoders.text.TextEncoder`.
        texts: item texts aligned with the split's item index.
        split: a :class:`translearn_lib.splits.Split`.
        warm_epochs: BPR epochs of the frozen-feature warm start.
        steps: BPR steps after the warm start, the same for both arms.
        batch_size: triples per step.
        lr: Adam learning rate after the warm start (both arms).
        bert_lr_scale: the BERT weights learn at ``bert_lr_scale * lr`` (see ``_ffn_copy``).
        k: cut-off for NDCG.
        seed: seed of every random choice.
        max_length: token truncation.
        cache: reuse a stored result for identical inputs (model identity and weights, texts, the
            split's train and valid parts, settings, ``CACHE_VERSION``) from the course cache
            (:mod:`translearn_lib.cache`, ``results/bert_tower-<key>.json``); benchmarks/ml100k.py fills it.
        memo: optional dict that keeps :func:`cached_top_inputs` between calls (e.g. across seeds).

    Returns:
        dict: ``valid_ndcg`` of ``warm``, ``frozen`` and ``finetuned``; ``seconds`` per arm,
        ``prep_seconds`` (frozen BERT part, once), ``trainable_bert_params``, ``triples_seen``,
        ``settings`` and ``cached``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from translearn_lib.encoders.text import masked_mean_pool

    if steps <= 0 or warm_epochs <= 0:
        raise ValueError("steps and warm_epochs must be positive")
    settings = dict(warm_epochs=warm_epochs, steps=steps, batch_size=batch_size, lr=lr, bert_lr_scale=bert_lr_scale,
                    k=k, seed=seed, max_length=max_length)
    path = _result_path(encoder, texts, split, settings) if cache else None
    out = _cache.load_json(path) if path is not None else None
    if out is not None:
        out["cached"] = True
        return out
    start = time.perf_counter()
    memo_key = _cache.content_key(encoder.identity, max_length, list(texts))
    if memo is not None and memo_key in memo:
        r, mask = memo[memo_key]
    else:
        r, mask = cached_top_inputs(encoder, texts, max_length=max_length)
        if memo is not None:
            memo[memo_key] = (r, mask)
    top = _kerashub.transformer_layers(encoder.backbone)[-1]
    hidden = r.shape[-1]
    block = _ffn_copy(top, hidden)
    pooled = np.concatenate([np.asarray(masked_mean_pool(np.asarray(block(r[s : s + 256])), mask[s : s + 256]))
                             for s in range(0, len(r), 256)])
    prep = time.perf_counter() - start
    warm = TwoTower(pooled, use_item_ids=False, epochs=warm_epochs, batch_size=2048, lr=5e-3, reg=1e-2, seed=seed)
    warm.fit(split)
    out = {"prep_seconds": prep, "warm_seconds": warm.fit_seconds_,
           "valid_ndcg": {"warm": evaluate(warm, split, k=k, part="valid")["ndcg"]}, "seconds": {},
           "trainable_bert_params": int(sum(np.prod(w.shape) for w in block.trainable_weights)),
           "triples_seen": int(steps * batch_size)}
    for arm, train_bert in (("frozen", False), ("finetuned", True)):
        model = TopLayerTwoTower(r, mask, _ffn_copy(top, hidden, bert_lr_scale), warm, train_bert=train_bert, steps=steps,
                                 batch_size=batch_size, lr=lr, seed=seed).fit(split)
        out["valid_ndcg"][arm] = evaluate(model, split, k=k, part="valid")["ndcg"]
        out["seconds"][arm] = model.fit_seconds_
    out["settings"], out["cached"] = settings, False
    if path is not None:
        _cache.save_json(path, out)
    return out


def _result_path(encoder: Any, texts: Sequence[str], split: Any, settings: dict):
    """Cache entry of one experiment: everything that determines its result is in the key."""
    parts = [split.frame(part)[["user", "item"]].astype(np.int64) for part in ("train", "valid")]
    key = _cache.content_key(CACHE_VERSION, encoder.identity, settings, list(texts), *parts)
    return _cache.entry("results", "bert_tower", key, ".json")
