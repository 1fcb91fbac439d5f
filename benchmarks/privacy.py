"""Privacy and augmentation benchmark on the generated shop (chapter 09).

**Privacy.** Clothing histories of 6,000 generated shoppers; users with >= 2 clothing items are split
into members (their one example each trains the model) and non-members (held out). The profile head
(residual MLP on the mean frozen MiniLM embedding, softmax over the 300 clothing products) is trained
with DP-SGD (vectorised per-example clipping C = 1, Gaussian noise, Poisson sampling, expected batch
128, 15 epochs, Adam 3e-3) with σ calibrated by the RDP accountant for each target ε (δ = 1e-5,
user-level: one example per user), and without DP for 10, 15 and 30 epochs. Per run: NDCG@10 on the
non-members' test items, the loss-threshold membership-inference AUC and advantage, and the ε the
PLD accountant certifies for the same σ.

**Augmentation.** Electronics -> clothing with 5 % of the clothing train/valid interactions kept
(``crossdomain.subsample_target``); the same head without DP, trained on leave-one-out examples; each
method of ``augment.METHODS`` against none, NDCG@10 on every user's clothing test items. Two
conditions where borrowed pseudo-interactions may hurt (none vs pseudo-interactions only): 25 % of
the clothing data (100 % takes ≈ 10 min per seed on a busy machine), and an unrelated source (a shop with ``domain_shift = 1``: tastes in the two
domains independent).

**Accounting check.** The MNIST setting of Abadi et al. / TF-Privacy (N = 60,000, batch 256,
σ = 1.12, 60 epochs, δ = 1e-5) with both accountants and both RDP conversions.

Mean ± std over seeds 0, 1, 2.

Run:  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/privacy.py [--seeds 0 1 2] [--part all|privacy|augment]
      [--conditions ...]
      (≈ 15–30 min on 2 busy cores; writes benchmarks/results/privacy.json, which
      notebooks/09_privacy_and_augmentation.ipynb loads and prints)
Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results" / "privacy.json"


def accounting_check() -> dict:
    from dp_accounting import rdp

    from translearn_lib import privacy as pv

    q, steps = 256 / 60000, pv.steps_for(60, 256 / 60000)
    orders = list(pv.accounting.ORDERS)
    acc = rdp.RdpAccountant(orders)
    acc.compose(pv.dpsgd_event(1.12, q, steps))
    return {"n": 60000, "batch": 256, "sigma": 1.12, "epochs": 60, "delta": 1e-5, "steps": steps,
            "rdp": pv.epsilon(1.12, q, steps, 1e-5, "rdp"), "pld": pv.epsilon(1.12, q, steps, 1e-5, "pld"),
            "rdp_classic_conversion": pv.rdp_to_epsilon(orders, acc._rdp, 1e-5, "classic")[0]}


def privacy_part(seeds) -> tuple[list, dict]:
    from translearn_lib import privacy as pv

    data = pv.shop_data()
    rows, base = [], []
    for seed in seeds:
        base.append(dict(pv.baselines(data, seed), seed=seed))
        for epochs in (10, 15, 30):
            rows.append(pv.privacy_run(data, None, seed=seed, epochs=epochs))
            print("no DP", epochs, {k: rows[-1][k] for k in ("ndcg", "attack_auc", "seconds")}, flush=True)
        for eps in pv.EPSILONS:
            rows.append(pv.privacy_run(data, eps, seed=seed))
            print("eps", eps, {k: rows[-1][k] for k in ("sigma", "ndcg", "attack_auc", "seconds")}, flush=True)
    return rows, pd.DataFrame(base).drop(columns="seed").agg(["mean", "std"]).to_dict()


CONDITIONS = {  # name: (domain_shift, share, methods); the last two probe the borrowed interactions only
    "5 % target data": (0.3, 0.05, None),
    "5 %, unrelated source": (1.0, 0.05, ("none", "pseudo-interactions")),
    "25 % target data": (0.3, 0.25, ("none", "pseudo-interactions")),
}


def augment_part(seeds, conditions, out_path) -> None:
    from translearn_lib import augment, privacy as pv

    for condition in conditions:
        shift, share, methods = CONDITIONS[condition]
        data = pv.shop_data(domain_shift=shift)
        views = {kind: augment.text_views(data.task.target_texts, n_views=1, method=kind, seed=0) for kind in ("mask", "reword")}
        rows = []
        for seed in seeds:
            for r in augment.augmentation_run(data, share=share, seed=seed, views=views, methods=methods or augment.METHODS):
                rows.append(dict(r, condition=condition))
            print(condition, seed, "done", flush=True)
        _save_augment(out_path, condition, rows)        # after each condition, so a long run keeps its progress


def _save_augment(out_path, condition, rows) -> None:
    path = Path(out_path)
    out = json.loads(path.read_text()) if path.exists() else {}
    runs = [r for r in out.get("augment_runs", []) if r["condition"] != condition] + rows
    order = list(CONDITIONS)
    runs.sort(key=lambda r: order.index(r["condition"]))
    frame = pd.DataFrame(runs)
    summary = frame.groupby(["condition", "method"], sort=False)[["ndcg", "recall"]].agg(["mean", "std"])
    summary.columns = [f"{a}_{b}" for a, b in summary.columns]
    summary["seconds"] = frame.groupby(["condition", "method"], sort=False)["seconds"].median()
    out["augment"], out["augment_runs"] = summary.reset_index().to_dict(orient="records"), runs
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(4).to_string())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--part", choices=["all", "privacy", "augment"], default="all")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    out = {}
    start = time.perf_counter()
    out["accounting"] = accounting_check()
    out["meta"] = {"seeds": args.seeds, "k": 10, "delta": 1e-5, "python": platform.python_version()}
    if args.part in ("all", "privacy"):
        runs, base = privacy_part(args.seeds)
        frame = pd.DataFrame(runs).assign(target_epsilon=lambda f: f["target_epsilon"].fillna(-1))
        cols = ["ndcg", "recall", "attack_auc", "attack_advantage", "sigma", "epsilon_pld"]
        summary = frame.groupby(["target_epsilon", "epochs"], sort=False)[cols].agg(["mean", "std"])
        summary.columns = [f"{a}_{b}" for a, b in summary.columns]
        summary = summary.reset_index()
        summary["target_epsilon"] = summary["target_epsilon"].where(summary["target_epsilon"] >= 0, None)
        out["privacy"] = summary.to_dict(orient="records")
        out["privacy_runs"] = runs
        out["privacy_baselines"] = base
        out["meta"]["privacy_seconds"] = round(time.perf_counter() - start, 1)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(summary.round(3).to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}   # keep the other part's results
    meta = {**old.get("meta", {}), **out["meta"]}
    Path(args.out).write_text(json.dumps({**old, **out, "meta": meta}, indent=1))
    if args.part in ("all", "augment"):
        augment_part(args.seeds, args.conditions, args.out)
    return json.loads(Path(args.out).read_text())


if __name__ == "__main__":
    main()
