"""Find the historical portfolio states most similar to one portfolio's state."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.errors import InvalidSetting, Setting
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import (
    EXIT_OK,
    add_db_args,
    add_raw_csv_flag,
    bounded_int,
    date_arg,
    entry,
    make_parser,
    open_command_stores,
    positive_int,
    say,
    write_csv,
)
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, forward_outcomes, outcome_cells
from prometheus.services.similar import MAX_DAYS_APART, SimilarQuery, find_similar
from prometheus.services.similar_database import find_similar_in_database

HEADER = ("cosine", "euclidean", "portfolio_id", "source", "as_of_date")
EXAMPLES = """\
  python -m prometheus.scripts.find_similar_portfolios \\
    --portfolio-id PORTFOLIO_CORE_US_EQ_001 --as-of 2025-01-31 \\
    --model-id joint-portfolio-core-v1 --top-k 20
  python -m prometheus.scripts.find_similar_portfolios \\
    --portfolio-id PORTFOLIO_CORE_US_EQ_001 --as-of 2008-10-10 --start 1990-01-01 --end 2007-12-31
output: CSV on stdout (UTF-8), header cosine,euclidean,portfolio_id,source,as_of_date,
ranked by cosine descending then euclidean ascending, numbers with 6 decimals; a cell a
spreadsheet would run as a formula gets a leading ' unless --raw-csv
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "find_similar_portfolios",
        "Rank stored portfolio states (every date, every portfolio) by similarity to one "
        "portfolio's state on a date. Exact: every candidate is scored.",
        EXAMPLES,
    )
    parser.add_argument("--portfolio-id", required=True, metavar="ID", help="the query portfolio")
    parser.add_argument(
        "--as-of", required=True, type=date_arg, metavar="YYYY-MM-DD", help="the date of the query state"
    )
    parser.add_argument(
        "--model-id", default=DEFAULT_JOINT_MODEL_ID, help=f"joint model (default: {DEFAULT_JOINT_MODEL_ID})"
    )
    parser.add_argument(
        "--top-k", type=positive_int, default=20, metavar="K", help="number of analogues to print (default: 20)"
    )
    parser.add_argument("--same-date", action="store_true", help="only candidates on the query date")
    parser.add_argument("--start", type=date_arg, metavar="YYYY-MM-DD", help="earliest candidate date")
    parser.add_argument("--end", type=date_arg, metavar="YYYY-MM-DD", help="latest candidate date")
    parser.add_argument(
        "--include-self", action="store_true", help="also rank the query portfolio's own states on other dates"
    )
    parser.add_argument(
        "--min-days-apart",
        type=bounded_int(0, MAX_DAYS_APART),
        default=0,
        metavar="DAYS",
        help="spread the analogues in time: skip any dated fewer than DAYS days from a better one (1: one per "
        "date; 91: one per quarter; default 0, as ranked)",
    )
    parser.add_argument(
        "--point-in-time",
        action="store_true",
        help=f"only analogues dated {FORECAST_HORIZON_DAYS} days or more before --as-of, so what followed them "
        "was known on that date (the default with --with-outcomes)",
    )
    parser.add_argument(
        "--with-outcomes",
        action="store_true",
        help="add each analogue's forward 30- and 91-day return and max drawdown (fwd_return_30d, "
        "fwd_max_drawdown_30d, fwd_return_91d, fwd_max_drawdown_91d, and values: daily or reports), "
        "measured on its portfolio's daily values where stored, else its reports' values; point in time "
        "unless --hindsight",
    )
    parser.add_argument(
        "--hindsight",
        action="store_true",
        help="with --with-outcomes: analogues from any date, outcomes from all stored data (what followed "
        "later analogues was not known on --as-of: hindsight, not a forecast)",
    )
    parser.add_argument(
        "--engine",
        choices=("index", "database"),
        default="index",
        help="index: the in-process index (exact; default); database: pgvector inside PostgreSQL, candidates "
        "re-ranked exactly (approximate once its HNSW index is built)",
    )
    add_raw_csv_flag(parser)
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.hindsight and not args.with_outcomes:
        raise InvalidSetting(Setting("hindsight"), " only applies with ", Setting("with_outcomes"))
    if args.hindsight and args.point_in_time:
        raise InvalidSetting(Setting("hindsight"), " and ", Setting("point_in_time"), " exclude each other")
    point_in_time = args.point_in_time or (args.with_outcomes and not args.hindsight)
    query = SimilarQuery(
        model_id=args.model_id,
        portfolio_id=args.portfolio_id,
        as_of=args.as_of,
        top_k=args.top_k,
        same_date=args.same_date,
        start=args.start,
        end=args.end,
        include_self=args.include_self,
        point_in_time_days=FORECAST_HORIZON_DAYS if point_in_time else None,
        min_days_apart=args.min_days_apart,
    )
    stores = open_command_stores(settings)
    result = find_similar_in_database(stores, query) if args.engine == "database" else find_similar(stores, query)
    header: tuple[str, ...] = HEADER
    rows: list[tuple[str, ...]] = [
        (f"{n.cosine:.6f}", f"{n.euclidean:.6f}", n.portfolio_id, n.source, n.as_of_date.isoformat())
        for n in result.neighbours
    ]
    if args.with_outcomes:
        keys = [(n.portfolio_id, n.as_of_date) for n in result.neighbours]
        known_by = None if args.hindsight else args.as_of
        suffix, extra = outcome_cells(forward_outcomes(stores, keys, known_by=known_by))
        header += suffix
        rows = [row + more for row, more in zip(rows, extra, strict=True)]
        if args.hindsight:
            say(
                f"hindsight: these analogues include states whose next {FORECAST_HORIZON_DAYS} days were not known "
                f"on {args.as_of.isoformat()}; their outcomes are not a forecast"
            )
        else:
            say(
                f"point in time: analogues dated on or before {query.latest_candidate}, outcomes from data dated "
                f"on or before {args.as_of.isoformat()}"
            )
    write_csv(header, rows, raw=args.raw_csv)
    if not result.neighbours:
        say("no candidate states match the scope (widen --start/--end, drop --same-date or --point-in-time)")
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
