"""Hidden checks for exercises/05_domain_adaptation.ipynb.

Probes call the learner's functions on fresh inputs built from the seed; judges recompute the answer in
the grader process. TensorFlow is imported inside the q2 probe only. See docs/exercises.md.
"""

import math

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------------------------ q1: CORAL loss
def _q1_spec(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    ns, nt = int(rng.integers(6, 15)), int(rng.integers(16, 30))        # always different batch sizes
    fs = rng.normal(size=(ns, d)) * rng.uniform(0.5, 2.0, d) + rng.normal(size=d)
    ft = rng.normal(size=(nt, d)) * rng.uniform(2.5, 4.0, d) + 3.0       # a clear covariance shift
    return fs, ft


def probe_q1(ns, seed):
    fs, ft = _q1_spec(seed)
    f = checks.get_function(ns, "coral_loss_np")
    return {"loss": checks.call(f, fs.copy(), ft.copy()), "shift": checks.call(f, fs.copy(), fs + 7.0)}


def judge_q1(seed, data):
    fs, ft = _q1_spec(seed)
    d = fs.shape[1]
    want = np.sum((np.cov(fs, rowvar=False) - np.cov(ft, rowvar=False)) ** 2) / (4 * d * d)
    checks.assert_close(data["shift"], 0.0, "coral_loss_np(fs, fs + 7) (a pure shift)", atol=1e-9)
    checks.assert_close(data["loss"], want, f"coral_loss_np on a ({len(fs)}, {d}) and a ({len(ft)}, {d}) batch",
                        rtol=1e-6)


# ------------------------------------------------------------------------------- q2: gradient reversal
def _q2_spec(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
    return {"x": rng.normal(size=shape).astype("float32"), "w": rng.normal(size=shape).astype("float32"),
            "lam": float(rng.uniform(0.2, 0.9))}                          # never 1: a missing scale is caught


def probe_q2(ns, seed):
    import tensorflow as tf

    s = _q2_spec(seed)
    f = checks.get_function(ns, "flip_gradient")
    x = tf.Variable(s["x"])
    with tf.GradientTape() as tape:
        y = checks.call(f, x, s["lam"])
        loss = tf.reduce_sum(tf.convert_to_tensor(y) ** 2 * s["w"])
    g = tape.gradient(loss, x)
    if g is None:
        raise AssertionError("no gradient reaches x through flip_gradient: return the decorated function's result")
    return {"forward": np.asarray(y), "grad": g.numpy()}


def judge_q2(seed, data):
    s = _q2_spec(seed)
    checks.assert_close(data["forward"], s["x"], "flip_gradient(x, lam) forward (must equal x)", atol=1e-6)
    want = -s["lam"] * 2 * s["x"] * s["w"]
    checks.assert_close(data["grad"], want, f"gradient through flip_gradient (lam = {s['lam']:.3f})", atol=1e-5)


# ---------------------------------------------------------------------------------- q3: lambda schedule
def _q3_spec(seed):
    rng = np.random.default_rng(seed)
    return {"ps": [0.0, *np.round(rng.uniform(0.01, 1.0, 5), 4).tolist(), 1.0], "gamma": float(rng.uniform(2.0, 6.0))}


def probe_q3(ns, seed):
    s = _q3_spec(seed)
    f = checks.get_function(ns, "lambda_schedule")
    return {"default": [float(checks.call(f, p)) for p in s["ps"]],
            "gamma": [float(checks.call(f, p, gamma=s["gamma"])) for p in s["ps"]]}


def judge_q3(seed, data):
    s = _q3_spec(seed)
    lam = lambda p, g: 2.0 / (1.0 + math.exp(-g * p)) - 1.0
    checks.assert_close(data["default"], [lam(p, 10.0) for p in s["ps"]], f"lambda_schedule(p) at p = {s['ps']}")
    checks.assert_close(data["gamma"], [lam(p, s["gamma"]) for p in s["ps"]],
                        f"lambda_schedule(p, gamma={s['gamma']:.3f})")


# ---------------------------------------------------------------------------------- q4: proxy A-distance
def _q4_spec(seed):
    rng = np.random.default_rng(seed)
    return [float(v) for v in np.round(rng.uniform(0.55, 0.98, 4), 4)] + [float(np.round(rng.uniform(0.05, 0.45), 4))]


def probe_q4(ns, seed):
    f = checks.get_function(ns, "proxy_a_distance_from_accuracy")
    return [float(checks.call(f, a)) for a in _q4_spec(seed)]


def judge_q4(seed, data):
    accs = _q4_spec(seed)
    want = [2.0 * (1.0 - 2.0 * min(1.0 - a, 0.5)) for a in accs]
    checks.assert_close(data, want, f"proxy_a_distance_from_accuracy at accuracies {accs}")


QUESTIONS = [
    Question("q1", points=2, title="CORAL loss", probe=probe_q1, judge=judge_q1, wrong={
        "no 1/(4 d^2)": ("def coral_loss_np(fs, ft):\n"
                         "    return float(np.sum((np.cov(fs, rowvar=False) - np.cov(ft, rowvar=False)) ** 2))\n"),
        "biased covariance": ("def coral_loss_np(fs, ft):\n"
                              "    cs, ct = np.cov(fs, rowvar=False, ddof=0), np.cov(ft, rowvar=False, ddof=0)\n"
                              "    return float(np.sum((cs - ct) ** 2) / (4 * fs.shape[1] ** 2))\n"),
        "no centring (second moments)": ("def coral_loss_np(fs, ft):\n"
                                         "    cs, ct = fs.T @ fs / (len(fs) - 1), ft.T @ ft / (len(ft) - 1)\n"
                                         "    return float(np.sum((cs - ct) ** 2) / (4 * fs.shape[1] ** 2))\n"),
    }),
    Question("q2", points=3, title="gradient reversal", probe=probe_q2, judge=judge_q2, wrong={
        "no reversal (identity)": "def flip_gradient(x, lam):\n    return tf.identity(x)\n",
        "minus sign only": ("def flip_gradient(x, lam):\n"
                            "    @tf.custom_gradient\n"
                            "    def _f(t):\n"
                            "        return tf.identity(t), lambda dy: -dy\n"
                            "    return _f(x)\n"),
        "scaled, not reversed": ("def flip_gradient(x, lam):\n"
                                 "    @tf.custom_gradient\n"
                                 "    def _f(t):\n"
                                 "        return tf.identity(t), lambda dy: lam * dy\n"
                                 "    return _f(x)\n"),
    }),
    Question("q3", points=2, title="lambda schedule", probe=probe_q3, judge=judge_q3, wrong={
        "missing - 1": "def lambda_schedule(p, gamma=10.0):\n    return 2.0 / (1.0 + math.exp(-gamma * p))\n",
        "gamma ignored": "def lambda_schedule(p, gamma=10.0):\n    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0\n",
        "sign of the exponent": "def lambda_schedule(p, gamma=10.0):\n    return 2.0 / (1.0 + math.exp(gamma * p)) - 1.0\n",
    }),
    Question("q4", points=1, title="proxy A-distance", probe=probe_q4, judge=judge_q4, wrong={
        "accuracy used as the error": "def proxy_a_distance_from_accuracy(acc):\n    return 2.0 * (1.0 - 2.0 * acc)\n",
        "no clipping": "def proxy_a_distance_from_accuracy(acc):\n    return 2.0 * (1.0 - 2.0 * (1.0 - acc))\n",
        "factor 2 missing": "def proxy_a_distance_from_accuracy(acc):\n    return max(0.0, 1.0 - 2.0 * (1.0 - acc))\n",
    }),
]
