"""Vectorised portfolio risk engine: readers, drift, metrics, factors, scenarios."""

from prometheus.risk.engine import ENGINE_NAME, FREQUENCIES, build_reports, report_rows
from prometheus.risk.readers import (
    check_benchmark,
    check_prices,
    read_benchmark,
    read_holdings,
    read_prices,
    read_sectors,
    validate_holdings,
)

__all__ = [
    "ENGINE_NAME",
    "FREQUENCIES",
    "build_reports",
    "check_benchmark",
    "check_prices",
    "read_benchmark",
    "read_holdings",
    "read_prices",
    "read_sectors",
    "report_rows",
    "validate_holdings",
]
