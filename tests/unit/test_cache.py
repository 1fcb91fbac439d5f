"""translearn_lib.cache: content keys, atomic writes, loads that never return a broken entry."""

import os

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from translearn_lib import cache


def test_content_key_changes_with_every_part_and_type():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    base = cache.content_key("emb", {"pooling": "mean", "max_length": 128}, a)
    assert base == cache.content_key("emb", {"max_length": 128, "pooling": "mean"}, a.copy())  # dict order
    assert len(base) == cache.KEY_LENGTH
    changed = [
        cache.content_key("emb", {"pooling": "cls", "max_length": 128}, a),
        cache.content_key("emb", {"pooling": "mean", "max_length": 128}, a + 1e-6),
        cache.content_key("emb", {"pooling": "mean", "max_length": 128}, a.astype(np.float64)),
        cache.content_key("emb", {"pooling": "mean", "max_length": 128}, a.reshape(3, 2)),
    ]
    assert len({base, *changed}) == 5
    assert cache.content_key("1") != cache.content_key(1)
    assert cache.content_key("ab", "c") != cache.content_key("a", "bc")
    assert cache.content_key(["ab", "c"]) != cache.content_key(["a", "bc"])


def test_content_key_hashes_frames_and_sparse_by_value():
    df = pd.DataFrame({"user_id": [1, 2], "item_id": [3, 4]})
    assert cache.content_key(df) == cache.content_key(df.set_axis([10, 11]))  # index ignored
    assert cache.content_key(df) != cache.content_key(df.assign(item_id=[3, 5]))
    m = sp.csr_matrix(np.array([[0, 1.0], [2.0, 0]]))
    assert cache.content_key(m) == cache.content_key(sp.coo_matrix(m))
    assert cache.content_key(m) != cache.content_key(m * 2)
    with pytest.raises(TypeError, match="object arrays"):
        cache.content_key(np.array([object()]))
    with pytest.raises(TypeError, match="cannot build a cache key"):
        cache.content_key(object())


def test_array_json_round_trip_and_broken_entries(tmp_cache):
    path = cache.entry("embeddings", "minilm", cache.content_key("x"), ".npy")
    assert path.parent == tmp_cache / "embeddings" and path.name.startswith("minilm-")
    assert cache.load_array(path) is None  # missing
    arr = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    cache.save_array(path, arr)
    np.testing.assert_array_equal(cache.load_array(path, shape=(4, 3), dtype=np.float32), arr)
    assert cache.load_array(path, shape=(3, 4)) is None  # wrong shape: recompute
    assert cache.load_array(path, dtype=np.float64) is None
    path.write_bytes(b"not an npy file")
    assert cache.load_array(path) is None  # unreadable: recompute
    jpath = cache.entry("results", "run", "k", ".json")
    cache.save_json(jpath, {"ndcg": np.float32(0.5), "ok": True})
    assert cache.load_json(jpath) == {"ndcg": 0.5, "ok": True}
    jpath.write_text("{half")
    assert cache.load_json(jpath) is None
    assert not [p for p in tmp_cache.rglob(".tmp-*")]  # no temporary file left behind
    with pytest.raises(ValueError, match="separators"):
        cache.entry("results", "a/b", "k", ".json")


def test_atomic_write_leaves_old_entry_when_writer_fails(tmp_path):
    path = tmp_path / "entry.json"
    cache.save_json(path, {"v": 1})

    def broken(tmp):
        tmp.write_text("partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.atomic_write(path, broken)
    assert cache.load_json(path) == {"v": 1}
    assert os.listdir(tmp_path) == ["entry.json"]
