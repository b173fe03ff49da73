"""The forecast book of a store: every state's point-in-time inputs, on a grid of dates, cached.

A forecast for a state dated D is fitted on "pool" states whose outcome was
known on D, so the pool's inputs are computed once per data version and kept
on disk: each pool state's volatility, its realised outcome (where the store's
values reach that far), and a summary of its own 200 point-in-time analogues'
outcomes. The pool holds every ``every``-th stored date (4 by default: 14,447
of the demo's 57,952 states; the fits barely move, 0.546 against 0.543 for the
pooled Spearman, at a quarter of the cost). The skill ledger scores the pool's
own forecasts; the app's single-state forecasts use the same fits.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from prometheus.files import atomic_write
from prometheus.forecasting.drawdown_model import AnalogueSummary, DrawdownForecaster, summarise_analogues
from prometheus.joint.registry import joint_store
from prometheus.keys import join_on_keys
from prometheus.search.index import StateIndex
from prometheus.search.loading import load_index
from prometheus.search.point_in_time import point_in_time_analogues
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, check_horizon, portfolio_values
from prometheus.store.embeddings import joint_version_name
from prometheus.store.report_fields import metric, report_fields
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.stores import Stores
from prometheus.store.values import VALUES_VERSION

ANALOGUES = 200  # per state: the forecast's analogues (k=20: Spearman 0.42; k=200: 0.49; blended with vol: 0.55)
TAIL = 0.10  # the band is the 10th-90th percentile
DEFAULT_EVERY = 4
BOOK_FORMAT = 2  # 2: data stamps in the key


@dataclass(frozen=True)
class ForecastBook:
    """Per index row (all states): volatility, drawdown and realised outcome; per pool state: analogue summary."""

    model_id: str
    horizon_days: int
    every: int
    index: StateIndex
    volatility: np.ndarray  # (n,) volatility_3m on the state's date
    drawdown: np.ndarray  # (n,) the state's current drawdown
    outcome: np.ndarray  # (n,) realised max drawdown over the horizon (NaN: not known in the store)
    pool: np.ndarray  # (p,) index rows of the pool states, date order
    analogues: AnalogueSummary  # (p,) each pool state's point-in-time analogue summary
    forecaster: DrawdownForecaster

    @property
    def pool_days(self) -> np.ndarray:
        return self.index.dates[self.pool]


def grid_dates(index: StateIndex, every: int) -> np.ndarray:
    """Every ``every``-th distinct stored date, from the first."""
    return np.unique(index.dates)[::every]


def forward_drawdowns(stores: Stores, index: StateIndex, horizon_days: int) -> np.ndarray:
    """Each state's realised max drawdown over the horizon, from its book's values (NaN where not known)."""
    out = np.full(len(index), np.nan)
    values = portfolio_values(stores, index.portfolio_names)
    for code, name in enumerate(index.portfolio_names):
        found = values.get(name)
        if found is None or not len(found.series):
            continue
        rows = np.flatnonzero(index.portfolio_codes == code)
        out[rows] = found.series.forward(index.dates[rows], horizon_days)[1]
    return out


def _report_column(stores: Stores, index: StateIndex, name: str) -> np.ndarray:
    fields = report_fields(stores.runtime, {name: metric(name)})
    return join_on_keys(index.keys_frame(), fields)[name].to_numpy(dtype=np.float64)


def _analogue_summary(
    index: StateIndex, pool: np.ndarray, outcome: np.ndarray, volatility: np.ndarray, horizon_days: int
) -> AnalogueSummary:
    found = point_in_time_analogues(index, pool, horizon_days, ANALOGUES, own_book=True, usable=np.isfinite(outcome))
    return summarise_analogues(found.values(outcome), found.values(volatility), TAIL)


def _cache_file(stores: Stores, model_id: str, horizon_days: int, every: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)[:60]
    folder = stores.settings.effective_cache_dir / "forecasts"
    return folder / f"book-{safe}-h{horizon_days}-e{every}.npz"


def _cache_key(stores: Stores, index: StateIndex, model_id: str, horizon_days: int, every: int) -> dict[str, Any]:
    # Data versions with the random stamp of the write that made them: a copied or restored
    # database keeps its identity and counters but never a stamp, so its book is rebuilt.
    return {
        "format": BOOK_FORMAT,
        "model_id": model_id,
        "states": [stores.historical.store_id, stores.historical.data_stamp(joint_version_name(model_id)).key],
        "rows": len(index),
        "reports": [stores.runtime.store_id, stores.runtime.data_stamp(REPORTS_VERSION).key],
        "values": stores.runtime.data_stamp(VALUES_VERSION).key,
        "horizon_days": horizon_days,
        "every": every,
        "analogues": ANALOGUES,
        "tail": TAIL,
    }


_ARRAYS = ("volatility", "drawdown", "outcome", "pool", "median", "ratio_low", "ratio_high", "count")


def _read(path: Path, key: dict[str, Any]) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["key"])) != key:
                return None
            return {name: data[name] for name in _ARRAYS}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # missing, stale, truncated or foreign: recomputed


def forecast_book(
    stores: Stores, model_id: str, horizon_days: int = FORECAST_HORIZON_DAYS, every: int = DEFAULT_EVERY
) -> ForecastBook:
    """The store's forecast book for one model and horizon (from the cache while the data are unchanged)."""
    check_horizon(horizon_days)
    joint_store(stores, model_id)  # an unknown model is an error here, not an empty book
    index = load_index(stores, model_id)
    key = json.loads(json.dumps(_cache_key(stores, index, model_id, horizon_days, every), sort_keys=True))
    path = _cache_file(stores, model_id, horizon_days, every)
    cached = _read(path, key)
    if cached is None:
        volatility = _report_column(stores, index, "volatility_3m")
        drawdown = _report_column(stores, index, "drawdown")
        outcome = forward_drawdowns(stores, index, horizon_days)
        pool = np.flatnonzero(np.isin(index.dates, grid_dates(index, every)))
        summary = _analogue_summary(index, pool, outcome, volatility, horizon_days)
        cached = {
            "volatility": volatility,
            "drawdown": drawdown,
            "outcome": outcome,
            "pool": pool,
            "median": summary.median,
            "ratio_low": summary.ratio_low,
            "ratio_high": summary.ratio_high,
            "count": summary.count,
        }
        arrays: dict[str, Any] = {"key": np.array(json.dumps(key, sort_keys=True)), **cached}
        with contextlib.suppress(OSError):  # a cache that cannot be written costs speed, not correctness
            atomic_write(path, lambda handle: np.savez(handle, **arrays))
    summary = AnalogueSummary(cached["median"], cached["ratio_low"], cached["ratio_high"], cached["count"])
    pool = cached["pool"].astype(np.int64)
    forecaster = DrawdownForecaster(horizon_days=horizon_days, tail=TAIL).fit(
        index.dates[pool], cached["outcome"][pool], cached["volatility"][pool], summary
    )
    return ForecastBook(
        model_id,
        horizon_days,
        every,
        index,
        cached["volatility"],
        cached["drawdown"],
        cached["outcome"],
        pool,
        summary,
        forecaster,
    )


def state_analogue_summary(book: ForecastBook, row: int) -> AnalogueSummary:
    """One state's analogue summary, as the pool's were made (for a state off the grid)."""
    position = np.searchsorted(book.pool, row)
    if position < book.pool.size and book.pool[position] == row:
        a = book.analogues
        return AnalogueSummary(
            a.median[[position]], a.ratio_low[[position]], a.ratio_high[[position]], a.count[[position]]
        )
    return _analogue_summary(book.index, np.array([row]), book.outcome, book.volatility, book.horizon_days)


def outcome_known_on(as_of: date, horizon_days: int) -> date:
    """The latest state date whose outcome over the horizon was known on ``as_of``."""
    return as_of - timedelta(days=horizon_days)
