"""Cross-domain recommendation benchmark: target NDCG@10 per strategy and share of target data.

Tasks: the generated shop (electronics -> clothing; mobile app -> PC site) and MovieLens-100K split
by genre (films whose genres are all among comedy/drama/romance/musical/documentary -> films with
none of them; films of both groups are left out). On mobile -> PC the two platforms sell the same
products, so the line-up also holds "shared item ids" (match the products by id and factorise the
merged interactions), the baseline to beat there. For each of 3 seeds the shop is regenerated, the
target is re-split, and a share of the target data is kept:

- ``--by user`` (default): that share of target users keep their target history, the others
  are new to the target (they still have their source history);
- ``--by interaction``: every user keeps that share of their target interactions.

NDCG@10 is computed by full ranking over all target items, with the user's (kept) target training
and validation items masked, on every user with a target test interaction.

Every number here is measured on the test part. The strategies' fixed settings were chosen
beforehand on validation data only; ``--tune`` reprints that grid (shop electronics -> clothing,
10 % of target data, NDCG@10 on the validation rows of all target users, see
``crossdomain.tuning_split``; about 15 s per seed). The "best transfer" line below the tables describes
the test results; it is not a model selection.

The summary (mean, std and number of seeds per task, protocol, strategy and share) is saved to
``benchmarks/results/cross_domain.json``; notebooks/04_cross_domain_recommendation.ipynb quotes the
benchmark from that file.

Run:  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cross_domain.py [--by user|interaction|both]
      HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cross_domain.py --tune [--by user] [--seeds 0 1 2]
Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import pandas as pd

from translearn_lib import crossdomain
from translearn_lib.datasets import load_movielens_100k, make_cross_domain_shop

SHARES = (0.05, 0.1, 0.25, 0.5, 1.0)
SUMMARY = Path(__file__).resolve().parent / "results" / "cross_domain.json"
#: Rows that transfer nothing from a source model (the "best transfer" line skips them).
BASELINES = ("popularity", "target-only", "shared item ids")


def tasks_for_seed(seed: int, which):
    shop = make_cross_domain_shop(seed=seed)
    out = []
    if "shop" in which:
        out.append(("shop: electronics -> clothing", crossdomain.shop_task(shop, "electronics", "clothing", seed=seed)))
    if "platform" in which:
        out.append(("shop: mobile -> PC", crossdomain.shop_task(shop, "mobile", "pc", seed=seed)))
    if "movielens" in which:
        out.append(("MovieLens genre split", crossdomain.movielens_genre_task(load_movielens_100k(), seed=seed)))
    return out


def run(seeds, modes, which, shares=SHARES):
    frames = []
    for seed in seeds:
        for label, task in tasks_for_seed(seed, which):
            Es, Et = crossdomain.task_embeddings(task)
            for by in modes:
                strategies = crossdomain.default_strategies(Es, Et, seed=seed, item_map=task.matched_items())
                t0 = time.perf_counter()
                curve = crossdomain.learning_curve(task, strategies, shares, seed=seed, by=by, progress=False)
                curve["task"], curve["by"] = label, by  # the runner records the seed
                frames.append(curve)
                print(f"  seed {seed} {label} by {by}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return pd.concat(frames, ignore_index=True)


#: The validation grid behind the strategies' defaults: (label, class name, attribute, values).
TUNE_GRID = (
    ("pretrain + fine-tune", "PretrainFinetune", "finetune_weight", (0.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e5)),
    ("EMCDR mapping", "EMCDR", "target_reg", (2.0, 5.0, 10.0, 30.0)),
    ("EMCDR mapping", "EMCDR", "min_target", (1, 3, 5, 10)),
    ("text bridge (CTR)", "TextBridge", "offset_reg", (1.0, 3.0, 10.0, 30.0, 100.0, None)),
)


def tune(seeds, modes, share: float = 0.1) -> pd.DataFrame:
    """Validation NDCG@10 of each default's grid (one setting varied, the others at their default)."""
    rows = []
    for seed in seeds:
        shop = make_cross_domain_shop(seed=seed)
        task = crossdomain.shop_task(shop, "electronics", "clothing", seed=seed)
        Es, Et = crossdomain.task_embeddings(task)
        for by in modes:
            sub = crossdomain.subsample_target(task.target, share, seed=seed, by=by)
            view = crossdomain.tuning_split(task.target, sub)
            for label, cls, attr, values in TUNE_GRID:
                args = (Es, Et) if cls == "TextBridge" else ()
                model = getattr(crossdomain, cls)(*args, seed=seed)  # reused: the source/text side is cached
                default = getattr(model, attr)
                for value in values:
                    setattr(model, attr, value)
                    model.fit(task.source, sub)
                    rows.append({"strategy": label, "setting": attr, "value": str(value), "default": value == default,
                                 "by": by, "seed": seed, "ndcg": crossdomain.evaluate_strategy(model, view, part="valid")["ndcg"]})
    return pd.DataFrame(rows)


def tune_markdown(grid: pd.DataFrame) -> str:
    lines = []
    for (setting, by), res in grid.groupby(["setting", "by"], sort=False):
        mean = res.groupby("value", sort=False)["ndcg"].mean()
        default = res.loc[res["default"], "value"].iloc[0]
        cells = [f"{v}{' (default)' if v == default else ''}: {m:.4f}" for v, m in mean.items()]
        lines.append(f"{res['strategy'].iloc[0]} {setting} [by {by}, {res['seed'].nunique()} seeds, valid NDCG@10]: "
                     + ", ".join(cells))
    return "\n".join(lines)


def markdown(results: pd.DataFrame) -> str:
    lines = []
    for (label, by), res in results.groupby(["task", "by"], sort=False):
        agg = res.groupby(["strategy", "share"], sort=False)["ndcg"].agg(["mean", "std"])
        shares = sorted(res["share"].unique())
        lines.append(f"\n**{label}** — target share by {by}, NDCG@10 (mean ± std over {res['seed'].nunique()} seeds)\n")
        lines.append("| strategy | " + " | ".join(f"{s:.0%}" for s in shares) + " |")
        lines.append("|---|" + "---:|" * len(shares))
        for name in res["strategy"].unique():
            cells = [f"{agg.loc[(name, s), 'mean']:.3f} ± {agg.loc[(name, s), 'std']:.3f}" for s in shares]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if 0.1 in shares:
            at = agg.xs(0.1, level="share")["mean"]
            transfer_names = [n for n in at.index if n not in BASELINES]
            best = max(transfer_names, key=lambda n: at[n])
            gain = at[best] / at["target-only"] - 1
            lines.append(f"\nAt 10 %: best transfer = {best} ({at[best]:.3f}) vs target-only "
                         f"({at['target-only']:.3f}): {gain:+.0%}.")
            if "shared item ids" in at.index:
                lines.append(f"Shared item ids (no transfer model, the same products matched by id): "
                             f"{at['shared item ids']:.3f}, {at['shared item ids'] / at['target-only'] - 1:+.0%} "
                             f"vs target-only; best transfer vs shared ids: {at[best] / at['shared item ids'] - 1:+.0%}.")
    return "\n".join(lines)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and number of seeds of NDCG@10 per task, protocol, strategy and share."""
    agg = results.groupby(["task", "by", "strategy", "share"], sort=False)["ndcg"].agg(["mean", "std", "count"])
    return agg.reset_index().rename(columns={"count": "n_seeds"})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--by", choices=["user", "interaction", "both"], default="both")
    parser.add_argument("--tasks", nargs="+", default=["shop", "platform", "movielens"],
                        choices=["shop", "platform", "movielens"])
    parser.add_argument("--json", help="also write the raw results to this JSON file")
    parser.add_argument("--summary", default=str(SUMMARY),
                        help="where to save the summary the notebook reads ('' to skip; default: %(default)s)")
    parser.add_argument("--tune", action="store_true",
                        help="print the validation grid behind the strategies' defaults instead (no test numbers)")
    args = parser.parse_args(argv)
    import keras  # noqa: F401, E402  (imported first so that set_seed also turns on TF op determinism)
    from translearn_lib import config
    config.set_seed(config.DEFAULT_SEED)
    modes = ["user", "interaction"] if args.by == "both" else [args.by]
    start = time.perf_counter()
    if args.tune:
        print(tune_markdown(tune(args.seeds, modes)))
        print(f"\nWall time: {time.perf_counter() - start:.0f} s")
        return
    results = run(args.seeds, modes, args.tasks)
    print(markdown(results))
    print(f"\nWall time: {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results.to_dict(orient="records"), fh)
    if args.summary:
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        summary = summarize(results).round(6)
        meta = {"seeds": args.seeds, "shares": list(SHARES), "metric": "ndcg@10 on the test part",
                "command": "python benchmarks/cross_domain.py " + " ".join(argv if argv is not None else sys.argv[1:])}
        with open(args.summary, "w") as fh:
            json.dump({"meta": meta, "rows": summary.to_dict(orient="records")}, fh, indent=0)
            fh.write("\n")


if __name__ == "__main__":
    main()
