"""A large generated catalogue: the shop's item descriptions, scaled to any number of items.

Chapter 04's shop (:mod:`translearn_lib.datasets.shop`) writes a few hundred descriptions per
domain and simulates purchases on them. Embedding at scale needs only the texts, but many of them:
:func:`make_catalogue` draws ``n`` items with the shop's own description generator (main topic,
optional secondary topic, domain) without simulating any user, so 50,000 or 10 M rows are cheap.

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from translearn_lib.config import DEFAULT_SEED, ITEM_COL
# the shop's description writer is reused as is, so the texts match chapter 04's distribution
from translearn_lib.datasets.shop import DOMAINS, TOPICS, _describe


def make_catalogue(n_items: int, domains=DOMAINS, seed: int = DEFAULT_SEED, start_id: int = 0) -> pd.DataFrame:
    """Generate ``n_items`` product descriptions like the shop's.

    Args:
        n_items: rows (> 0).
        domains: domains to draw from (subset of ``datasets.shop.DOMAINS``).
        seed: random seed; the same seed and size give the same table, and a larger size extends
            it (row ``i`` depends only on ``seed`` and ``i``'s block of 1,000 rows).
        start_id: first ``item_id`` (ids are consecutive).

    Returns:
        pd.DataFrame: ``item_id``, ``domain``, ``topic``, ``secondary_topic`` (or ``None``), ``text``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    if not isinstance(n_items, (int, np.integer)) or n_items <= 0:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r} (an empty catalogue has "
                         "nothing to embed)")
    domains = tuple(domains)
    unknown = [d for d in domains if d not in DOMAINS]
    if not domains or unknown:
        raise ValueError(f"domains must be a non-empty subset of {DOMAINS}, got {domains}")
    rows = []
    block = 1000  # a fixed block size keeps row i the same however large the catalogue is
    for b in range(0, n_items, block):
        rng = np.random.default_rng([seed, b // block])
        for _ in range(min(block, n_items - b)):
            d = domains[int(rng.integers(len(domains)))]
            main = int(rng.integers(len(TOPICS)))
            sec = None
            if rng.random() < 0.6:
                sec = TOPICS[int((main + rng.integers(1, len(TOPICS))) % len(TOPICS))]
            rows.append((d, TOPICS[main], sec, _describe(rng, d, TOPICS[main], sec)))
    out = pd.DataFrame(rows, columns=["domain", "topic", "secondary_topic", "text"])
    out.insert(0, ITEM_COL, np.arange(start_id, start_id + n_items))
    return out
