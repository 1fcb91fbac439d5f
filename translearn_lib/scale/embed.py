"""Batch embedding of a large catalogue on Dask: one encoder per worker, Parquet shards, resumable.

The driver plans the shards (:mod:`translearn_lib.scale.shards`), registers an
:class:`EncoderPlugin` that loads the text encoder **once per worker process** (loading MiniLM and
TensorFlow takes seconds; doing it per shard would dominate the job), then submits one task per
shard with Dask's futures API. Each task encodes its texts and writes its shard; the driver records
each finished shard in the manifest as soon as it completes, so an interrupted job resumes where it
stopped. The same code runs on a laptop (:func:`local_client`, a ``LocalCluster``) or on a real
cluster (``distributed.Client("tcp://scheduler:8786")``); there the output folder must be storage
every worker can write (a shared file system or an object store mounted as one).

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from distributed.diagnostics.plugin import WorkerPlugin

from translearn_lib import config
from translearn_lib.config import ITEM_COL
from translearn_lib.scale import shards as _shards

PLUGIN_NAME = "translearn-encoder"


@dataclass(frozen=True)
class MiniLMSpec:
    """How a worker builds its encoder: the course's text encoder, with a thread budget.

    ``threads`` caps TensorFlow's intra-op threads in the worker, so that ``n`` workers on ``n``
    cores do not each start ``n`` threads and fight over the cores.

    Taught in notebooks/12_at_scale.ipynb.
    """

    name: str = "minilm"
    batch_size: int = 64
    max_length: int = 128
    threads: int | None = 1

    def describe(self) -> tuple[str, int]:
        """``(identity, dim)`` without starting TensorFlow (reads the config and the weights' hash)."""
        from translearn_lib.encoders.text import load_text_encoder

        enc = load_text_encoder(self.name)
        return f"{enc.identity}|mean|{self.max_length}", enc.dim

    def load(self):
        """Build the encoder in this process (TensorFlow starts here); returns an object with
        ``encode(texts) -> (n, dim) float32``."""
        if self.threads:
            import tensorflow as tf

            try:  # only possible before TensorFlow's first operation in this process
                tf.config.threading.set_intra_op_parallelism_threads(int(self.threads))
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass
        from translearn_lib.encoders.text import load_text_encoder

        enc = load_text_encoder(self.name)
        enc.backbone  # noqa: B018 - build the Keras model now, not inside the first shard
        enc.encode(["warm-up text for the first traced call"], cache=False, progress=False)
        spec = self

        class _Encoder:
            dim = enc.dim

            @staticmethod
            def encode(texts):
                return enc.encode(list(texts), batch_size=spec.batch_size, max_length=spec.max_length,
                                  cache=False, progress=False)

        return _Encoder()


class EncoderPlugin(WorkerPlugin):
    """A Dask worker plugin that loads the encoder once when the worker starts (or joins later).

    Args:
        spec: an object with ``load()`` returning an encoder (``encode(texts) -> array``), e.g.
            :class:`MiniLMSpec`.

    Taught in notebooks/12_at_scale.ipynb.
    """

    name = PLUGIN_NAME

    def __init__(self, spec) -> None:
        self.spec = spec
        self.encoder = None
        self.load_seconds = None
        self.loads = 0

    def setup(self, worker) -> None:
        t0 = time.perf_counter()
        self.encoder = self.spec.load()
        self.load_seconds = time.perf_counter() - t0
        self.loads += 1

    def teardown(self, worker) -> None:
        self.encoder = None


def _worker_plugin():
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None or plugin.encoder is None:
        raise RuntimeError(f"worker {worker.address} has no encoder: register EncoderPlugin before submitting "
                           "shards (embed_catalogue does this)")
    return worker, plugin


def embed_shard(task: _shards.ShardTask, item_ids: list, texts: list[str]) -> dict:
    """Worker side: encode one shard's texts with the worker's encoder and write the shard.

    Returns:
        dict: the manifest entry plus ``index``, ``seconds`` (encode + write), ``worker``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    worker, plugin = _worker_plugin()
    t0 = time.perf_counter()
    vectors = np.asarray(plugin.encoder.encode(texts), dtype=np.float32)
    if vectors.shape[0] != len(texts):
        raise RuntimeError(f"the encoder returned {vectors.shape[0]} vectors for {len(texts)} texts")
    entry = _shards.write_shard(task.path, item_ids, vectors, task.key)
    return {**entry, "index": task.index, "seconds": time.perf_counter() - t0, "worker": worker.address,
            "encoder_load_seconds": plugin.load_seconds, "encoder_loads": plugin.loads}


def local_client(n_workers: int = 2, threads_per_worker: int = 1, processes: bool = True, memory_limit="auto",
                 host: str | None = "127.0.0.1"):
    """A ``distributed.Client`` on a ``LocalCluster`` on this machine (no dashboard).

    ``processes=True`` starts one Python process per worker (each with its own encoder, as on a
    real cluster); ``processes=False`` keeps workers as threads in this process and talks to them
    in memory (``inproc://``), which needs no network socket (handy in tests).

    Args:
        n_workers: worker count.
        threads_per_worker: task threads per worker (1: one shard at a time per worker).
        processes: separate processes or threads of this one.
        memory_limit: per-worker memory limit passed to Dask.
        host: interface to listen on (loopback by default: the cluster is private to this machine).

    Returns:
        distributed.Client: close it with ``client.close(); client.cluster.close()`` (or use it
        as a context manager).

    Taught in notebooks/12_at_scale.ipynb.
    """
    from distributed import Client, LocalCluster

    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    # no dashboard; Dask still opens a small HTTP endpoint (health, metrics): keep it on ``host``
    where = ({"host": host} if processes else
             {"scheduler_kwargs": {"dashboard_address": f"{host}:0"}, "worker_dashboard_address": f"{host}:0"})
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
                           dashboard_address=None, memory_limit=memory_limit, silence_logs=40, **where)
    return Client(cluster)


@dataclass
class EmbedReport:
    """What a run of :func:`embed_catalogue` did.

    Attributes:
        n_items, n_shards: catalogue size and shard count.
        computed: shard numbers computed in this run; ``skipped``: already done and verified.
        new, missing, broken: why the computed shards were computed (see :class:`~translearn_lib.scale.shards.ShardPlan`).
        items_computed: rows encoded in this run.
        wall_seconds: from submitting the first shard to recording the last.
        items_per_second: ``items_computed / wall_seconds`` (0 when nothing was computed).
        per_worker: worker address -> ``{"shards", "items", "seconds", "encoder_load_seconds"}``.
        out_dir: where the shards and manifest are.

    Taught in notebooks/12_at_scale.ipynb.
    """

    n_items: int
    n_shards: int
    computed: list[int]
    skipped: list[int]
    new: list[int]
    missing: list[int]
    broken: list[int]
    items_computed: int
    wall_seconds: float
    items_per_second: float
    per_worker: dict = field(default_factory=dict)
    out_dir: str = ""


def _catalogue_columns(items: pd.DataFrame, text_col: str) -> tuple[list, list[str]]:
    if not isinstance(items, pd.DataFrame):
        raise ValueError(f"items must be a pandas DataFrame with {ITEM_COL!r} and {text_col!r} columns")
    missing = [c for c in (ITEM_COL, text_col) if c not in items.columns]
    if missing:
        raise ValueError(f"items lacks column(s) {missing}; it has {list(items.columns)}")
    if len(items) == 0:
        raise ValueError("the catalogue is empty: there is nothing to embed. Pass a table with at least one "
                         f"row of {ITEM_COL!r} and {text_col!r}")
    texts = items[text_col].tolist()
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"{len(bad)} texts are not strings (first at row {bad[0]}: {texts[bad[0]]!r}); "
                         "fill missing descriptions before embedding")
    ids = items[ITEM_COL].tolist()
    if len(set(ids)) != len(ids):
        raise ValueError(f"{ITEM_COL} has duplicates: every item needs one id")
    return ids, texts


def embed_catalogue(items: pd.DataFrame, out_dir: str | os.PathLike, client, spec=None, shard_size: int = 1000,
                    text_col: str = "text", on_broken: str = "redo", progress: bool | None = None) -> EmbedReport:
    """Embed every item text on a Dask cluster into Parquet shards + a manifest; resumable.

    Args:
        items: the catalogue, with ``item_id`` and ``text`` columns, in a stable order (shards are
            consecutive rows; append new items at the end so old shards stay valid).
        out_dir: folder for the shards and ``manifest.json`` (shared by all workers on a cluster).
        client: a ``distributed.Client`` (:func:`local_client`, or one connected to a scheduler).
        spec: encoder spec with ``describe() -> (identity, dim)`` and ``load()`` (default
            :class:`MiniLMSpec`).
        shard_size: rows per shard.
        text_col: the text column.
        on_broken: ``"redo"`` recomputes shards whose file is missing or broken (they are listed in the
            report); ``"raise"`` stops with a :class:`~translearn_lib.scale.shards.BrokenShardError`.
        progress: tqdm bar over shards (``None``: when not in an automated run).

    Returns:
        EmbedReport: shards computed / skipped / redone, throughput and per-worker counts.

    Raises:
        ValueError: empty catalogue, missing columns, duplicate ids, non-string texts, or a folder
            written with another model or shard size.
        BrokenShardError: see ``on_broken``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    from distributed import as_completed

    spec = spec if spec is not None else MiniLMSpec()
    ids, texts = _catalogue_columns(items, text_col)
    identity, dim = spec.describe()
    plan, manifest = _shards.plan_shards(out_dir, ids, texts, shard_size, identity, dim, on_broken=on_broken)
    for i in plan.missing + plan.broken:
        manifest["shards"].pop(str(i), None)  # forget them until they are rewritten
    _shards.write_manifest(out_dir, manifest)
    per_worker: dict = {}
    t0 = time.perf_counter()
    if plan.tasks:
        client.register_plugin(EncoderPlugin(spec), name=PLUGIN_NAME)
        t0 = time.perf_counter()  # the encoders are loaded; time the embedding itself
        futures = [client.submit(embed_shard, t, ids[t.start:t.stop], texts[t.start:t.stop],
                                 key=f"embed-shard-{t.index}-{t.key}", pure=False) for t in plan.tasks]
        show = config.progress_bars_enabled() if progress is None else bool(progress)
        done_iter = as_completed(futures)
        if show:
            from tqdm.auto import tqdm

            done_iter = tqdm(done_iter, total=len(futures), desc="embedding shards", unit="shard")
        for fut in done_iter:
            res = fut.result()
            manifest["shards"][str(res["index"])] = {k: res[k] for k in ("key", "rows", "bytes", "sha256")}
            _shards.write_manifest(out_dir, manifest)  # record each shard as soon as it exists
            w = per_worker.setdefault(res["worker"], {"shards": 0, "items": 0, "seconds": 0.0,
                                                      "encoder_load_seconds": res["encoder_load_seconds"],
                                                      "encoder_loads": res["encoder_loads"]})
            w["shards"] += 1
            w["items"] += res["rows"]
            w["seconds"] += res["seconds"]
    wall = time.perf_counter() - t0
    n_done = sum(t.stop - t.start for t in plan.tasks)
    return EmbedReport(n_items=len(ids), n_shards=plan.n_shards, computed=[t.index for t in plan.tasks],
                       skipped=list(plan.done), new=list(plan.new), missing=list(plan.missing),
                       broken=list(plan.broken), items_computed=n_done, wall_seconds=wall,
                       items_per_second=(n_done / wall) if n_done else 0.0, per_worker=per_worker,
                       out_dir=str(Path(out_dir)))
