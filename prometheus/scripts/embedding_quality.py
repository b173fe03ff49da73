"""Print the embedding-quality figure: how often stress states find other stress states."""

from __future__ import annotations

import argparse
import sys

from prometheus.config import Settings
from prometheus.encoders.joint import JOINT_PORTFOLIO_MODEL_ID
from prometheus.scripts._cli import EXIT_OK, add_db_args, entry, make_parser, positive_int
from prometheus.services.quality import stress_neighbour_quality
from prometheus.services.similar import load_index
from prometheus.store.stores import open_stores

EXAMPLES = """\
  python -m prometheus.scripts.embedding_quality            # on the demo book in the default store
  python -m prometheus.scripts.embedding_quality --k 10 --min-gap-days 30
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "embedding_quality",
        "For every state inside a named stress window, the share of its "
        "k nearest neighbours (other portfolios, any date) that are stress states too, "
        "against the base rate.",
        EXAMPLES,
    )
    parser.add_argument("--model-id", default=JOINT_PORTFOLIO_MODEL_ID, help="joint model")
    parser.add_argument("--k", type=positive_int, default=10, help="neighbours per stress state (default 10)")
    parser.add_argument(
        "--min-gap-days",
        type=int,
        default=30,
        help="for the second figure, leave out neighbours this close in time (default 30)",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    index = load_index(open_stores(settings), args.model_id)
    report = stress_neighbour_quality(index, k=args.k, min_gap_days=args.min_gap_days)
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
