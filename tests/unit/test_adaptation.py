"""Tests for translearn_lib.adaptation on small synthetic inputs (values, not just shapes)."""

import math

import numpy as np
import pandas as pd
import pytest

from translearn_lib.adaptation import coral, dann, diagnostics, mmd, tasks


def _gauss(n, d, seed, mean=0.0, scale=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    if scale is not None:
        x = x * np.asarray(scale)
    return x + mean


# ------------------------------------------------------------------------------------------ CORAL
def test_covariance_matches_numpy():
    x = _gauss(50, 4, 0)
    assert np.allclose(coral.covariance(x), np.cov(x, rowvar=False))


def test_coral_loss_zero_for_identical_covariances_whatever_the_means():
    x = _gauss(40, 5, 1)
    assert coral.coral_loss(x, x + 3.0) == pytest.approx(0.0, abs=1e-12)   # a mean shift is invisible to CORAL


def test_coral_loss_value_and_growth_with_covariance_shift():
    x = _gauss(200, 3, 2)
    y = _gauss(200, 3, 3)
    want = np.sum((np.cov(x, rowvar=False) - np.cov(y, rowvar=False)) ** 2) / (4 * 3 * 3)
    assert coral.coral_loss(x, y) == pytest.approx(want, rel=1e-10)
    losses = [coral.coral_loss(x, y * s) for s in (1.0, 1.5, 2.0, 3.0)]
    assert all(a < b for a, b in zip(losses, losses[1:])), losses


def test_coral_loss_on_tensors_matches_numpy_and_has_gradients():
    tf = pytest.importorskip("tensorflow")
    x, y = _gauss(30, 4, 4).astype("float32"), (_gauss(30, 4, 5) * 2).astype("float32")
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = coral.coral_loss(xt, tf.constant(y))
    assert float(loss) == pytest.approx(coral.coral_loss(x, y), rel=1e-4)
    assert np.abs(tape.gradient(loss, xt).numpy()).sum() > 0


def test_coral_align_equals_whitening_then_recolouring_with_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    xs = _gauss(80, 4, 6, scale=[1.0, 2.0, 0.5, 3.0])
    xt = _gauss(60, 4, 7) @ np.array([[1, 0.5, 0, 0], [0, 1, 0.3, 0], [0, 0, 2, 0], [0.2, 0, 0, 1]])
    eye = np.eye(4)
    cs = np.cov(xs, rowvar=False) + eye
    ct = np.cov(xt, rowvar=False) + eye
    want = xs @ np.real(scipy_linalg.fractional_matrix_power(cs, -0.5)) @ np.real(scipy_linalg.sqrtm(ct))
    got = coral.coral_align(xs, xt, eps=1.0)
    assert np.allclose(got, want, atol=1e-8)


def test_coral_align_makes_covariances_equal_when_eps_is_tiny():
    xs = _gauss(500, 3, 8, scale=[1.0, 4.0, 0.3])
    xt = _gauss(400, 3, 9, scale=[2.0, 0.5, 1.0])
    got = coral.coral_align(xs, xt, eps=1e-9)
    assert np.allclose(np.cov(got, rowvar=False), np.cov(xt, rowvar=False), atol=1e-6)


@pytest.mark.parametrize("fn", [coral.coral_loss, coral.coral_align, mmd.mmd_loss])
def test_bad_feature_batches_raise_clear_errors(fn):
    with pytest.raises(ValueError, match="different feature sizes"):
        fn(np.ones((5, 3)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="empty batch|rows"):
        fn(np.ones((0, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="2-D"):
        fn(np.ones(5), np.ones((5, 1)))


def test_coral_needs_two_rows_and_positive_eps():
    with pytest.raises(ValueError, match="at least 2"):
        coral.coral_loss(np.ones((1, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="eps"):
        coral.coral_align(_gauss(5, 2, 0), _gauss(5, 2, 1), eps=0.0)
    with pytest.raises(ValueError, match="positive definite"):
        coral.symmetric_power(-np.eye(2), 0.5)


# -------------------------------------------------------------------------------------------- MMD
def _mmd_numpy(x, y, mul=2.0, num=5):
    z = np.concatenate([x, y])
    d = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    n = len(z)
    base = d.sum() / (n * n - n)
    k = sum(np.exp(-d / (base * mul ** (i - num // 2))) for i in range(num)) / num
    m = len(x)
    return k[:m, :m].mean() + k[m:, m:].mean() - 2 * k[:m, m:].mean()


def test_mmd_matches_a_direct_computation():
    x, y = _gauss(20, 3, 10), _gauss(25, 3, 11, mean=0.5)
    assert mmd.mmd_loss(x, y) == pytest.approx(_mmd_numpy(x, y), rel=1e-9)
    assert mmd.bandwidth_multipliers(2.0, 5).tolist() == [0.25, 0.5, 1.0, 2.0, 4.0]


def test_mmd_near_zero_for_one_distribution_and_grows_with_mean_shift():
    x = _gauss(300, 4, 12)
    same = mmd.mmd_loss(x, _gauss(300, 4, 13))
    shifted = [mmd.mmd_loss(x, _gauss(300, 4, 13, mean=s)) for s in (0.5, 1.0, 2.0)]
    assert 0 <= same < 0.05
    assert same < shifted[0] < shifted[1] < shifted[2]
    assert shifted[0] > 5 * same
    assert mmd.mmd_loss(x, x) == pytest.approx(0.0, abs=1e-12)


def test_mmd_bad_kernel_settings():
    x = _gauss(5, 2, 0)
    with pytest.raises(ValueError, match="kernel_mul"):
        mmd.mmd_loss(x, x, kernel_mul=1.0)
    with pytest.raises(ValueError, match="kernel_num"):
        mmd.mmd_loss(x, x, kernel_num=0)
    with pytest.raises(ValueError, match="bandwidth"):
        mmd.mmd_loss(x, x, bandwidth=-1.0)


# ------------------------------------------------------------------------------------------- DANN
def test_lambda_schedule_values():
    assert dann.dann_lambda(0.0) == 0.0
    assert dann.dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert dann.dann_lambda(1.0) == pytest.approx(math.tanh(5.0))
    values = [dann.dann_lambda(p) for p in np.linspace(0, 1, 11)]
    assert all(a < b for a, b in zip(values, values[1:])) and values[-1] < 1
    with pytest.raises(ValueError, match="progress"):
        dann.dann_lambda(1.5)


@pytest.mark.parametrize("bad", [-0.1, float("inf"), "x"])
def test_negative_lambda_raises(bad):
    with pytest.raises(ValueError, match="lambda"):
        dann.check_lambda(bad)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 2.5])
def test_gradient_reversal_flips_and_scales_gradients_exactly(lam):
    tf = pytest.importorskip("tensorflow")
    x = tf.Variable(np.array([[1.0, -2.0, 3.0]], dtype="float32"))
    w = tf.constant([[0.5, 2.0, -1.0]])
    layer = dann.GradientReversal(lam)
    with tf.GradientTape(persistent=True) as tape:
        plain = tf.reduce_sum(w * x ** 2)
        out = layer(x)
        reversed_ = tf.reduce_sum(w * out ** 2)
    assert np.array_equal(out.numpy(), x.numpy())                          # identity forward
    g_plain, g_rev = tape.gradient(plain, x).numpy(), tape.gradient(reversed_, x).numpy()
    assert np.array_equal(g_rev, np.float32(-lam) * g_plain)               # -lambda times the gradient
    layer.set_lambda(0.75)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x) * w)
    assert np.array_equal(tape.gradient(y, x).numpy(), np.float32(-0.75) * w.numpy())
    with pytest.raises(ValueError, match="lambda"):
        layer.set_lambda(-1.0)
    with pytest.raises(ValueError, match="lambda"):
        dann.GradientReversal(-0.5)


def test_domain_head_and_dann_builder():
    pytest.importorskip("keras")
    from translearn_lib.adaptation import training

    clf = training.build_mlp_classifier(6, 3, hidden=8, features=4, seed=0)
    model = dann.build_dann(clf, domain_units=5, seed=0)
    probs, logit = model(np.ones((2, 6), dtype="float32"))
    assert tuple(probs.shape) == (2, 3) and tuple(logit.shape) == (2, 1)
    assert np.allclose(np.asarray(probs).sum(axis=1), 1.0, atol=1e-5)
    head = model.get_layer(dann.DOMAIN_HEAD_NAME)
    assert type(head.layers[0]).__name__ == "GradientReversal"


# ---------------------------------------------------------------------------------------- training
def _shifted_blobs(n, seed, shift=0.0):
    """Two Gaussian classes in 2-D; the target is the source shifted along the class boundary direction."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(scale=0.5, size=(n, 2)) + np.where(y[:, None] == 1, [2.0, 0.0], [-2.0, 0.0]) + [0.0, shift]
    return x.astype("float32"), y.astype(np.int64)


def test_fit_adapted_is_seeded_and_records_history():
    pytest.importorskip("keras")
    from translearn_lib import config
    from translearn_lib.adaptation import training

    xs, ys = _shifted_blobs(64, 0)
    xt, _ = _shifted_blobs(64, 1, shift=1.0)
    outs = []
    for _ in range(2):
        config.set_seed(0)
        run = training.fit_adapted(training.build_mlp_classifier(2, 2, hidden=8, features=4, seed=0), xs, ys, xt,
                                   method="dann", steps=30, batch_size=16, log_every=10, seed=0)
        outs.append(run)
    assert list(outs[0].history["step"]) == [0, 10, 20, 29]
    assert outs[0].history["lambda"].iloc[0] == 0.0 and outs[0].history["lambda"].is_monotonic_increasing
    assert np.array_equal(outs[0].history[["class_loss", "align_loss"]].to_numpy(),
                          outs[1].history[["class_loss", "align_loss"]].to_numpy())
    assert outs[0].domain_head is not None


@pytest.mark.parametrize("method", ["source-only", "coral", "mmd", "dann"])
def test_every_method_learns_the_source_task(method):
    pytest.importorskip("keras")
    from translearn_lib import keras_transfer as kt
    from translearn_lib.adaptation import training

    xs, ys = _shifted_blobs(128, 2)
    xt, _ = _shifted_blobs(64, 3, shift=0.5)
    run = training.fit_adapted(training.build_mlp_classifier(2, 2, hidden=8, features=4, seed=0), xs, ys, xt,
                               method=method, steps=150, batch_size=32, lr=1e-2, seed=0)
    assert kt.accuracy(run.model, xs, ys) > 0.95


def test_fit_adapted_bad_input():
    pytest.importorskip("keras")
    from translearn_lib.adaptation import training

    clf = training.build_mlp_classifier(2, 2, hidden=4, features=3, seed=0)
    xs, ys = _shifted_blobs(16, 0)
    with pytest.raises(ValueError, match="method"):
        training.fit_adapted(clf, xs, ys, xs, method="cdan")
    with pytest.raises(ValueError, match="lambda"):
        training.fit_adapted(clf, xs, ys, xs, method="coral", weight=-1.0)
    with pytest.raises(ValueError, match="empty target"):
        training.fit_adapted(clf, xs, ys, xs[:0], method="coral")
    with pytest.raises(ValueError, match="differ in shape"):
        training.fit_adapted(clf, xs, ys, np.ones((8, 3), "float32"), method="coral")
    with pytest.raises(ValueError, match="empty data"):
        training.fit_adapted(clf, xs[:0], ys[:0], xs, method="coral")


def test_compare_methods_returns_and_caches_models(tmp_cache):
    pytest.importorskip("keras")
    from translearn_lib import keras_transfer as kt
    from translearn_lib.adaptation import training

    xs, ys = _shifted_blobs(64, 4)
    xt, yt = _shifted_blobs(48, 5, shift=0.5)
    make = lambda s: training.build_mlp_classifier(2, 2, hidden=8, features=4, seed=s)
    methods = {"source-only": dict(method="source-only", steps=20, batch_size=16),
               "mmd": dict(method="mmd", weight=1.0, steps=20, batch_size=16)}
    res, models = training.compare_methods(make, xs, ys, xt, xt, yt, methods, seeds=(0, 1), return_models=True)
    assert sorted(models) == [("mmd", 0), ("mmd", 1), ("source-only", 0), ("source-only", 1)]
    for r in res.itertuples():                              # each row's accuracy is its returned model's
        assert r.accuracy == kt.accuracy(models[(r.method, r.seed)], xt, yt)
    assert len(list((tmp_cache / "models").glob("adaptation-*.keras"))) == 4
    again, loaded = training.compare_methods(make, xs, ys, xt, xt, yt, methods, seeds=(0, 1), return_models=True)
    assert again["seconds"].tolist() == res["seconds"].tolist()          # read from the cache, not retrained
    assert np.array_equal(kt.predict_proba(loaded[("mmd", 1)], xt), kt.predict_proba(models[("mmd", 1)], xt))
    for f in (tmp_cache / "models").glob("adaptation-*.keras"):           # results cached, models gone:
        f.unlink()                                                         # trained again, same numbers
    third, _ = training.compare_methods(make, xs, ys, xt, xt, yt, methods, seeds=(0, 1), return_models=True)
    assert third["accuracy"].tolist() == res["accuracy"].tolist()
    plain = training.compare_methods(make, xs, ys, xt, xt, yt, methods, seeds=(0,))
    assert isinstance(plain, pd.DataFrame) and plain["accuracy"].tolist() == res["accuracy"][res.seed == 0].tolist()


def test_summarize_methods_gains():
    res = pd.DataFrame({"method": ["source-only"] * 2 + ["dann"] * 2, "seed": [0, 1, 0, 1],
                        "accuracy": [0.70, 0.72, 0.80, 0.76], "seconds": [1.0, 3.0, 2.0, 4.0]})
    from translearn_lib.adaptation import training

    s = training.summarize_methods(res)
    assert list(s.index) == ["source-only", "dann"]
    assert s.loc["dann", "gain"] == pytest.approx(7.0)
    assert s.loc["dann", "seconds"] == pytest.approx(3.0)
    assert s.loc["source-only", "std"] == pytest.approx(np.std([0.70, 0.72], ddof=1))
    with pytest.raises(ValueError, match="baseline"):
        training.summarize_methods(res, baseline="coral")


# ------------------------------------------------------------------------------------ diagnostics
def test_proxy_a_distance_extremes():
    far = diagnostics.proxy_a_distance(_gauss(200, 3, 0), _gauss(200, 3, 1, mean=10.0), seed=0)
    assert far["accuracy"] == 1.0 and far["pad"] == 2.0
    near = diagnostics.proxy_a_distance(_gauss(400, 3, 2), _gauss(400, 3, 3), seed=0)
    assert near["pad"] < 0.3
    assert near["pad"] == pytest.approx(2 * (1 - 2 * min(near["error"], 0.5)), abs=1e-3)
    with pytest.raises(ValueError, match="different feature sizes"):
        diagnostics.proxy_a_distance(np.ones((10, 2)), np.ones((10, 3)))


def test_label_distribution_and_total_variation():
    p = diagnostics.label_distribution(np.array([0, 0, 1, 2]), 4)
    assert p.tolist() == [0.5, 0.25, 0.25, 0.0]
    q = diagnostics.label_distribution(np.eye(4)[[3, 3, 1, 2]], 4)
    assert diagnostics.total_variation(p, q) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="labels must be"):
        diagnostics.label_distribution(np.array([5]), 4)
    with pytest.raises(ValueError, match="no predictions"):
        diagnostics.label_distribution(np.array([], dtype=int), 4)


def test_validation_subset_is_per_class_and_seeded():
    y = np.repeat(np.arange(3), [5, 2, 7])
    idx = tasks.validation_subset(y, 3, seed=0)
    assert np.bincount(y[idx]).tolist() == [3, 2, 3]
    assert np.array_equal(idx, tasks.validation_subset(y, 3, seed=0))
    with pytest.raises(ValueError):
        tasks.validation_subset(y, 0)
