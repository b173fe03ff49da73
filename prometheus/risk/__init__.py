"""Vectorised portfolio risk engine: readers, drift, metrics, factors, scenarios."""

from prometheus.risk.engine import ENGINE_NAME, FREQUENCIES, EngineOutput, build_reports, report_rows, run_engine
from prometheus.risk.holdings import read_holdings, validate_holdings
from prometheus.risk.readers import (
    check_benchmark,
    check_prices,
    read_benchmark,
    read_prices,
    read_sectors,
)

__all__ = [
    "ENGINE_NAME",
    "FREQUENCIES",
    "EngineOutput",
    "build_reports",
    "check_benchmark",
    "check_prices",
    "read_benchmark",
    "read_holdings",
    "read_prices",
    "read_sectors",
    "report_rows",
    "run_engine",
    "validate_holdings",
]
