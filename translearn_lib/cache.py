"""The course's one on-disk cache: keys from settings and input content, atomic writes.

Everything expensive that the chapters reuse (text embeddings, trained source models, benchmark
results) is stored under ``config.cache_dir(kind)`` as ``<name>-<key><suffix>``:

* :func:`content_key` hashes *what determines the result*: settings (any JSON-able value) and the
  inputs themselves (arrays, data frames, sparse matrices, lists of texts) by value, so a changed
  input can never load a stale entry;
* every ``save_*`` writes to a temporary file in the same folder and renames it into place, so a
  notebook and a test writing the same entry at once, or an interrupted run, never leave a
  half-written file;
* every ``load_*`` returns ``None`` for a missing or unreadable entry (the caller recomputes and
  overwrites it).

Taught in notebooks/02_llm_text_representations.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from translearn_lib import config

#: hex characters kept from the sha256 in file names
KEY_LENGTH = 24


def _feed(h, part: Any) -> None:
    """Add one part to the hash, tagged by its type so that ``"1"`` and ``1`` differ."""
    import pandas as pd
    import scipy.sparse as sp

    if isinstance(part, np.ndarray):
        arr = np.ascontiguousarray(part)
        if arr.dtype == object:
            raise TypeError("cache keys do not hash object arrays: pass a list of str or a numeric array")
        h.update(f"ndarray|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    elif sp.issparse(part):
        m = sp.csr_matrix(part)
        m.sort_indices()
        h.update(f"sparse|{m.shape}|".encode())
        for arr in (m.indptr, m.indices, m.data):
            _feed(h, np.asarray(arr))
    elif isinstance(part, (pd.DataFrame, pd.Series)):
        labels = list(part.columns) if isinstance(part, pd.DataFrame) else [part.name]
        h.update(f"pandas|{type(part).__name__}|{labels}|".encode())
        h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    elif isinstance(part, bytes):
        h.update(b"bytes|" + len(part).to_bytes(8, "little") + part)
    elif isinstance(part, str):
        b = part.encode("utf-8")
        h.update(b"str|" + len(b).to_bytes(8, "little") + b)
    elif isinstance(part, (list, tuple)) and part and all(isinstance(t, str) for t in part):
        h.update(f"texts|{len(part)}|".encode())  # long text lists: length-prefixed, no JSON copy
        for t in part:
            b = t.encode("utf-8")
            h.update(len(b).to_bytes(8, "little") + b)
    else:
        try:
            text = json.dumps(part, sort_keys=True, default=_json_default)
        except TypeError as err:
            raise TypeError(f"cannot build a cache key from a {type(part).__name__}: {err}") from err
        h.update(b"json|" + text.encode())


def _json_default(value: Any):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": value.dtype.str}
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def content_key(*parts: Any, length: int = KEY_LENGTH) -> str:
    """A hex key that changes whenever any part changes.

    Args:
        *parts: settings and inputs: str, bytes, numbers, None, dicts/lists of those (hashed as
            sorted JSON), lists of str, NumPy arrays (dtype, shape and values), pandas frames or
            series (values, not the index), scipy sparse matrices.
        length: hex characters to keep (at most 64).

    Returns:
        str: the key.

    Raises:
        TypeError: a part that cannot be hashed (e.g. an object array or an arbitrary class).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    h = hashlib.sha256()
    for part in parts:
        _feed(h, part)
        h.update(b"\x1e")  # part separator: ("ab", "c") and ("a", "bc") differ
    return h.hexdigest()[:length]


def entry(kind: str, name: str, key: str, suffix: str) -> Path:
    """Path of one cache entry: ``config.cache_dir(kind) / f"{name}-{key}{suffix}"``.

    Args:
        kind: sub-folder (``"embeddings"``, ``"models"``, ``"results"``, ...).
        name: readable prefix of the file name (no path separators).
        key: from :func:`content_key`.
        suffix: file type, e.g. ``".npy"``, ``".json"``, ``".keras"``.

    Returns:
        Path: the file (its folder exists; the file may not).

    Raises:
        ValueError: ``name`` contains a path separator.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    if "/" in name or os.sep in name:
        raise ValueError(f"cache entry names cannot contain path separators, got {name!r}")
    return config.cache_dir(kind) / f"{name}-{key}{suffix}"


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it into place.

    Args:
        path: the final file.
        write: writes the content to the path it is given.

    Returns:
        Path: ``path``.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_array(path: str | os.PathLike, arr: np.ndarray) -> Path:
    """Store an array as ``.npy`` atomically (no pickles).

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    arr = np.asarray(arr)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, arr, allow_pickle=False)

    return atomic_write(path, write)


def load_array(path: str | os.PathLike, shape: tuple | None = None, dtype=None) -> np.ndarray | None:
    """Read a cached array; ``None`` when missing, unreadable, or not of the expected shape/dtype.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if shape is not None and arr.shape != tuple(shape):
        return None
    if dtype is not None and arr.dtype != np.dtype(dtype):
        return None
    return arr


def save_json(path: str | os.PathLike, obj: Any) -> Path:
    """Store a JSON-able object atomically.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    text = json.dumps(obj, default=_json_default)
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def load_json(path: str | os.PathLike) -> Any | None:
    """Read a cached JSON object; ``None`` when missing or unreadable.

    Taught in notebooks/02_llm_text_representations.ipynb.
    """
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def save_keras(path: str | os.PathLike, model) -> Path:
    """Store a Keras model (``.keras`` file) atomically.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    return atomic_write(path, lambda tmp: model.save(tmp))


def load_keras(path: str | os.PathLike):
    """Read a cached Keras model (not compiled); ``None`` when missing or unreadable.

    Taught in notebooks/01_transfer_basics.ipynb.
    """
    import keras

    if not Path(path).is_file():
        return None
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError):
        return None


__all__ = ["KEY_LENGTH", "content_key", "entry", "atomic_write", "save_array", "load_array", "save_json",
           "load_json", "save_keras", "load_keras"]
