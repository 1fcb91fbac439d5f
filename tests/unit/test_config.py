import random

import numpy as np

from translearn_lib import config


def test_cache_dir_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSLEARN_CACHE", str(tmp_path / "c"))
    path = config.cache_dir("embeddings")
    assert path == tmp_path / "c" / "embeddings"
    assert path.is_dir()


def test_cache_dir_default_is_home(monkeypatch, tmp_path):
    monkeypatch.delenv("TRANSLEARN_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.cache_dir(create=False) == tmp_path / ".cache" / "translearn"


def test_offline_switch(monkeypatch):
    monkeypatch.delenv("TRANSLEARN_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert not config.is_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert config.is_offline()
    config.set_offline(False)
    assert not config.is_offline()
    config.set_offline(True)
    assert config.is_offline()


def test_set_seed_repeats_python_and_numpy():
    config.set_seed(7)
    a = (random.random(), np.random.rand())
    config.set_seed(7)
    assert (random.random(), np.random.rand()) == a


def test_set_seed_rejects_negative():
    import pytest

    with pytest.raises(ValueError, match="non-negative"):
        config.set_seed(-1)


def test_progress_bars_off_in_automated_runs(monkeypatch):
    monkeypatch.delenv("TRANSLEARN_PROGRESS", raising=False)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")
    assert config.progress_bars_enabled() is False
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert config.progress_bars_enabled() is True
    monkeypatch.setenv("TRANSLEARN_PROGRESS", "off")
    assert config.progress_bars_enabled() is False
