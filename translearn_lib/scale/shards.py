"""Embeddings stored as Parquet shards plus a JSON manifest, so a long job can stop and resume.

A catalogue of ``n`` items is cut into shards of ``shard_size`` consecutive rows. Each shard is one
Parquet file (columns ``item_id`` int64 and ``embedding``, a fixed-size list of float32) written to
a temporary name and renamed, so a crash never leaves a half-written file under the real name. The
manifest (``manifest.json``, also written atomically) records, per finished shard, a **content key**
(hash of the model identity, the item ids and the texts of that shard), the row count and the file's
sha256. A shard counts as done only if the manifest lists it with the key the catalogue gives it now
and its file still has that sha256:

* rerun with the same catalogue: every shard is done, nothing is recomputed;
* new items appended: only the changed last shard and the new shards are computed (re-embed new
  items only);
* a shard file deleted, truncated or overwritten: its checksum fails, it is reported (``missing`` /
  ``broken``) and recomputed, or, with ``on_broken="raise"``, a :class:`BrokenShardError` says which
  file and how to fix it.

Taught in notebooks/12_at_scale.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from translearn_lib import cache as _cache

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class BrokenShardError(RuntimeError):
    """A shard file is missing, truncated or does not match the manifest.

    Taught in notebooks/12_at_scale.ipynb.
    """


@dataclass(frozen=True)
class ShardTask:
    """One shard to compute: rows ``[start, stop)`` of the catalogue, its content key and file.

    Taught in notebooks/12_at_scale.ipynb.
    """

    index: int
    start: int
    stop: int
    key: str
    path: str


@dataclass
class ShardPlan:
    """What a run has to do: the tasks, and why each shard is (not) in them.

    Attributes:
        tasks: shards to compute, in order.
        done: shard numbers already finished and verified.
        new: never computed (or whose content changed: new or edited items).
        missing: listed in the manifest but the file is gone.
        broken: the file exists but its checksum or row count does not match the manifest.
        n_shards: total number of shards of the catalogue.

    Taught in notebooks/12_at_scale.ipynb.
    """

    tasks: list[ShardTask]
    done: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    n_shards: int = 0


def shard_name(i: int) -> str:
    """File name of shard ``i`` (``shard-00012.parquet``)."""
    return f"shard-{i:05d}.parquet"


def shard_bounds(n_items: int, shard_size: int) -> list[tuple[int, int]]:
    """Row ranges ``[(start, stop), ...]`` of consecutive shards covering ``n_items`` rows.

    Raises:
        ValueError: ``n_items == 0`` (an empty catalogue) or ``shard_size < 1``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    if not isinstance(shard_size, (int, np.integer)) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    if n_items <= 0:
        raise ValueError("the catalogue is empty: there is nothing to embed. Pass a table with at least one "
                         "row of item_id and text")
    return [(s, min(s + shard_size, n_items)) for s in range(0, n_items, shard_size)]


def shard_key(model_identity: str, item_ids, texts) -> str:
    """Content key of one shard: changes when the model, an id or a text in it changes.

    Taught in notebooks/12_at_scale.ipynb.
    """
    return _cache.content_key("embedding-shard", model_identity, [int(i) for i in item_ids], list(texts))


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(out_dir: str | os.PathLike) -> dict | None:
    """The manifest of ``out_dir`` (``None`` when there is none yet).

    Raises:
        BrokenShardError: the manifest exists but is not valid JSON.

    Taught in notebooks/12_at_scale.ipynb.
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BrokenShardError(f"{path} is not valid JSON ({err}); delete it (every shard will be recomputed) "
                               "or restore it from a backup") from err


def new_manifest(model_identity: str, dim: int, shard_size: int) -> dict:
    """An empty manifest for a model and shard size."""
    return {"format": FORMAT_VERSION, "model": model_identity, "dim": int(dim), "shard_size": int(shard_size),
            "n_items": 0, "shards": {}}


def write_manifest(out_dir: str | os.PathLike, manifest: dict) -> Path:
    """Write the manifest atomically (temporary file + rename)."""
    return _cache.save_json(Path(out_dir) / MANIFEST, manifest)


def check_shard(out_dir: str | os.PathLike, i: int, entry: dict) -> str:
    """Status of one recorded shard: ``"done"``, ``"missing"`` or ``"broken"`` (checksum or rows).

    Taught in notebooks/12_at_scale.ipynb.
    """
    path = Path(out_dir) / shard_name(i)
    if not path.exists():
        return "missing"
    if path.stat().st_size != entry.get("bytes") or file_sha256(path) != entry.get("sha256"):
        return "broken"
    return "done"


def plan_shards(out_dir: str | os.PathLike, item_ids, texts, shard_size: int, model_identity: str, dim: int,
                on_broken: str = "redo") -> tuple[ShardPlan, dict]:
    """Compare the catalogue with what ``out_dir`` already holds and list the shards to compute.

    Args:
        out_dir: the shard folder (created if needed).
        item_ids: ``n`` item ids, in catalogue order.
        texts: ``n`` texts.
        shard_size: rows per shard (must match the manifest's).
        model_identity: encoder identity (must match the manifest's).
        dim: embedding dimension (must match the manifest's).
        on_broken: ``"redo"`` (recompute missing or broken shards) or ``"raise"``.

    Returns:
        tuple: the :class:`ShardPlan` and the manifest to update (entries of shards no longer in
        the catalogue dropped, ``n_items`` set).

    Raises:
        ValueError: empty catalogue, ids and texts of different lengths, or a manifest written for
            another model, dimension or shard size (use a new folder).
        BrokenShardError: ``on_broken="raise"`` and a recorded shard is missing or broken.

    Taught in notebooks/12_at_scale.ipynb.
    """
    if on_broken not in ("redo", "raise"):
        raise ValueError(f"on_broken must be 'redo' or 'raise', got {on_broken!r}")
    item_ids, texts = list(item_ids), list(texts)
    if len(item_ids) != len(texts):
        raise ValueError(f"{len(item_ids)} item ids but {len(texts)} texts: they must align row by row")
    bounds = shard_bounds(len(texts), shard_size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out) or new_manifest(model_identity, dim, shard_size)
    for name, value in (("model", model_identity), ("dim", int(dim)), ("shard_size", int(shard_size))):
        if manifest.get(name) != value:
            raise ValueError(f"{out / MANIFEST} was written with {name}={manifest.get(name)!r}, this run has "
                             f"{value!r}: embed into a new folder, or delete the old one to start over")
    plan = ShardPlan(tasks=[], n_shards=len(bounds))
    problems = []
    for i, (s, e) in enumerate(bounds):
        key = shard_key(model_identity, item_ids[s:e], texts[s:e])
        entry = manifest["shards"].get(str(i))
        if entry is None or entry.get("key") != key:
            status = "new"
        else:
            status = check_shard(out, i, entry)
        if status in ("missing", "broken"):
            problems.append(f"{shard_name(i)}: {status}")
        getattr(plan, status).append(i)
        if status != "done":
            plan.tasks.append(ShardTask(i, s, e, key, str(out / shard_name(i))))
    if problems and on_broken == "raise":
        raise BrokenShardError(f"{len(problems)} shard(s) in {out} do not match the manifest ({'; '.join(problems)}). "
                               "Rerun with on_broken='redo' to recompute them")
    for stale in [k for k in manifest["shards"] if int(k) >= len(bounds)]:  # catalogue got shorter
        del manifest["shards"][stale]
    manifest["n_items"] = len(texts)
    return plan, manifest


def write_shard(path: str | os.PathLike, item_ids, vectors: np.ndarray, key: str) -> dict:
    """Write one shard atomically and describe it for the manifest.

    Args:
        path: target ``.parquet`` file.
        item_ids: ``n`` ids.
        vectors: ``(n, d)`` float32 embeddings.
        key: the shard's content key (also stored in the Parquet metadata).

    Returns:
        dict: manifest entry ``key``, ``rows``, ``bytes``, ``sha256``.

    Taught in notebooks/12_at_scale.ipynb.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.asarray(item_ids, dtype=np.int64)
    if vectors.ndim != 2 or len(vectors) != len(ids):
        raise ValueError(f"{len(ids)} ids but vectors of shape {vectors.shape}")
    emb = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), type=pa.float32()), vectors.shape[1])
    table = pa.table({"item_id": pa.array(ids), "embedding": emb})
    table = table.replace_schema_metadata({"translearn_shard_key": key})
    _cache.atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return {"key": key, "rows": int(len(ids)), "bytes": Path(path).stat().st_size, "sha256": file_sha256(path)}


def read_shard(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one shard: ``(item_ids, vectors)``.

    Raises:
        BrokenShardError: the file is missing or not a readable shard.

    Taught in notebooks/12_at_scale.ipynb.
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        emb = table.column("embedding").combine_chunks()
        dim = emb.type.list_size
        vectors = emb.values.to_numpy(zero_copy_only=False).reshape(-1, dim)
        ids = table.column("item_id").to_numpy()
    except (OSError, KeyError, ValueError, AttributeError) as err:
        raise BrokenShardError(f"cannot read shard {path}: {err}. Rerun embed_catalogue on the same folder to "
                               "recompute it") from err
    return ids, vectors.astype(np.float32, copy=False)


def load_embeddings(out_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """All embeddings of a finished job, verified against the manifest, in catalogue order.

    Args:
        out_dir: the folder ``embed_catalogue`` wrote.

    Returns:
        tuple: ``(item_ids (n,), vectors (n, d))``.

    Raises:
        FileNotFoundError: no manifest in ``out_dir``.
        BrokenShardError: a shard is missing, broken or unrecorded (the job did not finish).

    Taught in notebooks/12_at_scale.ipynb.
    """
    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest is None:
        raise FileNotFoundError(f"no {MANIFEST} in {out}: run embed_catalogue(..., out_dir={str(out)!r}) first")
    n_shards = len(range(0, manifest["n_items"], manifest["shard_size"]))
    ids, vecs = [], []
    for i in range(n_shards):
        entry = manifest["shards"].get(str(i))
        status = "unrecorded" if entry is None else check_shard(out, i, entry)
        if status != "done":
            raise BrokenShardError(f"{shard_name(i)} in {out} is {status} (the job did not finish or the file "
                                   "was changed): rerun embed_catalogue on the same folder; it recomputes only "
                                   "what is missing")
        a, b = read_shard(out / shard_name(i))
        ids.append(a)
        vecs.append(b)
    return np.concatenate(ids), np.concatenate(vecs)
