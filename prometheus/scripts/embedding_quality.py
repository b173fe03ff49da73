"""Print the honest embedding-quality figure: do stress states find stress states of other crises?"""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import (
    EXIT_OK,
    add_db_args,
    bounded_int,
    date_arg,
    emit,
    entry,
    make_parser,
    open_command_stores,
)
from prometheus.services.quality import embedding_quality

EXAMPLES = """\
  python -m prometheus.scripts.embedding_quality            # on the demo book in the default store
  python -m prometheus.scripts.embedding_quality --k 10 --min-gap-days 91
  python -m prometheus.scripts.embedding_quality --model-id joint-portfolio-core-v2 \
      --against joint-portfolio-core-v1 --start 2005-01-01   # v2 fitted to 2004, scored after
output: the model's figure with its 95% interval (block bootstrap over years), then the same
figure for three baselines computed in the same run: the date alone, volatility and drawdown,
every report feature z-scored, and whether the model beats them all. With --against, the other
model answers the same queries, and the difference of the two, query by query, is given with
its interval and whether it excludes 0.
"""
MAX_K = 1000


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "embedding_quality",
        "For every state inside a named stress window, the share of its k nearest neighbours that "
        "are stress states too, among other books, leaving out the query's own stress episode and "
        "anything close in time: closeness in time earns nothing.",
        EXAMPLES,
    )
    parser.add_argument("--model-id", default=DEFAULT_JOINT_MODEL_ID, help="joint model")
    parser.add_argument(
        "--k", type=bounded_int(1, MAX_K), default=10, help=f"neighbours per stress state, 1-{MAX_K} (default 10)"
    )
    parser.add_argument(
        "--min-gap-days",
        type=bounded_int(0, 3660),
        default=91,
        help="leave out neighbours this close in time to the query, 0-3660 (default 91)",
    )
    parser.add_argument(
        "--start",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="only stress states dated on or after this are queries (e.g. after a fitted model's training end)",
    )
    parser.add_argument(
        "--against",
        metavar="MODEL_ID",
        help="another joint model: answers the same queries (over the states both hold); the difference is given",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = embedding_quality(
        open_command_stores(settings),
        args.model_id,
        k=args.k,
        gap_days=args.min_gap_days,
        start=args.start,
        against=args.against,
    )
    emit("\n".join(report.lines()) + "\n")
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
