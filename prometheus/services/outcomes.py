"""What followed a state: its portfolio's forward return and max drawdown over a horizon of calendar days.

Values: the portfolio's daily values where the store has them (the risk engine
writes them), else its reports' portfolio_value (weekly for the demo book);
each row says which it used. A weekly series understates a forward max
drawdown: on the demo book by more than 2 points for 31% of the states.

Horizon H: from the state's date D to D + H. The forward value is the last
value on or before D + H; the outcome is known once some value is dated on or
after D + H (until then it is NaN: the future is not in the store). Max
drawdown is the worst peak-to-trough fall from D's value (the first peak) to
the forward value.

Point in time: with ``known_by`` K only values dated on or before K are read,
so an outcome is known only when D + H <= K. Every figure that speaks about
the future of a state at K uses this (see :mod:`prometheus.services.forecast`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from prometheus.errors import InvalidSetting, Setting
from prometheus.keys import empty_table
from prometheus.store.report_fields import value_series as report_value_series
from prometheus.store.stores import Stores
from prometheus.values import ValueSeries

HORIZONS_DAYS = (30, 91)  # calendar days: about one month and one quarter
FORECAST_HORIZON_DAYS = 91
MAX_HORIZON_DAYS = 3660
DAILY, REPORTS = "daily", "reports"  # where a portfolio's values come from


def return_column(days: int) -> str:
    return f"fwd_return_{days}d"


def drawdown_column(days: int) -> str:
    return f"fwd_max_drawdown_{days}d"


def horizon_words(days: int) -> str:
    """How a page names a horizon."""
    return {30: "30 days (about a month)", 91: "91 days (about a quarter)"}.get(days, f"{days} days")


def check_horizon(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_HORIZON_DAYS:
        raise InvalidSetting(Setting("horizon_days"), f" must be a whole number of days from 1 to {MAX_HORIZON_DAYS}")
    return days


def _check_horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    checked = tuple(check_horizon(h) for h in horizons)
    if not checked:
        raise InvalidSetting(Setting("horizon_days"), ": give at least one horizon")
    return tuple(dict.fromkeys(checked))


@dataclass(frozen=True)
class PortfolioValues:
    series: ValueSeries  # positive values, oldest first
    source: str  # DAILY or REPORTS


def portfolio_values(stores: Stores, portfolio_ids: Sequence[str]) -> dict[str, PortfolioValues]:
    """Each portfolio's values: daily where stored, else its reports' values; absent when it has neither."""
    wanted = sorted(set(portfolio_ids))
    found = {pid: PortfolioValues(one.positive(), DAILY) for pid, one in stores.values.load(wanted).items()}
    rest = [pid for pid in wanted if pid not in found]
    if rest:
        for pid, (days, values) in report_value_series(stores.runtime, rest).items():
            found[pid] = PortfolioValues(ValueSeries(days, values), REPORTS)
    return found


def forward_outcome(series: ValueSeries, day: date, horizon_days: int) -> tuple[float, float]:
    """(return, max drawdown) of one state over ``horizon_days``; NaNs when the series does not reach that far."""
    returns, drawdowns = series.forward(np.array([day], dtype="datetime64[D]"), horizon_days)
    return float(returns[0]), float(drawdowns[0])


def forward_outcomes(
    stores: Stores,
    states: Sequence[tuple[str, date]],
    horizons_days: Sequence[int] = HORIZONS_DAYS,
    known_by: date | None = None,
    values: Mapping[str, PortfolioValues] | None = None,
) -> pd.DataFrame:
    """One row per state, in the given order, with the values' source; NaN where the future is not known.

    ``known_by``: read only values dated on or before it (point in time). ``values``: the
    portfolios' values when the caller holds them already (``portfolio_values`` of at least
    these states' portfolios); read from the store otherwise.
    """
    horizons = _check_horizons(horizons_days)
    result_columns = [name for h in horizons for name in (return_column(h), drawdown_column(h))]
    columns = ["portfolio_id", "as_of_date", *result_columns, "values"]
    if not states:
        return empty_table(columns, floats=result_columns)
    if values is None:
        values = portfolio_values(stores, [pid for pid, _ in states])
    cutoff = np.datetime64(known_by, "D") if known_by is not None else None
    rows = []
    for pid, day in states:
        found = values.get(pid)
        if found is None:
            rows.append([pid, day, *([math.nan] * len(result_columns)), ""])
            continue
        series = found.series if cutoff is None else found.series.until(cutoff)
        rows.append([pid, day, *(x for h in horizons for x in forward_outcome(series, day, h)), found.source])
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(dict.fromkeys(result_columns, np.float64))


def values_used(frame: pd.DataFrame) -> str:
    """What a page says about the values behind an outcome table."""
    sources = set(frame.get("values", pd.Series(dtype=object)).dropna()) - {""}
    if sources == {DAILY}:
        return "daily portfolio values"
    if sources == {REPORTS}:
        return "the reports' portfolio values (one per report date, so drawdowns between reports are missed)"
    if sources:
        return "daily values where stored, else the reports' values"
    return "no stored values"


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def outcome_cells(
    frame: pd.DataFrame, horizons_days: Sequence[int] = HORIZONS_DAYS
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """CSV header suffix and cells (6 decimals, empty when unknown) of an outcomes table."""
    names = tuple(name for h in horizons_days for name in (return_column(h), drawdown_column(h)))
    rows = [tuple(_cell(float(v)) for v in values) for values in frame.loc[:, list(names)].itertuples(index=False)]
    return (*names, "values"), [(*row, str(source)) for row, source in zip(rows, frame["values"], strict=True)]
