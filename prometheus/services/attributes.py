"""Per-state attributes for colouring maps and tables: drawdown, volatility, return, largest sector,
named stress window; cached on disk per data version of both databases."""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prometheus.files import atomic_write
from prometheus.joint.registry import joint_store
from prometheus.keys import empty_table, join_on_keys
from prometheus.reports import GICS_SECTORS, OTHER_SECTOR
from prometheus.store.report_fields import block_values
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.stores import Stores
from prometheus.stress import known_stress_labels, window_names

ATTRIBUTE_METRICS = ("drawdown", "volatility_1m", "volatility_1y", "return_1y")
# stress_known_then: stress as known on the state's date (the benchmark's fall from its peak so far);
# stress_window: the named window containing the date, hindsight, for charts of the past only.
ATTRIBUTE_COLUMNS = (
    "portfolio_id",
    "as_of_date",
    *ATTRIBUTE_METRICS,
    "benchmark_drawdown",
    "dominant_sector",
    "stress_known_then",
    "stress_window",
)
FLOAT_COLUMNS = (*ATTRIBUTE_METRICS, "benchmark_drawdown")
SECTORS = (*GICS_SECTORS, OTHER_SECTOR)
ATTRIBUTE_CACHE_FORMAT = 2
_LABEL_COLUMNS = (
    "portfolio_id",
    "dominant_sector",
    "stress_known_then",
    "stress_window",
)  # stored as codes into their distinct values


def state_attributes(stores: Stores, model_id: str) -> pd.DataFrame:
    """One row per joint state, in the store's load order (the order of StateIndex and maps)."""
    _, store = joint_store(stores, model_id)
    keys = store.keys(model_id)
    if keys.empty:
        return empty_table(ATTRIBUTE_COLUMNS, floats=FLOAT_COLUMNS)
    values = block_values(stores.runtime, ATTRIBUTE_METRICS, SECTORS, metadata=["benchmark_drawdown"])
    frame = join_on_keys(keys, values.rename(columns={"metadata:benchmark_drawdown": "benchmark_drawdown"}))
    sector_columns = [f"sector:{s}" for s in SECTORS]
    weights = frame[sector_columns].to_numpy(dtype=np.float64)
    known = ~np.isnan(weights).all(axis=1)
    # argmax takes the first of equal weights, i.e. the first sector in schema order
    best = np.argmax(np.where(np.isnan(weights), -np.inf, weights), axis=1)
    frame["dominant_sector"] = np.where(known, np.array(SECTORS, dtype=object)[best], "")
    frame["stress_known_then"] = known_stress_labels(
        frame["benchmark_drawdown"].to_numpy(), frame["drawdown"].to_numpy()
    )
    frame["stress_window"] = window_names(frame["as_of_date"])
    return frame.loc[:, list(ATTRIBUTE_COLUMNS)]


def _attribute_key(stores: Stores, model_id: str) -> dict[str, Any]:
    """What the attributes are a function of: the joint states' keys and the reports, in which databases."""
    _, store = joint_store(stores, model_id)
    return {
        "format": ATTRIBUTE_CACHE_FORMAT,
        "model_id": model_id,
        "states": [stores.historical.store_id, store.data_version(model_id)],
        "reports": [stores.runtime.store_id, stores.runtime.data_version(REPORTS_VERSION)],
    }


def _attribute_file(folder: Path, model_id: str) -> Path:
    return folder / f"attributes-{re.sub(r'[^A-Za-z0-9_.-]+', '_', model_id)[:60]}.npz"


def _read_attributes(path: Path, key: dict[str, Any]) -> pd.DataFrame | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["key"])) != key:
                return None  # another data version (or database): recomputed
            columns: dict[str, Any] = {}
            for name in ATTRIBUTE_COLUMNS:
                if name in _LABEL_COLUMNS:
                    values = data[f"{name}:labels"].astype(object)[data[f"{name}:codes"]]
                    # dtypes as state_attributes makes them: ids object, the derived labels inferred (str)
                    columns[name] = pd.Series(values, dtype=object) if name == "portfolio_id" else values
                elif name == "as_of_date":
                    columns[name] = pd.Series(data[name].astype(object), dtype=object)  # datetime.date, as read
                else:
                    columns[name] = data[name].astype(np.float64)
            return pd.DataFrame(columns)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: recomputed


def _write_attributes(path: Path, key: dict[str, Any], frame: pd.DataFrame) -> None:
    arrays: dict[str, Any] = {"key": np.array(json.dumps(key, sort_keys=True))}
    for name in ATTRIBUTE_COLUMNS:
        if name in _LABEL_COLUMNS:
            codes, labels = pd.factorize(frame[name], use_na_sentinel=False)
            arrays[f"{name}:codes"] = codes.astype(np.int32)
            arrays[f"{name}:labels"] = np.asarray(labels, dtype=str)
        elif name == "as_of_date":
            arrays[name] = np.asarray(frame[name].tolist(), dtype="datetime64[D]")
        else:
            arrays[name] = frame[name].to_numpy(dtype=np.float64)
    with contextlib.suppress(OSError):  # a cache that cannot be written costs speed, not correctness
        atomic_write(path, lambda handle: np.savez(handle, **arrays))


def cached_state_attributes(stores: Stores, model_id: str, cache_dir: Path | None = None) -> pd.DataFrame:
    """:func:`state_attributes`, read from a file beside the store while its inputs are unchanged.

    Reading the report fields of 100k states takes seconds (one JSON extraction per
    field and report); the file takes milliseconds. It is keyed to the identity and
    data version of both databases (the joint states' and the reports'), read before
    the rows, so a concurrent write can only make the file look stale, never serve
    old rows as current. ``cache_dir`` defaults to ``<settings.effective_cache_dir>/attributes``.
    """
    folder = Path(cache_dir) if cache_dir is not None else stores.settings.effective_cache_dir / "attributes"
    key = json.loads(json.dumps(_attribute_key(stores, model_id), sort_keys=True))
    path = _attribute_file(folder, model_id)
    cached = _read_attributes(path, key)
    if cached is not None:
        return cached
    frame = state_attributes(stores, model_id)
    if not frame.empty:
        _write_attributes(path, key, frame)
    return frame
