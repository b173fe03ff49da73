"""Early warning: which books' latest states point to the deepest drawdowns ahead, point in time.

Each book is ranked by the forecast of its latest state's forward max drawdown
(:mod:`prometheus.services.forecast`), which uses only what was known on that
state's date. The rule it replaces (closeness to past stress states, named
windows included) had no skill: replayed at past dates its cross-sectional
Spearman with the forward drawdown was -0.006 against 0.63 for volatility. The
ranking's own replay is the skill ledger's per-date Spearman, shown beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prometheus.keys import empty_table, join_on_keys
from prometheus.services.forecast_book import ForecastBook, state_analogue_summary
from prometheus.store.report_fields import block_values
from prometheus.store.stores import Stores
from prometheus.stress import known_stress_labels

COLUMNS = (
    "portfolio_id",
    "as_of_date",
    "forecast_max_drawdown",
    "band_low",
    "band_high",
    "volatility_3m",
    "drawdown",
    "stress_known_then",
)
FLOATS = ("forecast_max_drawdown", "band_low", "band_high", "volatility_3m", "drawdown")


def _latest_rows(portfolio_codes: np.ndarray) -> np.ndarray:
    # Index rows are ordered by date, so each portfolio's last row is its latest state.
    reversed_codes = portfolio_codes[::-1]
    _, first_from_end = np.unique(reversed_codes, return_index=True)
    return np.sort(len(portfolio_codes) - 1 - first_from_end)


def early_warning(stores: Stores, book: ForecastBook) -> pd.DataFrame:
    """One row per book: its latest state's forecast and band, deepest forecast first (none last).

    The stress label is the benchmark's fall from its peak known on that date, where the
    reports carry it; the book's own drawdown stands in without it.
    """
    index = book.index
    if not len(index):
        return empty_table(COLUMNS, floats=FLOATS)
    rows = _latest_rows(index.portfolio_codes)
    forecast, low, high = np.full(rows.size, np.nan), np.full(rows.size, np.nan), np.full(rows.size, np.nan)
    for i, row in enumerate(rows):
        summary = state_analogue_summary(book, int(row))
        made = book.forecaster.predict(
            index.dates[row],
            float(book.volatility[row]),
            float(summary.median[0]),
            float(summary.ratio_low[0]),
            float(summary.ratio_high[0]),
        )
        if made is not None:
            forecast[i], low[i], high[i] = made.forecast, made.low, made.high
    keys = index.keys_frame().iloc[rows].reset_index(drop=True)
    fields = block_values(stores.runtime, (), (), metadata=["benchmark_drawdown"])
    market = join_on_keys(keys, fields)["metadata:benchmark_drawdown"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "portfolio_id": pd.Series(index.portfolio_ids[rows], dtype=object),
            "as_of_date": pd.Series(index.dates[rows].astype(object), dtype=object),
            "forecast_max_drawdown": forecast,
            "band_low": low,
            "band_high": high,
            "volatility_3m": book.volatility[rows],
            "drawdown": book.drawdown[rows],
            "stress_known_then": known_stress_labels(market, book.drawdown[rows]),
        }
    )
    order = np.lexsort((frame["portfolio_id"].astype(str).to_numpy(), np.nan_to_num(forecast, nan=np.inf)))
    return frame.iloc[order].reset_index(drop=True)
