"""translearn_lib.bandits on small synthetic problems: values, a peer check against mabwiser, errors."""

import numpy as np
import pandas as pd
import pytest

from translearn_lib import bandits as bd


def _random_updates(policy, rng, T=30):
    items, rewards = [], []
    for _ in range(T):
        it = rng.integers(len(policy.features), size=policy.n_bandits)
        r = rng.random(policy.n_bandits)
        policy.update(it, r)
        items.append(it); rewards.append(r)
    return np.array(items), np.array(rewards)


@pytest.mark.parametrize("one_hot", [False, True])
def test_linear_state_equals_ridge_regression(one_hot):
    rng = np.random.default_rng(0)
    F = np.eye(6) if one_hot else rng.normal(size=(6, 3))
    p = bd.LinUCB(F, alpha=0.7, n_bandits=2, lam=2.0)
    assert p.diagonal is one_hot
    items, rewards = _random_updates(p, rng)
    for u in range(2):
        X = F[items[:, u]]
        A = 2.0 * np.eye(F.shape[1]) + X.T @ X
        theta = np.linalg.solve(A, X.T @ rewards[:, u])
        assert np.allclose(p.theta[u], theta)
        assert np.allclose(p.covariance()[u], np.linalg.inv(A))
        ucb = F @ theta + 0.7 * np.sqrt(np.einsum("nd,de,ne->n", F, np.linalg.inv(A), F))
        assert np.allclose(p.ucb(np.arange(6)[None].repeat(2, 0))[u], ucb)
        assert p.select(np.arange(6))[u] == np.argmax(ucb)


def test_warm_start_equals_the_same_updates():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(5, 3))
    a, b = bd.LinUCB(F, n_bandits=1), bd.LinUCB(F, n_bandits=1)
    items, rewards = _random_updates(a, rng, T=12)
    b.warm_start(F[items[:, 0]], rewards[:, 0])
    assert np.allclose(a.theta, b.theta) and np.allclose(a.A_inv, b.A_inv) and np.allclose(a.width2_, b.width2_)
    c = bd.LinUCB(F).warm_start(F[items[:, 0]], rewards[:, 0], weight=0.0)   # weight 0: nothing learned
    assert np.allclose(c.theta, 0) and np.allclose(c.A_inv, np.eye(3))


def test_peer_check_against_mabwiser_linucb_same_arm_choices():
    """Disjoint LinUCB over 3 arms with 2-d contexts == the course's LinUCB on kron(e_arm, context) items."""
    from mabwiser.mab import MAB, LearningPolicy

    rng = np.random.default_rng(3)
    contexts = rng.normal(size=(4, 2))
    n_arms, alpha, lam = 3, 0.8, 1.0
    F = np.array([np.kron(np.eye(n_arms)[a], contexts[c]) for c in range(4) for a in range(n_arms)])
    ours = bd.LinUCB(F, alpha=alpha, lam=lam)
    w = rng.normal(size=(n_arms, 2))
    first_ctx = [0, 1, 2]
    first_rewards = [float(contexts[c] @ w[a]) for a, c in zip(range(n_arms), first_ctx)]
    mab = MAB(arms=list(range(n_arms)), learning_policy=LearningPolicy.LinUCB(alpha=alpha, l2_lambda=lam), seed=0)
    mab.fit(decisions=list(range(n_arms)), rewards=first_rewards, contexts=contexts[first_ctx])
    for a, c, r in zip(range(n_arms), first_ctx, first_rewards):
        ours.update([c * n_arms + a], [r])
    agree = 0
    for _ in range(60):
        c = int(rng.integers(4))
        item = int(ours.select(np.arange(n_arms) + c * n_arms)[0])
        arm = int(mab.predict(contexts[[c]]))
        agree += arm == item - c * n_arms
        r = float(contexts[c] @ w[arm] + 0.3 * rng.normal())
        ours.update([c * n_arms + arm], [r])
        mab.partial_fit([arm], [r], contexts[[c]])
    assert agree == 60


def test_invalid_parameters_raise_clear_errors():
    F = np.eye(3)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        bd.LinUCB(F, alpha=-0.1)
    with pytest.raises(ValueError, match="epsilon must be in"):
        bd.EpsilonGreedy(F, epsilon=1.5)
    with pytest.raises(ValueError, match="lam"):
        bd.LinearThompson(F, lam=0)
    with pytest.raises(ValueError, match="action set is empty"):
        bd.LinUCB(F).select(np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        bd.LinUCB(F).warm_start(np.ones((2, 4)), np.ones(2))
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        bd.LinUCB(F).select(np.array([0, 5]))
    with pytest.raises(ValueError, match="one item and one reward per bandit"):
        bd.LinUCB(F, n_bandits=2).update([0], [1.0])
    with pytest.raises(ValueError, match="action set is empty"):
        bd.BanditEnv(np.full((2, 3), 0.5), start_items=[])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        bd.BanditEnv(np.full((2, 3), 1.5))
    env = bd.BanditEnv(np.full((2, 3), 0.5), n_candidates=2)
    with pytest.raises(ValueError, match="features for 4 items"):
        bd.simulate(env, bd.LinUCB(np.eye(4)), [0], 5)


def test_epsilon_and_thompson_limits():
    rng = np.random.default_rng(4)
    F = rng.normal(size=(4, 2))
    greedy = bd.LinUCB(F, alpha=0.0)
    eps0, ts0 = bd.EpsilonGreedy(F, epsilon=0.0), bd.LinearThompson(F, v=0.0)
    for p in (greedy, eps0, ts0):
        p.warm_start(F, np.array([0.1, 0.9, 0.2, 0.4]))
    page = np.arange(4)
    assert greedy.select(page)[0] == eps0.select(page)[0] == ts0.select(page)[0]
    explorer = bd.EpsilonGreedy(F, epsilon=1.0, n_bandits=4000, seed=0)
    shares = np.bincount(explorer.select(page), minlength=4) / 4000
    assert np.allclose(shares, 0.25, atol=0.03)
    ts = bd.LinearThompson(F, v=0.5, n_bandits=1, seed=0).warm_start(F[:2], np.array([1.0, 0.0]))
    draws = np.array([ts.scores(page[None])[0] for _ in range(4000)])
    cov = F @ ts.covariance()[0] @ F.T
    assert np.allclose(draws.mean(0), F @ ts.theta[0], atol=0.03)
    assert np.allclose(np.cov(draws.T), 0.25 * cov, atol=0.03)


def test_simulate_regret_counts_the_wrong_pulls():
    env = bd.BanditEnv(np.array([[0.9, 0.1]]), n_candidates=None)
    run = bd.simulate(env, bd.LinUCB(np.eye(2), alpha=0.5), [0], 300, seed=0)
    wrong = (run.items[:, 0] == 1).sum()
    assert run.cumulative_regret()[-1] == pytest.approx(0.8 * wrong)
    assert (run.items[-100:, 0] == 0).mean() > 0.95
    assert wrong < 30


def test_env_pages_arrivals_and_shop_formula():
    mu = np.linspace(0.05, 0.95, 20).reshape(2, 10)
    env = bd.BanditEnv(mu, n_candidates=4, start_items=np.arange(6), arrivals={5: [8, 9]})
    rng = np.random.default_rng(0)
    early, late = env.candidates(rng, 0, 500), env.candidates(rng, 5, 500)
    assert early.shape == (500, 4) and (np.diff(early, axis=1) > 0).all() and early.max() <= 5
    assert set(np.unique(late)) == {0, 1, 2, 3, 4, 5, 8, 9}
    from translearn_lib.datasets import make_cross_domain_shop
    shop = make_cross_domain_shop(n_users=50, items_per_domain=20, domains=("electronics", "clothing"), seed=1)
    senv = bd.shop_env(shop, "clothing", offset=3.0)
    pop = shop.items.loc[shop.items["domain"] == "clothing", "popularity"].to_numpy()
    want = 1 / (1 + np.exp(-(1.2 * 8 * shop.true_scores("clothing") + pop - 3.0)))
    assert np.allclose(senv.mu, want) and senv.mu.shape == (50, 20)


def test_text_features_pca_constant_and_group_centring():
    rng = np.random.default_rng(5)
    E = rng.normal(size=(30, 6)) + np.repeat([[3.0] * 6, [-3.0] * 6], 15, axis=0)
    F = bd.text_features(E, 3)
    assert F.shape == (30, 4) and np.allclose(F[:, -1], 1) and np.isclose((F[:, :3] ** 2).sum(1).mean(), 1)
    groups = np.repeat(["a", "b"], 15)
    G = bd.text_features(E, 3, groups=groups)
    assert np.allclose(G[:15, :3].mean(0), 0) and np.allclose(G[15:, :3].mean(0), 0)
    # without centring, the first component separates the two groups
    assert np.sign(F[:15, 0]).std() == 0 and np.sign(F[:15, 0])[0] != np.sign(F[15:, 0])[0]


def test_rating_model_recovers_low_rank_ratings():
    rng = np.random.default_rng(6)
    P, Q = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    full = 3 + P @ Q.T * 0.5
    mask = rng.random(full.shape) < 0.6
    u, i = np.nonzero(mask)
    ratings = pd.DataFrame({"user_id": u + 1, "item_id": i + 100, "rating": full[u, i]})
    pred, users, items, rmse = bd.fit_rating_model(ratings, factors=2, reg=0.1, iters=30)
    assert rmse < 0.05 and list(items[:2]) == [100, 101]
    assert np.abs(pred[~mask] - full[~mask]).mean() < 0.15     # unseen entries too: the model is low rank


def test_ips_exact_and_unbiased_replay_biased_under_popularity_logging():
    logs = bd.Logs(users=np.array([0, 0]), pages=np.array([[0, 1], [0, 1]]), positions=np.array([0, 1]),
                   items=np.array([0, 1]), propensities=np.array([0.8, 0.2]), rewards=np.array([1.0, 1.0]))
    target = bd.greedy_policy(np.array([0.0, 1.0]))          # always item 1
    assert bd.ips(logs, target) == pytest.approx(0.5 * (0 + 1 / 0.2))
    assert bd.snips(logs, target) == pytest.approx(1.0)
    assert bd.replay(logs, target) == (1.0, 1)
    mu = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.1]])
    env = bd.BanditEnv(mu, n_candidates=2)
    logging = bd.softmax_policy(np.array([2.0, 0.0, 1.0]), temperature=0.5)
    logs = bd.collect_logs(env, logging, 40000, seed=0)
    uni = bd.uniform_policy()
    truth = bd.true_value(env, logs, uni)
    assert abs(bd.ips(logs, uni) - truth) < 0.01 and abs(bd.snips(logs, uni) - truth) < 0.01
    assert bd.replay(logs, uni)[0] - truth > 0.05              # replay favours the often-logged item 0
    with pytest.raises(ValueError, match="empty"):
        bd.ips(bd.Logs(*(np.array([]),) * 6), uni)
