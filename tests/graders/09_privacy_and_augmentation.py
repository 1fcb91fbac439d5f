"""Hidden checks for exercises/09_privacy_and_augmentation.ipynb.

q1 and q2 are pure NumPy on fresh seeded inputs; q3's judge recomputes ε with ``dp-accounting`` in
the grader process, so a σ hard-coded for the visible check fails. See
translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------ q1: per-example clipping
def _q1_inputs(seed):
    rng = np.random.default_rng(seed)
    B, n = int(rng.integers(5, 12)), int(rng.integers(3, 9))
    G = rng.normal(size=(B, n)) * rng.uniform(0.05, 3.0, size=(B, 1))
    C = float(rng.uniform(0.3, 2.0))
    G[0] = 0.0                                           # an example with a zero gradient
    G[1] *= 0.5 * C / np.linalg.norm(G[1])               # one below the clip norm: must stay unchanged
    G[2] *= 3.0 * C / np.linalg.norm(G[2])               # one far above it
    return G, C


def _reference_clip(G, C):
    norms = np.linalg.norm(G, axis=1, keepdims=True)
    return G * np.minimum(1.0, C / np.maximum(norms, 1e-12))


def probe_q1(ns, seed):
    G, C = _q1_inputs(seed)
    out = checks.call(checks.get_function(ns, "clip_per_example"), G.copy(), C)
    return checks.as_array(out, "clip_per_example(G, C)", shape=G.shape)


def judge_q1(seed, data):
    G, C = _q1_inputs(seed)
    got = np.asarray(data, float)
    if not np.isfinite(got).all():
        raise AssertionError("the result contains nan/inf: an example with a zero gradient must stay zero")
    norms = np.linalg.norm(got, axis=1)
    if (norms > C * (1 + 1e-6)).any():
        raise AssertionError(f"a clipped row has norm {norms.max():.4f} > C = {C:.4f}: clip each example's whole vector")
    checks.assert_close(got, _reference_clip(G, C), "each row scaled by min(1, C / ||row||)")


# ------------------------------------------------------------------ q2: the noisy average
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    B, n = int(rng.integers(5, 12)), int(rng.integers(3, 9))
    G = rng.normal(size=(B, n)) * 2.0
    return G, float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 3.0)), float(B + rng.integers(3, 10)), rng.normal(size=n)


def probe_q2(ns, seed):
    G, C, sigma, expected, z = _q2_inputs(seed)
    out = checks.call(checks.get_function(ns, "dp_mean"), G.copy(), C, sigma, expected, z.copy())
    return checks.as_array(out, "dp_mean(G, C, sigma, expected_batch, z)", shape=(G.shape[1],))


def judge_q2(seed, data):
    G, C, sigma, expected, z = _q2_inputs(seed)
    want = (_reference_clip(G, C).sum(axis=0) + sigma * C * z) / expected
    got = np.asarray(data, float)
    if np.allclose(got, (_reference_clip(G, C).sum(axis=0) + sigma * C * z) / len(G)):
        raise AssertionError(f"divided by the actual batch size {len(G)}: divide by the expected batch size {expected:g}")
    checks.assert_close(got, want, "(sum of clipped gradients + sigma * C * z) / expected_batch")


# ------------------------------------------------------------------ q3: σ for a target ε
def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    return float(rng.choice([1.0, 2.0, 4.0, 8.0])), float(rng.uniform(0.005, 0.05)), int(rng.integers(200, 2000)), 1e-5


def probe_q3(ns, seed):
    eps, q, steps, delta = _q3_inputs(seed)
    out = checks.call(checks.get_function(ns, "noise_for"), eps, q, steps, delta)
    try:
        return float(out)
    except (TypeError, ValueError):
        raise AssertionError(f"noise_for(...) must return one number (sigma), got {type(out).__name__}") from None


def _eps(sigma, q, steps, delta):
    import dp_accounting

    acc = dp_accounting.rdp.RdpAccountant()
    acc.compose(dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps))
    return acc.get_epsilon(delta)


def judge_q3(seed, data):
    eps, q, steps, delta = _q3_inputs(seed)
    sigma = float(data)
    if not np.isfinite(sigma) or sigma <= 0:
        raise AssertionError(f"sigma must be a positive number, got {sigma}")
    got = _eps(sigma, q, steps, delta)
    if got > eps * 1.001:
        raise AssertionError(f"with sigma = {sigma:.4f} the RDP accountant gives eps = {got:.3f} > target {eps:g}: too little noise")
    if _eps(sigma * 0.98, q, steps, delta) <= eps:
        raise AssertionError(f"sigma = {sigma:.4f} is more noise than needed: 2 % less still meets eps = {eps:g} "
                             "(find the smallest sigma, to within 1 %)")


QUESTIONS = [
    Question("q1", points=2, title="per-example clipping", probe=probe_q1, judge=judge_q1, wrong={
        "clip coordinates": "def clip_per_example(G, C):\n    return np.clip(np.asarray(G, float), -C, C)\n",
        "normalise every row": (
            "def clip_per_example(G, C):\n"
            "    G = np.asarray(G, float)\n"
            "    return C * G / np.maximum(np.linalg.norm(G, axis=1, keepdims=True), 1e-12)\n"),
        "clip the batch norm": (
            "def clip_per_example(G, C):\n"
            "    G = np.asarray(G, float)\n"
            "    return G * min(1.0, C / np.linalg.norm(G))\n"),
        "one factor from the largest norm": (
            "def clip_per_example(G, C):\n"
            "    G = np.asarray(G, float)\n"
            "    return G * min(1.0, C / np.linalg.norm(G, axis=1).max())\n"),
    }),
    Question("q2", points=2, title="clip, sum, noise, average", probe=probe_q2, judge=judge_q2, wrong={
        "actual batch size": (
            "def dp_mean(G, C, sigma, expected_batch, z):\n"
            "    G = np.asarray(G, float)\n"
            "    n = np.linalg.norm(G, axis=1, keepdims=True)\n"
            "    return ((G * np.minimum(1, C / np.maximum(n, 1e-12))).sum(0) + sigma * C * z) / len(G)\n"),
        "noise not scaled by C": (
            "def dp_mean(G, C, sigma, expected_batch, z):\n"
            "    G = np.asarray(G, float)\n"
            "    n = np.linalg.norm(G, axis=1, keepdims=True)\n"
            "    return ((G * np.minimum(1, C / np.maximum(n, 1e-12))).sum(0) + sigma * z) / expected_batch\n"),
        "no clipping": (
            "def dp_mean(G, C, sigma, expected_batch, z):\n"
            "    return (np.asarray(G, float).sum(0) + sigma * C * z) / expected_batch\n"),
    }),
    Question("q3", points=3, title="noise multiplier for a target epsilon", probe=probe_q3, judge=judge_q3, wrong={
        "too little noise": (
            "def noise_for(target_eps, q, steps, delta):\n"
            "    lo, hi = 0.3, 50.0\n"
            "    for _ in range(40):\n"
            "        mid = (lo + hi) / 2\n"
            "        lo, hi = (lo, mid) if pv.epsilon(mid, q, steps, delta) <= target_eps else (mid, hi)\n"
            "    return lo * 0.9\n"),
        "far too much noise": "def noise_for(target_eps, q, steps, delta):\n    return 50.0\n",
        "ignores the number of steps": (
            "def noise_for(target_eps, q, steps, delta):\n"
            "    return pv.noise_for_epsilon(target_eps, q, 100, delta)\n"),
        "a constant": "def noise_for(target_eps, q, steps, delta):\n    return 1.1\n",
    }),
]
