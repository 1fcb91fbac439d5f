"""Hidden checks for exercises/01_transfer_basics.ipynb (the example grader file).

Each question has a ``probe`` that runs in the learner's kernel on fresh inputs built from a seed,
and a ``judge`` that runs in the grader process and decides from the returned data. Keras is only
imported inside probes, so loading this file in the grader process stays fast. ``wrong`` holds the
planted wrong answers the honesty tests must see fail (tests/notebooks/test_exercises.py).
See translearn_lib/grading/__init__.py and docs/exercises.md for the format.
"""

import numpy as np

from translearn_lib.grading import Question, checks


# ------------------------------------------------------------------ q1: freeze + new softmax head
def _q1_spec(seed):
    rng = np.random.default_rng(seed)
    in_dim = int(rng.integers(6, 12))
    feat = int(rng.integers(3, 6))          # always != in_dim, so a head on the raw input is caught
    return {"in_dim": in_dim, "width": int(rng.integers(5, 9)), "feat": feat,
            "n_classes": int(rng.integers(2, 6)), "x": rng.normal(size=(8, in_dim)).astype("float32")}


def _small_base(in_dim, widths, with_bn=True):
    import keras

    layers = [keras.Input(shape=(in_dim,))]
    for i, w in enumerate(widths):
        layers.append(keras.layers.Dense(w, activation="relu", name=f"dense_{i}"))
        if with_bn and i < len(widths) - 1:
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
    return keras.Sequential(layers)


def probe_q1(ns, seed):
    import keras

    s = _q1_spec(seed)
    base = _small_base(s["in_dim"], [s["width"], s["feat"]])
    model = checks.call(checks.get_function(ns, "build_transfer_model"), base, s["n_classes"])
    if not isinstance(model, keras.Model):
        raise AssertionError(f"build_transfer_model should return a keras.Model, got {type(model).__name__}")
    out = np.asarray(model(s["x"], training=False))
    # does the output depend on the base? Zero the base's last kernel: its features become constant
    last = base.layers[-1]
    saved = last.get_weights()
    last.set_weights([np.zeros_like(saved[0]), saved[1]])
    out_constant_features = np.asarray(model(s["x"], training=False))
    last.set_weights(saved)
    return {"base_trainable": bool(base.trainable),
            "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
            "out": out, "out_constant_features": out_constant_features}


def judge_q1(seed, data):
    s = _q1_spec(seed)
    want = s["feat"] * s["n_classes"] + s["n_classes"]
    out = checks.as_array(data["out"], "model output", shape=(8, s["n_classes"]))
    if data["base_trainable"]:
        raise AssertionError("the base model is still trainable: set base.trainable = False")
    if data["n_trainable"] != want:
        raise AssertionError(f"for a base with {s['feat']} output features and {s['n_classes']} classes only the "
                             f"new head should train ({want} parameters), got {data['n_trainable']}")
    if not (np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)):
        raise AssertionError("the head should output class probabilities (softmax): rows must sum to 1")
    flat = checks.as_array(data["out_constant_features"], "model output")
    if np.ptp(flat, axis=0).max() > 1e-5:
        raise AssertionError("the model's output does not come from the base's features: "
                             "put the new head on base(inputs, training=False)")


# --------------------------------------------------------- q2: unfreeze but keep BatchNorm frozen
def _q2_spec(seed):
    rng = np.random.default_rng(seed)
    return {"in_dim": int(rng.integers(5, 10)), "widths": [int(w) for w in rng.integers(4, 9, size=3)],
            "seed": int(rng.integers(2**31))}


def probe_q2(ns, seed):
    import keras

    s = _q2_spec(seed)
    base = _small_base(s["in_dim"], s["widths"])
    base.trainable = False                   # as after the feature-extraction phase
    checks.call(checks.get_function(ns, "unfreeze_for_finetuning"), base)
    layers = [[type(layer).__name__, bool(layer.trainable)] for layer in base.layers]
    bns = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [np.copy(keras.ops.convert_to_numpy(b.moving_mean)) for b in bns]
    x = np.random.default_rng(s["seed"]).normal(3.0, 2.0, size=(16, s["in_dim"])).astype("float32")
    keras.Sequential([base, keras.layers.Dense(2)])(x, training=True)
    moved = [float(np.abs(keras.ops.convert_to_numpy(b.moving_mean) - m).max()) for b, m in zip(bns, before)]
    return {"base_trainable": bool(base.trainable), "layers": layers, "bn_moved": moved,
            "n_trainable": int(sum(int(np.prod(w.shape)) for w in base.trainable_weights))}


def judge_q2(seed, data):
    s = _q2_spec(seed)
    dims = [s["in_dim"], *s["widths"]]
    want = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
    if not data["base_trainable"]:
        raise AssertionError("the base is still frozen: set base.trainable = True first")
    frozen_dense = [name for name, trainable in data["layers"] if name == "Dense" and not trainable]
    if frozen_dense:
        raise AssertionError(f"{len(frozen_dense)} Dense layer(s) of the base are still frozen")
    open_bn = [name for name, trainable in data["layers"] if name == "BatchNormalization" and trainable]
    if open_bn:
        raise AssertionError(f"{len(open_bn)} BatchNormalization layer(s) are trainable: keep them frozen "
                             "(layer.trainable = False) so they stay in inference mode")
    if max(data["bn_moved"], default=0.0) > 1e-6:
        raise AssertionError("a training-mode call moved BatchNorm's moving mean")
    if data["n_trainable"] != want:
        raise AssertionError(f"expected the {want} Dense parameters to be trainable, got {data['n_trainable']}")


# ------------------------------------------------------------------- q3: features of a named layer
_ACTS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "linear": lambda z: z}


def _q3_spec(seed):
    rng = np.random.default_rng(seed)
    in_dim = int(rng.integers(4, 9))
    widths = [int(w) for w in rng.integers(3, 8, size=3)]
    acts = ["relu", "tanh", "linear"]
    names = [f"layer_{int(v)}" for v in rng.choice(1000, size=3, replace=False)]
    dims = [in_dim, *widths]
    weights = [(rng.normal(size=(a, b)).astype("float32"), rng.normal(size=b).astype("float32"))
               for a, b in zip(dims[:-1], dims[1:])]
    pick = int(rng.integers(0, 2))              # ask for the first or the second layer, never the last
    X = rng.normal(size=(int(rng.integers(5, 12)), in_dim)).astype("float32")
    return {"in_dim": in_dim, "widths": widths, "acts": acts, "names": names, "weights": weights,
            "pick": pick, "X": X}


def probe_q3(ns, seed):
    import keras

    s = _q3_spec(seed)
    inputs = keras.Input(shape=(s["in_dim"],))
    h = inputs
    for w, act, name in zip(s["widths"], s["acts"], s["names"]):
        h = keras.layers.Dense(w, activation=act, name=name)(h)
    model = keras.Model(inputs, h)
    for layer_name, (W, b) in zip(s["names"], s["weights"]):
        model.get_layer(layer_name).set_weights([W, b])
    out = checks.call(checks.get_function(ns, "extract_features"), model, s["names"][s["pick"]], s["X"])
    return checks.as_array(out, "extract_features(...)")


def judge_q3(seed, data):
    s = _q3_spec(seed)
    h = s["X"].astype("float64")
    for (W, b), act in list(zip(s["weights"], s["acts"]))[: s["pick"] + 1]:
        h = _ACTS[act](h @ W + b)
    checks.assert_close(data, h, f"features of layer '{s['names'][s['pick']]}'", atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------------------ q4: learning curve
def _q4_spec(seed):
    rng = np.random.default_rng(seed)
    n_train, n_test = int(rng.integers(25, 40)), int(rng.integers(15, 25))
    sizes = sorted(int(v) for v in rng.choice(np.arange(3, n_train + 1), size=4, replace=False))
    return {"X_train": np.column_stack([np.arange(n_train), rng.normal(size=n_train)]),
            "y_train": rng.integers(0, 3, n_train), "X_test": np.column_stack([-np.ones(n_test), rng.normal(size=n_test)]),
            "y_test": rng.integers(0, 3, n_test), "sizes": sizes, "seed": int(rng.integers(1000))}


def _nearest_neighbour(Xa, ya, Xb):
    """1-NN on the second column: a deterministic model whose accuracy depends on the exact rows."""
    d = np.abs(Xb[:, 1][:, None] - Xa[:, 1][None, :])
    return ya[np.argmin(d, axis=1)]


def probe_q4(ns, seed):
    s = _q4_spec(seed)
    calls = []

    def fit_predict(Xa, ya, Xb):
        calls.append(sorted(int(v) for v in np.asarray(Xa)[:, 0]))
        return _nearest_neighbour(np.asarray(Xa), np.asarray(ya), np.asarray(Xb))

    out = checks.call(checks.get_function(ns, "learning_curve"), fit_predict, s["X_train"], s["y_train"],
                      s["X_test"], s["y_test"], s["sizes"], seed=s["seed"])
    return {"scores": checks.as_array(out, "learning_curve(...)"), "calls": calls}


def judge_q4(seed, data):
    s = _q4_spec(seed)
    order = np.random.default_rng(s["seed"]).permutation(len(s["X_train"]))
    want_rows = [sorted(int(i) for i in order[:n]) for n in s["sizes"]]
    got_rows = data["calls"]
    if [len(r) for r in got_rows] != s["sizes"]:
        raise AssertionError(f"call fit_predict once per size with n rows: sizes {s['sizes']}, "
                             f"got calls with {[len(r) for r in got_rows]} rows")
    for n, got, want in zip(s["sizes"], got_rows, want_rows):
        if got != want:
            raise AssertionError(f"for n={n} train on the first n rows of "
                                 "np.random.default_rng(seed).permutation(len(X_train)) (nested subsets)")
    expected = [np.mean(_nearest_neighbour(s["X_train"][order[:n]], s["y_train"][order[:n]], s["X_test"]) == s["y_test"])
                for n in s["sizes"]]
    checks.assert_close(data["scores"], expected, "test accuracies")


# ------------------------------------------------------------------------- q5: negative transfer
def _q5_case(rng, margin):
    k = int(rng.integers(5, 9))
    sizes = sorted(int(v) for v in rng.choice(np.arange(10, 2000), size=k, replace=False))
    target_only = np.round(rng.uniform(0.3, 0.9, k), 2)
    # differences on a 0.01 grid, so no comparison sits on the edge of `margin` by rounding
    diff = rng.integers(-4, 5, k)
    a, b, c = rng.choice(k, size=3, replace=False)
    diff[a], diff[b], diff[c] = 0, -1, -3        # a tie, a small and a clear drop are always present
    transferred = np.round(target_only + diff / 100, 2)
    return {"sizes": sizes, "target_only": target_only.tolist(), "transferred": transferred.tolist(),
            "margin": margin}


def _q5_spec(seed):
    rng = np.random.default_rng(seed)
    return [_q5_case(rng, 0.0), _q5_case(rng, 0.015)]


def probe_q5(ns, seed):
    f = checks.get_function(ns, "negative_transfer_sizes")
    results = []
    for case in _q5_spec(seed):
        out = checks.call(f, list(case["sizes"]), np.array(case["target_only"]), np.array(case["transferred"]),
                          margin=case["margin"])
        try:
            results.append([int(v) for v in out])
        except (TypeError, ValueError):
            raise AssertionError(f"return a list of sizes (ints), got {type(out).__name__}") from None
    return results


def judge_q5(seed, data):
    for case, got in zip(_q5_spec(seed), data):
        want = [n for n, a, b in zip(case["sizes"], case["target_only"], case["transferred"]) if b < a - case["margin"]]
        if list(got) != want:
            raise AssertionError(f"sizes {case['sizes']}, target-only {case['target_only']}, transferred "
                                 f"{case['transferred']}, margin {case['margin']}: expected {want}, got {list(got)}")


QUESTIONS = [
    Question("q1", points=3, title="freeze base + new head", probe=probe_q1, judge=judge_q1, wrong={
        "base not frozen": (
            "def build_transfer_model(base, n_classes):\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    outputs = keras.layers.Dense(n_classes, activation='softmax')(base(inputs, training=False))\n"
            "    return keras.Model(inputs, outputs)\n"),
        "head on raw inputs": (
            "def build_transfer_model(base, n_classes):\n"
            "    base.trainable = False\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='softmax')(inputs))\n"),
        "no softmax": (
            "def build_transfer_model(base, n_classes):\n"
            "    base.trainable = False\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes)(base(inputs, training=False)))\n"),
    }),
    Question("q2", points=2, title="unfreeze, BN frozen", probe=probe_q2, judge=judge_q2, wrong={
        "BN unfrozen too (Keras 2 recipe)": "def unfreeze_for_finetuning(base):\n    base.trainable = True\n    return base\n",
        "BN frozen before unfreezing": (
            "def unfreeze_for_finetuning(base):\n"
            "    for layer in base.layers:\n"
            "        if isinstance(layer, keras.layers.BatchNormalization):\n"
            "            layer.trainable = False\n"
            "    base.trainable = True\n"
            "    return base\n"),
        "left frozen": "def unfreeze_for_finetuning(base):\n    return base\n",
    }),
    Question("q3", points=2, title="extract features", probe=probe_q3, judge=judge_q3, wrong={
        "final output": "def extract_features(model, layer_name, X):\n    return np.asarray(model.predict(X, verbose=0))\n",
        "layer input instead of output": (
            "def extract_features(model, layer_name, X):\n"
            "    return np.asarray(keras.Model(model.inputs, model.get_layer(layer_name).input).predict(X, verbose=0))\n"),
        "hard-coded shape": "def extract_features(model, layer_name, X):\n    return np.zeros((len(X), 32))\n",
    }),
    Question("q4", points=3, title="learning curve", probe=probe_q4, judge=judge_q4, wrong={
        "no shuffle": (
            "def learning_curve(fit_predict, X_train, y_train, X_test, y_test, sizes, seed=0):\n"
            "    return np.array([np.mean(fit_predict(X_train[:n], y_train[:n], X_test) == y_test) for n in sizes])\n"),
        "new subset per size": (
            "def learning_curve(fit_predict, X_train, y_train, X_test, y_test, sizes, seed=0):\n"
            "    rng = np.random.default_rng(seed)\n"
            "    out = []\n"
            "    for n in sizes:\n"
            "        idx = rng.permutation(len(X_train))[:n]\n"
            "        out.append(np.mean(fit_predict(X_train[idx], y_train[idx], X_test) == y_test))\n"
            "    return np.array(out)\n"),
        "training accuracy": (
            "def learning_curve(fit_predict, X_train, y_train, X_test, y_test, sizes, seed=0):\n"
            "    order = np.random.default_rng(seed).permutation(len(X_train))\n"
            "    out = []\n"
            "    for n in sizes:\n"
            "        idx = order[:n]\n"
            "        out.append(np.mean(fit_predict(X_train[idx], y_train[idx], X_train[idx]) == y_train[idx]))\n"
            "    return np.array(out)\n"),
    }),
    Question("q5", points=2, title="negative transfer", probe=probe_q5, judge=judge_q5, wrong={
        "sign flipped": (
            "def negative_transfer_sizes(sizes, target_only, transferred, margin=0.0):\n"
            "    return [n for n, a, b in zip(sizes, target_only, transferred) if b > a + margin]\n"),
        "indices instead of sizes": (
            "def negative_transfer_sizes(sizes, target_only, transferred, margin=0.0):\n"
            "    return [i for i, (a, b) in enumerate(zip(target_only, transferred)) if b < a - margin]\n"),
        "margin ignored, ties count": (
            "def negative_transfer_sizes(sizes, target_only, transferred, margin=0.0):\n"
            "    return [n for n, a, b in zip(sizes, target_only, transferred) if b <= a]\n"),
    }),
]
