"""The skill ledger: a walk-forward evaluation of the product's forecasts on the user's own store.

Every pool state with a realised outcome is a query; each is forecast point in
time (analogues dated on or before D - horizon, fits on outcomes known on D),
and scored against what happened, beside baselines computed at D only: current
volatility (a higher volatility predicts a deeper drawdown), current drawdown,
and the median of all outcomes known at D. Intervals are 95% block bootstraps
over the queries' calendar years, the same resamples for every method.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.errors import start_after_end
from prometheus.forecasting.drawdown_model import VOLATILITY_FLOOR
from prometheus.forecasting.skill_metrics import (
    Estimate,
    YearBootstrap,
    per_date_spearman,
    per_date_worst_quintile_hits,
    years_of,
)
from prometheus.search.index import StateIndex
from prometheus.services.forecast_book import ForecastBook

FORECAST = "forecast"
VOLATILITY = "volatility"
DRAWDOWN = "current drawdown"
UNCONDITIONAL = "median of known outcomes"
METHODS = (FORECAST, VOLATILITY, DRAWDOWN, UNCONDITIONAL)


@dataclass(frozen=True)
class PoolForecasts:
    rows: np.ndarray  # index rows of the queries, date order
    forecast: np.ndarray
    low: np.ndarray
    high: np.ndarray
    trained_on: np.ndarray  # pool states the fit used (0: no forecast)


def pool_forecasts(book: ForecastBook) -> PoolForecasts:
    """The point-in-time forecast of every pool state (NaN before enough history)."""
    forecast, low, high, trained = book.forecaster.predict_many(
        book.index.dates[book.pool], book.volatility[book.pool], book.analogues
    )
    return PoolForecasts(book.pool, forecast, low, high, trained)


def known_median(book: ForecastBook, days: np.ndarray) -> np.ndarray:
    """For each date D, the median of the pool outcomes known on D (dated on or before D - horizon)."""
    pool_days = book.index.dates[book.pool]
    outcomes = book.outcome[book.pool]
    known = np.isfinite(outcomes)
    ordered_days, ordered = pool_days[known], outcomes[known]  # the pool is in date order
    cut = np.searchsorted(ordered_days, days - np.timedelta64(book.horizon_days, "D"), side="right")
    out = np.full(days.shape[0], np.nan)
    for n in np.unique(cut):
        if n > 0:
            out[cut == n] = float(np.median(ordered[:n]))
    return out


@dataclass(frozen=True)
class MethodSkill:
    method: str
    spearman: Estimate  # pooled
    per_date: Estimate  # mean cross-sectional Spearman
    hit_rate: Estimate  # worst-quintile hit rate
    mae: Estimate | None  # None for a ranking that is not a drawdown level
    coverage: Estimate | None  # the forecast's 10th-90th band only


@dataclass(frozen=True)
class Ledger:
    model_id: str
    horizon_days: int
    every: int
    index: StateIndex
    queries: PoolForecasts  # the scored queries only
    realised: np.ndarray
    volatility: np.ndarray
    skills: dict[str, MethodSkill]
    first: date | None
    last: date | None

    @property
    def count(self) -> int:
        return int(self.realised.size)

    def difference(self, metric: str, method: str = FORECAST, baseline: str = VOLATILITY) -> Estimate:
        return getattr(self.skills[method], metric).minus(getattr(self.skills[baseline], metric))

    def beats_volatility(self) -> bool | None:
        """True if the forecast ranks outcomes better than volatility alone (interval above 0), False if worse
        (interval below 0), None when the interval of the difference straddles 0."""
        diff = self.difference("spearman")
        if diff.low > 0:
            return True
        if diff.high < 0:
            return False
        return None


def _skill(
    method: str,
    ranking: np.ndarray,
    level: np.ndarray | None,
    realised: np.ndarray,
    days: np.ndarray,
    boot: YearBootstrap,
    band: tuple[np.ndarray, np.ndarray] | None = None,
) -> MethodSkill:
    years = years_of(days)
    spearman = boot.spearman(ranking, realised, years)
    dates, per_date = per_date_spearman(ranking, realised, days)
    hit_dates, hits = per_date_worst_quintile_hits(ranking, realised, days)
    mae = boot.mean(np.abs(level - realised), years) if level is not None else None
    coverage = None
    if band is not None:
        inside = ((realised >= band[0]) & (realised <= band[1])).astype(np.float64)
        coverage = boot.mean(np.where(np.isfinite(band[0]), inside, np.nan), years)
    return MethodSkill(
        method,
        spearman,
        boot.mean(per_date, years_of(dates)),
        boot.mean(hits, years_of(hit_dates)),
        mae,
        coverage,
    )


def skill_ledger(book: ForecastBook, start: date | None = None, end: date | None = None) -> Ledger:
    """Score the book's forecasts on the pool states dated in [start, end] whose outcome is known."""
    if start is not None and end is not None and start > end:
        raise start_after_end(start, end)
    made = pool_forecasts(book)
    days = book.index.dates[made.rows]
    realised = book.outcome[made.rows]
    keep = np.isfinite(made.forecast) & np.isfinite(realised)
    if start is not None:
        keep &= days >= np.datetime64(start, "D")
    if end is not None:
        keep &= days <= np.datetime64(end, "D")
    queries = PoolForecasts(
        made.rows[keep], made.forecast[keep], made.low[keep], made.high[keep], made.trained_on[keep]
    )
    days, realised = days[keep], realised[keep]
    volatility = book.volatility[queries.rows]
    boot = YearBootstrap.of(years_of(days))
    median = known_median(book, days)
    # Volatility as a level: vol x the median outcome/vol known on D (it ranks exactly as volatility).
    scale = np.maximum(volatility, VOLATILITY_FLOOR)
    skills = {
        FORECAST: _skill(
            FORECAST, queries.forecast, queries.forecast, realised, days, boot, (queries.low, queries.high)
        ),
        VOLATILITY: _skill(VOLATILITY, -volatility, scale * _known_ratio(book, days), realised, days, boot),
        DRAWDOWN: _skill(DRAWDOWN, book.drawdown[queries.rows], None, realised, days, boot),
        UNCONDITIONAL: _skill(UNCONDITIONAL, median, median, realised, days, boot),
    }
    first = days.min().astype(object) if days.size else None
    last = days.max().astype(object) if days.size else None
    return Ledger(
        book.model_id, book.horizon_days, book.every, book.index, queries, realised, volatility, skills, first, last
    )


def _known_ratio(book: ForecastBook, days: np.ndarray) -> np.ndarray:
    """For each date D, the median of outcome / volatility over the pool outcomes known on D."""
    pool = book.pool
    ratios = book.outcome[pool] / np.maximum(book.volatility[pool], VOLATILITY_FLOOR)
    known = np.isfinite(ratios)
    ordered_days, ordered = book.index.dates[pool][known], ratios[known]
    cut = np.searchsorted(ordered_days, days - np.timedelta64(book.horizon_days, "D"), side="right")
    out = np.full(days.shape[0], np.nan)
    for n in np.unique(cut):
        if n > 0:
            out[cut == n] = float(np.median(ordered[:n]))
    return out


LEDGER_HEADER = ("method", "metric", "estimate", "low", "high", "queries")
