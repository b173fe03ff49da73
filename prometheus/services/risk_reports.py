"""Building risk reports from holdings and prices, and writing them to the store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prometheus.errors import InvalidInput, shown, start_after_end
from prometheus.reports import date_out_of_range
from prometheus.risk import FREQUENCIES, read_benchmark, read_holdings, read_prices, read_sectors, run_engine
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class BuildSummary:
    reports: int
    portfolios: int
    first_date: date | None
    last_date: date | None
    seconds: float

    def line(self) -> str:
        span = f" from {self.first_date} to {self.last_date}" if self.first_date else ""
        return (
            f"built and stored {self.reports} risk report(s) for {self.portfolios} portfolio(s){span} "
            f"in {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class EngineCheck:
    """What the risk engine's four files hold, once every file rule has passed."""

    portfolios: int
    tickers: int
    holdings: int
    first_date: date
    last_date: date

    def describe(self) -> str:
        return (
            f"{self.portfolios:,} portfolio(s), {self.holdings:,} holding row(s), {self.tickers:,} ticker(s) priced; "
            f"holdings from {self.first_date}, prices to {self.last_date}"
        )


def check_engine_files(*, prices: Path, holdings: Path, benchmark: Path, sectors: Path) -> EngineCheck:
    """Read and check the four files as a build would, computing nothing."""
    price_table = read_prices(prices)
    sector_table = read_sectors(sectors)
    read_benchmark(benchmark)
    book = read_holdings(holdings, price_table, sector_table)
    return EngineCheck(
        portfolios=int(book["portfolio_id"].nunique()),
        tickers=len(price_table.columns),
        holdings=len(book),
        first_date=book["date"].min().date(),
        last_date=price_table.index.max().date(),
    )


def _check_range(day: date | None, what: str) -> None:
    reason = None if day is None else date_out_of_range(day)
    if reason:
        raise InvalidInput(f"{what} {reason}")


def build_and_store_reports(
    stores: Stores,
    *,
    prices: Path,
    holdings: Path,
    benchmark: Path,
    sectors: Path,
    start: date | None = None,
    end: date | None = None,
    frequency: str = "weekly",
) -> BuildSummary:
    """Read and check every file first, compute all reports, then upsert them in one transaction.

    The books' daily values go beside them, in the same transaction: forward outcomes and
    drawdown charts use daily values where the store has them.
    """
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"unknown frequency {shown(frequency)}: use {', '.join(FREQUENCIES)}")
    _check_range(start, "start")
    _check_range(end, "end")
    if start is not None and end is not None and start > end:
        raise start_after_end(start, end)
    began = time.perf_counter()
    price_table = read_prices(prices)
    sector_table = read_sectors(sectors)
    bench = read_benchmark(benchmark)
    book = read_holdings(holdings, price_table, sector_table)
    output = run_engine(price_table, book, bench, sector_table, start, end, frequency)
    reports = output.reports
    stores.reports.upsert(reports, values=output.values)
    days = [r.as_of_date for r in reports]
    return BuildSummary(
        reports=len(reports),
        portfolios=len({r.portfolio_id for r in reports}),
        first_date=min(days) if days else None,
        last_date=max(days) if days else None,
        seconds=time.perf_counter() - began,
    )
