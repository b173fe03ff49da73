"""A synthetic market through the real risk engine: prices with calm and stressed regimes, books over them.

Big enough for point-in-time forecasts (hundreds of states with known outcomes
before the first forecast), small enough to build in about a second.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from service_helpers import backfill

from prometheus.risk import EngineOutput, run_engine
from prometheus.store.stores import Stores

TICKERS = [f"T{i:02d}" for i in range(12)]
SECTOR_NAMES = ["Information Technology", "Financials", "Energy", "Health Care", "Utilities", "Industrials"]


def market_inputs(
    books: int = 16, years: int = 5, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """Prices, monthly holdings, a benchmark and sectors (the engine's four inputs)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2010-01-04", periods=252 * years)
    # Volatility regimes that persist for months: drawdowns follow high volatility, as in real markets.
    regime = np.cumsum(rng.normal(0, 0.08, len(days)))
    vol = 0.008 + 0.012 * (np.sin(regime) > 0.3) + 0.004 * rng.random(len(days))
    market = rng.normal(0.0002, 1.0, len(days)) * vol
    betas = rng.uniform(0.5, 1.6, len(TICKERS))
    returns = market[:, None] * betas[None, :] + rng.normal(0, 0.006, (len(days), len(TICKERS)))
    prices = pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=days, columns=TICKERS)
    benchmark = pd.Series(100 * np.cumprod(1 + market), index=days, name="PRICE")
    month_ends = days[np.append(days.month[1:] != days.month[:-1], False)]
    rows = []
    for b in range(books):
        picks = rng.choice(len(TICKERS), size=4 + b % 5, replace=False)
        weights = rng.dirichlet(np.ones(picks.size)) * (0.8 + 0.4 * (b % 3) / 2)
        for day in month_ends:
            rows += [(day, f"BOOK_{b:02d}", TICKERS[t], float(w)) for t, w in zip(picks, weights, strict=True)]
    holdings = pd.DataFrame(rows, columns=["date", "portfolio_id", "ticker", "weight"])
    sectors = pd.DataFrame(
        {"name": TICKERS, "gics_sector": [SECTOR_NAMES[i % len(SECTOR_NAMES)] for i in range(len(TICKERS))]},
        index=pd.Index(TICKERS, name="ticker"),
    )
    return prices, holdings, benchmark, sectors


def market_output(books: int = 16, years: int = 5, seed: int = 7) -> EngineOutput:
    prices, holdings, benchmark, sectors = market_inputs(books, years, seed)
    return run_engine(prices, holdings, benchmark, sectors, frequency="weekly")


def store_market(stores: Stores, output: EngineOutput, last: date | None = None) -> None:
    """Write the engine's reports and daily values (those dated on or before ``last``), then both backfills."""
    reports = [r for r in output.reports if last is None or r.as_of_date <= last]
    values = output.values
    if last is not None:
        cut = np.datetime64(last, "D")
        values = {pid: series.until(cut) for pid, series in values.items()}
    stores.reports.upsert(reports)
    stores.values.replace(values)
    days = sorted({r.as_of_date for r in reports})
    backfill(stores, days[0], days[-1])
