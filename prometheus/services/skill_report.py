"""The skill ledger in words and rows: the CSV of the CLI, the forecasts file, the sentence beside a forecast."""

from __future__ import annotations

import math
from datetime import date

from prometheus.forecasting.skill_metrics import Estimate
from prometheus.services.forecast_book import forecast_book
from prometheus.services.skill import FORECAST, METHODS, VOLATILITY, Ledger, skill_ledger
from prometheus.store.stores import Stores

METRICS = (
    ("spearman", "spearman_pooled"),
    ("per_date", "spearman_per_date"),
    ("hit_rate", "worst_quintile_hit_rate"),
    ("mae", "mean_absolute_error"),
    ("coverage", "band_coverage_10_90"),
)
FORECASTS_HEADER = (
    "portfolio_id",
    "as_of_date",
    "forecast_max_drawdown",
    "band_low",
    "band_high",
    "realised_max_drawdown",
    "volatility_3m",
    "trained_on",
)


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def ledger_rows(ledger: Ledger) -> list[tuple[str, str, str, str, str, int]]:
    """Every method's metrics, then the forecast minus volatility (same resamples), 6 decimals."""
    rows = []
    for method in METHODS:
        skill = ledger.skills[method]
        for attribute, name in METRICS:
            value: Estimate | None = getattr(skill, attribute)
            if value is not None:
                rows.append((method, name, _number(value.value), _number(value.low), _number(value.high), ledger.count))
    for attribute, name in METRICS[:4]:
        diff = ledger.difference(attribute)
        if not math.isnan(diff.value):
            row = (f"{FORECAST} minus {VOLATILITY}", name, _number(diff.value), _number(diff.low), _number(diff.high))
            rows.append((*row, ledger.count))
    return rows


def measure_skill(
    stores: Stores, model_id: str, horizon_days: int, every: int, start: date | None, end: date | None
) -> tuple[Ledger, list[tuple[str, str, str, str, str, int]]]:
    """The ledger of one model on this store and its CSV rows."""
    ledger = skill_ledger(forecast_book(stores, model_id, horizon_days, every), start, end)
    return ledger, ledger_rows(ledger)


def forecast_rows(ledger: Ledger) -> list[tuple[str, ...]]:
    """One row per scored query (FORECASTS_HEADER), 6 decimals."""
    book_index = ledger.index
    q = ledger.queries
    return [
        (
            book_index.portfolio_names[book_index.portfolio_codes[row]],
            book_index.dates[row].astype(object).isoformat(),
            _number(q.forecast[i]),
            _number(q.low[i]),
            _number(q.high[i]),
            _number(ledger.realised[i]),
            _number(ledger.volatility[i]),
            str(int(q.trained_on[i])),
        )
        for i, row in enumerate(q.rows)
    ]


def _interval(value: Estimate) -> str:
    return f"{value.value:.2f} [{value.low:.2f}, {value.high:.2f}]"


def summary_sentence(ledger: Ledger) -> str:
    """What the ledger says, for a person: the forecast's rank correlation against volatility alone."""
    if ledger.count == 0:
        return (
            f"no forecast could be scored: the store needs outcomes {ledger.horizon_days} days after enough "
            "past states (a few hundred) to fit the forecast"
        )
    forecast = ledger.skills[FORECAST]
    volatility = ledger.skills[VOLATILITY]
    verdict = ledger.beats_volatility()
    said = {
        True: "it beats volatility alone",
        False: "it LOSES to volatility alone",
        None: "no better than volatility alone (the interval of the difference includes 0)",
    }[verdict]
    coverage = forecast.coverage
    band = f"; its 10th-90th band covered {coverage.value:.0%} of outcomes" if coverage is not None else ""
    return (
        f"on {ledger.count:,} past forecasts ({ledger.first} to {ledger.last}), the forecast ranks the next "
        f"{ledger.horizon_days} days' max drawdown with Spearman {_interval(forecast.spearman)}; volatility alone: "
        f"{_interval(volatility.spearman)}: {said}{band}"
    )
