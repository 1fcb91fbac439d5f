"""Cold-start scorers on tiny synthetic inputs: exact values and bad-input errors."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from translearn_lib import coldstart as cs
from translearn_lib import metrics


def _X():
    # 3 users x 4 items; item 3 is cold (no interaction)
    return sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float32))


def _ratings(n_users=30, n_items=20, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 14, replace=False)]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def test_ridge_map_recovers_a_linear_map_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(50, 3))
    W = np.array([[1.0, 0.0], [2.0, -1.0], [0.0, 0.5]])
    T = F @ W + np.array([0.3, -0.2])
    out = cs.ridge_map(F, T, lam=0.0)
    np.testing.assert_allclose(out[:-1], W, atol=1e-10)
    np.testing.assert_allclose(out[-1], [0.3, -0.2], atol=1e-10)
    with pytest.raises(ValueError, match="lam"):
        cs.ridge_map(F, T, lam=-1)
    with pytest.raises(ValueError, match="same"):
        cs.ridge_map(F, T[:10])


def test_metadata_popularity_gives_cold_items_the_mean_of_their_group():
    m = cs.MetadataPopularity([1995, 1995, 1990, 1995]).fit(_X())
    # warm 1995 items: counts 2 and 1 -> 1.5; the cold 1995 item gets 1.5; 1990 -> 1
    np.testing.assert_allclose(m.score([0])[0], [1.5, 1.5, 1.0, 1.5])
    with pytest.raises(ValueError, match="entries"):
        cs.MetadataPopularity([1, 2]).fit(_X())


def test_profile_scores_and_popularity_fallback_for_an_empty_user():
    F = np.array([[1, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    m = cs.TextProfile(F).fit(_X())
    s = m.score([0, 2])
    # user 0 profile = mean([1,0],[0,1]) = [.5,.5]; items L2-normalised
    np.testing.assert_allclose(s[0], [0.5, 0.5, 0.5, np.sqrt(0.5)], atol=1e-6)
    np.testing.assert_allclose(s[1], [2, 1, 1, 0])  # no history -> popularity
    assert m.recommend([2], k=2, exclude_seen=False).tolist() == [[0, 1]]
    with pytest.raises(ValueError):
        cs.TextProfile(F[:3]).fit(_X())


def test_genre_matrix_aligns_with_the_split():
    split = cs.cold_item_holdout(_ratings(), seed=0)
    items = pd.DataFrame({"item_id": np.arange(20), "genres": [["a"] if i % 2 else ["a", "b"] for i in range(20)]})
    G, names = cs.genre_matrix(split, items)
    assert names == ["a", "b"] and G.shape == (20, 2) and G[:, 1].tolist() == [float(i % 2 == 0) for i in range(20)]
    with pytest.raises(ValueError, match="not in the items"):
        cs.genre_matrix(split, items.iloc[:5])


def test_cold_item_holdout_keeps_cold_items_out_of_train():
    split = cs.cold_item_holdout(_ratings(), item_share=0.2, warm_share=0.1, seed=1)
    cold = split.info["cold_items"]
    assert len(cold) == 4 and not split.train["item"].isin(cold).any()
    assert split.test["item"].isin(cold).any() and (~split.test["item"].isin(cold)).any()
    assert len(split.train) + len(split.test) == 30 * 14
    with pytest.raises(ValueError, match="warm_share"):
        cs.cold_item_holdout(_ratings(), warm_share=1.0)


def test_text_to_factor_and_dropoutnet_score_cold_items_and_evaluate():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(20, 5)).astype(np.float32)
    split = cs.cold_item_holdout(_ratings(), seed=1)
    m = cs.TextToFactor(E, factors=4, lam=1.0, seed=0).fit(split)
    cold = split.info["cold_items"]
    np.testing.assert_allclose(m.item_factors_[cold], E[cold] @ m.weights_[:-1] + m.weights_[-1])
    d = cs.DropoutNet(E, factors=4, hidden=8, steps=50, seed=0).fit(split)
    assert d.losses_[-1] < d.losses_[0] and np.isfinite(d.score([0])).all()
    d2 = cs.DropoutNet(E, factors=4, hidden=8, steps=50, seed=0).fit(split)
    np.testing.assert_array_equal(d.score([0, 1]), d2.score([0, 1]))
    res = cs.evaluate_items(m, split, "cold", k=2)
    assert 0 <= res["ndcg"] <= 1 and res["n_users"] > 0
    with pytest.raises(ValueError, match="items must"):
        cs.evaluate_items(m, split, "all")
    with pytest.raises(ValueError, match="dropout"):
        cs.DropoutNet(E, dropout=1.5)


def test_blend_standardises_each_side_and_boosts_cold():
    S = np.array([[1.0, 2.0, 3.0, 10.0]])
    z = cs.standardize_rows(S, np.array([True, True, True, False]))
    np.testing.assert_allclose(z, [[-np.sqrt(1.5), 0, np.sqrt(1.5)]], atol=1e-6)
    with pytest.raises(ValueError):
        cs.standardize_rows(S, np.zeros(4, bool))
    from translearn_lib.recommenders import Popularity
    F = np.eye(4, dtype=np.float32)
    b = cs.Blend(Popularity(), cs.TextProfile(F), boost=100.0).fit(_X())
    assert metrics.topk(b.score([0]), 1).tolist() == [[3]]  # the boosted cold item comes first
    with pytest.raises(ValueError, match="boost"):
        cs.Blend(Popularity(), Popularity(), boost=np.inf)


def test_onboarding_split_has_the_same_test_items_for_every_k():
    r = _ratings()
    a, b = cs.onboarding_split(r, 0, seed=0), cs.onboarding_split(r, 3, seed=0)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert len(b.train) == len(a.train) + 3 * len(a.info["cold_users"])
    with pytest.raises(ValueError, match="k must"):
        cs.onboarding_split(r, 11)


def test_demographics_and_fold_in_with_defined_fallbacks():
    X = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32))
    users = pd.DataFrame({"user_id": [0, 1, 2, 3], "gender": ["F", "F", "M", None]})
    m = cs.DemographicPopularity(users, min_group=1).fit(X)
    np.testing.assert_allclose(m.score([0, 2, 3]), [[1, 0.5, 0], [0, 0, 1], [2 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    with pytest.raises(ValueError, match="user_id"):
        cs.DemographicPopularity(users.drop(columns="user_id")).fit(X)
    f = cs.ALSFoldIn(factors=2, reg=1.0, iters=3, seed=0).fit(X)
    np.testing.assert_allclose(f.fold_in([0, 1]), f.user_factors_[1], atol=1e-8)
    np.testing.assert_allclose(f.score([3])[0], cs.popularity_fallback(X))
    assert np.all(f.fold_in([]) == 0)
    with pytest.raises(ValueError, match="item indices"):
        f.fold_in([7])


def test_evaluate_items_targets_override():
    split = cs.cold_item_holdout(_ratings(), seed=1)
    m = cs.RandomScores(0).fit(split)
    a = cs.evaluate_items(m, split, "mixed", k=3, targets="warm")
    b = cs.evaluate_items(m, split, "mixed", k=3)
    assert a["n_users"] <= b["n_users"] and 0 <= a["ndcg"] <= 1
    with pytest.raises(ValueError, match="targets"):
        cs.evaluate_items(m, split, "mixed", targets="new")


def test_mapped_fold_in_maps_source_factors_and_pulls_the_fold_in_towards_them():
    from translearn_lib.crossdomain import factorize
    from translearn_lib.crossdomain.strategies import apply_linear_mapping, fit_linear_mapping

    on = cs.onboarding_split(_ratings(), 2, user_share=0.3, seed=0)  # 30 users, 9 new with 2 items each
    new = on.info["cold_users"]
    rng = np.random.default_rng(1)
    source = sp.csr_matrix((rng.random((31, 8)) < 0.4).astype(np.float32))  # one spare row
    rows = np.arange(30)
    rows[new[0]] = -1  # this new user has no source history
    kw = dict(factors=2, reg=1.0, iters=3, seed=0, min_target=3)
    only = cs.MappedFoldIn(source, rows, None, **kw).fit(on)
    X = on.matrix("train")
    # by hand: anchors are the 21 users who are not new and have source history and >= 3 target items
    anchors = np.setdiff1d(np.arange(30), new)
    assert only.n_anchors_ == len(anchors) == 21
    Ps, _ = factorize(source, 2, 1.0, 2.0, 3, 0)
    Pt, Q = factorize(X, 2, 1.0, 2.0, 3, 0)
    scale = np.sqrt((Ps[anchors] ** 2).sum(axis=1).mean())
    W = fit_linear_mapping(Ps[anchors] / scale, Pt[anchors], 1.0)
    mapped = apply_linear_mapping(Ps[new[1:]] / scale, W)
    np.testing.assert_allclose(only.user_factors_[new[1:]], mapped, atol=1e-8)
    np.testing.assert_allclose(only.user_factors_[anchors], Pt[anchors], atol=1e-8)  # warm users untouched
    np.testing.assert_allclose(only.score([new[0]])[0], Q @ Pt[new[0]] if X[new[0]].nnz else cs.popularity_fallback(X))
    # w = 0 is the plain fold-in; a huge w is the mapped factor
    plain = cs.MappedFoldIn(source, rows, 0.0, **kw).fit(on)
    fold = cs.ALSFoldIn(factors=2, reg=1.0, iters=3, seed=0).fit(on)
    u = int(new[1])
    np.testing.assert_allclose(plain.user_factors_[u], fold.fold_in(X[u].indices), atol=1e-8)
    stiff = cs.MappedFoldIn(source, rows, 1e9, **kw).fit(on)
    np.testing.assert_allclose(stiff.user_factors_[new[1:]], mapped, atol=1e-6)
    with pytest.raises(ValueError, match="prior_weight"):
        cs.MappedFoldIn(source, rows, -1.0)
    with pytest.raises(ValueError, match="source_rows"):
        cs.MappedFoldIn(source, rows[:5]).fit(on)
    with pytest.raises(ValueError, match="anchor"):
        cs.MappedFoldIn(source, rows, min_target=99).fit(on)
