"""Hidden checks for exercises/06_cold_start.ipynb.

All three questions are pure NumPy on fresh seeded inputs; the judges recompute the answer from the
seed in the grader process. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------ q1: profiles from a few liked items
def _q1_inputs(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, d = int(rng.integers(5, 9)), int(rng.integers(10, 16)), int(rng.integers(3, 6))
    X = (rng.random((n_users, n_items)) < 0.25).astype(float)
    X[0] = 0.0                                   # a user with nothing
    X[1] = 0.0
    X[1, int(rng.integers(n_items))] = 1.0       # a user with one item
    E = rng.normal(size=(n_items, d))
    return X, E


def probe_q1(ns, seed):
    X, E = _q1_inputs(seed)
    out = checks.call(checks.get_function(ns, "user_profiles"), X.copy(), E.copy())
    return checks.as_array(out, "user_profiles(X, E)", shape=(X.shape[0], E.shape[1]))


def judge_q1(seed, data):
    X, E = _q1_inputs(seed)
    want = (X @ E) / np.maximum(X.sum(axis=1), 1)[:, None]
    got = np.asarray(data, dtype=float)
    if not np.isfinite(got).all():
        raise AssertionError("the result contains nan/inf: a user with no item must get a zero profile")
    checks.assert_close(got, want, "mean embedding of each user's items")


# ------------------------------------------------------------------------- q2: text -> factor ridge
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    n, d, f = int(rng.integers(20, 40)), int(rng.integers(3, 7)), int(rng.integers(2, 5))
    E = rng.normal(size=(n, d))
    Q = E @ rng.normal(size=(d, f)) + rng.normal(size=f) * 3 + 0.1 * rng.normal(size=(n, f))
    return E, Q, float(rng.uniform(0.5, 20.0))


def _reference_ridge(E, Q, lam):
    A = np.hstack([E, np.ones((len(E), 1))])
    pen = lam * np.eye(A.shape[1])
    pen[-1, -1] = 0.0
    return np.linalg.solve(A.T @ A + pen, A.T @ Q)


def probe_q2(ns, seed):
    E, Q, lam = _q2_inputs(seed)
    out = checks.call(checks.get_function(ns, "fit_text_to_factor"), E.copy(), Q.copy(), lam)
    return checks.as_array(out, "fit_text_to_factor(E, Q, lam)", shape=(E.shape[1] + 1, Q.shape[1]))


def judge_q2(seed, data):
    E, Q, lam = _q2_inputs(seed)
    checks.assert_close(np.asarray(data, float), _reference_ridge(E, Q, lam),
                        "ridge weights with an unpenalised intercept as the last row", atol=1e-6, rtol=1e-5)


# --------------------------------------------------------------------- q3: top-k among cold items
def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items = int(rng.integers(4, 8)), int(rng.integers(15, 25))
    scores = np.round(rng.normal(size=(n_users, n_items)), 1)      # rounding makes ties
    cold = np.sort(rng.choice(n_items, size=int(rng.integers(6, 10)), replace=False))
    seen = (rng.random((n_users, n_items)) < 0.2).astype(float)
    seen[0, cold[:2]] = 1.0                                        # a user who already saw cold items
    return scores, seen, cold, int(rng.integers(2, 4))


def _reference_top(scores, seen, cold, k):
    out = []
    for s, m in zip(scores, seen):
        cand = [int(j) for j in cold if not m[j]]
        out.append(sorted(cand, key=lambda j: (-s[j], j))[:k])
    return out


def probe_q3(ns, seed):
    scores, seen, cold, k = _q3_inputs(seed)
    out = checks.call(checks.get_function(ns, "top_cold"), scores.copy(), seen.copy(), cold.copy(), k)
    return checks.as_array(out, "top_cold(scores, seen, cold, k)", shape=(scores.shape[0], k)).astype(int).tolist()


def judge_q3(seed, data):
    scores, seen, cold, k = _q3_inputs(seed)
    want = _reference_top(scores, seen, cold, k)
    for u, (got, exp) in enumerate(zip(data, want)):
        if [int(j) for j in got] != exp:
            hint = ""
            if any(seen[u, int(j)] for j in got):
                hint = " (a seen item was recommended: mask seen items)"
            elif any(int(j) not in set(cold.tolist()) for j in got):
                hint = " (a warm item was recommended: only cold items are candidates)"
            raise AssertionError(f"user {u}, k={k}: expected {exp} (best first, ties -> lower index), got {list(got)}{hint}")


QUESTIONS = [
    Question("q1", points=2, title="user profiles from liked items", probe=probe_q1, judge=judge_q1, wrong={
        "sum, not mean": "def user_profiles(X, E):\n    return np.asarray(X, float) @ np.asarray(E, float)\n",
        "nan for empty users": (
            "def user_profiles(X, E):\n"
            "    X = np.asarray(X, float)\n"
            "    with np.errstate(invalid='ignore', divide='ignore'):\n"
            "        return (X @ E) / X.sum(axis=1, keepdims=True)\n"),
        "mean over all items": (
            "def user_profiles(X, E):\n"
            "    return np.tile(np.asarray(E, float).mean(axis=0), (len(X), 1))\n"),
    }),
    Question("q2", points=3, title="text -> factor ridge map", probe=probe_q2, judge=judge_q2, wrong={
        "no intercept": (
            "def fit_text_to_factor(E, Q, lam):\n"
            "    E = np.asarray(E, float)\n"
            "    W = np.linalg.solve(E.T @ E + lam * np.eye(E.shape[1]), E.T @ Q)\n"
            "    return np.vstack([W, np.zeros((1, W.shape[1]))])\n"),
        "intercept penalised": (
            "def fit_text_to_factor(E, Q, lam):\n"
            "    A = np.hstack([E, np.ones((len(E), 1))])\n"
            "    return np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ Q)\n"),
        "no regularisation": (
            "def fit_text_to_factor(E, Q, lam):\n"
            "    A = np.hstack([E, np.ones((len(E), 1))])\n"
            "    return np.linalg.lstsq(A, Q, rcond=None)[0]\n"),
    }),
    Question("q3", points=3, title="top-k among cold items, seen masked", probe=probe_q3, judge=judge_q3, wrong={
        "seen not masked": (
            "def top_cold(scores, seen, cold, k):\n"
            "    s = np.full(np.shape(scores), -np.inf)\n"
            "    s[:, cold] = np.asarray(scores)[:, cold]\n"
            "    return np.argsort(-s, axis=1, kind='stable')[:, :k]\n"),
        "warm items allowed": (
            "def top_cold(scores, seen, cold, k):\n"
            "    s = np.where(np.asarray(seen) > 0, -np.inf, np.asarray(scores, float))\n"
            "    return np.argsort(-s, axis=1, kind='stable')[:, :k]\n"),
        "worst first": (
            "def top_cold(scores, seen, cold, k):\n"
            "    s = np.full(np.shape(scores), np.inf)\n"
            "    s[:, cold] = np.asarray(scores)[:, cold]\n"
            "    s[np.asarray(seen) > 0] = np.inf\n"
            "    return np.argsort(s, axis=1, kind='stable')[:, :k]\n"),
    }),
]
