"""Hidden checks for exercises/03_bert_recommender.ipynb.

Fresh random inputs per grading run (from the seed): ranked lists with ties in truth-set sizes for
NDCG, non-square item towers, and random interaction matrices for EASE. The judges recompute the
reference answers in the grader process. See tests/graders/01_transfer_basics.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ----------------------------------------------------------------------------------- q1: NDCG@K
def _q1_spec(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, k = int(rng.integers(12, 20)), int(rng.integers(30, 50)), int(rng.integers(3, 7))
    recommended = np.stack([rng.permutation(n_items)[: k + 3] for _ in range(n_users)])
    truth = []
    for u in range(n_users):
        size = [0, 1, 2, k + 4][u % 4] if u < 8 else int(rng.integers(0, 2 * k))
        # half of each truth set is drawn from the user's list so that there are hits
        from_list = rng.choice(recommended[u], size=min(size // 2 + size % 2, k + 3), replace=False)
        rest = rng.choice(n_items, size=size, replace=False)
        truth.append(sorted({int(i) for i in np.concatenate([from_list, rest])[:size]}))
    return {"recommended": recommended, "truth": truth, "k": k}


def _ndcg(recommended, truth, k):
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    vals = []
    for row, rel in zip(recommended[:, :k], truth):
        if not rel:
            continue
        rel = set(rel)
        hits = np.array([i in rel for i in row], dtype=float)
        vals.append((hits * disc).sum() / disc[: min(len(rel), k)].sum())
    return float(np.mean(vals))


def probe_q1(ns, seed):
    s = _q1_spec(seed)
    f = checks.get_function(ns, "ndcg_at_k")
    return float(checks.call(f, s["recommended"].copy(), [set(t) for t in s["truth"]], s["k"]))


def judge_q1(seed, data):
    s = _q1_spec(seed)
    checks.assert_close(data, _ndcg(s["recommended"], s["truth"], s["k"]),
                        f"NDCG@{s['k']} of fresh ranked lists (some users with empty truth, some with more than k items)")


# ------------------------------------------------------------------------------ q2: item tower
def _q2_spec(seed):
    rng = np.random.default_rng(seed)
    n_items, d, t = int(rng.integers(8, 15)), int(rng.integers(3, 6)), int(rng.integers(6, 10))
    return {"E": rng.normal(size=(n_items, d)), "F": rng.normal(size=(n_items, t)), "W": rng.normal(size=(t, d)),
            "P": rng.normal(size=(int(rng.integers(2, 5)), d)),
            "items": rng.choice(n_items, size=int(rng.integers(3, n_items)), replace=True)}


def probe_q2(ns, seed):
    s = _q2_spec(seed)
    tower = checks.call(checks.get_function(ns, "item_tower"), s["items"].copy(), s["E"], s["F"], s["W"])
    sc = checks.call(checks.get_function(ns, "scores"), s["P"], s["items"].copy(), s["E"], s["F"], s["W"])
    return {"tower": checks.as_array(tower, "item_tower(...)"), "scores": checks.as_array(sc, "scores(...)")}


def judge_q2(seed, data):
    s = _q2_spec(seed)
    q = s["E"][s["items"]] + s["F"][s["items"]] @ s["W"]
    checks.assert_close(data["tower"], q, "item_tower(items, E, F, W) on fresh, repeated item indices")
    checks.assert_close(data["scores"], s["P"] @ q.T, "scores(P, items, E, F, W)")


# -------------------------------------------------------------------------------------- q3: EASE
def _q3_spec(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items = int(rng.integers(20, 40)), int(rng.integers(6, 12))
    X = (rng.random((n_users, n_items)) < rng.uniform(0.2, 0.5)).astype(float)
    return {"X": X, "lam": float(np.round(rng.uniform(0.5, 20.0), 2))}


def probe_q3(ns, seed):
    import scipy.sparse as sp

    s = _q3_spec(seed)
    f = checks.get_function(ns, "ease")
    dense = checks.as_array(checks.call(f, s["X"].copy(), s["lam"]), "ease(X, lam)")
    sparse = checks.as_array(checks.call(f, sp.csr_matrix(s["X"]), s["lam"]), "ease(sparse X, lam)")
    return {"dense": dense, "sparse": sparse}


def judge_q3(seed, data):
    s = _q3_spec(seed)
    X, lam = s["X"], s["lam"]
    n = X.shape[1]
    G = X.T @ X
    B = np.zeros((n, n))
    for j in range(n):  # independent reference: ridge regression of column j on the other columns
        others = [i for i in range(n) if i != j]
        B[others, j] = np.linalg.solve(G[np.ix_(others, others)] + lam * np.eye(n - 1), G[others, j])
    checks.assert_close(data["dense"], B, f"ease(X, lam={lam}) on a fresh {X.shape} matrix", atol=1e-6, rtol=1e-4)
    checks.assert_close(data["sparse"], B, "ease(...) with a scipy.sparse X", atol=1e-6, rtol=1e-4)


# ------------------------------------------------------------------ q4: the leak in the user tower
def _q4_spec(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, d = int(rng.integers(6, 10)), int(rng.integers(10, 16)), int(rng.integers(2, 5))
    H = (rng.random((n_users, n_items)) < 0.35).astype(float)
    H[0] = 0.0
    H[0, int(rng.integers(n_items))] = 1.0  # a user whose only item will be the target
    users, targets = [], []
    for u in range(n_users):  # training pairs: every target is one of the user's own history items
        for i in rng.permutation(np.flatnonzero(H[u]))[:3]:
            users.append(u)
            targets.append(int(i))
    order = rng.permutation(len(users))
    return {"H": H, "Q": rng.normal(size=(n_items, d)), "users": np.array(users)[order],
            "targets": np.array(targets)[order]}


def probe_q4(ns, seed):
    s = _q4_spec(seed)
    H = s["H"].copy()
    out = checks.call(checks.get_function(ns, "history_user_vectors"), H, s["Q"].copy(), s["users"].copy(),
                      s["targets"].copy())
    return {"vectors": checks.as_array(out, "history_user_vectors(...)"), "H_unchanged": bool(np.array_equal(H, s["H"]))}


def judge_q4(seed, data):
    s = _q4_spec(seed)
    H, Q = s["H"], s["Q"]
    expected = []
    for u, t in zip(s["users"], s["targets"]):  # reference: loop over the history without the target
        others = [i for i in np.flatnonzero(H[u]) if i != t]
        expected.append(Q[others].mean(axis=0) if others else np.zeros(Q.shape[1]))
    checks.assert_close(data["vectors"], np.array(expected),
                        "history_user_vectors(H, Q, users, targets) on fresh histories (one user has only the target)")
    assert data["H_unchanged"], "history_user_vectors must not modify H"


QUESTIONS = [
    Question("q1", points=3, title="NDCG@K", probe=probe_q1, judge=judge_q1, wrong={
        "IDCG over all relevant items (no min with k)": (
            "def ndcg_at_k(recommended, truth, k):\n"
            "    disc = 1.0 / np.log2(np.arange(2, 1000))\n"
            "    vals = []\n"
            "    for row, rel in zip(np.asarray(recommended)[:, :k], truth):\n"
            "        if not rel:\n"
            "            continue\n"
            "        hits = np.array([i in rel for i in row], dtype=float)\n"
            "        vals.append((hits * disc[:k]).sum() / disc[: len(rel)].sum())\n"
            "    return float(np.mean(vals))\n"),
        "empty users counted as 0": (
            "def ndcg_at_k(recommended, truth, k):\n"
            "    disc = 1.0 / np.log2(np.arange(2, k + 2))\n"
            "    vals = []\n"
            "    for row, rel in zip(np.asarray(recommended)[:, :k], truth):\n"
            "        hits = np.array([i in rel for i in row], dtype=float)\n"
            "        vals.append((hits * disc).sum() / disc[: max(1, min(len(rel), k))].sum())\n"
            "    return float(np.mean(vals))\n"),
        "discount log2(rank) + 1": (
            "def ndcg_at_k(recommended, truth, k):\n"
            "    disc = 1.0 / (np.log2(np.arange(1, k + 1)) + 1)\n"
            "    vals = []\n"
            "    for row, rel in zip(np.asarray(recommended)[:, :k], truth):\n"
            "        if not rel:\n"
            "            continue\n"
            "        hits = np.array([i in rel for i in row], dtype=float)\n"
            "        vals.append((hits * disc).sum() / disc[: min(len(rel), k)].sum())\n"
            "    return float(np.mean(vals))\n"),
        "whole list instead of top k": (
            "def ndcg_at_k(recommended, truth, k):\n"
            "    recommended = np.asarray(recommended)\n"
            "    disc = 1.0 / np.log2(np.arange(2, recommended.shape[1] + 2))\n"
            "    vals = []\n"
            "    for row, rel in zip(recommended, truth):\n"
            "        if not rel:\n"
            "            continue\n"
            "        hits = np.array([i in rel for i in row], dtype=float)\n"
            "        vals.append((hits * disc).sum() / disc[: min(len(rel), k)].sum())\n"
            "    return float(np.mean(vals))\n"),
    }),
    Question("q2", points=2, title="hybrid item tower", probe=probe_q2, judge=judge_q2, wrong={
        "ID embedding only": (
            "def item_tower(items, E, F, W):\n    return E[np.asarray(items)]\n"),
        "text part for all items": (
            "def item_tower(items, E, F, W):\n"
            "    items = np.asarray(items)\n"
            "    return E[items] + (F @ W)[: len(items)]\n"),
        "scores transposed": (
            "def scores(P, items, E, F, W):\n    return (P @ item_tower(items, E, F, W).T).T\n"),
    }),
    Question("q3", points=3, title="EASE closed form", probe=probe_q3, judge=judge_q3, wrong={
        "diagonal not zeroed": (
            "def ease(X, lam):\n"
            "    X = sp.csr_matrix(X, dtype=float)\n"
            "    G = (X.T @ X).toarray() + lam * np.eye(X.shape[1])\n"
            "    P = np.linalg.inv(G)\n"
            "    return -P / np.diag(P)[None, :]\n"),
        "rows divided instead of columns": (
            "def ease(X, lam):\n"
            "    X = sp.csr_matrix(X, dtype=float)\n"
            "    G = (X.T @ X).toarray() + lam * np.eye(X.shape[1])\n"
            "    P = np.linalg.inv(G)\n"
            "    B = -P / np.diag(P)[:, None]\n"
            "    np.fill_diagonal(B, 0.0)\n"
            "    return B\n"),
        "lambda forgotten": (
            "def ease(X, lam):\n"
            "    X = sp.csr_matrix(X, dtype=float)\n"
            "    G = (X.T @ X).toarray() + 1e-6 * np.eye(X.shape[1])\n"
            "    P = np.linalg.inv(G)\n"
            "    B = -P / np.diag(P)[None, :]\n"
            "    np.fill_diagonal(B, 0.0)\n"
            "    return B\n"),
        "plain ridge (no constraint)": (
            "def ease(X, lam):\n"
            "    X = sp.csr_matrix(X, dtype=float)\n"
            "    G = (X.T @ X).toarray()\n"
            "    return np.linalg.solve(G + lam * np.eye(len(G)), G)\n"),
    }),
    Question("q4", points=2, title="the leak in the user tower", probe=probe_q4, judge=judge_q4, wrong={
        "the leaky original (target kept in the history)": (
            "def history_user_vectors(H, Q, users, targets):\n"
            "    rows = np.asarray(H, dtype=float)[np.asarray(users)]\n"
            "    return rows @ Q / rows.sum(axis=1, keepdims=True)\n"),
        "target removed but divided by n": (
            "def history_user_vectors(H, Q, users, targets):\n"
            "    rows = np.asarray(H, dtype=float)[np.asarray(users)]\n"
            "    return (rows @ Q - Q[np.asarray(targets)]) / np.maximum(rows.sum(axis=1, keepdims=True), 1.0)\n"),
        "no guard for a history of one item": (
            "def history_user_vectors(H, Q, users, targets):\n"
            "    rows = np.asarray(H, dtype=float)[np.asarray(users)]\n"
            "    with np.errstate(divide='ignore', invalid='ignore'):\n"
            "        return (rows @ Q - Q[np.asarray(targets)]) / (rows.sum(axis=1, keepdims=True) - 1.0)\n"),
        "H modified in place": (
            "def history_user_vectors(H, Q, users, targets):\n"
            "    users, targets = np.asarray(users), np.asarray(targets)\n"
            "    out = []\n"
            "    for u, t in zip(users, targets):\n"
            "        H[u, t] = 0.0\n"
            "        n = H[u].sum()\n"
            "        out.append(H[u] @ Q / max(n, 1.0))\n"
            "        H[u, t] = 0.5\n"
            "    return np.array(out)\n"),
        "the user's first item dropped instead of the target": (
            "def history_user_vectors(H, Q, users, targets):\n"
            "    H = np.asarray(H, dtype=float)\n"
            "    out = []\n"
            "    for u in np.asarray(users):\n"
            "        items = np.flatnonzero(H[u])[1:]\n"
            "        out.append(Q[items].mean(axis=0) if len(items) else np.zeros(Q.shape[1]))\n"
            "    return np.array(out)\n"),
    }),
]
