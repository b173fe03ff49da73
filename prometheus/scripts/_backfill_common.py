"""Flags and reporting shared by the two backfill CLIs."""

from __future__ import annotations

import argparse

from prometheus.scripts._cli import EXIT_OK, EXIT_PARTIAL, add_date_args, add_portfolio_filter, positive_int, say
from prometheus.services.backfill import BackfillRequest, BackfillSummary
from prometheus.services.dates import DateSelection

MAX_LISTED = 20


def add_selection_args(parser: argparse.ArgumentParser, what: str) -> None:
    add_date_args(parser, what)
    add_portfolio_filter(parser)
    parser.add_argument(
        "--limit",
        type=positive_int,
        metavar="N",
        help="at most N portfolios per date (the first N by id); those left out are listed on stderr",
    )


def request_from(args: argparse.Namespace) -> BackfillRequest:
    return BackfillRequest(
        dates=DateSelection(as_of=args.as_of, start=args.start, end=args.end),
        portfolio_ids=tuple(args.portfolio_id),
        limit=args.limit,
    )


def report(summary: BackfillSummary) -> int:
    """Say what was left out, unknown or refused, then the summary line; pick the exit code."""
    if summary.left_out:
        total = sum(len(v) for v in summary.left_out.values())
        first_day = min(summary.left_out)
        sample = ", ".join(summary.left_out[first_day][:MAX_LISTED])
        say(
            f"--limit left out {total} state(s) on {len(summary.left_out)} date(s); "
            f"on {first_day.isoformat()}: {sample}" + (" ..." if len(summary.left_out[first_day]) > MAX_LISTED else "")
        )
    if summary.unknown_keys:
        keys = ", ".join(f"{k} ({n})" for k, n in sorted(summary.unknown_keys.items())[:MAX_LISTED])
        say(f"warning: keys not in the feature schema were not encoded: {keys}")
    for refusal in summary.refused[:MAX_LISTED]:
        say(f"refused: {refusal.reason}")
    if len(summary.refused) > MAX_LISTED:
        say(f"refused: ... and {len(summary.refused) - MAX_LISTED} more")
    say(summary.line())
    return EXIT_PARTIAL if summary.refused else EXIT_OK
