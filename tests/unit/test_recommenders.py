"""Unit tests for translearn_lib.recommenders on tiny synthetic data (values, not just "runs")."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from translearn_lib import metrics
from translearn_lib.recommenders import (
    BPR, EASE, ItemKNN, Popularity, Recommender, TextEASE, TextOnly, TwoTower, align_item_features, recommend_titles,
    ease_weights, evaluate, sample_negatives,
)
from translearn_lib.splits import Split, random_split


def block_ratings(n_users=80, n_blocks=4, items_per_block=15, p=0.7, seed=0):
    """Users of block b interact (with probability p) only with the items of block b."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        b = u % n_blocks
        items = np.arange(b * items_per_block, (b + 1) * items_per_block)
        for i in items[rng.random(items.size) < p]:
            rows.append((u, int(i), 5.0, 0))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


@pytest.fixture(scope="module")
def block_split():
    return random_split(block_ratings(), seed=1)


def split_from_matrix(train, test=None):
    """A Split whose train (and test) parts are given as dense 0/1 matrices."""
    def frame(m):
        u, i = np.nonzero(np.asarray(m))
        return pd.DataFrame({"user": u, "item": i, "user_id": u, "item_id": i})
    train = np.asarray(train)
    test = np.zeros_like(train) if test is None else np.asarray(test)
    return Split.from_frames(frame(train), frame(np.zeros_like(train)), frame(test), *train.shape)


def random_ndcg(split, k=10):
    """Expected NDCG@k of a random ranking, estimated with many random score matrices."""
    rng = np.random.default_rng(0)
    truth, seen = split.matrix("test"), split.seen("test")
    users = np.flatnonzero(np.diff(truth.indptr))
    vals = [metrics.ranking_metrics(rng.random((users.size, split.n_items)), truth[users], k, seen[users])["ndcg"]
            for _ in range(20)]
    return float(np.mean(vals))


# -- Popularity ---------------------------------------------------------------------------------
def test_popularity_ranks_by_count_and_masks_seen():
    X = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 1, 0]])
    model = Popularity().fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(model.score([0]), [[3, 1, 3, 0]])
    np.testing.assert_array_equal(model.recommend([3], k=3), [[0, 1, 3]])  # item 2 is seen
    np.testing.assert_array_equal(model.recommend([3], k=2, exclude_seen=False), [[0, 2]])


# -- EASE ---------------------------------------------------------------------------------------
def test_ease_matches_columnwise_ridge_with_zero_diagonal():
    rng = np.random.default_rng(3)
    X = (rng.random((30, 7)) < 0.4).astype(float)
    lam = 2.5
    B = ease_weights(sp.csr_matrix(X), lam)
    G = X.T @ X
    for j in range(7):  # independent computation: ridge regression of column j on the others
        others = [i for i in range(7) if i != j]
        b = np.linalg.solve(G[np.ix_(others, others)] + lam * np.eye(6), G[others, j])
        np.testing.assert_allclose(B[others, j], b, rtol=1e-8, atol=1e-10)
        assert B[j, j] == 0.0
    model = EASE(lam=lam).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(model.score([0, 5]), X[[0, 5]] @ B, rtol=1e-5, atol=1e-6)


def test_text_ease_with_alpha_zero_is_ease_and_text_changes_weights():
    rng = np.random.default_rng(4)
    X = sp.csr_matrix((rng.random((25, 6)) < 0.5).astype(float))
    F = rng.normal(size=(6, 3))
    plain = EASE(lam=3.0).fit(X).weights_
    np.testing.assert_allclose(TextEASE(F, lam=3.0, alpha=0.0).fit(X).weights_, plain, rtol=1e-6)
    assert np.abs(TextEASE(F, lam=3.0, alpha=2.0).fit(X).weights_ - plain).max() > 1e-3


# -- ItemKNN ------------------------------------------------------------------------------------
def test_itemknn_cosine_with_shrink_and_topk():
    X = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=float)
    model = ItemKNN(k=2, shrink=1.0).fit(sp.csr_matrix(X))
    # items 0 and 1 share 2 users; |x0| = sqrt(3), |x1| = sqrt(3)
    assert model.similarity_[0, 1] == pytest.approx(2 / (3 + 1.0))
    assert np.all(np.diag(model.similarity_) == 0)
    one = ItemKNN(k=1).fit(sp.csr_matrix(X))
    assert np.all((one.similarity_ > 0).sum(axis=0) <= 1)  # one neighbour per item
    np.testing.assert_allclose(model.score([3]), X[[3]] @ model.similarity_, rtol=1e-6)


# -- TextOnly -----------------------------------------------------------------------------------
def test_text_only_solves_the_ridge_normal_equations():
    rng = np.random.default_rng(5)
    X = (rng.random((20, 8)) < 0.4).astype(float)
    F = rng.normal(size=(8, 3))
    lam = 0.7
    model = TextOnly(F, lam=lam, center=False).fit(sp.csr_matrix(X))
    A = X @ F
    # vec(A W F^T) = (F kron A) vec(W) with column-major vec
    K = np.kron(F, A)
    w = np.linalg.solve(K.T @ K + lam * np.eye(9), K.T @ X.reshape(-1, order="F"))
    W = w.reshape(3, 3, order="F")
    np.testing.assert_allclose(model.W_, W, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.score([2]), A[[2]] @ W @ F.T, rtol=1e-4, atol=1e-5)


def test_text_only_scores_an_item_nobody_has_seen():
    ratings = block_ratings(n_users=40, n_blocks=2, items_per_block=6, p=0.9)
    X = sp.csr_matrix((np.ones(len(ratings)), (ratings.user_id, ratings.item_id)), shape=(40, 13))
    F = np.zeros((13, 2))
    F[:6, 0] = F[6:12, 1] = 1.0
    F[12, 0] = 1.0  # a brand-new item whose text looks like block 0
    model = TextOnly(F, lam=1.0, center=False).fit(X)
    s = model.score(np.arange(40))
    assert np.all(s[0::2, 12] > s[0::2, 6:12].max(axis=1))  # block-0 users: new item beats block 1
    assert np.all(s[1::2, 12] < s[1::2, 6:12].min(axis=1))


# -- sampling, BPR and the two-tower model ------------------------------------------------------
def test_sample_negatives_never_returns_a_positive():
    X = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1]]))
    users = np.repeat([0, 1], 500)
    neg = sample_negatives(X, users, np.random.default_rng(0))
    assert set(neg[:500]) == {3, 4} and set(neg[500:]) == {0, 2}


def test_bpr_learns_planted_blocks_and_is_seeded(block_split):
    kw = dict(dim=8, epochs=40, batch_size=128, lr=0.02, seed=7)
    model = BPR(**kw).fit(block_split)
    result = evaluate(model, block_split, k=10)
    base = random_ndcg(block_split)
    assert result["ndcg"] > 0.6 and result["ndcg"] > 2.5 * base, (result, base)
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    again = BPR(**kw).fit(block_split)
    np.testing.assert_allclose(again.score([0, 1]), model.score([0, 1]), rtol=1e-5, atol=1e-6)


def test_two_tower_uses_text_for_items_without_ids(block_split):
    n_items = block_split.n_items
    # text features: a one-hot of the item's block (items are indexed 0..59, 15 per block)
    block_of = block_split.item_ids // 15
    F = np.eye(4)[block_of]
    model = TwoTower(F, dim=8, use_item_ids=False, epochs=30, batch_size=128, lr=0.02, seed=3).fit(block_split)
    s = model.score(np.arange(block_split.n_users))
    user_block = block_split.user_ids % 4
    same = s[np.arange(s.shape[0])[:, None], np.arange(n_items)[None, :]][user_block[:, None] == block_of[None, :]]
    other = s[user_block[:, None] != block_of[None, :]]
    assert same.mean() > other.mean() + 1.0
    hybrid = TwoTower(F, dim=8, user_history=True, epochs=30, batch_size=128, lr=0.02, seed=3).fit(block_split)
    assert evaluate(hybrid, block_split)["ndcg"] > 2.5 * random_ndcg(block_split)


# -- evaluate -----------------------------------------------------------------------------------
class Fixed(Recommender):
    """Test double: returns a fixed score matrix."""

    def __init__(self, scores):
        super().__init__()
        self.scores = np.asarray(scores, dtype=float)

    def _fit(self, X, data):
        pass

    def _score(self, users):
        return self.scores[users]


def test_evaluate_masks_seen_items_and_batches_exactly():
    train = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]])
    test = np.array([[0, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    split = split_from_matrix(train, test)
    # training items get the highest scores, the test item comes right after
    scores = 10 * train + 5 * test + np.arange(5)[None, :] * 0.01
    model = Fixed(scores).fit(split)
    r = evaluate(model, split, k=1)
    assert r["ndcg"] == 1.0 and r["recall"] == 1.0 and r["n_users"] == 2  # user 2 has no test item
    unmasked = metrics.ranking_metrics(scores[:2], sp.csr_matrix(test[:2]), k=1)
    assert unmasked["ndcg"] == 0.0  # without the mask the seen items would win
    rng = np.random.default_rng(0)
    big = split_from_matrix((rng.random((50, 9)) < 0.3).astype(int), (rng.random((50, 9)) < 0.2).astype(int))
    noisy = Fixed(rng.random((50, 9))).fit(big)
    a, b = evaluate(noisy, big, k=3, batch_size=7), evaluate(noisy, big, k=3, batch_size=1000)
    assert a == pytest.approx(b)


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors(block_split):
    model = Popularity()
    with pytest.raises(RuntimeError, match="fit"):
        model.recommend([0])
    with pytest.raises(ValueError, match="empty"):
        model.fit(sp.csr_matrix((3, 4)))
    with pytest.raises(ValueError, match="empty"):
        model.fit(sp.csr_matrix((0, 4)))
    model.fit(block_split)
    with pytest.raises(ValueError, match="unknown user index 80"):
        model.recommend([0, 80])
    with pytest.raises(ValueError, match="unknown user index -1"):
        model.score([-1])
    for k in (0, -3, block_split.n_items + 1):
        with pytest.raises(ValueError, match="k"):
            model.recommend([0], k=k)
        with pytest.raises(ValueError, match="k"):
            evaluate(model, block_split, k=k)
    with pytest.raises(ValueError, match="part"):
        evaluate(model, block_split, part="train")
    with pytest.raises(ValueError, match="items"):
        TextOnly(np.ones((3, 2))).fit(block_split)
    with pytest.raises(ValueError, match="positive"):
        EASE(lam=0)
    assert model.recommend([0], k=block_split.n_items).shape == (1, block_split.n_items)


def test_align_item_features_reorders_and_reports_missing(block_split):
    ids = block_split.item_ids[::-1]
    feats = np.arange(len(ids))[:, None].astype(float)
    out = align_item_features(block_split, ids, feats)
    np.testing.assert_array_equal(out[:, 0], np.arange(len(ids))[::-1])
    with pytest.raises(ValueError, match="no features"):
        align_item_features(block_split, ids[1:], feats[1:])


def test_two_tower_softmax_with_history_learns_blocks_and_is_seeded(block_split):
    """The chapter's Hybrid path: full softmax, history-aware user tower, ID + text item tower."""
    F = np.eye(4)[block_split.item_ids // 15]
    kw = dict(dim=8, user_history=True, loss="softmax", epochs=15, batch_size=128, lr=0.02, seed=5)
    model = TwoTower(F, **kw).fit(block_split)
    assert evaluate(model, block_split)["ndcg"] > 2.5 * random_ndcg(block_split)
    again = TwoTower(F, **kw).fit(block_split)
    np.testing.assert_allclose(model.score([0, 1]), again.score([0, 1]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="loss"):
        TwoTower(F, loss="hinge")
    for removed in ("use_user_ids", "history_dropout", "separate_history"):  # tried, not adopted: gone
        with pytest.raises(TypeError):
            TwoTower(F, **{removed: False})


def test_run_comparison_table_and_cache(tmp_path, monkeypatch):
    from translearn_lib.experiments.comparison import ModelSpec, markdown_table, run_comparison, summarize

    monkeypatch.setenv("TRANSLEARN_CACHE", str(tmp_path))
    ratings = block_ratings(n_users=40)
    ids = np.arange(60)
    F = np.eye(4)[ids // 15]
    specs = {"Pop": ModelSpec("Pop", lambda p, F, s: Popularity()),
             "EASE": ModelSpec("EASE", lambda p, F, s: EASE(**p), [{"lam": 1.0}, {"lam": 1e4}])}
    res = run_comparison(ratings, ids, F, seeds=[1, 2], specs=specs, log=None)
    assert list(res["model"]) == ["Pop", "EASE", "Pop", "EASE"] and not res["cached"].any()
    # one entry per (candidate, seed) in the course cache, written atomically (no temporary file left)
    entries = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(entries) == 6 and all(n.startswith(("ml100k-Pop-", "ml100k-EASE-")) for n in entries)
    assert [m for m in metrics.METRICS if m in res.columns] == list(metrics.METRICS)
    # each candidate is cached on its own: single-candidate specs read the grid's results back
    for lam in (1.0, 1e4):
        one = {"EASE": ModelSpec("EASE", lambda p, F, s: EASE(**p), [{"lam": lam}])}
        alone = run_comparison(ratings, ids, F, seeds=[1, 2], specs=one, log=None)
        assert alone["cached"].all()
        assert (res[res.model == "EASE"]["valid_ndcg"].to_numpy() >= alone["valid_ndcg"].to_numpy()).all()
    assert (res[res.model == "EASE"]["ndcg"].to_numpy() > res[res.model == "Pop"]["ndcg"].to_numpy()).all()
    again = run_comparison(ratings, ids, F, seeds=[1, 2], specs=specs, log=None)
    assert again["cached"].all() and np.allclose(again["ndcg"], res["ndcg"])
    s = summarize(res)
    assert s.loc["EASE", "ndcg_mean"] == pytest.approx(res[res.model == "EASE"]["ndcg"].mean())
    table = markdown_table(res)
    assert table.splitlines()[0].startswith("| model | Recall@10 | NDCG@10") and "±" in table
    with pytest.raises(ValueError, match="unknown model"):
        run_comparison(ratings, ids, F, models=["Nope"], specs=specs, log=None)


def test_run_comparison_prefit_is_used_and_checked():
    from translearn_lib.experiments.comparison import ModelSpec, run_comparison
    from translearn_lib.splits import random_split

    ratings = block_ratings(n_users=40)
    ids = np.arange(60)
    F = np.eye(4)[ids // 15]
    specs = {"EASE": ModelSpec("EASE", lambda p, F, s: EASE(**p), [{"lam": 10.0}])}
    trained = run_comparison(ratings, ids, F, seeds=[1], specs=specs, cache=False, log=None)
    prefit = EASE(lam=10.0).fit(random_split(ratings, seed=1))
    reused = run_comparison(ratings, ids, F, seeds=[1], specs=specs, cache=False, log=None, prefit={"EASE": prefit})
    assert reused["ndcg"].tolist() == pytest.approx(trained["ndcg"].tolist())
    assert reused["fit_s"].iloc[0] == pytest.approx(prefit.fit_seconds_)  # the handed-over model, not a new fit
    with pytest.raises(ValueError, match="was not fitted on random_split"):
        run_comparison(ratings, ids, F, seeds=[1], specs=specs, cache=False, log=None,
                       prefit={"EASE": EASE(lam=10.0).fit(random_split(ratings, seed=2))})
    with pytest.raises(ValueError, match="one seed"):
        run_comparison(ratings, ids, F, seeds=[1, 2], specs=specs, cache=False, log=None, prefit={"EASE": prefit})


def test_cache_key_covers_fixed_settings_and_feature_values(tmp_path, monkeypatch):
    from translearn_lib.experiments.comparison import ModelSpec, candidate_key, default_specs, run_comparison

    monkeypatch.setenv("TRANSLEARN_CACHE", str(tmp_path))
    ratings = block_ratings(n_users=40)
    ids = np.arange(60)
    F = np.eye(4)[ids // 15]

    def spec(lam):  # settings only in `fixed`, grid=[{}]: the BPR/Hybrid pattern of default_specs
        return {"EASE": ModelSpec("EASE", lambda p, F, s: EASE(**p), fixed={"lam": lam})}

    first = run_comparison(ratings, ids, F, seeds=[1], specs=spec(1.0), log=None)
    assert not first["cached"].any()
    assert run_comparison(ratings, ids, F, seeds=[1], specs=spec(1.0), log=None)["cached"].all()
    changed = run_comparison(ratings, ids, F, seeds=[1], specs=spec(1e4), log=None)
    assert not changed["cached"].any(), "a changed fixed setting must miss the cache"
    assert changed["ndcg"].iloc[0] != pytest.approx(first["ndcg"].iloc[0])  # really retrained with lam=1e4
    # the real rows: changing e.g. BPR's epochs changes its key
    bpr = default_specs()["BPR"]
    key = candidate_key("BPR", bpr.settings({}), 42, 10, ratings, None)
    assert candidate_key("BPR", bpr.settings({}), 42, 10, ratings, None) == key  # deterministic
    bpr.fixed["epochs"] += 1
    assert candidate_key("BPR", bpr.settings({}), 42, 10, ratings, None) != key
    assert default_specs()["TextOnly"].settings({"lam": 1.0}) == {"center": False, "lam": 1.0}
    # features enter by value (another text model / pooling / max_length changes them), row order does not
    perm = np.random.default_rng(0).permutation(60)
    base = candidate_key("TextEASE", {"lam": 1.0}, 1, 10, ratings, F, ids)
    assert candidate_key("TextEASE", {"lam": 1.0}, 1, 10, ratings, F[perm], ids[perm]) == base
    assert candidate_key("TextEASE", {"lam": 1.0}, 1, 10, ratings, F + 1e-3, ids) != base
    # ... and so do the model name, the seed, k and the ratings
    other_ratings = ratings.assign(item_id=np.roll(ratings["item_id"].to_numpy(), 1))
    assert len({base, candidate_key("EASE", {"lam": 1.0}, 1, 10, ratings, F, ids),
                candidate_key("TextEASE", {"lam": 1.0}, 2, 10, ratings, F, ids),
                candidate_key("TextEASE", {"lam": 1.0}, 1, 5, ratings, F, ids),
                candidate_key("TextEASE", {"lam": 1.0}, 1, 10, other_ratings, F, ids)}) == 5


def test_unfitted_models_raise_runtime_error_everywhere():
    from translearn_lib.experiments.comparison import ModelSpec, run_comparison

    ratings = block_ratings(n_users=40)
    ids = np.arange(60)
    F = np.eye(4)[ids // 15]
    specs = {"EASE": ModelSpec("EASE", lambda p, F, s: EASE(**p), [{"lam": 10.0}])}
    with pytest.raises(RuntimeError, match="not fitted"):
        run_comparison(ratings, ids, F, seeds=[1], specs=specs, cache=False, log=None, prefit={"EASE": EASE(lam=10.0)})
    with pytest.raises(RuntimeError, match="not fitted"):
        EASE().recommend([0])


def test_recommend_titles_marks_held_out_items(block_split):
    items = pd.DataFrame({"item_id": block_split.item_ids, "title": [f"film {i}" for i in block_split.item_ids],
                          "genres": [["Drama"]] * block_split.n_items})
    model = EASE(lam=1.0).fit(block_split)
    user_id = block_split.user_ids[0]
    out = recommend_titles(model, block_split, items, user_id, k=5)
    test_items = set(block_split.test.query("user == 0")["item_id"])
    assert list(out["rank"]) == [1, 2, 3, 4, 5]
    assert out["held_out"].tolist() == [int(t.split()[1]) in test_items for t in out["title"]]
    seen = set(block_split.train.query("user == 0")["item_id"]) | set(block_split.valid.query("user == 0")["item_id"])
    assert not any(int(t.split()[1]) in seen for t in out["title"])
    with pytest.raises(ValueError, match="unknown user_id"):
        recommend_titles(model, block_split, items, 10_000)


class _TinyEncoder:
    """Stand-in for translearn_lib.encoders.text.TextEncoder: a 2-layer random KerasHub BERT, fake tokens."""

    def __init__(self):
        import keras_hub

        self.backbone = keras_hub.models.BertBackbone(vocabulary_size=40, num_layers=2, num_heads=2, hidden_dim=16,
                                                      intermediate_dim=32, max_sequence_length=12)
        self.dim, self.identity = 16, "tiny"

    def tokenize(self, texts, max_length=12):
        ids = [[1] + [2 + (ord(c) % 37) for c in t][: max_length - 2] + [3] for t in texts]
        width = max(len(i) for i in ids)
        tok = np.zeros((len(ids), width), dtype="int32")
        for row, seq in enumerate(ids):
            tok[row, : len(seq)] = seq
        mask = np.arange(width)[None, :] < np.array([len(i) for i in ids])[:, None]
        return {"token_ids": tok, "padding_mask": mask, "segment_ids": np.zeros_like(tok)}


def test_bert_tower_pieces_reproduce_the_frozen_top_layer():
    import keras

    from translearn_lib.encoders._kerashub import transformer_layers
    from translearn_lib.recommenders.bert_tower import _ffn_copy, cached_top_inputs

    keras.utils.set_random_seed(0)
    enc = _TinyEncoder()
    texts = ["ab", "hello world", "x", "a longer title here"]
    r, mask = cached_top_inputs(enc, texts, max_length=12)  # raises if the layer split is wrong
    assert r.shape == (4, mask.shape[1], 16) and mask.sum(axis=1).tolist() == [4, 12, 3, 12]
    top = transformer_layers(enc.backbone)[-1]
    full = keras.Model(enc.backbone.inputs, top.output).predict_on_batch(enc.tokenize(texts))
    block = _ffn_copy(top, 16, lr_scale=0.05)
    np.testing.assert_allclose(np.asarray(block(r))[mask], np.asarray(full)[mask], atol=1e-4)
    assert all(not w.trainable for w in block.non_trainable_weights) and len(block.trainable_weights) == 6
    # a trainable delta moves the weight by lr_scale * delta
    block.delta[1].assign(np.ones(32, "float32"))
    assert not np.allclose(np.asarray(block(r))[mask], np.asarray(full)[mask], atol=1e-4)


def test_lora_top_layer_starts_as_the_frozen_layer_and_leaves_the_original_alone():
    import keras

    from translearn_lib.encoders import _kerashub
    from translearn_lib.recommenders.bert_tower import cached_top_inputs

    keras.utils.set_random_seed(0)
    enc = _TinyEncoder()
    r, mask = cached_top_inputs(enc, ["ab", "hello world"], max_length=12)
    top = _kerashub.transformer_layers(enc.backbone)[-1]
    before = [w.copy() for w in enc.backbone.get_weights()]
    layer, variables = _kerashub.lora_top_layer(enc.backbone, 2)
    # rank 2 on W1 (16 -> 32) and W2 (32 -> 16): A and B of each
    assert sorted(tuple(v.shape) for v in variables) == sorted([(16, 2), (2, 32), (32, 2), (2, 16)])
    np.testing.assert_allclose(np.asarray(_kerashub.feedforward_sub_block(layer, r))[mask],
                               np.asarray(_kerashub.feedforward_sub_block(top, r))[mask], atol=1e-5)  # B = 0
    variables[1].assign(np.ones((2, 32), "float32"))  # a non-zero adapter changes the copy only
    assert not np.allclose(np.asarray(_kerashub.feedforward_sub_block(layer, r))[mask],
                           np.asarray(_kerashub.feedforward_sub_block(top, r))[mask], atol=1e-4)
    assert all(np.array_equal(a, b) for a, b in zip(before, enc.backbone.get_weights()))
    with pytest.raises(ValueError, match="rank"):
        _kerashub.lora_top_layer(enc.backbone, 0)


def test_finetune_experiment_runs_every_arm_from_one_start(tmp_cache):
    from translearn_lib.recommenders.bert_tower import finetune_experiment

    enc = _TinyEncoder()
    split = random_split(block_ratings(n_users=40), seed=1)
    texts = [f"film {i} block {i // 15}" for i in range(split.n_items)]
    kw = dict(warm_epochs=3, warm_patience=1, max_epochs=2, patience=1, batch_size=256, warm_batch_size=256,
              lora_rank=2, max_length=12, k=5, seed=3)
    out = finetune_experiment(enc, texts, split, **kw)
    assert not out["cached"]
    for arm in ("frozen", "ffn", "lora"):
        r = out[arm]
        assert r["curve"][0] == pytest.approx(out["start"]["valid"])  # every arm starts at the frozen start
        assert r["valid"] == pytest.approx(max(r["curve"])) and r["epoch"] == int(np.argmax(r["curve"]))
        assert 1 <= r["epochs_run"] <= 2 and len(r["curve"]) == r["epochs_run"] + 1
    assert out["frozen"]["trainable_bert_params"] == 0
    assert out["ffn"]["trainable_bert_params"] == 16 * 32 + 32 + 32 * 16 + 16 + 16 + 16
    assert out["lora"]["trainable_bert_params"] == 2 * (16 * 2 + 2 * 32)
    again = finetune_experiment(enc, texts, split, **kw)
    assert again["cached"] and again["ffn"]["curve"] == out["ffn"]["curve"]
    with pytest.raises(ValueError, match="unknown arm"):
        finetune_experiment(enc, texts, split, arms=("frozen", "full"), **kw)
    with pytest.raises(ValueError, match="positive"):
        finetune_experiment(enc, texts, split, **{**kw, "max_epochs": 0})


def test_base_classes_are_abstract():
    from translearn_lib.recommenders import Recommender

    with pytest.raises(TypeError, match="abstract"):
        Recommender()


def test_evaluate_scores_with_explicit_users_and_small_batches():
    from translearn_lib.recommenders import evaluate_scores

    train = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]])
    test = np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    split = split_from_matrix(train, test)
    scores = np.tile(np.arange(5, 0, -1, dtype=float), (3, 1))  # everyone ranks item 0 first
    score = lambda users: scores[np.asarray(users)]  # noqa: E731
    full = evaluate_scores(score, split, k=2, batch_size=1)
    # user 0: items 0, 1 masked -> top-2 = [2, 3], hit at rank 1; user 1: top-2 = [0, 1], miss
    assert full["n_users"] == 2 and full["hit"] == 0.5 and full["ndcg"] == 0.5
    only_user0 = evaluate_scores(score, split, k=2, users=[2, 0])  # user 2 has no test item
    assert only_user0["n_users"] == 1 and only_user0["ndcg"] == 1.0
    with pytest.raises(ValueError, match="none of the requested users"):
        evaluate_scores(score, split, k=2, users=[2])
    with pytest.raises(ValueError, match="'valid' or 'test'"):
        evaluate_scores(score, split, k=2, part="train")


# -- one top-k: what a user is shown is what was evaluated ----------------------------------------
def test_recommend_returns_what_metrics_topk_ranks_on_tied_and_random_scores():
    rng = np.random.default_rng(11)
    n_users, n_items = 30, 1200
    X = (rng.random((n_users, n_items)) < 0.02).astype(float)
    X[0] = 0.0  # a user with no training history: EASE gives an all-zero (fully tied) score row
    X[1, :5] = 1.0  # ties at the boundary once the first items are masked
    X = sp.csr_matrix(X)
    seen = sp.csr_matrix((rng.random((n_users, n_items)) < 0.05).astype(float))
    users = np.arange(n_users)
    ease = EASE(lam=5.0).fit(X)
    constant = Fixed(np.full((n_users, n_items), 0.5)).fit(X)
    noisy = Fixed(rng.random((n_users, n_items))).fit(X)
    for model in (ease, constant, noisy):
        scores = model.score(users)
        for exclude_seen, exclude in ((False, None), (True, X), (seen, seen)):
            for k in (1, 10, 37):
                got = model.recommend(users, k=k, exclude_seen=exclude_seen)
                np.testing.assert_array_equal(got, metrics.topk(scores, k, exclude=exclude))
    # the documented tie-break: the lower item index first
    np.testing.assert_array_equal(ease.recommend([0], k=5, exclude_seen=False), [[0, 1, 2, 3, 4]])
    mask_0_and_2 = sp.csr_matrix(([1.0, 1.0], ([0, 0], [0, 2])), shape=(n_users, n_items))
    np.testing.assert_array_equal(ease.recommend([0], k=3, exclude_seen=mask_0_and_2), [[1, 3, 4]])
    unseen = np.setdiff1d(np.arange(n_items), X[1].indices)  # items 0..4 (and a few more) are seen
    np.testing.assert_array_equal(constant.recommend([1], k=3), [unseen[:3]])


# -- KerasHub internals: one module, loud when they change --------------------------------------------
def test_kerashub_internals_are_read_in_one_module_only():
    from pathlib import Path

    import translearn_lib

    root = Path(translearn_lib.__file__).parent
    private = ("_self_attention_layer", "_feedforward_intermediate_dense", "_feedforward_output_dense",
               "_feedforward_layer_norm", "normalize_first", "transformer_layer_")
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name != "_kerashub.py" and any(name in path.read_text() for name in private)]
    assert offenders == []


def test_kerashub_self_check_fails_loudly_with_the_version():
    import keras
    import keras_hub

    from translearn_lib.encoders import _kerashub

    keras.utils.set_random_seed(0)
    enc = _TinyEncoder()
    top = _kerashub.transformer_layers(enc.backbone)[-1]
    lower = keras.Model(enc.backbone.inputs, _kerashub.transformer_layers(enc.backbone)[-2].output)
    tok = enc.tokenize(["ab", "hello world"])
    h, m = lower.predict_on_batch(tok), tok["padding_mask"]
    r = _kerashub.attention_sub_block(top, h, m)
    _kerashub.check_layer_split(top, h, m, r)  # today's KerasHub: the split is exact
    with pytest.raises(_kerashub.KerasHubInternalsError, match=f"KerasHub {keras_hub.__version__}.*differ"):
        _kerashub.check_layer_split(top, h, m, np.asarray(r) + 1.0)  # as if the sub-blocks had changed

    class Renamed:  # a layer whose private attributes were renamed in a KerasHub upgrade
        name = "transformer_layer_5"
        normalize_first = False

    with pytest.raises(_kerashub.KerasHubInternalsError, match=f"KerasHub {keras_hub.__version__}"):
        _kerashub.feedforward_parts(Renamed())
    with pytest.raises(_kerashub.KerasHubInternalsError, match="transformer_layer_"):
        _kerashub.transformer_layers(keras.Sequential([keras.layers.Dense(2, name="dense")]))
    pre_norm = keras_hub.layers.TransformerEncoder(intermediate_dim=8, num_heads=2, normalize_first=True)
    pre_norm(np.zeros((1, 3, 4), "float32"))
    with pytest.raises(ValueError, match="pre-norm"):
        _kerashub.check_post_norm(pre_norm)


def test_bert_tower_result_key_covers_model_texts_split_and_settings(tmp_cache):
    from translearn_lib.recommenders.bert_tower import DEFAULTS, _result_path

    class Encoder:
        identity = "tiny@" + "0" * 64

    split = random_split(block_ratings(n_users=40), seed=1)
    texts = [f"film {i}" for i in range(split.n_items)]
    settings = dict(DEFAULTS, k=10, seed=1)
    base = _result_path(Encoder(), texts, split, settings)
    assert base.parent == tmp_cache / "results" and base.name.startswith("bert_tower-")
    assert _result_path(Encoder(), list(texts), split, dict(settings)) == base
    other = Encoder()
    other.identity = "tiny@" + "1" * 64  # same name, other weights
    variants = [
        _result_path(other, texts, split, settings),
        _result_path(Encoder(), texts[::-1], split, settings),
        _result_path(Encoder(), texts, random_split(block_ratings(n_users=40), seed=2), settings),
        _result_path(Encoder(), texts, split, {**settings, "max_epochs": 5}),
    ]
    assert len({base, *variants}) == 5
