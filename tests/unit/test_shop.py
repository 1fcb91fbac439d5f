"""Tests for translearn_lib.datasets.shop (the synthetic cross-domain shop)."""

import numpy as np
import pytest

from translearn_lib.datasets import make_cross_domain_shop
from translearn_lib.datasets.shop import DOMAINS, TOPICS


@pytest.fixture(scope="module")
def shop():
    return make_cross_domain_shop(n_users=300, items_per_domain=60, seed=3)


def test_structure(shop):
    inter, items = shop.interactions, shop.items
    assert {"user_id", "item_id", "domain", "platform", "rating", "timestamp"} <= set(inter.columns)
    assert {"item_id", "domain", "topic", "secondary_topic", "text"} <= set(items.columns)
    assert len(items) == 180 and items["item_id"].tolist() == list(range(180))
    assert set(inter["platform"]) == {"mobile", "pc"}
    assert set(inter["domain"]) == {"electronics", "clothing", "books"}
    # the domain column of an interaction is the item's domain
    assert (items.set_index("item_id").loc[inter["item_id"], "domain"].to_numpy() == inter["domain"].to_numpy()).all()
    assert not inter.duplicated(["user_id", "item_id"]).any()
    assert shop.taste.shape == (300, len(TOPICS)) and np.allclose(shop.taste.sum(1), 1)
    assert np.allclose(shop.item_topics.sum(1), 1)
    assert shop.true_scores("clothing").shape == (300, 60)


def test_deterministic_and_seed_dependent():
    a = make_cross_domain_shop(n_users=100, items_per_domain=20, seed=1)
    b = make_cross_domain_shop(n_users=100, items_per_domain=20, seed=1)
    c = make_cross_domain_shop(n_users=100, items_per_domain=20, seed=2)
    assert a.interactions.equals(b.interactions) and a.items.equals(b.items)
    assert not a.interactions.equals(c.interactions)


def test_texts_carry_topics_with_varied_wording(shop):
    texts = shop.items["text"]
    assert texts.nunique() > 0.9 * len(texts)
    # two clothing items of the same topic are not described with one fixed phrase
    sport = shop.items[(shop.items.domain == "clothing") & (shop.items.topic == "sport")]["text"]
    assert sport.nunique() == len(sport)
    assert all(len(t.split()) >= 4 for t in texts)


def test_overlap_knob():
    none = make_cross_domain_shop(n_users=200, items_per_domain=20, overlap=0.0, seed=0)
    assert (none.users["domains"].map(len) == 1).all()
    assert (none.interactions.groupby("user_id")["domain"].nunique() == 1).all()
    full = make_cross_domain_shop(n_users=200, items_per_domain=20, overlap=1.0, seed=0)
    assert (full.users["domains"].map(len) == 3).all()


def test_target_sparsity_and_taste_signal():
    shop = make_cross_domain_shop(n_users=400, items_per_domain=50, overlap=1.0, target_sparsity=0.75, seed=0)
    per_domain = shop.interactions.groupby("domain").size()
    assert per_domain["clothing"] < 0.45 * per_domain["electronics"]
    # users buy items that match their taste far more often than chance
    cloth = shop.items[shop.items.domain == "clothing"]["item_id"].to_numpy()
    true = shop.true_scores("clothing")
    bought = shop.domain("clothing")
    col = np.searchsorted(cloth, bought["item_id"].to_numpy())
    assert true[bought["user_id"].to_numpy(), col].mean() > 1.5 * true.mean()


def test_domain_shift_knob():
    same = make_cross_domain_shop(n_users=50, items_per_domain=20, domain_shift=0.0, seed=0)
    assert np.allclose(same.domain_taste["electronics"], same.domain_taste["clothing"])
    far = make_cross_domain_shop(n_users=50, items_per_domain=20, domain_shift=1.0, seed=0)
    assert not np.allclose(far.domain_taste["electronics"], far.domain_taste["clothing"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_users=0), "n_users"),
    (dict(overlap=1.5), "overlap"),
    (dict(overlap=-0.1), "overlap"),
    (dict(domains=("electronics", "toys")), "unknown domain"),
    (dict(target_domain="garden"), "unknown domain"),
    (dict(items_per_domain=3), "items_per_domain"),
    (dict(domain_shift=2.0), "domain_shift"),
    (dict(target_sparsity=1.0), "target_sparsity"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_cross_domain_shop(**kwargs)


def test_unknown_domain_lookup(shop):
    with pytest.raises(ValueError, match="unknown domain"):
        shop.domain("home")  # a known domain name, but not generated here
    assert "home" in DOMAINS
    with pytest.raises(ValueError, match="unknown platform"):
        shop.platform("tablet")
