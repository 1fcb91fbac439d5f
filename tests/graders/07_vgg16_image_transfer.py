"""Hidden checks for exercises/07_vgg16_image_transfer.ipynb.

Each probe builds a fresh VGG-style model from the seed (random number of blocks, convolutions and
channels, so a hard-coded "block5" or a memorised count fails), runs the learner's function in their
kernel and returns plain data; each judge recomputes the answer from the seed. Keras is imported
inside the probes only.
"""

import numpy as np

from translearn_lib.grading import Question, checks


def _vgg_spec(seed):
    rng = np.random.default_rng(seed)
    n_blocks = int(rng.integers(3, 6))
    return {"convs": [int(c) for c in rng.integers(1, 4, size=n_blocks)],
            "channels": [int(c) for c in rng.choice([2, 3, 4, 5, 6], size=n_blocks)],
            # the last map is 2 x 2 or 3 x 3, so a head sized for 1 x 1 maps is caught
            "side": int(2 ** n_blocks * rng.integers(2, 4)), "n_classes": int(rng.integers(2, 7)),
            "k": int(rng.integers(1, n_blocks)), "in_channels": int(rng.integers(1, 4))}


def _vgg_like(s):
    """A small functional model with VGG16's layer names: block<b>_conv<i>, block<b>_pool, then 'features'."""
    import keras

    inputs = keras.Input(shape=(s["side"], s["side"], s["in_channels"]))
    h = inputs
    for b, (n, c) in enumerate(zip(s["convs"], s["channels"]), start=1):
        for i in range(1, n + 1):
            h = keras.layers.Conv2D(c, 3, padding="same", activation="relu", name=f"block{b}_conv{i}")(h)
        h = keras.layers.MaxPooling2D(2, name=f"block{b}_pool")(h)
    return keras.Model(inputs, h, name="vgg_like")


def _conv_params(s):
    """Weights per block of the spec."""
    out, c_in = [], s["in_channels"]
    for n, c in zip(s["convs"], s["channels"]):
        total = 0
        for _ in range(n):
            total += 9 * c_in * c + c
            c_in = c
        out.append(total)
    return out


# ---------------------------------------------------------------------- q1: open the last k blocks
def probe_q1(ns, seed):
    s = _vgg_spec(seed)
    base = _vgg_like(s)
    base.trainable = False                                    # as after feature extraction
    results = {}
    for k in (0, s["k"], len(s["convs"])):
        out = checks.call(checks.get_function(ns, "open_last_blocks"), base, k)
        if out is not base:
            raise AssertionError("open_last_blocks should return the base it was given")
        results[str(k)] = {"open": sorted(layer.name for layer in base.layers if layer.trainable and layer.weights),
                           "n_trainable": int(sum(int(np.prod(w.shape)) for w in base.trainable_weights))}
    return results


def judge_q1(seed, data):
    s = _vgg_spec(seed)
    n_blocks, params = len(s["convs"]), _conv_params(s)
    for k in (0, s["k"], n_blocks):
        want = sorted(f"block{b}_conv{i}" for b in range(n_blocks - k + 1, n_blocks + 1)
                      for i in range(1, s["convs"][b - 1] + 1))
        got = data[str(k)]
        if got["open"] != want:
            raise AssertionError(f"a base with {n_blocks} blocks, k={k}: expected trainable {want}, got {got['open']}")
        if got["n_trainable"] != sum(params[n_blocks - k:]):
            raise AssertionError(f"k={k}: expected {sum(params[n_blocks - k:])} trainable weights, got "
                                 f"{got['n_trainable']} (is the base itself trainable?)")


# ------------------------------------------------------------------------- q2: a new head, frozen base
def probe_q2(ns, seed):
    import keras

    s = _vgg_spec(seed)
    base = _vgg_like(s)
    model = checks.call(checks.get_function(ns, "add_head"), base, s["n_classes"])
    if not isinstance(model, keras.Model):
        raise AssertionError(f"add_head should return a keras.Model, got {type(model).__name__}")
    x = np.random.default_rng(seed).normal(size=(5, s["side"], s["side"], s["in_channels"])).astype("float32")
    out = np.asarray(model(x, training=False))
    last = base.get_layer(f"block{len(s['convs'])}_conv{s['convs'][-1]}")
    saved = last.get_weights()
    # two constant feature maps (all 0, all 5): a head on the base's features must tell them apart
    last.set_weights([np.zeros_like(saved[0]), np.zeros_like(saved[1])])
    out_zero = np.asarray(model(x, training=False))
    last.set_weights([np.zeros_like(saved[0]), np.full_like(saved[1], 5.0)])
    out_five = np.asarray(model(x, training=False))
    last.set_weights(saved)
    return {"base_trainable": bool(base.trainable), "out": out.tolist(), "out_zero": out_zero.tolist(),
            "out_five": out_five.tolist(),
            "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))}


def judge_q2(seed, data):
    s = _vgg_spec(seed)
    final = s["side"] // 2 ** len(s["convs"])
    features = final * final * s["channels"][-1]
    want = features * s["n_classes"] + s["n_classes"]
    out = checks.as_array(data["out"], "model output", shape=(5, s["n_classes"]))
    if data["base_trainable"]:
        raise AssertionError("the base is still trainable: set base.trainable = False")
    if data["n_trainable"] != want:
        raise AssertionError(f"{features} flattened features and {s['n_classes']} classes: only the head should train "
                             f"({want} weights), got {data['n_trainable']}")
    if not (np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)):
        raise AssertionError("the head should output class probabilities (softmax)")
    zero = checks.as_array(data["out_zero"], "model output")
    five = checks.as_array(data["out_five"], "model output")
    if np.allclose(zero, five, atol=1e-6):
        raise AssertionError("the output does not depend on the base's features: put the head on base(inputs)")


# ---------------------------------------------------------------- q3: trainable weights by hand
def probe_q3(ns, seed):
    s = _vgg_spec(seed)
    f = checks.get_function(ns, "vgg_trainable_params")
    return [checks.call(f, s["channels"], s["convs"], k, s["n_classes"], s["side"], in_channels=s["in_channels"])
            for k in range(len(s["convs"]) + 1)]


def judge_q3(seed, data):
    s = _vgg_spec(seed)
    params = _conv_params(s)
    final = s["side"] // 2 ** len(s["convs"])
    head = final * final * s["channels"][-1] * s["n_classes"] + s["n_classes"]
    want = [sum(params[len(params) - k:]) + head if k else head for k in range(len(params) + 1)]
    got = checks.as_array(data, "vgg_trainable_params for open_blocks = 0..n", shape=(len(want),))
    if not np.array_equal(got, want):
        raise AssertionError(f"channels {s['channels']}, convs {s['convs']}, side {s['side']}, "
                             f"{s['in_channels']} input channels, {s['n_classes']} classes: expected {want}, "
                             f"got {got.astype(int).tolist()}")


# ------------------------------------------------------------------ q4: migrate by a named layer
def _q4_spec(seed):
    rng = np.random.default_rng(seed + 4)
    return {"in_dim": int(rng.integers(5, 12)), "hidden": int(rng.integers(3, 9)), "n_classes": int(rng.integers(2, 6))}


def probe_q4(ns, seed):
    import keras

    s = _q4_spec(seed)
    inputs = keras.Input(shape=(s["in_dim"],))
    h = keras.layers.Dense(s["hidden"], activation="relu", name="hidden")(inputs)
    source = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(h))
    hidden = source.get_layer("hidden")
    model = checks.call(checks.get_function(ns, "migrate"), source, s["n_classes"])
    if not isinstance(model, keras.Model):
        raise AssertionError(f"migrate should return a keras.Model, got {type(model).__name__}")
    reused = any(layer is hidden for layer in model.layers)
    x = np.random.default_rng(seed).normal(size=(6, s["in_dim"])).astype("float32")
    out = np.asarray(model(x, training=False)) if model.inputs[0].shape[-1] == s["in_dim"] else None
    return {"reused": bool(reused), "hidden_trainable": bool(hidden.trainable),
            "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
            "out": None if out is None else out.tolist()}


def judge_q4(seed, data):
    s = _q4_spec(seed)
    if not data["reused"]:
        raise AssertionError("reuse the source model's layer named 'hidden' itself (source_model.get_layer('hidden'))")
    if data["hidden_trainable"]:
        raise AssertionError("the reused 'hidden' layer must be frozen (trainable = False)")
    want = s["hidden"] * s["n_classes"] + s["n_classes"]
    if data["n_trainable"] != want:
        raise AssertionError(f"only the new output layer should train ({want} weights for {s['hidden']} hidden units "
                             f"and {s['n_classes']} classes), got {data['n_trainable']}")
    if data["out"] is None:
        raise AssertionError("the new model should take the source model's input shape")
    out = checks.as_array(data["out"], "migrated model output", shape=(6, s["n_classes"]))
    if not np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        raise AssertionError("the new output layer should be a softmax over the classes")


QUESTIONS = [
    Question("q1", points=2, title="open the last k blocks", probe=probe_q1, judge=judge_q1, wrong={
        "hard-coded block 5": (
            "def open_last_blocks(base, k):\n"
            "    base.trainable = True\n"
            "    for layer in base.layers:\n"
            "        layer.trainable = k > 0 and layer.name.startswith('block5')\n"
            "    return base\n"),
        "first k blocks": (
            "def open_last_blocks(base, k):\n"
            "    base.trainable = True\n"
            "    for layer in base.layers:\n"
            "        b = int(layer.name.split('_')[0][5:]) if layer.name.startswith('block') else 0\n"
            "        layer.trainable = 0 < b <= k\n"
            "    return base\n"),
        "base left frozen": (
            "def open_last_blocks(base, k):\n"
            "    blocks = [int(l.name.split('_')[0][5:]) for l in base.layers if l.name.startswith('block')]\n"
            "    for layer in base.layers:\n"
            "        b = int(layer.name.split('_')[0][5:]) if layer.name.startswith('block') else 0\n"
            "        layer.trainable = b > max(blocks) - k\n"
            "    return base\n"),
    }),
    Question("q2", points=2, title="a new head on a frozen base", probe=probe_q2, judge=judge_q2, wrong={
        "base not frozen": (
            "def add_head(base, n_classes):\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    flat = keras.layers.Flatten()(base(inputs))\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='softmax')(flat))\n"),
        "no softmax": (
            "def add_head(base, n_classes):\n"
            "    base.trainable = False\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    flat = keras.layers.Flatten()(base(inputs, training=False))\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes)(flat))\n"),
        "head on the raw image": (
            "def add_head(base, n_classes):\n"
            "    base.trainable = False\n"
            "    inputs = keras.Input(shape=base.inputs[0].shape[1:])\n"
            "    flat = keras.layers.Flatten()(inputs)\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='softmax')(flat))\n"),
    }),
    Question("q3", points=3, title="trainable weights by hand", probe=probe_q3, judge=judge_q3, wrong={
        "biases forgotten": (
            "def vgg_trainable_params(channels, convs, open_blocks, n_classes, side, in_channels=3):\n"
            "    total, c_in = 0, in_channels\n"
            "    for b, (c, n) in enumerate(zip(channels, convs)):\n"
            "        block = 0\n"
            "        for _ in range(n):\n"
            "            block += 9 * c_in * c\n"
            "            c_in = c\n"
            "        if b >= len(channels) - open_blocks:\n"
            "            total += block\n"
            "    f = (side // 2 ** len(channels)) ** 2 * channels[-1]\n"
            "    return total + f * n_classes\n"),
        "input channels ignored": (
            "def vgg_trainable_params(channels, convs, open_blocks, n_classes, side, in_channels=3):\n"
            "    total, c_in = 0, channels[0]\n"
            "    for b, (c, n) in enumerate(zip(channels, convs)):\n"
            "        block = 0\n"
            "        for _ in range(n):\n"
            "            block += 9 * c_in * c + c\n"
            "            c_in = c\n"
            "        if b >= len(channels) - open_blocks:\n"
            "            total += block\n"
            "    f = (side // 2 ** len(channels)) ** 2 * channels[-1]\n"
            "    return total + f * n_classes + n_classes\n"),
        "head on the last channels only": (
            "def vgg_trainable_params(channels, convs, open_blocks, n_classes, side, in_channels=3):\n"
            "    total, c_in = 0, in_channels\n"
            "    for b, (c, n) in enumerate(zip(channels, convs)):\n"
            "        block = 0\n"
            "        for _ in range(n):\n"
            "            block += 9 * c_in * c + c\n"
            "            c_in = c\n"
            "        if b >= len(channels) - open_blocks:\n"
            "            total += block\n"
            "    return total + channels[-1] * n_classes + n_classes\n"),
    }),
    Question("q4", points=3, title="migrate by a named layer", probe=probe_q4, judge=judge_q4, wrong={
        "copied, not reused": (
            "def migrate(source_model, n_classes):\n"
            "    units = source_model.get_layer('hidden').units\n"
            "    inputs = keras.Input(shape=source_model.inputs[0].shape[1:])\n"
            "    h = keras.layers.Dense(units, activation='relu', trainable=False)(inputs)\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='softmax')(h))\n"),
        "hidden still trainable": (
            "def migrate(source_model, n_classes):\n"
            "    inputs = keras.Input(shape=source_model.inputs[0].shape[1:])\n"
            "    h = source_model.get_layer('hidden')(inputs)\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='softmax')(h))\n"),
        "sigmoid output": (
            "def migrate(source_model, n_classes):\n"
            "    hidden = source_model.get_layer('hidden')\n"
            "    hidden.trainable = False\n"
            "    inputs = keras.Input(shape=source_model.inputs[0].shape[1:])\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_classes, activation='sigmoid')(hidden(inputs)))\n"),
    }),
]
