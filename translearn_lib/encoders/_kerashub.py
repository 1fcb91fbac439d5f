"""The one place that reads KerasHub's private BERT internals.

KerasHub's ``TransformerEncoder`` (the layer a ``BertBackbone`` stacks) does not expose its two
sub-blocks, yet running the frozen part of the top layer once and training only its feed-forward
block needs them. Every access to the private attributes (``_self_attention_layer``,
``_self_attention_layer_norm``, ``_feedforward_intermediate_dense``, ``_feedforward_output_dense``,
``_feedforward_layer_norm``), to ``normalize_first`` and to the ``transformer_layer_`` naming of the
backbone's layers lives here, so a KerasHub upgrade that renames them breaks this module only, and
loudly: :func:`check_layer_split` compares the two sub-blocks run one after the other with a full
call of the layer and raises :class:`KerasHubInternalsError` naming the installed KerasHub version.

For a post-norm BERT layer, ``out = LN2(r + W2 act(W1 r))`` with ``r = LN1(h + Attention(h))``:
:func:`attention_sub_block` computes ``r``, :func:`feedforward_sub_block` the rest.

Taught in notebooks/03_bert_recommender.ipynb.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: name prefix of the transformer layers in a KerasHub ``BertBackbone``
LAYER_PREFIX = "transformer_layer_"
_ATTENTION = ("_self_attention_layer", "_self_attention_layer_norm")
_FEEDFORWARD = ("_feedforward_intermediate_dense", "_feedforward_output_dense", "_feedforward_layer_norm")


class KerasHubInternalsError(RuntimeError):
    """The installed KerasHub no longer has the BERT layer internals this module relies on.

    Taught in notebooks/03_bert_recommender.ipynb.
    """


class FeedForwardParts(NamedTuple):
    """The Keras sub-layers of a transformer layer's feed-forward block: ``LN(r + output(intermediate(r)))``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """

    intermediate: Any
    output: Any
    layer_norm: Any


def kerashub_version() -> str:
    """The installed KerasHub version (for error messages).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    try:
        import keras_hub

        return str(keras_hub.__version__)
    except Exception:  # pragma: no cover - KerasHub is a course dependency
        return "unknown"


def _internals_error(what: str) -> KerasHubInternalsError:
    return KerasHubInternalsError(
        f"KerasHub {kerashub_version()}: {what}. translearn_lib/encoders/_kerashub.py was written for the "
        "TransformerEncoder internals of keras-hub 0.32 (see constraints.txt); update it for this version "
        "or install the pinned keras-hub."
    )


def transformer_layers(backbone: Any) -> list:
    """The transformer layers of a KerasHub BERT backbone, bottom to top.

    Args:
        backbone: a ``keras_hub.models.BertBackbone`` (e.g. ``TextEncoder.backbone``).

    Returns:
        list: the ``TransformerEncoder`` layers, in order.

    Raises:
        KerasHubInternalsError: no layer carries the expected name prefix.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    layers = [layer for layer in backbone.layers if layer.name.startswith(LAYER_PREFIX)]
    if not layers:
        raise _internals_error(f"the backbone has no layers named {LAYER_PREFIX}*")
    return layers


def check_post_norm(layer: Any) -> Any:
    """Make sure ``layer`` is a post-norm KerasHub transformer layer with the expected sub-layers.

    Args:
        layer: one of :func:`transformer_layers`.

    Returns:
        the layer.

    Raises:
        ValueError: a pre-norm layer (``normalize_first=True``): not BERT's layout.
        KerasHubInternalsError: a sub-layer this module reads is missing.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    missing = [name for name in (*_ATTENTION, *_FEEDFORWARD) if not hasattr(layer, name)]
    if missing or not hasattr(layer, "normalize_first"):
        raise _internals_error(f"layer {layer.name!r} has no {', '.join(missing or ['normalize_first'])}")
    if layer.normalize_first:
        raise ValueError(f"layer {layer.name!r} is pre-norm (normalize_first=True): expected a post-norm BERT layer")
    return layer


def attention_sub_block(layer: Any, h, mask):
    """``r = LN1(h + Attention(h))``: the layer's self-attention sub-block (inference, no dropout).

    Args:
        layer: a post-norm transformer layer (see :func:`check_post_norm`).
        h: ``(batch, length, hidden)`` input hidden states of the layer.
        mask: ``(batch, length)`` bool padding mask (True = real token).

    Returns:
        ``(batch, length, hidden)`` tensor ``r``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    check_post_norm(layer)
    m = np.asarray(mask).astype(bool)
    a = layer._self_attention_layer(query=h, value=h, attention_mask=m[:, None, :] & m[:, :, None])
    return layer._self_attention_layer_norm(h + a)


def feedforward_parts(layer: Any) -> FeedForwardParts:
    """The feed-forward block's Keras sub-layers: two ``Dense`` layers and the final ``LayerNormalization``.

    Args:
        layer: a post-norm transformer layer (see :func:`check_post_norm`).

    Returns:
        FeedForwardParts: ``(intermediate, output, layer_norm)``; read their weights and configs
        with the public Keras API (``get_weights``, ``get_config``).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    check_post_norm(layer)
    return FeedForwardParts(layer._feedforward_intermediate_dense, layer._feedforward_output_dense,
                            layer._feedforward_layer_norm)


def feedforward_sub_block(layer: Any, r):
    """``LN2(r + W2 act(W1 r))`` with the layer's own weights: the rest of the layer after ``r``.

    Args:
        layer: a post-norm transformer layer.
        r: output of :func:`attention_sub_block`.

    Returns:
        the layer's output for ``r``.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    parts = feedforward_parts(layer)
    return parts.layer_norm(r + parts.output(parts.intermediate(r)))


def check_layer_split(layer: Any, h, mask, r=None, atol: float = 1e-3) -> None:
    """Numerical self-check: the two sub-blocks, one after the other, reproduce a full layer call.

    Args:
        layer: a post-norm transformer layer.
        h: ``(batch, length, hidden)`` inputs of the layer.
        mask: ``(batch, length)`` bool padding mask.
        r: :func:`attention_sub_block` of ``h`` if already computed.
        atol: tolerance on the real (unpadded) tokens.

    Raises:
        KerasHubInternalsError: the outputs differ (KerasHub changed what the layer computes).

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    from keras import ops

    m = np.asarray(mask).astype(bool)
    if r is None:
        r = attention_sub_block(layer, h, m)
    full = ops.convert_to_numpy(layer(h, padding_mask=m))
    mine = ops.convert_to_numpy(feedforward_sub_block(layer, r))
    if not np.allclose(full[m], mine[m], atol=atol):
        worst = float(np.abs(full[m] - mine[m]).max())
        raise _internals_error(
            f"attention + feed-forward sub-blocks of {layer.name!r} differ from a full call of the layer "
            f"(max abs difference {worst:.2g})"
        )


#: KerasHub names of a transformer layer's feed-forward Dense layers (targets for ``enable_lora``)
FEEDFORWARD_LORA_TARGETS = ("feedforward_intermediate_dense", "feedforward_output_dense")


def lora_top_layer(backbone: Any, rank: int, target_layer_names=FEEDFORWARD_LORA_TARGETS):
    """The top transformer layer of a LoRA-enabled COPY of ``backbone``, and its adapter weights.

    Calls KerasHub's public ``backbone.enable_lora(rank, target_layer_names)`` on a clone (same
    config, same weights), which freezes every weight and adds trainable low-rank adapters
    ``W + A B`` (``B`` starts at 0) to the named Dense layers of every transformer layer (by
    default the two feed-forward Dense layers; KerasHub's own default is the attention's query and
    value). Only the top layer is returned: the lower layers' adapters stay at ``B = 0`` (the
    identity), so their cached outputs stay exact. The original ``backbone`` is not changed.

    Args:
        backbone: a ``keras_hub.models.BertBackbone``.
        rank: LoRA rank, a positive integer.
        target_layer_names: names of the sub-layers that get adapters.

    Returns:
        tuple: ``(layer, variables)``: the top ``TransformerEncoder`` of the copy and its trainable
        ``lora_kernel`` variables.

    Raises:
        ValueError: ``rank`` is not positive.
        KerasHubInternalsError: ``enable_lora`` added no adapter to the top layer.

    Taught in notebooks/03_bert_recommender.ipynb.
    """
    if int(rank) <= 0:
        raise ValueError(f"rank must be a positive integer, got {rank}")
    clone = type(backbone).from_config(backbone.get_config())
    clone.set_weights(backbone.get_weights())
    clone.enable_lora(int(rank), target_layer_names=list(target_layer_names))
    top = transformer_layers(clone)[-1]
    variables = [v for v in top.weights if "lora_kernel" in v.path and v.trainable]
    if not variables:
        raise _internals_error(f"enable_lora({rank}) added no trainable lora_kernel weights to {top.name!r}")
    return top, variables


# ----------------------------------------------------------------------------------------------
# Llama (chapter 10): where each GGUF tensor goes in a KerasHub ``LlamaBackbone``
# ----------------------------------------------------------------------------------------------

#: GGUF tensor name (per block) -> (attribute path inside ``LlamaTransformerDecoder``, kind)
_LLAMA_BLOCK = {
    "attn_norm": ("_self_attention_layernorm.scale", "vector"),
    "ffn_norm": ("_feedforward_layernorm.scale", "vector"),
    "attn_q": ("_self_attention_layer._query_dense.kernel", "heads_in"),
    "attn_k": ("_self_attention_layer._key_dense.kernel", "heads_in"),
    "attn_v": ("_self_attention_layer._value_dense.kernel", "heads_in"),
    "attn_output": ("_self_attention_layer._output_dense.kernel", "heads_out"),
    "ffn_gate": ("_feedforward_gate_dense.kernel", "dense"),
    "ffn_up": ("_feedforward_intermediate_dense.kernel", "dense"),
    "ffn_down": ("_feedforward_output_dense.kernel", "dense"),
}


def _resolve(obj: Any, dotted: str):
    for part in dotted.split("."):
        if not hasattr(obj, part):
            raise _internals_error(f"{type(obj).__name__} has no attribute {part!r} (looking for {dotted})")
        obj = getattr(obj, part)
    return obj


def llama_variables(backbone: Any) -> dict:
    """Every weight of a KerasHub ``LlamaBackbone`` under its GGUF (llama.cpp) tensor name.

    ``token_embd.weight`` -> the (tied) token embedding, ``output_norm.weight`` -> the final RMS norm,
    ``blk.{i}.{attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, attn_norm, ffn_norm}.weight``
    -> the decoder layer's variables. Each value is ``(variable, kind)``: ``kind`` says how a GGUF
    matrix stored (out, in) becomes the Keras kernel: ``"dense"`` transpose; ``"heads_in"`` transpose
    then reshape to ``(hidden, heads, head_dim)``; ``"heads_out"`` transpose then reshape to
    ``(heads, head_dim, hidden)``; ``"vector"`` / ``"embedding"`` as stored.

    Args:
        backbone: a ``keras_hub.models.LlamaBackbone``.

    Returns:
        dict: GGUF name -> ``(keras.Variable, kind)``.

    Raises:
        KerasHubInternalsError: a sub-layer is missing (KerasHub changed its Llama decoder).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    out = {"token_embd.weight": (backbone.get_layer("token_embedding").embeddings, "embedding"),
           "output_norm.weight": (backbone.get_layer("sequence_output_layernorm").scale, "vector")}
    for i in range(backbone.num_layers):
        layer = backbone.get_layer(f"{LAYER_PREFIX}{i}")
        for gguf_name, (path, kind) in _LLAMA_BLOCK.items():
            out[f"blk.{i}.{gguf_name}.weight"] = (_resolve(layer, path), kind)
    return out


def lora_rank(backbone: Any) -> int | None:
    """The rank of the LoRA adapters ``backbone.enable_lora`` added, or ``None`` if it was never called.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    return getattr(backbone, "_lora_rank", None) if getattr(backbone, "_lora_enabled_layers", None) else None


__all__ = ["LAYER_PREFIX", "KerasHubInternalsError", "FeedForwardParts", "kerashub_version", "transformer_layers",
           "check_post_norm", "attention_sub_block", "feedforward_parts", "feedforward_sub_block",
           "check_layer_split", "FEEDFORWARD_LORA_TARGETS", "lora_top_layer", "llama_variables", "lora_rank"]
