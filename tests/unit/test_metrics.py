import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score, roc_auc_score

from translearn_lib import metrics


def test_hand_computed_case():
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    truth = sp.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0]]))
    assert metrics.topk(scores, 2).tolist() == [[0, 1], [3, 2]]
    got = metrics.ranking_metrics(scores, truth, k=2)
    # user 0: top [0, 1], relevant {1, 3}: one hit at rank 2; user 1: no hit
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert got["recall"] == pytest.approx((0.5 + 0) / 2)
    assert got["precision"] == pytest.approx((0.5 + 0) / 2)
    assert got["hit"] == pytest.approx(0.5)
    assert got["mrr"] == pytest.approx(0.25)
    assert got["ndcg"] == pytest.approx(ndcg0 / 2)
    assert got["users"] == 2


def test_exclusion_masks_training_items():
    scores = np.array([[5.0, 4.0, 3.0, 2.0]])
    seen = sp.csr_matrix(np.array([[1, 1, 0, 0]]))
    assert metrics.topk(scores, 2, exclude=seen).tolist() == [[2, 3]]
    truth = sp.csr_matrix(np.array([[0, 0, 1, 0]]))
    assert metrics.ranking_metrics(scores, truth, k=1, exclude=seen)["hit"] == 1.0
    assert metrics.ranking_metrics(scores, truth, k=1)["hit"] == 0.0


def test_ties_broken_by_lower_index():
    assert metrics.topk(np.zeros((1, 6)), 3).tolist() == [[0, 1, 2]]
    assert metrics.topk(np.array([[1, 2, 2, 2, 0]]), 2).tolist() == [[1, 2]]


def test_against_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 40))
    truth = (rng.random((50, 40)) < 0.1).astype(float)
    truth[truth.sum(1) == 0, 0] = 1
    got = metrics.ranking_metrics(scores, sp.csr_matrix(truth), k=10)
    assert got["ndcg"] == pytest.approx(np.mean([ndcg_score(truth[i:i + 1], scores[i:i + 1], k=10)
                                                 for i in range(50)]))
    expected_auc = np.mean([roc_auc_score(truth[i], scores[i]) for i in range(50)])
    assert metrics.auc(scores, sp.csr_matrix(truth)) == pytest.approx(expected_auc)
    # recall by brute force
    top = np.argsort(-scores, axis=1)[:, :10]
    recall = np.mean([truth[i, top[i]].sum() / truth[i].sum() for i in range(50)])
    assert got["recall"] == pytest.approx(recall)


def test_perfect_and_worst_rankings():
    truth = sp.csr_matrix(np.eye(5))
    perfect = metrics.ranking_metrics(np.eye(5), truth, k=1)
    assert perfect == {"recall": 1.0, "precision": 1.0, "ndcg": 1.0, "hit": 1.0, "mrr": 1.0, "users": 5}
    assert metrics.auc(np.eye(5), truth) == 1.0
    assert metrics.auc(-np.eye(5), truth) == 0.0


def test_users_without_truth_are_skipped():
    truth = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0]]))
    got = metrics.ranking_metrics(np.array([[0, 1, 0], [1, 0, 0]]), truth, k=1)
    assert got["users"] == 1 and got["hit"] == 1.0


@pytest.mark.parametrize("k", [0, -1, 5])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k"):
        metrics.topk(np.zeros((2, 4)), k)


def test_bad_inputs():
    with pytest.raises(ValueError, match="2-D"):
        metrics.topk(np.zeros(4), 1)
    with pytest.raises(ValueError, match="shape"):
        metrics.ranking_metrics(np.zeros((2, 4)), sp.csr_matrix((3, 4)), k=1)
    with pytest.raises(ValueError, match="no user"):
        metrics.ranking_metrics(np.zeros((2, 4)), sp.csr_matrix((2, 4)), k=1)
    with pytest.raises(ValueError, match="NaN"):
        metrics.topk(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(TypeError, match="integer"):
        metrics.topk(np.zeros((1, 3)), 1.5)


# -- sampled evaluation: each held-out item against a few negatives ----------------------------------
def test_sampled_metrics_hand_computed_case():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]])
    truth = sp.csr_matrix(np.array([[0, 0, 1, 0, 0, 0]]))
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]]))
    # all candidates, masked: only item 1 beats item 2 -> rank 1 (0-based) -> hit@2, NDCG 1/log2(3)
    full = metrics.sampled_ranking_metrics(scores, truth, None, exclude=seen, k=2)
    assert full == {"hit": 1.0, "ndcg": pytest.approx(1 / np.log2(3)), "users": 1, "pairs": 1}
    # unmasked: the seen item 0 is a negative too -> rank 2 -> no hit at 2
    assert metrics.sampled_ranking_metrics(scores, truth, None, exclude=None, k=2)["hit"] == 0.0
    # 2 sampled negatives out of {1, 3, 4, 5}: a hit at k=1 exactly when item 1 is not drawn (p = 1/2)
    hits = [metrics.sampled_ranking_metrics(scores, truth, 2, seed=s, exclude=seen, k=1)["hit"] for s in range(400)]
    assert np.mean(hits) == pytest.approx(0.5, abs=0.07)
    assert set(hits) == {0.0, 1.0}


def test_sampled_metrics_ties_and_averaging():
    # all scores tied: the lower item index wins (as in topk), so item 3 is ranked behind 0, 1, 2
    tied = metrics.sampled_ranking_metrics(np.zeros((1, 6)), sp.csr_matrix(np.eye(6)[[3]]), None, k=4)
    assert tied["hit"] == 1.0 and tied["ndcg"] == pytest.approx(1 / np.log2(5))
    # two held-out items of one user are averaged first, then users: user 0 -> (1 + 0) / 2, user 1 -> 1
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    truth = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 0, 0, 1]]))
    got = metrics.sampled_ranking_metrics(scores, truth, None, k=1)
    assert got["hit"] == pytest.approx((0.5 + 1.0) / 2) and got["pairs"] == 3 and got["users"] == 2
    # sampling is seeded
    rng = np.random.default_rng(0)
    big, t = rng.random((20, 300)), sp.csr_matrix((rng.random((20, 300)) < 0.02).astype(float))
    assert metrics.sampled_ranking_metrics(big, t, 50, seed=1) == metrics.sampled_ranking_metrics(big, t, 50, seed=1)
    # sampled ranking is never harder than full ranking: the same item beats fewer negatives
    assert metrics.sampled_ranking_metrics(big, t, 50, seed=1)["hit"] >= metrics.sampled_ranking_metrics(big, t, None)["hit"]


def test_sampled_metrics_bad_input():
    scores, truth = np.zeros((2, 5)), sp.csr_matrix(np.eye(5)[[0, 1]])
    with pytest.raises(ValueError, match="n_negatives"):
        metrics.sampled_ranking_metrics(scores, truth, 0)
    with pytest.raises(ValueError, match="larger than the catalogue"):
        metrics.sampled_ranking_metrics(scores, truth, 3, k=5)
    with pytest.raises(ValueError, match="no user has a held-out item"):
        metrics.sampled_ranking_metrics(scores, sp.csr_matrix((2, 5)), 3, k=2)
    with pytest.raises(ValueError, match="shape"):
        metrics.sampled_ranking_metrics(scores, sp.csr_matrix(np.eye(4)[[0, 1]]), 3, k=2)
