"""Small builders of realistic risk reports for tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from prometheus.reports import GICS_SECTORS, OTHER_SECTOR, RiskReport

BASE_METRICS: dict[str, float] = {
    "volatility_1m": 0.18,
    "volatility_3m": 0.17,
    "volatility_1y": 0.16,
    "var_95_1d": 0.017,
    "es_95_1d": 0.024,
    "drawdown": -0.03,
    "max_drawdown_1y": -0.10,
    "beta_1y": 1.0,
    "correlation_1y": 0.8,
    "tracking_error_1y": 0.06,
    "sharpe_1y": 0.7,
    "sortino_1y": 1.0,
    "return_1m": 0.01,
    "return_3m": 0.03,
    "return_1y": 0.11,
    "skew_1y": -0.2,
    "kurtosis_1y": 3.5,
    "num_names": 20,
    "herfindahl": 0.05,
    "gross_exposure": 1.0,
    "net_exposure": 1.0,
    "leverage": 1.0,
}


def sectors(**weights: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {name: 0.0 for name in (*GICS_SECTORS, OTHER_SECTOR)}
    for key, value in weights.items():
        name = next(n for n in out if n.replace(" ", "_").lower() == key)
        out[name] = value
    return out


def make_report(
    portfolio_id: str = "PF_A", day: date = date(2025, 1, 31), *, metrics: dict[str, Any] | None = None, **fields: Any
) -> RiskReport:
    risk = dict(BASE_METRICS)
    risk.update(metrics or {})
    values: dict[str, Any] = {
        "portfolio_value": 1_000_000.0,
        "cash": 0.0,
        "net_exposure": 1.0,
        "gross_exposure": 1.0,
        "leverage": 1.0,
        "risk_metrics": risk,
        "scenario_pnl": {"lehman_2008": -0.25},
        "exposures_by_sector": sectors(information_technology=0.5, financials=0.5),
        "exposures_by_factor": {
            "market_beta": 1.0,
            "momentum": 0.1,
            "low_volatility": -0.2,
            "size": None,
            "value": None,
            "short_term_reversal": 0.0,
        },
        "metadata": {"style": "test"},
    }
    values.update(fields)
    return RiskReport.create(portfolio_id=portfolio_id, as_of_date=day, **values)
