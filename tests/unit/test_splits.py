import numpy as np
import pandas as pd
import pytest

from translearn_lib import splits


def _pairs(frame):
    return set(zip(frame["user_id"], frame["item_id"]))


def test_recbole_counts():
    assert splits._split_counts(10, [0.8, 0.1, 0.1]) == [8, 1, 1]
    assert splits._split_counts(25, [0.8, 0.1, 0.1]) == [21, 2, 2]
    assert splits._split_counts(5, [0.8, 0.1, 0.1]) == [3, 1, 1]   # 0.5 rounds up to one each
    assert splits._split_counts(2, [0.8, 0.1, 0.1]) == [1, 0, 1]   # test is served first, one kept for training
    assert splits._split_counts(1, [0.8, 0.1, 0.1]) == [1, 0, 0]


def test_random_split_partitions_per_user(toy_ratings):
    s = splits.random_split(toy_ratings, seed=1)
    assert (s.n_users, s.n_items) == (30, 20)
    assert len(s.train) + len(s.valid) + len(s.test) == len(toy_ratings)
    parts = [_pairs(f) for f in (s.train, s.valid, s.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    # 8 interactions per user -> 6/1/1 (int(0.8) rounds to 1 for valid and test)
    assert s.train.groupby("user").size().eq(6).all()
    assert s.test.groupby("user").size().eq(1).all()
    # index columns map back to the original ids
    assert (s.user_ids[s.train["user"]] == s.train["user_id"].to_numpy()).all()
    assert (s.item_ids[s.test["item"]] == s.test["item_id"].to_numpy()).all()


def test_random_split_is_seeded(toy_ratings):
    a, b = splits.random_split(toy_ratings, seed=3), splits.random_split(toy_ratings, seed=3)
    c = splits.random_split(toy_ratings, seed=4)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert _pairs(a.test) != _pairs(c.test)


def test_matrices_and_seen(toy_ratings):
    s = splits.random_split(toy_ratings)
    assert s.matrix("train").shape == (30, 20) and s.matrix("train").nnz == len(s.train)
    assert s.seen("valid").nnz == len(s.train)
    assert s.seen("test").nnz == len(s.train) + len(s.valid)
    assert s.seen("train").nnz == 0
    with pytest.raises(ValueError, match="part must be"):
        s.matrix("holdout")


def test_leave_one_out_takes_latest(toy_ratings):
    s = splits.leave_one_out(toy_ratings)
    latest = toy_ratings.sort_values("timestamp").groupby("user_id").tail(1)
    assert _pairs(s.test) == _pairs(latest)
    assert len(s.valid) == 30 and len(s.train) == len(toy_ratings) - 60


def test_cold_item_split_keeps_cold_items_out_of_training(toy_ratings):
    s = splits.cold_item_split(toy_ratings, item_share=0.2, seed=0)
    cold = np.concatenate([s.info["cold_valid_items"], s.info["cold_test_items"]])
    assert len(cold) == 4
    assert not np.isin(s.train["item"], cold).any()
    assert set(s.test["item"]) <= set(s.info["cold_test_items"])
    assert len(s.train) + len(s.valid) + len(s.test) == len(toy_ratings)


def test_cold_user_split(toy_ratings):
    s = splits.cold_user_split(toy_ratings, user_share=0.1, seed=0)
    assert s.train["user"].nunique() == 27
    assert set(s.test["user"]).isdisjoint(set(s.train["user"]))


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame(columns=["user_id", "item_id"]), "empty"),
    (pd.DataFrame({"user": [1], "item": [2]}), "lacks columns"),
    (pd.DataFrame({"user_id": [1, None], "item_id": [2, 3]}), "missing"),
])
def test_bad_ratings(bad, message):
    with pytest.raises(ValueError, match=message):
        splits.random_split(bad)


def test_bad_ratios_and_shares(toy_ratings):
    with pytest.raises(ValueError, match="ratios"):
        splits.random_split(toy_ratings, ratios=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="item_share"):
        splits.cold_item_split(toy_ratings, item_share=1.0)
    with pytest.raises(TypeError, match="DataFrame"):
        splits.random_split([(1, 2)])


def test_from_frames_checks_ranges():
    frame = pd.DataFrame({"user": [0, 5], "item": [0, 1]})
    with pytest.raises(ValueError, match="user indices"):
        splits.Split.from_frames(frame, frame.head(0), frame.head(0), n_users=3, n_items=2)


def test_temporal_split_holds_out_each_users_latest(toy_ratings):
    rated = toy_ratings.assign(timestamp=np.arange(len(toy_ratings))[::-1])  # later rows are OLDER
    s = splits.temporal_split(rated, seed=1)
    r = splits.random_split(rated, seed=1)
    for part in ("train", "valid", "test"):  # the same counts per user as the random split
        assert s.frame(part).groupby("user").size().equals(r.frame(part).groupby("user").size())
    last_train = s.train.groupby("user")["timestamp"].max()
    assert (s.valid.groupby("user")["timestamp"].min() > last_train).all()
    assert (s.test.groupby("user")["timestamp"].min() > s.valid.groupby("user")["timestamp"].max()).all()
    newest = rated.sort_values("timestamp").groupby("user_id").tail(1)
    assert _pairs(newest) <= _pairs(s.test)
    with pytest.raises(ValueError, match="timestamp"):
        splits.temporal_split(toy_ratings.drop(columns=["timestamp"], errors="ignore"))


def test_temporal_split_breaks_equal_timestamps_with_the_seed(toy_ratings):
    same_time = toy_ratings.assign(timestamp=0)
    a, b = splits.temporal_split(same_time, seed=1), splits.temporal_split(same_time, seed=1)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert _pairs(a.test) != _pairs(splits.temporal_split(same_time, seed=2).test)
