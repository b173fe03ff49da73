"""List stored joint portfolio states as CSV."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import (
    EXIT_OK,
    add_date_args,
    add_db_args,
    add_portfolio_filter,
    add_raw_csv_flag,
    entry,
    make_parser,
    open_command_stores,
    positive_int,
    say,
    write_csv,
)
from prometheus.services.dates import DateSelection
from prometheus.services.listing import LISTING_HEADER, list_joint_states

EXAMPLES = """\
  python -m prometheus.scripts.show_joint_portfolios \\
    --as-of 2025-01-31 --model-id joint-portfolio-core-v1 --limit 200
  python -m prometheus.scripts.show_joint_portfolios \\
    --portfolio-id PORTFOLIO_CORE_US_EQ_001 --start 2025-01-01 --end 2025-12-31 \\
    --model-id joint-portfolio-core-v1
output: CSV on stdout (UTF-8), header as_of_date,portfolio_id,model_id,dim,l2_norm, ordered by date then
portfolio; a cell a spreadsheet would run as a formula gets a leading ' unless --raw-csv
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("show_joint_portfolios", "Print stored joint portfolio states as CSV.", EXAMPLES)
    parser.add_argument(
        "--model-id", default=DEFAULT_JOINT_MODEL_ID, help=f"joint model (default: {DEFAULT_JOINT_MODEL_ID})"
    )
    add_date_args(parser, "states to list")
    add_portfolio_filter(parser)
    parser.add_argument("--limit", type=positive_int, metavar="N", help="print at most N rows")
    add_raw_csv_flag(parser)
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    selection = DateSelection(as_of=args.as_of, start=args.start, end=args.end)
    stores = open_command_stores(settings)
    rows = list_joint_states(stores, args.model_id, selection, args.portfolio_id, args.limit)
    write_csv(
        LISTING_HEADER,
        ((r.as_of_date.isoformat(), r.portfolio_id, r.model_id, r.dim, f"{r.l2_norm:.6f}") for r in rows),
        raw=args.raw_csv,
    )
    if not rows:
        say(f"no {args.model_id} states {selection.describe()}")
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
