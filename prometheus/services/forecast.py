"""What followed states like this one: the point-in-time forecast of one state, beside its measured skill.

The forecast of a state dated D uses only what existed on D: analogues whose
horizon had ended (dated on or before D - horizon), its volatility on D, and a
fit on the outcomes known on D (see :mod:`prometheus.forecasting.drawdown_model`).
It always travels with the ledger's verdict for the store, so a page can say
whether it beats volatility alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.forecasting.drawdown_model import Forecast
from prometheus.services.forecast_book import ForecastBook, forecast_book, outcome_known_on, state_analogue_summary
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS
from prometheus.services.skill import Ledger, skill_ledger
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class StateForecast:
    portfolio_id: str
    as_of_date: date
    horizon_days: int
    forecast: Forecast | None  # None: no point-in-time forecast could be made (the reason says why)
    reason: str
    volatility: float
    analogues: int  # point-in-time analogues with a known outcome (at most the book's ANALOGUES)
    known_on: date  # analogues are dated on or before this day
    realised: float  # the state's own outcome, if the store knows it now (hindsight: NaN otherwise)

    def sentence(self) -> str:
        """The forecast in one line, with its inputs."""
        if self.forecast is None:
            return f"No point-in-time forecast for {self.as_of_date.isoformat()}: {self.reason}."
        f = self.forecast
        return (
            f"Forecast max drawdown over the next {self.horizon_days} days: {f.forecast:.1%} "
            f"(80% band {f.low:.1%} to {f.high:.1%}), from the state's 3-month volatility "
            f"({self.volatility:.1%}) and the outcomes of its {self.analogues} nearest analogues dated on or "
            f"before {self.known_on.isoformat()}, fitted on {f.calibration.trained_on:,} outcomes known by then."
        )

    def hindsight(self) -> str:
        if math.isnan(self.realised):
            return "What actually followed is not in the store yet."
        return f"What actually followed (hindsight, not used above): max drawdown {self.realised:.1%}."


def state_forecast(book: ForecastBook, portfolio_id: str, as_of: date) -> StateForecast:
    """One state's forecast from a forecast book (the state must be stored under the book's model)."""
    index = book.index
    row = index.require_row(portfolio_id, as_of)
    day = index.dates[row]
    volatility = float(book.volatility[row])
    summary = state_analogue_summary(book, row)
    known_on = outcome_known_on(as_of, book.horizon_days)
    made = book.forecaster.predict(
        day, volatility, float(summary.median[0]), float(summary.ratio_low[0]), float(summary.ratio_high[0])
    )
    reason = ""
    if made is None:
        if not np.isfinite(volatility):
            reason = "its report has no 3-month volatility"
        elif int(summary.count[0]) == 0:
            reason = f"no stored state dated on or before {known_on.isoformat()} has a known outcome"
        else:
            reason = (
                f"fewer than {book.forecaster.min_train} outcomes were known by then to fit the forecast "
                f"({book.forecaster.trained_on(day)})"
            )
    return StateForecast(
        portfolio_id,
        as_of,
        book.horizon_days,
        made,
        reason,
        volatility,
        int(summary.count[0]),
        known_on,
        float(book.outcome[row]),
    )


def forecast_state(
    stores: Stores, model_id: str, portfolio_id: str, as_of: date, horizon_days: int = FORECAST_HORIZON_DAYS
) -> StateForecast:
    return state_forecast(forecast_book(stores, model_id, horizon_days), portfolio_id, as_of)


def store_skill(stores: Stores, model_id: str, horizon_days: int = FORECAST_HORIZON_DAYS) -> Ledger:
    """The ledger of the store's own forecasts (every pool state with a known outcome)."""
    return skill_ledger(forecast_book(stores, model_id, horizon_days))
