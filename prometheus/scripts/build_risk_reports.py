"""Build portfolio risk reports from holdings, prices, a benchmark and sectors."""

from __future__ import annotations

import argparse
from pathlib import Path

from prometheus.config import Settings
from prometheus.risk import FREQUENCIES
from prometheus.scripts._cli import EXIT_OK, add_db_args, date_arg, entry, make_parser, open_command_stores, say
from prometheus.services.risk_reports import build_and_store_reports

EXAMPLES = """\
  python -m prometheus.scripts.build_risk_reports --prices prices.csv --holdings holdings.csv \\
    --benchmark spy.csv --sectors sectors.csv --start 2008-01-01 --end 2009-12-31 --frequency weekly
file formats (see README, "Risk engine"):
  prices     date,TICKER1,TICKER2,...   adjusted closes; empty = not listed that day
  holdings   date,portfolio_id,ticker,weight   one block per rebalancing date; weights are fractions of NAV
  benchmark  date,PRICE
  sectors    ticker,name,gics_sector
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "build_risk_reports",
        "Compute risk reports (risk metrics, sector and factor "
        "exposures, stress-scenario P&L) and upsert them into the store.",
        EXAMPLES,
    )
    parser.add_argument("--prices", type=Path, required=True, help="wide CSV of daily adjusted closes")
    parser.add_argument("--holdings", type=Path, required=True, help="long CSV of target weights")
    parser.add_argument("--benchmark", type=Path, required=True, help="CSV of the benchmark's daily prices")
    parser.add_argument("--sectors", type=Path, required=True, help="CSV mapping tickers to GICS sectors")
    parser.add_argument("--start", type=date_arg, metavar="YYYY-MM-DD", help="first report date (inclusive)")
    parser.add_argument("--end", type=date_arg, metavar="YYYY-MM-DD", help="last report date (inclusive)")
    parser.add_argument(
        "--frequency",
        choices=FREQUENCIES,
        default="weekly",
        help="report dates: every trading day, the last trading day of each week or month (default: weekly)",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    try:
        summary = build_and_store_reports(
            open_command_stores(settings),
            prices=args.prices,
            holdings=args.holdings,
            benchmark=args.benchmark,
            sectors=args.sectors,
            start=args.start,
            end=args.end,
            frequency=args.frequency,
        )
    except KeyboardInterrupt:
        say("interrupted: nothing was stored (the reports are written in one transaction); run the command again")
        return 130
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
