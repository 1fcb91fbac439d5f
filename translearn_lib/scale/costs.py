"""Capacity arithmetic for a deployment: workers for an embedding deadline, index memory per kind.

These are extrapolations from measured rates, not measurements: linear scaling in workers holds
only while the workers do not share cores, disks or a network link, and index sizes leave out the
serving process, the id map and allocator overhead.

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import math


def workers_needed(n_items: int, hours: float, items_per_second_per_worker: float) -> int:
    """Workers needed to embed ``n_items`` within ``hours`` at a measured per-worker rate.

    Args:
        n_items: items to embed.
        hours: deadline (> 0).
        items_per_second_per_worker: measured rate of one worker (> 0).

    Returns:
        int: ``ceil(n_items / (hours * 3600 * rate))``, at least 1.

    Taught in notebooks/12_at_scale.ipynb.
    """
    if hours <= 0 or items_per_second_per_worker <= 0 or n_items < 0:
        raise ValueError("need n_items >= 0, hours > 0 and a positive rate")
    return max(1, math.ceil(n_items / (hours * 3600.0 * items_per_second_per_worker)))


def index_memory_bytes(n: int, dim: int, kind: str = "flat", m: int = 48, nbits: int = 8, M: int = 32,
                       nlist: int | None = None) -> int:
    """Estimated size of a FAISS index of ``n`` vectors of ``dim`` float32 values.

    * flat: ``4 n d`` (every float);
    * ivf: ``4 n d + 8 n`` (float vectors plus one int64 id each) ``+ 4 nlist d`` (centroids);
    * ivfpq: ``n (m nbits / 8 + 8)`` (codes plus ids) ``+ 4 nlist d + 4 d 2^nbits`` (centroids,
      PQ codebooks);
    * hnsw: ``4 n d + 4 n 2M`` (vectors plus the bottom layer's ``2M`` int32 links; upper layers add
      about ``1/M`` more).

    Args:
        n, dim: vectors and their dimension.
        kind: ``"flat"``, ``"ivf"``, ``"ivfpq"`` or ``"hnsw"``.
        m, nbits: PQ sub-quantisers and bits per code.
        M: HNSW links per node.
        nlist: IVF cells (default ``4 sqrt(n)``).

    Returns:
        int: bytes.

    Taught in notebooks/12_at_scale.ipynb.
    """
    nlist = int(nlist) if nlist is not None else max(1, int(4 * math.sqrt(n)))
    if kind == "flat":
        return 4 * n * dim
    if kind == "ivf":
        return 4 * n * dim + 8 * n + 4 * nlist * dim
    if kind == "ivfpq":
        return n * (m * nbits // 8 + 8) + 4 * nlist * dim + 4 * dim * 2 ** nbits
    if kind == "hnsw":
        return int(4 * n * dim + 4 * n * 2 * M * (1 + 1 / M))
    raise ValueError(f"kind must be 'flat', 'ivf', 'ivfpq' or 'hnsw', got {kind!r}")
