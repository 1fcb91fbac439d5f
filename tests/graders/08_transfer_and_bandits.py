"""Hidden checks for exercises/08_transfer_and_bandits.ipynb.

All three questions are pure NumPy on fresh seeded inputs; the judges recompute the answer from the
seed in the grader process. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------------ q1: the LinUCB choice
def _q1_cases(seed):
    """Pages where the answer differs from greedy, from 'bonus without sqrt', and from 'θ = b'."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(6):
        d, m = int(rng.integers(2, 5)), int(rng.integers(4, 8))
        X0 = rng.normal(size=(int(rng.integers(3, 10)), d))
        A = np.eye(d) + X0.T @ X0
        b = X0.T @ rng.random(len(X0))
        X = rng.normal(size=(m, d))
        cases.append((A, b, X, float(rng.choice([0.3, 1.0, 2.5]))))
    # fixed pages that expose each typical mistake for any seed:
    # equal means, the bonus decides (greedy picks 0; forgetting A⁻¹ makes candidate 0 look best)
    cases.append((np.diag([1.0, 4.0]), np.array([0.5, 2.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), 1.0))
    # the bonus without its square root prefers the long vector, the true UCB the better mean
    cases.append((np.eye(2), np.array([0.0, 1.8]), np.array([[2.0, 0.0], [0.0, 1.0]]), 1.0))
    # a tie: two identical candidates, the first must win
    cases.append((np.eye(2) * 2, np.array([1.0, 0.0]), np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]), 0.0))
    return cases


def _ref_choose(A, b, X, alpha):
    A_inv = np.linalg.inv(A)
    ucb = X @ (A_inv @ b) + alpha * np.sqrt(np.einsum("md,de,me->m", X, A_inv, X))
    return int(np.argmax(ucb))


def probe_q1(ns, seed):
    f = checks.get_function(ns, "linucb_choose")
    out = []
    for A, b, X, alpha in _q1_cases(seed):
        got = checks.call(f, A.copy(), b.copy(), X.copy(), alpha)
        out.append(int(np.asarray(got).reshape(())) if np.ndim(got) == 0 else -1)
    return out


def judge_q1(seed, data):
    for k, ((A, b, X, alpha), got) in enumerate(zip(_q1_cases(seed), data)):
        want = _ref_choose(A, b, X, alpha)
        if got != want:
            raise AssertionError(f"page {k} (alpha={alpha}): expected position {want}, got {got} "
                                 "(score = x·A⁻¹b + alpha·sqrt(xᵀA⁻¹x); ties: the first candidate)")


# ------------------------------------------------------------------------ q2: the LinUCB update
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    M = rng.normal(size=(d, d))
    return np.eye(d) + M @ M.T, rng.normal(size=d), rng.normal(size=d), float(rng.uniform(0.2, 1.0))


def probe_q2(ns, seed):
    A, b, x, r = _q2_inputs(seed)
    A_in, b_in = A.copy(), b.copy()
    out = checks.call(checks.get_function(ns, "linucb_update"), A_in, b_in, x.copy(), r)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError("linucb_update must return the pair (A, b)")
    return {"A": checks.as_array(out[0], "A", shape=A.shape), "b": checks.as_array(out[1], "b", shape=b.shape),
            "A_in": A_in, "b_in": b_in}


def judge_q2(seed, data):
    A, b, x, r = _q2_inputs(seed)
    if not (np.allclose(data["A_in"], A) and np.allclose(data["b_in"], b)):
        raise AssertionError("the input arrays were modified: return new arrays instead")
    checks.assert_close(np.asarray(data["A"]), A + np.outer(x, x), "A + x xᵀ")
    checks.assert_close(np.asarray(data["b"]), b + r * x, "b + r x")


# ------------------------------------------------------------------------ q3: the IPS estimate
def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 40))
    rewards = (rng.random(n) < 0.4).astype(float)
    rewards[:3] = 1.0
    p = rng.uniform(0.05, 0.9, n)
    pi = rng.choice([0.0, 1.0, 0.5], n)
    pi[:3] = [1.0, 0.0, 1.0]                      # keeps the weights' sum away from n
    return rewards, pi, p


def probe_q3(ns, seed):
    r, pi, p = _q3_inputs(seed)
    out = checks.call(checks.get_function(ns, "ips_estimate"), r.copy(), pi.copy(), p.copy())
    return float(np.asarray(out, dtype=float).reshape(()))


def judge_q3(seed, data):
    r, pi, p = _q3_inputs(seed)
    checks.assert_close(data, float(np.mean(r * pi / p)), "mean(r · π / p)")


QUESTIONS = [
    Question("q1", points=3, title="the LinUCB choice", probe=probe_q1, judge=judge_q1, wrong={
        "greedy (no bonus)": (
            "def linucb_choose(A, b, X, alpha):\n"
            "    return int(np.argmax(X @ np.linalg.solve(A, b)))\n"),
        "bonus without the square root": (
            "def linucb_choose(A, b, X, alpha):\n"
            "    Ai = np.linalg.inv(A)\n"
            "    return int(np.argmax(X @ Ai @ b + alpha * np.einsum('md,de,me->m', X, Ai, X)))\n"),
        "theta = b (forgot A inverse)": (
            "def linucb_choose(A, b, X, alpha):\n"
            "    Ai = np.linalg.inv(A)\n"
            "    return int(np.argmax(X @ b + alpha * np.sqrt(np.einsum('md,de,me->m', X, Ai, X))))\n"),
        "last maximum on ties": (
            "def linucb_choose(A, b, X, alpha):\n"
            "    Ai = np.linalg.inv(A)\n"
            "    s = X @ Ai @ b + alpha * np.sqrt(np.einsum('md,de,me->m', X, Ai, X))\n"
            "    return int(len(s) - 1 - np.argmax(s[::-1]))\n"),
    }),
    Question("q2", points=2, title="the LinUCB update", probe=probe_q2, judge=judge_q2, wrong={
        "in place": (
            "def linucb_update(A, b, x, r):\n"
            "    A += np.outer(x, x)\n"
            "    b += r * x\n"
            "    return A, b\n"),
        "x times x elementwise": (
            "def linucb_update(A, b, x, r):\n"
            "    return A + np.diag(x * x), b + r * x\n"),
        "reward not applied": (
            "def linucb_update(A, b, x, r):\n"
            "    return A + np.outer(x, x), b + x\n"),
    }),
    Question("q3", points=3, title="IPS estimate", probe=probe_q3, judge=judge_q3, wrong={
        "self-normalised (SNIPS)": (
            "def ips_estimate(rewards, target_probs, propensities):\n"
            "    w = np.asarray(target_probs) / np.asarray(propensities)\n"
            "    return float((np.asarray(rewards) * w).sum() / w.sum())\n"),
        "multiplied by the propensity": (
            "def ips_estimate(rewards, target_probs, propensities):\n"
            "    return float(np.mean(np.asarray(rewards) * np.asarray(target_probs) * np.asarray(propensities)))\n"),
        "replay-like (matched mean)": (
            "def ips_estimate(rewards, target_probs, propensities):\n"
            "    r, pi = np.asarray(rewards), np.asarray(target_probs)\n"
            "    return float(r[pi > 0].mean())\n"),
    }),
]
