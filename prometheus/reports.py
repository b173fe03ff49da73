"""The portfolio risk report: the unit of input for every encoder.

One report per (portfolio_id, as_of_date). Keys inside the JSON blocks are
named by the constants below; the risk engine produces them and the encoder's
feature schema (``prometheus.encoders.feature_schema``) reads them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prometheus.errors import InvalidReport, printable

# Risk metrics the engine computes. Returns and losses are fractions (0.05 = 5%),
# volatilities annualised, drawdowns <= 0, VaR/ES positive losses.
RISK_METRIC_KEYS: tuple[str, ...] = (
    "volatility_1m",  # annualised stdev of daily returns, 21 trading days
    "volatility_3m",  # 63 days
    "volatility_1y",  # 252 days
    "var_95_1d",  # historical 1-day VaR 95%, 252 days, positive loss
    "es_95_1d",  # expected shortfall 95%, 252 days, positive loss
    "drawdown",  # current drawdown from the running peak (<= 0)
    "max_drawdown_1y",  # worst drawdown within the trailing 252 days (<= 0)
    "beta_1y",  # beta to the benchmark, 252 days
    "correlation_1y",  # correlation to the benchmark, 252 days
    "tracking_error_1y",  # annualised stdev of active returns, 252 days
    "sharpe_1y",  # annualised, risk-free 0
    "sortino_1y",  # annualised, downside deviation vs 0
    "return_1m",  # trailing simple return, 21 days
    "return_3m",  # 63 days
    "return_1y",  # 252 days
    "skew_1y",
    "kurtosis_1y",  # excess kurtosis
    "num_names",
    "herfindahl",  # sum of squared weights of the long book
    "gross_exposure",
    "net_exposure",
    "leverage",
)

GICS_SECTORS: tuple[str, ...] = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
OTHER_SECTOR = "Other"

FACTOR_KEYS: tuple[str, ...] = (
    "market_beta",
    "momentum",
    "low_volatility",
    "size",
    "value",
    "short_term_reversal",
)

REPORT_COLUMNS: tuple[str, ...] = (
    "report_id",
    "portfolio_id",
    "as_of_date",
    "portfolio_value",
    "cash",
    "net_exposure",
    "gross_exposure",
    "leverage",
    "risk_metrics",
    "scenario_pnl",
    "exposures_by_sector",
    "exposures_by_factor",
    "metadata",
)
JSON_COLUMNS: tuple[str, ...] = (
    "risk_metrics",
    "scenario_pnl",
    "exposures_by_sector",
    "exposures_by_factor",
    "metadata",
)
NUMERIC_COLUMNS: tuple[str, ...] = (
    "portfolio_value",
    "cash",
    "net_exposure",
    "gross_exposure",
    "leverage",
)

MAX_PORTFOLIO_ID_LENGTH = 200
_REPORT_NAMESPACE = uuid.UUID("6f1c1d2e-3c55-4f59-9a57-2d7a0c2b9e11")


def default_report_id(portfolio_id: str, as_of_date: date) -> str:
    """Deterministic id, so re-importing the same report keeps its id."""
    return str(uuid.uuid5(_REPORT_NAMESPACE, f"{portfolio_id}|{as_of_date.isoformat()}"))


def validate_portfolio_id(portfolio_id: object) -> str:
    if not isinstance(portfolio_id, str) or not portfolio_id.strip():
        raise InvalidReport("portfolio_id must be a non-empty string")
    if len(portfolio_id) > MAX_PORTFOLIO_ID_LENGTH:
        raise InvalidReport(f"portfolio_id is longer than {MAX_PORTFOLIO_ID_LENGTH} characters")
    if any(ord(ch) < 32 for ch in portfolio_id):
        raise InvalidReport("portfolio_id contains a control character")
    return portfolio_id


def _check_number(where: str, value: object, *, allow_none: bool = True) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise InvalidReport(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidReport(f"{where} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidReport(f"{where} is {value!r}; NaN and infinity are not allowed")
    return number


def _check_block(where: str, block: object) -> dict[str, float | None]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise InvalidReport(f"{where} must be a JSON object, got {type(block).__name__}")
    checked: dict[str, float | None] = {}
    for key, value in block.items():
        if not isinstance(key, str):
            raise InvalidReport(f"{where} has a non-string key {printable(repr(key))}")
        if not key.isprintable() or not key.strip():
            raise InvalidReport(f"{where} has a key {printable(repr(key))}: keys must be printable, non-blank text")
        checked[key] = _check_number(f"{where}.{key}", value)
    return checked


@dataclass(frozen=True)
class RiskReport:
    """A validated risk report. Construct through :meth:`create` to validate."""

    portfolio_id: str
    as_of_date: date
    portfolio_value: float | None = None
    cash: float | None = None
    net_exposure: float | None = None
    gross_exposure: float | None = None
    leverage: float | None = None
    risk_metrics: dict[str, float | None] = field(default_factory=dict)
    scenario_pnl: dict[str, float | None] = field(default_factory=dict)
    exposures_by_sector: dict[str, float | None] = field(default_factory=dict)
    exposures_by_factor: dict[str, float | None] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    report_id: str = ""

    @classmethod
    def create(
        cls,
        *,
        portfolio_id: object,
        as_of_date: date,
        portfolio_value: object = None,
        cash: object = None,
        net_exposure: object = None,
        gross_exposure: object = None,
        leverage: object = None,
        risk_metrics: object = None,
        scenario_pnl: object = None,
        exposures_by_sector: object = None,
        exposures_by_factor: object = None,
        metadata: object = None,
        report_id: object = None,
    ) -> RiskReport:
        """Validate every field; raise :class:`InvalidReport` naming the bad one."""
        pid = validate_portfolio_id(portfolio_id)
        if not isinstance(as_of_date, date):
            raise InvalidReport("as_of_date must be a date")
        where = f"report {pid} {as_of_date.isoformat()}"
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidReport(f"{where}: metadata must be a JSON object")
        if report_id is not None and (not isinstance(report_id, str) or not report_id.strip()):
            raise InvalidReport(f"{where}: report_id must be a non-empty string")
        try:
            return cls(
                portfolio_id=pid,
                as_of_date=as_of_date,
                portfolio_value=_check_number("portfolio_value", portfolio_value),
                cash=_check_number("cash", cash),
                net_exposure=_check_number("net_exposure", net_exposure),
                gross_exposure=_check_number("gross_exposure", gross_exposure),
                leverage=_check_number("leverage", leverage),
                risk_metrics=_check_block("risk_metrics", risk_metrics),
                scenario_pnl=_check_block("scenario_pnl", scenario_pnl),
                exposures_by_sector=_check_block("exposures_by_sector", exposures_by_sector),
                exposures_by_factor=_check_block("exposures_by_factor", exposures_by_factor),
                metadata=dict(metadata or {}),
                report_id=report_id if isinstance(report_id, str) else default_report_id(pid, as_of_date),
            )
        except InvalidReport as exc:
            raise InvalidReport(f"{where}: {exc}") from None
