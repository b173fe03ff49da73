"""The state index persisted beside the store, keyed to the store's data version.

Layout: <cache_dir>/index/<store key>/<model id>/v<version>/ holds the arrays
as .npy files and meta.json; ``current`` names the live version directory and
is replaced atomically (write, then os.replace), so a reader never sees a
half-written index. A stale index is extended with the rows written since its
version (each row records the version that wrote it), not rebuilt.
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

FORMAT = 1
log = logging.getLogger(__name__)


def _from_states(model_id: str, version: int, states: EmbeddingMatrix) -> StateIndex:
    return build_index(
        model_id,
        version,
        states.portfolio_ids,
        states.dates,
        [str(spec.get("source", "")) for spec in states.specs],
        states.matrix,
    )


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

    def graph_path(self, model_id: str, data_version: int) -> Path:
        """Where the HNSW graph of that data version lives (see prometheus.search.approximate)."""
        return self._folder(model_id) / f"hnsw-v{data_version}.faiss"

    def read(self, model_id: str) -> StateIndex | None:
        folder = self._folder(model_id)
        try:
            version_dir = folder / (folder / "current").read_text().strip()
            meta = json.loads((version_dir / "meta.json").read_text())
            if meta.get("format") != FORMAT or meta.get("model_id") != model_id:
                return None
            return StateIndex(
                model_id=model_id,
                data_version=int(meta["data_version"]),
                dim=int(meta["dim"]),
                active_columns=np.load(version_dir / "active.npy"),
                portfolio_names=list(meta["portfolio_names"]),
                portfolio_codes=np.load(version_dir / "codes.npy"),
                dates=np.load(version_dir / "dates.npy"),
                source_names=list(meta["source_names"]),
                source_codes=np.load(version_dir / "sources.npy"),
                matrix=np.load(version_dir / "matrix.npy", mmap_mode="r"),
            )
        except (OSError, ValueError, KeyError):
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
            for graph in folder.glob("hnsw-v*.faiss"):
                if graph.name != f"hnsw-{name}.faiss":
                    graph.unlink(missing_ok=True)
        except OSError as exc:
            # A cache that cannot be written costs speed, not correctness.
            log.warning("search index cache not written (%s): %s", folder, exc.strerror or exc)

    def get(self, store: JointEmbeddingStore, model_id: str, dim: int) -> StateIndex:
        """The index at the store's current data version: cached, extended or rebuilt."""
        version = store.data_version(model_id)
        cached = self.read(model_id)
        if cached is not None and cached.data_version == version and cached.dim == dim:
            return cached
        if cached is not None and 0 < cached.data_version < version and cached.dim == dim:
            delta = store.load(model_id, dim=dim, revision_above=cached.data_version)
            index = merge_index(cached, _from_states(model_id, version, delta), version)
        else:
            index = _from_states(model_id, version, store.load(model_id, dim=dim))
        self.write(index)
        return index
