"""Risk reports for many portfolios from prices, holdings, a benchmark and sectors.

The heavy lifting is array-wise: one drift simulation per portfolio over the
whole calendar (:mod:`.drift`), trailing-window metrics on the report rows
(:mod:`.metrics`), stock scores computed once for all portfolios
(:mod:`.factors`) and stress windows computed once (:mod:`.scenarios`). Only
the final assembly of :class:`RiskReport` objects loops in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from prometheus.errors import InvalidInput
from prometheus.reports import GICS_SECTORS, OTHER_SECTOR, RISK_METRIC_KEYS, RiskReport
from prometheus.risk.drift import simulate_book, weights_at
from prometheus.risk.factors import StockScores, factor_exposures, stock_scores, subset
from prometheus.risk.holdings import validate_holdings
from prometheus.risk.metrics import return_metrics
from prometheus.risk.readers import check_benchmark, check_prices, sector_map
from prometheus.risk.scenarios import ScenarioWindow, scenario_pnl, scenario_windows
from prometheus.values import ValueSeries

ENGINE_NAME = "prometheus-risk-v1"
FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly")
SECTOR_KEYS: tuple[str, ...] = (*GICS_SECTORS, OTHER_SECTOR)

DateLike = date | datetime | pd.Timestamp | str | None


def _as_timestamp(value: DateLike, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return pd.Timestamp(datetime.strptime(value.strip(), "%Y-%m-%d"))
        except ValueError:
            raise InvalidInput(f"{name} date '{value}' is not a date; use YYYY-MM-DD") from None
    if isinstance(value, (date, datetime, pd.Timestamp)):
        return pd.Timestamp(value).normalize()
    raise InvalidInput(f"{name} date must be a date or a YYYY-MM-DD string")


def report_rows(calendar: pd.DatetimeIndex, frequency: str, start: DateLike = None, end: DateLike = None) -> np.ndarray:
    """Calendar rows to report on: every day, or the last trading day of each week/month.

    Periods are judged on the whole calendar, then cut to [start, end]
    (inclusive); the calendar's final day closes its (possibly partial) period.
    """
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"frequency '{frequency}' is not one of {', '.join(FREQUENCIES)}")
    first, last = _as_timestamp(start, "start"), _as_timestamp(end, "end")
    if first is not None and last is not None and first > last:
        raise InvalidInput(f"start {first.date()} is after end {last.date()}; swap them")
    days = calendar.to_numpy().astype("datetime64[D]").astype(np.int64)
    if frequency == "daily":
        period = np.arange(len(calendar))
    elif frequency == "weekly":
        period = (days + 3) // 7  # 1970-01-01 was a Thursday: weeks run Monday..Sunday
    else:
        period = calendar.year.to_numpy() * 12 + calendar.month.to_numpy()
    closes = np.append(period[1:] != period[:-1], True)
    keep = closes.copy()
    if first is not None:
        keep &= calendar >= first
    if last is not None:
        keep &= calendar <= last
    return np.flatnonzero(keep)


def running_drawdown(prices: np.ndarray) -> np.ndarray:
    """Each day's fall from the highest price so far (<= 0); NaN before the first price."""
    filled = pd.Series(prices).ffill().to_numpy()
    peaks = np.fmax.accumulate(np.where(np.isfinite(filled), filled, -np.inf))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isfinite(filled) & (peaks > 0), filled / peaks - 1.0, np.nan)


def _table(columns: list[np.ndarray]) -> list[list[float | None]]:
    """Row-wise Python floats of stacked columns; NaN and infinity become None (never a made-up number)."""
    matrix = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    cells = matrix.astype(object)
    cells[~np.isfinite(matrix)] = None
    return cells.tolist()


def _dicts(keys: tuple[str, ...], columns: list[np.ndarray]) -> list[dict[str, float | None]]:
    return [dict(zip(keys, row, strict=True)) for row in _table(columns)]


def _book_metrics(weights: np.ndarray) -> dict[str, np.ndarray]:
    held = np.nan_to_num(weights)
    net = held.sum(axis=1)
    gross = np.abs(held).sum(axis=1)
    longs = np.maximum(held, 0.0)
    long_total = longs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        herfindahl = np.where(long_total > 0, ((longs / long_total[:, None]) ** 2).sum(axis=1), np.nan)
    broken = ~np.isfinite(weights).all(axis=1)  # a wiped-out book has no weights
    mask = np.where(broken, np.nan, 1.0)
    return {
        "num_names": (held != 0).sum(axis=1) * mask,
        "herfindahl": herfindahl * mask,
        "gross_exposure": gross * mask,
        "net_exposure": net * mask,
        "leverage": gross * mask,
    }


def _assemble(
    portfolio_id: str,
    dates: list[date],
    nav: np.ndarray,
    bench_drawdown: np.ndarray,
    book: dict[str, np.ndarray],
    metrics: dict[str, np.ndarray],
    sectors: np.ndarray,
    factors: dict[str, np.ndarray],
    scenarios: dict[str, np.ndarray],
    missing_prices: np.ndarray,
    frequency: str,
) -> list[RiskReport]:
    metric_rows = _dicts(RISK_METRIC_KEYS, [metrics[k] if k in metrics else book[k] for k in RISK_METRIC_KEYS])
    sector_rows = _dicts(SECTOR_KEYS, [sectors[:, i] for i in range(len(SECTOR_KEYS))])
    factor_rows = _dicts(tuple(factors), list(factors.values()))
    scenario_rows = _dicts(tuple(scenarios), list(scenarios.values()))
    net = book["net_exposure"]
    top_rows = _table([nav, 1.0 - net, net, book["gross_exposure"], book["leverage"]])
    missing = missing_prices.tolist()
    market = [None if not np.isfinite(v) else round(float(v), 10) for v in bench_drawdown]
    reports: list[RiskReport] = []
    for i, day in enumerate(dates):
        value, cash, net_i, gross_i, leverage_i = top_rows[i]
        metadata: dict[str, Any] = {"engine": ENGINE_NAME, "frequency": frequency, "num_missing_prices": missing[i]}
        if market[i] is not None:
            # Known on the day: the benchmark's fall from its peak so far, for point-in-time stress labels.
            metadata["benchmark_drawdown"] = market[i]
        reports.append(
            RiskReport.create(
                portfolio_id=portfolio_id,
                as_of_date=day,
                portfolio_value=value,
                cash=cash,
                net_exposure=net_i,
                gross_exposure=gross_i,
                leverage=leverage_i,
                risk_metrics=metric_rows[i],
                scenario_pnl=scenario_rows[i],
                exposures_by_sector=sector_rows[i],
                exposures_by_factor=factor_rows[i],
                metadata=metadata,
            )
        )
    return reports


@dataclass(frozen=True)
class EngineOutput:
    reports: list[RiskReport]  # ordered by portfolio_id, then date
    values: dict[str, ValueSeries]  # each book's daily NAV from its inception, over the whole price calendar


def build_reports(
    prices: pd.DataFrame,
    holdings: pd.DataFrame,
    benchmark: pd.Series | pd.DataFrame,
    sectors: pd.DataFrame | pd.Series | dict[str, str],
    start: DateLike = None,
    end: DateLike = None,
    frequency: str = "weekly",
) -> list[RiskReport]:
    """One report per portfolio and report date in [start, end] (see :func:`run_engine`)."""
    return run_engine(prices, holdings, benchmark, sectors, start, end, frequency).reports


def run_engine(
    prices: pd.DataFrame,
    holdings: pd.DataFrame,
    benchmark: pd.Series | pd.DataFrame,
    sectors: pd.DataFrame | pd.Series | dict[str, str],
    start: DateLike = None,
    end: DateLike = None,
    frequency: str = "weekly",
) -> EngineOutput:
    """One report per portfolio and report date in [start, end], from each book's inception, and daily NAVs.

    ``prices``: dates x tickers (NaN = not listed); ``holdings``: long format
    date, portfolio_id, ticker, weight; ``benchmark``: a price Series (or a
    one-column frame); ``sectors``: ticker -> GICS sector (frame or mapping).
    Reports are ordered by portfolio_id, then date.
    """
    prices = check_prices(prices)
    calendar = pd.DatetimeIndex(prices.index)
    rows = report_rows(calendar, frequency, start, end)
    bench_prices = check_benchmark(benchmark)
    sector_of = sector_map(sectors)
    holdings = validate_holdings(holdings, prices, sector_of)
    if len(rows) == 0:
        return EngineOutput([], {})

    filled = prices.ffill().to_numpy()
    unpriced = prices.isna().to_numpy()
    bench = bench_prices.reindex(calendar).to_numpy()
    bench_returns = np.full(len(calendar), np.nan)
    bench_returns[1:] = bench[1:] / bench[:-1] - 1.0
    bench_drawdown = running_drawdown(bench)
    scores = stock_scores(prices, bench_returns, rows)
    windows = scenario_windows(prices)
    tickers = list(prices.columns)
    sector_matrix = np.zeros((len(tickers), len(SECTOR_KEYS)))
    for i, ticker in enumerate(tickers):
        sector_matrix[i, SECTOR_KEYS.index(sector_of.get(ticker, OTHER_SECTOR))] = 1.0
    report_dates = [ts.date() for ts in calendar[rows]]

    reports: list[RiskReport] = []
    values: dict[str, ValueSeries] = {}
    days = calendar.to_numpy().astype("datetime64[D]")
    for portfolio_id, book in holdings.groupby("portfolio_id", sort=True):
        book_reports, nav = _portfolio_reports(
            str(portfolio_id),
            book,
            calendar,
            tickers,
            filled,
            unpriced,
            (bench_returns, bench_drawdown),
            rows,
            report_dates,
            scores,
            windows,
            sector_matrix,
            frequency,
        )
        reports.extend(book_reports)
        if book_reports:
            values[str(portfolio_id)] = ValueSeries(days, nav).positive()
    return EngineOutput(reports, values)


def _portfolio_reports(
    portfolio_id: str,
    book: pd.DataFrame,
    calendar: pd.DatetimeIndex,
    tickers: list[str],
    filled: np.ndarray,
    unpriced: np.ndarray,
    benchmark: tuple[np.ndarray, np.ndarray],  # daily returns and drawdown from the running peak
    rows: np.ndarray,
    report_dates: list[date],
    scores: StockScores,
    windows: list[ScenarioWindow],
    sector_matrix: np.ndarray,
    frequency: str,
) -> tuple[list[RiskReport], np.ndarray]:
    targets_frame = book.pivot(index="date", columns="ticker", values="weight").reindex(columns=tickers)
    targets = targets_frame.fillna(0.0).to_numpy()
    rebalance_rows = calendar.get_indexer(targets_frame.index)
    path = simulate_book(targets, rebalance_rows, filled)
    bench_returns, bench_drawdown = benchmark
    live = rows >= path.inception
    if not live.any():
        return [], path.nav
    live_rows = rows[live]
    weights = weights_at(targets, rebalance_rows, filled, live_rows)
    clean_weights = np.nan_to_num(weights)
    missing_prices = ((clean_weights != 0) & unpriced[live_rows]).sum(axis=1)
    reports = _assemble(
        portfolio_id,
        [d for d, keep in zip(report_dates, live, strict=True) if keep],
        path.nav[live_rows],
        bench_drawdown[live_rows],
        _book_metrics(weights),
        return_metrics(path.returns, bench_returns, path.nav, live_rows),
        np.where(np.isfinite(weights).all(axis=1)[:, None], clean_weights @ sector_matrix, np.nan),
        factor_exposures(weights, subset(scores, live)),
        scenario_pnl(weights, live_rows, windows),
        missing_prices,
        frequency,
    )
    return reports, path.nav
