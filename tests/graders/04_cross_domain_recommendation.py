"""Hidden checks for exercises/04_cross_domain_recommendation.ipynb.

q1 the EMCDR ridge mapping, q2 a target-share subsample by user, q3 the zero-shot text scorer,
q4 debugging a Keras migration that froze the source model's layers instead of the target's.
Probes run in the learner's kernel on inputs rebuilt from a fresh seed; judges recompute the answer
in the grader process. See translearn_lib/grading/__init__.py for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------ q1: ridge mapping with a bias
def _q1_inputs(seed):
    rng = np.random.default_rng(seed)
    n, d_in, d_out = int(rng.integers(30, 60)), int(rng.integers(3, 7)), int(rng.integers(2, 5))
    X = rng.normal(size=(n, d_in))
    Y = X @ rng.normal(size=(d_in, d_out)) + rng.normal(2.0, 1.0, size=d_out) + 0.1 * rng.normal(size=(n, d_out))
    return X, Y, float(rng.uniform(0.5, 5.0))


def _q1_expected(X, Y, reg):
    Xb = np.hstack([X, np.ones((len(X), 1))])
    P = reg * np.eye(Xb.shape[1])
    P[-1, -1] = 0.0
    return np.linalg.solve(Xb.T @ Xb + P, Xb.T @ Y)


def probe_q1(ns, seed):
    X, Y, reg = _q1_inputs(seed)
    return checks.call(checks.get_function(ns, "fit_mapping"), X, Y, reg)


def judge_q1(seed, data):
    X, Y, reg = _q1_inputs(seed)
    want = _q1_expected(X, Y, reg)
    got = checks.as_array(data, "fit_mapping(X, Y, reg)")
    if got.shape != want.shape:
        raise AssertionError(f"for X of shape {X.shape} and Y of shape {Y.shape}, W must have shape {want.shape} "
                             f"(one row per input dimension plus a last row for the bias), got {got.shape}")
    checks.assert_close(got, want, "fit_mapping(X, Y, reg)", atol=1e-6, rtol=1e-5)


# ------------------------------------------------------------------ q2: keep a share of users
def _q2_inputs(seed):
    rng = np.random.default_rng(seed)
    n_users = int(rng.integers(20, 40))
    users = rng.permutation(np.arange(100, 100 + n_users))
    counts = rng.integers(1, 6, size=n_users)
    rows = [(int(u), int(i)) for u, c in zip(users, counts) for i in rng.choice(50, size=c, replace=False)]
    share = float(rng.choice([0.2, 0.3, 0.5]))
    return rows, share, int(rng.integers(1000))


def probe_q2(ns, seed):
    import pandas as pd

    rows, share, s = _q2_inputs(seed)
    frame = pd.DataFrame(rows, columns=["user", "item"])
    f = checks.get_function(ns, "keep_user_share")
    out = []
    for sd in (s, s, s + 1):
        kept = checks.call(f, frame.copy(), share, sd)
        if not isinstance(kept, pd.DataFrame):
            raise AssertionError(f"keep_user_share should return a DataFrame, got {type(kept).__name__}")
        out.append(sorted((int(u), int(i)) for u, i in zip(kept["user"], kept["item"])))
    return out


def judge_q2(seed, data):
    rows, share, _ = _q2_inputs(seed)
    first, again, other = ([tuple(r) for r in part] for part in data)
    all_rows = set(rows)
    if not set(first) <= all_rows:
        raise AssertionError("keep_user_share returned rows that are not in the input frame")
    if len(set(first)) != len(first):
        raise AssertionError("keep_user_share returned duplicated rows")
    n_users = len({u for u, _ in rows})
    want_users = int(round(share * n_users))
    kept_users = {u for u, _ in first}
    if len(kept_users) != want_users:
        raise AssertionError(f"with {n_users} users and share={share}, keep round({share} * {n_users}) = "
                             f"{want_users} users, got {len(kept_users)}")
    whole = {u: sum(1 for r in rows if r[0] == u) for u in kept_users}
    partial = [u for u in kept_users if sum(1 for r in first if r[0] == u) != whole[u]]
    if partial:
        raise AssertionError(f"user {partial[0]} kept only part of their history: keep ALL rows of a kept user "
                             "(the others are new to the target)")
    if first != again:
        raise AssertionError("the same seed must give the same users (use np.random.default_rng(seed))")
    if {u for u, _ in other} == kept_users:
        raise AssertionError("a different seed gave exactly the same users: draw the users at random "
                             "with np.random.default_rng(seed), do not take the first ones")


# ------------------------------------------------------------------ q3: zero-shot text scores
def _q3_inputs(seed):
    rng = np.random.default_rng(seed)
    n_users, n_hist, n_cand, d = int(rng.integers(4, 8)), int(rng.integers(5, 9)), int(rng.integers(3, 7)), 6
    H = (rng.random((n_users, n_hist)) < 0.4).astype(float)
    H[0] = 0.0  # a user with no history
    H[1, :2] = 1.0
    return H, rng.normal(size=(n_hist, d)), rng.normal(size=(n_cand, d)) * rng.uniform(0.5, 3.0, size=(n_cand, 1))


def _q3_expected(H, E, C):
    prof = H @ E
    norm = np.linalg.norm(prof, axis=1, keepdims=True)
    prof = np.divide(prof, norm, out=np.zeros_like(prof), where=norm > 0)
    return prof @ (C / np.linalg.norm(C, axis=1, keepdims=True)).T


def probe_q3(ns, seed):
    import scipy.sparse as sp

    H, E, C = _q3_inputs(seed)
    return checks.call(checks.get_function(ns, "zero_shot_scores"), sp.csr_matrix(H), E, C)


def judge_q3(seed, data):
    H, E, C = _q3_inputs(seed)
    want = _q3_expected(H, E, C)
    got = checks.as_array(data, "zero_shot_scores(history, history_emb, candidate_emb)", shape=want.shape)
    if not np.all(np.isfinite(got)):
        raise AssertionError("scores contain nan/inf: a user with an empty history must score 0 everywhere")
    checks.assert_close(got, want, "zero_shot_scores (cosine between the mean-history profile and each candidate)",
                        atol=1e-6, rtol=1e-5)


# ------------------------------------------------------------------ q4: debug the migration step
_Q4_FREEZES = [("user_emb",), ("text_projection",)]   # each one exposes every planted mistake


def _q4_inputs(seed):
    rng = np.random.default_rng(seed)
    n_users, n_src, n_tgt, d_text = int(rng.integers(20, 35)), int(rng.integers(12, 20)), int(rng.integers(8, 15)), 5
    dim = int(rng.integers(3, 6))
    source = (rng.random((n_users, n_src)) < 0.3).astype(np.float32)
    source[np.arange(n_users), rng.integers(n_src, size=n_users)] = 1.0   # everyone has a source history
    target = (rng.random((n_users, n_tgt)) < 0.3).astype(np.float32)
    target[0, 0] = 1.0
    freeze = _Q4_FREEZES[int(rng.integers(len(_Q4_FREEZES)))]
    return (source, target, rng.normal(size=(n_src, d_text)), rng.normal(size=(n_tgt, d_text)), dim, freeze,
            int(rng.integers(1000)))


def probe_q4(ns, seed):
    import scipy.sparse as sp

    from translearn_lib.recommenders import TwoTower

    source, target, f_src, f_tgt, dim, freeze, model_seed = _q4_inputs(seed)
    migrate = checks.get_function(ns, "migrate")
    src_model = TwoTower(f_src, dim=dim, epochs=1, batch_size=64, seed=model_seed).fit(sp.csr_matrix(source))
    net = TwoTower(f_tgt, dim=dim, epochs=1, batch_size=64, seed=model_seed)._build(sp.csr_matrix(target), None)
    net(np.zeros((1, 3), dtype="int32"))
    out = checks.call(migrate, src_model, net, freeze)
    net = net if out is None else out
    layer = lambda model, name: next(lay for lay in model.layers if lay.name == name)
    facts = {"freeze": list(freeze), "source_trainable": {lay.name: bool(lay.trainable) for lay in src_model.net_.layers}}
    for name in ("user_emb", "text_projection"):
        facts[name] = {"target": layer(net, name).get_weights()[0], "source": layer(src_model.net_, name).get_weights()[0],
                       "trainable": bool(layer(net, name).trainable)}
    facts["item_emb"] = layer(net, "item_emb").get_weights()[0]
    return facts


def judge_q4(seed, data):
    source, target, _, _, dim, freeze, _ = _q4_inputs(seed)
    for name in ("user_emb", "text_projection"):
        got, want = checks.as_array(data[name]["target"], name), checks.as_array(data[name]["source"], name)
        if got.shape != want.shape or not np.array_equal(got, want):
            raise AssertionError(f"the target's {name} must start as an exact copy of the source model's {name}")
        if data[name]["trainable"] != (name not in freeze):
            raise AssertionError(f"with freeze={tuple(freeze)}, the TARGET network's {name} must have "
                                 f"trainable={name not in freeze}, got {data[name]['trainable']}")
    frozen_src = [n for n, t in data["source_trainable"].items() if not t and n != "bert_features"]
    if frozen_src:
        raise AssertionError(f"migrate changed the source model: its {frozen_src} are no longer trainable "
                             "(freeze the target network's layers, not the source's)")
    item = checks.as_array(data["item_emb"], "item_emb", shape=(target.shape[1], dim))
    if np.abs(item).max() > 0:
        raise AssertionError("the target item ids (item_emb, a new catalogue) must start at zero")


_Q4_BUG = '''def migrate(source_model, net, freeze=("user_emb",)):
    src = {layer.name: layer for layer in source_model.net_.layers}
    for layer in net.layers:
        if layer.name in ("user_emb", "text_projection"):
            layer.set_weights(src[layer.name].get_weights())
            src[layer.name].trainable = layer.name not in freeze
        elif layer.name == "item_emb":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    return net'''

_Q4_FREEZE_ALL = '''def migrate(source_model, net, freeze=("user_emb",)):
    src = {layer.name: layer for layer in source_model.net_.layers}
    for layer in net.layers:
        if layer.name in ("user_emb", "text_projection"):
            layer.set_weights(src[layer.name].get_weights())
            layer.trainable = False
        elif layer.name == "item_emb":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    return net'''

_Q4_ITEMS_KEPT = '''def migrate(source_model, net, freeze=("user_emb",)):
    src = {layer.name: layer for layer in source_model.net_.layers}
    for layer in net.layers:
        if layer.name in ("user_emb", "text_projection"):
            layer.set_weights(src[layer.name].get_weights())
            layer.trainable = layer.name not in freeze
    return net'''

_Q4_NO_COPY = '''def migrate(source_model, net, freeze=("user_emb",)):
    for layer in net.layers:
        if layer.name in ("user_emb", "text_projection"):
            layer.trainable = layer.name not in freeze
        elif layer.name == "item_emb":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    return net'''


_Q3_NO_CAND_NORM = '''def zero_shot_scores(history, history_emb, candidate_emb):
    prof = np.asarray(history @ history_emb)
    norm = np.linalg.norm(prof, axis=1, keepdims=True)
    prof = np.divide(prof, norm, out=np.zeros_like(prof), where=norm > 0)
    return prof @ np.asarray(candidate_emb).T'''

_Q3_NAN = '''def zero_shot_scores(history, history_emb, candidate_emb):
    prof = np.asarray(history @ history_emb)
    prof = prof / np.linalg.norm(prof, axis=1, keepdims=True)
    cand = candidate_emb / np.linalg.norm(candidate_emb, axis=1, keepdims=True)
    return prof @ cand.T'''

QUESTIONS = [
    Question("q1", points=2, title="EMCDR ridge mapping", probe=probe_q1, judge=judge_q1, wrong={
        "bias penalised": "def fit_mapping(X, Y, reg):\n    Xb = np.hstack([X, np.ones((len(X), 1))])\n"
                          "    return np.linalg.solve(Xb.T @ Xb + reg * np.eye(Xb.shape[1]), Xb.T @ Y)",
        "no bias": "def fit_mapping(X, Y, reg):\n"
                   "    return np.linalg.solve(X.T @ X + reg * np.eye(X.shape[1]), X.T @ Y)",
        "reg ignored": "def fit_mapping(X, Y, reg):\n    Xb = np.hstack([X, np.ones((len(X), 1))])\n"
                       "    return np.linalg.lstsq(Xb, Y, rcond=None)[0]",
    }),
    Question("q2", points=2, title="keep a share of target users", probe=probe_q2, judge=judge_q2, wrong={
        "rows not users": "def keep_user_share(frame, share, seed):\n"
                          "    return frame.sample(frac=share, random_state=seed)",
        "first users": "def keep_user_share(frame, share, seed):\n    users = frame['user'].unique()\n"
                       "    keep = users[:int(round(share * len(users)))]\n    return frame[frame['user'].isin(keep)]",
        "everyone": "def keep_user_share(frame, share, seed):\n    return frame",
    }),
    Question("q3", points=2, title="zero-shot text scorer", probe=probe_q3, judge=judge_q3, wrong={
        "candidates not normalised": _Q3_NO_CAND_NORM,
        "nan for empty history": _Q3_NAN,
        "zeros": "def zero_shot_scores(history, history_emb, candidate_emb):\n"
                 "    return np.zeros((history.shape[0], len(candidate_emb)))",
    }),
    Question("q4", points=2, title="debug: freeze the target's layers", probe=probe_q4, judge=judge_q4, wrong={
        "the bug: source layers frozen": _Q4_BUG,
        "everything copied frozen": _Q4_FREEZE_ALL,
        "item ids not zeroed": _Q4_ITEMS_KEPT,
        "nothing copied": _Q4_NO_COPY,
    }),
]
