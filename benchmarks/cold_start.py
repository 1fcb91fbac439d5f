"""Cold-start benchmark on MovieLens-100K: new items from their text, new users from a few interactions.

**Items.** ``coldstart.cold_item_holdout``: 20 % of the films are removed from training entirely
(their interactions are test targets) and 10 % of each user's remaining interactions are held out as
warm test targets. Every model ranks (a) the cold films only, (b) the warm films only, (c) every
film not seen in training (mixed catalogue; also scored against the warm targets only, which is
what the warm items keep when cold ones compete for the slots). Models: random; popularity (ID popularity; cold films
all score 0, so ties fall to the lower item index); popularity of the release year; an IDF-weighted
genre profile (no language model); the naive text profile (mean MiniLM embedding of the user's films);
the ridge map text → implicit-ALS item factors (CB2CF / DeepMusic style); a NumPy DropoutNet
(Volkovs et al. 2017); EASE (warm only) and the z-score blend of EASE (warm) with the text map
(cold) at three cold boosts.

**Users.** ``coldstart.onboarding_split``: 20 % of the users are cold; each gives ``k`` known
interactions (k = 0, 1, 3, 5, 10; the same test targets for every k): popularity, demographic
popularity (age bucket, gender, occupation), onboarding text profile, ALS fold-in.

Settings are fixed library defaults (ALS 32 factors, reg 10, alpha 2, 8 rounds; ridge lam 10;
DropoutNet 64 hidden units, dropout 0.5, 200 Adam steps), not tuned on the test targets. Mean ± std
over seeds 0, 1, 2 (split and model seed), seconds = median fit time on this machine.

Run:  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cold_start.py [--seeds 0 1 2]
      (≈ 1 min on 2 cores; writes benchmarks/results/cold_start.json, which
      notebooks/06_cold_start.ipynb loads and prints)
Taught in notebooks/06_cold_start.ipynb.
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

RESULTS = Path(__file__).resolve().parent / "results" / "cold_start.json"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    from translearn_lib import coldstart
    from translearn_lib.datasets import load_movielens_100k

    ml = load_movielens_100k()
    start = time.perf_counter()
    items, users = [], []
    for seed in args.seeds:
        table = coldstart.item_table(ml, seed)
        items += [dict(row, seed=seed) for row in table["rows"]]
        users += coldstart.user_curve(ml, seed)
        print(f"seed {seed} done ({time.perf_counter() - start:.0f} s)", flush=True)
    items, users = pd.DataFrame(items), pd.DataFrame(users)
    cols = ["cold_ndcg", "cold_recall", "warm_ndcg", "mixed_ndcg", "mixed_recall", "warm_in_mixed_ndcg"]
    order = list(dict.fromkeys(items["method"]))
    summary = items.groupby("method", sort=False)[cols].agg(["mean", "std"])
    summary.columns = [f"{a}_{b}" for a, b in summary.columns]
    summary["seconds"] = items.groupby("method", sort=False)["seconds"].median()
    summary = summary.loc[order].reset_index()
    curve = users.groupby(["method", "k"], sort=False)[["ndcg", "recall"]].agg(["mean", "std"])
    curve.columns = [f"{a}_{b}" for a, b in curve.columns]
    curve = curve.reset_index()
    out = {"meta": {"seeds": args.seeds, "k": 10, "python": platform.python_version(),
                    "total_seconds": round(time.perf_counter() - start, 1)},
           "items": summary.to_dict(orient="records"), "item_runs": items.to_dict(orient="records"),
           "users": curve.to_dict(orient="records"), "user_runs": users.to_dict(orient="records")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(3).to_string(index=False))
        print(curve.pivot(index="method", columns="k", values="ndcg_mean").round(3))
    return out


if __name__ == "__main__":
    main()
