"""LoRA instruction tuning of the LLM on "history -> will the user like this film? Yes/No" (TALLRec).

TALLRec (Bao et al., RecSys 2023) turns each rating into an instruction: the user's liked and
disliked films, a target film, and the answer "Yes" (rating >= 4) or "No". Here the model's score
for a pair is ``logit(" Yes") - logit(" No")`` at the answer position, the loss is the binary
cross-entropy of ``sigmoid(score)``, and only LoRA adapters are trained: KerasHub's
``backbone.enable_lora(rank)`` freezes every weight and adds ``W + A B`` (``B = 0`` at the start,
so the adapted model equals the base model until the first step) to the attention's query and
value projections of every layer.

Pairs for training come from the split's training interactions only (target and history both
from training); pairs for evaluation take their target from the test part and their history from
training, so the AUC is never measured on training data.

Taught in notebooks/10_generative_llms.ipynb.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from translearn_lib import metrics
from translearn_lib.llm import prompts

#: KerasHub's LoRA targets for Llama: the attention's query and value projections (its default)
LORA_TARGETS = ("query", "value")
_FUNCS: dict[int, dict] = {}


def lora_weight_count(kernel_shape: Sequence[int], rank: int) -> int:
    """Trainable weights Keras' LoRA adds to one ``Dense``/``EinsumDense`` kernel.

    Keras splits the kernel shape ``(*lead, last)``: ``A`` is ``(*lead, rank)``, ``B`` is
    ``(rank, last)``. For SmolLM2's query kernel ``(576, 9, 64)`` and rank 4: 576·9·4 + 4·64 = 20,992.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    shape = [int(s) for s in kernel_shape]
    if len(shape) < 2 or rank < 1:
        raise ValueError(f"need a kernel of rank >= 2 and rank >= 1, got {kernel_shape} and {rank}")
    return int(np.prod(shape[:-1])) * rank + rank * shape[-1]


def answer_ids(llm: Any) -> tuple[int, int]:
    """Token ids of ``" Yes"`` and ``" No"`` (each must be a single token).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    yes, no = llm.encode(" Yes"), llm.encode(" No")
    if len(yes) != 1 or len(no) != 1:
        raise ValueError(f"' Yes' / ' No' are not single tokens for this tokenizer: {yes}, {no}")
    return yes[0], no[0]


def yes_no_pairs(split: Any, titles: Sequence[str], n_pairs: int, part: str = "train", seed: int = 0,
                 history: int = 10, like_threshold: float = 4.0) -> pd.DataFrame:
    """Balanced (user, target, Yes/No) pairs with their TALLRec prompts.

    As in TALLRec, the history is the user's ``history`` most recent rated training films, split
    into liked and disliked ones: how many of each a user has is itself a signal (a user who likes
    most films is likely to say "Yes" again), which a fixed number of each would hide.

    Args:
        split: a split with ratings; histories always come from its training part.
        titles: title per item index.
        n_pairs: pairs to draw (half Yes, half No when enough exist).
        part: where the targets come from: ``"train"`` (then the target is left out of the history) or ``"test"``.
        seed: sampling seed.
        history: how many of the user's most recent rated training films the prompt lists.
        like_threshold: rating that counts as "Yes".

    Returns:
        pd.DataFrame: ``user``, ``item``, ``rating``, ``label`` (1 = Yes), ``prompt``.

    Raises:
        ValueError: unknown part, ``n_pairs < 2``, ``history < 1``, or no eligible pair.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    if n_pairs < 2:
        raise ValueError(f"n_pairs must be at least 2, got {n_pairs}")
    if history < 1:
        raise ValueError(f"history must be at least 1, got {history}")
    train = split.train.sort_values(["user", "timestamp", "item"], kind="stable")
    by_user = {u: f for u, f in train.groupby("user", sort=True)}
    targets = split.frame(part)
    targets = targets[targets["user"].isin(by_user.keys())]
    rng = np.random.default_rng(seed)
    label = (targets["rating"] >= like_threshold).to_numpy()
    picked = []
    for want, need in ((True, n_pairs - n_pairs // 2), (False, n_pairs // 2)):
        idx = np.flatnonzero(label == want)
        picked.append(rng.choice(idx, size=min(need, idx.size), replace=False))
    rows = targets.iloc[np.sort(np.concatenate(picked))]
    out = []
    for u, i, r in zip(rows["user"], rows["item"], rows["rating"]):
        h = by_user[u]
        if part == "train":
            h = h[h["item"] != i]
        h = h.iloc[-history:]
        liked = [titles[j] for j in h.loc[h["rating"] >= like_threshold, "item"].to_numpy()]
        disliked = [titles[j] for j in h.loc[h["rating"] < like_threshold, "item"].to_numpy()]
        if not liked and not disliked:
            continue
        out.append({"user": int(u), "item": int(i), "rating": float(r), "label": int(r >= like_threshold),
                    "prompt": prompts.yes_no_prompt(liked, disliked, titles[i])})
    if not out:
        raise ValueError(f"no {part} pair has a user with a rated training item")
    frame = pd.DataFrame(out)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def _pad(llm: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    ids = [llm.encode(t) for t in texts]
    if not ids:
        raise ValueError("no prompts given")
    longest = max(len(i) for i in ids)
    if longest > llm.context_length:
        raise ValueError(f"a prompt has {longest} tokens, more than the context ({llm.context_length})")
    tok = np.zeros((len(ids), longest), np.int32)
    for r, i in enumerate(ids):
        tok[r, :len(i)] = i
    return tok, np.asarray([len(i) - 1 for i in ids], np.int32)


def _funcs(llm: Any) -> dict:
    """The traced Yes/No forward pass and LoRA train step of ``llm`` (one trace each per process)."""
    import keras
    import tensorflow as tf

    key = id(llm.backbone)
    if key in _FUNCS:
        return _FUNCS[key]
    backbone = llm.backbone
    yes, no = answer_ids(llm)
    table = backbone.token_embedding.embeddings

    def margin(tok, last, training):
        h = backbone({"token_ids": tok, "padding_mask": tf.ones_like(tok, dtype=tf.bool)}, training=training)
        h_last = tf.gather(h, last, axis=1, batch_dims=1)  # (batch, hidden) at each prompt's last token
        w = tf.gather(table, [yes, no])
        logits = tf.matmul(h_last, w, transpose_b=True)
        return logits[:, 0] - logits[:, 1]

    spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)]
    forward = tf.function(lambda tok, last: margin(tok, last, False), input_signature=spec, autograph=False)
    funcs = {"forward": forward, "margin": margin}
    _FUNCS[key] = funcs
    return funcs


def yes_no_scores(llm: Any, prompts_: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """``logit(" Yes") - logit(" No")`` after each prompt (higher = more likely "Yes").

    Taught in notebooks/10_generative_llms.ipynb.
    """
    prompts_ = list(prompts_)
    if not prompts_:
        raise ValueError("no prompts to score")
    f = _funcs(llm)["forward"]
    out = []
    for s in range(0, len(prompts_), batch_size):
        tok, last = _pad(llm, prompts_[s:s + batch_size])
        out.append(np.asarray(f(tok, last)))
    return np.concatenate(out).astype(np.float64)


def pair_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """AUC over all pairs at once (one row for :func:`translearn_lib.metrics.auc`).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    labels = np.asarray(labels).astype(np.float32)
    if labels.min() == labels.max():
        raise ValueError("AUC needs both Yes and No pairs")
    return metrics.auc(np.asarray(scores, float)[None, :], labels[None, :])


def enable_lora(llm: Any, rank: int = 4, seed: int = 0, targets: Sequence[str] = LORA_TARGETS) -> list:
    """Add LoRA adapters to the LLM's backbone (first call) or reset them (later calls); returns the trainable variables.

    After the call ``B = 0`` and ``A`` is freshly drawn (He-uniform, ``seed``), so the model
    computes exactly what the base model computes. The traced forward passes of ``llm`` are
    dropped, because a trace made before ``enable_lora`` would not see the adapters.

    Raises:
        ValueError: a non-positive rank, or a different rank than the adapters already added.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    import keras

    from translearn_lib.encoders import _kerashub

    if int(rank) < 1:
        raise ValueError(f"rank must be a positive integer, got {rank}")
    b = llm.backbone
    current = _kerashub.lora_rank(b)
    if current is None:
        b.enable_lora(int(rank), target_layer_names=list(targets))
        llm.reset_compiled()
        _FUNCS.pop(id(b), None)
    elif current != int(rank):
        raise ValueError(f"the backbone already has rank-{current} adapters; load a fresh LLM for rank {rank}")
    variables = [v for v in b.trainable_weights if "lora_kernel" in v.path]
    if not variables:
        raise ValueError(f"enable_lora added no adapter: no layer of the backbone is named {list(targets)}")
    init = keras.initializers.HeUniform(seed=seed)
    for v in variables:
        v.assign(np.zeros(v.shape, np.float32) if v.path.endswith("lora_kernel_b") else init(v.shape))
    return variables


def disable_lora(llm: Any) -> None:
    """Set every adapter's ``B`` to zero: the backbone computes the base model again.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    for v in llm.backbone.weights:
        if v.path.endswith("lora_kernel_b"):
            v.assign(np.zeros(v.shape, np.float32))


def train_lora(llm: Any, pairs: pd.DataFrame, steps: int = 20, batch_size: int = 8, learning_rate: float = 2e-3,
               rank: int = 4, top_layers: int | None = 8, seed: int = 0, progress: bool = False,
               every: int | None = None, on_every: Callable[[int], Any] | None = None) -> dict:
    """Train fresh LoRA adapters on Yes/No pairs with Adam (binary cross-entropy on the Yes-No margin).

    Batches are drawn without replacement (reshuffled per pass) with ``seed``.

    Args:
        llm: the loaded LLM (its backbone gets adapters, see :func:`enable_lora`).
        pairs: from :func:`yes_no_pairs` (``prompt``, ``label``), training part only.
        steps: optimiser steps.
        batch_size: pairs per step.
        learning_rate: Adam step size.
        rank: LoRA rank.
        top_layers: train only the adapters of the top this many layers (the others keep ``B = 0``),
            so the backward pass stops there: about ``top_layers / 30`` of the full backward cost.
            ``None`` trains every layer's adapters.
        seed: adapter initialisation and batch order.
        progress: tqdm bar.
        every, on_every: call ``on_every(step)`` after every ``every`` steps (e.g. to measure a held-out
            AUC along the way; its time is not counted in ``seconds_per_step``).

    Returns:
        dict: ``losses`` (per step), ``seconds_per_step`` (median, first step with tracing excluded),
        ``first_step_s``, ``trainable`` (weights trained), ``total`` (all backbone weights),
        ``checkpoints`` (``[step, on_every(step)]`` pairs).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
    if len(pairs) < batch_size:
        raise ValueError(f"{len(pairs)} pairs are fewer than one batch of {batch_size}")
    if every is not None and (int(every) < 1 or on_every is None):
        raise ValueError(f"every must be a positive integer with an on_every callable, got {every} and {on_every}")
    variables = enable_lora(llm, rank=rank, seed=seed)
    if top_layers is not None:
        n = llm.backbone.num_layers
        if not 1 <= int(top_layers) <= n:
            raise ValueError(f"top_layers must be in [1, {n}], got {top_layers}")
        variables = [v for v in variables if _layer_index(v.path) >= n - int(top_layers)]
    margin = _funcs(llm)["margin"]
    opt = keras.optimizers.Adam(learning_rate=learning_rate)
    opt.build(variables)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.float32)], autograph=False)
    def step(tok, last, y):
        with tf.GradientTape() as tape:
            m = margin(tok, last, True)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=m))
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    prompts_, labels = pairs["prompt"].tolist(), pairs["label"].to_numpy(np.float32)
    losses, times, checkpoints, pos = [], [], [], 0
    for k in tqdm(range(1, steps + 1), desc="LoRA", disable=not progress):
        if pos + batch_size > len(order):
            order, pos = rng.permutation(len(pairs)), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        tok, last = _pad(llm, [prompts_[i] for i in idx])
        t0 = time.perf_counter()
        losses.append(float(step(tok, last, labels[idx])))
        times.append(time.perf_counter() - t0)
        if every is not None and k % int(every) == 0:
            checkpoints.append([k, on_every(k)])
    return {"losses": losses, "first_step_s": times[0], "checkpoints": checkpoints,
            "seconds_per_step": float(np.median(times[1:])) if len(times) > 1 else times[0],
            "trainable": int(sum(int(np.prod(v.shape)) for v in variables)),
            "total": int(llm.backbone.count_params())}


def _layer_index(path: str) -> int:
    import re

    from translearn_lib.encoders._kerashub import LAYER_PREFIX

    m = re.search(rf"{LAYER_PREFIX}(\d+)/", path)
    if m is None:
        raise ValueError(f"cannot tell the layer of variable {path!r}")
    return int(m.group(1))


def adapter_weights(llm: Any) -> dict:
    """The current LoRA adapter arrays by variable path (to cache or compare).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    return {v.path: np.asarray(v.numpy()) for v in llm.backbone.weights if "lora_kernel" in v.path}





def pair_baselines(split: Any, pairs: pd.DataFrame, embeddings: dict | None = None) -> dict:
    """AUC of non-LLM scorers on the same Yes/No pairs, fitted on the training part only.

    ``item mean rating`` (the item's mean training rating; cold items get the global mean),
    chapter 03's ``Pop`` and ``EASE`` (implicit: they predict *watching*, not *liking*), and a
    ``<name> profile`` (:class:`~translearn_lib.coldstart.TextProfile`) per embedding.

    Returns:
        dict: name -> AUC.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    from translearn_lib.coldstart import TextProfile
    from translearn_lib.recommenders import EASE, Popularity

    tr = split.train
    means = tr.groupby("item")["rating"].mean()
    item_mean = pairs["item"].map(means).fillna(float(tr["rating"].mean())).to_numpy()
    out = {"item mean rating": pair_auc(item_mean, pairs["label"])}
    models = {"Pop": Popularity(), "EASE": EASE()}
    models.update({f"{n} profile": TextProfile(E) for n, E in (embeddings or {}).items()})
    users = pairs["user"].to_numpy()
    for name, model in models.items():
        model.fit(split)
        s = np.asarray(model.score(np.unique(users)))
        row = {u: r for r, u in enumerate(np.unique(users))}
        out[name] = pair_auc(s[[row[u] for u in users], pairs["item"].to_numpy()], pairs["label"])
    return out


def lora_experiment(llm: Any, split: Any, titles: Sequence[str], seed: int = 0, n_train: int = 256,
                    n_test: int = 128, steps: int = 40, batch_size: int = 8, rank: int = 4,
                    learning_rate: float = 2e-3, top_layers: int | None = 8, progress: bool = False,
                    curve_every: int | None = None) -> dict:
    """Zero-shot versus LoRA-tuned Yes/No AUC on held-out pairs (train pairs from training data only).

    The adapters are reset to zero at the end, so ``llm`` is the base model again. With
    ``curve_every``, the held-out AUC is also measured every that many steps (a learning curve:
    nothing is selected by it, the reported ``auc_lora`` is always the one after the last step).

    Returns:
        dict: ``auc_zero_shot``, ``auc_lora``, ``gain``, ``n_train``, ``n_test``, ``steps``,
        ``batch_size``, ``rank``, ``trainable``, ``total``, ``seconds_per_step``, ``first_step_s``,
        ``losses``, ``train_seconds`` (curve evaluations excluded), ``auc_curve`` (``[step, AUC]``).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    train = yes_no_pairs(split, titles, n_train, "train", seed=seed)
    test = yes_no_pairs(split, titles, n_test, "test", seed=seed + 1000)
    enable_lora(llm, rank=rank, seed=seed)  # B = 0: still the base model
    before = yes_no_scores(llm, test["prompt"])
    eval_s = []

    def held_out_auc(step=None):
        t = time.perf_counter()
        value = pair_auc(yes_no_scores(llm, test["prompt"]), test["label"])
        eval_s.append(time.perf_counter() - t)
        return value

    t0 = time.perf_counter()
    info = train_lora(llm, train, steps=steps, batch_size=batch_size, learning_rate=learning_rate, rank=rank,
                      top_layers=top_layers, seed=seed, progress=progress, every=curve_every,
                      on_every=held_out_auc if curve_every else None)
    train_s = time.perf_counter() - t0 - sum(eval_s)
    a0 = pair_auc(before, test["label"])
    curve = [[0, a0]] + info["checkpoints"]
    if curve[-1][0] != steps:          # the last step was not a checkpoint: measure it now
        curve.append([steps, held_out_auc()])
    a1 = curve[-1][1]
    disable_lora(llm)
    return {"auc_zero_shot": a0, "auc_lora": a1, "gain": a1 - a0, "n_train": len(train), "n_test": len(test),
            "steps": steps, "batch_size": batch_size, "rank": rank, "learning_rate": learning_rate,
            "top_layers": top_layers,
            "train_seconds": train_s, "auc_curve": curve, **{k: info[k] for k in ("trainable", "total", "seconds_per_step",
                                                              "first_step_s", "losses")}}


__all__ = ["LORA_TARGETS", "lora_weight_count", "answer_ids", "yes_no_pairs", "yes_no_scores", "pair_auc",
           "enable_lora", "disable_lora", "train_lora", "adapter_weights", "pair_baselines", "lora_experiment"]
