"""At production scale: distributed batch embedding, approximate retrieval, serving cost.

* :mod:`~translearn_lib.scale.catalogue`: a large generated catalogue (the shop's texts, any size);
* :mod:`~translearn_lib.scale.shards`: Parquet shards + manifest, resume and integrity checks;
* :mod:`~translearn_lib.scale.embed`: the embedding job on Dask (one encoder per worker);
* :mod:`~translearn_lib.scale.index`: FAISS exact / IVF / IVF-PQ / HNSW, recall@k, latency, memory;
* :mod:`~translearn_lib.scale.serving`: a text two-tower served per request from an offline index;
* :mod:`~translearn_lib.scale.costs`: deployment arithmetic (workers for a deadline, index memory).

Taught in notebooks/12_at_scale.ipynb.
"""

from translearn_lib.scale.catalogue import make_catalogue
from translearn_lib.scale.costs import index_memory_bytes, workers_needed
from translearn_lib.scale.index import (INDEX_KINDS, AnnIndex, DimensionMismatchError, build_index,
                                        clustered_vectors, compare_indexes, exact_top_k, measure_queries,
                                        recall_at_k)
from translearn_lib.scale.shards import BrokenShardError, load_embeddings, plan_shards, read_manifest

__all__ = ["make_catalogue", "index_memory_bytes", "workers_needed", "INDEX_KINDS", "AnnIndex",
           "DimensionMismatchError", "build_index", "clustered_vectors", "compare_indexes", "exact_top_k",
           "measure_queries", "recall_at_k", "BrokenShardError", "load_embeddings", "plan_shards", "read_manifest"]
