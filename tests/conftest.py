"""Shared fixtures: every test runs offline, with a private cache folder."""

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """A fresh, empty course cache for one test."""
    monkeypatch.setenv("TRANSLEARN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def toy_ratings():
    """30 users × 20 items, 8 interactions each, ids not contiguous (to exercise indexing)."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(30):
        for j, i in enumerate(rng.choice(20, size=8, replace=False)):
            rows.append((100 + 3 * u, 1000 + 7 * int(i), int(rng.integers(1, 6)), 10_000 + 10 * u + j))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
