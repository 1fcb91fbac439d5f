"""Tests for translearn_lib.crossdomain on small synthetic cross-domain data (TensorFlow only for MigratedTwoTower)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from translearn_lib import crossdomain as T
from translearn_lib.crossdomain.migrate import MigratedTwoTower
from translearn_lib.recommenders import TwoTower
from translearn_lib.datasets import make_cross_domain_shop
from translearn_lib.crossdomain import text_bridge
from translearn_lib.embeddings import l2_normalize, same_topic_rate

SMALL = dict(factors=8, iters=4)


@pytest.fixture(scope="module")
def task():
    shop = make_cross_domain_shop(n_users=800, items_per_domain=100, overlap=0.8, seed=0)
    return T.shop_task(shop, "electronics", "clothing", seed=0)


@pytest.fixture(scope="module")
def topic_emb(task):
    """Stand-in for text embeddings: noisy one-hot topics (what a good encoder should recover)."""
    shop = make_cross_domain_shop(n_users=800, items_per_domain=100, overlap=0.8, seed=0)
    topics = shop.item_topics
    rng = np.random.default_rng(0)
    emb = topics + 0.05 * rng.normal(size=topics.shape)
    return emb[task.source_item_ids], emb[task.target.item_ids]


def test_make_task_shares_users():
    src = pd.DataFrame({"user_id": [1, 1, 2, 5], "item_id": [10, 11, 10, 12]})
    tgt = pd.DataFrame({"user_id": [1, 1, 1, 3, 3, 3, 3], "item_id": [7, 8, 9, 7, 8, 9, 6]})
    t = T.make_task(src, tgt, texts=pd.Series({i: f"item {i}" for i in range(20)}))
    assert list(t.user_ids) == [1, 2, 3, 5]
    assert t.source.shape == (4, 3) and t.source.nnz == 4
    assert t.target.n_users == 4 and t.target.n_items == 4
    assert list(t.shared_users()) == [0]  # only user 1 is in both domains
    assert t.source_texts == ["item 10", "item 11", "item 12"]
    assert t.target_texts == ["item 6", "item 7", "item 8", "item 9"]
    # user 3 (index 2) keeps its identity in the target split
    all_target = pd.concat([t.target.train, t.target.valid, t.target.test])
    assert set(all_target.loc[all_target.user_id == 3, "user"]) == {2}
    with pytest.raises(ValueError, match="user_id"):
        T.make_task(src.rename(columns={"user_id": "u"}), tgt)


def test_shop_task_domains_and_platforms():
    shop = make_cross_domain_shop(n_users=200, items_per_domain=30, seed=1)
    t = T.shop_task(shop, "mobile", "pc")
    assert t.source.shape[1] > 60 and t.target.n_items > 60  # platforms share the catalogue
    with pytest.raises(ValueError, match="both be domains"):
        T.shop_task(shop, "mobile", "clothing")
    with pytest.raises(ValueError, match="differ"):
        T.shop_task(shop, "books", "books")


def test_subsample_target(task):
    full = task.target
    half = T.subsample_target(full, 0.5, seed=1)
    assert 0.4 * len(full.train) < len(half.train) < 0.6 * len(full.train)
    assert half.test.equals(full.test)
    small = T.subsample_target(full, 0.1, seed=1)
    key = lambda f: set(zip(f.user, f.item))
    assert key(small.train) <= key(half.train)  # nested: 10 % is inside 50 %
    by_user = T.subsample_target(full, 0.2, seed=1, by="user")
    kept = set(by_user.train.user)
    assert 0.1 * full.train.user.nunique() < len(kept) < 0.3 * full.train.user.nunique()
    # a kept user keeps their whole history
    u = next(iter(kept))
    assert (by_user.train.user == u).sum() == (full.train.user == u).sum()
    assert T.subsample_target(full, 1.0) is full
    with pytest.raises(ValueError, match="share"):
        T.subsample_target(full, 0.0)
    with pytest.raises(ValueError, match="by"):
        T.subsample_target(full, 0.5, by="item")


def test_als_solve_matches_direct_least_squares():
    rng = np.random.default_rng(0)
    R = sp.csr_matrix((rng.random((6, 9)) < 0.3).astype(float))
    Y = rng.normal(size=(9, 3))
    X = T.als_solve(R, Y, reg=0.5, alpha=4.0, rows_mask=np.ones(6, bool))
    for u in range(6):
        c = 1 + 4.0 * R[u].toarray().ravel()
        A = Y.T @ (c[:, None] * Y) + 0.5 * np.eye(3)
        b = Y.T @ (c * R[u].toarray().ravel())
        np.testing.assert_allclose(X[u], np.linalg.solve(A, b), rtol=1e-8)


def test_fit_linear_mapping_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    W_true = rng.normal(size=(4, 3))
    Y = X @ W_true + 2.0
    W = T.fit_linear_mapping(X, Y, reg=1e-6)
    np.testing.assert_allclose(W[:-1], W_true, atol=1e-4)
    np.testing.assert_allclose(W[-1], 2.0, atol=1e-4)
    np.testing.assert_allclose(T.apply_linear_mapping(X, W), Y, atol=1e-4)
    with pytest.raises(ValueError, match="same number of rows"):
        T.fit_linear_mapping(X, Y[:10])


def test_text_profile_scores():
    history = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 0]], dtype=float))
    hist_emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    cand = np.array([[2.0, 0.0], [0.0, 1.0]])
    scores = T.text_profile_scores(history, hist_emb, cand)
    np.testing.assert_allclose(scores, [[1.0, 0.0], [0.0, 0.0]])


def test_text_profile_is_the_one_profile_behind_scores_and_zero_shot(task, topic_emb, monkeypatch):
    history = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 0], [0, 2, 1]], dtype=float))
    hist_emb = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    profile = T.text_profile(history, hist_emb)
    np.testing.assert_allclose(profile, [[1.0, 0.0], [0.0, 0.0], [6 / 40 ** 0.5, 2 / 40 ** 0.5]])
    cand = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(T.text_profile_scores(history, hist_emb, cand),
                                  profile @ l2_normalize(cand, dtype=np.float64).T)
    # TextZeroShot builds its user factors with the same helper, on source + target history
    calls, real = [], text_bridge.text_profile
    monkeypatch.setattr(text_bridge, "text_profile", lambda h, e: calls.append(h.shape) or real(h, e))
    sub = T.subsample_target(task.target, 0.5, seed=0)
    m = T.TextZeroShot(*topic_emb).fit(task.source, sub)
    assert calls == [(task.n_users, task.source.shape[1] + task.target.n_items)]
    Es, Et = T.center_by_domain(*topic_emb)
    both = sp.hstack([task.source, sub.matrix("train")]).tocsr()
    np.testing.assert_array_equal(m.user_factors, real(both, np.vstack([Es, Et])))
    users = np.arange(30)
    np.testing.assert_allclose(m.score(users) - m._pop[None, :],
                               T.text_profile_scores(both, np.vstack([Es, Et]), Et)[users], atol=1e-12)


def test_center_by_domain_removes_domain_offset():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 5))
    a, b = T.center_by_domain(base + 3.0, base - 3.0)
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0)


def test_strategies_shapes_and_transfer_helps(task, topic_emb):
    sub = T.subsample_target(task.target, 0.1, seed=0, by="user")
    models = T.default_strategies(*topic_emb, **SMALL)
    assert set(models) == {"popularity", "target-only", "joint (CMF)", "pretrain + fine-tune",
                           "EMCDR mapping", "text zero-shot", "text bridge (CTR)"}
    ndcg = {}
    for name, m in models.items():
        m.fit(task.source, sub)
        scores = m.score([0, 1, 2])
        assert scores.shape == (3, task.target.n_items) and np.isfinite(scores).all()
        ndcg[name] = T.evaluate_strategy(m, sub)["ndcg"]
        recs = m.recommend([0, 1], sub, k=5)
        assert recs.shape == (2, 5)
    # with 10 % of target users, sharing users across domains beats the target alone
    assert ndcg["joint (CMF)"] > 1.1 * ndcg["target-only"]
    assert ndcg["pretrain + fine-tune"] > 1.1 * ndcg["target-only"]
    assert ndcg["text bridge (CTR)"] > 1.3 * ndcg["target-only"]
    assert ndcg["EMCDR mapping"] > ndcg["target-only"]
    assert ndcg["text zero-shot"] > ndcg["popularity"]  # topic embeddings are informative here


def test_joint_mf_with_zero_source_weight_ignores_source(task):
    sub = T.subsample_target(task.target, 0.5, seed=0)
    a = T.JointMF(source_weight=0.0, **SMALL).fit(task.source, sub)
    empty = sp.csr_matrix(task.source.shape)
    b = T.JointMF(source_weight=0.0, **SMALL).fit(empty, sub)
    np.testing.assert_allclose(a.score(np.arange(20)), b.score(np.arange(20)), atol=1e-8)


def test_finetune_keeps_source_factor_for_users_new_to_target(task):
    sub = T.subsample_target(task.target, 0.1, seed=0, by="user")
    m = T.PretrainFinetune(**SMALL).fit(task.source, sub)
    cold = np.flatnonzero((np.diff(task.source.indptr) > 0) & (np.diff(sub.matrix("train").indptr) == 0))
    ratio = m.user_factors[cold] / m.source_user_factors[cold]
    np.testing.assert_allclose(ratio, m.finetune_weight / (m.reg + m.finetune_weight), rtol=1e-6)


def test_unfitted_and_learning_curve(task):
    with pytest.raises(RuntimeError, match="not fitted"):
        T.TargetOnly().score([0])
    curve = T.learning_curve(task, {"popularity": T.TargetPopularity(), "cmf": T.JointMF(**SMALL)},
                             shares=(0.25, 1.0), seed=0)
    assert list(curve.columns) == ["strategy", "share", "seed", "ndcg", "recall", "hit", "seconds"] and len(curve) == 4
    assert curve.ndcg.between(0, 1).all()
    # a thin adapter: each row is the strategy fitted on subsample_target(share, seed) and scored on test
    assert (curve.seed == 0).all() and list(curve.share) == [0.25, 0.25, 1.0, 1.0]
    sub = T.subsample_target(task.target, 0.25, seed=0, by="user")
    want = T.evaluate_strategy(T.JointMF(**SMALL).fit(task.source, sub), sub)
    row = curve[(curve.strategy == "cmf") & (curve.share == 0.25)].iloc[0]
    assert (row.ndcg, row.recall, row.hit) == (want["ndcg"], want["recall"], want["hit"])


def test_evaluate_refuses_the_training_part(task):
    m = T.TargetPopularity().fit(task.source, task.target)
    with pytest.raises(ValueError, match="'valid' or 'test'"):
        T.evaluate_strategy(m, task.target, part="train")
    valid = T.evaluate_strategy(m, task.target, part="valid")
    n_valid_users = int((np.diff(task.target.matrix("valid").indptr) > 0).sum())
    assert valid["n_users"] == n_valid_users and 0 < valid["ndcg"] <= 1


def test_cached_source_factors_follow_the_source(task):
    sub = T.subsample_target(task.target, 0.5, seed=0)
    m = T.PretrainFinetune(**SMALL).fit(task.source, sub)
    first = m.source_user_factors.copy()
    m.fit(task.source, sub)
    np.testing.assert_array_equal(m.source_user_factors, first)  # reused across shares
    other = sp.csr_matrix(([1.0, 1.0], ([0, 1], [0, 1])), shape=task.source.shape)
    m.fit(other, sub)
    assert not np.allclose(m.source_user_factors, first)  # a new source is re-pretrained


def test_migrated_two_tower_copies_user_table_and_projection(task, topic_emb):
    Es, Et = topic_emb
    kw = dict(dim=4, epochs=2, batch_size=512, lr=5e-3, seed=0)
    source_model = TwoTower(Es, **kw).fit(task.source)
    src = {layer.name: layer.get_weights()[0] for layer in source_model.net_.layers if layer.get_weights()}
    sub = T.subsample_target(task.target, 0.5, seed=0)
    frozen = MigratedTwoTower(source_model, Et, freeze=("user_emb", "text_projection"), **kw).fit(sub)
    got = {layer.name: layer.get_weights()[0] for layer in frozen.net_.layers if layer.get_weights()}
    np.testing.assert_array_equal(got["user_emb"], src["user_emb"])          # frozen: still the source's
    np.testing.assert_array_equal(got["text_projection"], src["text_projection"])
    assert got["item_emb"].shape == (task.target.n_items, 4) and np.abs(got["item_emb"]).max() > 0  # from 0, trained
    free = MigratedTwoTower(source_model, Et, **kw).fit(sub)
    moved = {layer.name: layer.get_weights()[0] for layer in free.net_.layers if layer.get_weights()}
    assert not np.array_equal(moved["user_emb"], src["user_emb"])
    assert T.evaluate_strategy(free, sub)["ndcg"] > 0
    with pytest.raises(ValueError, match="dim must match"):
        MigratedTwoTower(source_model, Et, dim=8)
    with pytest.raises(ValueError, match="can only freeze"):
        MigratedTwoTower(source_model, Et, freeze=("item_emb",))
    with pytest.raises(ValueError, match="fitted TwoTower"):
        MigratedTwoTower(TwoTower(Es, dim=4), Et)


def test_same_topic_rate_values():
    src = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    tgt = np.array([[2.0, 0.1], [0.1, 3.0], [0.6, 0.8], [-1.0, 0.0]])
    # nearest source by cosine: 0, 1, 2, and for [-1, 0] row 1 (cosine 0 beats -1 and -0.71)
    assert same_topic_rate(src, tgt, ["a", "b", "c"], ["a", "b", "c", "b"]) == 1.0
    assert same_topic_rate(src, tgt, ["a", "b", "c"], ["a", "x", "x", "x"]) == 0.25
    # cosine, not dot product: a long source vector does not win by its length
    assert same_topic_rate(np.array([[10.0, 1.0], [0.0, 1.0]]), np.array([[0.1, 1.0]]), [0, 1], [1]) == 1.0
    with pytest.raises(ValueError, match="labels"):
        same_topic_rate(src, tgt, ["a", "b"], ["a"] * 4)
    with pytest.raises(ValueError, match="same width"):
        same_topic_rate(src, np.ones((2, 3)), ["a", "b", "c"], ["a", "b"])


def test_tuning_split_scores_all_users_on_validation(task):
    full = task.target
    sub = T.subsample_target(full, 0.1, seed=0, by="user")
    view = T.tuning_split(full, sub)
    assert view.train.equals(sub.train) and view.valid.equals(full.valid) and view.test.equals(full.test)
    assert (view.seen("valid") != sub.matrix("train")).nnz == 0  # only what the model learnt from is masked
    n_valid = lambda s: int((np.diff(s.matrix("valid").indptr) > 0).sum())
    assert n_valid(view) == n_valid(full) > 3 * n_valid(sub)  # the users new to the target are scored too
    # a model that transfers to new users looks better on this view than popularity does
    pop = T.TargetPopularity().fit(task.source, sub)
    pf = T.PretrainFinetune(**SMALL).fit(task.source, sub)
    assert T.evaluate_strategy(pf, view, part="valid")["ndcg"] > T.evaluate_strategy(pop, view, part="valid")["ndcg"]
    with pytest.raises(ValueError, match="differ in shape"):
        other = T.make_task(pd.DataFrame({"user_id": [1], "item_id": [1]}),
                            pd.DataFrame({"user_id": [1] * 10, "item_id": range(10)})).target
        T.tuning_split(full, other)


def test_package_import_stays_numpy_only_and_migrate_loads_lazily():
    code = ("import sys\nfrom translearn_lib import crossdomain\n"
            "eager = 'translearn_lib.crossdomain.migrate' in sys.modules\n"
            "cls = crossdomain.MigratedTwoTower\n"
            "print(eager, cls.__module__, any(m in sys.modules for m in ('tensorflow', 'keras')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "translearn_lib.crossdomain.migrate", "False"]
    assert T.MigratedTwoTower is MigratedTwoTower
    with pytest.raises(AttributeError, match="no attribute"):
        T.plot_learning_curves  # noqa: B018  (deleted: use translearn_lib.plots.plot_learning_curve)


def test_matched_items_finds_twins_by_original_id():
    src = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 11, 12]})
    tgt = pd.DataFrame({"user_id": [1, 2, 2, 3], "item_id": [11, 10, 13, 13]})
    t = T.make_task(src, tgt)
    # source items 10, 11, 12; target items 10, 11, 13: 12 has no twin
    assert t.matched_items().tolist() == [0, 1, -1]
    shop = make_cross_domain_shop(n_users=200, items_per_domain=30, seed=1)
    assert (T.shop_task(shop, "electronics", "clothing").matched_items() == -1).all()  # no shared products


def test_shared_item_ids_merges_twins_and_masks_owned():
    from translearn_lib.splits import Split

    train = pd.DataFrame({"user": [0, 1, 1, 2], "item": [0, 0, 1, 1]})
    split = Split.from_frames(train, train.iloc[:0], pd.DataFrame({"user": [0], "item": [1]}), 3, 3)
    source = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 2], [0, 1, 1])), shape=(3, 2))
    m = T.SharedItemIds(np.array([2, -1]), reg_grid=None, **SMALL)     # source item 0 = target item 2
    owned = m.owned(source, 3).toarray()
    np.testing.assert_array_equal(owned, [[0, 0, 1], [0, 0, 0], [0, 0, 0]])  # item 1 has no twin: dropped
    merged = m._training_matrix(source, split).toarray()
    np.testing.assert_array_equal(merged, [[1, 0, 1], [1, 1, 0], [0, 1, 0]])
    # same as target-only ALS on the merged matrix
    m.fit(source, split)
    P, Q = T.factorize(sp.csr_matrix(merged), SMALL["factors"], m.reg, m.alpha, SMALL["iters"], m.seed)
    free = T.SharedItemIds(np.array([2, -1]), mask_owned=False, reg_grid=None, **SMALL).fit(source, split)
    np.testing.assert_allclose(free.user_factors @ free.item_factors.T, P @ Q.T, atol=1e-10)
    # an owned twin is ranked last for its owner only
    scores = m.score([0, 1])
    assert scores[0].argmin() == 2 and scores[0, 2] < scores[0, :2].min()
    np.testing.assert_allclose(scores[1], free.score([1])[0])
    with pytest.raises(ValueError, match="matches no source item"):
        T.SharedItemIds(np.array([-1, -1]))
    with pytest.raises(ValueError, match="1-D integer"):
        T.SharedItemIds(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="source has 3 items"):
        m.owned(sp.csr_matrix((3, 3)), 3)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        m.owned(source, 2)


def test_shared_item_ids_beat_target_only_on_platforms_and_join_the_line_up():
    shop = make_cross_domain_shop(n_users=600, items_per_domain=60, seed=0)
    t = T.shop_task(shop, "mobile", "pc", seed=0)
    sub = T.subsample_target(t.target, 0.1, seed=0, by="user")
    lineup = T.default_strategies(item_map=t.matched_items(), **SMALL)
    assert list(lineup)[:3] == ["popularity", "target-only", "shared item ids"]
    assert "shared item ids" not in T.default_strategies(item_map=np.full(3, -1), **SMALL)
    ndcg = {n: T.evaluate_strategy(lineup[n].fit(t.source, sub), sub)["ndcg"] for n in ("target-only", "shared item ids")}
    assert ndcg["shared item ids"] > 1.5 * ndcg["target-only"]  # the same products: the mobile history is PC history


def test_learning_curve_over_several_seeds(task):
    curve = T.learning_curve(task, {"popularity": T.TargetPopularity()}, shares=(0.5,), seeds=(0, 1, 2))
    assert sorted(curve.seed) == [0, 1, 2]
    for s in (0, 1, 2):  # each seed is its own cut of the target
        sub = T.subsample_target(task.target, 0.5, seed=s, by="user")
        want = T.evaluate_strategy(T.TargetPopularity().fit(task.source, sub), sub)["ndcg"]
        assert curve.loc[curve.seed == s, "ndcg"].item() == want
    assert curve.ndcg.nunique() > 1


def _toy_movielens():
    from translearn_lib.datasets.movielens import MovieLens

    items = pd.DataFrame({"item_id": [1, 2, 3, 4, 5], "title": ["A", "B", "C", "D", "E"],
                          "year": pd.array([1990] * 5, dtype="Int64"),
                          "genres": [["Comedy"], ["Action", "Comedy"], ["Comedy", "Action"], ["Horror"], []]})
    ratings = pd.DataFrame({"user_id": np.repeat([1, 2, 3], 5), "item_id": np.tile([1, 2, 3, 4, 5], 3),
                            "rating": 4, "timestamp": np.arange(15)})
    return MovieLens(ratings, items, pd.DataFrame({"user_id": [1, 2, 3]}), "toy")


def test_movielens_genre_task_leaves_out_mixed_films():
    ml = _toy_movielens()
    pure = T.movielens_genre_task(ml, source_genres=("Comedy",))
    assert list(pure.source_item_ids) == [1] and list(pure.target.item_ids) == [4]
    assert pure.info["n_left_out_items"] == 3 and pure.info["n_left_out_ratings"] == 9
    assert not any("Comedy" in t for t in pure.target_texts) and not any("Horror" in t for t in pure.source_texts)
    first = T.movielens_genre_task(ml, source_genres=("Comedy",), mixed="first")
    # by first genre: film 3 (Comedy, Action) is source, film 2 (Action, Comedy) and 5 (no genre) target
    assert list(first.source_item_ids) == [1, 3] and list(first.target.item_ids) == [2, 4, 5]
    assert first.info["n_left_out_items"] == 0
    with pytest.raises(ValueError, match="mixed must be"):
        T.movielens_genre_task(ml, mixed="any")
    with pytest.raises(ValueError, match="source_genres is empty"):
        T.movielens_genre_task(ml, source_genres=())
