"""The state index persisted beside the store, keyed to the store's data version and stamp.

Layout: <cache_dir>/index/<store key>/<model id>/v<version>/ holds the arrays
as .npy files and meta.json; ``current`` names the live version directory and
is replaced atomically (write, then os.replace), so a reader never sees a
half-written index.

An index is served only for exactly the data version *and stamp* it was built
from: a copy of the database, or a backup restored in place, keeps the store's
identity and counter, but a different write draws a different stamp. A stale
index is extended with the rows written since its version (each row records
the version that wrote it) only if this database's history passed through the
index's version and stamp; otherwise it is rebuilt. A file that does not hold
together (arrays of inconsistent lengths, codes out of range, a matrix whose
checksum differs from the one recorded, NaN) is rebuilt too, never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from prometheus.files import atomic_write
from prometheus.search.index import StateIndex, build_index, merge_index
from prometheus.store.embeddings import EmbeddingMatrix, JointEmbeddingStore
from prometheus.store.schema import DataStamp

FORMAT = 2  # 2: stamps and checksums
log = logging.getLogger(__name__)


def _from_states(model_id: str, stamp: DataStamp, states: EmbeddingMatrix) -> StateIndex:
    return build_index(
        model_id,
        stamp.version,
        states.portfolio_ids,
        states.dates,
        [str(spec.get("source", "")) for spec in states.specs],
        states.matrix,
        stamp.stamp,
    )


def _folded(words: np.ndarray, rows: int) -> int:
    """XOR of each row's 32-bit words, weighted by row position: any flipped bit or moved row changes it."""
    if rows == 0 or words.size == 0:
        return 0
    per_row = np.bitwise_xor.reduce(words.reshape(rows, -1), axis=1).astype(np.uint64)
    weights = np.arange(1, rows + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return int(np.sum(per_row * weights, dtype=np.uint64))  # wraps modulo 2**64, by design


def checksum(index: StateIndex) -> str:
    """A fingerprint of the arrays as written (one pass over the matrix, exact integer arithmetic).

    Recorded in meta.json and compared on every read, so a truncated, overwritten or
    NaN-filled file is rebuilt rather than served. About 2 ms at the demo's 58k states.
    """
    n = len(index)
    parts = [
        _folded(np.ascontiguousarray(index.matrix, dtype=np.float32).view(np.uint32), n),
        _folded(np.ascontiguousarray(index.portfolio_codes, dtype=np.int32).view(np.uint32), n),
        _folded(np.ascontiguousarray(index.source_codes, dtype=np.int32).view(np.uint32), n),
        _folded(np.ascontiguousarray(index.dates.astype("int64")).view(np.uint32), n),
        _folded(np.ascontiguousarray(index.active_columns, dtype=np.int32).view(np.uint32), 1),
    ]
    return "-".join(f"{part:016x}" for part in parts)


def _consistent(index: StateIndex, meta: dict[str, object]) -> bool:
    """Whether the arrays read from disk hold together and match what was recorded when they were written."""
    n = len(index)
    k = index.active_columns.shape[0]
    shapes_ok = (
        index.matrix.ndim == 2
        and index.matrix.dtype == np.float32
        and index.matrix.shape[1] == k
        and index.active_columns.ndim == 1
        and index.portfolio_codes.shape == (n,)
        and index.dates.shape == (n,)
        and index.source_codes.shape == (n,)
        and meta.get("rows") == n
        and index.dates.dtype == np.dtype("datetime64[D]")
    )
    if not shapes_ok:
        return False
    if k and (index.active_columns.min() < 0 or index.active_columns.max() >= index.dim):
        return False
    if n and (
        index.portfolio_codes.min() < 0
        or index.portfolio_codes.max() >= len(index.portfolio_names)
        or index.source_codes.min() < 0
        or index.source_codes.max() >= len(index.source_names)
    ):
        return False
    return checksum(index) == meta.get("checksum")


def _save_array(path: Path, array: np.ndarray) -> None:
    atomic_write(path, lambda handle: np.save(handle, array))


class IndexCache:
    def __init__(self, cache_dir: Path, store_id: str) -> None:
        # One folder per database identity (not its URL): a database recreated at the same
        # URL has a new identity, so it can never be served the old database's index.
        key = hashlib.sha256(store_id.encode()).hexdigest()[:16]
        self.root = cache_dir / "index" / key

    def _folder(self, model_id: str) -> Path:
        return self.root / model_id.replace("/", "_")

    def graph_path(self, model_id: str, data_version: int, stamp: str = "") -> Path:
        """Where the HNSW graph of that data version and stamp lives (see prometheus.search.approximate)."""
        return self._folder(model_id) / f"hnsw-v{data_version}-{stamp[:16]}.faiss"

    def read(self, model_id: str) -> StateIndex | None:
        folder = self._folder(model_id)
        try:
            version_dir = folder / (folder / "current").read_text().strip()
            meta = json.loads((version_dir / "meta.json").read_text())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("model_id") != model_id:
                return None
            index = StateIndex(
                model_id=model_id,
                data_version=int(meta["data_version"]),
                dim=int(meta["dim"]),
                active_columns=np.load(version_dir / "active.npy", allow_pickle=False),
                portfolio_names=[str(n) for n in meta["portfolio_names"]],
                portfolio_codes=np.load(version_dir / "codes.npy", allow_pickle=False),
                dates=np.load(version_dir / "dates.npy", allow_pickle=False),
                source_names=[str(n) for n in meta["source_names"]],
                source_codes=np.load(version_dir / "sources.npy", allow_pickle=False),
                matrix=np.load(version_dir / "matrix.npy", mmap_mode="r", allow_pickle=False),
                stamp=str(meta["stamp"]),
            )
            if not _consistent(index, meta):
                log.warning("search index cache %s is inconsistent or corrupt: rebuilt from the store", version_dir)
                return None
            return index
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None  # missing or unreadable: rebuilt from the store

    def write(self, index: StateIndex) -> None:
        folder = self._folder(index.model_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"v{index.data_version}"
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
            _save_array(staging / "matrix.npy", np.ascontiguousarray(index.matrix))
            _save_array(staging / "codes.npy", index.portfolio_codes)
            _save_array(staging / "dates.npy", index.dates)
            _save_array(staging / "sources.npy", index.source_codes)
            _save_array(staging / "active.npy", index.active_columns)
            meta = {
                "format": FORMAT,
                "model_id": index.model_id,
                "data_version": index.data_version,
                "stamp": index.stamp,
                "checksum": checksum(index),
                "dim": index.dim,
                "rows": len(index),
                "portfolio_names": index.portfolio_names,
                "source_names": index.source_names,
            }
            text = json.dumps(meta).encode()
            atomic_write(staging / "meta.json", lambda handle: handle.write(text))
            target = folder / name
            if target.exists():
                shutil.rmtree(staging, ignore_errors=True)
            else:
                os.replace(staging, target)
            atomic_write(folder / "current", lambda handle: handle.write(name.encode()))
            for old in folder.glob("v*"):
                if old.name != name and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            keep = self.graph_path(index.model_id, index.data_version, index.stamp).name
            for graph in folder.glob("hnsw-v*.faiss"):
                if graph.name != keep:
                    graph.unlink(missing_ok=True)
        except OSError as exc:
            # A cache that cannot be written costs speed, not correctness.
            log.warning("search index cache not written (%s): %s", folder, exc.strerror or exc)

    def get(self, store: JointEmbeddingStore, model_id: str, dim: int) -> StateIndex:
        """The index at the store's current data version and stamp: cached, extended or rebuilt."""
        stamp = store.data_stamp(model_id)  # read before the rows: a concurrent write only makes the index stale
        cached = self.read(model_id)
        if cached is not None and cached.dim == dim:
            if (cached.data_version, cached.stamp) == stamp:
                return cached
            if 0 < cached.data_version < stamp.version and store.had_stamp(
                model_id, DataStamp(cached.data_version, cached.stamp)
            ):
                delta = store.load(model_id, dim=dim, revision_above=cached.data_version)
                index = merge_index(cached, _from_states(model_id, stamp, delta), stamp.version, stamp.stamp)
                self.write(index)
                return index
        index = _from_states(model_id, stamp, store.load(model_id, dim=dim))
        self.write(index)
        return index
