"""Find the historical portfolio states most similar to one portfolio's state."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import (
    EXIT_OK,
    add_db_args,
    add_raw_csv_flag,
    date_arg,
    entry,
    make_parser,
    open_command_stores,
    positive_int,
    say,
    write_csv,
)
from prometheus.services.outcomes import outcome_columns
from prometheus.services.similar import SimilarQuery, find_similar
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
        "--with-outcomes",
        action="store_true",
        help="add each analogue's forward 1- and 3-month return and max drawdown from its portfolio's later "
        "reports (fwd_return_1m, fwd_max_drawdown_1m, fwd_return_3m, fwd_max_drawdown_3m; empty when the "
        "store has no report that far ahead)",
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
    query = SimilarQuery(
        model_id=args.model_id,
        portfolio_id=args.portfolio_id,
        as_of=args.as_of,
        top_k=args.top_k,
        same_date=args.same_date,
        start=args.start,
        end=args.end,
        include_self=args.include_self,
    )
    stores = open_command_stores(settings)
    result = find_similar_in_database(stores, query) if args.engine == "database" else find_similar(stores, query)
    header: tuple[str, ...] = HEADER
    rows: list[tuple[str, ...]] = [
        (f"{n.cosine:.6f}", f"{n.euclidean:.6f}", n.portfolio_id, n.source, n.as_of_date.isoformat())
        for n in result.neighbours
    ]
    if args.with_outcomes:
        suffix, extra = outcome_columns(stores, result.neighbours)
        header += suffix
        rows = [row + more for row, more in zip(rows, extra, strict=True)]
    write_csv(header, rows, raw=args.raw_csv)
    if not result.neighbours:
        say("no candidate states match the scope (widen --start/--end or drop --same-date)")
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
