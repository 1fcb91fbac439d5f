"""translearn_lib.scale: shards + manifest (resume, broken shards), the Dask job on an in-process
cluster with a cheap deterministic encoder, FAISS indexes against exact search, serving, costs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from translearn_lib.scale import costs, index, shards
from translearn_lib.scale.catalogue import make_catalogue


class HashSpec:
    """A cheap deterministic encoder for tests: hashed character trigrams, L2-normalised."""

    dim = 16

    def describe(self):
        return "hash-trigrams-16", self.dim

    def load(self):
        dim = self.dim

        class Enc:
            @staticmethod
            def encode(texts):
                out = np.zeros((len(texts), dim), dtype=np.float32)
                for r, t in enumerate(texts):
                    for j in range(len(t) - 2):
                        out[r, sum(map(ord, t[j:j + 3])) % dim] += 1.0
                return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

        return Enc()


@pytest.fixture(autouse=True)
def one_faiss_thread():
    """One OpenMP thread: FAISS with two threads on a busy 2-core machine spins for ages."""
    with index.faiss_threads(1):
        yield


# Dask's scheduler always starts its HTTP endpoint (health, metrics) on a TCP port, even without a
# dashboard; the cluster tests therefore allow sockets to loopback only. Workers are threads of this
# process talking over inproc://, so nothing leaves the machine.
loopback_only = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture()
def client():
    from translearn_lib.scale.embed import local_client

    c = local_client(n_workers=2, processes=False, host="127.0.0.1")
    yield c
    c.close()
    c.cluster.close()


def test_catalogue_is_deterministic_and_extends():
    a = make_catalogue(900, seed=3)
    b = make_catalogue(1300, seed=3)
    assert list(a.columns) == ["item_id", "domain", "topic", "secondary_topic", "text"]
    assert a["text"].tolist() == b["text"].iloc[:900].tolist()  # a larger catalogue extends a smaller one
    assert a["item_id"].tolist() == list(range(900))
    assert a["text"].nunique() > 850
    with pytest.raises(ValueError, match="empty catalogue"):
        make_catalogue(0)


@loopback_only[0]
@loopback_only[1]
def test_embed_resume_new_items_and_broken_shards(client, tmp_path):
    from translearn_lib.scale.embed import embed_catalogue

    items = make_catalogue(250, seed=1)
    rep = embed_catalogue(items, tmp_path, client, spec=HashSpec(), shard_size=100, progress=False)
    assert (rep.n_shards, rep.computed, rep.skipped, rep.items_computed) == (3, [0, 1, 2], [], 250)
    ids, vecs = shards.load_embeddings(tmp_path)
    expected = HashSpec().load().encode(items["text"].tolist())
    np.testing.assert_array_equal(ids, items["item_id"].to_numpy())
    np.testing.assert_allclose(vecs, expected, atol=1e-6)
    assert sum(w["items"] for w in rep.per_worker.values()) == 250
    assert all(w["encoder_loads"] == 1 for w in rep.per_worker.values())  # loaded once per worker

    again = embed_catalogue(items, tmp_path, client, spec=HashSpec(), shard_size=100, progress=False)
    assert again.computed == [] and again.skipped == [0, 1, 2] and again.items_computed == 0

    grown = pd.concat([items, make_catalogue(120, seed=9, start_id=250)], ignore_index=True)
    rep = embed_catalogue(grown, tmp_path, client, spec=HashSpec(), shard_size=100, progress=False)
    assert rep.skipped == [0, 1] and rep.computed == [2, 3] and rep.new == [2, 3]  # only the changed tail
    assert len(shards.load_embeddings(tmp_path)[0]) == 370

    # a half-written shard (truncated) and a deleted one are detected ...
    path1 = tmp_path / shards.shard_name(1)
    path1.write_bytes(path1.read_bytes()[:200])
    (tmp_path / shards.shard_name(3)).unlink()
    with pytest.raises(shards.BrokenShardError, match=r"shard-00001.parquet in .* is broken"):
        shards.load_embeddings(tmp_path)
    with pytest.raises(shards.BrokenShardError, match=r"shard-00001.parquet: broken; shard-00003.parquet: missing"):
        embed_catalogue(grown, tmp_path, client, spec=HashSpec(), shard_size=100, on_broken="raise")
    # ... and redone by default
    rep = embed_catalogue(grown, tmp_path, client, spec=HashSpec(), shard_size=100, progress=False)
    assert rep.broken == [1] and rep.missing == [3] and rep.computed == [1, 3]
    np.testing.assert_allclose(shards.load_embeddings(tmp_path)[1],
                               HashSpec().load().encode(grown["text"].tolist()), atol=1e-6)


@loopback_only[0]
@loopback_only[1]
def test_embed_rejects_bad_catalogues(client, tmp_path):
    from translearn_lib.scale.embed import embed_catalogue

    with pytest.raises(ValueError, match="catalogue is empty"):
        embed_catalogue(pd.DataFrame({"item_id": [], "text": []}), tmp_path, client, spec=HashSpec())
    with pytest.raises(ValueError, match="duplicates"):
        embed_catalogue(pd.DataFrame({"item_id": [1, 1], "text": ["a", "b"]}), tmp_path, client, spec=HashSpec())
    with pytest.raises(ValueError, match="not strings"):
        embed_catalogue(pd.DataFrame({"item_id": [1, 2], "text": ["a", None]}), tmp_path, client, spec=HashSpec())
    items = make_catalogue(30)
    embed_catalogue(items, tmp_path, client, spec=HashSpec(), shard_size=10, progress=False)
    with pytest.raises(ValueError, match="shard_size=10"):
        embed_catalogue(items, tmp_path, client, spec=HashSpec(), shard_size=20)


def test_manifest_plan_without_a_cluster(tmp_path):
    ids, texts = list(range(5)), ["a", "b", "c", "d", "e"]
    plan, manifest = shards.plan_shards(tmp_path, ids, texts, 2, "m", 4)
    assert [(t.start, t.stop) for t in plan.tasks] == [(0, 2), (2, 4), (4, 5)] and plan.new == [0, 1, 2]
    t = plan.tasks[0]
    manifest["shards"]["0"] = shards.write_shard(t.path, ids[:2], np.ones((2, 4)), t.key)
    shards.write_manifest(tmp_path, manifest)
    plan, _ = shards.plan_shards(tmp_path, ids, texts, 2, "m", 4)
    assert plan.done == [0] and [t.index for t in plan.tasks] == [1, 2]
    plan, _ = shards.plan_shards(tmp_path, ids, ["A", "b", "c", "d", "e"], 2, "m", 4)  # edited text
    assert plan.new == [0, 1, 2]
    with pytest.raises(ValueError, match="model='m'"):
        shards.plan_shards(tmp_path, ids, texts, 2, "other-model", 4)
    (tmp_path / "manifest.json").write_text("{ half")
    with pytest.raises(shards.BrokenShardError, match="not valid JSON"):
        shards.plan_shards(tmp_path, ids, texts, 2, "m", 4)
    assert json.loads(json.dumps(manifest))["shard_size"] == 2


def test_recall_and_exact_top_k():
    assert index.recall_at_k(np.array([[1, 2, 3], [4, 5, 6]]), np.array([[3, 2, 9], [4, 5, 6]]), k=3) == pytest.approx(
        (2 / 3 + 1) / 2)
    assert index.recall_at_k(np.array([[-1, -1]]), np.array([[0, 1]]), k=2) == 0.0
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]], dtype=np.float32)
    s, ids = index.exact_top_k(x, np.array([[1.0, 0.2]]), k=2)
    np.testing.assert_array_equal(ids, [[0, 2]])
    np.testing.assert_allclose(s, [[1.0, 0.84]], atol=1e-6)


def test_indexes_against_exact_on_clustered_vectors():
    x = index.clustered_vectors(3000, dim=32, n_clusters=30, seed=0)
    q = index.clustered_vectors(50, dim=32, n_clusters=30, seed=1)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    flat = index.build_index(x, "flat")
    _, exact = index.exact_top_k(x, q, 10)
    np.testing.assert_array_equal(flat.search(q, 10)[1], exact)
    ivf_all = index.build_index(x, "ivf", nlist=20, nprobe=20)  # every cell probed: exact
    assert index.recall_at_k(ivf_all.search(q, 10)[1], exact) == 1.0
    ivf_one = index.build_index(x, "ivf", nlist=20, nprobe=1)
    assert index.recall_at_k(ivf_one.search(q, 10)[1], exact) < 1.0
    hnsw = index.build_index(x, "hnsw", M=16, ef_search=128)
    assert index.recall_at_k(hnsw.search(q, 10)[1], exact) > 0.95
    pq = index.build_index(x, "ivfpq", nlist=20, m=8, nprobe=20)
    assert flat.memory_bytes() >= 3000 * 32 * 4 and pq.memory_bytes() < flat.memory_bytes() / 2
    rows = index.compare_indexes(x, q, [{"kind": "ivf", "nlist": 20, "nprobes": [1, 20]}], k=10, n_single=10)
    assert [r["recall"] for r in rows][0] == 1.0 and rows[2]["recall"] == 1.0 and rows[1]["recall"] < 1.0


def test_clustered_vectors_are_not_isotropic():
    x = index.clustered_vectors(2000, dim=64, n_clusters=20, seed=0)
    g = np.random.default_rng(0).normal(size=(2000, 64))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    top = lambda v: np.sort(v[:200] @ v.T, axis=1)[:, -2].mean()  # nearest other vector
    assert top(x) > top(g) + 0.2


def test_index_errors():
    x = index.clustered_vectors(200, dim=16, n_clusters=4)
    flat = index.build_index(x, "flat")
    with pytest.raises(index.DimensionMismatchError, match="dimension 8 but the index holds 16"):
        flat.search(np.zeros((2, 8)), 5)
    with pytest.raises(ValueError, match="empty"):
        index.build_index(np.zeros((0, 16)), "flat")
    with pytest.raises(ValueError, match="kind must be one of"):
        index.build_index(x, "lsh")
    with pytest.raises(ValueError, match="only 200 vectors"):
        flat.search(x[:1], 500)
    with pytest.raises(ValueError, match="divisible"):
        index.build_index(x, "ivfpq", nlist=4, m=5)


def test_costs():
    assert costs.workers_needed(10_000_000, 1.0, 150.0) == 19  # 10 M / (3600 * 150) = 18.5
    assert costs.index_memory_bytes(1000, 384, "flat") == 1_536_000
    assert costs.index_memory_bytes(10_000, 384, "ivfpq", m=48, nlist=100) == 10_000 * 56 + 4 * 100 * 384 + 4 * 384 * 256
    small = index.clustered_vectors(4000, dim=32, n_clusters=10)
    for kind, kw in (("flat", {}), ("ivf", {"nlist": 50}), ("hnsw", {"M": 16})):
        real = index.build_index(small, kind, **kw).memory_bytes()
        assert abs(costs.index_memory_bytes(4000, 32, kind, nlist=50, M=16) - real) / real < 0.15


def test_serving_end_to_end():
    from translearn_lib.scale.serving import TextTwoTower, TwoTowerServer, hit_rate

    rng = np.random.default_rng(0)
    feats = index.clustered_vectors(300, dim=16, n_clusters=5)
    tower = TextTwoTower(rng.normal(size=(16, 8)).astype(np.float32), rng.normal(size=(16, 8)).astype(np.float32))
    server = TwoTowerServer(tower, np.arange(1000, 1300), feats, kind="flat")
    recs, t = server.recommend([1000, 1005], k=5)
    p = tower.user(feats[[0, 5]])
    scores = tower.items(feats) @ p
    scores[[0, 5]] = -np.inf
    np.testing.assert_array_equal(recs, 1000 + np.argsort(-scores, kind="stable")[:5])
    assert set(t) == {"tower_ms", "search_ms", "filter_ms", "total_ms"}
    new = index.clustered_vectors(3, dim=16, n_clusters=5, seed=5)
    server.add_items([2000, 2001, 2002], new)
    best_new = 2000 + int(np.argmax(tower.items(new) @ tower.user(new[:1])))
    recs, _ = server.recommend([1000], k=300)
    assert {2001, 2002} <= set(recs.tolist()) or best_new in recs
    _, summary = server.serve([[1000], [1001, 1002]], k=3)
    assert summary["requests"] == 2 and summary["total"]["p99_ms"] >= summary["total"]["p50_ms"]
    assert hit_rate([np.array([1, 2]), np.array([3, 4])], [2, 5]) == 0.5
    with pytest.raises(KeyError, match="not in the catalogue"):
        server.recommend([99999])
    with pytest.raises(ValueError, match="empty history"):
        server.recommend([])
    with pytest.raises(ValueError, match="already served"):
        server.add_items([1000], feats[:1])
    with pytest.raises(index.DimensionMismatchError):
        server.add_items([5000], np.zeros((1, 8)))
