"""DP-SGD, accounting, membership inference and augmentation on tiny synthetic inputs: exact values."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from translearn_lib import augment, privacy as pv


# ------------------------------------------------------------------ accounting
def test_accountants_reproduce_the_mnist_setting():
    q, steps = 256 / 60000, int(60 * 60000 / 256)
    assert pv.epsilon(1.12, q, steps, 1e-5, "rdp") == pytest.approx(2.52, abs=0.01)
    assert pv.epsilon(1.12, q, steps, 1e-5, "pld") == pytest.approx(2.31, abs=0.01)


def test_closed_form_rdp_matches_dp_accounting_and_the_classic_conversion_gives_2_92():
    from dp_accounting import rdp

    q, steps, orders = 256 / 60000, int(60 * 60000 / 256), list(range(2, 65))
    acc = rdp.RdpAccountant(orders)
    acc.compose(pv.dpsgd_event(1.12, q, steps))
    mine = [steps * pv.sampled_gaussian_rdp(1.12, q, a) for a in orders]
    np.testing.assert_allclose(mine, acc._rdp, rtol=1e-9)
    assert pv.rdp_to_epsilon(orders, mine, 1e-5, "classic")[0] == pytest.approx(2.92, abs=0.01)
    assert pv.rdp_to_epsilon(orders, mine, 1e-5, "improved")[0] == pytest.approx(2.52, abs=0.01)
    assert pv.sampled_gaussian_rdp(2.0, 1.0, 4) == pytest.approx(4 / 8)   # no sampling: alpha / (2 sigma^2)


def test_noise_for_epsilon_inverts_epsilon():
    q, steps = 0.01, 1000
    sigma = pv.noise_for_epsilon(2.0, q, steps, 1e-5)
    assert pv.epsilon(sigma, q, steps, 1e-5) == pytest.approx(2.0, abs=1e-3)
    assert pv.epsilon(sigma * 1.05, q, steps, 1e-5) < 2.0 < pv.epsilon(sigma * 0.95, q, steps, 1e-5)


@pytest.mark.parametrize("kw, match", [
    ({"noise_multiplier": 0.0}, "noise_multiplier"), ({"noise_multiplier": -1.0}, "noise_multiplier"),
    ({"l2_norm_clip": 0.0}, "l2_norm_clip"), ({"delta": 0.0}, "delta"), ({"delta": 1.0}, "delta"),
    ({"sampling_rate": 0.0}, "sampling_rate"), ({"sampling_rate": 1.5}, "sampling_rate"),
    ({"steps": 0}, "steps"), ({"epsilon": -1.0}, "epsilon")])
def test_invalid_privacy_parameters_raise_clear_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        pv.check_dp_params(**kw)
    args = {"noise_multiplier": 1.0, "sampling_rate": 0.1, "steps": 10, "delta": 1e-5}
    if set(kw) & set(args):
        with pytest.raises(ValueError, match=match):
            pv.epsilon(**{**args, **kw})
    with pytest.raises(ValueError, match="accountant"):
        pv.epsilon(1.0, 0.1, 10, 1e-5, accountant="moments")


def test_membership_advantage_bound():
    assert pv.membership_advantage_bound(0.0, 1e-5) == pytest.approx(2e-5 / 2)
    assert pv.membership_advantage_bound(1.0, 1e-12) == pytest.approx((math.e - 1) / (math.e + 1))
    assert pv.membership_advantage_bound(50.0, 1e-5) == 1.0


# ------------------------------------------------------------------ clipping and the DP step
def test_clip_gradients_bounds_norms_and_leaves_small_ones():
    rng = np.random.default_rng(0)
    g = [rng.normal(size=(5, 3, 2)) * 3, rng.normal(size=(5, 4))]
    g[0][0] *= 0.01
    g[1][0] *= 0.01                                   # example 0: tiny, must be untouched
    clipped, norms = pv.clip_gradients(g, 1.0)
    clipped = [np.asarray(c) for c in clipped]
    want = np.sqrt((g[0] ** 2).sum(axis=(1, 2)) + (g[1] ** 2).sum(axis=1))
    np.testing.assert_allclose(np.asarray(norms), want, rtol=1e-5)
    after = np.sqrt((clipped[0] ** 2).sum(axis=(1, 2)) + (clipped[1] ** 2).sum(axis=1))
    assert (after <= 1.0 + 1e-5).all() and np.allclose(after[1:], 1.0, atol=1e-5)
    np.testing.assert_allclose(clipped[0][0], g[0][0], rtol=1e-5)
    with pytest.raises(ValueError, match="l2_norm_clip"):
        pv.clip_gradients(g, 0.0)
    with pytest.raises(ValueError, match="same batch"):
        pv.clip_gradients([g[0], g[1][:3]], 1.0)


def _tiny(seed=0, n=12, n_items=7, d=5):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n_items, d)).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    return E, rng.normal(size=(n, d)).astype(np.float32), rng.integers(n_items, size=n)


def test_vectorised_per_example_gradients_equal_a_loop_and_the_dp_step_is_clip_sum_noise_average():
    import keras
    import tensorflow as tf

    E, P, y = _tiny()
    dp = pv.DPConfig(noise_multiplier=0.7, l2_norm_clip=0.5, expected_batch_size=len(P))
    model = pv.build_head(E, hidden=4, dp=dp, seed=1)
    model.proj.kernel.assign(np.random.default_rng(2).normal(size=model.proj.kernel.shape) * 0.3)
    Y = np.eye(len(E), dtype=np.float32)[y]
    fast = [np.asarray(g) for g in model.per_example_gradients(tf.constant(P), tf.constant(Y))]
    loop = []
    for i in range(len(P)):                           # the reference: one tape per example
        with tf.GradientTape() as tape:
            logits = model(P[i : i + 1])
            loss = -tf.reduce_sum(Y[i : i + 1] * tf.nn.log_softmax(logits))
        loop.append([np.asarray(g) for g in tape.gradient(loss, model.trainable_variables)])
    for j, g in enumerate(fast):
        np.testing.assert_allclose(g, np.stack([row[j] for row in loop]), rtol=1e-4, atol=1e-6)
    clipped, _ = pv.clip_gradients(fast, dp.l2_norm_clip)
    # one DP step with SGD(lr=1): the weight change is -(sum clipped + sigma C z) / B
    before = [np.asarray(w) for w in model.trainable_variables]
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    seed_state = np.asarray(model.noise_seed.state.value).copy()
    model.train_step((tf.constant(P), tf.constant(Y)))
    change = [b - np.asarray(w) for b, w in zip(before, model.trainable_variables)]
    model.noise_seed.state.assign(seed_state)
    noise = [np.asarray(keras.random.normal(w.shape, seed=model.noise_seed)) for w in model.trainable_variables]
    for c, s, z in zip(change, clipped, noise):
        np.testing.assert_allclose(c, (np.asarray(s).sum(0) + 0.7 * 0.5 * z) / len(P), rtol=1e-4, atol=1e-6)


def test_poisson_batches_have_the_expected_size_and_a_dp_head_learns():
    b = pv.batches(1000, 50, epochs=2, poisson=True, seed=0)
    assert len(b) == 40 and abs(np.mean([len(x) for x in b]) - 50) < 3
    fixed = pv.batches(10, 4, epochs=1, poisson=False, seed=0)
    assert [len(x) for x in fixed] == [4, 4, 2] and sorted(np.concatenate(fixed)) == list(range(10))
    E, P, y = _tiny(n=64)
    y = (np.argmax(P @ E.T, axis=1) + 1) % len(E)    # a learnable rule: the item after the most similar one
    model = pv.build_head(E, hidden=8, dp=pv.DPConfig(0.5, 1.0, 16), learning_rate=0.1, seed=0)
    before = pv.example_losses(model, P, y).mean()
    curve = pv.train_head(model, P, y, epochs=8, batch_size=16, seed=0)
    assert pv.example_losses(model, P, y).mean() < before / 2 and curve == []   # 32 steps: no full block of 50
    with pytest.raises(ValueError, match="expected_batch_size"):
        pv.train_head(model, P, y, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="noise_multiplier"):
        pv.DPConfig(0.0, 1.0, 16)


# ------------------------------------------------------------------ attack and examples
def test_loss_threshold_attack_auc_and_advantage():
    out = pv.loss_threshold_attack([0.1, 0.2, 0.3], [0.25, 0.4, 0.5])
    assert out["auc"] == pytest.approx(8 / 9)         # 8 of 9 (member, non-member) pairs ordered right
    assert out["advantage"] == pytest.approx(2 / 3)   # t = 0.2: TPR 2/3, FPR 0
    assert pv.loss_threshold_attack([1.0, 1.0], [1.0])["auc"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least one"):
        pv.loss_threshold_attack([], [1.0])


def test_profiles_and_examples():
    X = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1], [1, 1, 1]], float))
    E = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(pv.user_profiles(X, E), [[0.5, 0.5], [1.0, 1.0], [2 / 3, 2 / 3]], rtol=1e-6)
    P, y, u = pv.leave_one_out_examples(X, E)
    assert len(y) == 6
    row = np.flatnonzero((u == 2) & (y == 0))[0]
    np.testing.assert_allclose(P[row], [0.5, 1.0])   # user 2 without item 0: mean of items 1 and 2
    np.testing.assert_allclose(P[np.flatnonzero(u == 1)[0]], [0.0, 0.0])   # the only item: zero profile
    P1, y1 = pv.one_example_per_user(X, E, [0, 2], seed=0)
    assert P1.shape == (2, 2) and X[[0, 2], y1].min() == 1
    with pytest.raises(ValueError, match=">= 2"):
        pv.one_example_per_user(X, E, [1])
    mem, non = pv.member_split(X, share=0.5, seed=0)
    assert set(mem) | set(non) == {0, 2} and not set(mem) & set(non)


# ------------------------------------------------------------------ augmentation
def test_text_edits():
    t = "a b c d e f g h"
    masked = augment.mask_words(t, 0.5, rng=0)
    assert masked.split().count(augment.MASK) > 0 and len(masked.split()) == 8
    assert augment.mask_words(t, 0.0, rng=0) == t
    r = augment.reword(t, 0.0, n_swaps=1, rng=0)
    assert sorted(r.split()) == sorted(t.split()) and r != t
    assert len(augment.reword(t, 0.5, n_swaps=0, rng=1).split()) < 8
    with pytest.raises(ValueError, match="rate"):
        augment.mask_words(t, 1.0)


def test_pseudo_interactions_follow_text_similarity():
    S = np.array([[1.0, 0.0], [0.0, 1.0]])           # two source items
    T = np.array([[0.0, 1.0], [1.0, 0.1], [0.7, 0.7]])
    idx, sim = augment.nearest_targets(S, T, top=1, center=False)
    assert idx.ravel().tolist() == [1, 0]
    source = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], float))
    got = augment.pseudo_interactions(source, S, T, per_user=1, weight=0.5, center=False).toarray()
    np.testing.assert_allclose(got, [[0, 0.5, 0], [0.5, 0, 0], [0.5, 0, 0]])   # ties -> lower index
    have = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]], float))
    got = augment.pseudo_interactions(source, S, T, target_train=have, per_user=1, top=2, center=False).toarray()
    assert got[0, 1] == 0 and got[0].sum() > 0       # an item the user already has is not borrowed


def test_mixup_is_a_convex_combination():
    X, Y = np.eye(4), np.eye(4)[[0, 1, 2, 3]]
    Xm, Ym, lam = augment.mixup(X, Y, alpha=0.4, n=50, seed=0)
    assert Xm.shape == (50, 4) and np.allclose(Ym.sum(1), 1) and ((lam >= 0) & (lam <= 1)).all()
    np.testing.assert_allclose(Xm, Ym)               # X == Y here, so the same mix of both
    with pytest.raises(ValueError, match="alpha"):
        augment.mixup(X, Y, alpha=0)
