"""The demo book: 40 US equity portfolios of distinct styles over 20 real stocks.

Each portfolio rebalances at month or quarter ends from 1990 (rule-based
styles) or from the end of 1990 (styles that need a year of trailing
statistics), holds only names priced on the rebalancing date, and takes in
new listings as they appear. Between rebalancing dates the engine lets the
weights drift with prices. The styles themselves are in :mod:`.styles`.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

from prometheus.demo import weighting as wt
from prometheus.demo.styles import DEMO_PORTFOLIOS, DemoPortfolio
from prometheus.demo.weighting import Snapshot
from prometheus.risk.readers import read_benchmark, read_prices, read_sectors, sector_map

__all__ = ["DEMO_PORTFOLIOS", "DemoInputs", "DemoPortfolio", "demo_holdings", "load_demo_inputs"]

START = pd.Timestamp("1990-01-01")
HISTORY_DAYS = wt.YEAR


def rebalance_rows(calendar: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """Rows of the last trading day of each month (or quarter) from START on."""
    month = calendar.year.to_numpy() * 12 + calendar.month.to_numpy()
    month_end = np.append(month[1:] != month[:-1], False)  # the data's last day may end a partial month
    if frequency == "quarterly":
        month_end &= np.isin(calendar.month.to_numpy(), (3, 6, 9, 12))
    return np.flatnonzero(month_end & (calendar >= START))


def demo_holdings(prices: pd.DataFrame, sectors: pd.DataFrame | pd.Series | dict[str, str]) -> pd.DataFrame:
    """Long holdings (date, portfolio_id, ticker, weight) for every demo portfolio."""
    sector_of = sector_map(sectors)
    values = prices.to_numpy(dtype=float)
    tickers = [str(t) for t in prices.columns]
    snapshots: dict[int, Snapshot] = {}
    rows_by_frequency = {f: rebalance_rows(pd.DatetimeIndex(prices.index), f) for f in ("monthly", "quarterly")}
    records: list[tuple[pd.Timestamp, str, str, float]] = []
    for portfolio in DEMO_PORTFOLIOS:
        started = False
        for row in rows_by_frequency[portfolio.rebalance]:
            if portfolio.needs_history and row < HISTORY_DAYS:
                continue
            snapshot = snapshots.get(row)
            if snapshot is None:
                snapshot = snapshots[row] = Snapshot(values, tickers, int(row), sector_of)
            weights = {t: w for t, w in portfolio.weigh(snapshot).items() if w != 0.0}
            if not weights:
                if not started:
                    continue
                # All cash: one zero-weight row keeps the rebalancing date in the long format.
                weights = {snapshot.listed[0]: 0.0}
            started = True
            day = prices.index[row]
            records.extend((day, portfolio.portfolio_id, t, float(w)) for t, w in sorted(weights.items()))
    return pd.DataFrame(records, columns=["date", "portfolio_id", "ticker", "weight"])


class DemoInputs(NamedTuple):
    prices: pd.DataFrame
    holdings: pd.DataFrame
    benchmark: pd.Series
    sectors: pd.DataFrame


def load_demo_inputs() -> DemoInputs:
    """Prices, demo holdings, the SPY benchmark and sectors from the packaged data."""
    data = resources.files("prometheus.demo").joinpath("data")
    with data.joinpath("stock_prices.csv").open("r", encoding="utf-8") as handle:
        prices = read_prices(handle)
    with data.joinpath("spy_prices.csv").open("r", encoding="utf-8") as handle:
        benchmark = read_benchmark(handle)
    with data.joinpath("sectors.csv").open("r", encoding="utf-8") as handle:
        sectors = read_sectors(handle)
    return DemoInputs(prices, demo_holdings(prices, sectors), benchmark, sectors)
