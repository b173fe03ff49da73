"""2-D maps of every joint state (PCA or UMAP), cached on disk per data version.

Cache layout in ``cache_dir``, one set per (database, model, method, params):
  ``<stem>.json``              manifest: data version, store id, file names
  ``<stem>-v<N>-<tok>.npz``    row keys, x, y; for UMAP also row hashes and which rows were fitted
Every file is written to a temporary name and renamed into place, and data
files carry a unique token, so a reader sees either the old set or the new
one, never half a file. A reader that finds a manifest naming removed files
treats it as a cache miss.

Staleness: the cache is valid while the store's joint data version, the stamp
of the write that made it and the database's identity (``store_id``, a random
id fixed when its schema was created) are unchanged; the identity catches a
database that was deleted and rebuilt, whose version restarts at 1, and the
stamp a copy of the database (or a restored backup) written differently since.
They are read without touching the rows (the search index cache is keyed the
same way), so a cache hit costs two small queries and one file read. A data
file that does not hold together (columns of different lengths, another row
count than recorded, coordinates that are not finite) is recomputed, never shown.
Files are named by the database's identity, never its URL, and no URL is
written into them. Writing them is best effort: an unusable cache folder (full,
read-only, a file) costs a refit next time, not the map (``frame.attrs["stored"]``
says whether it was kept).

UMAP updates: when the data version moved on but every cached row is still
present with an identical vector, only the new rows are placed with the
map the way umap-learn's ``transform()`` would (``umap_place``: from the fitted
rows, still in the store, and their stored coordinates; no fitted object is
kept); old rows keep their coordinates, so the map does not jump. Once the rows
placed this way exceed ``MAX_PLACED_SHARE`` of the rows the model was fitted
on, the map is refitted from scratch. PCA is cheap and always refitted when the
data changes. A UMAP map reports one bar over its stages (``umap_progress``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prometheus.errors import InvalidInput
from prometheus.files import atomic_write
from prometheus.joint.registry import joint_store
from prometheus.progress import Progress
from prometheus.projection.numba_cache import use_numba_cache
from prometheus.projection.pca import fit_pca
from prometheus.projection.umap_fit import UMAP_PARAMS, fit_umap
from prometheus.projection.umap_place import can_place, place_rows
from prometheus.projection.umap_progress import SAVING, UmapBar
from prometheus.search.loading import load_index
from prometheus.store.embeddings import DataStamp
from prometheus.store.stores import Stores

METHODS = ("pca", "umap")
COLUMNS = ("portfolio_id", "as_of_date", "x", "y")
PCA_PARAMS: dict[str, Any] = {"n_components": 2, "random_state": 0}
MAX_PLACED_SHARE = 0.5
ORPHAN_AGE_SECONDS = 3600  # unreferenced files older than this are left by crashed or racing writers
CACHE_FORMAT = 3  # 2: stamps, no URL, row counts; 3: the fitted rows marked, no pickled model
READABLE_FORMATS = (2, 3)  # a format-2 map is still shown; new rows on it mean a refit (nothing marks its fitted rows)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Rows:
    portfolio_ids: np.ndarray  # str
    dates: np.ndarray  # datetime64[D]
    hashes: np.ndarray  # uint64, one per vector
    coords: np.ndarray  # (n, 2) float64
    fitted: np.ndarray | None = None  # bool, UMAP only: the rows the map was fitted on (the others were placed)


def _params(method: str, umap_params: Mapping[str, Any] | None) -> dict[str, Any]:
    if method not in METHODS:
        raise InvalidInput(f"method must be 'pca' or 'umap', got {method!r}")
    if method == "pca":
        return dict(PCA_PARAMS)
    params = {**UMAP_PARAMS, **(umap_params or {})}
    if params["n_components"] != 2:
        raise InvalidInput(f"a map has 2 dimensions, got n_components={params['n_components']}")
    return params


def _stem(stores: Stores, model_id: str, method: str, params: Mapping[str, Any]) -> str:
    # The database's identity, not its URL: a read-only deployment (?mode=ro) finds the maps a
    # writer stored for the same database, and no URL (nor its password) reaches a file name.
    identity = json.dumps(
        {"store_id": stores.historical.store_id, "model_id": model_id, "method": method, "params": params},
        sort_keys=True,
        default=str,
    )
    safe_model = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)[:60]
    return f"projection-{safe_model}-{method}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def _row_hashes(matrix: np.ndarray) -> np.ndarray:
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
            for row in np.ascontiguousarray(matrix)
        ],
        dtype=np.uint64,
    )


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") in READABLE_FORMATS else None


def _read_rows(path: Path, rows: int | None = None) -> _Rows | None:
    """The rows of a data file, or None if it is missing, unreadable or does not hold together."""
    try:
        with np.load(path, allow_pickle=False) as data:
            found = _Rows(
                data["portfolio_ids"].astype(object),
                data["dates"].astype("datetime64[D]"),
                data["hashes"],
                np.column_stack([data["x"], data["y"]]).astype(np.float64),
                data["fitted"].astype(bool) if "fitted" in data.files else None,
            )
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: recomputed
    n = len(found.portfolio_ids)
    consistent = (
        found.portfolio_ids.ndim == 1
        and found.dates.shape == (n,)
        and found.coords.shape == (n, 2)
        and found.hashes.ndim == 1
        and (found.fitted is None or found.fitted.shape == (n,))
        and (rows is None or n == rows)
        and bool(np.isfinite(found.coords).all())
    )
    if not consistent:
        log.warning("map cache file %s is inconsistent or corrupt: recomputed", path)
        return None
    return found


def _write_rows(path: Path, rows: _Rows) -> None:
    arrays: dict[str, np.ndarray] = {
        "portfolio_ids": rows.portfolio_ids.astype(str),
        "dates": rows.dates,
        "hashes": rows.hashes,
        "x": rows.coords[:, 0],
        "y": rows.coords[:, 1],
    }
    if rows.fitted is not None:
        arrays["fitted"] = rows.fitted
    # uncompressed: compressing 100k ids costs more than it saves
    atomic_write(path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]


def _frame(rows: _Rows, source: str, data_version: int, stamp: str = "", stored: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "portfolio_id": pd.Series(rows.portfolio_ids, dtype=object),
            "as_of_date": pd.Series(rows.dates.astype(object), dtype=object),
            "x": rows.coords[:, 0].astype(np.float64),
            "y": rows.coords[:, 1].astype(np.float64),
        }
    )
    frame.attrs.update(
        source=source,
        from_cache=source == "cache",
        data_version=data_version,
        data_stamp=f"{data_version}-{stamp}",
        stored=stored,
    )
    return frame


def _place(
    manifest: dict[str, Any] | None,
    cache_dir: Path,
    pids: np.ndarray,
    dates: np.ndarray,
    hashes: np.ndarray,
    matrix: np.ndarray,
    params: Mapping[str, Any],
    bar: UmapBar,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached map's coordinates plus new rows placed on it, and which rows were fitted; None: refit."""
    if manifest is None or not can_place(params):
        return None
    old = _read_rows(cache_dir / manifest["coords_file"])
    if old is None or old.fitted is None or old.hashes.shape != (len(old.portfolio_ids),):
        return None
    position = {(p, d): i for i, (p, d) in enumerate(zip(pids, dates.astype("int64").tolist(), strict=True))}
    old_rows = [
        position.get((p, d)) for p, d in zip(old.portfolio_ids, old.dates.astype("int64").tolist(), strict=True)
    ]
    if any(i is None for i in old_rows):
        return None  # a cached state is gone: not a superset
    kept = np.array(old_rows, dtype=np.int64)
    if not np.array_equal(hashes[kept], old.hashes):
        return None  # a cached state's vector changed
    fitted = int(manifest.get("fitted_rows", 0))
    if len(pids) - fitted > MAX_PLACED_SHARE * fitted or int(old.fitted.sum()) != fitted:
        return None
    coords = np.full((len(pids), 2), np.nan)
    coords[kept] = old.coords
    mask = np.zeros(len(pids), dtype=bool)
    mask[kept[old.fitted]] = True
    new = np.flatnonzero(np.isnan(coords[:, 0]))
    if new.size:
        # The fitted rows, in their cached order, are exactly those the map was fitted on (hashes checked above).
        anchors = kept[old.fitted]
        coords[new] = place_rows(matrix[anchors], coords[anchors], matrix[new], params, bar)
    return coords, mask


def _where(
    stores: Stores, model_id: str, method: str, cache_dir: Path | None, umap_params: Mapping[str, Any] | None
) -> tuple[dict[str, Any], Path, str]:
    params = _params(method, umap_params)
    folder = Path(cache_dir) if cache_dir is not None else stores.settings.effective_cache_dir / "projections"
    return params, folder, _stem(stores, model_id, method, params)


def _cached(
    stores: Stores, model_id: str, folder: Path, stem: str
) -> tuple[pd.DataFrame | None, dict[str, Any] | None, DataStamp]:
    """The stored map of the current data (or None), the manifest found, and the data stamp read."""
    _, store = joint_store(stores, model_id)
    stamp = store.data_stamp(model_id)  # read before the rows: a concurrent write only makes us stale-safe
    manifest = _read_manifest(folder / f"{stem}.json")
    current = (
        manifest is not None
        and manifest.get("data_version") == stamp.version
        and manifest.get("stamp") == stamp.stamp
        and manifest.get("store_id") == stores.historical.store_id
    )
    if manifest is not None and current:
        cached = _read_rows(folder / str(manifest.get("coords_file")), rows=manifest.get("rows"))
        if cached is not None:
            return _frame(cached, "cache", stamp.version, stamp.stamp), manifest, stamp
    return None, manifest, stamp


def stored_projection(
    stores: Stores,
    model_id: str,
    method: str = "pca",
    cache_dir: Path | None = None,
    umap_params: Mapping[str, Any] | None = None,
) -> pd.DataFrame | None:
    """The map stored for exactly the current data, or None: never fits (what a read-only deployment serves)."""
    _, folder, stem = _where(stores, model_id, method, cache_dir, umap_params)
    return _cached(stores, model_id, folder, stem)[0]


def project_states(
    stores: Stores,
    model_id: str,
    method: str = "pca",
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    umap_params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """portfolio_id, as_of_date, x, y for every joint state, in canonical (StateIndex) row order.

    ``cache_dir`` defaults to ``<settings.effective_cache_dir>/projections``.
    ``frame.attrs["source"]`` says how the map was made: "cache", "fit",
    "transform" (new rows placed on the cached UMAP) or "empty"; ``attrs["stored"]``
    whether it is in the cache folder (False when the folder cannot be written).
    """
    params, folder, stem = _where(stores, model_id, method, cache_dir, umap_params)
    hit, manifest, stamp = _cached(stores, model_id, folder, stem)
    if hit is not None:
        return hit
    bar = UmapBar(progress)  # UMAP reports one bar over its stages; PCA takes well under a second
    if method == "umap":
        bar.stage(0, "Loading the states…")
    elif progress is not None:
        progress(0, 0, "Loading the states…")
    # The search index: canonical row order, active coordinates only (the reserved
    # all-zero ones change no distance), usually read from its cache file in milliseconds.
    index = load_index(stores, model_id)
    if not len(index):
        empty = _Rows(
            np.zeros(0, dtype=object), np.zeros(0, dtype="datetime64[D]"), np.zeros(0, np.uint64), np.zeros((0, 2))
        )
        return _frame(empty, "empty", stamp.version, stamp.stamp)
    pids = index.portfolio_ids
    dates = index.dates
    matrix = np.asarray(index.matrix)
    hashes = _row_hashes(matrix) if method == "umap" else np.zeros(0, np.uint64)  # only placement compares them
    columns = index.active_columns.tolist()

    fitted_rows = len(pids)
    fitted: np.ndarray | None = None
    if method == "pca":
        if progress is not None:
            progress(0, 0, f"Fitting PCA on {len(pids):,} states…")
        coords, source = fit_pca(matrix), "fit"
    else:
        use_numba_cache(stores.settings.effective_cache_dir)  # compiled kernels: one folder for every map
        same_columns = manifest is not None and manifest.get("active_columns") == columns
        placed = _place(manifest, folder, pids, dates, hashes, matrix, params, bar) if same_columns else None
        if placed is not None and manifest is not None:
            (coords, fitted), source, fitted_rows = placed, "transform", int(manifest["fitted_rows"])
        else:
            coords, source = fit_umap(matrix, params, bar), "fit"
            fitted = np.ones(len(pids), dtype=bool)
    rows = _Rows(pids, dates, hashes, coords, fitted)
    record = {
        "format": CACHE_FORMAT,
        "active_columns": columns,
        "model_id": model_id,
        "method": method,
        "params": params,
        "data_version": stamp.version,
        "stamp": stamp.stamp,
        "store_id": stores.historical.store_id,
        "rows": len(pids),
        "fitted_rows": fitted_rows,
    }
    try:
        if method == "umap":
            bar.stage(SAVING, f"Saving the map of {len(pids):,} states…")
        _save(folder, stem, manifest, rows, record)
        stored = True
    except OSError as exc:  # a cache that cannot be written costs a refit next time, not this map
        log.warning("map not stored in %s: %s", folder, exc.strerror or exc)
        stored = False
    if method == "umap":
        bar.finish(f"UMAP map of {len(pids):,} states ready")
    return _frame(rows, source, stamp.version, stamp.stamp, stored)


def _save(folder: Path, stem: str, previous: dict[str, Any] | None, rows: _Rows, manifest: dict[str, Any]) -> None:
    token = f"v{manifest['data_version']}-{uuid.uuid4().hex[:8]}"
    coords_file = f"{stem}-{token}.npz"
    folder.mkdir(parents=True, exist_ok=True)
    _write_rows(folder / coords_file, rows)
    manifest = {**manifest, "coords_file": coords_file}
    atomic_write(folder / f"{stem}.json", lambda handle: handle.write(json.dumps(manifest, indent=1).encode()))
    if previous is not None:
        # the previous set's files, including a format-2 map's pickled model
        for name in (previous.get("coords_file"), previous.get("model_file")):
            if name and name != coords_file:
                with contextlib.suppress(OSError):
                    (folder / name).unlink()
    _sweep(folder, stem, {coords_file})


def _sweep(folder: Path, stem: str, keep: set[str | None]) -> None:
    # Two writers racing leave the loser's files unreferenced; a killed writer leaves a .tmp.
    # Only old ones go, so a writer still between its data file and its manifest is never robbed.
    cutoff = time.time() - ORPHAN_AGE_SECONDS
    for path in [*folder.glob(f"{stem}-*"), *folder.glob(f".{stem}*.tmp")]:
        with contextlib.suppress(OSError):
            if path.name not in keep and path.stat().st_mtime < cutoff:
                path.unlink()
