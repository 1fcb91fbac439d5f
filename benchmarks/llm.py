"""Generative-LLM benchmark (chapter 10): SmolLM2-135M-Instruct as loader, ranker, encoder and LoRA learner.

**Speed.** Load time (first load: sha256 + dequantisation + conversion, then cached float32
weights), prefill tokens/s (a batch of 8 × 128 tokens in one pass) and cached-generation tokens/s.

**Ranking.** Chapter 06's cold-item split (``coldstart.cold_item_holdout``: 20 % of the films never
seen in training, 10 % of each user's other interactions held out). For ``--users`` users with a
cold and a warm test film and ≥ 5 liked training films, one candidate set of 20 films per user and
kind (cold / warm): up to 3 of the user's held-out films + unseen films of the same kind, shuffled.
The LLM scores each candidate title by its mean per-token log-likelihood after a prompt with the
user's 10 most recent liked training films, for each prompt wording, and once with the candidates
listed in the prompt, in the sampled and in the reversed order (order sensitivity, Hou et al. 2024).
Baselines on the same sets: random, popularity, popularity of the release year, the MiniLM text
profile and the SmolLM2-embedding text profile (chapter 06's ``TextProfile``). NDCG@10 over the 20
candidates (sampled candidates: compare rows with each other only).

**LoRA.** TALLRec-style Yes/No pairs (rating ≥ 4 = Yes; the prompt lists the user's 10 most recent
rated training films as liked / disliked): ``--train-pairs`` from training interactions,
``--test-pairs`` with test targets; AUC of ``logit(Yes) - logit(No)`` zero-shot and after ``--steps``
LoRA steps (rank 4 on query/value, the top 8 layers' adapters trained, batch 8, Adam 2e-3: the
default 256 steps are two passes over 1,024 pairs; the held-out AUC is also recorded every
``--curve-every`` steps, as a learning curve), and of non-LLM scorers on the same test pairs. (Version 2 of this
benchmark used 4 liked + 2 disliked titles, 160 / 48 pairs and 12 steps: 48 test pairs give an AUC
standard error near 0.08, too coarse to see a 0.05 gain.)

Mean ± std over seeds 0, 1, 2 (split, candidates, pairs and adapter seed). Wall times are from 2
otherwise idle cores (about 100 s of ranking and 800-900 s of LoRA per seed) and grow with any load.

Run:  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/llm.py [--seeds 0 1 2] [--users 6] [--steps 256]
      (≈ 50 min on 2 idle cores; per-seed parts are cached in the course cache, so a rerun resumes;
      writes benchmarks/results/llm.json, which notebooks/10_generative_llms.ipynb loads and prints)
Taught in notebooks/10_generative_llms.ipynb.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results" / "llm.json"
VARIANTS = ("enjoyed", "terse", "listed")


def _mean_std(values) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--train-pairs", type=int, default=1024)
    parser.add_argument("--test-pairs", type=int, default=192)
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--curve-every", type=int, default=64, help="held-out AUC every this many LoRA steps")
    parser.add_argument("--part", choices=("ranking", "lora", "all"), default="all",
                        help="compute only one part (run two processes side by side); 'all' computes what is "
                             "not cached and writes the JSON")
    parser.add_argument("--cached-only", action="store_true",
                        help="with --part all: write the JSON from the seeds whose parts are both cached, compute nothing")
    parser.add_argument("--embed-seconds", type=float, default=None,
                        help="with --cached-only: the SmolLM2 embedding time printed by the --part ranking run")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    from translearn_lib import cache, coldstart
    from translearn_lib.datasets import item_texts, load_movielens_100k
    from translearn_lib.encoders import llm as llm_mod
    from translearn_lib.encoders.text import encode_texts
    from translearn_lib.llm import lora, prompts, ranking
    from translearn_lib.recommenders.features import align_item_features

    start = time.perf_counter()
    weights = llm_mod._weights_path(llm_mod.SMOLLM2_SHA256)
    first_load = not weights.is_file()
    t0 = time.perf_counter()
    model = llm_mod.load_llm(progress=True)
    load_s = time.perf_counter() - t0
    speed = llm_mod.throughput(model) if args.part == "all" else {}
    if args.part == "all" and not args.cached_only:  # what a first load adds: sha256 check + dequantisation
        t0 = time.perf_counter()
        gguf_path = llm_mod.packaged_smollm2_path()
        llm_mod.check_gguf(gguf_path, llm_mod.SMOLLM2_SHA256)
        llm_mod.dequantized_tensors(gguf_path)
        speed["first_load_extra_s"] = time.perf_counter() - t0
    print(f"load {load_s:.1f} s (first load: {first_load}); {speed}", flush=True)

    ml = load_movielens_100k()
    texts = item_texts(ml.items)
    tmap = prompts.item_title(ml.items)
    short = [tmap[int(i)] for i in ml.items["item_id"]]   # "Title (year)": the LLM embeds the short text
    fresh = args.part == "all" and not args.cached_only   # time the encoders without their caches
    t0 = time.perf_counter()
    E_mini_all = encode_texts(texts, model="minilm", cache=not fresh)
    E_mini_short = encode_texts(short, model="minilm", cache=not fresh)
    mini_s = time.perf_counter() - t0
    llm_embed_s = args.embed_seconds
    if args.part in ("ranking", "all") and not args.cached_only:
        t0 = time.perf_counter()
        E_llm_short = model.embed(short, progress=True, cache=not fresh)
        llm_embed_s = time.perf_counter() - t0
        print(f"embeddings: MiniLM {mini_s:.1f} s (two texts per item), SmolLM2 {llm_embed_s:.1f} s", flush=True)

    runs = []
    for seed in args.seeds:
        run = {"seed": seed}
        split = coldstart.cold_item_holdout(ml.ratings, seed=seed)
        titles = [tmap[int(i)] for i in split.item_ids]
        years = ml.items.set_index("item_id").reindex(split.item_ids)["year"].to_numpy()
        ids = ml.items["item_id"].to_numpy()
        for part in ("ranking", "lora"):
            settings = {"seed": seed, "part": part, "users": args.users, "variants": VARIANTS,
                        "train_pairs": args.train_pairs, "test_pairs": args.test_pairs, "steps": args.steps,
                        "curve_every": args.curve_every, "v": 3}
            path = cache.entry("results", "llm-benchmark", cache.content_key(settings, llm_mod.SMOLLM2_SHA256), ".json")
            hit = cache.load_json(path)
            if hit is not None:
                run[part] = hit
                print(f"seed {seed} {part}: cached", flush=True)
                continue
            if args.part not in (part, "all") or args.cached_only:
                continue
            t_part = time.perf_counter()
            if part == "ranking":
                emb = {"MiniLM": align_item_features(split, ids, E_mini_all),
                       "MiniLM (title)": align_item_features(split, ids, E_mini_short),
                       "SmolLM2 (title)": align_item_features(split, ids, E_llm_short)}
                users = np.random.default_rng(seed).choice(ranking.eligible_users(split), args.users, replace=False)
                res = ranking.ranking_table(model, split, titles, years, emb, users, variants=VARIANTS, seed=seed,
                                            progress=True)
                print(f"seed {seed} ranking: { {k: round(v, 3) for k, v in res['cold']['ndcg'].items()} }", flush=True)
            else:
                res = lora.lora_experiment(model, split, titles, seed=seed, n_train=args.train_pairs,
                                           n_test=args.test_pairs, steps=args.steps, progress=True,
                                           curve_every=args.curve_every)
                test = lora.yes_no_pairs(split, titles, args.test_pairs, "test", seed=seed + 1000)
                res["baselines"] = lora.pair_baselines(split, test, {"MiniLM": align_item_features(split, ids, E_mini_all)})
                print(f"seed {seed} LoRA: {res['auc_zero_shot']:.3f} -> {res['auc_lora']:.3f}; {res['baselines']}", flush=True)
            res["seconds"] = time.perf_counter() - t_part
            cache.save_json(path, res)
            run[part] = res
        runs.append(run)
    if args.cached_only:  # each part summarised over the seeds it has finished
        runs = [r for r in runs if "ranking" in r or "lora" in r]
    if args.part != "all" or not any("ranking" in r for r in runs) or not any("lora" in r for r in runs) or \
            (not args.cached_only and not all("ranking" in r and "lora" in r for r in runs)):
        print(f"part {args.part} done; run --part all to write {args.out}")
        return {}
    return _write(args, runs, model, load_s, first_load, speed, mini_s, llm_embed_s, start, final=True)


def _write(args, runs, model, load_s, first_load, speed, mini_s, llm_embed_s, start, final=False) -> dict:

    rank_runs = [r for r in runs if "ranking" in r]
    lora_runs = [r for r in runs if "lora" in r]
    summary = {"ranking": {}, "order": {}, "lora": {}}
    for kind in ("cold", "warm"):
        names = list(rank_runs[0]["ranking"][kind]["ndcg"])
        summary["ranking"][kind] = {n: _mean_std([r["ranking"][kind]["ndcg"][n] for r in rank_runs]) for n in names}
        summary["order"][kind] = {m: _mean_std([r["ranking"][kind]["order"][m] for r in rank_runs])
                                  for m in ("kendall_tau", "top1_agreement", "ndcg_gap")}
    summary["lora"] = {m: _mean_std([r["lora"][m] for r in lora_runs]) for m in ("auc_zero_shot", "auc_lora", "gain")}
    summary["lora_baselines"] = {n: _mean_std([r["lora"]["baselines"][n] for r in lora_runs])
                                 for n in lora_runs[0]["lora"]["baselines"]}
    first = lora_runs[0]["lora"]
    ranking_s = [r["ranking"]["seconds"] for r in rank_runs]
    lora_s = [r["lora"]["seconds"] for r in lora_runs]
    cold = summary["ranking"]["cold"]
    goals = {"llm_beats_popularity_on_cold": cold["LLM: enjoyed"]["mean"] > cold["popularity of the release year"]["mean"],
             "lora_gain_at_least_0.05": summary["lora"]["gain"]["mean"] >= 0.05}
    out = {"meta": {"seeds": args.seeds, "ranking_seeds": [r["seed"] for r in rank_runs],
                    "lora_seeds": [r["seed"] for r in lora_runs], "users": args.users, "candidates": 20, "k": 10, "variants": list(VARIANTS),
                    "train_pairs": args.train_pairs, "test_pairs": args.test_pairs, "steps": args.steps,
                    "python": platform.python_version(), "total_seconds": round(time.perf_counter() - start, 1)},
           "speed": {"load_s": load_s, "first_load": first_load, **speed, "parameters": model.info["parameters"],
                     "file_mb": model.info["file_mb"], "float32_mb": model.info["float32_mb"]},
           "embedding_seconds": {"MiniLM (1,682 items, long and short text)": mini_s,
                                 "SmolLM2 (1,682 short titles)": llm_embed_s},
           "part_seconds": {"ranking_per_seed": ranking_s, "lora_per_seed": lora_s},
           "lora_cost": {k: first[k] for k in ("trainable", "total", "seconds_per_step", "rank", "batch_size",
                                               "top_layers")},
           "summary": summary, "goals": goals, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))
    if final:
        print(json.dumps({"summary": summary, "goals": goals}, indent=1))
    return out


if __name__ == "__main__":
    main()
