"""What happened next: each state's forward return and max drawdown from its portfolio's later reports.

Horizon: the state's date plus N calendar months (day clamped to the target
month's length). The forward value is the portfolio's last report on or before
the horizon, and the outcome is NaN unless some report lies at or after the
horizon (until then the future is not known).

Month-end states: a state that is its portfolio's last report of the month
and lies in the month's final week is measured to the target month's last
report instead: horizon = the target month's last day, known once a report
exists in that month's final week or later. Without this, a month-end report
on a business day (Friday 2024-03-29) would get horizon 2024-04-29, find
itself as the last report before it and show a 0% one-month return; with it,
weekend and holiday month-ends compare month-end to month-end.

Max drawdown is the worst peak-to-trough fall of the report values from the
state's date to the forward report, the starting value being the first peak.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from prometheus.errors import InvalidInput
from prometheus.keys import empty_table
from prometheus.services.similar import Neighbour
from prometheus.store.report_fields import value_series
from prometheus.store.stores import Stores

DEFAULT_HORIZONS = (1, 3)


def return_column(months: int) -> str:
    return f"fwd_return_{months}m"


def drawdown_column(months: int) -> str:
    return f"fwd_max_drawdown_{months}m"


MONTH_END_DAYS = 7  # "the month's final week"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the target month's length."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_last_day(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _check_horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    checked = tuple(horizons)
    bad = [h for h in checked if isinstance(h, bool) or not isinstance(h, int) or h < 1]
    if not checked or bad:
        raise InvalidInput(f"horizons must be whole months of at least 1, got {list(checked)}")
    return tuple(dict.fromkeys(checked))


def _outcome(days: np.ndarray, values: np.ndarray, day: date, months: int) -> tuple[float, float]:
    start = int(np.searchsorted(days, np.datetime64(day), side="right")) - 1
    if start < 0:
        return math.nan, math.nan
    month_end = month_last_day(day)
    last_of_month = start + 1 >= len(days) or days[start + 1] > np.datetime64(month_end)
    if last_of_month and (month_end - day).days < MONTH_END_DAYS:
        horizon = month_last_day(add_months(day, months))
        known_from = horizon - timedelta(days=MONTH_END_DAYS - 1)
    else:
        horizon = known_from = add_months(day, months)
    if int(np.searchsorted(days, np.datetime64(known_from), side="left")) >= len(days):
        return math.nan, math.nan
    end = int(np.searchsorted(days, np.datetime64(horizon), side="right")) - 1
    path = values[start : end + 1]
    drawdown = float(np.min(path / np.maximum.accumulate(path) - 1.0))
    return float(path[-1] / path[0] - 1.0), drawdown


def forward_outcomes(
    stores: Stores, states: Sequence[tuple[str, date]], horizons_months: Sequence[int] = DEFAULT_HORIZONS
) -> pd.DataFrame:
    """One row per state, in the given order; NaN where the future is not in the store yet."""
    horizons = _check_horizons(horizons_months)
    result_columns = [name for h in horizons for name in (return_column(h), drawdown_column(h))]
    columns = ["portfolio_id", "as_of_date", *result_columns]
    if not states:
        return empty_table(columns, floats=result_columns)
    series = value_series(stores.runtime, [pid for pid, _ in states])
    empty = (np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64))
    rows = []
    for pid, day in states:
        days, values = series.get(pid, empty)
        rows.append([pid, day, *(x for h in horizons for x in _outcome(days, values, day, h))])
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(dict.fromkeys(result_columns, np.float64))


@dataclass(frozen=True)
class HorizonOutcome:
    months: int
    total: int  # states asked about
    count: int  # states with enough later reports
    return_median: float
    return_p10: float
    return_p90: float
    drawdown_median: float
    drawdown_p10: float
    drawdown_p90: float


def _pct(value: float, signed: bool) -> str:
    value = value if round(value, 3) != 0 else 0.0  # never "-0.0%"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


@dataclass(frozen=True)
class OutcomeSummary:
    horizons: dict[int, HorizonOutcome]

    def sentence(self, horizon: int) -> str:
        if horizon not in self.horizons:
            have = ", ".join(str(h) for h in self.horizons) or "none"
            raise InvalidInput(f"no {horizon}-month outcomes were computed (have: {have})")
        o = self.horizons[horizon]
        span = f"{horizon} month" if horizon == 1 else f"{horizon} months"
        if o.count == 0:
            return f"No analogue has {span} of later reports."
        noun, verb = ("analogue", "has") if o.total == 1 else ("analogues", "have")
        return (
            f"Over the next {span}, {o.count} of {o.total} {noun} {verb} data: "
            f"median return {_pct(o.return_median, True)} (10th-90th percentile "
            f"{_pct(o.return_p10, True)} to {_pct(o.return_p90, True)}), median max drawdown "
            f"{_pct(o.drawdown_median, False)} ({_pct(o.drawdown_p10, False)} to {_pct(o.drawdown_p90, False)})."
        )


def _horizons_in(frame: pd.DataFrame) -> list[int]:
    found = []
    for name in frame.columns:
        text = str(name)
        if text.startswith("fwd_return_") and text.endswith("m") and text[11:-1].isdigit():
            found.append(int(text[11:-1]))
    return found


def summarise_outcomes(frame: pd.DataFrame) -> OutcomeSummary:
    """Median and 10th/90th percentiles per horizon, over the states that have data."""
    horizons: dict[int, HorizonOutcome] = {}
    for h in _horizons_in(frame):
        returns = frame[return_column(h)].to_numpy(dtype=np.float64)
        drawdowns = frame[drawdown_column(h)].to_numpy(dtype=np.float64)
        known = ~np.isnan(returns) & ~np.isnan(drawdowns)
        r, d = returns[known], drawdowns[known]
        stats = [float(np.percentile(x, q)) if x.size else math.nan for x in (r, d) for q in (50, 10, 90)]
        horizons[h] = HorizonOutcome(h, len(frame), int(known.sum()), *stats)
    return OutcomeSummary(horizons)


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def outcome_columns(
    stores: Stores, neighbours: Sequence[Neighbour], horizons_months: Sequence[int] = DEFAULT_HORIZONS
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Extra CSV columns for find_similar_portfolios --with-outcomes: header suffix and one row per neighbour."""
    frame = forward_outcomes(stores, [(n.portfolio_id, n.as_of_date) for n in neighbours], horizons_months)
    names = tuple(str(c) for c in frame.columns[2:])
    rows = [tuple(_cell(float(v)) for v in values) for values in frame.loc[:, list(names)].itertuples(index=False)]
    return names, rows
