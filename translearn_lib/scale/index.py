"""Approximate nearest-neighbour retrieval with FAISS: exact flat search against IVF, IVF-PQ and HNSW.

Retrieval in a two-tower recommender is a maximum-inner-product search: the user vector against
every item vector. Exact search (``IndexFlatIP``) reads all ``n * d`` floats per query; the
approximate indexes read a small part of them:

* **IVF** (inverted file): k-means splits the vectors into ``nlist`` cells; a query scans only the
  ``nprobe`` cells whose centroids are closest (Jégou et al. 2011; FAISS, Johnson et al. 2019).
* **IVF-PQ**: the same cells, but each vector is stored as ``m`` one-byte product-quantisation codes
  instead of ``d`` floats (``4 d / m`` times less memory, approximate scores).
* **HNSW**: a layered proximity graph walked greedily from an entry point (Malkov & Yashunin 2018);
  ``efSearch`` candidates are kept during the walk.

Their quality is ``recall@k``: the share of the exact top-k that the index returns. Their cost is
query latency (p50 / p99 of single queries, as a server sees them), batch throughput and memory
(the serialised index size). Random isotropic Gaussian vectors make a poor test: in 384 dimensions
all their pairwise similarities are nearly equal, so "nearest" means little and every index looks
bad. :func:`clustered_vectors` draws vectors with cluster structure and an uneven spectrum instead,
closer to what text embeddings look like.

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from translearn_lib.config import DEFAULT_SEED

INDEX_KINDS: tuple[str, ...] = ("flat", "ivf", "ivfpq", "hnsw")


class DimensionMismatchError(ValueError):
    """Queries (or added vectors) do not have the index's dimension.

    Taught in notebooks/12_at_scale.ipynb.
    """


def as_vectors(x: Any, name: str = "vectors", dim: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """Check and convert vectors to the C-contiguous float32 matrix FAISS needs.

    Args:
        x: array-like ``(n, d)`` (a single vector ``(d,)`` is read as one row).
        name: what the array is, for the error message.
        dim: required dimension (``None``: any).
        allow_empty: accept ``n == 0``.

    Returns:
        np.ndarray: ``(n, d)`` float32, C-contiguous.

    Raises:
        ValueError: not 2-D, empty, or with NaN / inf values.
        DimensionMismatchError: ``d != dim``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, d), got shape {arr.shape}")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}): an index needs at least one vector; "
                         "check that the catalogue was embedded (embed_catalogue) before indexing")
    if dim is not None and arr.shape[1] != dim:
        raise DimensionMismatchError(
            f"{name} have dimension {arr.shape[1]} but the index holds {dim}-dimensional vectors: "
            "encode the queries with the same model (and the same tower) that built the index, "
            "or rebuild the index from vectors of this dimension")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contain NaN or inf values; fix the encoder output before indexing")
    return np.ascontiguousarray(arr)


def clustered_vectors(n: int, dim: int = 384, n_clusters: int = 1000, spread: float = 0.6, decay: float = 1.0,
                      seed: int = DEFAULT_SEED, centers_seed: int = DEFAULT_SEED, chunk: int = 100_000) -> np.ndarray:
    """Unit vectors with cluster structure, like text embeddings rather than isotropic noise.

    Cluster centres are random unit directions; cluster sizes follow a Zipf-like law (a few large
    topics, many small ones). Each vector is ``centre + spread * noise`` renormalised, where the
    noise has a decaying spectrum (standard deviation of direction ``j`` proportional to
    ``(j + 1) ** -decay / 2``, rescaled to unit total variance) in a random rotation: a few directions vary a lot, most
    vary little, as in real embeddings. Base vectors and queries share the centres when they share
    ``centers_seed``; draw queries with another ``seed`` so that they are not in the index.

    Args:
        n: number of vectors (> 0).
        dim: dimension (>= 2).
        n_clusters: number of clusters (>= 1).
        spread: noise scale relative to the unit centre (> 0); larger means looser clusters.
        decay: spectrum decay exponent (>= 0; 0 gives isotropic noise within clusters).
        seed: seed for cluster membership and noise.
        centers_seed: seed for the centres, the cluster sizes and the noise rotation.
        chunk: rows generated at a time (bounds the float64 working memory).

    Returns:
        np.ndarray: ``(n, dim)`` float32, rows of unit length.

    Taught in notebooks/12_at_scale.ipynb.
    """
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if dim < 2 or n_clusters < 1 or spread <= 0 or decay < 0:
        raise ValueError("need dim >= 2, n_clusters >= 1, spread > 0 and decay >= 0")
    crng = np.random.default_rng(centers_seed)
    centres = crng.normal(size=(n_clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.8
    weights = crng.permutation(weights / weights.sum())
    scales = (np.arange(1, dim + 1) ** -float(decay))
    scales *= np.sqrt(1.0 / np.sum(scales ** 2))  # unit expected squared norm of the noise
    rotation, _ = np.linalg.qr(crng.normal(size=(dim, dim)))
    rotation = (scales[:, None] * rotation).astype(np.float32)  # scale, then rotate: one matrix product
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        member = rng.choice(n_clusters, size=m, p=weights)
        noise = rng.standard_normal(size=(m, dim), dtype=np.float32) @ rotation
        x = centres[member].astype(np.float32) + np.float32(spread) * noise
        out[s:s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


@contextmanager
def faiss_threads(n: int | None):
    """Run FAISS with ``n`` OpenMP threads inside the block (``None``: leave it unchanged).

    On a shared or busy machine OpenMP threads spin-wait for each other, and a single query with
    two threads can be tens of times slower than with one: time latency with one thread per query.

    Taught in notebooks/12_at_scale.ipynb.
    """
    import faiss

    if n is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(int(n))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = 10, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact maximum-inner-product top-k in NumPy (the reference an index is compared with).

    Args:
        vectors: ``(n, d)`` item vectors.
        queries: ``(q, d)`` query vectors.
        k: neighbours per query (``1 <= k <= n``).
        batch: queries scored at a time.

    Returns:
        tuple: ``(scores, ids)``, each ``(q, k)``, best first (ties: lower id first).

    Taught in notebooks/12_at_scale.ipynb.
    """
    vectors = as_vectors(vectors)
    queries = as_vectors(queries, "queries", dim=vectors.shape[1])
    k = _check_k(k, len(vectors))
    ids = np.empty((len(queries), k), dtype=np.int64)
    scores = np.empty((len(queries), k), dtype=np.float32)
    for s in range(0, len(queries), batch):
        sc = queries[s:s + batch] @ vectors.T
        part = np.argpartition(-sc, k - 1, axis=1)[:, :k]
        sub = np.take_along_axis(sc, part, axis=1)
        order = np.lexsort((part, -sub), axis=1)
        ids[s:s + batch] = np.take_along_axis(part, order, axis=1)
        scores[s:s + batch] = np.take_along_axis(sub, order, axis=1)
    return scores, ids


def recall_at_k(found: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Recall@k of an approximate search: the mean share of the exact top-k ids that were found.

    Args:
        found: ``(q, >= k)`` ids returned by the index (``-1`` = nothing returned).
        exact: ``(q, >= k)`` ids of the exact search, best first.
        k: cut-off.

    Returns:
        float: in [0, 1]; 1.0 when every exact neighbour was found.

    Taught in notebooks/12_at_scale.ipynb.
    """
    found, exact = np.asarray(found), np.asarray(exact)
    if found.ndim != 2 or exact.ndim != 2 or len(found) != len(exact):
        raise ValueError(f"found and exact must be (queries, k) arrays with the same rows, got {found.shape} "
                         f"and {exact.shape}")
    if len(found) == 0:
        raise ValueError("no queries: recall needs at least one row")
    if found.shape[1] < k or exact.shape[1] < k:
        raise ValueError(f"k={k} but found has {found.shape[1]} and exact {exact.shape[1]} columns")
    hits = [len(set(f[:k].tolist()) & set(e[:k].tolist()) - {-1}) for f, e in zip(found, exact)]
    return float(np.mean(hits) / k)


def _check_k(k, n):
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > n:
        raise ValueError(f"k={k} but the index holds only {n} vectors")
    return int(k)


@dataclass
class AnnIndex:
    """A FAISS index with its kind, settings and build cost; searches check the query dimension.

    Attributes:
        kind: ``"flat"``, ``"ivf"``, ``"ivfpq"`` or ``"hnsw"``.
        dim: vector dimension.
        params: the settings it was built with (``nlist``, ``nprobe``, ``m``, ``M``, ``ef_search`` ...).
        faiss_index: the underlying ``faiss.Index``.
        build_seconds: training + adding time.

    Taught in notebooks/12_at_scale.ipynb.
    """

    kind: str
    dim: int
    params: dict
    faiss_index: Any = field(repr=False)
    build_seconds: float = 0.0

    @property
    def ntotal(self) -> int:
        """Number of vectors held."""
        return int(self.faiss_index.ntotal)

    def set_search(self, nprobe: int | None = None, ef_search: int | None = None) -> "AnnIndex":
        """Change the speed / recall knob: ``nprobe`` (IVF, IVF-PQ) or ``ef_search`` (HNSW)."""
        import faiss

        if nprobe is not None:
            if self.kind not in ("ivf", "ivfpq"):
                raise ValueError(f"nprobe applies to IVF indexes, not {self.kind!r}")
            faiss.extract_index_ivf(self.faiss_index).nprobe = int(nprobe)
            self.params["nprobe"] = int(nprobe)
        if ef_search is not None:
            if self.kind != "hnsw":
                raise ValueError(f"ef_search applies to HNSW, not {self.kind!r}")
            self.faiss_index.hnsw.efSearch = int(ef_search)
            self.params["ef_search"] = int(ef_search)
        return self

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by inner product.

        Args:
            queries: ``(q, dim)`` (or one ``(dim,)`` vector).
            k: neighbours per query (<= ``ntotal``).

        Returns:
            tuple: ``(scores, ids)``, each ``(q, k)`` float32 / int64, best first.

        Raises:
            DimensionMismatchError: the queries' dimension is not the index's.

        Taught in notebooks/12_at_scale.ipynb.
        """
        q = as_vectors(queries, "queries", dim=self.dim)
        k = _check_k(k, self.ntotal)
        scores, ids = self.faiss_index.search(q, k)
        return scores, ids

    def add(self, vectors) -> None:
        """Append vectors (their ids continue from ``ntotal``); IVF cells are not retrained.

        Taught in notebooks/12_at_scale.ipynb.
        """
        self.faiss_index.add(as_vectors(vectors, "added vectors", dim=self.dim))

    def memory_bytes(self) -> int:
        """Size of the serialised index in bytes (vectors or codes, lists, graph, centroids),
        counted as it streams out, without a second copy in memory."""
        return index_bytes(self.faiss_index)


def index_bytes(index) -> int:
    """Serialised size of a FAISS index in bytes, counted through a streaming writer.

    Taught in notebooks/12_at_scale.ipynb.
    """
    import faiss

    total = [0]

    def count(chunk):
        total[0] += len(chunk)
        return len(chunk)

    writer = faiss.PyCallbackIOWriter(count)
    faiss.write_index(index, writer)
    del writer
    return total[0]


def build_index(vectors, kind: str = "flat", nlist: int | None = None, nprobe: int = 16, m: int = 48,
                nbits: int = 8, M: int = 32, ef_construction: int = 40, ef_search: int = 64,
                train_size: int | None = None, niter: int = 10, seed: int = DEFAULT_SEED) -> AnnIndex:
    """Build a FAISS inner-product index of one kind.

    Args:
        vectors: ``(n, d)`` float vectors (normalise them first for cosine similarity).
        kind: ``"flat"`` (exact), ``"ivf"`` (IVF-Flat), ``"ivfpq"`` (IVF with product quantisation)
            or ``"hnsw"`` (HNSW-Flat).
        nlist: IVF cells (default ``4 * sqrt(n)``, at most ``n // 39`` so that k-means has 39
            training points per cell).
        nprobe: cells scanned per query (IVF kinds).
        m: PQ sub-quantisers (``d`` must be divisible by ``m``); bytes per vector with ``nbits=8``.
        nbits: bits per PQ code.
        M: HNSW neighbours per node (memory and build time grow with it).
        ef_construction: HNSW candidate list while building.
        ef_search: HNSW candidate list while searching.
        train_size: vectors used to train IVF / PQ (default ``min(n, 64 * nlist)``, a random sample).
        niter: k-means iterations of the IVF training (FAISS defaults to 25; fewer train faster,
            and the recall that results is measured, not assumed).
        seed: seed of the training sample and of FAISS's k-means.

    Returns:
        AnnIndex: the built index and its settings; ``build_seconds`` includes training.

    Raises:
        ValueError: unknown kind, empty or non-finite vectors, ``d % m != 0``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    import faiss

    if kind not in INDEX_KINDS:
        raise ValueError(f"kind must be one of {INDEX_KINDS}, got {kind!r}")
    x = as_vectors(vectors)
    n, d = x.shape
    t0 = time.perf_counter()
    params: dict = {}
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, int(M), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
        index.hnsw.efSearch = int(ef_search)
        params = {"M": int(M), "ef_construction": int(ef_construction), "ef_search": int(ef_search)}
    else:
        nlist = int(nlist) if nlist is not None else max(1, min(int(4 * np.sqrt(n)), n // 39))
        if nlist < 1 or nlist > n:
            raise ValueError(f"nlist must be in [1, n={n}], got {nlist}")
        quantizer = faiss.IndexFlatIP(d)
        if kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            params = {"nlist": nlist}
        else:
            if d % m:
                raise ValueError(f"IVF-PQ needs the dimension {d} to be divisible by m={m}")
            index = faiss.IndexIVFPQ(quantizer, d, nlist, int(m), int(nbits), faiss.METRIC_INNER_PRODUCT)
            params = {"nlist": nlist, "m": int(m), "nbits": int(nbits)}
        index.cp.seed = int(seed)
        index.cp.niter = int(niter)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index owns (and frees) its quantizer
        size = min(n, train_size or 64 * nlist)
        sample = x if size == n else x[np.sort(np.random.default_rng(seed).choice(n, size, replace=False))]
        index.train(sample)
        index.nprobe = int(min(nprobe, nlist))
        params["nprobe"] = int(index.nprobe)
        params["train_size"] = int(size)
        params["niter"] = int(niter)
    index.add(x)
    return AnnIndex(kind=kind, dim=d, params=params, faiss_index=index, build_seconds=time.perf_counter() - t0)


def measure_queries(index: AnnIndex, queries, k: int = 10, n_single: int = 200, warmup: int = 5) -> dict:
    """Query cost of an index: single-query latency (p50, p99) and batch throughput.

    Single queries are timed one by one (what a server answering one request sees); the batch is
    all ``queries`` in one call (what an offline job sees: FAISS parallelises over queries).

    Args:
        index: the index.
        queries: ``(q, dim)``.
        k: neighbours per query.
        n_single: how many of the queries to time one at a time.
        warmup: untimed single queries first.

    Returns:
        dict: ``p50_ms``, ``p99_ms``, ``single_qps`` (1000 / mean single latency in ms),
        ``batch_qps``, ``batch_seconds``, ``ids`` (the batch result, ``(q, k)``).

    Taught in notebooks/12_at_scale.ipynb.
    """
    q = as_vectors(queries, "queries", dim=index.dim)
    for i in range(min(warmup, len(q))):
        index.search(q[i:i + 1], k)
    times = []
    for i in range(min(n_single, len(q))):
        t0 = time.perf_counter()
        index.search(q[i:i + 1], k)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    _, ids = index.search(q, k)
    batch_s = time.perf_counter() - t0
    times = np.asarray(times)
    return {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)),
            "single_qps": float(1000.0 / times.mean()), "batch_qps": float(len(q) / batch_s),
            "batch_seconds": float(batch_s), "ids": ids}


def compare_indexes(vectors, queries, configs: list[dict], k: int = 10, n_single: int = 200,
                    progress: bool = False) -> list[dict]:
    """Build each configured index, measure recall@k against exact search, latency and memory.

    The exact reference is the ``"flat"`` index (always measured first, whether listed or not).

    Args:
        vectors: ``(n, d)`` item vectors.
        queries: ``(q, d)`` query vectors (not in ``vectors``).
        configs: keyword arguments of :func:`build_index`, each with ``kind``; an optional
            ``"label"``; for IVF an optional list ``"nprobes"`` and for HNSW ``"ef_searches"`` to
            sweep the search knob on one built index.
        k: cut-off for recall.
        n_single: queries timed one at a time.
        progress: show a tqdm bar over the configurations.

    Returns:
        list of dict rows: ``label``, ``kind``, ``params``, ``n``, ``dim``, ``recall``, ``p50_ms``,
        ``p99_ms``, ``single_qps``, ``batch_qps``, ``speedup_single`` / ``speedup_batch`` (vs exact),
        ``memory_mb``, ``bytes_per_vector``, ``build_seconds``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    x = as_vectors(vectors)
    q = as_vectors(queries, "queries", dim=x.shape[1])
    rows: list[dict] = []
    configs = [c for c in configs if c.get("kind") != "flat"]
    todo = [{"kind": "flat", "label": "exact (flat IP)"}] + list(configs)
    if progress:
        from tqdm.auto import tqdm

        todo = tqdm(todo, desc="indexes", unit="index")
    exact_ids = None
    base = None
    for cfg in todo:
        cfg = dict(cfg)
        label = cfg.pop("label", cfg["kind"])
        sweep = cfg.pop("nprobes", None) or cfg.pop("ef_searches", None) or [None]
        index = build_index(x, **cfg)
        mem = index.memory_bytes()
        for knob in sweep:
            if knob is not None:
                index.set_search(**({"ef_search": knob} if index.kind == "hnsw" else {"nprobe": knob}))
            cost = measure_queries(index, q, k=k, n_single=n_single)
            ids = cost.pop("ids")
            if exact_ids is None:
                exact_ids, base = ids, cost
            row = {"label": label, "kind": index.kind, "params": dict(index.params), "n": len(x), "dim": x.shape[1],
                   "recall": recall_at_k(ids, exact_ids, k), **cost,
                   "speedup_single": cost["single_qps"] / base["single_qps"],
                   "speedup_batch": cost["batch_qps"] / base["batch_qps"],
                   "memory_mb": mem / 2**20, "bytes_per_vector": mem / len(x),
                   "build_seconds": index.build_seconds}
            rows.append(row)
        del index
    return rows
