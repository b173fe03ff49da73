"""Underwater curve and worst drawdown episodes: from daily portfolio values where the store has them,
else from the reports' portfolio values (``frame.attrs["values"]`` says which)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from prometheus.errors import InvalidSetting, Setting
from prometheus.keys import empty_table
from prometheus.lookup import unknown_portfolios
from prometheus.services.outcomes import portfolio_values
from prometheus.store.report_fields import report_values
from prometheus.store.stores import Stores

UNDERWATER_COLUMNS = ("as_of_date", "portfolio_value", "drawdown")
EPISODE_COLUMNS = ("peak_date", "trough_date", "recovery_date", "depth", "days_to_trough", "length_days", "recovered")
MONTH_COLUMNS = tuple(f"month_{m:02d}" for m in range(1, 13))
MONTHLY_COLUMNS = ("calendar_year", *MONTH_COLUMNS, "year_return")


def underwater(stores: Stores, portfolio_id: str) -> pd.DataFrame:
    """Drawdown from the running peak of the portfolio's value on each day it has one (<= 0).

    Daily values where stored (a weekly series misses the drawdowns between reports),
    else the reports' positive portfolio_value: a missing or non-positive value has no
    meaningful drawdown.
    """
    if not report_values(stores.runtime, portfolio_id) and not stores.values.load([portfolio_id]):
        raise unknown_portfolios([portfolio_id], "risk reports")
    found = portfolio_values(stores, [portfolio_id]).get(portfolio_id)
    if found is None or not len(found.series):
        frame = empty_table(UNDERWATER_COLUMNS, floats=("portfolio_value", "drawdown"))
        frame.attrs["values"] = ""
        return frame
    values = found.series.values
    peaks = np.maximum.accumulate(values)
    frame = pd.DataFrame(
        {
            "as_of_date": pd.Series(found.series.dates.astype(object), dtype=object),
            "portfolio_value": values,
            "drawdown": values / peaks - 1.0,
        }
    )
    frame.attrs["values"] = found.source
    return frame


def worst_drawdowns(frame: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` deepest peak-to-trough episodes of an underwater frame (as_of_date, drawdown).

    An episode starts at the last date at its peak (drawdown 0) and ends at the
    first later date back at 0 (recovery); one still under water at the last
    date is unrecovered and its length runs to that date. A frame that starts
    under water takes its first date as the peak.
    """
    if n < 1:
        raise InvalidSetting(Setting("n"), f" must be at least 1, got {n}")
    if frame.empty:
        return empty_table(EPISODE_COLUMNS, floats=("depth",))
    days = list(frame["as_of_date"])
    drawdown = frame["drawdown"].to_numpy(dtype=np.float64)
    at_peak = drawdown >= 0
    at_peak[0] = True
    # Each date at a peak opens a segment; a segment that dips below zero is one episode.
    starts = np.flatnonzero(at_peak)
    ends = np.append(starts[1:], len(days))
    episodes = []
    for start, end in zip(starts, ends, strict=True):
        trough = start + int(np.argmin(drawdown[start:end]))
        if drawdown[trough] >= 0:
            continue
        recovered = bool(end < len(days))
        finish = days[end] if recovered else days[-1]
        episodes.append(
            (
                days[start],
                days[trough],
                days[end] if recovered else None,
                float(drawdown[trough]),
                (days[trough] - days[start]).days,
                (finish - days[start]).days,
                recovered,
            )
        )
    if not episodes:
        return empty_table(EPISODE_COLUMNS, floats=("depth",))
    table = pd.DataFrame(episodes, columns=list(EPISODE_COLUMNS))
    return table.sort_values(["depth", "peak_date"], kind="stable").head(n).reset_index(drop=True)


@dataclass(frozen=True)
class UnderwaterAt:
    """Where a date sits on an underwater curve: its depth and the peak it is measured from."""

    day: date  # the curve's last date on or before the asked one
    drawdown: float  # <= 0: from the running peak of values up to ``day``, nothing later
    peak_date: date  # the last date on or before ``day`` at that peak


def underwater_at(frame: pd.DataFrame, day: date) -> UnderwaterAt | None:
    """The curve at ``day`` (its last date on or before it); None when the curve starts later."""
    days = list(frame["as_of_date"])
    # bisect on the dates as they are: making a datetime64 array of a demo book's 7,104 dates took 15 ms
    at = bisect.bisect_right(days, day) - 1
    if at < 0:
        return None
    drawdown = frame["drawdown"].to_numpy(dtype=np.float64)
    peaks = np.flatnonzero(drawdown[: at + 1] >= 0)
    # A frame that starts under water (a slice of a curve) takes its first date as the peak, as in worst_drawdowns.
    peak = int(peaks[-1]) if len(peaks) else 0
    return UnderwaterAt(days[at], float(drawdown[at]), days[peak])


def monthly_returns(frame: pd.DataFrame) -> pd.DataFrame:
    """The book's return in each calendar month and year, from an underwater frame's values.

    A month's return runs from the last value of the month before to the month's last value;
    the first month from the first value. A month after one without any value is left empty
    rather than credited with the months it spans; so is a year that follows a year without a
    value. The first and last years are partial when the values start or end inside them.
    One row per calendar year (newest first), as text, then the 12 months and the year.
    """
    values = pd.Series(
        frame["portfolio_value"].to_numpy(dtype=np.float64), index=pd.to_datetime(frame["as_of_date"]), dtype=float
    )
    values = values[values > 0]
    if values.empty:
        return empty_table(MONTHLY_COLUMNS, floats=MONTHLY_COLUMNS[1:])

    def returns(period: str) -> pd.Series:
        grouped = values.resample(period)
        last = grouped.last()  # NaN for a period without a value
        before = last.shift(1)
        # the first period runs from the first value; with a single value in it, nothing was measured
        before.iloc[0] = values.iloc[0] if grouped.count().iloc[0] > 1 else np.nan
        return last / before - 1.0

    months = returns("ME")
    years = returns("YE")
    month_index = pd.DatetimeIndex(months.index)
    table = pd.DataFrame({"year": month_index.year, "month": month_index.month, "value": months.to_numpy()}).pivot(
        index="year", columns="month", values="value"
    )
    table = table.reindex(columns=range(1, 13))
    table.columns = list(MONTH_COLUMNS)
    table["year_return"] = pd.Series(years.to_numpy(), index=pd.DatetimeIndex(years.index).year)
    table = table.sort_index(ascending=False)
    table.insert(0, "calendar_year", [str(y) for y in table.index])
    return table.reset_index(drop=True)
