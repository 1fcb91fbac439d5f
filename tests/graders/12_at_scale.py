"""Hidden checks for exercises/12_at_scale.ipynb.

All three questions are pure NumPy / dicts on fresh seeded inputs; the judges recompute the answer
from the seed in the grader process. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------------------ q1: recall@k
def _q1_inputs(seed):
    rng = np.random.default_rng(seed)
    nq, n, k = int(rng.integers(5, 10)), int(rng.integers(30, 60)), int(rng.integers(3, 7))
    width = k + int(rng.integers(1, 3))                      # more columns than k: only k count
    exact = np.array([rng.choice(n, width, replace=False) for _ in range(nq)])
    found = exact.copy()
    for row in found:                                        # replace some neighbours with misses
        for j in rng.choice(width, int(rng.integers(0, width)), replace=False):
            row[j] = n + int(rng.integers(100))
        rng.shuffle(row)
    found[0, -1] = -1                                        # FAISS padding
    exact[1, :k] = exact[1, :k][::-1]                        # order within the top-k does not matter
    return found, exact, k


def probe_q1(ns, seed):
    found, exact, k = _q1_inputs(seed)
    return float(checks.call(checks.get_function(ns, "recall_at_k"), found.copy(), exact.copy(), k))


def judge_q1(seed, data):
    found, exact, k = _q1_inputs(seed)
    want = np.mean([len((set(f[:k].tolist()) - {-1}) & set(e[:k].tolist())) for f, e in zip(found, exact)]) / k
    checks.assert_close(float(data), float(want), f"recall@{k} (only the first k columns count, -1 is never a hit)")


# ------------------------------------------------------------------------- q2: the resume decision
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    n_old, n_now = int(rng.integers(4, 9)), 0
    n_now = max(3, n_old + int(rng.integers(-2, 3)))
    manifest = {}
    for i in range(n_old):
        if rng.random() < 0.85:
            manifest[str(i)] = {"key": f"k{i}", "sha256": f"s{i}", "rows": 10}
    keys = [f"k{i}" if rng.random() < 0.8 else f"k{i}-edited" for i in range(n_now)]
    file_sha = {}
    for i in range(max(n_old, n_now)):
        r = rng.random()
        file_sha[str(i)] = None if r < 0.15 else (f"s{i}-truncated" if r < 0.3 else f"s{i}")
    # one of each case, whatever the draw: a truncated file, a missing file, an edited shard
    for i, (key, sha) in enumerate([("k0", "s0-truncated"), ("k1", None), ("k2-edited", "s2")]):
        manifest[str(i)] = {"key": f"k{i}", "sha256": f"s{i}", "rows": 10}
        keys[i], file_sha[str(i)] = key, sha
    return manifest, keys, file_sha


def probe_q2(ns, seed):
    manifest, keys, file_sha = _q2_inputs(seed)
    out = checks.call(checks.get_function(ns, "shards_to_redo"), {k: dict(v) for k, v in manifest.items()},
                      list(keys), dict(file_sha))
    return [int(i) for i in out]


def judge_q2(seed, data):
    manifest, keys, file_sha = _q2_inputs(seed)
    want = [i for i, key in enumerate(keys)
            if str(i) not in manifest or manifest[str(i)]["key"] != key or file_sha.get(str(i)) is None
            or file_sha[str(i)] != manifest[str(i)]["sha256"]]
    if list(data) != want:
        raise AssertionError(f"expected shards {want} to be computed, got {list(data)} (a shard is done only if "
                             "recorded, with today's key, and its file has the recorded sha256)")


# --------------------------------------------------------------------------- q3: IVF search
def _reference_ivf(X, C, cell, q, nprobe, k):
    probe = np.argsort(-(C @ q), kind="stable")[:nprobe]
    cand = [j for j in range(len(X)) if cell[j] in set(probe.tolist())]
    return sorted(cand, key=lambda j: (-(X[j] @ q), j))[:k]


def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n, d, nlist = int(rng.integers(40, 80)), int(rng.integers(3, 6)), int(rng.integers(4, 8))
    C = rng.normal(size=(nlist, d))
    cell = rng.integers(nlist, size=n)
    X = np.round(C[cell] + 0.5 * rng.normal(size=(n, d)), 1)      # rounding makes ties
    nprobe, k = int(rng.integers(1, 3)), int(rng.integers(3, 8))
    while True:  # a query whose IVF answer differs from exact search (a miss in an unprobed cell)
        q = np.round(rng.normal(size=d), 1)
        exact = sorted(range(n), key=lambda j: (-(X[j] @ q), j))[:k]
        if _reference_ivf(X, C, cell, q, nprobe, k) != exact:
            return X, C, cell, q, nprobe, k


def probe_q3(ns, seed):
    X, C, cell, q, nprobe, k = _q3_inputs(seed)
    out = checks.call(checks.get_function(ns, "ivf_search"), X.copy(), C.copy(), cell.copy(), q.copy(), nprobe, k)
    return [int(i) for i in np.asarray(out).ravel()]


def judge_q3(seed, data):
    X, C, cell, q, nprobe, k = _q3_inputs(seed)
    want = _reference_ivf(X, C, cell, q, nprobe, k)
    if list(data) != want:
        probed = set(np.argsort(-(C @ q), kind="stable")[:nprobe].tolist())
        hint = ""
        if any(cell[j] not in probed for j in data if 0 <= j < len(X)):
            hint = " (an id from a cell that was not probed: score only the probed cells' vectors)"
        raise AssertionError(f"nprobe={nprobe}, k={k}: expected {want}, got {list(data)}{hint}")


QUESTIONS = [
    Question("q1", points=2, title="recall@k against exact search", probe=probe_q1, judge=judge_q1, wrong={
        "all columns, not the first k": (
            "def recall_at_k(found, exact, k):\n"
            "    return float(np.mean([len(set(f.tolist()) & set(e.tolist())) for f, e in zip(found, exact)])) / k\n"),
        "exact order required": (
            "def recall_at_k(found, exact, k):\n"
            "    return float(np.mean(np.asarray(found)[:, :k] == np.asarray(exact)[:, :k]))\n"),
        "constant": "def recall_at_k(found, exact, k):\n    return 1.0\n",
    }),
    Question("q2", points=3, title="which shards a rerun computes", probe=probe_q2, judge=judge_q2, wrong={
        "file exists means done": (
            "def shards_to_redo(manifest_shards, current_keys, file_sha):\n"
            "    return [i for i in range(len(current_keys)) if file_sha.get(str(i)) is None]\n"),
        "checksum ignored": (
            "def shards_to_redo(manifest_shards, current_keys, file_sha):\n"
            "    return [i for i, k in enumerate(current_keys) if str(i) not in manifest_shards\n"
            "            or manifest_shards[str(i)]['key'] != k or file_sha.get(str(i)) is None]\n"),
        "keys ignored": (
            "def shards_to_redo(manifest_shards, current_keys, file_sha):\n"
            "    return [i for i in range(len(current_keys)) if str(i) not in manifest_shards\n"
            "            or file_sha.get(str(i)) != manifest_shards[str(i)]['sha256']]\n"),
    }),
    Question("q3", points=3, title="IVF search: probe cells, score inside", probe=probe_q3, judge=judge_q3, wrong={
        "exact search (no probing)": (
            "def ivf_search(X, centroids, cell, q, nprobe, k):\n"
            "    s = np.asarray(X) @ q\n"
            "    return np.lexsort((np.arange(len(s)), -s))[:k]\n"),
        "probes the farthest cells": (
            "def ivf_search(X, centroids, cell, q, nprobe, k):\n"
            "    probe = np.argsort(np.asarray(centroids) @ q)[:nprobe]\n"
            "    cand = np.flatnonzero(np.isin(cell, probe))\n"
            "    s = np.asarray(X)[cand] @ q\n"
            "    return cand[np.lexsort((cand, -s))][:k]\n"),
        "ranks cells, not vectors": (
            "def ivf_search(X, centroids, cell, q, nprobe, k):\n"
            "    probe = np.argsort(-(np.asarray(centroids) @ q))[:nprobe]\n"
            "    return np.flatnonzero(np.isin(cell, probe))[:k]\n"),
    }),
]
