"""BERT's top layer inside a recommender's item tower, trained end to end on a CPU budget.

What makes it affordable on two CPU cores:

* everything below the trainable part is a fixed function of the item text, so it is computed
  ONCE for the whole catalogue and stored (:func:`cached_top_inputs`);
* the trainable part sits in the top transformer layer only. Two ways of adapting it are compared:

  - ``"ffn"``: the top layer's feed-forward block (``W1``, ``W2`` and the final LayerNorm, 1.18 M
    weights in MiniLM) is trained, its self-attention stays frozen, so the attention output ``r``
    is cached and a step runs the block on the real (unpadded) tokens of the catalogue;
  - ``"lora"``: KerasHub's ``backbone.enable_lora(rank, target_layer_names)`` on a copy of the
    backbone, with low-rank adapters ``W + A B`` on the same two feed-forward Dense layers (15 k
    trainable weights at rank 4 instead of 1.18 M); only the top layer's adapters are ever run, so
    the same cached ``r`` serves. (Adapters on the attention's query/value, KerasHub's default,
    would need the whole top layer per step: one epoch took 274 s against 101 s for the
    feed-forward arm in a run here, under load.)

The KerasHub internals this needs (the layer's sub-blocks) are read in
:mod:`translearn_lib.encoders._kerashub` only.

Experiment (:func:`finetune_experiment`), one split, same seed for every arm:

1. **frozen**: a text-only two-tower model (user ID embedding; item tower = projection of the
   mean-pooled frozen BERT output, no item IDs) trained with BPR epoch by epoch until valid NDCG@k
   stops improving; its best epoch is the common starting point;
2. from that point, three arms continue for whole epochs over the training interactions, each until
   its own valid NDCG@k stops improving (``patience``) or ``max_epochs`` is reached: ``frozen``
   (the equal-budget control: same optimiser, BERT fixed), ``ffn`` and ``lora``.

Each arm reports the valid NDCG@k of its best epoch and the TEST NDCG@k of that same epoch (valid
chooses, test reports once, so picking the best of several epochs does not flatter an arm).

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from translearn_lib import cache as _cache
from translearn_lib.config import DEFAULT_SEED
from translearn_lib.encoders import _kerashub

from .base import evaluate_scores
from .neural import triplet_epochs

ARMS = ("frozen", "ffn", "lora")
#: settings of the chapter-03 experiment (the benchmark uses them; the notebook shrinks some)
DEFAULTS = dict(warm_epochs=40, warm_patience=3, max_epochs=10, patience=3, batch_size=4096, warm_batch_size=2048,
                lr=1e-3, warm_lr=5e-3, reg=1e-2, bert_lr_scale=0.05, lora_rank=4, max_length=24)
#: bump when the experiment's CODE changes; inputs and settings are part of every cache key already
CACHE_VERSION = "v2"


def cached_top_inputs(encoder: Any, texts: Sequence[str], max_length: int = 24, batch_size: int = 128):
    """Frozen part of BERT, run once: hidden states after the top layer's attention sub-block.

    For a post-norm BERT layer, ``out = LN2(r + FFN(r))`` with ``r = LN1(h + Attention(h))``; this
    returns ``r`` (and ``h``'s padding mask) for every text, so that only ``FFN`` and ``LN2`` need to
    run during training. On the first batch it checks its split of the layer against a full call
    (:func:`translearn_lib.encoders._kerashub.check_layer_split`).

    Args:
        encoder: a :class:`translearn_lib.encoders.text.TextEncoder` (uses ``backbone``, ``tokenize``, ``dim``).
        texts: item texts.
        max_length: truncation in tokens, [CLS] and [SEP] included.
        batch_size: texts per forward pass.

    Returns:
        tuple: ``(r, mask)``: float32 ``(n, length, hidden)`` and bool ``(n, length)``.

    Raises:
        ValueError: the top layer is not a post-norm (BERT) layer, or ``texts`` is empty.
        translearn_lib.encoders._kerashub.KerasHubInternalsError: the installed KerasHub's layer
            internals differ from what the split relies on (the message names the version).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    import keras
    from keras import ops

    if len(texts) == 0:
        raise ValueError("texts is empty: pass one text per item")
    bb = encoder.backbone
    layers = _kerashub.transformer_layers(bb)
    top = _kerashub.check_post_norm(layers[-1])
    lower = keras.Model(bb.inputs, layers[-2].output)
    tok = encoder.tokenize(list(texts), max_length=max_length)
    lengths = tok["padding_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")  # similar lengths share a batch: less padding to compute
    r_out = np.zeros(tok["token_ids"].shape + (encoder.dim,), dtype=np.float32)
    for s in range(0, len(texts), batch_size):
        idx = order[s : s + batch_size]
        width = int(lengths[idx].max())
        batch = {key: value[idx, :width] for key, value in tok.items()}
        h = lower.predict_on_batch(batch)
        m = batch["padding_mask"].astype(bool)
        r = _kerashub.attention_sub_block(top, h, m)
        if s == 0:  # self-check: the feed-forward block on r must reproduce the full layer
            _kerashub.check_layer_split(top, h, m, r)
        r_out[idx, :width] = ops.convert_to_numpy(r)
    return r_out, tok["padding_mask"].astype(bool)


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


def _item_encoder(arm: str, r, mask, backbone, bert_lr_scale: float, lora_rank: int):
    """``(pooled_fn, bert_layer, n_trainable)``: a function returning the (n_items, hidden) mean-pooled
    top-layer output of the whole catalogue, the Keras object holding the trainable BERT weights
    (``None`` for the frozen arm) and how many BERT weights train."""
    from keras import ops

    from translearn_lib.encoders.text import masked_mean_pool

    top = _kerashub.transformer_layers(backbone)[-1]
    if arm == "frozen":
        block = _ffn_copy(top, r.shape[-1])
        pooled = np.concatenate([np.asarray(masked_mean_pool(np.asarray(block(r[s : s + 256])), mask[s : s + 256]))
                                 for s in range(0, len(r), 256)])
        const = ops.convert_to_tensor(pooled)
        return (lambda: const), None, 0
    tokens = ops.convert_to_tensor(r[mask])                    # real tokens only: no padding computed
    owner = ops.convert_to_tensor(np.repeat(np.arange(len(mask)), mask.sum(axis=1)).astype("int32"))
    counts = ops.convert_to_tensor(np.maximum(mask.sum(axis=1), 1).astype("float32")[:, None])
    n_items = len(mask)
    if arm == "ffn":
        block = _ffn_copy(top, r.shape[-1], bert_lr_scale)
        fn = lambda: ops.segment_sum(block(tokens), owner, num_segments=n_items) / counts  # noqa: E731
        return fn, block, int(sum(np.prod(w.shape) for w in block.trainable_weights))
    if arm == "lora":
        layer, variables = _kerashub.lora_top_layer(backbone, lora_rank)  # backbone.enable_lora on a copy
        fn = lambda: ops.segment_sum(_kerashub.feedforward_sub_block(layer, tokens), owner,  # noqa: E731
                                     num_segments=n_items) / counts
        return fn, variables, int(sum(np.prod(v.shape) for v in variables))
    raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")


def _net(n_users: int, dim: int, pooled_fn, bert_weights, reg: float, init=None):
    """Text-only two-tower scorer: ``s(u, i) = e_u · (P pooled_i)``, BPR on (u, i, j) triples."""
    import keras
    from keras import layers, ops

    class TextTowerNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.user_emb = layers.Embedding(n_users, dim, embeddings_initializer="glorot_normal", name="user_emb")
            self.proj = layers.Dense(dim, use_bias=False, name="text_projection")
            self.bert = bert_weights  # the trainable BERT part (a layer or a list of LoRA variables), or None

        def item_vectors(self):
            return self.proj(pooled_fn())

        def call(self, x):
            q = self.item_vectors()  # the whole catalogue once per step: cheaper than per triple
            p = self.user_emb(x[:, 0])
            qi, qj = ops.take(q, x[:, 1], axis=0), ops.take(q, x[:, 2], axis=0)
            if reg > 0:
                self.add_loss(reg * ops.mean(ops.sum(p * p + qi * qi + qj * qj, axis=-1)))
            return ops.sum(p * (qi - qj), axis=-1)

    net = TextTowerNet()
    net.user_emb.build((None,))
    net.proj.build((None, int(pooled_fn().shape[-1])))
    if init is not None:
        net.user_emb.embeddings.assign(init[0])
        net.proj.kernel.assign(init[1])
    return net


def _train_until_plateau(net, split, X, epochs: int, patience: int, batch_size: int, lr: float, seed: int, k: int,
                         verbose: bool = False):
    """Whole epochs of BPR; after each, valid (and test) NDCG@k. Stops after ``patience`` epochs without
    a new best valid NDCG. Returns the curve and the best epoch's weights and metrics."""
    import keras
    from keras import ops

    net.compile(optimizer=keras.optimizers.Adam(lr), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)

    def metrics():
        U = ops.convert_to_numpy(net.user_emb.embeddings)
        Q = ops.convert_to_numpy(net.item_vectors())
        score = lambda users: U[users] @ Q.T  # noqa: E731
        return (evaluate_scores(score, split, k=k, part="valid")["ndcg"],
                evaluate_scores(score, split, k=k, part="test")["ndcg"])

    log = print if verbose else (lambda *a, **k: None)
    start_valid, start_test = metrics()
    curve, best = [float(start_valid)], {"epoch": 0, "valid": float(start_valid), "test": float(start_test),
                                         "init": [ops.convert_to_numpy(net.user_emb.embeddings),
                                                  ops.convert_to_numpy(net.proj.kernel)]}
    since_best = 0
    for epoch in range(1, epochs + 1):
        triples = triplet_epochs(X, 1, rng)
        net.fit(triples, np.ones(len(triples), "float32"), batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        valid, test = metrics()
        log(f"  epoch {epoch}: valid NDCG@{k} {valid:.4f}", flush=True)
        curve.append(float(valid))
        if valid > best["valid"]:
            best = {"epoch": epoch, "valid": float(valid), "test": float(test),
                    "init": [ops.convert_to_numpy(net.user_emb.embeddings), ops.convert_to_numpy(net.proj.kernel)]}
            since_best = 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    best["curve"] = curve
    best["epochs_run"] = len(curve) - 1
    best["converged"] = since_best >= patience  # stopped by the plateau rule, not by the epoch cap
    return best


def finetune_experiment(encoder: Any, texts: Sequence[str], split: Any, arms: Sequence[str] = ARMS,
                        warm_epochs: int = 40, warm_patience: int = 3, max_epochs: int = 10, patience: int = 3,
                        batch_size: int = 4096, warm_batch_size: int = 2048, lr: float = 1e-3,
                        warm_lr: float = 5e-3, reg: float = 1e-2, bert_lr_scale: float = 0.05, lora_rank: int = 4,
                        max_length: int = 24, k: int = 10, seed: int = DEFAULT_SEED, cache: bool = True,
                        memo: dict | None = None, verbose: bool = False) -> dict:
    """Does adapting the top BERT layer help a text-only two-tower model? Arms trained to a plateau.

    Args:
        encoder: a :class:`translearn_lib.encoders.text.TextEncoder`.
        texts: item texts aligned with the split's item index.
        split: a :class:`translearn_lib.splits.Split`.
        arms: which continuations to run after the frozen start, a subset of ``("frozen", "ffn", "lora")``.
        warm_epochs, warm_patience: epoch cap and plateau patience of the frozen-feature start.
        max_epochs, patience: epoch cap and plateau patience of every arm.
        batch_size: triples per step in the arms (the whole catalogue's item vectors are computed once
            per step, so a step costs about the same whatever the batch size).
        warm_batch_size, warm_lr: batch and Adam learning rate of the frozen start.
        lr: Adam learning rate of the arms (user embeddings, projection; LoRA adapters too).
        reg: L2 weight on the batch's user and item vectors.
        bert_lr_scale: the ``ffn`` arm's BERT weights learn at ``bert_lr_scale * lr`` (see ``_ffn_copy``).
        lora_rank: rank of the LoRA adapters on the top feed-forward block (``backbone.enable_lora``).
        max_length: token truncation.
        k: cut-off for NDCG.
        seed: seed of every random choice (all arms see the same triples).
        cache: reuse a stored result for identical inputs (model identity and weights, texts, the
            split's parts, settings, ``CACHE_VERSION``) from the course cache
            (:mod:`translearn_lib.cache`, ``results/bert_tower-<key>.json``).
        memo: optional dict that keeps :func:`cached_top_inputs` between calls (e.g. across seeds).
        verbose: print valid NDCG@k after every epoch.

    Returns:
        dict: ``start`` (the frozen start: ``valid``, ``test``, ``epoch``, ``curve``, ``converged``), and
        per arm in ``arms``: ``valid`` (best valid NDCG@k), ``test`` (test NDCG@k of that epoch),
        ``epoch`` (best epoch, 0 = the start), ``epochs_run``, ``converged``, ``curve`` (valid NDCG
        after each epoch, epoch 0 first), ``seconds``, ``trainable_bert_params``; plus
        ``prep_seconds``, ``settings`` and ``cached``.

    Raises:
        ValueError: an unknown arm or a non-positive budget.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; choose from {ARMS}")
    if min(warm_epochs, warm_patience, max_epochs, patience, batch_size, warm_batch_size, lora_rank) <= 0:
        raise ValueError("epochs, patience, batch sizes and lora_rank must be positive")
    settings = dict(arms=list(arms), warm_epochs=warm_epochs, warm_patience=warm_patience, max_epochs=max_epochs,
                    patience=patience, batch_size=batch_size, warm_batch_size=warm_batch_size, lr=lr, warm_lr=warm_lr,
                    reg=reg, bert_lr_scale=bert_lr_scale, lora_rank=lora_rank, max_length=max_length, k=k, seed=seed)
    path = _result_path(encoder, texts, split, settings) if cache else None
    out = _cache.load_json(path) if path is not None else None
    if out is not None:
        out["cached"] = True
        return out
    import keras

    start = time.perf_counter()
    memo_key = _cache.content_key(encoder.identity, max_length, list(texts))
    if memo is not None and memo_key in memo:
        r, mask = memo[memo_key]
    else:
        r, mask = cached_top_inputs(encoder, texts, max_length=max_length)
        if memo is not None:
            memo[memo_key] = (r, mask)
    X = split.matrix("train")
    out = {"prep_seconds": time.perf_counter() - start}
    dim = 64
    keras.utils.set_random_seed(seed)
    fn, _, _ = _item_encoder("frozen", r, mask, encoder.backbone, bert_lr_scale, lora_rank)
    t0 = time.perf_counter()
    warm = _train_until_plateau(_net(X.shape[0], dim, fn, None, reg), split, X, warm_epochs, warm_patience,
                                warm_batch_size, warm_lr, seed, k, verbose)
    warm["seconds"] = time.perf_counter() - t0
    init = warm.pop("init")
    out["start"] = warm
    for arm in arms:
        if verbose:
            print(f"arm {arm}:", flush=True)
        keras.utils.set_random_seed(seed)
        fn, bert, n_bert = _item_encoder(arm, r, mask, encoder.backbone, bert_lr_scale, lora_rank)
        t0 = time.perf_counter()
        res = _train_until_plateau(_net(X.shape[0], dim, fn, bert, reg, init=init), split, X, max_epochs, patience,
                                   batch_size, lr, seed + 1, k, verbose)
        res.pop("init")
        res["seconds"], res["trainable_bert_params"] = time.perf_counter() - t0, n_bert
        out[arm] = res
    out["settings"], out["cached"] = settings, False
    if path is not None:
        _cache.save_json(path, out)
    return out


def _result_path(encoder: Any, texts: Sequence[str], split: Any, settings: dict):
    """Cache entry of one experiment: everything that determines its result is in the key."""
    parts = [split.frame(part)[["user", "item"]].astype(np.int64) for part in ("train", "valid", "test")]
    key = _cache.content_key(CACHE_VERSION, encoder.identity, settings, list(texts), *parts)
    return _cache.entry("results", "bert_tower", key, ".json")
