"""Hidden checks for exercises/11_interview_prep.ipynb (the interview coding problems).

q1-q3 repair the outline's two broken scripts (the BERT transfer recommender: pooling, ranking,
migration; the VGG16 transfer classifier), q4-q7 are the classic whiteboard problems (NDCG@K,
gradient reversal, the LinUCB update, ranking candidates by an LLM's log-likelihoods). Every judge
recomputes the answer from the seed in the grader process. See translearn_lib/grading/__init__.py.
"""

import numpy as np

from translearn_lib.grading import Question, checks


def _rng(seed, salt):
    return np.random.default_rng([int(seed), salt])


# --------------------------------------------------------- q1: BERT pipeline, pooling and ranking
def _q1_inputs(seed):
    rng = _rng(seed, 1)
    n, length, d = int(rng.integers(4, 8)), int(rng.integers(5, 9)), int(rng.integers(3, 6))
    hidden = rng.normal(size=(n, length, d)) * 3
    lengths = rng.integers(1, length + 1, size=n)
    lengths[0] = length - 1 if length > 2 else 1
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype(int)
    hidden[mask == 0] += 50.0                     # padding vectors far away: averaging them is visible
    n_users, n_items = int(rng.integers(3, 6)), int(rng.integers(10, 16))
    scores = np.round(rng.normal(size=(n_users, n_items)), 1)
    seen = (rng.random((n_users, n_items)) < 0.25).astype(int)
    return hidden, mask, scores, seen, int(rng.integers(2, 5))


def _ref_vectors(hidden, mask):
    m = mask[..., None].astype(float)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def _ref_recommend(scores, seen, k):
    out = []
    for s, m in zip(scores, seen):
        cand = [j for j in range(len(s)) if not m[j]]
        out.append(sorted(cand, key=lambda j: (-s[j], j))[:k])
    return out


def probe_q1(ns, seed):
    hidden, mask, scores, seen, k = _q1_inputs(seed)
    vec = checks.call(checks.get_function(ns, "item_vectors"), hidden.copy(), mask.copy())
    vec = checks.as_array(vec, "item_vectors(hidden, mask)", shape=(hidden.shape[0], hidden.shape[2]))
    rec = checks.call(checks.get_function(ns, "recommend"), scores.copy(), seen.copy(), k)
    rec = checks.as_array(rec, "recommend(scores, seen, k)", shape=(scores.shape[0], k)).astype(int)
    return {"vectors": vec, "recommend": rec}


def judge_q1(seed, data):
    hidden, mask, scores, seen, k = _q1_inputs(seed)
    got = np.asarray(data["vectors"], float)
    if not np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5):
        raise AssertionError("item_vectors: each row must have length 1 (L2-normalise the pooled vector)")
    checks.assert_close(got, _ref_vectors(hidden, mask), "item_vectors: the masked mean of the real tokens, "
                        "L2-normalised", atol=1e-5)
    for u, (g, want) in enumerate(zip(data["recommend"], _ref_recommend(scores, seen, k))):
        if list(g) != want:
            hint = " (a seen item was recommended: mask it)" if any(seen[u, j] for j in g) else ""
            raise AssertionError(f"recommend: user {u}, k={k}: expected {want} (best first, ties -> lower index), "
                                 f"got {list(g)}{hint}")


# ---------------------------------------------------------------- q2: BERT pipeline, the migration
def _q2_sizes(seed):
    rng = _rng(seed, 2)
    return int(rng.integers(4, 9)), int(rng.integers(5, 12)), int(rng.integers(3, 8)), int(rng.integers(0, 1000))


def probe_q2(ns, seed):
    import keras

    d, h1, h2, s = _q2_sizes(seed)
    keras.utils.set_random_seed(s)
    source = keras.Sequential([keras.Input((d,)), keras.layers.Dense(h1, activation="relu"),
                               keras.layers.Dense(h2, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    before = [w.copy() for w in source.get_weights()]
    model = checks.call(checks.get_function(ns, "migrate"), source)
    if not isinstance(model, keras.Model):
        raise AssertionError(f"migrate must return a keras.Model, got {type(model).__name__}")
    x = np.random.default_rng(s).normal(size=(6, d)).astype("float32")
    out = np.asarray(model(x))
    features = np.asarray(keras.Model(source.inputs[0], source.layers[-2].output)(x))
    head = model.layers[-1]
    via_head = np.asarray(head(features)) if getattr(head, "built", False) else np.full(out.shape, np.nan)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return {"out_shape": list(out.shape), "via_head": via_head.tolist(), "out": out.tolist(), "trainable": trainable,
            "head_is_source_head": head is source.layers[-1],
            "source_unchanged": all(np.array_equal(a, b) for a, b in zip(before, source.get_weights()))}


def judge_q2(seed, data):
    d, h1, h2, s = _q2_sizes(seed)
    if data["out_shape"] != [6, 1]:
        raise AssertionError(f"the migrated model must give one score per example, shape (6, 1), got {data['out_shape']}")
    if data["head_is_source_head"]:
        raise AssertionError("the last layer is the source's output layer: add a NEW Dense(1, sigmoid) head")
    if not data["source_unchanged"]:
        raise AssertionError("migrate changed the source model's weights")
    want = h2 + 1
    if data["trainable"] != want:
        raise AssertionError(f"expected {want} trainable weights (only the new head on {h2} features: "
                             f"{h2} + 1 bias), got {data['trainable']}: freeze the reused layers")
    checks.assert_close(data["out"], data["via_head"], "model(x) == new_head(source hidden features(x)): the "
                        "migrated model must reuse ALL the source's hidden layers", atol=1e-5)


# ---------------------------------------------------------------- q3: VGG16 transfer classifier
def _q3_setting(seed):
    rng = _rng(seed, 3)
    return int(rng.integers(3, 8)), int(rng.choice([32, 48]))


def probe_q3(ns, seed):
    import keras

    num_classes, size = _q3_setting(seed)
    model = checks.call(checks.get_function(ns, "build_vgg_classifier"), num_classes, (size, size, 3))
    if not isinstance(model, keras.Model):
        raise AssertionError(f"build_vgg_classifier must return a keras.Model, got {type(model).__name__}")
    x = np.random.default_rng(seed).uniform(0, 255, size=(3, size, size, 3)).astype("float32")
    out = np.asarray(model(x))
    return {"shape": list(out.shape), "row_sums": out.sum(axis=-1).tolist() if out.ndim == 2 else [],
            "min": float(out.min()), "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "total": int(model.count_params())}


def judge_q3(seed, data):
    num_classes, size = _q3_setting(seed)
    if data["shape"] != [3, num_classes]:
        raise AssertionError(f"{num_classes} classes: expected output shape (3, {num_classes}) (one softmax unit "
                             f"per class, not one sigmoid), got {tuple(data['shape'])}")
    if data["min"] < 0 or not np.allclose(data["row_sums"], 1, atol=1e-4):
        raise AssertionError("each output row must be class probabilities (softmax): non-negative, summing to 1")
    head = 512 * num_classes + num_classes
    if data["trainable"] != head:
        raise AssertionError(f"only the new head is trained: expected {head} trainable weights "
                             f"(512 pooled features x {num_classes} + biases), got {data['trainable']}")
    if data["total"] != 14_714_688 + head:
        raise AssertionError(f"expected VGG16's convolutional base (14,714,688 weights, include_top=False) plus the "
                             f"head, {14_714_688 + head} in all, got {data['total']}")


# ------------------------------------------------------------------------------ q4: NDCG@K
def _q4_inputs(seed):
    rng = _rng(seed, 4)
    n_users, n_items, k = int(rng.integers(5, 9)), 30, int(rng.integers(3, 7))
    rankings, truths = [], []
    for u in range(n_users):
        length = int(rng.integers(1, 12)) if u != 1 else k - 1      # one list shorter than k
        rankings.append(rng.choice(n_items, size=length, replace=False).tolist())
        n_rel = 0 if u == 0 else int(rng.integers(1, 9))            # a user without relevant items
        truths.append(rng.choice(n_items, size=n_rel, replace=False).tolist())
    truths[2] = rankings[2][:1] + truths[2]                          # at least one hit at rank 1
    return rankings, truths, k


def _ref_ndcg(rankings, truths, k):
    vals = []
    for ranked, rel in zip(rankings, truths):
        rel = set(rel)
        if not rel:
            continue
        dcg = sum(1.0 / np.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in rel)
        idcg = sum(1.0 / np.log2(i + 2) for i in range(min(len(rel), k)))
        vals.append(dcg / idcg)
    return float(np.mean(vals))


def probe_q4(ns, seed):
    rankings, truths, k = _q4_inputs(seed)
    f = checks.get_function(ns, "mean_ndcg")
    out = checks.call(f, [list(r) for r in rankings], [list(t) for t in truths], k)
    one = checks.call(f, [rankings[2]], [truths[2]], 1)
    return [float(checks.as_array(out, "mean_ndcg(...)", shape=())), float(checks.as_array(one, "mean_ndcg", shape=()))]


def judge_q4(seed, data):
    rankings, truths, k = _q4_inputs(seed)
    if not np.isclose(data[1], 1.0):
        raise AssertionError(f"a hit at rank 1 with k=1 is a perfect list: NDCG@1 = 1, got {data[1]:.4g}")
    checks.assert_close(data[0], _ref_ndcg(rankings, truths, k),
                        f"mean NDCG@{k} (skip users without relevant items; IDCG over min(|relevant|, k))", atol=1e-9)


# ------------------------------------------------------------------------ q5: gradient reversal
def _q5_inputs(seed):
    rng = _rng(seed, 5)
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    return rng.normal(size=shape), rng.normal(size=shape), float(rng.uniform(0.1, 2.0))


def probe_q5(ns, seed):
    import tensorflow as tf

    x0, w, lam = _q5_inputs(seed)
    x = tf.constant(x0, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = checks.call(checks.get_function(ns, "flip_gradient"), x, lam)
        loss = tf.reduce_sum(tf.constant(w, tf.float32) * y)
    g = tape.gradient(loss, x)
    if g is None:
        raise AssertionError("no gradient flows through flip_gradient (tf.stop_gradient?): it must reverse it")
    return {"y": np.asarray(y).tolist(), "grad": np.asarray(g).tolist()}


def judge_q5(seed, data):
    x0, w, lam = _q5_inputs(seed)
    checks.assert_close(data["y"], x0, "flip_gradient(x, lam) forward: the identity", atol=1e-5)
    checks.assert_close(data["grad"], -lam * w, f"gradient through flip_gradient: -lam * upstream (lam={lam:.3f})",
                        atol=1e-5)


# ---------------------------------------------------------------------------- q6: LinUCB
def _q6_setting(seed):
    rng = _rng(seed, 6)
    n_arms, d, T = int(rng.integers(3, 6)), int(rng.integers(2, 5)), 40
    contexts = rng.normal(size=(T, n_arms, d))
    theta = rng.normal(size=(n_arms, d))
    noise = 0.1 * rng.normal(size=T)
    return contexts, theta, noise, float(rng.uniform(0.2, 1.5))


def _run_linucb(update, choose, contexts, theta, noise, alpha):
    T, n_arms, d = contexts.shape
    A = [np.eye(d) for _ in range(n_arms)]
    b = [np.zeros(d) for _ in range(n_arms)]
    arms = []
    for t in range(T):
        a = int(choose(A, b, contexts[t], alpha))
        r = float(contexts[t, a] @ theta[a] + noise[t])
        A[a], b[a] = update(A[a], b[a], contexts[t, a], r)
        arms.append(a)
    return arms, A, b


def _ref_update(A, b, x, r):
    return A + np.outer(x, x), b + r * x


def _ref_choose(A, b, X, alpha):
    scores = []
    for a, x in enumerate(X):
        Ainv = np.linalg.inv(A[a])
        scores.append(x @ (Ainv @ b[a]) + alpha * np.sqrt(x @ Ainv @ x))
    return int(np.argmax(scores))


def probe_q6(ns, seed):
    contexts, theta, noise, alpha = _q6_setting(seed)
    up, ch = checks.get_function(ns, "linucb_update"), checks.get_function(ns, "linucb_choose")

    def update(A, b, x, r):
        out = checks.call(up, A.copy(), b.copy(), x.copy(), r)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("linucb_update must return the pair (A_new, b_new)")
        return np.asarray(out[0], float), np.asarray(out[1], float)

    arms, A, b = _run_linucb(update, lambda A, b, X, al: checks.call(ch, [a.copy() for a in A], [v.copy() for v in b],
                                                                     X.copy(), al), contexts, theta, noise, alpha)
    return {"arms": arms, "A": [a.tolist() for a in A], "b": [v.tolist() for v in b]}


def judge_q6(seed, data):
    contexts, theta, noise, alpha = _q6_setting(seed)
    arms, A, b = _run_linucb(_ref_update, _ref_choose, contexts, theta, noise, alpha)
    if data["arms"] != arms:
        t = next(i for i, (g, w) in enumerate(zip(data["arms"], arms)) if g != w)
        raise AssertionError(f"round {t} (alpha={alpha:.3f}): LinUCB plays arm {arms[t]}, yours played "
                             f"{data['arms'][t]}; check the update A += x xᵀ, b += r x and the score "
                             f"θᵀx + alpha·sqrt(xᵀA⁻¹x) with θ = A⁻¹b")
    for a in range(len(A)):
        checks.assert_close(data["A"][a], A[a], f"A of arm {a} after {len(arms)} rounds")
        checks.assert_close(data["b"][a], b[a], f"b of arm {a} after {len(arms)} rounds")


# ------------------------------------------------- q7: rank candidates by LLM log-likelihoods
def _q7_inputs(seed):
    rng = _rng(seed, 7)
    n, L = int(rng.integers(5, 9)), int(rng.integers(6, 10))
    lengths = rng.integers(1, L + 1, size=n)
    lengths[0], lengths[1] = 1, L                   # a one-token and a full-length candidate
    mask = (np.arange(L)[None, :] < lengths[:, None]).astype(int)
    logp = np.where(mask > 0, -rng.uniform(0.05, 3.0, size=(n, L)), -rng.uniform(5, 30, size=(n, L)))
    return logp, mask


def _ref_rank(logp, mask, length_normalize):
    s = (logp * mask).sum(1)
    if length_normalize:
        s = s / np.maximum(mask.sum(1), 1)
    return sorted(range(len(s)), key=lambda i: (-s[i], i))


def probe_q7(ns, seed):
    logp, mask = _q7_inputs(seed)
    f = checks.get_function(ns, "rank_candidates")
    out = {}
    for norm in (True, False):
        r = checks.call(f, logp.copy(), mask.copy(), length_normalize=norm)
        out[str(norm)] = checks.as_array(r, f"rank_candidates(..., length_normalize={norm})",
                                         shape=(len(logp),)).astype(int).tolist()
    return out


def judge_q7(seed, data):
    logp, mask = _q7_inputs(seed)
    for norm in (True, False):
        want = _ref_rank(logp, mask, norm)
        if data[str(norm)] != want:
            what = "mean over the real tokens" if norm else "sum over the real tokens"
            raise AssertionError(f"length_normalize={norm}: expected the order {want} (best first by the {what}; "
                                 f"padding masked out; ties -> lower index), got {data[str(norm)]}")


_VEC_OK = ("def item_vectors(hidden, mask):\n    m = np.asarray(mask, float)[..., None]\n"
           "    v = (np.asarray(hidden) * m).sum(1) / np.maximum(m.sum(1), 1)\n"
           "    return v / np.linalg.norm(v, axis=1, keepdims=True)\n")
_REC_OK = ("def recommend(scores, seen, k):\n    s = np.where(np.asarray(seen) > 0, -np.inf, np.asarray(scores, float))\n"
           "    return np.argsort(-s, axis=1, kind='stable')[:, :k]\n")

QUESTIONS = [
    Question("q1", points=2, title="BERT pipeline: item vectors and a ranked, masked top-k", probe=probe_q1,
             judge=judge_q1, wrong={
        "[CLS] vector instead of masked mean": _REC_OK + (
            "def item_vectors(hidden, mask):\n    v = np.asarray(hidden)[:, 0]\n"
            "    return v / np.linalg.norm(v, axis=1, keepdims=True)\n"),
        "padding averaged in": _REC_OK + (
            "def item_vectors(hidden, mask):\n    v = np.asarray(hidden).mean(axis=1)\n"
            "    return v / np.linalg.norm(v, axis=1, keepdims=True)\n"),
        "not normalised": _REC_OK + (
            "def item_vectors(hidden, mask):\n    m = np.asarray(mask, float)[..., None]\n"
            "    return (np.asarray(hidden) * m).sum(1) / np.maximum(m.sum(1), 1)\n"),
        "seen items not masked": _VEC_OK + (
            "def recommend(scores, seen, k):\n    return np.argsort(-np.asarray(scores), axis=1, kind='stable')[:, :k]\n"),
        "threshold instead of ranking": _VEC_OK + (
            "def recommend(scores, seen, k):\n    return (np.asarray(scores)[:, :k] > 0.5).astype(int)\n"),
    }),
    Question("q2", points=2, title="BERT pipeline: migrate the source model (frozen body, new head)", probe=probe_q2,
             judge=judge_q2, wrong={
        "the outline's migration (old output layer + new Dense)": (
            "def migrate(source_model):\n    import keras\n"
            "    return keras.Sequential([keras.Input(source_model.output_shape[1:]), source_model.layers[-1],\n"
            "                             keras.layers.Dense(1, activation='sigmoid')])\n"),
        "body not frozen": (
            "def migrate(source_model):\n    import keras\n"
            "    x = source_model.layers[-2].output\n"
            "    return keras.Model(source_model.inputs[0], keras.layers.Dense(1, activation='sigmoid')(x))\n"),
        "source model returned unchanged": "def migrate(source_model):\n    return source_model\n",
    }),
    Question("q3", points=2, title="VGG16 transfer classifier (functional, frozen base, softmax head)", probe=probe_q3,
             judge=judge_q3, wrong={
        "one sigmoid unit for many classes": (
            "def build_vgg_classifier(num_classes, input_shape):\n    import keras\n"
            "    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape)\n"
            "    base.trainable = False\n    inputs = keras.Input(input_shape)\n"
            "    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))\n"
            "    return keras.Model(inputs, keras.layers.Dense(1, activation='sigmoid')(x))\n"),
        "base not frozen": (
            "def build_vgg_classifier(num_classes, input_shape):\n    import keras\n"
            "    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape)\n"
            "    inputs = keras.Input(input_shape)\n"
            "    x = keras.layers.GlobalAveragePooling2D()(base(inputs))\n"
            "    return keras.Model(inputs, keras.layers.Dense(num_classes, activation='softmax')(x))\n"),
        "logits, no softmax": (
            "def build_vgg_classifier(num_classes, input_shape):\n    import keras\n"
            "    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape)\n"
            "    base.trainable = False\n    inputs = keras.Input(input_shape)\n"
            "    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))\n"
            "    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))\n"),
    }),
    Question("q4", points=2, title="mean NDCG@K", probe=probe_q4, judge=judge_q4, wrong={
        "IDCG over all relevant items": (
            "def mean_ndcg(rankings, truths, k):\n    vals = []\n    for r, t in zip(rankings, truths):\n"
            "        t = set(t)\n        if not t:\n            continue\n"
            "        dcg = sum(1 / np.log2(i + 2) for i, x in enumerate(r[:k]) if x in t)\n"
            "        vals.append(dcg / sum(1 / np.log2(i + 2) for i in range(len(t))))\n    return float(np.mean(vals))\n"),
        "users without relevant items count as 0": (
            "def mean_ndcg(rankings, truths, k):\n    vals = []\n    for r, t in zip(rankings, truths):\n"
            "        t = set(t)\n        if not t:\n            vals.append(0.0)\n            continue\n"
            "        dcg = sum(1 / np.log2(i + 2) for i, x in enumerate(r[:k]) if x in t)\n"
            "        vals.append(dcg / sum(1 / np.log2(i + 2) for i in range(min(len(t), k))))\n"
            "    return float(np.mean(vals))\n"),
        "reciprocal-rank discount": (
            "def mean_ndcg(rankings, truths, k):\n    vals = []\n    for r, t in zip(rankings, truths):\n"
            "        t = set(t)\n        if not t:\n            continue\n"
            "        dcg = sum(1 / (i + 1) for i, x in enumerate(r[:k]) if x in t)\n"
            "        vals.append(dcg / sum(1 / (i + 1) for i in range(min(len(t), k))))\n    return float(np.mean(vals))\n"),
        "k ignored": (
            "def mean_ndcg(rankings, truths, k):\n    vals = []\n    for r, t in zip(rankings, truths):\n"
            "        t = set(t)\n        if not t:\n            continue\n"
            "        dcg = sum(1 / np.log2(i + 2) for i, x in enumerate(r) if x in t)\n"
            "        vals.append(dcg / sum(1 / np.log2(i + 2) for i in range(len(t))))\n    return float(np.mean(vals))\n"),
    }),
    Question("q5", points=1, title="gradient reversal", probe=probe_q5, judge=judge_q5, wrong={
        "no minus sign": (
            "def flip_gradient(x, lam):\n    import tensorflow as tf\n    @tf.custom_gradient\n"
            "    def f(t):\n        return tf.identity(t), lambda dy: lam * dy\n    return f(x)\n"),
        "lambda ignored": (
            "def flip_gradient(x, lam):\n    import tensorflow as tf\n    @tf.custom_gradient\n"
            "    def f(t):\n        return tf.identity(t), lambda dy: -dy\n    return f(x)\n"),
        "forward negated": (
            "def flip_gradient(x, lam):\n    return -lam * x\n"),
        "stop_gradient": (
            "def flip_gradient(x, lam):\n    import tensorflow as tf\n    return tf.stop_gradient(x)\n"),
    }),
    Question("q6", points=3, title="the LinUCB update and arm choice", probe=probe_q6, judge=judge_q6, wrong={
        "no exploration bonus": (
            "def linucb_update(A, b, x, r):\n    return A + np.outer(x, x), b + r * x\n"
            "def linucb_choose(A, b, X, alpha):\n"
            "    return int(np.argmax([x @ np.linalg.solve(A[a], b[a]) for a, x in enumerate(X)]))\n"),
        "b ignores the reward": (
            "def linucb_update(A, b, x, r):\n    return A + np.outer(x, x), b + x\n"
            "def linucb_choose(A, b, X, alpha):\n    s = []\n    for a, x in enumerate(X):\n"
            "        Ai = np.linalg.inv(A[a])\n        s.append(x @ Ai @ b[a] + alpha * np.sqrt(x @ Ai @ x))\n"
            "    return int(np.argmax(s))\n"),
        "bonus with A instead of its inverse": (
            "def linucb_update(A, b, x, r):\n    return A + np.outer(x, x), b + r * x\n"
            "def linucb_choose(A, b, X, alpha):\n    s = []\n    for a, x in enumerate(X):\n"
            "        s.append(x @ np.linalg.solve(A[a], b[a]) + alpha * np.sqrt(x @ A[a] @ x))\n"
            "    return int(np.argmax(s))\n"),
        "diagonal update": (
            "def linucb_update(A, b, x, r):\n    return A + np.diag(x * x), b + r * x\n"
            "def linucb_choose(A, b, X, alpha):\n    s = []\n    for a, x in enumerate(X):\n"
            "        Ai = np.linalg.inv(A[a])\n        s.append(x @ Ai @ b[a] + alpha * np.sqrt(x @ Ai @ x))\n"
            "    return int(np.argmax(s))\n"),
    }),
    Question("q7", points=2, title="rank candidates by log-likelihood", probe=probe_q7, judge=judge_q7, wrong={
        "padding included": (
            "def rank_candidates(logprobs, mask, length_normalize=True):\n    s = np.asarray(logprobs).sum(1)\n"
            "    if length_normalize:\n        s = s / np.asarray(mask).sum(1)\n"
            "    return np.argsort(-s, kind='stable')\n"),
        "divided by the padded length": (
            "def rank_candidates(logprobs, mask, length_normalize=True):\n"
            "    s = (np.asarray(logprobs) * mask).sum(1)\n"
            "    if length_normalize:\n        s = s / np.asarray(mask).shape[1]\n"
            "    return np.argsort(-s, kind='stable')\n"),
        "worst first": (
            "def rank_candidates(logprobs, mask, length_normalize=True):\n"
            "    s = (np.asarray(logprobs) * mask).sum(1)\n"
            "    if length_normalize:\n        s = s / np.asarray(mask).sum(1)\n"
            "    return np.argsort(s, kind='stable')\n"),
        "normalisation ignored": (
            "def rank_candidates(logprobs, mask, length_normalize=True):\n"
            "    s = (np.asarray(logprobs) * mask).sum(1)\n"
            "    return np.argsort(-s, kind='stable')\n"),
    }),
]
