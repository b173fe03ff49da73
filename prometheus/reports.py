"""The portfolio risk report: the unit of input for every encoder.

One report per (portfolio_id, as_of_date). Keys inside the JSON blocks are
named by the constants below; the risk engine produces them and the encoder's
feature schema (``prometheus.encoders.feature_schema``) reads them.
"""

from __future__ import annotations

import hashlib
import math
import re
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
MAX_REPORT_ID_LENGTH = 64  # the column's width: PostgreSQL refuses a longer id
# Metadata may nest, but not without end: 1,000 levels broke the standard JSON reader and writer.
MAX_JSON_DEPTH = 32
# The dates Prometheus accepts anywhere: report dates, price and holdings dates, date flags.
# Outside them the arithmetic downstream breaks (forward outcomes add a horizon to a date:
# "year 10000 is out of range"; the risk engine's calendar is datetime64[ns], 1677-2262).
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)
_REPORT_NAMESPACE = uuid.UUID("6f1c1d2e-3c55-4f59-9a57-2d7a0c2b9e11")
_NAMESPACE_BYTES = _REPORT_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def date_out_of_range(day: date) -> str | None:
    """Why ``day`` is refused (outside :data:`FIRST_DATE` .. :data:`LAST_DATE`), or None if it is not."""
    if FIRST_DATE <= day <= LAST_DATE:
        return None
    return f"{day.isoformat()} is outside the supported range {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"


def default_report_id(portfolio_id: str, as_of_date: date | str) -> str:
    """Deterministic id, so re-importing the same report keeps its id: ``uuid5(namespace, "id|date")``.

    Written out rather than through :func:`uuid.uuid5` (a third of the cost; the same text,
    tested): imports generate one per row.
    """
    day = as_of_date if isinstance(as_of_date, str) else as_of_date.isoformat()
    h = hashlib.sha1(_NAMESPACE_BYTES + f"{portfolio_id}|{day}".encode()).hexdigest()
    # Version 5 in the 13th hex digit, the RFC 4122 variant in the top bits of the 17th.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def unprintable(text: str) -> str | None:
    """The first character that must not appear in an id (control, format, separator), as U+XXXX; else None.

    Line and paragraph separators (U+2028/9) break one-line messages and CSV output; direction
    marks (U+202E) make an id read differently from what it is.
    """
    if text.isprintable():
        return None
    return next(f"U+{ord(ch):04X}" for ch in text if not ch.isprintable())


def validate_portfolio_id(portfolio_id: object) -> str:
    if not isinstance(portfolio_id, str) or not portfolio_id.strip():
        raise InvalidReport("portfolio_id must be a non-empty string")
    if len(portfolio_id) > MAX_PORTFOLIO_ID_LENGTH:
        raise InvalidReport(f"portfolio_id is longer than {MAX_PORTFOLIO_ID_LENGTH} characters")
    bad = unprintable(portfolio_id)
    if bad:
        raise InvalidReport(f"portfolio_id contains the non-printable character {bad}: remove it")
    return portfolio_id


def validate_report_id(report_id: object) -> str:
    if not isinstance(report_id, str) or not report_id.strip():
        raise InvalidReport("report_id must be a non-empty string")
    if len(report_id) > MAX_REPORT_ID_LENGTH:
        raise InvalidReport(
            f"report_id is longer than {MAX_REPORT_ID_LENGTH} characters: shorten it, or leave it empty to have "
            "one generated"
        )
    bad = unprintable(report_id)
    if bad:
        raise InvalidReport(f"report_id contains the non-printable character {bad}: remove it")
    return report_id


# Where a JSON value sits, for a message: a name, or (parent, key) built into "parent.key" only when a
# message needs it (naming every key of the demo book's metadata was 0.35 s of its 0.45 s check).
Where = str | tuple["Where", str]


def _name(where: Where) -> str:
    if isinstance(where, str):
        return where
    parent, key = where
    return f"{_name(parent)}.{printable(key, 30)}"


def _check_text(where: Where, text: str) -> None:
    if "\x00" in text:
        raise InvalidReport(
            f"{_name(where)} contains a NUL character (\\u0000), which PostgreSQL cannot store: remove it"
        )
    if _SURROGATE.search(text):
        raise InvalidReport(f"{_name(where)} contains a lone surrogate (such as \\ud800), which is not text: remove it")


def check_json_value(where: Where, value: object, depth: int = 1) -> None:
    """Anything JSON may hold and every database can store: finite numbers, 64-bit integers, text
    without NUL or lone surrogates, at most :data:`MAX_JSON_DEPTH` levels of nesting."""
    if depth > MAX_JSON_DEPTH:
        raise InvalidReport(f"{_name(where)} is nested more than {MAX_JSON_DEPTH} levels deep; flatten it")
    kind = type(value)
    if kind is str:
        _check_text(where, value)  # type: ignore[arg-type]
    elif kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise InvalidReport(f"{_name(where)} is {value!r}; NaN and infinity are not allowed")
    elif kind is int:
        if not -(2**63) <= value < 2**64:  # type: ignore[operator]
            raise InvalidReport(f"{_name(where)} holds an integer too large to store (more than 64 bits)")
    elif kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if not isinstance(key, str):
                raise InvalidReport(f"{_name(where)} has a non-string key {printable(repr(key))}")
            _check_text(where, key)
            check_json_value((where, key), item, depth + 1)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            check_json_value(where, item, depth + 1)
    elif value is not None and kind is not bool:
        raise InvalidReport(f"{_name(where)} holds a {kind.__name__}, which JSON cannot store")


def _check_number(where: str, value: object, *, allow_none: bool = True) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise InvalidReport(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidReport(f"{where} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise InvalidReport(f"{where} is too large (beyond 1.8e308); use a finite number") from None
    if not math.isfinite(number):
        raise InvalidReport(f"{where} is {value!r}; NaN and infinity are not allowed")
    return number


# Key sets of blocks already seen to be printable, non-blank text (a report source repeats a few).
_CHECKED_KEYS: set[tuple[str, ...]] = set()
_FLOATS_OR_NONE: tuple[set[type], ...] = ({float}, {float, type(None)}, {type(None)}, set())


def _check_block(where: str, block: object) -> dict[str, float | None]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise InvalidReport(f"{where} must be a JSON object, got {type(block).__name__}")
    # The common case through C iterators: known keys, finite floats or None (their sum is finite unless
    # one is NaN or infinite, or the sum overflows: then the full check below decides). The demo book's
    # 231,808 engine blocks: 0.75 -> 0.2 s.
    keys = tuple(block)
    if (
        keys in _CHECKED_KEYS
        and set(map(type, block.values())) in _FLOATS_OR_NONE
        and math.isfinite(sum(filter(None, block.values())))
    ):
        return dict(block)
    checked: dict[str, float | None] = {}
    for key, value in block.items():
        if not isinstance(key, str):
            raise InvalidReport(f"{where} has a non-string key {printable(repr(key))}")
        if not key.isprintable() or not key.strip():
            raise InvalidReport(f"{where} has a key {printable(repr(key))}: keys must be printable, non-blank text")
        checked[key] = _check_number(f"{where}.{key}", value)
    if len(_CHECKED_KEYS) < 1024:
        _CHECKED_KEYS.add(keys)
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
        out_of_range = date_out_of_range(as_of_date)
        if out_of_range:
            raise InvalidReport(f"as_of_date {out_of_range}")
        where = f"report {pid} {as_of_date.isoformat()}"
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidReport(f"{where}: metadata must be a JSON object")
        try:
            if report_id is not None:
                validate_report_id(report_id)
            check_json_value("metadata", metadata)
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
