"""Encoding cost and pooling quality of the course text encoder on MovieLens-100K.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/text_encoder.py [--model minilm] [--batch-size 64]

Prints, for all 1,682 item texts ("Title (year). Genres: ..."): cold throughput (no cache, the
backbone already built), cached time, process peak memory, and the genre agreement of the 10 nearest
neighbours for [CLS] and mean pooling. The machine load is printed too: figures on a shared CPU vary.
Quoted in README.md; taught in notebooks/02_llm_text_representations.ipynb.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2, help="cold runs (the best is reported)")
    args = ap.parse_args()

    from translearn_lib import embeddings
    from translearn_lib.encoders import text
    from translearn_lib.datasets import item_texts, load_movielens_100k

    items = load_movielens_100k().items
    texts = item_texts(items)
    enc = text.load_text_encoder(args.model)
    t0 = time.perf_counter()
    enc.backbone
    load_s = time.perf_counter() - t0
    enc.encode(texts[:64], cache=False)  # build the graph once, as any real run would
    runs = [text.benchmark_encode(enc, texts, batch_size=args.batch_size, progress=False) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["cold_seconds"])
    print(f"model {enc.name} ({enc.dim}-d), {len(texts)} MovieLens item texts, batch {args.batch_size}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"| backbone load | {load_s:.1f} s |")
    print(f"| cold encode (best of {args.repeats}) | {best['cold_seconds']:.1f} s = {best['items_per_second']:.0f} items/s |")
    print(f"| cached encode | {best['cached_seconds'] * 1000:.1f} ms |")
    print(f"| peak memory (process) | {best['peak_memory_mb']:.0f} MB |")
    genres = list(items.genres)
    rng = np.random.default_rng(42)
    print(f"| genre agreement@10, random vectors | {embeddings.neighbor_label_agreement(rng.normal(size=(len(texts), enc.dim)), genres, 10):.3f} |")
    for pooling in ("cls", "mean"):
        e = enc.encode(texts, pooling=pooling, batch_size=args.batch_size, progress=False)
        print(f"| genre agreement@10, {pooling} pooling | {embeddings.neighbor_label_agreement(e, genres, 10):.3f} |")


if __name__ == "__main__":
    main()
