"""What this machine offers the course: versions, hardware, network mode, model and data sources.

Taught in notebooks/00_welcome.ipynb.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path

import pandas as pd

from translearn_lib import config

_PACKAGES = ("tensorflow", "keras", "keras-hub", "transformers", "numpy", "pandas", "scikit-learn",
             "jupyterlab")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed — run `make setup`"


def display_path(path) -> str:
    """A path as a reader may see it in a shared notebook: no user name, no machine layout.

    Inside the Python environment it becomes ``<python env>/...``, under the home folder ``~/...``;
    anything else keeps only its last two parts.

    Taught in notebooks/00_welcome.ipynb.
    """
    path = Path(path).resolve()
    for root, label in ((Path(sys.prefix).resolve(), "<python env>"), (Path.home().resolve(), "~")):
        if path == root or root in path.parents:
            return str(Path(label) / path.relative_to(root)).replace("site-packages", "packages")
    return str(Path("...", *path.parts[-2:]))


def _text_model_status() -> str:
    from translearn_lib.encoders import text
    try:
        encoder = text.load_text_encoder("minilm")
    except Exception as err:  # report, never crash the check
        return f"missing: {err}"
    return f"all-MiniLM-L6-v2 ({encoder.dim} dims), weights sha256 verified, from {display_path(encoder.path)}"


def _movielens_status() -> str:
    from translearn_lib.datasets import load_movielens_100k

    try:
        return load_movielens_100k().source
    except Exception as err:
        return f"missing: {err}"


def _accelerators() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else "none: CPU only (every chapter is sized for a CPU)"


def environment_report() -> pd.DataFrame:
    """A two-column table describing what the course found on this machine.

    Never raises for a missing model or dataset: the row says what is missing and how to fix it.

    Returns:
        pandas.DataFrame: columns ``item`` and ``value``.

    Taught in notebooks/00_welcome.ipynb.
    """
    rows = [("Python", platform.python_version())]
    rows += [(name, _version(name)) for name in _PACKAGES]
    rows += [
        ("Keras backend", os.environ.get("KERAS_BACKEND", "tensorflow")),
        ("CPU cores", str(os.cpu_count())),
        ("accelerators", _accelerators()),
        ("network", "offline (no downloads)" if config.is_offline() else "online allowed"),
        ("cache folder", display_path(config.cache_dir())),
        ("default text model", _text_model_status()),
        ("MovieLens-100K", _movielens_status()),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
