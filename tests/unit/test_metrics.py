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
