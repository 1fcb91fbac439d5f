"""Paths, seeds and the offline switch shared by every chapter.

Taught in notebooks/00_welcome.ipynb.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

#: Default seed used by every notebook, benchmark and test.
DEFAULT_SEED = 42

#: Column names used by every interaction frame in the course.
USER_COL = "user_id"
ITEM_COL = "item_id"
RATING_COL = "rating"
TIME_COL = "timestamp"

_CACHE_ENV = "TRANSLEARN_CACHE"
_OFFLINE_ENV = "TRANSLEARN_OFFLINE"
_TRUE = {"1", "true", "yes", "on"}


def cache_dir(*parts: str, create: bool = True) -> Path:
    """Return the course cache folder (or a sub-folder of it).

    The cache holds downloaded datasets and computed embeddings. It defaults to
    ``~/.cache/translearn`` and can be moved with the ``TRANSLEARN_CACHE`` environment variable.

    Args:
        *parts: optional sub-folder names, e.g. ``cache_dir("embeddings")``.
        create: create the folder if it does not exist.

    Returns:
        Path: the folder.

    Taught in notebooks/00_welcome.ipynb.
    """
    root = os.environ.get(_CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "translearn")
    path = Path(root).joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def is_offline() -> bool:
    """True when the course must not touch the network.

    Offline when ``TRANSLEARN_OFFLINE`` or Hugging Face's ``HF_HUB_OFFLINE`` is set to a true value.
    Every loader in the library checks this before trying an online source.

    Taught in notebooks/00_welcome.ipynb.
    """
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in (_OFFLINE_ENV, "HF_HUB_OFFLINE"))


def set_offline(offline: bool = True) -> None:
    """Switch the offline mode for this process.

    Sets ``TRANSLEARN_OFFLINE`` and ``HF_HUB_OFFLINE``, the variables every loader reads.

    Args:
        offline: True forbids downloads; False allows them again.

    Taught in notebooks/00_welcome.ipynb.
    """
    value = "1" if offline else "0"
    os.environ[_OFFLINE_ENV] = value
    os.environ["HF_HUB_OFFLINE"] = value


def set_seed(seed: int = DEFAULT_SEED, deterministic_ops: bool = True) -> int:
    """Fix the Python, NumPy and TensorFlow/Keras seeds (and TF op determinism).

    TensorFlow is only touched if it is already imported, so the function stays cheap for
    NumPy-only code; call it again after importing Keras if needed (``keras.utils.set_random_seed``
    covers Python, NumPy and the backend).

    Args:
        seed: the seed.
        deterministic_ops: also call ``tf.config.experimental.enable_op_determinism()``.

    Returns:
        int: the seed, for logging.

    Taught in notebooks/00_welcome.ipynb.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import sys

    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    if "tensorflow" in sys.modules and deterministic_ops:
        import tensorflow as tf

        try:
            tf.config.experimental.enable_op_determinism()
        except Exception:  # pragma: no cover - older TF
            pass
    return seed


def progress_bars_enabled() -> bool:
    """Whether long operations may draw progress bars (when the caller did not decide).

    Off when ``TRANSLEARN_PROGRESS`` is set to a false value, and during automated runs (pytest,
    nbval and ``scripts/run_notebooks.py`` set ``PYTEST_CURRENT_TEST``), so that saved and checked
    notebook outputs never depend on whether a cache happened to be warm.

    Returns:
        bool: True in an interactive session.

    Taught in notebooks/00_welcome.ipynb.
    """
    setting = os.environ.get("TRANSLEARN_PROGRESS", "").strip().lower()
    if setting in {"0", "false", "no", "off"}:
        return False
    return "PYTEST_CURRENT_TEST" not in os.environ
